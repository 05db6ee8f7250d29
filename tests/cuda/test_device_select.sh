#!/usr/bin/env bash
# run.device: cuda (and --device cuda of logprobs and generate) on a machine without a CUDA
# device, or a build without CUDA: exit 1 and one line naming the key, before the model is read
# (the --model paths do not exist). Skips (77) where a device is visible.
# Usage: test_device_select.sh GRPO SOURCE_ROOT
set -u
grpo=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then exit 77; fi
one_line() {  # one_line NAME WANT_REGEX COMMAND...: exit 1, stderr one line matching
  local name=$1 want=$2
  shift 2
  "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != 1 ] || [ "$(grep -cv "^$\|^==[0-9]*==\|Sanitizer" "$tmp/err")" != 1 ] ||
     ! grep -qE "$want" "$tmp/err"; then
    echo "FAIL $name: exit $got, stderr:"; cat "$tmp/err"; fails=$((fails + 1))
  fi
}
nodev="(no CUDA device|built without CUDA)"
one_line train "^error: run.device 'cuda': .*$nodev" \
  "$grpo" train "$root/configs/smoke.yaml" --set run.device=cuda --set run.out_dir="$tmp/out"
one_line logprobs "^error: logprobs: --device 'cuda': .*$nodev" \
  "$grpo" logprobs --model "$tmp/none" --device cuda
one_line generate "^error: generate: --device 'cuda': .*$nodev" \
  "$grpo" generate --model "$tmp/none" --device cuda
one_line bad-device "^error: generate: --device 'tpu' must be cpu or cuda" \
  "$grpo" generate --model "$tmp/none" --device tpu
exit $((fails > 0))
