// grpo eval EXP.yaml | --model M --data D.jsonl [--k 8]: accuracy, pass@k, maj@k.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/check.h"
#include "core/config.h"
#include "core/log.h"
#include "model/ckpt.h"
#include "model/cpu/cpu.h"
#include "trainer/eval.h"
#include "trainer/setup.h"

static const char usage[] =
    "usage: grpo eval EXP.yaml [--set section.key=value ...] [options]\n"
    "       grpo eval --model DIR|CKPT.h5 --data D.jsonl [options]\n"
    "\n"
    "Samples k responses per problem of a held-out set and verifies each against the gold\n"
    "answer. Prints one JSON line: accuracy (of all samples), pass@k, maj@k, no-answer rate.\n"
    "With EXP.yaml the model is model.path, the problems data.eval_path, and tokenizer,\n"
    "rollout and reward settings come from the config.\n"
    "\n"
    "  --k K                 samples per problem (default 1)\n"
    "  --n N                 only the first N problems\n"
    "  --out FILE            one JSON line per problem: gold, answers, verdicts\n"
    "  --temperature T       (rollout.temperature, default 1; 0 = greedy)\n"
    "  --top-p P --top-k K   (rollout.top_p, rollout.top_k)\n"
    "  --max-new-tokens N    (rollout.max_new_tokens)\n"
    "  --seed S              (run.seed)\n"
    "  --tokenizer byte|PATH (default: the model directory's tokenizer.json)\n"
    "  --chat-template chatml|raw   --system-prompt cot|tir|none|TEXT\n"
    "  --question-key K --answer-key K --answer-format raw|gsm8k|boxed|first|number\n"
    "  --threads N           CPU threads\n";

// Flags that are config keys: --flag VALUE -> --set key=VALUE.
static const char *const flag_keys[][2] = {
    {"--temperature", "rollout.temperature"},
    {"--top-p", "rollout.top_p"},
    {"--top-k", "rollout.top_k"},
    {"--max-new-tokens", "rollout.max_new_tokens"},
    {"--seed", "run.seed"},
    {"--chat-template", "tokenizer.chat_template"},
    {"--system-prompt", "tokenizer.system_prompt"},
    {"--question-key", "data.question_key"},
    {"--answer-key", "data.answer_key"},
    {"--answer-format", "data.answer_format"},
    {"--threads", "run.threads"},
    {"--model", "model.path"},
    {"--data", "data.eval_path"},
};

struct eval_args {
    const char *config_path, *out_path, *tokenizer;
    int k;
    int64_t n;
    char **sets;
    int n_sets;
};

static int parse(int argc, char **argv, struct eval_args *a, struct err *e) {
    memset(a, 0, sizeof *a);
    a->k = 1;
    a->sets = xcalloc((size_t)argc * 2 + 4, sizeof *a->sets);
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (f[0] != '-') {
            if (a->config_path) return err_user(e, "eval: unexpected argument '%s'", f);
            a->config_path = f;
            continue;
        }
        if (i + 1 >= argc) return err_user(e, "eval: %s needs a value", f);
        const char *v = argv[++i];
        if (!strcmp(f, "--k")) {
            a->k = atoi(v);
            if (a->k < 1 || a->k > 4096)
                return err_user(e, "eval: --k '%s' must be in [1, 4096]", v);
        } else if (!strcmp(f, "--n")) {
            a->n = atoll(v);
            if (a->n < 1) return err_user(e, "eval: --n '%s' must be positive", v);
        } else if (!strcmp(f, "--out")) {
            a->out_path = v;
        } else if (!strcmp(f, "--tokenizer")) {
            a->tokenizer = v;
        } else if (!strcmp(f, "--set")) {
            a->sets[a->n_sets++] = xstrdup(v);
        } else {
            const char *key = NULL;
            for (size_t j = 0; j < sizeof flag_keys / sizeof flag_keys[0]; j++)
                if (!strcmp(f, flag_keys[j][0])) key = flag_keys[j][1];
            if (!key) return err_user(e, "eval: unknown option '%s' (see 'grpo eval --help')", f);
            size_t n = strlen(key) + strlen(v) + 2;
            a->sets[a->n_sets] = xmalloc(n);
            snprintf(a->sets[a->n_sets++], n, "%s=%s", key, v);
        }
    }
    if (a->tokenizer) {
        bool is_byte = !strcmp(a->tokenizer, "byte") || !strcmp(a->tokenizer, "bytes");
        a->sets[a->n_sets++] = xstrdup(is_byte ? "tokenizer.kind=byte" : "tokenizer.kind=bpe");
        if (!is_byte) {
            size_t n = strlen(a->tokenizer) + 32;
            a->sets[a->n_sets] = xmalloc(n);
            snprintf(a->sets[a->n_sets++], n, "tokenizer.path=%s", a->tokenizer);
        }
    }
    return 0;
}

static int load_config(const struct eval_args *a, struct config *cfg, struct err *e) {
    if (a->config_path)
        return config_load_file(cfg, a->config_path, (const char *const *)a->sets, a->n_sets, e);
    static const char base[] = "run: {name: eval}\nrollout: {temperature: 1}\n";
    return config_load_string(cfg, "grpo eval", base, sizeof base - 1, (const char *const *)a->sets,
                              a->n_sets, e);
}

int cmd_eval(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    struct eval_args a;
    struct config cfg = {0};
    struct backend *be = NULL;
    struct model *m = NULL;
    struct tokenizer *tok = NULL;
    struct chat_template *chat = NULL;
    struct dataset *d = NULL;
    struct prompt_set *p = NULL;
    struct rollout_engine *eng = NULL;
    struct reward_verifier *v = NULL;
    FILE *out = NULL;
    bool has_cfg = false;
    int rc;
    TRY_FAIL(rc, parse(argc, argv, &a, e));
    TRY_FAIL(rc, load_config(&a, &cfg, e));
    has_cfg = true;
    if (!cfg.model.path[0]) {
        rc = err_user(e, "eval: no model (give --model or model.path)");
        goto fail;
    }
    if (!cfg.data.eval_path[0]) {
        rc = err_user(e, "eval: no problems (give --data or data.eval_path)");
        goto fail;
    }
    TRY_FAIL(rc, backend_cpu_create((int)cfg.run.threads, &be, e));
    TRY_FAIL(rc, model_load_path(cfg.model.path, be, NULL, &m, e));
    TRY_FAIL(rc, trainer_open_tokenizer(&cfg, &tok, &chat, e));
    TRY_FAIL(rc, trainer_open_dataset(&cfg, cfg.data.eval_path, &d, e));
    TRY_FAIL(rc,
             prompt_set_build(d, cfg.data.eval_path, tok, chat, cfg.data.max_prompt_tokens, &p, e));
    struct rollout_cfg rcfg;
    rollout_cfg_from_config(&rcfg, &cfg.rollout);
    rcfg.plan_prompt_tokens = (int)cfg.data.max_prompt_tokens;
    TRY_FAIL(rc, rollout_engine_create(m, tok, chat, &rcfg, NULL, &eng, e));
    TRY_FAIL(rc, trainer_make_verifier(&cfg, &v, e));
    if (a.out_path && !(out = fopen(a.out_path, "w"))) {
        rc = err_user(e, "%s: cannot write", a.out_path);
        goto fail;
    }
    struct eval_opts o = {
        .k = a.k, .max_problems = a.n, .batch_queries = 64, .seed = (uint64_t)cfg.run.seed};
    struct eval_result res;
    TRY_FAIL(rc, eval_run(eng, tok, d, p, v, &o, out, &res, e));
    eval_result_print_json(&res, a.k, stdout);
    fputc('\n', stdout);
fail:
    if (out) fclose(out);
    reward_verifier_destroy(&v);
    rollout_engine_destroy(&eng);
    prompt_set_destroy(&p);
    dataset_destroy(&d);
    chat_template_destroy(&chat);
    tokenizer_destroy(&tok);
    model_destroy(&m);
    backend_cpu_destroy(&be);
    if (has_cfg) config_destroy(&cfg);
    for (int i = 0; i < a.n_sets; i++) free(a.sets[i]);
    free(a.sets);
    return rc;
}
