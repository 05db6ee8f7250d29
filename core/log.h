// Logging to stderr with a level and the MPI rank as prefix:
//
//     [r2 +12.345s] warn: 3 NaN gradients, update skipped
//
// The level and rank are set once at start-up by the CLI (log_init) and are
// the only process-wide mutable state outside cli/ (like stderr itself).
#pragma once

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

// rank < 0 omits the rank prefix (single-process tools).
void log_init(int rank, enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Parse "debug|info|warn|error"; returns 0 or -1.
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

#define LOG_DEBUG(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define LOG_INFO(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define LOG_WARN(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define LOG_ERROR(...) log_msg(LOG_ERROR, __VA_ARGS__)
