/*
 * Messages: building, checking and carrying bus records.
 *
 * A record is a struct orb_hdr and then fields, each an 8-byte field
 * header {u16 tag, u8 type, u8 zero, u32 len} and `len` bytes of value,
 * packed without padding: nothing after the record header is aligned, so
 * every multi-byte read and write goes through memcpy.
 *
 * The index (m->values) is the only thing getters read, and it always
 * describes the buffer as it is: orb_msg_parse_untrusted() rebuilds it from
 * a received record, each put appends to it, reset empties it, and a failed
 * parse leaves it empty.  Inline values point into m->buf, so when a put
 * grows the buffer they are moved along with it (buf_grow()).  MEMFD values
 * point into m->maps[i], the one read-only mapping of descriptor i.
 *
 * Trust.  orb_msg_parse_untrusted() is the one gate for received bytes: it
 * reads nothing outside [buf, buf + len) and checks a field completely
 * before indexing it.  A memfd is accepted only when sealed against write,
 * grow and shrink; from then on its bytes and size are fixed for every
 * holder, so the mapping shows exactly what was checked and can never fault
 * on a truncation (SIGBUS).  Header fields other than magic and version
 * (flags, type, method, id, status) are the dispatcher's business.
 *
 * Cost.  The record buffer and the index belong to the struct orb_msg and
 * survive orb_msg_reset(); recv makes the buffer ORB_MSG_MAX bytes once.  A
 * reused message therefore allocates nothing, and a record without
 * descriptors costs one sendmsg, one recvmsg and no syscall to parse.
 *
 * Puts fail sticky: the first failure is kept in m->error, later puts do
 * nothing (put_memfd still closes the descriptor it was given), and
 * orb_msg_send() returns the failure.  The message stays as it was before
 * the failed put.  Codes: -ENOMEM; -EMSGSIZE when the record would pass
 * ORB_MSG_MAX bytes, ORB_MSG_FIELDS_MAX fields or ORB_MSG_FDS_MAX
 * descriptors, or a memfd ORB_MEMFD_MAX bytes; -EINVAL for tag 0 (reserved
 * on the wire, as in contracts) and for a NULL or non-UTF-8 string; -EBADF
 * and the errno of a failed memfd operation.
 *
 * Parse errors name the field by its 1-based position and its tag:
 * "field 3 (tag 7): string is not NUL-terminated".
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orbital/message.h"
#include "util/cleanup.h"
#include "util/utf8.h"
#include "wire.h"

#define FIELD_HDR 8u
#define BUF_MIN 256u
#define MEMFD_VALUE 12u /* {u32 index, u64 size} */
#define SEALS_NEEDED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct field_hdr {
        uint16_t tag;
        uint8_t type;
        uint8_t zero;
        uint32_t len;
};

_Static_assert(sizeof(struct orb_hdr) == 16, "the wire header is 16 bytes");
_Static_assert(sizeof(struct field_hdr) == FIELD_HDR, "a field header is 8 bytes");

/* What an empty memfd's value points to: getters never return NULL data. */
static const uint8_t empty_value[1];

/* ------------------------------------------------------------------------
 * Buffers and the index
 */

static void header_init(struct orb_msg *m, uint16_t type)
{
        struct orb_hdr h = {
                .magic = ORB_WIRE_MAGIC,
                .version = ORB_WIRE_VERSION,
                .type = type,
        };

        memcpy(m->buf, &h, sizeof(h));
        m->len = sizeof(h);
}

/*
 * Makes room for @need bytes.  By hand rather than realloc(): the index
 * points into the old buffer, and the offsets of its values can only be
 * taken while that buffer is still alive.
 */
static int buf_grow(struct orb_msg *m, size_t need)
{
        size_t cap = m->cap > BUF_MIN ? m->cap : BUF_MIN;
        uint8_t *nb;

        if (need <= m->cap)
                return 0;
        while (cap < need)
                cap *= 2;
        if (cap > ORB_MSG_MAX && need <= ORB_MSG_MAX)
                cap = ORB_MSG_MAX;
        nb = malloc(cap);
        if (!nb)
                return -ENOMEM;
        if (m->len)
                memcpy(nb, m->buf, m->len);
        for (unsigned i = 0; i < m->n_values; i++) {
                struct orb_value *v = &m->values[i];

                if (v->type != ORB_TYPE_MEMFD)
                        v->data = nb + ((const uint8_t *)v->data - m->buf);
        }
        free(m->buf);
        m->buf = nb;
        m->cap = cap;
        return 0;
}

/* The index is sized for the most fields a record may hold, once. */
static int values_alloc(struct orb_msg *m)
{
        if (!m->values)
                m->values = malloc(ORB_MSG_FIELDS_MAX * sizeof(*m->values));
        return m->values ? 0 : -ENOMEM;
}

static void maps_clear(struct orb_msg *m)
{
        for (unsigned i = 0; i < ORB_MSG_FDS_MAX; i++) {
                if (m->maps[i])
                        munmap(m->maps[i], m->map_len[i]);
                m->maps[i] = NULL;
                m->map_len[i] = 0;
        }
}

static void fds_clear(struct orb_msg *m)
{
        for (unsigned i = 0; i < m->n_fds; i++)
                m->fds[i] = safe_close(m->fds[i]);
        m->n_fds = 0;
}

struct orb_msg *orb_msg_new(uint16_t type)
{
        struct orb_msg *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        for (unsigned i = 0; i < ORB_MSG_FDS_MAX; i++)
                m->fds[i] = -1;
        m->buf = malloc(BUF_MIN);
        if (!m->buf) {
                free(m);
                return NULL;
        }
        m->cap = BUF_MIN;
        header_init(m, type);
        return m;
}

struct orb_msg *orb_msg_free(struct orb_msg *m)
{
        if (!m)
                return NULL;
        maps_clear(m);
        fds_clear(m);
        free(m->values);
        free(m->buf);
        free(m);
        return NULL;
}

void orb_msg_reset(struct orb_msg *m, uint16_t type)
{
        maps_clear(m);
        fds_clear(m);
        m->n_values = 0;
        m->error = 0;
        header_init(m, type);
}

/* ------------------------------------------------------------------------
 * Builders
 */

static int put_fail(struct orb_msg *m, int r)
{
        if (!m->error)
                m->error = r;
        return m->error;
}

/* Checks that a field of @wire_len value bytes and @n_fds more
 * descriptors fits, and makes room for it. */
static int field_room(struct orb_msg *m, uint16_t tag, size_t wire_len, unsigned n_fds)
{
        int r;

        if (m->error)
                return m->error;
        if (tag == 0)
                return put_fail(m, -EINVAL);
        if (wire_len > ORB_MSG_MAX || m->len + FIELD_HDR + wire_len > ORB_MSG_MAX ||
            m->n_values >= ORB_MSG_FIELDS_MAX || m->n_fds + n_fds > ORB_MSG_FDS_MAX)
                return put_fail(m, -EMSGSIZE);
        r = values_alloc(m);
        if (r >= 0)
                r = buf_grow(m, m->len + FIELD_HDR + wire_len);
        return r < 0 ? put_fail(m, r) : 0;
}

/*
 * Appends a field header and indexes the field; the caller fills in the
 * @wire_len value bytes at the returned place.  @value_len is what the
 * index reports (a string's length without its NUL).
 */
static uint8_t *field_add(struct orb_msg *m, uint16_t tag, uint8_t type, size_t wire_len, size_t value_len)
{
        struct field_hdr f = {.tag = tag, .type = type, .len = (uint32_t)wire_len};
        uint8_t *p;

        if (field_room(m, tag, wire_len, 0) < 0)
                return NULL;
        p = m->buf + m->len;
        memcpy(p, &f, sizeof(f));
        m->len += FIELD_HDR + wire_len;
        m->values[m->n_values++] = (struct orb_value){
                .tag = tag,
                .type = type,
                .len = (uint32_t)value_len,
                .data = p + FIELD_HDR,
        };
        return p + FIELD_HDR;
}

void orb_msg_put_bool(struct orb_msg *m, uint16_t tag, bool v)
{
        uint8_t *p = field_add(m, tag, ORB_TYPE_BOOL, 1, 1);

        if (p)
                *p = v ? 1 : 0;
}

void orb_msg_put_i64(struct orb_msg *m, uint16_t tag, int64_t v)
{
        uint8_t *p = field_add(m, tag, ORB_TYPE_I64, sizeof(v), sizeof(v));

        if (p)
                memcpy(p, &v, sizeof(v));
}

void orb_msg_put_u64(struct orb_msg *m, uint16_t tag, uint64_t v)
{
        uint8_t *p = field_add(m, tag, ORB_TYPE_U64, sizeof(v), sizeof(v));

        if (p)
                memcpy(p, &v, sizeof(v));
}

void orb_msg_put_str(struct orb_msg *m, uint16_t tag, const char *s)
{
        size_t n;
        uint8_t *p;

        if (m->error)
                return;
        if (!s) {
                put_fail(m, -EINVAL);
                return;
        }
        n = strlen(s);
        if (n >= ORB_MSG_MAX) {
                put_fail(m, -EMSGSIZE);
                return;
        }
        if (!utf8_is_valid(s, n)) {
                put_fail(m, -EINVAL);
                return;
        }
        p = field_add(m, tag, ORB_TYPE_STR, n + 1, n);
        if (p)
                memcpy(p, s, n + 1);
}

/* Seals only when one of the three that matter is missing: a descriptor
 * its owner sealed already (perhaps with more) is taken as it is. */
static int memfd_seal(int fd)
{
        int seals = fcntl(fd, F_GET_SEALS);

        if (seals < 0)
                return -errno;
        if ((seals & SEALS_NEEDED) == SEALS_NEEDED)
                return 0;
        if (seals & F_SEAL_SEAL)
                return -EPERM;
        if (fcntl(fd, F_ADD_SEALS, SEALS_NEEDED | F_SEAL_SEAL) < 0)
                return -errno;
        return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
        while (n) {
                ssize_t w = write(fd, p, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                if (w == 0)
                        return -EIO;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/*
 * Maps @fd (sealed, @size bytes), adds it to the message and writes its
 * MEMFD field.  Takes @fd in every case.  Room was checked by the caller,
 * so once the mapping exists nothing can fail.
 */
static void memfd_attach(struct orb_msg *m, uint16_t tag, int fd, uint64_t size)
{
        uint32_t index = m->n_fds;
        void *map = NULL;
        uint8_t *p;

        if (size) {
                map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (map == MAP_FAILED) {
                        put_fail(m, -errno);
                        close(fd);
                        return;
                }
        }
        p = field_add(m, tag, ORB_TYPE_MEMFD, MEMFD_VALUE, size);
        if (!p) {
                /* Cannot happen: the caller checked the room. */
                if (map)
                        munmap(map, size);
                close(fd);
                return;
        }
        memcpy(p, &index, sizeof(index));
        memcpy(p + sizeof(index), &size, sizeof(size));
        m->values[m->n_values - 1].data = map ? map : empty_value;
        m->fds[m->n_fds++] = fd;
        m->maps[index] = map;
        m->map_len[index] = size;
}

void orb_msg_put_bytes(struct orb_msg *m, uint16_t tag, const void *p, size_t n)
{
        _cleanup_close_ int fd = -1;
        uint8_t *v;
        int r;

        if (n <= ORB_INLINE_MAX) {
                v = field_add(m, tag, ORB_TYPE_BYTES, n, n);
                if (v && n)
                        memcpy(v, p, n);
                return;
        }
        /* Check the record has room before copying megabytes. */
        if (field_room(m, tag, MEMFD_VALUE, 1) < 0)
                return;
        if (n > ORB_MEMFD_MAX) {
                put_fail(m, -EMSGSIZE);
                return;
        }
        fd = memfd_create("orb-bytes", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0) {
                put_fail(m, -errno);
                return;
        }
        r = write_all(fd, p, n);
        if (r >= 0 && fcntl(fd, F_ADD_SEALS, SEALS_NEEDED | F_SEAL_SEAL) < 0)
                r = -errno;
        if (r < 0) {
                put_fail(m, r);
                return;
        }
        memfd_attach(m, tag, take_fd(fd), n);
}

void orb_msg_put_memfd(struct orb_msg *m, uint16_t tag, int fd_in)
{
        _cleanup_close_ int fd = fd_in;
        struct stat st;
        int r;

        if (field_room(m, tag, MEMFD_VALUE, 1) < 0)
                return;
        if (fd < 0) {
                put_fail(m, -EBADF);
                return;
        }
        r = memfd_seal(fd);
        if (r >= 0 && fstat(fd, &st) < 0)
                r = -errno;
        if (r >= 0 && (uint64_t)st.st_size > ORB_MEMFD_MAX)
                r = -EMSGSIZE;
        if (r < 0) {
                put_fail(m, r);
                return;
        }
        memfd_attach(m, tag, take_fd(fd), (uint64_t)st.st_size);
}

/* ------------------------------------------------------------------------
 * Parsing
 */

/* The problem with a field, in the words of a message; "" if none. */
struct problem {
        char text[160];
};

__attribute__((format(printf, 2, 3))) static int problem(struct problem *p, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(p->text, sizeof(p->text), fmt, ap);
        va_end(ap);
        return -ORB_E_PROTO;
}

static int check_fixed(struct problem *pb, const struct orb_value *v, const char *what, uint32_t size)
{
        if (v->len != size)
                return problem(pb, "%s of %" PRIu32 " bytes, expected %" PRIu32, what, v->len, size);
        return 0;
}

static int check_bool(struct problem *pb, const struct orb_value *v)
{
        uint8_t b;

        if (check_fixed(pb, v, "bool", 1) < 0)
                return -ORB_E_PROTO;
        b = *(const uint8_t *)v->data;
        if (b > 1)
                return problem(pb, "bool value %u, expected 0 or 1", b);
        return 0;
}

static int check_str(struct problem *pb, struct orb_value *v)
{
        const char *s = v->data;
        const char *nul;

        if (v->len == 0 || s[v->len - 1] != '\0')
                return problem(pb, "string is not NUL-terminated");
        nul = memchr(s, '\0', v->len - 1);
        if (nul)
                return problem(pb, "string has a NUL inside, at byte %td", nul - s);
        if (!utf8_is_valid(s, v->len - 1))
                return problem(pb, "string is not valid UTF-8");
        v->len--;
        return 0;
}

/*
 * Checks the descriptor behind a MEMFD field and maps it (once per
 * descriptor, however many fields name it).  A descriptor sent with
 * other seals, or none, is refused rather than sealed here: the sender
 * could still write through it while we read.
 */
static int check_memfd(struct orb_msg *m, struct problem *pb, struct orb_value *v)
{
        uint32_t index;
        uint64_t size;
        struct stat st;
        int seals, fd;

        if (check_fixed(pb, v, "memfd", MEMFD_VALUE) < 0)
                return -ORB_E_PROTO;
        memcpy(&index, v->data, sizeof(index));
        memcpy(&size, (const uint8_t *)v->data + sizeof(index), sizeof(size));
        if (index >= m->n_fds)
                return problem(pb, "descriptor index %" PRIu32 ", but the record carries %u", index, m->n_fds);
        if (size > ORB_MEMFD_MAX)
                return problem(pb, "memfd of %" PRIu64 " bytes, more than the %llu allowed", size, ORB_MEMFD_MAX);
        fd = m->fds[index];
        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return problem(pb, "descriptor %" PRIu32 " is not a memfd", index);
        if ((seals & SEALS_NEEDED) != SEALS_NEEDED)
                return problem(pb, "memfd is not sealed against write, grow and shrink (seals 0x%x)", seals);
        if ((uint64_t)st.st_size != size)
                return problem(pb, "memfd holds %lld bytes, the field claims %" PRIu64, (long long)st.st_size,
                               size);
        if (size && !m->maps[index]) {
                void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);

                if (map == MAP_FAILED)
                        return problem(pb, "unable to map memfd: %s", strerror(errno));
                m->maps[index] = map;
                m->map_len[index] = size;
        }
        v->len = (uint32_t)size;
        v->data = size ? m->maps[index] : empty_value;
        return 0;
}

static int check_value(struct orb_msg *m, struct problem *pb, struct orb_value *v)
{
        switch (v->type) {
        case ORB_TYPE_BOOL:
                return check_bool(pb, v);
        case ORB_TYPE_I64:
                return check_fixed(pb, v, "i64", 8);
        case ORB_TYPE_U64:
                return check_fixed(pb, v, "u64", 8);
        case ORB_TYPE_STR:
                return check_str(pb, v);
        case ORB_TYPE_BYTES:
                return 0;
        case ORB_TYPE_MEMFD:
                return check_memfd(m, pb, v);
        default:
                return problem(pb, "unknown type %u", v->type);
        }
}

/* Checks the field at *@off (the @nth, from 1) and indexes it. */
static int parse_field(struct orb_msg *m, unsigned nth, size_t *off, char *err, size_t err_size)
{
        size_t left = m->len - *off;
        struct problem pb;
        struct field_hdr f;
        struct orb_value *v;

        if (m->n_values >= ORB_MSG_FIELDS_MAX)
                return wire_errorf(-ORB_E_PROTO, err, err_size, "field %u: more than %u fields", nth, ORB_MSG_FIELDS_MAX);
        if (left < FIELD_HDR)
                return wire_errorf(-ORB_E_PROTO, err, err_size, "field %u: truncated field header (%zu bytes left)", nth, left);
        memcpy(&f, m->buf + *off, sizeof(f));
        left -= FIELD_HDR;
        if (f.tag == 0)
                return wire_errorf(-ORB_E_PROTO, err, err_size, "field %u: tag 0 is reserved", nth);
        if (f.zero)
                return wire_errorf(-ORB_E_PROTO, err, err_size, "field %u (tag %u): reserved byte is 0x%02x, expected 0", nth,
                                  f.tag, f.zero);
        if (f.len > left)
                return wire_errorf(-ORB_E_PROTO, err, err_size,
                                  "field %u (tag %u): length %" PRIu32
                                  " runs past the end of the record (%zu bytes left)",
                                  nth, f.tag, f.len, left);
        v = &m->values[m->n_values];
        *v = (struct orb_value){
                .tag = f.tag,
                .type = f.type,
                .len = f.len,
                .data = m->buf + *off + FIELD_HDR,
        };
        if (check_value(m, &pb, v) < 0)
                return wire_errorf(-ORB_E_PROTO, err, err_size, "field %u (tag %u): %s", nth, f.tag, pb.text);
        m->n_values++;
        *off += FIELD_HDR + f.len;
        return 0;
}

/**
 * orb_msg_parse_untrusted() - check a received record and index its fields.
 * @m: the message; m->buf holds m->len bytes of record, m->fds what came
 *     with it
 * @err, @err_size: on -ORB_E_PROTO, what is wrong (may be NULL)
 *
 * May be called again (the old index and mappings are dropped first).  On
 * failure the index is empty, so getters find nothing.
 *
 * Return: 0; -ORB_E_PROTO; -ENOMEM when the index cannot be allocated.
 */
int orb_msg_parse_untrusted(struct orb_msg *m, char *err, size_t err_size)
{
        struct orb_hdr h;
        size_t off = sizeof(h);
        int r;

        maps_clear(m);
        m->n_values = 0;
        if (err && err_size)
                err[0] = '\0';
        if (m->len < sizeof(h))
                return wire_errorf(-ORB_E_PROTO, err, err_size, "record of %zu bytes is shorter than the %zu-byte header", m->len,
                                  sizeof(h));
        if (m->len > ORB_MSG_MAX)
                return wire_errorf(-ORB_E_PROTO, err, err_size, "record of %zu bytes is longer than the %u allowed", m->len,
                                  ORB_MSG_MAX);
        memcpy(&h, m->buf, sizeof(h));
        if (h.magic != ORB_WIRE_MAGIC)
                return wire_errorf(-ORB_E_PROTO, err, err_size, "bad magic 0x%04x, expected 0x%04x", h.magic, ORB_WIRE_MAGIC);
        if (h.version != ORB_WIRE_VERSION)
                return wire_errorf(-ORB_E_PROTO, err, err_size, "wire version %u, expected %u", h.version, ORB_WIRE_VERSION);
        r = values_alloc(m);
        if (r < 0)
                return r;
        for (unsigned nth = 1; off < m->len; nth++) {
                r = parse_field(m, nth, &off, err, err_size);
                if (r < 0) {
                        maps_clear(m);
                        m->n_values = 0;
                        return r;
                }
        }
        return 0;
}

/* ------------------------------------------------------------------------
 * Getters
 */

const struct orb_value *orb_msg_field(const struct orb_msg *m, uint16_t tag, unsigned nth)
{
        for (unsigned i = 0; i < m->n_values; i++)
                if (m->values[i].tag == tag && nth-- == 0)
                        return &m->values[i];
        return NULL;
}

unsigned orb_msg_count(const struct orb_msg *m, uint16_t tag)
{
        unsigned n = 0;

        for (unsigned i = 0; i < m->n_values; i++)
                n += m->values[i].tag == tag;
        return n;
}

/* The first field with @tag if it is of @type: 0, -ENOENT, -ORB_E_PROTO. */
static int get_typed(const struct orb_msg *m, uint16_t tag, uint8_t type, const struct orb_value **out)
{
        const struct orb_value *v = orb_msg_field(m, tag, 0);

        if (!v)
                return -ENOENT;
        if (v->type != type && !(type == ORB_TYPE_BYTES && v->type == ORB_TYPE_MEMFD))
                return -ORB_E_PROTO;
        *out = v;
        return 0;
}

int orb_msg_get_bool(const struct orb_msg *m, uint16_t tag, bool *v)
{
        const struct orb_value *f;
        int r = get_typed(m, tag, ORB_TYPE_BOOL, &f);

        if (r == 0)
                *v = *(const uint8_t *)f->data != 0;
        return r;
}

int orb_msg_get_i64(const struct orb_msg *m, uint16_t tag, int64_t *v)
{
        const struct orb_value *f;
        int r = get_typed(m, tag, ORB_TYPE_I64, &f);

        if (r == 0)
                memcpy(v, f->data, sizeof(*v));
        return r;
}

int orb_msg_get_u64(const struct orb_msg *m, uint16_t tag, uint64_t *v)
{
        const struct orb_value *f;
        int r = get_typed(m, tag, ORB_TYPE_U64, &f);

        if (r == 0)
                memcpy(v, f->data, sizeof(*v));
        return r;
}

int orb_msg_get_str(const struct orb_msg *m, uint16_t tag, const char **s)
{
        const struct orb_value *f;
        int r = get_typed(m, tag, ORB_TYPE_STR, &f);

        if (r == 0)
                *s = f->data;
        return r;
}

int orb_msg_get_bytes(const struct orb_msg *m, uint16_t tag, const void **p, size_t *n)
{
        const struct orb_value *f;
        int r = get_typed(m, tag, ORB_TYPE_BYTES, &f);

        if (r == 0) {
                *p = f->data;
                *n = f->len;
        }
        return r;
}

uint64_t orb_msg_u64(const struct orb_msg *m, uint16_t tag, uint64_t dflt)
{
        uint64_t v;

        return orb_msg_get_u64(m, tag, &v) == 0 ? v : dflt;
}

const char *orb_msg_str(const struct orb_msg *m, uint16_t tag, const char *dflt)
{
        const char *s;

        return orb_msg_get_str(m, tag, &s) == 0 ? s : dflt;
}

/* ------------------------------------------------------------------------
 * Transport
 */

union fd_control {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * ORB_MSG_FDS_MAX)];
};

/**
 * orb_msg_send() - send @m as one record on a SOCK_SEQPACKET socket.
 * @fd: the socket
 * @m: the message; keeps its descriptors
 * @flags: for sendmsg (MSG_DONTWAIT...); MSG_NOSIGNAL is always added, so a
 *         closed peer is -EPIPE rather than a signal
 *
 * Return: 0; m->error when a put failed; -errno of sendmsg.
 */
int orb_msg_send(int fd, struct orb_msg *m, int flags)
{
        union fd_control control;
        struct iovec iov = {.iov_base = m->buf, .iov_len = m->len};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        if (m->error)
                return m->error;
        if (m->n_fds) {
                size_t fd_len = sizeof(int) * m->n_fds;
                struct cmsghdr *c;

                memset(&control, 0, sizeof(control));
                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(fd_len);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(fd_len);
                memcpy(CMSG_DATA(c), m->fds, fd_len);
        }
        do
                n = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        /* A SOCK_SEQPACKET record goes whole or not at all. */
        return (size_t)n == m->len ? 0 : -EMSGSIZE;
}

/* Moves the received descriptors into @m; -ORB_E_PROTO when more came
 * than a record may carry (all are closed then, by the caller's reset). */
static int take_fds(struct orb_msg *m, struct msghdr *mh)
{
        bool too_many = false;

        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                size_t n;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
                        if (m->n_fds < ORB_MSG_FDS_MAX) {
                                m->fds[m->n_fds++] = fd;
                        } else {
                                close(fd);
                                too_many = true;
                        }
                }
        }
        return too_many ? -ORB_E_PROTO : 0;
}

/**
 * orb_msg_recv() - receive one record into @m.
 * @fd: a SOCK_SEQPACKET socket
 * @m: reset first; holds the record and its descriptors (close-on-exec)
 * @flags: for recvmsg (MSG_DONTWAIT...)
 *
 * Does not parse: call orb_msg_parse_untrusted() next.  On failure @m is
 * left empty (reset as type 0) and no received descriptor stays open.
 *
 * Return: 0; -EPIPE on a 0-byte read (the peer closed); -ORB_E_PROTO for a
 * record longer than ORB_MSG_MAX, with more than ORB_MSG_FDS_MAX
 * descriptors, or shorter than the header; -ENOMEM; -errno of recvmsg.
 */
int orb_msg_recv(int fd, struct orb_msg *m, int flags)
{
        union fd_control control;
        struct iovec iov;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;
        int r;

        orb_msg_reset(m, 0);
        r = buf_grow(m, ORB_MSG_MAX);
        if (r < 0)
                return r;
        iov = (struct iovec){.iov_base = m->buf, .iov_len = ORB_MSG_MAX};
        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof(control.buf);
        do
                n = recvmsg(fd, &mh, flags | MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        r = take_fds(m, &mh);
        if (r == 0 && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
                r = -ORB_E_PROTO;
        else if (r == 0 && n == 0)
                r = -EPIPE;
        else if (r == 0 && (size_t)n < sizeof(struct orb_hdr))
                r = -ORB_E_PROTO;
        if (r < 0) {
                orb_msg_reset(m, 0);
                return r;
        }
        m->len = (size_t)n;
        return 0;
}

/* ------------------------------------------------------------------------
 * Errors
 */

static const char *const status_text[ORB_E__MAX - ORB_E_BASE] = {
        [ORB_E_PROTO - ORB_E_BASE] = "malformed message",
        [ORB_E_NOT_FOUND - ORB_E_BASE] = "no such service",
        [ORB_E_DENIED - ORB_E_BASE] = "no capability for this operation",
        [ORB_E_RIGHTS - ORB_E_BASE] = "the capability lacks the right",
        [ORB_E_RATE - ORB_E_BASE] = "message rate limit exceeded",
        [ORB_E_AGAIN - ORB_E_BASE] = "queue full",
        [ORB_E_INVALID - ORB_E_BASE] = "invalid arguments",
        [ORB_E_EXISTS - ORB_E_BASE] = "already exists",
        [ORB_E_NO_METHOD - ORB_E_BASE] = "no such method",
        [ORB_E_REVOKED - ORB_E_BASE] = "capability revoked",
        [ORB_E_TIMEOUT - ORB_E_BASE] = "timed out",
        [ORB_E_LIMIT - ORB_E_BASE] = "limit reached",
        [ORB_E_VERSION - ORB_E_BASE] = "contract version mismatch",
        [ORB_E_SERVICE - ORB_E_BASE] = "service failed",
};

/* A reply's status is positive, a library return negative: both work. */
const char *orb_strerror(int err)
{
        long e = err < 0 ? -(long)err : err;

        if (err == 0)
                return "success";
        if (e >= ORB_E_BASE && e < ORB_E__MAX)
                return status_text[e - ORB_E_BASE];
        if (err < 0)
                return strerror((int)e);
        return "unknown status";
}

int wire_errorf(int code, char *err, size_t err_size, const char *fmt, ...)
{
        va_list ap;

        if (err && err_size) {
                va_start(ap, fmt);
                vsnprintf(err, err_size, fmt, ap);
                va_end(ap);
        }
        return code;
}
