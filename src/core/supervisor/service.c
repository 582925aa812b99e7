/*
 * One supervised service: the bridge between its state machine and the
 * system.  service_apply() carries out what the machine decided (spawn,
 * signal, kill, timers, health checks) and then re-evaluates the services
 * around it: dependents waiting to start, dependencies waiting to stop.
 *
 * Process model: the main process leads its own session; its stdout and
 * stderr are pipes into orbitald; with readiness `notify` it gets one end
 * of a SOCK_SEQPACKET pair at the manifest's fd.  Every process it starts
 * lands in its cgroup (or, without cgroups, its process group), and that
 * whole set is killed when the main process dies or stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "supervisor/spawn.h"
#include "supervisor/supervisor.h"
#include "util/async-close.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/utf8.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void service_on_timer(struct loop_timer *t);
static void service_on_main_exit(struct child *c, int code, int sig);
static void service_on_holder_exit(struct child *c, int code, int sig);

/* How long a dead instance's mount namespace outlives it (async-close.h). */
#define MNT_NS_RELEASE_DELAY_USEC (200 * 1000)
static void service_forget_seccomp(struct service *svc);

const char *service_name(const struct service *svc)
{
        return svc->spec->name;
}

static void emit_log_record(void *ctx, const struct log_record *rec)
{
        struct service *svc = ctx;
        struct supervisor *sup = svc->sup;

        if (sup->hooks.on_log)
                sup->hooks.on_log(sup->hooks.ctx, svc, rec);
}

void service_log(struct service *svc, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        int n;
        const struct log_record *rec;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        rec = logstore_append(&svc->log, LOG_STREAM_ORBITAL, svc->main.pid, now_real(), buf,
                              (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
        if (rec)
                emit_log_record(svc, rec);
}

int service_new(struct supervisor *sup, struct manifest *spec, struct service **out)
{
        struct service *svc = calloc(1, sizeof(*svc));
        int r;

        if (!svc)
                return -ENOMEM;
        svc->sup = sup;
        svc->spec = spec;
        svc->main = (struct child)CHILD_INIT;
        svc->main.on_exit = service_on_main_exit;
        svc->out_fd = svc->err_fd = svc->notify_fd = -1;
        svc->kept_ns = (struct kept_ns)KEPT_NS_INIT;
        svc->mnt_ns_fd = -1;
        svc->holder = (struct child)CHILD_INIT;
        svc->holder.on_exit = service_on_holder_exit;
        svc->holder_pid_ns = -1;
        svc->out_io = svc->err_io = svc->notify_io = (struct loop_io)LOOP_IO_INIT;
        svc->fsm_timer = (struct loop_timer)LOOP_TIMER_INIT(service_on_timer);
        svc->health.timer = (struct loop_timer)LOOP_TIMER_INIT(NULL);
        svc->health.check = (struct child)CHILD_INIT;
        logstore_init(&svc->log, &sup->set.log, spec->name);
        r = fsm_init(&svc->fsm, spec, loop_now(sup->loop), rng_next(&sup->rng));
        if (r < 0) {
                logstore_deinit(&svc->log);
                free(svc);
                return r;
        }
        *out = svc;
        return 0;
}

/* ---- the PID namespace's holder ---- */

/*
 * A sandboxed service runs in a PID namespace whose PID 1 is orb-init, its
 * holder: started before the service's first run and kept across its
 * restarts, so a restart makes no namespace, executes no second program
 * and learns of the service's death first hand (the service is our own
 * child).  It is killed (and the kernel kills whatever is left in the
 * namespace with it) when the service goes down for good, when the
 * service leaves processes behind, or when the ids change.  It stays out
 * of the service's cgroup: the kill that reclaims what a run left there
 * (FX_KILL_ALL) must not take the namespace with it.
 */
static void holder_release(struct service *svc)
{
        if (!svc->holder.pid)
                return;
        pidfd_signal(svc->holder.pidfd, svc->holder.pid, SIGKILL);
        /* Reaped as an orphan from now on: the next holder may start
         * before this one is gone. */
        sup_child_remove(svc->sup, &svc->holder);
        svc->holder.pid = 0;
        svc->holder.pidfd = safe_close(svc->holder.pidfd);
        svc->holder_pid_ns = safe_close(svc->holder_pid_ns);
}

static void service_on_holder_exit(struct child *c, int code, int sig)
{
        struct service *svc = container_of(c, struct service, holder);

        /* Not asked to: the kernel has killed the service with it. */
        service_log(svc, "orb-init %d ended (code %d, signal %d)", (int)c->pid, code, sig);
        c->pid = 0;
        c->pidfd = safe_close(c->pidfd);
        svc->holder_pid_ns = safe_close(svc->holder_pid_ns);
}

static int holder_ensure(struct service *svc, struct spawn_req *req, char *why, size_t n)
{
        uid_t uid = req->set_ids ? req->uid : geteuid();
        struct spawn_req h = {.stdout_fd = -1, .stderr_fd = -1, .notify_fd = -1, .bus_fd = -1, .pid_ns_fd = -1,
                              .is_pid_holder = true, .init_fd = svc->sup->init_fd,
                              .set_ids = true, .uid = uid, .gid = req->set_ids ? req->gid : getegid()};
        int r;

        /* Never root: a service that runs as root (user: root, or no
         * dynamic ids) gets a holder without privileges of any kind. */
        if (uid == 0)
                h.uid = h.gid = 65534;
        if (svc->holder.pid && svc->holder_uid != uid)
                holder_release(svc);
        if (!svc->holder.pid) {
                r = spawn_process(&h, &svc->holder.pid, &svc->holder.pidfd);
                if (r < 0) {
                        snprintf(why, n, "unable to start orb-init: %s", strerror(-r));
                        return r;
                }
                sup_child_add(svc->sup, &svc->holder);
                svc->holder_uid = uid;
                svc->holder_pid_ns = ns_open(svc->holder.pid, "pid");
                if (svc->holder_pid_ns < 0) {
                        r = -errno;
                        holder_release(svc);
                        snprintf(why, n, "unable to open orb-init's PID namespace: %s", strerror(-r));
                        return r;
                }
        }
        req->pid_ns_fd = svc->holder_pid_ns;
        return 0;
}

/* The main process, in its holder's PID namespace when it has one. */
static int spawn_main(struct service *svc, struct spawn_req *req, char *why, size_t n)
{
        for (bool is_retry = false;; is_retry = true) {
                int r = 0;

                if (req->unshare_flags & CLONE_NEWPID)
                        r = holder_ensure(svc, req, why, n);
                else
                        holder_release(svc); /* a reload took the PID namespace away */
                if (r < 0)
                        return r;
                r = spawn_process(req, &svc->main.pid, &svc->main.pidfd);
                /* ENOMEM from a clone into a namespace whose init has died
                 * (killed by someone, not yet reaped): a new holder, once. */
                if (r == -ENOMEM && svc->holder.pid && !is_retry) {
                        holder_release(svc);
                        continue;
                }
                if (r < 0)
                        snprintf(why, n, "unable to fork: %s", strerror(-r));
                return r;
        }
}

static void close_io(struct service *svc, struct loop_io *io, int *fd)
{
        loop_io_remove(svc->sup->loop, io);
        *fd = safe_close(*fd);
}

void service_free(struct service *svc)
{
        if (!svc)
                return;
        health_stop(svc);
        if (svc->health.check.pid)
                sup_child_remove(svc->sup, &svc->health.check);
        svc->health.check.pidfd = safe_close(svc->health.check.pidfd);
        if (svc->main.pid)
                sup_child_remove(svc->sup, &svc->main);
        svc->main.pidfd = safe_close(svc->main.pidfd);
        close_io(svc, &svc->out_io, &svc->out_fd);
        close_io(svc, &svc->err_io, &svc->err_fd);
        close_io(svc, &svc->notify_io, &svc->notify_fd);
        service_forget_seccomp(svc);
        kept_ns_trim(&svc->kept_ns, 0);
        async_close(svc->mnt_ns_fd);
        holder_release(svc);
        loop_timer_disarm(svc->sup->loop, &svc->fsm_timer);
        cgroup_destroy(&svc->cg);
        for (unsigned i = 0; i < CRASH_RECORDS_MAX; i++)
                free(svc->crashes[i].last_lines);
        fsm_deinit(&svc->fsm);
        logstore_deinit(&svc->log);
        manifest_free(svc->next_spec);
        manifest_free(svc->spec);
        free(svc->requires);
        free(svc->after);
        free(svc->dependents);
        free(svc);
}

/* ---- output capture and readiness ---- */

/*
 * The main process is gone: take what it left in the pipe, once.  Never
 * loop until empty: a leftover process of the service could keep the pipe
 * full forever (it is killed right after).
 */
static void drain_pipe(struct service *svc, int fd, enum log_stream stream)
{
        static char buf[65536];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n > 0)
                logstore_feed(&svc->log, stream, svc->main.pid, now_real(), buf, (size_t)n, emit_log_record, svc);
}

static void on_pipe(struct service *svc, struct loop_io *io, int *fd, enum log_stream stream, uint32_t revents)
{
        static char buf[65536];
        ssize_t n = read(*fd, buf, sizeof(buf));

        if (n > 0) {
                logstore_feed(&svc->log, stream, svc->main.pid, now_real(), buf, (size_t)n, emit_log_record, svc);
                return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        /* EOF: every writer closed it (grandchildren may outlive main). */
        logstore_flush(&svc->log, stream, svc->main.pid, now_real(), emit_log_record, svc);
        close_io(svc, io, fd);
}

static void on_stdout(struct loop_io *io, uint32_t revents)
{
        struct service *svc = container_of(io, struct service, out_io);
        on_pipe(svc, io, &svc->out_fd, LOG_STREAM_STDOUT, revents);
}

static void on_stderr(struct loop_io *io, uint32_t revents)
{
        struct service *svc = container_of(io, struct service, err_io);
        on_pipe(svc, io, &svc->err_fd, LOG_STREAM_STDERR, revents);
}

/* STATUS= is arbitrary bytes from the service: keep a valid UTF-8 prefix. */
static void set_status_text(struct service *svc, const char *text, size_t n)
{
        char clean[3 * sizeof(svc->status_text)];
        size_t len;

        if (n > sizeof(svc->status_text) - 1)
                n = sizeof(svc->status_text) - 1;
        len = utf8_sanitize(text, n, clean);
        len = utf8_cut(clean, len, sizeof(svc->status_text) - 1);
        memcpy(svc->status_text, clean, len);
        svc->status_text[len] = '\0';
}

void service_notify_message(struct service *svc, const char *msg, size_t len)
{
        bool ready = len > 0 && memchr(msg, '=', len) == NULL && memchr(msg, '\n', len) != NULL;
        const char *p = msg, *end = msg + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                if (n == 7 && memcmp(p, "READY=1", 7) == 0)
                        ready = true;
                else if (n > 7 && memcmp(p, "STATUS=", 7) == 0)
                        set_status_text(svc, p + 7, n - 7);
                p += n + 1;
        }
        if (ready && svc->fsm.state == SVC_STARTING)
                service_dispatch(svc, EV_READY);
}

static void on_notify(struct loop_io *io, uint32_t revents)
{
        struct service *svc = container_of(io, struct service, notify_io);
        char buf[4096];
        ssize_t n = recv(svc->notify_fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n > 0) {
                service_notify_message(svc, buf, (size_t)n);
                return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        close_io(svc, io, &svc->notify_fd); /* s6: the service closed it */
}

/* ---- spawning ---- */

static void service_bus_detach(struct service *svc)
{
        const struct sup_hooks *h = &svc->sup->hooks;

        if (h->bus_detach)
                h->bus_detach(h->bus_ctx, svc);
}

static char **build_env(const struct service *svc, const char *notify_path, int bus_target)
{
        const struct manifest *m = svc->spec;
        char **env = calloc(m->n_env + 6, sizeof(char *));
        unsigned n = 0;
        bool has_path = false;

        if (!env)
                return NULL;
        for (unsigned i = 0; i < m->n_env; i++) {
                if (asprintf(&env[n++], "%s=%s", m->env[i].name, m->env[i].value) < 0)
                        goto fail;
                has_path |= strcmp(m->env[i].name, "PATH") == 0;
        }
        if (!has_path && !(env[n++] = strdup("PATH=" DEFAULT_PATH)))
                goto fail;
        if (asprintf(&env[n++], "ORBITAL_SERVICE=%s", m->name) < 0)
                goto fail;
        if (bus_target >= 0 && asprintf(&env[n++], "ORB_BUS_FD=%d", bus_target) < 0)
                goto fail;
        if (m->readiness.kind == READINESS_NOTIFY) {
                if (asprintf(&env[n++], "ORBITAL_NOTIFY_FD=%d", m->readiness.fd) < 0)
                        goto fail;
                if (notify_path && asprintf(&env[n++], "NOTIFY_SOCKET=%s", notify_path) < 0)
                        goto fail;
        }
        return env;
fail:
        for (unsigned i = 0; i < n; i++)
                free(env[i]);
        free(env);
        return NULL;
}

static void free_env(char **env)
{
        for (char **e = env; e && *e; e++)
                free(*e);
        free(env);
}

static void free_envp(char ***env)
{
        free_env(*env);
}

struct spawn_fds {
        int out[2], err[2], notify[2];
        int bus; /* the child's end of its bus connection */
};

static void spawn_fds_close(struct spawn_fds *f)
{
        for (int i = 0; i < 2; i++) {
                f->out[i] = safe_close(f->out[i]);
                f->err[i] = safe_close(f->err[i]);
                f->notify[i] = safe_close(f->notify[i]);
        }
        f->bus = safe_close(f->bus);
}

static int spawn_fds_open(const struct service *svc, struct spawn_fds *f)
{
        const struct sup_hooks *h = &svc->sup->hooks;

        *f = (struct spawn_fds){{-1, -1}, {-1, -1}, {-1, -1}, -1};
        if (h->bus_attach) {
                int r = h->bus_attach(h->bus_ctx, (struct service *)svc);
                if (r < 0)
                        return r;
                f->bus = r;
        }
        if (pipe2(f->out, O_CLOEXEC) < 0 || pipe2(f->err, O_CLOEXEC) < 0)
                return -errno;
        if (svc->spec->readiness.kind == READINESS_NOTIFY &&
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->notify) < 0)
                return -errno;
        fcntl(f->out[0], F_SETFL, O_NONBLOCK);
        fcntl(f->err[0], F_SETFL, O_NONBLOCK);
        return 0;
}

static int service_watch_fds(struct service *svc, struct spawn_fds *f)
{
        struct loop *l = svc->sup->loop;
        int r;

        svc->out_fd = take_fd(f->out[0]);
        svc->err_fd = take_fd(f->err[0]);
        svc->notify_fd = take_fd(f->notify[0]);
        r = loop_io_add(l, &svc->out_io, svc->out_fd, EPOLLIN, on_stdout);
        if (r == 0)
                r = loop_io_add(l, &svc->err_io, svc->err_fd, EPOLLIN, on_stderr);
        if (r == 0 && svc->notify_fd >= 0)
                r = loop_io_add(l, &svc->notify_io, svc->notify_fd, EPOLLIN, on_notify);
        return r;
}

/* The kernel OOM-killed something in the service: reclaim all of it. */
void service_check_oom(struct service *svc)
{
        if (!svc_state_is_up(svc->fsm.state) || !cgroup_check_oom(&svc->cg))
                return;
        sup_emit(svc->sup, SUP_EV_LIMIT, svc, "limit:memory: the kernel OOM-killed a process at %llu bytes",
                 (unsigned long long)svc->spec->limits.memory);
        service_log(svc, "memory limit reached: the kernel killed a process; reclaiming the service");
        service_apply(svc, fsm_limit(&svc->fsm, "memory", loop_now(svc->sup->loop)));
}

void service_watch_oom(struct service *svc)
{
        int r;

        if (svc->sup->oom_fd < 0 || !svc->spec->limits.memory)
                return;
        r = cgroup_oom_watch(&svc->cg, svc->sup->oom_fd);
        if (r < 0 && r != -EOPNOTSUPP)
                log_warn("service=%s: unable to watch for OOM kills: %s", svc->spec->name, strerror(-r));
}

/* Creates the cgroup once per service; a failure degrades to rlimits. */
static bool service_ensure_cgroup(struct service *svc)
{
        const struct cgroup_root *root = &svc->sup->cgroups;
        int r;

        if (root->mode == CGROUP_NONE)
                return false;
        r = cgroup_create(root, &svc->cg, svc->spec->name, &svc->spec->limits);
        if (r < 0) {
                service_log(svc, "unable to create cgroup: %s; using rlimits", strerror(-r));
                log_warn("service=%s: unable to create cgroup: %s; using rlimits", svc->spec->name, strerror(-r));
                cgroup_destroy(&svc->cg);
                return false;
        }
        service_watch_oom(svc);
        return true;
}

static void service_forget_seccomp(struct service *svc)
{
        seccomp_plan_free(&svc->seccomp);
        svc->seccomp = (struct seccomp_plan){0};
}

static void sandbox_plans_freep(struct sandbox_plans *p)
{
        sandbox_plans_free(p);
}

/* Compiles the manifest's sandbox into @sb and points @req at it; the
 * report is kept for `orbctl sandbox`, its warnings go to the log. */
static int service_prepare_sandbox(struct service *svc, struct spawn_req *req, struct sandbox_plans *sb, char *why,
                                   size_t n)
{
        const struct manifest *m = svc->spec;
        int r;

        svc->has_sandbox = false; /* until this run's sandbox is set up */
        if (!m->sandbox.enabled)
                return 0;
        if (svc->seccomp.filter && svc->seccomp_digest != m->digest) /* a reload changed the manifest */
                service_forget_seccomp(svc);
        r = sandbox_plans_build(m, svc->sup->is_root, svc->sup->init_fd >= 0, req->path, &svc->seccomp, sb, why, n);
        if (r < 0)
                return r;
        if (!sb->is_seccomp_borrowed && sb->has_seccomp) { /* keep it for the next start */
                svc->seccomp = sb->seccomp;
                svc->seccomp_digest = m->digest;
                sb->is_seccomp_borrowed = true;
        }
        svc->sandbox = sb->report;
        svc->has_sandbox = true;
        for (unsigned i = 0; i < sb->report.n_warnings; i++)
                service_log(svc, "sandbox: not enforced: %s", sb->report.warnings[i]);
        req->sandbox = &m->sandbox;
        req->unshare_flags = sb->report.unshare_flags;
        kept_ns_trim(&svc->kept_ns, req->unshare_flags); /* e.g. net.* declared since */
        req->kept = &svc->kept_ns;
        req->implicit_paths[0] = req->path;
        if (m->readiness.kind == READINESS_NOTIFY)
                req->implicit_paths[1] = svc->sup->set.notify_path;
        req->caps = sb->report.is_root ? &sb->caps : NULL;
        req->landlock = sb->has_landlock ? &sb->landlock : NULL;
        req->seccomp = sb->has_seccomp ? &sb->seccomp : NULL;
        if (sb->report.has_dynamic_ids) {
                req->set_ids = true;
                req->uid = sb->report.uid;
                req->gid = sb->report.gid;
        }
        return 0;
}

static int service_spawn(struct service *svc, char *why, size_t n)
{
        const struct manifest *m = svc->spec;
        struct spawn_fds fds;
        struct spawn_req req = {.argv = m->argv, .cwd = m->working_directory, .notify_target = m->readiness.fd,
                                .rlimits = &m->limits, .init_fd = -1, .pid_ns_fd = -1};
        _cleanup_(free_envp) char **env = NULL;
        _cleanup_(sandbox_plans_freep) struct sandbox_plans sb = {.landlock = {.ruleset_fd = -1}};
        bool has_cg = service_ensure_cgroup(svc);
        char program[4096];
        int r;

        if (m->user || m->group) {
                r = spawn_resolve_ids(m->user, m->group, &req.uid, &req.gid, why, n);
                if (r < 0)
                        return r;
                req.set_ids = true;
        }
        req.bus_target = spawn_bus_target(m->readiness.kind == READINESS_NOTIFY ? m->readiness.fd : -1);
        env = build_env(svc, svc->sup->set.notify_path, svc->sup->hooks.bus_attach ? req.bus_target : -1);
        if (!env)
                return -ENOMEM;
        if (spawn_resolve_command(m->argv[0], env, program, sizeof(program)) < 0) {
                snprintf(why, n, "command '%s' not found in the service's PATH", m->argv[0]);
                return -ENOENT;
        }
        req.path = program;
        r = service_prepare_sandbox(svc, &req, &sb, why, n);
        if (r < 0)
                return r;
        r = spawn_fds_open(svc, &fds);
        if (r < 0) {
                spawn_fds_close(&fds);
                service_bus_detach(svc);
                snprintf(why, n, "unable to create pipes or the bus connection: %s", strerror(-r));
                return r;
        }
        req.envp = env;
        req.stdout_fd = fds.out[1];
        req.stderr_fd = fds.err[1];
        req.notify_fd = fds.notify[1];
        req.bus_fd = fds.bus;
        req.cg = has_cg ? &svc->cg : NULL;
        req.use_rlimit_memory = !has_cg || !svc->cg.dir[CG_MEMORY];
        r = spawn_main(svc, &req, why, n);
        if (r < 0) {
                spawn_fds_close(&fds);
                service_bus_detach(svc);
                return r;
        }
        kept_ns_fill(&svc->kept_ns, svc->main.pid, req.unshare_flags);
        if (req.unshare_flags & CLONE_NEWNS)
                svc->mnt_ns_fd = ns_open(svc->main.pid, "mnt");
        svc->started_real = now_real();
        sup_child_add(svc->sup, &svc->main);
        if (svc->sup->hooks.bus_spawned)
                svc->sup->hooks.bus_spawned(svc->sup->hooks.bus_ctx, svc, svc->main.pid,
                                            req.set_ids ? req.uid : geteuid());
        r = service_watch_fds(svc, &fds);
        spawn_fds_close(&fds);
        if (r < 0)
                log_warn("service=%s: unable to watch its output: %s", m->name, strerror(-r));
        log_debug("service=%s pid=%d: spawned", m->name, (int)svc->main.pid);
        return 0;
}

/* ---- exit and kill ---- */

static void service_kill_all(struct service *svc)
{
        if (svc->main.pid)
                pidfd_signal(svc->main.pidfd, svc->main.pid, SIGKILL);
        if (svc->cg.dir[CG_PIDS] || svc->cg.dir[CG_MEMORY]) {
                cgroup_kill_all(&svc->cg);
        } else if (svc->last_pgid > 1) {
                kill(-svc->last_pgid, SIGKILL);
                /* Once the main process is gone the group dies with this
                 * kill: never signal its id again, it may be reused. */
                if (!svc->main.pid)
                        svc->last_pgid = 0;
        }
}

static void record_crash(struct service *svc)
{
        struct crash_record *c = &svc->crashes[svc->n_crashes++ % CRASH_RECORDS_MAX];
        unsigned n = logstore_count(&svc->log);
        size_t len = 0;

        free(c->last_lines);
        *c = (struct crash_record){.time = now_real()};
        snprintf(c->reason, sizeof(c->reason), "%s", svc->fsm.reason);
        if (n > CRASH_LOG_LINES)
                n = CRASH_LOG_LINES;
        c->last_lines = malloc(n * (CRASH_LINE_MAX + 1) + 1);
        if (!c->last_lines)
                return;
        for (unsigned i = n; i-- > 0;) {
                const struct log_record *r = logstore_nth_newest(&svc->log, i);
                size_t take = utf8_cut(r->text, r->len, CRASH_LINE_MAX);
                memcpy(c->last_lines + len, r->text, take);
                len += take;
                if (i)
                        c->last_lines[len++] = '\n';
        }
        c->last_lines[len] = '\0';
}

static void describe_status(char *buf, size_t n, int code, int sig)
{
        if (sig)
                snprintf(buf, n, "killed by signal %s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
        else
                snprintf(buf, n, "exited with code %d", code);
}

/*
 * Was this death caused by a limit?  Memory: the kernel's OOM kill counter
 * moved.  Pids: the kernel refused a fork during this run (v1 gives no
 * live notification, so a failed exit after a refusal is attributed).
 */
static void attribute_limit(struct service *svc, int code, int sig)
{
        if (svc->fsm.pending[0])
                return;
        if (cgroup_check_oom(&svc->cg)) {
                snprintf(svc->fsm.pending, sizeof(svc->fsm.pending), "limit:memory");
                sup_emit(svc->sup, SUP_EV_LIMIT, svc, "limit:memory: the kernel killed it at %llu bytes",
                         (unsigned long long)svc->spec->limits.memory);
        } else if (cgroup_check_pids_max(&svc->cg) && (code || sig)) {
                snprintf(svc->fsm.pending, sizeof(svc->fsm.pending), "limit:pids");
                sup_emit(svc->sup, SUP_EV_LIMIT, svc, "limit:pids: a fork was refused at %u tasks",
                         svc->spec->limits.pids);
        }
}

static void service_on_main_exit(struct child *c, int code, int sig)
{
        struct service *svc = container_of(c, struct service, main);
        char what[64];
        int old_mnt_ns;

        if (svc->out_fd >= 0)
                drain_pipe(svc, svc->out_fd, LOG_STREAM_STDOUT);
        if (svc->err_fd >= 0)
                drain_pipe(svc, svc->err_fd, LOG_STREAM_STDERR);
        logstore_flush(&svc->log, LOG_STREAM_STDOUT, c->pid, now_real(), emit_log_record, svc);
        logstore_flush(&svc->log, LOG_STREAM_STDERR, c->pid, now_real(), emit_log_record, svc);
        close_io(svc, &svc->out_io, &svc->out_fd);
        close_io(svc, &svc->err_io, &svc->err_fd);
        close_io(svc, &svc->notify_io, &svc->notify_fd);
        service_bus_detach(svc);
        c->pidfd = safe_close(c->pidfd);
        describe_status(what, sizeof(what), code, sig);
        service_log(svc, "main process %d %s", (int)c->pid, what);
        svc->last_pid = c->pid;
        c->pid = 0;
        attribute_limit(svc, code, sig);
        /* What the service left behind was re-parented to its holder:
         * kill it all with the namespace, and let the next run have new
         * namespaces of its own rather than share the old ones' last
         * moments. */
        if (svc->holder.pid && spawn_first_child(svc->holder.pid)) {
                holder_release(svc);
                kept_ns_trim(&svc->kept_ns, 0);
        }
        old_mnt_ns = svc->mnt_ns_fd;
        svc->mnt_ns_fd = -1;
        service_apply(svc, fsm_exit(&svc->fsm, code, sig, loop_now(svc->sup->loop)));
        /* The old tree's unmount and its RCU grace period, in the background
         * and after an immediate restart's first milliseconds: done at once
         * they cost a restart about 0.35 ms (bench/sandbox, with and
         * without this hold). */
        async_close_later(old_mnt_ns, MNT_NS_RELEASE_DELAY_USEC);
}

/* ---- dependencies ---- */

static bool dep_settled(const struct service *d)
{
        /* `after` only orders: wait while the other one is on its way up. */
        return !(d->fsm.state == SVC_STARTING || (d->fsm.state == SVC_LOADING && d->fsm.want_up));
}

bool service_deps_satisfied(const struct service *svc, char *why, size_t n)
{
        for (unsigned i = 0; i < svc->n_requires; i++) {
                if (svc->requires[i]->fsm.state != SVC_RUNNING) {
                        snprintf(why, n, "waiting for %s (%s)", service_name(svc->requires[i]),
                                 svc_state_name(svc->requires[i]->fsm.state));
                        return false;
                }
        }
        for (unsigned i = 0; i < svc->n_after; i++) {
                if (!dep_settled(svc->after[i])) {
                        snprintf(why, n, "after %s (%s)", service_name(svc->after[i]),
                                 svc_state_name(svc->after[i]->fsm.state));
                        return false;
                }
        }
        return true;
}

static void service_check_deps(struct service *svc)
{
        char why[FSM_REASON_MAX];

        if (svc->fsm.state != SVC_LOADING || !svc->fsm.want_up)
                return;
        if (svc->next_spec)
                return; /* a new manifest is swapped in first (sup_on_deferred) */
        if (svc->stop_pending || svc->sup->is_shutting_down)
                return; /* about to be stopped: never spawn now */
        if (service_deps_satisfied(svc, why, sizeof(why)))
                service_dispatch(svc, EV_DEPS_READY);
        else
                snprintf(svc->fsm.reason, sizeof(svc->fsm.reason), "%s", why);
}

static bool dependents_down(const struct service *svc)
{
        for (unsigned i = 0; i < svc->n_dependents; i++) {
                const struct service *d = svc->dependents[i];
                if (d->stop_pending && svc_state_is_up(d->fsm.state))
                        return false;
        }
        return true;
}

/* A service marked to stop goes once everything depending on it is down. */
void service_try_stop(struct service *svc)
{
        if (!svc->stop_pending || !dependents_down(svc))
                return;
        /* Already stopping for good: nothing to add.  Stopping towards a
         * restart falls through: EV_STOP turns it into a plain stop. */
        if (svc->fsm.state == SVC_STOPPING && svc->fsm.after_stop == AFTER_STOP_STOPPED)
                return;
        if (svc->fsm.state == SVC_STOPPING && svc->fsm.after_stop == AFTER_STOP_DISABLE)
                return;
        if (svc_state_is_up(svc->fsm.state) || svc->fsm.state == SVC_LOADING || svc->fsm.state == SVC_RESTARTING)
                service_dispatch(svc, EV_STOP);
}

static void service_after_change(struct service *svc, enum svc_state from)
{
        bool down = !svc_state_is_up(svc->fsm.state);

        for (unsigned i = 0; i < svc->n_dependents; i++)
                service_check_deps(svc->dependents[i]);
        if (!down)
                return;
        /* Down for good (not on the way back up): the namespace goes too. */
        if (svc->fsm.state != SVC_RESTARTING && svc->fsm.state != SVC_LOADING)
                holder_release(svc);
        if (svc->stop_pending && svc->fsm.state != SVC_LOADING && svc->fsm.state != SVC_RESTARTING)
                svc->stop_pending = false;
        for (unsigned i = 0; i < svc->n_requires; i++)
                service_try_stop(svc->requires[i]);
        for (unsigned i = 0; i < svc->n_after; i++)
                service_try_stop(svc->after[i]);
        sup_service_down(svc->sup, svc);
}

/* ---- applying decisions ---- */

static void sync_timer(struct service *svc)
{
        struct loop *l = svc->sup->loop;

        if (svc->fsm.deadline == USEC_INFINITY)
                loop_timer_disarm(l, &svc->fsm_timer);
        else if (!loop_timer_is_armed(&svc->fsm_timer) || svc->fsm_timer.deadline != svc->fsm.deadline)
                loop_timer_arm(l, &svc->fsm_timer, svc->fsm.deadline);
}

static void apply_spawn(struct service *svc)
{
        char why[FSM_REASON_MAX] = "";
        int r = service_spawn(svc, why, sizeof(why));

        if (r < 0) {
                snprintf(svc->fsm.pending, sizeof(svc->fsm.pending), "spawn: %s", why[0] ? why : strerror(-r));
                service_log(svc, "%s", svc->fsm.pending);
                /* An unknown user or group stays unknown: fail at once.
                 * Anything else (no memory, no descriptors) may pass. */
                if (r == -ESRCH)
                        service_dispatch(svc, EV_FAULT);
                else
                        service_apply(svc, fsm_exit(&svc->fsm, SPAWN_EXIT_SETUP, 0, loop_now(svc->sup->loop)));
                return;
        }
        svc->last_pgid = svc->main.pid;
        if (svc->spec->readiness.kind == READINESS_NONE)
                service_dispatch(svc, EV_READY);
}

void service_apply(struct service *svc, struct fsm_result r)
{
        unsigned fx = r.effects;
        /* A zero backoff restarts inline, without a timer round trip; but
         * only from the outermost apply, so a spawn that keeps failing in
         * orbitald goes through the loop instead of recursing. */
        bool is_due_now = r.to == SVC_RESTARTING && r.from != SVC_RESTARTING && svc->apply_depth == 0 &&
                          svc->fsm.deadline <= loop_now(svc->sup->loop) && !svc->sup->is_shutting_down;

        svc->apply_depth++;
        if (is_due_now)
                loop_timer_disarm(svc->sup->loop, &svc->fsm_timer);
        else
                sync_timer(svc);
        if (r.to != r.from)
                sup_emit_state(svc->sup, svc, r.from);
        if (r.breaker_changed)
                sup_emit(svc->sup, SUP_EV_BREAKER, svc, "%s", r.breaker == BREAKER_CLOSED
                                                                     ? "breaker closed: stable again"
                                                                     : svc->fsm.reason);
        if (fx & FX_CRASH_RECORD) {
                record_crash(svc);
                sup_emit(svc->sup, SUP_EV_CRASH, svc, "%s", svc->fsm.reason);
        }
        if (fx & FX_HEALTH_STOP)
                health_stop(svc);
        if (fx & FX_SIGNAL_STOP && svc->main.pid)
                pidfd_signal(svc->main.pidfd, svc->main.pid, svc->spec->stop.signal);
        if (fx & FX_KILL_ALL)
                service_kill_all(svc);
        if (fx & FX_HEALTH_START)
                health_start(svc);
        if (fx & FX_SPAWN)
                apply_spawn(svc);
        if (fx & FX_CHECK_DEPS)
                service_check_deps(svc);
        if (r.to != r.from)
                service_after_change(svc, r.from);
        if (svc->stop_pending)
                service_try_stop(svc);
        svc->apply_depth--;
        if (is_due_now && svc->fsm.state == SVC_RESTARTING)
                service_dispatch(svc, EV_TIMER);
}

void service_dispatch(struct service *svc, enum svc_event ev)
{
        struct fsm_result r = fsm_event(&svc->fsm, ev, loop_now(svc->sup->loop));

        if (r.is_handled)
                service_apply(svc, r);
}

static void service_on_timer(struct loop_timer *t)
{
        struct service *svc = container_of(t, struct service, fsm_timer);

        /* Shutting down: no breaker retry, no restart. */
        if (svc->sup->is_shutting_down && !svc_state_is_up(svc->fsm.state))
                return;
        service_dispatch(svc, EV_TIMER);
}
