// The Qwen2.5 tokenizer against golden.jsonl (ids made by an independent
// implementation, cross-checked with Hugging Face tokenizers): every line must
// encode to the same ids and decode back to NFC(text).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/rng.h"
#include "tokenizer/tokenizer_internal.h"

static char tok_dir[4096];

// Loads the Qwen tokenizer once for all tests; *state is NULL (tests skip)
// when ../shared/data is missing.
static int setup(void **state) {
    const char *shared = getenv("GRPO_SHARED");
    snprintf(tok_dir, sizeof tok_dir, "%s/data/tokenizers/qwen2.5", shared ? shared : "../shared");
    struct tokenizer *tok = NULL;
    struct err e;
    if (tokenizer_load(tok_dir, &tok, &e) != 0) print_message("skipping: %s\n", e.msg);
    *state = tok;
    return 0;
}

static int teardown(void **state) {
    struct tokenizer *tok = *state;
    tokenizer_destroy(&tok);
    return tok == NULL ? 0 : -1;
}

// The shared tokenizer, mutable for test_radix_matches_heap.
#define TOKENIZER_OR_SKIP(state) ((struct tokenizer *)(*(state) ? *(state) : (skip(), NULL)))

static FILE *open_golden(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/golden.jsonl", tok_dir);
    return fopen(path, "r");
}

static void test_golden(void **state) {
    struct tokenizer *tok = TOKENIZER_OR_SKIP(state);
    FILE *f = open_golden();
    assert_non_null(f);
    struct err e;
    assert_int_equal(tokenizer_vocab_size(tok), 151669);
    assert_int_equal(tokenizer_token_id(tok, "<|im_end|>"), 151645);
    assert_int_equal(tokenizer_specials(tok).eos, 151645); // tokenizer_config.json
    assert_int_equal(tokenizer_specials(tok).pad, 151643);
    assert_int_equal(tokenizer_specials(tok).bos, -1);
    char *line = NULL;
    size_t cap = 0;
    int n_lines = 0, n_bad = 0, n_bad_roundtrip = 0;
    struct token_ids ids = {0};
    struct text_buf text = {0};
    while (getline(&line, &cap, f) > 0) {
        n_lines++;
        cJSON *obj = cJSON_Parse(line);
        assert_non_null(obj);
        const char *s = cJSON_GetObjectItem(obj, "text")->valuestring;
        const cJSON *want = cJSON_GetObjectItem(obj, "ids");
        ids.n = 0;
        assert_int_equal(tokenizer_encode(tok, s, strlen(s), &ids, &e), 0);
        int same = (size_t)cJSON_GetArraySize(want) == ids.n;
        for (size_t i = 0; same && i < ids.n; i++)
            same = cJSON_GetArrayItem(want, (int)i)->valueint == ids.ids[i];
        if (!same && n_bad++ < 3) print_message("line %d differs: %.80s\n", n_lines, s);
        text.n = 0;
        assert_int_equal(tokenizer_decode(tok, ids.ids, ids.n, 0, &text, &e), 0);
        utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)s);
        if (text.n != strlen((char *)nfc) || memcmp(text.s, nfc, text.n) != 0) n_bad_roundtrip++;
        free(nfc);
        cJSON_Delete(obj);
    }
    fclose(f);
    free(line);
    token_ids_free(&ids);
    text_buf_free(&text);
    assert_int_equal(n_lines, 444);
    assert_int_equal(n_bad, 0);
    assert_int_equal(n_bad_roundtrip, 0);
}

// Invalid UTF-8 is an error naming the offset; NUL bytes and a 10 MB line
// without a space encode correctly (they round-trip) in bounded time.
static void test_pathological(void **state) {
    struct tokenizer *tok = TOKENIZER_OR_SKIP(state);
    struct err e;
    struct token_ids ids = {0};
    struct text_buf text = {0};

    const char bad[] = "ok \xC3\x28 then"; // 0xC3 needs a continuation byte
    assert_int_equal(tokenizer_encode(tok, bad, sizeof bad - 1, &ids, &e), ERR_USER);
    assert_string_equal(e.msg, "invalid UTF-8 at byte 3");
    const char *bads[] = {"\xED\xA0\x80", "\xC0\xAF", "\xF4\x90\x80\x80", "\xFF", "ab\xE2\x82"};
    for (int k = 0; k < 5; k++)
        assert_int_equal(tokenizer_encode(tok, bads[k], strlen(bads[k]), &ids, &e), ERR_USER);

    const char nul[] = "a\0b\0\0 <|im_end|>\0";
    ids.n = 0;
    assert_int_equal(tokenizer_encode(tok, nul, sizeof nul - 1, &ids, &e), 0);
    assert_int_equal(tokenizer_decode(tok, ids.ids, ids.n, 0, &text, &e), 0);
    assert_int_equal(text.n, sizeof nul - 1);
    assert_memory_equal(text.s, nul, sizeof nul - 1);

    // A 10 MB line without a space (code-like text), then 1 MB runs of digits
    // and of one letter, spaces, punctuation, CJK: one BPE piece each, the worst
    // case of the merge loop (O(n log n); bench_tokenizer shows the scaling).
    const size_t n_max = 10u << 20;
    char *big = malloc(n_max);
    const char *fills[] = {"x=f(y1);", "7", "a", " ", "=", "\xE4\xB8\xAD", "ab1 "};
    for (int k = 0; k < 7; k++) {
        size_t n = k < 1 ? n_max : 1u << 20;
        size_t m = strlen(fills[k]);
        for (size_t i = 0; i < n; i++) big[i] = fills[k][i % m];
        size_t len = n - n % m;
        ids.n = 0;
        text.n = 0;
        int rc = tokenizer_encode(tok, big, len, &ids, &e);
        if (rc) print_message("fill %d: %s\n", k, e.msg);
        assert_int_equal(rc, 0);
        assert_true(ids.n > 0 && ids.n <= len);
        assert_int_equal(tokenizer_decode(tok, ids.ids, ids.n, 0, &text, &e), 0);
        assert_int_equal(text.n, len);
        assert_memory_equal(text.s, big, len);
    }
    free(big);
    int32_t out_of_range[] = {5, 151669};
    assert_int_equal(tokenizer_decode(tok, out_of_range, 2, 0, &text, &e), ERR_USER);
    token_ids_free(&ids);
    text_buf_free(&text);
}

// Random text from a mix of scripts, marks, whitespace, digits and pieces of
// special tokens (a deterministic fuzz): decode(encode(s)) == NFC(s) always;
// random bytes either fail as invalid UTF-8 or round-trip.
static void test_random_roundtrip(void **state) {
    struct tokenizer *tok = TOKENIZER_OR_SKIP(state);
    struct err e;
    static const uint32_t pool[] = {
        'a',    'Z',     '0',     '9',      ' ',    ' ',    '\n',   '\r',   '\t',   '\'',
        '<',    '|',     '>',     '!',      '.',    0x0,    0xA0,   0x85,   0x2028, 0x3000,
        0x200B, 0xE9,    0x301,   0x308,    0x1E9B, 0x4E2D, 0x6587, 0x0661, 0x0915, 0x093F,
        0xAC00, 0x1F600, 0x1F3FD, 0x10FFFF, 0xFFFD, 0xFEFF, 0x17F,  0x212A, 0xBD};
    static const char *const words[] = {"<|im_end|>", "<|im_start|>", "<|endoftext|>",
                                        "'s",         "'LL",          "\\boxed{",
                                        "####",       "  \n\n",       "1234567"};
    struct rng_seq rs;
    rng_seq_init(&rs, 5, rng_stream_id(RNG_TEST, 4, 0, 0), 0);
    struct token_ids ids = {0};
    struct text_buf text = {0}, s = {0};
    for (int iter = 0; iter < 3000; iter++) {
        s.n = 0;
        int len = (int)rng_seq_below(&rs, 40);
        for (int k = 0; k < len; k++) {
            uint32_t r = rng_seq_below(&rs, 10);
            if (r == 0) {
                const char *w = words[rng_seq_below(&rs, sizeof words / sizeof words[0])];
                text_buf_append(&s, w, strlen(w));
                continue;
            }
            utf8proc_uint8_t buf[4];
            utf8proc_ssize_t n = utf8proc_encode_char(
                (utf8proc_int32_t)pool[rng_seq_below(&rs, sizeof pool / sizeof pool[0])], buf);
            text_buf_append(&s, (const char *)buf, (size_t)n);
        }
        if (!s.s) text_buf_append(&s, "", 0);
        ids.n = 0;
        text.n = 0;
        if (iter % 3 == 2) { // random bytes
            for (size_t k = 0; k < s.n; k++) s.s[k] = (char)rng_seq_below(&rs, 256);
            int rc = tokenizer_encode(tok, s.s, s.n, &ids, &e);
            if (rc != 0) {
                assert_int_equal(rc, ERR_USER);
                assert_true(tokenizer_utf8_check(s.s, s.n) < s.n);
                continue;
            }
        } else {
            assert_int_equal(tokenizer_encode(tok, s.s, s.n, &ids, &e), 0);
        }
        assert_int_equal(tokenizer_decode(tok, ids.ids, ids.n, 0, &text, &e), 0);
        utf8proc_uint8_t *nfc = NULL;
        utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s.s, (utf8proc_ssize_t)s.n,
                                          &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        assert_true(n >= 0);
        // Special tokens are split off before NFC, which is the same as NFC
        // of the whole text here: their last character '>' composes with nothing.
        assert_int_equal(text.n, (size_t)n);
        assert_memory_equal(text.s, nfc, (size_t)n);
        free(nfc);
    }
    token_ids_free(&ids);
    text_buf_free(&text);
    text_buf_free(&s);
}

// Long pieces go through the radix heap when merges are monotone; it must
// give what the binary heap gives (the golden lines rarely reach it).
static void test_radix_matches_heap(void **state) {
    struct tokenizer *tok = TOKENIZER_OR_SKIP(state);
    struct err e;
    assert_int_equal(tok->bpe->merges_monotone, 1); // true of Qwen's trained merges
    static const char *const alphabets[] = {
        "etaoinshrdlu", "ab",         "\xE4\xB8\xAD\xE6\x96\x87\xE5\xAD\x97",
        " \n\t",        "0123456789", "=+-*/()[]{}"};
    struct rng_seq rs;
    rng_seq_init(&rs, 11, rng_stream_id(RNG_TEST, 5, 0, 0), 0);
    struct token_ids radix = {0}, heap = {0};
    struct text_buf s = {0};
    for (int iter = 0; iter < 60; iter++) {
        const char *alpha = alphabets[iter % 6];
        size_t n_alpha = strlen(alpha), unit = iter % 6 == 2 ? 3 : 1;
        size_t len = 256 + rng_seq_below(&rs, 4000);
        s.n = 0;
        for (size_t k = 0; k < len; k++)
            text_buf_append(&s, alpha + unit * rng_seq_below(&rs, (uint32_t)(n_alpha / unit)),
                            unit);
        radix.n = heap.n = 0;
        tok->bpe->merges_monotone = 1;
        assert_int_equal(tokenizer_encode(tok, s.s, s.n, &radix, &e), 0);
        tok->bpe->merges_monotone = 0;
        assert_int_equal(tokenizer_encode(tok, s.s, s.n, &heap, &e), 0);
        assert_int_equal(radix.n, heap.n);
        assert_memory_equal(radix.ids, heap.ids, radix.n * sizeof *radix.ids);
    }
    token_ids_free(&radix);
    token_ids_free(&heap);
    text_buf_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_pathological),
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_radix_matches_heap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
