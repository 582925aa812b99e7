/*
 * The broker: capability tables, the registry, channels and topics.
 *
 * Every bus peer is a SOCK_SEQPACKET connection: a supervised service's is
 * a socket pair made at spawn (it inherits one end, so its identity is the
 * connection itself, never what it claims); an outside client's comes
 * through the bus socket and is known by SO_PEERCRED.  A peer holds a
 * capability table (captable.h); services start with exactly what their
 * manifest declares.
 *
 * Calls do not pass through orbitald.  A lookup that policy allows makes
 * a fresh socket pair, gives one end to the service (CHANNEL_OPEN, with
 * the client's identity, rights and rate limit) and the other to the
 * client (the lookup's reply), and keeps a duplicate of the service's end:
 * revoking the channel's capability shutdown()s it, which ends the channel
 * for both sides at once, and its hang-up says the client closed its end.  Publish/subscribe events do pass through here,
 * into bounded per-peer queues.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "broker/captable.h"
#include "util/loop.h"

#define BROKER_PEERS_MAX 4096u
#define BROKER_PEERS_PER_UID 64u      /* outside clients of one other user */
#define BROKER_QUEUE_MAX (256u << 10) /* bytes queued to one peer */
#define BROKER_SUBS_MAX 64u           /* subscriptions of one peer */
#define BROKER_REGS_MAX 16384u        /* registrations of one peer */
#define BROKER_CLIENT_RATE 10000u     /* messages/s of other users' clients */
#define BROKER_EVENT_MAX (32u << 10)  /* payload of one published event */

struct broker;
struct peer;
struct service;
struct orb_msg;

struct broker_hooks {
        void *ctx;
        /* An audit record; @fields is a new reference the hook consumes. */
        void (*audit)(void *ctx, const char *kind, const char *actor, json_t *fields);
        /* A service said it is ready (orb_conn_ready). */
        void (*ready)(void *ctx, struct service *svc);
        /* An event was published (its publisher held the capability). */
        void (*event)(void *ctx, const char *topic, const char *publisher, const void *data, size_t len);
};

/* An endpoint object: one service type, with its registrations. */
struct endpoint {
        struct endpoint *hash_next;
        uint64_t id;
        struct reg *regs;
        char type[CAP_NAME_MAX];
};

#define BROKER_HASH_SIZE 4096u

struct broker {
        struct loop *loop;              /* borrowed */
        struct broker_hooks hooks;
        char *path;                     /* owned: bus socket path, or NULL */
        int listen_fd;
        struct loop_io listen_io;
        struct peer *peers;             /* owned list */
        unsigned n_peers;
        struct endpoint *endpoints[BROKER_HASH_SIZE]; /* owned chains */
        unsigned n_endpoints, n_regs;
        struct peer *parked;            /* publishers waiting for room */
        struct loop_timer expiry_timer;
        uint64_t next_id;               /* objects, registrations, channels */
        uint8_t *rx;                    /* owned: one receive buffer for all */
        struct orb_msg *in, *out, *note; /* owned scratch messages */
        struct loop_defer retry_defer;  /* retry parked publishes */
        uid_t owner_uid;
};

int broker_init(struct broker *b, struct loop *loop, const char *bus_path, const struct broker_hooks *hooks);
void broker_deinit(struct broker *b);

/*
 * broker_attach() - make the bus connection of a service about to be
 * spawned, holding the capabilities @caps (manifest strings) and limited
 * to @ipc_rate messages/s (0 = unlimited).
 * Return: the child's end (close it after the spawn), or -errno.
 */
int broker_attach(struct broker *b, struct service *svc, const char *name, char *const *caps, unsigned ipc_rate);
/* The service was spawned as @pid, running as @uid: what its channels'
 * servers are told of it. */
void broker_spawned(struct broker *b, struct service *svc, pid_t pid, uid_t uid);
/* The service's process is gone: drop its connection (reason: source exited). */
void broker_detach(struct broker *b, struct service *svc);

/* ---- operator requests (control socket) ---- */

/* The slot table of service @name (or a client "comm[pid]"), or NULL. */
json_t *broker_caps_json(struct broker *b, const char *name);
/* The registry: every registration. */
json_t *broker_services_json(struct broker *b);
/* Grants a copy of @holder's @slot to @target.  Return: 0 and *@out_slot,
 * or -ORB_E_* / -errno with @why. */
int broker_grant(struct broker *b, const char *holder, uint32_t slot, const char *target, uint8_t rights,
                 usec_t expires_in, const char *actor, uint32_t *out_slot, char *why, size_t why_size);
int broker_revoke(struct broker *b, const char *holder, uint32_t slot, const char *actor, char *why,
                  size_t why_size);
