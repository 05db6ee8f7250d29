// safetensors files (Hugging Face): read by memory mapping, F32/BF16/F16 converted to fp32;
// written as F32 with an atomic rename. Format: u64 little-endian header length, a JSON
// header {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the data; offsets are relative to the end of the header.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum st_dtype { ST_F32, ST_F16, ST_BF16, ST_I32, ST_I64, ST_OTHER };

#define ST_MAX_DIMS 8

struct st_tensor {
    char *name;
    enum st_dtype dtype;
    char dtype_name[16];
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t n_elems;
    const void *data; // inside the mapping, n_elems * element size bytes
    const char *path; // the file it lives in (borrowed from its st_file)
};

struct st_file {
    char *path;
    void *map;
    size_t map_bytes;
    bool is_mapped; // map is ours (mmap), not a borrowed buffer
    int n_tensors;
    struct st_tensor *tensors;
};

// Maps and validates path: header length and JSON, dtypes, shapes, offsets inside the file,
// sizes matching shapes, no overlaps. Errors name the file and the tensor.
int safetensors_open(const char *path, struct st_file **out, struct err *e);
void safetensors_close(struct st_file **f);
// The same over a caller's buffer (borrowed, must outlive the st_file); name is for errors.
int safetensors_open_buffer(const void *buf, size_t n_bytes, const char *name, struct st_file **out,
                            struct err *e);
const struct st_tensor *safetensors_find(const struct st_file *f, const char *name);

// Converts t into out (n floats, n must equal t->n_elems); F32, BF16, F16 only.
int safetensors_read_f32(const struct st_tensor *t, float *out, size_t n, struct err *e);

// All tensors of a Hugging Face model directory: model.safetensors, or the shards listed in
// model.safetensors.index.json ("weight_map": {name: file}).
struct st_dir {
    int n_files;
    struct st_file **files;
};
int safetensors_dir_open(const char *dir, struct st_dir **out, struct err *e);
void safetensors_dir_close(struct st_dir **d);
const struct st_tensor *safetensors_dir_find(const struct st_dir *d, const char *name);

// One tensor to write: fp32 data of the given shape.
struct st_write_tensor {
    const char *name;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const float *data;
};
// Writes an F32 safetensors file at path (via path.tmp + rename), tensors in the given order.
int safetensors_write_f32(const char *path, const struct st_write_tensor *ts, int n, struct err *e);
