// Verifier throughput on one core: verdicts per second over real data
// (../shared/data), against a reference measured in the same run: extraction
// plus strcmp of the answer, the least any verifier must do.
//   workloads: gsm8k     GSM8K test solutions vs their "#### N" (gsm8k mode)
//              math      MATH-style golds (MinervaMath, OlympiadBench, College Math)
//                        boxed, vs themselves (the text shortcut decides most)
//              math-eval the same through the parsers and evaluation (shortcut off)
//              solution  OlympiadBench and AIME 2024 worked solutions vs their gold
//                        answers in the solution mode (the final-statement fallback)
// usage: bench_verify [DATA_DIR] [SECONDS_PER_WORKLOAD]
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timer.h"
#include "reward/equiv_internal.h"
#include "reward/reward.h"

struct pair {
    char *response, *gold;
};

struct workload {
    struct pair *p;
    int n, cap;
};

static void add(struct workload *w, const char *response, const char *gold) {
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 1024;
        w->p = realloc(w->p, (size_t)w->cap * sizeof *w->p);
    }
    w->p[w->n].response = strdup(response);
    w->p[w->n].gold = strdup(gold);
    w->n++;
}

// dir/file for reading, or exit with a message.
static FILE *open_data(const char *dir, const char *file) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_verify: cannot open '%s'\n", path);
        exit(1);
    }
    return f;
}

// Rows of file: key's string (or first list element), as gold; response is the
// boxed gold, or the text itself with #### for GSM8K.
static void load(struct workload *w, const char *dir, const char *file, const char *key,
                 int is_gsm8k) {
    char buf[9000];
    FILE *f = open_data(dir, file);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *row = cJSON_Parse(line);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
        if (cJSON_IsArray(v)) v = cJSON_GetArrayItem(v, 0);
        if (cJSON_IsString(v) && strlen(v->valuestring) < 4000) {
            const char *s = v->valuestring;
            if (is_gsm8k) {
                const char *h = strstr(s, "####");
                if (h) add(w, s, h + 5);
            } else { // a solution (MinervaMath) stands for its last \boxed{}
                struct reward_extract_opts ex;
                reward_extract_opts_default(&ex, REWARD_MODE_BOXED);
                size_t start = 0, len = strlen(s);
                if (strstr(s, "\\boxed") &&
                    reward_extract_answer(s, len, &ex, &start, &len) != REWARD_SOURCE_BOXED)
                    len = 0;
                char gold[4096];
                snprintf(gold, sizeof gold, "%.*s", (int)len, s + start);
                snprintf(buf, sizeof buf, "so the answer is \\boxed{%s}.", gold);
                if (len) add(w, buf, gold);
            }
        }
        cJSON_Delete(row);
    }
    free(line);
    fclose(f);
}

// Worked solutions (a string or every element of a list) of file against the
// gold under gold_key (a string, a number or a list's first string).
static void load_solutions(struct workload *w, const char *dir, const char *file,
                           const char *sol_key, const char *gold_key) {
    char gold[64];
    FILE *f = open_data(dir, file);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *row = cJSON_Parse(line);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(row, gold_key);
        if (cJSON_IsArray(g)) g = cJSON_GetArrayItem(g, 0);
        const char *gs = cJSON_IsString(g) ? g->valuestring : NULL;
        if (cJSON_IsNumber(g)) snprintf(gold, sizeof gold, "%.17g", g->valuedouble), gs = gold;
        const cJSON *sol = cJSON_GetObjectItemCaseSensitive(row, sol_key);
        if (cJSON_IsString(sol) && gs) add(w, sol->valuestring, gs);
        for (int k = 0; cJSON_IsArray(sol) && gs && k < cJSON_GetArraySize(sol); k++)
            if (cJSON_IsString(cJSON_GetArrayItem(sol, k)))
                add(w, cJSON_GetArrayItem(sol, k)->valuestring, gs);
        cJSON_Delete(row);
    }
    free(line);
    fclose(f);
}

enum kind { KIND_STRCMP, KIND_VERIFY, KIND_EVAL };

static double run(struct reward_verifier *v, struct reward_equiv *q,
                  const struct reward_extract_opts *ex, const struct workload *w, enum kind kind,
                  double seconds, double *frac_correct) {
    long n = 0, ok = 0;
    double t0 = time_now_s(), t;
    do {
        for (int k = 0; k < w->n; k++, n++) {
            const struct pair *p = &w->p[k];
            if (kind == KIND_VERIFY) {
                struct reward_verdict vd;
                reward_verify(v, p->response, strlen(p->response), p->gold, strlen(p->gold), ex,
                              &vd);
                ok += vd.is_correct;
            } else if (kind == KIND_EVAL) {
                ok += equiv_check(q, p->gold, strlen(p->gold), p->gold, strlen(p->gold), false,
                                  NULL) == REWARD_EQUIV_EQUAL;
            } else {
                size_t s, len;
                if (reward_extract_answer(p->response, strlen(p->response), ex, &s, &len))
                    ok += strlen(p->gold) == len && memcmp(p->response + s, p->gold, len) == 0;
            }
        }
        t = time_now_s() - t0;
    } while (t < seconds);
    *frac_correct = (double)ok / n;
    return (double)n / t;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "../shared/data";
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    struct workload gsm = {0}, math = {0};
    load(&gsm, dir, "gsm8k.test.jsonl", "answer", 1);
    load(&math, dir, "minerva_math.test.jsonl", "solution", 0);
    load(&math, dir, "olympiadbench.test.jsonl", "final_answer", 0);
    load(&math, dir, "college_math.test.jsonl", "answer", 0);
    load(&math, dir, "gaokao2023en.test.jsonl", "answer", 0);
    struct workload sol = {0};
    load_solutions(&sol, dir, "olympiadbench.test.jsonl", "solution", "final_answer");
    load_solutions(&sol, dir, "aime24.test.jsonl", "solution", "answer");
    struct reward_verifier_opts o;
    reward_verifier_opts_default(&o, REWARD_MODE_BOXED);
    struct reward_verifier *v;
    struct reward_equiv *q;
    struct err e;
    if (reward_verifier_create(&o, &v, &e) < 0 || reward_equiv_create(&o.equiv, &q, &e) < 0) {
        fprintf(stderr, "bench_verify: %s\n", e.msg);
        return 1;
    }
    struct reward_extract_opts ex_gsm, ex_math, ex_sol;
    reward_extract_opts_default(&ex_gsm, REWARD_MODE_GSM8K);
    reward_extract_opts_default(&ex_math, REWARD_MODE_BOXED);
    reward_extract_opts_default(&ex_sol, REWARD_MODE_SOLUTION);
    printf("%-10s %6s %14s %14s %8s %9s\n", "workload", "rows", "verdicts/s", "strcmp ref/s",
           "ratio", "correct");
    struct {
        const char *name;
        const struct workload *w;
        const struct reward_extract_opts *ex;
        enum kind kind;
    } rows[] = {{"gsm8k", &gsm, &ex_gsm, KIND_VERIFY},
                {"math", &math, &ex_math, KIND_VERIFY},
                {"math-eval", &math, &ex_math, KIND_EVAL},
                {"solution", &sol, &ex_sol, KIND_VERIFY}};
    for (int r = 0; r < 4; r++) {
        double frac, frac_ref;
        double ref = run(v, q, rows[r].ex, rows[r].w, KIND_STRCMP, seconds / 4, &frac_ref);
        double rate = run(v, q, rows[r].ex, rows[r].w, rows[r].kind, seconds, &frac);
        printf("%-10s %6d %14.0f %14.0f %8.3f %9.4f\n", rows[r].name, rows[r].w->n, rate, ref,
               rate / ref, frac);
    }
    reward_equiv_destroy(&q);
    reward_verifier_destroy(&v);
    return 0;
}
