/*
 * One log module for orbitald and its tools.  Records are one line on
 * stderr: "orbitald: <level>: key=value ...: message".  The level is
 * checked in the macro, so arguments are not evaluated when it is off.
 * log_lossy() is for anything a peer can trigger: it drops records past a
 * small per-second budget so a noisy peer cannot stall the core.
 */
#pragma once

#include <stdbool.h>

enum log_level {
        LOG_ERR,
        LOG_WARN,
        LOG_NOTICE,
        LOG_INFO,
        LOG_DEBUG,
};

extern enum log_level log_max_level;

void log_init(const char *program);
__attribute__((format(printf, 2, 3))) void log_emit(enum log_level level, const char *fmt, ...);
/* Like log_emit but rate-limited; returns false when the record was dropped. */
__attribute__((format(printf, 2, 3))) bool log_emit_lossy(enum log_level level, const char *fmt, ...);

#define log_at(lvl, ...)                                                       \
        do {                                                                   \
                if ((lvl) <= log_max_level)                                    \
                        log_emit((lvl), __VA_ARGS__);                          \
        } while (0)

#define log_err(...) log_at(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_lossy(lvl, ...)                                                    \
        do {                                                                   \
                if ((lvl) <= log_max_level)                                    \
                        log_emit_lossy((lvl), __VA_ARGS__);                    \
        } while (0)

bool log_level_parse(const char *s, enum log_level *out);
