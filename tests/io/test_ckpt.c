// HDF5 checkpoints: round trip of every dtype, attributes, errors for missing
// tensors / wrong shape / wrong dtype / foreign files, Fletcher-32 catching a
// flipped byte, atomic save under SIGKILL, retention and latest resolution.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/ckpt.h"

static char tmpdir[256];

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/grpo-test-ckpt-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

#define ASSERT_OK(expr)                                                                            \
    do {                                                                                           \
        struct err e_;                                                                             \
        err_clear(&e_);                                                                            \
        int rc_ = (expr);                                                                          \
        if (rc_ != 0) print_error("%s\n", e_.msg);                                                 \
        assert_int_equal(rc_, 0);                                                                  \
    } while (0)

static void test_round_trip_every_dtype(void **state) {
    (void)state;
    char path[512];
    path_in(path, sizeof path, "rt.h5");
    struct err e;
    float f32[6] = {1.5f, -2.25f, 3e-38f, 1e38f, 0.0f, -0.0f};
    uint16_t bf16[4] = {0x3f80, 0xbf80, 0x7f7f, 0x0001}; // 1, -1, max finite, smallest subnormal
    int32_t i32[3] = {-2147483647 - 1, 0, 2147483647};
    int64_t i64[2] = {INT64_MIN, INT64_MAX};
    uint8_t u8[5] = {0, 1, 127, 128, 255};
    int64_t s_f32[2] = {2, 3}, s_bf16[1] = {4}, s_i32[3] = {1, 3, 1}, s_i64[1] = {2}, s_u8[1] = {5},
            s_empty[2] = {0, 7};

    struct h5file *f;
    assert_int_equal(h5_create(path, &f, &e), 0);
    assert_int_equal(h5_write(f, "/model/a.weight", H5_F32, 2, s_f32, f32, &e), 0);
    assert_int_equal(h5_write(f, "/model/b", H5_BF16, 1, s_bf16, bf16, &e), 0);
    assert_int_equal(h5_write(f, "/state/deep/c", H5_I32, 3, s_i32, i32, &e), 0);
    assert_int_equal(h5_write(f, "/state/d", H5_I64, 1, s_i64, i64, &e), 0);
    assert_int_equal(h5_write(f, "/e", H5_U8, 1, s_u8, u8, &e), 0);
    assert_int_equal(h5_write(f, "/empty", H5_F32, 2, s_empty, NULL, &e), 0);
    assert_int_equal(h5_attr_set_i64(f, "/", "step", -42, &e), 0);
    assert_int_equal(h5_attr_set_f64(f, "/state", "lr", 1e-5, &e), 0);
    assert_int_equal(h5_attr_set_str(f, "/model", "arch", "qwen2 \"tiny\"\nline 2 数学", &e), 0);
    assert_int_equal(h5_attr_set_str(f, "/", "blank", "", &e), 0);
    assert_int_equal(h5_close(&f, &e), 0);
    assert_null(f);

    assert_int_equal(h5_open(path, &f, &e), 0);
    float g32[6];
    uint16_t gbf16[4];
    int32_t gi32[3];
    int64_t gi64[2];
    uint8_t gu8[5];
    assert_int_equal(h5_read(f, "/model/a.weight", H5_F32, 2, s_f32, g32, &e), 0);
    assert_memory_equal(g32, f32, sizeof f32);
    assert_int_equal(h5_read(f, "/model/b", H5_BF16, 1, s_bf16, gbf16, &e), 0);
    assert_memory_equal(gbf16, bf16, sizeof bf16);
    assert_int_equal(h5_read(f, "/state/deep/c", H5_I32, 3, s_i32, gi32, &e), 0);
    assert_memory_equal(gi32, i32, sizeof i32);
    assert_int_equal(h5_read(f, "/state/d", H5_I64, 1, s_i64, gi64, &e), 0);
    assert_memory_equal(gi64, i64, sizeof i64);
    assert_int_equal(h5_read(f, "/e", H5_U8, 1, s_u8, gu8, &e), 0);
    assert_memory_equal(gu8, u8, sizeof u8);
    assert_int_equal(h5_read(f, "/empty", H5_F32, 2, s_empty, NULL, &e), 0);

    enum h5_dtype dt;
    int nd;
    int64_t shape[H5_MAX_DIMS];
    assert_int_equal(h5_info(f, "/state/deep/c", &dt, &nd, shape, &e), 0);
    assert_int_equal(dt, H5_I32);
    assert_int_equal(nd, 3);
    assert_int_equal(shape[1], 3);

    int64_t step;
    double lr;
    char *arch, *blank;
    assert_int_equal(h5_attr_get_i64(f, "/", "step", &step, &e), 0);
    assert_int_equal(step, -42);
    assert_int_equal(h5_attr_get_f64(f, "/state", "lr", &lr, &e), 0);
    assert_true(lr == 1e-5);
    assert_int_equal(h5_attr_get_str(f, "/model", "arch", &arch, &e), 0);
    assert_string_equal(arch, "qwen2 \"tiny\"\nline 2 数学");
    assert_int_equal(h5_attr_get_str(f, "/", "blank", &blank, &e), 0);
    assert_string_equal(blank, "");
    free(arch);
    free(blank);

    // Wrong expectations are errors that name the file and the tensor.
    int64_t wrong[2] = {3, 2};
    assert_int_equal(h5_read(f, "/model/a.weight", H5_F32, 2, wrong, g32, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "tensor '/model/a.weight' has shape [2, 3], expected [3, 2]"));
    assert_int_equal(h5_read(f, "/model/a.weight", H5_BF16, 2, s_f32, g32, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "tensor '/model/a.weight' is f32, expected bf16"));
    assert_int_equal(h5_read(f, "/model/missing", H5_F32, 2, s_f32, g32, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "missing tensor '/model/missing'"));
    assert_int_equal(h5_read(f, "/nogroup/x", H5_F32, 2, s_f32, g32, &e), ERR_USER);
    assert_int_equal(h5_attr_get_i64(f, "/", "nope", &step, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "missing attribute 'nope' of '/'"));
    assert_int_equal(h5_attr_get_i64(f, "/model", "arch", &step, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "attribute 'arch' of '/model' is not an integer"));
    assert_int_equal(h5_close(&f, &e), 0);

    // h5dump (the standard tool) reads the file, bf16 type included.
    if (system("command -v h5dump >/dev/null 2>&1") == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "h5dump -d /model/b '%s' | grep -q '1, -1, 3.38953e+38'", path);
        assert_int_equal(system(cmd), 0);
    }
}

// Find `needle` in a file; returns its offset or -1.
static long find_bytes(const char *path, const void *needle, size_t n) {
    FILE *fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)size);
    size_t got = fread(buf, 1, (size_t)size, fp);
    fclose(fp);
    long at = -1;
    for (size_t i = 0; i + n <= got; i++)
        if (memcmp(buf + i, needle, n) == 0) {
            at = (long)i;
            break;
        }
    free(buf);
    return at;
}

static void flip_byte(const char *path, long offset) {
    FILE *fp = fopen(path, "r+b");
    fseek(fp, offset, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, offset, SEEK_SET);
    fputc(c ^ 0x01, fp);
    fclose(fp);
}

static void test_checksum_detects_flipped_byte(void **state) {
    (void)state;
    char path[512];
    path_in(path, sizeof path, "flip.h5");
    struct err e;
    enum { N = 1000 };
    static float data[N], back[N];
    for (int i = 0; i < N; i++) data[i] = 1000.0f + (float)i; // a recognisable byte pattern
    int64_t shape[1] = {N};
    struct h5file *f;
    assert_int_equal(h5_create(path, &f, &e), 0);
    assert_int_equal(h5_write(f, "/model/w", H5_F32, 1, shape, data, &e), 0);
    assert_int_equal(h5_close(&f, &e), 0);

    long at = find_bytes(path, &data[500], 4 * sizeof(float));
    assert_true(at > 0);
    flip_byte(path, at + 1); // one bit of element 500

    assert_int_equal(h5_open(path, &f, &e), 0);
    assert_int_equal(h5_read(f, "/model/w", H5_F32, 1, shape, back, &e), ERR_USER);
    if (!strstr(e.msg, "tensor '/model/w' fails its Fletcher-32 checksum: the file is corrupt")) {
        print_error("%s\n", e.msg);
        fail();
    }
    assert_int_equal(h5_close(&f, &e), 0);
}

static void test_foreign_and_truncated_files(void **state) {
    (void)state;
    char path[512];
    struct err e;
    struct h5file *f;
    path_in(path, sizeof path, "notes.txt");
    FILE *fp = fopen(path, "w");
    fputs("not hdf5 at all\n", fp);
    fclose(fp);
    assert_int_equal(ckpt_open(path, &f, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "not an HDF5 file"));

    // An HDF5 file that is not a checkpoint.
    path_in(path, sizeof path, "plain.h5");
    assert_int_equal(h5_create(path, &f, &e), 0);
    assert_int_equal(h5_close(&f, &e), 0);
    assert_int_equal(ckpt_open(path, &f, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "not a grpo checkpoint"));

    // A checkpoint cut in half.
    char good[512];
    path_in(good, sizeof good, "ckpt-half.h5");
    struct ckpt_writer *w;
    static float big[100000];
    int64_t shape[1] = {100000};
    assert_int_equal(ckpt_writer_begin(good, &w, &e), 0);
    assert_int_equal(h5_write(ckpt_writer_file(w), "/model/w", H5_F32, 1, shape, big, &e), 0);
    assert_int_equal(ckpt_writer_commit(&w, &e), 0);
    assert_int_equal(truncate(good, 2000), 0);
    int rc = ckpt_open(good, &f, &e);
    if (rc == 0) { // the superblock survived: the tensor read must fail cleanly
        assert_int_equal(h5_read(f, "/model/w", H5_F32, 1, shape, big, &e), ERR_USER);
        h5_close(&f, &e);
    } else {
        assert_int_equal(rc, ERR_USER);
    }
    assert_int_equal(ckpt_open("/nonexistent/ckpt-1.h5", &f, &e), ERR_USER);
}

// Writes a checkpoint of n_tensors tensors filled with value; 0 or an error
// code (no cmocka asserts: a forked child must not longjmp into the runner).
static int try_write_ckpt(const char *path, float value, int n_tensors) {
    struct err e;
    struct ckpt_writer *w;
    enum { N = 1 << 16 };
    static float data[N];
    for (int i = 0; i < N; i++) data[i] = value;
    int64_t shape[1] = {N};
    if (ckpt_writer_begin(path, &w, &e) != 0) return 1;
    for (int t = 0; t < n_tensors; t++) {
        char name[64];
        snprintf(name, sizeof name, "/model/t%d", t);
        if (h5_write(ckpt_writer_file(w), name, H5_F32, 1, shape, data, &e) != 0) {
            ckpt_writer_abort(&w);
            return 2;
        }
    }
    return ckpt_writer_commit(&w, &e) != 0 ? 3 : 0;
}

static void write_ckpt(const char *path, float value, int n_tensors) {
    assert_int_equal(try_write_ckpt(path, value, n_tensors), 0);
}

static float read_first(const char *path) {
    struct err e;
    struct h5file *f;
    static float data[1 << 16];
    int64_t shape[1] = {1 << 16};
    if (ckpt_open(path, &f, &e) != 0) {
        print_error("%s\n", e.msg);
        fail();
    }
    assert_int_equal(h5_read(f, "/model/t0", H5_F32, 1, shape, data, &e), 0);
    h5_close(&f, &e);
    return data[0];
}

// A writer killed with SIGKILL at any moment leaves the previous checkpoint
// under the real name, intact.
static void test_atomic_save_survives_kill(void **state) {
    (void)state;
    char dir[512], path[512];
    path_in(dir, sizeof dir, "atomic");
    ckpt_path(path, sizeof path, dir, 5);
    write_ckpt(path, 1.0f, 1);
    for (int round = 0; round < 3; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            // Rewrite the same step with other values, forever slower than the kill.
            for (;;)
                if (try_write_ckpt(path, 2.0f + (float)round, 64) != 0) _exit(3);
        }
        usleep(20000 + 30000 * round);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) {
            print_error("writer child was not killed: exit status %d\n", WEXITSTATUS(status));
            fail();
        }
        // The first one, or a complete later one (of this or an earlier round),
        // never a broken file.
        float v = read_first(path);
        assert_true(v == 1.0f || (v >= 2.0f && v <= 2.0f + (float)round && v == floorf(v)));
    }
    // Stale temporary files of the dead writers go at the next prune.
    struct err e;
    assert_int_equal(ckpt_prune(dir, 0, &e), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", dir);
    assert_int_not_equal(system(cmd), 0);
}

static void test_retention_and_latest(void **state) {
    (void)state;
    char dir[512], path[512], latest[512];
    path_in(dir, sizeof dir, "run/checkpoints");
    struct err e;
    int64_t step = -1;
    assert_int_equal(ckpt_latest(dir, latest, sizeof latest, &step, &e), 0); // none yet
    int64_t steps[] = {2, 10, 4, 8, 6};
    for (int i = 0; i < 5; i++) {
        ckpt_path(path, sizeof path, dir, steps[i]);
        write_ckpt(path, (float)steps[i], 1);
    }
    path_in(path, sizeof path, "run/checkpoints/ckpt-x.h5"); // ignored names
    fclose(fopen(path, "w"));
    assert_int_equal(ckpt_latest(dir, latest, sizeof latest, &step, &e), 1);
    assert_int_equal(step, 10);
    assert_true(read_first(latest) == 10.0f);

    assert_int_equal(ckpt_prune(dir, 2, &e), 0);
    int64_t *left;
    int n;
    assert_int_equal(ckpt_list(dir, &left, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(left[0], 8);
    assert_int_equal(left[1], 10);
    free(left);

    // A corrupt latest checkpoint is refused, not silently skipped.
    ckpt_path(path, sizeof path, dir, 12);
    FILE *fp = fopen(path, "w");
    fputs("garbage", fp);
    fclose(fp);
    assert_int_equal(ckpt_latest(dir, latest, sizeof latest, &step, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "latest checkpoint is unusable"));
    assert_non_null(strstr(e.msg, "ckpt-12.h5"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_dtype),
        cmocka_unit_test(test_checksum_detects_flipped_byte),
        cmocka_unit_test(test_foreign_and_truncated_files),
        cmocka_unit_test(test_atomic_save_survives_kill),
        cmocka_unit_test(test_retention_and_latest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
