// Evaluation during training (trainer.eval_every): world rank 0 samples one
// response per held-out problem with its own rollout engine over the current
// policy and reports the accuracy in that step's metrics line.
#include <math.h>
#include <stdlib.h>

#include "core/check.h"
#include "core/log.h"
#include "trainer/eval.h"
#include "trainer/run.h"
#include "trainer/setup.h"

struct run_eval {
    struct dataset *data;
    struct prompt_set *prompts;
    struct rollout_engine *engine;
    struct reward_verifier *verifier;
};

static int eval_create(struct run *r, struct run_eval **out, struct err *e) {
    const struct config *cfg = &r->cfg;
    struct run_eval *v = xcalloc(1, sizeof *v);
    int rc;
    TRY_FAIL(rc, trainer_open_dataset(cfg, cfg->data.eval_path, &v->data, e));
    TRY_FAIL(rc, prompt_set_build(v->data, cfg->data.eval_path, r->tok, r->chat,
                                  cfg->data.max_prompt_tokens, &v->prompts, e));
    struct rollout_cfg rcfg;
    rollout_cfg_from_config(&rcfg, &cfg->rollout);
    rcfg.plan_prompt_tokens = (int)cfg->data.max_prompt_tokens;
    TRY_FAIL(rc,
             rollout_engine_create(r->policy, r->tok, r->chat, &rcfg, &r->ledger, &v->engine, e));
    TRY_FAIL(rc, trainer_make_verifier(cfg, &v->verifier, e));
    *out = v;
    return 0;
fail:
    run_eval_destroy(&v);
    return rc;
}

void run_eval_destroy(struct run_eval **vp) {
    struct run_eval *v = *vp;
    if (!v) return;
    reward_verifier_destroy(&v->verifier);
    rollout_engine_destroy(&v->engine);
    prompt_set_destroy(&v->prompts);
    dataset_destroy(&v->data);
    free(v);
    *vp = NULL;
}

int run_eval_if_due(struct run *r, double *accuracy, struct err *e) {
    *accuracy = NAN;
    int64_t every = r->cfg.trainer.eval_every;
    if (every <= 0 || r->cfg.data.eval_path[0] == '\0' || r->step % every != 0 ||
        r->world->rank != 0)
        return 0;
    if (!r->eval) TRY(eval_create(r, &r->eval, e));
    struct eval_opts o = {.k = 1,
                          .max_problems = r->cfg.trainer.eval_problems,
                          .batch_queries = 64,
                          .seed = (uint64_t)r->cfg.run.seed};
    struct eval_scorers s = {.verifier = r->eval->verifier};
    struct eval_result res;
    TRY(eval_run(r->eval->engine, r->tok, r->eval->data, r->eval->prompts, &s, &o, NULL, &res, e));
    *accuracy = res.accuracy;
    LOG_INFO("eval at step %lld: accuracy %.4f on %lld problems (%.1fs)", (long long)r->step,
             res.accuracy, (long long)res.n_problems, res.seconds);
    return 0;
}
