// The loader over every file of ../shared/data (row counts from its README,
// gold answers checked by hand against the files), gold modes, bad lines.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"

struct file_case {
    const char *file;
    const char *q_keys[2];
    const char *answer_key;
    enum gold_mode mode;
    size_t n_rows;
    size_t spot_row; // a row whose gold answer was read by hand
    const char *spot_gold;
    const char *last_gold;
};

static const struct file_case cases[] = {
    {"gsm8k.train.jsonl", {"question"}, "answer", GOLD_GSM8K, 7473, 345, "1080", "50"},
    {"gsm8k.test.jsonl", {"question"}, "answer", GOLD_GSM8K, 1319, 0, "18", "14"},
    {"svamp.test.jsonl", {"Body", "Question"}, "Answer", GOLD_NUMBER, 1000, 0, "145", "91"},
    {"minerva_math.test.jsonl", {"problem"}, "solution", GOLD_BOXED, 272, 1, "4.5e33", "10.1"},
    {"aime24.test.jsonl", {"problem"}, "answer", GOLD_RAW, 30, 0, "204", "902"},
    {"amc23.test.jsonl", {"question"}, "answer", GOLD_NUMBER, 40, 0, "27", "8"},
    {"olympiadbench.test.jsonl", {"question"}, "final_answer", GOLD_FIRST, 675, 0, "2", "11"},
    {"college_math.test.jsonl",
     {"question"},
     "answer",
     GOLD_RAW,
     2818,
     0,
     "$10-4 n$",
     "$y= \\pm \\frac{\\sqrt{2 x+c}}{1+x^{2}}$"},
    {"gaokao2023en.test.jsonl",
     {"question"},
     "answer",
     GOLD_RAW,
     385,
     0,
     "$\\{x|-2\\leq x < 1\\}$",
     "K"},
    {"cmath.test.jsonl", {"question"}, "answer", GOLD_RAW, 600, 0, "9", "60"},
};

static void test_shared_files(void **state) {
    (void)state;
    const char *shared = getenv("GRPO_SHARED");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data", shared ? shared : "../shared");
    if (access(dir, R_OK) != 0) {
        print_message("skipped: %s not found\n", dir);
        skip();
    }
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct file_case *c = &cases[k];
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, c->file);
        struct dataset_cfg cfg = {.path = path,
                                  .answer_key = c->answer_key,
                                  .gold_mode = c->mode,
                                  .n_question_keys = c->q_keys[1] ? 2 : 1};
        cfg.question_keys[0] = c->q_keys[0];
        cfg.question_keys[1] = c->q_keys[1];
        struct dataset *d = NULL;
        struct err e;
        if (dataset_load(&cfg, &d, &e) != 0) fail_msg("%s: %s", c->file, e.msg);
        if (d->n_rows != c->n_rows)
            fail_msg("%s: %zu rows, want %zu", c->file, d->n_rows, c->n_rows);
        assert_int_equal(d->n_skipped, 0);
        assert_int_equal(d->n_empty_gold, k == 8 ? 2 : 0); // gaokao2023en lines 168 and 193
        assert_string_equal(dataset_gold(d, c->spot_row), c->spot_gold);
        assert_string_equal(dataset_gold(d, d->n_rows - 1), c->last_gold);
        for (size_t i = 0; i < d->n_rows; i++) assert_true(dataset_question(d, i)[0] != '\0');
        assert_int_equal(d->line[d->n_rows - 1], (uint32_t)c->n_rows); // no blank lines there
        if (k == 2) // SVAMP: Body + " " + Question
            assert_string_equal(
                dataset_question(d, 0),
                "There are 87 oranges and 290 bananas in Philip's collection. If the "
                "bananas are organized into 2 groups and oranges are organized into "
                "93 groups How big is each group of bananas?");
        if (k == 0)
            assert_string_equal(
                dataset_question(d, 0),
                "Natalia sold clips to 48 of her friends in April, and then she sold "
                "half as many clips in May. How many clips did Natalia sell "
                "altogether in April and May?");
        dataset_destroy(&d);
        assert_null(d);
    }
}

static char tmp_path[] = "/tmp/grpo_test_data_XXXXXX";

static void write_file(const char *text) {
    FILE *f = fopen(tmp_path, "w");
    fputs(text, f);
    fclose(f);
}

static int load(const char *text, const char *q, const char *a, enum gold_mode mode, int skip_bad,
                struct dataset **d, struct err *e) {
    write_file(text);
    struct dataset_cfg cfg = {.path = tmp_path,
                              .question_keys = {q},
                              .n_question_keys = 1,
                              .answer_key = a,
                              .gold_mode = mode,
                              .skip_bad_lines = skip_bad};
    return dataset_load(&cfg, d, e);
}

static void expect_error(const char *text, enum gold_mode mode, const char *want_suffix) {
    struct dataset *d = NULL;
    struct err e;
    assert_int_equal(load(text, "q", "a", mode, 0, &d, &e), ERR_USER);
    assert_null(d);
    char want[512];
    snprintf(want, sizeof want, "%s:%s", tmp_path, want_suffix);
    assert_string_equal(e.msg, want);
}

static void test_gold_modes_and_errors(void **state) {
    (void)state;
    struct dataset *d = NULL;
    struct err e;
    assert_int_equal(
        load("{\"q\": \" x \", \"a\": \"s \\\\boxed{1} then \\\\boxed{\\\\frac{1}{2}} end\"}\n"
             "\n"
             "{\"q\": \"y\", \"a\": \"\\\\fbox{7}\"}\n"
             "{\"q\": \"z\", \"a\": \"\\\\boxed {a{b}c}\"}\n",
             "q", "a", GOLD_BOXED, 0, &d, &e),
        0);
    assert_int_equal(d->n_rows, 3);
    assert_string_equal(dataset_question(d, 0), "x");
    assert_string_equal(dataset_gold(d, 0), "\\frac{1}{2}");
    assert_string_equal(dataset_gold(d, 1), "7");
    assert_string_equal(dataset_gold(d, 2), "a{b}c");
    assert_int_equal(d->line[2], 4);
    dataset_destroy(&d);
    assert_int_equal(load("{\"q\": \"x\", \"a\": \"a #### 1 #### 1,234,567 \\n\"}\n", "q", "a",
                          GOLD_GSM8K, 0, &d, &e),
                     0);
    assert_string_equal(dataset_gold(d, 0), "1234567");
    dataset_destroy(&d);
    assert_int_equal(load("{\"q\": \"x\", \"a\": -0.25}\n{\"q\": \"x\", \"a\": \" 3e2\"}\n"
                          "{\"q\": \"x\", \"a\": 1e20}\n",
                          "q", "a", GOLD_NUMBER, 0, &d, &e),
                     0);
    assert_string_equal(dataset_gold(d, 0), "-0.25");
    assert_string_equal(dataset_gold(d, 1), "300");
    assert_string_equal(dataset_gold(d, 2), "1e+20");
    dataset_destroy(&d);
    assert_int_equal(load("{\"q\": \"x\", \"a\": \" \"}\n", "q", "a", GOLD_RAW, 0, &d, &e), 0);
    assert_int_equal(d->n_empty_gold, 1);
    assert_string_equal(dataset_gold(d, 0), "");
    dataset_destroy(&d);
    assert_int_equal(
        load("{\"q\": \"x\", \"a\": [\"(1, 2)\", \"3\"]}\n{\"q\": \"x\", \"a\": [4]}\n", "q", "a",
             GOLD_FIRST, 0, &d, &e),
        0);
    assert_string_equal(dataset_gold(d, 0), "(1, 2)");
    assert_string_equal(dataset_gold(d, 1), "4");
    dataset_destroy(&d);

    expect_error("{\"q\": \"x\", \"a\": \"1\"}\n{\"q\": \"x\", \"a\": \"1\"\n", GOLD_RAW,
                 "2: not a JSON object");
    expect_error("\n{\"a\": \"1\"}\n", GOLD_RAW, "2: missing key 'q'");
    expect_error("{\"q\": \"x\"}\n", GOLD_RAW, "1: missing key 'a'");
    expect_error("{\"q\": \"  \", \"a\": \"1\"}\n", GOLD_RAW, "1: empty question");
    expect_error("{\"q\": 5, \"a\": \"1\"}\n", GOLD_RAW, "1: key 'q' is not a string");
    expect_error("{\"q\": \"x\", \"a\": \"12\"}\n", GOLD_GSM8K,
                 "1: key 'a' (gold mode gsm8k): no '####' in the answer");
    expect_error("{\"q\": \"x\", \"a\": \"\\\\boxed{1\"}\n", GOLD_BOXED,
                 "1: key 'a' (gold mode boxed): no \\boxed{...} in the answer");
    expect_error("{\"q\": \"x\", \"a\": []}\n", GOLD_FIRST,
                 "1: key 'a' (gold mode first): not a non-empty list");
    expect_error("{\"q\": \"x\", \"a\": \"12 apples\"}\n", GOLD_NUMBER,
                 "1: key 'a' (gold mode number): '12 apples' is not a number");
    expect_error("\n\n", GOLD_RAW, " no rows");

    // skip_bad_lines: bad lines are counted, good ones kept.
    assert_int_equal(
        load("{\"q\": \"x\", \"a\": \"1\"}\nnot json\n{\"q\": \"y\"}\n{\"q\": \"z\", \"a\": 2}\n",
             "q", "a", GOLD_RAW, 1, &d, &e),
        0);
    assert_int_equal(d->n_rows, 2);
    assert_int_equal(d->n_skipped, 2);
    assert_int_equal(d->n_empty_gold, 0);
    assert_string_equal(dataset_question(d, 1), "z");
    assert_string_equal(dataset_gold(d, 1), "2");
    dataset_destroy(&d);

    assert_int_equal(load("", "q", "a", GOLD_RAW, 0, &d, &e), ERR_USER);
    struct dataset_cfg cfg = {.path = "/nonexistent.jsonl",
                              .question_keys = {"q"},
                              .n_question_keys = 1,
                              .answer_key = "a",
                              .gold_mode = GOLD_RAW};
    assert_int_equal(dataset_load(&cfg, &d, &e), ERR_USER);
    assert_string_equal(e.msg, "cannot open dataset '/nonexistent.jsonl'");
    enum gold_mode m;
    assert_int_equal(gold_mode_parse("boxed", &m, &e), 0);
    assert_int_equal(m, GOLD_BOXED);
    assert_int_equal(gold_mode_parse("box", &m, &e), ERR_USER);
    unlink(tmp_path);
}

int main(void) {
    int fd = mkstemp(tmp_path);
    if (fd < 0) return 1;
    close(fd);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_files),
        cmocka_unit_test(test_gold_modes_and_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(tmp_path);
    return rc;
}
