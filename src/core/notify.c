/*
 * The sd_notify datagram socket.  Messages from a pid that is not a
 * service's main process are dropped (lossy log); everything else goes to
 * service_notify_message(), the same parser the per-service descriptor
 * uses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "notify.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/unixsock.h"

static void notify_on_io(struct loop_io *io, uint32_t revents)
{
        struct notify_socket *ns = container_of(io, struct notify_socket, io);
        char buf[4096];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } ctl;
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};
        struct ucred *cred = NULL;
        struct service *svc;
        ssize_t n = recvmsg(ns->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        if (n < 0)
                return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
                        cred = (struct ucred *)CMSG_DATA(c);
        /* pid 0: a sender in a pid namespace we cannot see */
        svc = cred && cred->pid > 0 ? sup_find_by_pid(ns->sup, cred->pid) : NULL;
        if (!svc) {
                log_lossy(LOG_NOTICE, "notify: ignoring a message from pid %d: not a service's main process",
                          cred ? (int)cred->pid : -1);
                return;
        }
        service_notify_message(svc, buf, (size_t)n);
}

int notify_socket_init(struct notify_socket *ns, struct supervisor *sup, const char *path)
{
        int one = 1;

        *ns = (struct notify_socket){.sup = sup, .fd = -1, .io = LOOP_IO_INIT};
        ns->path = strdup(path);
        if (!ns->path)
                return -ENOMEM;
        ns->fd = unix_listen(path, SOCK_DGRAM, 0);
        if (ns->fd < 0)
                return ns->fd;
        if (setsockopt(ns->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
                return -errno;
        chmod(path, 0666); /* services may run as other users */
        return loop_io_add(sup->loop, &ns->io, ns->fd, EPOLLIN, notify_on_io);
}

void notify_socket_deinit(struct notify_socket *ns)
{
        if (ns->sup)
                loop_io_remove(ns->sup->loop, &ns->io);
        if (ns->fd >= 0 && ns->path)
                unlink(ns->path); /* only a socket we bound ourselves */
        ns->fd = safe_close(ns->fd);
        free(ns->path);
        ns->path = NULL;
}
