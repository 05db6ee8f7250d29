// The tokenizer interface: buffers, the token tables shared by both kinds,
// added-token matching before pre-tokenisation, decode, and the byte tokenizer.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "tokenizer/tokenizer_internal.h"

void token_ids_push(struct token_ids *t, int32_t id) {
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->ids = xrealloc(t->ids, t->cap * sizeof *t->ids);
    }
    t->ids[t->n++] = id;
}

void token_ids_free(struct token_ids *t) {
    free(t->ids);
    *t = (struct token_ids){0};
}

void text_buf_append(struct text_buf *b, const char *bytes, size_t n_bytes) {
    if (b->n + n_bytes + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n_bytes + 1) cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
    }
    if (n_bytes) memcpy(b->s + b->n, bytes, n_bytes);
    b->n += n_bytes;
    b->s[b->n] = '\0';
}

void text_buf_free(struct text_buf *b) {
    free(b->s);
    *b = (struct text_buf){0};
}

// FNV-1a, 64-bit.
uint64_t tok_hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

void tok_alloc_tables(struct tokenizer *tok, int32_t vocab_size) {
    tok->vocab_size = vocab_size;
    tok->tok_off = xcalloc((size_t)vocab_size + 1, sizeof *tok->tok_off);
    tok->tok_flags = xcalloc((size_t)vocab_size, 1);
}

static int added_longer_first(const void *a, const void *b) {
    const struct added_token *x = a, *y = b;
    if (x->n_bytes != y->n_bytes) return x->n_bytes > y->n_bytes ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

void tok_build_index(struct tokenizer *tok) {
    size_t n_slots = 16;
    while (n_slots < 2 * (size_t)tok->vocab_size) n_slots *= 2;
    tok->lookup = xcalloc(n_slots, sizeof *tok->lookup);
    tok->lookup_mask = n_slots - 1;
    int n_added = 0;
    for (int32_t id = 0; id < tok->vocab_size; id++) {
        if (!(tok->tok_flags[id] & TOK_PRESENT)) continue;
        if (tok->tok_flags[id] & TOK_ADDED) n_added++;
        const char *s = tok->tok_bytes + tok->tok_off[id];
        size_t n = tok->tok_off[id + 1] - tok->tok_off[id];
        // The first id wins when two tokens have the same bytes.
        if (tok_lookup(tok, s, n) >= 0) continue;
        uint64_t h = tok_hash_bytes(s, n) & tok->lookup_mask;
        while (tok->lookup[h]) h = (h + 1) & tok->lookup_mask;
        tok->lookup[h] = id + 1;
    }
    tok->added = xcalloc(n_added ? (size_t)n_added : 1, sizeof *tok->added);
    tok->n_added = 0;
    memset(tok->added_first, 0, sizeof tok->added_first);
    for (int32_t id = 0; id < tok->vocab_size; id++) {
        if (!(tok->tok_flags[id] & TOK_ADDED)) continue;
        uint64_t n = tok->tok_off[id + 1] - tok->tok_off[id];
        if (n == 0) continue;
        const char *s = tok->tok_bytes + tok->tok_off[id];
        tok->added[tok->n_added++] = (struct added_token){s, (uint32_t)n, id};
        tok->added_first[(uint8_t)s[0]] = 1;
    }
    qsort(tok->added, (size_t)tok->n_added, sizeof *tok->added, added_longer_first);
}

int32_t tok_lookup(const struct tokenizer *tok, const char *s, size_t n) {
    uint64_t h = tok_hash_bytes(s, n) & tok->lookup_mask;
    for (; tok->lookup[h]; h = (h + 1) & tok->lookup_mask) {
        int32_t id = tok->lookup[h] - 1;
        uint64_t off = tok->tok_off[id];
        if (tok->tok_off[id + 1] - off == n && memcmp(tok->tok_bytes + off, s, n) == 0) return id;
    }
    return -1;
}

void tokenizer_destroy(struct tokenizer **tok) {
    if (!*tok) return;
    struct tokenizer *t = *tok;
    bpe_destroy(&t->bpe);
    free(t->tok_bytes);
    free(t->tok_off);
    free(t->tok_flags);
    free(t->lookup);
    free(t->added);
    free(t);
    *tok = NULL;
}

enum tokenizer_kind tokenizer_kind(const struct tokenizer *tok) {
    return tok->kind;
}
int32_t tokenizer_vocab_size(const struct tokenizer *tok) {
    return tok->vocab_size;
}
struct tokenizer_specials tokenizer_specials(const struct tokenizer *tok) {
    return tok->specials;
}

int32_t tokenizer_token_id(const struct tokenizer *tok, const char *text) {
    return tok_lookup(tok, text, strlen(text));
}

int tokenizer_is_special(const struct tokenizer *tok, int32_t id) {
    return id >= 0 && id < tok->vocab_size && (tok->tok_flags[id] & TOK_SPECIAL);
}

// Added token matching at text[i], longest first; NULL if none.
static const struct added_token *added_match(const struct tokenizer *tok, const char *text,
                                             size_t n_left) {
    for (int k = 0; k < tok->n_added; k++) {
        const struct added_token *a = &tok->added[k];
        if (a->n_bytes <= n_left && memcmp(text, a->text, a->n_bytes) == 0) return a;
    }
    return NULL;
}

// Leftmost-longest split on added tokens (Hugging Face's AddedVocabulary);
// the text between them goes to the kind's segment encoder.
int tokenizer_encode(const struct tokenizer *tok, const char *text, size_t n_bytes,
                     struct token_ids *out, struct err *e) {
    if (tok->bpe) { // byte-level BPE works on Unicode text
        size_t bad = tokenizer_utf8_check(text, n_bytes);
        if (bad < n_bytes) return err_user(e, "invalid UTF-8 at byte %zu", bad);
    }
    size_t start = 0;
    for (size_t i = 0; i < n_bytes; i++) {
        if (!tok->added_first[(uint8_t)text[i]]) continue;
        const struct added_token *a = added_match(tok, text + i, n_bytes - i);
        if (!a) continue;
        if (i > start) {
            TRY(tok->encode_segment(tok, text + start, i - start, out, e));
        }
        token_ids_push(out, a->id);
        i += a->n_bytes - 1;
        start = i + 1;
    }
    if (n_bytes > start) {
        TRY(tok->encode_segment(tok, text + start, n_bytes - start, out, e));
    }
    return 0;
}

int tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, size_t n_ids,
                     int skip_special, struct text_buf *out, struct err *e) {
    for (size_t i = 0; i < n_ids; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= tok->vocab_size || !(tok->tok_flags[id] & TOK_PRESENT))
            return err_user(e, "token id %d at position %zu is not in the vocabulary (size %d)",
                            (int)id, i, (int)tok->vocab_size);
        if (skip_special && (tok->tok_flags[id] & TOK_SPECIAL)) continue;
        text_buf_append(out, tok->tok_bytes + tok->tok_off[id],
                        tok->tok_off[id + 1] - tok->tok_off[id]);
    }
    if (!out->s) text_buf_append(out, "", 0);
    return 0;
}

// The byte tokenizer: any bytes are valid, one id each.
static int bytes_encode_segment(const struct tokenizer *tok, const char *text, size_t n_bytes,
                                struct token_ids *out, struct err *e) {
    (void)tok, (void)e;
    for (size_t i = 0; i < n_bytes; i++) token_ids_push(out, (uint8_t)text[i]);
    return 0;
}

int tokenizer_create_bytes(struct tokenizer **out, struct err *e) {
    (void)e;
    static const char *const specials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|bos|>",
                                           "<|pad|>"};
    enum { N_SPECIALS = sizeof specials / sizeof specials[0] };
    struct tokenizer *tok = xcalloc(1, sizeof *tok);
    tok->kind = TOKENIZER_BYTES;
    tok_alloc_tables(tok, 256 + N_SPECIALS);
    size_t n_bytes = 256;
    for (int k = 0; k < N_SPECIALS; k++) n_bytes += strlen(specials[k]);
    tok->tok_bytes = xmalloc(n_bytes);
    size_t off = 0;
    for (int32_t id = 0; id < 256; id++) {
        tok->tok_off[id] = off;
        tok->tok_bytes[off++] = (char)id;
        tok->tok_flags[id] = TOK_PRESENT;
    }
    for (int k = 0; k < N_SPECIALS; k++) {
        tok->tok_off[256 + k] = off;
        memcpy(tok->tok_bytes + off, specials[k], strlen(specials[k]));
        off += strlen(specials[k]);
        tok->tok_flags[256 + k] = TOK_PRESENT | TOK_ADDED | TOK_SPECIAL;
    }
    tok->tok_off[256 + N_SPECIALS] = off;
    tok_build_index(tok);
    tok->specials = (struct tokenizer_specials){.bos = 259, .eos = 256, .pad = 260};
    tok->encode_segment = bytes_encode_segment;
    *out = tok;
    return 0;
}

int tokenizer_load(const char *path, struct tokenizer **out, struct err *e) {
    struct stat st;
    if (stat(path, &st) != 0) return err_user(e, "tokenizer '%s' not found", path);
    char *json_path = NULL;
    if (S_ISDIR(st.st_mode)) {
        size_t n = strlen(path) + sizeof "/tokenizer.json";
        json_path = xmalloc(n);
        snprintf(json_path, n, "%s/tokenizer.json", path);
    } else {
        json_path = xstrdup(path);
    }
    struct tokenizer *tok = xcalloc(1, sizeof *tok);
    tok->kind = TOKENIZER_BPE;
    tok->encode_segment = bpe_encode_segment;
    int rc = bpe_load_json(tok, json_path, e);
    free(json_path);
    if (rc < 0) {
        tokenizer_destroy(&tok);
        return rc;
    }
    *out = tok;
    return 0;
}

int tokenizer_open(const char *spec, struct tokenizer **out, struct err *e) {
    if (strcmp(spec, "byte") == 0 || strcmp(spec, "bytes") == 0)
        return tokenizer_create_bytes(out, e);
    return tokenizer_load(spec, out, e);
}
