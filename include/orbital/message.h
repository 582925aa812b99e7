/*
 * Messages: one bus record = struct orb_hdr + a payload of tagged fields.
 *
 * A field is { u16 tag, u8 type, u8 zero, u32 length } then `length` bytes
 * of value, with no padding (host byte order):
 *   BOOL 1 byte (0 or 1); I64, U64 8 bytes; STR UTF-8 plus one trailing NUL
 *   and no NUL inside; BYTES any; MEMFD 12 bytes {u32 index into the
 *   record's descriptors, u64 size} naming a sealed memfd.
 * A tag may repeat (a list).  Unknown tags are skipped by the schema check,
 * so a minor version may add optional fields.
 *
 * The same struct builds outgoing and holds received messages.  Nothing in
 * a received message is trusted until orb_msg_parse_untrusted() accepted it;
 * getters only ever read what the parser indexed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orbital/protocol.h"

enum orb_type {
        ORB_TYPE_BOOL = 1,
        ORB_TYPE_I64 = 2,
        ORB_TYPE_U64 = 3,
        ORB_TYPE_STR = 4,
        ORB_TYPE_BYTES = 5,
        ORB_TYPE_MEMFD = 6, /* on the wire only: a BYTES value in a sealed memfd */
};

/* BYTES values larger than this are sent as a sealed memfd. */
#define ORB_INLINE_MAX (32u << 10)
/* Largest memfd payload a receiver maps. */
#define ORB_MEMFD_MAX (1ull << 30)
#define ORB_MSG_FIELDS_MAX 256u

/* One indexed field of a received (or built) message. */
struct orb_value {
        uint16_t tag;
        uint8_t type;      /* as on the wire (MEMFD stays MEMFD) */
        uint32_t len;      /* value bytes (STR: without the NUL; MEMFD: its size) */
        const void *data;  /* into the record, or the read-only mapping of a memfd */
};

struct orb_msg {
        uint8_t *buf;             /* owned: header + payload */
        size_t len, cap;
        int fds[ORB_MSG_FDS_MAX]; /* owned descriptors (received or to send) */
        unsigned n_fds;
        struct orb_value *values; /* owned index, filled by parse */
        unsigned n_values;
        void *maps[ORB_MSG_FDS_MAX]; /* owned read-only mappings of memfds */
        size_t map_len[ORB_MSG_FDS_MAX];
        int error;                /* sticky: first failure of a put (-errno) */
};

/* Return: a new message of @type with an empty payload, or NULL. */
struct orb_msg *orb_msg_new(uint16_t type);
/* Frees (closes its fds, unmaps); NULL is fine; returns NULL. */
struct orb_msg *orb_msg_free(struct orb_msg *m);
/* Empties the payload and fds for reuse as @type (keeps the buffer). */
void orb_msg_reset(struct orb_msg *m, uint16_t type);

static inline struct orb_hdr *orb_msg_hdr(const struct orb_msg *m)
{
        return (struct orb_hdr *)(void *)m->buf;
}

/* Builders.  A failure is sticky in m->error and reported by send. */
void orb_msg_put_bool(struct orb_msg *m, uint16_t tag, bool v);
void orb_msg_put_i64(struct orb_msg *m, uint16_t tag, int64_t v);
void orb_msg_put_u64(struct orb_msg *m, uint16_t tag, uint64_t v);
void orb_msg_put_str(struct orb_msg *m, uint16_t tag, const char *s);
/* Above ORB_INLINE_MAX the bytes are copied into a sealed memfd. */
void orb_msg_put_bytes(struct orb_msg *m, uint16_t tag, const void *p, size_t n);
/* Takes @fd (a memfd; sealed here if it is not already). */
void orb_msg_put_memfd(struct orb_msg *m, uint16_t tag, int fd);

/*
 * orb_msg_parse_untrusted() - check the framing of a received record and
 * index its fields.  Checks magic and version, every field's bounds and
 * fixed sizes, STR termination and UTF-8, descriptor indices, and for each
 * MEMFD that the descriptor is a memfd sealed against write, grow and
 * shrink, of the size claimed (then maps it read-only).
 * Return: 0, or -ORB_E_PROTO with @err naming the problem.
 */
int orb_msg_parse_untrusted(struct orb_msg *m, char *err, size_t err_size);

/* The @nth (0-based) field with @tag, or NULL. */
const struct orb_value *orb_msg_field(const struct orb_msg *m, uint16_t tag, unsigned nth);
unsigned orb_msg_count(const struct orb_msg *m, uint16_t tag);
/* Typed getters: 0, -ENOENT when absent, -ORB_E_PROTO when of another type. */
int orb_msg_get_bool(const struct orb_msg *m, uint16_t tag, bool *v);
int orb_msg_get_i64(const struct orb_msg *m, uint16_t tag, int64_t *v);
int orb_msg_get_u64(const struct orb_msg *m, uint16_t tag, uint64_t *v);
/* NUL-terminated, valid while @m lives. */
int orb_msg_get_str(const struct orb_msg *m, uint16_t tag, const char **s);
/* Inline or memfd-backed alike. */
int orb_msg_get_bytes(const struct orb_msg *m, uint16_t tag, const void **p, size_t *n);
/* Convenience: the value or @dflt. */
uint64_t orb_msg_u64(const struct orb_msg *m, uint16_t tag, uint64_t dflt);
const char *orb_msg_str(const struct orb_msg *m, uint16_t tag, const char *dflt);

/*
 * Transport over a SOCK_SEQPACKET socket.  send passes the record and its
 * fds (SCM_RIGHTS); the message keeps its fds (they are closed by free).
 * recv reads one record into @m (reset first), takes received fds
 * (MSG_CMSG_CLOEXEC), and rejects a truncated record or one with more
 * descriptors than ORB_MSG_FDS_MAX (closing them) with -ORB_E_PROTO; it does
 * not parse: call orb_msg_parse_untrusted().
 * Return: 0; 0-length read = -EPIPE (peer closed); -errno; -ORB_E_PROTO.
 * @flags: MSG_DONTWAIT etc.
 */
int orb_msg_send(int fd, struct orb_msg *m, int flags);
int orb_msg_recv(int fd, struct orb_msg *m, int flags);

/* A short English text for 0, -errno or -ORB_E_*. */
const char *orb_strerror(int err);
