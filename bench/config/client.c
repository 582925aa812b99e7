/*
 * bench/config/client.c - orb-config through the bus, end to end: a
 * liborbital client of the "config" contract under a real orbitald, as
 * orbctl config is, with K subscribers (subscriber.c, services of that
 * orbitald): subscribers with a veto, which orb-config asks to check each
 * commit before it makes it, or (subscriber --kind topic) subscribers of
 * "config.committed" only.
 *
 *   client --bus SOCK --notices PATH --subscribers K --leaves S
 *
 * S is what the store holds (leaves.h's layout; the run script loads it).
 * Then one command per line on stdin, one answer line each:
 *
 *   commit N   N calls of "set" (one round trip each, in this client's
 *              session "bench"), then one call of "commit"; answers
 *              set_ns (all the sets), commit_ns (the commit call alone:
 *              request sent -> reply received; with veto subscribers it
 *              includes their checks; the reply carries the diff, as
 *              bytes), check_ns (commit request sent -> the last of the K
 *              subscribers has the check; veto subscribers only),
 *              notify_ns (commit request sent -> the last of the K
 *              subscribers has the notice after the commit: the outcome,
 *              or the topic's notice) and first_ns (-> the first one),
 *              all by the subscribers' own CLOCK_MONOTONIC stamps; asked
 *              (how many subscribers the reply names as asked)
 *   quit
 *
 * Each subscriber sends "INDEX ID STAMP_NS CHECK_STAMP_NS" to the
 * datagram socket PATH (bound here, mode 0666: the subscribers run as
 * their own users) when the notice of commit ID reaches it; CHECK_STAMP_NS
 * is when that commit's check reached it (0: none).  A commit whose notice
 * does not reach all K within 10 s is an error.  After each commit (untimed) the diff in the reply must hold
 * exactly N changed leaves.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <orbital/orbital.h>

#include "leaves.h"

#define SUBS_MAX 256
#define CALL_TIMEOUT_MS 60000

static struct orb_conn *bus;
static struct orb_client *cfg;
static struct orb_msg *reply; /* reused by every call */
static int notice_fd = -1;
static unsigned n_subs, n_entries;

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void print_error(const char *what, int r)
{
        printf("error %s: %s: %s\n", what, orb_strerror(r), reply ? orb_msg_str(reply, ORB_T_MESSAGE, "") : "");
}

static int call(struct orb_msg *req, const char *what)
{
        int r = orb_client_call(cfg, req, CALL_TIMEOUT_MS, &reply);

        if (r < 0)
                print_error(what, r);
        return r;
}

static int revision(uint64_t *out)
{
        struct orb_msg *req = orb_client_request(cfg, "status");

        if (!req || call(req, "status") < 0)
                return -1;
        *out = orb_msg_u64(reply, 1, 0);
        return 0;
}

static int set_leaf(unsigned e, enum leaf l, uint64_t k)
{
        struct orb_msg *req = orb_client_request(cfg, "set");
        char path[96], value[64];

        leaf_path(path, sizeof(path), e, l);
        leaf_value(value, sizeof(value), e, l, k);
        if (!req)
                return -1;
        orb_msg_put_str(req, 1, "bench");
        orb_msg_put_str(req, 2, path);
        orb_msg_put_str(req, 3, value);
        return call(req, "set");
}

/* Waits for the notice of commit @id at every subscriber; *@last and
 * *@first are their stamps.  Of the checks stamped at or after @t0 (the
 * commit request), *@check_last is the latest, *@n_checks how many.
 * Returns how many got the notice. */
static unsigned wait_notices(uint64_t id, uint64_t t0, uint64_t *first, uint64_t *last, uint64_t *check_last,
                             unsigned *n_checks)
{
        static unsigned char seen[SUBS_MAX];
        uint64_t deadline = now_ns() + 10000000000ull;
        unsigned got = 0;

        memset(seen, 0, sizeof(seen));
        *first = *last = *check_last = 0;
        *n_checks = 0;
        while (got < n_subs) {
                struct pollfd pf = {notice_fd, POLLIN, 0};
                unsigned long long nid, stamp, checked;
                unsigned idx;
                char buf[128];
                ssize_t len;
                uint64_t now = now_ns();

                if (now >= deadline || poll(&pf, 1, (int)((deadline - now) / 1000000 + 1)) <= 0)
                        break;
                len = recv(notice_fd, buf, sizeof(buf) - 1, 0);
                if (len <= 0)
                        continue;
                buf[len] = 0;
                if (sscanf(buf, "%u %llu %llu %llu", &idx, &nid, &stamp, &checked) != 4 || nid != id ||
                    idx >= n_subs || seen[idx])
                        continue; /* a stray: an older commit's notice */
                if (checked >= t0) {
                        ++*n_checks;
                        if (checked > *check_last)
                                *check_last = checked;
                }
                seen[idx] = 1;
                got++;
                if (!*first || stamp < *first)
                        *first = stamp;
                if (stamp > *last)
                        *last = stamp;
        }
        return got;
}

/* The running values of entry @e's changed leaves must be commit @k's. */
static int check_leaves(unsigned e, uint64_t k)
{
        for (unsigned l = LEAF_MTU; l <= LEAF_ALIAS; l++) {
                struct orb_msg *req = orb_client_request(cfg, "get");
                char path[96], want[64];
                const char *got, *src;

                leaf_path(path, sizeof(path), e, l);
                leaf_value(want, sizeof(want), e, l, k);
                if (!req)
                        return -1;
                orb_msg_put_str(req, 1, "bench");
                orb_msg_put_str(req, 2, path);
                if (call(req, "get") < 0)
                        return -1;
                got = orb_msg_str(reply, 1, "");
                src = orb_msg_str(reply, 2, "");
                if (strcmp(got, want) || strcmp(src, "running")) {
                        printf("error after commit %llu: %s is '%s' (%s), expected '%s' (running)\n",
                               (unsigned long long)k, path, got, src, want);
                        return -1;
                }
        }
        return 0;
}

static void do_commit(unsigned n_leaves)
{
        unsigned first, stride, count, got;
        uint64_t rev, k, id, t0, t1, t2, t3, n_first, n_last, c_last;
        struct orb_msg *req;
        size_t changed = 0, added = 0, removed = 0;
        const void *text = "";
        size_t len = 0;
        unsigned n_checks, n_asked = 0;
        int r;
        const char *asked;
        json_t *diff;

        if (revision(&rev) < 0)
                return;
        k = rev + 1;
        if (change_plan(n_entries, n_leaves, k, CHANGE_SPREAD, &first, &stride, &count) < 0) {
                printf("error %u leaves cannot change in a store of %u entries\n", n_leaves, n_entries);
                return;
        }
        t0 = now_ns();
        for (unsigned j = 0; j < count; j++)
                for (unsigned l = LEAF_MTU; l <= LEAF_ALIAS; l++)
                        if (set_leaf(first + j * stride, l, k) < 0)
                                return;
        t1 = now_ns();
        if (!(req = orb_client_request(cfg, "commit")))
                return;
        orb_msg_put_str(req, 1, "bench");
        orb_msg_put_str(req, 2, "bench/config");
        orb_msg_put_u64(req, 3, 0);      /* no confirm deadline */
        orb_msg_put_bool(req, 4, false); /* not a dry run */
        orb_msg_put_bool(req, 5, false); /* no rebase */
        t2 = now_ns();
        r = orb_client_call(cfg, req, CALL_TIMEOUT_MS, &reply);
        t3 = now_ns();
        if (r < 0) {
                print_error("commit", r);
                return;
        }
        id = orb_msg_u64(reply, 1, 0);
        orb_msg_get_bytes(reply, 2, &text, &len); /* JSON, as bytes (a memfd when large) */
        diff = json_loadb(text, len, 0, NULL);
        if (!diff) {
                printf("error commit %llu: the reply's diff (%zu bytes) is not JSON\n", (unsigned long long)id, len);
                return;
        }
        added = json_array_size(json_object_get(diff, "added"));
        changed = json_array_size(json_object_get(diff, "changed"));
        removed = json_array_size(json_object_get(diff, "removed"));
        json_decref(diff);
        asked = orb_msg_str(reply, 4, ""); /* "sub0, sub1, ..." */
        if (*asked)
                for (n_asked = 1; (asked = strchr(asked, ',')); asked++)
                        n_asked++;
        got = wait_notices(id, t2, &n_first, &n_last, &c_last, &n_checks);
        if (revision(&rev) < 0 || rev != k || id != k || got != n_subs) {
                printf("error commit %llu (expected %llu, running revision %llu): the notice reached %u of %u "
                       "subscribers\n",
                       (unsigned long long)id, (unsigned long long)k, (unsigned long long)rev, got, n_subs);
                return;
        }
        if (check_leaves(first, k) < 0 || check_leaves(first + (count - 1) * stride, k) < 0)
                return;
        printf("ok set_ns=%llu commit_ns=%llu", (unsigned long long)(t1 - t0), (unsigned long long)(t3 - t2));
        if (n_subs && n_checks == n_subs) /* veto subscribers: all K had the check */
                printf(" check_ns=%llu", (unsigned long long)(c_last - t2));
        printf(" notify_ns=%llu first_ns=%llu notices=%u checks=%u asked=%u changed=%zu added=%zu removed=%zu "
               "rev=%llu\n",
               (unsigned long long)(n_subs ? n_last - t2 : 0), (unsigned long long)(n_subs ? n_first - t2 : 0), got,
               n_checks, n_asked, changed, added, removed, (unsigned long long)id);
}

static int bind_notices(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, path);
        unlink(path);
        notice_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (notice_fd < 0 || bind(notice_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0)
                return -1;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {{"bus", required_argument, NULL, 'b'},
                                             {"notices", required_argument, NULL, 'n'},
                                             {"subscribers", required_argument, NULL, 'k'},
                                             {"leaves", required_argument, NULL, 'l'},
                                             {0}};
        const char *sock = NULL, *notices = NULL;
        char line[256], cmd[32];
        unsigned n;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'b')
                        sock = optarg;
                else if (c == 'n')
                        notices = optarg;
                else if (c == 'k')
                        n_subs = (unsigned)atoi(optarg);
                else if (c == 'l')
                        n_entries = (unsigned)atoi(optarg) / LEAVES_PER_ENTRY;
                else
                        return 100;
        }
        if (!sock || !notices || !n_entries || n_subs > SUBS_MAX) {
                fprintf(stderr, "usage: client --bus SOCK --notices PATH --subscribers K --leaves S\n");
                return 100;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (bind_notices(notices) < 0) {
                printf("error cannot bind %s: %s\n", notices, strerror(errno));
                return 1;
        }
        if ((r = orb_conn_open_path(sock, &bus)) < 0 || (r = orb_conn_lookup(bus, "config", "1", &cfg)) < 0) {
                printf("error bus: %s\n", orb_strerror(r));
                return 1;
        }
        printf("ok ready\n");
        while (fgets(line, sizeof(line), stdin)) {
                if (sscanf(line, "%31s", cmd) != 1)
                        continue;
                if (!strcmp(cmd, "quit"))
                        break;
                if (!strcmp(cmd, "commit") && sscanf(line, "%*s %u", &n) == 1)
                        do_commit(n);
                else
                        printf("error unknown command: %s", line);
        }
        orb_msg_free(reply);
        orb_client_close(cfg);
        orb_conn_close(bus);
        unlink(notices);
        return 0;
}
