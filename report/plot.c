// grpo plot's driver: find the metrics file of a run, choose the panels, write
// the SVG under a temporary name and rename it (a reader never sees half a file).
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "report/plot.h"

enum { MAX_KEYS = 32 };

static const char *const grpo_keys[] = {"reward_mean", "accuracy", "kl", "entropy",
                                        "resp_len_mean"};
enum { N_GRPO_KEYS = sizeof grpo_keys / sizeof *grpo_keys };
static const char *const sft_key = "loss";

// Split "a, b,c" into keys (pointers into buf, which is modified).
static int split_keys(char *buf, const char *orig, const char **keys, int *n, struct err *e) {
    *n = 0;
    for (char *tok = buf;;) {
        char *comma = strchr(tok, ',');
        if (comma) *comma = '\0';
        while (*tok == ' ') tok++;
        char *end = tok + strlen(tok);
        while (end > tok && end[-1] == ' ') *--end = '\0';
        if (*tok == '\0') return err_user(e, "--metrics '%s': empty key", orig);
        if (*n == MAX_KEYS) return err_user(e, "--metrics '%s': more than %d keys", orig, MAX_KEYS);
        for (int k = 0; k < *n; k++)
            if (strcmp(keys[k], tok) == 0)
                return err_user(e, "--metrics '%s': '%s' twice", orig, tok);
        keys[(*n)++] = tok;
        if (!comma) return 0;
        tok = comma + 1;
    }
}

// The metrics file and the default SVG path for input (a run directory or a file).
static int resolve_paths(const struct plot_opts *o, char *in, char *out, size_t n, struct err *e) {
    struct stat st;
    if (stat(o->input, &st) != 0)
        return err_user(e, "cannot open '%s': %s (a run directory or a metrics .jsonl file)",
                        o->input, strerror(errno));
    int a, b;
    if (S_ISDIR(st.st_mode)) {
        a = snprintf(in, n, "%s/metrics.jsonl", o->input);
        b = snprintf(out, n, "%s/metrics.svg", o->input);
    } else {
        size_t len = strlen(o->input);
        bool jsonl = len > 6 && strcmp(o->input + len - 6, ".jsonl") == 0;
        a = snprintf(in, n, "%s", o->input);
        b = snprintf(out, n, "%.*s.svg", (int)(jsonl ? len - 6 : len), o->input);
    }
    if (o->out_path) b = snprintf(out, n, "%s", o->out_path);
    if (a < 0 || b < 0 || (size_t)a >= n || (size_t)b >= n)
        return err_user(e, "path too long: '%s'", o->input);
    return 0;
}

// Panels: the requested keys (each must occur), or the default choice.
static int choose_panels(const struct plot_metrics *m, bool requested, const char *path,
                         int *panels, int *n_panels, struct err *e) {
    *n_panels = 0;
    for (int k = 0; k < m->n_keys; k++) {
        bool has = plot_metrics_has(m, k);
        if (requested && !has) return err_user(e, "%s: no line has the key '%s'", path, m->keys[k]);
        if (has && (requested || k < N_GRPO_KEYS)) panels[(*n_panels)++] = k;
    }
    if (*n_panels == 0 && !requested && plot_metrics_has(m, N_GRPO_KEYS))
        panels[(*n_panels)++] = N_GRPO_KEYS; // an SFT run: its loss
    if (*n_panels == 0)
        return err_user(e,
                        "%s: none of reward_mean, accuracy, kl, entropy, resp_len_mean, loss "
                        "occurs (choose keys with --metrics)",
                        path);
    return 0;
}

static int write_svg_file(const char *out, const struct plot_metrics *m, const int *panels,
                          int n_panels, const char *title, struct err *e) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return err_user(e, "cannot write '%s': %s", tmp, strerror(errno));
    int rc = plot_svg_write(f, m, panels, n_panels, title, e);
    bool write_failed = ferror(f) != 0;
    if (fclose(f) != 0) write_failed = true;
    if (rc == 0 && write_failed) rc = err_user(e, "cannot write '%s': %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, out) != 0)
        rc = err_user(e, "cannot rename '%s' to '%s': %s", tmp, out, strerror(errno));
    if (rc != 0) unlink(tmp);
    return rc;
}

int plot_run(const struct plot_opts *o, char *out_written, size_t n_out, struct err *e) {
    char in[4096], out[4096];
    TRY(resolve_paths(o, in, out, sizeof in, e));

    const char *keys[MAX_KEYS];
    int n_keys = 0;
    char *buf = NULL;
    struct plot_metrics *m = NULL;
    int rc = 0;
    if (o->metrics) {
        buf = xstrdup(o->metrics);
        TRY_FAIL(rc, split_keys(buf, o->metrics, keys, &n_keys, e));
    } else {
        for (int k = 0; k < N_GRPO_KEYS; k++) keys[n_keys++] = grpo_keys[k];
        keys[n_keys++] = sft_key;
    }
    TRY_FAIL(rc, plot_metrics_read(in, keys, n_keys, &m, e));
    int panels[MAX_KEYS], n_panels;
    TRY_FAIL(rc, choose_panels(m, o->metrics != NULL, in, panels, &n_panels, e));

    char title[4400];
    snprintf(title, sizeof title, "%s: steps %lld to %lld (%lld steps, %lld lines)", o->input,
             (long long)m->step[0], (long long)m->step[m->n_rows - 1], (long long)m->n_rows,
             (long long)m->n_lines);
    TRY_FAIL(rc, write_svg_file(out, m, panels, n_panels, title, e));
    if (out_written && n_out) snprintf(out_written, n_out, "%s", out);
fail:
    free(buf);
    plot_metrics_destroy(&m);
    return rc;
}
