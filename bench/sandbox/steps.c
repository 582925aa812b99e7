/*
 * steps - where the time of orbital's sandbox goes, step by step, measured
 * with orbital's own code (linked from build-bench's liborb-supervisor.a).
 *
 *     steps --read-only DIR [--iterations N] [--settle-ms MS] [--uid U]
 *           [--host-net]
 *     steps --read-only DIR [--host-net] --export-bpf FILE
 *
 * DIR holds the benchmark's probe (DIR/probe).  Per iteration, as orbitald
 * does for each spawn of a sandboxed service (src/core/supervisor/service.c,
 * spawn.c, src/core/sandbox/):
 *   parent:  seccomp_plan_build()   libseccomp compiles the filter
 *            landlock_plan_build()  ruleset + one rule per allowed tree
 *   child, started as spawn.c starts it (clone(CLONE_VM | CLONE_VFORK):
 *   it shares our memory, we wait until it execs), in spawn.c's order:
 *            unshare(mount|IPC|UTS)  \ orbitald makes one unshare() call;
 *            unshare(net)            / split here to show the network's share
 *            sandbox_mounts_apply()  read-only /, private /tmp, DIR again
 *            caps_plan_apply_before_ids()  bounding set
 *            setgroups+setresgid+setresuid (raw, as spawn.c)
 *            caps_plan_apply_after_ids()
 *            prctl(PR_SET_NO_NEW_PRIVS)
 *            landlock_plan_apply()  system rules + restrict_self
 *            seccomp_plan_apply()   load the filter
 *            execve(DIR/probe) -> the probe's main() ("exec": the loader's
 *                                  opens and mmaps now pass Landlock and
 *                                  the filter), from the probe's datagram
 *   then SIGKILL -> waitpid() returning ("exit": the dead process's
 *   namespaces are torn down on its exit path, before any supervisor can
 *   see it die; a network namespace partly later, in a kernel worker).
 * "exec_plain" and "exit_plain" are the same for a child without any
 * sandbox, started right after.  Every step is timed with CLOCK_MONOTONIC;
 * --settle-ms between iterations (default 100, like the benchmark's pause
 * before each kill).  Prints "step_NAME_median_ns V" and "step_NAME_p90_ns V"
 * lines, nearest rank.
 *
 * A fork() instead of the vfork-style clone would make every page the
 * parent touches afterwards (the next seccomp compile) take a copy-on-write
 * fault, and inflate the parent's steps; orbitald avoids that, so do we.
 *
 * --host-net: no network namespace and no socket filter, as for a service
 * with a net.* permission.  --export-bpf FILE: write the compiled filter
 * (struct sock_filter[]) to FILE and exit: bwrap --seccomp reads that
 * format, so the bubblewrap + seccomp row runs orbital's very filter.
 *
 * Exit codes: 0, 1 a step failed (which, on stderr), 100 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

enum step {
        S_SECCOMP_BUILD,
        S_LANDLOCK_BUILD,
        S_UNSHARE_NS,
        S_UNSHARE_NET,
        S_MOUNTS,
        S_BOUNDING,
        S_IDS,
        S_CAPS,
        S_NNP,
        S_LANDLOCK,
        S_SECCOMP,
        S_CHILD_TOTAL,
        S_EXEC,
        S_EXIT,
        S_EXEC_PLAIN,
        S_EXIT_PLAIN,
        S_COUNT
};

static const char *const step_names[S_COUNT] = {
        "seccomp_build", "landlock_build", "unshare_ns", "unshare_net", "mounts",     "bounding",
        "ids",           "caps",           "nnp",        "landlock",    "seccomp",    "child_total",
        "exec",          "exit",           "exec_plain", "exit_plain",
};

static long long now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
        long long x = *(const long long *)a, y = *(const long long *)b;

        return (x > y) - (x < y);
}

static long long percentile(long long *v, long n, int pc)
{
        long rank = (n * pc + 99) / 100;

        qsort(v, (size_t)n, sizeof(*v), cmp_ll);
        return v[rank > 0 ? rank - 1 : 0];
}

struct child_arg {
        bool sandbox;                   /* false: plain exec */
        const struct sandbox_spec *spec;
        const struct seccomp_plan *sc;
        const struct landlock_plan *ll;
        const struct caps_plan *caps;
        bool host_net;
        unsigned uid;
        char *const *argv;              /* the probe */
        long long *t;                   /* S_COUNT entries, ours (shared memory) */
        long long exec_start;           /* CLOCK_MONOTONIC just before execve */
        const char *failed_step;
        int failed_err;
};

/* The child: its own stack only, results straight into the parent's memory. */
static int child(void *p)
{
        static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
        struct child_arg *c = p;
        long long *t = c->t, a = now_ns(), start = a, b;
        const char *failed = NULL;
        int r = 0;

#define STEP(s)                                                                                                \
        do {                                                                                                   \
                b = now_ns();                                                                                  \
                t[s] = b - a;                                                                                  \
                a = b;                                                                                         \
        } while (0)
#define FAIL(what, err)                                                                                        \
        do {                                                                                                   \
                c->failed_step = (what);                                                                       \
                c->failed_err = (err);                                                                         \
                _exit(1);                                                                                      \
        } while (0)
        if (c->sandbox) {
                if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
                        FAIL("unshare", errno);
                STEP(S_UNSHARE_NS);
                if (!c->host_net && unshare(CLONE_NEWNET) < 0)
                        FAIL("unshare net", errno);
                STEP(S_UNSHARE_NET);
                if ((r = sandbox_mounts_apply(c->spec, false, NULL, &failed)) < 0)
                        FAIL(failed ? failed : "mounts", -r);
                STEP(S_MOUNTS);
                if ((r = caps_plan_apply_before_ids(c->caps)) < 0)
                        FAIL("bounding set", -r);
                STEP(S_BOUNDING);
                if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, c->uid, c->uid, c->uid) < 0 ||
                    syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0)
                        FAIL("ids", errno);
                STEP(S_IDS);
                if ((r = caps_plan_apply_after_ids(c->caps)) < 0)
                        FAIL("capabilities", -r);
                STEP(S_CAPS);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        FAIL("no_new_privs", errno);
                STEP(S_NNP);
                /* landlock_plan_apply() closes what it is given: a copy. */
                if ((r = landlock_plan_apply(c->ll, fcntl(c->ll->ruleset_fd, F_DUPFD_CLOEXEC, 3))) < 0)
                        FAIL("landlock", -r);
                STEP(S_LANDLOCK);
                if ((r = seccomp_plan_apply(c->sc)) < 0)
                        FAIL("seccomp", -r);
                STEP(S_SECCOMP);
                t[S_CHILD_TOTAL] = a - start;
        }
        c->exec_start = now_ns();
        execve(c->argv[0], c->argv, envp);
        FAIL("execve", errno);
}

static char child_stack[256u << 10] __attribute__((aligned(64)));

static void die(const char *what)
{
        fprintf(stderr, "steps: unable to %s: %m\n", what);
        exit(1);
}

/*
 * Start the probe through @c as spawn.c would, wait for its datagram on
 * @sock, SIGKILL it and reap it.  *@exec_ns: exec start -> its main();
 * *@exit_ns: the kill -> waitpid() returning.
 */
static void run_probe(struct child_arg *c, int sock, long long *exec_ns, long long *exit_ns)
{
        struct pollfd pf = {sock, POLLIN, 0};
        char buf[600];
        long long ts, t0;
        int status;
        ssize_t k;
        pid_t pid;

        c->failed_step = NULL;
        pid = clone(child, child_stack + sizeof(child_stack), CLONE_VM | CLONE_VFORK | SIGCHLD, c);
        if (pid < 0)
                die("clone");
        /* We are back: the child has exec'd or died. */
        if (c->failed_step) {
                waitpid(pid, &status, 0);
                errno = c->failed_err;
                fprintf(stderr, "steps: child: %s: %m\n", c->failed_step);
                exit(1);
        }
        if (poll(&pf, 1, 5000) != 1 || (k = recv(sock, buf, sizeof(buf) - 1, 0)) <= 0)
                die("hear from the probe");
        buf[k] = '\0';
        if (sscanf(buf, "%*d %lld", &ts) != 1)
                die("parse the probe's datagram");
        *exec_ns = ts - c->exec_start;
        t0 = now_ns();
        kill(pid, SIGKILL);
        if (waitpid(pid, &status, 0) < 0)
                die("reap the probe");
        *exit_ns = now_ns() - t0;
}

static int bind_sock(const char *dir, char *path, size_t n)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;

        snprintf(path, n, "%s/steps.sock", dir);
        if (strlen(path) >= sizeof(sa.sun_path)) {
                errno = ENAMETOOLONG;
                die("name the socket");
        }
        strcpy(sa.sun_path, path);
        unlink(path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0)
                die("bind the socket");
        return fd;
}

static int export_bpf(const struct sandbox_spec *spec, bool host_net, const char *path)
{
        struct seccomp_plan sc;
        char why[256];
        FILE *f;
        int r = seccomp_plan_build(spec, !host_net, &sc, why, sizeof(why));

        if (r < 0) {
                fprintf(stderr, "steps: seccomp_plan_build: %s %s\n", strerror(-r), why);
                return 1;
        }
        f = fopen(path, "we");
        if (!f || fwrite(sc.filter, 8, sc.len, f) != sc.len || fclose(f) != 0) {
                fprintf(stderr, "steps: unable to write %s: %m\n", path);
                return 1;
        }
        printf("bpf_instructions %u\n", (unsigned)sc.len);
        seccomp_plan_free(&sc);
        return 0;
}

int main(int argc, char **argv)
{
        char *ro[2] = {NULL, NULL}, *none[1] = {NULL};
        struct sandbox_spec spec = {.enabled = true, .read_only = ro, .read_write = none,
                                    .syscalls_allow = none, .syscalls_deny = none};
        const char *bpf_out = NULL;
        long iterations = 200, settle_ms = 100, n = 0;
        unsigned uid = 61183;
        bool host_net = false;
        long long *samples[S_COUNT];
        struct caps_plan caps;
        char why[256], probe[4096], sock_path[4096];
        char *probe_argv[3] = {probe, sock_path, NULL};
        int sock;

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--read-only") && i + 1 < argc)
                        ro[0] = argv[++i];
                else if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
                        iterations = atol(argv[++i]);
                else if (!strcmp(argv[i], "--settle-ms") && i + 1 < argc)
                        settle_ms = atol(argv[++i]);
                else if (!strcmp(argv[i], "--uid") && i + 1 < argc)
                        uid = (unsigned)atol(argv[++i]);
                else if (!strcmp(argv[i], "--host-net"))
                        host_net = true;
                else if (!strcmp(argv[i], "--export-bpf") && i + 1 < argc)
                        bpf_out = argv[++i];
                else
                        goto usage;
        }
        if (!ro[0] || iterations < 1)
                goto usage;
        if (bpf_out)
                return export_bpf(&spec, host_net, bpf_out);
        snprintf(probe, sizeof(probe), "%s/probe", ro[0]);
        if (access(probe, X_OK) < 0)
                die("find DIR/probe");
        sock = bind_sock(ro[0], sock_path, sizeof(sock_path));
        for (int s = 0; s < S_COUNT; s++)
                if (!(samples[s] = calloc((size_t)iterations, sizeof(long long))))
                        die("allocate");
        caps_plan_build(NULL, &caps);
        for (; n < iterations; n++) {
                struct seccomp_plan sc;
                struct landlock_plan ll;
                long long t[S_COUNT] = {0}, a = now_ns(), b;
                struct child_arg c = {.sandbox = true, .spec = &spec, .sc = &sc, .ll = &ll, .caps = &caps,
                                      .host_net = host_net, .uid = uid, .argv = probe_argv, .t = t};
                struct child_arg plain = {.argv = probe_argv, .t = t};
                int r;

                if ((r = seccomp_plan_build(&spec, !host_net, &sc, why, sizeof(why))) < 0) {
                        fprintf(stderr, "steps: seccomp_plan_build: %s %s\n", strerror(-r), why);
                        return 1;
                }
                b = now_ns();
                t[S_SECCOMP_BUILD] = b - a;
                if ((r = landlock_plan_build(&spec, NULL, &ll, why, sizeof(why))) < 0) {
                        fprintf(stderr, "steps: landlock_plan_build: %s %s\n", strerror(-r), why);
                        return 1;
                }
                t[S_LANDLOCK_BUILD] = now_ns() - b;
                run_probe(&c, sock, &t[S_EXEC], &t[S_EXIT]);
                seccomp_plan_free(&sc);
                landlock_plan_free(&ll);
                usleep((useconds_t)settle_ms * 500);
                run_probe(&plain, sock, &t[S_EXEC_PLAIN], &t[S_EXIT_PLAIN]);
                for (int s = 0; s < S_COUNT; s++)
                        samples[s][n] = t[s];
                usleep((useconds_t)settle_ms * 500);
        }
        unlink(sock_path);
        printf("iterations %ld\n", n);
        for (int s = 0; s < S_COUNT; s++) {
                printf("step_%s_median_ns %lld\n", step_names[s], percentile(samples[s], n, 50));
                printf("step_%s_p90_ns %lld\n", step_names[s], percentile(samples[s], n, 90));
        }
        return 0;
usage:
        fprintf(stderr, "usage: steps --read-only DIR [--iterations N] [--settle-ms MS] [--uid U] [--host-net]\n"
                        "       steps --read-only DIR [--host-net] --export-bpf FILE\n");
        return 100;
}
