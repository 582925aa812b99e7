/*
 * orb-rawclient: speaks raw bytes to orbitald's control socket, for tests
 * of bad input.
 *   orb-rawclient SOCKET 'TEXT'      send TEXT, print the first reply
 *   orb-rawclient SOCKET --size N    send N bytes of junk, print the reply
 *   orb-rawclient SOCKET --fuzz N    send N random, well-framed messages
 *                                    (mutated valid requests and noise),
 *                                    reading whatever comes back
 *   orb-rawclient SOCKET --hangup N  N times: ask for a follow stream or a
 *                                    big reply and hang up at once
 *   orb-rawclient SOCKET --hold N MS hold N connections for MS ms; print
 *                                    how many orbitald kept open
 *   orb-rawclient SOCKET --unread N MS
 *                                    send N big requests without reading
 *                                    the replies, then wait MS ms
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/unixsock.h"

static int dial(const char *path)
{
        int fd = unix_connect(path, SOCK_SEQPACKET);

        if (fd < 0) {
                fprintf(stderr, "rawclient: connect %s: %s\n", path, strerror(-fd));
                exit(111);
        }
        return fd;
}

static int print_reply(int fd)
{
        static char buf[1 << 17];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

        if (n <= 0) {
                fprintf(stderr, "rawclient: no reply: %s\n", n ? strerror(errno) : "closed");
                return 1;
        }
        buf[n] = '\0';
        puts(buf);
        return 0;
}

static const char *const seeds[] = {
        "{\"method\":\"list\"}",
        "{\"method\":\"status\",\"params\":{\"name\":\"svc\"}}",
        "{\"method\":\"logs\",\"params\":{\"name\":\"svc\",\"lines\":5}}",
        "{\"method\":\"events\",\"params\":{\"lines\":3}}",
        "{\"method\":\"restart\",\"params\":{\"name\":\"nosuch\"}}",
        "{\"method\":\"ping\"}",
};

static size_t mutate(char *buf, size_t cap)
{
        const char *s = seeds[rand() % (int)(sizeof(seeds) / sizeof(seeds[0]))];
        size_t len = strlen(s);

        memcpy(buf, s, len);
        switch (rand() % 4) {
        case 0: /* flip bytes */
                for (int i = 0; i < 1 + rand() % 4; i++)
                        buf[(size_t)rand() % len] = (char)rand();
                break;
        case 1: /* truncate */
                len = (size_t)rand() % len;
                break;
        case 2: /* pure noise */
                len = (size_t)rand() % cap;
                for (size_t i = 0; i < len; i++)
                        buf[i] = (char)rand();
                break;
        default: /* valid as is */
                break;
        }
        return len ? len : 1;
}

static void drain(int fd)
{
        char buf[1 << 16];
        struct pollfd p = {fd, POLLIN, 0};

        while (poll(&p, 1, 0) > 0 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                ;
}

static int send_junk(const char *path, size_t n)
{
        char *junk = malloc(n);
        int fd;

        if (!junk)
                return 111;
        memset(junk, 'x', n);
        fd = dial(path);
        if (send(fd, junk, n, 0) < 0) {
                fprintf(stderr, "rawclient: send: %s\n", strerror(errno));
                free(junk);
                return 1;
        }
        free(junk);
        return print_reply(fd);
}

static int fuzz(const char *path, long n)
{
        char buf[4096];
        int fd = dial(path);

        for (long i = 0; i < n; i++) {
                size_t len = mutate(buf, sizeof(buf));
                if (send(fd, buf, len, MSG_NOSIGNAL) < 0) {
                        close(fd); /* orbitald may hang up on us: dial again */
                        fd = dial(path);
                }
                drain(fd);
        }
        close(fd);
        return 0;
}

static int hangups(const char *path, long n)
{
        for (long i = 0; i < n; i++) {
                const char *req = i % 2 ? "{\"method\":\"events\",\"params\":{\"follow\":true}}"
                                        : "{\"method\":\"list\"}";
                int fd = dial(path);
                (void)!send(fd, req, strlen(req), MSG_NOSIGNAL);
                close(fd);
        }
        return 0;
}

static bool is_open(int fd)
{
        struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
        char c;

        /* orbitald closes a refused connection at once */
        return !(poll(&p, 1, 100) > 0 && recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0);
}

static int hold(const char *path, long n, long ms)
{
        int open_fds = 0;

        for (long i = 0; i < n; i++)
                open_fds += is_open(dial(path));
        printf("%d\n", open_fds);
        fflush(stdout);
        usleep((useconds_t)ms * 1000);
        return 0;
}

static int unread(const char *path, long n, long ms)
{
        const char *req = "{\"method\":\"list\"}";
        struct timeval tv = {.tv_sec = 1};
        int fd = dial(path);

        /* Blocks while orbitald reads on; gives up after 1 s without room. */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        for (long i = 0; i < n; i++)
                if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
                        break;
        usleep((useconds_t)ms * 1000);
        return 0;
}

int main(int argc, char **argv)
{
        int fd;

        if (argc < 3)
                return 100;
        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        if (argc == 4 && strcmp(argv[2], "--size") == 0)
                return send_junk(argv[1], (size_t)atol(argv[3]));
        if (argc == 4 && strcmp(argv[2], "--fuzz") == 0)
                return fuzz(argv[1], atol(argv[3]));
        if (argc == 4 && strcmp(argv[2], "--hangup") == 0)
                return hangups(argv[1], atol(argv[3]));
        if (argc == 5 && strcmp(argv[2], "--hold") == 0)
                return hold(argv[1], atol(argv[3]), atol(argv[4]));
        if (argc == 5 && strcmp(argv[2], "--unread") == 0)
                return unread(argv[1], atol(argv[3]), atol(argv[4]));
        fd = dial(argv[1]);
        if (send(fd, argv[2], strlen(argv[2]), 0) < 0)
                return 1;
        return print_reply(fd);
}
