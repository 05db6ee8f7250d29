// Monotonic wall-clock timers for phase timings (rollout, reward, train, sync).
#pragma once

// Seconds since an arbitrary fixed point (CLOCK_MONOTONIC).
double time_now_s(void);

struct timer {
    double started_s; // time of the last timer_start, < 0 when stopped
    double total_s;   // accumulated over all start/stop pairs
    long n_laps;
};

void timer_reset(struct timer *t);
void timer_start(struct timer *t);
// Stops the timer; returns the seconds of this lap.
double timer_stop(struct timer *t);
