/*
 * The control socket: orbctl (and later orb-api) talk to orbitald here.
 * One JSON object per SOCK_SEQPACKET message; docs/protocol.md has the
 * format.  Callers are identified by SO_PEERCRED; only root or orbitald's
 * own user may change anything.  orbitald never blocks on a client: each
 * has a bounded output queue and one request in flight (the next is not
 * read until the reply has left), and a follow stream that falls behind
 * loses records (and is told how many) instead of growing memory.  Other
 * users get at most CONTROL_PER_UID_MAX connections and never the last
 * CONTROL_RESERVED slots, and cannot read services' output (logs, crash
 * lines): it may hold secrets.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "broker/broker.h"
#include "supervisor/supervisor.h"
#include "util/loop.h"

#define CONTROL_MSG_MAX 65536          /* largest request or reply message */
#define CONTROL_QUEUE_MAX (4u << 20)    /* bytes queued per client */
#define CONTROL_FOLLOW_MAX (256u << 10) /* follow streams drop past this */
#define CONTROL_CLIENTS_MAX 128
#define CONTROL_RESERVED 16      /* slots only root and orbitald's user may take */
#define CONTROL_PER_UID_MAX 8    /* connections of one other user */

struct client;

struct control {
        struct loop *loop;          /* borrowed */
        struct supervisor *sup;     /* borrowed */
        char *path;                 /* owned: socket path */
        int fd;
        struct loop_io io;
        struct client *clients;     /* owned list */
        unsigned n_clients;
        uid_t owner_uid;            /* orbitald's euid: may change things */
        void (*on_reload)(void *ctx);
        struct broker *broker;      /* borrowed, may be NULL */
        void *audit_ctx;
        json_t *(*audit_head)(void *ctx); /* {"seq", "hash", "path"} */
};

int control_init(struct control *ctl, struct loop *loop, struct supervisor *sup, const char *path);
void control_deinit(struct control *ctl);
