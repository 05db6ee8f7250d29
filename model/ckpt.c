// Model parameters and AdamW state in HDF5 checkpoints, by the names of the parameter table.
#include "model/ckpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "io/ckpt.h"
#include "io/hf_config.h"
#include "model/hf.h"

// buf is a flat buffer in the backend's memory (staged through the host on a device).
static int write_group(const struct model *m, struct h5file *f, const char *group, const float *buf,
                       struct err *e) {
    char name[256];
    float *base = model_host_get(m, buf, true);
    int rc = 0;
    for (int i = 0; i < m->n_tensors && rc == 0; i++) {
        const struct model_tensor *t = &m->tensors[i];
        snprintf(name, sizeof name, "%s/%s", group, t->name);
        rc = h5_write(f, name, H5_F32, t->ndim, t->shape, base + t->offset, e);
    }
    model_host_put(m, (float *)buf, &base, false);
    return rc;
}

static int read_group(const struct model *m, struct h5file *f, const char *group, float *buf,
                      struct err *e) {
    char name[256];
    float *base = model_host_get(m, buf, false);
    int rc = 0;
    for (int i = 0; i < m->n_tensors && rc == 0; i++) {
        const struct model_tensor *t = &m->tensors[i];
        snprintf(name, sizeof name, "%s/%s", group, t->name);
        if (!h5_exists(f, name))
            rc = err_user(e, "%s: missing tensor '%s'", h5_path(f), name);
        else
            rc = h5_read(f, name, H5_F32, t->ndim, t->shape, base + t->offset, e);
    }
    model_host_put(m, buf, &base, rc == 0);
    return rc;
}

int model_write_h5(const struct model *m, struct h5file *f, struct err *e) {
    struct hf_config c;
    model_shape_to_hf(&m->shape, &c);
    char *js = hf_config_to_json(&c);
    int rc = h5_attr_set_str(f, "/", "architecture", js, e);
    free(js);
    TRY(rc);
    return write_group(m, f, "/model", m->params, e);
}

int model_read_h5(struct model *m, struct h5file *f, struct err *e) {
    return read_group(m, f, "/model", m->params, e);
}

int model_load_ckpt(const char *path, const struct backend *be, struct mem_ledger *ledger,
                    struct model **out, struct err *e) {
    *out = NULL;
    struct h5file *f = NULL;
    struct model *m = NULL;
    char *js = NULL;
    struct hf_config c;
    struct model_shape s;
    int rc = 0;
    TRY(ckpt_open(path, &f, e));
    if (!h5_attr_exists(f, "/", "architecture")) {
        rc = err_user(e, "%s: no 'architecture' attribute (not a model checkpoint)", path);
        goto fail;
    }
    TRY_FAIL(rc, h5_attr_get_str(f, "/", "architecture", &js, e));
    TRY_FAIL(rc, hf_config_parse(js, path, &c, e));
    if ((rc = model_shape_from_hf(&c, &s, e)) < 0) {
        err_prefix(e, "%s: architecture: ", path);
        goto fail;
    }
    TRY_FAIL(rc, model_create(&s, be, ledger, &m, e));
    TRY_FAIL(rc, model_read_h5(m, f, e));
    free(js);
    TRY(h5_close(&f, e));
    *out = m;
    return 0;
fail:
    free(js);
    model_destroy(&m);
    if (f) {
        struct err e2;
        h5_close(&f, &e2);
    }
    return rc;
}

int model_save_ckpt(const struct model *m, const char *path, struct err *e) {
    struct ckpt_writer *w = NULL;
    TRY(ckpt_writer_begin(path, &w, e));
    int rc = model_write_h5(m, ckpt_writer_file(w), e);
    if (rc < 0) {
        ckpt_writer_abort(&w);
        return rc;
    }
    return ckpt_writer_commit(&w, e);
}

int model_load_path(const char *path, const struct backend *be, struct mem_ledger *ledger,
                    struct model **out, struct err *e) {
    struct stat st;
    if (stat(path, &st) != 0) return err_user(e, "%s: no such file or directory", path);
    if (S_ISDIR(st.st_mode)) return model_load_hf(path, be, ledger, out, e);
    return model_load_ckpt(path, be, ledger, out, e);
}

int adamw_write_h5(const struct adamw *o, const struct model *m, struct h5file *f, struct err *e) {
    TRY(h5_create_group(f, "/optim", e));
    TRY(h5_attr_set_i64(f, "/optim", "step", o->step, e));
    TRY(write_group(m, f, "/optim/m", o->m, e));
    return write_group(m, f, "/optim/v", o->v, e);
}

int adamw_read_h5(struct adamw *o, const struct model *m, struct h5file *f, struct err *e) {
    int64_t step;
    TRY(h5_attr_get_i64(f, "/optim", "step", &step, e));
    if (step < 0)
        return err_user(e, "%s: /optim step '%lld' is negative", h5_path(f), (long long)step);
    TRY(read_group(m, f, "/optim/m", o->m, e));
    TRY(read_group(m, f, "/optim/v", o->v, e));
    o->step = step;
    return 0;
}
