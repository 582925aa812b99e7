/*
 * The bus test peer: one program, one mode per integration test, run by
 * orbitald as a service (its bus arrives in $ORB_BUS_FD).  Everything it
 * observes goes to stdout, one line each, for the test to read with
 * `orbctl logs`.
 *
 *   serve TYPE VERSION            serve the test contract
 *   probe                         try every message type; print each answer
 *   client TYPE RANGE             call every 50 ms until revoked; print how, exit 2
 *   grant TYPE TARGET RIGHTS MS   open a channel, grant it to TARGET
 *   set TYPE TEXT                 call the write method `set` once
 *   flood TYPE N                  N calls back to back; count rate refusals
 *   blob TYPE MIB                 one call carrying MIB MiB (a sealed memfd)
 *   subscribe TOPIC               print every event
 *   stall TOPIC                   subscribe, then never read
 *   publish TOPIC N wait|nowait   publish N events; count ORB_E_AGAIN
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "orbital/orbital.h"

static const char contract_fmt[] =
        "# the integration tests' contract\n"
        "interface test %s\n"
        "method echo@1 read (text: str@1) -> (text: str@1, version: str@2)\n"
        "method set@2 write (text: str@1) -> ()\n"
        "method blob@3 read (data: bytes@1) -> (size: u64@1, sum: u64@2)\n"
        "method sink@5 read oneway (data: bytes@1)\n"
        "method count@6 read () -> (n: u64@1)\n";

static const char *version = "1.0";
static unsigned long long n_sunk;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
}

/* Keep serving the bus (revocations, channel ends) until killed. */
static _Noreturn void idle(struct orb_conn *c)
{
        for (;;)
                orb_conn_dispatch(c, -1);
}

static struct orb_conn *open_bus(void)
{
        struct orb_conn *c;
        int r = orb_conn_open(&c);

        if (r < 0) {
                say("bus: %s", orb_strerror(r));
                exit(1);
        }
        return c;
}

/* ---- serve ---- */

static int on_echo(struct orb_call *call, const struct orb_msg *args, void *ud)
{
        struct orb_msg *r = orb_call_reply_msg(call);

        orb_msg_put_str(r, 1, orb_msg_str(args, 1, ""));
        orb_msg_put_str(r, 2, version);
        return orb_call_reply(call, r);
}

static int on_set(struct orb_call *call, const struct orb_msg *args, void *ud)
{
        say("set by %s: %s", orb_call_peer(call), orb_msg_str(args, 1, ""));
        return 0;
}

static int on_blob(struct orb_call *call, const struct orb_msg *args, void *ud)
{
        struct orb_msg *r = orb_call_reply_msg(call);
        const unsigned char *p;
        const void *data;
        size_t n;
        uint64_t sum = 0;

        if (orb_msg_get_bytes(args, 1, &data, &n) < 0)
                return -ORB_E_INVALID;
        p = data;
        for (size_t i = 0; i < n; i++)
                sum += p[i];
        orb_msg_put_u64(r, 1, n);
        orb_msg_put_u64(r, 2, sum);
        return orb_call_reply(call, r);
}

static int on_sink(struct orb_call *call, const struct orb_msg *args, void *ud)
{
        n_sunk++;
        return 0;
}

static int on_count(struct orb_call *call, const struct orb_msg *args, void *ud)
{
        struct orb_msg *r = orb_call_reply_msg(call);

        orb_msg_put_u64(r, 1, n_sunk);
        return orb_call_reply(call, r);
}

static int mode_serve(const char *type, const char *ver)
{
        static const struct orb_handler handlers[] = {{"echo", on_echo}, {"set", on_set}, {"blob", on_blob},
                                                      {"sink", on_sink}, {"count", on_count}, {0}};
        struct orb_conn *c = open_bus();
        char contract[1024];
        int r;

        version = ver;
        snprintf(contract, sizeof(contract), contract_fmt, ver);
        r = orb_conn_serve(c, type, ver, contract, handlers, NULL, NULL);
        if (r < 0) {
                say("serve %s %s: %s", type, ver, orb_strerror(r));
                return 1;
        }
        orb_conn_ready(c);
        say("serving %s %s", type, ver);
        r = orb_conn_run(c);
        say("run: %s", orb_strerror(r));
        return 0;
}

/* ---- probe: a service with no capabilities ---- */

static void probe_raw(int fd, const char *what, const void *buf, size_t len)
{
        struct orb_msg *m = orb_msg_new(0);
        char err[128];
        int r;

        if (send(fd, buf, len, MSG_NOSIGNAL) < 0) {
                say("probe %s: send: %s", what, strerror(errno));
                return;
        }
        r = orb_msg_recv(fd, m, 0);
        if (r == 0)
                r = orb_msg_parse_untrusted(m, err, sizeof(err));
        say("probe %s: code=%d %s", what, r < 0 ? -r : (int)orb_msg_hdr(m)->status,
            r < 0 ? orb_strerror(r) : orb_msg_str(m, ORB_T_MESSAGE, ""));
        orb_msg_free(m);
}

static int mode_probe(void)
{
        const char *fd_text = getenv("ORB_BUS_FD");
        struct orb_hdr h = {.magic = ORB_WIRE_MAGIC, .version = ORB_WIRE_VERSION, .type = 0x3fff, .id = 77};
        struct orb_conn *c;
        struct orb_client *cl;
        uint32_t slot;
        char junk[64];
        int r;

        /* First what no library would send: unknown type, garbage, a bad header. */
        if (fd_text) {
                int fd = atoi(fd_text);
                probe_raw(fd, "unknown-type", &h, sizeof(h));
                memset(junk, 0xA5, sizeof(junk));
                probe_raw(fd, "garbage", junk, sizeof(junk));
                probe_raw(fd, "short", junk, 3);
                static char big[ORB_MSG_MAX + 4096];
                memcpy(big, &h, sizeof(h));
                probe_raw(fd, "oversized", big, sizeof(big));
                /* Messages only orbitald or a channel peer may send. */
                static const uint16_t foreign[] = {ORB_MSG_CONSOLE_INPUT, ORB_MSG_CHANNEL_OPEN, ORB_MSG_EVENT,
                                                   ORB_MSG_CAP_REVOKED, ORB_MSG_CALL, ORB_MSG_REPLY,
                                                   ORB_MSG_NOTIFY, ORB_MSG_ERROR};
                for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
                        char what[32];
                        h.type = foreign[i];
                        snprintf(what, sizeof(what), "type-0x%04x", foreign[i]);
                        probe_raw(fd, what, &h, sizeof(h));
                }
                /* Allowed to anyone, about itself: an empty table, no subscription. */
                h.type = ORB_MSG_CAPS;
                probe_raw(fd, "caps", &h, sizeof(h));
                h.type = ORB_MSG_UNSUBSCRIBE;
                probe_raw(fd, "unsubscribe", &h, sizeof(h));
        }
        c = open_bus();
        r = orb_conn_lookup(c, "echo", NULL, &cl);
        say("probe lookup: code=%d %s", -r, orb_strerror(r));
        r = orb_conn_lookup(c, "nosuch", NULL, &cl);
        say("probe lookup-missing: code=%d %s", -r, orb_strerror(r));
        r = orb_conn_serve(c, "echo", "1.0", "interface echo 1.0\nmethod x@1 read () -> ()\n",
                           (const struct orb_handler[]){{"x", on_count}, {0}}, NULL, NULL);
        say("probe register: code=%d %s", -r, orb_strerror(r));
        r = orb_conn_publish(c, "demo", "x", 1, false);
        say("probe publish: code=%d %s", -r, orb_strerror(r));
        r = orb_conn_subscribe(c, "demo", NULL, NULL);
        say("probe subscribe: code=%d %s", -r, orb_strerror(r));
        r = orb_conn_grant(c, 1, "nobody", ORB_RIGHT_READ, 0, &slot);
        say("probe grant: code=%d %s", -r, orb_strerror(r));
        r = orb_conn_revoke(c, 1);
        say("probe revoke: code=%d %s", -r, orb_strerror(r));
        say("probe done");
        pause();
        return 0;
}

/* ---- client: calls until revoked ---- */

static int revoked;

static void on_revoke(struct orb_conn *c, uint32_t slot, unsigned type, uint64_t id, unsigned reason, void *ud)
{
        say("revoked slot %u type %u reason %u", slot, type, reason);
        revoked = 1;
}

/* A service that holds nothing yet waits (connected) for a grant: it
 * retries a lookup that is not found for up to 30 s. */
static struct orb_client *lookup_or_die(struct orb_conn *c, const char *type, const char *range)
{
        struct orb_client *cl;
        int r = orb_conn_lookup(c, type, range, &cl);

        for (int i = 0; r == -ORB_E_NOT_FOUND && i < 600; i++) {
                if (i == 0)
                        say("lookup %s %s: %s; retrying", type, range ? range : "", orb_strerror(r));
                orb_conn_dispatch(c, 50);
                r = orb_conn_lookup(c, type, range, &cl);
        }
        if (r < 0) {
                say("lookup %s %s: %s", type, range ? range : "", orb_strerror(r));
                exit(1);
        }
        say("lookup %s: slot %u rights %u version %s", type, orb_client_slot(cl), orb_client_rights(cl),
            orb_client_contract(cl)->text ? "ok" : "?");
        return cl;
}

static int call_echo(struct orb_client *cl, const char *text, char *version_out, size_t n)
{
        struct orb_msg *req = orb_client_request(cl, "echo"), *reply = NULL;
        int r;

        orb_msg_put_str(req, 1, text);
        r = orb_client_call(cl, req, 2000, &reply);
        if (r == 0 && version_out)
                snprintf(version_out, n, "%s", orb_msg_str(reply, 2, ""));
        orb_msg_free(reply);
        return r;
}

static int mode_client(const char *type, const char *range)
{
        struct orb_conn *c = open_bus();
        struct orb_client *cl;
        char ver[32];
        int r;

        orb_conn_on_revoke(c, on_revoke, NULL);
        cl = lookup_or_die(c, type, range);
        r = call_echo(cl, "first", ver, sizeof(ver));
        say("call: %s version %s", orb_strerror(r), ver);
        r = 0;
        while (r == 0) {
                orb_conn_dispatch(c, 50);
                r = call_echo(cl, "again", NULL, 0);
        }
        say("call failed: %s", orb_strerror(r));
        for (int i = 0; i < 100 && !revoked; i++)
                orb_conn_dispatch(c, 50);
        for (int i = 0; i < 5; i++) /* a revocation tells of every slot it removed */
                orb_conn_dispatch(c, 50);
        say("client done");
        orb_exit(c, 2); /* restarted by policy: it starts over with what it holds */
}

static int mode_grant(const char *type, const char *target, const char *rights, const char *ms)
{
        struct orb_conn *c = open_bus();
        struct orb_client *cl = lookup_or_die(c, type, NULL);
        uint32_t slot = 0;
        int r = orb_conn_grant(c, orb_client_slot(cl), target, (unsigned)atoi(rights), strtoull(ms, NULL, 10), &slot);

        say("grant to %s: %s slot %u", target, orb_strerror(r), slot);
        idle(c);
}

static int mode_set(const char *type, const char *text)
{
        struct orb_conn *c = open_bus();
        struct orb_client *cl = lookup_or_die(c, type, NULL);
        struct orb_msg *req = orb_client_request(cl, "set"), *reply = NULL;
        int r;

        orb_msg_put_str(req, 1, text);
        r = orb_client_call(cl, req, 2000, &reply);
        say("set: code=%d %s", -r, orb_strerror(r));
        orb_msg_free(reply);
        idle(c);
}

static int mode_flood(const char *type, const char *count)
{
        struct orb_conn *c = open_bus();
        struct orb_client *cl = lookup_or_die(c, type, NULL);
        unsigned long n = strtoul(count, NULL, 10), ok = 0, limited = 0, other = 0;

        for (unsigned long i = 0; i < n; i++) {
                int r = call_echo(cl, "x", NULL, 0);
                if (r == 0)
                        ok++;
                else if (r == -ORB_E_RATE)
                        limited++;
                else
                        other++;
        }
        say("flood: ok=%lu limited=%lu other=%lu", ok, limited, other);
        idle(c);
}

static int mode_blob(const char *type, const char *mib)
{
        struct orb_conn *c = open_bus();
        struct orb_client *cl = lookup_or_die(c, type, NULL);
        size_t n = strtoull(mib, NULL, 10) << 20;
        unsigned char *buf = malloc(n);
        uint64_t sum = 0;
        struct orb_msg *req, *reply = NULL;
        int r;

        if (!buf)
                return 1;
        for (size_t i = 0; i < n; i++)
                sum += buf[i] = (unsigned char)(i * 7 + (i >> 12));
        req = orb_client_request(cl, "blob");
        orb_msg_put_bytes(req, 1, buf, n);
        r = orb_client_call(cl, req, 20000, &reply);
        say("payload: %s size %llu sum %s", orb_strerror(r), (unsigned long long)orb_msg_u64(reply, 1, 0),
            r == 0 && orb_msg_u64(reply, 2, 0) == sum ? "matches" : "differs");
        orb_msg_free(reply);
        free(buf);
        idle(c);
}

static void on_event(struct orb_conn *c, const char *topic, const void *data, size_t len, const char *from,
                     void *ud)
{
        say("event %s from %s: %.*s", topic, from, (int)len, (const char *)data);
}

static int mode_subscribe(const char *topic, bool stall)
{
        struct orb_conn *c = open_bus();
        int r = orb_conn_subscribe(c, topic, on_event, NULL);

        orb_conn_on_revoke(c, on_revoke, NULL);
        say("subscribe %s: %s", topic, orb_strerror(r));
        orb_conn_ready(c); /* publishers that start after us find us subscribed */
        if (stall)
                for (;;)
                        pause();
        idle(c);
}

static int mode_publish(const char *topic, const char *count, const char *how)
{
        struct orb_conn *c = open_bus();
        unsigned long n = strtoul(count, NULL, 10), ok = 0, again = 0, other = 0;
        char payload[2048];

        memset(payload, 'p', sizeof(payload));
        for (unsigned long i = 0; i < n; i++) {
                int r = orb_conn_publish(c, topic, payload, sizeof(payload), strcmp(how, "wait") == 0);
                if (r == 0)
                        ok++;
                else if (r == -ORB_E_AGAIN)
                        again++;
                else if (other++ == 0)
                        say("publish: first error code=%d %s", -r, orb_strerror(r));
        }
        say("publish: ok=%lu again=%lu other=%lu", ok, again, other);
        idle(c);
}

int main(int argc, char **argv)
{
        const char *m = argc > 1 ? argv[1] : "";

        if (!strcmp(m, "serve") && argc == 4)
                return mode_serve(argv[2], argv[3]);
        if (!strcmp(m, "probe"))
                return mode_probe();
        if (!strcmp(m, "client") && argc == 4)
                return mode_client(argv[2], argv[3]);
        if (!strcmp(m, "grant") && argc == 6)
                return mode_grant(argv[2], argv[3], argv[4], argv[5]);
        if (!strcmp(m, "set") && argc == 4)
                return mode_set(argv[2], argv[3]);
        if (!strcmp(m, "flood") && argc == 4)
                return mode_flood(argv[2], argv[3]);
        if (!strcmp(m, "blob") && argc == 4)
                return mode_blob(argv[2], argv[3]);
        if (!strcmp(m, "subscribe") && argc == 3)
                return mode_subscribe(argv[2], false);
        if (!strcmp(m, "stall") && argc == 3)
                return mode_subscribe(argv[2], true);
        if (!strcmp(m, "publish") && argc == 5)
                return mode_publish(argv[2], argv[3], argv[4]);
        fprintf(stderr, "usage: see the top of tests/helpers/bustest.c\n");
        return 100;
}
