// The experiment config: each error kind with its line and column, --set
// overrides, round trip of --print-config, and the reference config.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/config_internal.h"

// A minimal valid config; tests append or replace lines.
#define BASE                                                                                       \
    "run:\n"                                                                                       \
    "  name: t\n"                                                                                  \
    "model:\n"                                                                                     \
    "  hidden_size: 32\n"                                                                          \
    "  intermediate_size: 64\n"                                                                    \
    "  num_layers: 1\n"                                                                            \
    "  num_heads: 2\n"                                                                             \
    "tokenizer:\n"                                                                                 \
    "  kind: byte\n"

static int load(const char *text, struct config *cfg, struct err *e) {
    err_clear(e);
    return config_load_string(cfg, "exp.yaml", text, strlen(text), NULL, 0, e);
}

// Loading text must fail with exactly this message.
static void expect_error(const char *text, const char *want) {
    struct config cfg;
    struct err e;
    int rc = load(text, &cfg, &e);
    if (rc != ERR_USER || strcmp(e.msg, want) != 0) {
        print_error("want: %s\n got: %s (rc %d)\n", want, e.msg, rc);
        fail();
    }
}

static void test_defaults(void **state) {
    (void)state;
    struct config cfg;
    struct err e;
    assert_int_equal(load(BASE, &cfg, &e), 0);
    assert_string_equal(cfg.run.name, "t");
    assert_int_equal(cfg.rollout.group_size, 32);
    assert_int_equal(cfg.grpo.queries_per_step, 16);
    assert_true(cfg.optim.lr == 1e-5);
    assert_true(cfg.grpo.kl_coef == 1e-3);
    assert_int_equal(cfg.grpo.kl_estimator, KL_K3);
    assert_true(cfg.grpo.clip_low == 0.2 && cfg.grpo.clip_high == 0.2);
    assert_true(cfg.reward.rm_alpha == 0.5);
    assert_int_equal(cfg.data.question_key.n, 1);
    assert_string_equal(cfg.data.question_key.items[0], "question");
    assert_int_equal(cfg.cluster.placement, PLACE_COLOCATED);
    assert_int_equal(cfg.origin[config_field_index("model", "num_layers")].line, 6);
    config_destroy(&cfg);
}

static void test_unknown_keys(void **state) {
    (void)state;
    expect_error(BASE "optim:\n  lerning_rate: 1\n",
                 "exp.yaml:11:3: unknown key 'lerning_rate' in section 'optim'");
    expect_error(BASE "optim:\n  lrr: 1\n",
                 "exp.yaml:11:3: unknown key 'lrr' in section 'optim' (did you mean 'lr'?)");
    expect_error(BASE "grpo:\n  group_size: 8\n",
                 "exp.yaml:11:3: unknown key 'group_size' in section 'grpo' (did you mean "
                 "'rollout.group_size'? it belongs to section 'rollout')");
    expect_error(BASE "optimm:\n  lr: 1\n",
                 "exp.yaml:10:1: unknown section 'optimm' (did you mean 'optim'?)");
    expect_error(BASE "kl_coef: 0.1\n", "exp.yaml:10:1: unknown section 'kl_coef' (did you mean "
                                        "'grpo.kl_coef'? keys go inside their section)");
}

static void test_wrong_types(void **state) {
    (void)state;
    expect_error(BASE "rollout:\n  group_size: many\n",
                 "exp.yaml:11:15: rollout.group_size: expected an integer, got 'many'");
    expect_error(BASE "rollout:\n  group_size: \"8\"\n",
                 "exp.yaml:11:15: rollout.group_size: expected an integer, got '8'");
    expect_error(BASE "rollout:\n  group_size: 8.5\n",
                 "exp.yaml:11:15: rollout.group_size: expected an integer, got '8.5'");
    expect_error(BASE "optim:\n  lr: fast\n",
                 "exp.yaml:11:7: optim.lr: expected a number, got 'fast'");
    expect_error(BASE "optim:\n  lr: nan\n",
                 "exp.yaml:11:7: optim.lr: expected a number, got 'nan'");
    expect_error(BASE "data:\n  shuffle: yes\n",
                 "exp.yaml:11:12: data.shuffle: expected a boolean (true or false), got 'yes'");
    expect_error(BASE "grpo:\n  kl_estimator: k4\n",
                 "exp.yaml:11:17: grpo.kl_estimator: 'k4' is not one of k1, k2, k3");
    expect_error(BASE "optim:\n  lr: [1, 2]\n",
                 "exp.yaml:11:7: optim.lr: expected a number, got a list");
    expect_error(BASE "optim:\n  lr:\n",
                 "exp.yaml:11:6: optim.lr: expected a number, got an empty value");
    expect_error(BASE "data:\n  question_key: [a, [b]]\n",
                 "exp.yaml:11:21: data.question_key: list items must be strings, got a list");
    expect_error(BASE "optim: 3\n",
                 "exp.yaml:10:8: section 'optim' must be a mapping of keys, got a scalar");
    expect_error("- a\n- b\n",
                 "exp.yaml:1:1: expected a mapping of sections at the top level, got a list");
}

static void test_out_of_range(void **state) {
    (void)state;
    expect_error(BASE "rollout:\n  group_size: 0\n",
                 "exp.yaml:11:15: rollout.group_size: 0 is out of range [1, 65536]");
    expect_error(BASE "rollout:\n  top_p: 1.5\n",
                 "exp.yaml:11:10: rollout.top_p: 1.5 is out of range [0, 1]");
    expect_error(BASE "optim:\n  lr: -1e-5\n",
                 "exp.yaml:11:7: optim.lr: -1e-5 is out of range [0, 10]");
    expect_error(BASE "trainer:\n  max_steps: 99999999999999999999\n",
                 "exp.yaml:11:14: trainer.max_steps: 99999999999999999999 is out of range [1, "
                 "9000000000000000]");
    expect_error(BASE "run:\n  seed: 3\n",
                 "exp.yaml:10:1: duplicate section 'run' (first at line 1)");
}

static void test_missing_and_duplicate(void **state) {
    (void)state;
    expect_error("model:\n  path: m\n", "exp.yaml:1:1: missing required key 'run.name'");
    expect_error("tokenizer:\n  kind: byte\nrun:\n  seed: 3\nmodel:\n  path: m\n",
                 "exp.yaml:3:1: missing required key 'run.name'");
    expect_error(BASE "optim:\n  lr: 1e-4\n  beta1: 0.8\n  lr: 2e-4\n",
                 "exp.yaml:13:3: duplicate key 'optim.lr' (first at line 11)");
}

static void test_yaml_syntax(void **state) {
    (void)state;
    struct config cfg;
    struct err e;
    assert_int_equal(load(BASE "optim:\n  lr: [1, 2\n", &cfg, &e), ERR_USER);
    assert_true(strncmp(e.msg, "exp.yaml:12:1: yaml syntax error: ", 34) == 0);
    assert_int_equal(load(BASE "optim:\n\tlr: 1\n", &cfg, &e), ERR_USER);
    assert_true(strncmp(e.msg, "exp.yaml:11:1: yaml syntax error: ", 34) == 0);
    assert_int_equal(load(BASE "---\nrun:\n  name: u\n", &cfg, &e), ERR_USER);
    assert_string_equal(e.msg, "exp.yaml:11:1: only one YAML document is allowed in a config");
}

static void test_cross_field(void **state) {
    (void)state;
    expect_error("run:\n  name: t\ntokenizer:\n  kind: byte\n",
                 "exp.yaml: model.path (default): set model.path, or model.hidden_size, "
                 "intermediate_size, num_layers and num_heads for a new model");
    expect_error(BASE "cluster:\n  placement: disaggregated\n  learners: 1\n  rollout_workers: 1\n",
                 "exp.yaml: cluster.reward_workers (default): disaggregated placement needs "
                 "cluster.reward_workers >= 1");
    expect_error(BASE "cluster:\n  learners: 2\n",
                 "exp.yaml:11:13: role counts are only used with cluster.placement: disaggregated");
    expect_error(BASE "grpo:\n  mini_batch_queries: 5\n",
                 "exp.yaml:11:23: grpo.mini_batch_queries 5 must divide queries_per_step 16");
}

static void test_overrides(void **state) {
    (void)state;
    struct config cfg;
    struct err e;
    const char *sets[] = {"grpo.kl_coef=0.05", "data.question_key=[Body, Question]",
                          "run.name=override", "tokenizer.system_prompt=Be brief: answer."};
    assert_int_equal(config_load_string(&cfg, "exp.yaml", BASE, strlen(BASE), sets, 4, &e), 0);
    assert_true(cfg.grpo.kl_coef == 0.05);
    assert_int_equal(cfg.data.question_key.n, 2);
    assert_string_equal(cfg.data.question_key.items[1], "Question");
    assert_string_equal(cfg.run.name, "override");
    assert_string_equal(cfg.tokenizer.system_prompt, "Be brief: answer.");
    char where[256];
    config_where(&cfg, "grpo.kl_coef", where, sizeof where);
    assert_string_equal(where, "--set 'grpo.kl_coef=0.05': ");

    // Errors name the argument.
    assert_int_equal(config_set(&cfg, "grpo.kl_coef=lots", &e), ERR_USER);
    assert_string_equal(e.msg,
                        "--set 'grpo.kl_coef=lots': grpo.kl_coef: expected a number, got 'lots'");
    assert_int_equal(config_set(&cfg, "grpo.kl_cof=1", &e), ERR_USER);
    assert_string_equal(
        e.msg,
        "--set 'grpo.kl_cof=1': unknown key 'kl_cof' in section 'grpo' (did you mean 'kl_coef'?)");
    assert_int_equal(config_set(&cfg, "grpo=1", &e), ERR_USER);
    assert_string_equal(e.msg, "--set 'grpo=1': expected section.key=value");
    assert_int_equal(config_set(&cfg, "rollout.group_size=0", &e), ERR_USER);
    assert_string_equal(
        e.msg, "--set 'rollout.group_size=0': rollout.group_size: 0 is out of range [1, 65536]");
    assert_int_equal(config_set(&cfg, "cluster.learners=3", &e), ERR_USER);
    assert_string_equal(e.msg, "--set 'cluster.learners=3': role counts are only used with "
                               "cluster.placement: disaggregated");
    config_destroy(&cfg);

    // A required key may come from --set alone.
    const char *name[] = {"run.name=n"};
    const char *text = "model:\n  path: m\n";
    assert_int_equal(config_load_string(&cfg, "exp.yaml", text, strlen(text), name, 1, &e), 0);
    config_destroy(&cfg);
}

// Every field of a printed config loads back to the same value, including
// awkward strings and floats that need 17 digits.
static void test_print_round_trip(void **state) {
    (void)state;
    struct config a, b;
    struct err e;
    const char *sets[] = {
        "tokenizer.system_prompt=\"line1\\nline2 \\\"quoted\\\" \\\\ tab\\t: # 数学\"",
        "optim.lr=0.1",
        "model.rope_theta=1000000.0000001",
        "rollout.stop=[\"</s>\", \"\\n\\n\"]",
        "run.seed=123456789012345",
        "grpo.loss_agg=seq-mean-token-sum-norm",
        "cluster.placement=disaggregated",
        "cluster.learners=2",
        "cluster.rollout_workers=1",
        "cluster.reward_workers=1"};
    assert_int_equal(config_load_string(&a, "exp.yaml", BASE, strlen(BASE), sets, 10, &e), 0);
    assert_string_equal(a.tokenizer.system_prompt, "line1\nline2 \"quoted\" \\ tab\t: # 数学");
    char *yaml = config_to_yaml(&a);
    if (config_load_string(&b, "printed", yaml, strlen(yaml), NULL, 0, &e) != 0) {
        print_error("%s\n%s\n", e.msg, yaml);
        fail();
    }
    char *yaml2 = config_to_yaml(&b);
    assert_string_equal(yaml, yaml2);
    for (int i = 0; i < config_n_fields; i++) {
        const struct cfg_field *f = &config_fields[i];
        const char *pa = (const char *)&a + f->offset, *pb = (const char *)&b + f->offset;
        switch (f->type) {
        case CFG_STRING:
            assert_string_equal(*(char *const *)pa, *(char *const *)pb);
            break;
        case CFG_STR_LIST: {
            const struct str_list *la = (const void *)pa, *lb = (const void *)pb;
            assert_int_equal(la->n, lb->n);
            for (int k = 0; k < la->n; k++) assert_string_equal(la->items[k], lb->items[k]);
            break;
        }
        case CFG_FLOAT:
            assert_memory_equal(pa, pb, sizeof(double));
            break;
        case CFG_INT:
            assert_memory_equal(pa, pb, sizeof(int64_t));
            break;
        case CFG_ENUM:
            assert_memory_equal(pa, pb, sizeof(int));
            break;
        case CFG_BOOL:
            assert_memory_equal(pa, pb, sizeof(bool));
            break;
        }
    }
    struct config c;
    config_copy(&c, &b);
    char *yaml3 = config_to_yaml(&c);
    assert_string_equal(yaml, yaml3);
    free(yaml);
    free(yaml2);
    free(yaml3);
    config_destroy(&a);
    config_destroy(&b);
    config_destroy(&c);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

// configs/reference.yaml and docs/config.md document every key, and every
// config in configs/ loads.
static void test_reference_documents_every_key(void **state) {
    (void)state;
    const char *root = getenv("GRPO_SOURCE_ROOT");
    if (!root) skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/configs/reference.yaml", root);
    struct config cfg;
    struct err e;
    if (config_load_file(&cfg, path, NULL, 0, &e) != 0) {
        print_error("%s\n", e.msg);
        fail();
    }
    for (int i = 0; i < config_n_fields; i++)
        if (!cfg.origin[i].line) {
            print_error("configs/reference.yaml lacks %s.%s\n", config_fields[i].section,
                        config_fields[i].key);
            fail();
        }
    config_destroy(&cfg);
    snprintf(path, sizeof path, "%s/docs/config.md", root);
    char *doc = read_file(path);
    assert_non_null(doc);
    for (int i = 0; i < config_n_fields; i++) {
        char needle[128];
        snprintf(needle, sizeof needle, "`%s.%s`", config_fields[i].section, config_fields[i].key);
        if (!strstr(doc, needle)) {
            print_error("docs/config.md lacks %s\n", needle);
            fail();
        }
    }
    free(doc);
    snprintf(path, sizeof path, "%s/configs/smoke.yaml", root);
    assert_int_equal(config_load_file(&cfg, path, NULL, 0, &e), 0);
    config_destroy(&cfg);
    assert_int_equal(config_load_file(&cfg, "/nonexistent/x.yaml", NULL, 0, &e), ERR_USER);
    assert_string_equal(e.msg, "/nonexistent/x.yaml: cannot open: No such file or directory");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_missing_and_duplicate),
        cmocka_unit_test(test_yaml_syntax),
        cmocka_unit_test(test_cross_field),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_print_round_trip),
        cmocka_unit_test(test_reference_documents_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
