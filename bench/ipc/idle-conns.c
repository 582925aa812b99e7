/*
 * Memory of orbitald per idle bus connection: open N connections to the
 * bus socket (each does one lookup, so it holds a capability and a
 * channel, as a real client would), then print orbitald's VmRSS before
 * and after.  Usage: idle-conns BUS_SOCKET ORBITALD_PID N [TYPE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <orbital/orbital.h>

static long rss_kib(long pid)
{
        char path[64], line[256];
        long kib = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%ld/status", pid);
        f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

int main(int argc, char **argv)
{
        long pid, n, before, after;
        const char *type = argc > 4 ? argv[4] : NULL;
        struct orb_conn **conns;

        if (argc < 4)
                return fprintf(stderr, "usage: idle-conns BUS_SOCKET ORBITALD_PID N [TYPE]\n"), 100;
        pid = atol(argv[2]);
        n = atol(argv[3]);
        conns = calloc((size_t)n, sizeof(*conns));
        before = rss_kib(pid);
        for (long i = 0; i < n; i++) {
                struct orb_client *cl;
                int r = orb_conn_open_path(argv[1], &conns[i]);

                if (r == 0 && type)
                        r = orb_conn_lookup(conns[i], type, NULL, &cl);
                if (r < 0) {
                        fprintf(stderr, "connection %ld: %s\n", i, orb_strerror(r));
                        return 111;
                }
        }
        usleep(200000);
        after = rss_kib(pid);
        printf("connections %ld rss_before_kib %ld rss_after_kib %ld per_connection_bytes %.0f\n", n, before, after,
               (double)(after - before) * 1024 / (double)n);
        return 0;
}
