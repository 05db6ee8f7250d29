// Answer extraction: finds the final answer in a model response (or in a
// reference solution) without copying or allocating.
//
// Order: the last \boxed{...} / \fbox{...} with balanced braces (also
// "\boxed 5"), then the enabled fallbacks in this order: GSM8K's "#### N",
// "The answer is ...", the Chinese 答案是 / 答案为 / 故答案, the final statement
// of a worked solution, the last number of the text. A response without any is "no answer" (r_v =
// 0, counted apart).
#pragma once

#include <stdbool.h>
#include <stddef.h>

// Where an extracted answer came from.
enum reward_answer_source {
    REWARD_SOURCE_NONE = 0,
    REWARD_SOURCE_BOXED,
    REWARD_SOURCE_HASHES,    // "#### N"
    REWARD_SOURCE_ANSWER_IS, // "the answer is ..."
    REWARD_SOURCE_CHINESE,   // 答案是 / 答案为 / 故答案
    REWARD_SOURCE_LAST_NUMBER,
    REWARD_SOURCE_FINAL, // the final statement of a worked solution (bold, last math, number)
};

// Task styles; each sets the default fallbacks.
enum reward_mode {
    REWARD_MODE_BOXED = 0, // MATH-style: \boxed{} answers; no last-number fallback
    REWARD_MODE_GSM8K,     // GSM8K-style: "#### N", and the last number as a fallback
    REWARD_MODE_SOLUTION,  // worked solutions (reference texts): boxed, then the final statement
};

struct reward_extract_opts {
    bool use_boxed;
    bool use_hashes;
    bool use_answer_is;
    bool use_chinese;
    bool use_last_number;
    bool use_final_statement;  // a worked solution's final statement (tried before last number)
    size_t max_response_bytes; // only the last max_response_bytes of a response are read
    size_t max_answer_bytes;   // a \boxed{} content longer than this is not followed
};

#define REWARD_MAX_RESPONSE_BYTES_DEFAULT ((size_t)1 << 20)
#define REWARD_MAX_ANSWER_BYTES_DEFAULT   ((size_t)4096)

// Defaults for a mode: boxed + hashes + answer-is + Chinese on everywhere;
// the last number only in REWARD_MODE_GSM8K; the final statement only in
// REWARD_MODE_SOLUTION.
void reward_extract_opts_default(struct reward_extract_opts *o, enum reward_mode mode);

// "boxed", "gsm8k" or "solution" -> mode; returns false for any other name.
bool reward_mode_parse(const char *name, enum reward_mode *mode);
const char *reward_mode_name(enum reward_mode mode);
const char *reward_answer_source_name(enum reward_answer_source source);

// The final-statement fallback alone (reward/extract_final.c, rules in
// docs/reward.md): the last math span with a bold number (\mathbf{},
// \boldsymbol{}; not where letters are bold, as vectors), else an opening
// answer statement ("The required maximum is $2 n-2$.", "We claim that
// $M=...$."), else the span after the last "final answer is" / "answer is"
// (or the value before "is the answer"), else a closing statement ("The ten
// smallest are 27, $54, ...$, and 378.", "79 is the largest ..."), else the
// later of the last math span holding a value and the last number outside
// math; a run of math spans joined only by commas, "and", "or" is taken whole,
// a single span from after its last top-level "=", "\approx" or "\in".
// Linear in n.
bool reward_extract_final_statement(const char *text, size_t n, size_t *start, size_t *len);

// Find the answer in text[0..n). On success returns its source and sets
// *start, *len to the answer's bytes inside text (trimmed, without the
// \boxed{} braces); returns REWARD_SOURCE_NONE when there is none.
// Linear in n (bounded by max_response_bytes); never allocates.
enum reward_answer_source reward_extract_answer(const char *text, size_t n,
                                                const struct reward_extract_opts *o, size_t *start,
                                                size_t *len);
