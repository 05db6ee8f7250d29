#!/bin/sh
# grpo data synth-arith end to end: line count, determinism, prefix
# stability, the demo format, errors.   Usage: test_cli_data.sh GRPO_EXE
set -u
grpo=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$grpo" data synth-arith --n 50 --seed 3 > "$tmp/a" || fail "exit $?"
"$grpo" data synth-arith --seed 3 --n 50 > "$tmp/b" || fail "exit $?"
"$grpo" data synth-arith --n 10 --seed 3 > "$tmp/c" || fail "exit $?"
"$grpo" data synth-arith --n 50 --seed 4 > "$tmp/d" || fail "exit $?"
[ "$(wc -l < "$tmp/a")" -eq 50 ] || fail "want 50 lines"
cmp -s "$tmp/a" "$tmp/b" || fail "not deterministic"
head -n 10 "$tmp/a" | cmp -s - "$tmp/c" || fail "--n 10 is not a prefix of --n 50"
cmp -s "$tmp/a" "$tmp/d" && fail "seed ignored"
grep -qvE '^\{"id":[0-9]+,"question":"[1-9][0-9]{2}\+[1-9][0-9]{2}=","prompt":"[0-9+=]+","answer":"[0-9]+","solution":"[0-9]{2} [0-9]{2} [0-9]{2}\\\\boxed\{[0-9]+\}"\}$' "$tmp/a" \
  && fail "format: $(head -n 1 "$tmp/a")"
"$grpo" data synth-arith --digits 0 >/dev/null 2>&1; [ $? -eq 1 ] || fail "--digits 0: want exit 1"
"$grpo" data synth-arith --ops '/' >/dev/null 2>&1; [ $? -eq 1 ] || fail "--ops /: want exit 1"
"$grpo" data synth-arith --n >/dev/null 2>&1; [ $? -eq 1 ] || fail "--n without value: want exit 1"
"$grpo" data nope >/dev/null 2>&1; [ $? -eq 1 ] || fail "unknown tool: want exit 1"
"$grpo" data synth-arith --help | grep -q 'usage: grpo data synth-arith' || fail "--help"
echo ok
