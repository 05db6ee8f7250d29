// JSONL driver of the rollout engine for `grpo generate` (formats in jsonl.h).
#include "rollout/jsonl.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "rollout/engine_internal.h"

// One parsed input line.
struct line {
    cJSON *id;            // owned copy of the "id" item, or NULL
    int64_t key;          // the stream key
    struct token_ids ids; // prompt ids
};

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int parse_line(struct rollout_engine *g, const char *text, const char *where, int64_t index,
                      int V, struct line *out, struct err *e) {
    int rc = 0;
    cJSON *j = cJSON_Parse(text);
    if (!cJSON_IsObject(j)) {
        rc = err_user(e, "%s: expected a JSON object", where);
        goto fail;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(j, "prompt");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "ids");
    out->key = index;
    if (id) {
        if (cJSON_IsNumber(id) && id->valuedouble == (double)(int64_t)id->valuedouble)
            out->key = (int64_t)id->valuedouble;
        else if (cJSON_IsString(id))
            out->key = (int64_t)fnv1a(id->valuestring);
        else {
            rc = err_user(e, "%s: \"id\" must be an integer or a string", where);
            goto fail;
        }
        out->id = cJSON_Duplicate(id, 1);
    }
    if (cJSON_IsString(prompt) == cJSON_IsArray(ids)) {
        rc = err_user(e, "%s: expected one of \"prompt\" (a string) or \"ids\" (an array)", where);
        goto fail;
    }
    if (cJSON_IsString(prompt)) {
        if ((rc = rollout_encode_prompt(g, prompt->valuestring, &out->ids, e)) < 0) {
            err_prefix(e, "%s: ", where);
            goto fail;
        }
    } else {
        const cJSON *x;
        int i = 0;
        cJSON_ArrayForEach(x, ids) {
            if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble >= V ||
                x->valuedouble != (double)(int)x->valuedouble) {
                rc = err_user(e, "%s: ids[%d] is not a token id in 0..%d", where, i, V - 1);
                goto fail;
            }
            token_ids_push(&out->ids, (int32_t)x->valuedouble);
            i++;
        }
    }
fail:
    cJSON_Delete(j);
    return rc;
}

static void print_floats(FILE *out, const float *x, int64_t n) {
    fputc('[', out);
    for (int64_t i = 0; i < n; i++) fprintf(out, i ? ",%.9g" : "%.9g", (double)x[i]);
    fputc(']', out);
}

static int write_results(const struct tokenizer *tok, const struct rollout_result *r,
                         struct line *lines, FILE *out, struct err *e) {
    struct text_buf text = {0};
    int rc = 0;
    for (int q = 0; q < r->n_queries; q++) {
        fputs("{\"id\":", out);
        if (lines[q].id) {
            char *p = cJSON_PrintUnformatted(lines[q].id);
            fputs(p, out);
            free(p);
        } else {
            fprintf(out, "%lld", (long long)lines[q].key);
        }
        fputs(",\"samples\":[", out);
        for (int j = 0; j < r->G; j++) {
            int s = q * r->G + j;
            int64_t a = r->resp_off[s], n = r->resp_off[s + 1] - a;
            fputs(j ? ",{\"ids\":[" : "{\"ids\":[", out);
            for (int64_t t = 0; t < n; t++) fprintf(out, t ? ",%d" : "%d", r->resp_ids[a + t]);
            fputc(']', out);
            if (tok) {
                text.n = 0;
                TRY_FAIL(rc, tokenizer_decode(tok, r->resp_ids + a, (size_t)n, 1, &text, e));
                fputs(",\"text\":", out);
                tokenizer_write_json_string(out, text.s, text.n);
            }
            fputs(",\"logprobs\":", out);
            print_floats(out, r->logprob_model + a, n);
            fputs(",\"sample_logprobs\":", out);
            print_floats(out, r->logprob + a, n);
            fprintf(out, ",\"finish\":\"%s\"}", rollout_finish_name(r->finish[s]));
        }
        fputs("]}\n", out);
    }
fail:
    text_buf_free(&text);
    return rc;
}

static void lines_clear(struct line *l, int n) {
    for (int i = 0; i < n; i++) {
        cJSON_Delete(l[i].id);
        token_ids_free(&l[i].ids);
        memset(&l[i], 0, sizeof l[i]);
    }
}

static int flush_batch(struct rollout_engine *g, const struct tokenizer *tok,
                       const struct rollout_jsonl_opts *o, struct line *lines, int n, FILE *out,
                       struct err *e) {
    if (n == 0) return 0;
    struct rollout_query *qs = xcalloc((size_t)n, sizeof *qs);
    for (int i = 0; i < n; i++)
        qs[i] = (struct rollout_query){lines[i].key, lines[i].ids.ids, (int)lines[i].ids.n};
    struct rollout_result r = {0};
    int rc = rollout_generate(g, qs, n, o->G, o->step, o->seed, &r, e);
    if (rc == 0) rc = write_results(tok, &r, lines, out, e);
    rollout_result_free(&r);
    free(qs);
    lines_clear(lines, n);
    return rc;
}

int rollout_generate_jsonl(struct rollout_engine *g, const struct tokenizer *tok,
                           const struct rollout_jsonl_opts *o, FILE *in, const char *in_name,
                           FILE *out, struct err *e) {
    int batch = o->batch_queries > 0 ? o->batch_queries : 64, n = 0, rc = 0;
    struct line *lines = xcalloc((size_t)batch, sizeof *lines);
    char *buf = NULL, where[512];
    size_t cap = 0;
    ssize_t len;
    int64_t index = 0;
    for (long ln = 1; (len = getline(&buf, &cap, in)) >= 0; ln++) {
        if (len == 0 || strspn(buf, " \t\r\n") == (size_t)len) continue;
        snprintf(where, sizeof where, "%s:%ld", in_name, ln);
        TRY_FAIL(rc, parse_line(g, buf, where, index++, g->m->shape.V, &lines[n], e));
        if (++n == batch) {
            TRY_FAIL(rc, flush_batch(g, tok, o, lines, n, out, e));
            n = 0;
        }
    }
    TRY_FAIL(rc, flush_batch(g, tok, o, lines, n, out, e));
    n = 0;
    if (fflush(out) != 0) rc = err_user(e, "cannot write the output");
fail:
    lines_clear(lines, n < batch ? n + 1 : n);
    free(lines);
    free(buf);
    return rc;
}
