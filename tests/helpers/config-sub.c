/*
 * A configuration subscriber for the tests: subscribes to SUBTREE as
 * NAME, then answers every check as MODE says and prints one line per
 * notice ("sub NAME: check TOKEN by AUTHOR", "sub NAME: outcome TEXT").
 *
 *   orb-config-sub NAME SUBTREE accept|refuse|silent|crash
 *
 * refuse: refuses with the reason "policy says no"; silent: never answers
 * (the commit must time out); crash: exits at once on a check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orbital/orbital.h>

/* "sub NAME: WHAT ARG" on stdout, at once (it goes to the service's log). */
static void say(const char *name, const char *what, const char *arg)
{
        printf("sub %s: %s %s\n", name, what, arg);
        fflush(stdout);
}

static struct orb_msg *call(struct orb_client *cl, struct orb_msg *req, int timeout_ms)
{
        struct orb_msg *reply = NULL;
        int r = orb_client_call(cl, req, timeout_ms, &reply);

        if (r < 0) {
                fprintf(stderr, "config-sub: %s: %s\n", orb_strerror(r),
                        reply ? orb_msg_str(reply, ORB_T_MESSAGE, "") : "");
                exit(2);
        }
        return reply;
}

int main(int argc, char **argv)
{
        const char *name = argc == 4 ? argv[1] : NULL, *mode = argc == 4 ? argv[3] : "";
        struct orb_conn *bus;
        struct orb_client *cl;
        struct orb_msg *req, *reply;
        uint64_t id;
        int r;

        if (!name) {
                fprintf(stderr, "usage: orb-config-sub NAME SUBTREE accept|refuse|silent|crash\n");
                return 100;
        }
        if ((r = orb_conn_open(&bus)) < 0 || (r = orb_conn_lookup(bus, "config", NULL, &cl)) < 0) {
                fprintf(stderr, "config-sub: %s\n", orb_strerror(r));
                return 1;
        }
        req = orb_client_request(cl, "subscribe");
        orb_msg_put_str(req, 1, argv[2]);
        orb_msg_put_str(req, 2, name);
        reply = call(cl, req, 5000);
        id = orb_msg_u64(reply, 1, 0);
        orb_msg_free(reply);
        orb_conn_ready(bus);
        say(name, "subscribed to", argv[2]);
        for (;;) {
                char token[32];

                req = orb_client_request(cl, "next");
                orb_msg_put_u64(req, 1, id);
                reply = call(cl, req, 3600 * 1000);
                snprintf(token, sizeof(token), "%llu", (unsigned long long)orb_msg_u64(reply, 2, 0));
                if (strcmp(orb_msg_str(reply, 1, ""), "check")) {
                        say(name, "outcome", orb_msg_str(reply, 5, ""));
                        orb_msg_free(reply);
                        continue;
                }
                say(name, "check", token);
                orb_msg_free(reply);
                if (!strcmp(mode, "crash"))
                        abort();
                if (!strcmp(mode, "silent"))
                        continue; /* the next `next` is held; the check times out */
                req = orb_client_request(cl, "verdict");
                orb_msg_put_u64(req, 1, strtoull(token, NULL, 10));
                orb_msg_put_bool(req, 2, !strcmp(mode, "accept"));
                orb_msg_put_str(req, 3, !strcmp(mode, "accept") ? "" : "policy says no");
                orb_msg_put_u64(req, 4, id);
                orb_msg_free(call(cl, req, 5000));
        }
}
