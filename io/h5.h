// Named tensors and attributes in an HDF5 file: the storage layer of
// checkpoints (io/ckpt.h). Tensors are chunked datasets with HDF5's Fletcher-32
// checksum filter, so a flipped byte is caught on read. Names are paths
// ("/model/model.layers.0.mlp.up_proj.weight"); missing groups are created.
//
// Every read checks the stored dtype and shape against what the caller
// expects, so a wrong, truncated or corrupt file is an ERR_USER naming the
// file and dataset, never a crash.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

enum h5_dtype {
    H5_F32,  // IEEE float32, little-endian
    H5_BF16, // bfloat16 (the top 16 bits of a float32), an HDF5 custom float type
    H5_I32,
    H5_I64,
    H5_U8,
};

#define H5_MAX_DIMS 8

struct h5file; // opaque

// Create (truncate) a file for writing / open one read-only.
int h5_create(const char *path, struct h5file **out, struct err *e);
int h5_open(const char *path, struct h5file **out, struct err *e);
// Flush and close; *f becomes NULL. Returns an error when the final flush fails.
int h5_close(struct h5file **f, struct err *e);
int h5_flush(struct h5file *f, struct err *e);
const char *h5_path(const struct h5file *f);

// Write a tensor of ndim >= 1 dims; bf16 data are uint16_t bit patterns.
int h5_write(struct h5file *f, const char *name, enum h5_dtype dtype, int ndim,
             const int64_t *shape, const void *data, struct err *e);
// Read a tensor whose dtype and shape must be exactly those given.
int h5_read(struct h5file *f, const char *name, enum h5_dtype dtype, int ndim, const int64_t *shape,
            void *out, struct err *e);
// The stored dtype and shape (shape has room for H5_MAX_DIMS).
int h5_info(struct h5file *f, const char *name, enum h5_dtype *dtype, int *ndim, int64_t *shape,
            struct err *e);
bool h5_exists(struct h5file *f, const char *name);
// Create a group and its parents (no error if it exists).
int h5_create_group(struct h5file *f, const char *name, struct err *e);

// Attributes on an object (a group or dataset path; "/" is the file).
int h5_attr_set_i64(struct h5file *f, const char *obj, const char *name, int64_t v, struct err *e);
int h5_attr_set_f64(struct h5file *f, const char *obj, const char *name, double v, struct err *e);
int h5_attr_set_str(struct h5file *f, const char *obj, const char *name, const char *v,
                    struct err *e);
int h5_attr_get_i64(struct h5file *f, const char *obj, const char *name, int64_t *v, struct err *e);
int h5_attr_get_f64(struct h5file *f, const char *obj, const char *name, double *v, struct err *e);
// *v is malloc'd; the caller frees it.
int h5_attr_get_str(struct h5file *f, const char *obj, const char *name, char **v, struct err *e);
bool h5_attr_exists(struct h5file *f, const char *obj, const char *name);

// Print groups, tensors (name, dtype, shape) and attributes, one a line;
// string attributes longer than max_str_chars are shortened (0: in full).
int h5_describe(struct h5file *f, FILE *out, int max_str_chars, struct err *e);

const char *h5_dtype_name(enum h5_dtype dtype);
size_t h5_dtype_size(enum h5_dtype dtype);
