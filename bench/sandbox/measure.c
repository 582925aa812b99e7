/*
 * measure - the sandbox benchmark's driver: starts one peer, takes K
 * spawn-to-running samples, stops it.  Adapted from bench/supervise/measure.c
 * (same socket, same kill-and-wait method, same cleanup), restart latency
 * only, with p90, and the probe's fingerprint of what it was given.
 *
 *     measure --sock PATH --log FILE --kills K [--settle-ms MS]
 *             [--timeout-ms MS] [--stop-signal N] -- COMMAND [ARG...]
 *
 * In order, it:
 *  1. binds the AF_UNIX datagram socket PATH and makes it writable by
 *     every uid (sandboxed probes run as their own user);
 *  2. forks and execs COMMAND (orbitald, or respawn) in a new session,
 *     output to --log, with the stop signal as its parent-death signal;
 *  3. waits for the first probe: "first_ns" is COMMAND's exec -> that
 *     probe's main(), and "fingerprint" what that probe saw;
 *  4. K times: sleeps --settle-ms, reads CLOCK_MONOTONIC (t0), SIGKILLs
 *     the newest probe (its pid came in its datagram), waits for the next
 *     datagram; the sample is the new probe's own timestamp - t0, so the
 *     driver's wake-up is not in it.  The peer must notice the death and
 *     spawn again: death -> notice -> reap -> spawn -> sandbox -> exec ->
 *     main() is all in the sample.  "fingerprint_last" is what the last
 *     probe saw (the sandbox must hold on every respawn, not just the first);
 *  5. stops COMMAND: the stop signal, up to 10 s for it to exit, then
 *     SIGKILL to whatever is left of the tree.  measure is a child
 *     subreaper: every orphan comes back to it and nothing outlives the run.
 *     SIGINT, SIGTERM and SIGHUP lead to the same stop.
 *
 * Results are "key value" lines on stdout: lat_ns (every sample, in
 * order), lat_count, lat_min_ns, lat_median_ns, lat_p90_ns, lat_p99_ns,
 * lat_max_ns, lat_mean_ns (nearest-rank percentiles), and the lines above;
 * each fingerprint ends with pid=own|host (a PID namespace of its own or
 * not) and host_uid=N, the probe's uid as the host sees it.
 * Exit codes: 0 measured, 1 the peer failed a step (an "error" line says
 * which), 100 bad usage, 111 system failure, 130 interrupted.
 */
#define _GNU_SOURCE /* struct ucred, SCM_CREDENTIALS */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_MSEC 1000000LL
#define MAX_TREE 4096

struct opts {
        const char *sock, *log;
        long kills, settle_ms, timeout_ms, stop_ms;
        int stop_signal;
        char **cmd;
};

struct run {
        int sock;
        pid_t root;
        int root_pidfd;
        pid_t last_probe;
        char print[512];   /* fingerprint of the newest datagram */
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
        g_stop = sig;
}

static long long now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
        fprintf(stderr, "measure: fatal: unable to %s: %m\n", what);
        exit(111);
}

static void result(const char *key, long long v)
{
        printf("%s %lld\n", key, v);
        fflush(stdout);
}

static void result_s(const char *key, const char *v)
{
        printf("%s %s\n", key, v);
        fflush(stdout);
}

static bool nap_ms(long ms)
{
        long long end = now_ns() + ms * NSEC_PER_MSEC;
        struct timespec ts;

        while (!g_stop) {
                long long left = end - now_ns();

                if (left <= 0)
                        return true;
                ts.tv_sec = left / 1000000000LL;
                ts.tv_nsec = left % 1000000000LL;
                nanosleep(&ts, NULL);
        }
        return false;
}

/* ---- the probes' socket ---- */

static int bind_sock(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd, size = 1 << 20;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                errno = ENAMETOOLONG;
                die("bind the probe socket");
        }
        strcpy(sa.sun_path, path);
        unlink(path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                die("bind the probe socket");
        /* Sandboxed probes send as their own uid. */
        if (chmod(path, 0666) < 0)
                die("make the probe socket writable");
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        /* The sender's pid as we see it: a probe in a PID namespace
         * knows only its own number there. */
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int)) < 0)
                die("ask for the probes' credentials");
        return fd;
}

/* One datagram, NUL-terminated, and its sender's pid (0 if none came). */
static ssize_t recv_dgram(int fd, char *buf, size_t n, pid_t *sender)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } ctl;
        struct iovec iov = {buf, n - 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
        ssize_t len = recvmsg(fd, &mh, MSG_DONTWAIT);

        *sender = 0;
        if (len <= 0)
                return len;
        buf[len] = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
                        *sender = ((struct ucred *)CMSG_DATA(c))->pid;
        return len;
}

/* "<pid> <ns> fingerprint..."; @sender (when known) is the pid to kill. */
static bool parse_probe(struct run *r, const char *buf, pid_t sender, long long *ts)
{
        long p;
        long long t;
        int end = 0;

        if (sscanf(buf, "%ld %lld%n", &p, &t, &end) != 2)
                return false;
        r->last_probe = sender > 0 ? sender : (pid_t)p;
        *ts = t;
        snprintf(r->print, sizeof(r->print), "%s", buf[end] == ' ' ? buf + end + 1 : buf + end);
        return true;
}

/* Wait until @deadline for one datagram.
 * Return: 1 got one, 0 timeout, -1 stop signal, -2 the peer exited. */
static int recv_probe(struct run *r, long long deadline, long long *ts)
{
        struct pollfd pf[2] = {{r->sock, POLLIN, 0}, {r->root_pidfd, POLLIN, 0}};
        char buf[600];

        for (;;) {
                long long left = deadline - now_ns();
                pid_t sender;
                ssize_t n;

                if (g_stop)
                        return -1;
                if (left <= 0)
                        return 0;
                if (poll(pf, 2, (int)(left / NSEC_PER_MSEC) + 1) < 0 && errno != EINTR)
                        die("poll");
                n = recv_dgram(r->sock, buf, sizeof(buf), &sender);
                if (n > 0) {
                        if (parse_probe(r, buf, sender, ts))
                                return 1;
                } else if (pf[1].revents & POLLIN) {
                        return -2;
                }
        }
}

/* Read every datagram already queued.  Return: how many there were. */
static long drain(struct run *r)
{
        char buf[600];
        long long ts;
        long count = 0;
        pid_t sender;

        while (recv_dgram(r->sock, buf, sizeof(buf), &sender) > 0)
                count += parse_probe(r, buf, sender, &ts);
        return count;
}

static void report_failure(int rc, const char *step)
{
        printf("error %s: %s\n", step,
               rc == 0 ? "timed out" : rc == -2 ? "the peer exited" : "interrupted");
        fflush(stdout);
}

/* The probe's real uid as the host sees it (a user namespace may show the
 * probe another one): /proc/PID/status maps ids into the reader's. */
static long host_uid(pid_t pid)
{
        char path[64], buf[2048], *p;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        p = strstr(buf, "\nUid:");
        return p ? strtol(p + 5, NULL, 10) : -1;
}

/* "own" when the probe runs in a PID namespace of its own (not ours). */
static const char *pid_ns_of(pid_t pid)
{
        char path[64], probe_ns[64] = "", self_ns[64] = "";
        ssize_t a, b;

        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
        a = readlink(path, probe_ns, sizeof(probe_ns) - 1);
        b = readlink("/proc/self/ns/pid", self_ns, sizeof(self_ns) - 1);
        if (a <= 0 || b <= 0)
                return "?";
        return strcmp(probe_ns, self_ns) ? "own" : "host";
}

static void result_fingerprint(const char *key, const struct run *r)
{
        printf("%s %s pid=%s host_uid=%ld\n", key, r->print, pid_ns_of(r->last_probe), host_uid(r->last_probe));
        fflush(stdout);
}

/* ---- starting the peer ---- */

static void exec_peer(const struct opts *o)
{
        int null = open("/dev/null", O_RDONLY);
        int log = open(o->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        sigset_t none;

        if (null < 0 || log < 0)
                _exit(127);
        dup2(null, 0);
        dup2(log, 1);
        dup2(log, 2);
        setsid();
        prctl(PR_SET_PDEATHSIG, o->stop_signal);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        execvp(o->cmd[0], o->cmd);
        dprintf(2, "measure: unable to exec %s: %m\n", o->cmd[0]);
        _exit(127);
}

static bool start_peer(const struct opts *o, struct run *r)
{
        long long t0 = now_ns(), ts;
        char host_net[64] = "?";
        ssize_t k;
        int rc;

        k = readlink("/proc/self/ns/net", host_net, sizeof(host_net) - 1);
        host_net[k > 0 ? k : 1] = '\0';
        result_s("host_net", host_net);
        r->root = fork();
        if (r->root < 0)
                die("fork");
        if (r->root == 0)
                exec_peer(o);
        r->root_pidfd = (int)syscall(SYS_pidfd_open, r->root, 0);
        if (r->root_pidfd < 0)
                die("pidfd_open");
        result("root_pid", r->root);
        rc = recv_probe(r, t0 + o->timeout_ms * NSEC_PER_MSEC, &ts);
        if (rc != 1) {
                report_failure(rc, "first start");
                return false;
        }
        result("first_ns", ts - t0);
        result_fingerprint("fingerprint", r);
        return true;
}

/* ---- samples ---- */

static int cmp_ll(const void *a, const void *b)
{
        long long x = *(const long long *)a, y = *(const long long *)b;

        return (x > y) - (x < y);
}

/* Nearest rank: the smallest value >= @pc % of all. */
static long long percentile(const long long *v, long n, int pc)
{
        long rank = (n * pc + 99) / 100;

        return v[rank > 0 ? rank - 1 : 0];
}

static void report_latencies(long long *lat, long n)
{
        long long sum = 0;

        result("lat_count", n);
        if (n == 0)
                return;
        qsort(lat, (size_t)n, sizeof(*lat), cmp_ll);
        for (long i = 0; i < n; i++)
                sum += lat[i];
        result("lat_min_ns", lat[0]);
        result("lat_median_ns", percentile(lat, n, 50));
        result("lat_p90_ns", percentile(lat, n, 90));
        result("lat_p99_ns", percentile(lat, n, 99));
        result("lat_max_ns", lat[n - 1]);
        result("lat_mean_ns", sum / n);
}

static int one_spawn(const struct opts *o, struct run *r, long long *lat)
{
        long long t0, ts;
        long strays;
        int rc;

        if (!nap_ms(o->settle_ms))
                return -1;
        strays = drain(r);
        if (strays)
                result("stray_starts", strays);
        t0 = now_ns();
        if (kill(r->last_probe, SIGKILL) < 0)
                die("kill the probe");
        rc = recv_probe(r, t0 + o->timeout_ms * NSEC_PER_MSEC, &ts);
        if (rc == 1)
                *lat = ts - t0;
        return rc;
}

static bool measure_spawns(const struct opts *o, struct run *r)
{
        long long *lat = calloc((size_t)o->kills + 1, sizeof(*lat));
        long n = 0;
        int rc = 1;

        if (!lat)
                die("allocate the sample table");
        while (n < o->kills && rc == 1) {
                rc = one_spawn(o, r, &lat[n]);
                if (rc == 1)
                        result("lat_ns", lat[n++]);
        }
        if (rc != 1)
                report_failure(rc, "respawn");
        if (n)
                result_fingerprint("fingerprint_last", r);
        report_latencies(lat, n);
        free(lat);
        return rc == 1;
}

/* ---- stopping ---- */

static pid_t read_ppid(pid_t pid)
{
        char path[64], buf[512], *p;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = 0;
        p = strrchr(buf, ')');
        if (!p || strlen(p) < 5 || p[2] == 'Z')
                return -1;
        return (pid_t)strtol(p + 4, NULL, 10);
}

/* Live descendants of measure (zombies are reaped first). */
static size_t leftovers(pid_t *out, size_t max)
{
        static pid_t pid[MAX_TREE * 4], ppid[MAX_TREE * 4];
        size_t n_all = 0, n = 0;
        struct dirent *e;
        DIR *d;

        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        d = opendir("/proc");
        if (!d)
                die("open /proc");
        while ((e = readdir(d)) && n_all < MAX_TREE * 4) {
                pid_t p = (pid_t)strtol(e->d_name, NULL, 10);

                if (p > 0 && (ppid[n_all] = read_ppid(p)) >= 0)
                        pid[n_all++] = p;
        }
        closedir(d);
        out[n++] = getpid();
        for (size_t k = 0; k < n; k++)
                for (size_t i = 0; i < n_all && n < max; i++)
                        if (ppid[i] == out[k])
                                out[n++] = pid[i];
        memmove(out, out + 1, (n - 1) * sizeof(*out));
        return n - 1;
}

static size_t kill_leftovers(long ms)
{
        static pid_t pids[MAX_TREE];
        long long end = now_ns() + ms * NSEC_PER_MSEC;
        size_t n, killed;

        while ((n = leftovers(pids, MAX_TREE)) && now_ns() < end)
                usleep(20000);
        killed = n;
        for (int round = 0; n && round < 100; round++) {
                for (size_t i = 0; i < n; i++)
                        kill(pids[i], SIGKILL);
                usleep(20000);
                n = leftovers(pids, MAX_TREE);
        }
        return killed;
}

static void stop_peer(const struct opts *o, struct run *r)
{
        struct pollfd pf = {r->root_pidfd, POLLIN, 0};
        long long end;
        bool exited = false;
        int status = 0;

        if (r->root <= 0)
                return;
        kill(r->root, o->stop_signal);
        for (end = now_ns() + o->stop_ms * NSEC_PER_MSEC; !exited && now_ns() < end;)
                exited = poll(&pf, 1, 50) > 0;
        if (!exited) {
                kill(-r->root, SIGKILL);
                kill(r->root, SIGKILL);
        }
        waitpid(r->root, &status, 0);
        result("stop_clean", exited);
        result("stop_leftovers", (long long)kill_leftovers(exited ? 2000 : 0));
}

/* ---- main ---- */

static void usage(void)
{
        fprintf(stderr, "usage: measure --sock PATH --log FILE --kills K [--settle-ms MS]\n"
                        "               [--timeout-ms MS] [--stop-signal N] -- COMMAND...\n");
        exit(100);
}

static void parse(int argc, char **argv, struct opts *o)
{
        static const struct option lo[] = {
                {"sock", 1, 0, 's'},       {"log", 1, 0, 'l'},        {"kills", 1, 0, 'k'},
                {"settle-ms", 1, 0, 'S'},  {"timeout-ms", 1, 0, 't'}, {"stop-signal", 1, 0, 'K'},
                {0, 0, 0, 0},
        };
        int c;

        while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
                switch (c) {
                case 's': o->sock = optarg; break;
                case 'l': o->log = optarg; break;
                case 'k': o->kills = atol(optarg); break;
                case 'S': o->settle_ms = atol(optarg); break;
                case 't': o->timeout_ms = atol(optarg); break;
                case 'K': o->stop_signal = atoi(optarg); break;
                default: usage();
                }
        }
        o->cmd = argv + optind;
        if (!o->sock || !o->log || o->kills < 1 || !o->cmd[0])
                usage();
}

int main(int argc, char **argv)
{
        struct opts o = {.settle_ms = 100, .timeout_ms = 10000, .stop_ms = 10000, .stop_signal = SIGTERM};
        struct run r = {.root_pidfd = -1};
        struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */
        bool ok;

        parse(argc, argv, &o);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                die("become a subreaper");
        r.sock = bind_sock(o.sock);
        ok = start_peer(&o, &r) && measure_spawns(&o, &r);
        if (g_stop)
                result_s("error", "interrupted");
        stop_peer(&o, &r);
        unlink(o.sock);
        if (g_stop)
                return 130;
        return ok ? 0 : 1;
}
