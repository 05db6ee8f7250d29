#!/usr/bin/env bash
# grpo sft end to end on a tiny model: the loss falls, checkpoints appear and
# are inspectable, and N steps straight equal k steps + --resume auto + (N-k)
# steps bit for bit (h5diff of /model and /optim). With NP > 1 it runs under
# mpirun (data parallel). Usage: test_sft_resume.sh GRPO NP
set -u
source "$(dirname "$0")/common.sh"
grpo=$1 np=${2:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
  if [ "$np" -gt 1 ]; then mpirun -np "$np" --oversubscribe "$grpo" "$@"; else "$grpo" "$@"; fi
}
sum_data "$tmp/data.jsonl" 3 40 99
cat >"$tmp/sft.yaml" <<EOF
run: {name: t, out_dir: $tmp/runs, seed: 5, threads: 1}
model: {hidden_size: 32, intermediate_size: 64, num_layers: 2, num_heads: 4, num_kv_heads: 2, max_seq_len: 32}
tokenizer: {kind: byte, chat_template: raw}
data: {train_path: $tmp/data.jsonl, eval_path: $tmp/data.jsonl}
rollout: {max_new_tokens: 6, kv_cache_mb: 4}
sft: {batch_seqs: 8, micro_batch_seqs: 3}
optim: {lr: 3.0e-3, schedule: cosine, warmup_steps: 2, weight_decay: 0.01}
trainer: {max_steps: 6, checkpoint_every: 3, keep_checkpoints: 5, eval_every: 3, eval_problems: 10}
EOF
run sft "$tmp/sft.yaml" 2>"$tmp/log1" || { cat "$tmp/log1"; fail "sft run"; }
ck=$tmp/runs/t/checkpoints
[ -f "$ck/ckpt-3.h5" ] && [ -f "$ck/ckpt-6.h5" ] || fail "checkpoints missing: $(ls "$ck")"
[ "$(wc -l <"$tmp/runs/t/metrics.jsonl")" = 6 ] || fail "metrics.jsonl should have 6 lines"
first=$(head -1 "$tmp/runs/t/metrics.jsonl" | sed 's/.*"loss": \([0-9.e+-]*\).*/\1/')
last=$(tail -1 "$tmp/runs/t/metrics.jsonl" | sed 's/.*"loss": \([0-9.e+-]*\).*/\1/')
python3 -c "import sys; sys.exit(0 if $last < $first else 1)" || fail "loss did not fall: $first -> $last"
# trainer.eval_every: 3 puts an accuracy into steps 3 and 6 only.
[ "$(grep -c '"eval_accuracy": [0-9]' "$tmp/runs/t/metrics.jsonl")" = 2 ] || fail "eval_accuracy not on 2 lines"
sed -n 3p "$tmp/runs/t/metrics.jsonl" | grep -q '"eval_accuracy": [0-9]' || fail "no eval at step 3"
grep -q "eval at step 6: accuracy" "$tmp/log1" || fail "eval not logged"
"$grpo" inspect "$ck/ckpt-6.h5" >"$tmp/inspect" || fail "inspect"
grep -q '@mode = "sft"' "$tmp/inspect" && grep -q '@complete = 1' "$tmp/inspect" || fail "inspect lacks mode/complete"

# A fresh run over existing checkpoints is refused (nothing is overwritten).
run sft "$tmp/sft.yaml" 2>"$tmp/log2" && fail "a second fresh run must be refused"
grep -q "already holds checkpoints" "$tmp/log2" || { cat "$tmp/log2"; fail "refusal message"; }

# Resume from step 3 and compare step 6 bit for bit.
mv "$ck/ckpt-6.h5" "$tmp/straight-6.h5"
run sft "$tmp/sft.yaml" --resume auto 2>"$tmp/log3" || { cat "$tmp/log3"; fail "resume"; }
grep -q "resumed from .*ckpt-3.h5 at step 3" "$tmp/log3" || { cat "$tmp/log3"; fail "did not resume from step 3"; }
for g in /model /optim; do
  h5diff "$tmp/straight-6.h5" "$ck/ckpt-6.h5" "$g" "$g" >"$tmp/diff" || { head "$tmp/diff"; fail "$g differs after resume"; }
done
echo "ok: sft ($np rank(s)): loss $first -> $last, resume bitwise equal"
