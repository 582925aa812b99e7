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

#include <editline/readline.h>

#include "bus-cmd.h"
#include "config-cmd.h"
#include "orbital/orbital.h"
#include "util/time.h"
#include "util/unixsock.h"

#define EXIT_USAGE 100
#define EXIT_SYSTEM 111

struct config_cli {
        struct orb_conn *bus;
        struct orb_client *cl;    /* orb-config, looked up once */
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
                        "  status                    revision, pending confirmation, sessions\n"
                        "  edit                      a shell for these commands (Tab completes paths); reads\n"
                        "                            commands from stdin when it is not a terminal\n"
                        "  complete PREFIX           the paths that extend PREFIX (what Tab offers)\n");
        return EXIT_USAGE;
}

/* Calls @method with @args (a JSON object, consumed; the session added)
 * and returns the typed reply, or NULL with *@code set (and said). */
static struct orb_msg *call(struct config_cli *cli, const char *method, json_t *args, int *code)
{
        struct orb_msg *reply = NULL;
        char *text;
        /* Methods on the store as a whole take no session. */
        bool has_session = strcmp(method, "confirm") && strcmp(method, "rollback") && strcmp(method, "history") &&
                           strcmp(method, "status") && strcmp(method, "complete");

        if (!args || (has_session && json_object_set_new(args, "session", json_string(cli->session)) < 0) ||
            !(text = json_dumps(args, JSON_COMPACT))) {
                json_decref(args);
                *code = EXIT_SYSTEM;
                return NULL;
        }
        json_decref(args);
        *code = cli->cl ? 0 : bus_lookup(cli->bus, "config", &cli->cl);
        if (!*code)
                *code = bus_call_client(cli->cl, method, text, &reply, NULL);
        free(text);
        if (!*code && !reply)
                *code = EXIT_SYSTEM;
        return *code ? NULL : reply;
}

/* A bytes field holding a JSON document (sent as bytes: large ones come
 * in a sealed memfd), parsed; NULL if absent or not JSON. */
static json_t *msg_json(const struct orb_msg *reply, uint16_t tag)
{
        const void *text;
        size_t len;

        if (orb_msg_get_bytes(reply, tag, &text, &len) < 0)
                return NULL;
        return json_loadb(text, len, JSON_DECODE_ANY, NULL);
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
        struct orb_msg *reply;
        json_t *leaves;
        int code;

        if (argc - running > 1)
                return config_usage();
        reply = call(cli, "show", json_pack("{s:s, s:b}", "path", path, "running", running), &code);
        if (!reply)
                return code;
        leaves = msg_json(reply, 1);
        orb_msg_free(reply);
        if (cli->as_json)
                print_json(leaves);
        else
                print_leaves(leaves);
        json_decref(leaves);
        return 0;
}

/* set, delete, discard, confirm: nothing to show but success. */
static int cmd_simple(struct config_cli *cli, const char *method, json_t *args)
{
        int code;
        struct orb_msg *reply = call(cli, method, args, &code);

        if (reply && cli->as_json && !strcmp(method, "confirm"))
                printf("{\"id\": %llu}\n", (unsigned long long)orb_msg_u64(reply, 1, 0));
        orb_msg_free(reply);
        return reply ? 0 : code;
}

static int cmd_get(struct config_cli *cli, const char *path)
{
        int code;
        struct orb_msg *reply = call(cli, "get", json_pack("{s:s}", "path", path), &code);

        if (!reply)
                return code;
        if (cli->as_json) {
                json_t *v = json_pack("{s:s, s:s}", "value", orb_msg_str(reply, 1, ""), "source",
                                      orb_msg_str(reply, 2, ""));
                print_json(v);
                json_decref(v);
        } else {
                printf("%s (%s)\n", orb_msg_str(reply, 1, ""), orb_msg_str(reply, 2, ""));
        }
        orb_msg_free(reply);
        return 0;
}

static int cmd_diff(struct config_cli *cli)
{
        int code;
        struct orb_msg *reply = call(cli, "diff", json_object(), &code);
        json_t *diff;

        if (!reply)
                return code;
        diff = msg_json(reply, 1);
        orb_msg_free(reply);
        if (cli->as_json)
                print_json(diff);
        else if (diff_is_empty(diff))
                puts("no changes");
        else
                print_diff(diff);
        json_decref(diff);
        return 0;
}

static int cmd_validate(struct config_cli *cli)
{
        int code;
        struct orb_msg *reply = call(cli, "validate", json_object(), &code);

        if (!reply)
                return code;
        if (cli->as_json)
                printf("{\"changes\": %llu}\n", (unsigned long long)orb_msg_u64(reply, 1, 0));
        else
                printf("valid: %llu changes\n", (unsigned long long)orb_msg_u64(reply, 1, 0));
        orb_msg_free(reply);
        return 0;
}

static void print_dry_run(struct config_cli *cli, const json_t *diff)
{
        json_t *services = affected_services(cli, diff), *s;
        size_t i;

        if (!services)
                puts("services to restart: unknown (orbitald did not answer)");
        json_array_foreach(services, i, s)
                printf("would %s %s\n", json_string_value(json_object_get(s, "action")),
                       json_string_value(json_object_get(s, "service")));
        json_decref(services);
        puts(diff_is_empty(diff) ? "dry run: no changes" : "dry run: valid; nothing committed");
}

static void print_commit(struct config_cli *cli, const struct orb_msg *reply, const json_t *diff, bool dry_run,
                         bool confirm)
{
        const char *asked = orb_msg_str(reply, 4, "");

        if (cli->as_json) {
                json_t *v = json_pack("{s:I, s:O, s:I, s:s}", "id", (json_int_t)orb_msg_u64(reply, 1, 0), "diff",
                                      diff ? (json_t *)diff : json_null(), "confirm_by_ms",
                                      (json_int_t)orb_msg_u64(reply, 3, 0), "asked", asked);
                if (dry_run)
                        json_object_set_new(v, "services", affected_services(cli, diff));
                print_json(v);
                json_decref(v);
                return;
        }
        print_diff(diff);
        if (asked[0])
                printf("subscribers asked: %s\n", asked);
        if (dry_run) {
                print_dry_run(cli, diff);
                return;
        }
        printf("committed %llu\n", (unsigned long long)orb_msg_u64(reply, 1, 0));
        if (confirm) {
                fputs("confirm with `orbctl config confirm` before ", stdout);
                print_time_ms(orb_msg_u64(reply, 3, 0));
                puts(", or it is rolled back");
        }
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
        struct orb_msg *reply;
        json_t *diff;
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
        diff = msg_json(reply, 2);
        print_commit(cli, reply, diff, dry_run, confirm);
        json_decref(diff);
        orb_msg_free(reply);
        return 0;
}

static int cmd_rollback(struct config_cli *cli, int argc, char **argv)
{
        const char *message = "";
        char *end;
        unsigned long long to;
        struct orb_msg *reply;
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
                printf("{\"id\": %llu}\n", (unsigned long long)orb_msg_u64(reply, 1, 0));
        else
                printf("rolled back to %llu: committed %llu\n", to, (unsigned long long)orb_msg_u64(reply, 1, 0));
        orb_msg_free(reply);
        return 0;
}

static int cmd_history(struct config_cli *cli, int argc, char **argv)
{
        long long max = 20;
        struct orb_msg *reply;
        json_t *list, *rec;
        size_t i;
        int code;

        if (argc == 3 && !strcmp(argv[1], "-n"))
                max = atoll(argv[2]);
        else if (argc != 1)
                return config_usage();
        reply = call(cli, "history", json_pack("{s:I}", "max", (json_int_t)(max > 0 ? max : 20)), &code);
        if (!reply)
                return code;
        list = msg_json(reply, 1);
        orb_msg_free(reply);
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
        return 0;
}

static int cmd_status(struct config_cli *cli)
{
        int code;
        struct orb_msg *reply = call(cli, "status", json_object(), &code);
        uint64_t pending;

        if (!reply)
                return code;
        pending = orb_msg_u64(reply, 2, 0);
        if (cli->as_json) {
                printf("{\"revision\": %llu, \"pending_id\": %llu, \"confirm_by_ms\": %llu, \"sessions\": %llu}\n",
                       (unsigned long long)orb_msg_u64(reply, 1, 0), (unsigned long long)pending,
                       (unsigned long long)orb_msg_u64(reply, 3, 0), (unsigned long long)orb_msg_u64(reply, 4, 0));
        } else {
                printf("revision %llu; %llu sessions\n", (unsigned long long)orb_msg_u64(reply, 1, 0),
                       (unsigned long long)orb_msg_u64(reply, 4, 0));
                if (pending) {
                        printf("commit %llu awaits confirmation until ", (unsigned long long)pending);
                        print_time_ms(orb_msg_u64(reply, 3, 0));
                        putchar('\n');
                }
        }
        orb_msg_free(reply);
        return 0;
}

/* The paths extending @prefix by one segment or key (the shell's Tab). */
static json_t *complete(struct config_cli *cli, const char *prefix)
{
        int code;
        struct orb_msg *reply = call(cli, "complete", json_pack("{s:s}", "prefix", prefix), &code);
        json_t *paths = reply ? msg_json(reply, 1) : NULL;

        orb_msg_free(reply);
        return paths;
}

static int cmd_complete(struct config_cli *cli, const char *prefix)
{
        json_t *paths = complete(cli, prefix), *p;
        size_t i;

        if (!paths)
                return 1;
        json_array_foreach(paths, i, p)
                puts(json_string_value(p));
        json_decref(paths);
        return 0;
}

static int config_edit(struct config_cli *cli);

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
        if (!strcmp(c, "complete") && argc <= 2)
                return cmd_complete(cli, argc == 2 ? argv[1] : "");
        if (!strcmp(c, "edit") && argc == 1)
                return config_edit(cli);
        return config_usage();
}

/* ---- orbctl config edit: a shell, with completion from the schemas ---- */

static const char *const shell_commands[] = {"show", "get", "set", "delete", "diff", "validate", "discard",
                                             "commit", "confirm", "rollback", "history", "status", "help",
                                             "exit", NULL};
static struct config_cli *shell_cli; /* for libedit's callbacks */

/* Words of @line, split on blanks; "double" or 'single' quotes keep
 * blanks in a word.  Return: the count, or -1 for an open quote. */
static int split_words(char *line, char **argv, int max)
{
        int argc = 0;
        char *in = line, *out = line;

        while (*in) {
                char quote = 0;

                while (*in == ' ' || *in == '\t')
                        in++;
                if (!*in)
                        break;
                if (argc == max)
                        return -1;
                argv[argc++] = out;
                for (; *in && (quote || (*in != ' ' && *in != '\t')); in++) {
                        if (!quote && (*in == '"' || *in == '\''))
                                quote = *in;
                        else if (quote && *in == quote)
                                quote = 0;
                        else
                                *out++ = *in;
                }
                if (quote)
                        return -1;
                if (*in)
                        in++;
                *out++ = '\0';
        }
        argv[argc] = NULL;
        return argc;
}

static char *command_generator(const char *text, int state)
{
        static int i;

        if (!state)
                i = 0;
        while (shell_commands[i])
                if (!strncmp(shell_commands[i++], text, strlen(text)))
                        return strdup(shell_commands[i - 1]);
        return NULL;
}

static char *path_generator(const char *text, int state)
{
        static json_t *paths;
        static size_t i;

        if (!state) {
                json_decref(paths);
                paths = complete(shell_cli, text);
                i = 0;
        }
        while (paths && i < json_array_size(paths))
                return strdup(json_string_value(json_array_get(paths, i++)));
        return NULL;
}

static char **shell_complete(const char *text, int start, int end)
{
        (void)end;
        rl_attempted_completion_over = 1; /* no file names */
        return rl_completion_matches(text, start == 0 ? command_generator : path_generator);
}

static char *shell_read(bool interactive)
{
        static char buf[8192];

        if (interactive)
                return readline("config> ");
        if (!fgets(buf, sizeof(buf), stdin))
                return NULL;
        buf[strcspn(buf, "\n")] = '\0';
        return strdup(buf);
}

/* One command per line; with a terminal, line editing, history and Tab
 * completion of commands and paths.  Without one (a script), the first
 * failed command ends the run: the commands after it -- a commit above
 * all -- must not run on a half-made candidate.
 * Return: 0, or 1 if a command failed. */
static int config_edit(struct config_cli *cli)
{
        bool interactive = isatty(STDIN_FILENO);
        int failed = 0;
        char *line;

        shell_cli = cli;
        if (interactive) {
                rl_readline_name = "orbctl-config";
                rl_completer_word_break_characters = " \t";
                rl_attempted_completion_function = shell_complete;
                puts("orbctl config edit: set, delete, show, diff, commit ... (help; Tab completes; exit)");
        }
        while ((line = shell_read(interactive))) {
                char *argv[16];
                int argc, code;

                if (interactive && line[0])
                        add_history(line);
                argc = split_words(line, argv, 15);
                if (argc < 0) {
                        fprintf(stderr, "orbctl: an open quote or too many words: %s\n", line);
                        failed = 1;
                } else if (argc > 0 && (!strcmp(argv[0], "exit") || !strcmp(argv[0], "quit"))) {
                        free(line);
                        break;
                } else if (argc > 0 && !strcmp(argv[0], "help")) {
                        config_usage();
                } else if (argc > 0) {
                        optind = 1;
                        code = strcmp(argv[0], "edit") ? dispatch(cli, argc, argv) : config_usage();
                        failed |= code != 0;
                }
                fflush(stdout);
                free(line);
                if (failed && !interactive)
                        break;
        }
        return failed;
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
