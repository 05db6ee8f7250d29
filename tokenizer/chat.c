// Chat templates (see chat.h): ChatML with the recipe's system prompts, and
// raw prompts for the tiny demo.
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "tokenizer/chat.h"

static const char cot_prompt[] =
    "Please reason step by step, and put your final answer within \\boxed{}.";
static const char tir_prompt[] =
    "Please integrate natural language reasoning with programs to solve the problem above, "
    "and put your final answer within \\boxed{}.";

const char *chat_system_prompt_named(const char *name) {
    if (strcmp(name, "cot") == 0) return cot_prompt;
    if (strcmp(name, "tir") == 0) return tir_prompt;
    return NULL;
}

int chat_template_create(const struct tokenizer *tok, const char *format, const char *system_prompt,
                         struct chat_template **out, struct err *e) {
    int has_system = system_prompt && strcmp(system_prompt, "none") != 0;
    struct chat_template t = {0};
    if (strcmp(format, "chatml") == 0) {
        t.format = CHAT_CHATML;
        t.stop_id = tokenizer_token_id(tok, "<|im_end|>");
        if (t.stop_id < 0 || tokenizer_token_id(tok, "<|im_start|>") < 0)
            return err_user(e,
                            "chat template 'chatml' needs the tokens <|im_start|> and <|im_end|>");
    } else if (strcmp(format, "raw") == 0) {
        t.format = CHAT_RAW;
        t.stop_id = tokenizer_specials(tok).eos;
        if (t.stop_id < 0)
            return err_user(e, "chat template 'raw' needs a tokenizer with an eos token");
        if (has_system)
            return err_user(e, "chat template 'raw' has no system turn (system prompt '%s')",
                            system_prompt);
    } else {
        return err_user(e, "unknown chat template '%s' (expected 'chatml' or 'raw')", format);
    }
    if (has_system) {
        const char *named = chat_system_prompt_named(system_prompt);
        t.system = xstrdup(named ? named : system_prompt);
    }
    *out = xmalloc(sizeof **out);
    **out = t;
    return 0;
}

void chat_template_destroy(struct chat_template **t) {
    if (!*t) return;
    free((*t)->system);
    free(*t);
    *t = NULL;
}

static void append(struct text_buf *out, const char *s) {
    text_buf_append(out, s, strlen(s));
}

void chat_render(const struct chat_template *t, const char *question, struct text_buf *out) {
    if (t->format == CHAT_RAW) {
        append(out, question);
        return;
    }
    if (t->system) {
        append(out, "<|im_start|>system\n");
        append(out, t->system);
        append(out, "<|im_end|>\n");
    }
    append(out, "<|im_start|>user\n");
    append(out, question);
    append(out, "<|im_end|>\n<|im_start|>assistant\n");
}

int chat_encode_prompt(const struct chat_template *t, const struct tokenizer *tok,
                       const char *question, struct token_ids *out, struct err *e) {
    struct text_buf text = {0};
    chat_render(t, question, &text);
    int rc = tokenizer_encode(tok, text.s, text.n, out, e);
    text_buf_free(&text);
    return rc;
}
