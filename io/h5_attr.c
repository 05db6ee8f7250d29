// Attributes (scalars and strings) on HDF5 objects, and a listing of a file.
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "io/h5.h"
#include "io/h5_internal.h"

static hid_t open_obj(struct h5file *f, const char *obj, struct err *e) {
    if (!h5_exists(f, obj)) {
        err_user(e, "%s: missing object '%s'", f->path, obj);
        return H5I_INVALID_HID;
    }
    hid_t o = H5Oopen(f->id, obj, H5P_DEFAULT);
    if (o < 0) {
        err_user(e, "%s: cannot open '%s': %s", f->path, obj, h5_trace_get().last);
    }
    return o;
}

static int attr_write(struct h5file *f, const char *obj, const char *name, hid_t type,
                      const void *value, struct err *e) {
    hid_t o = open_obj(f, obj, e);
    if (o < 0) return ERR_USER;
    int rc = 0;
    if (H5Aexists(o, name) > 0) H5Adelete(o, name);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(o, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, type, value) < 0)
        rc = err_user(e, "%s: cannot write attribute '%s' of '%s': %s", f->path, name, obj,
                      h5_trace_get().last);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Oclose(o);
    return rc;
}

int h5_attr_set_i64(struct h5file *f, const char *obj, const char *name, int64_t v, struct err *e) {
    return attr_write(f, obj, name, H5T_STD_I64LE, &v, e);
}

int h5_attr_set_f64(struct h5file *f, const char *obj, const char *name, double v, struct err *e) {
    return attr_write(f, obj, name, H5T_IEEE_F64LE, &v, e);
}

int h5_attr_set_str(struct h5file *f, const char *obj, const char *name, const char *v,
                    struct err *e) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = attr_write(f, obj, name, t, v, e);
    H5Tclose(t);
    return rc;
}

bool h5_attr_exists(struct h5file *f, const char *obj, const char *name) {
    if (!h5_exists(f, obj)) return false;
    hid_t o = H5Oopen(f->id, obj, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
    }
    bool yes = H5Aexists(o, name) > 0;
    H5Oclose(o);
    return yes;
}

// Open attribute `name` of `obj` and check its class; returns the attribute.
static hid_t attr_open(struct h5file *f, const char *obj, const char *name, H5T_class_t want,
                       const char *want_name, hid_t *obj_out, struct err *e) {
    hid_t o = open_obj(f, obj, e);
    if (o < 0) return H5I_INVALID_HID;
    if (H5Aexists(o, name) <= 0) {
        H5Oclose(o);
        err_user(e, "%s: missing attribute '%s' of '%s'", f->path, name, obj);
        return H5I_INVALID_HID;
    }
    hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a), space = H5Aget_space(a);
    bool ok = H5Tget_class(t) == want && H5Sget_simple_extent_npoints(space) == 1;
    H5Tclose(t);
    H5Sclose(space);
    if (!ok) {
        H5Aclose(a);
        H5Oclose(o);
        err_user(e, "%s: attribute '%s' of '%s' is not %s", f->path, name, obj, want_name);
        return H5I_INVALID_HID;
    }
    *obj_out = o;
    return a;
}

int h5_attr_get_i64(struct h5file *f, const char *obj, const char *name, int64_t *v,
                    struct err *e) {
    hid_t o;
    hid_t a = attr_open(f, obj, name, H5T_INTEGER, "an integer", &o, e);
    if (a < 0) return ERR_USER;
    int rc = H5Aread(a, H5T_NATIVE_INT64, v) < 0
                 ? err_user(e, "%s: cannot read attribute '%s' of '%s'", f->path, name, obj)
                 : 0;
    H5Aclose(a);
    H5Oclose(o);
    return rc;
}

int h5_attr_get_f64(struct h5file *f, const char *obj, const char *name, double *v, struct err *e) {
    hid_t o;
    hid_t a = attr_open(f, obj, name, H5T_FLOAT, "a number", &o, e);
    if (a < 0) return ERR_USER;
    int rc = H5Aread(a, H5T_NATIVE_DOUBLE, v) < 0
                 ? err_user(e, "%s: cannot read attribute '%s' of '%s'", f->path, name, obj)
                 : 0;
    H5Aclose(a);
    H5Oclose(o);
    return rc;
}

int h5_attr_get_str(struct h5file *f, const char *obj, const char *name, char **v, struct err *e) {
    *v = NULL;
    hid_t o;
    hid_t a = attr_open(f, obj, name, H5T_STRING, "a string", &o, e);
    if (a < 0) return ERR_USER;
    int rc = 0;
    hid_t t = H5Aget_type(a);
    if (H5Tis_variable_str(t) > 0) { // as h5py writes them
        char *s = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        if (H5Aread(a, mt, &s) < 0 || !s) {
            rc = err_user(e, "%s: cannot read attribute '%s' of '%s'", f->path, name, obj);
        } else {
            *v = xstrdup(s);
            H5free_memory(s);
        }
        H5Tclose(mt);
    } else {
        size_t n = H5Tget_size(t);
        char *s = xcalloc(n + 1, 1);
        if (H5Aread(a, t, s) < 0) {
            free(s);
            rc = err_user(e, "%s: cannot read attribute '%s' of '%s'", f->path, name, obj);
        } else {
            *v = s;
        }
    }
    H5Tclose(t);
    H5Aclose(a);
    H5Oclose(o);
    return rc;
}

struct describe_ctx {
    struct h5file *f;
    FILE *out;
    int max_str_chars;
    const char *indent;
};

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    struct describe_ctx *c = data;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    H5T_class_t cls = H5Tget_class(t);
    fprintf(c->out, "%s@%s = ", c->indent, name);
    if (cls == H5T_INTEGER) {
        int64_t v = 0;
        H5Aread(a, H5T_NATIVE_INT64, &v);
        fprintf(c->out, "%lld\n", (long long)v);
    } else if (cls == H5T_FLOAT) {
        double v = 0;
        H5Aread(a, H5T_NATIVE_DOUBLE, &v);
        fprintf(c->out, "%.17g\n", v);
    } else if (cls == H5T_STRING && H5Tis_variable_str(t) <= 0) {
        size_t n = H5Tget_size(t);
        char *s = xcalloc(n + 1, 1);
        H5Aread(a, t, s);
        size_t len = strlen(s);
        char *nl = strchr(s, '\n');
        if (c->max_str_chars > 0 && (len > (size_t)c->max_str_chars || nl)) {
            size_t keep = nl ? (size_t)(nl - s) : len;
            if (keep > (size_t)c->max_str_chars) keep = (size_t)c->max_str_chars;
            fprintf(c->out, "\"%.*s...\" (%zu chars)\n", (int)keep, s, len);
        } else {
            fprintf(c->out, "\"%s\"\n", s);
        }
        free(s);
    } else {
        fprintf(c->out, "(%s)\n", cls == H5T_STRING ? "variable-length string" : "other type");
    }
    H5Tclose(t);
    H5Aclose(a);
    return 0;
}

static herr_t link_cb(hid_t root, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    struct describe_ctx *c = data;
    hid_t o = H5Oopen(root, name, H5P_DEFAULT);
    if (o < 0) {
        fprintf(c->out, "? /%s (cannot open)\n", name);
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    H5I_type_t kind = H5Iget_type(o);
    if (kind == H5I_GROUP) {
        fprintf(c->out, "group  /%s\n", name);
    } else if (kind == H5I_DATASET) {
        char full[1024];
        snprintf(full, sizeof full, "/%s", name);
        enum h5_dtype dt;
        int nd;
        int64_t shape[H5_MAX_DIMS];
        struct err e;
        if (h5_info(c->f, full, &dt, &nd, shape, &e) == 0) {
            fprintf(c->out, "tensor /%s %s [", name, h5_dtype_name(dt));
            for (int i = 0; i < nd; i++)
                fprintf(c->out, "%s%lld", i ? ", " : "", (long long)shape[i]);
            fprintf(c->out, "]\n");
        } else {
            fprintf(c->out, "tensor /%s (%s)\n", name, e.msg);
        }
    } else {
        fprintf(c->out, "other  /%s\n", name);
    }
    c->indent = "  ";
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_cb, c);
    H5Oclose(o);
    return 0;
}

int h5_describe(struct h5file *f, FILE *out, int max_str_chars, struct err *e) {
    struct describe_ctx c = {.f = f, .out = out, .max_str_chars = max_str_chars, .indent = ""};
    fprintf(out, "file   %s\n", f->path);
    if (H5Aiterate2(f->id, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_cb, &c) < 0 ||
        H5Lvisit(f->id, H5_INDEX_NAME, H5_ITER_INC, link_cb, &c) < 0) {
        return err_user(e, "%s: cannot list: %s", f->path, h5_trace_get().last);
    }
    return 0;
}
