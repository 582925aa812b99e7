/*
 * dbus-peer - D-Bus through a dbus-daemon, with libdbus-1.
 *
 *     dbus-peer serve ADDRESS
 *     dbus-peer client --addr ADDRESS [bench options]     (see bench.h)
 *
 * The server connects to the bus at ADDRESS (a private dbus-daemon the run
 * script starts), owns the name org.orbital.Bench and serves, on object
 * /org/orbital/Bench, interface org.orbital.Bench:
 *
 *   Echo(ay data) -> (ay data)   the round trip;
 *   Sink(ay data)                sent with NO_REPLY_EXPECTED: counted;
 *   Done() -> (t count)          the count, after every earlier Sink.
 *
 * Every call goes client -> dbus-daemon -> server and the reply back the
 * same way: two socket hops each way, as on any D-Bus bus.  The server is
 * one blocking loop: dbus_connection_read_write() then pop every message.
 * The client uses dbus_connection_send_with_reply_and_block() for calls
 * and dbus_connection_send() for Sink (flushed every 256 messages so
 * libdbus's outgoing queue stays bounded).
 */
#include <dbus/dbus.h>

#include "bench.h"

#define NAME "org.orbital.Bench"
#define PATH "/org/orbital/Bench"
#define IFACE "org.orbital.Bench"

struct dctx {
        DBusConnection *conn;
        unsigned unflushed;
};

static DBusConnection *bus_open(const char *addr)
{
        DBusError err;
        DBusConnection *c;

        dbus_error_init(&err);
        c = dbus_connection_open_private(addr, &err);
        if (!c || !dbus_bus_register(c, &err))
                bench_die("dbus: connect to %s: %s", addr, err.message ? err.message : "failed");
        dbus_connection_set_exit_on_disconnect(c, FALSE);
        return c;
}

static void *d_connect(const struct bench_opts *o, long index)
{
        struct dctx *d = calloc(1, sizeof(*d));
        DBusError err;

        (void)index;
        if (!d || !o->addr)
                return NULL;
        d->conn = bus_open(o->addr);
        dbus_error_init(&err);
        for (int i = 0; !dbus_bus_name_has_owner(d->conn, NAME, &err); i++) {
                if (dbus_error_is_set(&err) || i == 2000)
                        bench_die("dbus: %s has no owner", NAME);
                usleep(5000);
        }
        return d;
}

static DBusMessage *new_call(const char *method, const uint8_t *buf, size_t n)
{
        DBusMessage *m = dbus_message_new_method_call(NAME, PATH, IFACE, method);

        if (!m || (buf && !dbus_message_append_args(m, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &buf, (int)n,
                                                   DBUS_TYPE_INVALID)))
                bench_die("dbus: out of memory");
        return m;
}

static DBusMessage *call(struct dctx *d, DBusMessage *m)
{
        DBusError err;
        DBusMessage *reply;

        dbus_error_init(&err);
        reply = dbus_connection_send_with_reply_and_block(d->conn, m, -1, &err);
        dbus_message_unref(m);
        if (!reply) {
                fprintf(stderr, "dbus: call failed: %s\n", err.message);
                dbus_error_free(&err);
        }
        return reply;
}

static int d_echo(void *ctx, const uint8_t *buf, size_t n)
{
        struct dctx *d = ctx;
        DBusMessage *reply = call(d, new_call("Echo", buf, n));
        DBusMessageIter it, sub;
        const uint8_t *p = NULL;
        int len = -1, ok;

        if (!reply)
                return -1;
        if (dbus_message_iter_init(reply, &it) && dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY) {
                dbus_message_iter_recurse(&it, &sub);
                dbus_message_iter_get_fixed_array(&sub, &p, &len);
        }
        ok = len >= 0 && bench_check(p, (size_t)len, n);
        dbus_message_unref(reply);
        return ok ? 0 : -1;
}

static int d_sink(void *ctx, const uint8_t *buf, size_t n)
{
        struct dctx *d = ctx;
        DBusMessage *m = new_call("Sink", buf, n);
        dbus_bool_t ok;

        dbus_message_set_no_reply(m, TRUE);
        ok = dbus_connection_send(d->conn, m, NULL);
        dbus_message_unref(m);
        if (++d->unflushed == 256) {
                dbus_connection_flush(d->conn);
                d->unflushed = 0;
        }
        return ok ? 0 : -1;
}

static int d_done(void *ctx, uint64_t *count)
{
        struct dctx *d = ctx;
        DBusMessage *reply = call(d, new_call("Done", NULL, 0));
        dbus_uint64_t c;
        int ok;

        if (!reply)
                return -1;
        ok = dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT64, &c, DBUS_TYPE_INVALID);
        dbus_message_unref(reply);
        *count = c;
        d->unflushed = 0;
        return ok ? 0 : -1;
}

static void d_disconnect(void *ctx)
{
        struct dctx *d = ctx;

        dbus_connection_close(d->conn);
        dbus_connection_unref(d->conn);
        free(d);
}

static const struct bench_ops dbus_ops = {
        .name = "dbus",
        .connect = d_connect,
        .echo = d_echo,
        .sink = d_sink,
        .done = d_done,
        .disconnect = d_disconnect,
};

static void handle(DBusConnection *c, DBusMessage *m, dbus_uint64_t *count)
{
        DBusMessage *reply = NULL;

        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return; /* NameAcquired and other signals */
        if (dbus_message_is_method_call(m, IFACE, "Sink")) {
                ++*count;
                return;
        }
        if (dbus_message_is_method_call(m, IFACE, "Echo")) {
                DBusMessageIter it, sub;
                const uint8_t *p = NULL;
                int len = 0;

                if (dbus_message_iter_init(m, &it) && dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY) {
                        dbus_message_iter_recurse(&it, &sub);
                        dbus_message_iter_get_fixed_array(&sub, &p, &len);
                }
                reply = dbus_message_new_method_return(m);
                if (reply)
                        dbus_message_append_args(reply, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &p, len, DBUS_TYPE_INVALID);
        } else if (dbus_message_is_method_call(m, IFACE, "Done")) {
                reply = dbus_message_new_method_return(m);
                if (reply)
                        dbus_message_append_args(reply, DBUS_TYPE_UINT64, count, DBUS_TYPE_INVALID);
        } else {
                reply = dbus_message_new_error(m, DBUS_ERROR_UNKNOWN_METHOD, "no such method");
        }
        if (!reply)
                bench_die("dbus: out of memory");
        dbus_connection_send(c, reply, NULL);
        dbus_message_unref(reply);
}

static int serve(const char *addr)
{
        DBusConnection *c = bus_open(addr);
        dbus_uint64_t count = 0;
        DBusMessage *m;
        DBusError err;

        dbus_error_init(&err);
        if (dbus_bus_request_name(c, NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err) !=
            DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
                bench_die("dbus: unable to own %s: %s", NAME, err.message ? err.message : "taken");
        while (dbus_connection_read_write(c, -1)) {
                while ((m = dbus_connection_pop_message(c))) {
                        handle(c, m, &count);
                        dbus_message_unref(m);
                }
                dbus_connection_flush(c);
        }
        return 0; /* disconnected: the daemon is gone */
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "serve") == 0)
                return serve(argv[2]);
        if (argc >= 2 && strcmp(argv[1], "client") == 0)
                return bench_client_main(&dbus_ops, argc - 1, argv + 1);
        fprintf(stderr, "usage: %s serve ADDRESS | client --addr ADDRESS [options]\n", argv[0]);
        return 100;
}
