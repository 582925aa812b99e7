/*
 * An Orbital client in one page: find an "echo" service of version 1.x,
 * call it, print the reply.  Run it as a service (capabilities:
 * [call:echo:r]) or from a shell as root (ORB_BUS_SOCKET=.../bus.sock).
 */
#include <stdio.h>

#include <orbital/orbital.h>

int main(int argc, char **argv)
{
        const char *text = argc > 1 ? argv[1] : "hello";
        struct orb_conn *bus;
        struct orb_client *echo;
        struct orb_msg *req, *reply = NULL;
        int r;

        if ((r = orb_conn_open(&bus)) < 0 || (r = orb_conn_lookup(bus, "echo", ">=1.0,<2", &echo)) < 0) {
                fprintf(stderr, "echo-client: %s\n", orb_strerror(r));
                return 1;
        }
        req = orb_client_request(echo, "echo");
        orb_msg_put_str(req, 1, text);
        r = orb_client_call(echo, req, 1000, &reply);
        if (r < 0) {
                fprintf(stderr, "echo-client: call: %s\n", orb_strerror(r));
                return 1;
        }
        printf("%s (call %llu)\n", orb_msg_str(reply, 1, ""), (unsigned long long)orb_msg_u64(reply, 2, 0));
        orb_msg_free(reply);
        orb_exit(bus, 0);
}
