// safetensors reading (mmap, validated) and writing (fp32, atomic rename).
#include "io/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"

#define ST_HEADER_MAX (100u << 20) // the format's own limit on the JSON header

static size_t dtype_size(enum st_dtype d) {
    switch (d) {
    case ST_F32:
    case ST_I32:
        return 4;
    case ST_F16:
    case ST_BF16:
        return 2;
    case ST_I64:
        return 8;
    default:
        return 0;
    }
}

static enum st_dtype dtype_parse(const char *s) {
    if (!strcmp(s, "F32")) return ST_F32;
    if (!strcmp(s, "F16")) return ST_F16;
    if (!strcmp(s, "BF16")) return ST_BF16;
    if (!strcmp(s, "I32")) return ST_I32;
    if (!strcmp(s, "I64")) return ST_I64;
    return ST_OTHER;
}

void safetensors_close(struct st_file **pf) {
    if (!pf || !*pf) return;
    struct st_file *f = *pf;
    for (int i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    if (f->map && f->is_mapped) munmap(f->map, f->map_bytes);
    free(f->path);
    free(f);
    *pf = NULL;
}

static int parse_tensor(struct st_file *f, const cJSON *it, size_t data_bytes, struct st_tensor *t,
                        struct err *e) {
    const char *p = f->path, *name = it->string;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off) ||
        cJSON_GetArraySize(off) != 2)
        return err_user(e, "%s: tensor '%s': header entry needs dtype, shape, data_offsets", p,
                        name);
    t->name = xstrdup(name);
    t->path = f->path;
    snprintf(t->dtype_name, sizeof t->dtype_name, "%s", dt->valuestring);
    t->dtype = dtype_parse(dt->valuestring);
    t->ndim = cJSON_GetArraySize(sh);
    if (t->ndim > ST_MAX_DIMS)
        return err_user(e, "%s: tensor '%s': %d dimensions, at most %d", p, name, t->ndim,
                        ST_MAX_DIMS);
    double n = 1;
    for (int d = 0; d < t->ndim; d++) {
        const cJSON *x = cJSON_GetArrayItem(sh, d);
        if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 1e15 ||
            x->valuedouble != floor(x->valuedouble))
            return err_user(e, "%s: tensor '%s': bad shape", p, name);
        t->shape[d] = (int64_t)x->valuedouble;
        n *= x->valuedouble;
    }
    if (n > 1e15) return err_user(e, "%s: tensor '%s': shape too large", p, name);
    t->n_elems = (size_t)n;
    const cJSON *b = cJSON_GetArrayItem(off, 0), *en = cJSON_GetArrayItem(off, 1);
    if (!cJSON_IsNumber(b) || !cJSON_IsNumber(en) || b->valuedouble < 0 ||
        en->valuedouble < b->valuedouble || en->valuedouble > (double)data_bytes)
        return err_user(e, "%s: tensor '%s': data_offsets outside the file (truncated?)", p, name);
    size_t begin = (size_t)b->valuedouble, end = (size_t)en->valuedouble;
    size_t es = dtype_size(t->dtype);
    if (es && end - begin != t->n_elems * es)
        return err_user(e, "%s: tensor '%s': %zu bytes of data for shape of %zu %s elements", p,
                        name, end - begin, t->n_elems, t->dtype_name);
    t->data = (const char *)f->map + 8 + (f->map_bytes - 8 - data_bytes) + begin;
    return 0;
}

// Parses the header of f->map (f->map_bytes >= 8) into f->tensors.
static int parse_header(struct st_file *f, struct err *e) {
    const char *path = f->path;
    int rc = 0;
    cJSON *hdr = NULL;
    uint64_t hlen = 0;
    const unsigned char *u = f->map;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | u[i];
    if (hlen > ST_HEADER_MAX || hlen > f->map_bytes - 8)
        return err_user(e, "%s: header length %llu exceeds the file (truncated or not safetensors)",
                        path, (unsigned long long)hlen);
    hdr = cJSON_ParseWithLength((const char *)u + 8, (size_t)hlen);
    if (!cJSON_IsObject(hdr)) {
        rc = err_user(e, "%s: header is not a JSON object", path);
        goto fail;
    }
    size_t data_bytes = f->map_bytes - 8 - (size_t)hlen;
    int cap = cJSON_GetArraySize(hdr);
    f->tensors = xcalloc((size_t)cap + 1, sizeof *f->tensors);
    const cJSON *it;
    cJSON_ArrayForEach(it, hdr) {
        if (!it->string) continue;
        if (!strcmp(it->string, "__metadata__")) continue;
        if (!cJSON_IsObject(it)) {
            rc = err_user(e, "%s: header entry '%s' is not an object", path, it->string);
            goto fail;
        }
        for (int i = 0; i < f->n_tensors; i++)
            if (!strcmp(f->tensors[i].name, it->string)) {
                rc = err_user(e, "%s: tensor '%s' appears twice", path, it->string);
                goto fail;
            }
        TRY_FAIL(rc, parse_tensor(f, it, data_bytes, &f->tensors[f->n_tensors++], e));
    }
fail:
    cJSON_Delete(hdr);
    return rc;
}

int safetensors_open(const char *path, struct st_file **out, struct err *e) {
    *out = NULL;
    int rc = 0;
    struct st_file *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        rc = err_user(e, "%s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < 8) {
        close(fd);
        rc =
            err_user(e, "%s: not a safetensors file (shorter than its 8-byte header length)", path);
        goto fail;
    }
    f->map_bytes = (size_t)st.st_size;
    f->map = mmap(NULL, f->map_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        rc = err_user(e, "%s: cannot map: %s", path, strerror(errno));
        goto fail;
    }
    f->is_mapped = true;
    TRY_FAIL(rc, parse_header(f, e));
    *out = f;
    return 0;
fail:
    safetensors_close(&f);
    return rc;
}

int safetensors_open_buffer(const void *buf, size_t n_bytes, const char *name, struct st_file **out,
                            struct err *e) {
    *out = NULL;
    if (n_bytes < 8)
        return err_user(e, "%s: not a safetensors file (shorter than its 8-byte header length)",
                        name);
    struct st_file *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(name);
    f->map = (void *)buf;
    f->map_bytes = n_bytes;
    int rc = parse_header(f, e);
    if (rc < 0) {
        safetensors_close(&f);
        return rc;
    }
    *out = f;
    return 0;
}

const struct st_tensor *safetensors_find(const struct st_file *f, const char *name) {
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

static float half_to_f32(uint16_t h) {
    uint32_t s = (uint32_t)(h >> 15) << 31, ex = (h >> 10) & 31, m = h & 1023;
    float v;
    if (ex == 0)
        v = ldexpf((float)m, -24);
    else if (ex == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 1024), (int)ex - 25);
    uint32_t bits;
    memcpy(&bits, &v, 4);
    bits |= s;
    memcpy(&v, &bits, 4);
    return v;
}

int safetensors_read_f32(const struct st_tensor *t, float *out, size_t n, struct err *e) {
    if (n != t->n_elems)
        return err_user(e, "%s: tensor '%s' has %zu elements, expected %zu", t->path, t->name,
                        t->n_elems, n);
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case ST_F32:
        memcpy(out, p, n * 4);
        break;
    case ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint32_t bits = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;
            memcpy(&out[i], &bits, 4);
        }
        break;
    case ST_F16:
        for (size_t i = 0; i < n; i++)
            out[i] = half_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    default:
        return err_user(e, "%s: tensor '%s' has dtype '%s', expected F32, BF16 or F16", t->path,
                        t->name, t->dtype_name);
    }
    return 0;
}

// ---- directories ----

void safetensors_dir_close(struct st_dir **pd) {
    if (!pd || !*pd) return;
    for (int i = 0; i < (*pd)->n_files; i++) safetensors_close(&(*pd)->files[i]);
    free((*pd)->files);
    free(*pd);
    *pd = NULL;
}

static char *read_text(const char *path, struct err *e) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        err_user(e, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *s = xmalloc(cap);
    size_t r;
    while ((r = fread(s + n, 1, cap - n - 1, fp)) > 0) {
        n += r;
        if (cap - n - 1 == 0) s = xrealloc(s, cap *= 2);
    }
    fclose(fp);
    s[n] = 0;
    return s;
}

int safetensors_dir_open(const char *dir, struct st_dir **out, struct err *e) {
    *out = NULL;
    int rc = 0;
    char path[4096];
    struct st_dir *d = xcalloc(1, sizeof *d);
    cJSON *idx = NULL;
    char *text = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (access(path, F_OK) != 0) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        d->files = xcalloc(1, sizeof *d->files);
        TRY_FAIL(rc, safetensors_open(path, &d->files[0], e));
        d->n_files = 1;
        *out = d;
        return 0;
    }
    if (!(text = read_text(path, e))) {
        rc = ERR_USER;
        goto fail;
    }
    idx = cJSON_Parse(text);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(idx, "weight_map");
    if (!cJSON_IsObject(wm)) {
        rc = err_user(e, "%s: no \"weight_map\" object", path);
        goto fail;
    }
    // Distinct shard files, in order of first appearance.
    int cap = cJSON_GetArraySize(wm);
    d->files = xcalloc((size_t)cap + 1, sizeof *d->files);
    const cJSON *it;
    cJSON_ArrayForEach(it, wm) {
        if (!cJSON_IsString(it) || strchr(it->valuestring, '/')) {
            rc = err_user(e, "%s: weight_map entry '%s' is not a file name", path, it->string);
            goto fail;
        }
        char shard[4096];
        snprintf(shard, sizeof shard, "%s/%s", dir, it->valuestring);
        bool seen = false;
        for (int i = 0; i < d->n_files && !seen; i++) seen = !strcmp(d->files[i]->path, shard);
        if (seen) continue;
        TRY_FAIL(rc, safetensors_open(shard, &d->files[d->n_files], e));
        d->n_files++;
    }
    cJSON_Delete(idx);
    free(text);
    *out = d;
    return 0;
fail:
    cJSON_Delete(idx);
    free(text);
    safetensors_dir_close(&d);
    return rc;
}

const struct st_tensor *safetensors_dir_find(const struct st_dir *d, const char *name) {
    for (int i = 0; i < d->n_files; i++) {
        const struct st_tensor *t = safetensors_find(d->files[i], name);
        if (t) return t;
    }
    return NULL;
}

// ---- writing ----

int safetensors_write_f32(const char *path, const struct st_write_tensor *ts, int n,
                          struct err *e) {
    int rc = 0;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = NULL;
    cJSON *hdr = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(hdr, "__metadata__");
    cJSON_AddStringToObject(meta, "format", "pt");
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_AddObjectToObject(hdr, ts[i].name);
        cJSON_AddStringToObject(o, "dtype", "F32");
        cJSON *sh = cJSON_AddArrayToObject(o, "shape");
        size_t ne = 1;
        for (int d = 0; d < ts[i].ndim; d++) {
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)ts[i].shape[d]));
            ne *= (size_t)ts[i].shape[d];
        }
        cJSON *of = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + ne * 4)));
        off += ne * 4;
    }
    char *js = cJSON_PrintUnformatted(hdr);
    size_t hl = strlen(js), padded = (hl + 7) / 8 * 8; // data starts 8-byte aligned
    fp = fopen(tmp, "wb");
    if (!fp) {
        rc = err_user(e, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    bool ok = fwrite(len8, 1, 8, fp) == 8 && fwrite(js, 1, hl, fp) == hl;
    for (size_t i = hl; i < padded && ok; i++) ok = fputc(' ', fp) != EOF;
    for (int i = 0; i < n && ok; i++) {
        size_t ne = 1;
        for (int d = 0; d < ts[i].ndim; d++) ne *= (size_t)ts[i].shape[d];
        ok = fwrite(ts[i].data, 4, ne, fp) == ne;
    }
    ok = ok && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    if (fclose(fp) != 0) ok = false;
    fp = NULL;
    if (!ok || rename(tmp, path) != 0) {
        rc = err_user(e, "%s: write failed: %s", path, strerror(errno));
        unlink(tmp);
        goto fail;
    }
fail:
    if (fp) fclose(fp);
    free(js);
    cJSON_Delete(hdr);
    return rc;
}
