// Errors as values, for the whole project.
//
// A function that can fail on user input returns int: 0 on success, ERR_USER
// (bad config, data, checkpoint or model file) or ERR_INTERNAL (a bug or a
// library failure that is not the user's fault), and fills the caller's
// struct err with one line naming the file, line, key or value at fault, in
// git's style: lowercase, no full stop, the bad value quoted.
//
//     exp.yaml:12:7: unknown key 'lerning_rate' (did you mean 'learning_rate'?)
//
// The CLI prints e.msg and exits with err_exit_code(rc): 0, 1 (user) or 2.
#pragma once

#include <stdarg.h>

enum { ERR_OK = 0, ERR_USER = -1, ERR_INTERNAL = -2 };

#define ERR_MSG_MAX 1024

struct err {
    int code;              // ERR_OK, ERR_USER or ERR_INTERNAL
    char msg[ERR_MSG_MAX]; // one line, no trailing newline
};

// Set e (may be NULL) and return ERR_USER / ERR_INTERNAL.
int err_user(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_internal(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_vset(struct err *e, int code, const char *fmt, va_list ap);

// Prepend context ("ckpt-10.h5: ") to the message already in e; returns e->code.
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Reset e to "no error".
void err_clear(struct err *e);

// Process exit status for a return code: 0, 1 for ERR_USER, 2 otherwise.
int err_exit_code(int rc);

// Propagate a negative return code.
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int try_rc_ = (expr);                                                                      \
        if (try_rc_ < 0) return try_rc_;                                                           \
    } while (0)

// Store the return code in rc and jump to the function's one `fail:` label.
#define TRY_FAIL(rc, expr)                                                                         \
    do {                                                                                           \
        if (((rc) = (expr)) < 0) goto fail;                                                        \
    } while (0)
