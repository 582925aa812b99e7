/*
 * measure - the benchmark driver: starts one supervisor, measures it, stops it.
 *
 *     measure --sock PATH --services N [options] -- COMMAND [ARG...]
 *
 * The run script sets up N services for one tool and calls this once per
 * tool and scenario.  In order, it:
 *
 *  1. binds the AF_UNIX datagram socket PATH that every probe reports to;
 *  2. reads CLOCK_MONOTONIC (t0), forks, and execs COMMAND (the supervisor)
 *     in a new session, output to --log, with the stop signal (below) as
 *     its parent-death signal;
 *  3. waits for N datagrams: startup = the latest probe timestamp - t0;
 *  4. with --quiet-ms, lets the tree settle, then with --memory sums the
 *     Pss, Private and Rss (/proc/PID/smaps_rollup) of the supervision tree:
 *     COMMAND and all its descendants, except processes running the probe
 *     (--probe, compared with /proc/PID/exe);
 *  5. with --idle-ms, sums voluntary + involuntary context switches of every
 *     thread of the tree over that window (each wake-up of a sleeping
 *     process is one switch);
 *  6. with --kills K, K times: sleeps --settle-ms, reads t0, SIGKILLs the
 *     newest probe, waits for the next datagram; latency = its timestamp -
 *     t0, i.e. crash to new process running, measured by the new process;
 *  7. stops the tool: --stop-signal (default SIGTERM; runsvdir exits on
 *     SIGTERM without stopping anything, it needs SIGHUP) to COMMAND, up to
 *     --stop-ms for it to exit,
 *     then SIGKILL to whatever it left behind.  measure is a child
 *     subreaper, so every orphan of the tree comes back to it and nothing
 *     outlives the run.  SIGINT, SIGTERM and SIGHUP go to the same stop.
 *
 * Results are "key value" lines on stdout, read by the run script.
 * Exit codes: 0 measured, 1 the tool failed a step (an "error" line says
 * which), 100 bad usage, 111 system failure, 130 interrupted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_MSEC 1000000LL
#define MAX_TREE 65536

struct opts {
        const char *sock;  /* socket path the probes send to */
        const char *log;   /* COMMAND's stdout and stderr */
        const char *probe; /* probe binary, excluded from the tree */
        long services;     /* N: datagrams that mean "all running" */
        long kills;        /* restart-latency samples */
        long settle_ms;    /* pause before each kill */
        long quiet_ms;     /* pause between startup and memory/idle */
        long idle_ms;      /* idle window; 0 = skip */
        long timeout_ms;   /* startup and per-restart limit */
        long stop_ms;      /* grace after the stop signal */
        int stop_signal;   /* what stops the tool (runsvdir: SIGHUP) */
        bool memory;       /* measure memory of the tree */
        char **cmd;        /* borrowed from argv */
};

struct run {
        int sock;          /* bound datagram socket */
        pid_t root;        /* COMMAND */
        int root_pidfd;    /* readable once COMMAND has exited */
        pid_t last_probe;  /* pid of the newest datagram */
        char probe_exe[PATH_MAX];
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

static void error_line(const char *what)
{
        printf("error %s\n", what);
        fflush(stdout);
}

/* Sleep @ms unless a stop signal arrives.  Return: false if interrupted. */
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
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, size = 4 << 20;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                errno = ENAMETOOLONG;
                die("bind the probe socket");
        }
        strcpy(sa.sun_path, path);
        unlink(path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                die("bind the probe socket");
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        return fd;
}

static bool parse_probe(const char *buf, pid_t *pid, long long *ts)
{
        long p;
        long long t;

        if (sscanf(buf, "%ld %lld", &p, &t) != 2)
                return false;
        *pid = (pid_t)p;
        *ts = t;
        return true;
}

/*
 * Wait until @deadline for one probe datagram.
 * Return: 1 got one, 0 timeout, -1 stop signal, -2 the tool exited.
 */
static int recv_probe(struct run *r, long long deadline, long long *ts)
{
        struct pollfd pf[2] = { { r->sock, POLLIN, 0 }, { r->root_pidfd, POLLIN, 0 } };
        char buf[128];

        for (;;) {
                long long left = deadline - now_ns();
                ssize_t n;

                if (g_stop)
                        return -1;
                if (left <= 0)
                        return 0;
                if (poll(pf, 2, (int)(left / NSEC_PER_MSEC) + 1) < 0 && errno != EINTR)
                        die("poll");
                n = recv(r->sock, buf, sizeof(buf) - 1, MSG_DONTWAIT);
                if (n > 0) {
                        buf[n] = 0;
                        if (parse_probe(buf, &r->last_probe, ts))
                                return 1;
                } else if (pf[1].revents & POLLIN) {
                        return -2;
                }
        }
}

/* Read every datagram already queued.  Return: how many there were. */
static long drain(struct run *r)
{
        char buf[128];
        long long ts;
        long count = 0;
        ssize_t n;

        while ((n = recv(r->sock, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
                buf[n] = 0;
                if (parse_probe(buf, &r->last_probe, &ts))
                        count++;
        }
        return count;
}

static void report_recv_failure(int rc, const char *step)
{
        char what[128];

        snprintf(what, sizeof(what), "%s: %s", step,
                 rc == 0 ? "timed out" : rc == -2 ? "the supervisor exited" : "interrupted");
        error_line(what);
}

/* ---- starting the tool ---- */

static void exec_tool(const struct opts *o)
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
        /* If measure dies, the tool is told to stop like at the end of a run. */
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

/* Start the tool, wait for N first datagrams.  Return: false on failure. */
static bool start_tool(const struct opts *o, struct run *r)
{
        long long t0 = now_ns(), last = 0, ts;

        r->root = fork();
        if (r->root < 0)
                die("fork");
        if (r->root == 0)
                exec_tool(o);
        r->root_pidfd = (int)syscall(SYS_pidfd_open, r->root, 0);
        if (r->root_pidfd < 0)
                die("pidfd_open");
        result("root_pid", r->root);
        for (long i = 0; i < o->services; i++) {
                int rc = recv_probe(r, t0 + o->timeout_ms * NSEC_PER_MSEC, &ts);

                if (rc != 1) {
                        result("started", i);
                        report_recv_failure(rc, "startup");
                        return false;
                }
                if (ts > last)
                        last = ts;
        }
        result("startup_ns", last - t0);
        return true;
}

/* ---- the supervision tree in /proc ---- */

struct proc {
        pid_t pid;
        pid_t ppid;
};

/* Parent of @pid, or -1 if it is gone or a zombie (nothing left to measure). */
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
        p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
        if (!p || strlen(p) < 5 || p[2] == 'Z')
                return -1;
        return (pid_t)strtol(p + 4, NULL, 10); /* ") S ppid" */
}

static size_t list_procs(struct proc *all, size_t max)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        size_t n = 0;

        if (!d)
                die("open /proc");
        while ((e = readdir(d)) && n < max) {
                pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);

                if (pid <= 0)
                        continue;
                all[n].pid = pid;
                all[n].ppid = read_ppid(pid);
                if (all[n].ppid >= 0)
                        n++;
        }
        closedir(d);
        return n;
}

/*
 * Collect the live descendants of @top into @out, and @top itself first if
 * @with_top.  Return: how many.
 */
static size_t descendants(pid_t top, bool with_top, pid_t *out, size_t max)
{
        static struct proc all[MAX_TREE];
        size_t n_all = list_procs(all, MAX_TREE), n = 0;

        out[n++] = top; /* seed of the walk */
        for (size_t k = 0; k < n; k++)
                for (size_t i = 0; i < n_all && n < max; i++)
                        if (all[i].ppid == out[k])
                                out[n++] = all[i].pid;
        if (with_top)
                return n;
        memmove(out, out + 1, (n - 1) * sizeof(*out));
        return n - 1;
}

static bool is_probe(const struct run *r, pid_t pid)
{
        char path[64], exe[PATH_MAX];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
        n = readlink(path, exe, sizeof(exe) - 1);
        if (n <= 0)
                return false;
        exe[n] = 0;
        return strcmp(exe, r->probe_exe) == 0;
}

/* The supervision tree: the tool and its descendants, without probes. */
static size_t tree(const struct run *r, pid_t *out, size_t max)
{
        size_t n = descendants(r->root, true, out, max), k = 0;

        for (size_t i = 0; i < n; i++)
                if (!is_probe(r, out[i]))
                        out[k++] = out[i];
        return k;
}

/* ---- memory ---- */

struct mem {
        long long pss, priv, rss; /* KiB */
};

static void add_rollup(pid_t pid, struct mem *m)
{
        char path[64], line[256];
        long long v;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "Pss: %lld", &v) == 1)
                        m->pss += v;
                else if (sscanf(line, "Rss: %lld", &v) == 1)
                        m->rss += v;
                else if (sscanf(line, "Private_Clean: %lld", &v) == 1)
                        m->priv += v;
                else if (sscanf(line, "Private_Dirty: %lld", &v) == 1)
                        m->priv += v;
        }
        fclose(f);
}

static void measure_memory(const struct run *r)
{
        static pid_t pids[MAX_TREE];
        size_t n = tree(r, pids, MAX_TREE);
        struct mem m = { 0, 0, 0 };

        for (size_t i = 0; i < n; i++)
                add_rollup(pids[i], &m);
        result("tree_procs", (long long)n);
        result("tree_pss_kib", m.pss);
        result("tree_private_kib", m.priv);
        result("tree_rss_kib", m.rss);
}

/* ---- idle wake-ups ---- */

static long long task_switches(pid_t pid, const char *tid)
{
        char path[320], line[256];
        long long v, sum = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, tid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1 ||
                    sscanf(line, "nonvoluntary_ctxt_switches: %lld", &v) == 1)
                        sum += v;
        fclose(f);
        return sum;
}

/* Context switches of every thread of @pid so far. */
static long long switches(pid_t pid)
{
        char path[64];
        struct dirent *e;
        long long sum = 0;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        d = opendir(path);
        if (!d)
                return 0;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        sum += task_switches(pid, e->d_name);
        closedir(d);
        return sum;
}

static bool measure_idle(const struct opts *o, const struct run *r)
{
        static pid_t pids[MAX_TREE];
        static long long before[MAX_TREE];
        size_t n = tree(r, pids, MAX_TREE);
        long long total = 0, woken = 0;
        long strays;

        for (size_t i = 0; i < n; i++)
                before[i] = switches(pids[i]);
        if (!nap_ms(o->idle_ms))
                return false;
        for (size_t i = 0; i < n; i++) {
                long long d = switches(pids[i]) - before[i];

                total += d > 0 ? d : 0;
                woken += d > 0;
        }
        strays = drain((struct run *)r);
        result("idle_ms", o->idle_ms);
        result("idle_switches", total);
        result("idle_procs_woken", woken);
        result("idle_stray_starts", strays);
        return true;
}

/* ---- restart latency ---- */

static int cmp_ll(const void *a, const void *b)
{
        long long x = *(const long long *)a, y = *(const long long *)b;

        return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @v: the smallest value >= pc % of all. */
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
        result("lat_p99_ns", percentile(lat, n, 99));
        result("lat_max_ns", lat[n - 1]);
        result("lat_mean_ns", sum / n);
}

/* One kill.  Return: 1 measured into @lat, else recv_probe()'s code. */
static int one_restart(const struct opts *o, struct run *r, long long *lat)
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

static bool measure_restarts(const struct opts *o, struct run *r)
{
        long long *lat = calloc((size_t)o->kills, sizeof(*lat));
        long n = 0;
        int rc = 1;

        if (!lat)
                die("allocate the latency table");
        while (n < o->kills && rc == 1) {
                rc = one_restart(o, r, &lat[n]);
                if (rc == 1)
                        result("lat_ns", lat[n++]);
        }
        if (rc != 1)
                report_recv_failure(rc, "restart");
        report_latencies(lat, n);
        free(lat);
        return rc == 1;
}

/* ---- stopping ---- */

/* Wait for the root to exit, up to @ms.  Return: true if it did. */
static bool wait_root(struct run *r, long ms)
{
        struct pollfd pf = { r->root_pidfd, POLLIN, 0 };
        long long end = now_ns() + ms * NSEC_PER_MSEC;

        while (now_ns() < end) {
                if (poll(&pf, 1, 50) > 0)
                        return true;
        }
        return false;
}

static void reap_all(void)
{
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

/* Live descendants of measure, zombies excluded (they are ours to reap). */
static size_t live_leftovers(pid_t *out, size_t max)
{
        size_t n;

        reap_all();
        n = descendants(getpid(), false, out, max);
        return n;
}

/*
 * Give what the root left behind up to @ms to exit by itself, then SIGKILL
 * it.  Return: how many processes had to be killed.
 */
static size_t kill_leftovers(long ms)
{
        static pid_t pids[MAX_TREE];
        long long end = now_ns() + ms * NSEC_PER_MSEC;
        size_t n, killed = 0;

        while ((n = live_leftovers(pids, MAX_TREE)) && now_ns() < end)
                usleep(20000);
        killed = n;
        for (int round = 0; n && round < 100; round++) {
                for (size_t i = 0; i < n; i++)
                        kill(pids[i], SIGKILL);
                usleep(20000);
                n = live_leftovers(pids, MAX_TREE);
        }
        reap_all();
        return killed;
}

static void stop_tool(const struct opts *o, struct run *r)
{
        long long t0 = now_ns();
        bool exited;
        int status = 0;

        kill(r->root, o->stop_signal);
        exited = wait_root(r, o->stop_ms);
        if (!exited) {
                kill(-r->root, SIGKILL);
                kill(r->root, SIGKILL);
        }
        waitpid(r->root, &status, 0);
        result("stop_ms", (now_ns() - t0) / NSEC_PER_MSEC);
        result("stop_clean", exited);
        result("stop_status", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        result("stop_leftovers", (long long)kill_leftovers(exited ? 2000 : 0));
}

/* ---- main ---- */

static void usage(void)
{
        fprintf(stderr,
                "usage: measure --sock PATH --services N --probe PATH --log FILE\n"
                "               [--kills K --settle-ms MS] [--memory] [--quiet-ms MS]\n"
                "               [--idle-ms MS] [--timeout-ms MS] [--stop-ms MS]\n"
                "               [--stop-signal NUMBER] -- COMMAND...\n");
        exit(100);
}

static void parse(int argc, char **argv, struct opts *o)
{
        static const struct option lo[] = {
                { "sock", 1, 0, 's' },     { "services", 1, 0, 'n' },
                { "kills", 1, 0, 'k' },    { "settle-ms", 1, 0, 'S' },
                { "quiet-ms", 1, 0, 'q' }, { "idle-ms", 1, 0, 'i' },
                { "timeout-ms", 1, 0, 't' }, { "stop-ms", 1, 0, 'T' },
                { "memory", 0, 0, 'm' },   { "log", 1, 0, 'l' },
                { "probe", 1, 0, 'p' },    { "stop-signal", 1, 0, 'K' },
                { 0, 0, 0, 0 },
        };
        int c;

        while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
                switch (c) {
                case 's': o->sock = optarg; break;
                case 'n': o->services = atol(optarg); break;
                case 'k': o->kills = atol(optarg); break;
                case 'S': o->settle_ms = atol(optarg); break;
                case 'q': o->quiet_ms = atol(optarg); break;
                case 'i': o->idle_ms = atol(optarg); break;
                case 't': o->timeout_ms = atol(optarg); break;
                case 'T': o->stop_ms = atol(optarg); break;
                case 'm': o->memory = true; break;
                case 'l': o->log = optarg; break;
                case 'p': o->probe = optarg; break;
                case 'K': o->stop_signal = atoi(optarg); break;
                default: usage();
                }
        }
        o->cmd = argv + optind;
        if (!o->sock || !o->log || !o->probe || o->services < 1 || !o->cmd[0])
                usage();
}

static void setup_signals(void)
{
        struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */

        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                die("become a subreaper");
}

/* Steps 3 to 6 of the file comment.  Return: false if one failed. */
static bool measure_all(const struct opts *o, struct run *r)
{
        if (!start_tool(o, r))
                return false;
        if ((o->memory || o->idle_ms) && !nap_ms(o->quiet_ms))
                return false;
        if (o->memory)
                measure_memory(r);
        if (o->idle_ms && !measure_idle(o, r))
                return false;
        if (o->kills && !measure_restarts(o, r))
                return false;
        return true;
}

int main(int argc, char **argv)
{
        struct opts o = { .kills = 0, .settle_ms = 100, .quiet_ms = 1000,
                          .timeout_ms = 60000, .stop_ms = 10000,
                          .stop_signal = SIGTERM };
        struct run r = { .root_pidfd = -1 };
        bool ok;

        parse(argc, argv, &o);
        if (!realpath(o.probe, r.probe_exe))
                die("resolve the probe path");
        setup_signals();
        r.sock = bind_sock(o.sock);
        ok = measure_all(&o, &r);
        if (g_stop)
                error_line("interrupted");
        stop_tool(&o, &r);
        unlink(o.sock);
        if (g_stop)
                return 130;
        return ok ? 0 : 1;
}
