/*
 * Seccomp violations, as the kernel logs them: the filter carries
 * SECCOMP_FILTER_FLAG_LOG, so each refused call becomes an audit record
 * (type 1326) in /dev/kmsg.  orbitald follows /dev/kmsg from its end and
 * attributes each record to a service by the process's cgroup (or its
 * main pid), so a violation is logged and audited even when the call only
 * failed with EPERM and the service carried on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sandbox/violations.h"
#include "util/cleanup.h"

/* The service a pid belongs to, from "N:ctrl:/<cg_name>/<service>" lines. */
static bool service_of_pid(const struct violations *v, int pid, char *out, size_t n)
{
        char path[64], buf[4096], *at;
        ssize_t len;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len <= 0)
                return false;
        buf[len] = '\0';
        at = strstr(buf, v->cg_prefix);
        if (!at)
                return false;
        at += strlen(v->cg_prefix);
        snprintf(out, n, "%.*s", (int)strcspn(at, "/\n"), at);
        return out[0] != '\0';
}

static void on_kmsg(struct loop_io *io, uint32_t revents)
{
        struct violations *v = container_of(io, struct violations, io);
        char rec[8192], service[128];
        struct seccomp_event ev;

        (void)revents;
        for (unsigned i = 0; i < 64; i++) {
                ssize_t n = read(v->fd, rec, sizeof(rec));

                if (n < 0 && errno == EPIPE)
                        continue; /* records were overwritten before we read them */
                if (n <= 0)
                        return;
                if (!seccomp_event_parse(rec, (size_t)n, &ev))
                        continue;
                v->report(v->ctx, service_of_pid(v, ev.pid, service, sizeof(service)) ? service : NULL, &ev);
        }
}

int violations_init(struct violations *v, struct loop *l, const char *cg_name,
                    void (*report)(void *ctx, const char *service, const struct seccomp_event *ev), void *ctx)
{
        int r;

        *v = (struct violations){.fd = -1, .io = LOOP_IO_INIT, .loop = l, .report = report, .ctx = ctx};
        snprintf(v->cg_prefix, sizeof(v->cg_prefix), "/%s/", cg_name);
        v->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (v->fd < 0)
                return -errno;
        lseek(v->fd, 0, SEEK_END); /* only what happens from now on */
        r = loop_io_add(l, &v->io, v->fd, EPOLLIN, on_kmsg);
        if (r < 0)
                v->fd = safe_close(v->fd);
        return r;
}

void violations_deinit(struct violations *v)
{
        if (v->fd < 0)
                return;
        loop_io_remove(v->loop, &v->io);
        v->fd = safe_close(v->fd);
}
