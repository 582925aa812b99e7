#undef NDEBUG

/*
 * Tests for supervisor/manifest.c (and util/diag.c, which it fills): every
 * field good and bad, defaults, the position, field and text of each
 * error, YAML features refused, the digest, and file loading.
 *
 * Fixtures are read from ORB_TESTDATA (a compile definition), or from
 * argv[1] when given.  Built with ORB_FAULT_INJECTION and linked with
 * -Wl,--wrap for the allocators, every allocation of the parser and of
 * the set loader is made to fail in turn: each must give -ENOMEM, leave
 * no output and leak nothing (LeakSanitizer checks in the ASan build).
 */

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/manifest.h"
#include "supervisor/manifest_set.h"
#include "util/diag.h"

#ifndef ORB_TESTDATA
#define ORB_TESTDATA "src/core/supervisor/testdata"
#endif

static const char *testdata = ORB_TESTDATA;

#define MS(x) ((usec_t)(x) * USEC_PER_MSEC)
#define SEC(x) ((usec_t)(x) * USEC_PER_SEC)

/* ------------------------------------------------------------------------
 * Fault injection: allocations made through the wrapped allocators fail
 * once fail_countdown reaches zero.  Only code linked statically (the
 * manifest and util objects) is wrapped; libyaml and libc are not.
 */

#ifdef ORB_FAULT_INJECTION
static long fail_countdown = -1; /* -1: never fail */

static bool should_fail(void)
{
        if (fail_countdown < 0)
                return false;
        return fail_countdown-- == 0;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_reallocarray(void *p, size_t n, size_t size);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_reallocarray(void *p, size_t n, size_t size);
char *__wrap_strdup(const char *s);
int __wrap_asprintf(char **out, const char *fmt, ...);

void *__wrap_malloc(size_t n)
{
        return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
        return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
        return should_fail() ? NULL : __real_realloc(p, n);
}

void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
        return should_fail() ? NULL : __real_reallocarray(p, n, size);
}

char *__wrap_strdup(const char *s)
{
        return should_fail() ? NULL : __real_strdup(s);
}

__attribute__((format(printf, 2, 3))) int __wrap_asprintf(char **out, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (should_fail())
                return -1;
        va_start(ap, fmt);
        r = vasprintf(out, fmt, ap);
        va_end(ap);
        return r;
}
#endif

/* ------------------------------------------------------------------------
 * Helpers
 */

static struct manifest *parse_ok_at(int at, const char *yaml)
{
        struct orb_diag d = ORB_DIAG_INIT;
        struct manifest *m = NULL;
        char buf[1024];
        int r;

        r = manifest_parse(yaml, strlen(yaml), "test.yaml", "test", &m, &d);
        if (r) {
                fprintf(stderr, "test-manifest.c:%d: unexpected error %d: %s\n", at, r, diag_format(&d, buf, sizeof(buf)));
                abort();
        }
        assert(m);
        return m;
}

#define parse_ok(yaml) parse_ok_at(__LINE__, (yaml))

static void check_diag(int at, const struct orb_diag *d, unsigned line, unsigned column, const char *field,
                       const char *text)
{
        char buf[1024];

        if (d->line != line || d->column != column || strcmp(d->field, field) || !strstr(d->message, text)) {
                fprintf(stderr,
                        "test-manifest.c:%d: got   %s\n"
                        "                     want line %u, column %u, field '%s', message containing '%s'\n",
                        at, diag_format(d, buf, sizeof(buf)), line, column, field, text);
                abort();
        }
}

/*
 * Parses @yaml (of @len bytes) and expects MANIFEST_E_INVALID at @line,
 * @column, in @field, with @text in the message.
 */
static void parse_bad_at(int at, const char *yaml, size_t len, unsigned line, unsigned column, const char *field,
                         const char *text)
{
        struct orb_diag d = ORB_DIAG_INIT;
        struct manifest *m = NULL;
        int r;

        r = manifest_parse(yaml, len, "test.yaml", "test", &m, &d);
        if (r != MANIFEST_E_INVALID) {
                fprintf(stderr, "test-manifest.c:%d: expected MANIFEST_E_INVALID, got %d\n", at, r);
                abort();
        }
        assert(!m);
        assert(!strcmp(d.file, "test.yaml"));
        check_diag(at, &d, line, column, field, text);
}

#define parse_bad(yaml, line, column, field, text) \
        parse_bad_at(__LINE__, (yaml), strlen(yaml), (line), (column), (field), (text))
#define parse_bad_n(yaml, len, line, column, field, text) \
        parse_bad_at(__LINE__, (yaml), (len), (line), (column), (field), (text))

static bool strv_equal(char **v, const char *const *want)
{
        size_t i = 0;

        for (; want[i]; i++) {
                if (!v[i] || strcmp(v[i], want[i]))
                        return false;
        }
        return !v[i];
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static uint64_t digest_of(const char *yaml)
{
        struct manifest *m = parse_ok(yaml);
        uint64_t d = m->digest;

        manifest_free(m);
        return d;
}

/* ------------------------------------------------------------------------
 * diag
 */

static void test_diag(void)
{
        struct orb_diag d = ORB_DIAG_INIT;
        char buf[256], q[DIAG_QUOTE_SIZE];
        char small[8];

        diag_set(&d, 0, 0, NULL, "plain %s", "message");
        assert(!strcmp(diag_format(&d, buf, sizeof(buf)), "plain message"));
        diag_set(&d, 3, 7, "backoff.max", "expected X, found Y");
        assert(!strcmp(diag_format(&d, buf, sizeof(buf)), "3:7: backoff.max: expected X, found Y"));
        diag_set_file(&d, "web.yaml");
        assert(!strcmp(diag_format(&d, buf, sizeof(buf)), "web.yaml:3:7: backoff.max: expected X, found Y"));
        diag_set(&d, 3, 0, "", "m");
        assert(!strcmp(diag_format(&d, buf, sizeof(buf)), "web.yaml:3: m"));
        diag_set(&d, 0, 0, "name", "m");
        assert(!strcmp(diag_format(&d, buf, sizeof(buf)), "web.yaml: name: m"));
        diag_set_file(&d, NULL);
        assert(!strcmp(diag_format(&d, buf, sizeof(buf)), "name: m"));
        diag_set(NULL, 1, 1, "x", "ignored");
        diag_set_file(NULL, "ignored");

        /* Truncation keeps the text terminated. */
        diag_set_file(&d, "a-rather-long-file-name.yaml");
        diag_format(&d, small, sizeof(small));
        assert(strlen(small) == sizeof(small) - 1);
        assert(diag_format(&d, small, 0) == small);

        assert(!strcmp(diag_quote(q, sizeof(q), "abc", 3), "'abc'"));
        assert(!strcmp(diag_quote(q, sizeof(q), "a\nb\t'\\", 6), "'a\\nb\\t\\'\\\\'"));
        assert(!strcmp(diag_quote(q, sizeof(q), "\x01\x1b[31m", 6), "'\\x01\\x1b[31m'"));
        assert(!strcmp(diag_quote(q, sizeof(q), "caf\xc3\xa9", 5), "'caf\xc3\xa9'"));
        assert(!strcmp(diag_quote(q, sizeof(q), "\xc3", 1), "'\\xc3'"));           /* cut sequence */
        assert(!strcmp(diag_quote(q, sizeof(q), "\xc0\xaf", 2), "'\\xc0\\xaf'"));  /* overlong */
        assert(!strcmp(diag_quote(q, sizeof(q), "\xed\xa0\x80", 3), "'\\xed\\xa0\\x80'")); /* surrogate */
        assert(!strcmp(diag_quote(q, sizeof(q), "a\0b", 3), "'a\\x00b'"));
        assert(!strcmp(diag_quote(q, sizeof(q),
                                  "0123456789012345678901234567890123456789tail", 44),
                       "'0123456789012345678901234567890123456789'..."));
        {
                char worst[DIAG_QUOTE_MAX * 2];

                memset(worst, 0x01, sizeof(worst));
                diag_quote(q, sizeof(q), worst, sizeof(worst));
                assert(strlen(q) == 4 * DIAG_QUOTE_MAX + 2 + 3);
        }
        assert(!strcmp(diag_quote(small, sizeof(small), "abcdefgh", 8), "'abcde'"));
        assert(!strcmp(diag_quote(small, 2, "abc", 3), ""));
}

/* ------------------------------------------------------------------------
 * Defaults and full manifests
 */

static void test_defaults(void)
{
        struct manifest *m = parse_ok("command: [/bin/true]\n");

        assert(!strcmp(m->name, "test"));
        assert(!strcmp(m->source, "test.yaml"));
        assert(m->name_pos.line == 0);
        assert(!m->description);
        assert(strv_equal(m->argv, STRV("/bin/true")));
        assert(!m->env && m->n_env == 0);
        assert(!m->working_directory && !m->user && !m->group);
        assert(m->requires && !m->requires[0]);
        assert(m->after && !m->after[0]);
        assert(m->capabilities && !m->capabilities[0]);
        assert(m->restart == RESTART_ON_FAILURE);
        assert(m->backoff.initial == MS(100));
        assert(m->backoff.max == SEC(30));
        assert(m->backoff.jitter_pc == 10);
        assert(m->backoff.reset_after == SEC(30));
        assert(m->breaker.crashes == 5);
        assert(m->breaker.window == SEC(60));
        assert(m->breaker.cooldown == SEC(60));
        assert(m->health.kind == HEALTH_NONE && !m->health.argv);
        assert(m->health.interval == SEC(10));
        assert(m->health.timeout == SEC(5));
        assert(m->health.failures == 3);
        assert(m->health.start_delay == 0);
        assert(m->readiness.kind == READINESS_NONE);
        assert(m->readiness.fd == 3);
        assert(m->readiness.timeout == SEC(30));
        assert(m->stop.signal == SIGTERM);
        assert(m->stop.timeout == SEC(10));
        assert(m->limits.memory == 64ull << 20);
        assert(m->limits.pids == 16);
        assert(m->limits.cpu_pc == 50);
        assert(m->limits.files == 256);
        assert(m->enabled);
        manifest_free(m);

        assert(!manifest_free(NULL));
}

static void check_full(const struct manifest *m)
{
        assert(!strcmp(m->name, "web"));
        assert(m->name_pos.line == 2 && m->name_pos.column == 7);
        assert(!strcmp(m->description, "Front web server"));
        assert(strv_equal(m->argv, STRV("/usr/bin/web", "--port", "8080")));
        assert(m->n_env == 2);
        assert(!strcmp(m->env[0].name, "LANG") && !strcmp(m->env[0].value, "C.UTF-8"));
        assert(!strcmp(m->env[1].name, "WEB_ROOT") && !strcmp(m->env[1].value, "/srv/www"));
        assert(!strcmp(m->working_directory, "/srv/www"));
        assert(!strcmp(m->user, "www-data"));
        assert(!strcmp(m->group, "33"));
        assert(strv_equal(m->requires, STRV("db")));
        assert(m->requires_pos[0].line == 11 && m->requires_pos[0].column == 12);
        assert(strv_equal(m->after, STRV("cache", "metrics")));
        assert(m->after_pos[0].line == 13 && m->after_pos[0].column == 5);
        assert(m->after_pos[1].line == 14 && m->after_pos[1].column == 5);
        assert(m->restart == RESTART_LIMITED && m->restart_limit == 5);
        assert(m->backoff.initial == MS(250));
        assert(m->backoff.max == SEC(60));
        assert(m->backoff.jitter_pc == 20);
        assert(m->backoff.reset_after == SEC(300));
        assert(m->breaker.crashes == 10);
        assert(m->breaker.window == SEC(120));
        assert(m->breaker.cooldown == SEC(300));
        assert(m->health.kind == HEALTH_COMMAND);
        assert(strv_equal(m->health.argv, STRV("/bin/sh", "-c", "curl -fsS http://localhost:8080/health")));
        assert(m->health.interval == SEC(15));
        assert(m->health.timeout == SEC(2));
        assert(m->health.failures == 5);
        assert(m->health.start_delay == SEC(30));
        assert(m->readiness.kind == READINESS_NOTIFY);
        assert(m->readiness.fd == 4);
        assert(m->readiness.timeout == SEC(90));
        assert(m->stop.signal == SIGINT);
        assert(m->stop.timeout == SEC(20));
        assert(m->limits.memory == 256ull << 20);
        assert(m->limits.pids == 64);
        assert(m->limits.cpu_pc == 150);
        assert(m->limits.files == 4096);
        assert(strv_equal(m->capabilities, STRV("net.configure", "call:storage:r")));
        assert(!m->enabled);
}

static char *read_fixture(const char *name, size_t *len)
{
        char path[4096];
        FILE *f;
        char *buf;
        long n;

        snprintf(path, sizeof(path), "%s/%s", testdata, name);
        f = fopen(path, "re");
        assert(f);
        assert(fseek(f, 0, SEEK_END) == 0);
        n = ftell(f);
        assert(n >= 0);
        rewind(f);
        buf = malloc((size_t)n + 1);
        assert(buf);
        assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
        buf[n] = '\0';
        fclose(f);
        *len = (size_t)n;
        return buf;
}

static void test_load_file(void)
{
        struct orb_diag d = ORB_DIAG_INIT;
        struct manifest *m = NULL;
        char path[4096];
        int r;

        snprintf(path, sizeof(path), "%s/manifest/full.yaml", testdata);
        r = manifest_load_file(path, &m, &d);
        assert(r == 0);
        assert(!strcmp(m->source, path));
        check_full(m);
        manifest_free(m);

        snprintf(path, sizeof(path), "%s/manifest/minimal.yaml", testdata);
        assert(manifest_load_file(path, &m, &d) == 0);
        assert(!strcmp(m->name, "minimal"));
        assert(strv_equal(m->argv, STRV("/bin/sh", "-c", "/usr/bin/true")));
        manifest_free(m);

        m = NULL;
        snprintf(path, sizeof(path), "%s/manifest/bad-restart.yaml", testdata);
        assert(manifest_load_file(path, &m, &d) == MANIFEST_E_INVALID);
        assert(!m);
        assert(!strcmp(d.file, path));
        check_diag(__LINE__, &d, 2, 10, "restart", "expected never, always, on-failure or limited(N), found 'sometimes'");

        snprintf(path, sizeof(path), "%s/manifest/does-not-exist.yaml", testdata);
        assert(manifest_load_file(path, &m, &d) == -ENOENT);
        assert(!strcmp(d.file, path));
        assert(strstr(d.message, "unable to read"));

        snprintf(path, sizeof(path), "%s/manifest", testdata);
        assert(manifest_load_file(path, &m, &d) == MANIFEST_E_INVALID);
        assert(strstr(d.message, "not a regular file"));
}

/* Files whose stem is not a valid name, and files too large, in a temp dir. */
static void test_load_file_tmp(void)
{
        char dir[] = "/tmp/test-manifest-XXXXXX", path[256];
        struct orb_diag d = ORB_DIAG_INIT;
        struct manifest *m = NULL;
        FILE *f;

        assert(mkdtemp(dir));

        snprintf(path, sizeof(path), "%s/Bad Name.yaml", dir);
        f = fopen(path, "we");
        assert(f);
        fputs("command: [/bin/true]\n", f);
        fclose(f);
        assert(manifest_load_file(path, &m, &d) == MANIFEST_E_INVALID);
        check_diag(__LINE__, &d, 0, 0, "name", "the file name gives the service name 'Bad Name', which is not valid");
        f = fopen(path, "we");
        assert(f);
        fputs("name: good\ncommand: [/bin/true]\n", f);
        fclose(f);
        assert(manifest_load_file(path, &m, &d) == 0);
        assert(!strcmp(m->name, "good"));
        m = manifest_free(m);
        assert(unlink(path) == 0);

        snprintf(path, sizeof(path), "%s/big.yaml", dir);
        f = fopen(path, "we");
        assert(f);
        fputs("command: [/bin/true]\n", f);
        while (ftell(f) <= (long)MANIFEST_SIZE_MAX)
                fputs("# padding padding padding padding padding padding padding pad\n", f);
        fclose(f);
        assert(manifest_load_file(path, &m, &d) == MANIFEST_E_INVALID);
        assert(!m);
        assert(strstr(d.message, "file too large"));
        assert(unlink(path) == 0);

        assert(rmdir(dir) == 0);
}

/* ------------------------------------------------------------------------
 * Structure: documents, YAML features, keys
 */

static void test_structure(void)
{
        static const char nul_input[] = "command: a\0b\n";
        struct orb_diag d = ORB_DIAG_INIT;
        struct manifest *m = NULL;
        char *big;

        parse_bad("", 1, 1, "", "empty manifest");
        parse_bad("# just a comment\n\n", 1, 1, "", "empty manifest");
        parse_bad("---\n", 2, 1, "", "empty manifest");
        parse_bad("- a\n- b\n", 1, 1, "", "expected a mapping of manifest keys such as 'command', found a list");
        parse_bad("hello\n", 1, 1, "", "found 'hello'");
        parse_bad("{}\n", 1, 1, "command", "missing required key 'command'");
        parse_bad("name: web\n", 1, 1, "command", "missing required key 'command'");
        parse_bad("command: [a]\n---\ncommand: [b]\n", 2, 1, "", "expected one YAML document, found a second one");

        /* Explicit document markers around one document are fine. */
        m = parse_ok("---\ncommand: [a]\n...\n");
        manifest_free(m);

        /* Syntax errors come from libyaml, with its position. */
        parse_bad("command: [a\n", 2, 1, "", "invalid YAML: did not find expected ',' or ']'");
        parse_bad("command: a\n  b: c\n", 2, 4, "", "invalid YAML: mapping values are not allowed in this context");
        parse_bad("command:\n\t- a\n", 2, 1, "", "invalid YAML: found character that cannot start any token");
        parse_bad("command: \"abc\n", 2, 1, "", "invalid YAML: found unexpected end of stream");
        parse_bad("command: \xff\n", 1, 10, "", "invalid input: invalid leading UTF-8 octet (byte 0xff)");
        parse_bad("name: x\ncommand: caf\xc3\n", 2, 14, "", "invalid input: invalid trailing UTF-8 octet");
        /* Lines end at CR LF, CR or LF, for libyaml and for reader errors alike. */
        parse_bad("name: x\r\ncommand: \xff\n", 2, 10, "", "invalid input");
        parse_bad("name: x\rcommand: \xff\n", 2, 10, "", "invalid input");
        parse_bad("name: x\r\rcommand: [a\n", 4, 1, "", "(while parsing a flow sequence at line 3, column 10)");
        parse_bad_n(nul_input, sizeof(nul_input) - 1, 1, 11, "", "invalid input: control characters are not allowed");
        parse_bad("command: \"a\\0b\"\n", 1, 10, "command", "expected text, found a value with a NUL character");

        /* Anchors, aliases, tags. */
        parse_bad("command: &cmd [a]\n", 1, 10, "command", "YAML anchors are not supported, found anchor 'cmd'");
        parse_bad("command: *cmd\n", 1, 10, "command", "YAML aliases are not supported, found alias 'cmd'");
        parse_bad("command: [a]\nafter: [x, *y]\n", 2, 12, "after[1]", "YAML aliases are not supported");
        parse_bad("base: &b {restart: always}\ncommand: [a]\n", 1, 7, "base", "YAML anchors are not supported");
        parse_bad("command: [a]\n<<: *b\n", 2, 5, "'<<'", "YAML aliases are not supported");
        parse_bad("command: !!str a\n", 1, 10, "command", "YAML tags are not supported, found tag 'tag:yaml.org,2002:str'");
        parse_bad("command: [a]\nenabled: !!bool true\n", 2, 10, "enabled", "every value is read as text");
        parse_bad("!thing\ncommand: [a]\n", 1, 1, "", "YAML tags are not supported, found tag '!thing'");
        parse_bad("command: ! a\n", 1, 10, "command", "YAML tags are not supported");
        parse_bad("command: [a]\n!k x: y\n", 2, 1, "", "YAML tags are not supported");

        /* Keys. */
        parse_bad("command: a\ncommand: b\n", 2, 1, "", "duplicate key 'command' (first at line 1, column 1)");
        parse_bad("command: a\nbackoff:\n  max: 1s\n  initial: 1s\n  max: 2s\n", 5, 3, "backoff",
                  "duplicate key 'max' (first at line 3, column 3)");
        parse_bad("command: a\nenvironment: {A: 1, A: 2}\n", 2, 21, "environment", "duplicate key 'A'");
        parse_bad("command: a\n\"command\": b\n", 2, 1, "", "duplicate key 'command'");
        parse_bad("? [a]\n: b\ncommand: a\n", 1, 3, "", "expected a text key, found a list");
        parse_bad("command: a\n{x: 1}: b\n", 2, 1, "", "expected a text key, found a mapping");
        parse_bad("comand: [a]\n", 1, 1, "", "unknown key 'comand'; did you mean 'command'?");
        parse_bad("command: [a]\nworking_directory: /x\n", 2, 1, "", "did you mean 'working-directory'?");
        parse_bad("command: [a]\nRestart: always\n", 2, 1, "", "did you mean 'restart'?");
        parse_bad("command: [a]\nrequire: [b]\n", 2, 1, "", "did you mean 'requires'?");
        parse_bad("command: [a]\nxyzzy: 1\n", 2, 1, "", "unknown key 'xyzzy'");
        parse_bad("command: [a]\nbackoff:\n  intial: 1s\n", 3, 3, "backoff", "unknown key 'intial'; did you mean 'initial'?");
        parse_bad("command: [a]\nbackoff: {foo: 1s}\n", 2, 11, "backoff",
                  "unknown key 'foo'; expected one of initial, max, jitter, reset-after");
        /* A refused key is never suggested. */
        parse_bad("command: [a]\nhealth: {command: x, pong: 1}\n", 2, 22, "health",
                  "unknown key 'pong'; expected one of command, interval, timeout, failures, start-delay");
        parse_bad("command: [a]\n\"a\\nb\": 1\n", 2, 1, "", "unknown key 'a\\nb'");

        /* Field paths show odd keys quoted. */
        parse_bad("command: [a]\n\"x y\": [*z]\n", 2, 9, "'x y'[0]", "aliases");

        /* Limits on size and shape. */
        parse_bad("command: a\nx: [[[[[[[[[a]]]]]]]]]\n", 2, 11, "x[0][0][0][0][0][0][0]", "nested too deeply (max 8 levels)");
        /* Eight levels are built; the field then refuses the list. */
        parse_bad("command: a\nbreaker: {window: [[[[[[a]]]]]]}\n", 2, 19, "breaker.window", "found a list");
        big = malloc(MANIFEST_SIZE_MAX + 2);
        assert(big);
        memset(big, '#', MANIFEST_SIZE_MAX + 1);
        assert(manifest_parse(big, MANIFEST_SIZE_MAX + 1, "big.yaml", "big", &m, &d) == MANIFEST_E_INVALID);
        assert(strstr(d.message, "manifest too large"));
        free(big);
}

/* A list of @n capabilities; 1024 are allowed, 1025 not. */
static void test_collection_limits(void)
{
        size_t size = 64 + 1100 * 16;
        char *yaml = malloc(size);
        size_t pos;
        struct manifest *m;

        assert(yaml);
        pos = (size_t)snprintf(yaml, size, "command: a\ncapabilities:\n");
        for (unsigned i = 0; i < 1024; i++)
                pos += (size_t)snprintf(yaml + pos, size - pos, "- c%u\n", i);
        m = parse_ok(yaml);
        assert(!strcmp(m->capabilities[1023], "c1023"));
        manifest_free(m);
        snprintf(yaml + pos, size - pos, "- c1024\n");
        parse_bad(yaml, 1027, 3, "capabilities", "too many entries in one list (max 1024)");

        pos = (size_t)snprintf(yaml, size, "command: a\nenvironment:\n");
        for (unsigned i = 0; i < 1025; i++)
                pos += (size_t)snprintf(yaml + pos, size - pos, "  V%u: x\n", i);
        parse_bad(yaml, 1027, 3, "environment", "too many keys in one mapping (max 1024)");

        /* 8192 values in all, each list within its own limit. */
        pos = (size_t)snprintf(yaml, size, "command: a\nx: [");
        yaml = realloc(yaml, size = 64 + 9 * 1024 * 4);
        assert(yaml);
        for (unsigned i = 0; i < 9; i++) {
                pos += (size_t)snprintf(yaml + pos, size - pos, "%s[", i ? "," : "");
                for (unsigned j = 0; j < 1000; j++)
                        pos += (size_t)snprintf(yaml + pos, size - pos, "%sa", j ? "," : "");
                pos += (size_t)snprintf(yaml + pos, size - pos, "]");
        }
        snprintf(yaml + pos, size - pos, "]\n");
        {
                struct orb_diag d = ORB_DIAG_INIT;

                m = NULL;
                assert(manifest_parse(yaml, strlen(yaml), "t", "t", &m, &d) == MANIFEST_E_INVALID);
                assert(strstr(d.message, "too many values in one manifest (max 8192)"));
                assert(!strncmp(d.field, "x[8][", 5));
        }
        free(yaml);
}

/* ------------------------------------------------------------------------
 * Fields
 */

static void test_name(void)
{
        struct orb_diag d = ORB_DIAG_INIT;
        struct manifest *m;

        m = parse_ok("name: web-1.a_b\ncommand: a\n");
        assert(!strcmp(m->name, "web-1.a_b"));
        assert(m->name_pos.line == 1 && m->name_pos.column == 7);
        manifest_free(m);
        m = parse_ok("name: 0\ncommand: a\n");
        assert(!strcmp(m->name, "0"));
        manifest_free(m);
        m = parse_ok("name: a23456789012345678901234567890123456789012345678901234567890123\ncommand: a\n");
        assert(strlen(m->name) == 63);
        manifest_free(m);

        parse_bad("name: Web\ncommand: a\n", 1, 7, "name", "expected a service name");
        parse_bad("name: Web\ncommand: a\n", 1, 7, "name", "found 'Web'");
        parse_bad("name: -web\ncommand: a\n", 1, 7, "name", "found '-web'");
        parse_bad("name: .web\ncommand: a\n", 1, 7, "name", "found '.web'");
        parse_bad("name: we b\ncommand: a\n", 1, 7, "name", "found 'we b'");
        parse_bad("name: web/x\ncommand: a\n", 1, 7, "name", "found 'web/x'");
        parse_bad("name: \ncommand: a\n", 1, 6, "name", "found an empty value");
        parse_bad("name: [web]\ncommand: a\n", 1, 7, "name", "found a list");
        parse_bad("name: a234567890123456789012345678901234567890123456789012345678901234\ncommand: a\n", 1, 7, "name",
                  "found 'a234567890123456789012345678901234567890'...");

        /* No name: the default must be valid, or exist. */
        m = NULL;
        assert(manifest_parse("command: a", 10, "x.yaml", NULL, &m, &d) == MANIFEST_E_INVALID);
        check_diag(__LINE__, &d, 1, 1, "name", "missing required key 'name'");
        assert(manifest_parse("command: a", 10, "x.yaml", "Bad", &m, &d) == MANIFEST_E_INVALID);
        check_diag(__LINE__, &d, 0, 0, "name", "the file name gives the service name 'Bad', which is not valid");
        assert(manifest_parse("name: ok\ncommand: a", 19, "x.yaml", "Bad", &m, &d) == 0);
        assert(!strcmp(m->name, "ok"));
        manifest_free(m);
        assert(manifest_parse("name: ok\ncommand: a", 19, NULL, NULL, &m, NULL) == 0);
        assert(!strcmp(m->source, ""));
        manifest_free(m);

        assert(manifest_name_valid("a"));
        assert(manifest_name_valid("9lives"));
        assert(!manifest_name_valid(""));
        assert(!manifest_name_valid("_a"));
        assert(!manifest_name_valid("a\xc3\xa9"));
}

static void test_description(void)
{
        struct manifest *m = parse_ok("description: \"A \\\"quoted\\\" thing\"\ncommand: a\n");

        assert(!strcmp(m->description, "A \"quoted\" thing"));
        manifest_free(m);
        m = parse_ok("description: no\ncommand: a\n");
        assert(!strcmp(m->description, "no")); /* never a boolean */
        manifest_free(m);
        parse_bad("description: [a]\ncommand: a\n", 1, 14, "description", "expected a text, found a list");
}

static void test_command(void)
{
        struct manifest *m;

        m = parse_ok("command: [/bin/echo, hello, '', \"007\", no, 1e3]\n");
        assert(strv_equal(m->argv, STRV("/bin/echo", "hello", "", "007", "no", "1e3")));
        manifest_free(m);
        m = parse_ok("command:\n  - /bin/echo\n  - a b\n");
        assert(strv_equal(m->argv, STRV("/bin/echo", "a b")));
        manifest_free(m);
        m = parse_ok("command: exec /bin/web --port 80 >/dev/null\n");
        assert(strv_equal(m->argv, STRV("/bin/sh", "-c", "exec /bin/web --port 80 >/dev/null")));
        manifest_free(m);
        m = parse_ok("command: |\n  line one\n  line two\n");
        assert(strv_equal(m->argv, STRV("/bin/sh", "-c", "line one\nline two\n")));
        manifest_free(m);

        parse_bad("command: []\n", 1, 10, "command", "expected a command: a list of strings, or one string for /bin/sh -c, found an empty list");
        parse_bad("command:\n", 1, 9, "command", "found an empty value");
        parse_bad("command: ''\n", 1, 10, "command", "found an empty value");
        parse_bad("command: {a: b}\n", 1, 10, "command", "found a mapping");
        parse_bad("command: ['', a]\n", 1, 11, "command[0]", "expected a program name or path, found an empty value");
        parse_bad("command:\n  - /bin/echo\n  - ok\n  - {x: y}\n", 4, 5, "command[2]", "expected a string, found a mapping");
        parse_bad("command: [a, [b]]\n", 1, 14, "command[1]", "expected a string, found a list");
}

static void test_environment(void)
{
        struct manifest *m;

        m = parse_ok("command: a\nenvironment:\n  FOO: bar\n  _x1: ''\n  N: 5\n  B: no\n");
        assert(m->n_env == 4);
        assert(!strcmp(m->env[0].name, "FOO") && !strcmp(m->env[0].value, "bar"));
        assert(!strcmp(m->env[1].name, "_x1") && !strcmp(m->env[1].value, ""));
        assert(!strcmp(m->env[2].name, "N") && !strcmp(m->env[2].value, "5"));
        assert(!strcmp(m->env[3].name, "B") && !strcmp(m->env[3].value, "no"));
        manifest_free(m);
        m = parse_ok("command: a\nenvironment: {}\n");
        assert(m->n_env == 0);
        manifest_free(m);

        parse_bad("command: a\nenvironment:\n  1FOO: x\n", 3, 3, "environment", "expected a variable name");
        parse_bad("command: a\nenvironment:\n  FOO-BAR: x\n", 3, 3, "environment", "found 'FOO-BAR'");
        parse_bad("command: a\nenvironment:\n  '': x\n", 3, 3, "environment", "found an empty value");
        parse_bad("command: a\nenvironment:\n  OK: 1\n  FOO: [x]\n", 4, 8, "environment.FOO", "expected a text value, found a list");
        parse_bad("command: a\nenvironment: [FOO=bar]\n", 2, 14, "environment", "expected a mapping of NAME: value, found a list");
        parse_bad("command: a\nenvironment: FOO=bar\n", 2, 14, "environment", "found 'FOO=bar'");
}

static void test_working_directory_user_group(void)
{
        struct manifest *m;

        m = parse_ok("command: a\nworking-directory: /srv/x\nuser: nobody\ngroup: '0'\n");
        assert(!strcmp(m->working_directory, "/srv/x"));
        assert(!strcmp(m->user, "nobody"));
        assert(!strcmp(m->group, "0"));
        manifest_free(m);
        m = parse_ok("command: a\nuser: 1000\ngroup: www-data\n");
        assert(!strcmp(m->user, "1000"));
        assert(!strcmp(m->group, "www-data"));
        manifest_free(m);
        m = parse_ok("command: a\nuser: machine$\ngroup: _ssh.x\n");
        assert(!strcmp(m->user, "machine$"));
        manifest_free(m);

        parse_bad("command: a\nworking-directory: srv\n", 2, 20, "working-directory", "expected an absolute path, found 'srv'");
        parse_bad("command: a\nworking-directory:\n", 2, 19, "working-directory", "found an empty value");
        parse_bad("command: a\nuser: ro ot\n", 2, 7, "user", "expected a name of A-Z, a-z, 0-9, '.', '_', '-' or a numeric id");
        parse_bad("command: a\nuser: -x\n", 2, 7, "user", "found '-x'");
        parse_bad("command: a\nuser: 4294967295\n", 2, 7, "user", "found '4294967295'");
        parse_bad("command: a\nuser: 007\n", 2, 7, "user", "found '007'");
        parse_bad("command: a\nuser: a$b\n", 2, 7, "user", "found 'a$b'");
        parse_bad("command: a\ngroup: ''\n", 2, 8, "group", "found an empty value");
        parse_bad("command: a\ngroup: [x]\n", 2, 8, "group", "found a list");
}

static void test_requires_after(void)
{
        struct manifest *m;

        m = parse_ok("command: a\nrequires: db\nafter: [cache, 'log.d']\n");
        assert(strv_equal(m->requires, STRV("db")));
        assert(m->requires_pos[0].line == 2 && m->requires_pos[0].column == 11);
        assert(strv_equal(m->after, STRV("cache", "log.d")));
        assert(m->after_pos[1].line == 3 && m->after_pos[1].column == 16);
        manifest_free(m);
        m = parse_ok("command: a\nrequires: []\n");
        assert(!m->requires[0]);
        manifest_free(m);

        parse_bad("command: a\nrequires: [db, DB]\n", 2, 16, "requires[1]", "expected a service name or a list of them, found 'DB'");
        parse_bad("command: a\nrequires: Db\n", 2, 11, "requires", "found 'Db'");
        parse_bad("command: a\nrequires: [db, db]\n", 2, 16, "requires", "'db' is listed twice (first at line 2)");
        parse_bad("command: a\nrequires: {db: x}\n", 2, 11, "requires", "found a mapping");
        parse_bad("command: a\nafter:\n  - x\n  - [y]\n", 4, 5, "after[1]", "found a list");
        parse_bad("command: a\nafter: ''\n", 2, 8, "after", "found an empty value");
}

static void test_restart(void)
{
        static const struct {
                const char *text;
                enum restart_policy policy;
                unsigned limit;
        } good[] = {
                { "never", RESTART_NEVER, 0 },         { "always", RESTART_ALWAYS, 0 },
                { "on-failure", RESTART_ON_FAILURE, 0 }, { "limited(1)", RESTART_LIMITED, 1 },
                { "limited(1000000)", RESTART_LIMITED, 1000000 },
        };
        char yaml[128];

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                struct manifest *m;

                snprintf(yaml, sizeof(yaml), "command: a\nrestart: %s\n", good[i].text);
                m = parse_ok(yaml);
                assert(m->restart == good[i].policy);
                assert(m->restart_limit == good[i].limit);
                assert(!strncmp(restart_policy_name(m->restart), good[i].text, strlen(restart_policy_name(m->restart))));
                manifest_free(m);
        }
        assert(!strcmp(restart_policy_name((enum restart_policy)42), "unknown"));

        parse_bad("command: a\nrestart: sometimes\n", 2, 10, "restart", "expected never, always, on-failure or limited(N), found 'sometimes'");
        parse_bad("command: a\nrestart: no\n", 2, 10, "restart", "found 'no'");
        parse_bad("command: a\nrestart: Always\n", 2, 10, "restart", "found 'Always'");
        parse_bad("command: a\nrestart: limited\n", 2, 10, "restart", "found 'limited'");
        parse_bad("command: a\nrestart: limited(3\n", 2, 10, "restart", "expected never, always, on-failure or limited(N)");
        parse_bad("command: a\nrestart: limited(0)\n", 2, 10, "restart", "expected limited(N) with N from 1 to 1000000, found 'limited(0)'");
        parse_bad("command: a\nrestart: limited(1000001)\n", 2, 10, "restart", "found 'limited(1000001)'");
        parse_bad("command: a\nrestart: limited()\n", 2, 10, "restart", "with N from 1 to 1000000");
        parse_bad("command: a\nrestart: limited(x)\n", 2, 10, "restart", "with N from 1 to 1000000");
        parse_bad("command: a\nrestart: limited( 3)\n", 2, 10, "restart", "with N from 1 to 1000000");
        parse_bad("command: a\nrestart: limited(03)\n", 2, 10, "restart", "with N from 1 to 1000000");
        parse_bad("command: a\nrestart: [always]\n", 2, 10, "restart", "found a list");
}

static void test_backoff(void)
{
        struct manifest *m;

        m = parse_ok("command: a\nbackoff: {initial: 0, max: 0, jitter: 0, reset-after: 1h}\n");
        assert(m->backoff.initial == 0 && m->backoff.max == 0);
        assert(m->backoff.jitter_pc == 0);
        assert(m->backoff.reset_after == SEC(3600));
        manifest_free(m);
        m = parse_ok("command: a\nbackoff:\n  jitter: 100\n  max: 1.5s\n");
        assert(m->backoff.jitter_pc == 100);
        assert(m->backoff.max == MS(1500));
        assert(m->backoff.initial == MS(100));
        manifest_free(m);

        parse_bad("command: a\nbackoff:\n  initial: 5\n", 3, 12, "backoff.initial", "expected a duration such as 250ms, 5s or 1m30s, found '5'");
        parse_bad("command: a\nbackoff:\n  initial: 5 s\n", 3, 12, "backoff.initial", "found '5 s'");
        parse_bad("command: a\nbackoff:\n  initial: -1s\n", 3, 12, "backoff.initial", "found '-1s'");
        parse_bad("command: a\nbackoff:\n  max: [1s]\n", 3, 8, "backoff.max", "found a list");
        parse_bad("command: a\nbackoff:\n  jitter: 101%\n", 3, 11, "backoff.jitter", "expected a percentage from 0% to 100% such as 50%, found '101%'");
        parse_bad("command: a\nbackoff:\n  jitter: '%'\n", 3, 11, "backoff.jitter", "found '%'");
        parse_bad("command: a\nbackoff:\n  jitter: 10.5%\n", 3, 11, "backoff.jitter", "found '10.5%'");
        parse_bad("command: a\nbackoff:\n  initial: 2s\n  max: 1s\n", 4, 8, "backoff.max", "expected a duration of at least initial (2s), found '1s'");
        parse_bad("command: a\nbackoff:\n  initial: 1m\n", 3, 12, "backoff.initial", "expected a duration of at most max (30s, the default), found '1m'");
        parse_bad("command: a\nbackoff: fast\n", 2, 10, "backoff", "expected a mapping with initial, max, jitter or reset-after, found 'fast'");
}

static void test_breaker(void)
{
        struct manifest *m;

        m = parse_ok("command: a\nbreaker: off\n");
        assert(m->breaker.crashes == 0);
        manifest_free(m);
        m = parse_ok("command: a\nbreaker: {crashes: 1000, window: 1s, cooldown: 1h}\n");
        assert(m->breaker.crashes == 1000);
        assert(m->breaker.window == SEC(1));
        assert(m->breaker.cooldown == SEC(3600));
        manifest_free(m);

        parse_bad("command: a\nbreaker: on\n", 2, 10, "breaker", "expected a mapping with crashes, window or cooldown, or 'off', found 'on'");
        parse_bad("command: a\nbreaker: false\n", 2, 10, "breaker", "found 'false'");
        parse_bad("command: a\nbreaker: {crashes: 0}\n", 2, 20, "breaker.crashes", "expected an integer from 1 to 1000, found '0'");
        parse_bad("command: a\nbreaker: {crashes: 1001}\n", 2, 20, "breaker.crashes", "found '1001'");
        parse_bad("command: a\nbreaker: {crashes: 5x}\n", 2, 20, "breaker.crashes", "found '5x'");
        parse_bad("command: a\nbreaker: {window: 0}\n", 2, 19, "breaker.window", "expected a duration greater than 0, found '0'");
        parse_bad("command: a\nbreaker: {cooldown: 0s}\n", 2, 21, "breaker.cooldown", "expected a duration greater than 0, found '0s'");
}

static void test_health(void)
{
        struct manifest *m;

        m = parse_ok("command: a\nhealth:\n  command: [/bin/check, -q]\n  interval: 1s\n  timeout: 500ms\n"
                     "  failures: 100\n  start-delay: 2m\n");
        assert(m->health.kind == HEALTH_COMMAND);
        assert(strv_equal(m->health.argv, STRV("/bin/check", "-q")));
        assert(m->health.interval == SEC(1));
        assert(m->health.timeout == MS(500));
        assert(m->health.failures == 100);
        assert(m->health.start_delay == SEC(120));
        manifest_free(m);
        m = parse_ok("command: a\nhealth: {command: 'test -e /run/ok'}\n");
        assert(strv_equal(m->health.argv, STRV("/bin/sh", "-c", "test -e /run/ok")));
        assert(m->health.interval == SEC(10));
        manifest_free(m);

        parse_bad("command: a\nhealth:\n  interval: 5s\n", 3, 3, "health.command", "missing required key 'command'");
        parse_bad("command: a\nhealth:\n  command: []\n", 3, 12, "health.command", "found an empty list");
        parse_bad("command: a\nhealth:\n  command: [a, {b: c}]\n", 3, 16, "health.command[1]", "expected a string");
        parse_bad("command: a\nhealth:\n  command: a\n  interval: 0\n", 4, 13, "health.interval", "expected a duration greater than 0");
        parse_bad("command: a\nhealth:\n  command: a\n  timeout: 0ms\n", 4, 12, "health.timeout", "expected a duration greater than 0");
        parse_bad("command: a\nhealth:\n  command: a\n  failures: 101\n", 4, 13, "health.failures", "expected an integer from 1 to 100, found '101'");
        parse_bad("command: a\nhealth:\n  command: a\n  failures: 0\n", 4, 13, "health.failures", "found '0'");
        parse_bad("command: a\nhealth:\n  ping: 5s\n", 3, 3, "health.ping",
                  "IPC ping health checks are not supported yet; use 'command' instead");
        parse_bad("command: a\nhealth: /bin/check\n", 2, 9, "health", "expected a mapping with command, interval, timeout, failures or start-delay");
        parse_bad("command: a\nhealth:\n  comand: x\n", 3, 3, "health", "did you mean 'command'?");
}

static void test_readiness(void)
{
        struct manifest *m;

        m = parse_ok("command: a\nreadiness: notify\n");
        assert(m->readiness.kind == READINESS_NOTIFY);
        assert(m->readiness.fd == 3);
        manifest_free(m);
        m = parse_ok("command: a\nreadiness: none\n");
        assert(m->readiness.kind == READINESS_NONE);
        manifest_free(m);
        m = parse_ok("command: a\nreadiness:\n  type: notify\n  fd: 1023\n  timeout: 0\n");
        assert(m->readiness.kind == READINESS_NOTIFY);
        assert(m->readiness.fd == 1023);
        assert(m->readiness.timeout == 0);
        manifest_free(m);

        parse_bad("command: a\nreadiness: yes\n", 2, 12, "readiness", "expected none, notify, or a mapping with type, fd or timeout, found 'yes'");
        parse_bad("command: a\nreadiness: [notify]\n", 2, 12, "readiness", "found a list");
        parse_bad("command: a\nreadiness: {fd: 4}\n", 2, 12, "readiness.type", "missing required key 'type'");
        parse_bad("command: a\nreadiness: {type: ready}\n", 2, 19, "readiness.type", "expected none or notify, found 'ready'");
        parse_bad("command: a\nreadiness: {type: notify, fd: 2}\n", 2, 31, "readiness.fd", "expected an integer from 3 to 1023, found '2'");
        parse_bad("command: a\nreadiness: {type: notify, fd: 1024}\n", 2, 31, "readiness.fd", "found '1024'");
        parse_bad("command: a\nreadiness: {type: notify, fd: 03}\n", 2, 31, "readiness.fd", "found '03'");
        parse_bad("command: a\nreadiness: {type: notify, fd: +4}\n", 2, 31, "readiness.fd", "found '+4'");
        parse_bad("command: a\nreadiness: {type: notify, fd: 0x4}\n", 2, 31, "readiness.fd", "found '0x4'");
        parse_bad("command: a\nreadiness: {type: notify, timeout: forever}\n", 2, 36, "readiness.timeout", "expected a duration");
}

static void test_stop(void)
{
        static const struct {
                const char *text;
                int signal;
        } good[] = {
                { "TERM", SIGTERM }, { "SIGTERM", SIGTERM }, { "INT", SIGINT },   { "SIGHUP", SIGHUP },
                { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },    { "SIGUSR2", SIGUSR2 }, { "KILL", SIGKILL },
                { "WINCH", SIGWINCH }, { "1", 1 },           { "9", 9 },          { "64", 64 },
        };
        static const char *const bad[] = { "term", "SIGterm", "0", "65", "SIG", "SIGFOO", "SIG9", "-9", "09", "" };
        char yaml[128];
        struct manifest *m;

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                snprintf(yaml, sizeof(yaml), "command: a\nstop:\n  signal: '%s'\n", good[i].text);
                m = parse_ok(yaml);
                assert(m->stop.signal == good[i].signal);
                assert(m->stop.timeout == SEC(10));
                manifest_free(m);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(yaml, sizeof(yaml), "command: a\nstop:\n  signal: '%s'\n", bad[i]);
                parse_bad(yaml, 3, 11, "stop.signal", "expected a signal name such as TERM or SIGINT, or a number from 1 to 64");
        }
        m = parse_ok("command: a\nstop: {timeout: 0}\n");
        assert(m->stop.timeout == 0);
        assert(m->stop.signal == SIGTERM);
        manifest_free(m);
        parse_bad("command: a\nstop: {timeout: 10}\n", 2, 17, "stop.timeout", "found '10'");
        parse_bad("command: a\nstop: TERM\n", 2, 7, "stop", "expected a mapping with signal or timeout, found 'TERM'");
        parse_bad("command: a\nstop: {signal: [TERM]}\n", 2, 16, "stop.signal", "found a list");
}

static void test_limits(void)
{
        struct manifest *m;

        m = parse_ok("command: a\nlimits: {memory: 1G, pids: 1000000, cpu: 10000%, files: 1048576}\n");
        assert(m->limits.memory == 1ull << 30);
        assert(m->limits.pids == 1000000);
        assert(m->limits.cpu_pc == 10000);
        assert(m->limits.files == 1048576);
        manifest_free(m);
        m = parse_ok("command: a\nlimits: {memory: unlimited, pids: unlimited, cpu: unlimited, files: 16}\n");
        assert(m->limits.memory == 0 && m->limits.pids == 0 && m->limits.cpu_pc == 0);
        assert(m->limits.files == 16);
        manifest_free(m);
        m = parse_ok("command: a\nlimits: {memory: 1048576, cpu: 1%}\n");
        assert(m->limits.memory == 1ull << 20);
        assert(m->limits.cpu_pc == 1);
        assert(m->limits.pids == 16);
        manifest_free(m);

        parse_bad("command: a\nlimits:\n  memory: 512\n", 3, 11, "limits.memory", "expected a size of at least 1M such as 64M or 1G, or 'unlimited', found '512'");
        parse_bad("command: a\nlimits:\n  memory: 0\n", 3, 11, "limits.memory", "found '0'");
        parse_bad("command: a\nlimits:\n  memory: 64mb\n", 3, 11, "limits.memory", "found '64mb'");
        parse_bad("command: a\nlimits:\n  memory: 99999999999T\n", 3, 11, "limits.memory", "found '99999999999T'");
        parse_bad("command: a\nlimits:\n  pids: 0\n", 3, 9, "limits.pids", "expected an integer from 1 to 1000000 or 'unlimited', found '0'");
        parse_bad("command: a\nlimits:\n  pids: 1000001\n", 3, 9, "limits.pids", "found '1000001'");
        parse_bad("command: a\nlimits:\n  pids: 99999999999999999999999\n", 3, 9, "limits.pids", "found '99999999999999999999999'");
        parse_bad("command: a\nlimits:\n  cpu: 50\n", 3, 8, "limits.cpu", "expected a percentage from 1% to 10000% such as 50% (with the % sign), or 'unlimited', found '50'");
        parse_bad("command: a\nlimits:\n  cpu: 0%\n", 3, 8, "limits.cpu", "found '0%'");
        parse_bad("command: a\nlimits:\n  cpu: 10001%\n", 3, 8, "limits.cpu", "found '10001%'");
        parse_bad("command: a\nlimits:\n  files: 15\n", 3, 10, "limits.files", "expected an integer from 16 to 1048576, found '15'");
        parse_bad("command: a\nlimits:\n  files: unlimited\n", 3, 10, "limits.files", "found 'unlimited'");
        parse_bad("command: a\nlimits:\n  threads: 4\n", 3, 3, "limits", "unknown key 'threads'; expected one of memory, pids, cpu, files");
        parse_bad("command: a\nlimits: none\n", 2, 9, "limits", "found 'none'");
}

/* Sandboxed unless the manifest says `sandbox: off`. */
static void test_sandbox_section(void)
{
        struct manifest *m;

        m = parse_ok("command: a\n");
        assert(m->sandbox.enabled && !m->sandbox.read_only[0] && !m->sandbox.read_write[0]);
        assert(m->sandbox.on_violation == SANDBOX_EPERM);
        manifest_free(m);
        m = parse_ok("command: a\nsandbox: off\n");
        assert(!m->sandbox.enabled);
        manifest_free(m);
        m = parse_ok("command: a\nsandbox: on\n");
        assert(m->sandbox.enabled);
        manifest_free(m);
        m = parse_ok("command: a\nsandbox: {read-only: [/srv], read-write: [/var/lib/a], on-violation: kill}\n");
        assert(m->sandbox.enabled && m->sandbox.on_violation == SANDBOX_KILL);
        assert(strv_equal(m->sandbox.read_only, STRV("/srv")) && strv_equal(m->sandbox.read_write, STRV("/var/lib/a")));
        manifest_free(m);
        parse_bad("command: a\nsandbox: maybe\n", 2, 10, "sandbox",
                  "expected on, off, or a mapping with read-only, read-write, syscalls or on-violation");
}

/* config: the configuration paths a service reacts to, and how. */
static void test_config_binding(void)
{
        struct manifest *m;

        m = parse_ok("command: a\n");
        assert(!m->config.watch && m->config.on_change == CONFIG_RESTART);
        manifest_free(m);
        m = parse_ok("command: a\nconfig: {watch: [system.hostname, \"net.iface[eth0]\"], on-change: reload}\n");
        assert(strv_equal(m->config.watch, STRV("system.hostname", "net.iface[eth0]")));
        assert(m->config.on_change == CONFIG_RELOAD);
        manifest_free(m);
        m = parse_ok("command: a\nconfig: {watch: net}\n");
        assert(strv_equal(m->config.watch, STRV("net")) && m->config.on_change == CONFIG_RESTART);
        manifest_free(m);
        parse_bad("command: a\nconfig: {watch: [net], on-change: later}\n", 2, 35, "config.on-change",
                  "expected restart or reload, found 'later'");
        parse_bad("command: a\nconfig: {on-change: reload}\n", 2, 9, "config.watch", "missing required key 'watch'");
        parse_bad("command: a\nconfig: [net]\n", 2, 9, "config", "expected a mapping with watch and on-change");
        parse_bad("command: a\nconfig: {watch: [\"a b\"]}\n", 2, 18, "config.watch[0]",
                  "expected a configuration path such as net.iface, or a list of them");
}

static void test_capabilities_enabled(void)
{
        struct manifest *m;

        m = parse_ok("command: a\ncapabilities: [net.configure, iface.manage, call:web-1_x, provide:a.b, "
                     "publish:net.link, subscribe:net, call:db:rg]\nenabled: true\n");
        assert(strv_equal(m->capabilities, STRV("net.configure", "iface.manage", "call:web-1_x", "provide:a.b",
                                                "publish:net.link", "subscribe:net", "call:db:rg")));
        assert(m->enabled);
        manifest_free(m);
        m = parse_ok("command: a\ncapabilities: net.configure\nenabled: 'false'\n");
        assert(strv_equal(m->capabilities, STRV("net.configure")));
        assert(!m->enabled);
        manifest_free(m);

        parse_bad("command: a\ncapabilities: [Net]\n", 2, 16, "capabilities[0]",
                  "expected a capability such as provide:echo, call:storage:r, publish:net, subscribe:net or "
                  "net.configure, or a list of them, found 'Net'");
        parse_bad("command: a\ncapabilities: [call:db:x]\n", 2, 16, "capabilities[0]",
                  "expected rights after a call: type as r, w, rw, rg, wg or rwg (e.g. call:storage:r)");
        parse_bad("command: a\ncapabilities: [call:db:wr]\n", 2, 16, "capabilities[0]", "expected rights after");
        parse_bad("command: a\ncapabilities: [provide:db:r]\n", 2, 16, "capabilities[0]", "expected rights after");
        parse_bad("command: a\ncapabilities: [bogus:x]\n", 2, 16, "capabilities[0]",
                  "expected provide:TYPE, call:TYPE[:RIGHTS], publish:TOPIC, subscribe:TOPIC or a permission name");
        parse_bad("command: a\ncapabilities: [\"call:\"]\n", 2, 16, "capabilities[0]",
                  "expected a service type or topic after the prefix");
        parse_bad("command: a\ncapabilities: [subscribe:net..x]\n", 2, 16, "capabilities[0]",
                  "expected a service type or topic after the prefix");
        parse_bad("command: a\ncapabilities: [a, 1b]\n", 2, 19, "capabilities[1]", "found '1b'");
        parse_bad("command: a\ncapabilities: [a, a]\n", 2, 19, "capabilities", "'a' is listed twice");
        parse_bad("command: a\ncapabilities: {a: b}\n", 2, 15, "capabilities", "found a mapping");
        parse_bad("command: a\nenabled: no\n", 2, 10, "enabled", "expected true or false, found 'no'");
        parse_bad("command: a\nenabled: yes\n", 2, 10, "enabled", "found 'yes'");
        parse_bad("command: a\nenabled: True\n", 2, 10, "enabled", "found 'True'");
        parse_bad("command: a\nenabled: 1\n", 2, 10, "enabled", "found '1'");
        parse_bad("command: a\nenabled:\n", 2, 9, "enabled", "found an empty value");
}

/* Values taken from the input are quoted, escaped and cut in messages. */
static void test_found_quoting(void)
{
        parse_bad("command: a\nrestart: \"x\\ty\\u001b[0m\"\n", 2, 10, "restart", "found 'x\\ty\\x1b[0m'");
        parse_bad("command: a\nrestart: aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee\n", 2, 10, "restart",
                  "found 'aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd'...");
        parse_bad("command: a\nrestart: it's\n", 2, 10, "restart", "found 'it\\'s'");
}

/* ------------------------------------------------------------------------
 * Digest
 */

static void test_digest(void)
{
        static const char base[] = "name: web\ncommand: [/bin/sh, -c, 'echo hi']\nrestart: always\n"
                                   "environment: {A: '1'}\n";
        static const char reformatted[] = "# a comment\n"
                                          "---\n"
                                          "name:    web      # trailing comment\n"
                                          "command:\n"
                                          "  - /bin/sh\n"
                                          "  - \"-c\"\n"
                                          "  - >-\n"
                                          "    echo hi\n"
                                          "\n"
                                          "restart: 'always'\n"
                                          "environment:\n"
                                          "    A: 1\n"
                                          "...\n";
        uint64_t d = digest_of(base);

        assert(d == digest_of(base));
        assert(d == digest_of(reformatted));
        assert(d == digest_of("{name: web, command: [/bin/sh, -c, echo hi], restart: always, environment: {A: '1'}}"));
        assert(d != digest_of("name: web\ncommand: [/bin/sh, -c, 'echo hi']\nrestart: never\nenvironment: {A: '1'}\n"));
        assert(d != digest_of("name: web\ncommand: [/bin/sh, -c, 'echo ho']\nrestart: always\nenvironment: {A: '1'}\n"));
        assert(d != digest_of("name: web\ncommand: [/bin/sh, -c, 'echo hi']\nrestart: always\nenvironment: {A: '2'}\n"));
        assert(d != digest_of("name: web\ncommand: [/bin/sh, -c, 'echo hi']\nrestart: always\nenvironment: {B: '1'}\n"));
        /* Same text, other structure: a list of one is not a string. */
        assert(digest_of("command: [a]\n") != digest_of("command: a\n"));
        /* Lengths are folded in: moving bytes between values changes it. */
        assert(digest_of("command: [ab, c]\n") != digest_of("command: [a, bc]\n"));
        /* Key order is content too. */
        assert(digest_of("command: a\nrestart: never\n") != digest_of("restart: never\ncommand: a\n"));
        /* The name of the file is not. */
        {
                struct manifest *a = NULL, *b = NULL;

                assert(manifest_parse("command: a", 10, "a.yaml", "a", &a, NULL) == 0);
                assert(manifest_parse("command: a", 10, "b.yaml", "b", &b, NULL) == 0);
                assert(a->digest == b->digest);
                manifest_free(a);
                manifest_free(b);
        }
}

/* ------------------------------------------------------------------------
 * Fault injection
 */

#ifdef ORB_FAULT_INJECTION
static void test_fault_injection(void)
{
        size_t len;
        char *text = read_fixture("manifest/full.yaml", &len);
        char path[4096];
        long n;

        for (n = 0;; n++) {
                struct orb_diag d = ORB_DIAG_INIT;
                struct manifest *m = NULL;
                int r;

                fail_countdown = n;
                r = manifest_parse(text, len, "full.yaml", "full", &m, &d);
                fail_countdown = -1;
                if (r == 0) {
                        check_full(m);
                        manifest_free(m);
                        break;
                }
                assert(r == -ENOMEM);
                assert(!m);
        }
        assert(n > 20);
        free(text);

        /* The set loader, over a directory of five files. */
        snprintf(path, sizeof(path), "%s/set/good", testdata);
        for (n = 0;; n++) {
                struct manifest_set set = MANIFEST_SET_INIT;
                int r;

                fail_countdown = n;
                r = manifest_set_load_dir(path, &set, NULL);
                fail_countdown = -1;
                if (r == 0) {
                        assert(set.n_items == 5);
                        manifest_set_deinit(&set);
                        break;
                }
                assert(r == -ENOMEM && !set.items);
        }

        snprintf(path, sizeof(path), "%s/manifest/full.yaml", testdata);
        for (n = 0;; n++) {
                struct manifest *m = NULL;
                int r;

                fail_countdown = n;
                r = manifest_load_file(path, &m, NULL);
                fail_countdown = -1;
                if (r == 0) {
                        manifest_free(m);
                        break;
                }
                assert(r == -ENOMEM && !m);
        }
}
#endif

int main(int argc, char **argv)
{
        if (argc > 1)
                testdata = argv[1];

        test_diag();
        test_defaults();
        test_load_file();
        test_load_file_tmp();
        test_structure();
        test_collection_limits();
        test_name();
        test_description();
        test_command();
        test_environment();
        test_working_directory_user_group();
        test_requires_after();
        test_restart();
        test_backoff();
        test_breaker();
        test_health();
        test_readiness();
        test_stop();
        test_limits();
        test_capabilities_enabled();
        test_sandbox_section();
        test_config_binding();
        test_found_quoting();
        test_digest();
        {
                size_t len;
                char *text = read_fixture("manifest/full.yaml", &len);
                struct manifest *m = NULL;

                assert(manifest_parse(text, len, "full.yaml", NULL, &m, NULL) == 0);
                check_full(m);
                manifest_free(m);
                free(text);
        }
#ifdef ORB_FAULT_INJECTION
        test_fault_injection();
#endif
        return 0;
}
