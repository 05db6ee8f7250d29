// The inside of struct tokenizer, shared by the files of tokenizer/.
//
// Every token, regular or added, has its raw bytes in one flat buffer
// (tok_bytes[tok_off[id] .. tok_off[id + 1])): for byte-level BPE these are the
// bytes behind the ByteLevel characters of tokenizer.json, so BPE runs on raw
// bytes and decoding is a concatenation.
#pragma once

#include <stdint.h>

#include "tokenizer/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

enum { TOK_PRESENT = 1, TOK_ADDED = 2, TOK_SPECIAL = 4 };

struct added_token {
    const char *text; // into tok_bytes
    uint32_t n_bytes;
    int32_t id;
};

// Byte-level BPE state (NULL for the byte tokenizer).
struct bpe {
    pcre2_code *split_re; // pre-tokenizer regex; NULL: the segment is one piece
    int has_nfc;          // NFC normaliser
    int ignore_merges;    // a piece that is a whole vocabulary token is emitted as is
    int32_t byte_id[256]; // id of each single byte
    // Merge table, open addressing: key (left id << 32 | right id) -> rank, new id.
    uint64_t *merge_keys; // UINT64_MAX = empty slot
    uint32_t *merge_rank;
    int32_t *merge_new;
    uint64_t merge_mask;
    // Every merge ranks after all merges that produce its two parts, so a
    // merge only creates pairs of higher rank and the candidate queue is
    // monotone (true of trained merge lists; checked at load).
    int merges_monotone;
};

struct tokenizer {
    enum tokenizer_kind kind;
    int32_t vocab_size;
    char *tok_bytes;    // all token bytes
    uint64_t *tok_off;  // (vocab_size + 1) offsets into tok_bytes
    uint8_t *tok_flags; // (vocab_size) TOK_* bits
    // Bytes -> id, open addressing over ids + 1 (0 = empty slot).
    int32_t *lookup;
    uint64_t lookup_mask;
    struct added_token *added; // sorted by length, longest first
    int n_added;
    uint8_t added_first[256]; // 1 where some added token starts with that byte
    struct tokenizer_specials specials;
    struct bpe *bpe;
    // Encodes a segment free of added tokens, appending to out.
    int (*encode_segment)(const struct tokenizer *tok, const char *text, size_t n_bytes,
                          struct token_ids *out, struct err *e);
};

// tokenizer.c: building blocks for the creators.
uint64_t tok_hash_bytes(const char *s, size_t n);
// Allocates tok_off/tok_flags for vocab_size ids, empty.
void tok_alloc_tables(struct tokenizer *tok, int32_t vocab_size);
// Builds lookup and the added-token index once tok_bytes, tok_off and
// tok_flags are filled.
void tok_build_index(struct tokenizer *tok);
int32_t tok_lookup(const struct tokenizer *tok, const char *s, size_t n);

// bpe_load.c / bpe_encode.c
int bpe_load_json(struct tokenizer *tok, const char *json_path, struct err *e);
int bpe_encode_segment(const struct tokenizer *tok, const char *text, size_t n_bytes,
                       struct token_ids *out, struct err *e);
void bpe_destroy(struct bpe **b);
