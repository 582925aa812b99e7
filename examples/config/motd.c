/*
 * A configurable service in one page: it prints a message of the day made
 * of system.greeting and system.hostname, read from orb-config, and prints
 * it again after every commit that changes them.  It also has a say in
 * those commits: it refuses a greeting of "bye" (orb-config then changes
 * nothing and tells the committer why).
 *
 * Manifest: capabilities: [call:config:r]; requires: [config].
 * Try: orbctl config set system.greeting hi && orbctl config commit
 *      orbctl config set system.greeting bye && orbctl config commit
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <orbital/orbital.h>

static struct orb_msg *call(struct orb_client *cl, struct orb_msg *req, int timeout_ms)
{
        struct orb_msg *reply = NULL;
        int r = orb_client_call(cl, req, timeout_ms, &reply);

        if (r < 0) {
                fprintf(stderr, "motd: %s %s\n", orb_strerror(r), reply ? orb_msg_str(reply, ORB_T_MESSAGE, "") : "");
                orb_msg_free(reply);
                return NULL;
        }
        return reply;
}

/* One leaf's value ("" if it has none). */
static void get(struct orb_client *cl, const char *path, char *buf, size_t n)
{
        struct orb_msg *req = orb_client_request(cl, "get"), *reply;

        orb_msg_put_str(req, 1, ""); /* the default session: nothing pending in it */
        orb_msg_put_str(req, 2, path);
        reply = call(cl, req, 5000);
        snprintf(buf, n, "%s", reply ? orb_msg_str(reply, 1, "") : "");
        orb_msg_free(reply);
}

static void print_motd(struct orb_client *cl)
{
        char greeting[128], host[128];

        get(cl, "system.greeting", greeting, sizeof(greeting));
        get(cl, "system.hostname", host, sizeof(host));
        printf("motd: %s from %s\n", greeting, host);
        fflush(stdout);
}

static bool is_greeting_bye(const json_t *delta, const char *field)
{
        const char *path = json_string_value(json_object_get(delta, "path"));
        const char *value = json_string_value(json_object_get(delta, field));

        return path && value && !strcmp(path, "system.greeting") && !strcmp(value, "bye");
}

/* The check: is system.greeting about to become "bye"?  (The diff is
 * JSON, sent as bytes: a large one comes in a sealed memfd.) */
static bool says_bye(const struct orb_msg *notice)
{
        const void *text = "{}";
        size_t len = 2;
        json_t *diff, *d;

        orb_msg_get_bytes(notice, 3, &text, &len);
        diff = json_loadb(text, len, 0, NULL);
        bool bye = false;
        size_t i;

        json_array_foreach(json_object_get(diff, "added"), i, d)
                bye |= is_greeting_bye(d, "value");
        json_array_foreach(json_object_get(diff, "changed"), i, d)
                bye |= is_greeting_bye(d, "new");
        json_decref(diff);
        return bye;
}

int main(void)
{
        struct orb_conn *bus;
        struct orb_client *cl;
        struct orb_msg *req, *reply;
        uint64_t id;
        int r;

        if ((r = orb_conn_open(&bus)) < 0 || (r = orb_conn_lookup(bus, "config", NULL, &cl)) < 0) {
                fprintf(stderr, "motd: %s\n", orb_strerror(r));
                return 1;
        }
        req = orb_client_request(cl, "subscribe");
        orb_msg_put_str(req, 1, "system");
        orb_msg_put_str(req, 2, "motd");
        if (!(reply = call(cl, req, 5000)))
                return 1;
        id = orb_msg_u64(reply, 1, 0);
        orb_msg_free(reply);
        print_motd(cl);
        orb_conn_ready(bus);
        for (;;) {
                req = orb_client_request(cl, "next");
                orb_msg_put_u64(req, 1, id);
                if (!(reply = call(cl, req, 24 * 3600 * 1000)))
                        return 1; /* orbitald restarts us; we subscribe again */
                if (!strcmp(orb_msg_str(reply, 1, ""), "outcome")) {
                        if (!strncmp(orb_msg_str(reply, 5, ""), "committed", 9))
                                print_motd(cl);
                        orb_msg_free(reply);
                        continue;
                }
                bool bye = says_bye(reply);
                req = orb_client_request(cl, "verdict");
                orb_msg_put_u64(req, 1, orb_msg_u64(reply, 2, 0));
                orb_msg_put_bool(req, 2, !bye);
                orb_msg_put_str(req, 3, bye ? "motd does not say bye" : "");
                orb_msg_put_u64(req, 4, id);
                orb_msg_free(reply);
                orb_msg_free(call(cl, req, 5000));
        }
}
