// The Qwen2-family transformer: parameter layout in one flat buffer, training
// forward/backward over packed sequences, KV-cache inference, memory plan.
//
// Shape letters, used in every comment of model/ (style.md):
//   B sequences in a batch, T tokens of one sequence, N packed tokens of a
//   batch (sum of T), C hidden, H query heads, Hkv KV heads, D head dim
//   (C / H), Q = (H + 2 Hkv) D the fused q|k|v width, F ffn, V vocab,
//   L layers, G group size.
//
// Block l (Hugging Face Qwen2DecoderLayer):
//   x  = rmsnorm(h) * ln1;  q|k|v = x Wqkv^T + bqkv;  rope(q, k, pos)
//   h += attn(q, k, v) Wo^T
//   x  = rmsnorm(h) * ln2;  h += (silu(x Wg^T) * (x Wu^T)) Wd^T
// then hn = rmsnorm(h) * norm; logits = hn Wlm^T (Wlm = embedding when tied).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/err.h"
#include "model/backend.h"

enum model_head {
    MODEL_HEAD_LM,    // Qwen2ForCausalLM: lm_head (or tied embedding)
    MODEL_HEAD_RM,    // Qwen2.5-Math-RM: score.0 Linear(C,C)+bias, ReLU, score.2 Linear(C,1)+bias
    MODEL_HEAD_SCORE, // Qwen2ForSequenceClassification, 1 label: score.weight (1, C), no bias
};

struct model_shape {
    int C, L, H, Hkv, D, F, V;
    int max_pos; // max_position_embeddings (positions are checked against it)
    float rope_theta;
    float rms_eps;
    bool is_tied; // tie_word_embeddings: logits use model.embed_tokens.weight
    enum model_head head;
};

// Checks the shape (positive sizes, H % Hkv == 0, D even, C == H D); a user error naming the field.
int model_shape_check(const struct model_shape *s, struct err *e);

#define MODEL_NAME_MAX 96

// One parameter tensor of the flat buffer; the same offsets index gradients and AdamW moments.
struct model_tensor {
    char name[MODEL_NAME_MAX]; // Hugging Face name, e.g. "model.layers.3.self_attn.q_proj.bias"
    int ndim;                  // 1 or 2
    int64_t shape[2];
    size_t offset;  // in floats, from the start of the flat buffer (a multiple of 16)
    size_t n;       // number of floats
    bool has_decay; // AdamW weight decay applies (matrices, not norms or biases)
};

// Offsets (in floats) of the tensors of one block. Wqkv is (Q, C): q_proj, k_proj, v_proj
// weights stored back to back, so one GEMM computes q|k|v; bqkv likewise. Wgu is (2F, C):
// gate_proj then up_proj.
struct model_layer_off {
    size_t ln1, wqkv, bqkv, wo, ln2, wgu, wd;
};

struct model {
    struct model_shape shape;
    const struct backend *be;  // borrowed
    struct mem_ledger *ledger; // borrowed, may be NULL
    int n_tensors;
    struct model_tensor *tensors;
    size_t n_params;               // floats in the flat buffer
    float *params;                 // (n_params), tagged MEM_PARAMS; in be's memory (model_host_get)
    float *grads;                  // (n_params) or NULL; model_alloc_grads
    struct model_layer_off *layer; // (L)
    size_t embed, norm, lm_head;   // lm_head == embed when tied
    size_t score0_w, score0_b, score2_w, score2_b; // RM heads (score2 = score.weight for SCORE)
};

// Builds the table and allocates zeroed parameters. be and ledger are borrowed.
int model_create(const struct model_shape *shape, const struct backend *be,
                 struct mem_ledger *ledger, struct model **out, struct err *e);
void model_destroy(struct model **m);
// Allocates the gradient buffer (zeroed), tagged MEM_GRADS. Idempotent.
int model_alloc_grads(struct model *m, struct err *e);
void model_zero_grads(struct model *m);
// The tensor named name, or NULL.
const struct model_tensor *model_find_tensor(const struct model *m, const char *name);
// Host access to a flat buffer of n_params floats (m->params, m->grads, an AdamW moment), which
// lives in device memory on a device backend (backend_is_device): model_host_get returns buf
// itself on a host backend, else a host copy (downloaded when is_read); model_host_put uploads
// the copy when is_write and frees it (nothing on a host backend). Between the two, host code
// reads or writes the returned pointer.
float *model_host_get(const struct model *m, const float *buf, bool is_read);
void model_host_put(const struct model *m, float *buf, float **host, bool is_write);
// Fills the parameters like Hugging Face's init: normal(0, std) matrices and embedding,
// ones for norms, zeros for biases; deterministic in seed (Philox).
void model_init_params(struct model *m, uint64_t seed, float std);

// ---------------------------------------------------------------------------------------------
// Training: a batch of B packed sequences, N = cu_seqlens[B] tokens; sequence b is tokens
// cu_seqlens[b] .. cu_seqlens[b+1]-1, attends causally to itself only, positions 0..T_b-1.
// Output per token t: logprob[t] = log p(targets[t] | tokens of its sequence up to t) and
// entropy[t] of that distribution. A target < 0 means "no target" (logprob 0, still entropy).

struct model_acts; // activations for one batch of at most n_tokens_max tokens

struct model_acts_cfg {
    int n_tokens_max;  // N capacity
    bool is_recompute; // keep only block inputs; recompute each block in backward
    int lm_chunk;      // tokens per LM-head chunk (0: automatic, about 128 MiB of logits)
    bool is_inference; // KV-cache inference only: no gradients, two stream buffers
    float temperature; // logprob/entropy of softmax(logits / temperature); 0 or 1: plain
};

// Bytes a model_acts of this configuration allocates (MEM_ACTS), exactly.
size_t model_acts_bytes(const struct model_shape *s, const struct model_acts_cfg *cfg);
int model_acts_create(const struct model *m, const struct model_acts_cfg *cfg,
                      struct model_acts **out, struct err *e);
void model_acts_destroy(const struct model *m, struct model_acts **a);

// Forward over the packed batch; keeps what backward needs in a. logprob and entropy are (N).
int model_forward(struct model *m, struct model_acts *a, const int32_t *tokens,
                  const int32_t *targets, const int32_t *cu_seqlens, int B, float *logprob,
                  float *entropy, struct err *e);
// Backward of the last model_forward: d_logprob and d_entropy (N, either may be NULL) are
// dLoss/dlogprob[t] and dLoss/dentropy[t]; parameter gradients accumulate into m->grads.
int model_backward(struct model *m, struct model_acts *a, const float *d_logprob,
                   const float *d_entropy, struct err *e);

// ---------------------------------------------------------------------------------------------
// Memory plan: bytes by purpose for a training setup, predicted from the shape alone.
struct model_mem_plan {
    size_t params, grads, moments, acts;
};
void model_mem_plan(const struct model_shape *s, const struct model_acts_cfg *cfg, bool has_optim,
                    struct model_mem_plan *out);
// Logs the plan (one INFO line per purpose and the total), as printed at start-up.
void model_mem_plan_log(const struct model_mem_plan *p);
// Bytes of the flat parameter buffer of this shape.
size_t model_params_bytes(const struct model_shape *s);
