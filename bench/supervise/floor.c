/*
 * floor - the least a supervisor can do, as the benchmark's baseline.
 *
 *     floor N PROGRAM [ARG...]
 *
 * Runs N copies of PROGRAM.  For each: fork, exec, pidfd_open.  One epoll
 * set watches every pidfd; when one becomes readable the child has died,
 * waitid(P_PIDFD) reaps it and the copy is forked again at once.  There is
 * no delay, no state file, no logging, no configuration: any supervisor
 * that does real work costs at least this much, so the benchmark reports
 * every other tool as a ratio to it.
 *
 * SIGTERM (through a signalfd in the same epoll set) sends SIGTERM to every
 * child and exits without waiting; the benchmark driver, a subreaper,
 * reaps what is left.
 *
 * Exit codes: 0 after SIGTERM, 100 bad usage, 111 system failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct child {
        pid_t pid;
        int pidfd; /* owned; -1 while not running */
};

static struct child *children; /* owned, n_children entries */
static size_t n_children;
static char **prog_argv;       /* borrowed from main() */
static int epfd = -1;

static void die(const char *what)
{
        fprintf(stderr, "floor: fatal: unable to %s: %m\n", what);
        exit(111);
}

/* Fork and exec copy @i, and add its pidfd to the epoll set. */
static void spawn(size_t i)
{
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i + 1 };
        sigset_t none;
        pid_t pid = fork();

        if (pid < 0)
                die("fork");
        if (pid == 0) {
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execv(prog_argv[0], prog_argv);
                _exit(127);
        }
        children[i].pid = pid;
        children[i].pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (children[i].pidfd < 0)
                die("pidfd_open");
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, children[i].pidfd, &ev) < 0)
                die("add a pidfd to epoll");
}

/* Copy @i has died: reap it through its pidfd and start it again. */
static void respawn(size_t i)
{
        siginfo_t si;

        if (waitid((idtype_t)P_PIDFD, (id_t)children[i].pidfd, &si, WEXITED) < 0)
                die("waitid");
        close(children[i].pidfd); /* also leaves the epoll set */
        spawn(i);
}

static void stop_all(void)
{
        for (size_t i = 0; i < n_children; i++)
                kill(children[i].pid, SIGTERM);
        exit(0);
}

static int setup(void)
{
        struct rlimit rl;
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
        sigset_t set;
        int sfd;

        /* One pidfd per child: lift the soft fd limit to the hard one. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0)
                die("create an epoll set");
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        sfd = signalfd(-1, &set, SFD_CLOEXEC);
        if (sfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) < 0)
                die("watch SIGTERM");
        return sfd;
}

int main(int argc, char **argv)
{
        struct epoll_event evs[64];
        long n = argc > 2 ? strtol(argv[1], NULL, 10) : 0;

        if (n < 1) {
                fprintf(stderr, "usage: floor N PROGRAM [ARG...]\n");
                return 100;
        }
        n_children = (size_t)n;
        prog_argv = argv + 2;
        children = calloc(n_children, sizeof(*children));
        if (!children)
                die("allocate the child table");
        setup();
        for (size_t i = 0; i < n_children; i++)
                spawn(i);
        for (;;) {
                int r = epoll_wait(epfd, evs, 64, -1);

                if (r < 0 && errno != EINTR)
                        die("epoll_wait");
                for (int k = 0; k < r; k++) {
                        if (evs[k].data.u64 == 0)
                                stop_all();
                        respawn(evs[k].data.u64 - 1);
                }
        }
}
