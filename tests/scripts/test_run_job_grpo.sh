#!/usr/bin/env bash
# scripts/run-job with the real grpo (sft on a tiny model), so that what run-job reads from
# `grpo sft --print-config` and `grpo inspect` is checked against the real output.
# NP = 1: a fresh run to completion, a rerun that starts nothing, an extension by
# --set trainer.max_steps. NP > 1 (under mpirun): SIGTERM to run-job mid-run makes the ranks
# save a checkpoint and stop (status 4); rerunning completes the run.
# Usage: test_run_job_grpo.sh GRPO RUN_JOB NP
set -u
grpo=$1 run_job=$2 np=${3:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/log" ] && tail -20 "$tmp/log" | sed 's/^/  | /'; exit 1; }
for i in $(seq 1 40); do
  printf '{"question": "%d+%d=", "answer": "%d"}\n' $((i * 7 % 90 + 10)) $((i * 13 % 90 + 10)) \
    $((i * 7 % 90 + 10 + i * 13 % 90 + 10))
done >"$tmp/data.jsonl"
cat >"$tmp/sft.yaml" <<EOF
run: {name: t, out_dir: $tmp/runs, seed: 5, threads: 1}
model: {hidden_size: 16, intermediate_size: 32, num_layers: 1, num_heads: 2, num_kv_heads: 1, max_seq_len: 24}
tokenizer: {kind: byte, chat_template: raw}
data: {train_path: $tmp/data.jsonl}
sft: {batch_seqs: 4}
optim: {lr: 1.0e-3}
trainer: {max_steps: 4, checkpoint_every: 2, keep_checkpoints: 2}
EOF
ck=$tmp/runs/t/checkpoints
job() { "$run_job" --grpo "$grpo" --delay 0 "$@" >"$tmp/log" 2>&1; }

if [ "$np" = 1 ]; then
  job --launcher none sft "$tmp/sft.yaml" || fail "run-job: exit $?, want 0"
  grep -q "the run is complete" "$tmp/log" && [ -f "$ck/ckpt-4.h5" ] || fail "no complete run"
  job --launcher none sft "$tmp/sft.yaml" || fail "rerun: exit $?, want 0"
  grep -q "the run is already complete" "$tmp/log" || fail "a complete run was started again"
  job --launcher none sft "$tmp/sft.yaml" --set trainer.max_steps=6 || fail "extension: exit $?"
  grep -q "latest checkpoint step 6 of 6" "$tmp/log" && [ -f "$ck/ckpt-6.h5" ] || fail "extension"
  echo "ok: run-job with grpo sft (1 rank)"
  exit 0
fi

"$run_job" --grpo "$grpo" --delay 0 --np "$np" --mpirun-args "--oversubscribe" sft "$tmp/sft.yaml" \
  --set trainer.max_steps=1000000 --set trainer.checkpoint_every=1000000 >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ "$(wc -l <"$tmp/runs/t/metrics.jsonl" 2>/dev/null)" -ge 3 ] && break
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" = 4 ] || fail "stopped run: exit $rc, want 4"
grep -q "sending SIGTERM to the grpo rank(s) of this node" "$tmp/log" || fail "ranks not signalled"
step=$(find "$ck" -name 'ckpt-*.h5' | sed 's/.*ckpt-\([0-9]*\)\.h5/\1/' | sort -n | tail -1)
[ -n "$step" ] && [ "$step" -ge 3 ] || fail "no checkpoint saved on SIGTERM (latest '$step')"
"$grpo" inspect "$ck/ckpt-$step.h5" | grep -q '^@complete = 0' || fail "the saved checkpoint says complete"
job --np "$np" --mpirun-args "--oversubscribe" sft "$tmp/sft.yaml" \
  --set trainer.max_steps=$((step + 2)) --set trainer.checkpoint_every=1000000 ||
  fail "resumed run: exit $?, want 0"
grep -q "latest checkpoint step $((step + 2)) of $((step + 2))" "$tmp/log" || fail "did not complete"
echo "ok: run-job with grpo sft ($np ranks): stopped at step $step, resumed to $((step + 2))"
