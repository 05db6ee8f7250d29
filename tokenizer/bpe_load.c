// Loading a Hugging Face tokenizer.json (byte-level BPE): normaliser,
// pre-tokenizer regex, vocabulary, merges, added tokens, and the token roles
// of tokenizer_config.json. What the loader does not implement is an error.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "tokenizer/tokenizer_internal.h"

// GPT-2's pattern, which Hugging Face hard-codes for ByteLevel(use_regex=true).
static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// GPT-2's bytes_to_unicode, inverted: ByteLevel code point -> byte (-1: none).
static void bytelevel_inverse(int16_t inv[324]) {
    for (int i = 0; i < 324; i++) inv[i] = -1;
    int n = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        inv[printable ? b : 256 + n++] = (int16_t)b;
    }
}

// Decodes a ByteLevel string (UTF-8 of mapped code points) into raw bytes at
// dst; returns the number of bytes, or -1 if a character is not ByteLevel.
static long bytelevel_to_bytes(const int16_t inv[324], const char *s, size_t n, char *dst) {
    long k = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)s[i];
        uint32_t cp;
        if (c < 0x80) {
            cp = c;
            i += 1;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < n) {
            cp = ((uint32_t)(c & 0x1F) << 6) | ((uint8_t)s[i + 1] & 0x3F);
            i += 2;
        } else {
            return -1; // ByteLevel code points are all below U+0800
        }
        if (cp >= 324 || inv[cp] < 0) return -1;
        dst[k++] = (char)inv[cp];
    }
    return k;
}

static int read_whole_file(const char *path, char **out, size_t *n_out, struct err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_user(e, "cannot open '%s'", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return err_user(e, "cannot read '%s'", path);
    }
    *out = buf;
    *n_out = n;
    return 0;
}

static int parse_json_file(const char *path, cJSON **out, int *missing, struct err *e) {
    char *text = NULL;
    size_t n = 0;
    if (missing) {
        FILE *f = fopen(path, "rb");
        *missing = !f;
        if (!f) return 0;
        fclose(f);
    }
    TRY(read_whole_file(path, &text, &n, e));
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (!*out) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        long line = 1;
        for (size_t i = 0; i < off && i < n; i++) line += text[i] == '\n';
        free(text);
        return err_user(e, "%s:%ld: invalid JSON", path, line);
    }
    free(text);
    return 0;
}

static const char *json_type(const cJSON *obj) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "type");
    return cJSON_IsString(t) ? t->valuestring : "";
}

static int json_is_true(const cJSON *obj, const char *key) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static int compile_split(struct bpe *b, const char *pattern, int is_literal, const char *path,
                         struct err *e) {
    if (b->split_re)
        return err_user(e, "%s: more than one pre-tokenizer split is not supported", path);
    int code;
    PCRE2_SIZE off;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | (is_literal ? PCRE2_LITERAL : 0);
    b->split_re =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &code, &off, NULL);
    if (!b->split_re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return err_user(e, "%s: pre-tokenizer regex '%s': %s at offset %zu", path, pattern,
                        (const char *)msg, (size_t)off);
    }
    pcre2_jit_compile(b->split_re, PCRE2_JIT_COMPLETE); // the interpreter is the fallback
    return 0;
}

static int load_normalizer(struct bpe *b, const cJSON *n, const char *path, struct err *e) {
    if (!n || cJSON_IsNull(n)) return 0;
    const char *type = json_type(n);
    if (strcmp(type, "NFC") == 0) {
        b->has_nfc = 1;
        return 0;
    }
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(n, "normalizers"))
            TRY(load_normalizer(b, item, path, e));
        return 0;
    }
    return err_user(e, "%s: normalizer '%s' is not supported (only NFC)", path, type);
}

static int load_pre_tokenizer(struct bpe *b, const cJSON *p, const char *path, struct err *e) {
    if (!p || cJSON_IsNull(p)) return 0;
    const char *type = json_type(p);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(p, "pretokenizers"))
            TRY(load_pre_tokenizer(b, item, path, e));
        return 0;
    }
    if (strcmp(type, "ByteLevel") == 0) {
        if (json_is_true(p, "add_prefix_space"))
            return err_user(e, "%s: ByteLevel add_prefix_space is not supported", path);
        if (json_is_true(p, "use_regex")) return compile_split(b, gpt2_pattern, 0, path, e);
        return 0;
    }
    if (strcmp(type, "Split") == 0) {
        const cJSON *behavior = cJSON_GetObjectItemCaseSensitive(p, "behavior");
        if (!cJSON_IsString(behavior) || strcmp(behavior->valuestring, "Isolated") != 0)
            return err_user(e, "%s: Split behavior other than 'Isolated' is not supported", path);
        if (json_is_true(p, "invert"))
            return err_user(e, "%s: Split with invert is not supported", path);
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
        const cJSON *lit = cJSON_GetObjectItemCaseSensitive(pat, "String");
        if (cJSON_IsString(re)) return compile_split(b, re->valuestring, 0, path, e);
        if (cJSON_IsString(lit)) return compile_split(b, lit->valuestring, 1, path, e);
        return err_user(e, "%s: Split without a pattern", path);
    }
    return err_user(e, "%s: pre-tokenizer '%s' is not supported", path, type);
}

static int check_model(const cJSON *m, const char *path, struct err *e) {
    if (strcmp(json_type(m), "BPE") != 0)
        return err_user(e, "%s: model type '%s' is not supported (only BPE)", path, json_type(m));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "dropout");
    if (d && !cJSON_IsNull(d) && !(cJSON_IsNumber(d) && d->valuedouble == 0))
        return err_user(e, "%s: BPE dropout is not supported", path);
    const char *empty_keys[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int k = 0; k < 2; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, empty_keys[k]);
        if (cJSON_IsString(v) && v->valuestring[0])
            return err_user(e, "%s: BPE %s is not supported", path, empty_keys[k]);
    }
    if (json_is_true(m, "byte_fallback"))
        return err_user(e, "%s: BPE byte_fallback is not supported", path);
    return 0;
}

// Places every token's bytes in id order. src[id] is the token's string as
// written in the file, is_bytelevel[id] says whether it is ByteLevel-mapped.
static int place_tokens(struct tokenizer *tok, const char **src, const uint8_t *is_bytelevel,
                        size_t n_src_bytes, const char *path, struct err *e) {
    int16_t inv[324];
    bytelevel_inverse(inv);
    tok->tok_bytes = xmalloc(n_src_bytes + 1);
    uint64_t off = 0;
    for (int32_t id = 0; id < tok->vocab_size; id++) {
        tok->tok_off[id] = off;
        if (!src[id]) continue;
        size_t n = strlen(src[id]);
        if (is_bytelevel[id]) {
            long k = bytelevel_to_bytes(inv, src[id], n, tok->tok_bytes + off);
            if (k < 0) return err_user(e, "%s: token '%s' is not byte-level", path, src[id]);
            off += (uint64_t)k;
        } else {
            memcpy(tok->tok_bytes + off, src[id], n);
            off += n;
        }
    }
    tok->tok_off[tok->vocab_size] = off;
    return 0;
}

static int load_merges(struct tokenizer *tok, const cJSON *merges, const char *path,
                       struct err *e) {
    struct bpe *b = tok->bpe;
    int16_t inv[324];
    bytelevel_inverse(inv);
    int n = cJSON_GetArraySize(merges);
    uint64_t n_slots = 16;
    while (n_slots < 2 * (uint64_t)n) n_slots *= 2;
    b->merge_keys = xmalloc(n_slots * sizeof *b->merge_keys);
    memset(b->merge_keys, 0xff, n_slots * sizeof *b->merge_keys);
    b->merge_rank = xmalloc(n_slots * sizeof *b->merge_rank);
    b->merge_new = xmalloc(n_slots * sizeof *b->merge_new);
    b->merge_mask = n_slots - 1;
    char buf[2048];
    uint32_t rank = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, merges) {
        const char *part[2];
        size_t len[2];
        if (cJSON_IsString(m)) { // old format: "left right"
            const char *sp = strchr(m->valuestring, ' ');
            if (!sp)
                return err_user(e, "%s: merge %u '%s' has no space", path, rank, m->valuestring);
            part[0] = m->valuestring, len[0] = (size_t)(sp - m->valuestring);
            part[1] = sp + 1, len[1] = strlen(sp + 1);
        } else if (cJSON_GetArraySize(m) == 2 && cJSON_IsString(cJSON_GetArrayItem(m, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(m, 1))) {
            part[0] = cJSON_GetArrayItem(m, 0)->valuestring, len[0] = strlen(part[0]);
            part[1] = cJSON_GetArrayItem(m, 1)->valuestring, len[1] = strlen(part[1]);
        } else {
            return err_user(e, "%s: merge %u is neither \"a b\" nor [\"a\", \"b\"]", path, rank);
        }
        if (len[0] + len[1] >= sizeof buf)
            return err_user(e, "%s: merge %u is too long", path, rank);
        long k0 = bytelevel_to_bytes(inv, part[0], len[0], buf);
        long k1 = k0 < 0 ? -1 : bytelevel_to_bytes(inv, part[1], len[1], buf + k0);
        if (k1 < 0) return err_user(e, "%s: merge %u is not byte-level", path, rank);
        int32_t left = tok_lookup(tok, buf, (size_t)k0);
        int32_t right = tok_lookup(tok, buf + k0, (size_t)k1);
        int32_t merged = tok_lookup(tok, buf, (size_t)(k0 + k1));
        if (left < 0 || right < 0 || merged < 0)
            return err_user(e, "%s: merge %u uses a token that is not in the vocabulary", path,
                            rank);
        uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
        uint64_t h = (key * 0x9E3779B97F4A7C15ull) >> 20 & b->merge_mask;
        while (b->merge_keys[h] != UINT64_MAX && b->merge_keys[h] != key)
            h = (h + 1) & b->merge_mask;
        if (b->merge_keys[h] == UINT64_MAX) { // a repeated merge keeps its first rank
            b->merge_keys[h] = key;
            b->merge_rank[h] = rank;
            b->merge_new[h] = merged;
        }
        rank++;
    }
    return 0;
}

static void check_monotone(struct tokenizer *tok) {
    struct bpe *b = tok->bpe;
    int64_t *max_producer = xmalloc((size_t)tok->vocab_size * sizeof *max_producer);
    for (int32_t id = 0; id < tok->vocab_size; id++) max_producer[id] = -1;
    for (uint64_t h = 0; h <= b->merge_mask; h++)
        if (b->merge_keys[h] != UINT64_MAX &&
            (int64_t)b->merge_rank[h] > max_producer[b->merge_new[h]])
            max_producer[b->merge_new[h]] = b->merge_rank[h];
    b->merges_monotone = 1;
    for (uint64_t h = 0; h <= b->merge_mask; h++) {
        if (b->merge_keys[h] == UINT64_MAX) continue;
        int32_t left = (int32_t)(b->merge_keys[h] >> 32),
                right = (int32_t)(uint32_t)b->merge_keys[h];
        int64_t rank = b->merge_rank[h];
        if (rank <= max_producer[left] || rank <= max_producer[right]) b->merges_monotone = 0;
    }
    free(max_producer);
}

// Token roles from tokenizer_config.json: a string, {"content": ...} or null.
static int32_t role_id(const struct tokenizer *tok, const cJSON *cfg, const char *key,
                       int32_t dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    if (cJSON_IsString(v)) return tokenizer_token_id(tok, v->valuestring);
    if (v && cJSON_IsNull(v)) return -1;
    return dflt;
}

static int load_roles(struct tokenizer *tok, const char *json_path, struct err *e) {
    int32_t eot = tokenizer_token_id(tok, "<|endoftext|>");
    tok->specials = (struct tokenizer_specials){.bos = -1, .eos = eot, .pad = eot};
    size_t n = strlen(json_path);
    const char *slash = strrchr(json_path, '/');
    size_t dir_len = slash ? (size_t)(slash - json_path + 1) : 0;
    char *cfg_path = xmalloc(n + sizeof "tokenizer_config.json");
    memcpy(cfg_path, json_path, dir_len);
    strcpy(cfg_path + dir_len, "tokenizer_config.json");
    cJSON *cfg = NULL;
    int missing = 0;
    int rc = parse_json_file(cfg_path, &cfg, &missing, e);
    free(cfg_path);
    if (rc < 0 || missing) return rc;
    tok->specials.bos = role_id(tok, cfg, "bos_token", -1);
    tok->specials.eos = role_id(tok, cfg, "eos_token", tok->specials.eos);
    tok->specials.pad = role_id(tok, cfg, "pad_token", tok->specials.pad);
    cJSON_Delete(cfg);
    return 0;
}

int bpe_load_json(struct tokenizer *tok, const char *path, struct err *e) {
    cJSON *root = NULL;
    const char **src = NULL;
    uint8_t *is_bytelevel = NULL;
    int rc = parse_json_file(path, &root, NULL, e);
    if (rc < 0) return rc;
    tok->bpe = xcalloc(1, sizeof *tok->bpe);
    struct bpe *b = tok->bpe;
    TRY_FAIL(rc, load_normalizer(b, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), path, e));
    TRY_FAIL(rc, load_pre_tokenizer(b, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"),
                                    path, e));
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    if (dec && !cJSON_IsNull(dec) && strcmp(json_type(dec), "ByteLevel") != 0) {
        rc =
            err_user(e, "%s: decoder '%s' is not supported (only ByteLevel)", path, json_type(dec));
        goto fail;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    TRY_FAIL(rc, check_model(model, path, e));
    b->ignore_merges = json_is_true(model, "ignore_merges");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(merges)) {
        rc = err_user(e, "%s: model.vocab (object) and model.merges (array) are required", path);
        goto fail;
    }
    // Ids are bounded by the number of entries plus room for gaps, so a
    // hostile id cannot make the tables huge.
    int64_t max_id = -1;
    int64_t n_entries = cJSON_GetArraySize(vocab) + cJSON_GetArraySize(added) + (1 << 20);
    const cJSON *item;
    cJSON_ArrayForEach(item, vocab) {
        if (!cJSON_IsNumber(item) || item->valuedouble < 0 ||
            item->valuedouble >= (double)n_entries ||
            item->valuedouble != (double)(int64_t)item->valuedouble) {
            rc = err_user(e, "%s: vocab entry '%s' has a bad id", path, item->string);
            goto fail;
        }
        if ((int64_t)item->valuedouble > max_id) max_id = (int64_t)item->valuedouble;
    }
    cJSON_ArrayForEach(item, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(item, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= (double)n_entries ||
            !cJSON_IsString(content) || !content->valuestring[0]) {
            rc = err_user(e, "%s: added token without a valid id and content", path);
            goto fail;
        }
        if (json_is_true(item, "lstrip") || json_is_true(item, "rstrip") ||
            json_is_true(item, "single_word")) {
            rc = err_user(e, "%s: added token '%s': lstrip/rstrip/single_word are not supported",
                          path, content->valuestring);
            goto fail;
        }
        if ((int64_t)id->valuedouble > max_id) max_id = (int64_t)id->valuedouble;
    }
    if (max_id < 0) {
        rc = err_user(e, "%s: empty vocabulary", path);
        goto fail;
    }
    tok_alloc_tables(tok, (int32_t)(max_id + 1));
    src = xcalloc((size_t)max_id + 1, sizeof *src);
    is_bytelevel = xcalloc((size_t)max_id + 1, 1);
    size_t n_src_bytes = 0;
    cJSON_ArrayForEach(item, vocab) {
        int32_t id = (int32_t)item->valuedouble;
        src[id] = item->string;
        is_bytelevel[id] = 1;
        tok->tok_flags[id] = TOK_PRESENT;
        n_src_bytes += strlen(item->string);
    }
    cJSON_ArrayForEach(item, added) {
        int32_t id = (int32_t)cJSON_GetObjectItemCaseSensitive(item, "id")->valuedouble;
        src[id] = cJSON_GetObjectItemCaseSensitive(item, "content")->valuestring;
        is_bytelevel[id] = 0;
        tok->tok_flags[id] =
            TOK_PRESENT | TOK_ADDED | (json_is_true(item, "special") ? TOK_SPECIAL : 0);
        n_src_bytes += strlen(src[id]);
    }
    TRY_FAIL(rc, place_tokens(tok, src, is_bytelevel, n_src_bytes, path, e));
    tok_build_index(tok);
    for (int c = 0; c < 256; c++) {
        char byte = (char)c;
        b->byte_id[c] = tok_lookup(tok, &byte, 1);
        if (b->byte_id[c] < 0 || (tok->tok_flags[b->byte_id[c]] & TOK_ADDED)) {
            rc =
                err_user(e, "%s: byte 0x%02x has no token (byte-level BPE needs all 256)", path, c);
            goto fail;
        }
    }
    TRY_FAIL(rc, load_merges(tok, merges, path, e));
    check_monotone(tok);
    TRY_FAIL(rc, load_roles(tok, path, e));
fail:
    free(src);
    free(is_bytelevel);
    cJSON_Delete(root);
    return rc;
}

void bpe_destroy(struct bpe **b) {
    if (!*b) return;
    pcre2_code_free((*b)->split_re);
    free((*b)->merge_keys);
    free((*b)->merge_rank);
    free((*b)->merge_new);
    free(*b);
    *b = NULL;
}
