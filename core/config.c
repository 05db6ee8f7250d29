// Loading experiment configs: YAML (libyaml) -> struct config, through the
// schema table, with one-line FILE:LINE:COL errors for every kind of mistake.
#include "core/config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/check.h"
#include "core/config_internal.h"

#define CONFIG_MAX_BYTES (16u << 20)

static void *field_ptr(struct config *cfg, int idx) {
    return (char *)cfg + config_fields[idx].offset;
}

static const char *type_name(enum cfg_type t) {
    switch (t) {
    case CFG_BOOL:
        return "a boolean (true or false)";
    case CFG_INT:
        return "an integer";
    case CFG_FLOAT:
        return "a number";
    case CFG_STRING:
        return "a string";
    case CFG_ENUM:
        return "one of the names listed";
    case CFG_STR_LIST:
        return "a string or a list of strings";
    }
    return "?";
}

static const char *node_kind(const yaml_node_t *n) {
    return n->type == YAML_MAPPING_NODE    ? "a mapping"
           : n->type == YAML_SEQUENCE_NODE ? "a list"
                                           : "a scalar";
}

// Levenshtein distance, for "did you mean" hints.
static int edit_distance(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    if (na > 64 || nb > 64) return 1000;
    int row[65];
    for (size_t j = 0; j <= nb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

static bool close_enough(const char *typo, const char *name, int d) {
    int n = (int)strlen(name);
    int limit = n <= 3 ? 1 : n <= 6 ? 2 : 3;
    return d <= limit || (strstr(name, typo) && strlen(typo) >= 3) ||
           (strstr(typo, name) && n >= 3);
}

// Writes " (did you mean 'X'?)" into hint, or "".
static void suggest_key(const char *section, const char *key, char *hint, size_t n) {
    hint[0] = '\0';
    int best = -1, best_d = 1 << 30;
    for (int i = 0; i < config_n_fields; i++) {
        if (strcmp(config_fields[i].section, section) != 0) continue;
        int d = edit_distance(key, config_fields[i].key);
        if (d < best_d) best_d = d, best = i;
    }
    if (best >= 0 && close_enough(key, config_fields[best].key, best_d)) {
        snprintf(hint, n, " (did you mean '%s'?)", config_fields[best].key);
        return;
    }
    for (int i = 0; i < config_n_fields; i++)
        if (strcmp(config_fields[i].key, key) == 0) {
            snprintf(hint, n, " (did you mean '%s.%s'? it belongs to section '%s')",
                     config_fields[i].section, key, config_fields[i].section);
            return;
        }
}

static void suggest_section(const char *name, char *hint, size_t n) {
    hint[0] = '\0';
    int best = -1, best_d = 1 << 30;
    for (int i = 0; config_sections[i]; i++) {
        int d = edit_distance(name, config_sections[i]);
        if (d < best_d) best_d = d, best = i;
    }
    if (best >= 0 && close_enough(name, config_sections[best], best_d)) {
        snprintf(hint, n, " (did you mean '%s'?)", config_sections[best]);
        return;
    }
    for (int i = 0; i < config_n_fields; i++)
        if (strcmp(config_fields[i].key, name) == 0) {
            snprintf(hint, n, " (did you mean '%s.%s'? keys go inside their section)",
                     config_fields[i].section, name);
            return;
        }
}

static void free_str_list(struct str_list *l) {
    for (int i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static bool is_null_scalar(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

// Set one scalar field from a YAML scalar. where: "file:line:col: " prefix.
static int set_scalar(struct config *cfg, int idx, const yaml_node_t *n, const char *where,
                      struct err *e) {
    const struct cfg_field *f = &config_fields[idx];
    const char *v = (const char *)n->data.scalar.value;
    bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    void *p = field_ptr(cfg, idx);
    if (strlen(v) != n->data.scalar.length)
        return err_user(e, "%s%s.%s: value contains a NUL byte", where, f->section, f->key);
    if (f->type != CFG_STRING && is_null_scalar(n))
        return err_user(e, "%s%s.%s: expected %s, got an empty value", where, f->section, f->key,
                        type_name(f->type));
    switch (f->type) {
    case CFG_BOOL:
        if (plain && (strcmp(v, "true") == 0 || strcmp(v, "True") == 0)) {
            *(bool *)p = true;
        } else if (plain && (strcmp(v, "false") == 0 || strcmp(v, "False") == 0)) {
            *(bool *)p = false;
        } else {
            return err_user(e, "%s%s.%s: expected a boolean (true or false), got '%s'", where,
                            f->section, f->key, v);
        }
        return 0;
    case CFG_INT: {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (!plain || end == v || *end != '\0')
            return err_user(e, "%s%s.%s: expected an integer, got '%s'", where, f->section, f->key,
                            v);
        if (errno == ERANGE || (double)x < f->min || (double)x > f->max)
            return err_user(e, "%s%s.%s: %s is out of range [%.0f, %.0f]", where, f->section,
                            f->key, v, f->min, f->max);
        *(int64_t *)p = x;
        return 0;
    }
    case CFG_FLOAT: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (!plain || end == v || *end != '\0' || strpbrk(v, "xXnN"))
            return err_user(e, "%s%s.%s: expected a number, got '%s'", where, f->section, f->key,
                            v);
        if (!isfinite(x) || x < f->min || x > f->max)
            return err_user(e, "%s%s.%s: %s is out of range [%g, %g]", where, f->section, f->key, v,
                            f->min, f->max);
        *(double *)p = x;
        return 0;
    }
    case CFG_STRING:
        free(*(char **)p);
        *(char **)p = xstrdup(is_null_scalar(n) ? "" : v);
        return 0;
    case CFG_ENUM: {
        for (int i = 0; f->choices[i]; i++)
            if (strcmp(v, f->choices[i]) == 0) {
                *(int *)p = i;
                return 0;
            }
        char names[256] = "";
        for (int i = 0; f->choices[i]; i++) {
            if (i) strncat(names, ", ", sizeof names - strlen(names) - 1);
            strncat(names, f->choices[i], sizeof names - strlen(names) - 1);
        }
        return err_user(e, "%s%s.%s: '%s' is not one of %s", where, f->section, f->key, v, names);
    }
    case CFG_STR_LIST:
        break;
    }
    return err_internal(e, "%s%s.%s: unhandled type", where, f->section, f->key);
}

static void where_of(char *buf, size_t n, const char *file, const yaml_mark_t *m) {
    snprintf(buf, n, "%s:%zu:%zu: ", file, m->line + 1, m->column + 1);
}

// Set a field from any YAML node (scalar, or a list for CFG_STR_LIST).
static int set_node(struct config *cfg, int idx, yaml_document_t *doc, yaml_node_t *n,
                    const char *file, const char *where_override, struct err *e) {
    const struct cfg_field *f = &config_fields[idx];
    char where[512];
    if (where_override)
        snprintf(where, sizeof where, "%s", where_override);
    else
        where_of(where, sizeof where, file, &n->start_mark);
    if (f->type == CFG_STR_LIST) {
        struct str_list *l = field_ptr(cfg, idx);
        free_str_list(l);
        if (n->type == YAML_SCALAR_NODE) {
            if (is_null_scalar(n)) return 0;
            l->items = xmalloc(sizeof *l->items);
            l->items[l->n++] = xstrdup((const char *)n->data.scalar.value);
            return 0;
        }
        if (n->type != YAML_SEQUENCE_NODE)
            return err_user(e, "%s%s.%s: expected a string or a list of strings, got a mapping",
                            where, f->section, f->key);
        yaml_node_item_t *it = n->data.sequence.items.start, *end = n->data.sequence.items.top;
        l->items = xcalloc((size_t)(end - it) + 1, sizeof *l->items);
        for (; it < end; it++) {
            yaml_node_t *item = yaml_document_get_node(doc, *it);
            if (!item || item->type != YAML_SCALAR_NODE) {
                if (!where_override && item) where_of(where, sizeof where, file, &item->start_mark);
                return err_user(e, "%s%s.%s: list items must be strings, got %s", where, f->section,
                                f->key, item ? node_kind(item) : "nothing");
            }
            l->items[l->n++] = xstrdup((const char *)item->data.scalar.value);
        }
        return 0;
    }
    if (n->type != YAML_SCALAR_NODE)
        return err_user(e, "%s%s.%s: expected %s, got %s", where, f->section, f->key,
                        type_name(f->type), node_kind(n));
    return set_scalar(cfg, idx, n, where, e);
}

// Parse text as a one-document YAML value and set field idx from it.
static int set_from_text(struct config *cfg, int idx, const char *text, const char *where,
                         struct err *e) {
    yaml_parser_t parser;
    yaml_document_t doc;
    CHECK(yaml_parser_initialize(&parser), "yaml_parser_initialize failed");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    int rc;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = err_user(e, "%syaml syntax error: %s", where, parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        // An empty value: the YAML empty scalar.
        yaml_node_t empty = {.type = YAML_SCALAR_NODE};
        empty.data.scalar.value = (yaml_char_t *)"";
        empty.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
        rc = set_node(cfg, idx, &doc, &empty, "", where, e);
    } else {
        rc = set_node(cfg, idx, &doc, root, "", where, e);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

void config_init_defaults(struct config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    CHECK(config_n_fields <= CONFIG_MAX_FIELDS, "schema has %d fields", config_n_fields);
    cfg->path = xstrdup("");
    for (int i = 0; i < config_n_fields; i++) {
        const struct cfg_field *f = &config_fields[i];
        struct err e;
        if (f->type == CFG_STRING) *(char **)field_ptr(cfg, i) = xstrdup("");
        if (f->def) CHECK(set_from_text(cfg, i, f->def, "", &e) == 0, "bad default: %s", e.msg);
    }
}

static int load_mapping(struct config *cfg, yaml_document_t *doc, const char *file,
                        int *section_line, struct err *e) {
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root) return 0; // an empty file: all defaults
    if (root->type != YAML_MAPPING_NODE)
        return err_user(e, "%s:%zu:%zu: expected a mapping of sections at the top level, got %s",
                        file, root->start_mark.line + 1, root->start_mark.column + 1,
                        node_kind(root));
    for (yaml_node_pair_t *sp = root->data.mapping.pairs.start; sp < root->data.mapping.pairs.top;
         sp++) {
        yaml_node_t *k = yaml_document_get_node(doc, sp->key);
        yaml_node_t *v = yaml_document_get_node(doc, sp->value);
        char where[512], hint[160];
        where_of(where, sizeof where, file, &k->start_mark);
        if (k->type != YAML_SCALAR_NODE)
            return err_user(e, "%ssection names must be plain words, got %s", where, node_kind(k));
        const char *name = (const char *)k->data.scalar.value;
        int s = -1;
        for (int i = 0; config_sections[i]; i++)
            if (strcmp(name, config_sections[i]) == 0) s = i;
        if (s < 0) {
            suggest_section(name, hint, sizeof hint);
            return err_user(e, "%sunknown section '%s'%s", where, name, hint);
        }
        if (section_line[s])
            return err_user(e, "%sduplicate section '%s' (first at line %d)", where, name,
                            section_line[s]);
        section_line[s] = (int)k->start_mark.line + 1;
        if (is_null_scalar(v)) continue;
        if (v->type != YAML_MAPPING_NODE) {
            where_of(where, sizeof where, file, &v->start_mark);
            return err_user(e, "%ssection '%s' must be a mapping of keys, got %s", where, name,
                            node_kind(v));
        }
        for (yaml_node_pair_t *kp = v->data.mapping.pairs.start; kp < v->data.mapping.pairs.top;
             kp++) {
            yaml_node_t *kk = yaml_document_get_node(doc, kp->key);
            yaml_node_t *kv = yaml_document_get_node(doc, kp->value);
            where_of(where, sizeof where, file, &kk->start_mark);
            if (kk->type != YAML_SCALAR_NODE)
                return err_user(e, "%skeys must be plain words, got %s", where, node_kind(kk));
            const char *key = (const char *)kk->data.scalar.value;
            int idx = config_field_index(name, key);
            if (idx < 0) {
                suggest_key(name, key, hint, sizeof hint);
                return err_user(e, "%sunknown key '%s' in section '%s'%s", where, key, name, hint);
            }
            if (cfg->origin[idx].line)
                return err_user(e, "%sduplicate key '%s.%s' (first at line %d)", where, name, key,
                                cfg->origin[idx].line);
            TRY(set_node(cfg, idx, doc, kv, file, NULL, e));
            cfg->origin[idx].line = (int)kv->start_mark.line + 1;
            cfg->origin[idx].col = (int)kv->start_mark.column + 1;
        }
    }
    return 0;
}

// Keys without a default must come from the file or a --set.
static int check_required(const struct config *cfg, const char *file, const int *section_line,
                          struct err *e) {
    for (int i = 0; i < config_n_fields; i++) {
        const struct cfg_field *f = &config_fields[i];
        if (f->def || cfg->origin[i].line || cfg->origin[i].set_arg) continue;
        int s = 0;
        while (strcmp(config_sections[s], f->section) != 0) s++;
        int line = section_line[s] ? section_line[s] : 1;
        return err_user(e, "%s:%d:1: missing required key '%s.%s'", file, line, f->section, f->key);
    }
    return 0;
}

static int apply_set(struct config *cfg, const char *assignment, struct err *e);

int config_load_string(struct config *cfg, const char *name, const char *text, size_t n_bytes,
                       const char *const *sets, int n_sets, struct err *e) {
    config_init_defaults(cfg);
    free(cfg->path);
    cfg->path = xstrdup(name);
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    int rc = 0;
    CHECK(yaml_parser_initialize(&parser), "yaml_parser_initialize failed");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, n_bytes);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = err_user(e, "%s:%zu:%zu: yaml syntax error: %s%s%s", name,
                      parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                      parser.problem ? parser.problem : "unknown problem",
                      parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        config_destroy(cfg);
        return rc;
    }
    int section_line[16] = {0};
    rc = load_mapping(cfg, &doc, name, section_line, e);
    if (rc == 0 && yaml_document_get_root_node(&doc)) {
        // A second document in the same file is a mistake, not an override.
        if (!yaml_parser_load(&parser, &extra)) {
            rc = err_user(e, "%s:%zu:%zu: yaml syntax error: %s", name,
                          parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                          parser.problem ? parser.problem : "unknown problem");
        } else {
            yaml_node_t *r = yaml_document_get_root_node(&extra);
            if (r)
                rc = err_user(e, "%s:%zu:%zu: only one YAML document is allowed in a config", name,
                              r->start_mark.line + 1, r->start_mark.column + 1);
            yaml_document_delete(&extra);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    for (int i = 0; rc == 0 && i < n_sets; i++) rc = apply_set(cfg, sets[i], e);
    if (rc == 0) rc = check_required(cfg, name, section_line, e);
    if (rc == 0) rc = config_validate(cfg, e);
    if (rc < 0) config_destroy(cfg);
    return rc;
}

int config_load_file(struct config *cfg, const char *path, const char *const *sets, int n_sets,
                     struct err *e) {
    memset(cfg, 0, sizeof *cfg);
    FILE *f = fopen(path, "rb");
    if (!f) return err_user(e, "%s: cannot open: %s", path, strerror(errno));
    char *buf = xmalloc(CONFIG_MAX_BYTES + 1);
    size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
    int read_error = ferror(f);
    fclose(f);
    int rc;
    if (read_error)
        rc = err_user(e, "%s: read error", path);
    else if (n > CONFIG_MAX_BYTES)
        rc = err_user(e, "%s: larger than %u MiB, not a config", path, CONFIG_MAX_BYTES >> 20);
    else
        rc = config_load_string(cfg, path, buf, n, sets, n_sets, e);
    free(buf);
    return rc;
}

// True when text parses as one YAML scalar (or nothing).
static bool yaml_is_scalar(const char *text) {
    yaml_parser_t parser;
    yaml_document_t doc;
    CHECK(yaml_parser_initialize(&parser), "yaml_parser_initialize failed");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    bool ok = yaml_parser_load(&parser, &doc);
    if (ok) {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        ok = !root || root->type == YAML_SCALAR_NODE;
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    return ok;
}

static int apply_set(struct config *cfg, const char *assignment, struct err *e) {
    char where[512];
    snprintf(where, sizeof where, "--set '%s': ", assignment);
    const char *eq = strchr(assignment, '=');
    const char *dot = strchr(assignment, '.');
    if (!eq || !dot || dot > eq) return err_user(e, "%sexpected section.key=value", where);
    char section[64], key[128], hint[160];
    size_t ns = (size_t)(dot - assignment), nk = (size_t)(eq - dot - 1);
    if (ns >= sizeof section || nk >= sizeof key) return err_user(e, "%skey too long", where);
    memcpy(section, assignment, ns);
    section[ns] = '\0';
    memcpy(key, dot + 1, nk);
    key[nk] = '\0';
    int s = -1;
    for (int i = 0; config_sections[i]; i++)
        if (strcmp(section, config_sections[i]) == 0) s = i;
    if (s < 0) {
        suggest_section(section, hint, sizeof hint);
        return err_user(e, "%sunknown section '%s'%s", where, section, hint);
    }
    int idx = config_field_index(section, key);
    if (idx < 0) {
        suggest_key(section, key, hint, sizeof hint);
        return err_user(e, "%sunknown key '%s' in section '%s'%s", where, key, section, hint);
    }
    if (config_fields[idx].type == CFG_STRING && !yaml_is_scalar(eq + 1)) {
        // "--set tokenizer.system_prompt=Be brief: answer." is meant as text,
        // though YAML would read a mapping.
        char **p = field_ptr(cfg, idx);
        free(*p);
        *p = xstrdup(eq + 1);
    } else {
        TRY(set_from_text(cfg, idx, eq + 1, where, e));
    }
    free(cfg->origin[idx].set_arg);
    cfg->origin[idx].set_arg = xstrdup(assignment);
    return 0;
}

int config_set(struct config *cfg, const char *assignment, struct err *e) {
    TRY(apply_set(cfg, assignment, e));
    return config_validate(cfg, e);
}
