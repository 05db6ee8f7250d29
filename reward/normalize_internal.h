// Answer normalisation of the verifier (private to reward/): turns an
// extracted answer or a gold answer into one canonical string on which the
// structure and expression parsers work.
#pragma once

#include <stdbool.h>
#include <stddef.h>

// Markers put around the content of \text{}, \mathrm{} and friends, so that
// unit words can be recognised later; parsers read them as spaces.
#define NORM_TEXT_OPEN  '\x01'
#define NORM_TEXT_CLOSE '\x02'

// Maximum brace nesting normalisation follows (deeper input is refused).
#define NORM_MAX_NESTING 256

// Normalise s[0..n) into out (capacity cap, NUL-terminated): math delimiters,
// \left/\right and sizing, spacing commands, \displaystyle, \dfrac/\tfrac,
// \text{}-like wrappers (content kept between markers), bold groups (content
// without braces or spaces: \mathbf{1 0 9} is 109), degrees, \% and
// Unicode operators, {,} separators, whitespace runs, the words "and" and "or"
// (list commas), trailing punctuation; then unit words after a value, and thousands
// separators of a bare number. Returns 0, or -1 when the output would not fit
// or nesting is too deep (a budget failure).
int norm_answer(const char *s, size_t n, char *out, size_t cap, size_t *out_len);

// If s is a multiple-choice letter A-E, written "B", "(B)", "B)" or
// "(B) text", store it (upper case) in *letter and return true.
bool norm_choice_letter(const char *s, size_t n, char *letter);

// Text comparison after normalisation: case-insensitive, ignoring spaces and
// text markers.
bool norm_text_equal(const char *a, size_t na, const char *b, size_t nb);
