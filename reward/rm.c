// Batched reward-model scoring through the model's KV-cache inference path.
#include "reward/rm.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "model/kv_cache.h"

struct reward_rm {
    struct model *model;
    struct model_acts *acts;
    struct kv_cache *cache;
    int max_batch, max_len;
    int32_t *tokens; // (max_batch * max_len)
    int32_t *cu;     // (max_batch + 1)
    int *seqs;       // (max_batch)
};

#define RM_BLOCK 16

int reward_rm_create(struct model *model, int max_batch, int max_len, struct reward_rm **out,
                     struct err *e) {
    *out = NULL;
    if (model->shape.head == MODEL_HEAD_LM)
        return err_user(e, "reward.rm_path: the model has no reward head (expected "
                           "Qwen2ForRewardModel or Qwen2ForSequenceClassification)");
    if (max_len > model->shape.max_pos) max_len = model->shape.max_pos;
    struct reward_rm *r = xcalloc(1, sizeof *r);
    r->model = model;
    r->max_batch = max_batch;
    r->max_len = max_len;
    int rc;
    struct model_acts_cfg ac = {.n_tokens_max = max_batch * max_len, .is_inference = true};
    TRY_FAIL(rc, model_acts_create(model, &ac, &r->acts, e));
    int blocks_per_seq = (max_len + RM_BLOCK - 1) / RM_BLOCK;
    struct kv_cache_cfg kc = {.n_blocks = max_batch * blocks_per_seq,
                              .block_size = RM_BLOCK,
                              .max_seqs = max_batch,
                              .max_len = max_len};
    TRY_FAIL(rc, kv_cache_create_on(model->be, &model->shape, &kc, NULL, &r->cache, e));
    r->tokens = xcalloc((size_t)max_batch * (size_t)max_len, sizeof *r->tokens);
    r->cu = xcalloc((size_t)max_batch + 1, sizeof *r->cu);
    r->seqs = xcalloc((size_t)max_batch, sizeof *r->seqs);
    *out = r;
    return 0;
fail:
    reward_rm_destroy(&r);
    return rc;
}

void reward_rm_destroy(struct reward_rm **rp) {
    struct reward_rm *r = *rp;
    if (!r) return;
    if (r->acts) model_acts_destroy(r->model, &r->acts);
    kv_cache_destroy(&r->cache);
    free(r->tokens);
    free(r->cu);
    free(r->seqs);
    free(r);
    *rp = NULL;
}

// One batch of b sequences: fresh cache sequences, one prefill, the scores.
static int score_batch(struct reward_rm *r, const int32_t *const *prompt, const int *n_prompt,
                       const int32_t *const *response, const int *n_response, int b, float *score,
                       struct err *e) {
    int rc = 0, n_made = 0;
    r->cu[0] = 0;
    for (int i = 0; i < b; i++) {
        int len = n_prompt[i] + n_response[i];
        if (len < 1 || len > r->max_len) {
            rc = err_user(e, "reward model: a sequence of %d tokens (the limit is %d)", len,
                          r->max_len);
            goto done;
        }
        memcpy(r->tokens + r->cu[i], prompt[i], (size_t)n_prompt[i] * sizeof(int32_t));
        memcpy(r->tokens + r->cu[i] + n_prompt[i], response[i],
               (size_t)n_response[i] * sizeof(int32_t));
        r->cu[i + 1] = r->cu[i] + len;
        TRY_FAIL(rc, kv_seq_create(r->cache, &r->seqs[i], e));
        n_made++;
        TRY_FAIL(rc, kv_seq_reserve(r->cache, r->seqs[i], len, e));
    }
    rc = model_infer_score(r->model, r->acts, r->cache, r->seqs, r->tokens, r->cu, b, score, e);
fail:
done:
    for (int i = 0; i < n_made; i++) kv_seq_destroy(r->cache, r->seqs[i]);
    return rc;
}

int reward_rm_score(struct reward_rm *r, const int32_t *const *prompt, const int *n_prompt,
                    const int32_t *const *response, const int *n_response, int n, float *score,
                    struct err *e) {
    for (int i0 = 0; i0 < n; i0 += r->max_batch) {
        int b = n - i0 < r->max_batch ? n - i0 : r->max_batch;
        TRY(score_batch(r, prompt + i0, n_prompt + i0, response + i0, n_response + i0, b,
                        score + i0, e));
    }
    return 0;
}
