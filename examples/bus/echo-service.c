/*
 * An Orbital service in one page: it registers the "echo" contract, says
 * it is ready, and answers calls.  orbitald starts it with its bus
 * connection already open (manifest: capabilities: [provide:echo]).
 */
#include <stdio.h>

#include <orbital/orbital.h>

static const char contract[] =
        "interface echo 1.1\n"
        "method echo@1 read (text: str@1) -> (text: str@1, count: u64@2)\n"
        "method reset@2 write () -> (count: u64@1)\n";

enum { TEXT = 1, COUNT = 2 };

static unsigned long long n_calls;

static int on_echo(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct orb_msg *reply = orb_call_reply_msg(call);

        orb_msg_put_str(reply, TEXT, orb_msg_str(args, TEXT, ""));
        orb_msg_put_u64(reply, COUNT, ++n_calls);
        return orb_call_reply(call, reply);
}

static int on_reset(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct orb_msg *reply = orb_call_reply_msg(call);

        orb_msg_put_u64(reply, 1, n_calls);
        orb_console_write("reset by %s after %llu calls", orb_call_peer(call), n_calls);
        n_calls = 0;
        return orb_call_reply(call, reply);
}

int main(void)
{
        static const struct orb_handler handlers[] = {{"echo", on_echo}, {"reset", on_reset}, {0}};
        struct orb_conn *bus;
        int r;

        if ((r = orb_conn_open(&bus)) < 0 ||
            (r = orb_conn_serve(bus, "echo", "1.1", contract, handlers, NULL, NULL)) < 0 ||
            (r = orb_conn_ready(bus)) < 0) {
                fprintf(stderr, "echo: %s\n", orb_strerror(r));
                return 1;
        }
        orb_console_write("echo: serving echo 1.1");
        r = orb_conn_run(bus);
        orb_exit(bus, r < 0 ? 1 : 0);
}
