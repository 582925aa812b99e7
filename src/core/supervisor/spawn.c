/*
 * fork + exec with the child set up in a fixed order:
 *   signals reset -> new session -> cgroup -> descriptors -> rlimits ->
 *   ids -> directory -> exec
 * The cgroup comes first so that nothing the child does later escapes
 * accounting; ids come after rlimits (raising limits needs privilege).
 * Every descriptor orbitald holds is O_CLOEXEC; close_range() also drops
 * any a library leaked without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/spawn.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define FD_STAGING 64 /* sources are moved above this before dup2 to targets */

static _Noreturn void child_die(int code, const char *what)
{
        dprintf(STDERR_FILENO, "orbitald: unable to %s: %s\n", what, strerror(errno));
        _exit(code);
}

static void child_reset_signals(void)
{
        sigset_t all;
        struct sigaction dfl = {.sa_handler = SIG_DFL};

        for (int s = 1; s < NSIG; s++)
                sigaction(s, &dfl, NULL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
}

/* Moves @fd above the staging line so dup2 onto 0..N cannot clobber it. */
static int stage(int fd)
{
        return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, FD_STAGING);
}

static void child_setup_fds(const struct spawn_req *req)
{
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        int out = stage(req->stdout_fd >= 0 ? req->stdout_fd : null_fd);
        int err = stage(req->stderr_fd >= 0 ? req->stderr_fd : null_fd);
        int ntf = stage(req->notify_fd);
        int in = stage(null_fd);

        if (null_fd < 0 || out < 0 || err < 0 || in < 0 || (req->notify_fd >= 0 && ntf < 0))
                child_die(SPAWN_EXIT_SETUP, "set up descriptors");
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                child_die(SPAWN_EXIT_SETUP, "set up stdio");
        if (ntf >= 0 && dup2(ntf, req->notify_target) < 0)
                child_die(SPAWN_EXIT_SETUP, "set up the notification descriptor");
        /* Close everything else, whatever its flags. */
        if (ntf >= 0) {
                if (req->notify_target > 3)
                        syscall(SYS_close_range, 3u, (unsigned)req->notify_target - 1, 0u);
                syscall(SYS_close_range, (unsigned)req->notify_target + 1, ~0u, 0u);
        } else {
                syscall(SYS_close_range, 3u, ~0u, 0u);
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

static _Noreturn void child_run(const struct spawn_req *req)
{
        child_reset_signals();
        if (setsid() < 0)
                child_die(SPAWN_EXIT_SETUP, "start a session");
        if (req->cg && cgroup_enter_self(req->cg) < 0)
                child_die(SPAWN_EXIT_SETUP, "enter the service's cgroup");
        child_setup_fds(req);
        child_set_rlimits(req);
        if (req->set_ids) {
                if (setgroups(0, NULL) < 0 || setgid(req->gid) < 0)
                        child_die(SPAWN_EXIT_SETUP, "switch group");
                if (setuid(req->uid) < 0)
                        child_die(SPAWN_EXIT_SETUP, "switch user");
        }
        if (chdir(req->cwd ? req->cwd : "/") < 0)
                child_die(SPAWN_EXIT_SETUP, "change to the working directory");
        execvpe(req->argv[0], req->argv, req->envp);
        dprintf(STDERR_FILENO, "orbitald: unable to execute %s: %s\n", req->argv[0], strerror(errno));
        _exit(SPAWN_EXIT_EXEC);
}

int spawn_process(const struct spawn_req *req, pid_t *pid_out, int *pidfd_out)
{
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_run(req);
        *pid_out = pid;
        /* Our own child cannot be recycled before we reap it, so opening
         * the pidfd after fork is race-free. */
        *pidfd_out = (int)syscall(SYS_pidfd_open, pid, 0);
        if (*pidfd_out >= 0)
                fcntl(*pidfd_out, F_SETFD, FD_CLOEXEC);
        return 0;
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
