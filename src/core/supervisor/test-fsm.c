/*
 * Unit test of the lifecycle state machine and the policy arithmetic.
 * Time is a plain variable: no sleeps, every transition deterministic.
 * assert_fsm_ok() runs after every event (ORBITAL_TEST build).
 */
#undef NDEBUG
#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/fsm.h"

#define MS USEC_PER_MSEC
#define S USEC_PER_SEC

static struct manifest spec_default(void)
{
        struct manifest m = {
                .name = "t",
                .restart = RESTART_ON_FAILURE,
                .backoff = {.initial = 100 * MS, .max = 1600 * MS, .jitter_pc = 0, .reset_after = 10 * S},
                .breaker = {.crashes = 5, .window = 60 * S, .cooldown = 30 * S},
                .readiness = {.kind = READINESS_NONE},
                .stop = {.signal = SIGTERM, .timeout = 5 * S},
                .enabled = true,
        };
        return m;
}

/* Brings a machine from LOADING to RUNNING at @now. */
static void bring_up(struct fsm *m, usec_t now)
{
        struct fsm_result r;

        if (m->state != SVC_LOADING || !m->want_up) {
                r = fsm_event(m, EV_START, now);
                assert(r.effects & FX_CHECK_DEPS);
        }
        r = fsm_event(m, EV_DEPS_READY, now);
        assert(r.to == SVC_STARTING && (r.effects & FX_SPAWN));
        r = fsm_event(m, EV_READY, now);
        assert(r.to == SVC_RUNNING && (r.effects & FX_HEALTH_START) && (r.effects & FX_DEPENDENTS));
}

static void test_backoff_arithmetic(void)
{
        struct backoff_spec b = {.initial = 100 * MS, .max = 1 * S, .jitter_pc = 0};

        assert(backoff_delay(&b, 0, 0) == 100 * MS);
        assert(backoff_delay(&b, 1, 0) == 200 * MS);
        assert(backoff_delay(&b, 3, 0) == 800 * MS);
        assert(backoff_delay(&b, 4, 0) == 1 * S); /* capped */
        assert(backoff_delay(&b, 1000, 0) == 1 * S);
        b.jitter_pc = 10;
        assert(backoff_delay(&b, 0, 0) == 90 * MS);           /* -10 % */
        assert(backoff_delay(&b, 0, UINT32_MAX) == 110 * MS); /* +10 % */
        assert(backoff_delay(&b, 10, UINT32_MAX) == 1 * S);   /* jitter never passes the cap */
        for (uint32_t x = 1, i = 0; i < 1000; i++) {
                usec_t d = backoff_delay(&b, 2, rng_next(&x));
                assert(d >= 360 * MS && d <= 440 * MS);
        }
        b.initial = 0;
        assert(backoff_delay(&b, 5, 12345) == 0); /* zero means at once */
}

static void test_crash_window(void)
{
        struct crash_window w;

        assert(crash_window_init(&w, 3) == 0);
        assert(crash_window_add(&w, 1 * S, 10 * S) == 1);
        assert(crash_window_add(&w, 2 * S, 10 * S) == 2);
        assert(crash_window_add(&w, 3 * S, 10 * S) == 3);
        assert(crash_window_add(&w, 4 * S, 10 * S) == 3); /* ring holds 3 */
        assert(crash_window_add(&w, 13 * S, 10 * S) == 2); /* 1..3s left the window */
        crash_window_clear(&w);
        assert(crash_window_add(&w, 14 * S, 10 * S) == 1);
        crash_window_deinit(&w);
}

static void test_start_and_ready(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;

        assert(fsm_init(&m, &spec, 0, 1) == 0);
        assert(m.state == SVC_LOADING && !m.want_up);
        /* deps ready without a start request does nothing */
        r = fsm_event(&m, EV_DEPS_READY, 0);
        assert(r.to == SVC_LOADING && !(r.effects & FX_SPAWN));
        bring_up(&m, 1 * S);
        assert(m.deadline == USEC_INFINITY); /* nothing to reset: no timer */
        /* meaningless events are reported, not acted on */
        r = fsm_event(&m, EV_ENABLE, 2 * S);
        assert(!r.is_handled && m.state == SVC_RUNNING);
        fsm_deinit(&m);
}

static void test_readiness_timeout(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;

        spec.readiness = (struct readiness_spec){.kind = READINESS_NOTIFY, .fd = 3, .timeout = 2 * S};
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        fsm_event(&m, EV_START, 0);
        r = fsm_event(&m, EV_DEPS_READY, 0);
        assert(r.to == SVC_STARTING && m.deadline == 2 * S);
        r = fsm_event(&m, EV_TIMER, 2 * S);
        assert(r.to == SVC_STOPPING && (r.effects & FX_SIGNAL_STOP));
        assert(m.deadline == 7 * S);
        r = fsm_exit(&m, 0, SIGTERM, 3 * S);
        assert(r.to == SVC_RESTARTING && (r.effects & FX_CRASH_RECORD));
        assert(strstr(m.reason, "readiness-timeout"));
        fsm_deinit(&m);
}

static void test_policy_never(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;

        spec.restart = RESTART_NEVER;
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, 0);
        r = fsm_exit(&m, 3, 0, 1 * S);
        assert(r.to == SVC_FAILED && !m.want_up);
        assert(strstr(m.reason, "exit 3"));
        bring_up(&m, 2 * S);
        r = fsm_exit(&m, 0, 0, 3 * S);
        assert(r.to == SVC_STOPPED); /* clean exit is not a failure */
        fsm_deinit(&m);
}

static void test_policy_always_and_on_failure(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;

        spec.restart = RESTART_ALWAYS;
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, 0);
        r = fsm_exit(&m, 0, 0, 1 * S);
        assert(r.to == SVC_RESTARTING && m.deadline == 1 * S + 100 * MS);
        assert(!(r.effects & FX_CRASH_RECORD)); /* exit 0 is no crash */
        fsm_deinit(&m);

        spec.restart = RESTART_ON_FAILURE;
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, 0);
        r = fsm_exit(&m, 0, 0, 1 * S);
        assert(r.to == SVC_STOPPED);
        bring_up(&m, 2 * S);
        r = fsm_exit(&m, 0, SIGSEGV, 3 * S);
        assert(r.to == SVC_RESTARTING && (r.effects & FX_KILL_ALL));
        assert(strstr(m.reason, "signal SEGV"));
        r = fsm_event(&m, EV_TIMER, m.deadline);
        assert(r.to == SVC_LOADING && (r.effects & FX_CHECK_DEPS));
        fsm_deinit(&m);
}

static void test_backoff_grows_and_resets(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        usec_t t = 0, expect[] = {100 * MS, 200 * MS, 400 * MS, 800 * MS};

        spec.breaker.crashes = 0; /* breaker off */
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, t);
        for (unsigned i = 0; i < 4; i++) {
                fsm_exit(&m, 1, 0, t += S);
                assert(m.state == SVC_RESTARTING);
                assert(m.deadline - t == expect[i]);
                fsm_event(&m, EV_TIMER, t = m.deadline);
                bring_up(&m, t);
        }
        /* ready with failures behind it: a stability timer is armed */
        assert(m.deadline == t + spec.backoff.reset_after);
        fsm_event(&m, EV_TIMER, m.deadline);
        assert(m.attempt == 0 && m.deadline == USEC_INFINITY);
        t = t + spec.backoff.reset_after + S;
        fsm_exit(&m, 1, 0, t);
        assert(m.deadline - t == 100 * MS); /* back to the initial delay */
        assert(m.restarts == 5);
        fsm_deinit(&m);
}

static void test_limited_gives_up(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        usec_t t = 0;

        spec.restart = RESTART_LIMITED;
        spec.restart_limit = 2;
        spec.breaker.crashes = 0;
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, t);
        for (int i = 0; i < 2; i++) {
                fsm_exit(&m, 1, 0, t += S);
                assert(m.state == SVC_RESTARTING);
                fsm_event(&m, EV_TIMER, t = m.deadline);
                bring_up(&m, t);
        }
        fsm_exit(&m, 1, 0, t += S);
        assert(m.state == SVC_FAILED);
        assert(strstr(m.reason, "gave up after 2 restarts"));
        /* no timer: it stays failed for good */
        assert(m.deadline == USEC_INFINITY);
        /* an operator start gives it a fresh budget */
        bring_up(&m, t += S);
        fsm_exit(&m, 1, 0, t += S);
        assert(m.state == SVC_RESTARTING);
        fsm_deinit(&m);
}

/* Crash until the breaker opens; returns the time. */
static usec_t crash_until_open(struct fsm *m, usec_t t, struct fsm_result *last)
{
        for (;;) {
                *last = fsm_exit(m, 1, 0, t += 100 * MS);
                if (m->state == SVC_DISABLED)
                        return t;
                assert(m->state == SVC_RESTARTING);
                fsm_event(m, EV_TIMER, t = m->deadline);
                bring_up(m, t);
        }
}

static void test_breaker_trip_half_open_close(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;
        usec_t t = 0;

        spec.backoff.initial = 0;
        spec.backoff.max = 0;
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, t);
        t = crash_until_open(&m, t, &r);
        assert(r.breaker_changed && r.breaker == BREAKER_OPEN);
        assert(m.disabled_by == DISABLED_BY_BREAKER && m.crashes.n == 5);
        assert(strstr(m.reason, "breaker open: 5 deaths within 1m"));
        assert(m.deadline == t + 30 * S);
        /* start is refused while open */
        assert(!fsm_event(&m, EV_START, t).is_handled);
        /* cooldown: half-open trial */
        r = fsm_event(&m, EV_TIMER, t += 30 * S);
        assert(r.to == SVC_LOADING && r.breaker_changed && r.breaker == BREAKER_HALF_OPEN);
        bring_up(&m, t);
        assert(m.deadline == t + spec.backoff.reset_after);
        /* trial dies: open again at once */
        r = fsm_exit(&m, 1, 0, t += S);
        assert(r.to == SVC_DISABLED && r.breaker == BREAKER_OPEN);
        /* next trial survives reset-after: breaker closes */
        fsm_event(&m, EV_TIMER, t = m.deadline);
        bring_up(&m, t);
        r = fsm_event(&m, EV_TIMER, t += spec.backoff.reset_after);
        assert(r.to == SVC_RUNNING && r.breaker_changed && r.breaker == BREAKER_CLOSED);
        assert(m.crashes.n == 0 && m.attempt == 0);
        fsm_deinit(&m);
}

static void test_breaker_reset_by_operator(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;

        spec.backoff.initial = 0;
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, 0);
        crash_until_open(&m, 0, &r);
        r = fsm_event(&m, EV_RESET, 10 * S);
        assert(r.to == SVC_LOADING && r.breaker == BREAKER_CLOSED && m.want_up);
        fsm_deinit(&m);
}

static void test_stop_paths(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;

        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, 0);
        r = fsm_event(&m, EV_STOP, S);
        assert(r.to == SVC_STOPPING && (r.effects & FX_SIGNAL_STOP) && (r.effects & FX_HEALTH_STOP));
        /* stop timeout: kill everything, wait for the exit */
        r = fsm_event(&m, EV_TIMER, 6 * S);
        assert(r.to == SVC_STOPPING && (r.effects & FX_KILL_ALL) && m.deadline == USEC_INFINITY);
        r = fsm_exit(&m, 0, SIGKILL, 6 * S);
        assert(r.to == SVC_STOPPED && !(r.effects & FX_CRASH_RECORD));
        assert(m.restarts == 0);

        /* operator restart does not count as a failure */
        bring_up(&m, 7 * S);
        fsm_event(&m, EV_RESTART, 8 * S);
        r = fsm_exit(&m, 0, SIGTERM, 8 * S);
        assert(r.to == SVC_LOADING && m.want_up && m.attempt == 0);

        /* restart then stop while stopping: ends stopped */
        bring_up(&m, 9 * S);
        fsm_event(&m, EV_RESTART, 9 * S);
        fsm_event(&m, EV_STOP, 9 * S);
        r = fsm_exit(&m, 0, SIGTERM, 9 * S);
        assert(r.to == SVC_STOPPED);

        /* stop during backoff */
        bring_up(&m, 10 * S);
        fsm_exit(&m, 1, 0, 11 * S);
        assert(m.state == SVC_RESTARTING);
        r = fsm_event(&m, EV_STOP, 11 * S);
        assert(r.to == SVC_STOPPED && m.deadline == USEC_INFINITY);
        fsm_deinit(&m);
}

static void test_health_and_limit(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;

        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, 0);
        r = fsm_event(&m, EV_HEALTH_FAIL, S);
        assert(r.to == SVC_STOPPING && (r.effects & FX_SIGNAL_STOP));
        r = fsm_exit(&m, 0, SIGTERM, 2 * S);
        assert(r.to == SVC_RESTARTING && (r.effects & FX_CRASH_RECORD));
        assert(strncmp(m.reason, "health", 6) == 0);

        fsm_event(&m, EV_TIMER, m.deadline);
        bring_up(&m, 3 * S);
        r = fsm_limit(&m, "memory", 4 * S);
        assert(r.to == SVC_STOPPING && (r.effects & FX_KILL_ALL) && !(r.effects & FX_SIGNAL_STOP));
        r = fsm_exit(&m, 0, SIGKILL, 4 * S);
        assert(r.to == SVC_RESTARTING);
        assert(strncmp(m.reason, "limit:memory", 12) == 0);
        /* a limit report for a service that is not up is ignored */
        assert(!fsm_limit(&m, "pids", 5 * S).is_handled);
        fsm_deinit(&m);
}

static void test_disable_enable(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;

        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, 0);
        r = fsm_event(&m, EV_DISABLE, S);
        assert(r.to == SVC_STOPPING);
        r = fsm_exit(&m, 0, SIGTERM, S);
        assert(r.to == SVC_DISABLED && m.disabled_by == DISABLED_BY_OPERATOR && m.deadline == USEC_INFINITY);
        assert(!fsm_event(&m, EV_START, 2 * S).is_handled);
        r = fsm_event(&m, EV_ENABLE, 3 * S);
        assert(r.to == SVC_LOADING && m.want_up);
        fsm_deinit(&m);
}

static void test_fault_and_breaker_operator(void)
{
        struct manifest spec = spec_default();
        struct fsm m;
        struct fsm_result r;

        spec.restart = RESTART_ALWAYS;
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        fsm_event(&m, EV_START, 0);
        fsm_event(&m, EV_DEPS_READY, 0);
        snprintf(m.pending, sizeof(m.pending), "spawn: unknown user 'x'");
        r = fsm_event(&m, EV_FAULT, 0);
        assert(r.to == SVC_FAILED && !m.want_up && m.restarts == 0 && (r.effects & FX_CRASH_RECORD));
        assert(strstr(m.reason, "not retried"));
        fsm_deinit(&m);

        /* an open breaker: disable keeps it down for good, stop stops it */
        spec = spec_default();
        spec.backoff.initial = 0;
        assert(fsm_init(&m, &spec, 0, 1) == 0);
        bring_up(&m, 0);
        crash_until_open(&m, 0, &r);
        r = fsm_event(&m, EV_DISABLE, 10 * S);
        assert(r.to == SVC_DISABLED && m.disabled_by == DISABLED_BY_OPERATOR && m.deadline == USEC_INFINITY);
        assert(r.breaker_changed && m.breaker == BREAKER_CLOSED);
        r = fsm_event(&m, EV_ENABLE, 11 * S);
        assert(r.to == SVC_LOADING);
        bring_up(&m, 11 * S);
        crash_until_open(&m, 11 * S, &r);
        r = fsm_event(&m, EV_STOP, 20 * S);
        assert(r.to == SVC_STOPPED && m.breaker == BREAKER_CLOSED && !m.want_up);
        fsm_deinit(&m);
}

/* Every event in every reachable state keeps the invariants. */
static void test_exhaustive_events(void)
{
        struct manifest spec = spec_default();
        uint32_t seed = 7;

        spec.readiness = (struct readiness_spec){.kind = READINESS_NOTIFY, .fd = 3, .timeout = S};
        for (unsigned round = 0; round < 2000; round++) {
                struct fsm m;
                usec_t t = 0;
                assert(fsm_init(&m, &spec, 0, round) == 0);
                for (unsigned step = 0; step < 40; step++) {
                        enum svc_event ev = (enum svc_event)(rng_next(&seed) % _SVC_EVENT_N);
                        t += rng_next(&seed) % (5 * S);
                        if (ev == EV_EXIT) {
                                if (!svc_state_is_up(m.state))
                                        continue; /* no process, no exit */
                                fsm_exit(&m, (int)(rng_next(&seed) % 2), 0, t);
                        } else if (ev == EV_TIMER) {
                                if (m.deadline == USEC_INFINITY)
                                        continue; /* the supervisor fires only armed timers */
                                fsm_event(&m, ev, t > m.deadline ? t : (t = m.deadline));
                        } else if (ev == EV_LIMIT) {
                                fsm_limit(&m, "memory", t);
                        } else {
                                fsm_event(&m, ev, t);
                        }
                        assert_fsm_ok(&m);
                }
                fsm_deinit(&m);
        }
}

int main(void)
{
        test_backoff_arithmetic();
        test_crash_window();
        test_start_and_ready();
        test_readiness_timeout();
        test_policy_never();
        test_policy_always_and_on_failure();
        test_backoff_grows_and_resets();
        test_limited_gives_up();
        test_breaker_trip_half_open_close();
        test_breaker_reset_by_operator();
        test_stop_paths();
        test_health_and_limit();
        test_disable_enable();
        test_fault_and_breaker_operator();
        test_exhaustive_events();
        printf("test-fsm: ok\n");
        return 0;
}
