#!/usr/bin/env bash
# Faults: a rank killed with SIGKILL in the middle of a GRPO run ends the
# whole mpirun job (no hang), and rerunning with --resume auto continues from
# the last checkpoint to bitwise the same final weights as a run that was
# never interrupted. Usage: test_grpo_fault.sh GRPO
set -u
source "$(dirname "$0")/common.sh"
grpo=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sum_data "$tmp/data.jsonl" 4 40 4
cat >"$tmp/g.yaml" <<EOF
run: {name: straight, out_dir: $tmp/runs, seed: 8, threads: 1}
model: {hidden_size: 32, intermediate_size: 64, num_layers: 2, num_heads: 4, num_kv_heads: 2, max_seq_len: 32}
tokenizer: {kind: byte, chat_template: raw}
data: {train_path: $tmp/data.jsonl, answer_format: number}
rollout: {group_size: 4, max_new_tokens: 8, kv_cache_mb: 8}
grpo: {queries_per_step: 4, micro_batch_seqs: 8, kl_coef: 0.01, entropy_coef: 0.01}
optim: {lr: 1.0e-3}
trainer: {max_steps: 300, checkpoint_every: 5, keep_checkpoints: 0}
EOF
run() { mpirun -np 2 --oversubscribe "$grpo" train "$tmp/g.yaml" "$@"; }
run 2>"$tmp/log0" || { cat "$tmp/log0"; fail "uninterrupted run"; }

# The same run, with one rank killed once a checkpoint exists.
ck=$tmp/runs/faulty/checkpoints
run --set run.name=faulty >"$tmp/log1" 2>&1 &
job=$!
for _ in $(seq 1 1200); do [ -f "$ck/ckpt-5.h5" ] && break; sleep 0.05; done
[ -f "$ck/ckpt-5.h5" ] || { kill -9 $job 2>/dev/null; cat "$tmp/log1"; fail "no checkpoint appeared"; }
# A rank is a grpo child of mpirun (not mpirun itself).
launcher=$(pgrep -P $job | head -1)
victim=$(pgrep -P "$launcher" -f "grpo train" | tail -1)
[ -n "$victim" ] || fail "no rank to kill"
kill -9 "$victim"
for _ in $(seq 1 600); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
if kill -0 $job 2>/dev/null; then kill -9 $job; fail "mpirun hung after a rank was killed"; fi
wait $job && fail "the job reported success after a rank was killed"
[ -f "$ck/ckpt-300.h5" ] && fail "the run finished before the kill (make it longer)"

run --set run.name=faulty --resume auto 2>"$tmp/log2" || { cat "$tmp/log2"; fail "resume after the kill"; }
grep -q "resumed from" "$tmp/log2" || fail "did not resume"
h5diff "$tmp/runs/straight/checkpoints/ckpt-300.h5" "$ck/ckpt-300.h5" /model /model >"$tmp/diff" ||
  { head "$tmp/diff"; fail "weights differ from the uninterrupted run"; }
echo "ok: SIGKILL of a rank ended the job; --resume auto reached the same weights"
