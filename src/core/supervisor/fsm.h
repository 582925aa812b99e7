/*
 * The lifecycle of one service as a table of state x event.  The state
 * machine decides; it never acts.  Each event returns a set of effects
 * (spawn, signal, kill, ...) and a deadline for the machine's one timer,
 * which the supervisor carries out.  Time is passed in, so every
 * transition is testable without sleeping.  States, transitions and the
 * reasons behind them: docs/architecture.md, "Lifecycle".
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "supervisor/manifest.h"
#include "supervisor/policy.h"

/* Both seed vocabularies: seed 003 Loading/Running/Stopped/Faulted,
 * seed 004 Starting/Running/Failed/Restarting/Disabled. */
enum svc_state {
        SVC_LOADING,    /* declared; waiting for its dependencies */
        SVC_STARTING,   /* spawned; waiting for readiness */
        SVC_RUNNING,    /* ready */
        SVC_STOPPING,   /* stop signal sent; waiting for exit */
        SVC_STOPPED,    /* down, not wanted up */
        SVC_RESTARTING, /* died; waiting out the backoff delay */
        SVC_FAILED,     /* "faulted": gave up; only an operator restarts it */
        SVC_DISABLED,   /* by the operator, or by the open breaker */
        _SVC_STATE_N,
};

enum svc_event {
        EV_START,       /* operator start, or boot */
        EV_DEPS_READY,  /* every `requires` is running */
        EV_READY,       /* readiness reported */
        EV_EXIT,        /* main process gone; see fsm_exit() */
        EV_STOP,        /* operator stop, or shutdown */
        EV_RESTART,     /* operator restart */
        EV_TIMER,       /* the machine's deadline passed */
        EV_HEALTH_FAIL, /* health check failed `failures` times */
        EV_LIMIT,       /* a resource limit was violated; see fsm_limit() */
        EV_DISABLE,
        EV_ENABLE,
        EV_RESET,       /* close the breaker, forget failures */
        EV_FAULT,       /* cannot start until the manifest or system is
                           fixed (unknown user): no retry; see fsm.pending */
        _SVC_EVENT_N,
};

enum fsm_effect {
        FX_SPAWN = 1u << 0,        /* start the process now */
        FX_SIGNAL_STOP = 1u << 1,  /* send the stop signal to the main process */
        FX_KILL_ALL = 1u << 2,     /* SIGKILL every process of the service */
        FX_CHECK_DEPS = 1u << 3,   /* deliver EV_DEPS_READY when requires are up */
        FX_HEALTH_START = 1u << 4, /* begin health checks */
        FX_HEALTH_STOP = 1u << 5,  /* cancel health checks */
        FX_DEPENDENTS = 1u << 6,   /* re-check services waiting on this one */
        FX_CRASH_RECORD = 1u << 7, /* keep a crash record (reason, last logs) */
};

enum breaker_state {
        BREAKER_CLOSED,
        BREAKER_OPEN,      /* disabled until the cooldown passes */
        BREAKER_HALF_OPEN, /* one trial run after the cooldown */
};

enum after_stop {
        AFTER_STOP_STOPPED,
        AFTER_STOP_START,   /* operator restart: up again, no failure counted */
        AFTER_STOP_FAIL,    /* health, limit, readiness timeout: a failure */
        AFTER_STOP_DISABLE,
};

enum disabled_by {
        DISABLED_BY_OPERATOR,
        DISABLED_BY_BREAKER,
};

#define FSM_REASON_MAX 192

struct fsm {
        const struct manifest *spec;  /* borrowed; outlives the machine */
        enum svc_state state;
        enum after_stop after_stop;
        enum disabled_by disabled_by;
        enum breaker_state breaker;
        bool want_up;
        usec_t deadline;              /* the one timer; USEC_INFINITY = none */
        usec_t since;                 /* when the state was entered */
        usec_t started_at;            /* last spawn */
        usec_t ready_at;              /* last readiness */
        unsigned restarts;            /* total automatic restarts */
        unsigned attempt;             /* restarts since the last stable run */
        uint32_t rng;                 /* jitter randomness */
        struct crash_window crashes;  /* breaker window */
        char reason[FSM_REASON_MAX];  /* why the last state change happened */
        char pending[FSM_REASON_MAX]; /* failure reason waiting for the exit */
        /* last exit, set by fsm_exit() */
        int exit_code;                /* valid if !exit_signal */
        int exit_signal;
};

/* What one event did: the supervisor acts on it and reports it. */
struct fsm_result {
        bool is_handled;          /* false: the event means nothing here */
        enum svc_state from, to;
        unsigned effects;         /* enum fsm_effect bits */
        bool breaker_changed;
        enum breaker_state breaker;
};

int fsm_init(struct fsm *m, const struct manifest *spec, usec_t now, uint32_t seed);
void fsm_deinit(struct fsm *m);

/* Delivers @ev at @now.  For EV_EXIT and EV_LIMIT use the helpers below. */
struct fsm_result fsm_event(struct fsm *m, enum svc_event ev, usec_t now);
/* EV_EXIT with the exit status (@signal 0 = exited with @code). */
struct fsm_result fsm_exit(struct fsm *m, int code, int signal, usec_t now);
/* EV_LIMIT: @which is "memory", "pids", ... recorded as "limit:<which>". */
struct fsm_result fsm_limit(struct fsm *m, const char *which, usec_t now);

const char *svc_state_name(enum svc_state s);
const char *svc_event_name(enum svc_event e);
const char *breaker_state_name(enum breaker_state b);
static inline bool svc_state_is_up(enum svc_state s)
{
        return s == SVC_STARTING || s == SVC_RUNNING || s == SVC_STOPPING;
}

#ifdef ORBITAL_TEST
/* Checks every invariant of @m; aborts with a message on violation. */
void assert_fsm_ok(const struct fsm *m);
#endif
