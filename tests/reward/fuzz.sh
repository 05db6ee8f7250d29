#!/usr/bin/env bash
# Fuzz the verifier with libFuzzer for SECONDS (default 120), from the corpus
# in tests/reward/corpus/. New interesting inputs go to build-fuzz/corpus-reward;
# crashes to build-fuzz/crashes-reward/ (copy them into tests/reward/corpus/
# once fixed, so test_reward_corpus replays them). To refresh the packed corpus:
#   fuzz_verify -merge=1 NEW_DIR build-fuzz/corpus-reward, then hex-encode
#   NEW_DIR's files one a line into tests/reward/corpus.hex.
# Usage: tests/reward/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-120}
if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang not found (scripts/setup installs it)" >&2
  exit 1
fi
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Dcuda=disabled -Dbuildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz tests/reward/fuzz_verify >/dev/null
corpus=build-fuzz/corpus-reward
mkdir -p "$corpus" build-fuzz/crashes-reward
cp tests/reward/corpus/* "$corpus"/
# the packed corpus of earlier runs, one hex input a line
python3 - "$corpus" <<'PY'
import sys
for k, line in enumerate(open("tests/reward/corpus.hex")):
    open(f"{sys.argv[1]}/packed-{k:05d}", "wb").write(bytes.fromhex(line.strip()))
PY
UBSAN_OPTIONS=halt_on_error=1 ./build-fuzz/tests/reward/fuzz_verify "$corpus" \
  -max_total_time="$seconds" -max_len=8192 -timeout=5 -rss_limit_mb=1024 \
  -artifact_prefix=build-fuzz/crashes-reward/ -print_final_stats=1 2>build-fuzz/fuzz-reward.log || {
  tail -40 build-fuzz/fuzz-reward.log >&2
  echo "fuzz: the verifier failed; the input is in build-fuzz/crashes-reward/" >&2
  exit 1
}
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/fuzz-reward.log | sed 's/^/fuzz: /'
echo "fuzz: verifier clean for ${seconds}s"
