// Private to model/: the activation workspace and the block forward shared by training
// (packed self-attention) and inference (paged KV cache).
#pragma once

#include "model/model.h"

// Activations of one block (one set per block, or one shared set when recomputing).
struct block_acts {
    float *xn1;   // (N,C) rmsnorm(h) * ln1
    float *rstd1; // (N)
    float *qkv;   // (N,Q) after bias and rope
    float *att;   // (N,H*D) attention output
    float *lse;   // (N,H)
    float *hmid;  // (N,C) stream after attention
    float *xn2;   // (N,C)
    float *rstd2; // (N)
    float *gu;    // (N,2F) gate|up
};

struct model_acts {
    struct model_acts_cfg cfg;
    int n_sets;  // block_acts sets: L, or 1 when recomputing or inferring
    int n_resid; // stream buffers: L+1 (training) or 2 (inference)
    size_t n_bytes;
    void *buf;
    // Current batch.
    int N, B;
    int32_t *tokens, *targets, *pos, *cu; // (N), (N), (N), (N+1), the first idx_bytes of buf
    // Host side of the index arrays: the same pointers on a host backend; on a device backend a
    // host copy (hidx, same layout) filled by the host and uploaded once per batch (upload_idx).
    int32_t *h_tokens, *h_targets, *h_pos, *h_cu;
    size_t idx_bytes;
    void *hidx;
    float *io;    // device backends only: (3, N) the caller's log-probs, d_logprob, d_entropy
    float *resid; // (n_resid, N, C) block inputs; last = final stream
    struct block_acts *sets;
    float *rstdf;             // (N)
    float *hn;                // (N,C) final norm output
    float *lse_out, *ent_out; // (N) LM-head statistics, for backward
    // Scratch.
    float *act;                                        // (N,F) swiglu output
    float *dres, *dx, *dxn, *dqkv, *datt, *dgu, *dact; // gradients (training only)
    float *logits;                                     // (lm_chunk, V)
    int lm_chunk;
    float inv_temperature; // 1 / cfg.temperature (1 when none)
    bool has_last_logits;  // logits holds the last chunk of the last forward
};

// KV-cache attention arguments of one inference call (NULL for training).
struct infer_args {
    const struct kv_view *kv;
    const int32_t *cu_new, *start;
};

// Block l on a->N tokens: in (N,C) -> out (N,C), keeping activations in ba.
void model_block_forward(struct model *m, struct model_acts *a, struct block_acts *ba, int l,
                         const float *in, float *out, const struct infer_args *inf);
// Uploads the index arrays the host filled (h_tokens ..) to the device (nothing on the host).
void model_upload_idx(const struct model *m, struct model_acts *a);
// Final norm into a->hn.
void model_final_norm(struct model *m, struct model_acts *a, const float *in);
