/*
 * orbctl config: the configuration service's commands (docs/orbctl.md).
 *
 * A thin client of orb-config's "config" contract over the bus, with the
 * caller's own identity: orb-config keeps one candidate per caller (and
 * per --session name), so `orbctl config set` and a later `orbctl config
 * commit` work on the same candidate.  Output is for people, or the
 * service's JSON with --json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <sys/socket.h>
#include <unistd.h>

#include "bus-cmd.h"
#include "config-cmd.h"
#include "orbital/orbital.h"
#include "util/time.h"
#include "util/unixsock.h"

#define EXIT_USAGE 100
#define EXIT_SYSTEM 111

struct config_cli {
        struct orb_conn *bus;
        const char *control_path; /* orbitald's control socket */
        bool as_json;
        const char *session;
};

static int config_usage(void)
{
        fprintf(stderr, "usage: orbctl config [--session NAME] COMMAND\n"
                        "  show [PATH] [--running]   leaves at or below PATH (the candidate, or the running ones)\n"
                        "  get PATH                  one leaf, and where its value comes from\n"
                        "  set PATH VALUE            change the candidate\n"
                        "  delete PATH               delete a leaf, an entry or a subtree from the candidate\n"
                        "  diff                      the candidate against the running configuration\n"
                        "  validate                  check the candidate against the schemas\n"
                        "  discard                   drop the candidate's changes\n"
                        "  commit [-m MSG] [--confirm DURATION] [--dry-run] [--rebase]\n"
                        "  confirm                   keep a commit made with --confirm\n"
                        "  rollback N [-m MSG]       back to the configuration after commit N (a new commit)\n"
                        "  history [-n COUNT]        numbered commits, newest first\n"
                        "  status                    revision, pending confirmation, sessions\n");
        return EXIT_USAGE;
}

/* Calls @method with @args (a JSON object, consumed; the session added)
 * and returns the reply object, or NULL with *@code set. */
static json_t *call(struct config_cli *cli, const char *method, json_t *args, int *code)
{
        char *text, *reply = NULL;
        json_t *v;

        /* Methods on the store as a whole take no session. */
        bool has_session = strcmp(method, "confirm") && strcmp(method, "rollback") && strcmp(method, "history") &&
                           strcmp(method, "status");

        if (!args || (has_session && json_object_set_new(args, "session", json_string(cli->session)) < 0) ||
            !(text = json_dumps(args, JSON_COMPACT))) {
                json_decref(args);
                *code = EXIT_SYSTEM;
                return NULL;
        }
        json_decref(args);
        *code = bus_call_json(cli->bus, "config", method, text, &reply);
        free(text);
        if (*code)
                return NULL;
        v = json_loads(reply ? reply : "{}", 0, NULL);
        free(reply);
        if (!v)
                *code = EXIT_SYSTEM;
        return v;
}

/* A string field of @reply that holds JSON text, parsed. */
static json_t *json_field(const json_t *reply, const char *name)
{
        const char *text = json_string_value(json_object_get(reply, name));

        return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

static void print_value(FILE *f, const json_t *v)
{
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

        fputs(text ? text : "?", f);
        free(text);
}

static void print_json(const json_t *v)
{
        char *text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);

        puts(text ? text : "null");
        free(text);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "path = value" lines, in path order. */
static void print_leaves(const json_t *leaves)
{
        size_t n = json_object_size(leaves), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof(*keys));
        const char *k;
        json_t *v;

        if (!keys)
                return;
        json_object_foreach((json_t *)leaves, k, v)
                keys[i++] = k;
        qsort(keys, n, sizeof(*keys), cmp_str);
        for (i = 0; i < n; i++) {
                printf("%s = ", keys[i]);
                print_value(stdout, json_object_get(leaves, keys[i]));
                putchar('\n');
        }
        free(keys);
}

/* + added, ~ changed, - removed: one line per leaf. */
static void print_diff(const json_t *diff)
{
        size_t i;
        json_t *d;

        json_array_foreach(json_object_get(diff, "added"), i, d) {
                printf("+ %s = ", json_string_value(json_object_get(d, "path")));
                print_value(stdout, json_object_get(d, "value"));
                putchar('\n');
        }
        json_array_foreach(json_object_get(diff, "changed"), i, d) {
                printf("~ %s: ", json_string_value(json_object_get(d, "path")));
                print_value(stdout, json_object_get(d, "old"));
                fputs(" -> ", stdout);
                print_value(stdout, json_object_get(d, "new"));
                putchar('\n');
        }
        json_array_foreach(json_object_get(diff, "removed"), i, d) {
                printf("- %s (was ", json_string_value(json_object_get(d, "path")));
                print_value(stdout, json_object_get(d, "old"));
                puts(")");
        }
}

/* The changed paths of a diff, as a JSON array. */
static json_t *diff_paths(const json_t *diff)
{
        static const char *const groups[] = {"added", "changed", "removed"};
        json_t *paths = json_array(), *d;
        size_t i;

        for (unsigned g = 0; paths && g < 3; g++)
                json_array_foreach(json_object_get(diff, groups[g]), i, d)
                        json_array_append(paths, json_object_get(d, "path"));
        return paths;
}

/* Asks orbitald which services a commit of @diff would restart or reload
 * (orb-config cannot know: the bindings are in the manifests).  NULL when
 * orbitald cannot say; the caller says so. */
static json_t *affected_services(const struct config_cli *cli, const json_t *diff)
{
        json_t *req = json_pack("{s:s, s:{s:o}}", "method", "config-affected", "params", "paths", diff_paths(diff));
        char *text = req ? json_dumps(req, JSON_COMPACT) : NULL, buf[65536];
        int fd = unix_connect(cli->control_path, SOCK_SEQPACKET);
        json_t *reply = NULL, *services = NULL;
        ssize_t n = -1;

        if (fd >= 0 && text && send(fd, text, strlen(text), MSG_NOSIGNAL) >= 0)
                n = recv(fd, buf, sizeof(buf), 0);
        if (n > 0 && (reply = json_loadb(buf, (size_t)n, 0, NULL)) && json_is_true(json_object_get(reply, "ok")))
                services = json_incref(json_object_get(json_object_get(reply, "result"), "services"));
        if (fd >= 0)
                close(fd);
        free(text);
        json_decref(req);
        json_decref(reply);
        return services;
}

static bool diff_is_empty(const json_t *diff)
{
        return !json_array_size(json_object_get(diff, "added")) && !json_array_size(json_object_get(diff, "changed")) &&
               !json_array_size(json_object_get(diff, "removed"));
}

static void print_time_ms(uint64_t ms)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        char buf[64];

        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        fputs(buf, stdout);
}

/* ---- the commands ---- */

static int cmd_show(struct config_cli *cli, int argc, char **argv)
{
        bool running = argc > 0 && !strcmp(argv[argc - 1], "--running");
        const char *path = argc - running > 0 ? argv[0] : "";
        json_t *reply, *leaves;
        int code;

        if (argc - running > 1)
                return config_usage();
        reply = call(cli, "show", json_pack("{s:s, s:b}", "path", path, "running", running), &code);
        if (!reply)
                return code;
        leaves = json_field(reply, "leaves");
        if (cli->as_json)
                print_json(leaves);
        else
                print_leaves(leaves);
        json_decref(leaves);
        json_decref(reply);
        return 0;
}

static int cmd_simple(struct config_cli *cli, const char *method, json_t *args)
{
        int code;
        json_t *reply = call(cli, method, args, &code);

        if (reply && cli->as_json)
                print_json(reply);
        json_decref(reply);
        return reply ? 0 : code;
}

static int cmd_get(struct config_cli *cli, const char *path)
{
        int code;
        json_t *reply = call(cli, "get", json_pack("{s:s}", "path", path), &code);

        if (!reply)
                return code;
        if (cli->as_json)
                print_json(reply);
        else
                printf("%s (%s)\n", json_string_value(json_object_get(reply, "value")),
                       json_string_value(json_object_get(reply, "source")));
        json_decref(reply);
        return 0;
}

static int cmd_diff(struct config_cli *cli)
{
        int code;
        json_t *reply = call(cli, "diff", json_object(), &code), *diff;

        if (!reply)
                return code;
        diff = json_field(reply, "diff");
        if (cli->as_json)
                print_json(diff);
        else if (diff_is_empty(diff))
                puts("no changes");
        else
                print_diff(diff);
        json_decref(diff);
        json_decref(reply);
        return 0;
}

static int cmd_validate(struct config_cli *cli)
{
        int code;
        json_t *reply = call(cli, "validate", json_object(), &code);

        if (!reply)
                return code;
        if (cli->as_json)
                print_json(reply);
        else
                printf("valid: %lld changes\n", (long long)json_integer_value(json_object_get(reply, "changes")));
        json_decref(reply);
        return 0;
}

static int cmd_commit(struct config_cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {{"message", required_argument, NULL, 'm'},
                                             {"confirm", required_argument, NULL, 'c'},
                                             {"dry-run", no_argument, NULL, 'd'},
                                             {"rebase", no_argument, NULL, 'r'},
                                             {0}};
        const char *message = "";
        usec_t confirm = 0;
        bool dry_run = false, rebase = false;
        json_t *reply, *diff;
        int c, code;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+m:", opts, NULL)) != -1) {
                if (c == 'm')
                        message = optarg;
                else if (c == 'c' && (!parse_duration(optarg, &confirm) || confirm < USEC_PER_SEC)) {
                        fprintf(stderr, "orbctl: --confirm: expected a duration of at least 1s such as 60s or 5m, "
                                        "found '%s'\n", optarg);
                        return EXIT_USAGE;
                } else if (c == 'd')
                        dry_run = true;
                else if (c == 'r')
                        rebase = true;
                else if (c != 'c')
                        return config_usage();
        }
        if (optind != argc)
                return config_usage();
        reply = call(cli, "commit",
                     json_pack("{s:s, s:I, s:b, s:b}", "message", message, "confirm_s",
                               (json_int_t)(confirm / USEC_PER_SEC), "dry_run", dry_run, "rebase", rebase),
                     &code);
        if (!reply)
                return code;
        diff = json_field(reply, "diff");
        if (cli->as_json) {
                json_object_set(reply, "diff", diff ? diff : json_null());
                if (dry_run) {
                        json_t *services = affected_services(cli, diff);
                        json_object_set_new(reply, "services", services ? services : json_null());
                }
                print_json(reply);
        } else {
                const char *asked = json_string_value(json_object_get(reply, "asked"));
                print_diff(diff);
                if (asked && asked[0])
                        printf("subscribers asked: %s\n", asked);
                if (dry_run) {
                        json_t *services = affected_services(cli, diff), *s;
                        size_t i;
                        if (!services)
                                puts("services to restart: unknown (orbitald did not answer)");
                        json_array_foreach(services, i, s)
                                printf("would %s %s\n", json_string_value(json_object_get(s, "action")),
                                       json_string_value(json_object_get(s, "service")));
                        json_decref(services);
                }
                if (dry_run)
                        puts(diff_is_empty(diff) ? "dry run: no changes" : "dry run: valid; nothing committed");
                else
                        printf("committed %lld\n", (long long)json_integer_value(json_object_get(reply, "id")));
                if (!dry_run && confirm) {
                        fputs("confirm with `orbctl config confirm` before ", stdout);
                        print_time_ms((uint64_t)json_integer_value(json_object_get(reply, "confirm_by_ms")));
                        puts(", or it is rolled back");
                }
        }
        json_decref(diff);
        json_decref(reply);
        return 0;
}

static int cmd_rollback(struct config_cli *cli, int argc, char **argv)
{
        const char *message = "";
        char *end;
        unsigned long long to;
        json_t *reply;
        int code;

        if (argc == 4 && !strcmp(argv[2], "-m"))
                message = argv[3];
        else if (argc != 2)
                return config_usage();
        to = strtoull(argv[1], &end, 10);
        if (!argv[1][0] || *end) {
                fprintf(stderr, "orbctl: rollback: expected a commit number, found '%s'\n", argv[1]);
                return EXIT_USAGE;
        }
        reply = call(cli, "rollback", json_pack("{s:I, s:s}", "to", (json_int_t)to, "message", message), &code);
        if (!reply)
                return code;
        if (cli->as_json)
                print_json(reply);
        else
                printf("rolled back to %llu: committed %lld\n", to,
                       (long long)json_integer_value(json_object_get(reply, "id")));
        json_decref(reply);
        return 0;
}

static int cmd_history(struct config_cli *cli, int argc, char **argv)
{
        long long max = 20;
        json_t *reply, *list, *rec;
        size_t i;
        int code;

        if (argc == 3 && !strcmp(argv[1], "-n"))
                max = atoll(argv[2]);
        else if (argc != 1)
                return config_usage();
        reply = call(cli, "history", json_pack("{s:I}", "max", (json_int_t)(max > 0 ? max : 20)), &code);
        if (!reply)
                return code;
        list = json_field(reply, "history");
        if (cli->as_json) {
                print_json(list);
        } else {
                json_array_foreach(list, i, rec) {
                        json_t *d = json_object_get(rec, "diff");
                        printf("%lld  ", (long long)json_integer_value(json_object_get(rec, "id")));
                        print_time_ms((uint64_t)json_integer_value(json_object_get(rec, "time_us")) / 1000);
                        printf("  %-15s %s: %s  (+%zu ~%zu -%zu)\n", json_string_value(json_object_get(rec, "kind")),
                               json_string_value(json_object_get(rec, "author")),
                               json_string_value(json_object_get(rec, "message")),
                               json_array_size(json_object_get(d, "added")),
                               json_array_size(json_object_get(d, "changed")),
                               json_array_size(json_object_get(d, "removed")));
                }
        }
        json_decref(list);
        json_decref(reply);
        return 0;
}

static int cmd_status(struct config_cli *cli)
{
        int code;
        json_t *reply = call(cli, "status", json_object(), &code);
        json_int_t pending;

        if (!reply)
                return code;
        pending = json_integer_value(json_object_get(reply, "pending_id"));
        if (cli->as_json) {
                print_json(reply);
        } else {
                printf("revision %lld; %lld sessions\n", (long long)json_integer_value(json_object_get(reply, "revision")),
                       (long long)json_integer_value(json_object_get(reply, "sessions")));
                if (pending) {
                        printf("commit %lld awaits confirmation until ", (long long)pending);
                        print_time_ms((uint64_t)json_integer_value(json_object_get(reply, "confirm_by_ms")));
                        putchar('\n');
                }
        }
        json_decref(reply);
        return 0;
}

static int dispatch(struct config_cli *cli, int argc, char **argv)
{
        const char *c = argv[0];

        if (!strcmp(c, "show"))
                return cmd_show(cli, argc - 1, argv + 1);
        if (!strcmp(c, "get") && argc == 2)
                return cmd_get(cli, argv[1]);
        if (!strcmp(c, "set") && argc == 3)
                return cmd_simple(cli, "set", json_pack("{s:s, s:s}", "path", argv[1], "value", argv[2]));
        if (!strcmp(c, "delete") && argc == 2)
                return cmd_simple(cli, "delete", json_pack("{s:s}", "path", argv[1]));
        if (!strcmp(c, "discard") && argc == 1)
                return cmd_simple(cli, "discard", json_object());
        if (!strcmp(c, "diff") && argc == 1)
                return cmd_diff(cli);
        if (!strcmp(c, "validate") && argc == 1)
                return cmd_validate(cli);
        if (!strcmp(c, "commit"))
                return cmd_commit(cli, argc, argv);
        if (!strcmp(c, "confirm") && argc == 1)
                return cmd_simple(cli, "confirm", json_object());
        if (!strcmp(c, "rollback"))
                return cmd_rollback(cli, argc, argv);
        if (!strcmp(c, "history"))
                return cmd_history(cli, argc, argv);
        if (!strcmp(c, "status") && argc == 1)
                return cmd_status(cli);
        return config_usage();
}

int config_cmd(const char *bus_path, const char *control_path, bool as_json, int argc, char **argv)
{
        struct config_cli cli = {.as_json = as_json, .session = "", .control_path = control_path};
        int code;

        argc--, argv++; /* "config" */
        if (argc >= 2 && !strcmp(argv[0], "--session")) {
                cli.session = argv[1];
                argc -= 2, argv += 2;
        }
        if (argc < 1)
                return config_usage();
        code = bus_open(bus_path, &cli.bus);
        if (code)
                return code;
        code = dispatch(&cli, argc, argv);
        orb_conn_close(cli.bus);
        return code;
}
