/*
 * The supervisor: owns every service, spawns and reaps their processes,
 * drives each one's state machine (fsm.h) and carries out its effects in
 * dependency order.  Everything runs on one event loop; nothing blocks.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervisor/cgroup.h"
#include "supervisor/spawn.h"
#include "supervisor/fsm.h"
#include "supervisor/logstore.h"
#include "supervisor/manifest_set.h"
#include "util/burst.h"
#include "util/loop.h"

struct supervisor;
struct service;

/* A child process we wait for; the supervisor reaps by pid. */
struct child {
        pid_t pid;     /* 0 when none */
        int pidfd;     /* signals go through it: no PID-reuse race */
        void (*on_exit)(struct child *c, int code, int signal);
};

#define CHILD_INIT {.pid = 0, .pidfd = -1}

struct health {
        struct loop_timer timer; /* next check, or the running check's timeout */
        struct child check;      /* the running check, if any */
        unsigned failures;       /* consecutive */
        bool is_active;
        bool is_timed_out;       /* the running check passed its timeout */
        unsigned gen;            /* bumped by health_stop(): older checks are stale */
        unsigned check_gen;      /* gen when the running check started */
        char last[96];           /* last result, for status */
};

#define CRASH_RECORDS_MAX 4
#define CRASH_LOG_LINES 5
#define CRASH_LINE_MAX 240 /* bytes kept of each line */

struct crash_record {
        usec_t time;             /* realtime */
        char reason[FSM_REASON_MAX];
        char *last_lines;        /* owned: up to CRASH_LOG_LINES, '\n'-joined */
};

struct service {
        struct supervisor *sup;       /* borrowed back-pointer */
        struct manifest *spec;        /* owned */
        struct manifest *next_spec;   /* owned: applied once down (reload) */
        struct fsm fsm;
        struct loop_timer fsm_timer;
        struct child main;
        pid_t last_pid;               /* the main process before, for records that come late */
        struct burst violations;      /* sandbox refusals reported (main.c) */
        struct child holder;          /* orb-init, PID 1 of the service's PID namespace,
                                         kept across restarts while it holds nothing */
        int holder_pid_ns;            /* that namespace, entered by every spawn; -1 */
        uid_t holder_uid;             /* the ids it runs as: a change needs a new one */
        struct kept_ns kept_ns;       /* namespaces of the last run, joined by the next */
        int mnt_ns_fd;                /* the running instance's mount namespace, held so that
                                         its teardown (an RCU grace period) is not on the
                                         exit path: async_close() drops it afterwards */
        usec_t started_real;          /* realtime of the last spawn */
        int out_fd, err_fd;           /* read ends of the capture pipes */
        struct loop_io out_io, err_io;
        int notify_fd;                /* our end of the readiness socket */
        struct loop_io notify_io;
        struct logstore log;
        struct cgroup cg;
        struct health health;
        struct crash_record crashes[CRASH_RECORDS_MAX]; /* ring */
        unsigned n_crashes;           /* total ever, ring index = n % MAX */
        char status_text[128];        /* sd_notify STATUS=, latest */
        struct sandbox_report sandbox;/* as applied at the last spawn */
        struct seccomp_plan seccomp;  /* owned: compiled once per manifest */
        uint64_t seccomp_digest;      /* of the manifest it was compiled for */
        bool has_sandbox;
        struct service **requires;    /* owned array of borrowed, n_requires */
        unsigned n_requires;
        struct service **after;       /* owned array of borrowed */
        unsigned n_after;
        struct service **dependents;  /* owned: services requiring or after us */
        unsigned n_dependents;
        pid_t last_pgid;              /* session of the last spawn (no cgroup),
                                         0 once that group is gone */
        unsigned apply_depth;         /* nesting of service_apply() */
        bool stop_pending;            /* stop once dependents are down */
        bool is_removed;              /* reload dropped it: free once down */
        bool is_kept;                 /* scratch mark during reload */
        bool is_revived;              /* removed, then added back before down */
        unsigned mark_gen;            /* last start request that visited it */
        struct loop_defer free_defer;
};

enum sup_event_kind {
        SUP_EV_STATE,
        SUP_EV_BREAKER,
        SUP_EV_CRASH,
        SUP_EV_LIMIT,
        SUP_EV_RELOAD,
        SUP_EV_HEALTH,
};

struct sup_event {
        uint64_t seq;
        usec_t time;                  /* realtime */
        enum sup_event_kind kind;
        char service[MANIFEST_NAME_MAX];
        enum svc_state from, to;      /* SUP_EV_STATE */
        char detail[FSM_REASON_MAX + 32];
};

#define SUP_EVENT_RING 256

struct sup_hooks {
        void *ctx;                    /* for on_event and on_log */
        void (*on_event)(void *ctx, const struct sup_event *ev);
        void (*on_log)(void *ctx, const struct service *svc, const struct log_record *rec);
        void *shutdown_ctx;
        void (*on_idle_shutdown)(void *ctx); /* every service down after shutdown */
        void *bus_ctx;                /* for bus_attach and bus_detach */
        /* The bus connection of a service about to start: the child's end
         * (closed after the spawn) or -errno. */
        int (*bus_attach)(void *ctx, struct service *svc);
        void (*bus_detach)(void *ctx, struct service *svc); /* main process gone */
        /* Spawned: the connection's process and user, for CHANNEL_OPEN. */
        void (*bus_spawned)(void *ctx, struct service *svc, pid_t pid, uid_t uid);
};

struct sup_settings {
        const char *manifest_dir;     /* borrowed */
        const char *run_dir;          /* borrowed: notify socket lives here */
        const char *notify_path;      /* borrowed: $NOTIFY_SOCKET for services */
        struct log_settings log;      /* dir borrowed */
        int cgroup_want;              /* -1 auto, or enum cgroup_mode */
        const char *cgroup_name;      /* borrowed */
};

struct supervisor {
        struct loop *loop;            /* borrowed */
        struct sup_settings set;
        struct cgroup_root cgroups;
        int oom_fd;                   /* v1 OOM notifications of every service */
        struct loop_io oom_io;
        struct service **services;    /* owned array, dependency order */
        unsigned n_services;
        struct child **children;      /* borrowed: every live child we reap */
        unsigned n_children, cap_children;
        struct sup_event events[SUP_EVENT_RING];
        uint64_t event_seq;
        struct sup_hooks hooks;
        uint32_t rng;
        unsigned mark_gen;            /* start requests, for visited marks */
        bool is_shutting_down;
        bool is_root;
        int init_fd;                  /* orb-init (O_PATH), -1: no PID namespaces */
};

int sup_init(struct supervisor *sup, struct loop *loop, const struct sup_settings *set);
void sup_deinit(struct supervisor *sup);

/* Loads the manifest directory and starts what is enabled.
 * Return: 0, MANIFEST_E_INVALID (diag), -errno. */
int sup_boot(struct supervisor *sup, struct orb_diag *diag);

struct reload_summary {
        unsigned added, removed, changed, unchanged;
};

/* Re-reads the manifests; restarts only what changed.  All or nothing:
 * on a bad manifest nothing changes.  Return: 0, MANIFEST_E_INVALID, -errno. */
int sup_reload(struct supervisor *sup, struct reload_summary *sum, struct orb_diag *diag);

/* Stops every service in reverse dependency order, then calls
 * hooks.on_idle_shutdown. */
void sup_shutdown(struct supervisor *sup);

struct service *sup_find(const struct supervisor *sup, const char *name);

enum sup_op {
        SUP_OP_START,
        SUP_OP_STOP,
        SUP_OP_RESTART,
        SUP_OP_ENABLE,
        SUP_OP_DISABLE,
        SUP_OP_RESET,
};

enum {
        SUP_E_NOOP = 1, /* the request means nothing in the current state */
};

/* Applies an operator request.  Return: 0, SUP_E_NOOP (explain with the
 * state), -errno. */
int sup_request(struct supervisor *sup, struct service *svc, enum sup_op op);

/* Called by the signalfd handler on SIGCHLD: reaps every exited child. */
void sup_reap(struct supervisor *sup);

/* Children registry (used by service.c and health.c). */
int sup_child_add(struct supervisor *sup, struct child *c);
void sup_child_remove(struct supervisor *sup, struct child *c);

/* Publishes an event to the ring and the hooks. */
__attribute__((format(printf, 4, 5))) void sup_emit(struct supervisor *sup, enum sup_event_kind kind,
                                                    const struct service *svc, const char *fmt, ...);
/* A state-change event from @from to the service's current state. */
void sup_emit_state(struct supervisor *sup, const struct service *svc, enum svc_state from);
/* service.c tells the supervisor a service went down: pending manifest
 * swaps, removals and shutdown progress happen here. */
void sup_service_down(struct supervisor *sup, struct service *svc);
/* Oldest-first iteration over the retained events: i from 0. */
const struct sup_event *sup_event_at(const struct supervisor *sup, unsigned i);
unsigned sup_event_count(const struct supervisor *sup);

/* ---- service.c ---- */

int service_new(struct supervisor *sup, struct manifest *spec, struct service **out);
void service_free(struct service *svc);
/* Delivers an fsm event and carries out what it decided. */
void service_dispatch(struct service *svc, enum svc_event ev);
/* Carries out an already computed fsm result (after fsm_exit/fsm_limit). */
void service_apply(struct service *svc, struct fsm_result r);
/* Stops a stop_pending service once its dependents are down. */
void service_try_stop(struct service *svc);
bool service_deps_satisfied(const struct service *svc, char *why, size_t n);
/* Writes a line into the service's log as stream "orbital". */
__attribute__((format(printf, 2, 3))) void service_log(struct service *svc, const char *fmt, ...);
const char *service_name(const struct service *svc);
/* One notification message: sd_notify "KEY=VALUE" lines, or an s6-style
 * bare newline.  READY=1 or a bare newline means ready; STATUS= is kept. */
void service_notify_message(struct service *svc, const char *msg, size_t len);
/* The service whose main process is @pid (only a live one: the notify
 * socket trusts the answer). */
struct service *sup_find_by_pid(const struct supervisor *sup, pid_t pid);
/* For a kernel record about @pid: the main process, its holder, or the
 * main process before (a record can come after its process is gone). */
struct service *sup_find_by_record_pid(const struct supervisor *sup, pid_t pid);
/* The one sandboxed service with the dynamic uid @uid, or NULL. */
struct service *sup_find_by_uid(const struct supervisor *sup, uid_t uid);
const char *event_kind_name(enum sup_event_kind k);

/* The kernel hit a memory limit somewhere: reclaim the service(s). */
void service_check_oom(struct service *svc);
/* Registers the service's cgroup with the supervisor's OOM eventfd. */
void service_watch_oom(struct service *svc);

/* ---- health.c ---- */
void health_start(struct service *svc);
void health_stop(struct service *svc);
