/*
 * bench.h - the client side shared by every peer of the IPC benchmark.
 *
 * A peer supplies four operations on a connection it opened:
 *
 *   echo  one request/response round trip carrying @n bytes each way; the
 *         reply is checked (its length, first and last byte);
 *   sink  one one-way message of @n bytes (the receiver counts it);
 *   done  a round trip that returns how many sink messages the receiver
 *         has handled on this connection so far; it is ordered after
 *         every sink sent before it, so it ends a throughput run.
 *
 * and bench_client_main() does the rest, the same way for every peer:
 *
 *   rtt   --warmup round trips, then --iters timed ones, one at a time
 *         (CLOCK_MONOTONIC around each); median and p99 nearest-rank;
 *   tput  done (the receiver's count before), then --count sinks back to
 *         back and a final done, timed from the first sink to the final
 *         done's reply; the final count must match.  With --window W, a
 *         done every W messages bounds what is in flight (for transports
 *         that drop rather than push back: NATS);
 *   multi --clients K processes, each opening its own connection, all
 *         released together after they are connected; each does --warmup
 *         then --iters timed round trips; aggregate round trips/s over the
 *         timed part, median and p99 over every client's samples.
 *
 * Results are "key value" lines on stdout for the run script; progress and
 * errors go to stderr.  Header-only: each peer is one .c file.
 */
#pragma once

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_SIZE (64u << 10)

struct bench_opts {
        size_t size;       /* payload bytes */
        long iters;        /* timed round trips (per client with --clients) */
        long warmup;       /* untimed round trips before them */
        long count;        /* sink messages of the throughput run */
        long window;       /* a done every @window sinks; 0 = only at the end */
        long clients;      /* 0 = single-client rtt/tput; K = multi-client rtt */
        bool do_rtt, do_tput;
        const char *addr;  /* the peer's address: socket path, URL, bus address */
        const char *extra; /* peer-specific (orbital: types to wait for) */
};

struct bench_ops {
        const char *name;
        /* Opens connection @index (0..clients-1); NULL on failure (say why on stderr). */
        void *(*connect)(const struct bench_opts *o, long index);
        int (*echo)(void *ctx, const uint8_t *buf, size_t n);
        int (*sink)(void *ctx, const uint8_t *buf, size_t n);
        int (*done)(void *ctx, uint64_t *count);
        void (*disconnect)(void *ctx);
};

static inline int64_t bench_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline __attribute__((format(printf, 1, 2), noreturn)) void bench_die(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "bench: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

/* The payload: a byte pattern that differs between its first and last byte. */
static inline void bench_fill(uint8_t *buf, size_t n)
{
        for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)(i * 7 + 1);
}

/* True if @p/@n looks like the echo of bench_fill(@n). */
static inline bool bench_check(const void *p, size_t got, size_t n)
{
        const uint8_t *b = p;

        return got == n && (!n || (b[0] == 1 && b[n - 1] == (uint8_t)((n - 1) * 7 + 1)));
}

static int bench_cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @v (@pct in 0..100). */
static inline int64_t bench_pct(const int64_t *v, size_t n, double pct)
{
        size_t k = (size_t)(pct / 100.0 * (double)n + 0.999999999);

        if (k < 1)
                k = 1;
        if (k > n)
                k = n;
        return v[k - 1];
}

static void bench_print_lat(const char *prefix, int64_t *v, size_t n)
{
        double sum = 0;

        qsort(v, n, sizeof(*v), bench_cmp_i64);
        for (size_t i = 0; i < n; i++)
                sum += (double)v[i];
        printf("%s_n %zu\n", prefix, n);
        printf("%s_min_ns %lld\n", prefix, (long long)v[0]);
        printf("%s_median_ns %lld\n", prefix, (long long)bench_pct(v, n, 50));
        printf("%s_p99_ns %lld\n", prefix, (long long)bench_pct(v, n, 99));
        printf("%s_max_ns %lld\n", prefix, (long long)v[n - 1]);
        printf("%s_mean_ns %.0f\n", prefix, sum / (double)n);
}

static void bench_rtt(const struct bench_ops *ops, void *ctx, const struct bench_opts *o, const uint8_t *buf)
{
        int64_t *lat = calloc((size_t)o->iters, sizeof(*lat)), t0, t1, start;

        if (!lat)
                bench_die("out of memory");
        for (long i = 0; i < o->warmup; i++)
                if (ops->echo(ctx, buf, o->size) < 0)
                        bench_die("%s: echo failed in warm-up round trip %ld", ops->name, i);
        start = bench_now_ns();
        for (long i = 0; i < o->iters; i++) {
                t0 = bench_now_ns();
                if (ops->echo(ctx, buf, o->size) < 0)
                        bench_die("%s: echo failed in round trip %ld", ops->name, i);
                t1 = bench_now_ns();
                lat[i] = t1 - t0;
        }
        t1 = bench_now_ns();
        bench_print_lat("rtt", lat, (size_t)o->iters);
        printf("rtt_per_s %.0f\n", (double)o->iters * 1e9 / (double)(t1 - start));
        free(lat);
}

static void bench_tput(const struct bench_ops *ops, void *ctx, const struct bench_opts *o, const uint8_t *buf)
{
        uint64_t base, c;
        int64_t t0, t1;

        if (ops->done(ctx, &base) < 0)
                bench_die("%s: done failed before the throughput run", ops->name);
        t0 = bench_now_ns();
        for (long i = 0; i < o->count; i++) {
                if (ops->sink(ctx, buf, o->size) < 0)
                        bench_die("%s: sink failed at message %ld", ops->name, i);
                if (o->window && (i + 1) % o->window == 0 && i + 1 < o->count) {
                        if (ops->done(ctx, &c) < 0)
                                bench_die("%s: done failed after message %ld", ops->name, i);
                        if (c != base + (uint64_t)i + 1)
                                bench_die("%s: receiver counted %llu of %ld", ops->name,
                                          (unsigned long long)(c - base), i + 1);
                }
        }
        if (ops->done(ctx, &c) < 0)
                bench_die("%s: done failed after the throughput run", ops->name);
        t1 = bench_now_ns();
        if (c != base + (uint64_t)o->count)
                bench_die("%s: receiver counted %llu of %ld messages", ops->name, (unsigned long long)(c - base),
                          o->count);
        printf("tput_msgs %ld\n", o->count);
        printf("tput_ns %lld\n", (long long)(t1 - t0));
        printf("tput_msgs_per_s %.0f\n", (double)o->count * 1e9 / (double)(t1 - t0));
        printf("tput_mib_per_s %.1f\n", (double)o->count * (double)o->size * 1e9 / (double)(t1 - t0) / 1048576.0);
}

/* Shared between the multi-client children and the parent. */
struct bench_shared {
        int64_t start_ns, end_ns; /* per client: first timed round trip, last reply */
        int status;               /* 0 ok */
};

static void bench_multi(const struct bench_ops *ops, const struct bench_opts *o, const uint8_t *buf)
{
        size_t k = (size_t)o->clients, per = (size_t)o->iters;
        size_t lat_bytes = k * per * sizeof(int64_t), sh_bytes = k * sizeof(struct bench_shared);
        int ready[2], go[2];
        int64_t *lat = mmap(NULL, lat_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        struct bench_shared *sh = mmap(NULL, sh_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        pid_t *pids = calloc(k, sizeof(*pids));
        int64_t first = INT64_MAX, last = 0;
        char c;
        int failed = 0;

        if (lat == MAP_FAILED || sh == MAP_FAILED || !pids || pipe(ready) < 0 || pipe(go) < 0)
                bench_die("multi: setup: %s", strerror(errno));
        for (size_t i = 0; i < k; i++) {
                sh[i].status = 1;
                pids[i] = fork();
                if (pids[i] < 0)
                        bench_die("multi: fork: %s", strerror(errno));
                if (pids[i] == 0) {
                        int64_t *mine = lat + i * per, t0;
                        void *ctx;

                        close(ready[0]);
                        close(go[1]);
                        ctx = ops->connect(o, (long)i);
                        if (!ctx)
                                _exit(1);
                        if (write(ready[1], "r", 1) != 1)
                                _exit(1);
                        if (read(go[0], &c, 1) != 0) /* EOF: everyone is connected */
                                _exit(1);
                        for (long w = 0; w < o->warmup; w++)
                                if (ops->echo(ctx, buf, o->size) < 0)
                                        _exit(2);
                        sh[i].start_ns = bench_now_ns();
                        for (size_t j = 0; j < per; j++) {
                                t0 = bench_now_ns();
                                if (ops->echo(ctx, buf, o->size) < 0)
                                        _exit(2);
                                mine[j] = bench_now_ns() - t0;
                        }
                        sh[i].end_ns = bench_now_ns();
                        sh[i].status = 0;
                        if (ops->disconnect)
                                ops->disconnect(ctx);
                        _exit(0);
                }
        }
        close(ready[1]);
        close(go[0]);
        for (size_t i = 0; i < k; i++)
                if (read(ready[0], &c, 1) != 1)
                        break; /* a client failed to connect: its exit status says so */
        close(go[1]);            /* go */
        for (size_t i = 0; i < k; i++) {
                int st;

                if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || sh[i].status)
                        failed++;
        }
        if (failed)
                bench_die("multi: %d of %zu clients failed", failed, k);
        for (size_t i = 0; i < k; i++) {
                if (sh[i].start_ns < first)
                        first = sh[i].start_ns;
                if (sh[i].end_ns > last)
                        last = sh[i].end_ns;
        }
        printf("mc_clients %zu\n", k);
        printf("mc_per_s %.0f\n", (double)(k * per) * 1e9 / (double)(last - first));
        bench_print_lat("mc", lat, k * per);
}

static inline void bench_usage(const char *prog)
{
        fprintf(stderr,
                "usage: %s client [options]\n"
                "  --size N      payload bytes (default 64)\n"
                "  --iters N     timed round trips (default 20000; per client with --clients)\n"
                "  --warmup N    untimed round trips first (default 2000)\n"
                "  --count N     one-way messages of the throughput run (default 1000000)\n"
                "  --window N    a done every N one-way messages (default 0: only at the end)\n"
                "  --rtt         measure round trips (default: both rtt and tput)\n"
                "  --tput        measure one-way throughput\n"
                "  --clients K   K concurrent client processes doing round trips (implies rtt only)\n"
                "  --addr A      where the peer is (socket path, URL, bus address)\n"
                "  --extra X     peer-specific\n",
                prog);
}

static inline int bench_client_main(const struct bench_ops *ops, int argc, char **argv)
{
        static const struct option longopts[] = {
                {"size", required_argument, NULL, 's'},   {"iters", required_argument, NULL, 'i'},
                {"warmup", required_argument, NULL, 'w'}, {"count", required_argument, NULL, 'n'},
                {"window", required_argument, NULL, 'W'}, {"clients", required_argument, NULL, 'k'},
                {"rtt", no_argument, NULL, 'r'},          {"tput", no_argument, NULL, 't'},
                {"addr", required_argument, NULL, 'a'},   {"extra", required_argument, NULL, 'x'},
                {NULL, 0, NULL, 0},
        };
        struct bench_opts o = {.size = 64, .iters = 20000, .warmup = 2000, .count = 1000000};
        uint8_t *buf;
        void *ctx;
        int ch;

        signal(SIGPIPE, SIG_IGN);
        while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (ch) {
                case 's': o.size = strtoul(optarg, NULL, 10); break;
                case 'i': o.iters = strtol(optarg, NULL, 10); break;
                case 'w': o.warmup = strtol(optarg, NULL, 10); break;
                case 'n': o.count = strtol(optarg, NULL, 10); break;
                case 'W': o.window = strtol(optarg, NULL, 10); break;
                case 'k': o.clients = strtol(optarg, NULL, 10); break;
                case 'r': o.do_rtt = true; break;
                case 't': o.do_tput = true; break;
                case 'a': o.addr = optarg; break;
                case 'x': o.extra = optarg; break;
                default: bench_usage(argv[0]); return 100;
                }
        }
        if (!o.do_rtt && !o.do_tput)
                o.do_rtt = o.do_tput = true;
        if (o.size < 1 || o.size > BENCH_MAX_SIZE || o.iters < 1 || o.warmup < 0 || o.count < 1 ||
            o.window < 0 || o.clients < 0) {
                bench_usage(argv[0]);
                return 100;
        }
        buf = malloc(o.size);
        if (!buf)
                bench_die("out of memory");
        bench_fill(buf, o.size);
        printf("peer %s\n", ops->name);
        printf("size %zu\n", o.size);
        fflush(stdout);
        if (o.clients) {
                bench_multi(ops, &o, buf);
                return 0;
        }
        ctx = ops->connect(&o, 0);
        if (!ctx)
                bench_die("%s: unable to connect", ops->name);
        if (o.do_rtt) {
                bench_rtt(ops, ctx, &o, buf);
                fflush(stdout);
        }
        if (o.do_tput)
                bench_tput(ops, ctx, &o, buf);
        if (ops->disconnect)
                ops->disconnect(ctx);
        free(buf);
        return 0;
}
