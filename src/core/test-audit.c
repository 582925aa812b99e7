/*
 * Unit test of the audit log on real files and a real loop: append and
 * verify, reopen, group commit and the head file, every kind of tampering
 * (each reported at the right line and seq), repair at open, hostile
 * field values, and the size caps.
 */
#undef NDEBUG
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/utf8.h"

#define CHECK(x)                                                                                      \
        do {                                                                                          \
                if (!(x)) {                                                                           \
                        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #x);         \
                        abort();                                                                      \
                }                                                                                     \
        } while (0)

static char dir[64];
static char path[128];
static char head_path[160];

/* ---- file helpers ---- */

static char *slurp(const char *p, size_t *len)
{
        FILE *f = fopen(p, "re");
        char *buf;
        long n;

        CHECK(f);
        CHECK(fseek(f, 0, SEEK_END) == 0);
        n = ftell(f);
        rewind(f);
        buf = malloc((size_t)n + 1);
        CHECK(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
        buf[n] = '\0';
        fclose(f);
        *len = (size_t)n;
        return buf;
}

static void spit(const char *p, const char *buf, size_t len)
{
        FILE *f = fopen(p, "we");

        CHECK(f && fwrite(buf, 1, len, f) == len);
        CHECK(fclose(f) == 0);
}

static unsigned count_lines(const char *p)
{
        size_t len;
        char *s = slurp(p, &len);
        unsigned n = 0;

        for (size_t i = 0; i < len; i++)
                n += s[i] == '\n';
        free(s);
        return n;
}

/* Line @n (1-based) of the log, without its newline; caller frees. */
static char *line_get(unsigned n)
{
        size_t len;
        char *s = slurp(path, &len), *p = s, *out;

        for (unsigned i = 1; i < n; i++) {
                p = strchr(p, '\n');
                CHECK(p);
                p++;
        }
        out = strndup(p, strcspn(p, "\n"));
        free(s);
        return out;
}

/* Rewrites the log with line @n replaced by @with (NULL: deleted). */
static void line_replace(unsigned n, const char *with)
{
        size_t len;
        char *s = slurp(path, &len), *p = s, *end;
        FILE *f = fopen(path, "we");

        for (unsigned i = 1; i < n; i++)
                p = strchr(p, '\n') + 1;
        end = strchr(p, '\n') + 1;
        fwrite(s, 1, (size_t)(p - s), f);
        if (with)
                fprintf(f, "%s\n", with);
        fwrite(end, 1, len - (size_t)(end - s), f);
        fclose(f);
        free(s);
}

static json_t *line_json(unsigned n)
{
        char *l = line_get(n);
        json_t *j = json_loads(l, JSON_ALLOW_NUL, NULL);

        CHECK(j);
        free(l);
        return j;
}

static void check_line_kind(unsigned n, const char *kind)
{
        json_t *j = line_json(n);

        CHECK(strcmp(json_string_value(json_object_get(j, "kind")), kind) == 0);
        json_decref(j);
}

/* ---- log helpers ---- */

static void fresh(void)
{
        unlink(path);
        unlink(head_path);
}

static void add(struct audit *a, unsigned i)
{
        json_t *f = json_pack("{s:i,s:s}", "i", (int)i, "service", "web");

        CHECK(audit_record(a, "test.event", "uid:0", f) == 0);
        json_decref(f);
}

/* A fresh log of @n records, closed cleanly. */
static void make_log(unsigned n)
{
        struct audit *a;

        fresh();
        CHECK(audit_open(&a, path, NULL) == 0);
        for (unsigned i = 1; i <= n; i++)
                add(a, i);
        audit_close(a);
}

static void verify_ok(uint64_t n_records)
{
        struct audit_report rep;

        CHECK(audit_verify(path, NULL, &rep) == 0);
        CHECK(rep.n_problems == 0);
        CHECK(rep.n_records == n_records);
        CHECK(rep.head_seq == n_records);
}

/* The first problem is @why (a prefix) at @line for @seq. */
static void verify_bad(const struct audit_expect *exp, uint64_t line, uint64_t seq, const char *why)
{
        struct audit_report rep;

        CHECK(audit_verify(path, exp, &rep) == AUDIT_E_CORRUPT);
        CHECK(rep.n_problems > 0);
        if (rep.problems[0].line != line || rep.problems[0].seq != seq ||
            strncmp(rep.problems[0].why, why, strlen(why))) {
                fprintf(stderr, "expected line %llu seq %llu '%s', got line %llu seq %llu '%s'\n",
                        (unsigned long long)line, (unsigned long long)seq, why,
                        (unsigned long long)rep.problems[0].line, (unsigned long long)rep.problems[0].seq,
                        rep.problems[0].why);
                CHECK(false);
        }
}

static void hex_of(const char *s, size_t n, char hex[65])
{
        unsigned char h[32];

        crypto_generichash(h, sizeof(h), (const unsigned char *)s, n, NULL, 0);
        sodium_bin2hex(hex, 65, h, sizeof(h));
}

/* ---- tests ---- */

static void test_append_verify(void)
{
        struct audit *a;
        struct audit_report rep;
        struct stat st;
        uint64_t seq;
        char hash[AUDIT_HASH_HEX], *l;

        fresh();
        CHECK(audit_open(&a, path, NULL) == 0);
        audit_head(a, &seq, hash);
        CHECK(seq == 0 && strspn(hash, "0") == 64);
        for (unsigned i = 1; i <= 5; i++)
                add(a, i);
        CHECK(audit_record(a, "test.bare", NULL, NULL) == 0);
        audit_head(a, &seq, hash);
        CHECK(seq == 6);
        audit_close(a);

        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        CHECK(audit_verify(path, NULL, &rep) == 0);
        CHECK(rep.n_records == 6 && rep.n_lines == 6 && rep.head_seq == 6);
        CHECK(strcmp(rep.head_hash, hash) == 0);
        CHECK(strcmp(rep.expect_from, "head file") == 0);

        l = line_get(1);
        CHECK(strncmp(l, "{\"seq\":1,\"time\":\"", 17) == 0);
        CHECK(strstr(l, "\",\"kind\":\"test.event\",\"actor\":\"uid:0\",\"i\":1,\"service\":\"web\",\"prev\":\""
                        "0000000000000000000000000000000000000000000000000000000000000000\",\"hash\":\""));
        free(l);
        l = line_get(6);
        CHECK(strstr(l, "\"actor\":\"orbitald\",\"prev\":\""));
        free(l);
}

/* The hash is exactly the documented one, computed here independently. */
static void test_canonical_form(void)
{
        char *l, hex[65], *body;
        size_t len, cut;

        make_log(2);
        l = line_get(2);
        len = strlen(l);
        cut = len - strlen(",\"hash\":\"") - 64 - 2;
        CHECK(strncmp(l + cut, ",\"hash\":\"", 9) == 0);
        body = malloc(cut + 2);
        memcpy(body, l, cut);
        memcpy(body + cut, "}", 2);
        hex_of(body, cut + 1, hex);
        CHECK(strncmp(l + cut + 9, hex, 64) == 0);
        /* and the canonical form is itself a JSON object without "hash" */
        json_t *j = json_loads(body, 0, NULL);
        CHECK(j && !json_object_get(j, "hash") && json_integer_value(json_object_get(j, "seq")) == 2);
        json_decref(j);
        free(body);
        free(l);
}

static void test_reopen_continues(void)
{
        struct audit *a;
        struct audit_line rec;
        char *l;

        make_log(3);
        CHECK(audit_open(&a, path, NULL) == 0);
        add(a, 4);
        add(a, 5);
        audit_close(a);
        verify_ok(5);
        l = line_get(4);
        CHECK(audit_parse_line(l, strlen(l), &rec, NULL) == 0 && rec.seq == 4 && rec.is_hash_ok);
        free(l);
        check_line_kind(4, "test.event"); /* a clean close leaves nothing to note */
}

static void test_group_commit(void)
{
        struct loop l;
        struct audit *a;
        struct audit_expect head;
        bool is_clean = true;
        unsigned long syncs;
        usec_t until;

        fresh();
        CHECK(loop_init(&l) == 0);
        CHECK(audit_open(&a, path, &l) == 0);
        syncs = audit_n_syncs(a);
        for (unsigned i = 1; i <= 50; i++)
                add(a, i);
        CHECK(audit_n_syncs(a) == syncs);    /* nothing synced inside the batch */
        CHECK(count_lines(path) == 50);      /* but every record is written */
        loop_run_deferred(&l);               /* the end of the batch */
        CHECK(audit_n_syncs(a) == syncs + 1);
        loop_run_deferred(&l);
        CHECK(audit_n_syncs(a) == syncs + 1); /* an empty batch costs nothing */

        /* the head file follows within a second, marked not clean */
        until = now_mono() + 3 * USEC_PER_SEC;
        do {
                CHECK(loop_dispatch(&l, 100) == 0);
                CHECK(audit_read_head_file(path, &head, &is_clean) == 0);
        } while (head.seq != 50 && now_mono() < until);
        CHECK(head.seq == 50 && !is_clean);

        add(a, 51); /* queued, then cancelled by close, which syncs itself */
        audit_close(a);
        CHECK(l.deferred == NULL);
        CHECK(audit_read_head_file(path, &head, &is_clean) == 0 && head.seq == 51 && is_clean);
        loop_deinit(&l);
        verify_ok(51);
}

static void test_lock(void)
{
        struct audit *a, *b;

        fresh();
        CHECK(audit_open(&a, path, NULL) == 0);
        b = NULL;
        CHECK(audit_open(&b, path, NULL) == -EBUSY && b == NULL);
        audit_close(a);
}

static void test_tamper_byte(void)
{
        char *l;

        make_log(10);
        l = line_get(5);
        *strstr(l, "test.event") = 'T';
        line_replace(5, l);
        free(l);
        verify_bad(NULL, 5, 5, "hash mismatch");
}

static void test_tamper_delete(void)
{
        make_log(10);
        line_replace(5, NULL);
        verify_bad(NULL, 5, 6, "seq jumps from 4 to 6");
}

static void test_tamper_swap(void)
{
        char *l4, *l5;

        make_log(10);
        l4 = line_get(4);
        l5 = line_get(5);
        line_replace(4, l5);
        line_replace(5, l4);
        free(l4);
        free(l5);
        verify_bad(NULL, 4, 5, "seq jumps from 3 to 5");
}

static void test_tamper_not_json(void)
{
        make_log(10);
        line_replace(3, "this is not a record");
        verify_bad(NULL, 3, 0, "not JSON");
}

/* Without a head, cutting the last record off cannot be seen; with one, it can. */
static void test_truncate_last(void)
{
        struct audit_expect head;
        struct audit_report rep;
        char *l;
        size_t len;

        make_log(10);
        CHECK(audit_read_head_file(path, &head, NULL) == 0 && head.seq == 10);
        l = slurp(path, &len);
        spit(path, l, (size_t)(strrchr(l, '\n') - l)); /* drop the final newline... */
        free(l);
        l = slurp(path, &len);
        spit(path, l, (size_t)(strrchr(l, '\n') - l) + 1); /* ...and the whole last record */
        free(l);
        CHECK(count_lines(path) == 9);

        verify_bad(NULL, 10, 10, "truncated: file ends at seq 9, head says 10");
        verify_bad(&head, 10, 10, "truncated: file ends at seq 9, head says 10");
        unlink(head_path);
        CHECK(audit_verify(path, NULL, &rep) == 0 && strcmp(rep.expect_from, "nothing") == 0);

        /* a head on another chain: the record at its seq differs */
        memset(head.hash, 'a', 64);
        head.seq = 4;
        verify_bad(&head, 4, 4, "head mismatch");
}

/* Reopening a truncated log continues the head's chain: the gap stays visible. */
static void test_truncate_then_open(void)
{
        struct audit *a;
        struct audit_report rep;

        make_log(10);
        line_replace(10, NULL);
        CHECK(audit_open(&a, path, NULL) == 0);
        audit_close(a);
        check_line_kind(10, "audit.truncated");
        verify_bad(NULL, 10, 11, "seq jumps from 9 to 11");
        CHECK(audit_verify(path, NULL, &rep) == AUDIT_E_CORRUPT && rep.n_problems == 1);
}

static void test_torn(void)
{
        static const char torn[] = "{\"seq\":11,\"time\":\"2026-01-";
        struct audit *a;
        json_t *j;
        int fd;

        make_log(10);
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        CHECK(fd >= 0 && write(fd, torn, sizeof(torn) - 1) == (ssize_t)sizeof(torn) - 1);
        close(fd);
        verify_bad(NULL, 11, 0, "torn final record");

        CHECK(audit_open(&a, path, NULL) == 0);
        audit_close(a);
        CHECK(count_lines(path) == 11);
        j = line_json(11);
        CHECK(strcmp(json_string_value(json_object_get(j, "kind")), "audit.recovered") == 0);
        CHECK(json_integer_value(json_object_get(j, "dropped_bytes")) == (json_int_t)sizeof(torn) - 1);
        json_decref(j);
        verify_ok(11);
}

/* An unterminated tail longer than any record is not ours: kept, not cut. */
static void test_torn_oversized(void)
{
        struct audit *a;
        char *junk = malloc(AUDIT_RECORD_MAX + 100);
        int fd;

        make_log(3);
        memset(junk, 'x', AUDIT_RECORD_MAX + 100);
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        CHECK(fd >= 0 && write(fd, junk, AUDIT_RECORD_MAX + 100) == AUDIT_RECORD_MAX + 100);
        close(fd);
        free(junk);
        CHECK(audit_open(&a, path, NULL) == 0);
        audit_close(a);
        CHECK(count_lines(path) == 5);
        check_line_kind(5, "audit.broken");
        verify_bad(NULL, 4, 0, "not JSON");
}

static void test_forged_prev(void)
{
        char *l, *l3, hex[65], *p;
        size_t cut;

        make_log(10);
        l = line_get(5);
        l3 = line_get(3);
        /* prev := record 3's hash, then a correct hash over the result */
        p = strstr(l, ",\"prev\":\"") + 9;
        memcpy(p, l3 + strlen(l3) - 66, 64);
        cut = strlen(l) - 75;
        memcpy(l + cut, "}", 2);
        hex_of(l, cut + 1, hex);
        snprintf(l + cut, 76, ",\"hash\":\"%s\"}", hex);
        line_replace(5, l);
        free(l);
        free(l3);
        verify_bad(NULL, 5, 5, "chain broken: prev does not match record 4");
}

/* The last record does not verify: orbitald still starts, the break stays. */
static void test_broken_last(void)
{
        struct audit *a;
        struct audit_report rep;
        char *l;

        make_log(10);
        l = line_get(10);
        *strstr(l, "web") = 'W';
        line_replace(10, l);
        free(l);
        CHECK(audit_open(&a, path, NULL) == 0);
        add(a, 12);
        audit_close(a);
        check_line_kind(11, "audit.broken");
        CHECK(audit_verify(path, NULL, &rep) == AUDIT_E_CORRUPT);
        CHECK(rep.n_problems == 1 && rep.head_seq == 12);
        verify_bad(NULL, 10, 10, "hash mismatch");
}

static void test_unclean(void)
{
        struct audit *a;
        struct audit_expect head;
        char buf[160];
        int n;

        make_log(4);
        CHECK(audit_read_head_file(path, &head, NULL) == 0);
        n = snprintf(buf, sizeof(buf), "{\"seq\":%llu,\"hash\":\"%s\",\"clean\":false}\n",
                     (unsigned long long)head.seq, head.hash);
        spit(head_path, buf, (size_t)n);
        CHECK(audit_open(&a, path, NULL) == 0);
        audit_close(a);
        check_line_kind(5, "audit.unclean");
        verify_ok(5);

        /* and a missing head file next to a non-empty log */
        unlink(head_path);
        CHECK(audit_open(&a, path, NULL) == 0);
        audit_close(a);
        check_line_kind(6, "audit.unclean");
        verify_ok(6);
}

static void test_hostile_fields(void)
{
        struct audit *a;
        struct audit_report rep;
        json_t *f = json_object(), *j;
        char *file;
        size_t len;

        fresh();
        json_object_set_new(f, "inject", json_string("x\"}\n{\"seq\":999,\"kind\":\"forged\"}\n"));
        json_object_set_new(f, "cr", json_string("a\rb\x1b[2Jc"));
        json_object_set_new(f, "bad_utf8", json_stringn_nocheck("\xff\xfe\n\xc3", 4));
        json_object_set_new(f, "nul", json_stringn("a\0b", 3));
        json_object_set_new(f, "seq", json_integer(999));
        json_object_set_new(f, "hash", json_string("0"));
        json_object_set_new(f, "_x", json_true());
        json_object_set_new(f, "x", json_true());
        json_object_set_new(f, "line\nbreak", json_null());
        json_object_set_new_nocheck(f, "k\xff", json_integer(1));
        json_object_set_new(f, "nested", json_pack("{s:[s]}", "a\nb", "c\nd"));
        CHECK(audit_open(&a, path, NULL) == 0);
        CHECK(audit_record(a, "kind\n{\"seq\":2}", "actor\xff\n", f) == 0);
        CHECK(audit_record(a, "", NULL, NULL) == -EINVAL);
        j = json_array();
        CHECK(audit_record(a, "x", NULL, j) == -EINVAL); /* borrowed: still ours */
        json_decref(j);
        audit_close(a);
        json_decref(f);

        file = slurp(path, &len);
        CHECK(utf8_is_valid(file, len));
        free(file);
        CHECK(count_lines(path) == 1);
        CHECK(audit_verify(path, NULL, &rep) == 0 && rep.n_records == 1);
        j = line_json(1);
        CHECK(json_integer_value(json_object_get(j, "seq")) == 1);
        CHECK(json_integer_value(json_object_get(j, "_seq")) == 999);
        CHECK(strcmp(json_string_value(json_object_get(j, "_hash")), "0") == 0);
        CHECK(json_is_true(json_object_get(j, "__x")) && json_is_true(json_object_get(j, "x")));
        CHECK(json_object_get(j, "line\nbreak") && json_object_get(j, "k\xef\xbf\xbd"));
        CHECK(strcmp(json_string_value(json_object_get(j, "bad_utf8")), "\xef\xbf\xbd\xef\xbf\xbd\n\xef\xbf\xbd") == 0);
        CHECK(json_string_length(json_object_get(j, "nul")) == 3);
        CHECK(strcmp(json_string_value(json_object_get(j, "kind")), "kind\n{\"seq\":2}") == 0);
        json_decref(j);
}

/* Long strings, deep and wide values are cut and marked. */
static void test_caps_values(void)
{
        struct audit *a;
        json_t *f = json_object(), *deep = json_array(), *big = json_array(), *j;
        char *s = calloc(1, 10001), *l;

        fresh();
        memset(s, 'a', 10000);
        for (unsigned i = 0; i < 20; i++)
                deep = json_pack("[o]", deep);
        for (unsigned i = 0; i < 100; i++)
                json_array_append_new(big, json_integer(i));
        json_object_set_new(f, "a_long", json_string(s));
        json_object_set_new(f, "b_deep", deep);
        json_object_set_new(f, "c_big", big);
        CHECK(audit_open(&a, path, NULL) == 0);
        CHECK(audit_record(a, s, s, f) == 0); /* long kind and actor are cut too */
        audit_close(a);
        json_decref(f);
        free(s);

        l = line_get(1);
        CHECK(strlen(l) < AUDIT_RECORD_MAX);
        j = json_loads(l, 0, NULL);
        CHECK(strstr(json_string_value(json_object_get(j, "a_long")), "...[+8976 bytes]"));
        CHECK(json_string_length(json_object_get(j, "kind")) < 150);
        CHECK(strstr(l, "\"b_deep\":[[[[[[[\"...[too deep]\"]]]]]]]"));
        CHECK(json_array_size(json_object_get(j, "c_big")) == AUDIT_ITEMS_MAX + 1);
        CHECK(!json_object_get(j, "fields_dropped"));
        json_decref(j);
        free(l);
        verify_ok(1);
}

/* More fields than fit: the line stays bounded, the rest is counted. */
static void test_caps_fields(void)
{
        struct audit *a;
        json_t *f = json_object(), *j;
        char s[301], key[16], *l;

        fresh();
        memset(s, 'b', 300);
        s[300] = '\0';
        for (unsigned i = 0; i < 40; i++) {
                snprintf(key, sizeof(key), "k%02u", i);
                json_object_set_new(f, key, json_string(s));
        }
        CHECK(audit_open(&a, path, NULL) == 0);
        CHECK(audit_record(a, "test.many", NULL, f) == 0);
        audit_close(a);
        json_decref(f);

        l = line_get(1);
        CHECK(strlen(l) + 1 <= AUDIT_RECORD_MAX);
        j = json_loads(l, 0, NULL);
        CHECK(json_object_get(j, "k00") && !json_object_get(j, "k39"));
        /* 7: seq time kind actor fields_dropped prev hash */
        CHECK(json_integer_value(json_object_get(j, "fields_dropped")) + (json_int_t)json_object_size(j) - 7 == 40);
        json_decref(j);
        free(l);
        verify_ok(1);
}

/* Sets the file size limit to @bytes past the log's size (0: lifts it). */
static void fsize_limit(off_t bytes)
{
        static struct rlimit old;
        struct rlimit lim;
        struct stat st;

        if (!bytes) {
                CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
                signal(SIGXFSZ, SIG_DFL);
                return;
        }
        CHECK(stat(path, &st) == 0 && getrlimit(RLIMIT_FSIZE, &old) == 0);
        signal(SIGXFSZ, SIG_IGN);
        lim = (struct rlimit){.rlim_cur = (rlim_t)(st.st_size + bytes), .rlim_max = old.rlim_max};
        CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
}

/*
 * A write the kernel cuts short (the file size limit): the error comes
 * back, the partial record is cut off, the chain does not advance.
 */
static void test_short_write(void)
{
        struct audit *a;
        uint64_t seq;
        char hash[AUDIT_HASH_HEX];

        make_log(3);
        CHECK(audit_open(&a, path, NULL) == 0);
        fsize_limit(40);
        CHECK(audit_record(a, "test.cut", NULL, NULL) == -EFBIG);
        fsize_limit(0);
        audit_head(a, &seq, hash);
        CHECK(seq == 3);
        CHECK(count_lines(path) == 3);
        add(a, 4);
        audit_close(a);
        verify_ok(4);
        audit_close(NULL);
}

/* The file was shortened by someone else, then a write fails: the cut
 * removes only the partial record and never grows the file back. */
static void test_short_write_after_truncation(void)
{
        struct audit *a;
        struct stat before, after;

        make_log(5);
        CHECK(audit_open(&a, path, NULL) == 0);
        line_replace(5, NULL);
        line_replace(4, NULL);
        line_replace(3, NULL);
        CHECK(stat(path, &before) == 0);
        fsize_limit(40);
        CHECK(audit_record(a, "test.cut", NULL, NULL) == -EFBIG);
        fsize_limit(0);
        CHECK(stat(path, &after) == 0 && after.st_size == before.st_size);
        audit_close(a);
        CHECK(count_lines(path) == 2);
}

/* Every prefix of a good line is refused cleanly, none crashes. */
static void test_parse_prefixes(void)
{
        struct audit_line rec;
        char *l;
        size_t len;

        make_log(1);
        l = line_get(1);
        len = strlen(l);
        for (size_t n = 0; n < len; n++) {
                char *copy = malloc(n ? n : 1); /* unterminated: ASan sees overreads */
                memcpy(copy, l, n);
                CHECK(audit_parse_line(copy, n, &rec, NULL) == AUDIT_E_FORMAT);
                CHECK(rec.why[0]);
                free(copy);
        }
        CHECK(audit_parse_line(l, len, &rec, NULL) == 0 && rec.is_hash_ok && rec.seq == 1);
        free(l);
}

int main(void)
{
        log_init("test-audit");
        log_max_level = LOG_ERR; /* the repairs warn by design */
        snprintf(dir, sizeof(dir), "/tmp/test-audit-XXXXXX");
        CHECK(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/audit.log", dir);
        snprintf(head_path, sizeof(head_path), "%s.head", path);

        test_append_verify();
        test_canonical_form();
        test_reopen_continues();
        test_group_commit();
        test_lock();
        test_tamper_byte();
        test_tamper_delete();
        test_tamper_swap();
        test_tamper_not_json();
        test_truncate_last();
        test_truncate_then_open();
        test_torn();
        test_torn_oversized();
        test_forged_prev();
        test_broken_last();
        test_unclean();
        test_hostile_fields();
        test_caps_values();
        test_caps_fields();
        test_short_write();
        test_short_write_after_truncation();
        test_parse_prefixes();

        fresh();
        rmdir(dir);
        printf("test-audit: ok\n");
        return 0;
}
