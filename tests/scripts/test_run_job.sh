#!/usr/bin/env bash
# scripts/run-job against a fake grpo that crashes, stalls, completes or waits for a signal, and
# a fake mpirun that records its arguments. Checks the attempts made, the exit status and the
# messages: a crash after a checkpoint is retried to completion; K attempts without progress
# give up with status 3; progress resets the count; SIGTERM reaches grpo and stops with 4.
# Usage: test_run_job.sh PATH/TO/run-job
set -u
run_job=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/log" ] && sed 's/^/  | /' "$tmp/log"; exit 1; }
mkdir -p "$tmp/bin"
fake=$tmp/bin/grpo

here=$(cd "$(dirname "$0")" && pwd)
cp "$here/fake_grpo.sh" "$fake"
cp "$here/fake_mpirun.sh" "$tmp/bin/mpirun"
chmod +x "$fake" "$tmp/bin/mpirun"
export FAKE_GRPO=$fake
echo "run: {name: fake}" >"$tmp/exp.yaml"

# run_case NAME MODE [run-job args...]: a fresh state dir; sets rc; output in $tmp/log.
run_case() {
  local name=$1 mode=$2
  shift 2
  export FAKE_DIR=$tmp/$name FAKE_MODE=$mode
  mkdir -p "$FAKE_DIR"
  "$run_job" --grpo "$fake" --delay 0 "$@" >"$tmp/log" 2>&1
  rc=$?
}
attempts() { cat "$FAKE_DIR/attempts" 2>/dev/null || echo 0; }
ckdir() { echo "$FAKE_DIR/my runs/a\"b/fake/checkpoints"; }
expect_log() { grep -qF -- "$1" "$tmp/log" || fail "log lacks '$1'"; }

# 1. A crash after a checkpoint: retried, resumes, completes.
run_case crash crash-once --launcher none sft "$tmp/exp.yaml"
[ "$rc" = 0 ] || fail "crash-once: exit $rc, want 0"
[ "$(attempts)" = 2 ] || fail "crash-once: $(attempts) attempts, want 2"
[ -f "$(ckdir)/ckpt-6.h5" ] || fail "crash-once: no final checkpoint in '$(ckdir)'"
expect_log "attempt 1 exited with status 137; latest checkpoint step 2 of 6"
expect_log "the run is complete"
grep -q "^sft $tmp/exp.yaml --resume auto\$" "$FAKE_DIR/calls" || fail "grpo called as '$(head -1 "$FAKE_DIR/calls")'"

# 2. Rerunning a complete run starts nothing.
export FAKE_MODE=stuck
"$run_job" --grpo "$fake" --delay 0 --launcher none sft "$tmp/exp.yaml" >"$tmp/log" 2>&1 ||
  fail "a complete run: exit $?, want 0"
[ "$(attempts)" = 2 ] || fail "a complete run was started again"
expect_log "the run is already complete"

# 3. No progress at all: K attempts, then status 3.
run_case stuck stuck --launcher none --max-failures 4 train "$tmp/exp.yaml"
[ "$rc" = 3 ] || fail "stuck: exit $rc, want 3"
[ "$(attempts)" = 4 ] || fail "stuck: $(attempts) attempts, want 4"
expect_log "giving up: 4 consecutive attempt(s) without progress; no checkpoint yet"

# 4. Progress resets the count: 1 attempt with progress, then K = 2 without.
run_case pts progress-then-stuck --launcher none --max-failures 2 train "$tmp/exp.yaml"
[ "$rc" = 3 ] || fail "progress-then-stuck: exit $rc, want 3"
[ "$(attempts)" = 3 ] || fail "progress-then-stuck: $(attempts) attempts, want 3"
expect_log "latest checkpoint step 2 of 6"

# 5. Every attempt crashes but advances: with K = 1 it still gets to the end (4 attempts to 8).
run_case steps two-per-attempt --launcher none --max-failures 1 train "$tmp/exp.yaml" \
  --set trainer.max_steps=8
[ "$rc" = 0 ] || fail "two-per-attempt: exit $rc, want 0"
[ "$(attempts)" = 4 ] || fail "two-per-attempt: $(attempts) attempts, want 4"
expect_log "latest checkpoint step 8 of 8"

# 6. A complete checkpoint counts even when the process then fails.
run_case late complete-then-crash --launcher none train "$tmp/exp.yaml"
[ "$rc" = 0 ] || fail "complete-then-crash: exit $rc, want 0"
expect_log "warning: the run is complete although the last attempt failed"

# 7. trainer.checkpoint_dir (here from a --set, which run-job passes to --print-config too).
run_case ckdir crash-once --launcher none train "$tmp/exp.yaml" \
  --set "trainer.checkpoint_dir=$tmp/ckdir/own dir"
[ "$rc" = 0 ] && [ -f "$tmp/ckdir/own dir/ckpt-6.h5" ] || fail "checkpoint_dir: exit $rc"

# 8. Under the (fake) mpirun: its arguments, and SIGTERM to run-job reaches the grpo rank.
export FAKE_DIR=$tmp/sig FAKE_MODE=wait-signal
mkdir -p "$FAKE_DIR"
"$run_job" --grpo "$fake" --delay 0 --launcher "$tmp/bin/mpirun" --np 3 \
  --mpirun-args "--oversubscribe --bind-to none" train "$tmp/exp.yaml" --set a.b=1 >"$tmp/log" 2>&1 &
job=$!
for _ in $(seq 1 200); do [ -f "$FAKE_DIR/started" ] && break; sleep 0.05; done
[ -f "$FAKE_DIR/started" ] || { kill "$job"; fail "the fake rank never started"; }
kill -TERM "$job"
wait "$job"
rc=$?
[ "$rc" = 4 ] || fail "signal: exit $rc, want 4"
[ "$(cat "$FAKE_DIR/signals" 2>/dev/null)" = "got TERM" ] || fail "grpo did not get SIGTERM"
want="-np 3 --oversubscribe --bind-to none $fake train $tmp/exp.yaml --resume auto --set a.b=1"
[ "$(cat "$FAKE_DIR/mpirun-args")" = "$want" ] || fail "mpirun args '$(cat "$FAKE_DIR/mpirun-args")'"
expect_log "sending SIGTERM to the grpo rank(s) of this node"
expect_log "stopped before the run was complete"
[ "$(attempts)" = 1 ] || fail "signal: retried after being stopped"

# 9. User errors: status 1 and a message, nothing run.
expect_error() { # expect_error WANT ARGS...
  local want=$1
  shift
  export FAKE_DIR=$tmp/err
  mkdir -p "$FAKE_DIR"
  "$run_job" --grpo "$fake" "$@" >"$tmp/log" 2>&1
  local rc=$?
  [ "$rc" = 1 ] || fail "run-job $*: exit $rc, want 1"
  expect_log "$want"
  [ "$(attempts)" = 0 ] || fail "run-job $*: grpo was run"
}
echo "bad: 1" >"$tmp/bad.yaml"
expect_error "unknown key 'bad'" --launcher none train "$tmp/bad.yaml"
expect_error "cannot open the experiment config '$tmp/none.yaml'" train "$tmp/none.yaml"
expect_error "--np '0' must be a positive integer" --np 0 train "$tmp/exp.yaml"
expect_error "--max-failures 'x' must be a positive integer" --max-failures x train "$tmp/exp.yaml"
expect_error "'--resume' is run-job's to set" train "$tmp/exp.yaml" --resume auto
expect_error "unknown option or command 'eval'" eval "$tmp/exp.yaml"
expect_error "--launcher none runs one rank" --launcher none --np 2 train "$tmp/exp.yaml"
expect_error "grpo binary '$tmp/nope' not found" --grpo "$tmp/nope" train "$tmp/exp.yaml"
"$run_job" --help | grep -q "usage: scripts/run-job" || fail "--help"
echo "ok: run-job"
