/*
 * orb-testsvc: a configurable misbehaving service for tests and the demo.
 * Options run in the order given; the program then idles until killed,
 * unless an option made it exit.
 *
 *   --print TEXT         write TEXT and a newline to stdout
 *   --stderr TEXT        same, to stderr
 *   --record FILE        append "start <name> <pid>" now and "stop <name>"
 *                        on SIGTERM (ordering tests)
 *   --sleep MS           pause
 *   --ready              s6-style: write "\n" to $ORBITAL_NOTIFY_FD
 *   --ready-fd-text TXT  write TXT to $ORBITAL_NOTIFY_FD (e.g. READY=1)
 *   --sd-notify TEXT     send TEXT to $NOTIFY_SOCKET as sd_notify(3) does
 *   --exit N             exit with code N
 *   --crash              die by SIGSEGV
 *   --fail-unless FILE   exit 1 unless FILE exists (a fault an operator fixes)
 *   --hog MB             allocate and touch MB MiB, 1 MiB at a time
 *   --fork N             start N children that sleep forever
 *   --threads N          start N threads that sleep forever
 *   --ignore-term        ignore SIGTERM
 *   --heartbeat FILE     touch FILE every 100 ms (until --hang)
 *   --hang               stop heartbeating and block forever
 *   check-heartbeat FILE MAXAGE_MS
 *                        exit 0 if FILE changed within MAXAGE_MS, else 1
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *record_file;
static const char *heartbeat_file;
static volatile sig_atomic_t hung;

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void record(const char *what)
{
        char line[256];
        const char *name = getenv("ORBITAL_SERVICE");
        int fd, n;

        if (!record_file)
                return;
        n = snprintf(line, sizeof(line), "%s %s %d\n", what, name ? name : "?", (int)getpid());
        fd = open(record_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void)!write(fd, line, (size_t)n);
                close(fd);
        }
}

static void on_term(int sig)
{
        record("stop");
        _exit(0);
}

static int notify_fd(void)
{
        const char *s = getenv("ORBITAL_NOTIFY_FD");
        if (!s) {
                fprintf(stderr, "testsvc: no ORBITAL_NOTIFY_FD\n");
                exit(2);
        }
        return atoi(s);
}

static void sd_notify_send(const char *text)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;

        if (!path || strlen(path) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "testsvc: no usable NOTIFY_SOCKET\n");
                exit(2);
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || sendto(fd, text, strlen(text), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr, "testsvc: sd_notify failed: %s\n", strerror(errno));
                exit(2);
        }
        close(fd);
}

static void hog(long mb)
{
        for (long i = 0; i < mb; i++) {
                char *p = malloc(1 << 20);
                if (!p) {
                        fprintf(stderr, "testsvc: out of memory after %ld MiB\n", i);
                        exit(3);
                }
                memset(p, 0xa5, 1 << 20);
                if (i % 16 == 0)
                        printf("allocated %ld MiB\n", i + 1), fflush(stdout);
        }
        printf("allocated %ld MiB in all\n", mb);
        fflush(stdout);
}

static void spawn_children(long n)
{
        for (long i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid < 0) {
                        /* like most daemons: no fork, no service */
                        fprintf(stderr, "testsvc: fork %ld failed: %s\n", i + 1, strerror(errno));
                        exit(4);
                }
                if (pid == 0) {
                        signal(SIGTERM, SIG_DFL);
                        for (;;)
                                pause();
                }
        }
        printf("forked %ld children\n", n);
        fflush(stdout);
}

static void *idle_thread(void *arg)
{
        for (;;)
                pause();
        return arg;
}

static void spawn_threads(long n)
{
        for (long i = 0; i < n; i++) {
                pthread_t t;
                int r = pthread_create(&t, NULL, idle_thread, NULL);
                if (r) {
                        fprintf(stderr, "testsvc: thread %ld failed: %s\n", i + 1, strerror(r));
                        fflush(stderr);
                        return;
                }
        }
        printf("started %ld threads\n", n);
        fflush(stdout);
}

static void touch(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
                futimens(fd, NULL);
                close(fd);
        }
}

static void *heartbeat_thread(void *arg)
{
        while (!hung) {
                touch(heartbeat_file);
                sleep_ms(100);
        }
        return arg;
}

static int check_heartbeat(const char *file, long max_ms)
{
        struct stat st;
        struct timespec now;
        long age;

        if (stat(file, &st) < 0)
                return 1;
        clock_gettime(CLOCK_REALTIME, &now);
        age = (now.tv_sec - st.st_mtim.tv_sec) * 1000 + (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
        return age <= max_ms ? 0 : 1;
}

int main(int argc, char **argv)
{
        if (argc == 4 && strcmp(argv[1], "check-heartbeat") == 0)
                return check_heartbeat(argv[2], atol(argv[3]));
        signal(SIGTERM, on_term);
        for (int i = 1; i < argc; i++) {
                const char *opt = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKES_ARG()                                                                  \
        do {                                                                         \
                if (!arg) {                                                          \
                        fprintf(stderr, "testsvc: %s needs an argument\n", opt);     \
                        return 2;                                                    \
                }                                                                    \
                i++;                                                                 \
        } while (0)
                if (strcmp(opt, "--print") == 0) {
                        TAKES_ARG();
                        printf("%s\n", arg);
                        fflush(stdout);
                } else if (strcmp(opt, "--stderr") == 0) {
                        TAKES_ARG();
                        fprintf(stderr, "%s\n", arg);
                } else if (strcmp(opt, "--record") == 0) {
                        TAKES_ARG();
                        record_file = arg;
                        record("start");
                } else if (strcmp(opt, "--sleep") == 0) {
                        TAKES_ARG();
                        sleep_ms(atol(arg));
                } else if (strcmp(opt, "--ready") == 0) {
                        (void)!write(notify_fd(), "\n", 1);
                } else if (strcmp(opt, "--ready-fd-text") == 0) {
                        TAKES_ARG();
                        (void)!write(notify_fd(), arg, strlen(arg));
                } else if (strcmp(opt, "--sd-notify") == 0) {
                        TAKES_ARG();
                        sd_notify_send(arg);
                } else if (strcmp(opt, "--exit") == 0) {
                        TAKES_ARG();
                        return atoi(arg);
                } else if (strcmp(opt, "--crash") == 0) {
                        signal(SIGSEGV, SIG_DFL);
                        raise(SIGSEGV);
                } else if (strcmp(opt, "--fail-unless") == 0) {
                        TAKES_ARG();
                        if (access(arg, F_OK) != 0) {
                                fprintf(stderr, "testsvc: %s is missing\n", arg);
                                return 1;
                        }
                } else if (strcmp(opt, "--hog") == 0) {
                        TAKES_ARG();
                        hog(atol(arg));
                } else if (strcmp(opt, "--fork") == 0) {
                        TAKES_ARG();
                        spawn_children(atol(arg));
                } else if (strcmp(opt, "--threads") == 0) {
                        TAKES_ARG();
                        spawn_threads(atol(arg));
                } else if (strcmp(opt, "--ignore-term") == 0) {
                        signal(SIGTERM, SIG_IGN);
                } else if (strcmp(opt, "--heartbeat") == 0) {
                        pthread_t t;
                        TAKES_ARG();
                        heartbeat_file = arg;
                        touch(arg);
                        pthread_create(&t, NULL, heartbeat_thread, NULL);
                } else if (strcmp(opt, "--hang") == 0) {
                        hung = 1;
                        printf("hanging\n");
                        fflush(stdout);
                        for (;;)
                                pause();
                } else {
                        fprintf(stderr, "testsvc: unknown option %s\n", opt);
                        return 2;
                }
        }
        for (;;)
                pause();
}
