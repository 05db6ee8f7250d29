// Picks the PyTorch interpreter of the benchmarks (bench/torch_python.h).
#include "bench/torch_python.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define VENV_PYTHON   "bench/.venv/bin/python"
#define DEBIAN_PYTHON "/usr/bin/python3"

const char *torch_python(const char *requested) {
    if (requested) return requested;
    if (access(VENV_PYTHON, X_OK) == 0) return VENV_PYTHON;
    fprintf(stderr,
            "bench: %s not found (run bench/setup-torch from the project root for the current "
            "PyPI torch); falling back to %s, whose torch may be old: its ratios are not the "
            "benchmark's\n",
            VENV_PYTHON, DEBIAN_PYTHON);
    return DEBIAN_PYTHON;
}

void torch_version(const char *py, char *out, size_t n) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -c 'import torch; print(torch.__version__)' 2>/dev/null", py);
    snprintf(out, n, "no torch");
    FILE *p = popen(cmd, "r");
    if (!p) return;
    char line[128];
    if (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0]) snprintf(out, n, "torch %s", line);
    }
    pclose(p);
}
