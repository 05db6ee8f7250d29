#!/bin/bash
# A fake grpo for the job-script tests (tests/scripts/test_*.sh copy it to a file named grpo).
# Behaviour from $FAKE_MODE, state in $FAKE_DIR: attempts (runs so far), calls (their
# arguments), signals. A checkpoint is a text file "STEP COMPLETE MAX_STEPS"; `grpo inspect`
# prints it in the real command's layout, and --print-config prints the real YAML layout.
set -u
d=$FAKE_DIR
if [ "$1" = inspect ]; then
  read -r step complete max <"$2" || { echo "error: $2: not a grpo checkpoint" >&2; exit 1; }
  printf 'file   %s\n@complete = %s\n@format = "grpo-checkpoint"\ngroup  /model\n' "$2" "$complete"
  printf 'group  /state\n  @data_position = 8\n  @max_steps = %s\n  @step = %s\n' "$max" "$step"
  # The stored config follows; its lines must not be taken for attributes.
  printf 'config:\nrun:\n  name: "x"\n@complete = 1\n'
  exit 0
fi
all="$*"
config=$2
shift 2
max=6 ckdir="" print=0 resume=""
while [ $# -gt 0 ]; do
  case $1 in
    --print-config) print=1 ;;
    --resume) resume=$2; shift ;;
    --set) case $2 in
             trainer.max_steps=*) max=${2#*=} ;;
             trainer.checkpoint_dir=*) ckdir=${2#*=} ;;
           esac
           shift ;;
  esac
  shift
done
grep -q bad "$config" && { echo "error: $config:1:1: unknown key 'bad'" >&2; exit 1; }
out_dir="$d/my runs/a\"b"  # a space and a quote: run-job must unquote the YAML
if [ "$print" = 1 ]; then
  esc=${out_dir//\\/\\\\}
  esc=${esc//\"/\\\"}
  printf 'run:\n  name: "fake"\n  out_dir: "%s"\n  seed: 1\nmodel:\n  max_steps: 99\n' "$esc"
  printf 'trainer:\n  max_steps: %s\n  checkpoint_every: 2\n  keep_checkpoints: 0\n' "$max"
  printf '  checkpoint_dir: "%s"\n  eval_every: 0\ncluster:\n  placement: colocated\n' "$ckdir"
  exit 0
fi
[ "$resume" = auto ] || { echo "fake: --resume auto expected" >&2; exit 2; }
echo "$all" >>"$d/calls"
n=$(( $(cat "$d/attempts" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$d/attempts"
[ -n "$ckdir" ] || ckdir=$out_dir/fake/checkpoints
mkdir -p "$ckdir"
latest=0
for f in "$ckdir"/ckpt-*.h5; do
  [ -e "$f" ] || continue
  s=${f##*/ckpt-}; s=${s%.h5}
  [ "$s" -gt "$latest" ] && latest=$s
done
save() { echo "$1 $([ "$1" -ge "$max" ] && echo 1 || echo 0) $max" >"$ckdir/ckpt-$1.h5"; }
case $FAKE_MODE in
  crash-once)  # a checkpoint at 2, then a crash; the next attempt finishes
    if [ "$n" = 1 ]; then save 2; echo "fake: killed" >&2; exit 137; fi
    save 4; save "$max"; exit 0 ;;
  stuck)  # never gets anywhere
    echo "error: fake: cannot start" >&2; exit 1 ;;
  progress-then-stuck)  # one checkpoint, then crashes without progress
    [ "$n" = 1 ] && save 2
    exit 139 ;;
  two-per-attempt)  # two steps per attempt, each attempt crashing, until done
    s=$((latest + 2)); save "$s"
    [ "$s" -ge "$max" ] && exit 0
    exit 137 ;;
  complete-then-crash)  # the final checkpoint is written, then the process fails
    save "$max"; exit 1 ;;
  wait-signal)  # runs until SIGTERM, then saves and exits cleanly, as grpo does
    trap 'echo "got TERM" >>"$d/signals"; save $((latest + 1)); exit 0' TERM
    touch "$d/started"
    for _ in $(seq 1 600); do sleep 0.05; done
    exit 9 ;;
esac
