/*
 * bench/config/subscriber.c - one subscriber of orb-config, run by
 * orbitald as a service of its own (bench/config/run writes its manifest),
 * that tells client.c when each notice arrives.
 *
 *   subscriber --name NAME --index I --notices PATH --out FILE
 *              [--kind veto|topic] [--subtree PATH] [--bus SOCK]
 *
 * --kind veto (the default): a subscriber with a veto (veto.h).  It calls
 *   subscribe(SUBTREE, NAME), then long-polls next(id).  A "check" is
 *   answered at once with verdict(token, accept); an "outcome"
 *   ("committed N") is the commit's notice.
 * --kind topic: a bus subscriber of the topic "config.committed" only
 *   ({"id": N, ...}); orb-config asks it nothing.
 *
 * For each notice it reads CLOCK_MONOTONIC first.  An outcome (or topic
 * notice) of commit N is sent as "I N STAMP_NS CHECK_STAMP_NS" to the
 * datagram socket PATH, CHECK_STAMP_NS being when this commit's check
 * arrived (0: topic, or no check): one datagram per commit, because the
 * socket queues at most net.unix.max_dgram_qlen (10) before client.c
 * reads (if nobody listens there, the notices are only counted).  After each
 * notice it rewrites FILE with "notices=COUNT first=ID last=ID checks=C"
 * (the run script reads it once orbitald has stopped us).  Readiness
 * (orb_conn_ready) once subscribed.
 *
 * The subscribers run as services (an outside client's identity is its
 * uid); each verdict names its subscription, so one owner may hold several.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <orbital/orbital.h>

#define NEXT_TIMEOUT_MS (24 * 3600 * 1000)

static int out_fd = -1, count_fd = -1;
static struct sockaddr_un out_addr = {.sun_family = AF_UNIX};
static unsigned index_;
static unsigned long long count, checks, first_id, last_id;
static unsigned long long check_token, check_stamp; /* the last check: when it arrived */

static unsigned long long now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void send_line(const char *msg, int n)
{
        sendto(out_fd, msg, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&out_addr, sizeof(out_addr));
}

/* FILE holds one line of fixed width, rewritten in place. */
static void write_counts(void)
{
        char line[96], padded[97];

        snprintf(line, sizeof(line), "notices=%llu first=%llu last=%llu checks=%llu", count, first_id, last_id,
                 checks);
        snprintf(padded, sizeof(padded), "%-95s\n", line);
        if (pwrite(count_fd, padded, 96, 0) < 0)
                return; /* only the counts at exit are lost */
}

static void outcome(unsigned long long id, unsigned long long stamp, unsigned long long checked)
{
        char msg[96];

        count++;
        if (!first_id)
                first_id = id;
        last_id = id;
        send_line(msg, snprintf(msg, sizeof(msg), "%u %llu %llu %llu", index_, id, stamp, checked));
        write_counts();
}

static void on_event(struct orb_conn *c, const char *topic, const void *data, size_t len, const char *publisher,
                     void *userdata)
{
        unsigned long long stamp = now_ns(), id = 0;
        char text[256];
        const char *p;

        (void)c, (void)topic, (void)publisher, (void)userdata;
        if (len >= sizeof(text))
                len = sizeof(text) - 1;
        memcpy(text, data, len);
        text[len] = 0;
        if ((p = strstr(text, "\"id\":")))
                id = strtoull(p + 5, NULL, 10);
        outcome(id, stamp, 0);
}

static int run_topic(struct orb_conn *bus)
{
        int r = orb_conn_subscribe(bus, "config.committed", on_event, NULL);

        if (r < 0)
                return r;
        orb_conn_ready(bus);
        for (;;) {
                struct pollfd pf = {orb_conn_fd(bus), POLLIN, 0};

                if (poll(&pf, 1, -1) < 0 && errno != EINTR)
                        return -errno;
                r = orb_conn_dispatch(bus, 0);
                if (r < 0 && r != -EAGAIN && r != -ETIMEDOUT)
                        return r;
        }
}

static int call(struct orb_client *cl, struct orb_msg *req, int timeout_ms, struct orb_msg **reply, const char *what)
{
        int r = req ? orb_client_call(cl, req, timeout_ms, reply) : -ENOMEM;

        if (r < 0)
                fprintf(stderr, "subscriber %u: %s: %s %s\n", index_, what, orb_strerror(r),
                        *reply ? orb_msg_str(*reply, ORB_T_MESSAGE, "") : "");
        return r;
}

static int run_veto(struct orb_conn *bus, const char *name, const char *subtree)
{
        struct orb_client *cl;
        struct orb_msg *req, *reply = NULL;
        uint64_t id;
        int r;

        if ((r = orb_conn_lookup(bus, "config", NULL, &cl)) < 0)
                return r;
        req = orb_client_request(cl, "subscribe");
        orb_msg_put_str(req, 1, subtree);
        orb_msg_put_str(req, 2, name);
        if ((r = call(cl, req, 5000, &reply, "subscribe")) < 0)
                return r;
        id = orb_msg_u64(reply, 1, 0);
        orb_conn_ready(bus);
        for (;;) {
                unsigned long long stamp, token;

                req = orb_client_request(cl, "next");
                if (req)
                        orb_msg_put_u64(req, 1, id);
                if ((r = call(cl, req, NEXT_TIMEOUT_MS, &reply, "next")) < 0)
                        return r;
                stamp = now_ns();
                if (!strcmp(orb_msg_str(reply, 1, ""), "outcome")) {
                        const char *o = orb_msg_str(reply, 5, "");

                        /* "committed N"; a refusal reports id 0 (the client then misses this one) */
                        outcome(!strncmp(o, "committed ", 10) ? strtoull(o + 10, NULL, 10) : 0, stamp,
                                orb_msg_u64(reply, 2, 0) == check_token ? check_stamp : 0);
                        continue;
                }
                token = orb_msg_u64(reply, 2, 0);
                req = orb_client_request(cl, "verdict"); /* accept, at once: the diff is not even read */
                if (req) {
                        orb_msg_put_u64(req, 1, token);
                        orb_msg_put_bool(req, 2, true);
                        orb_msg_put_str(req, 3, "");
                        orb_msg_put_u64(req, 4, id);
                }
                if ((r = call(cl, req, 5000, &reply, "verdict")) < 0)
                        return r;
                checks++;
                check_token = token;
                check_stamp = stamp;
                write_counts();
        }
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {{"bus", required_argument, NULL, 'b'},
                                             {"notices", required_argument, NULL, 'n'},
                                             {"index", required_argument, NULL, 'i'},
                                             {"name", required_argument, NULL, 'N'},
                                             {"kind", required_argument, NULL, 'k'},
                                             {"subtree", required_argument, NULL, 's'},
                                             {"out", required_argument, NULL, 'o'},
                                             {0}};
        const char *sock = NULL, *notices = NULL, *name = NULL, *kind = "veto", *subtree = "", *out = NULL;
        struct orb_conn *bus;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'b')
                        sock = optarg;
                else if (c == 'n')
                        notices = optarg;
                else if (c == 'i')
                        index_ = (unsigned)atoi(optarg);
                else if (c == 'N')
                        name = optarg;
                else if (c == 'k')
                        kind = optarg;
                else if (c == 's')
                        subtree = optarg;
                else if (c == 'o')
                        out = optarg;
                else
                        return 100;
        }
        if (!notices || !out || !name || strlen(notices) >= sizeof(out_addr.sun_path) ||
            (strcmp(kind, "veto") && strcmp(kind, "topic"))) {
                fprintf(stderr, "usage: subscriber --name NAME --index I --notices PATH --out FILE "
                                "[--kind veto|topic] [--subtree PATH] [--bus SOCK]\n");
                return 100;
        }
        strcpy(out_addr.sun_path, notices);
        out_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        count_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out_fd < 0 || count_fd < 0) {
                fprintf(stderr, "subscriber %u: %s: %s\n", index_, out_fd < 0 ? "socket" : out, strerror(errno));
                return 111;
        }
        write_counts();
        r = sock ? orb_conn_open_path(sock, &bus) : orb_conn_open(&bus);
        if (r >= 0)
                r = !strcmp(kind, "veto") ? run_veto(bus, name, subtree) : run_topic(bus);
        fprintf(stderr, "subscriber %u: %s\n", index_, orb_strerror(r));
        return 111;
}
