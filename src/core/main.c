/*
 * orbitald: the trusted core.  This file wires the parts together: the
 * event loop, signals (signalfd), the supervisor, the control socket and
 * the notify socket.  It runs as PID 1 (reaping orphans), under another
 * init (as a child subreaper, so daemonising services stay ours), or as an
 * ordinary user (and then says what it cannot enforce).
 *
 * Exit codes: 0 after a clean shutdown, 100 bad usage, 111 system failure.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "broker/broker.h"
#include "config-react.h"
#include "control.h"
#include "notify.h"
#include "sandbox/violations.h"
#include "supervisor/spawn.h"
#include "supervisor/supervisor.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/paths.h"

struct options {
        const char *manifest_dir;
        const char *run_dir;
        const char *state_dir;
        int cgroup_want;
        bool favor_dynmods;
        uint64_t log_max_file;
        unsigned log_keep;
};

struct daemon {
        struct loop loop;
        struct supervisor sup;
        struct control ctl;
        struct broker broker;
        struct audit *audit;
        struct violations violations;
        struct notify_socket notify;
        void (*control_on_event)(void *ctx, const struct sup_event *ev);
        int signal_fd;
        struct loop_io signal_io;
        unsigned n_term;
        char path_buf[3][PATH_MAX];
        char audit_path[PATH_MAX];
};

static _Noreturn void usage(int code)
{
        fprintf(code ? stderr : stdout,
                "usage: orbitald [options]\n"
                "  -m, --manifests DIR   service manifests (root: /etc/orbital/services,\n"
                "                        others: ~/.config/orbital/services)\n"
                "  -r, --run-dir DIR     control and notify sockets (root: /run/orbital, others:\n"
                "                        $XDG_RUNTIME_DIR/orbital or /tmp/orbital-UID)\n"
                "  -s, --state-dir DIR   logs (root: /var/lib/orbital, others: ~/.local/state/orbital)\n"
                "      --cgroup MODE     auto | v2 | v1 | none (default auto)\n"
                "      --cgroup-favordynmods\n"
                "                        turn on the kernel's favordynmods (cheap task migration,\n"
                "                        faster restarts; host-wide, irreversible until reboot)\n"
                "      --log-max-size N  rotate a service log file at N bytes (default 1M)\n"
                "      --log-keep N      rotated files kept per service (default 3)\n"
                "  -l, --log-level L     error | warning | notice | info | debug (default info)\n"
                "  -h, --help\n");
        exit(code);
}

static void default_dirs(struct daemon *d, struct options *o)
{
        const char *home = getenv("HOME");

        if (geteuid() == 0) {
                o->manifest_dir = o->manifest_dir ? o->manifest_dir : "/etc/orbital/services";
                o->run_dir = o->run_dir ? o->run_dir : "/run/orbital";
                o->state_dir = o->state_dir ? o->state_dir : "/var/lib/orbital";
                return;
        }
        if (!o->manifest_dir) {
                snprintf(d->path_buf[0], PATH_MAX, "%s/.config/orbital/services", home ? home : "");
                o->manifest_dir = d->path_buf[0];
        }
        if (!o->run_dir)
                o->run_dir = orbital_default_run_dir(d->path_buf[1], PATH_MAX);
        if (!o->state_dir) {
                snprintf(d->path_buf[2], PATH_MAX, "%s/.local/state/orbital", home ? home : "/tmp");
                o->state_dir = d->path_buf[2];
        }
}

static void parse_args(struct daemon *d, struct options *o, int argc, char **argv)
{
        static const struct option longopts[] = {
                {"manifests", required_argument, NULL, 'm'}, {"run-dir", required_argument, NULL, 'r'},
                {"state-dir", required_argument, NULL, 's'}, {"cgroup", required_argument, NULL, 'c'},
                {"log-max-size", required_argument, NULL, 'S'}, {"log-keep", required_argument, NULL, 'K'},
                {"log-level", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
                {"cgroup-favordynmods", no_argument, NULL, 'F'},
                {0},
        };
        enum log_level lvl;
        int c;

        *o = (struct options){.cgroup_want = -1, .log_max_file = 1u << 20, .log_keep = 3};
        while ((c = getopt_long(argc, argv, "m:r:s:l:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'm': o->manifest_dir = optarg; break;
                case 'r': o->run_dir = optarg; break;
                case 's': o->state_dir = optarg; break;
                case 'c':
                        if (strcmp(optarg, "auto") == 0) o->cgroup_want = -1;
                        else if (strcmp(optarg, "v2") == 0) o->cgroup_want = CGROUP_V2;
                        else if (strcmp(optarg, "v1") == 0) o->cgroup_want = CGROUP_V1;
                        else if (strcmp(optarg, "none") == 0) o->cgroup_want = CGROUP_NONE;
                        else { fprintf(stderr, "orbitald: --cgroup: expected auto, v2, v1 or none, found '%s'\n", optarg); exit(100); }
                        break;
                case 'S':
                        if (!parse_size(optarg, &o->log_max_file) || o->log_max_file < 4096) {
                                fprintf(stderr, "orbitald: --log-max-size: expected a size of at least 4K, found '%s'\n", optarg);
                                exit(100);
                        }
                        break;
                case 'K': {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || v > 100) {
                                fprintf(stderr, "orbitald: --log-keep: expected a number 0..100, found '%s'\n", optarg);
                                exit(100);
                        }
                        o->log_keep = (unsigned)v;
                        break;
                }
                case 'l':
                        if (!log_level_parse(optarg, &lvl)) {
                                fprintf(stderr, "orbitald: --log-level: expected error, warning, notice, info or debug, found '%s'\n", optarg);
                                exit(100);
                        }
                        log_max_level = lvl;
                        break;
                case 'F': o->favor_dynmods = true; break;
                case 'h': usage(0);
                default: usage(100);
                }
        }
        if (optind < argc)
                usage(100);
        default_dirs(d, o);
}

static int mkdir_p(const char *path, mode_t mode)
{
        char buf[PATH_MAX];

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Ours, and nobody else may write in it (a shared /tmp is the risk). */
static bool is_safe_dir(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
               !(st.st_mode & (S_IWGRP | S_IWOTH));
}

static void on_signal(struct loop_io *io, uint32_t revents)
{
        struct daemon *d = container_of(io, struct daemon, signal_io);
        struct signalfd_siginfo si;

        while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGCHLD:
                        sup_reap(&d->sup);
                        break;
                case SIGHUP: {
                        struct reload_summary sum;
                        struct orb_diag diag = ORB_DIAG_INIT;
                        char msg[1024];
                        int r = sup_reload(&d->sup, &sum, &diag);
                        if (r == -ESHUTDOWN)
                                log_notice("reload ignored: shutting down");
                        else if (r != 0)
                                log_err("reload refused, nothing changed: %s",
                                        diag.message[0] ? diag_format(&diag, msg, sizeof(msg)) : strerror(-r));
                        break;
                }
                case SIGTERM:
                case SIGINT:
                        if (++d->n_term > 1)
                                log_notice("shutdown already in progress (%u services still up)", d->sup.n_services);
                        sup_shutdown(&d->sup);
                        break;
                }
        }
}

static void on_idle_shutdown(void *ctx)
{
        struct daemon *d = ctx;

        log_info("every service is down; exiting");
        loop_quit(&d->loop);
}

/* ---- the broker's side of the supervisor ---- */

static int bus_attach(void *ctx, struct service *svc)
{
        struct daemon *d = ctx;
        const struct manifest *m = svc->spec;

        return broker_attach(&d->broker, svc, m->name, m->capabilities, m->limits.ipc_rate);
}

static void bus_detach(void *ctx, struct service *svc)
{
        struct daemon *d = ctx;

        broker_detach(&d->broker, svc);
}

static void bus_spawned(void *ctx, struct service *svc, pid_t pid, uid_t uid)
{
        struct daemon *d = ctx;

        broker_spawned(&d->broker, svc, pid, uid);
}

static void bus_ready(void *ctx, struct service *svc)
{
        (void)ctx;
        service_notify_message(svc, "READY=1", 7);
}

static void bus_audit(void *ctx, const char *kind, const char *actor, json_t *fields)
{
        struct daemon *d = ctx;
        int r;

        if (d->audit && (r = audit_record(d->audit, kind, actor, fields)) < 0)
                log_warn("unable to write an audit record (%s): %s", kind, strerror(-r));
        json_decref(fields);
}

static json_t *audit_head_json(void *ctx)
{
        struct daemon *d = ctx;
        char hex[AUDIT_HASH_HEX];
        uint64_t seq;

        audit_head(d->audit, &seq, hex);
        return json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)seq, "hash", hex, "path", d->audit_path);
}

static int audit_setup(struct daemon *d, const char *state_dir)
{

        snprintf(d->audit_path, sizeof(d->audit_path), "%s/audit.log", state_dir);
        return audit_open(&d->audit, d->audit_path, &d->loop);
}

/* Every supervisor event is audited, then streamed to control clients. */
static void on_sup_event(void *ctx, const struct sup_event *ev)
{
        struct control *ctl = ctx;
        struct daemon *d = container_of(ctl, struct daemon, ctl);

        if (ev->kind == SUP_EV_STATE)
                bus_audit(d, "service.state", ev->service,
                          json_pack("{s:s, s:s, s:s}", "from", svc_state_name(ev->from), "to",
                                    svc_state_name(ev->to), "detail", ev->detail));
        else
                bus_audit(d, event_kind_name(ev->kind), ev->service[0] ? ev->service : NULL,
                          json_pack("{s:s}", "detail", ev->detail));
        d->control_on_event(ctx, ev);
}

/* A service that keeps trying must not fill the logs: a burst, then one
 * per period, the rest counted in the next report ("suppressed"). */
#define VIOLATIONS_BURST 20
#define VIOLATIONS_EVERY (5 * USEC_PER_SEC)

/*
 * The service a kernel record is about, or NULL.  Records of processes
 * that are not ours (another orbitald's, the host's) are dropped: the
 * kernel reports every process's to every reader.
 */
static struct service *violation_owner(struct daemon *d, const char *service, const struct violation *ev)
{
        struct service *svc = service ? sup_find(&d->sup, service) : sup_find_by_record_pid(&d->sup, ev->pid);

        /* A process gone before its record was read: its dynamic uid, when
         * the record's audit session says it is one of ours (dynamic uids
         * are the same in every orbitald). */
        if (!svc && ev->uid >= 0 && ev->ses >= 0 && ev->ses == d->violations.ses)
                svc = sup_find_by_uid(&d->sup, (uid_t)ev->uid);
        /* Every process we start has our loginuid, sandboxed or not: what a
         * service without a sandbox is refused is its own business. */
        if (svc && !svc->has_sandbox && (ev->kind == VIOLATION_FILE || ev->kind == VIOLATION_SETID))
                svc = NULL;
        return svc;
}

/* What a sandbox refused: a line in the service's log, an audit record. */
static void on_violation(void *ctx, const char *service, const struct violation *ev)
{
        struct daemon *d = ctx;
        struct service *svc = violation_owner(d, service, ev);
        const char *kind = "sandbox.violation";
        json_t *fields;
        uint64_t n;

        if (!svc) {
                log_debug("sandbox record of pid %d (%s), not one of our services", ev->pid, ev->comm);
                return;
        }
        if (!burst_admit(&svc->violations, loop_now(&d->loop), VIOLATIONS_BURST, VIOLATIONS_EVERY, &n))
                return;
        if (n)
                service_log(svc, "sandbox: %llu more refusals were not reported", (unsigned long long)n);
        switch (ev->kind) {
        case VIOLATION_SYSCALL:
                service_log(svc, "sandbox: %s system call %s by pid %d (%s)", ev->is_kill ? "killed" : "refused",
                            ev->syscall, ev->pid, ev->comm);
                fields = json_pack("{s:s, s:i, s:s}", "what", "syscall", "syscall_nr", ev->syscall_nr, "action",
                                   ev->is_kill ? "killed" : "refused");
                break;
        case VIOLATION_SETID:
                service_log(svc, "sandbox: pid %d (%s) ran the setuid/setgid program %s without its privilege (%s)",
                            ev->pid, ev->comm, ev->path, ev->by);
                fields = json_pack("{s:s, s:s, s:s, s:s}", "what", "setid", "path", ev->path, "action", "ignored",
                                   "by", ev->by);
                break;
        case VIOLATION_LIMIT:
                service_log(svc, "pids limit: refused %s by pid %d (%s)", ev->syscall, ev->pid, ev->comm);
                kind = "limit";
                fields = json_pack("{s:s, s:I}", "what", "pids", "max", (json_int_t)svc->spec->limits.pids);
                break;
        default:
                service_log(svc, "sandbox: refused %s of %s by pid %d (%s): %s (%s)",
                            ev->syscall[0] ? ev->syscall : "access", ev->path[0] ? ev->path : "?", ev->pid, ev->comm,
                            strerror(ev->error), ev->by);
                fields = json_pack("{s:s, s:s, s:s, s:s, s:s}", "what", "file", "path", ev->path, "action", "refused",
                                   "error", strerrorname_np(ev->error) ? strerrorname_np(ev->error) : "?", "by",
                                   ev->by);
                break;
        }
        /* What every record has: the call (but for setid, which names a
         * program), the process, and what was held back before it. */
        if (fields) {
                if (ev->kind != VIOLATION_SETID)
                        json_object_set_new(fields, "syscall", json_string(ev->syscall));
                json_object_set_new(fields, "pid", json_integer(ev->pid));
                json_object_set_new(fields, "comm", json_string(ev->comm));
                if (n)
                        json_object_set_new(fields, "suppressed", json_integer((json_int_t)n));
        }
        bus_audit(d, kind, svc->spec->name, fields);
}

/* orb-config's commits: restart or reload the services bound to them. */
static void bus_event(void *ctx, const char *topic, const char *publisher, const void *data, size_t len)
{
        struct daemon *d = ctx;

        if (!strcmp(topic, "config.committed"))
                config_react(&d->sup, publisher, data, len);
}

static int broker_setup(struct daemon *d, const char *bus_path)
{
        const struct broker_hooks hooks = {.ctx = d, .audit = bus_audit, .ready = bus_ready, .event = bus_event};
        int r = broker_init(&d->broker, &d->loop, bus_path, &hooks);

        if (r < 0)
                return r;
        d->ctl.broker = &d->broker; /* control_init() is done: its struct stays */
        d->ctl.audit_ctx = d;
        d->ctl.audit_head = audit_head_json;
        d->sup.hooks.bus_ctx = d;
        d->sup.hooks.bus_attach = bus_attach;
        d->sup.hooks.bus_detach = bus_detach;
        d->sup.hooks.bus_spawned = bus_spawned;
        d->control_on_event = d->sup.hooks.on_event;
        d->sup.hooks.on_event = on_sup_event;
        return 0;
}

static void on_signal_unused(int sig)
{
}

static int setup_signals(struct daemon *d)
{
        static const int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
        struct sigaction sa = {.sa_handler = on_signal_unused};
        sigset_t mask;

        /* As PID 1 the kernel drops signals left at SIG_DFL, even blocked
         * ones read through signalfd: install a handler that never runs. */
        for (size_t i = 0; i < ARRAY_SIZE(handled); i++)
                sigaction(handled[i], &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (d->signal_fd < 0)
                return -errno;
        d->signal_io = (struct loop_io)LOOP_IO_INIT;
        return loop_io_add(&d->loop, &d->signal_io, d->signal_fd, EPOLLIN, on_signal);
}

static void raise_nofile(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static void explain_privileges(void)
{
        if (getpid() == 1)
                log_info("running as PID 1: reaping orphans");
        else if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                log_warn("unable to become a child subreaper: %s; daemonising services escape", strerror(errno));
        if (geteuid() != 0)
                log_warn("running as uid %u, not root: services run as uid %u (user/group in manifests fail), "
                         "no cgroups (memory via RLIMIT_AS, no pids or CPU limits)",
                         (unsigned)geteuid(), (unsigned)geteuid());
}

static int run(struct daemon *d, const struct options *o)
{
        char control_path[PATH_MAX], notify_path[PATH_MAX], bus_path[PATH_MAX], log_dir[PATH_MAX], cg_name[64];
        struct sup_settings set;
        struct orb_diag diag = ORB_DIAG_INIT;
        char msg[1024];
        int r;

        snprintf(control_path, sizeof(control_path), "%s/control", o->run_dir);
        snprintf(notify_path, sizeof(notify_path), "%s/notify", o->run_dir);
        snprintf(bus_path, sizeof(bus_path), "%s/bus.sock", o->run_dir);
        snprintf(log_dir, sizeof(log_dir), "%s/logs", o->state_dir);
        snprintf(cg_name, sizeof(cg_name), "orbital-%d", (int)getpid());
        if ((r = mkdir_p(o->run_dir, 0755)) < 0 || (r = mkdir_p(log_dir, 0750)) < 0) {
                log_err("unable to create %s or %s: %s", o->run_dir, log_dir, strerror(-r));
                return 111;
        }
        if (!is_safe_dir(o->run_dir)) {
                log_err("refusing run directory %s: it must belong to uid %u and not be writable by others "
                        "(someone else could replace the sockets)",
                        o->run_dir, (unsigned)geteuid());
                return 111;
        }
        set = (struct sup_settings){
                .manifest_dir = o->manifest_dir, .run_dir = o->run_dir, .notify_path = notify_path,
                .log = {.dir = log_dir, .max_file = o->log_max_file, .keep = o->log_keep, .ring_lines = 1000,
                        .ring_bytes = 64u << 10},
                .cgroup_want = o->cgroup_want, .cgroup_name = cg_name,
        };
        if ((r = loop_init(&d->loop)) < 0 || (r = setup_signals(d)) < 0) {
                log_err("unable to set up the event loop: %s", strerror(-r));
                return 111;
        }
        if (o->favor_dynmods && (r = cgroup_favor_dynmods()) < 0)
                log_warn("unable to turn on favordynmods: %s; restarts wait for the kernel's cgroup migration",
                         r == -ENOENT ? "no cgroup2 mount" : strerror(-r));
        if ((r = audit_setup(d, o->state_dir)) < 0) {
                log_err("unable to open the audit log %s: %s", d->audit_path, strerror(-r));
                return 111;
        }
        sup_init(&d->sup, &d->loop, &set);
        if ((r = violations_init(&d->violations, &d->loop, cg_name, on_violation, d)) < 0)
                log_warn("sandbox: neither the kernel's audit records nor /dev/kmsg can be read (%s): "
                         "what the sandboxes refuse is refused, not reported", strerror(-r));
        else if (d->violations.limits[0])
                log_warn("sandbox: not reported: %s", d->violations.limits);
        if ((r = control_init(&d->ctl, &d->loop, &d->sup, control_path)) < 0 ||
            (r = notify_socket_init(&d->notify, &d->sup, notify_path)) < 0 ||
            (r = broker_setup(d, bus_path)) < 0) {
                log_err("unable to listen on %s: %s", o->run_dir,
                        r == -EADDRINUSE ? "another orbitald is serving it" : strerror(-r));
                return 111;
        }
        d->sup.hooks.shutdown_ctx = d;
        d->sup.hooks.on_idle_shutdown = on_idle_shutdown;
        r = sup_boot(&d->sup, &diag);
        if (r != 0)
                log_err("unable to load manifests, running none until a reload succeeds: %s",
                        diag.message[0] ? diag_format(&diag, msg, sizeof(msg)) : strerror(-r));
        log_info("ready: control socket %s", control_path);
        r = loop_run(&d->loop);
        if (r < 0)
                log_err("event loop failed: %s", strerror(-r));
        return r < 0 ? 111 : 0;
}

int main(int argc, char **argv)
{
        static struct daemon d;
        struct options o;
        int code;

        log_init("orbitald");
        if (spawn_init() < 0) {
                log_err("unable to reserve descriptors 3..8: %s", strerror(errno));
                return 111;
        }
        /* Teardown is safe from any point of a failed start. */
        d.signal_fd = d.ctl.fd = d.notify.fd = d.sup.oom_fd = d.loop.epoll_fd = d.loop.timer_fd = -1;
        d.broker.listen_fd = -1;
        d.violations.fd = -1;
        parse_args(&d, &o, argc, argv);
        explain_privileges();
        raise_nofile();
        code = run(&d, &o);
        notify_socket_deinit(&d.notify);
        control_deinit(&d.ctl);
        sup_deinit(&d.sup);
        broker_deinit(&d.broker);
        violations_deinit(&d.violations);
        audit_close(d.audit);
        loop_run_deferred(&d.loop);
        safe_close(d.signal_fd);
        loop_deinit(&d.loop);
        return code;
}
