// AdamW over the flat buffers (torch.optim.AdamW semantics: decoupled weight decay, bias
// correction), global gradient-norm clipping, and learning-rate schedules.
#pragma once

#include <stdint.h>

#include "core/err.h"
#include "model/model.h"

struct adamw_cfg {
    float b1, b2, eps;  // 0.9, 0.95, 1e-8 are typical
    float weight_decay; // applied to tensors with has_decay (matrices)
    float clip_norm;    // global gradient-norm limit; <= 0 disables clipping
};

struct adamw {
    struct adamw_cfg cfg;
    size_t n;     // floats, = model n_params
    float *m, *v; // (n) first and second moments, tagged MEM_MOMENTS, in be's memory
    int64_t step; // steps taken (bias correction uses step after increment)
    struct mem_ledger *ledger;
    const struct backend *be; // the model's (borrowed)
};

int adamw_create(const struct model *m, const struct adamw_cfg *cfg, struct adamw **out,
                 struct err *e);
void adamw_destroy(struct adamw **o);
// sqrt(sum of squared gradients), accumulated in double in a fixed order.
double model_grad_norm(const struct model *m);
// One step at learning rate lr: clips to cfg.clip_norm, updates m, v, params. Returns the
// gradient norm before clipping. A non-finite norm skips the update (params untouched,
// step not counted) and returns it, so the caller can report it.
double adamw_step(struct adamw *o, struct model *m, float lr);

enum lr_kind { LR_CONSTANT, LR_LINEAR, LR_COSINE };
struct lr_schedule {
    enum lr_kind kind;
    float lr;             // peak learning rate
    float min_lr;         // floor of cosine / end of linear decay
    int64_t warmup_steps; // linear warm-up from 0 over these steps (all kinds)
    int64_t total_steps;  // decay horizon (linear, cosine)
};
// Learning rate at step (0-based).
float lr_at(const struct lr_schedule *s, int64_t step);
