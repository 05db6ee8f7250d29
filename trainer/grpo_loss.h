// The GRPO objective on per-token log-probabilities (design.md §2).
//
// Advantages are group-relative: A_i = (r_i - mean_G(r)) / (std_G(r) + eps)
// (or without the division, Dr. GRPO). Per response token t of sequence i:
//     ρ  = exp(logπθ - logπold)
//     ℓ  = -min(ρ·A_i, clip(ρ, 1 - ε_low, 1 + ε_high)·A_i) + β·KL_t - c_H·H_t
//     k1 = logπθ - logπref,  k2 = ½(logπθ - logπref)²,  k3 = e^(logπref - logπθ) - (logπref -
//     logπθ) - 1
// aggregated over the GLOBAL batch (counts come from one allreduce, so the
// loss does not depend on the rank layout or micro-batch size):
//     seq-mean-token-mean     (1/N_seq) Σ_i (1/T_i) Σ_t ℓ
//     token-mean              (1/N_tok) Σ_i Σ_t ℓ
//     seq-mean-token-sum-norm (1/N_seq) Σ_i Σ_t ℓ / T_norm     (Dr. GRPO, T_norm = max_new_tokens)
// The gradient with respect to logπθ (and to H for the entropy bonus) is what
// the model's backward takes; any loss is written here, outside the model.
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct grpo_adv_opts {
    bool std_norm; // divide by the group std
    int std_kind;  // enum cfg_std_kind (config.h): sample (n - 1) or population (n)
    double eps;
};

// Whether a group's G rewards are not all equal (it carries a learning signal).
bool grpo_group_has_variance(const float *rewards, int G);

// Advantages of n_groups groups of G consecutive rewards. is_zero_var[g]
// (may be NULL) is set when group g's rewards are all equal (its advantages
// are then 0). Returns the number of such groups.
int grpo_advantages(float *adv, uint8_t *is_zero_var, const float *rewards, int n_groups, int G,
                    const struct grpo_adv_opts *o);

struct grpo_loss_opts {
    double clip_low, clip_high; // ε_low, ε_high
    double kl_coef;             // β; 0 = no reference log-probs needed
    int kl_estimator;           // enum cfg_kl_estimator
    double entropy_coef;        // c_H
    int loss_agg;               // enum cfg_loss_agg
    double n_seqs_global;       // sequences in the optimiser step, all ranks
    double n_tokens_global;     // loss-masked tokens in the optimiser step, all ranks
    double token_sum_norm;      // T_norm of seq-mean-token-sum-norm
};

// Sums over the tokens seen (divide by n_tokens for means).
struct grpo_loss_stats {
    double loss;   // this micro-batch's share of the aggregated loss
    double pg_sum; // Σ -min(ρA, clip(ρ)A) over tokens
    double kl_sum; // Σ KL_t (the chosen estimator)
    double entropy_sum;
    double ratio_sum;
    double clip_low_count;  // tokens with A < 0 and ρ < 1 - ε_low (the clip is active)
    double clip_high_count; // tokens with A > 0 and ρ > 1 + ε_high
    double n_tokens;
};

// One micro-batch of n_seqs packed sequences; sequence i owns tokens
// [offsets[i], offsets[i+1]) of the per-token arrays, and mask selects its
// response tokens (the others get zero gradient). logp_ref may be NULL when
// kl_coef is 0; entropy and dentropy may be NULL when entropy_coef is 0.
// Writes dlogp (and dentropy) for every token and adds to *st.
void grpo_loss(float *dlogp, float *dentropy, struct grpo_loss_stats *st, const float *logp,
               const float *logp_old, const float *logp_ref, const float *entropy,
               const uint8_t *mask, const int32_t *offsets, int n_seqs, const float *adv,
               const struct grpo_loss_opts *o);
