#!/usr/bin/env bash
# scripts/slurm-job.sbatch outside SLURM: run with bash, the SLURM variables set by hand, a fake
# scontrol that records requeues and the fake grpo of fake_grpo.sh. SIGUSR1 (the time-limit
# warning) makes grpo save and the job requeue itself; SIGTERM stops it without a requeue; a
# complete run exits 0; a run without progress exits 3 and is not requeued.
# Usage: test_slurm_job.sh PATH/TO/slurm-job.sbatch PATH/TO/run-job
set -u
sbatch_script=$1 run_job=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/log" ] && sed 's/^/  | /' "$tmp/log"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$tmp/bin"
cp "$here/fake_grpo.sh" "$tmp/bin/grpo"
# shellcheck disable=SC2016 # the fake's text, expanded when it runs
printf '#!/bin/bash\necho "$*" >>"$FAKE_DIR/scontrol"\n' >"$tmp/bin/scontrol"
chmod +x "$tmp/bin/grpo" "$tmp/bin/scontrol"
echo "run: {name: fake}" >"$tmp/exp.yaml"
export PATH=$tmp/bin:$PATH GRPO=$tmp/bin/grpo GRPO_RUN_JOB=$run_job GRPO_LAUNCHER=none
export GRPO_DELAY=0 SLURM_JOB_ID=42 SLURM_NTASKS=1 SLURM_JOB_NODELIST=node1

# start NAME MODE: the job in the background (pid in job), its fake state in $tmp/NAME.
start() {
  export FAKE_DIR=$tmp/$1 FAKE_MODE=$2
  mkdir -p "$FAKE_DIR"
  bash "$sbatch_script" train "$tmp/exp.yaml" >"$tmp/log" 2>&1 &
  job=$!
}
# signal_when_started SIG: wait until the fake rank runs, signal the job, wait for it; sets rc.
signal_when_started() {
  for _ in $(seq 1 200); do [ -f "$FAKE_DIR/started" ] && break; sleep 0.05; done
  [ -f "$FAKE_DIR/started" ] || { kill "$job"; fail "the fake rank never started"; }
  kill -s "$1" "$job"
  wait "$job"
  rc=$?
}
requeues() { cat "$FAKE_DIR/scontrol" 2>/dev/null; }

start crash crash-once
wait "$job" || fail "crash-once: exit $?, want 0"
[ -z "$(requeues)" ] || fail "a complete run was requeued"
grep -q "the run is complete" "$tmp/log" || fail "no completion message"

start usr1 wait-signal
signal_when_started USR1
[ "$rc" = 0 ] || fail "USR1: exit $rc, want 0"
[ "$(cat "$FAKE_DIR/signals" 2>/dev/null)" = "got TERM" ] || fail "USR1: grpo was not asked to stop"
[ "$(requeues)" = "requeue 42" ] || fail "USR1: scontrol calls '$(requeues)', want 'requeue 42'"

start term wait-signal
signal_when_started TERM
[ "$rc" = 4 ] || fail "TERM: exit $rc, want 4"
[ "$(cat "$FAKE_DIR/signals" 2>/dev/null)" = "got TERM" ] || fail "TERM: grpo was not asked to stop"
[ -z "$(requeues)" ] || fail "TERM: requeued"

SLURM_RESTART_COUNT=3 GRPO_MAX_REQUEUES=3 start limit wait-signal
signal_when_started USR1
[ "$rc" = 4 ] && [ -z "$(requeues)" ] || fail "GRPO_MAX_REQUEUES: exit $rc, calls '$(requeues)'"
grep -q "already restarted 3 times" "$tmp/log" || fail "no GRPO_MAX_REQUEUES message"

GRPO_MAX_FAILURES=2 start stuck stuck
wait "$job"
rc=$?
[ "$rc" = 3 ] && [ -z "$(requeues)" ] || fail "stuck: exit $rc, calls '$(requeues)'"
[ "$(cat "$FAKE_DIR/attempts")" = 2 ] || fail "stuck: $(cat "$FAKE_DIR/attempts") attempts, want 2"
echo "ok: slurm-job.sbatch"
