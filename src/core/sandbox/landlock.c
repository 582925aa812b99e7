/*
 * Landlock: the filesystem half of a service's sandbox (see sandbox.h).
 *
 * The parent builds one ruleset per spawn: it probes the kernel's ABI,
 * handles every filesystem right that ABI knows, and adds one
 * path-beneath rule per tree the manifest allows.  Anything not below a
 * rule is denied, to root as well: Landlock does not look at uids or
 * capabilities.  The child, on the descriptor spawn.c staged for it, adds
 * the system rules as its own mounts show them (landlock_plan_apply() says
 * why) and calls landlock_restrict_self().
 *
 * The model (docs/sandbox.md):
 *   - read and execute below the system directories and spec->read_only;
 *   - everything below spec->read_write and /tmp;
 *   - read and write (and device ioctls) on the harmless character
 *     devices: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom.
 *     Not /dev/tty: a service has no controlling terminal to talk to.
 *
 * Network rights (LANDLOCK_ACCESS_NET_*, ABI 4) are deliberately not
 * handled: which sockets a service may open is the seccomp filter's job
 * (seccomp.c), and handling them here would also need port rules the
 * manifest has no words for.  Scoping (ABI 6) is not used either: abstract
 * unix sockets are private to the service's network namespace unless it
 * asks for the host's network, and signals to other uids need the
 * CAP_KILL a manifest must ask for.
 *
 * Descriptors opened before landlock_restrict_self() keep working, so the
 * log pipes and the bus socket spawn.c hands over are unaffected.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "util/cleanup.h"

/* Our build headers may predate the rights the running kernel knows. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1) /* ABI 7 */
#endif

/* The 13 rights of ABI 1. */
#define ACCESS_FS_ABI1                                                                                         \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |           \
         LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |        \
         LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |            \
         LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |         \
         LANDLOCK_ACCESS_FS_MAKE_SYM)

#define ACCESS_FS_ALL                                                                                          \
        (ACCESS_FS_ABI1 | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define ACCESS_FS_READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

#define ACCESS_FS_DEVICE                                                                                       \
        (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* The only rights the kernel accepts in a rule on a non-directory. */
#define ACCESS_FS_FILE                                                                                         \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |           \
         LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/*
 * The system's part of every ruleset, added by the child (see
 * landlock_plan_apply()).  Missing paths are skipped: /lib32 and /libx32
 * exist on few systems.
 */
struct system_rule {
        const char *path;
        __u64 access;
};

static const struct system_rule system_rules[] = {
        {"/usr", ACCESS_FS_READ},
        {"/bin", ACCESS_FS_READ},
        {"/sbin", ACCESS_FS_READ},
        {"/lib", ACCESS_FS_READ},
        {"/lib32", ACCESS_FS_READ},
        {"/lib64", ACCESS_FS_READ},
        {"/libx32", ACCESS_FS_READ},
        {"/etc", ACCESS_FS_READ},
        {"/opt", ACCESS_FS_READ},
        {"/dev", ACCESS_FS_READ},
        {"/proc", ACCESS_FS_READ},
        {"/sys", ACCESS_FS_READ},
        {"/run", ACCESS_FS_READ},
        {"/tmp", ACCESS_FS_ALL},
        {"/dev/null", ACCESS_FS_DEVICE},
        {"/dev/zero", ACCESS_FS_DEVICE},
        {"/dev/full", ACCESS_FS_DEVICE},
        {"/dev/random", ACCESS_FS_DEVICE},
        {"/dev/urandom", ACCESS_FS_DEVICE},
        {NULL, 0},
};

/* What a ruleset under construction needs to add a rule and explain a failure. */
struct ruleset_ctx {
        int fd;                  /* the ruleset */
        __u64 handled;           /* handled_access_fs */
        char *why;               /* borrowed, may be NULL */
        size_t why_size;
};

static int landlock_abi(void)
{
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

        /* ENOSYS: not built in; EOPNOTSUPP: not enabled at boot (lsm=). */
        return abi < 0 ? 0 : (int)abi;
}

/* Every right @abi knows, masked as in the kernel's documentation example:
 * a kernel refuses a ruleset that handles a right it does not know. */
static __u64 landlock_handled_fs(int abi)
{
        __u64 handled = ACCESS_FS_ALL;

        switch (abi) {
        case 1:
                handled &= ~LANDLOCK_ACCESS_FS_REFER;
                __attribute__((fallthrough));
        case 2:
                handled &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
                __attribute__((fallthrough));
        case 3:
        case 4:
                handled &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
                break;
        default:
                break;
        }
        return handled;
}

/* Explain @r (a -errno taken before snprintf() could change errno). */
static int ruleset_fail(const struct ruleset_ctx *ctx, const char *what, const char *path, int r)
{
        snprintf(ctx->why, ctx->why_size, "%s %s: %s", what, path, strerror(-r));
        return r;
}

/*
 * rule_add() - allow @access, as far as @handled goes, below @path.
 *
 * Raw system calls only: the child calls it too.
 *
 * Return: 0; -ENOENT if @path does not exist (also when a component is a
 * file: ENOTDIR); -errno of open(2), fstat(2) or landlock_add_rule(2).
 */
static int rule_add(int ruleset_fd, const char *path, __u64 access, __u64 handled)
{
        _cleanup_close_ int fd = -1;
        struct landlock_path_beneath_attr rule;
        struct stat st;

        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR ? -ENOENT : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* A rule on a file (or device) carries file rights only, or the
         * kernel refuses it with EINVAL. */
        if (!S_ISDIR(st.st_mode))
                access &= ACCESS_FS_FILE;
        rule = (struct landlock_path_beneath_attr){.allowed_access = access & handled, .parent_fd = fd};
        if (!rule.allowed_access)
                return 0; /* the kernel refuses an empty rule (ENOMSG) */
        if (syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
                return -errno;
        return 0;
}

/*
 * rules_add_system() - add system_rules[] as this process sees them.
 * @failed: set to the path on failure.
 *
 * A path that is missing, or that this uid cannot even look up (so a rule
 * could not help it), is skipped.
 *
 * Return: 0, -errno of rule_add().
 */
static int rules_add_system(int ruleset_fd, __u64 handled, const char **failed)
{
        for (const struct system_rule *s = system_rules; s->path; s++) {
                int r = rule_add(ruleset_fd, s->path, s->access, handled);

                if (r < 0 && r != -ENOENT && r != -EACCES) {
                        *failed = s->path;
                        return r;
                }
        }
        return 0;
}

/* The manifest's paths must exist: a typo would otherwise hide a tree
 * from the service without a word. */
static int rules_add_spec(const struct ruleset_ctx *ctx, char *const *paths, __u64 access)
{
        int r;

        for (; *paths; paths++) {
                if ((*paths)[0] != '/') {
                        snprintf(ctx->why, ctx->why_size, "sandbox path %s is not absolute", *paths);
                        return -EINVAL;
                }
                r = rule_add(ctx->fd, *paths, access, ctx->handled);
                if (r == -ENOENT) {
                        snprintf(ctx->why, ctx->why_size, "sandbox path %s does not exist", *paths);
                        return r;
                }
                if (r < 0)
                        return ruleset_fail(ctx, "unable to add a Landlock rule for", *paths, r);
        }
        return 0;
}

/* The manifest's part only: the child adds system_rules[] as its own
 * mounts show them (landlock_plan_apply()), so adding them here as well
 * would only double the cost of every spawn. */
static int ruleset_fill(const struct ruleset_ctx *ctx, const struct sandbox_spec *spec, const char *program)
{
        int r;

        r = rules_add_spec(ctx, spec->read_only, ACCESS_FS_READ);
        if (r < 0)
                return r;
        r = rules_add_spec(ctx, spec->read_write, ACCESS_FS_ALL);
        if (r < 0 || !program)
                return r;
        /* The service's own program, wherever it lives (read and execute). */
        r = rule_add(ctx->fd, program, ACCESS_FS_READ, ctx->handled);
        return r < 0 ? ruleset_fail(ctx, "unable to add a Landlock rule for", program, r) : 0;
}

/**
 * landlock_plan_build() - the ruleset for @spec (see sandbox.h for the model).
 * @spec: the service's sandbox; when disabled the plan is empty.
 * @program: the service's executable, allowed to be read and executed
 * wherever it is; NULL for none.
 * @out: the plan; ruleset_fd is -1 unless 0 is returned for an enabled
 * sandbox, so landlock_plan_free() is always safe.
 * @why: on failure, a sentence for the operator (may be NULL).
 * @why_size: its size.
 *
 * Return: 0; -EOPNOTSUPP when the kernel has no Landlock (@out->abi 0);
 * -ENOENT when a path of @spec does not exist; -EINVAL when one is not
 * absolute; -errno from open(2) or the Landlock calls.
 */
int landlock_plan_build(const struct sandbox_spec *spec, const char *program, struct landlock_plan *out, char *why,
                        size_t why_size)
{
        _cleanup_close_ int fd = -1;
        struct landlock_ruleset_attr attr;
        struct ruleset_ctx ctx;
        int r;

        if (!why)
                why_size = 0;
        *out = (struct landlock_plan){.ruleset_fd = -1, .abi = landlock_abi()};
        if (!spec->enabled)
                return 0;
        if (out->abi == 0) {
                snprintf(why, why_size, "this kernel has no Landlock (not enforced)");
                return -EOPNOTSUPP;
        }
        attr = (struct landlock_ruleset_attr){.handled_access_fs = landlock_handled_fs(out->abi)};
        fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
        if (fd < 0) {
                r = -errno;
                snprintf(why, why_size, "unable to create a Landlock ruleset: %s", strerror(-r));
                return r;
        }
        ctx = (struct ruleset_ctx){.fd = fd, .handled = attr.handled_access_fs, .why = why, .why_size = why_size};
        r = ruleset_fill(&ctx, spec, program);
        if (r < 0)
                return r;
        out->ruleset_fd = take_fd(fd);
        return 0;
}

/**
 * landlock_plan_free() - close the ruleset; @p may be freed again.
 * @p: the plan.
 */
void landlock_plan_free(struct landlock_plan *p)
{
        p->ruleset_fd = safe_close(p->ruleset_fd);
}

/**
 * landlock_plan_apply() - child: enforce the ruleset on this process.
 * @p: the plan (only read: the memory is the parent's).
 * @fd_in_child: where spawn.c staged @p->ruleset_fd in the child; closed
 * here either way, so it does not leak into the service.
 *
 * The system rules are added here, as the child's mount namespace shows
 * them: a rule sits on an inode, and Landlock ignores a directory that a
 * mount covers, so a rule on the host's /tmp would not reach the private
 * tmpfs mounts.c puts over it (nor any later fresh /proc or /dev).  The
 * manifest's paths need nothing: mounts.c attaches clones of them, the
 * same inodes, which the parent's rules hold.  The ruleset object is the
 * parent's, so it keeps these rules too; it is built for this one spawn,
 * and the inodes are this child's.
 *
 * no_new_privs must be set (or the caller hold CAP_SYS_ADMIN).  Raw system
 * calls only: no allocation, no stdio.
 *
 * Return: 0 (also when there is nothing to apply); -errno of open(2) or
 * landlock_add_rule(2) for a system path; -errno of
 * landlock_restrict_self(2): -EPERM without no_new_privs, -E2BIG when the
 * process already has 16 nested domains.
 */
int landlock_plan_apply(const struct landlock_plan *p, int fd_in_child)
{
        const char *failed = NULL;
        int r;

        if (p->ruleset_fd < 0)
                return 0;
        r = rules_add_system(fd_in_child, landlock_handled_fs(p->abi), &failed);
        /* From ABI 7 the kernel can record denials after an exec (the
         * service's), for audit (violations.c); by default it records
         * only those of the program that restricted itself. */
        if (r >= 0 && syscall(SYS_landlock_restrict_self, fd_in_child,
                              p->abi >= 7 ? LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON : 0) < 0)
                r = -errno;
        close(fd_in_child);
        return r < 0 ? r : 0;
}
