/*
 * orbctl call / subscribe / publish.  `call` is generic: the service's
 * contract (handed over with the channel) turns the JSON arguments into a
 * typed request and the typed reply back into JSON, like `ubus call` or
 * `busctl call`.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bus-cmd.h"
#include "orbital/orbital.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 100
#define EXIT_SYSTEM 111
#define CALL_TIMEOUT_MS 10000

static int fail(int code, const char *what, int err, const struct orb_msg *reply)
{
        const char *detail = reply ? orb_msg_str(reply, ORB_T_MESSAGE, NULL) : NULL;

        fprintf(stderr, "orbctl: %s: %s%s%s\n", what, orb_strerror(err), detail ? ": " : "", detail ? detail : "");
        return code;
}

static int open_bus(const char *path, struct orb_conn **c)
{
        int r = orb_conn_open_path(path, c);

        if (r < 0)
                fprintf(stderr, "orbctl: unable to connect to the bus at %s: %s\n", path, orb_strerror(r));
        return r;
}

int bus_call_client(struct orb_client *cl, const char *method, const char *args, struct orb_msg **out,
                    const struct orb_method **method_out)
{
        const struct orb_method *m = orb_contract_method(orb_client_contract(cl), method);
        struct orb_msg *req, *reply = NULL;
        char err[256];
        int r;

        *out = NULL;
        if (!m) {
                fprintf(stderr, "orbctl: the service has no method '%s'; its contract:\n%s", method,
                        orb_client_contract(cl)->text);
                return EXIT_USAGE;
        }
        if (method_out)
                *method_out = m;
        req = orb_client_request(cl, method);
        if (!req)
                return fail(EXIT_SYSTEM, method, -ENOMEM, NULL);
        if (orb_msg_from_json(req, m->in, m->n_in, args ? args : "{}", err, sizeof(err)) < 0) {
                orb_msg_free(req);
                fprintf(stderr, "orbctl: %s: %s\n", method, err);
                return EXIT_USAGE;
        }
        if (m->is_oneway) {
                r = orb_client_notify(cl, req, true);
                return r < 0 ? fail(EXIT_REFUSED, method, r, NULL) : 0;
        }
        r = orb_client_call(cl, req, CALL_TIMEOUT_MS, &reply);
        if (r < 0) {
                r = fail(EXIT_REFUSED, method, r, reply);
                orb_msg_free(reply);
                return r;
        }
        *out = reply;
        return 0;
}

int bus_lookup(struct orb_conn *c, const char *service, struct orb_client **cl)
{
        int r = orb_conn_lookup(c, service, NULL, cl);

        return r < 0 ? fail(r == -ORB_E_NOT_FOUND ? EXIT_REFUSED : EXIT_SYSTEM, service, r, NULL) : 0;
}

int bus_call_json(struct orb_conn *c, const char *service, const char *method, const char *args, char **out)
{
        const struct orb_method *m = NULL;
        struct orb_client *cl;
        struct orb_msg *reply = NULL;
        char *text;
        int code = bus_lookup(c, service, &cl);

        if (!code)
                code = bus_call_client(cl, method, args, &reply, &m);
        if (code || !reply) /* a oneway method has no reply */
                return code;
        text = orb_msg_to_json(reply, m->out, m->n_out);
        orb_msg_free(reply);
        if (!text)
                return fail(EXIT_SYSTEM, "reply", -ENOMEM, NULL);
        *out = text;
        return 0;
}

static int cmd_call(struct orb_conn *c, bool as_json, const char *service, const char *method, const char *args)
{
        char *text = NULL;
        int code = bus_call_json(c, service, method, args, &text);

        if (code || !text) /* a oneway method has no reply */
                return code;
        if (as_json) {
                puts(text);
        } else {
                json_t *v = json_loads(text, 0, NULL);
                char *pretty = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
                puts(pretty ? pretty : text);
                free(pretty);
                json_decref(v);
        }
        free(text);
        return 0;
}

static void on_event(struct orb_conn *c, const char *topic, const void *data, size_t len, const char *publisher,
                     void *userdata)
{
        bool as_json = *(bool *)userdata;
        json_t *v = json_pack("{s:s, s:s, s:s%}", "topic", topic, "publisher", publisher, "data", (const char *)data,
                              len);
        char *text;

        (void)c;
        if (!v) /* not UTF-8 text: say how much */
                v = json_pack("{s:s, s:s, s:I}", "topic", topic, "publisher", publisher, "bytes", (json_int_t)len);
        if (as_json) {
                text = json_dumps(v, JSON_COMPACT);
                puts(text ? text : "{}");
        } else {
                json_t *d = json_object_get(v, "data");
                text = d ? json_dumps(d, JSON_ENCODE_ANY) : NULL;
                printf("%s %s: %s\n", topic, publisher, text ? text : "(binary)");
        }
        free(text);
        json_decref(v);
        fflush(stdout);
}

static int cmd_subscribe(struct orb_conn *c, bool as_json, const char *topic)
{
        int r = orb_conn_subscribe(c, topic, on_event, &as_json);

        if (r < 0)
                return fail(EXIT_REFUSED, topic, r, NULL);
        fprintf(stderr, "orbctl: subscribed to %s\n", topic);
        r = orb_conn_run(c);
        return r < 0 ? fail(EXIT_SYSTEM, "bus", r, NULL) : 0;
}

int bus_open(const char *path, struct orb_conn **c)
{
        return open_bus(path, c) < 0 ? EXIT_SYSTEM : 0;
}

int bus_cmd(const char *bus_path, bool as_json, int argc, char **argv)
{
        struct orb_conn *c = NULL;
        int code = EXIT_USAGE;

        if (strcmp(argv[0], "call") == 0 && (argc == 3 || argc == 4)) {
                if (open_bus(bus_path, &c) < 0)
                        return EXIT_SYSTEM;
                code = cmd_call(c, as_json, argv[1], argv[2], argc == 4 ? argv[3] : NULL);
        } else if (strcmp(argv[0], "subscribe") == 0 && argc == 2) {
                if (open_bus(bus_path, &c) < 0)
                        return EXIT_SYSTEM;
                code = cmd_subscribe(c, as_json, argv[1]);
        } else if (strcmp(argv[0], "publish") == 0 && argc == 3) {
                if (open_bus(bus_path, &c) < 0)
                        return EXIT_SYSTEM;
                int r = orb_conn_publish(c, argv[1], argv[2], strlen(argv[2]), true);
                code = r < 0 ? fail(EXIT_REFUSED, argv[1], r, NULL) : 0;
        } else {
                fprintf(stderr, "orbctl: %s: wrong arguments\n", argv[0]);
        }
        orb_conn_close(c);
        return code;
}
