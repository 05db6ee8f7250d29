// Encoding every question of a data set into prompt ids, once (prompts.h).
#include <stdlib.h>

#include "core/check.h"
#include "core/log.h"
#include "data/prompts.h"

int prompt_set_build(const struct dataset *d, const char *path, const struct tokenizer *tok,
                     const struct chat_template *t, int64_t max_prompt_tokens,
                     struct prompt_set **out, struct err *e) {
    CHECK(max_prompt_tokens > 0, "max_prompt_tokens %lld", (long long)max_prompt_tokens);
    struct token_ids all = {0};
    struct prompt_set *p = xcalloc(1, sizeof *p);
    p->row = xmalloc((d->n_rows ? d->n_rows : 1) * sizeof *p->row);
    p->off = xmalloc((d->n_rows + 1) * sizeof *p->off);
    p->off[0] = 0;
    int rc = 0;
    for (size_t r = 0; r < d->n_rows; r++) {
        size_t start = all.n;
        if ((rc = chat_encode_prompt(t, tok, dataset_question(d, r), &all, e)) < 0) {
            err_prefix(e, "%s:%u: question: ", path, d->line[r]);
            goto fail;
        }
        if ((int64_t)(all.n - start) > max_prompt_tokens) {
            all.n = start;
            p->n_skipped_long++;
            continue;
        }
        p->row[p->n_prompts++] = (uint32_t)r;
        p->off[p->n_prompts] = all.n;
    }
    if (p->n_prompts == 0) {
        rc = err_user(e, "%s: no prompt fits in %lld tokens (data.max_prompt_tokens)", path,
                      (long long)max_prompt_tokens);
        goto fail;
    }
    if (p->n_skipped_long)
        LOG_WARN("%s: skipped %zu of %zu prompts longer than %lld tokens", path, p->n_skipped_long,
                 d->n_rows, (long long)max_prompt_tokens);
    p->ids = all.ids; // the prompt set takes the buffer
    *out = p;
    return 0;
fail:
    token_ids_free(&all);
    prompt_set_destroy(&p);
    return rc;
}

void prompt_set_destroy(struct prompt_set **p) {
    if (!*p) return;
    free((*p)->row);
    free((*p)->off);
    free((*p)->ids);
    free(*p);
    *p = NULL;
}
