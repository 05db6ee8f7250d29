#!/bin/sh
# grpo tokenize end to end: golden ids, decode/encode round trip, errors.
# Usage: test_cli_tokenize.sh GRPO_EXE   (GRPO_SHARED from the test env)
set -u
grpo=$1
tok=${GRPO_SHARED:-../shared}/data/tokenizers/qwen2.5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Errors first (no data needed): exit 1 and a one-line message naming the line.
"$grpo" tokenize >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "no --tokenizer: want exit 1"
printf '{"text":"ab"}\n[1,\n' | "$grpo" tokenize --tokenizer bytes >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] || fail "bad JSON: want exit 1"
grep -q '^error: <stdin>:2: not a JSON object$' "$tmp/err" || fail "bad JSON message: $(cat "$tmp/err")"
printf '{"text":"a\\u0000b"}\n' | "$grpo" tokenize --tokenizer bytes >/dev/null 2>&1
[ $? -eq 1 ] || fail "NUL escape: want exit 1"
printf '{"ids":[104,105,258]}\n' | "$grpo" tokenize --tokenizer bytes --decode >"$tmp/out" || fail "decode"
[ "$(cat "$tmp/out")" = '{"text":"hi<|im_end|>"}' ] || fail "byte decode: $(cat "$tmp/out")"
"$grpo" tokenize --help | grep -q 'usage: grpo tokenize' || fail "--help"

if [ ! -f "$tok/golden.jsonl" ]; then echo "skipped: $tok/golden.jsonl not found"; exit 77; fi
head -n 60 "$tok/golden.jsonl" > "$tmp/golden"
sed 's/^.*\("ids":\[[0-9,]*\]\)}$/{\1}/' "$tmp/golden" > "$tmp/want"
"$grpo" tokenize --tokenizer "$tok" < "$tmp/golden" > "$tmp/ids" || fail "encode exit $?"
cmp -s "$tmp/ids" "$tmp/want" || fail "ids differ from golden.jsonl"
"$grpo" tokenize --tokenizer "$tok/tokenizer.json" --decode < "$tmp/ids" > "$tmp/text" || fail "decode"
"$grpo" tokenize --tokenizer "$tok" < "$tmp/text" > "$tmp/ids2" || fail "re-encode"
cmp -s "$tmp/ids" "$tmp/ids2" || fail "encode(decode(ids)) != ids"
echo ok
