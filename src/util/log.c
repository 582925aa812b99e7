/*
 * Logging to stderr, one record per line, written with a single write(2)
 * so lines from concurrent writers never interleave.  The lossy variant
 * keeps a budget of records per second and reports how many it dropped
 * when the next second opens.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/time.h"

enum log_level log_max_level = LOG_INFO;
static const char *log_program = "orbital";

#define LOSSY_PER_SEC 50

static const char *const level_names[] = {
        [LOG_ERR] = "error", [LOG_WARN] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_init(const char *program)
{
        log_program = program;
}

__attribute__((format(printf, 2, 0))) static void log_vemit(enum log_level level, const char *fmt, va_list ap)
{
        char buf[2048];
        int saved = errno;
        int n = snprintf(buf, sizeof(buf), "%s: %s: ", log_program, level_names[level]);
        int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);

        if (len > sizeof(buf) - 2)
                len = sizeof(buf) - 2;
        buf[len++] = '\n';
        (void)!write(STDERR_FILENO, buf, len);
        errno = saved;
}

void log_emit(enum log_level level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_vemit(level, fmt, ap);
        va_end(ap);
}

bool log_emit_lossy(enum log_level level, const char *fmt, ...)
{
        static usec_t window;
        static unsigned used, dropped;
        usec_t sec = now_mono() / USEC_PER_SEC;
        va_list ap;

        if (sec != window) {
                if (dropped)
                        log_emit(LOG_WARN, "dropped %u log records from peers", dropped);
                window = sec;
                used = dropped = 0;
        }
        if (used >= LOSSY_PER_SEC) {
                dropped++;
                return false;
        }
        used++;
        va_start(ap, fmt);
        log_vemit(level, fmt, ap);
        va_end(ap);
        return true;
}

bool log_level_parse(const char *s, enum log_level *out)
{
        for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
                if (strcmp(s, level_names[i]) == 0) {
                        *out = (enum log_level)i;
                        return true;
                }
        }
        return false;
}
