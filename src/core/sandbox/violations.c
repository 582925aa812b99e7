/*
 * What the sandboxes refused, from the kernel, attributed to services.
 *
 * The kernel reports a refusal as an audit record: seccomp for a filtered
 * system call (the filter carries SECCOMP_FILTER_FLAG_LOG), Landlock for a
 * path outside the rules (landlock.c asks for records after exec), and,
 * for a failed file operation (a read-only mount, file permissions), the
 * SYSCALL record of an audit rule (so is a fork the pids limit refused, and
 * a setuid program that ran without its privilege).
 * orbitald reads them in one of two ways:
 *
 *  - The audit netlink socket, joined as a read-only multicast listener
 *    (AUDIT_NLGRP_READLOG: it takes nothing from an audit daemon).  When
 *    it is root and no audit daemon is registered, orbitald turns kernel
 *    audit on (Landlock reports nothing while it is off) and installs
 *    five rules, keyed "orbital":
 *        never,task   auid!=ORB_AUDIT_LOGINUID
 *        always,exit  arch=b64 <file calls> exit=-EROFS auid=ORB_AUDIT_LOGINUID
 *        always,exit  arch=b64 <file calls> exit=-EACCES auid=ORB_AUDIT_LOGINUID
 *        always,exit  arch=b64 clone,clone3,fork,vfork exit=-EAGAIN auid=ORB_AUDIT_LOGINUID
 *        always,exit  arch=b64 execve,execveat success=1 auid=ORB_AUDIT_LOGINUID
 *    and takes ORB_AUDIT_LOGINUID as its own loginuid, which every process
 *    it starts inherits and cannot change.  So the services (and only
 *    they: the never rule keeps every other task free of audit's per-call
 *    cost) get an audit context, and their refused file operations a
 *    record.  The rules and the enabled flag are left in place at exit:
 *    another orbitald may rely on them (`auditctl -D -k orbital` removes
 *    the rules).  With an audit daemon registered orbitald changes
 *    nothing and reads what that daemon's configuration produces.
 *  - /dev/kmsg, where the kernel prints audit records when no daemon takes
 *    them: seccomp's only (Landlock is silent while audit is off), and
 *    rate-limited (printk_ratelimit: ~10 per 5 s).
 *
 * A record is attributed by the process's cgroup (or, failing that, the
 * pid): main.c looks the service up.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/violations.h"
#include "util/cleanup.h"
#include "util/log.h"

#ifndef AUDIT_NLGRP_READLOG
#define AUDIT_NLGRP_READLOG 1
#endif

/* How long an event without an end record waits for the rest of it. */
#define EVENT_WAIT_USEC (20 * USEC_PER_MSEC)

/* ---- attribution ---- */

/* The service a pid belongs to, from "N:ctrl:/<cg_name>/<service>" lines. */
static bool service_of_pid(const struct violations *v, int pid, char *out, size_t n)
{
        char path[64], buf[4096], *at;
        ssize_t len;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len <= 0)
                return false;
        buf[len] = '\0';
        at = strstr(buf, v->cg_prefix);
        if (!at)
                return false;
        at += strlen(v->cg_prefix);
        snprintf(out, n, "%.*s", (int)strcspn(at, "/\n"), at);
        return out[0] != '\0';
}

static void emit(void *ctx, const struct violation *ev)
{
        struct violations *v = ctx;
        char service[128];

        /* Every orbitald on the host gets every record: another one's
         * services are in another audit session (each takes its own). */
        if (v->ses >= 0 && ev->ses >= 0 && ev->ses != v->ses)
                return;
        v->report(v->ctx, service_of_pid(v, ev->pid, service, sizeof(service)) ? service : NULL, ev);
}

/* ---- /dev/kmsg ---- */

static void on_kmsg(struct loop_io *io, uint32_t revents)
{
        struct violations *v = container_of(io, struct violations, io);
        char rec[8192];
        struct seccomp_event ev;

        (void)revents;
        for (unsigned i = 0; i < 64; i++) {
                ssize_t n = read(v->fd, rec, sizeof(rec));
                struct violation out = {.uid = -1, .ses = -1};

                if (n < 0 && errno == EPIPE)
                        continue; /* records were overwritten before we read them */
                if (n <= 0)
                        return;
                if (!seccomp_event_parse(rec, (size_t)n, &ev))
                        continue;
                violation_from_seccomp(&out, &ev);
                emit(v, &out);
        }
}

static int kmsg_open(struct violations *v)
{
        int r;

        v->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (v->fd < 0)
                return -errno;
        lseek(v->fd, 0, SEEK_END); /* only what happens from now on */
        r = loop_io_add(v->loop, &v->io, v->fd, EPOLLIN, on_kmsg);
        if (r < 0)
                v->fd = safe_close(v->fd);
        return r;
}

/* ---- the audit netlink socket ---- */

/* The next whole message of the @n bytes at @buf from *@off, or NULL. */
static struct nlmsghdr *nl_next(char *buf, size_t n, size_t *off)
{
        struct nlmsghdr *h = (struct nlmsghdr *)(buf + *off);

        if (*off + NLMSG_HDRLEN > n || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > n - *off)
                return NULL;
        *off += NLMSG_ALIGN(h->nlmsg_len);
        return h;
}

static void arm_expiry(struct violations *v)
{
        if (kaudit_has_pending(&v->assembler) && !loop_timer_is_armed(&v->timer))
                loop_timer_arm(v->loop, &v->timer, loop_now(v->loop) + EVENT_WAIT_USEC);
}

static void on_expiry(struct loop_timer *t)
{
        struct violations *v = container_of(t, struct violations, timer);

        kaudit_expire(&v->assembler, loop_now(v->loop), EVENT_WAIT_USEC);
        arm_expiry(v);
}

static void on_audit(struct loop_io *io, uint32_t revents)
{
        struct violations *v = container_of(io, struct violations, io);
        static char buf[64 << 10] __attribute__((aligned(NLMSG_ALIGNTO)));

        (void)revents;
        for (unsigned i = 0; i < 64; i++) {
                ssize_t n = recv(v->fd, buf, sizeof(buf), 0);
                struct nlmsghdr *h;
                size_t off = 0;

                if (n < 0 && errno == ENOBUFS)
                        continue; /* the kernel dropped records for us; read on */
                if (n <= 0)
                        break;
                while ((h = nl_next(buf, (size_t)n, &off)))
                        kaudit_feed(&v->assembler, h->nlmsg_type, NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN,
                                    loop_now(v->loop));
        }
        arm_expiry(v);
}

/* One request on its own socket; the kernel's acknowledgement, or the
 * reply of type @reply_type copied into @reply.  Return: 0, -errno. */
static int audit_request(int type, const void *data, size_t len, int reply_type, void *reply, size_t reply_len)
{
        _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
        struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
        struct {
                struct nlmsghdr h;
                char data[8192];
        } req = {0};
        char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
        struct timeval tv = {.tv_sec = 1};

        if (fd < 0)
                return -errno;
        if (len > sizeof(req.data))
                return -EINVAL;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        req.h = (struct nlmsghdr){.nlmsg_len = (uint32_t)NLMSG_LENGTH(len), .nlmsg_type = (uint16_t)type,
                                  .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1};
        if (len)
                memcpy(req.data, data, len);
        if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
                return -errno;
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                struct nlmsghdr *h;
                size_t off = 0;

                if (n < 0)
                        return -errno;
                while ((h = nl_next(buf, (size_t)n, &off))) {
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
                                if (err || !reply)
                                        return err;
                        } else if (h->nlmsg_type == reply_type && reply) {
                                size_t got = h->nlmsg_len - NLMSG_HDRLEN;
                                memcpy(reply, NLMSG_DATA(h), got < reply_len ? got : reply_len);
                                return 0;
                        }
                }
        }
}

/* A rule with up to 4 integer fields and the key; @syscalls: -1-ended, or NULL for all. */
struct rule_field {
        uint32_t field, op, value;
};

static int add_rule(uint32_t list, uint32_t action, const int *syscalls, const struct rule_field *f, unsigned nf)
{
        static const char key[] = "orbital";
        size_t len = sizeof(struct audit_rule_data) + sizeof(key) - 1;
        _cleanup_free_ struct audit_rule_data *rule = calloc(1, len);
        unsigned i;
        int r;

        if (!rule)
                return -ENOMEM;
        rule->flags = list;
        rule->action = action;
        for (i = 0; i < AUDIT_BITMASK_SIZE; i++)
                rule->mask[i] = syscalls ? 0 : ~0u;
        for (; syscalls && *syscalls >= 0; syscalls++)
                rule->mask[AUDIT_WORD(*syscalls)] |= AUDIT_BIT(*syscalls);
        for (i = 0; i < nf; i++) {
                rule->fields[i] = f[i].field;
                rule->fieldflags[i] = f[i].op;
                rule->values[i] = f[i].value;
        }
        rule->fields[i] = AUDIT_FILTERKEY;
        rule->fieldflags[i] = AUDIT_EQUAL;
        rule->values[i] = sizeof(key) - 1;
        rule->field_count = i + 1;
        rule->buflen = sizeof(key) - 1;
        memcpy(rule->buf, key, sizeof(key) - 1);
        r = audit_request(AUDIT_ADD_RULE, rule, len, 0, NULL, 0);
        return r == -EEXIST ? 0 : r;
}

/* The file operations a sandbox can refuse with EROFS or EACCES. */
static const int file_calls[] = {
        SYS_open, SYS_openat, SYS_openat2, SYS_creat, SYS_truncate, SYS_mkdir, SYS_mkdirat, SYS_mknod,
        SYS_mknodat, SYS_unlink, SYS_unlinkat, SYS_rmdir, SYS_rename, SYS_renameat, SYS_renameat2, SYS_link,
        SYS_linkat, SYS_symlink, SYS_symlinkat, SYS_chmod, SYS_fchmodat, SYS_chown, SYS_lchown, SYS_fchownat,
        SYS_setxattr, SYS_lsetxattr, SYS_removexattr, SYS_lremovexattr, SYS_utimensat, SYS_utimes, SYS_utime,
        SYS_execve, SYS_execveat, -1,
};

/* A fork the pids limit refuses fails with EAGAIN. */
static const int fork_calls[] = {SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, -1};

/* Every exec that succeeds: its PATH records tell a setuid program run
 * without its privilege (kaudit.c). */
static const int exec_calls[] = {SYS_execve, SYS_execveat, -1};

/* always,exit arch=b64 @calls @field=@value auid=ORB_AUDIT_LOGINUID */
static int add_exit_rule(const int *calls, uint32_t field, uint32_t value)
{
        const struct rule_field f[] = {
                {AUDIT_ARCH, AUDIT_EQUAL, AUDIT_ARCH_X86_64},
                {field, AUDIT_EQUAL, value},
                {AUDIT_LOGINUID, AUDIT_EQUAL, ORB_AUDIT_LOGINUID},
        };

        return add_rule(AUDIT_FILTER_EXIT, AUDIT_ALWAYS, calls, f, 3);
}

static int install_rules(void)
{
        const struct rule_field others = {AUDIT_LOGINUID, AUDIT_NOT_EQUAL, ORB_AUDIT_LOGINUID};
        int r;

        /* "always" here would record every call; unmatched, a task gets
         * the default: a context, recorded only where a rule below says. */
        if ((r = add_rule(AUDIT_FILTER_TASK, AUDIT_NEVER, NULL, &others, 1)) < 0 ||
            (r = add_exit_rule(file_calls, AUDIT_EXIT, (uint32_t)-EROFS)) < 0 ||
            (r = add_exit_rule(file_calls, AUDIT_EXIT, (uint32_t)-EACCES)) < 0 ||
            (r = add_exit_rule(fork_calls, AUDIT_EXIT, (uint32_t)-EAGAIN)) < 0)
                return r;
        return add_exit_rule(exec_calls, AUDIT_SUCCESS, 1);
}

/* Our loginuid, inherited by every process we start. */
static int take_loginuid(void)
{
        char text[16];
        int fd = open("/proc/self/loginuid", O_RDWR | O_CLOEXEC), n, r = 0;

        if (fd < 0)
                return -errno;
        n = snprintf(text, sizeof(text), "%u", ORB_AUDIT_LOGINUID);
        if (write(fd, text, (size_t)n) != n)
                r = -errno;
        close(fd);
        return r;
}

/* Our audit session: taking a loginuid starts a new one, which every
 * service inherits.  -1 if unknown. */
static long long own_session(void)
{
        char buf[32] = "";
        int fd = open("/proc/self/sessionid", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

        if (fd >= 0)
                close(fd);
        return n > 0 ? strtoll(buf, NULL, 10) : -1;
}

/* Turn audit on and install the rules, unless an audit daemon owns them. */
static void audit_configure(struct violations *v)
{
        struct audit_status st = {0};
        int r = audit_request(AUDIT_GET, NULL, 0, AUDIT_GET, &st, sizeof(st));

        if (r < 0) {
                snprintf(v->limits, sizeof(v->limits), "Landlock and file refusals: audit status unreadable (%s)",
                         strerror(-r));
                return;
        }
        if (st.pid) {
                log_info("sandbox: kernel audit belongs to pid %u; orbitald reads its records and installs no rules",
                         st.pid);
                snprintf(v->limits, sizeof(v->limits),
                         st.enabled ? "file, setuid and pids records: the rules of the audit daemon (pid %u) decide"
                                    : "Landlock and file refusals: kernel audit is off (pid %u owns it)",
                         st.pid);
                return;
        }
        /* The rules first: a task forked before them would keep an audit
         * context for its life. */
        if ((r = take_loginuid()) < 0 || (r = install_rules()) < 0) {
                snprintf(v->limits, sizeof(v->limits), "refused file operations: unable to install the audit rules (%s)",
                         strerror(-r));
                return;
        }
        v->ses = own_session();
        if (!st.enabled) {
                struct audit_status set = {.mask = AUDIT_STATUS_ENABLED, .enabled = 1};

                if ((r = audit_request(AUDIT_SET, &set, sizeof(set), 0, NULL, 0)) < 0) {
                        snprintf(v->limits, sizeof(v->limits), "Landlock and file refusals: unable to turn kernel audit on (%s)",
                                 strerror(-r));
                        return;
                }
                log_info("sandbox: kernel audit turned on, for the sandboxes' records");
        }
}

static int netlink_open(struct violations *v)
{
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1)};
        int r, size = 4 << 20;

        v->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
        if (v->fd < 0)
                return -errno;
        setsockopt(v->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
        if (bind(v->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                v->fd = safe_close(v->fd);
                return r;
        }
        r = kaudit_assembler_init(&v->assembler, emit, v);
        if (r == 0)
                r = loop_io_add(v->loop, &v->io, v->fd, EPOLLIN, on_audit);
        if (r < 0) {
                kaudit_assembler_deinit(&v->assembler);
                v->fd = safe_close(v->fd);
                return r;
        }
        v->is_netlink = true;
        audit_configure(v);
        return 0;
}

/* Whether we see pids as the kernel's records name them (the initial PID
 * namespace: "NSpid:" has one number). */
static bool pids_are_hosts(void)
{
        char buf[4096], *at;
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC), tabs = 0;
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        at = strstr(buf, "\nNSpid:");
        if (!at)
                return true; /* a kernel without the line has no nesting to show */
        for (at += 7; *at && *at != '\n'; at++)
                tabs += *at == '\t';
        return tabs <= 1;
}

int violations_init(struct violations *v, struct loop *l, const char *cg_name,
                    void (*report)(void *ctx, const char *service, const struct violation *v), void *ctx)
{
        int r;

        *v = (struct violations){.fd = -1, .io = LOOP_IO_INIT, .timer = LOOP_TIMER_INIT(on_expiry), .loop = l,
                                 .report = report, .ctx = ctx, .ses = -1};
        snprintf(v->cg_prefix, sizeof(v->cg_prefix), "/%s/", cg_name);
        if (!pids_are_hosts()) {
                snprintf(v->limits, sizeof(v->limits),
                         "anything: orbitald runs in a PID namespace, and the kernel's records name the host's pids");
                return 0;
        }
        r = netlink_open(v);
        if (r == 0)
                return 0;
        snprintf(v->limits, sizeof(v->limits),
                 "Landlock and file refusals: the kernel's audit records cannot be read (%s); seccomp's come from "
                 "/dev/kmsg, rate-limited",
                 strerror(-r));
        return kmsg_open(v);
}

void violations_deinit(struct violations *v)
{
        if (v->fd < 0)
                return;
        loop_io_remove(v->loop, &v->io);
        loop_timer_disarm(v->loop, &v->timer);
        if (v->is_netlink)
                kaudit_assembler_deinit(&v->assembler);
        v->fd = safe_close(v->fd);
}
