#!/bin/bash
# A fake mpirun: records its arguments in $FAKE_DIR/mpirun-args and runs the command after
# the launcher options ($FAKE_GRPO and what follows) as a child, forwarding no signal.
echo "$*" >>"$FAKE_DIR/mpirun-args"
while [ $# -gt 0 ] && [ "$1" != "$FAKE_GRPO" ]; do shift; done
"$@" &
wait $!
