/*
 * respawn - the smallest supervisor loop: one program, restarted at once.
 *
 *     respawn [--user UID:GID] [--fd-file N:PATH] -- PROGRAM [ARG...]
 *
 * fork, exec PROGRAM (an absolute path), pidfd_open; when the pidfd turns
 * readable the child has died: waitid(P_PIDFD) reaps it and the next one
 * is forked at once.  No delay, no state, no logging.  The benchmark uses
 * it twice: with the probe as PROGRAM it is the floor (plain fork+exec),
 * and with bwrap as PROGRAM it launches bubblewrap the way a supervisor
 * would (bwrap's own monitor process in between is then part of the cost,
 * as it would be under any supervisor).
 *
 * In the child, before exec:
 *   --user UID:GID     setgroups(0), setresgid, setresuid: start PROGRAM
 *                      as that user, as a supervisor does for a manifest's
 *                      user (bwrap then runs unprivileged: user namespace)
 *   --fd-file N:PATH   open PATH read-only on descriptor N (bwrap --seccomp
 *                      N reads a compiled BPF program from it, per spawn)
 *
 * SIGTERM or SIGINT: SIGTERM to the child, then exit 0 without waiting
 * (the benchmark driver is a subreaper and reaps what is left).
 * Exit codes: 0 after SIGTERM, 100 bad usage, 111 system failure.
 */
#define _GNU_SOURCE /* setresuid, setresgid */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static char **prog_argv;    /* borrowed from main() */
static long user_uid = -1, user_gid = -1;
static int file_fd = -1;    /* --fd-file N */
static const char *file_path;

static void die(const char *what)
{
        fprintf(stderr, "respawn: fatal: unable to %s: %m\n", what);
        exit(111);
}

static void child(void)
{
        sigset_t none;
        int fd;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (file_path) {
                fd = open(file_path, O_RDONLY);
                if (fd < 0 || (fd != file_fd && (dup2(fd, file_fd) < 0 || close(fd) < 0))) {
                        dprintf(2, "respawn: unable to open %s: %m\n", file_path);
                        _exit(127);
                }
        }
        if (user_uid >= 0 && (setgroups(0, NULL) < 0 || setresgid((gid_t)user_gid, (gid_t)user_gid,
                                                                   (gid_t)user_gid) < 0 ||
                              setresuid((uid_t)user_uid, (uid_t)user_uid, (uid_t)user_uid) < 0)) {
                dprintf(2, "respawn: unable to switch to %ld:%ld: %m\n", user_uid, user_gid);
                _exit(127);
        }
        execv(prog_argv[0], prog_argv);
        dprintf(2, "respawn: unable to exec %s: %m\n", prog_argv[0]);
        _exit(127);
}

/* Fork and exec the program.  Return: its pidfd; *@pid its pid. */
static int spawn(pid_t *pid)
{
        int pidfd;

        *pid = fork();
        if (*pid < 0)
                die("fork");
        if (*pid == 0)
                child();
        pidfd = (int)syscall(SYS_pidfd_open, *pid, 0);
        if (pidfd < 0)
                die("pidfd_open");
        return pidfd;
}

static void parse(int argc, char **argv)
{
        int i = 1;

        for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
                if (!strcmp(argv[i], "--user") && i + 1 < argc) {
                        if (sscanf(argv[++i], "%ld:%ld", &user_uid, &user_gid) != 2 || user_uid < 0 ||
                            user_gid < 0)
                                goto usage;
                } else if (!strcmp(argv[i], "--fd-file") && i + 1 < argc) {
                        char *colon = strchr(argv[++i], ':');

                        file_fd = atoi(argv[i]);
                        if (!colon || file_fd < 3)
                                goto usage;
                        file_path = colon + 1;
                } else {
                        goto usage;
                }
        }
        if (i + 1 >= argc || argv[i + 1][0] != '/')
                goto usage;
        prog_argv = argv + i + 1;
        return;
usage:
        fprintf(stderr, "usage: respawn [--user UID:GID] [--fd-file N:PATH] -- /PROGRAM [ARG...]\n");
        exit(100);
}

int main(int argc, char **argv)
{
        struct pollfd pf[2];
        sigset_t set;
        siginfo_t si;
        pid_t pid;

        parse(argc, argv);
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        pf[0] = (struct pollfd){.fd = signalfd(-1, &set, SFD_CLOEXEC), .events = POLLIN};
        if (pf[0].fd < 0)
                die("watch SIGTERM");
        pf[1] = (struct pollfd){.fd = spawn(&pid), .events = POLLIN};
        for (;;) {
                if (poll(pf, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        die("poll");
                }
                if (pf[0].revents) {
                        kill(pid, SIGTERM);
                        return 0;
                }
                if (!pf[1].revents)
                        continue;
                if (waitid((idtype_t)P_PIDFD, (id_t)pf[1].fd, &si, WEXITED) < 0)
                        die("waitid");
                close(pf[1].fd);
                pf[1].fd = spawn(&pid);
        }
}
