// Tokenizers: text <-> token ids, behind one interface.
//
// Two kinds:
//   - byte-level BPE loaded from a Hugging Face tokenizer.json (Qwen2.5 and the
//     GPT-2 family): added/special tokens are matched in the raw text first
//     (leftmost-longest), each remaining segment is NFC-normalised (utf8proc),
//     split by the pre-tokenizer regex read from the file (PCRE2, Unicode
//     properties), and each piece is merged by BPE rank on its bytes;
//   - a byte tokenizer for tiny models trained from scratch: ids 0..255 are
//     the bytes, followed by a few special tokens (tokenizer_create_bytes).
//
// Encoding never adds BOS/EOS. A tokenizer is immutable once created, so one
// can be shared by threads; encode/decode allocate their scratch per call.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

struct tokenizer; // opaque

enum tokenizer_kind { TOKENIZER_BPE = 1, TOKENIZER_BYTES = 2 };

// A growable array of token ids. Zero-initialise, append with the functions
// below, release with token_ids_free.
struct token_ids {
    int32_t *ids;
    size_t n, cap;
};
void token_ids_push(struct token_ids *t, int32_t id);
void token_ids_free(struct token_ids *t);

// A growable byte string, always NUL-terminated at s[n] (the bytes may hold
// NULs of their own: use n). Zero-initialise; release with text_buf_free.
struct text_buf {
    char *s;
    size_t n, cap;
};
void text_buf_append(struct text_buf *b, const char *bytes, size_t n_bytes);
void text_buf_free(struct text_buf *b);

// Ids of tokens with a role; -1 where the tokenizer has none.
struct tokenizer_specials {
    int32_t bos; // prepended by callers that want one (the Qwen tokenizer has none)
    int32_t eos; // end of sequence: the stop token without a chat template
    int32_t pad; // padding
};

// Loads a Hugging Face tokenizer.json; path is the file or the directory that
// holds it. Roles come from tokenizer_config.json beside it when present
// (eos_token, pad_token, bos_token), else eos = pad = "<|endoftext|>" if that
// token exists. Unsupported features of the format are errors, not silently
// different encodings.
int tokenizer_load(const char *path, struct tokenizer **out, struct err *e);

// The byte tokenizer: 0..255 bytes, 256 "<|endoftext|>" (eos), 257
// "<|im_start|>", 258 "<|im_end|>", 259 "<|bos|>" (bos), 260 "<|pad|>" (pad).
int tokenizer_create_bytes(struct tokenizer **out, struct err *e);

// "byte" (or "bytes") gives the byte tokenizer; anything else is a
// tokenizer.json path (config: tokenizer.kind byte|bpe, tokenizer.path).
int tokenizer_open(const char *spec, struct tokenizer **out, struct err *e);

void tokenizer_destroy(struct tokenizer **tok);

enum tokenizer_kind tokenizer_kind(const struct tokenizer *tok);
// Number of ids (largest id + 1), special tokens included.
int32_t tokenizer_vocab_size(const struct tokenizer *tok);
struct tokenizer_specials tokenizer_specials(const struct tokenizer *tok);
// Id of a token given by its text (a special token such as "<|im_end|>", or
// a regular token in its raw bytes), -1 if absent.
int32_t tokenizer_token_id(const struct tokenizer *tok, const char *text);
// True for added tokens marked special (and the byte tokenizer's specials).
int tokenizer_is_special(const struct tokenizer *tok, int32_t id);

// Appends the ids of text[0, n_bytes) to out. Special tokens written in the
// text are encoded as such. Errors (ERR_USER): invalid UTF-8, naming the
// byte offset (the byte tokenizer accepts any bytes).
int tokenizer_encode(const struct tokenizer *tok, const char *text, size_t n_bytes,
                     struct token_ids *out, struct err *e);

// Appends the bytes of ids to out; skip_special leaves special tokens out.
// The bytes may be invalid UTF-8 when ids end inside a character. Error
// (ERR_USER): an id outside [0, vocab size), naming it.
int tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, size_t n_ids,
                     int skip_special, struct text_buf *out, struct err *e);

// Writes s[0, n) to f as a JSON string: quotes, backslashes and control bytes
// escaped, bytes that are not valid UTF-8 replaced by U+FFFD.
void tokenizer_write_json_string(FILE *f, const char *s, size_t n);

// Offset of the first byte of s[0, n_bytes) that is not valid UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF are invalid), or n_bytes.
size_t tokenizer_utf8_check(const char *s, size_t n_bytes);
