// Atomic checkpoint saves, identification, retention and latest resolution.
#include "io/ckpt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fs.h"

struct ckpt_writer {
    char *final_path;
    char *tmp_path;
    struct h5file *file;
};

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    char *d = xmalloc((size_t)(slash - path) + 1);
    memcpy(d, path, (size_t)(slash - path));
    d[slash - path] = '\0';
    return d;
}

static int fsync_path(const char *path, int flags, struct err *e) {
    int fd = open(path, flags);
    if (fd < 0) return err_user(e, "%s: cannot open for fsync: %s", path, strerror(errno));
    int rc = fsync(fd) == 0 || errno == EINVAL
                 ? 0
                 : err_user(e, "%s: fsync failed: %s", path, strerror(errno));
    close(fd);
    return rc;
}

int ckpt_writer_begin(const char *final_path, struct ckpt_writer **out, struct err *e) {
    *out = NULL;
    char *dir = dir_of(final_path);
    int rc = fs_make_dirs(dir, e);
    free(dir);
    TRY(rc);
    struct ckpt_writer *w = xcalloc(1, sizeof *w);
    w->final_path = xstrdup(final_path);
    size_t n = strlen(final_path) + 32;
    w->tmp_path = xmalloc(n);
    snprintf(w->tmp_path, n, "%s.tmp.%ld", final_path, (long)getpid());
    TRY_FAIL(rc, h5_create(w->tmp_path, &w->file, e));
    TRY_FAIL(rc, h5_attr_set_str(w->file, "/", "format", CKPT_FORMAT, e));
    TRY_FAIL(rc, h5_attr_set_i64(w->file, "/", "format_version", CKPT_FORMAT_VERSION, e));
    *out = w;
    return 0;
fail:
    ckpt_writer_abort(&w);
    return rc;
}

struct h5file *ckpt_writer_file(struct ckpt_writer *w) {
    return w->file;
}

static void writer_free(struct ckpt_writer *w) {
    free(w->final_path);
    free(w->tmp_path);
    free(w);
}

void ckpt_writer_abort(struct ckpt_writer **wp) {
    struct ckpt_writer *w = *wp;
    if (!w) return;
    struct err ignored;
    h5_close(&w->file, &ignored);
    unlink(w->tmp_path);
    writer_free(w);
    *wp = NULL;
}

int ckpt_writer_commit(struct ckpt_writer **wp, struct err *e) {
    struct ckpt_writer *w = *wp;
    int rc;
    TRY_FAIL(rc, h5_flush(w->file, e));
    TRY_FAIL(rc, h5_close(&w->file, e));
    TRY_FAIL(rc, fsync_path(w->tmp_path, O_RDONLY, e));
    if (rename(w->tmp_path, w->final_path) != 0) {
        rc = err_user(e, "%s: cannot rename into place: %s", w->final_path, strerror(errno));
        goto fail;
    }
    char *dir = dir_of(w->final_path);
    rc = fsync_path(dir, O_RDONLY | O_DIRECTORY, e);
    free(dir);
    writer_free(w);
    *wp = NULL;
    return rc;
fail:
    ckpt_writer_abort(wp);
    return rc;
}

int ckpt_open(const char *path, struct h5file **out, struct err *e) {
    TRY(h5_open(path, out, e));
    int rc;
    char *format = NULL;
    int64_t version = 0;
    if (!h5_attr_exists(*out, "/", "format") ||
        h5_attr_get_str(*out, "/", "format", &format, e) != 0 || strcmp(format, CKPT_FORMAT) != 0) {
        rc = err_user(e, "%s: not a grpo checkpoint (no format = \"%s\" attribute)", path,
                      CKPT_FORMAT);
        goto fail;
    }
    TRY_FAIL(rc, h5_attr_get_i64(*out, "/", "format_version", &version, e));
    if (version < 1 || version > CKPT_FORMAT_VERSION) {
        rc = err_user(e, "%s: checkpoint format version %lld, this grpo reads up to %d", path,
                      (long long)version, CKPT_FORMAT_VERSION);
        goto fail;
    }
    free(format);
    return 0;
fail:
    free(format);
    struct err ignored;
    h5_close(out, &ignored);
    return rc;
}

void ckpt_path(char *buf, size_t n, const char *dir, int64_t step) {
    snprintf(buf, n, "%s/ckpt-%" PRId64 ".h5", dir, step);
}

// "ckpt-<digits>.h5" -> step; -1 for other names.
static int64_t step_of_name(const char *name) {
    if (strncmp(name, "ckpt-", 5) != 0) return -1;
    const char *p = name + 5;
    int64_t step = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 18) return -1;
        step = step * 10 + (*p - '0');
    }
    return digits > 0 && strcmp(p, ".h5") == 0 ? step : -1;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int ckpt_list(const char *dir, int64_t **steps, int *n, struct err *e) {
    *steps = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        return err_user(e, "%s: cannot list: %s", dir, strerror(errno));
    }
    int cap = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        int64_t s = step_of_name(ent->d_name);
        if (s < 0) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *steps = xrealloc(*steps, (size_t)cap * sizeof **steps);
        }
        (*steps)[(*n)++] = s;
    }
    closedir(d);
    if (*n) qsort(*steps, (size_t)*n, sizeof **steps, cmp_i64);
    return 0;
}

int ckpt_latest(const char *dir, char *path, size_t n, int64_t *step, struct err *e) {
    int64_t *steps;
    int count;
    TRY(ckpt_list(dir, &steps, &count, e));
    if (count == 0) {
        free(steps);
        return 0;
    }
    *step = steps[count - 1];
    free(steps);
    ckpt_path(path, n, dir, *step);
    struct h5file *f;
    int rc = ckpt_open(path, &f, e);
    if (rc < 0)
        return err_prefix(e, "latest checkpoint is unusable (resume from an older one with "
                             "--resume PATH if you want it): ");
    return h5_close(&f, e) < 0 ? ERR_USER : 1;
}

// A temporary file "ckpt-<step>.h5.tmp.<pid>" whose writer is gone.
static bool is_stale_tmp(const char *name) {
    const char *t = strstr(name, ".h5.tmp.");
    if (strncmp(name, "ckpt-", 5) != 0 || !t) return false;
    long pid = strtol(t + 8, NULL, 10);
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int ckpt_prune(const char *dir, int keep, struct err *e) {
    int64_t *steps;
    int count;
    TRY(ckpt_list(dir, &steps, &count, e));
    char path[4096];
    int rc = 0;
    for (int i = 0; keep > 0 && i < count - keep; i++) {
        ckpt_path(path, sizeof path, dir, steps[i]);
        if (unlink(path) != 0 && errno != ENOENT) {
            rc = err_user(e, "%s: cannot remove: %s", path, strerror(errno));
            break;
        }
    }
    free(steps);
    DIR *d = opendir(dir);
    if (!d) return rc;
    struct dirent *ent;
    while ((ent = readdir(d)))
        if (is_stale_tmp(ent->d_name)) {
            snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
            unlink(path);
        }
    closedir(d);
    return rc;
}
