// Prompt sets: ids equal the chat template's encoding row by row, long
// prompts are left out and counted, bad questions name their line; and all
// of GSM8K test with the Qwen tokenizer.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/prompts.h"

static char tmp_path[] = "/tmp/grpo_test_prompts_XXXXXX";

static struct dataset *load_text(const char *text) {
    FILE *f = fopen(tmp_path, "w");
    fputs(text, f);
    fclose(f);
    struct dataset_cfg cfg = {.path = tmp_path,
                              .question_keys = {"q"},
                              .n_question_keys = 1,
                              .answer_key = "a",
                              .gold_mode = GOLD_RAW};
    struct dataset *d = NULL;
    struct err e;
    if (dataset_load(&cfg, &d, &e) != 0) fail_msg("%s", e.msg);
    return d;
}

static void test_byte_prompts(void **state) {
    (void)state;
    struct err e;
    struct tokenizer *tok = NULL;
    struct chat_template *t = NULL;
    assert_int_equal(tokenizer_create_bytes(&tok, &e), 0);
    assert_int_equal(chat_template_create(tok, "raw", "none", &t, &e), 0);
    struct dataset *d = load_text("{\"q\": \"1+2=\", \"a\": \"3\"}\n"
                                  "{\"q\": \"this one is far too long\", \"a\": \"x\"}\n"
                                  "\n{\"q\": \"10+20=\", \"a\": \"30\"}\n");
    struct prompt_set *p = NULL;
    assert_int_equal(prompt_set_build(d, tmp_path, tok, t, 8, &p, &e), 0);
    assert_int_equal(p->n_prompts, 2);
    assert_int_equal(p->n_skipped_long, 1);
    assert_int_equal(p->row[0], 0);
    assert_int_equal(p->row[1], 2);
    size_t n;
    const int32_t *ids = prompt_set_ids(p, 1, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(ids, ((int32_t[]){'1', '0', '+', '2', '0', '='}), 6 * sizeof(int32_t));
    prompt_set_destroy(&p);
    assert_null(p);
    assert_int_equal(prompt_set_build(d, tmp_path, tok, t, 3, &p, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "no prompt fits in 3 tokens"));
    chat_template_destroy(&t);

    // chatml: each prompt is exactly chat_encode_prompt's output.
    assert_int_equal(chat_template_create(tok, "chatml", "cot", &t, &e), 0);
    assert_int_equal(prompt_set_build(d, tmp_path, tok, t, 1000, &p, &e), 0);
    assert_int_equal(p->n_prompts, 3);
    for (size_t i = 0; i < p->n_prompts; i++) {
        struct token_ids want = {0};
        assert_int_equal(chat_encode_prompt(t, tok, dataset_question(d, p->row[i]), &want, &e), 0);
        ids = prompt_set_ids(p, i, &n);
        assert_int_equal(n, want.n);
        assert_memory_equal(ids, want.ids, n * sizeof *ids);
        token_ids_free(&want);
    }
    prompt_set_destroy(&p);
    chat_template_destroy(&t);
    dataset_destroy(&d);
    tokenizer_destroy(&tok);
}

static void test_bad_question_names_line(void **state) {
    (void)state;
    char path[4096];
    const char *shared = getenv("GRPO_SHARED");
    snprintf(path, sizeof path, "%s/data/tokenizers/qwen2.5", shared ? shared : "../shared");
    struct err e;
    struct tokenizer *tok = NULL;
    if (tokenizer_load(path, &tok, &e) < 0) skip();
    struct chat_template *t = NULL;
    assert_int_equal(chat_template_create(tok, "chatml", "cot", &t, &e), 0);
    struct dataset *d =
        load_text("{\"q\": \"ok\", \"a\": \"1\"}\n{\"q\": \"bad \xFF byte\", \"a\": \"1\"}\n");
    struct prompt_set *p = NULL;
    assert_int_equal(prompt_set_build(d, tmp_path, tok, t, 100, &p, &e), ERR_USER);
    char want[512];
    snprintf(want, sizeof want, "%s:2: question: invalid UTF-8 at byte ", tmp_path);
    assert_memory_equal(e.msg, want, strlen(want));
    dataset_destroy(&d);

    // All of GSM8K test: every prompt fits 1024 tokens and starts <|im_start|>system.
    snprintf(path, sizeof path, "%s/data/gsm8k.test.jsonl", shared ? shared : "../shared");
    struct dataset_cfg cfg = {.path = path,
                              .question_keys = {"question"},
                              .n_question_keys = 1,
                              .answer_key = "answer",
                              .gold_mode = GOLD_GSM8K};
    assert_int_equal(dataset_load(&cfg, &d, &e), 0);
    assert_int_equal(prompt_set_build(d, path, tok, t, 1024, &p, &e), 0);
    assert_int_equal(p->n_prompts, 1319);
    for (size_t i = 0; i < p->n_prompts; i++) {
        size_t n;
        const int32_t *ids = prompt_set_ids(p, i, &n);
        assert_true(n > 30 && n < 1024);
        assert_int_equal(ids[0], 151644);
        assert_int_equal(ids[n - 1], 198);
    }
    prompt_set_destroy(&p);
    dataset_destroy(&d);
    chat_template_destroy(&t);
    tokenizer_destroy(&tok);
}

int main(void) {
    int fd = mkstemp(tmp_path);
    if (fd < 0) return 1;
    close(fd);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_byte_prompts),
        cmocka_unit_test(test_bad_question_names_line),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(tmp_path);
    return rc;
}
