/*
 * Process creation with the child set up in a fixed order:
 *   own descriptor table -> signals reset -> stdio, bus and notify fds ->
 *   new session -> cgroup -> rlimits -> sandbox: namespaces, mounts,
 *   bounding set -> ids -> sandbox: capabilities, no_new_privs, Landlock,
 *   seccomp -> directory -> execve
 * A sandboxed service starts in the PID namespace of its holder, an
 * orb-init process spawn_process() also starts (is_pid_holder): the parent
 * enters that namespace for the one clone (setns(CLONE_NEWPID) only
 * changes where our children go), so the service is our own child, its
 * exit is ours to see at once, and a restart reuses the namespace.
 * stdio comes first so that every later error reaches the service's log;
 * the program was already found in the service's PATH by the parent; ids
 * come after rlimits (raising limits needs privilege).
 * Every descriptor orbitald holds is O_CLOEXEC; close_range() also drops
 * any a library leaked without it.
 *
 * Why clone(CLONE_VM | CLONE_VFORK) and not fork(): fork copies orbitald's
 * page tables and then makes orbitald pay a copy-on-write fault for every
 * page it touches afterwards; with 1,000 services that was most of the
 * boot time.  Like glibc's posix_spawn, the child here borrows our memory
 * on its own stack while we wait, until it execs or exits.  It must
 * therefore change nothing but its own stack and kernel state: no malloc,
 * no stdio buffers, and ids are switched with raw system calls (glibc's
 * setuid() would try to signal "our" threads).  CLONE_PIDFD hands us a
 * pidfd atomically.  Under AddressSanitizer the child's frames would
 * poison shadow memory we share, so sanitizer builds use fork().
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/spawn.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/*
 * Descriptor slots reserved at start-up (spawn_init): just before a clone
 * the parent places the child's descriptors here, so the child can drop
 * the rest of orbitald's (large) table with close_range(CLOSE_RANGE_UNSHARE),
 * which copies only slots 0..6 instead of every descriptor we hold.
 */
enum {
        SLOT_OUT = 3,
        SLOT_ERR = 4,
        SLOT_NOTIFY = 5,
        SLOT_BUS = 6,
        SLOT_LANDLOCK = 7,
        SLOT_NULL = 8,
        SLOT_INIT = 9,          /* orb-init, for a PID namespace's holder */
        SLOT_KEPT = 10,         /* kept namespaces to join: 10..12 (spawn.h) */
        SLOT_END = SLOT_KEPT + KEPT_N,
};

static const int kept_flags[KEPT_N] = {CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS};

/* The stack of a child that shares our memory until it executes. */
#define CHILD_STACK_SIZE (256u << 10)

/* The only signal dispositions orbitald changes (main.c); the child
 * restores them.  Everything else is still at its default. */
static const int changed_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE};

/* Our own PID namespace, to return to after starting a child in a
 * service's (spawn_process()); -1 when /proc could not tell it. */
static int self_pid_ns = -1;

int spawn_init(void)
{
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        for (int slot = SLOT_OUT; slot < SLOT_END; slot++)
                if (fd != slot && dup3(fd, slot, O_CLOEXEC) < 0)
                        return -errno;
        if (fd >= SLOT_END)
                close(fd);
        self_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        return 0;
}

bool spawn_can_enter_pid_ns(void)
{
        return self_pid_ns >= 0;
}

/* Appends @s at *pos in @buf (of @n bytes), truncating: no stdio here. */
static void child_cat(char *buf, size_t n, size_t *pos, const char *s)
{
        size_t len = strlen(s);

        if (len > n - 1 - *pos)
                len = n - 1 - *pos;
        memcpy(buf + *pos, s, len);
        *pos += len;
        buf[*pos] = '\0';
}

/* The child shares our memory: it writes its last words by hand, with
 * the untranslated (static) error text, and never touches stdio. */
static _Noreturn void child_die2(int code, const char *what, const char *arg)
{
        const char *err = strerrordesc_np(errno);
        char msg[512];
        size_t pos = 0;

        child_cat(msg, sizeof(msg), &pos, "orbitald: unable to ");
        child_cat(msg, sizeof(msg), &pos, what);
        child_cat(msg, sizeof(msg), &pos, arg ? arg : "");
        child_cat(msg, sizeof(msg), &pos, ": ");
        child_cat(msg, sizeof(msg), &pos, err ? err : "unknown error");
        child_cat(msg, sizeof(msg), &pos, "\n");
        (void)!write(STDERR_FILENO, msg, pos);
        _exit(code);
}

static _Noreturn void child_die(int code, const char *what)
{
        child_die2(code, what, NULL);
}

static void child_reset_signals(void)
{
        sigset_t none;
        struct sigaction dfl = {.sa_handler = SIG_DFL};

        for (size_t i = 0; i < sizeof(changed_signals) / sizeof(changed_signals[0]); i++)
                sigaction(changed_signals[i], &dfl, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Parent: put the child's descriptors in their slots (and back after). */
static int stage_fds(const struct spawn_req *req)
{
        if (dup3(req->stdout_fd >= 0 ? req->stdout_fd : SLOT_NULL, SLOT_OUT, O_CLOEXEC) < 0 ||
            dup3(req->stderr_fd >= 0 ? req->stderr_fd : SLOT_NULL, SLOT_ERR, O_CLOEXEC) < 0 ||
            dup3(req->notify_fd >= 0 ? req->notify_fd : SLOT_NULL, SLOT_NOTIFY, O_CLOEXEC) < 0 ||
            dup3(req->bus_fd >= 0 ? req->bus_fd : SLOT_NULL, SLOT_BUS, O_CLOEXEC) < 0 ||
            dup3(req->landlock ? req->landlock->ruleset_fd : SLOT_NULL, SLOT_LANDLOCK, O_CLOEXEC) < 0 ||
            dup3(req->init_fd >= 0 ? req->init_fd : SLOT_NULL, SLOT_INIT, O_CLOEXEC) < 0)
                return -errno;
        for (int i = 0; i < KEPT_N; i++)
                if (dup3(req->kept && req->kept->fd[i] >= 0 ? req->kept->fd[i] : SLOT_NULL, SLOT_KEPT + i,
                         O_CLOEXEC) < 0)
                        return -errno;
        return 0;
}

static void unstage_fds(void)
{
        /* Drops our references to the child's pipe ends, so EOF works. */
        for (int slot = SLOT_OUT; slot < SLOT_END; slot++)
                if (slot != SLOT_NULL)
                        dup3(SLOT_NULL, slot, O_CLOEXEC);
}

/* Child: own a descriptor table holding only slots 0..SLOT_END-1. */
static void child_own_fds(bool is_shared)
{
        if (!is_shared) {
                syscall(SYS_close_range, (unsigned)SLOT_END, ~0u, 0u);
                return;
        }
        if (syscall(SYS_close_range, (unsigned)SLOT_END, ~0u, CLOSE_RANGE_UNSHARE) == 0)
                return;
        /* Kernels before 5.9: copy the whole table, then close. */
        if (unshare(CLONE_FILES) < 0)
                child_die(SPAWN_EXIT_SETUP, "unshare the descriptor table");
        for (int fd = SLOT_END; fd < 65536; fd++)
                close(fd);
}

static void child_setup_fds(const struct spawn_req *req)
{
        if (dup2(SLOT_NULL, 0) < 0 || dup2(SLOT_OUT, 1) < 0 || dup2(SLOT_ERR, 2) < 0)
                child_die(SPAWN_EXIT_SETUP, "set up stdio");
        /* The bus goes to 3 or 4, slots stdio no longer needs, before the
         * notify fd moves to a number of the manifest's choosing. */
        if (req->bus_fd >= 0 && dup2(SLOT_BUS, req->bus_target) < 0)
                child_die(SPAWN_EXIT_SETUP, "set up the bus descriptor");
        if (req->notify_fd < 0)
                return; /* slots 3..8 are close-on-exec */
        if (req->notify_target == SLOT_NOTIFY) {
                if (fcntl(SLOT_NOTIFY, F_SETFD, 0) < 0)
                        child_die(SPAWN_EXIT_SETUP, "set up the notification descriptor");
        } else if (dup2(SLOT_NOTIFY, req->notify_target) < 0) {
                child_die(SPAWN_EXIT_SETUP, "set up the notification descriptor");
        }
}

static void child_set_rlimits(const struct spawn_req *req)
{
        const struct limits_spec *l = req->rlimits;
        struct rlimit rl;

        if (!l)
                return;
        if (l->files) {
                rl = (struct rlimit){l->files, l->files};
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        child_die(SPAWN_EXIT_SETUP, "set the open-files limit");
        }
        if (req->use_rlimit_memory && l->memory) {
                rl = (struct rlimit){l->memory, l->memory};
                if (setrlimit(RLIMIT_AS, &rl) < 0)
                        child_die(SPAWN_EXIT_SETUP, "set the memory limit");
        }
}

static void child_fail(int err, const char *what, const char *arg)
{
        errno = -err;
        child_die2(SPAWN_EXIT_SETUP, what, arg);
}

/* Namespaces, the filesystem view and the capability bounding set: what
 * needs root, before the ids change (sandbox.h has the whole order). */
static void child_sandbox_enter(const struct spawn_req *req)
{
        int flags = req->unshare_flags & ~CLONE_NEWPID; /* the holder's, entered by the clone */
        const char *failed = NULL;
        int r;

        if (!req->sandbox)
                return;
        for (int i = 0; i < KEPT_N && req->kept; i++) {
                if (!(flags & kept_flags[i]) || req->kept->fd[i] < 0)
                        continue;
                if (setns(SLOT_KEPT + i, kept_flags[i]) < 0)
                        child_die(SPAWN_EXIT_SETUP, "join the service's kept namespaces");
                flags &= ~kept_flags[i];
        }
        if (flags && unshare(flags) < 0)
                child_die(SPAWN_EXIT_SETUP, "enter the sandbox's namespaces");
        if ((req->unshare_flags & CLONE_NEWNS) &&
            (r = sandbox_mounts_apply(req->sandbox, req->pid_ns_fd >= 0, req->implicit_paths, &failed)) < 0)
                child_fail(r, "set up the sandbox's filesystem at ", failed);
        if (req->caps && (r = caps_plan_apply_before_ids(req->caps)) < 0)
                child_fail(r, "drop capabilities", NULL);
}

/* After the ids: kept capabilities, no_new_privs, Landlock, seccomp (last). */
static void child_sandbox_lock(const struct spawn_req *req)
{
        int r;

        if (!req->sandbox)
                return;
        if (req->caps && (r = caps_plan_apply_after_ids(req->caps)) < 0)
                child_fail(r, "set the kept capabilities", NULL);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_die(SPAWN_EXIT_SETUP, "set no_new_privs");
        if (req->landlock && (r = landlock_plan_apply(req->landlock, SLOT_LANDLOCK)) < 0)
                child_fail(r, "apply the Landlock rules", NULL);
        if (req->seccomp && (r = seccomp_plan_apply(req->seccomp)) < 0)
                child_fail(r, "load the seccomp filter", NULL);
}

static void child_set_ids(const struct spawn_req *req)
{
        if (!req->set_ids)
                return;
        if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, req->gid, req->gid, req->gid) < 0)
                child_die(SPAWN_EXIT_SETUP, "switch group");
        if (syscall(SYS_setresuid, req->uid, req->uid, req->uid) < 0)
                child_die(SPAWN_EXIT_SETUP, "switch user");
}

/* From the ids on: what only the service's own process does. */
static _Noreturn void child_exec_service(const struct spawn_req *req)
{
        child_set_ids(req);
        child_sandbox_lock(req);
        if (chdir(req->cwd ? req->cwd : "/") < 0)
                child_die(SPAWN_EXIT_SETUP, "change to the working directory");
        execve(req->path, req->argv, req->envp);
        child_die2(SPAWN_EXIT_EXEC, "execute ", req->path);
}

/*
 * The holder of a service's PID namespace: its PID 1, orb-init, which
 * reaps whatever the service leaves to it and otherwise waits to be
 * killed (orb-init.c).  It runs as the service's uid (65534 for a service
 * that runs as root: service.c), without capabilities (a switch from root
 * to another uid clears them), with no_new_privs, and sees nothing but
 * /dev/null on its stdio.
 */
static _Noreturn void child_become_holder(const struct spawn_req *req)
{
        char *argv[2] = {"orb-init", NULL}, *envp[1] = {NULL};

        child_set_ids(req);
        /* After the ids (a change clears it): if orbitald dies, by a crash
         * or SIGKILL, its holders go too, and their namespaces with them. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                child_die(SPAWN_EXIT_SETUP, "set the parent-death signal");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_die(SPAWN_EXIT_SETUP, "set no_new_privs");
        syscall(SYS_execveat, SLOT_INIT, "", argv, envp, AT_EMPTY_PATH);
        child_die(SPAWN_EXIT_SETUP, "execute orb-init");
}

static _Noreturn void child_run(const struct spawn_req *req, bool is_table_shared)
{
        child_own_fds(is_table_shared);
        child_reset_signals();
        child_setup_fds(req); /* first: later errors reach the service's log */
        if (setsid() < 0)
                child_die(SPAWN_EXIT_SETUP, "start a session");
        if (req->cg && cgroup_enter_self(req->cg) < 0)
                child_die(SPAWN_EXIT_SETUP, "enter the service's cgroup");
        child_set_rlimits(req);
        if (req->is_pid_holder)
                child_become_holder(req);
        child_sandbox_enter(req);
        child_exec_service(req);
}

/* A holder makes the PID namespace; a service enters its holder's. */
static int new_pid_ns(const struct spawn_req *req)
{
        return req->is_pid_holder ? CLONE_NEWPID : 0;
}

#if defined(__SANITIZE_ADDRESS__) || defined(ORB_HAS_ASAN)
static int spawn_fork(const struct spawn_req *req, pid_t *pid_out, int *pidfd_out)
{
        /* fork(), in a new PID namespace for a holder, and like the
         * production path we resume once the child has executed. */
        pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | CLONE_VFORK | new_pid_ns(req)), 0, 0, 0, 0);

        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_run(req, false);
        *pid_out = pid;
        /* Our own child cannot be recycled before we reap it, so opening
         * the pidfd after fork is race-free. */
        *pidfd_out = (int)syscall(SYS_pidfd_open, pid, 0);
        if (*pidfd_out >= 0)
                fcntl(*pidfd_out, F_SETFD, FD_CLOEXEC);
        return 0;
}
#else
static int child_entry(void *arg)
{
        child_run(arg, true);
}

static int spawn_vfork(const struct spawn_req *req, pid_t *pid_out, int *pidfd_out)
{
        /* One stack serves every child: we are suspended until it execs. */
        static char stack[CHILD_STACK_SIZE] __attribute__((aligned(64)));
        int pidfd = -1;
        pid_t pid = clone(child_entry, stack + sizeof(stack),
                          CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD | SIGCHLD | new_pid_ns(req),
                          (void *)req, &pidfd);

        if (pid < 0)
                return -errno;
        *pid_out = pid;
        *pidfd_out = pidfd; /* CLONE_PIDFD descriptors are close-on-exec */
        return 0;
}
#endif

int spawn_process(const struct spawn_req *req, pid_t *pid_out, int *pidfd_out)
{
        bool is_in_pid_ns = false;
        int r = stage_fds(req);

        if (r == 0 && req->pid_ns_fd >= 0) {
                if (self_pid_ns < 0)
                        r = -ENOTSUP;
                else if (setns(req->pid_ns_fd, CLONE_NEWPID) < 0)
                        r = -errno;
                else
                        is_in_pid_ns = true;
        }
        if (r == 0)
#if defined(__SANITIZE_ADDRESS__) || defined(ORB_HAS_ASAN)
                r = spawn_fork(req, pid_out, pidfd_out);
#else
                r = spawn_vfork(req, pid_out, pidfd_out);
#endif
        /* Entering our own namespace again cannot fail (it is the one we
         * are in); if it did, our next children would start in this
         * service's: better to stop here than to run them there. */
        if (is_in_pid_ns && setns(self_pid_ns, CLONE_NEWPID) < 0)
                abort();
        unstage_fds();
        return r;
}

int spawn_resolve_command(const char *cmd, char *const *envp, char *out, size_t n)
{
        const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

        if (strchr(cmd, '/')) {
                snprintf(out, n, "%s", cmd);
                return 0;
        }
        for (char *const *e = envp; e && *e; e++)
                if (strncmp(*e, "PATH=", 5) == 0)
                        path = *e + 5;
        for (const char *p = path; *p;) {
                size_t len = strcspn(p, ":");
                struct stat st;
                snprintf(out, n, "%.*s%s%s", (int)len, p, len ? "/" : "", cmd);
                if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
                        return 0;
                p += len + (p[len] == ':');
        }
        snprintf(out, n, "%s", cmd);
        return -ENOENT;
}

int ns_open(pid_t pid, const char *name)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
        return open(path, O_RDONLY | O_CLOEXEC);
}

void kept_ns_fill(struct kept_ns *k, pid_t pid, int flags)
{
        static const char *const names[KEPT_N] = {"net", "ipc", "uts"};

        for (int i = 0; i < KEPT_N; i++)
                if (k->fd[i] < 0 && (flags & kept_flags[i]))
                        k->fd[i] = ns_open(pid, names[i]); /* -1: made anew next time */
}

void kept_ns_trim(struct kept_ns *k, int flags)
{
        for (int i = 0; i < KEPT_N; i++)
                if (k->fd[i] >= 0 && !(flags & kept_flags[i])) {
                        close(k->fd[i]);
                        k->fd[i] = -1;
                }
}

pid_t spawn_first_child(pid_t pid)
{
        char path[64], buf[32];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        return (pid_t)strtol(buf, NULL, 10);
}

int pidfd_signal(int pidfd, pid_t pid, int sig)
{
        if (pidfd >= 0)
                return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
        return kill(pid, sig) < 0 ? -errno : 0;
}

static bool parse_id(const char *s, unsigned *out)
{
        char *end;
        unsigned long v;

        if (!*s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (*end || errno || v >= (unsigned long)UINT32_MAX)
                return false;
        *out = (unsigned)v;
        return true;
}

int spawn_resolve_ids(const char *user, const char *group, uid_t *uid, gid_t *gid, char *why, size_t n)
{
        struct passwd *pw = NULL;
        struct group *gr;
        unsigned id;

        if (user && parse_id(user, &id)) {
                *uid = id;
                pw = getpwuid(id);
                *gid = pw ? pw->pw_gid : id;
        } else if (user) {
                pw = getpwnam(user);
                if (!pw) {
                        snprintf(why, n, "unknown user '%s'", user);
                        return -ESRCH;
                }
                *uid = pw->pw_uid;
                *gid = pw->pw_gid;
        } else {
                *uid = getuid();
                *gid = getgid();
        }
        if (!group)
                return 0;
        if (parse_id(group, &id)) {
                *gid = id;
                return 0;
        }
        gr = getgrnam(group);
        if (!gr) {
                snprintf(why, n, "unknown group '%s'", group);
                return -ESRCH;
        }
        *gid = gr->gr_gid;
        return 0;
}
