// Tokenizer behaviour on small hand-made tokenizer.json files whose answers
// are worked out by hand: merge priority, ties, added tokens, ignore_merges,
// loader errors; and the byte tokenizer.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenizer/tokenizer.h"

static char tmp_dir[] = "/tmp/grpo_test_tok_XXXXXX";

// GPT-2 bytes_to_unicode as the format documents it: printable bytes map to
// themselves, the others to U+0100 + n in byte order. Writes UTF-8 to out.
static void bytelevel_char(int b, char out[3]) {
    int n = 0, cp = -1;
    for (int x = 0; x < 256; x++) {
        int printable = (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174;
        int c = printable ? x : 256 + n++;
        if (x == b) cp = c;
    }
    if (cp < 0x80)
        out[0] = (char)cp, out[1] = 0;
    else
        out[0] = (char)(0xC0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3F)), out[2] = 0;
}

// Vocabulary: the 256 bytes (id = byte), then extra tokens 256.. in order;
// merges as given; added tokens "<x>" (special, id 300) and "<y>" (301).
static const char *write_tokenizer(const char *const *extra, int n_extra, const char *merges,
                                   const char *model_opts, const char *pre_tokenizer) {
    static char path[256];
    snprintf(path, sizeof path, "%s/tokenizer.json", tmp_dir);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "{\"added_tokens\": [{\"id\": 300, \"content\": \"<x>\", \"special\": true},"
            "{\"id\": 301, \"content\": \"<y>\", \"special\": false}],\n"
            "\"normalizer\": {\"type\": \"NFC\"}, \"pre_tokenizer\": %s,\n"
            "\"decoder\": {\"type\": \"ByteLevel\"},\n"
            "\"model\": {\"type\": \"BPE\"%s, \"vocab\": {",
            pre_tokenizer, model_opts);
    for (int b = 0; b < 256; b++) {
        char c[3];
        bytelevel_char(b, c);
        fprintf(f, "%s\"%s%s\": %d", b ? ", " : "", (c[0] == '"' || c[0] == '\\') ? "\\" : "", c,
                b);
    }
    for (int k = 0; k < n_extra; k++) fprintf(f, ", \"%s\": %d", extra[k], 256 + k);
    fprintf(f, "}, \"merges\": [%s]}}\n", merges);
    fclose(f);
    return path;
}

static void encode_expect(const struct tokenizer *tok, const char *text, const int32_t *want,
                          size_t n_want) {
    struct err e;
    struct token_ids ids = {0};
    assert_int_equal(tokenizer_encode(tok, text, strlen(text), &ids, &e), 0);
    assert_int_equal(ids.n, n_want);
    assert_memory_equal(ids.ids, want, n_want * sizeof *want);
    struct text_buf out = {0};
    assert_int_equal(tokenizer_decode(tok, ids.ids, ids.n, 0, &out, &e), 0);
    assert_string_equal(out.s, text);
    token_ids_free(&ids);
    text_buf_free(&out);
}

#define LOAD_OK(path, tok, e)                                                                      \
    do {                                                                                           \
        if (tokenizer_load(path, tok, e) != 0) fail_msg("load: %s", (e)->msg);                     \
    } while (0)

#define EXPECT(tok, text, ...)                                                                     \
    do {                                                                                           \
        const int32_t want_[] = {__VA_ARGS__};                                                     \
        encode_expect(tok, text, want_, sizeof want_ / sizeof want_[0]);                           \
    } while (0)

static void test_merge_order(void **state) {
    (void)state;
    // 256 aa, 257 aaaa, 258 bc, 259 ab, 260 "Ġa" (space + a)
    const char *extra[] = {"aa", "aaaa", "bc", "ab",
                           "\xC4\xA0"
                           "a"};
    const char *path = write_tokenizer(
        extra, 5, "\"a a\", \"aa aa\", [\"b\", \"c\"], \"a b\", \"\xC4\xA0 a\"", "", "null");
    struct err e;
    struct tokenizer *tok = NULL;
    LOAD_OK(path, &tok, &e);
    assert_int_equal(tokenizer_vocab_size(tok), 302);
    EXPECT(tok, "aaa", 256, 'a'); // equal ranks: leftmost first
    EXPECT(tok, "aaaa", 257);     // aa aa, then aaaa
    EXPECT(tok, "aaaaa", 257, 'a');
    EXPECT(tok, "abc", 'a', 258); // b c (rank 2) before a b (rank 3)
    EXPECT(tok, "abd", 259, 'd');
    EXPECT(tok, " a", 260);                                   // ByteLevel: the space is byte 0x20
    EXPECT(tok, "a<x>aa<y><x", 'a', 300, 256, 301, '<', 'x'); // added tokens first
    assert_true(tokenizer_is_special(tok, 300));
    assert_false(tokenizer_is_special(tok, 301));
    assert_int_equal(tokenizer_token_id(tok, "aaaa"), 257);
    assert_int_equal(tokenizer_token_id(tok, "<y>"), 301);
    assert_int_equal(tokenizer_token_id(tok, "zz"), -1);
    // No tokenizer_config.json: eos = pad = <|endoftext|> when present, else none.
    assert_int_equal(tokenizer_specials(tok).eos, -1);
    // NFC: e + combining acute is composed to U+00E9 (bytes C3 A9).
    EXPECT(tok, "\xC3\xA9", 0xC3, 0xA9);
    struct token_ids ids = {0};
    assert_int_equal(tokenizer_encode(tok, "e\xCC\x81", 3, &ids, &e), 0);
    assert_int_equal(ids.n, 2);
    assert_int_equal(ids.ids[0], 0xC3);
    struct text_buf out = {0};
    assert_int_equal(tokenizer_decode(tok, (int32_t[]){'a', 300, 'b'}, 3, 1, &out, &e), 0);
    assert_string_equal(out.s, "ab"); // skip_special
    token_ids_free(&ids);
    text_buf_free(&out);
    tokenizer_destroy(&tok);

    // ignore_merges: a piece that is a vocabulary token is taken whole.
    path = write_tokenizer(extra, 5, "\"a a\"", ", \"ignore_merges\": true", "null");
    LOAD_OK(path, &tok, &e);
    EXPECT(tok, "aaaa", 257);
    EXPECT(tok, "aaa", 256, 'a');
    tokenizer_destroy(&tok);

    // A regex split (read from the file): merges never cross pieces.
    path = write_tokenizer(extra, 5, "\"a a\", \"aa aa\"", "",
                           "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a{1,2}\"}, "
                           "\"behavior\": \"Isolated\"}");
    LOAD_OK(path, &tok, &e);
    EXPECT(tok, "aaaaa", 256, 256, 'a');
    EXPECT(tok, "baab", 'b', 256, 'b'); // unmatched text is a piece too
    tokenizer_destroy(&tok);
}

static void expect_load_error(const char *json, const char *msg_part) {
    char path[256];
    snprintf(path, sizeof path, "%s/tokenizer.json", tmp_dir);
    FILE *f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
    struct err e;
    struct tokenizer *tok = NULL;
    assert_int_equal(tokenizer_load(path, &tok, &e), ERR_USER);
    assert_null(tok);
    if (!strstr(e.msg, msg_part)) fail_msg("'%s' does not contain '%s'", e.msg, msg_part);
}

static void test_load_errors(void **state) {
    (void)state;
    struct err e;
    struct tokenizer *tok = NULL;
    assert_int_equal(tokenizer_load("/nonexistent/tok", &tok, &e), ERR_USER);
    assert_string_equal(e.msg, "tokenizer '/nonexistent/tok' not found");
    expect_load_error("{\n\"model\": [1,\n}", "tokenizer.json:3: invalid JSON");
    expect_load_error("{\"model\": {\"type\": \"WordPiece\"}}",
                      "model type 'WordPiece' is not supported");
    expect_load_error("{\"normalizer\": {\"type\": \"NFKC\"}}",
                      "normalizer 'NFKC' is not supported");
    expect_load_error("{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a\"}, "
                      "\"behavior\": \"Isolated\"}}",
                      "pre-tokenizer regex '(a'");
    expect_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                      "byte 0x00 has no token");
    expect_load_error(
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 70000000}, \"merges\": []}}",
        "vocab entry 'a' has a bad id");
    const char *extra[] = {"aa"};
    const char *path = write_tokenizer(extra, 1, "\"a b\"", "", "null");
    assert_int_equal(tokenizer_load(path, &tok, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "merge 0 uses a token that is not in the vocabulary"));
}

static void test_byte_tokenizer(void **state) {
    (void)state;
    struct err e;
    struct tokenizer *tok = NULL;
    assert_int_equal(tokenizer_open("bytes", &tok, &e), 0);
    assert_int_equal(tokenizer_kind(tok), TOKENIZER_BYTES);
    assert_int_equal(tokenizer_vocab_size(tok), 261);
    struct tokenizer_specials sp = tokenizer_specials(tok);
    assert_int_equal(sp.eos, 256);
    assert_int_equal(sp.bos, 259);
    assert_int_equal(sp.pad, 260);
    assert_int_equal(tokenizer_token_id(tok, "<|im_end|>"), 258);
    EXPECT(tok, "1+2=<|im_end|>", '1', '+', '2', '=', 258);
    EXPECT(tok, "<|im_start|>a<|endoftext|><|bos|><|pad|>", 257, 'a', 256, 259, 260);
    // Any bytes, NUL and invalid UTF-8 included, round-trip.
    const char raw[] = "\0\xFF\xC3(";
    struct token_ids ids = {0};
    assert_int_equal(tokenizer_encode(tok, raw, 4, &ids, &e), 0);
    assert_int_equal(ids.n, 4);
    assert_int_equal(ids.ids[0], 0);
    assert_int_equal(ids.ids[1], 255);
    struct text_buf out = {0};
    assert_int_equal(tokenizer_decode(tok, ids.ids, ids.n, 0, &out, &e), 0);
    assert_int_equal(out.n, 4);
    assert_memory_equal(out.s, raw, 4);
    assert_int_equal(tokenizer_decode(tok, (int32_t[]){261}, 1, 0, &out, &e), ERR_USER);
    assert_int_equal(tokenizer_decode(tok, (int32_t[]){-1}, 1, 0, &out, &e), ERR_USER);
    token_ids_free(&ids);
    text_buf_free(&out);
    tokenizer_destroy(&tok);
    assert_null(tok);
}

static void test_utf8_check(void **state) {
    (void)state;
    assert_int_equal(tokenizer_utf8_check("abc", 3), 3);
    assert_int_equal(tokenizer_utf8_check("\xE4\xB8\xAD\xF0\x9F\x98\x80", 7), 7);
    assert_int_equal(tokenizer_utf8_check("a\xE0\x80\x80", 4), 1);    // overlong
    assert_int_equal(tokenizer_utf8_check("ab\xED\xB0\x80", 5), 2);   // surrogate
    assert_int_equal(tokenizer_utf8_check("\xF4\x90\x80\x80", 4), 0); // > U+10FFFF
    assert_int_equal(tokenizer_utf8_check("\xE4\xB8", 2), 0);         // truncated
    assert_int_equal(tokenizer_utf8_check("\x80", 1), 0);
}

static int setup(void **state) {
    (void)state;
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/tokenizer.json", tmp_dir);
    unlink(path);
    rmdir(tmp_dir);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_order),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_byte_tokenizer),
        cmocka_unit_test(test_utf8_check),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
