/*
 * The seccomp part of the service sandbox (see sandbox.h).
 *
 * Model: everything is allowed except a deny list.  A service keeps the
 * whole ordinary system call surface, so an unusual but legitimate program
 * still runs; what it loses are the calls that reach past its own process
 * and files -- into other processes (ptrace), the mount table, namespaces,
 * the running kernel (modules, kexec, bpf, perf), keyrings and the clock.
 * The manifest may take names off the default list (syscalls_allow) and
 * add its own (syscalls_deny); a service without the network loses
 * socket() for every family but AF_UNIX.
 *
 * The parent does all the work: libseccomp resolves names and compiles the
 * rules, and the BPF program is copied out into a plain array.  The child
 * only hands that array to seccomp(2): it shares the parent's memory until
 * execve, so it must not allocate, and libseccomp's own loader would.
 *
 * Only the native ABI passes.  seccomp_init() puts just the native arch in
 * the filter; a call through another ABI (i386 via int 0x80 on x86_64)
 * fails the arch check, and for x86_64 libseccomp 2.5 also sends x32 calls
 * (numbers with bit 30 set) to that same "bad arch" action -- checked in
 * its generated BPF.  Such a call is always an attack on the filter, so it
 * kills the process whatever on_violation says.
 *
 * Violations are logged (SECCOMP_FILTER_FLAG_LOG) as audit records of type
 * 1326 in the kernel log; seccomp_event_parse() reads them back for the
 * supervisor.  With no audit daemon the kernel rate-limits these records
 * (printk_ratelimit), so the log is a hint, not a complete account.
 */
#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "util/cleanup.h"
#include "util/hex.h"

/*
 * Names this libseccomp does not know, or that are no system call on this
 * architecture (the *64 time variants exist only on 32-bit ones), are
 * skipped: the list is written once for every architecture.
 */
const char *const seccomp_default_deny[] = {
        /* Other processes: their memory, their state. */
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
        /* The mount table and the root were set up by the spawner. */
        "mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig",
        "fsmount", "fspick", "pivot_root", "chroot",
        /* Namespaces (the sandbox's own were made before the filter). */
        "setns", "unshare",
        /* The running kernel. */
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "bpf",
        "perf_event_open", "lookup_dcookie", "userfaultfd", "uselib", "nfsservctl", "syslog", "reboot",
        "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "vhangup", "iopl", "ioperm",
        /* Keyrings are shared by every process of a user. */
        "keyctl", "add_key", "request_key",
        /* The system clock. */
        "settimeofday", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex",
        /* A file handle opens a file by inode number, past any path rule. */
        "open_by_handle_at", "name_to_handle_at",
        /* Changes only: the query and PER_LINUX pass (deny_personality_changes()). */
        "personality",
        NULL,
};

__attribute__((format(printf, 3, 4))) static void set_why(char *why, size_t size, const char *fmt, ...)
{
        va_list ap;

        if (!why || !size)
                return;
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
}

/* Copies @n bytes of untrusted text, '?' for anything unprintable. */
static void copy_printable(char *dst, size_t size, const char *src, size_t n)
{
        size_t i;

        for (i = 0; i < n && i + 1 < size; i++)
                dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
        if (size)
                dst[i] = '\0';
}

static void ctx_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

static bool name_listed(char *const *names, const char *name)
{
        for (; names && *names; names++)
                if (!strcmp(*names, name))
                        return true;
        return false;
}

/* A manifest's name: known, and a real call here (not a libseccomp pseudo number). */
static int check_names(char *const *names, char *why, size_t why_size)
{
        char shown[64];
        int nr;

        for (; names && *names; names++) {
                nr = seccomp_syscall_resolve_name(*names);
                if (nr >= 0)
                        continue;
                copy_printable(shown, sizeof(shown), *names, strlen(*names));
                if (nr == __NR_SCMP_ERROR)
                        set_why(why, why_size, "unknown system call '%s'", shown);
                else
                        set_why(why, why_size, "system call '%s' does not exist on this architecture", shown);
                return -EINVAL;
        }
        return 0;
}

static int action_of(enum sandbox_action a, uint32_t *action)
{
        switch (a) {
        case SANDBOX_EPERM:
                *action = SCMP_ACT_ERRNO(EPERM);
                return 0;
        case SANDBOX_KILL:
                *action = SCMP_ACT_KILL_PROCESS;
                return 0;
        }
        return -EINVAL;
}

/*
 * Deny personality() unless its argument is 0 (PER_LINUX) or the query
 * 0xffffffff.  libseccomp takes one comparison per argument and rule, and
 * rules are or-ed, so "neither 0 nor all ones" is spelt as 32 rules: some
 * bit i is set while bit i+1 (mod 32) is clear -- true of every 32-bit
 * value but those two, and no fewer rules can say it.  The masks ignore
 * the upper half as the kernel does (it takes an unsigned int), so high
 * bits neither dodge a rule nor trip one.  Only personality() runs these.
 */
static int deny_personality_changes(scmp_filter_ctx ctx, uint32_t action, int nr)
{
        uint64_t bit, next;
        int r;

        for (unsigned i = 0; i < 32; i++) {
                bit = 1ULL << i;
                next = 1ULL << ((i + 1) % 32);
                r = seccomp_rule_add(ctx, action, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, bit | next, bit));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_default_rules(scmp_filter_ctx ctx, const struct sandbox_spec *spec, uint32_t action)
{
        int nr, r;

        for (const char *const *name = seccomp_default_deny; *name; name++) {
                nr = seccomp_syscall_resolve_name(*name);
                if (nr < 0 || name_listed(spec->syscalls_allow, *name))
                        continue;
                /* A manifest that denies personality() outright wins. */
                if (!strcmp(*name, "personality") && !name_listed(spec->syscalls_deny, *name))
                        r = deny_personality_changes(ctx, action, nr);
                else
                        r = seccomp_rule_add(ctx, action, nr, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Runs after check_names(): every name resolves. */
static int add_manifest_rules(scmp_filter_ctx ctx, const struct sandbox_spec *spec, uint32_t action)
{
        int r;

        for (char *const *name = spec->syscalls_deny; name && *name; name++) {
                r = seccomp_rule_add(ctx, action, seccomp_syscall_resolve_name(*name), 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * Without the network: socket() only for AF_UNIX (socketpair() makes
 * nothing else).  io_uring goes too, whatever the allow list says: its
 * IORING_OP_SOCKET (Linux 5.19) creates a socket without the socket()
 * call this filter sees.  The allow list lifts default denials, never this.
 */
static int deny_network(scmp_filter_ctx ctx, uint32_t action)
{
        int r;

        /* Spelled out: SCMP_A0() with one datum leaves datum_b to the
         * compiler, which clang's -Wmissing-field-initializers refuses. */
        const struct scmp_arg_cmp not_unix = {.arg = 0, .op = SCMP_CMP_NE, .datum_a = AF_UNIX, .datum_b = 0};

        r = seccomp_rule_add(ctx, action, SCMP_SYS(socket), 1, not_unix);
        if (r < 0)
                return r;
        return seccomp_rule_add(ctx, action, SCMP_SYS(io_uring_setup), 0);
}

/*
 * unshare() and setns() are on the default list; clone() can make the
 * same namespaces with a flag.  clone()'s flags are in a register, so
 * each CLONE_NEW* bit gets a rule (CLONE_NEWTIME has no clone() bit: its
 * value is the exit-signal field there).  clone3() passes its flags in
 * memory, which seccomp cannot read: it fails with ENOSYS (a second,
 * silent filter: build_clone3_redirect), which makes glibc
 * (pthread_create, posix_spawn) fall back to clone() -- the same choice
 * container runtimes make.  A manifest that allows `unshare`
 * allows all of this too.
 */
static int deny_namespace_clones(scmp_filter_ctx ctx, const struct sandbox_spec *spec, uint32_t action)
{
        /* CLONE_PARENT too: its child would be orbitald's, outside the
         * tree orb-init keeps (the leftovers check would miss it). */
        static const uint64_t flags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                         CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET, CLONE_PARENT};
        int r;

        if (name_listed(spec->syscalls_allow, "unshare"))
                return 0;
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
                const struct scmp_arg_cmp has_flag = {.arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = flags[i],
                                                      .datum_b = flags[i]};
                r = seccomp_rule_add(ctx, action, SCMP_SYS(clone), 1, has_flag);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
        size_t done = 0;
        ssize_t k;

        while (done < n) {
                k = pread(fd, (char *)buf + done, n - done, (off_t)done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                done += (size_t)k;
        }
        return 0;
}

/* libseccomp 2.5 exports only to a descriptor: go through a memfd. */
static int export_bpf(scmp_filter_ctx ctx, void **filter, unsigned short *len)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ struct sock_filter *insns = NULL;
        struct stat st;
        size_t n;
        int r;

        fd = memfd_create("orbital-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || (size_t)st.st_size % sizeof(*insns))
                return -EIO;
        n = (size_t)st.st_size / sizeof(*insns);
        if (n > BPF_MAXINSNS)
                return -E2BIG;
        insns = malloc((size_t)st.st_size);
        if (!insns)
                return -ENOMEM;
        r = read_all(fd, insns, (size_t)st.st_size);
        if (r < 0)
                return r;
        *filter = take_ptr(insns);
        *len = (unsigned short)n;
        return 0;
}

/*
 * clone3() -> ENOSYS goes in a second filter without
 * SECCOMP_FILTER_FLAG_LOG: glibc tries clone3() for every thread and
 * posix_spawn, and logging each would drown real violations in the
 * kernel's rate-limited log.  The kernel logs by the filter whose action
 * won, so this one stays silent.  Other ABIs pass it untouched: the main
 * filter kills them.
 */
static int build_clone3_redirect(const struct sandbox_spec *spec, struct seccomp_plan *out)
{
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        if (name_listed(spec->syscalls_allow, "unshare"))
                return 0;
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        if (r >= 0)
                r = export_bpf(ctx, &out->quiet_filter, &out->quiet_len);
        return r;
}

static int build_rules(scmp_filter_ctx ctx, const struct sandbox_spec *spec, bool has_network, uint32_t action)
{
        int r;

        /* Default SCMP_ACT_KILL kills only the thread; see the top comment. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return r;
        /* A binary tree of system-call numbers instead of a linear chain:
         * fewer instructions per call, and the kernel's per-filter action
         * cache (it runs the filter for every number when it is loaded)
         * is built faster -- that load is on every spawn's path. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                return r;
        r = add_default_rules(ctx, spec, action);
        if (r < 0)
                return r;
        r = add_manifest_rules(ctx, spec, action);
        if (r < 0)
                return r;
        r = deny_namespace_clones(ctx, spec, action);
        if (r < 0)
                return r;
        return has_network ? 0 : deny_network(ctx, action);
}

/**
 * seccomp_plan_build() - compile @spec's filter into @out (see sandbox.h).
 * @spec:       the sandbox; with !@spec->enabled the plan is empty
 * @has_network: false: socket() is refused for every family but AF_UNIX
 * @out:        the plan; left empty on error
 * @why:        on -EINVAL, which name was refused; may be NULL
 * @why_size:   size of @why
 *
 * A name in both lists is denied.  Nothing is loaded here: the parent
 * keeps running unfiltered.
 *
 * Return: 0; -EINVAL for an unknown name (@why says which) or a bad
 * on_violation; -ENOMEM; -E2BIG if the program outgrows BPF_MAXINSNS;
 * another -errno from libseccomp, memfd_create() or reading the memfd.
 */
int seccomp_plan_build(const struct sandbox_spec *spec, bool has_network, struct seccomp_plan *out, char *why,
                       size_t why_size)
{
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
        uint32_t action;
        int r;

        *out = (struct seccomp_plan){0};
        set_why(why, why_size, "%s", "");
        if (!spec->enabled)
                return 0;
        if (action_of(spec->on_violation, &action) < 0) {
                set_why(why, why_size, "unknown on_violation %d", (int)spec->on_violation);
                return -EINVAL;
        }
        r = check_names(spec->syscalls_allow, why, why_size);
        if (r < 0)
                return r;
        r = check_names(spec->syscalls_deny, why, why_size);
        if (r < 0)
                return r;
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        r = build_rules(ctx, spec, has_network, action);
        if (r < 0)
                return r;
        r = export_bpf(ctx, &out->filter, &out->len);
        if (r >= 0)
                r = build_clone3_redirect(spec, out);
        if (r < 0)
                seccomp_plan_free(out);
        return r;
}

/**
 * seccomp_plan_free() - release @p's program; @p may be NULL.
 * @p:  the plan, left empty
 */
void seccomp_plan_free(struct seccomp_plan *p)
{
        if (!p)
                return;
        free(p->filter);
        free(p->quiet_filter);
        *p = (struct seccomp_plan){0};
}

/**
 * seccomp_plan_apply() - load @p into the calling (child) process.
 * @p:  a built plan; an empty one (sandbox off) loads nothing
 *
 * Runs between fork and execve in memory shared with the parent: no
 * allocation, no stdio, only seccomp(2).  The caller has set
 * no_new_privs.  Kernels before 4.14 refuse SECCOMP_FILTER_FLAG_LOG with
 * EINVAL; the filter then goes in without it (violations unlogged).
 *
 * Return: 0; -EACCES without no_new_privs (and CAP_SYS_ADMIN); -EINVAL,
 * -EFAULT, -ENOMEM, -ENOSYS from seccomp(2).
 */
int seccomp_plan_apply(const struct seccomp_plan *p)
{
        struct sock_fprog prog = {.len = p->len, .filter = p->filter};
        struct sock_fprog quiet = {.len = p->quiet_len, .filter = p->quiet_filter};

        if (!p->len)
                return 0;
        if (p->quiet_len && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &quiet) < 0)
                return -errno;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG, &prog) == 0)
                return 0;
        if (errno != EINVAL)
                return -errno;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
                return 0;
        return -errno;
}

/* ---- the kernel's record of a violation ---- */

/*
 * A record, as the kernel writes it with no audit daemon (kernel/auditsc.c,
 * audit_seccomp()):
 *
 *   PRI,SEQ,USEC,FLAGS[,...];audit: type=1326 audit(SEC.MSEC:SERIAL): auid=N
 *   uid=N gid=N ses=N [subj=X] pid=N comm="X" exe="X" sig=N arch=HEX
 *   syscall=N compat=N ip=0xHEX code=0xHEX
 *
 * (one line).  dmesg shows the part after ';', maybe behind "[  SEC.USEC] ".
 * The kernel quotes comm and exe only when they hold no space, quote or
 * unprintable byte, and writes them as bare hex otherwise, so no value
 * contains a space: fields split on spaces.  The input is untrusted (a
 * service can name itself anything) and not NUL-terminated.
 */

struct span {
        const char *p;
        size_t n;
};

static void span_skip(struct span *s, size_t k)
{
        s->p += k;
        s->n -= k;
}

static bool span_eat(struct span *s, const char *lit)
{
        size_t k = strlen(lit);

        if (s->n < k || memcmp(s->p, lit, k))
                return false;
        span_skip(s, k);
        return true;
}

static bool span_skip_past(struct span *s, char c)
{
        const char *e = memchr(s->p, c, s->n);

        if (!e)
                return false;
        span_skip(s, (size_t)(e - s->p) + 1);
        return true;
}

/* Drops the kmsg or dmesg prefix, if any. */
static bool skip_prefix(struct span *s)
{
        if (s->n && s->p[0] >= '0' && s->p[0] <= '9')
                return span_skip_past(s, ';');
        if (s->n && s->p[0] == '[') {
                if (!span_skip_past(s, ']'))
                        return false;
                while (s->n && s->p[0] == ' ')
                        span_skip(s, 1);
        }
        return true;
}

/* Whole span, base 10 or 16, at most @max; no sign, no spaces. */
static bool parse_unsigned(struct span v, unsigned base, uint64_t max, uint64_t *out)
{
        uint64_t x = 0;
        int d;

        if (!v.n)
                return false;
        for (size_t i = 0; i < v.n; i++) {
                d = hex_digit(v.p[i]);
                if (d < 0 || (unsigned)d >= base || (unsigned)d > max || x > (max - (unsigned)d) / base)
                        return false;
                x = x * base + (unsigned)d;
        }
        *out = x;
        return true;
}

static bool parse_int(struct span v, int min, int max, int *out)
{
        bool neg = v.n && v.p[0] == '-';
        uint64_t x;
        int64_t val;

        if (neg)
                span_skip(&v, 1);
        if (!parse_unsigned(v, 10, (uint64_t)INT32_MAX + 1, &x))
                return false;
        val = neg ? -(int64_t)x : (int64_t)x;
        if (val < min || val > max)
                return false;
        *out = (int)val;
        return true;
}

/* comm="name", or the kernel's bare upper-case hex for an awkward name. */
static bool parse_comm(struct span v, char *comm, size_t size)
{
        char raw[32];
        size_t n;
        int hi, lo;

        if (v.n >= 2 && v.p[0] == '"' && v.p[v.n - 1] == '"' && !memchr(v.p + 1, '"', v.n - 2)) {
                copy_printable(comm, size, v.p + 1, v.n - 2);
                return true;
        }
        if (!v.n || v.n % 2)
                return false;
        for (n = 0; n < v.n / 2; n++) {
                hi = hex_digit(v.p[2 * n]);
                lo = hex_digit(v.p[2 * n + 1]);
                if (hi < 0 || lo < 0)
                        return false;
                if (n < sizeof(raw))
                        raw[n] = (char)(hi << 4 | lo);
        }
        copy_printable(comm, size, raw, n < sizeof(raw) ? n : sizeof(raw));
        return true;
}

enum {
        FIELD_PID = 1 << 0,
        FIELD_COMM = 1 << 1,
        FIELD_SYSCALL = 1 << 2,
        FIELD_CODE = 1 << 3,
        FIELD_ARCH = 1 << 4,
};

struct record {
        struct seccomp_event ev;
        uint64_t code;
        uint64_t arch;
        unsigned seen;           /* FIELD_* */
};

/* One key=value; unknown keys pass, a known one twice or malformed fails. */
static bool parse_field(struct record *rec, struct span key, struct span v)
{
        static const struct {
                const char *key;
                unsigned field;
        } known[] = {
                {"pid", FIELD_PID}, {"comm", FIELD_COMM}, {"syscall", FIELD_SYSCALL},
                {"code", FIELD_CODE}, {"arch", FIELD_ARCH},
        };
        unsigned field = 0;

        for (size_t i = 0; i < ARRAY_SIZE(known) && !field; i++)
                if (key.n == strlen(known[i].key) && !memcmp(key.p, known[i].key, key.n))
                        field = known[i].field;
        if (!field)
                return true;
        if (rec->seen & field)
                return false;
        rec->seen |= field;
        switch (field) {
        case FIELD_PID:
                return parse_int(v, 1, INT32_MAX, &rec->ev.pid);
        case FIELD_COMM:
                return parse_comm(v, rec->ev.comm, sizeof(rec->ev.comm));
        case FIELD_SYSCALL:
                return parse_int(v, INT32_MIN, INT32_MAX, &rec->ev.syscall_nr);
        case FIELD_CODE:
                return span_eat(&v, "0x") && parse_unsigned(v, 16, UINT32_MAX, &rec->code);
        default:
                return parse_unsigned(v, 16, UINT32_MAX, &rec->arch);
        }
}

static bool parse_fields(struct span s, struct record *rec)
{
        struct span tok, key;
        const char *sp, *eq;

        while (s.n) {
                sp = memchr(s.p, ' ', s.n);
                tok = (struct span){s.p, sp ? (size_t)(sp - s.p) : s.n};
                span_skip(&s, tok.n + (sp ? 1 : 0));
                eq = memchr(tok.p, '=', tok.n);
                if (!eq)
                        continue;
                key = (struct span){tok.p, (size_t)(eq - tok.p)};
                span_skip(&tok, key.n + 1);
                if (!parse_field(rec, key, tok))
                        return false;
        }
        return true;
}

void seccomp_syscall_name(int nr, char *out, size_t n)
{
        char *name = nr >= 0 ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr) : NULL;

        if (name)
                snprintf(out, n, "%s", name);
        else
                snprintf(out, n, "#%d", nr);
        free(name);
}

/* The record's own arch when it has one: an i386 call has i386 numbers. */
static void name_syscall(struct record *rec)
{
        uint32_t arch = rec->seen & FIELD_ARCH ? (uint32_t)rec->arch : SCMP_ARCH_NATIVE;
        char *name = NULL;

        if (rec->ev.syscall_nr >= 0)
                name = seccomp_syscall_resolve_num_arch(arch, rec->ev.syscall_nr);
        if (name)
                snprintf(rec->ev.syscall, sizeof(rec->ev.syscall), "%s", name);
        else
                snprintf(rec->ev.syscall, sizeof(rec->ev.syscall), "#%d", rec->ev.syscall_nr);
        free(name);
}

/**
 * seccomp_event_parse() - read a seccomp violation out of a kernel log line.
 * @line:  a /dev/kmsg record or a dmesg line; untrusted, not NUL-terminated
 * @len:   bytes at @line; nothing past the first newline is read
 * @ev:    filled only when the line is a seccomp record
 *
 * pid, syscall and code must be there, each once and well-formed; comm
 * may be missing ("").  The syscall is named with the record's arch (an
 * i386 or x32 call is not misnamed as an x86_64 one), "#N" if unknown.
 *
 * Return: true if @line is a seccomp record (type 1326).
 */
bool seccomp_event_parse(const char *line, size_t len, struct seccomp_event *ev)
{
        const char *nl = memchr(line, '\n', len);
        struct span s = {line, nl ? (size_t)(nl - line) : len};
        struct record rec = {0};

        if (!skip_prefix(&s) || !span_eat(&s, "audit: type=1326 audit("))
                return false;
        /* The timestamp "SEC.MSEC:SERIAL): " holds no space. */
        if (!span_skip_past(&s, ' ') || s.n == 0 || s.p[-2] != ':' || s.p[-3] != ')')
                return false;
        if (!parse_fields(s, &rec))
                return false;
        if ((rec.seen & (FIELD_PID | FIELD_SYSCALL | FIELD_CODE)) != (FIELD_PID | FIELD_SYSCALL | FIELD_CODE))
                return false;
        rec.ev.action = (unsigned)rec.code & SECCOMP_RET_ACTION_FULL;
        name_syscall(&rec);
        *ev = rec.ev;
        return true;
}
