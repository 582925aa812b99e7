/*
 * Health checks: while a service is running, run its check command every
 * `interval`; a check that exits non-zero or outlives `timeout` is a
 * failure, and `failures` in a row tell the state machine (EV_HEALTH_FAIL),
 * which restarts the service.  The check runs as the service's user and
 * group, in its own session, outside the service's cgroup (so it neither
 * counts against nor is blocked by the service's pids limit).  One timer per service serves both as the
 * "next check" and the "check timed out" deadline.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/spawn.h"
#include "supervisor/supervisor.h"
#include "util/cleanup.h"
#include "util/log.h"

static void health_on_timer(struct loop_timer *t);
static void health_on_exit(struct child *c, int code, int sig);

static struct service *health_service(struct health *h)
{
        return container_of(h, struct service, health);
}

static void health_arm(struct service *svc, usec_t delay)
{
        loop_timer_arm(svc->sup->loop, &svc->health.timer, loop_now(svc->sup->loop) + delay);
}

void health_start(struct service *svc)
{
        const struct health_spec *hs = &svc->spec->health;

        svc->health.timer.fn = health_on_timer;
        if (hs->kind != HEALTH_COMMAND)
                return;
        svc->health.is_active = true;
        svc->health.failures = 0;
        health_arm(svc, hs->start_delay ? hs->start_delay : hs->interval);
}

static void health_kill_check(struct service *svc)
{
        struct child *c = &svc->health.check;

        if (!c->pid)
                return;
        pidfd_signal(c->pidfd, c->pid, SIGKILL);
        kill(-c->pid, SIGKILL); /* the check's own children too */
}

void health_stop(struct service *svc)
{
        svc->health.is_active = false;
        svc->health.gen++; /* a check still running belongs to the old run */
        loop_timer_disarm(svc->sup->loop, &svc->health.timer);
        /* A running check is killed; its exit is still reaped, and ignored. */
        health_kill_check(svc);
}

static void health_result(struct service *svc, bool ok, const char *what)
{
        struct health *h = &svc->health;
        const struct health_spec *hs = &svc->spec->health;

        snprintf(h->last, sizeof(h->last), "%s", what);
        if (ok) {
                h->failures = 0;
        } else {
                h->failures++;
                service_log(svc, "health check failed (%u of %u): %s", h->failures, hs->failures, what);
                sup_emit(svc->sup, SUP_EV_HEALTH, svc, "check failed (%u of %u): %s", h->failures, hs->failures,
                         what);
        }
        if (h->failures >= hs->failures) {
                h->failures = 0;
                service_dispatch(svc, EV_HEALTH_FAIL);
                return;
        }
        if (h->is_active)
                health_arm(svc, hs->interval);
}

static void health_on_exit(struct child *c, int code, int sig)
{
        struct service *svc = health_service(container_of(c, struct health, check));
        bool timed_out = svc->health.is_timed_out;
        char what[64];

        bool is_stale = svc->health.check_gen != svc->health.gen;

        c->pidfd = safe_close(c->pidfd);
        c->pid = 0;
        svc->health.is_timed_out = false;
        if (!svc->health.is_active)
                return;
        if (is_stale) {
                /* killed by a stop: says nothing about this run */
                if (!loop_timer_is_armed(&svc->health.timer))
                        health_arm(svc, svc->spec->health.interval);
                return;
        }
        loop_timer_disarm(svc->sup->loop, &svc->health.timer);
        if (timed_out)
                snprintf(what, sizeof(what), "timed out");
        else if (sig)
                snprintf(what, sizeof(what), "killed by signal %s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
        else
                snprintf(what, sizeof(what), code ? "exit %d" : "ok", code);
        health_result(svc, !timed_out && !sig && code == 0, what);
}

static void health_run_check(struct service *svc)
{
        const struct health_spec *hs = &svc->spec->health;
        static char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        struct spawn_req req = {.argv = hs->argv, .envp = env, .stdout_fd = -1, .stderr_fd = -1, .notify_fd = -1, .bus_fd = -1, .init_fd = -1, .pid_ns_fd = -1,
                                .cwd = svc->spec->working_directory};
        struct child *c = &svc->health.check;
        char what[96], program[4096];
        int r;

        /* The check runs with the service's identity, never orbitald's. */
        if (svc->spec->user || svc->spec->group) {
                r = spawn_resolve_ids(svc->spec->user, svc->spec->group, &req.uid, &req.gid, what, sizeof(what));
                if (r < 0) {
                        health_result(svc, false, what);
                        return;
                }
                req.set_ids = true;
        }
        if (spawn_resolve_command(hs->argv[0], env, program, sizeof(program)) < 0) {
                snprintf(what, sizeof(what), "command '%s' not found", hs->argv[0]);
                health_result(svc, false, what);
                return;
        }
        req.path = program;
        svc->health.check_gen = svc->health.gen;
        c->on_exit = health_on_exit;
        r = spawn_process(&req, &c->pid, &c->pidfd);
        if (r < 0) {
                snprintf(what, sizeof(what), "unable to fork: %s", strerror(-r));
                health_result(svc, false, what);
                return;
        }
        sup_child_add(svc->sup, c);
        health_arm(svc, hs->timeout);
}

static void health_on_timer(struct loop_timer *t)
{
        struct service *svc = health_service(container_of(t, struct health, timer));

        if (!svc->health.is_active)
                return;
        if (svc->health.check.pid) {
                /* The check outlived its timeout: kill it; its exit reports. */
                svc->health.is_timed_out = true;
                health_kill_check(svc);
                return;
        }
        health_run_check(svc);
}
