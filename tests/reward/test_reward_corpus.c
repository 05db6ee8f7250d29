// Replays the fuzz corpus of the verifier (tests/reward/corpus/: seeds and the
// reproducers of every crash found) through the fuzz harness, so that each
// stays fixed in the ordinary unit suite (and under ASan/UBSan in CI).
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void test_corpus(void **state) {
    (void)state;
    const char *root = getenv("GRPO_SOURCE_ROOT");
    assert_non_null(root);
    char dir[4096], path[8192];
    snprintf(dir, sizeof dir, "%s/tests/reward/corpus", root);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n_files = 0;
    for (struct dirent *ent; (ent = readdir(d));) {
        if (ent->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        n_files++;
    }
    closedir(d);
    printf("%d corpus inputs replayed\n", n_files);
    assert_true(n_files >= 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_corpus)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
