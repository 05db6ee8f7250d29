// Encoding throughput of the byte-level BPE tokenizer on one core.
//
//   build/bench/bench_tokenizer [TOKENIZER_DIR] [DATA.jsonl]
//
// Defaults: ../shared/data/tokenizers/qwen2.5 and ../shared/data/gsm8k.train.jsonl
// (question and answer of every line). Prints MB/s of UTF-8 input for the
// full encoder and, as references measured in the same run, for the byte
// tokenizer (a copy loop) and for the pre-tokenizer regex alone; then times
// long runs of one character at two lengths: linear scaling gives a time
// ratio near the length ratio (4), quadratic behaviour near its square (16).
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/timer.h"
#include "tokenizer/tokenizer.h"

#define N_REPEATS 3 // best of, against noise from other processes

struct corpus {
    char **texts;
    size_t *lens;
    size_t n, n_bytes;
};

static int load_corpus(const char *path, struct corpus *c) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0, n_cap = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *obj = cJSON_Parse(line);
        const char *keys[] = {"question", "answer"};
        for (int k = 0; k < 2; k++) {
            const cJSON *v = cJSON_GetObjectItem(obj, keys[k]);
            if (!cJSON_IsString(v)) continue;
            if (c->n == n_cap) {
                n_cap = n_cap ? 2 * n_cap : 1024;
                c->texts = realloc(c->texts, n_cap * sizeof *c->texts);
                c->lens = realloc(c->lens, n_cap * sizeof *c->lens);
            }
            c->texts[c->n] = strdup(v->valuestring);
            c->lens[c->n] = strlen(v->valuestring);
            c->n_bytes += c->lens[c->n++];
        }
        cJSON_Delete(obj);
    }
    free(line);
    fclose(f);
    return 0;
}

// Best seconds over N_REPEATS for encoding the whole corpus; *n_tokens set.
static double time_encode(const struct tokenizer *tok, const struct corpus *c, size_t *n_tokens) {
    double best = 1e30;
    struct token_ids ids = {0};
    struct err e;
    for (int r = 0; r < N_REPEATS; r++) {
        size_t total = 0;
        double t0 = time_now_s();
        for (size_t i = 0; i < c->n; i++) {
            ids.n = 0;
            if (tokenizer_encode(tok, c->texts[i], c->lens[i], &ids, &e) < 0) {
                fprintf(stderr, "encode failed: %s\n", e.msg);
                exit(1);
            }
            total += ids.n;
        }
        double dt = time_now_s() - t0;
        if (dt < best) best = dt;
        *n_tokens = total;
    }
    token_ids_free(&ids);
    return best;
}

// The pre-tokenizer regex alone, compiled here from the same pattern.
static double time_regex(const char *pattern, const struct corpus *c) {
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
    if (!re) return -1;
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    double best = 1e30;
    for (int r = 0; r < N_REPEATS; r++) {
        double t0 = time_now_s();
        for (size_t i = 0; i < c->n; i++) {
            size_t pos = 0;
            while (pos < c->lens[i] && pcre2_match(re, (PCRE2_SPTR)c->texts[i], c->lens[i], pos,
                                                   PCRE2_NO_UTF_CHECK, md, NULL) > 0)
                pos = pcre2_get_ovector_pointer(md)[1];
        }
        double dt = time_now_s() - t0;
        if (dt < best) best = dt;
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return best;
}

static double time_run(const struct tokenizer *tok, const char *unit, size_t n_bytes) {
    size_t m = strlen(unit);
    char *s = malloc(n_bytes);
    for (size_t i = 0; i < n_bytes; i++) s[i] = unit[i % m];
    struct corpus c = {&s, &n_bytes, 1, n_bytes};
    size_t n_tokens;
    double dt = time_encode(tok, &c, &n_tokens);
    free(s);
    return dt;
}

int main(int argc, char **argv) {
    const char *tok_path = argc > 1 ? argv[1] : "../shared/data/tokenizers/qwen2.5";
    const char *data_path = argc > 2 ? argv[2] : "../shared/data/gsm8k.train.jsonl";
    struct err e;
    struct tokenizer *bpe = NULL, *bytes = NULL;
    if (tokenizer_load(tok_path, &bpe, &e) < 0 || tokenizer_create_bytes(&bytes, &e) < 0) {
        fprintf(stderr, "error: %s\n", e.msg);
        return 1;
    }
    struct corpus c = {0};
    if (load_corpus(data_path, &c) < 0) {
        fprintf(stderr, "error: cannot read '%s'\n", data_path);
        return 1;
    }
    // The Qwen pattern, as in its tokenizer.json (for the regex-only reference).
    const char *qwen_re = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
                          "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    size_t n_tok_bpe, n_tok_bytes;
    double t_bpe = time_encode(bpe, &c, &n_tok_bpe);
    double t_bytes = time_encode(bytes, &c, &n_tok_bytes);
    double t_re = time_regex(qwen_re, &c);
    double mb = (double)c.n_bytes / 1e6;
    printf("%s: %zu texts, %.2f MB, one core, best of %d\n\n", data_path, c.n, mb, N_REPEATS);
    printf("%-28s %10s %12s %10s\n", "encoder", "MB/s", "tokens", "vs regex");
    printf("%-28s %10.2f %12zu %10.2f\n", "byte-level BPE (qwen2.5)", mb / t_bpe, n_tok_bpe,
           t_re / t_bpe);
    printf("%-28s %10.2f %12s %10.2f\n", "pre-tokenizer regex only", mb / t_re, "-", 1.0);
    printf("%-28s %10.2f %12zu %10.2f\n", "byte tokenizer", mb / t_bytes, n_tok_bytes,
           t_re / t_bytes);
    printf("\nlong runs (time ratio 4 MB / 1 MB: ~4 linear, ~16 quadratic)\n");
    printf("%-12s %10s %10s %8s\n", "run of", "1 MB s", "4 MB s", "ratio");
    const char *units[] = {" ", "7", "a", "\n", "!", " \n"};
    const char *names[] = {"spaces", "digits", "letters", "newlines", "punct", "space+nl"};
    for (int k = 0; k < 6; k++) {
        double t1 = time_run(bpe, units[k], 1u << 20), t4 = time_run(bpe, units[k], 4u << 20);
        printf("%-12s %10.3f %10.3f %8.2f\n", names[k], t1, t4, t4 / t1);
    }
    for (size_t i = 0; i < c.n; i++) free(c.texts[i]);
    free(c.texts);
    free(c.lens);
    tokenizer_destroy(&bpe);
    tokenizer_destroy(&bytes);
    return 0;
}
