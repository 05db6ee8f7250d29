// Samplers over one row of logits (the math is in sampler.h). Candidate sets are kept as id
// lists sorted by (weight desc, id asc), a total order, so every step is deterministic.
#include "rollout/sampler.h"

#include <math.h>
#include <stdlib.h>

#include "core/err.h"
#include "model/cpu/vexp.h"

int sampler_cfg_check(const struct sampler_cfg *c, struct err *e) {
    if (!(c->temperature >= 0) || !isfinite(c->temperature))
        return err_user(e, "temperature '%g' must be a finite number >= 0", (double)c->temperature);
    if (!(c->top_p > 0 && c->top_p <= 1))
        return err_user(e, "top_p '%g' must be in (0, 1]", (double)c->top_p);
    if (!(c->min_p >= 0 && c->min_p <= 1))
        return err_user(e, "min_p '%g' must be in [0, 1]", (double)c->min_p);
    if (c->top_k < 0) return err_user(e, "top_k '%d' must be >= 0", c->top_k);
    return 0;
}

// a before b in the total order (weight desc, id asc).
static inline int is_before(const float *w, int32_t a, int32_t b) {
    return w[a] > w[b] || (w[a] == w[b] && a < b);
}

static int cmp_desc(const void *pa, const void *pb, void *ctx) {
    const float *w = ctx;
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    return is_before(w, a, b) ? -1 : is_before(w, b, a) ? 1 : 0;
}

// Min-heap by the total order (root = the last of the kept ones), size n.
static void heap_sift_down(int32_t *h, int n, int i, const float *w) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && is_before(w, h[m], h[l])) m = l;
        if (r < n && is_before(w, h[m], h[r])) m = r;
        if (m == i) return;
        int32_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

// The k first ids of 0..n-1 in the total order, sorted, into ids; returns k.
static int select_top_k(int32_t *ids, const float *w, int n, int k) {
    for (int i = 0; i < k; i++) ids[i] = i;
    for (int i = k / 2 - 1; i >= 0; i--) heap_sift_down(ids, k, i, w);
    for (int32_t i = k; i < n; i++)
        if (is_before(w, i, ids[0])) {
            ids[0] = i;
            heap_sift_down(ids, k, 0, w);
        }
    qsort_r(ids, (size_t)k, sizeof *ids, cmp_desc, (void *)w);
    return k;
}

static int32_t argmax(const float *z, int n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (z[i] > z[best]) best = i;
    return best;
}

// log sum_i exp(z_i) over all V, in double.
static double logsumexp(const float *z, int V) {
    float mx = z[argmax(z, V)];
    double s = 0;
    for (int i = 0; i < V; i++) s += exp((double)z[i] - mx);
    return mx + log(s);
}

void sampler_sample(const struct sampler_cfg *c, const float *z, int V, int n_allowed, double u,
                    struct sampler_scratch *s, struct sampler_out *out) {
    if (c->temperature == 0) {
        out->token = argmax(z, n_allowed);
        out->logprob = 0;
        out->logprob_model = (float)(z[out->token] - logsumexp(z, V));
        return;
    }
    const double inv_t = 1.0 / c->temperature;
    const int n = n_allowed;
    float *w = s->w;
    double zmax = (double)z[argmax(z, n)] * inv_t, total = 0, lse_model;
    if (inv_t == 1.0 && n == V) {
        // The weights are the terms of the model's log-sum-exp: one pass of exp for both, in
        // float and vectorised (within 2 ulp), summed in double.
        const float zm = (float)zmax;
        for (int i = 0; i < n; i++) w[i] = z[i] - zm;
        cpu_vexp(w, n);
        for (int i = 0; i < n; i++) total += w[i];
        lse_model = zmax + log(total);
    } else {
        lse_model = logsumexp(z, V);
        for (int i = 0; i < n; i++) {
            w[i] = (float)exp((double)z[i] * inv_t - zmax);
            total += w[i];
        }
    }
    // The support: either all ids < n (n_kept = -1) or the sorted list ids[0..n_kept).
    int n_kept = -1;
    double kept_mass = total;
    if (c->top_k > 0 && c->top_k < n) {
        n_kept = select_top_k(s->ids, w, n, c->top_k);
        kept_mass = 0;
        for (int j = 0; j < n_kept; j++) kept_mass += w[s->ids[j]];
    }
    if (c->top_p < 1) {
        if (n_kept < 0) {
            // Ids with p < tau = (1 - top_p) / n hold less than 1 - top_p in all, so the nucleus
            // lies within {p >= tau}: sort only those.
            float tau = (float)((1.0 - c->top_p) / n * total);
            n_kept = 0;
            for (int32_t i = 0; i < n; i++)
                if (w[i] >= tau) s->ids[n_kept++] = i;
            qsort_r(s->ids, (size_t)n_kept, sizeof *s->ids, cmp_desc, w);
        }
        double target = c->top_p * kept_mass, cum = 0;
        int m = 0;
        while (m < n_kept && (m == 0 || cum < target)) cum += w[s->ids[m++]];
        n_kept = m;
        kept_mass = cum;
    }
    if (c->min_p > 0) {
        float thr = c->min_p * 1.0f; // the largest weight is exp(0) = 1
        kept_mass = 0;
        if (n_kept < 0) {
            n_kept = 0;
            for (int32_t i = 0; i < n; i++)
                if (w[i] >= thr) {
                    s->ids[n_kept++] = i;
                    kept_mass += w[i];
                }
        } else {
            int m = 0;
            for (int j = 0; j < n_kept; j++)
                if (w[s->ids[j]] >= thr) {
                    s->ids[m++] = s->ids[j];
                    kept_mass += w[s->ids[j]];
                }
            n_kept = m;
        }
    }
    double target = u * kept_mass, cum = 0;
    int32_t tok = -1;
    if (n_kept < 0) {
        for (int32_t i = 0; i < n && tok < 0; i++)
            if ((cum += w[i]) > target) tok = i;
        if (tok < 0) tok = n - 1; // u * mass rounded up to the mass itself
        while (w[tok] == 0 && tok > 0) tok--;
    } else {
        for (int j = 0; j < n_kept && tok < 0; j++)
            if ((cum += w[s->ids[j]]) > target) tok = s->ids[j];
        if (tok < 0) tok = s->ids[n_kept - 1];
    }
    out->token = tok;
    out->logprob = (float)((double)z[tok] * inv_t - zmax - log(kept_mass));
    out->logprob_model = (float)(z[tok] - lse_model);
}
