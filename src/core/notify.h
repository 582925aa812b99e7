/*
 * $NOTIFY_SOCKET for services that use sd_notify(3): one datagram socket
 * in the run directory.  The sender is identified by the kernel
 * (SCM_CREDENTIALS), and only a service's main process is heard, like
 * systemd's NotifyAccess=main.  Services that prefer a descriptor (s6
 * notification-fd) get their own at spawn; see service.c.
 */
#pragma once

#include "supervisor/supervisor.h"
#include "util/loop.h"

struct notify_socket {
        struct supervisor *sup; /* borrowed */
        char *path;             /* owned */
        int fd;
        struct loop_io io;
};

int notify_socket_init(struct notify_socket *ns, struct supervisor *sup, const char *path);
void notify_socket_deinit(struct notify_socket *ns);
