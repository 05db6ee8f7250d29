// report/: nice ticks against their defining properties and hand-worked
// cases, metrics.jsonl reading (resume de-duplication, null gaps, errors that
// name file:line), and the SVG's panels and polylines.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/plot.h"

// Spacing is 1, 2 or 5 times a power of ten (relative slack for pow/log10).
static bool is_nice(double s) {
    double p = pow(10.0, floor(log10(s) + 1e-9));
    double f = s / p;
    return fabs(f - 1) < 1e-9 || fabs(f - 2) < 1e-9 || fabs(f - 5) < 1e-9 || fabs(f - 10) < 1e-9;
}

static void test_ticks_properties(void **state) {
    (void)state;
    const double cases[][2] = {{0, 1},      {0.13, 0.87}, {-0.8, -0.15},   {1, 120}, {1e-6, 3e-4},
                               {200, 1024}, {-3, 7},      {5, 5},          {0, 0},   {1e9, 1e9 + 3},
                               {0.2, 0.7},  {-3.2, 5.9},  {-1e300, 1e300}, {7, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (int flags = 0; flags < 4; flags++) {
            double lo = fmin(cases[i][0], cases[i][1]), hi = fmax(cases[i][0], cases[i][1]);
            struct plot_ticks t;
            plot_ticks_nice(cases[i][0], cases[i][1], 5, flags, &t);
            assert_true(is_nice(t.spacing));
            assert_true(t.n >= 2 && t.n <= PLOT_MAX_TICKS);
            if (flags & PLOT_TICKS_INTEGER) assert_true(t.spacing >= 1);
            assert_true(t.lo < t.hi);
            // The axis covers the data (a widened degenerate range covers it too).
            assert_true(t.lo <= lo && t.hi >= hi);
            double last = t.first + (t.n - 1) * t.spacing, slack = 1e-9 * t.spacing;
            assert_true(t.first >= t.lo - slack && last <= t.hi + slack);
            if (!(flags & PLOT_TICKS_TIGHT)) {
                assert_true(fabs(t.first - t.lo) <= slack && fabs(last - t.hi) <= slack);
            }
        }
    }
}

static void test_ticks_worked(void **state) {
    (void)state;
    struct plot_ticks t;
    char buf[32];
    // (0.87 - 0.13)/4 = 0.185 -> 0.2; floor(0.13/0.2) = 0, ceil(0.87/0.2) = 5.
    plot_ticks_nice(0.13, 0.87, 5, 0, &t);
    assert_true(t.spacing == 0.2 && t.n == 6 && t.lo == 0 && fabs(t.hi - 1) < 1e-12);
    plot_tick_label(buf, sizeof buf, &t, t.first + 3 * t.spacing);
    assert_string_equal(buf, "0.6");
    // Steps 1..120, tight: 119/5 = 23.8 rounds to 20, ticks 20..120 inside [1, 120].
    plot_ticks_nice(1, 120, 6, PLOT_TICKS_INTEGER | PLOT_TICKS_TIGHT, &t);
    assert_true(t.spacing == 20 && t.first == 20 && t.n == 6 && t.lo == 1 && t.hi == 120);
    plot_tick_label(buf, sizeof buf, &t, 100);
    assert_string_equal(buf, "100");
    // One step: widened to [s - 1, s + 1].
    plot_ticks_nice(7, 7, 6, PLOT_TICKS_INTEGER | PLOT_TICKS_TIGHT, &t);
    assert_true(t.lo == 6 && t.hi == 8 && t.spacing == 1 && t.n == 3);
    // Negative zero never shows.
    plot_ticks_nice(-0.3, 0.3, 5, 0, &t);
    for (int i = 0; i < t.n; i++) {
        plot_tick_label(buf, sizeof buf, &t, t.first + i * t.spacing);
        assert_true(strcmp(buf, "-0.0") != 0 && strcmp(buf, "-0") != 0);
    }
    // Tiny values print in %g form.
    plot_ticks_nice(1e-7, 9e-7, 5, 0, &t);
    plot_tick_label(buf, sizeof buf, &t, 4e-7);
    assert_string_equal(buf, "4e-07");
}

// A temporary file holding text; its path goes to path.
static void write_tmp(char *path, size_t n, const char *text) {
    snprintf(path, n, "/tmp/test_plot_%ld_XXXXXX", (long)getpid());
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

static const char *const keys[] = {"reward_mean", "kl", "loss"};

static void test_read_resume_and_gaps(void **state) {
    (void)state;
    char path[128];
    // Steps 1..3, then a resume from step 1 re-logs 2 and 3 with other values;
    // kl is null at step 3 and missing at step 4.
    write_tmp(path, sizeof path,
              "{\"step\": 1, \"reward_mean\": 0.1, \"kl\": 0.5, \"other\": \"x\"}\n"
              "{\"step\": 2, \"reward_mean\": 0.2, \"kl\": 0.6}\n"
              "{\"step\": 3, \"reward_mean\": 0.3, \"kl\": 0.7}\n"
              "\n"
              "{\"step\": 2, \"reward_mean\": 0.25, \"kl\": 0.65}\n"
              "{\"step\": 3, \"reward_mean\": 0.35, \"kl\": null}\n"
              "{\"step\": 4, \"reward_mean\": 1e999}\n");
    struct plot_metrics *m;
    struct err e;
    assert_int_equal(plot_metrics_read(path, keys, 3, &m, &e), 0);
    unlink(path);
    assert_int_equal(m->n_lines, 6);
    assert_int_equal(m->n_rows, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(m->step[i], i + 1);
    const double *v = m->value;
    assert_true(v[0 * 3 + 0] == 0.1 && v[1 * 3 + 0] == 0.25 && v[2 * 3 + 0] == 0.35);
    assert_true(isnan(v[3 * 3 + 0]) && m->present[3 * 3 + 0]); // 1e999: not finite, a gap
    assert_true(v[1 * 3 + 1] == 0.65);
    assert_true(isnan(v[2 * 3 + 1]) && m->present[2 * 3 + 1]); // null: a gap
    assert_false(m->present[3 * 3 + 1]);                       // missing
    assert_true(plot_metrics_has(m, 0) && plot_metrics_has(m, 1));
    assert_false(plot_metrics_has(m, 2));
    plot_metrics_destroy(&m);
    assert_null(m);
}

// Reading `text` fails with a user error whose message contains `want`.
static void expect_read_error(const char *text, const char *want) {
    char path[128], full[256];
    write_tmp(path, sizeof path, text);
    struct plot_metrics *m = (void *)1;
    struct err e;
    err_clear(&e);
    int rc = plot_metrics_read(path, keys, 3, &m, &e);
    unlink(path);
    assert_int_equal(rc, ERR_USER);
    assert_null(m);
    snprintf(full, sizeof full, want, path);
    if (!strstr(e.msg, full)) fail_msg("message '%s' lacks '%s'", e.msg, full);
}

static void test_read_errors(void **state) {
    (void)state;
    expect_read_error("", "%s: no metrics (the file is empty)");
    expect_read_error("\n  \n", "%s: no metrics");
    expect_read_error("{\"step\": 1}\n{\"step\": 2, \"kl\": 0.1\n", "%s:2: not a JSON object");
    expect_read_error("{\"step\": 1}\n[1, 2]\n", "%s:2: not a JSON object");
    expect_read_error("{\"step\": 1} {\"step\": 2}\n", "%s:1: not a JSON object");
    expect_read_error("{\"step\": 1}\n\n{\"kl\": 1}\n", "%s:3: no \"step\" key");
    expect_read_error("{\"step\": 1.5}\n", "%s:1: \"step\" must be an integer >= 0, got '1.5'");
    expect_read_error("{\"step\": -1}\n", "%s:1: \"step\" must be an integer >= 0");
    expect_read_error("{\"step\": \"3\"}\n", "%s:1: \"step\" must be an integer >= 0");
    expect_read_error("{\"step\": 1, \"kl\": \"high\"}\n",
                      "%s:1: \"kl\" must be a number or null, got '\"high\"'");
    expect_read_error("{\"step\": 1, \"kl\": NaN}\n", "%s:1: not a JSON object");

    struct plot_metrics *m;
    struct err e;
    assert_int_equal(plot_metrics_read("/nonexistent/metrics.jsonl", keys, 3, &m, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "cannot open '/nonexistent/metrics.jsonl'"));
}

// Number of occurrences of needle in hay.
static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

// Points in the i-th polyline (0-based) of svg.
static int polyline_points(const char *svg, int i) {
    const char *p = svg;
    for (int k = 0; k <= i; k++) {
        p = strstr(p, "<polyline");
        assert_non_null(p);
        p++;
    }
    p = strstr(p, "points=\"") + 8;
    const char *end = strchr(p, '"');
    int n = 0;
    for (const char *q = p; q < end; q++) n += *q == ',';
    return n;
}

static void test_svg_panels_and_gaps(void **state) {
    (void)state;
    char path[128];
    // reward_mean: steps 1-6, one line. kl: 1, 2 | null | 4 (a lone dot) | null,
    // step 6 without kl (skipped, not a gap) | 7, 8.
    write_tmp(path, sizeof path,
              "{\"step\": 1, \"reward_mean\": 0.1, \"kl\": 0.5}\n"
              "{\"step\": 2, \"reward_mean\": 0.2, \"kl\": 0.6}\n"
              "{\"step\": 3, \"reward_mean\": 0.3, \"kl\": null}\n"
              "{\"step\": 4, \"reward_mean\": 0.4, \"kl\": 0.8}\n"
              "{\"step\": 5, \"reward_mean\": 0.5, \"kl\": null}\n"
              "{\"step\": 6, \"reward_mean\": 0.6}\n"
              "{\"step\": 7, \"kl\": 0.9}\n"
              "{\"step\": 8, \"kl\": 1.0}\n");
    struct plot_metrics *m;
    struct err e;
    assert_int_equal(plot_metrics_read(path, keys, 3, &m, &e), 0);
    unlink(path);
    char *svg = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&svg, &n);
    const int panels[] = {0, 1};
    assert_int_equal(plot_svg_write(f, m, panels, 2, "run <a & b>", &e), 0);
    fclose(f);
    assert_int_equal(count(svg, "<g class=\"panel\""), 2);
    assert_non_null(strstr(svg, "id=\"panel-reward_mean\""));
    assert_non_null(strstr(svg, "id=\"panel-kl\""));
    assert_non_null(strstr(svg, "run &lt;a &amp; b&gt;"));
    assert_null(strstr(svg, "<a &"));
    // reward_mean: steps 1-6 in one polyline. kl: 1-2, a dot at 4, 7-8.
    assert_int_equal(count(svg, "<polyline"), 3);
    assert_int_equal(polyline_points(svg, 0), 6);
    assert_int_equal(polyline_points(svg, 1), 2);
    assert_int_equal(polyline_points(svg, 2), 2);
    assert_int_equal(count(svg, "<circle"), 1);
    assert_true(strncmp(svg, "<?xml", 5) == 0);
    assert_non_null(strstr(svg, "</svg>\n"));
    free(svg);

    // No panels is an error, not an empty picture.
    f = open_memstream(&svg, &n);
    assert_int_equal(plot_svg_write(f, m, panels, 0, "t", &e), ERR_USER);
    fclose(f);
    free(svg);
    plot_metrics_destroy(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks_properties),     cmocka_unit_test(test_ticks_worked),
        cmocka_unit_test(test_read_resume_and_gaps), cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_svg_panels_and_gaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
