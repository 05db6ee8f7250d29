// Experiment config -> model shape, workspace, AdamW and learning-rate schedule.
#include "model/from_config.h"

static int positive(const char *key, int64_t v, int64_t max, struct err *e) {
    if (v <= 0 || v > max)
        return err_user(e, "%s '%lld' must be in 1..%lld for a new model (or set model.path)", key,
                        (long long)v, (long long)max);
    return 0;
}

int model_shape_from_config(const struct model_section *c, int tokenizer_vocab,
                            struct model_shape *out, struct err *e) {
    int64_t vocab = c->vocab_size > 0 ? c->vocab_size : tokenizer_vocab;
    int64_t kv = c->num_kv_heads > 0 ? c->num_kv_heads : c->num_heads;
    TRY(positive("model.hidden_size", c->hidden_size, 1 << 20, e));
    TRY(positive("model.intermediate_size", c->intermediate_size, 1 << 22, e));
    TRY(positive("model.num_layers", c->num_layers, 4096, e));
    TRY(positive("model.num_heads", c->num_heads, 4096, e));
    TRY(positive("model.vocab_size", vocab, 1 << 24, e));
    if (c->hidden_size % c->num_heads || (c->hidden_size / c->num_heads) % 2)
        return err_user(e,
                        "model.hidden_size '%lld' must be num_heads (%lld) times an even head "
                        "dimension",
                        (long long)c->hidden_size, (long long)c->num_heads);
    if (c->num_heads % kv)
        return err_user(e, "model.num_heads '%lld' is not a multiple of model.num_kv_heads '%lld'",
                        (long long)c->num_heads, (long long)kv);
    *out = (struct model_shape){.C = (int)c->hidden_size,
                                .L = (int)c->num_layers,
                                .H = (int)c->num_heads,
                                .Hkv = (int)kv,
                                .D = (int)(c->hidden_size / c->num_heads),
                                .F = (int)c->intermediate_size,
                                .V = (int)vocab,
                                .max_pos = (int)c->max_seq_len,
                                .rope_theta = (float)c->rope_theta,
                                .rms_eps = (float)c->rms_norm_eps,
                                .is_tied = c->tie_embeddings,
                                .head = MODEL_HEAD_LM};
    return model_shape_check(out, e);
}

struct model_acts_cfg model_acts_cfg_from_config(const struct model_section *c, int n_tokens_max) {
    return (struct model_acts_cfg){.n_tokens_max = n_tokens_max,
                                   .is_recompute = c->activation_checkpointing};
}

void adamw_cfg_from_config(const struct optim_section *o, struct adamw_cfg *out) {
    *out = (struct adamw_cfg){.b1 = (float)o->beta1,
                              .b2 = (float)o->beta2,
                              .eps = (float)o->eps,
                              .weight_decay = (float)o->weight_decay,
                              .clip_norm = (float)o->grad_clip};
}

void lr_schedule_from_config(const struct optim_section *o, int64_t max_steps,
                             struct lr_schedule *out) {
    static const enum lr_kind kinds[] = {
        [SCHED_CONSTANT] = LR_CONSTANT, [SCHED_LINEAR] = LR_LINEAR, [SCHED_COSINE] = LR_COSINE};
    *out = (struct lr_schedule){.kind = kinds[o->schedule],
                                .lr = (float)o->lr,
                                .min_lr = (float)(o->lr * o->min_lr_ratio),
                                .warmup_steps = o->warmup_steps,
                                .total_steps = max_steps};
}
