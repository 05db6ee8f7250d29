// The effective config as YAML, cross-field validation, copies and clean-up.
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/config_internal.h"

static void *field_ptr(const struct config *cfg, int idx) {
    return (char *)cfg + config_fields[idx].offset;
}

void config_where(const struct config *cfg, const char *section_key, char *buf, size_t n) {
    buf[0] = '\0';
    const char *dot = strchr(section_key, '.');
    if (!dot) return;
    char section[64];
    size_t ns = (size_t)(dot - section_key);
    if (ns >= sizeof section) return;
    memcpy(section, section_key, ns);
    section[ns] = '\0';
    int idx = config_field_index(section, dot + 1);
    if (idx < 0) return;
    const struct config_origin *o = &cfg->origin[idx];
    if (o->set_arg)
        snprintf(buf, n, "--set '%s': ", o->set_arg);
    else if (o->line)
        snprintf(buf, n, "%s:%d:%d: ", cfg->path, o->line, o->col);
    else
        snprintf(buf, n, "%s: %s (default): ", cfg->path[0] ? cfg->path : "config", section_key);
}

#define FAIL_AT(key, ...)                                                                          \
    do {                                                                                           \
        char where_[600];                                                                          \
        config_where(cfg, key, where_, sizeof where_);                                             \
        char msg_[512];                                                                            \
        snprintf(msg_, sizeof msg_, __VA_ARGS__);                                                  \
        return err_user(e, "%s%s", where_, msg_);                                                  \
    } while (0)

int config_validate(const struct config *cfg, struct err *e) {
    const char *name = cfg->run.name;
    if (name[0] == '\0') FAIL_AT("run.name", "run.name must not be empty");
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        FAIL_AT("run.name", "run.name '%s' must be a plain name, not a path", name);

    const struct model_section *m = &cfg->model;
    const bool new_model = m->path[0] == '\0';
    if (new_model) {
        if (m->hidden_size == 0 || m->intermediate_size == 0 || m->num_layers == 0 ||
            m->num_heads == 0)
            FAIL_AT("model.path",
                    "set model.path, or model.hidden_size, intermediate_size, num_layers and "
                    "num_heads for a new model");
        if (m->hidden_size % m->num_heads != 0)
            FAIL_AT("model.num_heads", "model.hidden_size %lld is not a multiple of num_heads %lld",
                    (long long)m->hidden_size, (long long)m->num_heads);
        if (((m->hidden_size / m->num_heads) & 1) != 0)
            FAIL_AT("model.num_heads",
                    "head dim hidden_size / num_heads = %lld must be even (rotary embeddings "
                    "rotate pairs)",
                    (long long)(m->hidden_size / m->num_heads));
        int64_t kv = m->num_kv_heads ? m->num_kv_heads : m->num_heads;
        if (m->num_heads % kv != 0)
            FAIL_AT("model.num_kv_heads",
                    "model.num_heads %lld is not a multiple of num_kv_heads %lld",
                    (long long)m->num_heads, (long long)kv);
    } else {
        static const char *const sizes[] = {"model.hidden_size", "model.intermediate_size",
                                            "model.num_layers", "model.num_heads",
                                            "model.num_kv_heads"};
        for (int i = 0; i < 5; i++) {
            int idx = config_field_index("model", sizes[i] + 6);
            if (*(int64_t *)field_ptr(cfg, idx) != 0)
                FAIL_AT(sizes[i],
                        "%s is set, but model.path is too: the model's sizes come from '%s'",
                        sizes[i], m->path);
        }
    }
    if (cfg->tokenizer.kind == CFG_TOKENIZER_BPE && cfg->tokenizer.path[0] == '\0' && new_model)
        FAIL_AT("tokenizer.path", "tokenizer.kind is bpe: set tokenizer.path (or model.path)");

    const struct cluster_section *c = &cfg->cluster;
    if (c->placement == PLACE_COLOCATED) {
        if (c->learners || c->rollout_workers || c->reward_workers)
            FAIL_AT(c->learners          ? "cluster.learners"
                    : c->rollout_workers ? "cluster.rollout_workers"
                                         : "cluster.reward_workers",
                    "role counts are only used with cluster.placement: disaggregated");
    } else {
        if (c->learners < 1)
            FAIL_AT("cluster.learners", "disaggregated placement needs cluster.learners >= 1");
        if (c->rollout_workers < 1)
            FAIL_AT("cluster.rollout_workers",
                    "disaggregated placement needs cluster.rollout_workers >= 1");
        if (c->reward_workers < 1)
            FAIL_AT("cluster.reward_workers",
                    "disaggregated placement needs cluster.reward_workers >= 1");
    }

    if (cfg->reward.overlong_buffer_tokens >= cfg->rollout.max_new_tokens)
        FAIL_AT("reward.overlong_buffer_tokens",
                "reward.overlong_buffer_tokens %lld must be below rollout.max_new_tokens %lld",
                (long long)cfg->reward.overlong_buffer_tokens,
                (long long)cfg->rollout.max_new_tokens);

    const struct grpo_section *g = &cfg->grpo;
    if (g->mini_batch_queries > g->queries_per_step ||
        (g->mini_batch_queries && g->queries_per_step % g->mini_batch_queries))
        FAIL_AT("grpo.mini_batch_queries",
                "grpo.mini_batch_queries %lld must divide queries_per_step %lld",
                (long long)g->mini_batch_queries, (long long)g->queries_per_step);
    if (cfg->optim.beta1 >= 1.0 || cfg->optim.beta2 >= 1.0)
        FAIL_AT("optim.beta2", "AdamW betas must be below 1");
    return 0;
}

// YAML double-quoted string with escapes; UTF-8 passes through.
static void write_quoted(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\x%02x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

// Shortest %g form that reads back to the same double.
static void write_double(FILE *f, double x) {
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
    fputs(buf, f);
}

static void write_value(FILE *f, const struct config *cfg, int i) {
    const struct cfg_field *fd = &config_fields[i];
    const void *p = field_ptr(cfg, i);
    switch (fd->type) {
    case CFG_BOOL:
        fputs(*(const bool *)p ? "true" : "false", f);
        break;
    case CFG_INT:
        fprintf(f, "%lld", (long long)*(const int64_t *)p);
        break;
    case CFG_FLOAT:
        write_double(f, *(const double *)p);
        break;
    case CFG_STRING:
        write_quoted(f, *(char *const *)p);
        break;
    case CFG_ENUM:
        fputs(fd->choices[*(const int *)p], f);
        break;
    case CFG_STR_LIST: {
        const struct str_list *l = p;
        fputc('[', f);
        for (int k = 0; k < l->n; k++) {
            if (k) fputs(", ", f);
            write_quoted(f, l->items[k]);
        }
        fputc(']', f);
        break;
    }
    }
}

int config_write_yaml(const struct config *cfg, FILE *f) {
    for (int s = 0; config_sections[s]; s++) {
        fprintf(f, "%s:\n", config_sections[s]);
        for (int i = 0; i < config_n_fields; i++) {
            if (strcmp(config_fields[i].section, config_sections[s]) != 0) continue;
            fprintf(f, "  %s: ", config_fields[i].key);
            write_value(f, cfg, i);
            fputc('\n', f);
        }
    }
    return ferror(f) ? -1 : 0;
}

char *config_to_yaml(const struct config *cfg) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    CHECK(f, "open_memstream failed");
    config_write_yaml(cfg, f);
    CHECK(fclose(f) == 0, "writing config to memory failed");
    return buf;
}

void config_copy(struct config *dst, const struct config *src) {
    memcpy(dst, src, sizeof *dst);
    dst->path = xstrdup(src->path);
    for (int i = 0; i < config_n_fields; i++) {
        dst->origin[i].set_arg = src->origin[i].set_arg ? xstrdup(src->origin[i].set_arg) : NULL;
        if (config_fields[i].type == CFG_STRING) {
            char **d = field_ptr(dst, i);
            *d = xstrdup(*(char *const *)field_ptr(src, i));
        } else if (config_fields[i].type == CFG_STR_LIST) {
            struct str_list *d = field_ptr(dst, i);
            const struct str_list *s = field_ptr(src, i);
            d->items = xcalloc((size_t)s->n + 1, sizeof *d->items);
            for (int k = 0; k < s->n; k++) d->items[k] = xstrdup(s->items[k]);
        }
    }
}

void config_destroy(struct config *cfg) {
    for (int i = 0; i < config_n_fields; i++) {
        free(cfg->origin[i].set_arg);
        if (config_fields[i].type == CFG_STRING) {
            free(*(char **)field_ptr(cfg, i));
        } else if (config_fields[i].type == CFG_STR_LIST) {
            struct str_list *l = field_ptr(cfg, i);
            for (int k = 0; k < l->n; k++) free(l->items[k]);
            free(l->items);
        }
    }
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}
