/*
 * orb-init: PID 1 of a sandboxed service's PID namespace.
 *
 * The kernel drops every signal sent to a namespace's init for which it
 * has no handler, so a service that is itself PID 1 would ignore
 * orbitald's SIGTERM.  This program is that PID 1 instead: spawn.c
 * forks the service as its child (PID 2) and then executes this, so
 * orbitald's pidfd is ours.  We forward every signal to the service,
 * reap whatever gets re-parented to us, and when the service ends we
 * exit with its status: its exit code, or 128 + N when it was killed by
 * signal N (a namespace's init cannot be killed by a signal of its own
 * choosing; orbitald reads the code back as the signal).  When we exit,
 * the kernel kills everything left in the namespace.
 *
 *   orb-init PID    (PID: the service, in our namespace)
 *
 * Runs as the service's uid, without capabilities, no_new_privs set; it
 * makes itself undumpable so the service cannot write to its memory.
 * Built static and small: it is executed on every sandboxed spawn.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* A handler, not SIG_DFL, so the kernel queues the signal for PID 1;
 * it never runs: every signal stays blocked and is taken by sigwaitinfo. */
static void queue_only(int sig)
{
        (void)sig;
}

static int exit_status_of(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

/* Reaps every child that has ended.  Return: the service's exit status,
 * or -1 if it is still running. */
static int reap(pid_t service)
{
        int status, result = -1;
        pid_t pid;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                if (pid == service)
                        result = exit_status_of(status);
        if (pid < 0 && errno == ECHILD && result < 0)
                result = 125; /* PID was not our child: a bug in spawn.c */
        return result;
}

int main(int argc, char **argv)
{
        struct sigaction sa = {.sa_handler = queue_only};
        sigset_t all;
        pid_t service;
        int status;

        if (argc != 2 || (service = (pid_t)atoi(argv[1])) <= 1)
                return 125;
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        sigfillset(&sa.sa_mask);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        sigaction(sig, &sa, NULL); /* fails harmlessly for glibc's reserved ones */
        /* The service may have ended before our handlers existed. */
        if ((status = reap(service)) >= 0)
                return status;
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);

                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        kill(service, sig);
                        continue;
                }
                if ((status = reap(service)) >= 0)
                        return status;
        }
}
