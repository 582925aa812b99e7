/* Unit test of the message codec: every type round-trips through a real
 * SOCK_SEQPACKET socket, every framing error is refused with its own
 * message, memfds are checked for seals and size, a 64 MiB payload
 * travels by memfd, put errors are sticky, and no descriptor leaks. */
#undef NDEBUG
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "orbital/message.h"

static unsigned n_checks, n_failed;

#define CHECK(cond)                                                                                      \
        do {                                                                                             \
                n_checks++;                                                                              \
                if (!(cond)) {                                                                           \
                        n_failed++;                                                                      \
                        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
                }                                                                                        \
        } while (0)

/* A precondition: later checks would crash without it. */
#define REQUIRE(cond)                                                                                    \
        do {                                                                                             \
                if (!(cond)) {                                                                           \
                        fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);       \
                        abort();                                                                         \
                }                                                                                        \
        } while (0)

#define SEALS_ALL (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static unsigned count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        unsigned n = 0;

        REQUIRE(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static void socket_pair(int sv[2])
{
        REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
}

/* Sends @m on a fresh socketpair and receives it into @in. */
static int transfer(struct orb_msg *m, struct orb_msg *in)
{
        int sv[2], r;

        socket_pair(sv);
        r = orb_msg_send(sv[0], m, 0);
        if (r == 0)
                r = orb_msg_recv(sv[1], in, MSG_DONTWAIT);
        close(sv[0]);
        close(sv[1]);
        return r;
}

/* ------------------------------------------------------------------------
 * Raw records, for what the builders never produce
 */

struct raw {
        uint8_t b[ORB_MSG_MAX + 64];
        size_t len;
};

static void raw_header(struct raw *w, uint16_t magic, uint8_t version)
{
        struct orb_hdr h = {.magic = magic, .version = version, .type = ORB_MSG_CALL, .method = 3, .id = 9};

        memcpy(w->b, &h, sizeof(h));
        w->len = sizeof(h);
}

static void raw_field(struct raw *w, uint16_t tag, uint8_t type, uint8_t zero, uint32_t len, const void *v,
                      size_t vlen)
{
        memcpy(w->b + w->len, &tag, 2);
        w->b[w->len + 2] = type;
        w->b[w->len + 3] = zero;
        memcpy(w->b + w->len + 4, &len, 4);
        w->len += 8;
        if (vlen)
                memcpy(w->b + w->len, v, vlen);
        w->len += vlen;
}

static void raw_memfd_field(struct raw *w, uint16_t tag, uint32_t index, uint64_t size)
{
        uint8_t v[12];

        memcpy(v, &index, 4);
        memcpy(v + 4, &size, 8);
        raw_field(w, tag, ORB_TYPE_MEMFD, 0, 12, v, 12);
}

/* Loads @w into @m as if received (with @fd, if not -1) and parses it. */
static int raw_parse(struct orb_msg *m, const struct raw *w, int fd, char *err, size_t err_size)
{
        /* reset writes a header: give it room after a short record. */
        if (m->cap < sizeof(struct orb_hdr)) {
                free(m->buf);
                m->buf = malloc(sizeof(struct orb_hdr));
                REQUIRE(m->buf);
                m->cap = sizeof(struct orb_hdr);
        }
        orb_msg_reset(m, 0);
        free(m->buf);
        m->buf = malloc(w->len ? w->len : 1);
        REQUIRE(m->buf);
        memcpy(m->buf, w->b, w->len);
        m->len = m->cap = w->len;
        if (fd >= 0)
                m->fds[m->n_fds++] = fd;
        return orb_msg_parse_untrusted(m, err, err_size);
}

static int make_memfd(size_t size, unsigned flags, int seals)
{
        int fd = memfd_create("test", MFD_CLOEXEC | flags);

        REQUIRE(fd >= 0);
        REQUIRE(ftruncate(fd, (off_t)size) == 0);
        if (seals)
                REQUIRE(fcntl(fd, F_ADD_SEALS, seals) == 0);
        return fd;
}

/* ------------------------------------------------------------------------
 * Round trips
 */

static void put_all(struct orb_msg *m, const uint8_t *big, size_t big_len)
{
        static const uint8_t small[5] = {0, 1, 0xff, 0x80, 7};

        orb_msg_put_bool(m, 1, true);
        orb_msg_put_bool(m, 2, false);
        orb_msg_put_i64(m, 3, INT64_MIN);
        orb_msg_put_i64(m, 3, -1);
        orb_msg_put_i64(m, 3, INT64_MAX);
        orb_msg_put_u64(m, 4, UINT64_MAX);
        orb_msg_put_u64(m, 5, 0);
        orb_msg_put_str(m, 6, "");
        orb_msg_put_str(m, 7, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
        orb_msg_put_bytes(m, 8, NULL, 0);
        orb_msg_put_bytes(m, 9, small, sizeof(small));
        orb_msg_put_bytes(m, 10, big, ORB_INLINE_MAX / 2); /* inline */
        orb_msg_put_bytes(m, 11, big, big_len);             /* memfd */
}

static void check_all(const struct orb_msg *m, const uint8_t *big, size_t big_len)
{
        const struct orb_value *v;
        const void *p;
        const char *s;
        uint64_t u;
        int64_t i;
        size_t n;
        bool b;

        CHECK(m->n_values == 13);
        CHECK(orb_msg_get_bool(m, 1, &b) == 0 && b);
        CHECK(orb_msg_get_bool(m, 2, &b) == 0 && !b);
        CHECK(orb_msg_count(m, 3) == 3);
        CHECK(orb_msg_get_i64(m, 3, &i) == 0 && i == INT64_MIN);
        v = orb_msg_field(m, 3, 1);
        CHECK(v && v->type == ORB_TYPE_I64 && v->len == 8 && memcmp(v->data, &(int64_t){-1}, 8) == 0);
        v = orb_msg_field(m, 3, 2);
        CHECK(v && memcmp(v->data, &(int64_t){INT64_MAX}, 8) == 0);
        CHECK(orb_msg_field(m, 3, 3) == NULL);
        CHECK(orb_msg_get_u64(m, 4, &u) == 0 && u == UINT64_MAX);
        CHECK(orb_msg_u64(m, 5, 42) == 0);
        CHECK(orb_msg_get_str(m, 6, &s) == 0 && !strcmp(s, ""));
        CHECK(orb_msg_get_str(m, 7, &s) == 0 && !strcmp(s, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
        v = orb_msg_field(m, 7, 0);
        CHECK(v && v->len == strlen(s));
        CHECK(orb_msg_get_bytes(m, 8, &p, &n) == 0 && n == 0 && p);
        CHECK(orb_msg_get_bytes(m, 9, &p, &n) == 0 && n == 5 && !memcmp(p, "\0\1\xff\x80\7", 5));
        CHECK(orb_msg_get_bytes(m, 10, &p, &n) == 0 && n == ORB_INLINE_MAX / 2 && !memcmp(p, big, n));
        v = orb_msg_field(m, 11, 0);
        CHECK(v && v->type == ORB_TYPE_MEMFD && v->len == big_len);
        CHECK(orb_msg_get_bytes(m, 11, &p, &n) == 0 && n == big_len && !memcmp(p, big, n));
}

static void test_roundtrip(void)
{
        struct orb_msg *m = orb_msg_new(ORB_MSG_CALL), *in = orb_msg_new(0);
        size_t big_len = ORB_INLINE_MAX + 1;
        uint8_t *big = malloc(big_len);
        char err[256];
        int sv[2];

        REQUIRE(m && in && big);
        for (size_t i = 0; i < big_len; i++)
                big[i] = (uint8_t)(i * 7 + 3);
        orb_msg_hdr(m)->method = 77;
        orb_msg_hdr(m)->id = 123456;
        orb_msg_hdr(m)->flags = ORB_F_PRIORITY;
        put_all(m, big, big_len);
        CHECK(m->error == 0);
        CHECK(m->n_fds == 1);
        /* The builder indexes as it goes: a built message reads like a parsed one. */
        check_all(m, big, big_len);

        socket_pair(sv);
        CHECK(orb_msg_send(sv[0], m, 0) == 0);
        CHECK(orb_msg_recv(sv[1], in, 0) == 0);
        CHECK(in->len == m->len && in->n_fds == 1 && in->n_values == 0);
        CHECK(in->n_fds == 1 && (fcntl(in->fds[0], F_GETFD) & FD_CLOEXEC));
        CHECK(orb_msg_parse_untrusted(in, err, sizeof(err)) == 0);
        CHECK(orb_msg_hdr(in)->type == ORB_MSG_CALL && orb_msg_hdr(in)->method == 77);
        CHECK(orb_msg_hdr(in)->id == 123456 && orb_msg_hdr(in)->flags == ORB_F_PRIORITY);
        CHECK(orb_msg_hdr(in)->magic == ORB_WIRE_MAGIC && orb_msg_hdr(in)->version == ORB_WIRE_VERSION);
        check_all(in, big, big_len);
        /* Parsing twice gives the same index (and maps nothing twice). */
        CHECK(orb_msg_parse_untrusted(in, err, sizeof(err)) == 0);
        check_all(in, big, big_len);

        /* The peer closed: -EPIPE, and nothing is left in the message. */
        close(sv[0]);
        CHECK(orb_msg_recv(sv[1], in, 0) == -EPIPE);
        CHECK(in->n_fds == 0 && in->n_values == 0 && in->len == sizeof(struct orb_hdr));
        close(sv[1]);
        orb_msg_free(m);
        orb_msg_free(in);
        free(big);
}

/* Inline at ORB_INLINE_MAX exactly, memfd one byte above. */
static void test_inline_limit(void)
{
        struct orb_msg *m = orb_msg_new(1), *in = orb_msg_new(0);
        uint8_t *b = calloc(1, ORB_INLINE_MAX + 1);
        const void *p;
        size_t n;

        REQUIRE(m && in && b);
        orb_msg_put_bytes(m, 1, b, ORB_INLINE_MAX);
        CHECK(m->n_fds == 0 && orb_msg_field(m, 1, 0)->type == ORB_TYPE_BYTES);
        orb_msg_reset(m, 1);
        orb_msg_put_bytes(m, 1, b, ORB_INLINE_MAX + 1);
        CHECK(m->n_fds == 1 && orb_msg_field(m, 1, 0)->type == ORB_TYPE_MEMFD);
        CHECK(m->n_fds == 1 && fcntl(m->fds[0], F_GET_SEALS) == (SEALS_ALL | F_SEAL_SEAL));
        CHECK(transfer(m, in) == 0);
        CHECK(orb_msg_parse_untrusted(in, NULL, 0) == 0);
        CHECK(orb_msg_get_bytes(in, 1, &p, &n) == 0 && n == ORB_INLINE_MAX + 1 && !memcmp(p, b, n));
        free(b);
        orb_msg_free(m);
        orb_msg_free(in);
}

/* The buffer grows under the index: values must move with it. */
static void test_growth(void)
{
        struct orb_msg *m = orb_msg_new(1);
        uint8_t chunk[1000];
        const char *s;
        uint8_t *old;

        REQUIRE(m);
        memset(chunk, 0xab, sizeof(chunk));
        orb_msg_put_str(m, 1, "first");
        old = m->buf;
        for (unsigned i = 0; i < 40; i++)
                orb_msg_put_bytes(m, 2, chunk, sizeof(chunk));
        CHECK(m->error == 0 && m->buf != old && m->cap >= m->len);
        CHECK(orb_msg_get_str(m, 1, &s) == 0 && !strcmp(s, "first"));
        CHECK((const uint8_t *)s > m->buf && (const uint8_t *)s < m->buf + m->len);
        for (unsigned i = 0; i < 40; i++) {
                const struct orb_value *v = orb_msg_field(m, 2, i);

                CHECK(v && (const uint8_t *)v->data > m->buf && !memcmp(v->data, chunk, sizeof(chunk)));
        }
        orb_msg_free(m);
}

static void test_getters(void)
{
        struct orb_msg *m = orb_msg_new(1);
        const void *p;
        const char *s;
        uint64_t u;
        int64_t i;
        size_t n;
        bool b;

        REQUIRE(m);
        orb_msg_put_str(m, 1, "x");
        orb_msg_put_u64(m, 2, 5);
        CHECK(orb_msg_get_u64(m, 9, &u) == -ENOENT);
        CHECK(orb_msg_get_u64(m, 1, &u) == -ORB_E_PROTO);
        CHECK(orb_msg_get_i64(m, 2, &i) == -ORB_E_PROTO);
        CHECK(orb_msg_get_bool(m, 2, &b) == -ORB_E_PROTO);
        CHECK(orb_msg_get_str(m, 2, &s) == -ORB_E_PROTO);
        CHECK(orb_msg_get_bytes(m, 1, &p, &n) == -ORB_E_PROTO);
        CHECK(orb_msg_u64(m, 1, 42) == 42 && orb_msg_u64(m, 3, 43) == 43 && orb_msg_u64(m, 2, 0) == 5);
        CHECK(!strcmp(orb_msg_str(m, 2, "dflt"), "dflt") && !strcmp(orb_msg_str(m, 1, NULL), "x"));
        CHECK(orb_msg_str(m, 3, NULL) == NULL);
        CHECK(orb_msg_count(m, 1) == 1 && orb_msg_count(m, 3) == 0);
        orb_msg_free(m);
}

/* ------------------------------------------------------------------------
 * Parse errors
 */

struct bad {
        const char *name;
        void (*build)(struct raw *w);
        const char *error;
};

static void b_short(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        w->len = 10;
}
static void b_magic(struct raw *w)
{
        raw_header(w, 0x1234, ORB_WIRE_VERSION);
}
static void b_version(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, 2);
}
static void b_field_header(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 1, ORB_TYPE_BOOL, 0, 1, "\1", 1);
        memcpy(w->b + w->len, "\7\0\3\0\0", 5);
        w->len += 5;
}
static void b_length(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_BYTES, 0, 5, "abcd", 4);
}
static void b_overlong(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_STR, 0, UINT32_MAX, "abc", 4);
}
static void b_zero(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_BOOL, 1, 1, "\1", 1);
}
static void b_tag0(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 0, ORB_TYPE_BOOL, 0, 1, "\1", 1);
}
static void b_type(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, 9, 0, 0, NULL, 0);
}
static void b_type0(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, 0, 0, 0, NULL, 0);
}
static void b_bool_len(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_BOOL, 0, 2, "\1\0", 2);
}
static void b_bool_value(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 1, ORB_TYPE_U64, 0, 8, "\1\0\0\0\0\0\0\0", 8);
        raw_field(w, 7, ORB_TYPE_BOOL, 0, 1, "\2", 1);
}
static void b_i64_len(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_I64, 0, 4, "\1\0\0\0", 4);
}
static void b_u64_len(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_U64, 0, 9, "123456789", 9);
}
static void b_str_empty(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_STR, 0, 0, NULL, 0);
}
static void b_str_unterminated(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_STR, 0, 3, "abc", 3);
}
static void b_str_nul(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_STR, 0, 4, "a\0b", 4);
}
static void b_str_two_nuls(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_STR, 0, 3, "a\0", 3);
}
static void b_str_utf8(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_STR, 0, 4, "a\xc3(", 4);
}
static void b_str_overlong(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_STR, 0, 3, "\xc0\xaf", 3);
}
static void b_str_surrogate(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_STR, 0, 4, "\xed\xa0\x80", 4);
}
static void b_str_truncated(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_STR, 0, 3, "\xe2\x82", 3);
}
static void b_memfd_len(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 7, ORB_TYPE_MEMFD, 0, 8, "\0\0\0\0\0\0\0\0", 8);
}
static void b_memfd_index(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_memfd_field(w, 7, 0, 10);
}
static void b_too_many(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        for (unsigned i = 0; i <= ORB_MSG_FIELDS_MAX; i++)
                raw_field(w, 1, ORB_TYPE_BOOL, 0, 1, "\1", 1);
}
static void b_too_long(struct raw *w)
{
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_field(w, 1, ORB_TYPE_BYTES, 0, ORB_MSG_MAX - 16 - 8 + 1, NULL, 0);
        memset(w->b + w->len, 'x', ORB_MSG_MAX - 16 - 8 + 1);
        w->len += ORB_MSG_MAX - 16 - 8 + 1;
}

static const struct bad bad_records[] = {
        {"truncated header", b_short, "record of 10 bytes is shorter than the 16-byte header"},
        {"bad magic", b_magic, "bad magic 0x1234, expected 0x4f52"},
        {"bad version", b_version, "wire version 2, expected 1"},
        {"truncated field header", b_field_header, "field 2: truncated field header (5 bytes left)"},
        {"bad length", b_length, "field 1 (tag 7): length 5 runs past the end of the record (4 bytes left)"},
        {"overlong length", b_overlong, "field 1 (tag 7): length 4294967295 runs past the end"},
        {"zero byte", b_zero, "field 1 (tag 7): reserved byte is 0x01, expected 0"},
        {"tag 0", b_tag0, "field 1: tag 0 is reserved"},
        {"unknown type", b_type, "field 1 (tag 7): unknown type 9"},
        {"type 0", b_type0, "field 1 (tag 7): unknown type 0"},
        {"bool length", b_bool_len, "field 1 (tag 7): bool of 2 bytes, expected 1"},
        {"bool value", b_bool_value, "field 2 (tag 7): bool value 2, expected 0 or 1"},
        {"i64 length", b_i64_len, "field 1 (tag 7): i64 of 4 bytes, expected 8"},
        {"u64 length", b_u64_len, "field 1 (tag 7): u64 of 9 bytes, expected 8"},
        {"empty string", b_str_empty, "field 1 (tag 7): string is not NUL-terminated"},
        {"unterminated string", b_str_unterminated, "field 1 (tag 7): string is not NUL-terminated"},
        {"interior NUL", b_str_nul, "field 1 (tag 7): string has a NUL inside, at byte 1"},
        {"two NULs", b_str_two_nuls, "field 1 (tag 7): string has a NUL inside, at byte 1"},
        {"bad UTF-8", b_str_utf8, "field 1 (tag 7): string is not valid UTF-8"},
        {"overlong UTF-8", b_str_overlong, "field 1 (tag 7): string is not valid UTF-8"},
        {"surrogate", b_str_surrogate, "field 1 (tag 7): string is not valid UTF-8"},
        {"truncated UTF-8", b_str_truncated, "field 1 (tag 7): string is not valid UTF-8"},
        {"memfd length", b_memfd_len, "field 1 (tag 7): memfd of 8 bytes, expected 12"},
        {"bad fd index", b_memfd_index, "field 1 (tag 7): descriptor index 0, but the record carries 0"},
        {"too many fields", b_too_many, "field 257: more than 256 fields"},
        {"too long", b_too_long, "record of 65537 bytes is longer than the 65536 allowed"},
};

static void test_parse_errors(void)
{
        struct orb_msg *m = orb_msg_new(0);
        struct raw *w = malloc(sizeof(*w));
        char err[256];

        REQUIRE(m && w);
        for (size_t i = 0; i < sizeof(bad_records) / sizeof(bad_records[0]); i++) {
                const struct bad *b = &bad_records[i];
                int r;

                b->build(w);
                r = raw_parse(m, w, -1, err, sizeof(err));
                CHECK(r == -ORB_E_PROTO);
                if (!strstr(err, b->error) || r != -ORB_E_PROTO)
                        fprintf(stderr, "  %s: got %d '%s', expected '%s'\n", b->name, r, err, b->error);
                CHECK(strstr(err, b->error) != NULL);
                /* A refused record shows nothing to getters. */
                CHECK(m->n_values == 0 && orb_msg_field(m, 1, 0) == NULL && orb_msg_field(m, 7, 0) == NULL);
        }

        /* The edges that are fine: exactly 256 fields, the largest record,
         * an empty payload, an empty string, empty bytes. */
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        for (unsigned i = 0; i < ORB_MSG_FIELDS_MAX; i++)
                raw_field(w, 1, ORB_TYPE_BOOL, 0, 1, "\1", 1);
        CHECK(raw_parse(m, w, -1, err, sizeof(err)) == 0 && m->n_values == ORB_MSG_FIELDS_MAX);
        b_too_long(w);
        w->len--;
        memcpy(w->b + 20, &(uint32_t){ORB_MSG_MAX - 24}, 4);
        CHECK(raw_parse(m, w, -1, err, sizeof(err)) == 0 && m->n_values == 1);
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        CHECK(raw_parse(m, w, -1, err, sizeof(err)) == 0 && m->n_values == 0 && err[0] == '\0');
        raw_field(w, 1, ORB_TYPE_STR, 0, 1, "", 1);
        raw_field(w, 2, ORB_TYPE_BYTES, 0, 0, NULL, 0);
        CHECK(raw_parse(m, w, -1, err, sizeof(err)) == 0 && m->n_values == 2);
        CHECK(!strcmp(orb_msg_str(m, 1, "x"), "") && orb_msg_field(m, 2, 0)->len == 0);
        /* NULL err is fine. */
        b_magic(w);
        CHECK(raw_parse(m, w, -1, NULL, 0) == -ORB_E_PROTO);
        free(w);
        orb_msg_free(m);
}

/* Descriptors: the memfd behind a MEMFD field must be what it claims. */
static void test_memfd_checks(void)
{
        struct orb_msg *m = orb_msg_new(0);
        struct raw *w = malloc(sizeof(*w));
        const void *p;
        char err[256];
        size_t n;
        int pipefd[2];

        REQUIRE(m && w);
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_memfd_field(w, 7, 0, 100);

        CHECK(raw_parse(m, w, make_memfd(100, MFD_ALLOW_SEALING, 0), err, sizeof(err)) == -ORB_E_PROTO);
        CHECK(strstr(err, "field 1 (tag 7): memfd is not sealed against write, grow and shrink") != NULL);
        CHECK(raw_parse(m, w, make_memfd(100, MFD_ALLOW_SEALING, F_SEAL_GROW | F_SEAL_SHRINK), err,
                        sizeof(err)) == -ORB_E_PROTO);
        CHECK(strstr(err, "memfd is not sealed against write") != NULL);
        CHECK(raw_parse(m, w, make_memfd(100, 0, 0), err, sizeof(err)) == -ORB_E_PROTO);
        CHECK(strstr(err, "not sealed") != NULL);
        CHECK(raw_parse(m, w, make_memfd(50, MFD_ALLOW_SEALING, SEALS_ALL), err, sizeof(err)) == -ORB_E_PROTO);
        CHECK(!strcmp(err, "field 1 (tag 7): memfd holds 50 bytes, the field claims 100"));
        REQUIRE(pipe2(pipefd, O_CLOEXEC) == 0);
        close(pipefd[1]);
        CHECK(raw_parse(m, w, pipefd[0], err, sizeof(err)) == -ORB_E_PROTO);
        CHECK(!strcmp(err, "field 1 (tag 7): descriptor 0 is not a memfd"));
        CHECK(m->n_values == 0);

        /* Too big is refused before the descriptor is even looked at. */
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_memfd_field(w, 7, 0, ORB_MEMFD_MAX + 1);
        CHECK(raw_parse(m, w, make_memfd(0, MFD_ALLOW_SEALING, SEALS_ALL), err, sizeof(err)) == -ORB_E_PROTO);
        CHECK(strstr(err, "memfd of 1073741825 bytes, more than the 1073741824 allowed") != NULL);

        /* Right: sealed, of the claimed size; twice the same descriptor
         * is one mapping.  Size 0 is fine and reads as empty. */
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_memfd_field(w, 7, 0, 100);
        raw_memfd_field(w, 8, 0, 100);
        CHECK(raw_parse(m, w, make_memfd(100, MFD_ALLOW_SEALING, SEALS_ALL), err, sizeof(err)) == 0);
        CHECK(orb_msg_get_bytes(m, 7, &p, &n) == 0 && n == 100 && ((const uint8_t *)p)[99] == 0);
        CHECK(orb_msg_field(m, 8, 0) && orb_msg_field(m, 8, 0)->data == p);
        raw_header(w, ORB_WIRE_MAGIC, ORB_WIRE_VERSION);
        raw_memfd_field(w, 7, 0, 0);
        CHECK(raw_parse(m, w, make_memfd(0, MFD_ALLOW_SEALING, SEALS_ALL), err, sizeof(err)) == 0);
        CHECK(orb_msg_get_bytes(m, 7, &p, &n) == 0 && n == 0 && p != NULL);
        free(w);
        orb_msg_free(m);
}

/* 64 MiB: the record stays small, the bytes go by sealed memfd. */
static void test_big_payload(void)
{
        size_t size = 64u << 20;
        struct orb_msg *m = orb_msg_new(ORB_MSG_REPLY), *in = orb_msg_new(0);
        uint8_t *data = malloc(size);
        const void *p;
        char err[256];
        size_t n;
        int sv[2];

        REQUIRE(m && in && data);
        for (size_t i = 0; i < size; i += 8) {
                uint64_t v = i * 0x9e3779b97f4a7c15ull;

                memcpy(data + i, &v, 8);
        }
        orb_msg_put_str(m, 1, "payload");
        orb_msg_put_bytes(m, ORB_T_DATA, data, size);
        CHECK(m->error == 0 && m->n_fds == 1 && m->len < 100);
        socket_pair(sv);
        CHECK(orb_msg_send(sv[0], m, 0) == 0);
        orb_msg_free(m); /* the receiver's copy of the memfd keeps the bytes */
        CHECK(orb_msg_recv(sv[1], in, 0) == 0);
        CHECK(orb_msg_parse_untrusted(in, err, sizeof(err)) == 0);
        CHECK(orb_msg_get_bytes(in, ORB_T_DATA, &p, &n) == 0 && n == size && !memcmp(p, data, size));
        CHECK(!strcmp(orb_msg_str(in, 1, ""), "payload"));
        close(sv[0]);
        close(sv[1]);
        orb_msg_free(in);
        free(data);
}

/* ------------------------------------------------------------------------
 * Builders: sticky errors and descriptors
 */

static void test_sticky(void)
{
        struct orb_msg *m = orb_msg_new(1);
        uint8_t *b = calloc(1, ORB_INLINE_MAX);
        size_t len;
        int sv[2];

        REQUIRE(m && b);
        socket_pair(sv);
        orb_msg_put_u64(m, 1, 1);
        orb_msg_put_str(m, 2, "bad \xff utf-8");
        CHECK(m->error == -EINVAL);
        len = m->len;
        orb_msg_put_u64(m, 3, 3);
        orb_msg_put_str(m, 4, "fine");
        CHECK(m->len == len && m->n_values == 1 && m->error == -EINVAL);
        CHECK(orb_msg_send(sv[0], m, MSG_DONTWAIT) == -EINVAL);
        CHECK(recv(sv[1], b, 16, MSG_DONTWAIT) < 0 && errno == EAGAIN); /* nothing went out */

        orb_msg_reset(m, 1);
        CHECK(m->error == 0 && m->n_values == 0 && m->len == sizeof(struct orb_hdr));
        orb_msg_put_str(m, 1, NULL);
        CHECK(m->error == -EINVAL);
        orb_msg_reset(m, 1);
        orb_msg_put_bool(m, 0, true);
        CHECK(m->error == -EINVAL);

        /* Too big: two inline maxima do not fit one record. */
        orb_msg_reset(m, 1);
        orb_msg_put_bytes(m, 1, b, ORB_INLINE_MAX);
        CHECK(m->error == 0);
        len = m->len;
        orb_msg_put_bytes(m, 2, b, ORB_INLINE_MAX);
        CHECK(m->error == -EMSGSIZE && m->len == len && m->n_values == 1);
        CHECK(orb_msg_send(sv[0], m, 0) == -EMSGSIZE);

        /* Too many fields. */
        orb_msg_reset(m, 1);
        for (unsigned i = 0; i < ORB_MSG_FIELDS_MAX; i++)
                orb_msg_put_bool(m, 1, true);
        CHECK(m->error == 0);
        orb_msg_put_bool(m, 1, true);
        CHECK(m->error == -EMSGSIZE && m->n_values == ORB_MSG_FIELDS_MAX);

        /* Too many descriptors: the ninth is refused, and closed. */
        orb_msg_reset(m, 1);
        for (unsigned i = 0; i < ORB_MSG_FDS_MAX; i++)
                orb_msg_put_memfd(m, 1, make_memfd(1, MFD_ALLOW_SEALING, 0));
        CHECK(m->error == 0 && m->n_fds == ORB_MSG_FDS_MAX);
        {
                unsigned before = count_fds();

                orb_msg_put_memfd(m, 1, make_memfd(1, MFD_ALLOW_SEALING, 0));
                CHECK(m->error == -EMSGSIZE && m->n_fds == ORB_MSG_FDS_MAX);
                CHECK(count_fds() == before);
        }
        close(sv[0]);
        close(sv[1]);
        free(b);
        orb_msg_free(m);
}

static void test_put_memfd(void)
{
        struct orb_msg *m = orb_msg_new(1), *in = orb_msg_new(0);
        const void *p;
        size_t n;
        int fd, pipefd[2];

        REQUIRE(m && in);
        /* Unsealed: sealed here. */
        fd = memfd_create("x", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        REQUIRE(fd >= 0 && write(fd, "hello", 5) == 5);
        orb_msg_put_memfd(m, 1, fd);
        CHECK(m->error == 0 && m->n_fds == 1 && (fcntl(fd, F_GET_SEALS) & SEALS_ALL) == SEALS_ALL);
        CHECK(write(fd, "x", 1) < 0 && errno == EPERM);
        CHECK(orb_msg_get_bytes(m, 1, &p, &n) == 0 && n == 5 && !memcmp(p, "hello", 5));
        /* Sealed already (and against further seals): taken as it is. */
        orb_msg_put_memfd(m, 2, make_memfd(3, MFD_ALLOW_SEALING, SEALS_ALL | F_SEAL_SEAL));
        CHECK(m->error == 0 && m->n_fds == 2);
        CHECK(transfer(m, in) == 0 && orb_msg_parse_untrusted(in, NULL, 0) == 0);
        CHECK(orb_msg_get_bytes(in, 1, &p, &n) == 0 && n == 5 && !memcmp(p, "hello", 5));
        CHECK(orb_msg_get_bytes(in, 2, &p, &n) == 0 && n == 3 && !memcmp(p, "\0\0\0", 3));

        /* Cannot be sealed (no MFD_ALLOW_SEALING): -EPERM. */
        orb_msg_reset(m, 1);
        orb_msg_put_memfd(m, 1, make_memfd(3, 0, 0));
        CHECK(m->error == -EPERM && m->n_fds == 0);
        /* Not a memfd at all: refused and closed. */
        orb_msg_reset(m, 1);
        REQUIRE(pipe2(pipefd, O_CLOEXEC) == 0);
        orb_msg_put_memfd(m, 1, pipefd[0]);
        CHECK(m->error == -EINVAL && m->n_fds == 0);
        CHECK(fcntl(pipefd[0], F_GETFD) < 0 && errno == EBADF);
        close(pipefd[1]);
        orb_msg_reset(m, 1);
        orb_msg_put_memfd(m, 1, -1);
        CHECK(m->error == -EBADF);
        /* After an error the descriptor is still taken (closed). */
        fd = make_memfd(1, MFD_ALLOW_SEALING, 0);
        orb_msg_put_memfd(m, 1, fd);
        CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
        orb_msg_free(m);
        orb_msg_free(in);
}

/* ------------------------------------------------------------------------
 * Transport errors
 */

static int send_fds(int sock, const void *buf, size_t len, const int *fds, unsigned n)
{
        char control[CMSG_SPACE(sizeof(int) * 16)];
        struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        struct cmsghdr *c;

        memset(control, 0, sizeof(control));
        mh.msg_control = control;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        return sendmsg(sock, &mh, 0) == (ssize_t)len ? 0 : -errno;
}

static void test_recv_errors(void)
{
        struct orb_msg *m = orb_msg_new(0), *in = orb_msg_new(0);
        struct orb_hdr h = {.magic = ORB_WIRE_MAGIC, .version = ORB_WIRE_VERSION};
        uint8_t *big = calloc(1, ORB_MSG_MAX + 1);
        unsigned before = count_fds();
        int sv[2], fds[ORB_MSG_FDS_MAX + 1];
        uint8_t *buf;

        REQUIRE(m && in && big);
        socket_pair(sv);
        CHECK(orb_msg_recv(sv[1], in, MSG_DONTWAIT) == -EAGAIN);

        /* Longer than ORB_MSG_MAX: truncated, refused. */
        memcpy(big, &h, sizeof(h));
        REQUIRE(send(sv[0], big, ORB_MSG_MAX + 1, 0) == ORB_MSG_MAX + 1);
        CHECK(orb_msg_recv(sv[1], in, 0) == -ORB_E_PROTO);
        CHECK(in->len == sizeof(struct orb_hdr) && in->n_fds == 0);
        /* Exactly ORB_MSG_MAX is fine. */
        REQUIRE(send(sv[0], big, ORB_MSG_MAX, 0) == ORB_MSG_MAX);
        CHECK(orb_msg_recv(sv[1], in, 0) == 0 && in->len == ORB_MSG_MAX);
        /* Shorter than the header. */
        REQUIRE(send(sv[0], big, 5, 0) == 5);
        CHECK(orb_msg_recv(sv[1], in, 0) == -ORB_E_PROTO);
        /* Nine descriptors: refused, and every one of them closed. */
        for (unsigned i = 0; i < ORB_MSG_FDS_MAX + 1; i++)
                fds[i] = make_memfd(0, 0, 0);
        CHECK(send_fds(sv[0], &h, sizeof(h), fds, ORB_MSG_FDS_MAX + 1) == 0);
        for (unsigned i = 0; i < ORB_MSG_FDS_MAX + 1; i++)
                close(fds[i]);
        CHECK(orb_msg_recv(sv[1], in, 0) == -ORB_E_PROTO && in->n_fds == 0);
        CHECK(count_fds() == before + 2);
        /* Eight are fine, and a short record with descriptors loses them. */
        for (unsigned i = 0; i < ORB_MSG_FDS_MAX; i++)
                fds[i] = make_memfd(0, 0, 0);
        CHECK(send_fds(sv[0], &h, sizeof(h), fds, ORB_MSG_FDS_MAX) == 0);
        CHECK(send_fds(sv[0], &h, 3, fds, 2) == 0);
        for (unsigned i = 0; i < ORB_MSG_FDS_MAX; i++)
                close(fds[i]);
        CHECK(orb_msg_recv(sv[1], in, 0) == 0 && in->n_fds == ORB_MSG_FDS_MAX);
        CHECK(orb_msg_recv(sv[1], in, 0) == -ORB_E_PROTO && in->n_fds == 0);
        CHECK(count_fds() == before + 2);

        /* A reused message keeps its buffers: no allocation per record. */
        orb_msg_put_u64(m, 1, 1);
        CHECK(orb_msg_send(sv[0], m, 0) == 0 && orb_msg_recv(sv[1], in, 0) == 0);
        CHECK(orb_msg_parse_untrusted(in, NULL, 0) == 0);
        buf = in->buf;
        {
                struct orb_value *values = in->values;

                for (int i = 0; i < 3; i++) {
                        CHECK(orb_msg_send(sv[0], m, 0) == 0 && orb_msg_recv(sv[1], in, 0) == 0);
                        CHECK(orb_msg_parse_untrusted(in, NULL, 0) == 0 && orb_msg_u64(in, 1, 0) == 1);
                }
                CHECK(in->buf == buf && in->values == values && in->cap == ORB_MSG_MAX);
        }
        close(sv[0]);
        CHECK(orb_msg_send(sv[1], m, 0) == -EPIPE);
        close(sv[1]);
        CHECK(count_fds() == before);
        free(big);
        orb_msg_free(m);
        orb_msg_free(in);
}

static void test_strerror(void)
{
        for (int e = ORB_E_BASE; e < ORB_E__MAX; e++) {
                const char *s = orb_strerror(-e);

                CHECK(s && s[0] && strcmp(s, "unknown status") && !strstr(s, "Unknown"));
                CHECK(s == orb_strerror(e));
                for (int k = ORB_E_BASE; k < e; k++)
                        CHECK(strcmp(s, orb_strerror(-k)) != 0);
        }
        CHECK(!strcmp(orb_strerror(-ORB_E_PROTO), "malformed message"));
        CHECK(!strcmp(orb_strerror(0), "success"));
        CHECK(!strcmp(orb_strerror(-ENOENT), strerror(ENOENT)));
        CHECK(!strcmp(orb_strerror(-EPIPE), strerror(EPIPE)));
        CHECK(!strcmp(orb_strerror(ORB_E__MAX), "unknown status"));
        CHECK(orb_strerror(-2147483647 - 1) != NULL);
}

int main(void)
{
        unsigned fds = count_fds();

        test_roundtrip();
        test_inline_limit();
        test_growth();
        test_getters();
        test_parse_errors();
        test_memfd_checks();
        test_big_payload();
        test_sticky();
        test_put_memfd();
        test_recv_errors();
        test_strerror();
        CHECK(count_fds() == fds);
        CHECK(orb_msg_free(NULL) == NULL);
        printf("test-message: %u checks, %u failed\n", n_checks, n_failed);
        return n_failed ? 1 : 0;
}
