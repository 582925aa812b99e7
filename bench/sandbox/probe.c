/*
 * probe - the program every peer of the sandbox benchmark spawns.
 *
 * Adapted from bench/supervise/probe.c.  First thing in main() it reads
 * CLOCK_MONOTONIC: that is "running".  Then it looks at what it was given
 * -- its uid, its network namespace, whether / is read-only and /tmp is a
 * private tmpfs, its capabilities, no_new_privs, its seccomp filters, and
 * whether Landlock keeps it out of /var -- and sends one datagram
 *
 *     "<pid> <ns> uid=U gid=G net=net:[N] ro=0|1 tmpfs=0|1 capeff=HEX
 *      capbnd=HEX nnp=0|1 seccomp=N landlock=0|1"
 *
 * to the AF_UNIX datagram socket named by $BENCH_SOCK or argv[1].  The
 * timestamp is taken before any of that, so the look-around is not in the
 * measured time; it only lets the benchmark print what each peer really
 * enforced instead of trusting its configuration.  The socket is a path
 * (not an abstract name: those are per network namespace), so every
 * sandbox must show the probe's directory, where the socket lives.
 *
 * Then it pause()s forever; SIGKILL (the driver) ends it.  It never exits
 * on its own, even when the datagram cannot be sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TMPFS_MAGIC_ 0x01021994

/* "Key:\tvalue" of /proc/self/status into @out ("?" if missing). */
static void status_field(const char *status, const char *key, char *out, size_t n)
{
        const char *p = strstr(status, key);
        size_t len;

        snprintf(out, n, "?");
        if (!p)
                return;
        p += strlen(key);
        while (*p == ':' || *p == '\t' || *p == ' ')
                p++;
        len = strcspn(p, "\n");
        snprintf(out, n, "%.*s", (int)len, p);
}

static size_t fingerprint(char *buf, size_t n)
{
        char status[4096] = "", capeff[32], capbnd[32], nnp[8], filters[8], net[64] = "?";
        struct statvfs vfs;
        struct statfs fs;
        ssize_t k;
        int fd, ro, tmpfs, landlock;

        fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                k = read(fd, status, sizeof(status) - 1);
                status[k > 0 ? k : 0] = '\0';
                close(fd);
        }
        status_field(status, "\nCapEff", capeff, sizeof(capeff));
        status_field(status, "\nCapBnd", capbnd, sizeof(capbnd));
        status_field(status, "\nNoNewPrivs", nnp, sizeof(nnp));
        status_field(status, "\nSeccomp_filters", filters, sizeof(filters));
        k = readlink("/proc/self/ns/net", net, sizeof(net) - 1);
        net[k > 0 ? k : 1] = '\0';
        ro = statvfs("/", &vfs) == 0 ? !!(vfs.f_flag & ST_RDONLY) : -1;
        tmpfs = statfs("/tmp", &fs) == 0 ? fs.f_type == TMPFS_MAGIC_ : -1;
        /* /var is outside every allowed tree of orbital's Landlock rules. */
        fd = open("/var", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        landlock = fd < 0 && errno == EACCES;
        if (fd >= 0)
                close(fd);
        return (size_t)snprintf(buf, n,
                                " uid=%u gid=%u net=%s ro=%d tmpfs=%d capeff=%s capbnd=%s nnp=%s seccomp=%s landlock=%d",
                                (unsigned)getuid(), (unsigned)getgid(), net, ro, tmpfs, capeff, capbnd, nnp,
                                filters, landlock);
}

static void announce(const char *path, long long now_ns)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char msg[512];
        int fd, n;

        if (!path || strlen(path) >= sizeof(sa.sun_path))
                return;
        strcpy(sa.sun_path, path);
        n = snprintf(msg, sizeof(msg), "%ld %lld", (long)getpid(), now_ns);
        n += (int)fingerprint(msg + n, sizeof(msg) - (size_t)n);
        if (n >= (int)sizeof(msg))
                n = (int)sizeof(msg) - 1;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        /* Blocking send: if the driver's queue is full we wait, never drop. */
        sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
}

int main(int argc, char **argv)
{
        struct timespec ts;
        const char *path;

        clock_gettime(CLOCK_MONOTONIC, &ts); /* first: "running" is now */
        path = getenv("BENCH_SOCK");
        if (!path || !*path)
                path = argc > 1 ? argv[1] : NULL;
        announce(path, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
        for (;;)
                pause();
}
