// Chat templates: the exact prompt strings of the Qwen2.5-Math recipe, their
// token ids (ids as in Qwen's published prompts), the stop tokens, errors.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/chat.h"

static void test_chatml_bytes(void **state) {
    (void)state;
    struct err e;
    struct tokenizer *tok = NULL;
    struct chat_template *t = NULL;
    assert_int_equal(tokenizer_create_bytes(&tok, &e), 0);
    assert_int_equal(chat_template_create(tok, "chatml", "cot", &t, &e), 0);
    assert_int_equal(t->stop_id, 258);
    struct text_buf text = {0};
    chat_render(t, "What is 1+1?", &text);
    assert_string_equal(text.s,
                        "<|im_start|>system\nPlease reason step by step, and put your final answer "
                        "within \\boxed{}.<|im_end|>\n<|im_start|>user\nWhat is 1+1?<|im_end|>\n"
                        "<|im_start|>assistant\n");
    chat_template_destroy(&t);
    assert_null(t);

    text.n = 0;
    assert_int_equal(chat_template_create(tok, "chatml", "tir", &t, &e), 0);
    chat_render(t, "Q", &text);
    assert_string_equal(
        text.s, "<|im_start|>system\nPlease integrate natural language reasoning with "
                "programs to solve the problem above, and put your final answer within "
                "\\boxed{}.<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n");
    chat_template_destroy(&t);

    text.n = 0;
    assert_int_equal(chat_template_create(tok, "chatml", "none", &t, &e), 0);
    chat_render(t, "Q", &text);
    assert_string_equal(text.s, "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n");
    chat_template_destroy(&t);

    text.n = 0;
    assert_int_equal(chat_template_create(tok, "chatml", "You are terse.", &t, &e), 0);
    chat_render(t, "Q", &text);
    assert_string_equal(text.s, "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nQ"
                                "<|im_end|>\n<|im_start|>assistant\n");
    struct token_ids ids = {0};
    assert_int_equal(chat_encode_prompt(t, tok, "Q", &ids, &e), 0);
    assert_int_equal(ids.ids[0], 257); // <|im_start|>
    assert_int_equal(ids.ids[ids.n - 1], '\n');
    chat_template_destroy(&t);

    // raw: the question itself, stopped by eos (the tiny demo).
    text.n = 0;
    assert_int_equal(chat_template_create(tok, "raw", NULL, &t, &e), 0);
    assert_int_equal(t->stop_id, 256);
    chat_render(t, "882+164=", &text);
    assert_string_equal(text.s, "882+164=");
    chat_template_destroy(&t);

    assert_int_equal(chat_template_create(tok, "raw", "cot", &t, &e), ERR_USER);
    assert_int_equal(chat_template_create(tok, "alpaca", "cot", &t, &e), ERR_USER);
    assert_string_equal(e.msg, "unknown chat template 'alpaca' (expected 'chatml' or 'raw')");
    assert_null(t);
    assert_null(chat_system_prompt_named("none"));
    token_ids_free(&ids);
    text_buf_free(&text);
    tokenizer_destroy(&tok);
}

// The Qwen ids of a CoT prompt: <|im_start|> system \n ... <|im_end|> \n
// <|im_start|> user \n ... <|im_end|> \n <|im_start|> assistant \n.
static void test_chatml_qwen(void **state) {
    (void)state;
    const char *shared = getenv("GRPO_SHARED");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/tokenizers/qwen2.5", shared ? shared : "../shared");
    struct err e;
    struct tokenizer *tok = NULL;
    if (tokenizer_load(dir, &tok, &e) < 0) {
        print_message("skipped: %s\n", e.msg);
        skip();
    }
    struct chat_template *t = NULL;
    assert_int_equal(chat_template_create(tok, "chatml", "cot", &t, &e), 0);
    assert_int_equal(t->stop_id, 151645);
    struct token_ids ids = {0};
    assert_int_equal(chat_encode_prompt(t, tok, "What is 1+1?", &ids, &e), 0);
    const int32_t head[] = {151644, 8948, 198};               // <|im_start|>system\n
    const int32_t tail[] = {151645, 198, 151644, 77091, 198}; // <|im_end|>\n<|im_start|>assistant\n
    assert_true(ids.n > 8);
    assert_memory_equal(ids.ids, head, sizeof head);
    assert_memory_equal(ids.ids + ids.n - 5, tail, sizeof tail);
    int n_im_start = 0;
    for (size_t i = 0; i < ids.n; i++) n_im_start += ids.ids[i] == 151644;
    assert_int_equal(n_im_start, 3);
    token_ids_free(&ids);
    chat_template_destroy(&t);
    tokenizer_destroy(&tok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chatml_bytes),
        cmocka_unit_test(test_chatml_qwen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
