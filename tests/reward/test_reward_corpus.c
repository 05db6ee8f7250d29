// Replays the fuzz corpus of the verifier through the fuzz harness, so that
// each input stays fixed in the ordinary unit suite (and under ASan/UBSan in
// CI): tests/reward/corpus/ holds the seeds and the reproducers of every crash
// found, one file each; tests/reward/corpus.hex the minimised corpus of fuzz
// runs, one input a line in hex.
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
    snprintf(path, sizeof path, "%s/tests/reward/corpus.hex", root);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int n_lines = 0;
    static uint8_t bytes[1 << 16];
    while ((n = getline(&line, &cap, f)) > 0) {
        size_t m = 0;
        for (ssize_t k = 0; k + 1 < n && m < sizeof bytes; k += 2) {
            unsigned v;
            if (sscanf(line + k, "%2x", &v) != 1) break;
            bytes[m++] = (uint8_t)v;
        }
        LLVMFuzzerTestOneInput(bytes, m);
        n_lines++;
    }
    free(line);
    fclose(f);
    printf("%d corpus files and %d packed inputs replayed\n", n_files, n_lines);
    assert_true(n_files >= 10);
    assert_true(n_lines >= 100);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_corpus)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
