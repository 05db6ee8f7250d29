// Chat templates: how a question becomes a prompt, and which token ends the
// answer.
//
//   chatml (Qwen):  <|im_start|>system\nSYSTEM<|im_end|>\n
//                   <|im_start|>user\nQUESTION<|im_end|>\n
//                   <|im_start|>assistant\n
//                   (no system turn when the system prompt is "none");
//                   the stop token is <|im_end|>.
//   raw:            the question as is (the tiny demo's "882+164="); the stop
//                   token is the tokenizer's eos.
//
// System prompts by name, from the Qwen2.5-Math recipe:
//   cot   "Please reason step by step, and put your final answer within \boxed{}."
//   tir   "Please integrate natural language reasoning with programs to solve
//          the problem above, and put your final answer within \boxed{}."
//   none  no system turn
// Any other string is used as the system prompt itself.
#pragma once

#include <stdint.h>

#include "core/err.h"
#include "tokenizer/tokenizer.h"

enum chat_format { CHAT_CHATML = 1, CHAT_RAW = 2 };

struct chat_template {
    enum chat_format format;
    char *system;    // owned; NULL: no system turn
    int32_t stop_id; // the token that ends a response
};

// The text of a named system prompt ("cot", "tir"); NULL for "none" and for
// names it does not know.
const char *chat_system_prompt_named(const char *name);

// format: "chatml" or "raw"; system_prompt: a name above, a custom text, or
// NULL (= "none"). Errors (ERR_USER): an unknown format, a tokenizer without
// the tokens the format needs (<|im_start|>, <|im_end|> for chatml, an eos
// for raw), a system prompt with the raw format.
int chat_template_create(const struct tokenizer *tok, const char *format, const char *system_prompt,
                         struct chat_template **out, struct err *e);
void chat_template_destroy(struct chat_template **t);

// Appends the prompt text for one question to out.
void chat_render(const struct chat_template *t, const char *question, struct text_buf *out);

// Appends the prompt's token ids for one question to out (special tokens of
// the template are encoded as such).
int chat_encode_prompt(const struct chat_template *t, const struct tokenizer *tok,
                       const char *question, struct token_ids *out, struct err *e);
