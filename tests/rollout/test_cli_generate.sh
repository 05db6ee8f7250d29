#!/bin/sh
# grpo generate end to end on the tiny test model: output shape, the same samples whatever
# the batching, greedy groups, errors. Usage: test_cli_generate.sh GRPO_EXE
set -u
grpo=$1
model=${GRPO_SOURCE_ROOT:-.}/tests/model/data/qwen2_tied
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=1
# Same samples: the same lines, byte for byte (ids, text, finish and logprobs; the engine's
# batch-invariant GEMM makes logits independent of the batch).
same() { cmp -s "$1" "$2"; }

"$grpo" generate --help | grep -q 'usage: grpo generate' || fail "--help"
"$grpo" generate >/dev/null 2>&1; [ $? -eq 1 ] || fail "no --model: want exit 1"
"$grpo" generate --model "$model" --top-p 2 </dev/null >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] || fail "top-p 2: want exit 1"
grep -q "top_p '2'" "$tmp/err" || fail "top-p message: $(cat "$tmp/err")"
"$grpo" generate --model "$model" --bogus 1 </dev/null >/dev/null 2>&1; [ $? -eq 1 ] || fail "unknown option"
echo '{"id": 1, "prompt": "hi"}' | "$grpo" generate --model "$model" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] || fail "prompt without a tokenizer: want exit 1"
printf '{"id": 1, "ids": [1, 2]}\n{"id": 2, "ids": [1, 99]}\n' |
    "$grpo" generate --model "$model" --n 2 --max-new-tokens 4 >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] || fail "id out of range: want exit 1"
grep -q 'stdin:2: ids\[1\]' "$tmp/err" || fail "id message: $(cat "$tmp/err")"

# Queries: integer, string and missing ids.
{
    echo '{"id": 7, "ids": [1, 2, 3]}'
    echo '{"id": "q-b", "ids": [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]}'
    echo ''
    echo '{"ids": [40]}'
    echo '{"id": 9, "ids": [3, 1, 4, 1, 5, 9, 2, 6]}'
} > "$tmp/in"
args="--model $model --n 4 --max-new-tokens 12 --top-p 0.9 --seed 3"
"$grpo" generate $args --max-batch-seqs 64 < "$tmp/in" > "$tmp/a" || fail "generate exit $?"
[ "$(wc -l < "$tmp/a")" -eq 4 ] || fail "want 4 output lines: $(cat "$tmp/a")"
head -n 1 "$tmp/a" | grep -q '^{"id":7,"samples":\[{"ids":\[' || fail "output shape: $(head -n 1 "$tmp/a")"
sed -n 2p "$tmp/a" | grep -q '^{"id":"q-b",' || fail "string id: $(sed -n 2p "$tmp/a")"
sed -n 3p "$tmp/a" | grep -q '^{"id":2,' || fail "missing id = index: $(sed -n 3p "$tmp/a")"
[ "$(grep -o '"finish":"length"' "$tmp/a" | wc -l)" -eq 16 ] || fail "16 samples of length 12"
# Batch 1, two queries per engine call, a single query alone, 2 threads: the same samples.
"$grpo" generate $args --max-batch-seqs 1 < "$tmp/in" > "$tmp/b" || fail "batch 1"
same "$tmp/a" "$tmp/b" || fail "batch 1 differs from batch 64"
"$grpo" generate $args --batch-queries 2 --max-batch-seqs 3 < "$tmp/in" > "$tmp/c" || fail "split"
same "$tmp/a" "$tmp/c" || fail "split batches differ"
tail -n 1 "$tmp/in" | "$grpo" generate $args > "$tmp/d" || fail "alone"
tail -n 1 "$tmp/a" > "$tmp/a1"
same "$tmp/a1" "$tmp/d" || fail "a query alone differs"
"$grpo" generate $args --threads 2 < "$tmp/in" > "$tmp/t2" || fail "2 threads"
same "$tmp/a" "$tmp/t2" || fail "2 threads differ from 1"
# Another seed gives other samples; greedy gives G identical samples.
"$grpo" generate --model "$model" --n 4 --max-new-tokens 12 --top-p 0.9 --seed 4 < "$tmp/in" > "$tmp/e"
same "$tmp/a" "$tmp/e" 2>/dev/null && fail "seed 4 equals seed 3"
head -n 1 "$tmp/in" | "$grpo" generate --model "$model" --n 3 --max-new-tokens 6 --temperature 0 |
    grep -o '"ids":\[[0-9,]*\]' | sort -u > "$tmp/g"
[ "$(wc -l < "$tmp/g")" -eq 1 ] || fail "greedy samples differ: $(cat "$tmp/g")"
# Logprobs agree with grpo logprobs on prompt + response.
head -n 1 "$tmp/a" | sed 's/.*"samples":\[{"ids":\[\([0-9,]*\)\],"logprobs":\[\([^]]*\)\].*/\1 \2/' > "$tmp/s"
read -r resp lps < "$tmp/s"
echo "{\"ids\": [1,2,3,$resp]}" | "$grpo" logprobs --model "$model" > "$tmp/lp" || fail "logprobs"
python3 - "$tmp/lp" "$lps" <<'PY' || fail "logprobs differ from grpo logprobs"
import json, sys
full = json.load(open(sys.argv[1]))["logprobs"][2:]
gen = [float(x) for x in sys.argv[2].split(",")]
assert len(full) == len(gen), (len(full), len(gen))
assert max(abs(a - b) for a, b in zip(full, gen)) < 2e-5, (full, gen)
PY
echo ok
