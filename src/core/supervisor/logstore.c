/*
 * Log capture.  The ring holds pointers to individually allocated records;
 * the oldest are evicted when either the line count or the byte budget is
 * exceeded, so memory per service is bounded by ring_bytes + one line.
 * Files: one record per line, "<RFC 3339 time> <stream> <pid> <text>",
 * appended with O_APPEND and rotated name.log -> name.log.1 -> ... when
 * the next write would pass max_file.  A failed file write is counted and
 * logged once, never fatal: capture to memory goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "supervisor/logstore.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/utf8.h"

const char *log_stream_name(enum log_stream s)
{
        static const char *const names[] = {"stdout", "stderr", "orbital"};
        return s < _LOG_STREAM_N ? names[s] : "?";
}

void logstore_init(struct logstore *ls, const struct log_settings *set, const char *name)
{
        *ls = (struct logstore){.set = set, .fd = -1};
        snprintf(ls->name, sizeof(ls->name), "%s", name);
}

void logstore_deinit(struct logstore *ls)
{
        if (ls->ring) {
                for (unsigned i = 0; i < ls->set->ring_lines; i++)
                        free(ls->ring[i]);
                free(ls->ring);
        }
        free(ls->partial[0]);
        free(ls->partial[1]);
        ls->fd = safe_close(ls->fd);
        *ls = (struct logstore){.fd = -1};
}

static void file_path(const struct logstore *ls, unsigned generation, char *buf, size_t n)
{
        if (generation)
                snprintf(buf, n, "%s/%s.log.%u", ls->set->dir, ls->name, generation);
        else
                snprintf(buf, n, "%s/%s.log", ls->set->dir, ls->name);
}

static void file_rotate(struct logstore *ls)
{
        char from[4096], to[4096];

        ls->fd = safe_close(ls->fd);
        for (unsigned g = ls->set->keep; g > 0; g--) {
                file_path(ls, g - 1, from, sizeof(from));
                file_path(ls, g, to, sizeof(to));
                rename(from, to);
        }
        if (!ls->set->keep) {
                file_path(ls, 0, from, sizeof(from));
                unlink(from);
        }
}

static int file_open(struct logstore *ls)
{
        char path[4096];
        off_t end;

        file_path(ls, 0, path, sizeof(path));
        ls->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
        if (ls->fd < 0)
                return -errno;
        end = lseek(ls->fd, 0, SEEK_END);
        ls->file_size = end < 0 ? 0 : (uint64_t)end;
        return 0;
}

/* The file keeps the bytes as the service wrote them. */
static void file_write(struct logstore *ls, enum log_stream stream, pid_t pid, usec_t time, const char *text,
                       size_t len)
{
        char head[96], ts[48];
        struct iovec iov[3];
        size_t total;
        int n;

        if (!ls->set->dir)
                return;
        n = snprintf(head, sizeof(head), "%s %s %d ", format_timestamp(ts, sizeof(ts), time), log_stream_name(stream),
                     (int)pid);
        total = (size_t)n + len + 1;
        if (ls->fd >= 0 && ls->file_size + total > ls->set->max_file && ls->file_size > 0)
                file_rotate(ls);
        if (ls->fd < 0 && file_open(ls) < 0) {
                log_lossy(LOG_WARN, "service=%s: unable to open log file: %s", ls->name, strerror(errno));
                return;
        }
        iov[0] = (struct iovec){head, (size_t)n};
        iov[1] = (struct iovec){(void *)text, len};
        iov[2] = (struct iovec){"\n", 1};
        if (writev(ls->fd, iov, 3) < 0)
                log_lossy(LOG_WARN, "service=%s: unable to write log file: %s", ls->name, strerror(errno));
        else
                ls->file_size += total;
}

static void ring_evict_oldest(struct logstore *ls)
{
        unsigned cap = ls->set->ring_lines;
        unsigned oldest = (ls->head + cap - ls->n) % cap;

        ls->bytes -= ls->ring[oldest]->len;
        free(ls->ring[oldest]);
        ls->ring[oldest] = NULL;
        ls->n--;
}

static struct log_record *ring_push(struct logstore *ls, struct log_record *rec)
{
        unsigned cap = ls->set->ring_lines;

        if (!ls->ring) {
                ls->ring = calloc(cap, sizeof(*ls->ring));
                if (!ls->ring)
                        return NULL;
        }
        while (ls->n && (ls->n == cap || ls->bytes + rec->len > ls->set->ring_bytes))
                ring_evict_oldest(ls);
        ls->ring[ls->head] = rec;
        ls->head = (ls->head + 1) % cap;
        ls->n++;
        ls->bytes += rec->len;
        return rec;
}

/*
 * The memory copy is valid UTF-8 (invalid bytes become U+FFFD), so every
 * reader (orbctl logs, crash records) can encode it as JSON.
 */
const struct log_record *logstore_append(struct logstore *ls, enum log_stream stream, pid_t pid, usec_t time,
                                         const char *text, size_t len)
{
        struct log_record *rec;
        size_t clean;

        if (len > LOG_LINE_MAX)
                len = LOG_LINE_MAX;
        file_write(ls, stream, pid, time, text, len);
        clean = utf8_sanitized_len(text, len);
        rec = malloc(sizeof(*rec) + clean + 1);
        if (!rec)
                return NULL;
        *rec = (struct log_record){.seq = ++ls->seq, .time = time, .pid = pid, .stream = (uint8_t)stream,
                                   .len = (uint16_t)clean};
        utf8_sanitize(text, len, rec->text);
        if (!ring_push(ls, rec)) {
                free(rec);
                return NULL;
        }
        return rec;
}

static void emit_line(struct logstore *ls, enum log_stream stream, pid_t pid, usec_t time, const char *p, size_t n,
                      void (*emit)(void *, const struct log_record *), void *ctx)
{
        const struct log_record *rec;

        if (n && p[n - 1] == '\r')
                n--;
        rec = logstore_append(ls, stream, pid, time, p, n);
        if (rec && emit)
                emit(ctx, rec);
}

void logstore_feed(struct logstore *ls, enum log_stream stream, pid_t pid, usec_t time, const char *buf, size_t len,
                   void (*emit)(void *ctx, const struct log_record *rec), void *ctx)
{
        unsigned s = stream == LOG_STREAM_STDERR;

        while (len) {
                const char *nl = memchr(buf, '\n', len);
                size_t take = nl ? (size_t)(nl - buf) : len;
                size_t have = ls->partial_len[s];

                if (!nl && have + take < LOG_LINE_MAX) {
                        char *p = realloc(ls->partial[s], have + take);
                        if (p) {
                                memcpy(p + have, buf, take);
                                ls->partial[s] = p;
                                ls->partial_len[s] = have + take;
                        }
                        return;
                }
                if (have) {
                        /* join the tail with this piece, bounded by LOG_LINE_MAX */
                        char line[LOG_LINE_MAX];
                        size_t m = take < LOG_LINE_MAX - have ? take : LOG_LINE_MAX - have;
                        memcpy(line, ls->partial[s], have);
                        memcpy(line + have, buf, m);
                        ls->partial_len[s] = 0;
                        emit_line(ls, stream, pid, time, line, have + m, emit, ctx);
                        take = m;
                } else {
                        if (take > LOG_LINE_MAX)
                                take = LOG_LINE_MAX;
                        emit_line(ls, stream, pid, time, buf, take, emit, ctx);
                }
                if (take < len && buf[take] == '\n')
                        take++;
                buf += take;
                len -= take;
        }
}

void logstore_flush(struct logstore *ls, enum log_stream stream, pid_t pid, usec_t time,
                    void (*emit)(void *ctx, const struct log_record *rec), void *ctx)
{
        unsigned s = stream == LOG_STREAM_STDERR;

        if (!ls->partial_len[s])
                return;
        emit_line(ls, stream, pid, time, ls->partial[s], ls->partial_len[s], emit, ctx);
        ls->partial_len[s] = 0;
}

const struct log_record *logstore_nth_newest(const struct logstore *ls, unsigned i)
{
        unsigned cap = ls->set ? ls->set->ring_lines : 0;

        if (!ls->ring || i >= ls->n)
                return NULL;
        return ls->ring[(ls->head + cap - 1 - i) % cap];
}
