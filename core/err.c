// Error values: formatting of the one-line message carried by struct err.
#include "core/err.h"

#include <stdio.h>
#include <string.h>

int err_vset(struct err *e, int code, const char *fmt, va_list ap) {
    if (e) {
        e->code = code;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        // Messages are one line: a newline from a quoted value would break
        // "FILE:LINE:COL: message" parsing by scripts.
        for (char *p = e->msg; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
    }
    return code;
}

int err_user(struct err *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = err_vset(e, ERR_USER, fmt, ap);
    va_end(ap);
    return rc;
}

int err_internal(struct err *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = err_vset(e, ERR_INTERNAL, fmt, ap);
    va_end(ap);
    return rc;
}

int err_prefix(struct err *e, const char *fmt, ...) {
    if (!e) return ERR_INTERNAL;
    char prefix[ERR_MSG_MAX], old[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n >= sizeof e->msg) n = sizeof e->msg - 1;
    memcpy(e->msg, prefix, n);
    size_t m = strlen(old);
    if (m > sizeof e->msg - 1 - n) m = sizeof e->msg - 1 - n;
    memcpy(e->msg + n, old, m);
    e->msg[n + m] = '\0';
    if (e->code == ERR_OK) e->code = ERR_INTERNAL;
    return e->code;
}

void err_clear(struct err *e) {
    if (e) {
        e->code = ERR_OK;
        e->msg[0] = '\0';
    }
}

int err_exit_code(int rc) {
    if (rc >= 0) return 0;
    return rc == ERR_USER ? 1 : 2;
}
