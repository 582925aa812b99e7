/*
 * orbctl: the command-line client of orbitald's control socket.  It holds
 * no logic of its own: every command is one request (docs/protocol.md),
 * and this file only turns arguments into a request and replies into text
 * or, with --json, into JSON.
 *
 * Exit codes: 0 success; 1 orbitald refused (no such service, nothing to
 * do, permission denied, bad manifest); 100 bad usage; 111 system failure
 * (cannot connect, broken reply).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit-cmd.h"
#include "bus-cmd.h"
#include "config-cmd.h"
#include "util/cleanup.h"
#include "util/paths.h"
#include "util/time.h"
#include "util/unixsock.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 100
#define EXIT_SYSTEM 111
#define MSG_MAX 65536

struct cli {
        const char *socket;
        bool json;
        bool follow;
        long lines;
        const char *command;
        const char *name;
        int fd;
        unsigned n_items;
};

typedef void (*item_fn)(struct cli *cli, json_t *item);
static void print_text(const char *s);
typedef void (*result_fn)(struct cli *cli, json_t *result);

static _Noreturn void usage(int code)
{
        fprintf(code ? stderr : stdout,
                "usage: orbctl [--socket PATH] [--json] COMMAND [ARGS]\n"
                "\n"
                "read:\n"
                "  list                      every service, its state and pid\n"
                "  status NAME               state, pid, uptime, restarts, last exit, limits\n"
                "  logs NAME [-f] [-n N]     the service's output (last N lines, default 20)\n"
                "  events [-f] [-n N]        state changes, breaker changes, crashes\n"
                "change (root or orbitald's user):\n"
                "  start | stop | restart NAME\n"
                "  enable | disable NAME     allow / forbid starting it\n"
                "  reset NAME                close the breaker and forget failures\n"
                "  reload                    re-read manifests; restart what changed\n"
                "sandbox:\n"
                "  sandbox NAME              the effective sandbox of a service\n"
                "  check MANIFEST            what this host would enforce for a manifest\n"
                "capabilities and the bus:\n"
                "  services                  the registry: service types, versions, servers\n"
                "  caps NAME                 the capability table of a service (or client)\n"
                "  grant HOLDER SLOT TARGET [--rights RIGHTS] [--expires DURATION]\n"
                "                            give TARGET a copy of HOLDER's capability\n"
                "  revoke HOLDER SLOT        revoke it and everything derived from it\n"
                "  call SERVICE METHOD [JSON]  call a method; arguments and reply as JSON\n"
                "  subscribe TOPIC           print events published on TOPIC and below\n"
                "  publish TOPIC TEXT        publish one event\n"
                "  audit [-f] [-n N] [--verify]  the hash-chained audit log; --verify checks it\n"
                "configuration (through orb-config):\n"
                "  config [--session NAME] show [PATH] [--running] | get PATH | set PATH VALUE | delete PATH\n"
                "  config diff | validate | discard | status | history [-n N] | rollback N [-m MSG] | confirm\n"
                "  config commit [-m MSG] [--confirm T] [--dry-run] [--rebase]\n"
                "  config edit               a shell for the above, Tab-completing paths\n"
                "\n"
                "The socket is --socket, else $ORBITAL_SOCKET, else the default run directory's control.\n"
                "Exit: 0 ok, 1 refused by orbitald, 100 usage, 111 system failure.\n");
        exit(code);
}

__attribute__((format(printf, 2, 3))) static _Noreturn void die(int code, const char *fmt, ...)
{
        va_list ap;

        fputs("orbctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(code);
}

static int connect_control(const char *path)
{
        int fd = unix_connect(path, SOCK_SEQPACKET);

        if (fd == -ENAMETOOLONG)
                die(EXIT_USAGE, "socket path too long: %s", path);
        if (fd < 0)
                die(EXIT_SYSTEM, "unable to connect to orbitald at %s: %s (is it running? see --socket)", path,
                    strerror(-fd));
        return fd;
}

static void send_request(struct cli *cli, const char *method, json_t *params)
{
        json_t *req = json_pack("{s:s,s:o}", "method", method, "params", params ? params : json_object());
        char *text = json_dumps(req, JSON_COMPACT);

        json_decref(req);
        if (!text || send(cli->fd, text, strlen(text), MSG_NOSIGNAL) < 0)
                die(EXIT_SYSTEM, "unable to send the request: %s", strerror(errno));
        free(text);
}

static void print_json_line(json_t *v)
{
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        puts(s ? s : "null");
        free(s);
        fflush(stdout);
}

/*
 * Reads replies until the final one.  Items go to @on_item, the result to
 * @on_result.  Returns the exit code.
 */
static int read_replies(struct cli *cli, item_fn on_item, result_fn on_result)
{
        static char buf[MSG_MAX + 1];

        for (;;) {
                ssize_t n = recv(cli->fd, buf, MSG_MAX, 0);
                json_error_t err;
                json_t *msg, *v;

                if (n < 0)
                        die(EXIT_SYSTEM, "unable to read the reply: %s", strerror(errno));
                if (n == 0)
                        die(EXIT_SYSTEM, "orbitald closed the connection");
                msg = json_loadb(buf, (size_t)n, 0, &err);
                if (!msg || !json_is_object(msg))
                        die(EXIT_SYSTEM, "malformed reply from orbitald: %s", msg ? "not an object" : err.text);
                if ((v = json_object_get(msg, "item"))) {
                        cli->n_items++;
                        on_item(cli, v);
                } else if ((v = json_object_get(msg, "dropped"))) {
                        fprintf(stderr, "orbctl: %lld records dropped: this reader fell behind\n",
                                (long long)json_integer_value(json_object_get(v, "count")));
                } else if (json_is_true(json_object_get(msg, "ok"))) {
                        if (on_result)
                                on_result(cli, json_object_get(msg, "result"));
                        json_decref(msg);
                        return 0;
                } else {
                        json_t *e = json_object_get(msg, "error");
                        const char *code = json_string_value(json_object_get(e, "code"));
                        const char *text = json_string_value(json_object_get(e, "message"));
                        if (cli->json)
                                print_json_line(msg);
                        else
                                fprintf(stderr, "orbctl: %s: %s\n", code ? code : "error", text ? text : "?");
                        json_decref(msg);
                        return EXIT_REFUSED;
                }
                json_decref(msg);
        }
}

/* ---- formatting ---- */

static const char *str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "-";
}

static char *fmt_ms(char *buf, size_t n, json_t *v)
{
        if (!json_is_integer(v))
                return strcpy(buf, "-");
        return format_duration(buf, n, (usec_t)json_integer_value(v) * USEC_PER_MSEC);
}

static char *fmt_int(char *buf, size_t n, json_t *v)
{
        if (!json_is_integer(v))
                snprintf(buf, n, "-");
        else
                snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        return buf;
}

static char *fmt_bytes(char *buf, size_t n, json_t *v)
{
        double b;

        if (!json_is_integer(v))
                return strcpy(buf, "-");
        b = (double)json_integer_value(v);
        if (b >= 1 << 30)
                snprintf(buf, n, "%.1f GiB", b / (1 << 30));
        else if (b >= 1 << 20)
                snprintf(buf, n, "%.1f MiB", b / (1 << 20));
        else if (b >= 1 << 10)
                snprintf(buf, n, "%.1f KiB", b / (1 << 10));
        else
                snprintf(buf, n, "%.0f B", b);
        return buf;
}

static json_t *list_items;

static void list_collect(struct cli *cli, json_t *item)
{
        json_array_append(list_items, item);
}

static void list_print(struct cli *cli, json_t *result)
{
        size_t i, w = 4;
        json_t *it;

        if (cli->json) {
                print_json_line(list_items);
                return;
        }
        json_array_foreach(list_items, i, it)
                if (strlen(str(it, "name")) > w)
                        w = strlen(str(it, "name"));
        printf("%-*s  %-10s  %7s  %8s  %8s  %-9s  %s\n", (int)w, "NAME", "STATE", "PID", "UPTIME", "RESTARTS",
               "BREAKER", "REASON");
        json_array_foreach(list_items, i, it) {
                char pid[16], up[32], rs[16];
                printf("%-*s  %-10s  %7s  %8s  %8s  %-9s  %s\n", (int)w, str(it, "name"), str(it, "state"),
                       fmt_int(pid, sizeof(pid), json_object_get(it, "pid")),
                       fmt_ms(up, sizeof(up), json_object_get(it, "uptime_ms")),
                       fmt_int(rs, sizeof(rs), json_object_get(it, "restarts")), str(it, "breaker"),
                       str(it, "reason"));
        }
        printf("(%zu services; limits: %s)\n", json_array_size(list_items), str(result, "limits"));
}

static void print_names(const char *label, json_t *arr)
{
        size_t i;
        json_t *v;

        if (!json_array_size(arr))
                return;
        printf("  %-11s", label);
        json_array_foreach(arr, i, v)
                printf("%s%s", i ? ", " : "", json_string_value(v));
        putchar('\n');
}

static void print_limit(const char *label, json_t *l, bool bytes)
{
        char cur[32], max[32];
        json_t *c = json_object_get(l, "current"), *m = json_object_get(l, "max");

        if (bytes)
                printf("    %-8s %s of %s\n", label, fmt_bytes(cur, sizeof(cur), c),
                       json_is_null(m) ? "unlimited" : fmt_bytes(max, sizeof(max), m));
        else
                printf("    %-8s %s of %s\n", label, fmt_int(cur, sizeof(cur), c),
                       json_is_null(m) ? "unlimited" : fmt_int(max, sizeof(max), m));
}

static void print_exit(json_t *last)
{
        if (!json_is_object(last))
                return;
        if (json_is_string(json_object_get(last, "signal")))
                printf("  last exit:  signal %s\n", str(last, "signal"));
        else
                printf("  last exit:  code %lld\n", (long long)json_integer_value(json_object_get(last, "code")));
}

static void print_breaker(json_t *b)
{
        char w[32], c[32];

        printf("  breaker:    %s (%lld of %lld deaths within %s; cooldown %s)\n", str(b, "state"),
               (long long)json_integer_value(json_object_get(b, "deaths")),
               (long long)json_integer_value(json_object_get(b, "threshold")),
               fmt_ms(w, sizeof(w), json_object_get(b, "window_ms")),
               fmt_ms(c, sizeof(c), json_object_get(b, "cooldown_ms")));
}

static void print_limits(json_t *l)
{
        json_t *cpu = json_object_get(l, "cpu");
        json_t *used = json_object_get(cpu, "usage_usec"), *max = json_object_get(cpu, "max_percent");

        printf("  limits:     enforced by %s\n", str(l, "enforcement"));
        print_limit("memory", json_object_get(l, "memory"), true);
        print_limit("pids", json_object_get(l, "pids"), false);
        if (json_is_integer(used))
                printf("    %-8s %.2f s used, max ", "cpu", (double)json_integer_value(used) / 1e6);
        else
                printf("    %-8s - used, max ", "cpu");
        if (json_is_integer(max))
                printf("%lld %%\n", (long long)json_integer_value(max));
        else
                printf("unlimited\n");
        print_limit("files", json_object_get(l, "files"), false);
}

static void print_crashes(json_t *crashes)
{
        size_t i, j;
        json_t *c, *line;

        if (!json_array_size(crashes))
                return;
        printf("  crashes:\n");
        json_array_foreach(crashes, i, c) {
                printf("    %s  %s\n", str(c, "time"), str(c, "reason"));
                json_array_foreach(json_object_get(c, "last_lines"), j, line) {
                        printf("      | ");
                        print_text(json_string_value(line));
                        putchar('\n');
                }
        }
}

static void status_print(struct cli *cli, json_t *s)
{
        char a[32], b[32], c[32];
        json_t *health = json_object_get(s, "health");

        if (cli->json) {
                print_json_line(s);
                return;
        }
        printf("%s", str(s, "name"));
        if (json_is_string(json_object_get(s, "description")))
                printf(" - %s", str(s, "description"));
        printf("\n  state:      %s since %s\n", str(s, "state"), str(s, "since"));
        printf("  reason:     %s\n", str(s, "reason"));
        printf("  pid:        %s\n", fmt_int(a, sizeof(a), json_object_get(s, "pid")));
        printf("  uptime:     %s\n", fmt_ms(b, sizeof(b), json_object_get(s, "uptime_ms")));
        printf("  restarts:   %s (policy %s)\n", fmt_int(c, sizeof(c), json_object_get(s, "restarts")),
               str(s, "restart_policy"));
        print_exit(json_object_get(s, "last_exit"));
        if (json_is_integer(json_object_get(s, "next_in_ms")))
                printf("  next step:  in %s\n", fmt_ms(a, sizeof(a), json_object_get(s, "next_in_ms")));
        print_breaker(json_object_get(s, "breaker_detail"));
        printf("  readiness:  %s\n", str(s, "readiness"));
        if (json_is_string(json_object_get(s, "status_text"))) {
                printf("  status:     ");
                print_text(str(s, "status_text"));
                putchar('\n');
        }
        if (json_is_object(health))
                printf("  health:     %s (%lld consecutive failures)\n", str(health, "last"),
                       (long long)json_integer_value(json_object_get(health, "failures")));
        print_limits(json_object_get(s, "limits"));
        print_names("requires:", json_object_get(s, "requires"));
        print_names("after:", json_object_get(s, "after"));
        printf("  manifest:   %s\n", str(s, "manifest"));
        print_crashes(json_object_get(s, "crashes"));
}

/* Service output may hold terminal escapes: show control bytes as \xNN. */
static void print_text(const char *s)
{
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        printf("\\x%02x", c);
                else
                        putchar(c);
        }
}

static void log_print(struct cli *cli, json_t *r)
{
        if (cli->json) {
                print_json_line(r);
                return;
        }
        printf("%s %s[%lld]: ", str(r, "time"), str(r, "stream"),
               (long long)json_integer_value(json_object_get(r, "pid")));
        print_text(str(r, "text"));
        putchar('\n');
        if (cli->follow)
                fflush(stdout);
}

static void event_print(struct cli *cli, json_t *e)
{
        const char *svc = str(e, "service");

        if (cli->json) {
                print_json_line(e);
                return;
        }
        if (strcmp(str(e, "kind"), "state") == 0)
                printf("%s %s: %s -> %s: %s\n", str(e, "time"), svc, str(e, "from"), str(e, "to"), str(e, "detail"));
        else
                printf("%s %s: %s: %s\n", str(e, "time"), *svc ? svc : "orbitald", str(e, "kind"), str(e, "detail"));
        if (cli->follow)
                fflush(stdout);
}

static void op_print(struct cli *cli, json_t *r)
{
        if (cli->json)
                print_json_line(r);
        else
                printf("%s: %s requested; now %s\n", cli->name, cli->command, str(r, "state"));
}

static void reload_print(struct cli *cli, json_t *r)
{
        if (cli->json) {
                print_json_line(r);
                return;
        }
        printf("reloaded: %lld added, %lld removed, %lld changed (restarted), %lld unchanged\n",
               (long long)json_integer_value(json_object_get(r, "added")),
               (long long)json_integer_value(json_object_get(r, "removed")),
               (long long)json_integer_value(json_object_get(r, "changed")),
               (long long)json_integer_value(json_object_get(r, "unchanged")));
}

static void ignore_item(struct cli *cli, json_t *item)
{
}

/* ---- commands ---- */

static const char *const op_commands[] = {"start", "stop", "restart", "enable", "disable", "reset"};

static bool is_op(const char *c)
{
        for (size_t i = 0; i < ARRAY_SIZE(op_commands); i++)
                if (strcmp(c, op_commands[i]) == 0)
                        return true;
        return false;
}

static void parse_sub_options(struct cli *cli, int argc, char **argv, bool allow_follow)
{
        int c;

        optind = 0; /* GNU getopt: re-initialise for a new argv */
        while ((c = getopt(argc, argv, "fn:")) != -1) {
                char *end;
                switch (c) {
                case 'f':
                        if (!allow_follow)
                                usage(EXIT_USAGE);
                        cli->follow = true;
                        break;
                case 'n':
                        cli->lines = strtol(optarg, &end, 10);
                        if (*end || cli->lines < 0 || cli->lines > 100000)
                                die(EXIT_USAGE, "-n: expected a number of lines 0..100000, found '%s'", optarg);
                        break;
                default:
                        usage(EXIT_USAGE);
                }
        }
}

/* ---- the broker ---- */

static void caps_print(struct cli *cli, json_t *r)
{
        json_t *caps = json_object_get(r, "caps"), *c;
        size_t i;

        if (cli->json) {
                print_json_line(r);
                return;
        }
        printf("%-5s %-10s %-24s %-6s %-8s %s\n", "SLOT", "TYPE", "OBJECT", "RIGHTS", "CHANNEL", "FROM");
        json_array_foreach(caps, i, c) {
                json_t *parent = json_object_get(c, "parent"), *exp = json_object_get(c, "expires_in_ms");
                char from[96] = "manifest";

                if (parent)
                        snprintf(from, sizeof(from), "%s slot %lld", str(parent, "holder"),
                                 (long long)json_integer_value(json_object_get(parent, "slot")));
                else if (json_is_true(json_object_get(c, "channel")))
                        snprintf(from, sizeof(from), "lookup");
                printf("%-5lld %-10s %-24s %-6s %-8s %s", (long long)json_integer_value(json_object_get(c, "slot")),
                       str(c, "type"), str(c, "object"), str(c, "rights"),
                       json_is_true(json_object_get(c, "channel")) ? "open" : "-", from);
                if (exp)
                        printf(" (expires in %lld ms)", (long long)json_integer_value(exp));
                putchar('\n');
        }
}

static void services_print(struct cli *cli, json_t *r)
{
        json_t *a = json_object_get(r, "services"), *v;
        size_t i;

        if (cli->json) {
                print_json_line(r);
                return;
        }
        printf("%-20s %-8s %-20s %-16s %s\n", "TYPE", "VERSION", "SERVER", "INTERFACE", "CHANNELS");
        json_array_foreach(a, i, v)
                printf("%-20s %-8s %-20s %-16s %lld\n", str(v, "type"), str(v, "version"), str(v, "server"),
                       str(v, "interface"), (long long)json_integer_value(json_object_get(v, "channels")));
}

static void grant_print(struct cli *cli, json_t *r)
{
        if (cli->json)
                print_json_line(r);
        else
                printf("granted: %s holds it in slot %lld\n", str(r, "target"),
                       (long long)json_integer_value(json_object_get(r, "slot")));
}

static void revoke_print(struct cli *cli, json_t *r)
{
        if (cli->json)
                print_json_line(r);
        else
                printf("revoked\n");
}

static long parse_slot(const char *s)
{
        char *end;
        long v = strtol(s, &end, 10);

        if (*end || v < 1 || v > 1000000)
                die(EXIT_USAGE, "expected a slot number, found '%s'", s);
        return v;
}

static int run_grant(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
                {"rights", required_argument, NULL, 'r'}, {"expires", required_argument, NULL, 'e'}, {0}};
        json_t *params;
        const char *rights = NULL;
        usec_t expires = 0;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "r:e:", opts, NULL)) != -1) {
                if (c == 'r')
                        rights = optarg;
                else if (c == 'e' && parse_duration(optarg, &expires) && expires)
                        ;
                else if (c == 'e')
                        die(EXIT_USAGE, "--expires: expected a duration such as 30s, found '%s'", optarg);
                else
                        usage(EXIT_USAGE);
        }
        if (argc - optind != 3)
                usage(EXIT_USAGE);
        params = json_pack("{s:s, s:I, s:s, s:I}", "holder", argv[optind], "slot",
                           (json_int_t)parse_slot(argv[optind + 1]), "target", argv[optind + 2], "expires_ms",
                           (json_int_t)(expires / USEC_PER_MSEC));
        if (rights)
                json_object_set_new(params, "rights", json_string(rights));
        send_request(cli, "grant", params);
        return read_replies(cli, ignore_item, grant_print);
}

/* ---- the sandbox ---- */

static void print_list(const char *label, json_t *a, const char *none)
{
        size_t i;
        json_t *v;

        printf("  %-13s", label);
        if (!json_array_size(a))
                printf(" %s", none);
        json_array_foreach(a, i, v)
                printf(" %s", json_string_value(v));
        putchar('\n');
}

static void sandbox_print(struct cli *cli, json_t *r)
{
        json_t *id = json_object_get(r, "identity"), *sc = json_object_get(r, "seccomp");
        int abi = (int)json_integer_value(json_object_get(r, "landlock_abi"));

        if (cli->json) {
                print_json_line(r);
                return;
        }
        if (!json_is_true(json_object_get(r, "enabled"))) {
                printf("sandbox of %s: off\n", str(r, "name"));
                print_list("warnings", json_object_get(r, "warnings"), "");
                return;
        }
        printf("sandbox of %s: on\n", str(r, "name"));
        if (!strcmp(str(id, "kind"), "dynamic"))
                printf("  %-13s dynamic uid %lld gid %lld\n", "identity",
                       (long long)json_integer_value(json_object_get(id, "uid")),
                       (long long)json_integer_value(json_object_get(id, "gid")));
        else
                printf("  %-13s %s\n", "identity", *str(id, "user") ? str(id, "user") : "orbitald's");
        print_list("namespaces", json_object_get(r, "namespaces"), "none");
        printf("  %-13s %s\n", "network",
               json_is_true(json_object_get(r, "network")) ? "the host's (a net.* permission is declared)"
                                                           : "none (no net.* permission): AF_UNIX only");
        print_list("read-only", json_object_get(r, "read_only"), "(the system only)");
        print_list("read-write", json_object_get(r, "read_write"), "(a private /tmp only)");
        print_list("capabilities", json_object_get(r, "capabilities"), "none");
        printf("  %-13s %lld calls denied by default; on violation: %s\n", "seccomp",
               (long long)json_integer_value(json_object_get(sc, "default_denied")), str(sc, "on_violation"));
        print_list("  also denied", json_object_get(sc, "deny"), "-");
        print_list("  allowed", json_object_get(sc, "allow"), "-");
        if (abi)
                printf("  %-13s ABI %d: reads below the system and the paths above, writes below /tmp and "
                       "read-write\n", "landlock", abi);
        else
                printf("  %-13s not enforced\n", "landlock");
        printf("  %-13s yes\n", "no_new_privs");
        print_list("not enforced", json_object_get(r, "warnings"), "-");
}

static int run_check(struct cli *cli, const char *path)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = fopen(path, "re");

        if (!f)
                die(EXIT_USAGE, "unable to read %s: %s", path, strerror(errno));
        text = malloc(MSG_MAX / 2 + 1);
        if (text)
                len = fread(text, 1, MSG_MAX / 2, f);
        if (text && !feof(f))
                die(EXIT_USAGE, "%s: larger than %d bytes", path, MSG_MAX / 2);
        fclose(f);
        if (!text)
                die(EXIT_SYSTEM, "out of memory");
        text[len] = '\0';
        send_request(cli, "check", json_pack("{s:s, s:s}", "text", text, "source", path));
        return read_replies(cli, ignore_item, sandbox_print);
}

/* `orbctl audit`: the file is read here; orbitald, when it answers,
 * says where it is and what its newest record is (so a cut tail shows). */
static int run_audit(struct cli *cli, int argc, char **argv)
{
        static char buf[MSG_MAX + 1];
        char path[4096], head[128];
        const char *live = NULL;
        int fd = unix_connect(cli->socket, SOCK_SEQPACKET);

        audit_default_path(path, sizeof(path));
        if (fd >= 0) {
                const char *req = "{\"method\":\"audit-head\",\"params\":{}}";
                ssize_t n = send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 ? -1 : recv(fd, buf, MSG_MAX, 0);
                json_t *msg = n > 0 ? json_loadb(buf, (size_t)n, 0, NULL) : NULL;
                json_t *r = json_object_get(msg, "result");

                if (json_is_true(json_object_get(msg, "ok")) && json_is_string(json_object_get(r, "path"))) {
                        snprintf(path, sizeof(path), "%s", str(r, "path"));
                        snprintf(head, sizeof(head), "%lld:%s",
                                 (long long)json_integer_value(json_object_get(r, "seq")), str(r, "hash"));
                        live = head;
                } else if (msg) {
                        /* Not allowed its head: the head file still catches a cut tail. */
                        fprintf(stderr, "orbctl: %s; checking against the head file\n",
                                str(json_object_get(msg, "error"), "message"));
                }
                json_decref(msg);
                close(fd);
        }
        if (cli->json) { /* orbctl's --json goes before the command */
                _cleanup_free_ char **v = calloc((size_t)argc + 2, sizeof(char *));
                if (!v)
                        die(EXIT_SYSTEM, "out of memory");
                memcpy(v, argv, (size_t)argc * sizeof(char *));
                v[argc] = (char *)"--json";
                return audit_cmd(path, live, argc + 1, v);
        }
        return audit_cmd(path, live, argc, argv);
}

/* The bus socket sits beside the control socket. */
static const char *bus_path(const struct cli *cli, char *buf, size_t n)
{
        const char *env = getenv("ORB_BUS_SOCKET"), *slash;

        if (env && *env)
                return env;
        slash = strrchr(cli->socket, '/');
        snprintf(buf, n, "%.*s/bus.sock", slash ? (int)(slash - cli->socket) : 1, slash ? cli->socket : ".");
        return buf;
}

static bool is_bus_command(const char *c)
{
        return !strcmp(c, "call") || !strcmp(c, "subscribe") || !strcmp(c, "publish");
}

static int run_command(struct cli *cli, int argc, char **argv)
{
        const char *cmd = cli->command;

        if (strcmp(cmd, "services") == 0 && argc == 1) {
                send_request(cli, "services", NULL);
                return read_replies(cli, ignore_item, services_print);
        }
        if (strcmp(cmd, "caps") == 0 && argc == 2) {
                send_request(cli, "caps", json_pack("{s:s}", "name", argv[1]));
                return read_replies(cli, ignore_item, caps_print);
        }
        if (strcmp(cmd, "sandbox") == 0 && argc == 2) {
                send_request(cli, "sandbox", json_pack("{s:s}", "name", argv[1]));
                return read_replies(cli, ignore_item, sandbox_print);
        }
        if (strcmp(cmd, "check") == 0 && argc == 2)
                return run_check(cli, argv[1]);
        if (strcmp(cmd, "grant") == 0)
                return run_grant(cli, argc, argv);
        if (strcmp(cmd, "revoke") == 0 && argc == 3) {
                send_request(cli, "revoke", json_pack("{s:s, s:I}", "holder", argv[1], "slot",
                                                      (json_int_t)parse_slot(argv[2])));
                return read_replies(cli, ignore_item, revoke_print);
        }

        if (strcmp(cmd, "list") == 0 && argc == 1) {
                list_items = json_array();
                send_request(cli, "list", NULL);
                return read_replies(cli, list_collect, list_print);
        }
        if (strcmp(cmd, "status") == 0 && argc == 2) {
                cli->name = argv[1];
                send_request(cli, "status", json_pack("{s:s}", "name", cli->name));
                return read_replies(cli, ignore_item, status_print);
        }
        if (is_op(cmd) && argc == 2) {
                cli->name = argv[1];
                send_request(cli, cmd, json_pack("{s:s}", "name", cli->name));
                return read_replies(cli, ignore_item, op_print);
        }
        if (strcmp(cmd, "reload") == 0 && argc == 1) {
                send_request(cli, "reload", NULL);
                return read_replies(cli, ignore_item, reload_print);
        }
        if (strcmp(cmd, "logs") == 0) {
                parse_sub_options(cli, argc, argv, true);
                if (optind != argc - 1)
                        usage(EXIT_USAGE);
                cli->name = argv[optind];
                send_request(cli, "logs", json_pack("{s:s,s:I,s:b}", "name", cli->name, "lines",
                                                    (json_int_t)(cli->lines < 0 ? 20 : cli->lines), "follow",
                                                    cli->follow));
                return read_replies(cli, log_print, NULL);
        }
        if (strcmp(cmd, "events") == 0) {
                parse_sub_options(cli, argc, argv, true);
                if (optind != argc)
                        usage(EXIT_USAGE);
                send_request(cli, "events", json_pack("{s:I,s:b}", "lines", (json_int_t)(cli->lines < 0 ? 256 : cli->lines),
                                                      "follow", cli->follow));
                return read_replies(cli, event_print, NULL);
        }
        fprintf(stderr, "orbctl: unknown command or wrong arguments: %s\n", cmd);
        usage(EXIT_USAGE);
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                {"socket", required_argument, NULL, 's'},
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        char sock[4096];
        struct cli cli = {.lines = -1};
        int c;

        while ((c = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
                switch (c) {
                case 's': cli.socket = optarg; break;
                case 'j': cli.json = true; break;
                case 'h': usage(0);
                default: usage(EXIT_USAGE);
                }
        }
        if (optind >= argc)
                usage(EXIT_USAGE);
        cli.command = argv[optind];
        if (!cli.socket)
                cli.socket = orbital_default_socket(sock, sizeof(sock));
        if (strcmp(cli.command, "audit") == 0)
                return run_audit(&cli, argc - optind, argv + optind);
        if (is_bus_command(cli.command)) {
                char bus[4096];
                return bus_cmd(bus_path(&cli, bus, sizeof(bus)), cli.json, argc - optind, argv + optind);
        }
        if (strcmp(cli.command, "config") == 0) {
                char bus[4096];
                return config_cmd(bus_path(&cli, bus, sizeof(bus)), cli.socket, cli.json, argc - optind, argv + optind);
        }
        cli.fd = connect_control(cli.socket);
        return run_command(&cli, argc - optind, argv + optind);
}
