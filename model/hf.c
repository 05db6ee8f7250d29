// Hugging Face import/export: config.json <-> model_shape, safetensors <-> the flat buffer,
// by the names of the parameter table.
#include "model/hf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "io/safetensors.h"

static const struct {
    const char *arch;
    enum model_head head;
} archs[] = {{"Qwen2ForCausalLM", MODEL_HEAD_LM},
             {"Qwen2ForRewardModel", MODEL_HEAD_RM},
             {"Qwen2ForSequenceClassification", MODEL_HEAD_SCORE}};

int model_shape_from_hf(const struct hf_config *c, struct model_shape *s, struct err *e) {
    int i = 0, n = (int)(sizeof archs / sizeof archs[0]);
    while (i < n && strcmp(archs[i].arch, c->architecture) != 0) i++;
    if (i == n)
        return err_user(e,
                        "unknown architecture '%s' (expected Qwen2ForCausalLM, "
                        "Qwen2ForRewardModel or Qwen2ForSequenceClassification)",
                        c->architecture);
    *s = (struct model_shape){.C = c->hidden_size,
                              .L = c->num_hidden_layers,
                              .H = c->num_attention_heads,
                              .Hkv = c->num_key_value_heads,
                              .F = c->intermediate_size,
                              .V = c->vocab_size,
                              .max_pos = c->max_position_embeddings,
                              .rope_theta = (float)c->rope_theta,
                              .rms_eps = (float)c->rms_norm_eps,
                              .is_tied = c->tie_word_embeddings,
                              .head = archs[i].head};
    s->D = s->H > 0 ? s->C / s->H : 0;
    return model_shape_check(s, e);
}

// The shortest decimal that reads back as the same float (1e-06, not 9.99999997e-07).
static double float_decimal(float x) {
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)x);
        if ((float)strtod(buf, NULL) == x) break;
    }
    return strtod(buf, NULL);
}

void model_shape_to_hf(const struct model_shape *s, struct hf_config *c) {
    *c = (struct hf_config){.model_type = "qwen2",
                            .hidden_size = s->C,
                            .intermediate_size = s->F,
                            .num_hidden_layers = s->L,
                            .num_attention_heads = s->H,
                            .num_key_value_heads = s->Hkv,
                            .vocab_size = s->V,
                            .max_position_embeddings = s->max_pos,
                            .rope_theta = float_decimal(s->rope_theta),
                            .rms_norm_eps = float_decimal(s->rms_eps),
                            .tie_word_embeddings = s->is_tied,
                            .bos_token_id = -1,
                            .eos_token_id = -1,
                            .torch_dtype = "float32"};
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (archs[i].head == s->head)
            snprintf(c->architecture, sizeof c->architecture, "%s", archs[i].arch);
}

// "[97, 32]"
static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

int model_read_safetensors(struct model *m, const char *dir, struct err *e) {
    struct st_dir *d = NULL;
    TRY(safetensors_dir_open(dir, &d, e));
    int rc = 0;
    float *host = model_host_get(m, m->params, false); // m->params on a host backend
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        const struct st_tensor *st = safetensors_dir_find(d, t->name);
        if (!st) {
            rc = err_user(e, "%s: missing tensor '%s'", dir, t->name);
            goto fail;
        }
        bool ok = st->ndim == t->ndim;
        for (int k = 0; ok && k < t->ndim; k++) ok = st->shape[k] == t->shape[k];
        if (!ok) {
            char got[128], want[128];
            shape_str(got, sizeof got, st->ndim, st->shape);
            shape_str(want, sizeof want, t->ndim, t->shape);
            rc = err_user(e, "%s: tensor '%s' has shape %s, config expects %s", st->path, t->name,
                          got, want);
            goto fail;
        }
        TRY_FAIL(rc, safetensors_read_f32(st, host + t->offset, t->n, e));
    }
fail:
    model_host_put(m, m->params, &host, rc == 0);
    safetensors_dir_close(&d);
    return rc;
}

int model_load_hf(const char *dir, const struct backend *be, struct mem_ledger *ledger,
                  struct model **out, struct err *e) {
    *out = NULL;
    char path[4096];
    struct hf_config c;
    struct model_shape s;
    snprintf(path, sizeof path, "%s/config.json", dir);
    TRY(hf_config_read(path, &c, e));
    if (model_shape_from_hf(&c, &s, e) < 0) return err_prefix(e, "%s: ", path);
    struct model *m = NULL;
    TRY(model_create(&s, be, ledger, &m, e));
    int rc = model_read_safetensors(m, dir, e);
    if (rc < 0) {
        model_destroy(&m);
        return rc;
    }
    *out = m;
    return 0;
}

int model_save_hf(const struct model *m, const char *dir, struct err *e) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return err_user(e, "%s: %s", dir, strerror(errno));
    char path[4096];
    struct hf_config c;
    model_shape_to_hf(&m->shape, &c);
    snprintf(path, sizeof path, "%s/config.json", dir);
    TRY(hf_config_write(path, &c, e));
    struct st_write_tensor *ts = xcalloc((size_t)m->n_tensors, sizeof *ts);
    float *host = model_host_get(m, m->params, true);
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        ts[i] = (struct st_write_tensor){.name = t->name,
                                         .ndim = t->ndim,
                                         .shape = {t->shape[0], t->shape[1]},
                                         .data = host + t->offset};
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = safetensors_write_f32(path, ts, m->n_tensors, e);
    model_host_put(m, m->params, &host, false);
    free(ts);
    return rc;
}
