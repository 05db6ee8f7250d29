// The final-statement extraction's shared pieces (private to reward/): the
// scan of a worked solution's math spans (extract_final.c) and the rules for
// statements that name their value, the opening and closing sentences
// (extract_statement.c). Positions are byte offsets into the text t.
#pragma once

#include <stdbool.h>
#include <stddef.h>

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
};

// The scan and the spans (extract_final.c).
bool final_has_at(const char *t, size_t n, size_t i, const char *s);
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
bool final_word_at(const char *t, size_t e, size_t i, const char *w);

// Statements that name their value (extract_statement.c); each sets the
// answer t[*start..*start + *len) and returns true when it applies.
bool final_head_statement(const char *t, size_t n, size_t *start, size_t *len);
bool final_answer_reversed(const char *t, size_t n, const struct scan *sc, size_t *start,
                           size_t *len);
bool final_closing_statement(const char *t, size_t n, size_t *start, size_t *len);
// Start of the last sentence of t[0..n) (after the last '.' outside math that
// a space follows, or the last blank line).
size_t final_last_sentence(const char *t, size_t n);
