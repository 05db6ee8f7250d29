#!/usr/bin/env bash
# The command-line contract of the foundation: help, exit codes, one-line
# config errors, --print-config round trip, grpo inspect.
# Usage: test_cli.sh GRPO MAKE_CKPT SOURCE_ROOT
set -u
grpo=$1 make_ckpt=$2 root=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {  # check NAME EXPECTED_STATUS COMMAND...
  local name=$1 want=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: exit $got, want $want"; cat "$tmp/err"; fails=$((fails + 1))
  fi
}
expect_err() {  # expect_err NAME REGEX: the last command's stderr is one line matching REGEX
  if [ "$(grep -cv "^$\|^==[0-9]*==\|Sanitizer" "$tmp/err")" != 1 ] || ! grep -qE "$2" "$tmp/err"; then
    echo "FAIL $1: stderr was:"; cat "$tmp/err"; fails=$((fails + 1))
  fi
}

check help 0 "$grpo" --help
grep -q "train" "$tmp/out" || { echo "FAIL help lists train"; fails=$((fails + 1)); }
check version 0 "$grpo" --version
check unknown-command 1 "$grpo" frobnicate
expect_err unknown-command "^error: unknown command 'frobnicate'"
check no-command 1 "$grpo"
for cmd in train inspect; do check "$cmd-help" 0 "$grpo" "$cmd" --help; done

# Config errors: exit 1, one line, FILE:LINE:COL.
printf 'run:\n  name: x\nmodel:\n  path: m\noptim:\n  lerning_rate: 1\n' >"$tmp/typo.yaml"
check typo 1 "$grpo" train "$tmp/typo.yaml" --print-config
expect_err typo "^error: $tmp/typo.yaml:6:3: unknown key 'lerning_rate' in section 'optim'"
check bad-set 1 "$grpo" train "$root/configs/smoke.yaml" --set rollout.group_size=-1 --print-config
expect_err bad-set "^error: --set 'rollout.group_size=-1': rollout.group_size: -1 is out of range"
check missing-file 1 "$grpo" train "$tmp/nope.yaml" --print-config
expect_err missing-file "cannot open"

# --print-config output loads back to the same config.
check print 0 "$grpo" train "$root/configs/smoke.yaml" --print-config --set optim.lr=3e-4 --set 'data.question_key=[a, b]'
cp "$tmp/out" "$tmp/printed.yaml"
check reprint 0 "$grpo" train "$tmp/printed.yaml" --print-config
cmp -s "$tmp/printed.yaml" "$tmp/out" || { echo "FAIL --print-config round trip"; diff "$tmp/printed.yaml" "$tmp/out"; fails=$((fails + 1)); }
grep -q '^  lr: 0.0003$' "$tmp/printed.yaml" || { echo "FAIL override not printed"; fails=$((fails + 1)); }

# Every config shipped in configs/ loads.
for f in "$root"/configs/*.yaml; do
  check "config-$(basename "$f")" 0 "$grpo" train "$f" --print-config
done

# grpo inspect lists tensors, attributes and the stored config.
check make-ckpt 0 "$make_ckpt" "$tmp/ckpt-7.h5" "$root/configs/smoke.yaml"
check inspect 0 "$grpo" inspect "$tmp/ckpt-7.h5"
for want in 'tensor /model/model.embed_tokens.weight f32 \[4, 3\]' 'tensor /model/model.norm.weight bf16 \[2\]' \
            '@format = "grpo-checkpoint"' '@format_version = 1' '^config:' '^  name: "smoke"'; do
  grep -qE "$want" "$tmp/out" || { echo "FAIL inspect output lacks $want"; cat "$tmp/out"; fails=$((fails + 1)); }
done
echo "not a checkpoint" >"$tmp/bad.h5"
check inspect-bad 1 "$grpo" inspect "$tmp/bad.h5"
expect_err inspect-bad "bad.h5: not an HDF5 file"

[ $fails -eq 0 ] && echo "ok: cli contract" || echo "$fails failures"
exit $((fails > 0))
