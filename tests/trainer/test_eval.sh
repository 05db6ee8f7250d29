#!/usr/bin/env bash
# grpo eval end to end with a tiny random policy and a tiny reward model: the
# table on stdout, the JSON line appended to RUN_DIR/eval.jsonl, and metrics that
# agree with the per-problem file (--out) recomputed here in Python: accuracy,
# pass@j by math.comb, maj@k, rm@k by argmax of the scores, mean length.
# Usage: test_eval.sh GRPO SRCDIR
set -u
source "$(dirname "$0")/common.sh"
grpo=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$src/tests/trainer/make_tiny_rm.py" "$tmp/rm" || fail "make rm"
python3 "$src/tests/trainer/make_tiny_rm.py" "$tmp/lm" --lm || fail "make policy"
sum_data "$tmp/data.jsonl" 3 24 4
cat >"$tmp/e.yaml" <<EOF
run: {name: ev, out_dir: $tmp/runs, seed: 3, threads: 1}
model: {path: $tmp/lm}
tokenizer: {kind: byte, chat_template: raw}
data: {eval_path: $tmp/data.jsonl, answer_format: number}
rollout: {temperature: 1, max_new_tokens: 6, kv_cache_mb: 4, stop: [a, b, c, d, e, f, g, h, i, j, k, l, m]}
reward: {rm_path: $tmp/rm, rm_batch_size: 5}
EOF

# EXP.yaml: the table on stdout, the JSON line in run.out_dir/run.name/eval.jsonl.
"$grpo" eval "$tmp/e.yaml" --k 4 --out "$tmp/pp.jsonl" >"$tmp/table" 2>"$tmp/log" ||
    { cat "$tmp/log"; fail "eval with EXP.yaml"; }
cat "$tmp/table"
for row in "dataset   $tmp/data.jsonl" "model     $tmp/lm" "problems  24, k 4" accuracy pass@1 pass@2 \
    pass@4 maj@4 rm@4 mean_len no_answer_rate; do
    grep -q "^$row" "$tmp/table" || fail "table row '$row'"
done
[ -f "$tmp/runs/ev/eval.jsonl" ] || fail "no $tmp/runs/ev/eval.jsonl"
python3 - "$tmp/runs/ev/eval.jsonl" "$tmp/pp.jsonl" <<'PY' || fail "metrics"
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1, rows
r = rows[0]
probs = [json.loads(l) for l in open(sys.argv[2])]
k = 4
assert r["problems"] == len(probs) == 24 and r["k"] == k and r["samples"] == 96, r
assert r["rm"].endswith("/rm") and r["model"].endswith("/lm") and r["seed"] == 3, r
near = lambda a, b, what: abs(a - b) < 1e-5 or sys.exit("%s: %r, want %r" % (what, a, b))
c = [sum(p["verdicts"]) for p in probs]
near(r["accuracy"], sum(c) / 96, "accuracy")
for j in (1, 2, 4):
    near(r["pass@%d" % j], sum(1 - math.comb(k - ci, j) / math.comb(k, j) for ci in c) / 24, "pass@%d" % j)
near(r["maj@4"], sum(p["maj"] for p in probs) / 24, "maj@4")
best = [max(range(k), key=lambda i: (p["rm_scores"][i], -i)) for p in probs]
assert best == [p["rm_best"] for p in probs], "rm_best"
near(r["rm@4"], sum(p["verdicts"][b] for p, b in zip(probs, best)) / 24, "rm@4")
near(r["mean_len"], sum(sum(p["lengths"]) for p in probs) / 96, "mean_len")
near(r["no_answer_rate"], sum(a == "" for p in probs for a in p["answers"]) / 96, "no_answer_rate")
assert len(set(x for p in probs for x in p["rm_scores"])) > 50, "reward-model scores look constant"
print("ok: accuracy %.4f pass@4 %.4f maj@4 %.4f rm@4 %.4f" % (r["accuracy"], r["pass@4"], r["maj@4"], r["rm@4"]))
PY

# --model/--data with --json: the same line on stdout, appended to --run-dir; the
# same seed gives the same metrics.
args=(--model "$tmp/lm" --data "$tmp/data.jsonl" --tokenizer byte --chat-template raw
    --answer-format number --max-new-tokens 6 --seed 3 --threads 1 --rm "$tmp/rm" --set reward.rm_batch_size=5
    --set rollout.kv_cache_mb=4 --set "rollout.stop=[a, b, c, d, e, f, g, h, i, j, k, l, m]" --k 4 --json --run-dir "$tmp/out")
"$grpo" eval "${args[@]}" >"$tmp/j1" 2>"$tmp/log" || { cat "$tmp/log"; fail "eval --json"; }
"$grpo" eval "${args[@]}" >"$tmp/j2" 2>"$tmp/log" || { cat "$tmp/log"; fail "eval --json again"; }
[ "$(wc -l <"$tmp/out/eval.jsonl")" = 2 ] || fail "two evaluations append two lines"
python3 - "$tmp/j1" "$tmp/j2" "$tmp/out/eval.jsonl" "$tmp/runs/ev/eval.jsonl" <<'PY' || fail "json"
import json, sys
j1, j2 = (json.loads(open(p).read()) for p in sys.argv[1:3])
lines = [json.loads(l) for l in open(sys.argv[3])]
yaml_run = json.loads(open(sys.argv[4]).read())
drop = lambda r: {k: v for k, v in r.items() if k not in ("seconds", "model", "data", "rm")}
assert drop(j1) == drop(j2) == drop(lines[0]) == drop(lines[1]), (j1, j2)
assert drop(j1) == drop(yaml_run), ("EXP.yaml and flags evaluate the same", j1, yaml_run)
PY

# Greedy: one response per problem; k > 1 is refused, and rm@1 is the accuracy.
"$grpo" eval "$tmp/e.yaml" --k 2 --set rollout.temperature=0 2>"$tmp/log" && fail "greedy with k 2"
grep -q "greedy decoding gives one response" "$tmp/log" || { cat "$tmp/log"; fail "greedy message"; }
"$grpo" eval "$tmp/e.yaml" --set rollout.temperature=0 --json --run-dir "$tmp/g" >"$tmp/g1" 2>"$tmp/log" ||
    { cat "$tmp/log"; fail "greedy"; }
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["k"] == 1 and r["rm@1"] == r["accuracy"] == r["pass@1"], r' \
    "$tmp/g1" || fail "greedy metrics"

# A policy is no reward model.
"$grpo" eval "$tmp/e.yaml" --rm "$tmp/lm" 2>"$tmp/log" && fail "a policy as reward model"
grep -q "no reward head" "$tmp/log" || { cat "$tmp/log"; fail "message"; }
"$grpo" eval --help >"$tmp/help" || fail "--help"
grep -q -- "--run-dir" "$tmp/help" || fail "--help names --run-dir"
# Bad values fail in one line before any sampling.
"$grpo" eval "$tmp/e.yaml" --k 0 2>"$tmp/log" && fail "--k 0"
grep -q "k '0' must be an integer" "$tmp/log" || { cat "$tmp/log"; fail "--k message"; }
: >"$tmp/file"
"$grpo" eval "$tmp/e.yaml" --run-dir "$tmp/file/sub" 2>"$tmp/log" && fail "run dir under a file"
grep -q "$tmp/file" "$tmp/log" || { cat "$tmp/log"; fail "run dir message"; }
echo "ok: grpo eval"
