// Shared by the MPI tests of comm/: a non-fatal EXPECT that names the rank,
// and a config with a given cluster layout.
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

static int n_failed, world_rank;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d: %s:%d: ", world_rank, __FILE__, __LINE__);                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            n_failed++;                                                                            \
        }                                                                                          \
    } while (0)

// A minimal config with cluster.placement and the three role counts.
static inline void load_layout(struct config *cfg, const char *placement, int l, int r, int w) {
    char sets[4][64];
    snprintf(sets[0], 64, "cluster.placement=%s", placement);
    snprintf(sets[1], 64, "cluster.learners=%d", l);
    snprintf(sets[2], 64, "cluster.rollout_workers=%d", r);
    snprintf(sets[3], 64, "cluster.reward_workers=%d", w);
    const char *argv[4] = {sets[0], sets[1], sets[2], sets[3]};
    const char *text = "run:\n  name: mpi\nmodel:\n  path: m\n";
    struct err e;
    if (config_load_string(cfg, "mpi.yaml", text, strlen(text), argv, 4, &e) != 0) {
        fprintf(stderr, "config: %s\n", e.msg);
        exit(2);
    }
}
