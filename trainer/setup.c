// Tokenizer, data set and verifier from the config.
#include "trainer/setup.h"

#include <string.h>

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

int trainer_make_verifier(const struct config *cfg, struct reward_verifier **out, struct err *e) {
    int fmt = cfg->data.answer_format;
    enum reward_mode mode =
        fmt == ANSWER_GSM8K || fmt == ANSWER_NUMBER ? REWARD_MODE_GSM8K : REWARD_MODE_BOXED;
    struct reward_verifier_opts vo;
    reward_verifier_opts_default(&vo, mode);
    if (cfg->reward.last_number_fallback != TRI_AUTO)
        vo.extract.use_last_number = cfg->reward.last_number_fallback == TRI_ON;
    vo.equiv.rel_tol = cfg->reward.rel_tol;
    vo.equiv.seed = (uint64_t)cfg->run.seed;
    return reward_verifier_create(&vo, out, e);
}
