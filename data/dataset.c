// JSONL loader: one row per non-blank line, question and gold answer read
// under the configured keys into one flat string buffer.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/log.h"
#include "data/data_internal.h"

struct rows {
    struct text_buf text;
    uint64_t *question_off, *gold_off;
    uint32_t *line;
    size_t n, cap;
    size_t n_empty_gold;
};

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\n", s[i])) return 0;
    return 1;
}

// Parses one line into rows; on error the text buffer is rolled back.
static int read_row(const struct dataset_cfg *cfg, const char *line, size_t n, uint32_t line_no,
                    struct rows *r, struct err *e) {
    cJSON *obj = cJSON_ParseWithLength(line, n);
    int rc = 0;
    size_t n0 = r->text.n;
    if (!cJSON_IsObject(obj)) {
        rc = err_user(e, "not a JSON object");
        goto fail;
    }
    uint64_t q_off = r->text.n;
    const char *join = cfg->question_join ? cfg->question_join : " ";
    for (int k = 0; k < cfg->n_question_keys; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, cfg->question_keys[k]);
        if (!v) {
            rc = err_user(e, "missing key '%s'", cfg->question_keys[k]);
            goto fail;
        }
        if (!cJSON_IsString(v)) {
            rc = err_user(e, "key '%s' is not a string", cfg->question_keys[k]);
            goto fail;
        }
        size_t before = r->text.n;
        if (k > 0 && r->text.n > q_off) text_buf_append(&r->text, join, strlen(join));
        size_t after_join = r->text.n;
        const char *s = v->valuestring;
        size_t len = strlen(s);
        while (len && strchr(" \t\r\n", s[0])) s++, len--;
        while (len && strchr(" \t\r\n", s[len - 1])) len--;
        text_buf_append(&r->text, s, len);
        if (r->text.n == after_join) r->text.n = before; // an empty part adds no separator
    }
    if (r->text.n == q_off) {
        rc = err_user(e, "empty question");
        goto fail;
    }
    text_buf_append(&r->text, "", 1);
    uint64_t g_off = r->text.n;
    const cJSON *gold = cJSON_GetObjectItemCaseSensitive(obj, cfg->answer_key);
    if (!gold) {
        rc = err_user(e, "missing key '%s'", cfg->answer_key);
        goto fail;
    }
    if ((rc = gold_read(cfg->gold_mode, gold, &r->text, e)) < 0) {
        err_prefix(e, "key '%s' (gold mode %s): ", cfg->answer_key, gold_mode_name(cfg->gold_mode));
        goto fail;
    }
    if (r->text.n == g_off) r->n_empty_gold++; // kept: it can never be verified, but counts
    text_buf_append(&r->text, "", 1);
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->question_off = xrealloc(r->question_off, r->cap * sizeof *r->question_off);
        r->gold_off = xrealloc(r->gold_off, r->cap * sizeof *r->gold_off);
        r->line = xrealloc(r->line, r->cap * sizeof *r->line);
    }
    r->question_off[r->n] = q_off;
    r->gold_off[r->n] = g_off;
    r->line[r->n++] = line_no;
fail:
    if (rc < 0) r->text.n = n0;
    cJSON_Delete(obj);
    return rc;
}

int dataset_load(const struct dataset_cfg *cfg, struct dataset **out, struct err *e) {
    if (cfg->n_question_keys < 1 || cfg->n_question_keys > DATASET_MAX_QUESTION_KEYS ||
        !cfg->answer_key)
        return err_user(e, "%s: the question key(s) and the answer key must be set", cfg->path);
    FILE *f = fopen(cfg->path, "r");
    if (!f) return err_user(e, "cannot open dataset '%s'", cfg->path);
    struct rows r = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint32_t line_no = 0;
    size_t n_skipped = 0;
    int rc = 0;
    char first_bad[ERR_MSG_MAX] = "";
    while ((n = getline(&line, &cap, f)) >= 0) {
        line_no++;
        if (is_blank(line, (size_t)n)) continue;
        struct err line_err;
        if (read_row(cfg, line, (size_t)n, line_no, &r, &line_err) == 0) continue;
        err_prefix(&line_err, "%s:%u: ", cfg->path, line_no);
        if (!cfg->skip_bad_lines) {
            *e = line_err;
            rc = line_err.code;
            break;
        }
        if (n_skipped++ == 0) snprintf(first_bad, sizeof first_bad, "%s", line_err.msg);
    }
    if (rc == 0 && ferror(f)) rc = err_user(e, "cannot read dataset '%s'", cfg->path);
    if (rc == 0 && r.n == 0) rc = err_user(e, "%s: no rows", cfg->path);
    fclose(f);
    free(line);
    if (rc < 0) {
        text_buf_free(&r.text);
        free(r.question_off);
        free(r.gold_off);
        free(r.line);
        return rc;
    }
    if (r.n_empty_gold)
        LOG_WARN("%s: %zu rows have an empty gold answer under '%s'", cfg->path, r.n_empty_gold,
                 cfg->answer_key);
    if (n_skipped)
        LOG_WARN("%s: skipped %zu bad lines (first: %s)", cfg->path, n_skipped, first_bad);
    struct dataset *d = xcalloc(1, sizeof *d);
    *d = (struct dataset){.n_rows = r.n,
                          .n_skipped = n_skipped,
                          .n_empty_gold = r.n_empty_gold,
                          .text = r.text.s,
                          .question_off = r.question_off,
                          .gold_off = r.gold_off,
                          .line = r.line};
    *out = d;
    return 0;
}

void dataset_destroy(struct dataset **d) {
    if (!*d) return;
    free((*d)->text);
    free((*d)->question_off);
    free((*d)->gold_off);
    free((*d)->line);
    free(*d);
    *d = NULL;
}
