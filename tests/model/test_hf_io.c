// Hugging Face interop and checkpoints: the convert round trip is bit-exact, BF16/F16 are
// widened exactly, malformed files are one-line errors naming the file and tensor, and the
// logprobs JSONL driver agrees with the golden file.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/hf_config.h"
#include "model/ckpt.h"
#include "model/cpu/cpu.h"
#include "model/hf.h"
#include "model/logprobs.h"
#include "tests/model/testutil.h"

// logprobs printed with 9 significant digits vs the fp64 reference (see test_model_golden).
#define TOL_LOGPROB 1e-4

static char tmpdir[256];

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/grpo-test-hf-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void copy_file(const char *from, const char *to, long max_bytes) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[4096];
    size_t n;
    long total = 0;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0) {
        if (max_bytes >= 0 && total + (long)n > max_bytes) n = (size_t)(max_bytes - total);
        fwrite(buf, 1, n, b);
        total += (long)n;
        if (max_bytes >= 0 && total >= max_bytes) break;
    }
    fclose(a);
    fclose(b);
}

static void test_convert_round_trip(void **state) {
    (void)state;
    struct err e;
    struct backend *be = NULL;
    struct model *m0 = NULL, *m1 = NULL, *m2 = NULL;
    char src[4096], ck[512], out[512];
    test_data_dir(src, sizeof src, "qwen2_tied");
    snprintf(ck, sizeof ck, "%s/m.h5", tmpdir);
    snprintf(out, sizeof out, "%s/hf_out", tmpdir);
    assert_int_equal(backend_cpu_create(1, &be, &e), 0);
    if (model_load_hf(src, be, NULL, &m0, &e) < 0) fail_msg("%s", e.msg);
    if (model_save_ckpt(m0, ck, &e) < 0) fail_msg("%s", e.msg);
    if (model_load_path(ck, be, NULL, &m1, &e) < 0) fail_msg("%s", e.msg);
    if (model_save_hf(m1, out, &e) < 0) fail_msg("%s", e.msg);
    if (model_load_path(out, be, NULL, &m2, &e) < 0) fail_msg("%s", e.msg);
    assert_true(m0->shape.is_tied && m2->shape.is_tied);
    assert_int_equal(m2->shape.rope_theta, m0->shape.rope_theta);
    assert_int_equal(m0->n_params, m2->n_params);
    assert_memory_equal(m0->params, m1->params, m0->n_params * sizeof(float));
    assert_memory_equal(m0->params, m2->params, m0->n_params * sizeof(float));
    model_destroy(&m0);
    model_destroy(&m1);
    model_destroy(&m2);
    backend_cpu_destroy(&be);
}

// BF16 1.5 = 0x3FC0, -2 = 0xC000; F16 1.5 = 0x3E00, 2^-24 (subnormal) = 0x0001, -inf = 0xFC00.
static void test_half_types(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/half.safetensors", tmpdir);
    const char hdr[] = "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[4,10]}}";
    FILE *f = fopen(path, "wb");
    uint64_t n = sizeof hdr - 1;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(n >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(hdr, 1, n, f);
    const unsigned char data[10] = {0xC0, 0x3F, 0x00, 0xC0, 0x00, 0x3E, 0x01, 0x00, 0x00, 0xFC};
    fwrite(data, 1, 10, f);
    fclose(f);
    struct st_file *sf = NULL;
    struct err e;
    if (safetensors_open(path, &sf, &e) < 0) fail_msg("%s", e.msg);
    float a[2], b[3];
    assert_int_equal(safetensors_read_f32(safetensors_find(sf, "a"), a, 2, &e), 0);
    assert_int_equal(safetensors_read_f32(safetensors_find(sf, "b"), b, 3, &e), 0);
    assert_true(a[0] == 1.5f && a[1] == -2.0f);
    assert_true(b[0] == 1.5f && b[1] == 0x1p-24f && b[2] == -INFINITY);
    safetensors_close(&sf);
}

// A model directory whose safetensors file is the original cut to n bytes, or a config
// with a changed line.
static int load_broken(const char *name, long cut, const char *cfg_from, const char *cfg_to,
                       struct err *e) {
    char src[4096], dir[512], a[4200], b[600];
    test_data_dir(src, sizeof src, name);
    snprintf(dir, sizeof dir, "%s/broken", tmpdir);
    mkdir(dir, 0777);
    snprintf(a, sizeof a, "%s/model.safetensors", src);
    snprintf(b, sizeof b, "%s/model.safetensors", dir);
    copy_file(a, b, cut);
    struct hf_config c;
    snprintf(a, sizeof a, "%s/config.json", src);
    assert_int_equal(hf_config_read(a, &c, e), 0);
    if (cfg_from && !strcmp(cfg_from, "vocab")) c.vocab_size += atoi(cfg_to);
    if (cfg_from && !strcmp(cfg_from, "arch"))
        snprintf(c.architecture, sizeof c.architecture, "%s", cfg_to);
    if (cfg_from && !strcmp(cfg_from, "untie")) c.tie_word_embeddings = false;
    snprintf(b, sizeof b, "%s/config.json", dir);
    assert_int_equal(hf_config_write(b, &c, e), 0);
    struct backend *be = NULL;
    struct model *m = NULL;
    backend_cpu_create(1, &be, e);
    int rc = model_load_hf(dir, be, NULL, &m, e);
    model_destroy(&m);
    backend_cpu_destroy(&be);
    return rc;
}

static void test_bad_files(void **state) {
    (void)state;
    struct err e;
    assert_int_equal(load_broken("qwen2_untied", -1, NULL, NULL, &e), 0);
    assert_int_equal(load_broken("qwen2_untied", 50000, NULL, NULL, &e), ERR_USER);
    printf("truncated: %s\n", e.msg);
    assert_non_null(strstr(e.msg, "model.safetensors"));
    assert_non_null(strstr(e.msg, "tensor '"));
    assert_int_equal(load_broken("qwen2_untied", 6, NULL, NULL, &e), ERR_USER);
    printf("short: %s\n", e.msg);
    assert_int_equal(load_broken("qwen2_untied", -1, "vocab", "3", &e), ERR_USER);
    printf("shape: %s\n", e.msg);
    assert_non_null(
        strstr(e.msg, "'model.embed_tokens.weight' has shape [97, 32], config expects [100, 32]"));
    assert_int_equal(load_broken("qwen2_tied", -1, "untie", NULL, &e), ERR_USER);
    printf("missing: %s\n", e.msg);
    assert_non_null(strstr(e.msg, "missing tensor 'lm_head.weight'"));
    assert_int_equal(load_broken("qwen2_untied", -1, "arch", "LlamaForCausalLM", &e), ERR_USER);
    printf("arch: %s\n", e.msg);
    assert_non_null(strstr(e.msg, "'LlamaForCausalLM'"));
}

// The same model split into two shards with a model.safetensors.index.json loads the same.
static void test_sharded(void **state) {
    (void)state;
    struct err e;
    struct backend *be = NULL;
    struct model *m0 = NULL, *m1 = NULL;
    char src[4096], dir[512], path[600];
    test_data_dir(src, sizeof src, "qwen2_untied");
    assert_int_equal(backend_cpu_create(1, &be, &e), 0);
    assert_int_equal(model_load_hf(src, be, NULL, &m0, &e), 0);
    snprintf(dir, sizeof dir, "%s/sharded", tmpdir);
    assert_int_equal(model_save_hf(m0, dir, &e), 0); // config.json (+ a single file, removed)
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    int half = m0->n_tensors / 2;
    struct st_write_tensor ts[64];
    assert_true(m0->n_tensors <= 64);
    snprintf(path, sizeof path, "%s/index.tmp", dir);
    FILE *idx = fopen(path, "w");
    fprintf(idx, "{\"metadata\": {}, \"weight_map\": {");
    for (int i = 0; i < m0->n_tensors; i++) {
        const struct model_tensor *t = &m0->tensors[i];
        ts[i] = (struct st_write_tensor){.name = t->name,
                                         .ndim = t->ndim,
                                         .shape = {t->shape[0], t->shape[1]},
                                         .data = m0->params + t->offset};
        fprintf(idx, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", i ? ", " : "", t->name,
                i < half ? 1 : 2);
    }
    fprintf(idx, "}}\n");
    fclose(idx);
    char final_idx[600];
    snprintf(final_idx, sizeof final_idx, "%s/model.safetensors.index.json", dir);
    assert_int_equal(rename(path, final_idx), 0);
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    assert_int_equal(safetensors_write_f32(path, ts, half, &e), 0);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    assert_int_equal(safetensors_write_f32(path, ts + half, m0->n_tensors - half, &e), 0);
    if (model_load_hf(dir, be, NULL, &m1, &e) < 0) fail_msg("%s", e.msg);
    assert_memory_equal(m0->params, m1->params, m0->n_params * sizeof(float));
    model_destroy(&m1);
    // a shard missing from disk is named
    unlink(path);
    assert_int_equal(model_load_hf(dir, be, NULL, &m1, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "model-00002-of-00002.safetensors"));
    model_destroy(&m0);
    backend_cpu_destroy(&be);
}

static void test_logprobs_jsonl(void **state) {
    (void)state;
    struct err e;
    char dir[4096], path[4200];
    test_data_dir(dir, sizeof dir, "qwen2_untied");
    snprintf(path, sizeof path, "%s/golden.safetensors", dir);
    struct st_file *g = NULL;
    assert_int_equal(safetensors_open(path, &g, &e), 0);
    size_t n_tok;
    int32_t *tokens = golden_i32(g, "tokens", &n_tok), *cu = golden_i32(g, "cu_seqlens", NULL);
    float *ref = golden_f32(g, "logprob", NULL), *ref_ent = golden_f32(g, "entropy", NULL);
    char in[4096] = "{\"ids\":[";
    for (int t = cu[1]; t < cu[2]; t++) // the second sequence of the batch
        snprintf(in + strlen(in), sizeof in - strlen(in), t > cu[1] ? ",%d" : "%d", tokens[t]);
    strcat(in, "]}\n\n{\"ids\":[3]}\n");
    struct backend *be = NULL;
    struct model *m = NULL;
    assert_int_equal(backend_cpu_create(1, &be, &e), 0);
    assert_int_equal(model_load_hf(dir, be, NULL, &m, &e), 0);
    char out[8192] = {0};
    FILE *fi = fmemopen(in, strlen(in), "r"), *fo = fmemopen(out, sizeof out, "w");
    if (model_logprobs_jsonl(m, 1.0f, fi, "in", fo, &e) < 0) fail_msg("%s", e.msg);
    fclose(fi);
    fclose(fo);
    const char *p = strstr(out, "\"logprobs\":[") + 12;
    int n = cu[2] - cu[1];
    for (int i = 0; i < n - 1; i++) {
        float v = strtof(p, (char **)&p);
        p++;
        assert_true(fabsf(v - ref[cu[1] + i]) < TOL_LOGPROB * (1 + fabsf(ref[cu[1] + i])));
    }
    p = strstr(out, "\"entropy\":[") + 11;
    assert_true(fabsf(strtof(p, NULL) - ref_ent[cu[1]]) < TOL_LOGPROB * (1 + ref_ent[cu[1]]));
    assert_non_null(strstr(out, "{\"logprobs\":[],\"entropy\":[]}\n")); // one id: nothing
    // A bad line names its line number.
    const char bad[] = "{\"ids\":[1,2]}\n{\"ids\":[1,97]}\n";
    fi = fmemopen((void *)bad, strlen(bad), "r");
    fo = fmemopen(out, sizeof out, "w");
    assert_int_equal(model_logprobs_jsonl(m, 1.0f, fi, "in", fo, &e), ERR_USER);
    fclose(fi);
    fclose(fo);
    assert_string_equal(e.msg, "in:2: ids[1] is not a token id in 0..96");
    model_destroy(&m);
    backend_cpu_destroy(&be);
    free(tokens);
    free(cu);
    free(ref);
    free(ref_ent);
    safetensors_close(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convert_round_trip), cmocka_unit_test(test_half_types),
        cmocka_unit_test(test_bad_files), cmocka_unit_test(test_sharded),
        cmocka_unit_test(test_logprobs_jsonl)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
