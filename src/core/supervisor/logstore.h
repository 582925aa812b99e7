/*
 * Each service's captured stdout/stderr as a structured log stream: a
 * bounded in-memory ring of recent records (for `orbctl logs` and crash
 * records) and a file on disk rotated by size.  Memory is allocated on the
 * first line, so a quiet service costs nothing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/time.h"

enum log_stream {
        LOG_STREAM_STDOUT,
        LOG_STREAM_STDERR,
        LOG_STREAM_ORBITAL, /* lines orbitald adds: spawn, exit, limits */
        _LOG_STREAM_N,
};

#define LOG_LINE_MAX 2048 /* longer lines are split */

struct log_record {
        uint64_t seq;      /* per service, from 1 */
        usec_t time;       /* CLOCK_REALTIME */
        pid_t pid;
        uint8_t stream;    /* enum log_stream */
        uint16_t len;
        char text[];       /* len bytes + NUL; valid UTF-8 */
};

struct log_settings {
        const char *dir;        /* borrowed: directory of the files, NULL = memory only */
        uint64_t max_file;      /* rotate when a file would pass this */
        unsigned keep;          /* rotated files kept: name.log.1 .. .N */
        unsigned ring_lines;    /* records kept in memory */
        size_t ring_bytes;      /* bytes of text kept in memory */
};

struct logstore {
        const struct log_settings *set; /* borrowed */
        char name[64];
        struct log_record **ring;       /* owned, ring_lines slots, NULL until used */
        unsigned head, n;               /* oldest at (head - n) */
        size_t bytes;
        uint64_t seq;                   /* last assigned */
        int fd;                         /* log file, -1 until first write */
        uint64_t file_size;
        char *partial[2];               /* owned: unterminated tail per pipe */
        size_t partial_len[2];
};

void logstore_init(struct logstore *ls, const struct log_settings *set, const char *name);
void logstore_deinit(struct logstore *ls);

/* Appends one complete line.  Returns the record (owned by the store,
 * valid until the next append) or NULL if memory ran out (the line still
 * reaches the file). */
const struct log_record *logstore_append(struct logstore *ls, enum log_stream stream, pid_t pid, usec_t time,
                                         const char *text, size_t len);

/* Feeds raw pipe bytes; calls @emit for each completed record. */
void logstore_feed(struct logstore *ls, enum log_stream stream, pid_t pid, usec_t time, const char *buf, size_t len,
                   void (*emit)(void *ctx, const struct log_record *rec), void *ctx);
/* Flushes an unterminated tail (at EOF). */
void logstore_flush(struct logstore *ls, enum log_stream stream, pid_t pid, usec_t time,
                    void (*emit)(void *ctx, const struct log_record *rec), void *ctx);

/* The record @i places back from the newest (0 = newest), or NULL. */
const struct log_record *logstore_nth_newest(const struct logstore *ls, unsigned i);
static inline unsigned logstore_count(const struct logstore *ls)
{
        return ls->n;
}

const char *log_stream_name(enum log_stream s);
