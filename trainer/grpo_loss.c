// Group-relative advantages and the clipped, KL-penalised GRPO loss with its
// gradient with respect to the per-token log-probabilities.
#include "trainer/grpo_loss.h"

#include <math.h>

#include "core/config.h"

bool grpo_group_has_variance(const float *rewards, int G) {
    for (int j = 1; j < G; j++)
        if (rewards[j] != rewards[0]) return true;
    return false;
}

int grpo_advantages(float *adv, uint8_t *is_zero_var, const float *rewards, int n_groups, int G,
                    const struct grpo_adv_opts *o) {
    int n_zero = 0;
    for (int g = 0; g < n_groups; g++) {
        const float *r = rewards + (size_t)g * (size_t)G;
        float *a = adv + (size_t)g * (size_t)G;
        double mean = 0.0;
        for (int i = 0; i < G; i++) mean += r[i];
        mean /= G;
        double ss = 0.0;
        for (int i = 0; i < G; i++) ss += (r[i] - mean) * (r[i] - mean);
        bool all_equal = !grpo_group_has_variance(r, G);
        int denom = o->std_kind == STD_SAMPLE ? G - 1 : G;
        double std = denom > 0 ? sqrt(ss / denom) : 0.0;
        for (int i = 0; i < G; i++) {
            // A zero-variance group has no signal: 0, not 0 / (0 + eps) = NaN when eps is 0.
            double centred = r[i] - mean;
            a[i] = all_equal ? 0.0f : (float)(o->std_norm ? centred / (std + o->eps) : centred);
        }
        if (is_zero_var) is_zero_var[g] = all_equal;
        n_zero += all_equal;
    }
    return n_zero;
}

// KL_t and its derivative with respect to logπθ.
static double kl_term(int estimator, double logp, double logp_ref, double *dkl) {
    double d = logp - logp_ref;
    switch (estimator) {
    case KL_K1:
        *dkl = 1.0;
        return d;
    case KL_K2:
        *dkl = d;
        return 0.5 * d * d;
    default: { // k3, with r = logπref - logπθ = -d
        double er = exp(-d);
        *dkl = 1.0 - er;
        return er + d - 1.0;
    }
    }
}

void grpo_loss(float *dlogp, float *dentropy, struct grpo_loss_stats *st, const float *logp,
               const float *logp_old, const float *logp_ref, const float *entropy,
               const uint8_t *mask, const int32_t *offsets, int n_seqs, const float *adv,
               const struct grpo_loss_opts *o) {
    const double lo = 1.0 - o->clip_low, hi = 1.0 + o->clip_high;
    for (int i = 0; i < n_seqs; i++) {
        int32_t t0 = offsets[i], t1 = offsets[i + 1];
        int n_resp = 0;
        for (int32_t t = t0; t < t1; t++) n_resp += mask[t] != 0;
        // Weight of one token's ℓ in the aggregated loss.
        double w;
        switch (o->loss_agg) {
        case AGG_TOKEN_MEAN:
            w = 1.0 / o->n_tokens_global;
            break;
        case AGG_SEQ_MEAN_TOKEN_SUM_NORM:
            w = 1.0 / (o->n_seqs_global * o->token_sum_norm);
            break;
        default:
            w = n_resp ? 1.0 / (o->n_seqs_global * n_resp) : 0.0;
            break;
        }
        const double A = adv[i];
        for (int32_t t = t0; t < t1; t++) {
            if (!mask[t]) {
                dlogp[t] = 0.0f;
                if (dentropy) dentropy[t] = 0.0f;
                continue;
            }
            double ratio = exp((double)logp[t] - (double)logp_old[t]);
            double clipped = ratio < lo ? lo : ratio > hi ? hi : ratio;
            double surr = ratio * A, surr_clip = clipped * A;
            // The unclipped branch carries the gradient when it is the minimum;
            // a clipped ratio is a constant (zero gradient), as in PyTorch.
            double pg = -(surr <= surr_clip ? surr : surr_clip);
            double dpg = surr <= surr_clip ? -surr : 0.0;
            double ell = pg, dell = dpg;
            if (o->kl_coef > 0.0) {
                double dkl, kl = kl_term(o->kl_estimator, logp[t], logp_ref[t], &dkl);
                ell += o->kl_coef * kl;
                dell += o->kl_coef * dkl;
                st->kl_sum += kl;
            }
            if (entropy) {
                st->entropy_sum += entropy[t];
                if (o->entropy_coef != 0.0) ell -= o->entropy_coef * entropy[t];
            }
            if (dentropy) dentropy[t] = (float)(-o->entropy_coef * w);
            dlogp[t] = (float)(dell * w);
            st->loss += ell * w;
            st->pg_sum += pg;
            st->ratio_sum += ratio;
            st->clip_low_count += A < 0 && ratio < lo;
            st->clip_high_count += A > 0 && ratio > hi;
            st->n_tokens += 1.0;
        }
    }
}
