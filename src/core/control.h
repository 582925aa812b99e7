/*
 * The control socket: orbctl (and later orb-api) talk to orbitald here.
 * One JSON object per SOCK_SEQPACKET message; docs/protocol.md has the
 * format.  Callers are identified by SO_PEERCRED; only root or orbitald's
 * own user may change anything.  orbitald never blocks on a client: each
 * has a bounded output queue, and a follow stream that falls behind loses
 * records (and is told how many) instead of growing memory.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "supervisor/supervisor.h"
#include "util/loop.h"

#define CONTROL_MSG_MAX 65536          /* largest request or reply message */
#define CONTROL_QUEUE_MAX (4u << 20)    /* bytes queued per client */
#define CONTROL_FOLLOW_MAX (256u << 10) /* follow streams drop past this */
#define CONTROL_CLIENTS_MAX 128

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
};

int control_init(struct control *ctl, struct loop *loop, struct supervisor *sup, const char *path);
void control_deinit(struct control *ctl);
