// The experiment config's model and optim sections (core/config.h) as model/ structs.
#pragma once

#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "model/model.h"
#include "model/optim.h"

// Shape of a new model (model.path empty) from model.*; model.vocab_size 0 takes
// tokenizer_vocab. Errors name the key ("model.num_heads ...").
int model_shape_from_config(const struct model_section *c, int tokenizer_vocab,
                            struct model_shape *out, struct err *e);
// Training workspace for n_tokens_max tokens (model.activation_checkpointing).
struct model_acts_cfg model_acts_cfg_from_config(const struct model_section *c, int n_tokens_max);
void adamw_cfg_from_config(const struct optim_section *o, struct adamw_cfg *out);
// optim.schedule, lr, warmup_steps, min_lr_ratio; the decay horizon is trainer.max_steps.
void lr_schedule_from_config(const struct optim_section *o, int64_t max_steps,
                             struct lr_schedule *out);
