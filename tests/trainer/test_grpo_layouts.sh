#!/usr/bin/env bash
# The placement is an execution detail: with one learner, GRPO colocated on
# 1 rank and disaggregated over 3 ranks (1 learner + 1 rollout + 1 reward
# worker) and 4 ranks (1 + 2 + 1) train bitwise the same weights, because
# samples depend only on (seed, step, query, index) and learners assemble the
# batch in query order. Usage: test_grpo_layouts.sh GRPO
set -u
source "$(dirname "$0")/common.sh"
grpo=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sum_data "$tmp/data.jsonl" 9 30 4
cat >"$tmp/base.yaml" <<EOF
run: {name: base, out_dir: $tmp/runs, seed: 3, threads: 1}
model: {hidden_size: 32, intermediate_size: 64, num_layers: 2, num_heads: 4, num_kv_heads: 2, max_seq_len: 32}
tokenizer: {kind: byte, chat_template: raw}
data: {train_path: $tmp/data.jsonl, answer_format: number}
rollout: {group_size: 4, max_new_tokens: 8, kv_cache_mb: 8}
grpo: {queries_per_step: 6, micro_batch_seqs: 5, kl_coef: 0.01, entropy_coef: 0.01}
optim: {lr: 1.0e-3}
trainer: {max_steps: 3, checkpoint_every: 0}
EOF
"$grpo" train "$tmp/base.yaml" --set run.name=colocated 2>"$tmp/log" || { cat "$tmp/log"; fail "colocated"; }
for layout in "1 1 1" "1 2 1"; do
  set -- $layout
  name="disaggregated-$1-$2-$3"
  mpirun -np $(($1 + $2 + $3)) --oversubscribe "$grpo" train "$tmp/base.yaml" --set "run.name=$name" \
    --set cluster.placement=disaggregated --set "cluster.learners=$1" --set "cluster.rollout_workers=$2" \
    --set "cluster.reward_workers=$3" 2>"$tmp/log" || { cat "$tmp/log"; fail "$name"; }
  h5diff "$tmp/runs/colocated/checkpoints/ckpt-3.h5" "$tmp/runs/$name/checkpoints/ckpt-3.h5" /model /model \
    >"$tmp/diff" || { head "$tmp/diff"; fail "$name trained other weights than colocated"; }
done
cmp <(cut -d, -f2-9 "$tmp/runs/colocated/metrics.jsonl") <(cut -d, -f2-9 "$tmp/runs/disaggregated-1-2-1/metrics.jsonl") \
  || fail "rewards differ between layouts"
echo "ok: colocated x1 == disaggregated 1+1+1 == 1+2+1, bit for bit"
