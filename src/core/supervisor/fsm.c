/*
 * The service lifecycle, as a table action[state][event] of small
 * functions (after skarnet/s6's s6-supervise).  An empty cell means the
 * event has no meaning in that state and is reported as not handled.
 *
 *                 START/RESTART/RESET          DEPS_READY
 *   STOPPED ----------------------> LOADING ------------> STARTING
 *   FAILED  ---------------------->    ^                     |  READY
 *   DISABLED --ENABLE/RESET------->    |                     |
 *                                      |  TIMER              v
 *                                RESTARTING <----- exit -- RUNNING
 *                                      ^                     |
 *        breaker opens: DISABLED <-----+---- exit path       | STOP/HEALTH/LIMIT
 *        (cooldown TIMER -> half-open -> LOADING)            v
 *                                                        STOPPING --exit--> per after_stop
 *
 * Invariants (assert_fsm_ok):
 *  - a deadline is set only in STARTING (readiness timeout), RUNNING
 *    (stability), STOPPING (stop timeout), RESTARTING (backoff) and
 *    DISABLED-by-breaker (cooldown);
 *  - the breaker is OPEN exactly when DISABLED by the breaker;
 *  - STOPPED, FAILED and DISABLED never want the service up.
 *
 * The exit path (fsm_on_exit) decides between restarting, giving up and
 * opening the breaker; policy.c holds its arithmetic.
 */
#ifdef ORBITAL_TEST
#undef NDEBUG /* the invariant checker must check in every test build */
#endif
#include <assert.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/fsm.h"

typedef enum svc_state (*fsm_action)(struct fsm *m, usec_t now, struct fsm_result *r);

static const char *const state_names[_SVC_STATE_N] = {
        [SVC_LOADING] = "loading",   [SVC_STARTING] = "starting",
        [SVC_RUNNING] = "running",   [SVC_STOPPING] = "stopping",
        [SVC_STOPPED] = "stopped",   [SVC_RESTARTING] = "restarting",
        [SVC_FAILED] = "failed",     [SVC_DISABLED] = "disabled",
};

static const char *const event_names[_SVC_EVENT_N] = {
        [EV_START] = "start",        [EV_DEPS_READY] = "deps-ready",
        [EV_READY] = "ready",        [EV_EXIT] = "exit",
        [EV_STOP] = "stop",          [EV_RESTART] = "restart",
        [EV_TIMER] = "timer",        [EV_HEALTH_FAIL] = "health-fail",
        [EV_LIMIT] = "limit",        [EV_DISABLE] = "disable",
        [EV_ENABLE] = "enable",      [EV_RESET] = "reset",
        [EV_FAULT] = "fault",
};

const char *svc_state_name(enum svc_state s)
{
        return s < _SVC_STATE_N ? state_names[s] : "?";
}

const char *svc_event_name(enum svc_event e)
{
        return e < _SVC_EVENT_N ? event_names[e] : "?";
}

const char *breaker_state_name(enum breaker_state b)
{
        static const char *const names[] = {"closed", "open", "half-open"};
        return b <= BREAKER_HALF_OPEN ? names[b] : "?";
}

__attribute__((format(printf, 2, 3))) static void set_reason(struct fsm *m, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(m->reason, sizeof(m->reason), fmt, ap);
        va_end(ap);
}

static void set_breaker(struct fsm *m, struct fsm_result *r, enum breaker_state b)
{
        if (m->breaker == b)
                return;
        m->breaker = b;
        r->breaker_changed = true;
        r->breaker = b;
}

/* Called when a run proved stable: forget the backoff and close a
 * half-open breaker. */
static void mark_stable(struct fsm *m, struct fsm_result *r)
{
        m->attempt = 0;
        if (m->breaker == BREAKER_HALF_OPEN) {
                crash_window_clear(&m->crashes);
                set_breaker(m, r, BREAKER_CLOSED);
        }
}

/* ---- actions shared by several states ---- */

static enum svc_state to_loading(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->want_up = true;
        m->deadline = USEC_INFINITY;
        r->effects |= FX_CHECK_DEPS;
        return SVC_LOADING;
}

static enum svc_state act_start(struct fsm *m, usec_t now, struct fsm_result *r)
{
        set_reason(m, "start requested");
        return to_loading(m, now, r);
}

/* Start from FAILED: an operator decision, so failures are forgotten. */
static enum svc_state act_start_fresh(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->attempt = 0;
        return act_start(m, now, r);
}

static enum svc_state act_spawn(struct fsm *m, usec_t now, struct fsm_result *r)
{
        if (!m->want_up)
                return SVC_LOADING;
        m->started_at = now;
        m->pending[0] = '\0';
        m->deadline = USEC_INFINITY;
        if (m->spec->readiness.kind == READINESS_NOTIFY && m->spec->readiness.timeout)
                m->deadline = now + m->spec->readiness.timeout;
        r->effects |= FX_SPAWN;
        set_reason(m, "dependencies ready");
        return SVC_STARTING;
}

static enum svc_state act_ready(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->ready_at = now;
        m->deadline = USEC_INFINITY;
        /* A stability timer only matters if there is something to reset. */
        if (m->attempt || m->breaker == BREAKER_HALF_OPEN)
                m->deadline = now + m->spec->backoff.reset_after;
        r->effects |= FX_HEALTH_START | FX_DEPENDENTS;
        set_reason(m, "ready");
        return SVC_RUNNING;
}

static enum svc_state begin_stop(struct fsm *m, usec_t now, struct fsm_result *r, enum after_stop after)
{
        m->after_stop = after;
        m->want_up = after == AFTER_STOP_START || after == AFTER_STOP_FAIL;
        m->deadline = now + m->spec->stop.timeout;
        r->effects |= FX_SIGNAL_STOP | FX_HEALTH_STOP;
        return SVC_STOPPING;
}

static enum svc_state act_stop(struct fsm *m, usec_t now, struct fsm_result *r)
{
        set_reason(m, "stop requested");
        return begin_stop(m, now, r, AFTER_STOP_STOPPED);
}

static enum svc_state act_restart(struct fsm *m, usec_t now, struct fsm_result *r)
{
        set_reason(m, "restart requested");
        return begin_stop(m, now, r, AFTER_STOP_START);
}

static enum svc_state act_disable_running(struct fsm *m, usec_t now, struct fsm_result *r)
{
        set_reason(m, "disabled by operator");
        m->disabled_by = DISABLED_BY_OPERATOR;
        return begin_stop(m, now, r, AFTER_STOP_DISABLE);
}

static enum svc_state act_readiness_timeout(struct fsm *m, usec_t now, struct fsm_result *r)
{
        snprintf(m->pending, sizeof(m->pending), "readiness-timeout");
        set_reason(m, "not ready within the readiness timeout");
        return begin_stop(m, now, r, AFTER_STOP_FAIL);
}

static enum svc_state act_health_fail(struct fsm *m, usec_t now, struct fsm_result *r)
{
        snprintf(m->pending, sizeof(m->pending), "health");
        set_reason(m, "health check failed");
        return begin_stop(m, now, r, AFTER_STOP_FAIL);
}

/* A limit violation reclaims at once: no polite stop signal. */
static enum svc_state act_limit(struct fsm *m, usec_t now, struct fsm_result *r)
{
        enum svc_state s = begin_stop(m, now, r, AFTER_STOP_FAIL);

        r->effects = (r->effects & ~FX_SIGNAL_STOP) | FX_KILL_ALL;
        set_reason(m, "%s", m->pending);
        return s;
}

/* A permanent fault: retrying cannot help, so no backoff, no breaker. */
static enum svc_state act_fault(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->want_up = false;
        m->deadline = USEC_INFINITY;
        r->effects |= FX_CRASH_RECORD | FX_KILL_ALL;
        set_reason(m, "%s; not retried: fix it, then start", m->pending);
        return SVC_FAILED;
}

static enum svc_state act_stable(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->deadline = USEC_INFINITY;
        mark_stable(m, r);
        return SVC_RUNNING;
}

static enum svc_state to_stopped(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->want_up = false;
        m->deadline = USEC_INFINITY;
        set_reason(m, "stop requested");
        return SVC_STOPPED;
}

static enum svc_state to_disabled(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->want_up = false;
        m->deadline = USEC_INFINITY;
        m->disabled_by = DISABLED_BY_OPERATOR;
        set_reason(m, "disabled by operator");
        return SVC_DISABLED;
}

/* ---- the exit path ---- */

static bool exit_is_failure(const struct fsm *m)
{
        return m->pending[0] || m->exit_signal || m->exit_code != 0;
}

static bool policy_restarts(const struct fsm *m, bool is_failure)
{
        switch (m->spec->restart) {
        case RESTART_ALWAYS:
                return true;
        case RESTART_ON_FAILURE:
        case RESTART_LIMITED:
                return is_failure;
        case RESTART_NEVER:
        default:
                return false;
        }
}

static void describe_exit(struct fsm *m, char *buf, size_t n)
{
        if (m->pending[0])
                snprintf(buf, n, "%s", m->pending);
        else if (m->exit_signal)
                snprintf(buf, n, "signal %s", sigabbrev_np(m->exit_signal) ? sigabbrev_np(m->exit_signal) : "?");
        else
                snprintf(buf, n, "exit %d", m->exit_code);
}

static enum svc_state open_breaker(struct fsm *m, usec_t now, struct fsm_result *r, unsigned n, const char *why)
{
        char w[32];

        set_breaker(m, r, BREAKER_OPEN);
        m->want_up = false;
        m->disabled_by = DISABLED_BY_BREAKER;
        m->deadline = now + m->spec->breaker.cooldown;
        set_reason(m, "breaker open: %u deaths within %s (last: %s)", n,
                   format_duration(w, sizeof(w), m->spec->breaker.window), why);
        return SVC_DISABLED;
}

/*
 * After the main process is gone: restart with backoff, give up, or open
 * the breaker.  A run that lasted reset-after counts as stable even if
 * the stability timer did not fire (e.g. health checks ended it).
 */
static enum svc_state fsm_on_exit(struct fsm *m, usec_t now, struct fsm_result *r)
{
        bool failed = exit_is_failure(m);
        char why[FSM_REASON_MAX];
        unsigned n;

        describe_exit(m, why, sizeof(why));
        r->effects |= FX_KILL_ALL | FX_HEALTH_STOP | (failed ? FX_CRASH_RECORD : 0);
        m->deadline = USEC_INFINITY;
        if (m->ready_at >= m->started_at && m->started_at && now - m->ready_at >= m->spec->backoff.reset_after &&
            m->state == SVC_RUNNING)
                mark_stable(m, r);
        if (!policy_restarts(m, failed)) {
                m->want_up = false;
                set_reason(m, "%s; restart policy %s", why, restart_policy_name(m->spec->restart));
                return failed ? SVC_FAILED : SVC_STOPPED;
        }
        if (m->spec->restart == RESTART_LIMITED && m->attempt >= m->spec->restart_limit) {
                m->want_up = false;
                set_reason(m, "%s; gave up after %u restarts", why, m->attempt);
                return SVC_FAILED;
        }
        if (m->breaker == BREAKER_HALF_OPEN)
                return open_breaker(m, now, r, m->crashes.n, why);
        n = crash_window_add(&m->crashes, now, m->spec->breaker.window);
        if (m->spec->breaker.crashes && n >= m->spec->breaker.crashes)
                return open_breaker(m, now, r, n, why);
        m->deadline = now + backoff_delay(&m->spec->backoff, m->attempt, rng_next(&m->rng));
        m->attempt++;
        m->restarts++;
        m->want_up = true;
        set_reason(m, "%s; restart #%u", why, m->restarts);
        return SVC_RESTARTING;
}

static enum svc_state act_exit_stopping(struct fsm *m, usec_t now, struct fsm_result *r)
{
        switch (m->after_stop) {
        case AFTER_STOP_FAIL:
                return fsm_on_exit(m, now, r);
        case AFTER_STOP_START:
                r->effects |= FX_KILL_ALL;
                set_reason(m, "restart requested");
                return to_loading(m, now, r);
        case AFTER_STOP_DISABLE:
                r->effects |= FX_KILL_ALL;
                return to_disabled(m, now, r);
        case AFTER_STOP_STOPPED:
        default:
                r->effects |= FX_KILL_ALL;
                return to_stopped(m, now, r);
        }
}

static enum svc_state act_stop_timeout(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->deadline = USEC_INFINITY;
        r->effects |= FX_KILL_ALL;
        return SVC_STOPPING;
}

static enum svc_state act_stopping_stop(struct fsm *m, usec_t now, struct fsm_result *r)
{
        if (m->after_stop == AFTER_STOP_START || m->after_stop == AFTER_STOP_FAIL)
                m->after_stop = AFTER_STOP_STOPPED;
        m->want_up = false;
        return SVC_STOPPING;
}

static enum svc_state act_stopping_start(struct fsm *m, usec_t now, struct fsm_result *r)
{
        if (m->after_stop == AFTER_STOP_STOPPED || m->after_stop == AFTER_STOP_DISABLE)
                m->after_stop = AFTER_STOP_START;
        m->want_up = true;
        return SVC_STOPPING;
}

static enum svc_state act_stopping_disable(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->after_stop = AFTER_STOP_DISABLE;
        m->disabled_by = DISABLED_BY_OPERATOR;
        m->want_up = false;
        return SVC_STOPPING;
}

static enum svc_state act_cooldown_over(struct fsm *m, usec_t now, struct fsm_result *r)
{
        set_breaker(m, r, BREAKER_HALF_OPEN);
        set_reason(m, "breaker half-open: trial run after cooldown");
        m->want_up = true;
        m->deadline = USEC_INFINITY;
        r->effects |= FX_CHECK_DEPS;
        return SVC_LOADING;
}

static enum svc_state act_reset(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->attempt = 0;
        crash_window_clear(&m->crashes);
        set_breaker(m, r, BREAKER_CLOSED);
        set_reason(m, "reset by operator");
        return to_loading(m, now, r);
}

/* reset while up: forget failures and close the breaker, keep running. */
static enum svc_state act_reset_up(struct fsm *m, usec_t now, struct fsm_result *r)
{
        m->attempt = 0;
        crash_window_clear(&m->crashes);
        set_breaker(m, r, BREAKER_CLOSED);
        return m->state;
}

/* The operator keeps a breaker-opened service down: no more trials. */
static enum svc_state act_breaker_to_operator(struct fsm *m, usec_t now, struct fsm_result *r, enum svc_state to)
{
        set_breaker(m, r, BREAKER_CLOSED);
        crash_window_clear(&m->crashes);
        m->attempt = 0;
        m->want_up = false;
        m->deadline = USEC_INFINITY;
        m->disabled_by = DISABLED_BY_OPERATOR;
        set_reason(m, to == SVC_DISABLED ? "disabled by operator" : "stop requested");
        return to;
}

static enum svc_state act_disabled_disable(struct fsm *m, usec_t now, struct fsm_result *r)
{
        if (m->disabled_by != DISABLED_BY_BREAKER)
                return SVC_DISABLED;
        return act_breaker_to_operator(m, now, r, SVC_DISABLED);
}

static enum svc_state act_disabled_stop(struct fsm *m, usec_t now, struct fsm_result *r)
{
        if (m->disabled_by != DISABLED_BY_BREAKER)
                return SVC_DISABLED;
        return act_breaker_to_operator(m, now, r, SVC_STOPPED);
}

static enum svc_state act_enable(struct fsm *m, usec_t now, struct fsm_result *r)
{
        if (m->disabled_by == DISABLED_BY_BREAKER)
                return act_reset(m, now, r);
        set_reason(m, "enabled by operator");
        return to_loading(m, now, r);
}

static enum svc_state act_restarting_now(struct fsm *m, usec_t now, struct fsm_result *r)
{
        set_reason(m, "restart requested");
        return to_loading(m, now, r);
}

static enum svc_state act_restarting_timer(struct fsm *m, usec_t now, struct fsm_result *r)
{
        return to_loading(m, now, r);
}

static enum svc_state act_loading_exitless_stop(struct fsm *m, usec_t now, struct fsm_result *r)
{
        return to_stopped(m, now, r);
}

static const fsm_action fsm_table[_SVC_STATE_N][_SVC_EVENT_N] = {
        [SVC_LOADING] = {
                [EV_START] = act_start,           [EV_DEPS_READY] = act_spawn,
                [EV_STOP] = act_loading_exitless_stop, [EV_RESTART] = act_start,
                [EV_DISABLE] = to_disabled,       [EV_RESET] = act_reset_up,
        },
        [SVC_STARTING] = {
                [EV_READY] = act_ready,           [EV_EXIT] = fsm_on_exit,
                [EV_STOP] = act_stop,             [EV_RESTART] = act_restart,
                [EV_TIMER] = act_readiness_timeout, [EV_LIMIT] = act_limit,
                [EV_DISABLE] = act_disable_running, [EV_RESET] = act_reset_up,
                [EV_FAULT] = act_fault,
        },
        [SVC_RUNNING] = {
                [EV_EXIT] = fsm_on_exit,          [EV_STOP] = act_stop,
                [EV_RESTART] = act_restart,       [EV_TIMER] = act_stable,
                [EV_HEALTH_FAIL] = act_health_fail, [EV_LIMIT] = act_limit,
                [EV_DISABLE] = act_disable_running, [EV_RESET] = act_reset_up,
        },
        [SVC_STOPPING] = {
                [EV_EXIT] = act_exit_stopping,    [EV_TIMER] = act_stop_timeout,
                [EV_STOP] = act_stopping_stop,    [EV_START] = act_stopping_start,
                [EV_RESTART] = act_stopping_start, [EV_DISABLE] = act_stopping_disable,
        },
        [SVC_STOPPED] = {
                [EV_START] = act_start,           [EV_RESTART] = act_start,
                [EV_DISABLE] = to_disabled,       [EV_RESET] = act_reset,
        },
        [SVC_RESTARTING] = {
                [EV_TIMER] = act_restarting_timer, [EV_START] = act_restarting_now,
                [EV_RESTART] = act_restarting_now, [EV_STOP] = to_stopped,
                [EV_DISABLE] = to_disabled,       [EV_RESET] = act_reset,
        },
        [SVC_FAILED] = {
                [EV_START] = act_start_fresh,     [EV_RESTART] = act_start_fresh,
                [EV_DISABLE] = to_disabled,       [EV_RESET] = act_reset,
        },
        [SVC_DISABLED] = {
                [EV_ENABLE] = act_enable,         [EV_TIMER] = act_cooldown_over,
                [EV_RESET] = act_reset,           [EV_DISABLE] = act_disabled_disable,
                [EV_STOP] = act_disabled_stop,
        },
};

int fsm_init(struct fsm *m, const struct manifest *spec, usec_t now, uint32_t seed)
{
        *m = (struct fsm){
                .spec = spec,
                .state = SVC_LOADING,
                .deadline = USEC_INFINITY,
                .since = now,
                .rng = seed,
        };
        return crash_window_init(&m->crashes, spec->breaker.crashes);
}

void fsm_deinit(struct fsm *m)
{
        crash_window_deinit(&m->crashes);
}

struct fsm_result fsm_event(struct fsm *m, enum svc_event ev, usec_t now)
{
        struct fsm_result r = {.from = m->state, .to = m->state};
        fsm_action act = ev < _SVC_EVENT_N ? fsm_table[m->state][ev] : NULL;

        if (!act)
                return r;
        r.is_handled = true;
        r.to = act(m, now, &r);
        if (r.to != m->state)
                m->since = now;
        m->state = r.to;
#ifdef ORBITAL_TEST
        assert_fsm_ok(m);
#endif
        return r;
}

struct fsm_result fsm_exit(struct fsm *m, int code, int signal, usec_t now)
{
        m->exit_code = code;
        m->exit_signal = signal;
        return fsm_event(m, EV_EXIT, now);
}

struct fsm_result fsm_limit(struct fsm *m, const char *which, usec_t now)
{
        if (m->state != SVC_STARTING && m->state != SVC_RUNNING)
                return (struct fsm_result){.from = m->state, .to = m->state};
        snprintf(m->pending, sizeof(m->pending), "limit:%s", which);
        return fsm_event(m, EV_LIMIT, now);
}

#ifdef ORBITAL_TEST
void assert_fsm_ok(const struct fsm *m)
{
        bool has_deadline = m->deadline != USEC_INFINITY;

        assert(m->state < _SVC_STATE_N);
        switch (m->state) {
        case SVC_LOADING:
                assert(!has_deadline);
                break;
        case SVC_STOPPED:
        case SVC_FAILED:
                assert(!has_deadline);
                assert(!m->want_up);
                break;
        case SVC_RESTARTING:
                assert(has_deadline && m->want_up);
                break;
        case SVC_DISABLED:
                assert(!m->want_up);
                assert(has_deadline == (m->disabled_by == DISABLED_BY_BREAKER));
                break;
        default:
                break;
        }
        assert((m->breaker == BREAKER_OPEN) == (m->state == SVC_DISABLED && m->disabled_by == DISABLED_BY_BREAKER));
        assert(m->crashes.n <= m->crashes.cap);
        if (m->spec->restart == RESTART_LIMITED)
                assert(m->attempt <= m->spec->restart_limit);
}
#endif
