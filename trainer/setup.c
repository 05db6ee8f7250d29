// Tokenizer, data set, verifier and reward model from the config.
#include "trainer/setup.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "model/ckpt.h"

int trainer_open_tokenizer(const struct config *cfg, struct tokenizer **tok,
                           struct chat_template **chat, struct err *e) {
    const struct tokenizer_section *t = &cfg->tokenizer;
    const char *spec = t->kind == CFG_TOKENIZER_BYTE ? "byte"
                       : t->path[0]                  ? t->path
                                                     : cfg->model.path;
    TRY(tokenizer_open(spec, tok, e));
    const char *system = strcmp(t->system_prompt, "none") == 0 ? NULL : t->system_prompt;
    if (t->chat_template == CFG_CHAT_RAW) system = NULL;
    return chat_template_create(
        *tok, config_enum_name("tokenizer", "chat_template", t->chat_template), system, chat, e);
}

int trainer_open_dataset(const struct config *cfg, const char *path, struct dataset **out,
                         struct err *e) {
    const struct data_section *d = &cfg->data;
    struct dataset_cfg dc = {.path = path, .answer_key = d->answer_key};
    TRY(gold_mode_parse(config_enum_name("data", "answer_format", d->answer_format), &dc.gold_mode,
                        e));
    if (d->question_key.n > DATASET_MAX_QUESTION_KEYS)
        return err_user(e, "data.question_key: at most %d keys", DATASET_MAX_QUESTION_KEYS);
    for (int i = 0; i < d->question_key.n; i++) dc.question_keys[i] = d->question_key.items[i];
    dc.n_question_keys = d->question_key.n;
    return dataset_load(&dc, out, e);
}

void trainer_verifier_opts(const struct config *cfg, struct reward_verifier_opts *vo) {
    int fmt = cfg->data.answer_format;
    enum reward_mode mode =
        fmt == ANSWER_GSM8K || fmt == ANSWER_NUMBER ? REWARD_MODE_GSM8K : REWARD_MODE_BOXED;
    reward_verifier_opts_default(vo, mode);
    if (cfg->reward.last_number_fallback != TRI_AUTO)
        vo->extract.use_last_number = cfg->reward.last_number_fallback == TRI_ON;
    vo->equiv.rel_tol = cfg->reward.rel_tol;
    vo->equiv.seed = (uint64_t)cfg->run.seed;
}

int trainer_make_verifier(const struct config *cfg, struct reward_verifier **out, struct err *e) {
    struct reward_verifier_opts vo;
    trainer_verifier_opts(cfg, &vo);
    return reward_verifier_create(&vo, out, e);
}

int trainer_open_rm(const struct config *cfg, const struct backend *be, struct mem_ledger *ledger,
                    const struct tokenizer *tok, int max_len, struct model **model,
                    struct reward_rm **rm, struct err *e) {
    *model = NULL;
    *rm = NULL;
    const char *path = cfg->reward.rm_path;
    TRY(model_load_path(path, be, ledger, model, e));
    int rc;
    if ((*model)->shape.V < tokenizer_vocab_size(tok)) {
        rc = err_user(e,
                      "%s: the reward model's vocabulary (%d) is smaller than the tokenizer's "
                      "(%d): it must share the policy's tokenizer",
                      path, (*model)->shape.V, tokenizer_vocab_size(tok));
        goto fail;
    }
    rc = reward_rm_create(*model, (int)cfg->reward.rm_batch_size, max_len, rm, e);
    if (rc < 0) {
        err_prefix(e, "%s: ", path);
        goto fail;
    }
    return 0;
fail:
    model_destroy(model);
    return rc;
}

int trainer_score_rollout_rm(struct reward_rm *rm, const struct rollout_result *ro, float *score,
                             struct err *e) {
    int n = ro->n_samples;
    const int32_t **pp = xcalloc((size_t)n + 1, sizeof *pp),
                  **rp = xcalloc((size_t)n + 1, sizeof *rp);
    int *np = xcalloc((size_t)n + 1, sizeof *np), *nr = xcalloc((size_t)n + 1, sizeof *nr);
    for (int i = 0; i < n; i++) {
        int q = i / ro->G;
        pp[i] = ro->prompt_ids + ro->prompt_off[q];
        np[i] = (int)(ro->prompt_off[q + 1] - ro->prompt_off[q]);
        rp[i] = ro->resp_ids + ro->resp_off[i];
        nr[i] = (int)(ro->resp_off[i + 1] - ro->resp_off[i]);
    }
    int rc = reward_rm_score(rm, pp, np, rp, nr, n, score, e);
    free(pp), free(rp), free(np), free(nr);
    return rc;
}
