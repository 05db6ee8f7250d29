// The parameter table: every tensor's Hugging Face name, shape and offset in the one flat
// buffer (llm.c's fill_in_parameter_sizes). Gradients and AdamW moments use the same offsets.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "model/model.h"

int model_shape_check(const struct model_shape *s, struct err *e) {
    const struct {
        const char *name;
        int v;
    } pos[] = {{"hidden_size", s->C},
               {"num_hidden_layers", s->L},
               {"num_attention_heads", s->H},
               {"num_key_value_heads", s->Hkv},
               {"intermediate_size", s->F},
               {"vocab_size", s->V},
               {"max_position_embeddings", s->max_pos}};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (pos[i].v <= 0) return err_user(e, "%s '%d' must be positive", pos[i].name, pos[i].v);
    if (s->H % s->Hkv)
        return err_user(e, "num_attention_heads '%d' is not a multiple of num_key_value_heads '%d'",
                        s->H, s->Hkv);
    if (s->D <= 0 || s->D % 2 || s->D > 1024 || s->D * s->H != s->C)
        return err_user(e, "head dim '%d' must be even, at most 1024 and hidden_size / heads",
                        s->D);
    if (!(s->rope_theta > 0)) return err_user(e, "rope_theta '%g' must be positive", s->rope_theta);
    if (!(s->rms_eps > 0)) return err_user(e, "rms_norm_eps '%g' must be positive", s->rms_eps);
    // Offsets are size_t, but kernels index rows with int: keep each dimension in int range.
    if ((double)s->V * s->C > 2e9 || (double)s->F * s->C > 1e9)
        return err_user(e, "model too large (vocab %d x hidden %d)", s->V, s->C);
    return 0;
}

// Offsets are rounded to 16 floats (64 bytes), so tensors start on a cache line.
// Tensors fused with the next one (q|k|v, gate|up) are not padded.
static size_t add_tensor_pad(struct model *m, int cap, size_t *off, const char *name, int64_t d0,
                             int64_t d1, bool has_decay, bool is_padded) {
    CHECK(m->n_tensors < cap, "tensor table overflow");
    struct model_tensor *t = &m->tensors[m->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = d1 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->n = (size_t)d0 * (size_t)(d1 ? d1 : 1);
    t->offset = *off;
    t->has_decay = has_decay;
    *off += is_padded ? (t->n + 15) / 16 * 16 : t->n;
    return t->offset;
}

static size_t add_tensor(struct model *m, int cap, size_t *off, const char *name, int64_t d0,
                         int64_t d1, bool has_decay) {
    return add_tensor_pad(m, cap, off, name, d0, d1, has_decay, true);
}

static void build_table(struct model *m) {
    const struct model_shape *s = &m->shape;
    int cap = 4 + 13 * s->L + 4;
    m->tensors = xcalloc((size_t)cap, sizeof *m->tensors);
    m->layer = xcalloc((size_t)s->L, sizeof *m->layer);
    size_t off = 0;
    char n[MODEL_NAME_MAX];
    int qd = s->H * s->D, kd = s->Hkv * s->D;
    m->embed = add_tensor(m, cap, &off, "model.embed_tokens.weight", s->V, s->C, true);
    for (int l = 0; l < s->L; l++) {
        struct model_layer_off *lo = &m->layer[l];
#define NAME(fmt) (snprintf(n, sizeof n, "model.layers.%d." fmt, l), n)
        lo->ln1 = add_tensor(m, cap, &off, NAME("input_layernorm.weight"), s->C, 0, false);
        // q, k, v weights back to back (one (Q, C) matrix), then their biases (one (Q) vector).
        lo->wqkv =
            add_tensor_pad(m, cap, &off, NAME("self_attn.q_proj.weight"), qd, s->C, true, false);
        add_tensor_pad(m, cap, &off, NAME("self_attn.k_proj.weight"), kd, s->C, true, false);
        add_tensor(m, cap, &off, NAME("self_attn.v_proj.weight"), kd, s->C, true);
        lo->bqkv = add_tensor_pad(m, cap, &off, NAME("self_attn.q_proj.bias"), qd, 0, false, false);
        add_tensor_pad(m, cap, &off, NAME("self_attn.k_proj.bias"), kd, 0, false, false);
        add_tensor(m, cap, &off, NAME("self_attn.v_proj.bias"), kd, 0, false);
        lo->wo = add_tensor(m, cap, &off, NAME("self_attn.o_proj.weight"), s->C, qd, true);
        lo->ln2 = add_tensor(m, cap, &off, NAME("post_attention_layernorm.weight"), s->C, 0, false);
        lo->wgu =
            add_tensor_pad(m, cap, &off, NAME("mlp.gate_proj.weight"), s->F, s->C, true, false);
        add_tensor(m, cap, &off, NAME("mlp.up_proj.weight"), s->F, s->C, true);
        lo->wd = add_tensor(m, cap, &off, NAME("mlp.down_proj.weight"), s->C, s->F, true);
#undef NAME
    }
    m->norm = add_tensor(m, cap, &off, "model.norm.weight", s->C, 0, false);
    m->lm_head = m->embed;
    if (s->head == MODEL_HEAD_LM && !s->is_tied)
        m->lm_head = add_tensor(m, cap, &off, "lm_head.weight", s->V, s->C, true);
    if (s->head == MODEL_HEAD_RM) {
        m->score0_w = add_tensor(m, cap, &off, "score.0.weight", s->C, s->C, true);
        m->score0_b = add_tensor(m, cap, &off, "score.0.bias", s->C, 0, false);
        m->score2_w = add_tensor(m, cap, &off, "score.2.weight", 1, s->C, true);
        m->score2_b = add_tensor(m, cap, &off, "score.2.bias", 1, 0, false);
    } else if (s->head == MODEL_HEAD_SCORE) {
        m->score2_w = add_tensor(m, cap, &off, "score.weight", 1, s->C, true);
    }
    m->n_params = off;
}

size_t model_params_bytes(const struct model_shape *s) {
    struct model m = {.shape = *s};
    build_table(&m);
    size_t n = m.n_params;
    free(m.tensors);
    free(m.layer);
    return n * sizeof(float);
}

int model_create(const struct model_shape *shape, const struct backend *be,
                 struct mem_ledger *ledger, struct model **out, struct err *e) {
    *out = NULL;
    TRY(model_shape_check(shape, e));
    struct model *m = xcalloc(1, sizeof *m);
    m->shape = *shape;
    m->be = be;
    m->ledger = ledger;
    build_table(m);
    m->params = backend_alloc(be, ledger, MEM_PARAMS, m->n_params * sizeof(float));
    if (!m->params) {
        size_t n = m->n_params;
        model_destroy(&m);
        return err_user(e, "out of memory for %zu parameters", n);
    }
    *out = m;
    return 0;
}

void model_destroy(struct model **pm) {
    if (!pm || !*pm) return;
    struct model *m = *pm;
    backend_free(m->be, m->ledger, MEM_PARAMS, m->n_params * sizeof(float), (void **)&m->params);
    backend_free(m->be, m->ledger, MEM_GRADS, m->n_params * sizeof(float), (void **)&m->grads);
    free(m->tensors);
    free(m->layer);
    free(m);
    *pm = NULL;
}

int model_alloc_grads(struct model *m, struct err *e) {
    if (m->grads) return 0;
    m->grads = backend_alloc(m->be, m->ledger, MEM_GRADS, m->n_params * sizeof(float));
    if (!m->grads) return err_user(e, "out of memory for %zu gradients", m->n_params);
    return 0;
}

void model_zero_grads(struct model *m) {
    if (m->grads) backend_memset(m->be, m->grads, 0, m->n_params * sizeof(float));
}

const struct model_tensor *model_find_tensor(const struct model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}

void model_init_params(struct model *m, uint64_t seed, float std) {
    float *host = model_host_get(m, m->params, false);
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        float *p = host + t->offset;
        bool is_norm = strstr(t->name, "norm.weight") != NULL;
        struct rng_seq rs;
        rng_seq_init(&rs, seed, rng_stream_id(RNG_INIT, (uint64_t)i, 0, 0), 0);
        for (size_t j = 0; j < t->n; j++)
            p[j] = is_norm ? 1.0f : t->ndim == 2 ? (float)(std * rng_seq_normal(&rs)) : 0.0f;
    }
    model_host_put(m, m->params, &host, true);
}

float *model_host_get(const struct model *m, const float *buf, bool is_read) {
    if (!backend_is_device(m->be)) return (float *)buf;
    float *h = xmalloc(m->n_params * sizeof(float));
    if (is_read) backend_copy_d2h(m->be, h, buf, m->n_params * sizeof(float));
    return h;
}

void model_host_put(const struct model *m, float *buf, float **host, bool is_write) {
    if (!host || !*host || *host == buf) return;
    if (is_write) backend_copy_h2d(m->be, buf, *host, m->n_params * sizeof(float));
    free(*host);
    *host = NULL;
}
