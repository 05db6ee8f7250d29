#!/usr/bin/env bash
# grpo train with a reward model (reward.rm_path): every response is scored,
# r_m appears in the metrics, and the shaped reward follows Qwen2.5-Math's
# r = sigmoid(alpha * r_m) + (r_v - 1), which puts every correct response
# above every wrong one. Usage: test_grpo_rm.sh GRPO SRCDIR
set -u
source "$(dirname "$0")/common.sh"
grpo=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$src/tests/trainer/make_tiny_rm.py" "$tmp/rm" || fail "make rm"
sum_data "$tmp/data.jsonl" 2 20 4
cat >"$tmp/g.yaml" <<EOF
run: {name: rm, out_dir: $tmp/runs, seed: 4, threads: 1}
model: {hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, max_seq_len: 32}
tokenizer: {kind: byte, chat_template: raw}
data: {train_path: $tmp/data.jsonl, answer_format: number}
rollout: {group_size: 4, max_new_tokens: 6, kv_cache_mb: 4}
reward: {rm_path: $tmp/rm, rm_alpha: 0.5, rm_batch_size: 3}
grpo: {queries_per_step: 4, micro_batch_seqs: 8}
trainer: {max_steps: 2, checkpoint_every: 0}
EOF
"$grpo" train "$tmp/g.yaml" 2>"$tmp/log" || { cat "$tmp/log"; fail "train with a reward model"; }
python3 - "$tmp/runs/rm/metrics.jsonl" <<'PY' || fail "metrics"
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 2, rows
for r in rows:
    assert r["r_m_mean"] != 0, "reward model scores missing"
    # r = sigmoid(0.5 r_m) + r_v - 1, so mean(r) lies in (mean(r_v) - 1, mean(r_v))
    assert r["r_v_mean"] - 1 < r["reward_mean"] < r["r_v_mean"], r
print("ok: r_m_mean %.4f, reward_mean %.4f" % (rows[0]["r_m_mean"], rows[0]["reward_mean"]))
PY
# A policy checkpoint (no reward head) as reward model is refused in one line.
sed -i "s|rm_path: $tmp/rm|rm_path: $tmp/runs/rm/checkpoints/ckpt-2.h5|; s|name: rm,|name: rm2,|" "$tmp/g.yaml"
"$grpo" train "$tmp/g.yaml" 2>"$tmp/log2" && fail "a policy as reward model must be refused"
grep -q "no reward head" "$tmp/log2" || { cat "$tmp/log2"; fail "message"; }
echo "ok: grpo train with a reward model"
