/*
 * Escape attempts for the sandbox tests: each mode tries one thing a
 * sandboxed service must not be able to do (or, for the positive modes,
 * what its capabilities allow) and prints one line:
 *   "escape MODE: ok" when it worked, "escape MODE: denied: <errno text>".
 * Then it sleeps, so the test can look at it.
 *
 *   open PATH | write PATH | inet | bind-low | ptrace PID | mount | exec PATH ARGS...
 *   fork N | linger | leave | ids | procs | alloc MIB | mounts N
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(const char *mode, int ok)
{
        if (ok)
                printf("escape %s: ok\n", mode);
        else
                printf("escape %s: denied: %s\n", mode, strerror(errno));
        fflush(stdout);
        return 0;
}

static void hold(void)
{
        for (;;)
                pause();
}

int main(int argc, char **argv)
{
        const char *m = argc > 1 ? argv[1] : "";
        int fd;

        if (!strcmp(m, "open") && argc == 3) {
                fd = open(argv[2], O_RDONLY | O_CLOEXEC);
                report(m, fd >= 0);
        } else if (!strcmp(m, "write") && argc == 3) {
                fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                report(m, fd >= 0 && write(fd, "x\n", 2) == 2);
        } else if (!strcmp(m, "inet")) {
                report(m, socket(AF_INET, SOCK_STREAM, 0) >= 0);
        } else if (!strcmp(m, "bind-low")) {
                struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                fd = socket(AF_INET, SOCK_STREAM, 0);
                report(m, fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        } else if (!strcmp(m, "ptrace") && argc == 3) {
                report(m, ptrace(PTRACE_ATTACH, (pid_t)atoi(argv[2]), NULL, NULL) == 0);
        } else if (!strcmp(m, "mount")) {
                report(m, mount("none", "/mnt", "tmpfs", 0, NULL) == 0);
        } else if (!strcmp(m, "mounts") && argc == 3) {
                /* The same escape, over and over: the reports must not flood. */
                int refused = 0;
                for (int i = atoi(argv[2]); i > 0; i--)
                        refused += mount("none", "/mnt", "tmpfs", 0, NULL) < 0;
                printf("escape mounts: refused=%d\n", refused);
                fflush(stdout);
        } else if (!strcmp(m, "ids")) {
                printf("escape ids: uid=%d euid=%d gid=%d\n", (int)getuid(), (int)geteuid(), (int)getgid());
                fflush(stdout);
        } else if (!strcmp(m, "exec") && argc >= 3) {
                execv(argv[2], argv + 2);
                report(m, 0);
        } else if (!strcmp(m, "fork") && argc == 3) {
                int n = atoi(argv[2]), made = 0, refused = 0;
                for (int i = 0; i < n; i++) {
                        pid_t p = fork();
                        if (p == 0)
                                hold();
                        if (p > 0)
                                made++;
                        else
                                refused++;
                }
                printf("escape fork: made=%d refused=%d\n", made, refused);
                fflush(stdout);
        } else if (!strcmp(m, "procs")) {
                /* What a PID namespace shows: our pid, and how many exist. */
                DIR *d = opendir("/proc");
                struct dirent *e;
                int visible = 0;
                while (d && (e = readdir(d)))
                        visible += isdigit((unsigned char)e->d_name[0]) != 0;
                printf("escape procs: pid=%d visible=%d\n", (int)getpid(), visible);
                fflush(stdout);
        } else if (!strcmp(m, "alloc") && argc == 3) {
                /* Touch memory a MiB at a time, beyond any sane limit. */
                int n = atoi(argv[2]);
                for (int i = 0; i < n; i++) {
                        char *p = malloc(1 << 20);
                        if (!p)
                                break;
                        memset(p, 1, 1 << 20);
                        printf("escape alloc: %d MiB\n", i + 1);
                        fflush(stdout);
                }
                report(m, 1);
        } else if (!strcmp(m, "linger") || !strcmp(m, "leave")) {
                /* A daemon of its own: double fork, new session. */
                if (fork() == 0) {
                        setsid();
                        if (fork() == 0) {
                                printf("escape %s: daemon %d\n", m, (int)getpid());
                                fflush(stdout);
                                hold();
                        }
                        _exit(0);
                }
                wait(NULL);
        } else {
                fprintf(stderr, "usage: see tests/helpers/escape.c\n");
                return 100;
        }
        hold();
}
