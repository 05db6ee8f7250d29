// JSONL problem sets: one JSON object a line, with the question and the gold
// answer under configurable keys (data sets name them differently, see
// ../shared/data/README.md and docs/data.md).
//
// Rows keep file order; a row's index is its query id (the RNG key of its
// rollouts). All strings live in one flat buffer owned by the dataset.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

// How the gold answer is read from the value under answer_key.
enum gold_mode {
    GOLD_RAW = 1, // the string as is (trimmed); a number is written as by GOLD_NUMBER
    GOLD_GSM8K,   // the text after the last "####", trimmed, commas removed
    GOLD_BOXED,   // the content of the last \boxed{...} (or \fbox{...}), braces balanced
    GOLD_FIRST,   // the first element of a list (OlympiadBench's final_answer), read as raw
    GOLD_NUMBER,  // a JSON number (or numeric string): 27.0 -> "27", 0.5 -> "0.5"
};

// "raw", "gsm8k", "boxed", "first", "number"; 0 or ERR_USER naming the value.
int gold_mode_parse(const char *name, enum gold_mode *out, struct err *e);
const char *gold_mode_name(enum gold_mode mode);

#define DATASET_MAX_QUESTION_KEYS 8

struct dataset_cfg {
    const char *path;
    // The question: the strings under these keys, each trimmed, joined by
    // question_join (NULL: " "). SVAMP: {"Body", "Question"}.
    const char *question_keys[DATASET_MAX_QUESTION_KEYS];
    int n_question_keys;
    const char *question_join;
    const char *answer_key;
    enum gold_mode gold_mode;
    // A malformed line, a missing key, an empty question or an unreadable
    // gold answer is an error FILE:LINE: ... (0), or is skipped and counted (1).
    int skip_bad_lines;
};

struct dataset {
    size_t n_rows;
    size_t n_skipped;       // bad lines skipped (skip_bad_lines)
    size_t n_empty_gold;    // rows kept with an empty gold answer (2 in gaokao2023en)
    char *text;             // the strings, NUL-terminated, one after another
    uint64_t *question_off; // (n_rows) offsets into text
    uint64_t *gold_off;     // (n_rows)
    uint32_t *line;         // (n_rows) 1-based line of each row in the file
};

// Reads the whole file. Blank lines are not rows. Errors (ERR_USER): the
// file cannot be read, or a bad line when skip_bad_lines is 0, as
// "FILE:LINE: missing key 'answer'".
int dataset_load(const struct dataset_cfg *cfg, struct dataset **out, struct err *e);
void dataset_destroy(struct dataset **d);

static inline const char *dataset_question(const struct dataset *d, size_t row) {
    return d->text + d->question_off[row];
}
static inline const char *dataset_gold(const struct dataset *d, size_t row) {
    return d->text + d->gold_off[row];
}

// The content of the last \boxed{...} or \fbox{...} of s: *start and *len
// locate it in s. Returns 0, or -1 when s has none (or its braces do not close).
int data_find_last_boxed(const char *s, size_t *start, size_t *len);
