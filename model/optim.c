// AdamW, gradient clipping and learning-rate schedules over the flat buffers.
#include "model/optim.h"

#include <math.h>
#include <stdlib.h>

#include "core/check.h"

int adamw_create(const struct model *m, const struct adamw_cfg *cfg, struct adamw **out,
                 struct err *e) {
    *out = NULL;
    if (!(cfg->b1 >= 0 && cfg->b1 < 1 && cfg->b2 >= 0 && cfg->b2 < 1))
        return err_user(e, "adam betas '%g, %g' must be in [0, 1)", cfg->b1, cfg->b2);
    if (!(cfg->eps > 0)) return err_user(e, "adam eps '%g' must be positive", cfg->eps);
    if (!(cfg->weight_decay >= 0))
        return err_user(e, "weight_decay '%g' must be >= 0", cfg->weight_decay);
    struct adamw *o = xcalloc(1, sizeof *o);
    o->cfg = *cfg;
    o->n = m->n_params;
    o->ledger = m->ledger;
    o->be = m->be;
    o->m = backend_alloc(o->be, o->ledger, MEM_MOMENTS, o->n * sizeof(float));
    o->v = backend_alloc(o->be, o->ledger, MEM_MOMENTS, o->n * sizeof(float));
    if (!o->m || !o->v) {
        adamw_destroy(&o);
        return err_user(e, "out of memory for AdamW moments (%zu floats)", m->n_params);
    }
    *out = o;
    return 0;
}

void adamw_destroy(struct adamw **po) {
    if (!po || !*po) return;
    struct adamw *o = *po;
    backend_free(o->be, o->ledger, MEM_MOMENTS, o->n * sizeof(float), (void **)&o->m);
    backend_free(o->be, o->ledger, MEM_MOMENTS, o->n * sizeof(float), (void **)&o->v);
    free(o);
    *po = NULL;
}

double model_grad_norm(const struct model *m) {
    return sqrt(m->be->ops->sumsq(m->be->ctx, m->grads, m->n_params));
}

double adamw_step(struct adamw *o, struct model *m, float lr) {
    double norm = model_grad_norm(m);
    if (!isfinite(norm)) return norm;
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when below 1.
    float scale = 1.0f;
    if (o->cfg.clip_norm > 0) {
        double c = o->cfg.clip_norm / (norm + 1e-6);
        if (c < 1) scale = (float)c;
    }
    o->step++;
    float bc1 = 1.0f - powf(o->cfg.b1, (float)o->step);
    float bc2 = 1.0f - powf(o->cfg.b2, (float)o->step);
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        size_t k = t->offset;
        m->be->ops->adamw(m->be->ctx, m->params + k, o->m + k, o->v + k, m->grads + k, t->n, lr,
                          o->cfg.b1, o->cfg.b2, o->cfg.eps, t->has_decay ? o->cfg.weight_decay : 0,
                          bc1, bc2, scale);
    }
    return norm;
}

float lr_at(const struct lr_schedule *s, int64_t step) {
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        return s->lr * (float)(step + 1) / (float)s->warmup_steps;
    if (s->kind == LR_CONSTANT) return s->lr;
    int64_t span = s->total_steps - s->warmup_steps;
    double f = span > 0 ? (double)(step - s->warmup_steps) / (double)span : 1.0;
    if (f > 1) f = 1;
    if (s->kind == LR_LINEAR) return (float)(s->lr + (s->min_lr - s->lr) * f);
    return (float)(s->min_lr + 0.5 * (s->lr - s->min_lr) * (1 + cos(M_PI * f)));
}
