// libFuzzer harness for encoding: any bytes must give ids or a one-line
// error (invalid UTF-8 only), never a crash, a hang or undefined behaviour;
// ids must decode back to NFC(text). Uses the Qwen2.5 tokenizer from
// $GRPO_SHARED/data/tokenizers/qwen2.5 (else ../shared/...) and the byte tokenizer.
// Build: add to fuzz/meson.build like fuzz_config (dependencies: [tokenizer_dep]).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Loaded once per process: loading takes ~0.2 s, far longer than one input.
static struct tokenizer *qwen, *bytes;

static void check_roundtrip(const struct tokenizer *tok, const char *s, size_t n, int want_nfc) {
    struct err e;
    struct token_ids ids = {0};
    struct text_buf text = {0};
    int rc = tokenizer_encode(tok, s, n, &ids, &e);
    if (rc != 0) {
        if (rc != ERR_USER || tokenizer_utf8_check(s, n) == n || strchr(e.msg, '\n')) abort();
        token_ids_free(&ids);
        return;
    }
    if (tokenizer_decode(tok, ids.ids, ids.n, 0, &text, &e) != 0) abort();
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t m = (utf8proc_ssize_t)n;
    if (want_nfc) {
        m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &nfc,
                         UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (m < 0) abort();
    }
    const char *want = nfc ? (const char *)nfc : s;
    // NFC runs per segment between special tokens; a special token never
    // composes with its neighbours in practice, but compare only without one.
    if (!want_nfc || !memmem(s, n, "<|", 2))
        if (text.n != (size_t)m || memcmp(text.s ? text.s : "", want, (size_t)m) != 0) abort();
    free(nfc);
    token_ids_free(&ids);
    text_buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct err e;
    if (!bytes && tokenizer_create_bytes(&bytes, &e) != 0) abort();
    if (!qwen) {
        const char *shared = getenv("GRPO_SHARED");
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/data/tokenizers/qwen2.5", shared ? shared : "../shared");
        if (tokenizer_load(dir, &qwen, &e) != 0) {
            fprintf(stderr, "fuzz_tokenizer: %s\n", e.msg);
            abort();
        }
    }
    check_roundtrip(qwen, (const char *)data, size, 1);
    check_roundtrip(bytes, (const char *)data, size, 0);
    return 0;
}
