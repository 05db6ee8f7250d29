// Monotonic timers.
#include "core/timer.h"

#include <time.h>

double time_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void timer_reset(struct timer *t) {
    t->started_s = -1.0;
    t->total_s = 0.0;
    t->n_laps = 0;
}

void timer_start(struct timer *t) {
    t->started_s = time_now_s();
}

double timer_stop(struct timer *t) {
    if (t->started_s < 0) return 0.0;
    double lap = time_now_s() - t->started_s;
    t->total_s += lap;
    t->n_laps++;
    t->started_s = -1.0;
    return lap;
}
