/*
 * Starting a process: clone (fork under ASan), set the child up (session, descriptors,
 * signals, cgroup, rlimits, ids, directory) and exec.  A failure in the
 * child is written to its stderr (so it lands in the service's log) and
 * ends it with exit code 126 (setup) or 127 (exec).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "supervisor/cgroup.h"
#include "sandbox/sandbox.h"
#include "supervisor/manifest.h"

#define SPAWN_EXIT_SETUP 126
#define SPAWN_EXIT_EXEC 127

struct spawn_req {
        const char *path;           /* borrowed: resolved program (spawn_resolve_command) */
        char *const *argv;          /* borrowed */
        char *const *envp;          /* borrowed */
        const char *cwd;            /* NULL = "/" */
        int stdout_fd, stderr_fd;   /* -1 = /dev/null */
        int notify_fd;              /* -1 = none */
        int notify_target;          /* fd number the child sees it as */
        int bus_fd;                 /* -1 = none: the service's bus connection */
        int bus_target;             /* 3 or 4 (spawn_bus_target) */
        const struct cgroup *cg;    /* NULL = none */
        bool set_ids;               /* switch to uid/gid, clear groups */
        uid_t uid;
        gid_t gid;
        const struct limits_spec *rlimits; /* NULL = none; files always,
                                              memory only if use_rlimit_memory */
        bool use_rlimit_memory;
        /* The sandbox (sandbox.h); NULL = none, and the rest is unused. */
        const struct sandbox_spec *sandbox;
        int unshare_flags;                  /* CLONE_NEW*; CLONE_NEWPID: see pid_ns_fd */
        int pid_ns_fd;                      /* -1, or the PID namespace (of a holder) to
                                               start in; the parent enters it for the clone */
        bool is_pid_holder;                 /* start orb-init (init_fd) as PID 1 of a new
                                               PID namespace, not a service: only the ids,
                                               cgroup and rlimits apply */
        int init_fd;                        /* orb-init (O_PATH) for a holder, else -1 */
        const struct kept_ns *kept;         /* namespaces to join instead of making them, or NULL */
        const char *implicit_paths[3];      /* visible whatever the sandbox declares:
                                               the program, the notify socket; NULL-ended */
        const struct caps_plan *caps;       /* NULL = capabilities untouched */
        const struct landlock_plan *landlock; /* NULL = none */
        const struct seccomp_plan *seccomp; /* NULL = none */
};

/* The fd number a child gets its bus connection at: 3, unless the
 * readiness fd is 3. */
static inline int spawn_bus_target(int notify_target)
{
        return notify_target == 3 ? 4 : 3;
}

/*
 * spawn_init() - reserve descriptors 3..8 for staging children's
 * descriptors.  Call first thing in main(), before anything else opens a
 * descriptor; whatever was inherited at 3..8 is replaced.
 * Return: 0, -errno.
 */
int spawn_init(void);

/* Whether spawn_process() can start a child in another PID namespace
 * (it must be able to come back to its own: /proc/self/ns/pid). */
bool spawn_can_enter_pid_ns(void);

/*
 * spawn_process() - start a process per @req (see spawn.c for how).
 * @pid, @pidfd: the child and a pidfd for it (-1 if the kernel has none).
 * Return: 0, -errno if fork failed.
 */
int spawn_process(const struct spawn_req *req, pid_t *pid, int *pidfd);

/* Resolves a user and group (names or numbers).  Return: 0, -ESRCH if
 * unknown, -errno.  @why gets a message. */
int spawn_resolve_ids(const char *user, const char *group, uid_t *uid, gid_t *gid, char *why, size_t n);

/*
 * spawn_resolve_command() - find @cmd in the PATH of @envp (the service's
 * own environment, not orbitald's), or take it as is if it has a slash.
 * Return: 0 with the path in @out, -ENOENT.
 */
int spawn_resolve_command(const char *cmd, char *const *envp, char *out, size_t n);

/* The first child of @pid (in host numbering), from /proc; 0 if it has
 * none: a holder with none holds nothing a service left behind. */
pid_t spawn_first_child(pid_t pid);

/*
 * The network, IPC and UTS namespaces of a service's last run, kept open
 * so a restart joins them (setns) instead of making new ones and tearing
 * the old ones down: together most of a sandboxed restart's cost.  They
 * hold nothing a restart should lose (a down lo, the service's own SysV
 * objects, its host name).  The mount and PID namespaces are always new.
 */
enum { KEPT_NET, KEPT_IPC, KEPT_UTS, KEPT_N };
struct kept_ns {
        int fd[KEPT_N];                     /* -1: none yet */
};
#define KEPT_NS_INIT {{-1, -1, -1}}

/* A descriptor for @pid's namespace @name ("mnt", "net", ...), or -1. */
int ns_open(pid_t pid, const char *name);

/* Opens those of @pid's namespaces in @flags (CLONE_NEW*) that @k lacks. */
void kept_ns_fill(struct kept_ns *k, pid_t pid, int flags);
/* Closes those not in @flags (all with 0): a reload may drop a namespace. */
void kept_ns_trim(struct kept_ns *k, int flags);

/* Sends @sig through the pidfd when there is one. */
int pidfd_signal(int pidfd, pid_t pid, int sig);
