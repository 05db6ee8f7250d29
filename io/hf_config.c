// config.json reading and writing (cJSON).
#include "io/hf_config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/check.h"

static int get_int(const char *path, const cJSON *j, const char *key, int *out, struct err *e) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!x || cJSON_IsNull(x)) return 0; // keep the default
    if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) ||
        fabs(x->valuedouble) > 2147483647.0)
        return err_user(e, "%s: key '%s' must be an integer", path, key);
    *out = (int)x->valuedouble;
    return 0;
}

static int get_num(const char *path, const cJSON *j, const char *key, double *out, struct err *e) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!x || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsNumber(x)) return err_user(e, "%s: key '%s' must be a number", path, key);
    *out = x->valuedouble;
    return 0;
}

int hf_config_parse(const char *text, const char *path, struct hf_config *c, struct err *e) {
    int rc = 0;
    cJSON *j = NULL;
    // Qwen2Config defaults.
    *c = (struct hf_config){.model_type = "qwen2",
                            .architecture = "Qwen2ForCausalLM",
                            .hidden_size = 4096,
                            .intermediate_size = 22016,
                            .num_hidden_layers = 32,
                            .num_attention_heads = 32,
                            .num_key_value_heads = -1,
                            .vocab_size = 151936,
                            .max_position_embeddings = 32768,
                            .rope_theta = 10000.0,
                            .rms_norm_eps = 1e-6,
                            .tie_word_embeddings = false,
                            .bos_token_id = -1,
                            .eos_token_id = -1,
                            .torch_dtype = "float32"};
    j = cJSON_Parse(text);
    if (!cJSON_IsObject(j)) {
        rc = err_user(e, "%s: not a JSON object", path);
        goto fail;
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "model_type");
    if (cJSON_IsString(mt)) snprintf(c->model_type, sizeof c->model_type, "%s", mt->valuestring);
    if (strcmp(c->model_type, "qwen2") != 0) {
        rc = err_user(e, "%s: unsupported model_type '%s' (expected 'qwen2')", path, c->model_type);
        goto fail;
    }
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(j, "architectures");
    if (cJSON_IsArray(ar) && cJSON_IsString(cJSON_GetArrayItem(ar, 0)))
        snprintf(c->architecture, sizeof c->architecture, "%s",
                 cJSON_GetArrayItem(ar, 0)->valuestring);
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "hidden_act");
    if (cJSON_IsString(act) && strcmp(act->valuestring, "silu") != 0) {
        rc = err_user(e, "%s: unsupported hidden_act '%s' (expected 'silu')", path,
                      act->valuestring);
        goto fail;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "use_sliding_window"))) {
        rc = err_user(e, "%s: use_sliding_window 'true' is not supported", path);
        goto fail;
    }
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "rope_scaling");
    if (rs && !cJSON_IsNull(rs)) {
        rc = err_user(e, "%s: rope_scaling is not supported", path);
        goto fail;
    }
    TRY_FAIL(rc, get_int(path, j, "hidden_size", &c->hidden_size, e));
    TRY_FAIL(rc, get_int(path, j, "intermediate_size", &c->intermediate_size, e));
    TRY_FAIL(rc, get_int(path, j, "num_hidden_layers", &c->num_hidden_layers, e));
    TRY_FAIL(rc, get_int(path, j, "num_attention_heads", &c->num_attention_heads, e));
    TRY_FAIL(rc, get_int(path, j, "num_key_value_heads", &c->num_key_value_heads, e));
    TRY_FAIL(rc, get_int(path, j, "vocab_size", &c->vocab_size, e));
    TRY_FAIL(rc, get_int(path, j, "max_position_embeddings", &c->max_position_embeddings, e));
    TRY_FAIL(rc, get_int(path, j, "bos_token_id", &c->bos_token_id, e));
    TRY_FAIL(rc, get_int(path, j, "eos_token_id", &c->eos_token_id, e));
    TRY_FAIL(rc, get_num(path, j, "rope_theta", &c->rope_theta, e));
    TRY_FAIL(rc, get_num(path, j, "rms_norm_eps", &c->rms_norm_eps, e));
    if (c->num_key_value_heads < 0) c->num_key_value_heads = c->num_attention_heads;
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(j, "tie_word_embeddings");
    if (tie && !cJSON_IsBool(tie)) {
        rc = err_user(e, "%s: key 'tie_word_embeddings' must be true or false", path);
        goto fail;
    }
    if (tie) c->tie_word_embeddings = cJSON_IsTrue(tie);
    const cJSON *td = cJSON_GetObjectItemCaseSensitive(j, "torch_dtype");
    if (cJSON_IsString(td)) snprintf(c->torch_dtype, sizeof c->torch_dtype, "%s", td->valuestring);
fail:
    cJSON_Delete(j);
    return rc;
}

int hf_config_read(const char *path, struct hf_config *c, struct err *e) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return err_user(e, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, r;
    char *text = xmalloc(cap);
    while ((r = fread(text + n, 1, cap - n - 1, fp)) > 0)
        if ((n += r) == cap - 1) text = xrealloc(text, cap *= 2);
    fclose(fp);
    text[n] = 0;
    int rc = hf_config_parse(text, path, c, e);
    free(text);
    return rc;
}

char *hf_config_to_json(const struct hf_config *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON *ar = cJSON_AddArrayToObject(j, "architectures");
    cJSON_AddItemToArray(ar, cJSON_CreateString(c->architecture));
    cJSON_AddStringToObject(j, "model_type", c->model_type);
    cJSON_AddStringToObject(j, "hidden_act", "silu");
    cJSON_AddNumberToObject(j, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(j, "intermediate_size", c->intermediate_size);
    cJSON_AddNumberToObject(j, "num_hidden_layers", c->num_hidden_layers);
    cJSON_AddNumberToObject(j, "num_attention_heads", c->num_attention_heads);
    cJSON_AddNumberToObject(j, "num_key_value_heads", c->num_key_value_heads);
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(j, "max_position_embeddings", c->max_position_embeddings);
    cJSON_AddNumberToObject(j, "rope_theta", c->rope_theta);
    cJSON_AddNumberToObject(j, "rms_norm_eps", c->rms_norm_eps);
    cJSON_AddBoolToObject(j, "tie_word_embeddings", c->tie_word_embeddings);
    cJSON_AddBoolToObject(j, "use_sliding_window", false);
    if (c->bos_token_id >= 0) cJSON_AddNumberToObject(j, "bos_token_id", c->bos_token_id);
    if (c->eos_token_id >= 0) cJSON_AddNumberToObject(j, "eos_token_id", c->eos_token_id);
    cJSON_AddStringToObject(j, "torch_dtype", "float32");
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

int hf_config_write(const char *path, const struct hf_config *c, struct err *e) {
    char *s = hf_config_to_json(c);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    int rc = 0;
    if (!fp) {
        rc = err_user(e, "%s: %s", tmp, strerror(errno));
    } else {
        bool ok = fputs(s, fp) >= 0 && fputc('\n', fp) != EOF;
        ok = (fclose(fp) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) {
            rc = err_user(e, "%s: write failed: %s", path, strerror(errno));
            unlink(tmp);
        }
    }
    free(s);
    return rc;
}
