#!/usr/bin/env bash
# NaN/Inf gradients (injected with GRPO_FAULT_NONFINITE_STEPS): a step with
# one is skipped (weights untouched), logged and counted; up to
# trainer.max_nonfinite_steps - 1 in a row the run goes on; that many in a
# row stop it with exit 1 and the last checkpoint holds good weights.
# Usage: test_nonfinite.sh GRPO
set -u
source "$(dirname "$0")/common.sh"
grpo=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sum_data "$tmp/data.jsonl" 3 40 99
cat >"$tmp/sft.yaml" <<EOF
run: {name: a, out_dir: $tmp/runs, seed: 5, threads: 1}
model: {hidden_size: 32, intermediate_size: 64, num_layers: 2, num_heads: 4, max_seq_len: 32}
tokenizer: {kind: byte, chat_template: raw}
data: {train_path: $tmp/data.jsonl}
sft: {batch_seqs: 8}
optim: {lr: 3.0e-3}
trainer: {max_steps: 8, checkpoint_every: 1, keep_checkpoints: 20, max_nonfinite_steps: 3}
EOF
# Two bad steps in a row: skipped, the run completes.
GRPO_FAULT_NONFINITE_STEPS=3-4 "$grpo" sft "$tmp/sft.yaml" 2>"$tmp/log1" || { cat "$tmp/log1"; fail "2 bad steps must not stop the run"; }
[ "$(grep -c 'update skipped' "$tmp/log1")" = 2 ] || { cat "$tmp/log1"; fail "skips not logged"; }
ck=$tmp/runs/a/checkpoints
h5diff "$ck/ckpt-2.h5" "$ck/ckpt-4.h5" /model /model >/dev/null || fail "a skipped step changed the weights"
h5diff "$ck/ckpt-4.h5" "$ck/ckpt-5.h5" /model /model >/dev/null && fail "a good step after them did not train"
sed -n 3p "$tmp/runs/a/metrics.jsonl" | grep -q '"grad_norm": null' || fail "metrics: grad_norm should be null"
[ -f "$ck/ckpt-8.h5" ] || fail "the run did not finish"

# Three in a row: the run stops with exit 1, the latest checkpoint is good.
GRPO_FAULT_NONFINITE_STEPS=3-8 "$grpo" sft "$tmp/sft.yaml" --set run.name=b 2>"$tmp/log2"
rc=$?
[ $rc = 1 ] || { cat "$tmp/log2"; fail "exit $rc, want 1"; }
grep -q "3 consecutive steps with NaN/Inf gradients" "$tmp/log2" || { cat "$tmp/log2"; fail "message"; }
latest=$(ls "$tmp/runs/b/checkpoints" | sort -t- -k2 -n | tail -1)
"$grpo" inspect "$tmp/runs/b/checkpoints/$latest" >/dev/null || fail "latest checkpoint unreadable"
h5diff "$tmp/runs/b/checkpoints/ckpt-2.h5" "$tmp/runs/b/checkpoints/$latest" /model /model >/dev/null ||
  fail "the latest checkpoint does not hold the last good weights"
echo "ok: NaN/Inf steps skipped and counted; 3 in a row stop the run ($latest holds step 2's weights)"
