/*
 * orb-init: PID 1 of a sandboxed service's PID namespace, its holder.
 *
 * orbitald starts it first, in a new PID namespace, and then starts the
 * service inside that namespace as its own child (spawn.c enters the
 * namespace for the clone): orbitald signals the service and sees it end
 * directly, and a restart reuses the namespace.  What is left for PID 1 is
 * what the kernel gives every init: the orphans.  Whatever the service
 * leaves running when it ends is re-parented to us; we reap whatever ends.
 * orbitald kills us (SIGKILL, the one signal an ancestor namespace can
 * force on us) when the service goes down for good or left something
 * behind, and the kernel then kills everything else in the namespace.
 *
 * Every other signal is taken and dropped: nobody inside the namespace
 * has a reason to signal us.  Runs as the service's uid, without
 * capabilities, no_new_privs set; it makes itself undumpable so the
 * service cannot write to its memory.  Built static and small.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* A handler, not SIG_DFL, so the kernel queues SIGCHLD for PID 1 even if
 * a later change unblocked it; it never runs: every signal stays blocked
 * and is taken by sigwaitinfo. */
static void queue_only(int sig)
{
        (void)sig;
}

int main(void)
{
        struct sigaction sa = {.sa_handler = queue_only};
        sigset_t all;

        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        sigfillset(&sa.sa_mask);
        sigaction(SIGCHLD, &sa, NULL);
        for (;;) {
                siginfo_t si;

                if (sigwaitinfo(&all, &si) == SIGCHLD)
                        while (waitpid(-1, NULL, WNOHANG) > 0)
                                ;
        }
}
