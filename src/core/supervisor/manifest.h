/*
 * Service manifests: the declarative description of one service, parsed
 * from YAML into a plain, fully checked struct.  Nothing past this module
 * sees text: the supervisor only reads struct manifest.
 *
 * Format and fields: docs/manifest.md.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/sandbox.h"
#include "util/diag.h"
#include "util/time.h"

#define MANIFEST_NAME_MAX 64
/* Larger input is refused before parsing: a manifest is a page of text. */
#define MANIFEST_SIZE_MAX (1u << 20)

/* Where a value was written in the source; 0 = unknown (defaulted). */
struct manifest_pos {
        unsigned line;   /* 1-based */
        unsigned column; /* 1-based */
};

enum restart_policy {
        RESTART_NEVER,
        RESTART_ALWAYS,
        RESTART_ON_FAILURE,
        RESTART_LIMITED, /* on-failure, at most restart_limit times in a row */
};

enum readiness_kind {
        READINESS_NONE,   /* running as soon as exec succeeded */
        READINESS_NOTIFY, /* READY=1 (sd_notify) or a newline (s6) */
};

enum health_kind {
        HEALTH_NONE,
        HEALTH_COMMAND, /* run argv; exit 0 within timeout = healthy */
};

struct backoff_spec {
        usec_t initial;     /* first restart delay; 0 restarts at once */
        usec_t max;         /* cap */
        unsigned jitter_pc; /* +/- percent of randomness, 0..100 */
        usec_t reset_after; /* a run this long resets the delay */
};

struct breaker_spec {
        unsigned crashes; /* N deaths ...; 0 disables the breaker */
        usec_t window;    /* ... within this window open the breaker */
        usec_t cooldown;  /* open this long before one half-open retry */
};

struct health_spec {
        enum health_kind kind;
        char **argv;       /* owned, NULL-terminated; HEALTH_COMMAND only */
        usec_t interval;   /* between checks while running */
        usec_t timeout;    /* a check running longer has failed */
        unsigned failures; /* consecutive failures that restart it */
        usec_t start_delay;/* first check this long after ready */
};

struct readiness_spec {
        enum readiness_kind kind;
        int fd;         /* fd number the service gets (s6 notification-fd) */
        usec_t timeout; /* not ready by then = failed start; 0 = never */
};

struct stop_spec {
        int signal;     /* sent to the main process first */
        usec_t timeout; /* then SIGKILL of every process of the service */
};

/* Seed 003 defaults: 64 MiB, 16 tasks, 50 % CPU, 256 files. */
#define LIMIT_MEMORY_DEFAULT (64ull << 20)
#define LIMIT_PIDS_DEFAULT 16u
#define LIMIT_CPU_DEFAULT_PC 50u
#define LIMIT_FILES_DEFAULT 256u
#define LIMIT_IPC_RATE_DEFAULT 10000u /* bus messages per second */

struct limits_spec {
        uint64_t memory; /* bytes; 0 = unlimited */
        unsigned pids;   /* processes + threads; 0 = unlimited */
        unsigned cpu_pc; /* percent of one CPU; 0 = unlimited */
        unsigned files;  /* RLIMIT_NOFILE */
        unsigned ipc_rate; /* messages/s to orbitald and on channels; 0 = unlimited */
};

/* What orbitald does when a commit changes a watched configuration path. */
enum config_action {
        CONFIG_RESTART, /* restart the service (default) */
        CONFIG_RELOAD,  /* send it SIGHUP */
};

struct config_binding {
        char **watch;   /* owned configuration paths, NULL-terminated; NULL = none */
        enum config_action on_change;
};

struct env_var {
        char *name;  /* owned */
        char *value; /* owned */
};

struct manifest {
        char name[MANIFEST_NAME_MAX]; /* [a-z0-9][a-z0-9._-]*, unique */
        char *description;            /* owned, may be NULL */
        char *source;                 /* owned: path it was read from */
        char **argv;                  /* owned, NULL-terminated, argv[0] set */
        struct env_var *env;          /* owned array of n_env */
        unsigned n_env;
        char *working_directory;      /* owned, may be NULL */
        char *user;                   /* owned, may be NULL = inherit */
        char *group;                  /* owned, may be NULL */
        char **requires;              /* owned names, NULL-terminated,
                                         never NULL (empty when absent) */
        char **after;                 /* owned names, NULL-terminated,
                                         never NULL (empty when absent) */
        struct manifest_pos name_pos; /* of `name:`'s value; 0 = file stem */
        struct manifest_pos *requires_pos; /* owned, one per requires entry */
        struct manifest_pos *after_pos;    /* owned, one per after entry */
        char **capabilities;          /* owned, NULL-terminated, never NULL;
                                         each passes capspec_parse() */
        enum restart_policy restart;
        unsigned restart_limit;       /* RESTART_LIMITED's n */
        struct backoff_spec backoff;
        struct breaker_spec breaker;
        struct health_spec health;
        struct readiness_spec readiness;
        struct stop_spec stop;
        struct limits_spec limits;
        struct sandbox_spec sandbox;  /* lists owned, never NULL */
        struct config_binding config; /* orb-config subtrees it reacts to */
        bool enabled;                 /* start at boot */
        uint64_t digest;              /* hash of the normalised content:
                                         reload restarts when it changes */
};

/* The name a manifest file gives its service: "dir/web.yaml" -> "web". */
void manifest_file_stem(const char *path, char *buf, size_t n);

/*
 * manifest_parse() - parse one manifest from memory.
 * @text, @len: YAML bytes (need not be NUL-terminated)
 * @source: file name used in diagnostics and kept in ->source
 * @default_name: name used when the manifest has no `name:` (file stem)
 * @out: on success, a new manifest owned by the caller
 * @diag: on MANIFEST_E_INVALID, where and why
 *
 * Return: 0 on success, MANIFEST_E_INVALID on bad input (diag filled),
 * -ENOMEM.
 */
int manifest_parse(const char *text, size_t len, const char *source, const char *default_name,
                   struct manifest **out, struct orb_diag *diag);

/*
 * manifest_load_file() - read @path and parse it; the default name is the
 * file's stem ("web.yaml" -> "web").
 * Return: 0, MANIFEST_E_INVALID (diag filled, also for a file that is not
 * regular or is larger than MANIFEST_SIZE_MAX), -errno when it cannot be
 * opened or read (diag names the file), -ENOMEM.
 */
int manifest_load_file(const char *path, struct manifest **out, struct orb_diag *diag);

struct manifest *manifest_free(struct manifest *m);
static inline void manifest_freep(struct manifest **m)
{
        manifest_free(*m);
}

const char *restart_policy_name(enum restart_policy p);

/* True if @name is a valid service name: [a-z0-9][a-z0-9._-]{0,62}. */
bool manifest_name_valid(const char *name);

enum {
        MANIFEST_E_INVALID = 1,
};
