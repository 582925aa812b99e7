/*
 * Resource limits per service through cgroups: v2 where its controllers
 * are enabled, else the v1 memory/pids/cpu hierarchies (hybrid hosts),
 * else nothing here and the spawner falls back to rlimits.  The chosen
 * mode and the reason are logged once at start.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervisor/manifest.h"

enum cgroup_mode {
        CGROUP_NONE, /* rlimits only */
        CGROUP_V1,
        CGROUP_V2,
};

enum cgroup_ctl {
        CG_MEMORY,
        CG_PIDS,
        CG_CPU,
        CG_CPUACCT, /* v1 only: CPU usage lives in its own hierarchy */
        _CG_N,
};

struct cgroup_root {
        enum cgroup_mode mode;
        char *base[_CG_N];  /* owned: our directory per controller (v2: all same) */
        bool has[_CG_N];    /* controller usable */
        char reason[256];   /* why this mode, for the log and `orbctl status` */
};

/* One service's cgroup directories. */
struct cgroup {
        enum cgroup_mode mode;
        char *dir[_CG_N];   /* owned; NULL where the controller is missing;
                               v2: every entry is the same one directory */
        uint64_t oom_kills; /* memory OOM kills seen at the last check */
        bool has_oom_watch; /* registered with the supervisor's eventfd */
        bool is_created;    /* directories made and limits written */
        uint64_t pids_max_events;
};

/*
 * cgroup_root_init() - detect what this host offers and create our own
 * directory (named @name) under the cgroup orbitald runs in.
 * @want: CGROUP_V2/V1 to force a mode (tests), CGROUP_NONE to disable,
 *        or -1 for automatic detection.
 * Never fails hard: falls back to CGROUP_NONE with a reason.
 */
void cgroup_root_init(struct cgroup_root *root, const char *name, int want);

/*
 * cgroup_favor_dynmods() - turn on the kernel's "favordynmods" mode on the
 * cgroup2 mount (pure v2, or the v2 mount of a hybrid host).  Without it,
 * moving a task into a cgroup waits for an RCU grace period (7-15 ms
 * measured here), which dominates restart latency; with it, migrations are
 * cheap and forks and exits cost slightly more, host-wide.  On recent
 * kernels it cannot be turned off again until reboot, so orbitald only
 * does this when asked (--cgroup-favordynmods).
 * Return: 0 (already on, or turned on), -ENOENT (no cgroup2 mount), -errno.
 */
int cgroup_favor_dynmods(void);
void cgroup_root_deinit(struct cgroup_root *root);
const char *cgroup_mode_name(enum cgroup_mode m);

/* Creates (or reuses) the service's cgroup and writes its limits, once:
 * later calls return 0 at once, so respawns cost nothing here.
 * Return: 0, -errno (the caller logs and runs the service with rlimits). */
int cgroup_create(const struct cgroup_root *root, struct cgroup *cg, const char *service,
                  const struct limits_spec *limits);
/* Removes the directories (they must be empty) and frees the paths. */
void cgroup_destroy(struct cgroup *cg);

/* In the forked child: move the calling process in.  Async-signal-safe. */
int cgroup_enter_self(const struct cgroup *cg);

/* SIGKILLs every process in the service's cgroup. Return: how many. */
unsigned cgroup_kill_all(const struct cgroup *cg);
/* Number of processes still in it (0 if no cgroup). */
unsigned cgroup_count(const struct cgroup *cg);

/* If the memory controller OOM-killed something since the last call,
 * returns true.  Same for pids.max refusals.  Updates the counters. */
bool cgroup_check_oom(struct cgroup *cg);
bool cgroup_check_pids_max(struct cgroup *cg);

/*
 * cgroup_oom_watch() - make @eventfd readable whenever the memory
 * controller hits its limit in the service's cgroup (v1:
 * cgroup.event_control + memory.oom_control).  One eventfd can watch
 * every service; the registration lasts as long as the cgroup.
 * Return: 0, -EOPNOTSUPP (v2 or no memory controller), -errno.
 */
int cgroup_oom_watch(struct cgroup *cg, int eventfd);

struct cgroup_usage {
        int64_t memory;     /* bytes, -1 unknown */
        int64_t memory_max; /* bytes, -1 unlimited/unknown */
        int64_t pids;
        int64_t pids_max;
        int64_t cpu_usec;   /* total CPU time used */
};

void cgroup_usage(const struct cgroup *cg, struct cgroup_usage *u);
