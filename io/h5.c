// HDF5 tensor files: chunked, Fletcher-32-checked datasets and attributes.
#include "io/h5.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "io/h5_internal.h"

// Chunks of at most 4 Mi elements: one Fletcher-32 checksum each, and far
// below HDF5's 4 GiB chunk limit.
#define CHUNK_ELEMS ((int64_t)1 << 22)

// HDF5 prints its error stack to stderr by default; errors here are values.
static void h5_quiet(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static herr_t trace_cb(unsigned n, const H5E_error2_t *err, void *data) {
    (void)n;
    struct h5_trace *t = data;
    if (err->desc) {
        snprintf(t->last, sizeof t->last, "%s", err->desc);
        if (strstr(err->desc, "fletcher32") || strstr(err->desc, "checksum")) t->checksum = true;
    }
    return 0;
}

struct h5_trace h5_trace_get(void) {
    struct h5_trace t = {.last = "unknown HDF5 error", .checksum = false};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, trace_cb, &t);
    H5Eclear2(H5E_DEFAULT);
    return t;
}

// bfloat16: sign bit 15, 8 exponent bits at 7 (bias 127), 7 mantissa bits at 0.
static hid_t bf16_type_create(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    CHECK(t >= 0, "H5Tcopy failed");
    CHECK(H5Tset_fields(t, 15, 7, 8, 0, 7) >= 0, "H5Tset_fields failed");
    CHECK(H5Tset_precision(t, 16) >= 0, "H5Tset_precision failed");
    CHECK(H5Tset_size(t, 2) >= 0, "H5Tset_size failed");
    CHECK(H5Tset_ebias(t, 127) >= 0, "H5Tset_ebias failed");
    return t;
}

static struct h5file *h5_wrap(hid_t id, const char *path) {
    struct h5file *f = xcalloc(1, sizeof *f);
    f->id = id;
    f->bf16 = bf16_type_create();
    f->path = xstrdup(path);
    return f;
}

const char *h5_path(const struct h5file *f) {
    return f->path;
}

int h5_create(const char *path, struct h5file **out, struct err *e) {
    h5_quiet();
    *out = NULL;
    hid_t id = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (id < 0) return err_user(e, "%s: cannot create: %s", path, h5_trace_get().last);
    *out = h5_wrap(id, path);
    return 0;
}

int h5_open(const char *path, struct h5file **out, struct err *e) {
    h5_quiet();
    *out = NULL;
    FILE *probe = fopen(path, "rb");
    if (!probe) return err_user(e, "%s: cannot open: no such file or not readable", path);
    fclose(probe);
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return err_user(e, "%s: not an HDF5 file (or its header is corrupt)", path);
    }
    hid_t id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0) return err_user(e, "%s: cannot open: %s", path, h5_trace_get().last);
    *out = h5_wrap(id, path);
    return 0;
}

int h5_flush(struct h5file *f, struct err *e) {
    if (H5Fflush(f->id, H5F_SCOPE_GLOBAL) < 0)
        return err_user(e, "%s: flush failed: %s", f->path, h5_trace_get().last);
    return 0;
}

int h5_close(struct h5file **fp, struct err *e) {
    struct h5file *f = *fp;
    if (!f) return 0;
    int rc = 0;
    H5Tclose(f->bf16);
    if (H5Fclose(f->id) < 0) rc = err_user(e, "%s: close failed: %s", f->path, h5_trace_get().last);
    free(f->path);
    free(f);
    *fp = NULL;
    return rc;
}

const char *h5_dtype_name(enum h5_dtype dtype) {
    static const char *const names[] = {"f32", "bf16", "i32", "i64", "u8"};
    return (unsigned)dtype < 5 ? names[dtype] : "?";
}

size_t h5_dtype_size(enum h5_dtype dtype) {
    static const size_t sizes[] = {4, 2, 4, 8, 1};
    return (unsigned)dtype < 5 ? sizes[dtype] : 0;
}

// The HDF5 type of a dtype, in the file and in memory (little-endian host).
static hid_t type_of(const struct h5file *f, enum h5_dtype dtype) {
    switch (dtype) {
    case H5_F32:
        return H5T_IEEE_F32LE;
    case H5_BF16:
        return f->bf16;
    case H5_I32:
        return H5T_STD_I32LE;
    case H5_I64:
        return H5T_STD_I64LE;
    case H5_U8:
        return H5T_STD_U8LE;
    }
    return H5I_INVALID_HID;
}

// Which of our dtypes an HDF5 type is; -1 for anything else.
static int dtype_of(const struct h5file *f, hid_t t) {
    H5T_class_t cls = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    if (cls == H5T_FLOAT && size == 4 && H5Tequal(t, H5T_IEEE_F32LE) > 0) return H5_F32;
    if (cls == H5T_FLOAT && size == 2 && H5Tequal(t, f->bf16) > 0) return H5_BF16;
    if (cls == H5T_INTEGER) {
        H5T_sign_t sign = H5Tget_sign(t);
        if (H5Tget_order(t) != H5T_ORDER_LE) return -1;
        if (size == 4 && sign == H5T_SGN_2) return H5_I32;
        if (size == 8 && sign == H5T_SGN_2) return H5_I64;
        if (size == 1 && sign == H5T_SGN_NONE) return H5_U8;
    }
    return -1;
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && used < n; i++)
        used +=
            (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

int h5_create_group(struct h5file *f, const char *name, struct err *e) {
    if (h5_exists(f, name)) return 0;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(f->id, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0)
        return err_user(e, "%s: cannot create group '%s': %s", f->path, name, h5_trace_get().last);
    H5Gclose(g);
    return 0;
}

int h5_write(struct h5file *f, const char *name, enum h5_dtype dtype, int ndim,
             const int64_t *shape, const void *data, struct err *e) {
    if (ndim < 1 || ndim > H5_MAX_DIMS)
        return err_internal(e, "%s: tensor '%s' has %d dims (1..%d supported)", f->path, name, ndim,
                            H5_MAX_DIMS);
    hsize_t dims[H5_MAX_DIMS], maxdims[H5_MAX_DIMS], chunk[H5_MAX_DIMS];
    int64_t row = 1; // elements in one index of the first dim
    bool empty = false;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return err_internal(e, "%s: tensor '%s' has a negative dim", f->path, name);
        dims[i] = maxdims[i] = chunk[i] = (hsize_t)shape[i];
        if (shape[i] == 0) empty = true;
        if (i > 0) row *= shape[i] ? shape[i] : 1;
    }
    for (int i = 0; i < ndim; i++) {
        if (empty) maxdims[i] = H5S_UNLIMITED; // chunk dims must be >= 1
        if (chunk[i] == 0) chunk[i] = 1;
    }
    int64_t rows_per_chunk = CHUNK_ELEMS / row;
    if (rows_per_chunk < 1) rows_per_chunk = 1;
    if ((int64_t)chunk[0] > rows_per_chunk) chunk[0] = (hsize_t)rows_per_chunk;

    int rc = 0;
    hid_t space = H5Screate_simple(ndim, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    H5Pset_chunk(dcpl, ndim, chunk);
    H5Pset_fletcher32(dcpl);
    hid_t t = type_of(f, dtype);
    hid_t d = H5Dcreate2(f->id, name, t, space, lcpl, dcpl, H5P_DEFAULT);
    if (d < 0) {
        rc = err_user(e, "%s: cannot create tensor '%s': %s", f->path, name, h5_trace_get().last);
    } else {
        if (!empty && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
            rc =
                err_user(e, "%s: cannot write tensor '%s': %s", f->path, name, h5_trace_get().last);
        H5Dclose(d);
    }
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(space);
    return rc;
}

bool h5_exists(struct h5file *f, const char *name) {
    if (strcmp(name, "/") == 0) return true;
    // Check each prefix: H5Lexists fails when an intermediate group is missing.
    char buf[1024];
    size_t n = strlen(name);
    if (n >= sizeof buf) return false;
    memcpy(buf, name, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        htri_t ok = H5Lexists(f->id, buf, H5P_DEFAULT);
        buf[i] = c;
        if (ok <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return false;
        }
    }
    return true;
}

int h5_info(struct h5file *f, const char *name, enum h5_dtype *dtype, int *ndim, int64_t *shape,
            struct err *e) {
    if (!h5_exists(f, name)) return err_user(e, "%s: missing tensor '%s'", f->path, name);
    hid_t d = H5Dopen2(f->id, name, H5P_DEFAULT);
    if (d < 0) return err_user(e, "%s: '%s' is not a tensor", f->path, name);
    int rc = 0;
    hid_t t = H5Dget_type(d), space = H5Dget_space(d);
    int dt = dtype_of(f, t);
    int nd = H5Sget_simple_extent_ndims(space);
    hsize_t dims[H5_MAX_DIMS];
    if (dt < 0)
        rc = err_user(e, "%s: tensor '%s' has an unsupported element type", f->path, name);
    else if (nd < 1 || nd > H5_MAX_DIMS)
        rc = err_user(e, "%s: tensor '%s' has %d dims (1..%d supported)", f->path, name, nd,
                      H5_MAX_DIMS);
    else {
        H5Sget_simple_extent_dims(space, dims, NULL);
        *dtype = (enum h5_dtype)dt;
        *ndim = nd;
        for (int i = 0; i < nd; i++) shape[i] = (int64_t)dims[i];
    }
    H5Tclose(t);
    H5Sclose(space);
    H5Dclose(d);
    return rc;
}

int h5_read(struct h5file *f, const char *name, enum h5_dtype dtype, int ndim, const int64_t *shape,
            void *out, struct err *e) {
    enum h5_dtype have;
    int have_ndim;
    int64_t have_shape[H5_MAX_DIMS];
    TRY(h5_info(f, name, &have, &have_ndim, have_shape, e));
    if (have != dtype)
        return err_user(e, "%s: tensor '%s' is %s, expected %s", f->path, name, h5_dtype_name(have),
                        h5_dtype_name(dtype));
    bool same = have_ndim == ndim;
    int64_t n = 1;
    for (int i = 0; same && i < ndim; i++) {
        same = have_shape[i] == shape[i];
        n *= shape[i];
    }
    if (!same) {
        char a[256], b[256];
        shape_str(a, sizeof a, have_ndim, have_shape);
        shape_str(b, sizeof b, ndim, shape);
        return err_user(e, "%s: tensor '%s' has shape %s, expected %s", f->path, name, a, b);
    }
    if (n == 0) return 0;
    hid_t d = H5Dopen2(f->id, name, H5P_DEFAULT);
    herr_t st = H5Dread(d, type_of(f, dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    struct h5_trace t = {0};
    if (st < 0) t = h5_trace_get(); // before the next call clears HDF5's error stack
    H5Dclose(d);
    if (st < 0) {
        if (t.checksum)
            return err_user(e,
                            "%s: tensor '%s' fails its Fletcher-32 checksum: the file is corrupt",
                            f->path, name);
        return err_user(e, "%s: cannot read tensor '%s': %s (corrupt file?)", f->path, name,
                        t.last);
    }
    return 0;
}
