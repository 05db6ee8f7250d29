// JSONL driver of the training forward for `grpo logprobs`: one sequence per line.
#include "model/logprobs.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

// Parses one line's ids into *ids (grown as needed); returns the count or an error.
static int parse_ids(const char *line, const char *where, int V, int32_t **ids, int *cap,
                     struct err *e) {
    cJSON *j = cJSON_Parse(line);
    int rc = 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "ids");
    if (!cJSON_IsObject(j) || !cJSON_IsArray(arr)) {
        rc = err_user(e, "%s: expected a JSON object with an \"ids\" array", where);
        goto fail;
    }
    int n = cJSON_GetArraySize(arr), i = 0;
    if (n > *cap) {
        *cap = n;
        *ids = xrealloc(*ids, sizeof(int32_t) * (size_t)n);
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble >= V ||
            x->valuedouble != (double)(int)x->valuedouble) {
            rc = err_user(e, "%s: ids[%d] is not a token id in 0..%d", where, i, V - 1);
            goto fail;
        }
        (*ids)[i++] = (int32_t)x->valuedouble;
    }
    rc = n;
fail:
    cJSON_Delete(j);
    return rc;
}

static void print_array(FILE *out, const float *x, int n) {
    fputc('[', out);
    for (int i = 0; i < n; i++) fprintf(out, i ? ",%.9g" : "%.9g", (double)x[i]);
    fputc(']', out);
}

int model_logprobs_jsonl(struct model *m, float temperature, FILE *in, const char *in_name,
                         FILE *out, struct err *e) {
    int rc = 0, cap_ids = 0, cap_acts = 0;
    int32_t *ids = NULL, *tg = NULL;
    float *lp = NULL, *ent = NULL;
    struct model_acts *a = NULL;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    char where[512];
    for (long ln = 1; (len = getline(&line, &line_cap, in)) >= 0; ln++) {
        snprintf(where, sizeof where, "%s:%ld", in_name, ln);
        if (len == 0 || strspn(line, " \t\r\n") == (size_t)len) continue; // blank line
        int n;
        TRY_FAIL(rc, n = parse_ids(line, where, m->shape.V, &ids, &cap_ids, e));
        if (n > m->shape.max_pos) {
            rc = err_user(e, "%s: %d ids exceed max_position_embeddings %d", where, n,
                          m->shape.max_pos);
            goto fail;
        }
        if (n < 2) {
            fputs("{\"logprobs\":[],\"entropy\":[]}\n", out);
            continue;
        }
        if (n > cap_acts) { // grow the workspace to the longest line so far
            model_acts_destroy(m, &a);
            cap_acts = n;
            struct model_acts_cfg cfg = {.n_tokens_max = n, .temperature = temperature};
            TRY_FAIL(rc, model_acts_create(m, &cfg, &a, e));
            tg = xrealloc(tg, sizeof(int32_t) * (size_t)n);
            lp = xrealloc(lp, sizeof(float) * (size_t)n);
            ent = xrealloc(ent, sizeof(float) * (size_t)n);
        }
        for (int t = 0; t < n; t++) tg[t] = t + 1 < n ? ids[t + 1] : -1;
        int32_t cu[2] = {0, n};
        if ((rc = model_forward(m, a, ids, tg, cu, 1, lp, ent, e)) < 0) {
            err_prefix(e, "%s: ", where);
            goto fail;
        }
        fputs("{\"logprobs\":", out);
        print_array(out, lp, n - 1);
        fputs(",\"entropy\":", out);
        print_array(out, ent, n - 1);
        fputs("}\n", out);
    }
    if (fflush(out) != 0) rc = err_user(e, "cannot write the output");
fail:
    model_acts_destroy(m, &a);
    free(line);
    free(ids);
    free(tg);
    free(lp);
    free(ent);
    return rc;
}
