#!/usr/bin/env bash
# grpo plot end to end: a GRPO-like metrics file (a resumed run, null gaps)
# and an SFT one give well-formed SVG (parsed by Python's XML parser) with the
# expected panels and polyline point counts; bad input exits 1 naming file:line.
# Usage: test_cli_plot.sh GRPO
set -u
grpo=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$tmp/run" "$tmp/sft"
# Steps 1..30, then a resume from step 20 re-logs 21..40: 40 distinct steps.
# kl is null at steps 10 and 11: two polylines (1-9, 12-40).
python3 - "$tmp/run/metrics.jsonl" "$tmp/sft/metrics.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for s in list(range(1, 31)) + list(range(21, 41)):
        d = {"step": s, "reward_mean": -0.5 + s / 100, "accuracy": s / 50, "kl": 1e-4 * s,
             "entropy": 1.0 - s / 100, "resp_len_mean": 100 + s, "loss": 0.1, "lr": 1e-5,
             "clip_frac_low": 0.0}
        if s in (10, 11):
            d["kl"] = None
        f.write(json.dumps(d) + "\n")
with open(sys.argv[2], "w") as f:
    for s in range(1, 8):
        f.write(json.dumps({"step": s, "loss": 5 - s / 10, "lr": 1e-3, "grad_norm": 2.0}) + "\n")
PY

# Print "panel-id:points,points;..." for each panel of an SVG, after checking it parses.
describe() {
  python3 - "$1" <<'PY'
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
assert doc.documentElement.tagName == "svg"
out = []
for g in doc.getElementsByTagName("g"):
    if g.getAttribute("class") != "panel":
        continue
    counts = [len(p.getAttribute("points").split()) for p in g.getElementsByTagName("polyline")]
    dots = len(g.getElementsByTagName("circle"))
    out.append("%s:%s+%d" % (g.getAttribute("id"), ",".join(map(str, counts)), dots))
print(" ".join(out))
PY
}

"$grpo" plot "$tmp/run" 2>"$tmp/err" || { cat "$tmp/err"; fail "plot of a GRPO run"; }
grep -q "wrote $tmp/run/metrics.svg" "$tmp/err" || fail "no 'wrote' line: $(cat "$tmp/err")"
got=$(describe "$tmp/run/metrics.svg") || fail "the SVG does not parse as XML"
want="panel-reward_mean:40+0 panel-accuracy:40+0 panel-kl:9,29+0 panel-entropy:40+0 panel-resp_len_mean:40+0"
[ "$got" = "$want" ] || fail "GRPO panels: got '$got', want '$want'"
grep -q '>step 40)<\|at step 40)' "$tmp/run/metrics.svg" || fail "title lacks the last step"

"$grpo" plot "$tmp/sft" --out "$tmp/sft.svg" 2>/dev/null || fail "plot of an SFT run"
[ ! -e "$tmp/sft/metrics.svg" ] || fail "--out ignored"
got=$(describe "$tmp/sft.svg") || fail "the SFT SVG does not parse"
[ "$got" = "panel-loss:7+0" ] || fail "SFT panels: got '$got'"

# A metrics file named directly, and --metrics.
"$grpo" plot "$tmp/sft/metrics.jsonl" --metrics 'lr, grad_norm' 2>/dev/null || fail "--metrics"
got=$(describe "$tmp/sft/metrics.svg") || fail "the --metrics SVG does not parse"
[ "$got" = "panel-lr:7+0 panel-grad_norm:7+0" ] || fail "--metrics panels: got '$got'"

# Errors: exit status 1 and one line naming the file (and line).
# Sanitizer runtime lines (==PID== ...) in the sanitizer build are not grpo's output.
expect_error() {  # expect_error WANT_SUBSTRING ARGS...
  local want=$1
  shift
  "$grpo" plot "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" = 1 ] || fail "grpo plot $*: exit $rc, want 1"
  [ "$(grep -cv "^$\|^==[0-9]*==\|Sanitizer" "$tmp/err")" = 1 ] || fail "grpo plot $*: not one line: $(cat -A "$tmp/err" | head -5)"
  grep -qF -- "$want" "$tmp/err" || fail "grpo plot $*: '$(cat "$tmp/err")' lacks '$want'"
}
mkdir "$tmp/bad" "$tmp/empty" "$tmp/none"
printf '{"step": 1, "kl": 0.1}\n{"step": 2, "kl": 0.2\n' >"$tmp/bad/metrics.jsonl"
expect_error "$tmp/bad/metrics.jsonl:2: not a JSON object" "$tmp/bad"
: >"$tmp/empty/metrics.jsonl"
expect_error "$tmp/empty/metrics.jsonl: no metrics (the file is empty)" "$tmp/empty"
expect_error "cannot open '$tmp/none/metrics.jsonl'" "$tmp/none"
expect_error "cannot open '$tmp/missing'" "$tmp/missing"
printf '{"step": 1, "tokens": 3}\n' >"$tmp/none/metrics.jsonl"
expect_error "none of reward_mean, accuracy, kl, entropy, resp_len_mean, loss occurs" "$tmp/none"
expect_error "no line has the key 'nope'" "$tmp/sft" --metrics loss,nope
expect_error "'lr' twice" "$tmp/sft" --metrics lr,loss,lr
expect_error "unknown option '--bogus'" "$tmp/sft" --bogus
expect_error "missing RUN_DIR"
[ ! -e "$tmp/bad/metrics.svg" ] || fail "an SVG was written for bad input"
ls "$tmp"/*/*.tmp.* >/dev/null 2>&1 && fail "temporary files left behind"
"$grpo" plot --help | grep -q "usage: grpo plot" || fail "--help"
echo "ok: grpo plot"
