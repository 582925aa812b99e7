/*
 * The sandbox a service is spawned into (issue 4, docs/sandbox.md).
 *
 * The manifest's `sandbox:` section becomes a struct sandbox_spec.  Before
 * each spawn the parent (orbitald) compiles it into plans -- a seccomp BPF
 * program, a Landlock ruleset descriptor, a capability set -- doing all
 * allocation, name resolution and kernel probing there.  The child, which
 * shares orbitald's memory until it execs (spawn.c), only applies them
 * with raw system calls: the *_apply() functions allocate nothing, touch
 * no stdio and return -errno.
 *
 * Order in the child (spawn.c): namespaces (clone flags) -> mounts ->
 * capability bounding set -> ids -> kept capabilities (ambient) ->
 * no_new_privs -> Landlock -> seccomp (last: the set-up calls above are
 * not in the filter's way) -> execve.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sandbox_action {
        SANDBOX_EPERM, /* the call fails with EPERM (default) */
        SANDBOX_KILL,  /* the process is killed (SIGSYS) */
};

struct sandbox_spec {
        bool enabled;            /* false: `sandbox: off` */
        char **read_only;        /* owned absolute paths, NULL-terminated, never NULL */
        char **read_write;       /* owned absolute paths, NULL-terminated, never NULL */
        char **syscalls_allow;   /* owned names: allowed even if denied by default */
        char **syscalls_deny;    /* owned names: denied in addition */
        enum sandbox_action on_violation;
};

/* ---- the filesystem view (mounts.c) ---- */

/*
 * sandbox_mounts_apply() - child, in a new mount namespace, still root:
 * the system read-only and nosuid, a private /tmp (tmpfs), with
 * @has_pid_ns a fresh /proc (the caller is in its new PID namespace),
 * @s's paths mounted back read-only or read-write, and the @implicit
 * paths (NULL-terminated or NULL: the service's executable, its notify
 * socket) read-only where the private /tmp hid them.  *@failed_path names
 * what failed.
 * Return: 0, -errno.
 */
int sandbox_mounts_apply(const struct sandbox_spec *s, bool has_pid_ns, const char *const *implicit,
                         const char **failed_path);

/* ---- seccomp (seccomp.c) ---- */

struct seccomp_plan {
        void *filter;            /* owned struct sock_filter array */
        unsigned short len;      /* instructions */
        void *quiet_filter;      /* owned: clone3() -> ENOSYS, not logged */
        unsigned short quiet_len;
};

/*
 * seccomp_plan_build() - the filter for @spec: the default deny list
 * (ptrace, mount, kexec, module loading, bpf, perf, keyctl, ...; see
 * seccomp.c), minus @spec->syscalls_allow, plus @spec->syscalls_deny;
 * without @has_network, socket() of any family but AF_UNIX.  The action
 * is @spec->on_violation.  Unknown syscall names are refused with @why.
 * Return: 0, -EINVAL (@why says which name), -ENOMEM, -errno.
 */
int seccomp_plan_build(const struct sandbox_spec *spec, bool has_network, struct seccomp_plan *out, char *why,
                       size_t why_size);
void seccomp_plan_free(struct seccomp_plan *p);
/* Child: load it (SECCOMP_FILTER_FLAG_LOG: violations reach the kernel log). */
int seccomp_plan_apply(const struct seccomp_plan *p);
/* The default deny list, for `orbctl check` and the docs. */
extern const char *const seccomp_default_deny[];

/* A seccomp violation as the kernel logs it (audit type 1326 in /dev/kmsg). */
struct seccomp_event {
        int pid;
        int syscall_nr;
        char syscall[32];        /* name, or "#N" */
        char comm[32];
        unsigned action;         /* SECCOMP_RET_* of the code= field */
};
/* Return: true if @line is a seccomp record (then *@ev is filled). */
bool seccomp_event_parse(const char *line, size_t len, struct seccomp_event *ev);
/* The name of system call @nr of this architecture, or "#N". */
void seccomp_syscall_name(int nr, char *out, size_t n);


/* ---- Landlock (landlock.c) ---- */

struct landlock_plan {
        int ruleset_fd;          /* -1: nothing to apply */
        int abi;                 /* the kernel's Landlock ABI, 0 if none */
};

/*
 * landlock_plan_build() - a ruleset allowing reads (and execution) below
 * the system directories (/usr /bin /sbin /lib /lib64 /etc /opt /dev /proc
 * /sys /run), @spec->read_only and @program (the service's executable,
 * or NULL), and everything below
 * @spec->read_write and /tmp; nothing else.
 * Return: 0; -EOPNOTSUPP when the kernel has no Landlock (plan->abi 0,
 * @why says so); -errno.
 */
int landlock_plan_build(const struct sandbox_spec *spec, const char *program, struct landlock_plan *out, char *why,
                        size_t why_size);
void landlock_plan_free(struct landlock_plan *p);
/* Child: landlock_restrict_self() (no_new_privs must be set). */
int landlock_plan_apply(const struct landlock_plan *p, int fd_in_child);

/* ---- Linux capabilities (caps.c) ---- */

struct caps_plan {
        uint64_t keep;           /* CAP_* bits the service keeps */
};

/* Named permission -> capability, e.g. net.configure -> CAP_NET_ADMIN. */
struct caps_mapping {
        const char *permission;
        int cap;
        const char *cap_name;
};
extern const struct caps_mapping caps_mappings[];

/* From the manifest's capabilities (permissions without a mapping keep
 * nothing).  Return: 0. */
int caps_plan_build(char *const *capabilities, struct caps_plan *out);
/* Child, still root: drop every other capability from the bounding set;
 * keep the permitted set across the uid change if anything is kept. */
int caps_plan_apply_before_ids(const struct caps_plan *p);
/* Child, after the uid change: exactly @keep in the permitted, effective,
 * inheritable and ambient sets (so they survive execve), or nothing. */
int caps_plan_apply_after_ids(const struct caps_plan *p);

/* ---- the plans of one spawn (sandbox.c) ---- */

#include <sys/types.h>

#define SANDBOX_UID_BASE 61184u /* dynamic ids: BASE + hash(name) % COUNT */
#define SANDBOX_UID_COUNT 4096u

struct manifest;

/* What a spawn applies, and what it could not: shown by orbctl. */
struct sandbox_report {
        bool is_root;            /* orbitald can use namespaces, mounts, ids */
        bool has_network;        /* a net.* / iface.* permission was declared */
        int unshare_flags;       /* CLONE_NEW* entered (CLONE_NEWPID: under orb-init) */
        bool has_dynamic_ids;
        uid_t uid;
        gid_t gid;
        uint64_t caps_keep;
        int landlock_abi;        /* 0: not enforced */
        unsigned n_denied;       /* system calls the filter refuses */
        char warnings[4][160];   /* what is not enforced, and why */
        unsigned n_warnings;
};

struct sandbox_plans {
        struct caps_plan caps;
        struct landlock_plan landlock;
        struct seccomp_plan seccomp;
        bool has_landlock, has_seccomp;
        bool is_seccomp_borrowed; /* the caller's cached filter: not freed here */
        struct sandbox_report report;
};

/*
 * sandbox_plans_build() - everything the child will apply for @m (whose
 * sandbox is enabled).  @is_root: orbitald's euid is 0.  @has_init:
 * orb-init was found (sandbox_init_open), so a PID namespace can have
 * its PID 1.  @program: the resolved executable, readable and executable
 * in the sandbox whatever the declared paths (NULL: none).  @cached: the
 * seccomp filter of an earlier build for this same manifest, or NULL (the
 * filter depends on the manifest only; compiling it is a third of a
 * millisecond, worth saving on every restart).
 * Return: 0; -EINVAL, -ENOENT with @why (a bad syscall name, a missing
 * path); -errno.  Missing kernel features are not errors: the report's
 * warnings say what is not enforced.
 */
int sandbox_plans_build(const struct manifest *m, bool is_root, bool has_init, const char *program,
                        const struct seccomp_plan *cached, struct sandbox_plans *out, char *why, size_t why_size);

/*
 * sandbox_init_open() - an O_PATH descriptor of orb-init (orb-init.c),
 * the PID 1 of each service's PID namespace, installed beside orbitald's
 * own executable.  Return: the descriptor, -errno (@why says where it
 * was looked for).
 */
int sandbox_init_open(char *why, size_t why_size);
void sandbox_plans_free(struct sandbox_plans *p);

/* The effective sandbox as JSON (for orbctl sandbox and check). */
#include <jansson.h>
json_t *sandbox_report_json(const struct manifest *m, const struct sandbox_report *r);
