// Reading metrics.jsonl for plots: one JSON object per line, validated line by
// line, rows de-duplicated by step (the last line of a step wins).
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/check.h"
#include "report/plot.h"

// A parsed line before sorting: its step, its position in the file, its values.
struct row {
    int64_t step;
    int64_t order;
    int64_t first; // offset of its values in the value/present arrays
};

static int row_cmp(const void *a, const void *b) {
    const struct row *x = a, *y = b;
    if (x->step != y->step) return x->step < y->step ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static bool is_blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return false;
    return true;
}

// Parse one line into step and the kept keys' values.
static int parse_line(const char *path, int64_t line_no, const char *line, const char *const *keys,
                      int n_keys, int64_t *step, double *value, uint8_t *present, struct err *e) {
    const char *end = NULL;
    cJSON *obj = cJSON_ParseWithOpts(line, &end, 0);
    int rc = 0;
    if (!obj || !cJSON_IsObject(obj) || !is_blank(end ? end : "")) {
        size_t len = strlen(line);
        bool cut = len == 0 || line[len - 1] != '\n'; // the file ends inside this line
        rc = err_user(
            e, "%s:%lld: not a JSON object (one per line expected)%s", path, (long long)line_no,
            cut ? "; the last line is incomplete (was the run killed while writing it?)" : "");
        goto fail;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, "step");
    if (!s) {
        rc = err_user(e, "%s:%lld: no \"step\" key", path, (long long)line_no);
        goto fail;
    }
    double sv = cJSON_IsNumber(s) ? s->valuedouble : NAN;
    if (!(sv >= 0 && sv <= 9.0e15) || sv != floor(sv)) {
        char *txt = cJSON_PrintUnformatted(s);
        rc = err_user(e, "%s:%lld: \"step\" must be an integer >= 0, got '%.40s'", path,
                      (long long)line_no, txt ? txt : "?");
        free(txt);
        goto fail;
    }
    *step = (int64_t)sv;
    for (int k = 0; k < n_keys; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, keys[k]);
        present[k] = v != NULL;
        value[k] = NAN;
        if (!v || cJSON_IsNull(v)) continue;
        if (!cJSON_IsNumber(v)) {
            char *txt = cJSON_PrintUnformatted(v);
            rc = err_user(e, "%s:%lld: \"%s\" must be a number or null, got '%.40s'", path,
                          (long long)line_no, keys[k], txt ? txt : "?");
            free(txt);
            goto fail;
        }
        value[k] = isfinite(v->valuedouble) ? v->valuedouble : NAN;
    }
fail:
    cJSON_Delete(obj);
    return rc;
}

// Sort rows by (step, order) and keep the last of each step, compacting the
// values into m.
static void metrics_dedup(struct plot_metrics *m, struct row *rows, int64_t n, const double *value,
                          const uint8_t *present) {
    qsort(rows, (size_t)n, sizeof *rows, row_cmp);
    const int nk = m->n_keys;
    m->step = xmalloc((size_t)(n ? n : 1) * sizeof *m->step);
    m->value = xmalloc((size_t)(n ? n : 1) * (size_t)(nk ? nk : 1) * sizeof *m->value);
    m->present = xmalloc((size_t)(n ? n : 1) * (size_t)(nk ? nk : 1));
    int64_t out = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i + 1 < n && rows[i + 1].step == rows[i].step) continue; // a later line wins
        m->step[out] = rows[i].step;
        memcpy(m->value + out * nk, value + rows[i].first, (size_t)nk * sizeof *value);
        memcpy(m->present + out * nk, present + rows[i].first, (size_t)nk);
        out++;
    }
    m->n_rows = out;
}

int plot_metrics_read(const char *path, const char *const *keys, int n_keys,
                      struct plot_metrics **out, struct err *e) {
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return err_user(e, "cannot open '%s': %s", path, strerror(errno));
    struct plot_metrics *m = xcalloc(1, sizeof *m);
    m->n_keys = n_keys;
    m->keys = xcalloc((size_t)(n_keys ? n_keys : 1), sizeof *m->keys);
    for (int k = 0; k < n_keys; k++) m->keys[k] = xstrdup(keys[k]);

    struct row *rows = NULL;
    double *value = NULL;
    uint8_t *present = NULL;
    int64_t n = 0, cap = 0, line_no = 0;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &line_cap, f)) >= 0) {
        line_no++;
        if ((size_t)len != strlen(line)) {
            rc = err_user(e, "%s:%lld: NUL byte in line", path, (long long)line_no);
            goto fail;
        }
        if (is_blank(line)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            rows = xrealloc(rows, (size_t)cap * sizeof *rows);
            value = xrealloc(value, (size_t)cap * (size_t)(n_keys ? n_keys : 1) * sizeof *value);
            present = xrealloc(present, (size_t)cap * (size_t)(n_keys ? n_keys : 1));
        }
        rows[n] = (struct row){.order = n, .first = n * n_keys};
        TRY_FAIL(rc, parse_line(path, line_no, line, keys, n_keys, &rows[n].step,
                                value + n * n_keys, present + n * n_keys, e));
        n++;
    }
    if (ferror(f)) {
        rc = err_user(e, "cannot read '%s': %s", path, strerror(errno));
        goto fail;
    }
    if (n == 0) {
        rc = err_user(e, "%s: no metrics (the file is empty)", path);
        goto fail;
    }
    m->n_lines = n;
    metrics_dedup(m, rows, n, value, present);
    *out = m;
    m = NULL;
fail:
    free(line);
    free(rows);
    free(value);
    free(present);
    fclose(f);
    plot_metrics_destroy(&m);
    return rc;
}

void plot_metrics_destroy(struct plot_metrics **pm) {
    struct plot_metrics *m = *pm;
    if (!m) return;
    for (int k = 0; k < m->n_keys; k++) free(m->keys[k]);
    free(m->keys);
    free(m->step);
    free(m->value);
    free(m->present);
    free(m);
    *pm = NULL;
}

bool plot_metrics_has(const struct plot_metrics *m, int k) {
    for (int64_t i = 0; i < m->n_rows; i++)
        if (m->present[i * m->n_keys + k]) return true;
    return false;
}
