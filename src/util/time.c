/*
 * Time and quantity helpers: the clock wrappers, and the text forms of
 * durations and sizes that manifests and orbctl use.
 *
 * Every duration is an unsigned count of microseconds (usec_t).
 * USEC_INFINITY is reserved to mean "never", so no parsed duration may
 * reach it.  Text forms are deliberately narrow: a bare number is bytes for
 * a size but is refused for a duration (is "30" seconds or milliseconds?),
 * except "0", which means the same in every unit.
 *
 * The parsers are exact.  A duration is a sequence of <number><unit>
 * parts with units h, m, s, ms, us from largest to smallest, each at most
 * once; only whole microseconds are accepted ("1.5s" yes, "0.5us" no).
 * Sizes are binary (K = 1024).  Both check every multiplication and
 * addition for overflow.  The formatters produce text the parsers read
 * back to the same value.
 *
 * This module does no policy: what counts as a sensible timeout is the
 * caller's business.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/strbuf.h"
#include "util/time.h"

#define USEC_PER_MIN (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MIN)
#define FRACTION_DIGITS_MAX 9

struct duration_unit {
        const char *suffix;
        usec_t usec;
};

/* Largest first: a duration lists its parts in this order. */
static const struct duration_unit duration_units[] = {
        { "h", USEC_PER_HOUR },
        { "m", USEC_PER_MIN },
        { "s", USEC_PER_SEC },
        { "ms", USEC_PER_MSEC },
        { "us", 1 },
};

#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

static usec_t timespec_usec(const struct timespec *ts)
{
        return (usec_t)ts->tv_sec * USEC_PER_SEC + (usec_t)ts->tv_nsec / 1000;
}

/**
 * now_mono() - read the monotonic clock.
 *
 * Return: microseconds since an arbitrary point (boot, on Linux).
 */
usec_t now_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return timespec_usec(&ts);
}

/**
 * now_real() - read the wall clock.
 *
 * Return: microseconds since the Unix epoch.
 */
usec_t now_real(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return timespec_usec(&ts);
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Reads one or more decimal digits at *s; false on none or on overflow. */
static bool read_uint(const char **s, uint64_t *out)
{
        const char *p = *s;
        uint64_t v = 0;

        if (!is_digit(*p))
                return false;
        for (; is_digit(*p); p++) {
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
                        return false;
        }
        *s = p;
        *out = v;
        return true;
}

/* Reads the digits after a '.': value and 10^digits; 1..9 digits. */
static bool read_fraction(const char **s, uint64_t *frac, uint64_t *scale)
{
        const char *p = *s;
        uint64_t v = 0, m = 1;

        for (; is_digit(*p); p++) {
                if (p - *s >= FRACTION_DIGITS_MAX)
                        return false;
                v = v * 10 + (uint64_t)(*p - '0');
                m *= 10;
        }
        if (p == *s)
                return false;
        *s = p;
        *frac = v;
        *scale = m;
        return true;
}

/* Index of the longest unit suffix at s ("ms" before "m"); -1 if none. */
static int match_unit(const char *s, size_t *len)
{
        int best = -1;
        size_t best_len = 0;

        for (size_t i = 0; i < N_DURATION_UNITS; i++) {
                size_t l = strlen(duration_units[i].suffix);

                if (l > best_len && !strncmp(s, duration_units[i].suffix, l)) {
                        best = (int)i;
                        best_len = l;
                }
        }
        *len = best_len;
        return best;
}

/*
 * One <number>[.<fraction>]<unit> part.  *next_unit is the smallest unit
 * index still allowed; it moves past the unit used, so "1s1m" and "1s1s"
 * are refused.
 */
static bool parse_duration_part(const char **s, size_t *next_unit, usec_t *out)
{
        const char *p = *s;
        uint64_t whole, frac = 0, scale = 1, f;
        usec_t unit, v;
        size_t len;
        int u;

        if (!read_uint(&p, &whole))
                return false;
        if (*p == '.') {
                p++;
                if (!read_fraction(&p, &frac, &scale))
                        return false;
        }
        u = match_unit(p, &len);
        if (u < 0 || (size_t)u < *next_unit)
                return false;
        unit = duration_units[u].usec;
        /* frac < 10^9 and unit <= 3.6 * 10^9: the product fits. */
        f = frac * unit;
        if (f % scale)
                return false;
        if (__builtin_mul_overflow(whole, unit, &v) || __builtin_add_overflow(v, f / scale, &v))
                return false;
        *s = p + len;
        *next_unit = (size_t)u + 1;
        *out = v;
        return true;
}

/**
 * parse_duration() - read a duration such as "1m30s" or "250ms".
 * @s: NUL-terminated text
 * @out: the duration in microseconds, set on success only
 *
 * Return: true on success; false on empty text, a bare number other than
 * "0", an unknown or repeated unit, units out of order, a fraction finer
 * than a microsecond, or a value that does not fit below USEC_INFINITY.
 */
bool parse_duration(const char *s, usec_t *out)
{
        usec_t total = 0, part;
        size_t next_unit = 0;

        if (!s || !*s)
                return false;
        if (!strcmp(s, "0")) {
                *out = 0;
                return true;
        }
        while (*s) {
                if (!parse_duration_part(&s, &next_unit, &part))
                        return false;
                if (__builtin_add_overflow(total, part, &total))
                        return false;
        }
        if (total == USEC_INFINITY)
                return false;
        *out = total;
        return true;
}

/* Bytes per unit letter, or 0 for a letter that is not a unit. */
static uint64_t size_unit(char c)
{
        switch (c) {
        case 'K':
                return 1ull << 10;
        case 'M':
                return 1ull << 20;
        case 'G':
                return 1ull << 30;
        case 'T':
                return 1ull << 40;
        default:
                return 0;
        }
}

/**
 * parse_size() - read a size such as "64M", "64MiB" or "4096".
 * @s: NUL-terminated text
 * @out: the size in bytes, set on success only
 *
 * A plain number is bytes (a trailing "B" is allowed).  K, M, G and T are
 * binary units, optionally followed by "iB" or "B".  No sign, no fraction,
 * no space.
 *
 * Return: true on success, false on anything else or on overflow.
 */
bool parse_size(const char *s, uint64_t *out)
{
        uint64_t v, unit = 1;

        if (!s || !read_uint(&s, &v))
                return false;
        if (size_unit(*s)) {
                unit = size_unit(*s);
                s++;
                if (!strcmp(s, "iB"))
                        s += 2;
        }
        if (!strcmp(s, "B"))
                s++;
        if (*s || __builtin_mul_overflow(v, unit, &v))
                return false;
        *out = v;
        return true;
}

/* "<whole>[.<frac without trailing zeros>]<unit>". */
static void append_fraction(char *buf, size_t n, size_t *pos, uint64_t whole, uint64_t frac, int digits,
                            const char *unit)
{
        char f[16];
        size_t len;

        if (!frac) {
                buf_appendf(buf, n, pos, "%" PRIu64 "%s", whole, unit);
                return;
        }
        snprintf(f, sizeof(f), "%0*" PRIu64, digits, frac);
        len = strlen(f);
        while (len > 0 && f[len - 1] == '0')
                f[--len] = '\0';
        buf_appendf(buf, n, pos, "%" PRIu64 ".%s%s", whole, f, unit);
}

/**
 * format_duration() - write @d in the form parse_duration() reads back.
 * @buf, @n: output buffer; the text is cut to fit and always terminated
 * @d: microseconds; USEC_INFINITY is written as "infinity"
 *
 * Hours and minutes are whole parts; the rest is seconds, milliseconds
 * or microseconds with a fraction: "1h", "1m30s", "1.5s", "250ms", "10us".
 *
 * Return: @buf.
 */
char *format_duration(char *buf, size_t n, usec_t d)
{
        size_t pos = 0;
        usec_t rest;

        if (!n)
                return buf;
        buf[0] = '\0';
        if (d == 0 || d == USEC_INFINITY) {
                buf_appendf(buf, n, &pos, "%s", d ? "infinity" : "0");
                return buf;
        }
        if (d >= USEC_PER_HOUR)
                buf_appendf(buf, n, &pos, "%" PRIu64 "h", d / USEC_PER_HOUR);
        rest = d % USEC_PER_HOUR;
        if (rest >= USEC_PER_MIN)
                buf_appendf(buf, n, &pos, "%" PRIu64 "m", rest / USEC_PER_MIN);
        rest %= USEC_PER_MIN;
        if (rest >= USEC_PER_SEC)
                append_fraction(buf, n, &pos, rest / USEC_PER_SEC, rest % USEC_PER_SEC, 6, "s");
        else if (rest >= USEC_PER_MSEC)
                append_fraction(buf, n, &pos, rest / USEC_PER_MSEC, rest % USEC_PER_MSEC, 3, "ms");
        else if (rest)
                buf_appendf(buf, n, &pos, "%" PRIu64 "us", rest);
        return buf;
}

/**
 * format_size() - write @size in the form parse_size() reads back.
 * @buf, @n: output buffer; the text is cut to fit and always terminated
 * @size: bytes
 *
 * Uses the largest binary unit that divides @size exactly: "64M",
 * "1536K", "4097".
 *
 * Return: @buf.
 */
char *format_size(char *buf, size_t n, uint64_t size)
{
        static const char units[] = "TGMK";

        if (!n)
                return buf;
        for (size_t i = 0; size && i < sizeof(units) - 1; i++) {
                uint64_t unit = size_unit(units[i]);

                if (size % unit == 0) {
                        snprintf(buf, n, "%" PRIu64 "%c", size / unit, units[i]);
                        return buf;
                }
        }
        snprintf(buf, n, "%" PRIu64, size);
        return buf;
}

/**
 * format_timestamp() - write a wall-clock time as RFC 3339 UTC.
 * @buf, @n: output buffer; the text is cut to fit and always terminated
 * @realtime: microseconds since the Unix epoch
 *
 * Milliseconds are kept, the rest is cut: "2026-11-22T02:39:50.123Z".
 *
 * Return: @buf.
 */
char *format_timestamp(char *buf, size_t n, usec_t realtime)
{
        time_t sec = (time_t)(realtime / USEC_PER_SEC);
        unsigned ms = (unsigned)(realtime % USEC_PER_SEC / USEC_PER_MSEC);
        char date[64];
        struct tm tm;

        if (!n)
                return buf;
        if (!gmtime_r(&sec, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
                snprintf(buf, n, "invalid");
                return buf;
        }
        snprintf(buf, n, "%s.%03uZ", date, ms);
        return buf;
}
