// grpo eval EXP.yaml | --model M --data D.jsonl [--k 8]: accuracy, pass@k, maj@k,
// rm@k and mean length as a table (or a JSON line), appended to RUN_DIR/eval.jsonl.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/check.h"
#include "core/config.h"
#include "trainer/eval.h"

static const char usage[] =
    "usage: grpo eval EXP.yaml [--set section.key=value ...] [options]\n"
    "       grpo eval --model DIR|CKPT.h5 --data D.jsonl [options]\n"
    "\n"
    "Samples k responses per problem of a held-out set and verifies each against the gold\n"
    "answer; with a reward model (reward.rm_path or --rm) also scores each. Prints a table:\n"
    "accuracy (of all samples), pass@j for j = 1, 2, 4, ..., k (unbiased estimator), maj@k\n"
    "(majority vote over equivalent answers), rm@k (best-of-k by reward model), mean response\n"
    "length, no-answer and truncated rates; and appends the same as one JSON line to\n"
    "RUN_DIR/eval.jsonl (RUN_DIR = run.out_dir/run.name, runs/eval without EXP.yaml).\n"
    "With EXP.yaml the model is model.path, the problems data.eval_path, and tokenizer,\n"
    "rollout and reward settings come from the config. Temperature 0 (greedy) needs k = 1.\n"
    "\n"
    "  --k K                 samples per problem (default 1)\n"
    "  --n N                 only the first N problems\n"
    "  --json                print the JSON line on stdout instead of the table\n"
    "  --run-dir DIR         where eval.jsonl goes (default RUN_DIR)\n"
    "  --rm DIR|CKPT.h5      reward model for rm@k (reward.rm_path)\n"
    "  --out FILE            one JSON line per problem: gold, answers, verdicts, lengths, scores\n"
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
    {"--rm", "reward.rm_path"},
};

struct eval_args {
    const char *config_path, *tokenizer;
    struct eval_command cmd;
    char **sets;
    int n_sets;
};

static int parse(int argc, char **argv, struct eval_args *a, struct err *e) {
    memset(a, 0, sizeof *a);
    a->cmd.k = 1;
    a->sets = xcalloc((size_t)argc * 2 + 4, sizeof *a->sets);
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (f[0] != '-') {
            if (a->config_path) return err_user(e, "eval: unexpected argument '%s'", f);
            a->config_path = f;
            continue;
        }
        if (!strcmp(f, "--json")) {
            a->cmd.is_json = true;
            continue;
        }
        if (i + 1 >= argc) return err_user(e, "eval: %s needs a value", f);
        const char *v = argv[++i];
        char *end;
        if (!strcmp(f, "--k")) {
            long k = strtol(v, &end, 10);
            if (*end || end == v || k < 1 || k > EVAL_MAX_K)
                return err_user(e, "eval: --k '%s' must be an integer in [1, %d]", v, EVAL_MAX_K);
            a->cmd.k = (int)k;
        } else if (!strcmp(f, "--n")) {
            a->cmd.max_problems = strtoll(v, &end, 10);
            if (*end || end == v || a->cmd.max_problems < 1)
                return err_user(e, "eval: --n '%s' must be a positive integer", v);
        } else if (!strcmp(f, "--out")) {
            a->cmd.per_problem = v;
        } else if (!strcmp(f, "--run-dir")) {
            if (!v[0]) return err_user(e, "eval: --run-dir needs a directory");
            a->cmd.run_dir = v;
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
    bool has_cfg = false;
    int rc;
    TRY_FAIL(rc, parse(argc, argv, &a, e));
    TRY_FAIL(rc, load_config(&a, &cfg, e));
    has_cfg = true;
    rc = eval_command_run(&cfg, &a.cmd, e);
fail:
    if (has_cfg) config_destroy(&cfg);
    for (int i = 0; i < a.n_sets; i++) free(a.sets[i]);
    free(a.sets);
    return rc;
}
