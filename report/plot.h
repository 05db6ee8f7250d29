// Plots of a run's metrics: reads RUN_DIR/metrics.jsonl (one JSON object per
// step, written by trainer/run.c) and writes one self-contained SVG with a
// panel per metric against the step. No plotting dependency: the SVG is
// written directly. docs/plot.md is the user's view.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

// The metrics of one file, one row per distinct step, rows sorted by step.
// When a step appears on several lines (a resumed run re-logs the steps after
// its checkpoint), the last line wins, as it belongs to the run that went on.
struct plot_metrics {
    int n_keys;
    char **keys; // (n_keys) the keys asked for, owned
    int64_t n_rows;
    int64_t *step;    // (n_rows) ascending, distinct
    double *value;    // (n_rows, n_keys) row-major; NaN where the line had null or a non-finite
                      // number (a gap in the curve)
    uint8_t *present; // (n_rows, n_keys) 1 where the line had the key (number or null), else 0
    int64_t n_lines;  // data lines read (blank lines not counted)
};

// Read path's JSON lines, keeping keys[0..n_keys). Every non-blank line must be
// a JSON object with an integer "step" >= 0; a kept key's value must be a
// number or null. Any other line is a user error naming path:line. A file with
// no data line is a user error too. Other keys are ignored.
int plot_metrics_read(const char *path, const char *const *keys, int n_keys,
                      struct plot_metrics **out, struct err *e);
void plot_metrics_destroy(struct plot_metrics **m);

// True when some row has key k (a number or null).
bool plot_metrics_has(const struct plot_metrics *m, int k);

enum { PLOT_MAX_TICKS = 16 };

// Round ("nice") axis ticks: a tick spacing of 1, 2 or 5 times a power of ten
// chosen so that about `target` ticks cover [lo, hi]. By default the axis runs
// from the first tick (<= lo) to the last (>= hi); PLOT_TICKS_TIGHT keeps the
// axis at [lo, hi] with the ticks inside it (the step axis: no empty margin).
// PLOT_TICKS_INTEGER: spacing >= 1. A degenerate range (lo == hi) is widened
// around the value.
enum { PLOT_TICKS_INTEGER = 1, PLOT_TICKS_TIGHT = 2 };
struct plot_ticks {
    double lo, hi;  // axis limits
    double first;   // the first tick; ticks are first + i*spacing for i in [0, n)
    double spacing; // between ticks
    int n;          // number of ticks
    int n_decimals; // decimals that print every tick exactly ("%.*f")
};
void plot_ticks_nice(double lo, double hi, int target, int flags, struct plot_ticks *out);

// Format tick value v for a label (uses n_decimals, or %g for huge/tiny values).
void plot_tick_label(char *buf, size_t n, const struct plot_ticks *t, double v);

// Write an SVG with one panel per entry of panels (indices into m->keys),
// titled `title` (any text; escaped). Finite values are joined by a polyline;
// a NaN breaks it into separate polylines, a lone point is a dot; a row
// without the key is skipped (the line joins its neighbours).
int plot_svg_write(FILE *f, const struct plot_metrics *m, const int *panels, int n_panels,
                   const char *title, struct err *e);

// The metrics `grpo plot` draws by default, those present, in this order:
// reward_mean, accuracy, kl, entropy, resp_len_mean; when none is present (an
// SFT run), loss.
struct plot_opts {
    const char *input;    // RUN_DIR (reads RUN_DIR/metrics.jsonl) or a .jsonl file
    const char *out_path; // NULL: RUN_DIR/metrics.svg (or the .jsonl's name with .svg)
    const char *metrics;  // NULL, or a comma-separated list of keys that replaces the default
};

// Read, choose the panels, write the SVG atomically (a temporary file renamed).
// out_written (may be NULL, size n_out) receives the SVG's path.
int plot_run(const struct plot_opts *o, char *out_written, size_t n_out, struct err *e);
