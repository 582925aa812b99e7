/*
 * bench/config/subscriber.c - one subscriber of "config.committed": a
 * liborbital client of the bus that counts the notices orb-config
 * publishes after each commit and tells client.c when each arrives.
 *
 *   subscriber --bus SOCK --notices PATH --index I
 *
 * Prints "ready" once subscribed.  For each notice ({"id": N, ...}) it
 * reads CLOCK_MONOTONIC first, then sends "I N STAMP_NS" to the datagram
 * socket PATH (if nobody listens there, the notice is only counted).  On
 * SIGTERM it prints "notices=COUNT first=ID last=ID" and exits.
 *
 * This is a topic subscriber only: orb-config does not ask it anything
 * before committing (subscribers with veto are not built yet).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <orbital/orbital.h>

static volatile sig_atomic_t stop;
static int out_fd = -1;
static struct sockaddr_un out_addr = {.sun_family = AF_UNIX};
static unsigned index_;
static unsigned long long count, first_id, last_id;

static void on_term(int sig)
{
        (void)sig;
        stop = 1;
}

static void on_event(struct orb_conn *c, const char *topic, const void *data, size_t len, const char *publisher,
                     void *userdata)
{
        struct timespec ts;
        char text[256], msg[96];
        const char *p;
        unsigned long long id = 0;
        int n;

        (void)c, (void)topic, (void)publisher, (void)userdata;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (len >= sizeof(text))
                len = sizeof(text) - 1;
        memcpy(text, data, len);
        text[len] = 0;
        if ((p = strstr(text, "\"id\":")))
                id = strtoull(p + 5, NULL, 10);
        count++;
        if (!first_id)
                first_id = id;
        last_id = id;
        n = snprintf(msg, sizeof(msg), "%u %llu %llu", index_, id,
                     (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
        sendto(out_fd, msg, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&out_addr, sizeof(out_addr));
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {{"bus", required_argument, NULL, 'b'},
                                             {"notices", required_argument, NULL, 'n'},
                                             {"index", required_argument, NULL, 'i'},
                                             {0}};
        struct sigaction sa = {.sa_handler = on_term};
        const char *sock = NULL, *notices = NULL;
        struct orb_conn *bus;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'b')
                        sock = optarg;
                else if (c == 'n')
                        notices = optarg;
                else if (c == 'i')
                        index_ = (unsigned)atoi(optarg);
                else
                        return 100;
        }
        if (!sock || !notices || strlen(notices) >= sizeof(out_addr.sun_path)) {
                fprintf(stderr, "usage: subscriber --bus SOCK --notices PATH --index I\n");
                return 100;
        }
        strcpy(out_addr.sun_path, notices);
        sigaction(SIGTERM, &sa, NULL);
        setvbuf(stdout, NULL, _IOLBF, 0);
        out_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (out_fd < 0)
                return 111;
        if ((r = orb_conn_open_path(sock, &bus)) < 0 ||
            (r = orb_conn_subscribe(bus, "config.committed", on_event, NULL)) < 0) {
                fprintf(stderr, "subscriber %u: bus: %s\n", index_, orb_strerror(r));
                return 111;
        }
        printf("ready\n");
        while (!stop) {
                struct pollfd pf = {orb_conn_fd(bus), POLLIN, 0};

                if (poll(&pf, 1, 200) < 0 && errno != EINTR)
                        break;
                r = orb_conn_dispatch(bus, 0);
                if (r < 0 && r != -EAGAIN && r != -ETIMEDOUT) {
                        fprintf(stderr, "subscriber %u: bus: %s\n", index_, orb_strerror(r));
                        break;
                }
        }
        printf("notices=%llu first=%llu last=%llu\n", count, first_id, last_id);
        orb_conn_close(bus);
        return 0;
}
