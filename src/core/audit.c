/*
 * The audit log: owns one append-only file, its head file, and the chain
 * state (seq and hash of the last record written).  The format and the
 * hash are defined in audit.h; docs/audit.md is the reader's guide.
 *
 * Model.  audit_record() builds the whole line in a fixed buffer, then
 * writes it with one write() on an O_APPEND descriptor, so a record is in
 * the page cache, complete, before the call returns, and a reader never
 * sees two records interleaved.  Durability is batched (group commit): the
 * first record of an event-loop batch queues a loop_defer, and after the
 * batch one fdatasync() covers every record the batch wrote.  The head
 * file is replaced (temp file, fsync, rename, fsync of the directory) at
 * open, at close, and from a timer at most once per HEAD_INTERVAL after a
 * sync, always with a head that is already on disk, so the head file
 * never names a record the log could lose.
 *
 * Invariants.
 *   - the file ends with a newline (or is empty), unless is_torn says
 *     part of a failed write is still to be cut back from cut_at.
 *   - a->seq/a->hash name the last record in the file; synced_seq <= seq
 *     and synced_seq records are on disk; head_file_seq <= synced_seq.
 *   - the chain only advances after a complete write: what a failed
 *     write left is cut off and the next record reuses the same seq.
 *     Where it starts is the O_APPEND offset after the write minus the
 *     bytes written, never a remembered size: the file may have been
 *     shortened by someone else, and ftruncate() must not grow it.
 *
 * What a crash loses.  A crash of orbitald alone loses nothing: each
 * record was handed to the kernel whole.  A crash of the machine loses the
 * records of the batch that was running (written, not yet fdatasync()ed),
 * and can leave the last of them torn.  audit_open() then cuts the torn
 * bytes and says so ("audit.recovered"), and, because the head file of a
 * run that did not close says clean:false, records "audit.unclean".
 * Removing synced records later is caught against a head: the head file,
 * or better the live head orbitald reports, which reaches past the end of
 * the shortened file.
 *
 * Left to others: deciding what is audited (callers), rotation
 * (docs/audit.md says how it would work), and reading for people
 * (src/cli/audit-cmd.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/time.h"
#include "util/utf8.h"

#define HASH_BYTES 32
#define HASH_KEY ",\"hash\":\""
#define HASH_SUFFIX_LEN (sizeof(HASH_KEY) - 1 + 64 + 2) /* ,"hash":"<64 hex>"} */
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define TAIL_MAX (64u << 10)    /* bytes of the file audit_open() reads back */
#define HEAD_INTERVAL USEC_PER_SEC
#define CUT_MARK_MAX 32         /* "...[+N bytes]" */

struct audit {
        int fd;                          /* the log: O_RDWR|O_APPEND, flock()ed */
        struct loop *loop;               /* borrowed; NULL: sync per record */
        char *path;                      /* owned */
        char *head_path;                 /* owned: <path>.head */
        char *tmp_path;                  /* owned: <path>.head.tmp */
        char *dir;                       /* owned: directory of path, synced after renames */
        uint64_t cut_at;                 /* while is_torn: where the failed record starts */
        uint64_t seq;                    /* last record written */
        char hash[AUDIT_HASH_HEX];       /* its hash */
        uint64_t synced_seq;             /* last record known to be on disk */
        char synced_hash[AUDIT_HASH_HEX];
        uint64_t head_file_seq;          /* what the head file says */
        usec_t head_written;             /* CLOCK_MONOTONIC of that write */
        unsigned long n_syncs;
        bool is_torn;                    /* part of a failed write is still in the file */
        bool has_sync_failed;            /* the failure was logged */
        struct loop_defer sync_defer;    /* queued once per batch that wrote */
        struct loop_timer head_timer;    /* next head file write */
        char line[AUDIT_RECORD_MAX];     /* the record being built */
};

/* ---- hash and small helpers ---- */

/* H over the canonical form: @body (the line before ,"hash":) and "}". */
static void hash_canonical(const char *body, size_t len, char hex[AUDIT_HASH_HEX])
{
        crypto_generichash_state st;
        unsigned char h[HASH_BYTES];

        crypto_generichash_init(&st, NULL, 0, sizeof(h));
        crypto_generichash_update(&st, (const unsigned char *)body, len);
        crypto_generichash_update(&st, (const unsigned char *)"}", 1);
        crypto_generichash_final(&st, h, sizeof(h));
        sodium_bin2hex(hex, AUDIT_HASH_HEX, h, sizeof(h));
}

static bool is_hex64(const char *s, size_t n)
{
        if (n != 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/* "2026-11-22T02:39:50.123456Z" */
static void format_time_us(char *buf, size_t n, usec_t t)
{
        time_t sec = (time_t)(t / USEC_PER_SEC);
        char date[32];
        struct tm tm;

        if (!gmtime_r(&sec, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
                snprintf(date, sizeof(date), "1970-01-01T00:00:00");
        snprintf(buf, n, "%s.%06uZ", date, (unsigned)(t % USEC_PER_SEC));
}

/* @done: bytes that reached the file, also on failure. */
static int write_all(int fd, const char *p, size_t n, size_t *done)
{
        *done = 0;
        while (*done < n) {
                ssize_t w = write(fd, p + *done, n - *done);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                if (w == 0)
                        return -EIO;
                *done += (size_t)w;
        }
        return 0;
}

static int pread_all(int fd, char *p, size_t n, uint64_t off)
{
        while (n) {
                ssize_t r = pread(fd, p, n, (off_t)off);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -EIO; /* shrank under us */
                p += r;
                n -= (size_t)r;
                off += (uint64_t)r;
        }
        return 0;
}

static int dir_sync(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

/* ---- parsing a line ---- */

static const char *record_members_check(json_t *j, struct audit_line *rec)
{
        json_t *seq, *prev;

        if (!json_is_object(j))
                return "not an object";
        seq = json_object_get(j, "seq");
        prev = json_object_get(j, "prev");
        if (!json_is_integer(seq) || json_integer_value(seq) < 1)
                return "no seq, or seq is not a positive integer";
        if (!json_is_string(json_object_get(j, "time")) || !json_is_string(json_object_get(j, "kind")) ||
            !json_is_string(json_object_get(j, "actor")))
                return "time, kind or actor missing or not a string";
        if (!json_is_string(prev) || !is_hex64(json_string_value(prev), json_string_length(prev)))
                return "prev is not 64 hex digits";
        rec->seq = (uint64_t)json_integer_value(seq);
        memcpy(rec->prev, json_string_value(prev), AUDIT_HASH_HEX);
        return NULL;
}

/* Whether @line ends with ,"hash":"<64 hex>"}, the hash member last. */
static bool has_hash_suffix(const char *line, size_t len)
{
        return len >= HASH_SUFFIX_LEN && !memcmp(line + len - HASH_SUFFIX_LEN, HASH_KEY, sizeof(HASH_KEY) - 1) &&
               is_hex64(line + len - 66, 64) && !memcmp(line + len - 2, "\"}", 2);
}

int audit_parse_line(const char *line, size_t len, struct audit_line *rec, json_t **out)
{
        char computed[AUDIT_HASH_HEX];
        json_error_t err;
        const char *why;
        json_t *j;

        *rec = (struct audit_line){0};
        j = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
        if (!j) {
                snprintf(rec->why, sizeof(rec->why), "not JSON");
                return AUDIT_E_FORMAT;
        }
        why = record_members_check(j, rec);
        if (!why && !has_hash_suffix(line, len))
                why = "hash is not the last member, or not 64 hex digits";
        if (why) {
                snprintf(rec->why, sizeof(rec->why), "not a record: %s", why);
                json_decref(j);
                return AUDIT_E_FORMAT;
        }
        memcpy(rec->hash, line + len - 66, 64);
        hash_canonical(line, len - HASH_SUFFIX_LEN, computed);
        rec->is_hash_ok = memcmp(computed, rec->hash, 64) == 0;
        if (out)
                *out = j;
        else
                json_decref(j);
        return 0;
}

/* ---- head file ---- */

int audit_read_head_file(const char *path, struct audit_expect *head, bool *is_clean)
{
        _cleanup_free_ char *hp = NULL;
        json_error_t err;
        json_t *j, *seq, *hash;
        int r = AUDIT_E_FORMAT;

        if (asprintf(&hp, "%s.head", path) < 0)
                return -ENOMEM;
        j = json_load_file(hp, 0, &err);
        if (!j)
                return access(hp, F_OK) < 0 ? -errno : AUDIT_E_FORMAT;
        seq = json_object_get(j, "seq");
        hash = json_object_get(j, "hash");
        if (json_is_integer(seq) && json_integer_value(seq) >= 0 && json_is_string(hash) &&
            is_hex64(json_string_value(hash), json_string_length(hash))) {
                head->seq = (uint64_t)json_integer_value(seq);
                memcpy(head->hash, json_string_value(hash), AUDIT_HASH_HEX);
                if (is_clean)
                        *is_clean = json_is_true(json_object_get(j, "clean"));
                r = 0;
        }
        json_decref(j);
        return r;
}

/* Replaces the head file atomically; the directory entry is synced too. */
static int head_file_write(struct audit *a, uint64_t seq, const char *hash, bool is_clean)
{
        _cleanup_close_ int fd = -1;
        char buf[160];
        size_t done;
        int n, r;

        n = snprintf(buf, sizeof(buf), "{\"seq\":%" PRIu64 ",\"hash\":\"%s\",\"clean\":%s}\n", seq, hash,
                     is_clean ? "true" : "false");
        fd = open(a->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if ((r = write_all(fd, buf, (size_t)n, &done)) < 0)
                return r;
        if (fsync(fd) < 0 || rename(a->tmp_path, a->head_path) < 0)
                return -errno;
        a->head_file_seq = seq;
        a->head_written = now_mono();
        return dir_sync(a->dir);
}

static void on_head_timer(struct loop_timer *t)
{
        struct audit *a = container_of(t, struct audit, head_timer);
        int r = head_file_write(a, a->synced_seq, a->synced_hash, false);

        if (r < 0)
                log_lossy(LOG_WARN, "unable to write audit head file %s: %s", a->head_path, strerror(-r));
}

/* After a sync: a newer head is on disk; write it when the interval allows. */
static void head_schedule(struct audit *a)
{
        usec_t at;

        if (!a->loop || a->synced_seq == a->head_file_seq || loop_timer_is_armed(&a->head_timer))
                return;
        at = a->head_written + HEAD_INTERVAL;
        if (at < loop_now(a->loop))
                at = loop_now(a->loop);
        if (loop_timer_arm(a->loop, &a->head_timer, at) < 0)
                log_lossy(LOG_WARN, "unable to arm the audit head timer: out of memory; head written at close");
}

/* ---- building a record ---- */

/*
 * A sanitised copy of @s as a JSON string: valid UTF-8, at most @max bytes
 * of it, then "...[+N bytes]" if it was longer.  Return: new ref or NULL.
 */
static json_t *string_clean(const char *s, size_t n, size_t max)
{
        size_t clean = utf8_sanitized_len(s, n), keep;
        _cleanup_free_ char *buf = malloc(clean + 1 + CUT_MARK_MAX);

        if (!buf)
                return NULL;
        utf8_sanitize(s, n, buf);
        keep = utf8_cut(buf, clean, max);
        if (keep < clean)
                keep += (size_t)snprintf(buf + keep, CUT_MARK_MAX, "...[+%zu bytes]", clean - keep);
        return json_stringn_nocheck(buf, keep);
}

static json_t *value_copy(json_t *v, unsigned depth);

static json_t *array_copy(json_t *v, unsigned depth)
{
        size_t n = json_array_size(v);
        json_t *out = json_array();

        for (size_t i = 0; out && i < n && i < AUDIT_ITEMS_MAX; i++)
                if (json_array_append_new(out, value_copy(json_array_get(v, i), depth + 1)) < 0)
                        json_decref(take_ptr(out));
        if (out && n > AUDIT_ITEMS_MAX) {
                char more[48];
                snprintf(more, sizeof(more), "...[+%zu items]", n - AUDIT_ITEMS_MAX);
                if (json_array_append_new(out, json_string(more)) < 0)
                        json_decref(take_ptr(out));
        }
        return out;
}

static json_t *object_copy(json_t *v, unsigned depth)
{
        json_t *out = json_object(), *item;
        const char *key;
        size_t n = 0;

        json_object_foreach(v, key, item) {
                json_t *k;
                if (!out || n++ == AUDIT_ITEMS_MAX)
                        break;
                k = string_clean(key, strlen(key), AUDIT_NAME_MAX);
                if (!k || json_object_set_new_nocheck(out, json_string_value(k), value_copy(item, depth + 1)) < 0)
                        json_decref(take_ptr(out));
                json_decref(k);
        }
        if (out && json_object_size(v) > AUDIT_ITEMS_MAX &&
            json_object_set_new(out, "...", json_integer((json_int_t)(json_object_size(v) - AUDIT_ITEMS_MAX))) < 0)
                json_decref(take_ptr(out));
        return out;
}

/* What goes into the line for @v: strings cleaned and cut, size bounded. */
static json_t *value_copy(json_t *v, unsigned depth)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                return string_clean(json_string_value(v), json_string_length(v), AUDIT_STRING_MAX);
        case JSON_ARRAY:
                return depth >= AUDIT_DEPTH_MAX ? json_string("...[too deep]") : array_copy(v, depth);
        case JSON_OBJECT:
                return depth >= AUDIT_DEPTH_MAX ? json_string("...[too deep]") : object_copy(v, depth);
        default:
                return json_incref(v);
        }
}

static bool is_reserved_key(const char *k)
{
        static const char *const reserved[] = {"seq", "time", "kind", "actor", "prev", "hash", "fields_dropped"};

        if (k[0] == '_')
                return true;
        for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
                if (strcmp(k, reserved[i]) == 0)
                        return true;
        return false;
}

/* The key a field is written under: cleaned, cut, escaped (audit.h). */
static char *field_key(const char *key)
{
        json_t *k = string_clean(key, strlen(key), AUDIT_NAME_MAX);
        char *out = NULL;

        if (!k)
                return NULL;
        if (asprintf(&out, "%s%s", is_reserved_key(json_string_value(k)) ? "_" : "", json_string_value(k)) < 0)
                out = NULL;
        json_decref(k);
        return out;
}

/* @fields with clean keys and values; keys that collide count as dropped. */
static json_t *fields_clean(json_t *fields, unsigned *n_dropped)
{
        json_t *out = json_object(), *v;
        const char *key;

        json_object_foreach(fields, key, v) {
                _cleanup_free_ char *k = field_key(key);
                if (!out || !k) {
                        json_decref(out);
                        return NULL;
                }
                if (json_object_get(out, k)) {
                        (*n_dropped)++;
                        continue;
                }
                if (json_object_set_new_nocheck(out, k, value_copy(v, 1)) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct builder {
        char *buf;
        size_t pos, max; /* max: where fields must stop, leaving room for the tail */
};

static bool put(struct builder *b, const char *s, size_t n)
{
        if (n > b->max - b->pos)
                return false;
        memcpy(b->buf + b->pos, s, n);
        b->pos += n;
        return true;
}

static bool put_json(struct builder *b, const json_t *v)
{
        size_t n = json_dumpb(v, b->buf + b->pos, b->max - b->pos,
                              JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

        if (n == 0 || n > b->max - b->pos)
                return false;
        b->pos += n;
        return true;
}

/* ,"key":value if it fits; nothing otherwise. */
static bool put_member(struct builder *b, const char *key, const json_t *v)
{
        size_t start = b->pos;
        json_t *k = json_string_nocheck(key);
        bool ok = k && put(b, ",", 1) && put_json(b, k) && put(b, ":", 1) && put_json(b, v);

        json_decref(k);
        if (!ok)
                b->pos = start;
        return ok;
}

static bool put_fields(struct builder *b, json_t *clean, unsigned *n_dropped)
{
        size_t n = json_object_size(clean), i = 0;
        _cleanup_free_ const char **keys = calloc(n ? n : 1, sizeof(*keys));
        const char *key;
        json_t *v;

        if (!keys)
                return false;
        json_object_foreach(clean, key, v)
                keys[i++] = key;
        qsort(keys, n, sizeof(*keys), cmp_str);
        for (i = 0; i < n; i++)
                if (!put_member(b, keys[i], json_object_get(clean, keys[i])))
                        (*n_dropped)++;
        return true;
}

/* {"seq":N,"time":T,"kind":K,"actor":A */
static bool put_header(struct builder *b, uint64_t seq, usec_t now, const char *kind, const char *actor)
{
        char head[96], ts[40];
        json_t *k = string_clean(kind, strlen(kind), AUDIT_NAME_MAX);
        json_t *ac = string_clean(actor, strlen(actor), AUDIT_NAME_MAX);
        bool ok;

        format_time_us(ts, sizeof(ts), now);
        snprintf(head, sizeof(head), "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"kind\":", seq, ts);
        ok = k && ac && put(b, head, strlen(head)) && put_json(b, k) && put(b, ",\"actor\":", 9) &&
             put_json(b, ac);
        json_decref(k);
        json_decref(ac);
        return ok;
}

/*
 * Builds the next record in a->line.  @hash gets its hash.
 * Return: the line's length with the newline, -ENOMEM.
 */
static ssize_t line_build(struct audit *a, const char *kind, const char *actor, json_t *fields, usec_t now,
                          char hash[AUDIT_HASH_HEX])
{
        /* room after the fields: ,"fields_dropped":N ,"prev":"H" ,"hash":"H"} \n */
        const size_t tail = 18 + 20 + 9 + 64 + 1 + HASH_SUFFIX_LEN + 1;
        struct builder b = {.buf = a->line, .max = sizeof(a->line) - tail};
        unsigned n_dropped = 0;
        char more[48];
        json_t *clean = NULL;
        bool ok;

        if (fields && !(clean = fields_clean(fields, &n_dropped)))
                return -ENOMEM;
        ok = put_header(&b, a->seq + 1, now, kind, actor) && (!clean || put_fields(&b, clean, &n_dropped));
        json_decref(clean);
        if (!ok)
                return -ENOMEM; /* the header always fits: only allocation fails */
        b.max = sizeof(a->line);
        if (n_dropped) {
                snprintf(more, sizeof(more), ",\"fields_dropped\":%u", n_dropped);
                put(&b, more, strlen(more));
        }
        put(&b, ",\"prev\":\"", 9);
        put(&b, a->hash, 64);
        put(&b, "\"", 1);
        hash_canonical(b.buf, b.pos, hash);
        put(&b, HASH_KEY, sizeof(HASH_KEY) - 1);
        put(&b, hash, 64);
        put(&b, "\"}\n", 3);
        return (ssize_t)b.pos;
}

/* ---- writing ---- */

/* Cuts off what a failed write left, from a->cut_at on. */
static int cut_back(struct audit *a)
{
        struct stat st;

        if (fstat(a->fd, &st) < 0)
                return -errno;
        if ((uint64_t)st.st_size > a->cut_at && ftruncate(a->fd, (off_t)a->cut_at) < 0)
                return -errno;
        a->is_torn = false;
        return 0;
}

static int line_append(struct audit *a, size_t len)
{
        size_t done;
        off_t end;
        int r, cut;

        if (a->is_torn && cut_back(a) < 0)
                return -EIO;
        r = write_all(a->fd, a->line, len, &done);
        if (r == 0 || done == 0)
                return r;
        /* O_APPEND left the offset at the end of what was written. */
        end = lseek(a->fd, 0, SEEK_CUR);
        a->is_torn = true;
        a->cut_at = end >= (off_t)done ? (uint64_t)end - done : 0;
        if (end < 0 || (cut = cut_back(a)) < 0)
                log_lossy(LOG_ERR, "unable to cut a failed audit write back from %s: %s", a->path,
                          strerror(end < 0 ? errno : -cut));
        return r;
}

int audit_sync(struct audit *a)
{
        if (a->synced_seq == a->seq)
                return 0;
        if (fdatasync(a->fd) < 0) {
                int r = -errno;
                if (!a->has_sync_failed)
                        log_err("unable to sync audit log %s: %s; records since seq %" PRIu64 " may be lost",
                                a->path, strerror(-r), a->synced_seq);
                a->has_sync_failed = true;
                return r;
        }
        a->n_syncs++;
        a->synced_seq = a->seq;
        memcpy(a->synced_hash, a->hash, AUDIT_HASH_HEX);
        head_schedule(a);
        return 0;
}

static void on_sync_defer(struct loop_defer *d)
{
        audit_sync(container_of(d, struct audit, sync_defer));
}

/*
 * The loop has no call to take back a loop_defer; its list is public, so
 * unlink ours before the object goes away.
 */
static void defer_cancel(struct loop *l, struct loop_defer *d)
{
        for (struct loop_defer **p = &l->deferred; *p; p = &(*p)->next) {
                if (*p == d) {
                        *p = d->next;
                        d->is_queued = false;
                        return;
                }
        }
}

int audit_record(struct audit *a, const char *kind, const char *actor, json_t *fields)
{
        char hash[AUDIT_HASH_HEX];
        ssize_t len;
        int r;

        if (!kind || !*kind || (fields && !json_is_object(fields)))
                return -EINVAL;
        len = line_build(a, kind, actor ? actor : "orbitald", fields, now_real(), hash);
        if (len < 0)
                return (int)len;
        r = line_append(a, (size_t)len);
        if (r < 0)
                return r;
        a->seq++;
        memcpy(a->hash, hash, AUDIT_HASH_HEX);
        if (a->loop)
                loop_defer(a->loop, &a->sync_defer, on_sync_defer);
        else
                audit_sync(a); /* logged; the record is written either way */
        return 0;
}

void audit_head(const struct audit *a, uint64_t *seq, char hex[AUDIT_HASH_HEX])
{
        *seq = a->seq;
        memcpy(hex, a->hash, AUDIT_HASH_HEX);
}

unsigned long audit_n_syncs(const struct audit *a)
{
        return a->n_syncs;
}

/* ---- open: continue the chain, repair or record damage ---- */

/* What audit_open() found at the end of the file. */
struct tail {
        uint64_t size_at_open;
        uint64_t size;         /* now: after a repair */
        uint64_t torn_bytes;   /* cut away */
        char broken[160];      /* why the tail does not verify, "" if it does */
};

/*
 * A final line without a newline is a write a crash cut short: cut it.
 * Something longer than any record is not ours: keep it, end its line.
 * *@end becomes the end of the whole lines in @buf.
 */
static int tail_repair(struct audit *a, const char *buf, size_t *end, uint64_t start, struct tail *t)
{
        const char *nl = memrchr(buf, '\n', *end);
        uint64_t keep = start + (nl ? (uint64_t)(nl - buf) + 1 : 0);
        uint64_t torn = t->size - keep;
        size_t done;
        int r;

        if (buf[*end - 1] == '\n')
                return 0;
        *end = nl ? (size_t)(nl - buf) + 1 : 0;
        if (torn > AUDIT_RECORD_MAX || (!nl && start > 0)) {
                if ((r = write_all(a->fd, "\n", 1, &done)) < 0)
                        return r;
                t->size++;
                snprintf(t->broken, sizeof(t->broken), "unterminated final line of %" PRIu64 " bytes", torn);
                return 0;
        }
        if (ftruncate(a->fd, (off_t)keep) < 0)
                return -errno;
        log_warn("audit log %s: removed a torn final record of %" PRIu64 " bytes", a->path, torn);
        t->size = keep;
        t->torn_bytes = torn;
        return 0;
}

/* The last line of @buf[0..end) that is a record sets the chain state. */
static void tail_find_record(struct audit *a, const char *buf, size_t end, bool is_whole_file, struct tail *t)
{
        struct audit_line rec;
        unsigned n_bad = 0;

        while (end > 0) {
                const char *nl = end > 1 ? memrchr(buf, '\n', end - 1) : NULL;
                size_t begin = nl ? (size_t)(nl - buf) + 1 : 0;

                if (!nl && !is_whole_file)
                        break; /* starts before what we read */
                if (audit_parse_line(buf + begin, end - 1 - begin, &rec, NULL) == 0) {
                        a->seq = rec.seq;
                        memcpy(a->hash, rec.hash, AUDIT_HASH_HEX);
                        if (!rec.is_hash_ok && !t->broken[0])
                                snprintf(t->broken, sizeof(t->broken),
                                         "the last record, seq %" PRIu64 ", does not verify", rec.seq);
                        else if (n_bad && !t->broken[0])
                                snprintf(t->broken, sizeof(t->broken),
                                         "%u lines after seq %" PRIu64 " are not records", n_bad, rec.seq);
                        return;
                }
                n_bad++;
                end = begin;
        }
        if (!t->broken[0])
                snprintf(t->broken, sizeof(t->broken), "no record in the last %u bytes", TAIL_MAX);
}

static int tail_read(struct audit *a, struct tail *t)
{
        struct stat st;
        size_t window;
        uint64_t start;
        _cleanup_free_ char *buf = NULL;
        int r;

        if (fstat(a->fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        t->size = t->size_at_open = (uint64_t)st.st_size;
        if (!t->size)
                return 0;
        window = t->size < TAIL_MAX ? (size_t)t->size : TAIL_MAX;
        start = t->size - window;
        buf = malloc(window);
        if (!buf)
                return -ENOMEM;
        if ((r = pread_all(a->fd, buf, window, start)) < 0)
                return r;
        if ((r = tail_repair(a, buf, &window, start, t)) < 0)
                return r;
        tail_find_record(a, buf, window, start == 0, t);
        return 0;
}

static void note(struct audit *a, const char *kind, json_t *fields)
{
        int r = audit_record(a, kind, "orbitald", fields);

        if (r < 0)
                log_err("unable to write %s to audit log %s: %s", kind, a->path, strerror(-r));
        json_decref(fields);
}

/*
 * Damage at the end of the file goes into the log itself.  A file that
 * does not reach the head file's record continues the head's chain, so
 * the gap stays visible to every later verification.
 */
static void tail_reconcile(struct audit *a, struct tail *t)
{
        struct audit_expect head = {0};
        bool is_clean = false;
        int hr = audit_read_head_file(a->path, &head, &is_clean);
        uint64_t file_seq = a->seq;

        if (hr == 0 && (head.seq > a->seq || (head.seq == a->seq && strcmp(head.hash, a->hash)))) {
                log_warn("audit log %s ends at seq %" PRIu64 ", its head file says %" PRIu64 " %.16s: "
                         "continuing the head's chain", a->path, a->seq, head.seq, head.hash);
                a->seq = head.seq;
                memcpy(a->hash, head.hash, AUDIT_HASH_HEX);
                note(a, head.seq > file_seq ? "audit.truncated" : "audit.broken",
                     json_pack("{s:I,s:I,s:s}", "file_seq", (json_int_t)file_seq, "head_seq", (json_int_t)head.seq,
                               "reason", head.seq > file_seq ? "the file ends before the head file's record"
                                                             : "the last record is not the one the head file names"));
        }
        if (t->torn_bytes)
                note(a, "audit.recovered", json_pack("{s:I}", "dropped_bytes", (json_int_t)t->torn_bytes));
        if (t->broken[0]) {
                log_warn("audit log %s: %s; continuing after seq %" PRIu64, a->path, t->broken, a->seq);
                note(a, "audit.broken", json_pack("{s:s}", "reason", t->broken));
        }
        if (hr == AUDIT_E_FORMAT)
                note(a, "audit.broken", json_pack("{s:s}", "reason", "the head file is not a head"));
        else if (t->size_at_open && (hr < 0 || !is_clean))
                note(a, "audit.unclean",
                     json_pack("{s:I,s:s}", "head_seq", (json_int_t)(hr == 0 ? head.seq : 0), "reason",
                               hr == 0 ? "the previous run did not close the log" : "no head file"));
}

static void audit_free(struct audit *a)
{
        if (!a)
                return;
        safe_close(a->fd);
        free(a->path);
        free(a->head_path);
        free(a->tmp_path);
        free(a->dir);
        free(a);
}
DEFINE_CLEANUP(struct audit *, audit_free)

static char *str_concat(const char *a, const char *b)
{
        size_t na = strlen(a), nb = strlen(b);
        char *s = malloc(na + nb + 1);

        if (s) {
                memcpy(s, a, na);
                memcpy(s + na, b, nb + 1);
        }
        return s;
}

static struct audit *audit_alloc(const char *path)
{
        _cleanup_(audit_freep) struct audit *a = calloc(1, sizeof(*a));
        const char *slash = strrchr(path, '/');

        if (!a)
                return NULL;
        a->fd = -1;
        a->head_timer = (struct loop_timer)LOOP_TIMER_INIT(on_head_timer);
        memcpy(a->hash, ZERO_HASH, AUDIT_HASH_HEX);
        memcpy(a->synced_hash, ZERO_HASH, AUDIT_HASH_HEX);
        a->path = strdup(path);
        a->head_path = str_concat(path, ".head");
        a->tmp_path = str_concat(path, ".head.tmp");
        if (!slash)
                a->dir = strdup(".");
        else
                a->dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
        if (!a->path || !a->head_path || !a->tmp_path || !a->dir)
                return NULL;
        return take_ptr(a);
}

int audit_open(struct audit **out, const char *path, struct loop *loop)
{
        _cleanup_(audit_freep) struct audit *a = NULL;
        struct tail t = {0};
        int r;

        if (sodium_init() < 0)
                return -EIO;
        a = audit_alloc(path);
        if (!a)
                return -ENOMEM;
        a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
        if (a->fd < 0)
                return -errno;
        if (flock(a->fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        if ((r = tail_read(a, &t)) < 0)
                return r;
        a->synced_seq = a->seq;
        memcpy(a->synced_hash, a->hash, AUDIT_HASH_HEX);
        /* Without a loop yet, the notes sync as they go: nothing is queued
         * on the loop for an object this function may still free. */
        tail_reconcile(a, &t);
        /* A disk that will not sync is logged (audit_sync() does), not a
         * reason to refuse: the records are written all the same. */
        audit_sync(a);
        if (!t.size_at_open && (r = dir_sync(a->dir)) < 0)
                log_warn("unable to sync directory %s of the new audit log: %s", a->dir, strerror(-r));
        /* From now until audit_close() the head file says "not closed". */
        if ((r = head_file_write(a, a->synced_seq, a->synced_hash, false)) < 0)
                log_warn("unable to write audit head file %s: %s", a->head_path, strerror(-r));
        a->loop = loop;
        *out = take_ptr(a);
        return 0;
}

void audit_close(struct audit *a)
{
        int r;

        if (!a)
                return;
        if (a->loop) {
                defer_cancel(a->loop, &a->sync_defer);
                loop_timer_disarm(a->loop, &a->head_timer);
        }
        if (a->is_torn)
                cut_back(a);
        r = audit_sync(a);
        if (r == 0)
                r = head_file_write(a, a->synced_seq, a->synced_hash, !a->is_torn);
        if (r < 0)
                log_err("unable to close audit log %s cleanly: %s", a->path, strerror(-r));
        audit_free(a);
}

/* ---- verification ---- */

__attribute__((format(printf, 4, 5))) static void problem(struct audit_report *r, uint64_t line, uint64_t seq,
                                                          const char *fmt, ...)
{
        va_list ap;

        if (r->n_problems < AUDIT_PROBLEMS_MAX) {
                struct audit_problem *p = &r->problems[r->n_problems];
                p->line = line;
                p->seq = seq;
                va_start(ap, fmt);
                vsnprintf(p->why, sizeof(p->why), fmt, ap);
                va_end(ap);
        }
        r->n_problems++;
}

struct walk {
        const struct audit_expect *expect; /* borrowed, or NULL */
        bool is_expect_seen;
        uint64_t last_seq;                 /* of the last record, 0 before the first */
        char last_hash[AUDIT_HASH_HEX];
};

static void verify_chain(struct audit_report *r, struct walk *w, const struct audit_line *rec)
{
        uint64_t line = r->n_lines;

        if (!rec->is_hash_ok)
                problem(r, line, rec->seq, "hash mismatch");
        if (rec->seq != w->last_seq + 1)
                problem(r, line, rec->seq, "seq %s from %" PRIu64 " to %" PRIu64,
                        rec->seq > w->last_seq ? "jumps" : "goes back", w->last_seq, rec->seq);
        else if (strcmp(rec->prev, w->last_hash) && w->last_seq)
                problem(r, line, rec->seq, "chain broken: prev does not match record %" PRIu64, w->last_seq);
        else if (strcmp(rec->prev, w->last_hash))
                problem(r, line, rec->seq, "chain broken: the first record's prev is not zero");
        if (w->expect && rec->seq == w->expect->seq && !w->is_expect_seen) {
                w->is_expect_seen = true;
                if (strcmp(rec->hash, w->expect->hash))
                        problem(r, line, rec->seq, "head mismatch: record %" PRIu64 " has hash %.16s, head says %.16s",
                                rec->seq, rec->hash, w->expect->hash);
        }
        w->last_seq = rec->seq;
        memcpy(w->last_hash, rec->hash, AUDIT_HASH_HEX);
}

static void verify_line(struct audit_report *r, struct walk *w, const char *line, size_t len)
{
        struct audit_line rec;

        if (audit_parse_line(line, len, &rec, NULL)) {
                problem(r, r->n_lines, 0, "%s", rec.why);
                return;
        }
        r->n_records++;
        verify_chain(r, w, &rec);
        r->head_seq = rec.seq;
        memcpy(r->head_hash, rec.hash, AUDIT_HASH_HEX);
}

static int verify_walk(FILE *f, struct audit_report *r, struct walk *w)
{
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;

        while ((n = getline(&line, &cap, f)) > 0) {
                r->n_lines++;
                if (line[n - 1] != '\n') {
                        problem(r, r->n_lines, 0, "torn final record (%zd bytes without a newline)", n);
                        break;
                }
                verify_line(r, w, line, (size_t)n - 1);
        }
        if (ferror(f))
                return -EIO;
        if (w->expect && w->expect->seq && !w->is_expect_seen) {
                if (w->expect->seq > r->head_seq)
                        problem(r, r->n_lines + 1, w->expect->seq,
                                "truncated: file ends at seq %" PRIu64 ", head says %" PRIu64, r->head_seq,
                                w->expect->seq);
                else
                        problem(r, 0, w->expect->seq, "head record %" PRIu64 " is missing", w->expect->seq);
        }
        return 0;
}

int audit_verify(const char *path, const struct audit_expect *expect, struct audit_report *report)
{
        _cleanup_(fclosep_) FILE *f = NULL;
        struct audit_expect from_file;
        struct walk w = {.expect = expect, .last_hash = ZERO_HASH};
        int r;

        *report = (struct audit_report){.expect_from = expect ? "caller" : "nothing", .head_hash = ZERO_HASH};
        if (sodium_init() < 0)
                return -EIO;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (!expect) {
                r = audit_read_head_file(path, &from_file, NULL);
                if (r == 0) {
                        w.expect = &from_file;
                        report->expect_from = "head file";
                } else if (r != -ENOENT) {
                        problem(report, 0, 0, "head file %s.head: %s", path,
                                r > 0 ? "not a head" : strerror(-r));
                }
        }
        if ((r = verify_walk(f, report, &w)) < 0)
                return r;
        return report->n_problems ? AUDIT_E_CORRUPT : 0;
}
