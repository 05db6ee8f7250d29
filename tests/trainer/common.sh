# Shared by the trainer's shell tests: sourced, not run.
# fail MESSAGE: print and exit 1.
fail() { echo "FAIL: $*"; exit 1; }
# sum_data FILE SEED N MAX: N JSON lines {"question": "a+b=", "answer": a+b} with a, b in
# [0, MAX] (MAX < 10: single-digit sums a random byte model sometimes gets right, so GRPO
# groups have reward variance); the answer is a JSON number.
sum_data() {
  python3 - "$@" <<'PY'
import json, sys, random
path, seed, n, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = random.Random(seed)
lo = 10 if top >= 10 else 0
with open(path, "w") as f:
    for _ in range(n):
        a, b = r.randint(lo, top), r.randint(lo, top)
        f.write(json.dumps({"question": f"{a}+{b}=", "answer": a + b}) + "\n")
PY
}
