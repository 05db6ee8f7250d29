// Byte-level BPE encoding of a segment free of added tokens: NFC, the
// pre-tokenizer regex, then BPE merges by rank on each piece's bytes.
//
// The merge loop is Hugging Face's (tokenizers/src/models/bpe/word.rs): a
// doubly linked list of symbols and a min-heap of candidate pairs keyed by
// (rank, position); stale heap entries are skipped when popped. A piece of n
// bytes costs O(n log n), so long runs without a split cannot go quadratic.
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/check.h"
#include "tokenizer/tokenizer_internal.h"

size_t tokenizer_utf8_check(const char *str, size_t n) {
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint8_t lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c == 0xE0)
            len = 3, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC)
            len = 3;
        else if (c == 0xED)
            len = 3, hi = 0x9F; // no UTF-16 surrogates
        else if (c >= 0xEE && c <= 0xEF)
            len = 3;
        else if (c == 0xF0)
            len = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3)
            len = 4;
        else if (c == 0xF4)
            len = 4, hi = 0x8F; // at most U+10FFFF
        else
            return i;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += len;
    }
    return n;
}

// A radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) over 64-bit keys: a
// priority queue for monotone use (no key pushed below the last one popped),
// each key moving down at most 64 buckets in sequential sweeps. Long pieces
// use it when merges are monotone (bpe.merges_monotone): a merge only
// creates pairs of higher rank, so keys rank << 32 | position only grow.
struct radix_heap {
    uint64_t last; // the last key popped
    size_t size;
    uint64_t *v[65]; // bucket i holds keys whose highest bit differing from last is i - 1
    size_t n[65], cap[65];
};

static inline int rh_index(uint64_t x, uint64_t last) {
    return x == last ? 0 : 64 - __builtin_clzll(x ^ last);
}

static void rh_append(struct radix_heap *h, int i, uint64_t x) {
    if (h->n[i] == h->cap[i]) {
        h->cap[i] = h->cap[i] ? 2 * h->cap[i] : 64;
        h->v[i] = xrealloc(h->v[i], h->cap[i] * sizeof *h->v[i]);
    }
    h->v[i][h->n[i]++] = x;
}

static void rh_push(struct radix_heap *h, uint64_t x) {
    CHECK(x >= h->last, "radix heap: key below the last popped (merges not monotone)");
    rh_append(h, rh_index(x, h->last), x);
    h->size++;
}

static uint64_t rh_pop(struct radix_heap *h) {
    if (h->n[0] == 0) { // refill bucket 0 from the first non-empty bucket
        int i = 1;
        while (h->n[i] == 0) i++;
        uint64_t m = UINT64_MAX;
        for (size_t k = 0; k < h->n[i]; k++)
            if (h->v[i][k] < m) m = h->v[i][k];
        h->last = m;
        size_t cnt = h->n[i];
        h->n[i] = 0;
        for (size_t k = 0; k < cnt; k++) {
            uint64_t x = h->v[i][k];
            rh_append(h, rh_index(x, m), x); // always a lower bucket than i
        }
    }
    h->size--;
    return h->v[0][--h->n[0]];
}

// The candidate pairs of one piece: a binary min-heap, or the radix heap.
struct queue {
    int is_radix;
    uint64_t *heap; // binary heap, 2 n entries reserved
    size_t n_heap;
    struct radix_heap *rh;
};

// Per-call scratch, grown as needed.
struct bpe_scratch {
    struct sym {
        int32_t id, prev, next; // id -1: merged into its left neighbour
    } * syms;
    uint64_t *heap; // (2 cap) rank << 32 | position
    size_t cap;
    struct radix_heap rh;
};

enum { RADIX_MIN_PIECE = 256 }; // shorter pieces: the binary heap is as fast

static void scratch_reserve(struct bpe_scratch *s, size_t n) {
    if (n <= s->cap) return;
    s->cap = n > 2 * s->cap ? n : 2 * s->cap;
    s->syms = xrealloc(s->syms, s->cap * sizeof *s->syms);
    s->heap = xrealloc(s->heap, 2 * s->cap * sizeof *s->heap);
}

static void scratch_free(struct bpe_scratch *s) {
    free(s->syms);
    free(s->heap);
    for (int i = 0; i < 65; i++) free(s->rh.v[i]);
}

static inline int merge_find(const struct bpe *b, int32_t left, int32_t right, uint32_t *rank,
                             int32_t *new_id) {
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    uint64_t h = (key * 0x9E3779B97F4A7C15ull) >> 20 & b->merge_mask;
    for (; b->merge_keys[h] != UINT64_MAX; h = (h + 1) & b->merge_mask) {
        if (b->merge_keys[h] == key) {
            *rank = b->merge_rank[h];
            *new_id = b->merge_new[h];
            return 1;
        }
    }
    return 0;
}

static void heap_sift_down(uint64_t *h, size_t n, size_t i) {
    uint64_t x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1] < h[c]) c++;
        if (h[c] >= x) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void queue_push(struct queue *q, uint64_t x) {
    if (q->is_radix) {
        rh_push(q->rh, x);
        return;
    }
    uint64_t *h = q->heap;
    size_t i = q->n_heap++;
    while (i > 0 && h[(i - 1) / 2] > x) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static int queue_pop(struct queue *q, uint64_t *x) {
    if (q->is_radix) {
        if (q->rh->size == 0) return 0;
        *x = rh_pop(q->rh);
        return 1;
    }
    if (q->n_heap == 0) return 0;
    *x = q->heap[0];
    q->heap[0] = q->heap[--q->n_heap];
    heap_sift_down(q->heap, q->n_heap, 0);
    return 1;
}

static void push_pair(const struct bpe *b, const struct sym *syms, struct queue *q, int32_t pos) {
    uint32_t rank;
    int32_t new_id;
    if (merge_find(b, syms[pos].id, syms[syms[pos].next].id, &rank, &new_id))
        queue_push(q, (uint64_t)rank << 32 | (uint32_t)pos);
}

static void bpe_piece(const struct tokenizer *tok, const uint8_t *bytes, size_t n,
                      struct bpe_scratch *s, struct token_ids *out) {
    const struct bpe *b = tok->bpe;
    if (n == 0) return;
    if (n == 1) {
        token_ids_push(out, b->byte_id[bytes[0]]);
        return;
    }
    if (b->ignore_merges) {
        int32_t id = tok_lookup(tok, (const char *)bytes, n);
        if (id >= 0 && !(tok->tok_flags[id] & TOK_ADDED)) {
            token_ids_push(out, id);
            return;
        }
    }
    scratch_reserve(s, n);
    struct sym *syms = s->syms;
    for (size_t i = 0; i < n; i++)
        syms[i] =
            (struct sym){b->byte_id[bytes[i]], (int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1};
    struct queue q = {
        .is_radix = b->merges_monotone && n >= RADIX_MIN_PIECE, .heap = s->heap, .rh = &s->rh};
    if (q.is_radix) {
        s->rh.last = 0;
        s->rh.size = 0;
        for (int i = 0; i < 65; i++) s->rh.n[i] = 0;
        for (size_t i = 0; i + 1 < n; i++) push_pair(b, syms, &q, (int32_t)i);
    } else { // fill in position order, then heapify in O(n)
        for (size_t i = 0; i + 1 < n; i++) {
            uint32_t rank;
            int32_t new_id;
            if (merge_find(b, syms[i].id, syms[i + 1].id, &rank, &new_id))
                q.heap[q.n_heap++] = (uint64_t)rank << 32 | (uint32_t)i;
        }
        for (size_t i = q.n_heap / 2; i-- > 0;) heap_sift_down(q.heap, q.n_heap, i);
    }
    uint64_t top;
    while (queue_pop(&q, &top)) {
        int32_t pos = (int32_t)(uint32_t)top;
        int32_t next = syms[pos].next;
        if (syms[pos].id < 0 || next < 0) continue;
        uint32_t rank;
        int32_t new_id;
        // Stale entry: the pair at pos changed since it was pushed.
        if (!merge_find(b, syms[pos].id, syms[next].id, &rank, &new_id) || rank != top >> 32)
            continue;
        syms[pos].id = new_id;
        syms[pos].next = syms[next].next;
        if (syms[next].next >= 0) syms[syms[next].next].prev = pos;
        syms[next].id = -1;
        // Each merge pops one entry and pushes at most two, and there are at
        // most n - 1 merges: the binary heap never exceeds 2 (n - 1) entries.
        if (syms[pos].prev >= 0) push_pair(b, syms, &q, syms[pos].prev);
        if (syms[pos].next >= 0) push_pair(b, syms, &q, pos);
    }
    for (int32_t i = 0; i >= 0; i = syms[i].next) token_ids_push(out, syms[i].id);
}

static int is_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)s[i] >= 0x80) return 0;
    return 1;
}

int bpe_encode_segment(const struct tokenizer *tok, const char *text, size_t n_bytes,
                       struct token_ids *out, struct err *e) {
    const struct bpe *b = tok->bpe;
    int rc = 0;
    uint8_t *nfc = NULL;
    pcre2_match_data *md = NULL;
    pcre2_match_context *mctx = NULL;
    pcre2_jit_stack *jit_stack = NULL;
    struct bpe_scratch scratch = {0};
    if (b->has_nfc && !is_ascii(text, n_bytes)) {
        utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)n_bytes,
                                          &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (n < 0) {
            rc = err_user(e, "NFC normalisation failed: %s", utf8proc_errmsg(n));
            goto fail;
        }
        text = (const char *)nfc;
        n_bytes = (size_t)n;
    }
    const uint8_t *s = (const uint8_t *)text;
    if (!b->split_re) {
        bpe_piece(tok, s, n_bytes, &scratch, out);
        goto fail;
    }
    md = pcre2_match_data_create(1, NULL);
    mctx = pcre2_match_context_create(NULL);
    CHECK(md && mctx, "out of memory for regex matching");
    // A budget linear in the text: the pre-tokenizer patterns backtrack over
    // a whitespace run once (\s*[\r\n]+ fails, \s+(?!\S) takes the run), so
    // the default limit of 10M steps would refuse a 10 MB run of spaces.
    pcre2_set_match_limit(mctx,
                          (uint32_t)(n_bytes > 400000000u ? UINT32_MAX : 10000000u + 8 * n_bytes));
    size_t pos = 0; // start of the text not yet emitted
    size_t search = 0;
    while (search < n_bytes) {
        int m = pcre2_match(b->split_re, s, n_bytes, search, PCRE2_NO_UTF_CHECK, md, mctx);
        if (m == PCRE2_ERROR_JIT_STACKLIMIT && !jit_stack) {
            jit_stack = pcre2_jit_stack_create(1 << 16, 1 << 28, NULL);
            CHECK(jit_stack, "out of memory for the regex stack");
            pcre2_jit_stack_assign(mctx, NULL, jit_stack);
            continue;
        }
        if (m == PCRE2_ERROR_NOMATCH) break;
        if (m < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(m, msg, sizeof msg);
            rc = err_user(e, "pre-tokenizer regex failed at byte %zu: %s", search,
                          (const char *)msg);
            goto fail;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[1] <= ov[0]) { // an empty match: step over one character
            search = ov[0] + 1;
            while (search < n_bytes && (s[search] & 0xC0) == 0x80) search++;
            continue;
        }
        if (ov[0] > pos) bpe_piece(tok, s + pos, ov[0] - pos, &scratch, out); // unmatched gap
        bpe_piece(tok, s + ov[0], ov[1] - ov[0], &scratch, out);
        pos = search = ov[1];
    }
    if (n_bytes > pos) bpe_piece(tok, s + pos, n_bytes - pos, &scratch, out);
fail:
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
    pcre2_jit_stack_free(jit_stack);
    scratch_free(&scratch);
    free(nfc);
    return rc;
}
