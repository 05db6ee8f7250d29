// grpo eval: the pieces from the config, the run, the table on stdout and the
// JSON line appended to RUN_DIR/eval.jsonl.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"
#include "model/ckpt.h"
#include "model/device.h"
#include "trainer/eval.h"
#include "trainer/setup.h"

static void json_str(FILE *f, const char *key, const char *s) {
    fprintf(f, ", \"%s\": ", key);
    if (s && s[0])
        tokenizer_write_json_string(f, s, strlen(s));
    else
        fputs("null", f);
}

void eval_result_print_json(const struct eval_result *r, const struct eval_meta *meta, FILE *f) {
    int k = r->k;
    fprintf(f, "{\"problems\": %lld, \"samples\": %lld, \"k\": %d, \"accuracy\": %.6f",
            (long long)r->n_problems, (long long)r->n_samples, k, r->accuracy);
    for (int i = 0; i < r->n_pass; i++)
        fprintf(f, ", \"pass@%d\": %.6f", r->pass_j[i], r->pass_at[i]);
    fprintf(f, ", \"maj@%d\": %.6f", k, r->maj_at_k);
    if (r->has_rm)
        fprintf(f, ", \"rm@%d\": %.6f", k, r->rm_at_k);
    else
        fprintf(f, ", \"rm@%d\": null", k);
    fprintf(f, ", \"mean_len\": %.6f, \"no_answer_rate\": %.6f, \"truncated_rate\": %.6f",
            r->mean_len, r->no_answer_rate, r->truncated_rate);
    fprintf(f, ", \"seconds\": %.2f", r->seconds);
    if (meta) {
        json_str(f, "model", meta->model);
        json_str(f, "data", meta->data);
        json_str(f, "rm", meta->rm);
        fprintf(f,
                ", \"temperature\": %.9g, \"top_p\": %.9g, \"top_k\": %lld, \"max_new_tokens\": "
                "%lld, \"seed\": %llu",
                meta->temperature, meta->top_p, (long long)meta->top_k,
                (long long)meta->max_new_tokens, (unsigned long long)meta->seed);
    }
    fputc('}', f);
}

void eval_result_print_table(const struct eval_result *r, const struct eval_meta *meta, FILE *f) {
    int k = r->k;
    if (meta) {
        fprintf(f, "dataset   %s\nmodel     %s\n", meta->data, meta->model);
        if (meta->rm && meta->rm[0]) fprintf(f, "rm        %s\n", meta->rm);
        fprintf(f, "problems  %lld, k %d (%lld samples)%s\n", (long long)r->n_problems, k,
                (long long)r->n_samples, meta->temperature == 0 ? ", greedy" : "");
        fprintf(f,
                "sampling  temperature %g, top_p %g, top_k %lld, max_new_tokens %lld, seed %llu\n",
                meta->temperature, meta->top_p, (long long)meta->top_k,
                (long long)meta->max_new_tokens, (unsigned long long)meta->seed);
        fputc('\n', f);
    }
    char name[32];
    fprintf(f, "%-16s %10s\n", "metric", "value");
    fprintf(f, "%-16s %10.4f\n", "accuracy", r->accuracy);
    for (int i = 0; i < r->n_pass; i++) {
        snprintf(name, sizeof name, "pass@%d", r->pass_j[i]);
        fprintf(f, "%-16s %10.4f\n", name, r->pass_at[i]);
    }
    snprintf(name, sizeof name, "maj@%d", k);
    fprintf(f, "%-16s %10.4f\n", name, r->maj_at_k);
    if (r->has_rm) {
        snprintf(name, sizeof name, "rm@%d", k);
        fprintf(f, "%-16s %10.4f\n", name, r->rm_at_k);
    }
    fprintf(f, "%-16s %10.2f\n", "mean_len", r->mean_len);
    fprintf(f, "%-16s %10.4f\n", "no_answer_rate", r->no_answer_rate);
    fprintf(f, "%-16s %10.4f\n", "truncated_rate", r->truncated_rate);
    fprintf(f, "%-16s %10.2f\n", "seconds", r->seconds);
}

// Everything an evaluation holds; zero-initialised, released by eval_parts_destroy.
struct eval_parts {
    struct backend *be;
    struct model *policy, *rm_model;
    struct tokenizer *tok;
    struct chat_template *chat;
    struct dataset *data;
    struct prompt_set *prompts;
    struct rollout_engine *engine;
    struct reward_verifier *verifier;
    struct reward_equiv *equiv;
    struct reward_rm *rm;
};

static void eval_parts_destroy(struct eval_parts *p) {
    reward_rm_destroy(&p->rm);
    model_destroy(&p->rm_model);
    reward_equiv_destroy(&p->equiv);
    reward_verifier_destroy(&p->verifier);
    rollout_engine_destroy(&p->engine);
    prompt_set_destroy(&p->prompts);
    dataset_destroy(&p->data);
    chat_template_destroy(&p->chat);
    tokenizer_destroy(&p->tok);
    model_destroy(&p->policy);
    model_backend_destroy(&p->be);
}

static int eval_parts_open(const struct config *cfg, struct eval_parts *p, struct err *e) {
    TRY(model_backend_create((int)cfg->run.device, 0, (int)cfg->run.threads, "run.device", &p->be,
                             e));
    TRY(model_load_path(cfg->model.path, p->be, NULL, &p->policy, e));
    TRY(trainer_open_tokenizer(cfg, &p->tok, &p->chat, e));
    TRY(trainer_open_dataset(cfg, cfg->data.eval_path, &p->data, e));
    TRY(prompt_set_build(p->data, cfg->data.eval_path, p->tok, p->chat, cfg->data.max_prompt_tokens,
                         &p->prompts, e));
    struct rollout_cfg rcfg;
    rollout_cfg_from_config(&rcfg, &cfg->rollout);
    rcfg.plan_prompt_tokens = (int)cfg->data.max_prompt_tokens;
    TRY(rollout_engine_create(p->policy, p->tok, p->chat, &rcfg, NULL, &p->engine, e));
    struct reward_verifier_opts vo;
    trainer_verifier_opts(cfg, &vo);
    TRY(reward_verifier_create(&vo, &p->verifier, e));
    TRY(reward_equiv_create(&vo.equiv, &p->equiv, e));
    if (cfg->reward.rm_path[0])
        TRY(trainer_open_rm(cfg, p->be, NULL, p->tok, p->policy->shape.max_pos, &p->rm_model,
                            &p->rm, e));
    return 0;
}

static int check_command(const struct config *cfg, const struct eval_command *c, struct err *e) {
    if (!cfg->model.path[0]) return err_user(e, "eval: no model (give --model or model.path)");
    if (!cfg->data.eval_path[0])
        return err_user(e, "eval: no problems (give --data or data.eval_path)");
    if (c->k < 1 || c->k > EVAL_MAX_K)
        return err_user(e, "eval: k '%d' must be in [1, %d]", c->k, EVAL_MAX_K);
    if (cfg->rollout.temperature == 0 && c->k > 1)
        return err_user(e,
                        "eval: k '%d' with temperature 0: greedy decoding gives one response per "
                        "problem (use --k 1, or a temperature > 0)",
                        c->k);
    return 0;
}

int eval_command_run(const struct config *cfg, const struct eval_command *c, struct err *e) {
    TRY(check_command(cfg, c, e));
    char run_dir[2048], path[2100];
    int n = c->run_dir
                ? snprintf(run_dir, sizeof run_dir, "%s", c->run_dir)
                : snprintf(run_dir, sizeof run_dir, "%s/%s", cfg->run.out_dir, cfg->run.name);
    if (n >= (int)sizeof run_dir) return err_user(e, "eval: run directory path too long");
    snprintf(path, sizeof path, "%s/eval.jsonl", run_dir);
    struct eval_parts p = {0};
    FILE *per_problem = NULL, *log = NULL;
    int rc;
    // The outputs are opened first, so that a bad path fails before the evaluation.
    TRY_FAIL(rc, fs_make_dirs(run_dir, e));
    if (!(log = fopen(path, "a"))) {
        rc = err_user(e, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (c->per_problem && !(per_problem = fopen(c->per_problem, "w"))) {
        rc = err_user(e, "%s: cannot write: %s", c->per_problem, strerror(errno));
        goto fail;
    }
    TRY_FAIL(rc, eval_parts_open(cfg, &p, e));
    struct eval_opts o = {.k = c->k,
                          .max_problems = c->max_problems,
                          .batch_queries = 64,
                          .seed = (uint64_t)cfg->run.seed};
    struct eval_scorers s = {.verifier = p.verifier, .equiv = p.equiv, .rm = p.rm};
    struct eval_result res;
    TRY_FAIL(rc, eval_run(p.engine, p.tok, p.data, p.prompts, &s, &o, per_problem, &res, e));
    struct eval_meta meta = {.model = cfg->model.path,
                             .data = cfg->data.eval_path,
                             .rm = cfg->reward.rm_path,
                             .temperature = cfg->rollout.temperature,
                             .top_p = cfg->rollout.top_p,
                             .top_k = cfg->rollout.top_k,
                             .max_new_tokens = cfg->rollout.max_new_tokens,
                             .seed = (uint64_t)cfg->run.seed};
    if (c->is_json) {
        eval_result_print_json(&res, &meta, stdout);
        fputc('\n', stdout);
    } else {
        eval_result_print_table(&res, &meta, stdout);
    }
    eval_result_print_json(&res, &meta, log);
    fputc('\n', log);
    FILE *f = log;
    log = NULL;
    if (fclose(f) != 0) {
        rc = err_user(e, "%s: cannot write: %s", path, strerror(errno));
        goto fail;
    }
    LOG_INFO("eval: results appended to %s", path);
    rc = 0;
fail:
    if (log) fclose(log);
    if (per_problem && fclose(per_problem) != 0 && rc == 0)
        rc = err_user(e, "%s: cannot write: %s", c->per_problem, strerror(errno));
    eval_parts_destroy(&p);
    return rc;
}
