// Helpers shared by the model tests: paths, golden tensors, comparisons.
#pragma once

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "model/model.h"

static inline const char *test_src_root(void) {
    const char *r = getenv("GRPO_SOURCE_ROOT");
    return r ? r : ".";
}

static inline void test_data_dir(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/tests/model/data/%s", test_src_root(), name);
}

// A golden tensor as a fresh float array (aborts the test when missing).
static inline float *golden_f32(const struct st_file *f, const char *name, size_t *n) {
    const struct st_tensor *t = safetensors_find(f, name);
    if (!t) {
        fprintf(stderr, "golden tensor '%s' missing\n", name);
        abort();
    }
    float *x = malloc(sizeof(float) * (t->n_elems + 1));
    struct err e;
    if (safetensors_read_f32(t, x, t->n_elems, &e) < 0) abort();
    if (n) *n = t->n_elems;
    return x;
}

static inline int32_t *golden_i32(const struct st_file *f, const char *name, size_t *n) {
    size_t k;
    float *x = golden_f32(f, name, &k);
    int32_t *y = malloc(sizeof(int32_t) * (k + 1));
    for (size_t i = 0; i < k; i++) y[i] = (int32_t)x[i];
    free(x);
    if (n) *n = k;
    return y;
}

// max_i |a_i - b_i| / max(max_i |b_i|, floor): error relative to the tensor's scale.
static inline double rel_err(const float *a, const float *b, size_t n, double floor) {
    double d = 0, s = floor;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a[i] - b[i]);
        if (!(x <= d)) d = x; // NaN propagates
        if (fabs(b[i]) > s) s = fabs(b[i]);
    }
    return d / s;
}

// Entries "grad.<name>" (the gradient of every parameter of m) for safetensors_write_f32, in
// table order; the names are malloc'd (oracle_grad_tensors_free). Returns m->n_tensors.
static inline int oracle_grad_tensors(const struct model *m, struct st_write_tensor *ts) {
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        char *name = malloc(strlen(t->name) + 6);
        sprintf(name, "grad.%s", t->name);
        ts[i] =
            (struct st_write_tensor){.name = name, .ndim = t->ndim, .data = m->grads + t->offset};
        for (int d = 0; d < t->ndim; d++) ts[i].shape[d] = t->shape[d];
    }
    return m->n_tensors;
}

static inline void oracle_grad_tensors_free(const struct model *m, struct st_write_tensor *ts) {
    for (int i = 0; i < m->n_tensors; i++) free((char *)ts[i].name);
}
