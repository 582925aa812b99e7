/*
 * orbctl audit: the audit log for people.  Reads the file itself, with the
 * same parser orbitald uses (core/audit.h); nothing here writes.
 *
 * Output is for a terminal a tampered log may have been written to, so
 * text mode never prints a byte of a record raw unless it is a plain word:
 * anything else is JSON-escaped to ASCII.  --json prints lines that parse
 * as JSON as they are (JSON has no raw control characters) and skips the
 * rest with a warning on stderr.
 *
 * Following reads what was appended past the last whole line: inotify
 * wakes it, a poll every FOLLOW_POLL_MS without inotify (or once a second
 * with it, as a safety net).  A log that shrinks or disappears under it
 * ends the command with exit 1: that is truncation or rotation, and
 * either way the records it printed are no longer the file's.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/audit-cmd.h"
#include "core/audit.h"
#include "util/cleanup.h"

#define EXIT_PROBLEM 1
#define EXIT_USAGE 100
#define EXIT_SYSTEM 111
#define LINES_DEFAULT 20
#define LINES_MAX 100000
#define FOLLOW_POLL_MS 200
#define READ_CHUNK 65536
#define PARTIAL_MAX (1u << 20) /* a "line" longer than this is not a record */

struct opts {
        const char *path;
        long lines;
        bool is_json, is_follow, is_verify;
};

/* Reads whole lines from the log and prints them. */
struct reader {
        int fd;
        const char *path;
        bool is_json;
        uint64_t offset;  /* bytes read from the file */
        char *buf;        /* owned: bytes of an unfinished line */
        size_t len, cap;
};

static volatile sig_atomic_t is_interrupted;

static int usage(int code)
{
        fprintf(code ? stderr : stdout,
                "usage: orbctl audit [-n N] [--json] [-f] [--file PATH]\n"
                "       orbctl audit --verify [--json] [--file PATH]\n"
                "\n"
                "  -n, --lines N   print the last N records, 0 to %d (default %d)\n"
                "  -j, --json      print the raw records (with --verify: the report as JSON)\n"
                "  -f, --follow    then print new records as they are appended, until interrupted\n"
                "      --verify    check every hash, the chain and the head; exit 0 if whole, 1 if not\n"
                "      --file PATH read PATH instead of orbitald's audit log\n"
                "\n"
                "Exit: 0 ok, 1 problems found (or the log was truncated while followed), 100 usage,\n"
                "111 system failure.\n",
                LINES_MAX, LINES_DEFAULT);
        return code;
}

char *audit_default_path(char *buf, size_t n)
{
        const char *home = getenv("HOME");

        if (geteuid() == 0)
                snprintf(buf, n, "/var/lib/orbital/audit.log");
        else
                snprintf(buf, n, "%s/.local/state/orbital/audit.log", home ? home : "/tmp");
        return buf;
}

/* Return: -1 to go on, else the exit code. */
static int parse_args(struct opts *o, int argc, char **argv)
{
        static const struct option longopts[] = {
                {"follow", no_argument, NULL, 'f'}, {"verify", no_argument, NULL, 'V'},
                {"lines", required_argument, NULL, 'n'}, {"json", no_argument, NULL, 'j'},
                {"file", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'}, {0},
        };
        char *end;
        int c;

        optind = 0; /* GNU getopt: start over on a new argv */
        while ((c = getopt_long(argc, argv, "fn:jh", longopts, NULL)) != -1) {
                switch (c) {
                case 'f': o->is_follow = true; break;
                case 'V': o->is_verify = true; break;
                case 'j': o->is_json = true; break;
                case 'F': o->path = optarg; break;
                case 'h': return usage(0);
                case 'n':
                        o->lines = strtol(optarg, &end, 10);
                        if (*optarg && !*end && o->lines >= 0 && o->lines <= LINES_MAX)
                                break;
                        fprintf(stderr, "orbctl: audit: -n: expected a number of records 0..%d, found '%s'\n",
                                LINES_MAX, optarg);
                        return EXIT_USAGE;
                default: return usage(EXIT_USAGE);
                }
        }
        if (optind != argc || (o->is_follow && o->is_verify))
                return usage(EXIT_USAGE);
        return -1;
}

/* ---- printing records ---- */

/* A word that is safe and unambiguous to print without quotes. */
static bool is_bare(const char *s, size_t n)
{
        if (!n || strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@+-,", s[i]))
                        return false;
        return true;
}

static void print_value(const json_t *v)
{
        char *s;

        if (json_is_string(v) && is_bare(json_string_value(v), json_string_length(v))) {
                fputs(json_string_value(v), stdout);
                return;
        }
        s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
        fputs(s ? s : "?", stdout);
        free(s);
}

static void print_key(const char *key)
{
        json_t *k = json_string_nocheck(key);

        print_value(k);
        json_decref(k);
}

/* Printed first, in this order (seq, time, kind, actor), or not at all. */
static const char *const header_keys[] = {"seq", "time", "kind", "actor", "prev", "hash"};

static bool is_header_key(const char *k)
{
        for (size_t i = 0; i < ARRAY_SIZE(header_keys); i++)
                if (strcmp(k, header_keys[i]) == 0)
                        return true;
        return false;
}

/* "SEQ TIME KIND ACTOR key=value ..." */
static void print_readable(const char *line, size_t len)
{
        struct audit_line rec;
        json_t *j = NULL, *v;
        const char *key;

        if (audit_parse_line(line, len, &rec, &j)) {
                printf("? %s\n", rec.why);
                return;
        }
        printf("%" PRIu64, rec.seq);
        for (size_t i = 1; i < 4; i++) {
                putchar(' ');
                print_value(json_object_get(j, header_keys[i]));
        }
        json_object_foreach(j, key, v) {
                if (is_header_key(key))
                        continue;
                putchar(' ');
                print_key(key);
                putchar('=');
                print_value(v);
        }
        if (!rec.is_hash_ok)
                fputs(" [hash mismatch]", stdout);
        putchar('\n');
        json_decref(j);
}

static void print_line(const struct reader *r, const char *line, size_t len)
{
        json_t *j;

        if (!r->is_json) {
                print_readable(line, len);
                return;
        }
        j = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
        if (!j) {
                fprintf(stderr, "orbctl: audit: skipped a line that is not JSON\n");
                return;
        }
        json_decref(j);
        fwrite(line, 1, len, stdout);
        putchar('\n');
}

/* ---- reading ---- */

/* Prints the whole lines in r->buf and keeps the rest. */
static void reader_flush_lines(struct reader *r)
{
        size_t start = 0;
        char *nl;

        while ((nl = memchr(r->buf + start, '\n', r->len - start))) {
                size_t end = (size_t)(nl - r->buf);
                print_line(r, r->buf + start, end - start);
                start = end + 1;
        }
        if (start == 0 && r->len > PARTIAL_MAX) {
                printf("? a line of more than %u bytes, skipped\n", PARTIAL_MAX);
                start = r->len;
        }
        memmove(r->buf, r->buf + start, r->len - start);
        r->len -= start;
}

/* Reads to the end of the file.  Return: 0 or -errno. */
static int reader_drain(struct reader *r)
{
        for (;;) {
                ssize_t n;

                if (r->cap - r->len < READ_CHUNK) {
                        char *p = realloc(r->buf, r->len + READ_CHUNK);
                        if (!p)
                                return -ENOMEM;
                        r->buf = p;
                        r->cap = r->len + READ_CHUNK;
                }
                n = read(r->fd, r->buf + r->len, READ_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                r->len += (size_t)n;
                r->offset += (uint64_t)n;
                reader_flush_lines(r);
        }
}

/* Where the last @n lines start; a final newline ends a line, it starts none. */
static int tail_offset(int fd, uint64_t size, long n, uint64_t *out)
{
        char buf[8192];
        uint64_t end = size;
        long seen = 0;

        *out = 0;
        if (n == 0) {
                *out = size;
                return 0;
        }
        while (end > 0) {
                size_t want = end < sizeof(buf) ? (size_t)end : sizeof(buf);
                uint64_t at = end - want;

                ssize_t got = pread(fd, buf, want, (off_t)at);

                if (got < 0)
                        return -errno;
                if (got != (ssize_t)want)
                        return -EIO; /* shrank while we read */
                for (size_t i = want; i-- > 0;) {
                        if (buf[i] != '\n' || at + i == size - 1)
                                continue;
                        if (++seen == n) {
                                *out = at + i + 1;
                                return 0;
                        }
                }
                end = at;
        }
        return 0;
}

/* ---- follow ---- */

static void on_interrupt(int sig)
{
        is_interrupted = 1;
}

static int watch_open(const char *path)
{
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

        if (fd >= 0 && inotify_add_watch(fd, path, IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF) < 0)
                fd = safe_close(fd);
        return fd;
}

static void watch_drain(int fd)
{
        char buf[4096];

        while (read(fd, buf, sizeof(buf)) > 0)
                ;
}

/* Return: -1 while the file is still ours to follow, else the exit code. */
static int follow_check(const struct reader *r)
{
        struct stat st;

        if (fstat(r->fd, &st) < 0) {
                fprintf(stderr, "orbctl: audit: unable to stat %s: %s\n", r->path, strerror(errno));
                return EXIT_SYSTEM;
        }
        if ((uint64_t)st.st_size < r->offset) {
                fprintf(stderr, "orbctl: audit: %s shrank from %" PRIu64 " to %jd bytes: truncated\n", r->path,
                        r->offset, (intmax_t)st.st_size);
                return EXIT_PROBLEM;
        }
        if (st.st_nlink == 0) {
                fprintf(stderr, "orbctl: audit: %s was removed or replaced\n", r->path);
                return EXIT_PROBLEM;
        }
        return -1;
}

static int follow(struct reader *r)
{
        struct sigaction sa = {.sa_handler = on_interrupt}; /* no SA_RESTART: poll() returns */
        _cleanup_close_ int watch = watch_open(r->path);
        int code, n;

        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        while (!is_interrupted) {
                struct pollfd p = {.fd = watch, .events = POLLIN};

                fflush(stdout);
                n = poll(&p, watch >= 0 ? 1 : 0, watch >= 0 ? 1000 : FOLLOW_POLL_MS);
                if (n < 0 && errno != EINTR) {
                        fprintf(stderr, "orbctl: audit: unable to wait: %s\n", strerror(errno));
                        return EXIT_SYSTEM;
                }
                if (n > 0)
                        watch_drain(watch);
                if ((code = follow_check(r)) >= 0)
                        return code;
                if ((n = reader_drain(r)) < 0) {
                        fprintf(stderr, "orbctl: audit: unable to read %s: %s\n", r->path, strerror(-n));
                        return EXIT_SYSTEM;
                }
        }
        return 0;
}

/* Opens the log and prints its last records.  Return: 0 or -errno. */
static int show_tail(struct reader *r, long lines)
{
        struct stat st;
        int e;

        r->fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (r->fd < 0 || fstat(r->fd, &st) < 0)
                return -errno;
        if ((e = tail_offset(r->fd, (uint64_t)st.st_size, lines, &r->offset)) < 0)
                return e;
        if (lseek(r->fd, (off_t)r->offset, SEEK_SET) < 0)
                return -errno;
        return reader_drain(r);
}

static int show(const struct opts *o)
{
        struct reader r = {.fd = -1, .path = o->path, .is_json = o->is_json};
        int code = 0, e;

        if ((e = show_tail(&r, o->lines)) < 0) {
                fprintf(stderr, "orbctl: unable to read audit log %s: %s\n", o->path, strerror(-e));
                code = EXIT_SYSTEM;
        } else if (o->is_follow) {
                code = follow(&r);
        } else if (r.len) {
                fprintf(stderr, "orbctl: audit: the last line is unfinished (torn, or being written)\n");
        }
        fflush(stdout);
        safe_close(r.fd);
        free(r.buf);
        return code;
}

/* ---- verify ---- */

/* "SEQ:HASH" or "SEQ HASH". */
static int head_parse(const char *s, struct audit_expect *e)
{
        unsigned long long seq;
        char *end;

        errno = 0;
        seq = strtoull(s, &end, 10);
        if (errno || end == s || (*end != ':' && *end != ' ') || strlen(end + 1) != 64 ||
            strspn(end + 1, "0123456789abcdef") != 64)
                return -EINVAL;
        e->seq = seq;
        memcpy(e->hash, end + 1, AUDIT_HASH_HEX);
        return 0;
}

static const char *expect_label(const struct audit_report *rep)
{
        if (strcmp(rep->expect_from, "caller") == 0)
                return "orbitald's live head";
        if (strcmp(rep->expect_from, "head file") == 0)
                return "the head file";
        return "no head";
}

static void report_text(const char *path, const struct audit_report *rep)
{
        unsigned shown = rep->n_problems < AUDIT_PROBLEMS_MAX ? rep->n_problems : AUDIT_PROBLEMS_MAX;

        if (!rep->n_problems) {
                printf("audit log OK: %" PRIu64 " records, head %" PRIu64 " %s\n", rep->n_records, rep->head_seq,
                       rep->head_hash);
                if (strcmp(rep->expect_from, "nothing") == 0)
                        fprintf(stderr, "orbctl: audit: no head to check against (orbitald not reachable, no head "
                                        "file): records cut from the end would not show\n");
                return;
        }
        printf("audit log BAD: %s: %u problem%s (%" PRIu64 " records; head from %s)\n", path, rep->n_problems,
               rep->n_problems == 1 ? "" : "s", rep->n_records, expect_label(rep));
        for (unsigned i = 0; i < shown; i++) {
                const struct audit_problem *p = &rep->problems[i];
                if (p->line)
                        printf("  line %" PRIu64, p->line);
                else
                        printf("  head");
                if (p->seq)
                        printf(" (seq %" PRIu64 ")", p->seq);
                printf(": %s\n", p->why);
        }
        if (rep->n_problems > shown)
                printf("  ... and %u more\n", rep->n_problems - shown);
}

static void report_json(const struct audit_report *rep)
{
        json_t *problems = json_array(), *out;
        char *s;

        for (unsigned i = 0; i < rep->n_problems && i < AUDIT_PROBLEMS_MAX; i++)
                json_array_append_new(problems, json_pack("{s:I,s:I,s:s}", "line", (json_int_t)rep->problems[i].line,
                                                          "seq", (json_int_t)rep->problems[i].seq, "why",
                                                          rep->problems[i].why));
        out = json_pack("{s:b,s:I,s:I,s:s,s:s,s:I,s:o}", "ok", rep->n_problems == 0, "records",
                        (json_int_t)rep->n_records, "head_seq", (json_int_t)rep->head_seq, "head_hash",
                        rep->head_hash, "expect_from", rep->expect_from, "n_problems", (json_int_t)rep->n_problems,
                        "problems", problems);
        s = out ? json_dumps(out, JSON_COMPACT) : NULL;
        puts(s ? s : "{}");
        free(s);
        json_decref(out);
}

/* Only a torn final record: orbitald may be mid-write; look once more. */
static bool is_only_torn(const struct audit_report *rep)
{
        return rep->n_problems == 1 && strncmp(rep->problems[0].why, "torn final record", 17) == 0;
}

static int verify(const struct opts *o, const char *live_head)
{
        struct audit_expect head;
        struct audit_report rep;
        int r;

        if (live_head && head_parse(live_head, &head) < 0) {
                fprintf(stderr, "orbctl: audit: orbitald's head '%.80s' is not SEQ:HASH\n", live_head);
                return EXIT_SYSTEM;
        }
        r = audit_verify(o->path, live_head ? &head : NULL, &rep);
        if (r == AUDIT_E_CORRUPT && is_only_torn(&rep)) {
                nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
                r = audit_verify(o->path, live_head ? &head : NULL, &rep);
        }
        if (r < 0) {
                fprintf(stderr, "orbctl: unable to read audit log %s: %s\n", o->path, strerror(-r));
                return EXIT_SYSTEM;
        }
        if (o->is_json)
                report_json(&rep);
        else
                report_text(o->path, &rep);
        return r == 0 ? 0 : EXIT_PROBLEM;
}

int audit_cmd(const char *path, const char *live_head, int argc, char **argv)
{
        struct opts o = {.path = path, .lines = LINES_DEFAULT};
        int code = parse_args(&o, argc, argv);

        if (code >= 0)
                return code;
        if (strcmp(o.path, path) != 0)
                live_head = NULL; /* orbitald's head is for its own log, not for --file's */
        if (o.is_verify)
                return verify(&o, live_head);
        return show(&o);
}
