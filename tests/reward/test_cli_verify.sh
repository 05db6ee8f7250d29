#!/bin/sh
# grpo verify end to end: one output line per input line, in order, per-line
# modes, number golds; errors name the line and exit 1.
# Usage: test_cli_verify.sh GRPO_EXE
set -u
grpo=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$tmp/in" <<'JSON'
{"response": "so \\boxed{\\frac{1}{2}}.", "gold": "0.5"}
{"response": "so \\boxed{2}", "gold": "1/2"}

{"response": "I think 7 apples", "gold": 7}
{"response": "I think 7 apples", "gold": "7", "mode": "gsm8k"}
{"response": "\\boxed{(1,2)}", "gold": "(2,1)"}
{"response": "答案是 12。", "gold": "12"}
JSON
"$grpo" verify < "$tmp/in" > "$tmp/out" 2>"$tmp/err" || fail "exit $?: $(cat "$tmp/err")"
cat > "$tmp/want" <<'JSON'
{"correct":true,"extracted":"\\frac{1}{2}","reason":"equal numbers"}
{"correct":false,"extracted":"2","reason":"different numbers"}
{"correct":false,"extracted":"","reason":"no answer"}
{"correct":true,"extracted":"7","reason":"equal after normalisation"}
{"correct":false,"extracted":"(1,2)","reason":"different tuples"}
{"correct":true,"extracted":"12","reason":"equal after normalisation"}
JSON
diff "$tmp/want" "$tmp/out" > "$tmp/diff" || fail "output differs: $(cat "$tmp/diff")"
"$grpo" verify --mode gsm8k < "$tmp/in" | sed -n 3p | grep -q '"correct":true' || fail "--mode gsm8k"

# the solution mode: a worked solution without \boxed{} (per line or --mode)
printf '%s\n' '{"response": "so the maximum is $\\mathbf{3 2}$.", "gold": "32", "mode": "solution"}' \
    | "$grpo" verify | grep -q '"correct":true,"extracted":"\\\\mathbf{3 2}"' || fail "mode solution"
printf '%s\n' '{"response": "thus $x = 7$.", "gold": "7"}' | "$grpo" verify --mode solution \
    | grep -q '"correct":true' || fail "--mode solution"
printf '%s\n' '{"response": "thus $x = 7$.", "gold": "7"}' | "$grpo" verify \
    | grep -q '"reason":"no answer"' || fail "boxed mode has no final-statement fallback"

# errors: the line number, exit 1, the lines before answered
printf '{"response":"\\\\boxed{1}","gold":"1"}\n{"response": 1, "gold": "1"}\n' | "$grpo" verify >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] || fail "bad response: want exit 1"
grep -q "^error: <stdin>:2: key 'response' missing or not a string$" "$tmp/err" || fail "message: $(cat "$tmp/err")"
[ "$(wc -l < "$tmp/out")" -eq 1 ] || fail "line 1 not answered"
printf 'not json\n' | "$grpo" verify >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "bad JSON: want exit 1"
grep -q '^error: <stdin>:1: not a JSON object$' "$tmp/err" || fail "bad JSON message: $(cat "$tmp/err")"
printf '{"response":"x","gold":"1","mode":"math"}\n' | "$grpo" verify >/dev/null 2>&1; [ $? -eq 1 ] || fail "bad mode"
"$grpo" verify --mode math </dev/null >/dev/null 2>&1; [ $? -eq 1 ] || fail "bad --mode"
"$grpo" verify --help | grep -q 'usage: grpo verify' || fail "--help"
echo ok
