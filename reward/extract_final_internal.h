// The final-statement extraction's shared pieces (private to reward/): the
// scan of a worked solution's math spans (extract_final.c) and the rules for
// statements that name their value, the opening and closing sentences
// (extract_statement.c). Positions are byte offsets into the text t.
#pragma once

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define FINAL_MAX_SPANS 64 // spans remembered (a ring): the answer is near the end

struct span {
    size_t a, b;   // content t[a..b)
    size_t a0, b1; // with delimiters t[a0..b1)
};

struct scan {
    struct span ring[FINAL_MAX_SPANS];
    int n; // spans seen (ring index n % FINAL_MAX_SPANS)
    bool has_number;
    size_t num_a, num_b; // the last number outside math
    size_t run_a;        // start of the numbers joined to it ("1, 3, 5, and 15")
    int n_at_number;     // spans seen when it was read
    size_t last_start;   // start of the last sentence (after a '.' and a space, or a blank line)
};

// The scan and the spans (extract_final.c).
// s (a literal: its length folds) at t[i], within t[0..n).
static inline bool final_has_at(const char *t, size_t n, size_t i, const char *s) {
    size_t m = strlen(s);
    return i + m <= n && memcmp(t + i, s, m) == 0;
}

// The whole word w (lower case) at t[i], case-insensitive, within t[0..e).
static inline bool final_word_at(const char *t, size_t e, size_t i, const char *w) {
    size_t m = strlen(w);
    if (i + m > e || (i > 0 && isalpha((unsigned char)t[i - 1]))) return false;
    for (size_t k = 0; k < m; k++)
        if (tolower((unsigned char)t[i + k]) != w[k]) return false;
    return i + m == e || !isalpha((unsigned char)t[i + m]);
}

size_t final_math_end(const char *t, size_t n, size_t i, const char *close);
bool final_is_word_char(char c);
bool final_is_connector(const char *t, size_t a, size_t b);
void final_scan_text(const char *t, size_t n, struct scan *sc);
bool final_span_has_digit(const char *t, size_t a, size_t b);
bool final_span_has_value(const char *t, const struct span *s);
void final_cut_value(const char *t, size_t *a, size_t *b);
size_t final_lhs_len(const char *t, const struct span *s);
bool final_is_name(const char *p, size_t m);
bool final_set_trimmed(const char *t, size_t a, size_t b, size_t *start, size_t *len);
const struct span *final_ring_at(const struct scan *sc, int k);
bool final_take_span(const char *t, const struct scan *sc, int first, int pick, bool forward,
                     bool use_run, size_t *start, size_t *len);

// Statements that name their value (extract_statement.c); each sets the
// answer t[*start..*start + *len) and returns true when it applies.
bool final_head_statement(const char *t, size_t n, size_t *start, size_t *len);
bool final_answer_reversed(const char *t, size_t n, const struct scan *sc, size_t *start,
                           size_t *len);
// The closing statement reads the last sentence, t[last..n).
bool final_closing_statement(const char *t, size_t n, size_t last, size_t *start, size_t *len);
