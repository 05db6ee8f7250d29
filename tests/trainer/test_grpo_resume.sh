#!/usr/bin/env bash
# grpo train end to end on a tiny model trained from scratch: metrics and
# checkpoints appear, and N steps straight equal k steps + --resume auto +
# (N-k) steps bit for bit (h5diff of /model and /optim), for a placement and
# rank count. Usage: test_grpo_resume.sh GRPO NP colocated|disaggregated [LEARNERS]
# (disaggregated: LEARNERS learners, default 1, one rollout worker, the rest reward workers)
set -u
source "$(dirname "$0")/common.sh"
grpo=$1 np=${2:-1} placement=${3:-colocated} learners=${4:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
  if [ "$np" -gt 1 ]; then mpirun -np "$np" --oversubscribe "$grpo" "$@"; else "$grpo" "$@"; fi
}
# Single-digit gold answers and the last-number fallback: a random byte model
# answers some of them right, so groups have reward variance.
sum_data "$tmp/data.jsonl" 7 30 4
cluster="{placement: colocated}"
[ "$placement" = disaggregated ] && cluster="{placement: disaggregated, learners: $learners, rollout_workers: 1, reward_workers: $((np - 1 - learners))}"
cat >"$tmp/grpo.yaml" <<EOF
run: {name: g, out_dir: $tmp/runs, seed: 11, threads: 1}
model: {hidden_size: 32, intermediate_size: 64, num_layers: 2, num_heads: 4, num_kv_heads: 2, max_seq_len: 32}
tokenizer: {kind: byte, chat_template: raw}
data: {train_path: $tmp/data.jsonl, eval_path: $tmp/data.jsonl, answer_format: number}
rollout: {group_size: 4, max_new_tokens: 8, kv_cache_mb: 8}
grpo: {queries_per_step: 4, mini_batch_queries: 2, ppo_epochs: 2, micro_batch_seqs: 3, kl_coef: 0.01, entropy_coef: 0.01}
optim: {lr: 1.0e-3}
trainer: {max_steps: 4, checkpoint_every: 2, keep_checkpoints: 5, eval_every: 2, eval_problems: 5}
cluster: $cluster
EOF
run train "$tmp/grpo.yaml" 2>"$tmp/log1" || { cat "$tmp/log1"; fail "train"; }
ck=$tmp/runs/g/checkpoints
[ -f "$ck/ckpt-2.h5" ] && [ -f "$ck/ckpt-4.h5" ] || fail "checkpoints missing: $(ls "$ck")"
[ "$(wc -l <"$tmp/runs/g/metrics.jsonl")" = 4 ] || fail "metrics.jsonl should have 4 lines"
for key in reward_mean accuracy kl entropy clip_high_frac grad_norm resp_len_mean t_rollout; do
  grep -q "\"$key\": [0-9-]" "$tmp/runs/g/metrics.jsonl" || fail "metrics lack $key"
done
[ "$(grep -c '"eval_accuracy": [0-9]' "$tmp/runs/g/metrics.jsonl")" = 2 ] || fail "eval_accuracy not on steps 2 and 4"
gn=$(tail -1 "$tmp/runs/g/metrics.jsonl" | sed 's/.*"grad_norm": \([0-9.e+-]*\).*/\1/')
python3 -c "import sys; sys.exit(0 if $gn > 0 else 1)" || fail "zero gradient: the test would prove nothing"
"$grpo" inspect "$ck/ckpt-4.h5" | grep -q '@mode = "grpo"' || fail "inspect lacks mode"
mv "$ck/ckpt-4.h5" "$tmp/straight-4.h5"
run train "$tmp/grpo.yaml" --resume auto 2>"$tmp/log2" || { cat "$tmp/log2"; fail "resume"; }
grep -q "resumed from .*ckpt-2.h5 at step 2" "$tmp/log2" || { cat "$tmp/log2"; fail "did not resume from step 2"; }
for g in /model /optim; do
  h5diff "$tmp/straight-4.h5" "$ck/ckpt-4.h5" "$g" "$g" >"$tmp/diff" || { head "$tmp/diff"; fail "$g differs after resume"; }
done
echo "ok: grpo $placement on $np rank(s): resume bitwise equal (grad norm $gn)"
