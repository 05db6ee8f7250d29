// Levelled, rank-prefixed logging to stderr.
#include "core/log.h"

#include <stdio.h>
#include <string.h>

#include "core/timer.h"

static struct {
    int rank;
    enum log_level level;
    double t0;
} log_state = {.rank = -1, .level = LOG_INFO, .t0 = -1.0};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(int rank, enum log_level level) {
    log_state.rank = rank;
    log_state.level = level;
    log_state.t0 = time_now_s();
}

enum log_level log_get_level(void) {
    return log_state.level;
}

bool log_enabled(enum log_level level) {
    return level >= log_state.level;
}

const char *log_level_name(enum log_level level) {
    return (unsigned)level < 4 ? level_names[level] : "?";
}

int log_level_parse(const char *s, enum log_level *out) {
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...) {
    if (!log_enabled(level)) return;
    if (log_state.t0 < 0) log_state.t0 = time_now_s();
    char line[2048];
    int n;
    double t = time_now_s() - log_state.t0;
    if (log_state.rank >= 0)
        n = snprintf(line, sizeof line, "[r%d +%.3fs] %s: ", log_state.rank, t, level_names[level]);
    else
        n = snprintf(line, sizeof line, "[+%.3fs] %s: ", t, level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    // One write per line so that ranks sharing a terminal do not interleave mid-line.
    fprintf(stderr, "%s\n", line);
}
