/*
 * The kernel's audit records, assembled into sandbox violations.
 *
 * One event (one system call of one process) can come as several records
 * sharing a serial number, "audit(SEC.MSEC:SERIAL): key=value ...":
 *
 *   1423 LANDLOCK_ACCESS  domain=ID blockers=fs.read_file path="/x" ...
 *   1424 LANDLOCK_DOMAIN  domain=ID status=allocated ... pid=P ...
 *   1326 SECCOMP          pid=P comm="x" syscall=N code=0x... ...
 *   1300 SYSCALL          syscall=N success=no exit=-30 pid=P comm="x" key="orbital" ...
 *   1302 PATH             item=0 name="/etc/" nametype=PARENT ...
 *   1320 EOE              (end of event)
 *
 * A process with an audit context (a service, given one by the rules
 * violations.c installs) gets the whole set and an EOE; without one the
 * Landlock and seccomp records come alone, so an event that has no EOE is
 * emitted after a short wait (kaudit_expire()).  A Landlock record names
 * only its domain: the pid comes from the event's SYSCALL record or from
 * the domain's first LANDLOCK_DOMAIN record, which names the process that
 * made the domain (the service, in spawn.c).
 *
 * Everything here is untrusted text from the kernel about processes that
 * are trying to misbehave: a path or comm may hold anything (the kernel
 * quotes plain strings and hex-encodes the rest); nothing is assumed
 * about lengths or order, and what does not parse is dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/violations.h"
#include "util/hex.h"

#define AUDIT_TYPE_SYSCALL 1300
#define AUDIT_TYPE_PATH 1302
#define AUDIT_TYPE_EOE 1320
#define AUDIT_TYPE_SECCOMP 1326
#define AUDIT_TYPE_LANDLOCK_ACCESS 1423
#define AUDIT_TYPE_LANDLOCK_DOMAIN 1424

/* The key of the rules violations.c installs. */
#define ORB_AUDIT_KEY "orbital"

enum {
        HAS_SYSCALL = 1 << 0,
        HAS_SECCOMP = 1 << 1,
        HAS_LANDLOCK = 1 << 2,
};

struct kaudit_pending {
        bool is_used;
        uint64_t serial;
        usec_t since;
        unsigned has;            /* HAS_* */
        struct seccomp_event seccomp;
        uint64_t domain;
        bool is_ours;            /* the SYSCALL record carries our rules' key */
        int pid, syscall_nr, exit_code;
        long long uid, ses;
        char setid[256];         /* an executed file with a setuid or setgid bit */
        char comm[32];
        char blockers[32];
        char path[256];
        int path_rank;           /* 0 none, 1 a PARENT item, 2 the object itself */
};

static bool is_hex(const char *v, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (hex_digit(v[i]) < 0)
                        return false;
        return len % 2 == 0;
}

static char printable(int c)
{
        return c >= 0x20 && c < 0x7f ? (char)c : '?';
}

/* A value: "quoted" as is, otherwise (a string the kernel found unsafe) hex. */
static void copy_value(char *out, size_t n, const char *v, size_t len)
{
        size_t o = 0;

        if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
                for (size_t i = 1; i + 1 < len && o + 1 < n; i++)
                        out[o++] = printable((unsigned char)v[i]);
        } else if (len && is_hex(v, len)) {
                for (size_t i = 0; i + 1 < len && o + 1 < n; i += 2)
                        out[o++] = printable(hex_digit(v[i]) << 4 | hex_digit(v[i + 1]));
        } else if (!(len == 6 && !memcmp(v, "(null)", 6))) {
                for (size_t i = 0; i < len && o + 1 < n; i++)
                        out[o++] = printable((unsigned char)v[i]);
        }
        if (n)
                out[o] = '\0';
}

/*
 * The value of @key in @s (space-separated key=value; a quoted value may
 * hold spaces).  Return: its length and start in *@v, or -1 if absent.
 */
static long find_value(const char *s, size_t n, const char *key, const char **v)
{
        size_t klen = strlen(key), i = 0;

        while (i < n) {
                size_t start = i, end;

                while (i < n && s[i] != '=' && s[i] != ' ')
                        i++;
                if (i >= n || s[i] == ' ') {
                        i++;
                        continue;
                }
                end = ++i; /* past '=' */
                if (end < n && s[end] == '"') {
                        const char *q = memchr(s + end + 1, '"', n - end - 1);
                        i = q ? (size_t)(q - s) + 1 : n;
                } else {
                        while (i < n && s[i] != ' ')
                                i++;
                }
                if (end - 1 - start == klen && !memcmp(s + start, key, klen)) {
                        *v = s + end;
                        return (long)(i - end);
                }
                i++;
        }
        return -1;
}

static bool get_str(const char *s, size_t n, const char *key, char *out, size_t size)
{
        const char *v;
        long len = find_value(s, n, key, &v);

        if (len < 0)
                return false;
        copy_value(out, size, v, (size_t)len);
        return true;
}

static bool get_int(const char *s, size_t n, const char *key, int base, long long *out)
{
        char buf[32], *end;
        const char *v;
        long len = find_value(s, n, key, &v);

        if (len <= 0 || (size_t)len >= sizeof(buf))
                return false;
        memcpy(buf, v, (size_t)len);
        buf[len] = '\0';
        errno = 0;
        *out = base == 16 ? (long long)strtoull(buf, &end, 16) : strtoll(buf, &end, base);
        return !errno && *end == '\0';
}

/* "audit(SEC.MSEC:SERIAL): " -> the serial and what follows. */
static bool split_header(const char *p, size_t len, uint64_t *serial, const char **body, size_t *body_len)
{
        const char *colon, *close;
        char buf[24], *end;
        size_t n;

        if (len < 8 || memcmp(p, "audit(", 6))
                return false;
        close = memchr(p, ')', len < 64 ? len : 64);
        if (!close)
                return false;
        colon = memchr(p, ':', (size_t)(close - p));
        if (!colon || (n = (size_t)(close - colon - 1)) == 0 || n >= sizeof(buf))
                return false;
        memcpy(buf, colon + 1, n);
        buf[n] = '\0';
        errno = 0;
        *serial = strtoull(buf, &end, 10);
        if (errno || *end)
                return false;
        *body = close + 1;
        *body_len = len - (size_t)(close + 1 - p);
        while (*body_len && (**body == ':' || **body == ' '))
                (*body)++, (*body_len)--;
        return true;
}

static void finish(struct kaudit_assembler *a, struct kaudit_pending *p);

static struct kaudit_pending *pending_get(struct kaudit_assembler *a, uint64_t serial, usec_t now)
{
        struct kaudit_pending *free_slot = NULL, *oldest = NULL;

        for (unsigned i = 0; i < KAUDIT_PENDING; i++) {
                struct kaudit_pending *p = &a->pending[i];

                if (p->is_used && p->serial == serial)
                        return p;
                if (!p->is_used && !free_slot)
                        free_slot = p;
                if (p->is_used && (!oldest || p->since < oldest->since))
                        oldest = p;
        }
        if (!free_slot) { /* a flood: the oldest event goes out as it is */
                finish(a, oldest);
                free_slot = oldest;
        }
        *free_slot = (struct kaudit_pending){.is_used = true, .serial = serial, .since = now, .pid = -1,
                                             .syscall_nr = -1, .uid = -1, .ses = -1};
        return free_slot;
}

static int domain_pid(const struct kaudit_assembler *a, uint64_t id)
{
        for (unsigned i = 0; i < KAUDIT_DOMAINS; i++)
                if (a->domains[i].id == id && id)
                        return a->domains[i].pid;
        return -1;
}

static void domain_remember(struct kaudit_assembler *a, uint64_t id, int pid)
{
        if (!id || domain_pid(a, id) >= 0)
                return;
        a->domains[a->next_domain % KAUDIT_DOMAINS].id = id;
        a->domains[a->next_domain % KAUDIT_DOMAINS].pid = pid;
        a->next_domain++;
}

static const char *refused_by(int error)
{
        switch (error) {
        case EROFS:
                return "read-only mount";
        case EACCES:
                return "permissions";
        default:
                return "kernel";
        }
}

void violation_from_seccomp(struct violation *v, const struct seccomp_event *ev)
{
        v->kind = VIOLATION_SYSCALL;
        v->pid = ev->pid;
        v->syscall_nr = ev->syscall_nr;
        snprintf(v->syscall, sizeof(v->syscall), "%s", ev->syscall);
        snprintf(v->comm, sizeof(v->comm), "%s", ev->comm);
        v->is_kill = seccomp_action_kills(ev->action);
}

/* An event complete (or given up waiting for): a violation, or nothing. */
static void finish(struct kaudit_assembler *a, struct kaudit_pending *p)
{
        struct violation v = {.pid = p->pid, .syscall_nr = p->syscall_nr, .uid = p->uid, .ses = p->ses};
        bool is_our_rule = (p->has & HAS_SYSCALL) && p->is_ours; /* a rule of violations.c matched */
        const char *path = p->path;

        p->is_used = false;
        if (p->has & HAS_SECCOMP) {
                violation_from_seccomp(&v, &p->seccomp);
                a->emit(a->ctx, &v);
                return;
        }
        if (p->has & HAS_LANDLOCK) {
                v.kind = VIOLATION_FILE;
                if (v.pid < 0)
                        v.pid = domain_pid(a, p->domain);
                v.error = p->has & HAS_SYSCALL && p->exit_code < 0 ? -p->exit_code : EACCES;
                snprintf(v.by, sizeof(v.by), "landlock %s", p->blockers);
        } else if (is_our_rule && (p->exit_code == -EROFS || p->exit_code == -EACCES)) {
                v.kind = VIOLATION_FILE;
                v.error = -p->exit_code;
                snprintf(v.by, sizeof(v.by), "%s", refused_by(v.error));
        } else if (is_our_rule && p->exit_code == 0 && p->setid[0]) {
                v.kind = VIOLATION_SETID; /* the exec rule: it ran, without the bit's privilege */
                snprintf(v.by, sizeof(v.by), "no_new_privs, nosuid");
                path = p->setid;
        } else if (is_our_rule && p->exit_code == -EAGAIN) {
                v.kind = VIOLATION_LIMIT; /* the rule asks only about forks */
                v.error = EAGAIN;
                snprintf(v.by, sizeof(v.by), "pids limit");
        } else {
                return;
        }
        if (v.pid <= 0)
                return; /* nobody to attribute it to */
        if (p->syscall_nr >= 0)
                seccomp_syscall_name(p->syscall_nr, v.syscall, sizeof(v.syscall));
        snprintf(v.comm, sizeof(v.comm), "%s", p->comm);
        snprintf(v.path, sizeof(v.path), "%s", path);
        a->emit(a->ctx, &v);
}

/* uid= and ses= of a SYSCALL or SECCOMP record: whose it was, after the
 * process is gone, and which orbitald's. */
static void merge_ids(struct kaudit_pending *p, const char *s, size_t n)
{
        long long x;

        if (get_int(s, n, "uid", 10, &x) && x >= 0 && x <= UINT32_MAX)
                p->uid = x;
        if (get_int(s, n, "ses", 10, &x) && x >= 0 && x <= UINT32_MAX)
                p->ses = x;
}

static void merge_syscall(struct kaudit_pending *p, const char *s, size_t n)
{
        long long x;
        char key[16] = "";

        p->has |= HAS_SYSCALL;
        if (get_int(s, n, "pid", 10, &x) && x > 0 && x <= INT32_MAX)
                p->pid = (int)x;
        if (get_int(s, n, "syscall", 10, &x) && x >= 0 && x < 4096)
                p->syscall_nr = (int)x;
        if (get_int(s, n, "exit", 10, &x) && x >= -4095 && x < 0)
                p->exit_code = (int)x;
        merge_ids(p, s, n);
        get_str(s, n, "comm", p->comm, sizeof(p->comm));
        p->is_ours = get_str(s, n, "key", key, sizeof(key)) && !strcmp(key, ORB_AUDIT_KEY);
}

static void merge_path(struct kaudit_pending *p, const char *s, size_t n)
{
        char type[16] = "";
        long long mode;
        int rank;

        /* A regular file with S_ISUID or S_ISGID: what an exec ran. */
        if (!p->setid[0] && get_int(s, n, "mode", 8, &mode) && (mode & 0170000) == 0100000 && (mode & 06000))
                get_str(s, n, "name", p->setid, sizeof(p->setid));
        get_str(s, n, "nametype", type, sizeof(type));
        rank = strcmp(type, "PARENT") ? 2 : 1;
        if (rank > p->path_rank && get_str(s, n, "name", p->path, sizeof(p->path)))
                p->path_rank = rank;
}

static void merge_landlock(struct kaudit_assembler *a, struct kaudit_pending *p, int type, const char *s, size_t n)
{
        long long id, pid;

        if (!get_int(s, n, "domain", 16, &id))
                return;
        if (type == AUDIT_TYPE_LANDLOCK_DOMAIN) {
                if (get_int(s, n, "pid", 10, &pid) && pid > 0 && pid <= INT32_MAX)
                        domain_remember(a, (uint64_t)id, (int)pid);
                return;
        }
        p->has |= HAS_LANDLOCK;
        p->domain = (uint64_t)id;
        get_str(s, n, "blockers", p->blockers, sizeof(p->blockers));
        if (get_str(s, n, "path", p->path, sizeof(p->path)))
                p->path_rank = 3; /* Landlock names the object it refused */
}

void kaudit_feed(struct kaudit_assembler *a, int type, const char *payload, size_t len, usec_t now)
{
        struct kaudit_pending *p;
        uint64_t serial;
        const char *s;
        size_t n;

        if (!split_header(payload, len, &serial, &s, &n))
                return;
        switch (type) {
        case AUDIT_TYPE_SYSCALL:
        case AUDIT_TYPE_PATH:
        case AUDIT_TYPE_SECCOMP:
        case AUDIT_TYPE_LANDLOCK_ACCESS:
        case AUDIT_TYPE_LANDLOCK_DOMAIN:
                break;
        case AUDIT_TYPE_EOE:
                for (unsigned i = 0; i < KAUDIT_PENDING; i++)
                        if (a->pending[i].is_used && a->pending[i].serial == serial)
                                finish(a, &a->pending[i]);
                return;
        default:
                return;
        }
        if (type == AUDIT_TYPE_LANDLOCK_DOMAIN) { /* about a domain, not an event */
                merge_landlock(a, NULL, type, s, n);
                return;
        }
        p = pending_get(a, serial, now);
        switch (type) {
        case AUDIT_TYPE_SYSCALL:
                merge_syscall(p, s, n);
                break;
        case AUDIT_TYPE_PATH:
                merge_path(p, s, n);
                break;
        case AUDIT_TYPE_SECCOMP: {
                /* seccomp.c reads the kernel log's form of the same record
                 * (a record is at most 8970 bytes: MAX_AUDIT_MESSAGE_LENGTH). */
                char line[9216];
                int k = snprintf(line, sizeof(line), "audit: type=1326 %.*s", (int)(len < 9000 ? len : 9000),
                                 payload);

                merge_ids(p, s, n);

                if (k > 0 && seccomp_event_parse(line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1,
                                                 &p->seccomp))
                        p->has |= HAS_SECCOMP;
                /* A killed process ends its event here: say so while its
                 * pid still tells whose it was. */
                if ((p->has & HAS_SECCOMP) && seccomp_action_kills(p->seccomp.action))
                        finish(a, p);
                break;
        }
        default:
                merge_landlock(a, p, type, s, n);
                break;
        }
}

void kaudit_expire(struct kaudit_assembler *a, usec_t now, usec_t age)
{
        for (unsigned i = 0; i < KAUDIT_PENDING; i++)
                if (a->pending[i].is_used && now - a->pending[i].since >= age)
                        finish(a, &a->pending[i]);
}

bool kaudit_has_pending(const struct kaudit_assembler *a)
{
        for (unsigned i = 0; i < KAUDIT_PENDING; i++)
                if (a->pending[i].is_used)
                        return true;
        return false;
}

int kaudit_assembler_init(struct kaudit_assembler *a, void (*emit)(void *ctx, const struct violation *v), void *ctx)
{
        *a = (struct kaudit_assembler){.emit = emit, .ctx = ctx};
        a->pending = calloc(KAUDIT_PENDING, sizeof(*a->pending));
        return a->pending ? 0 : -ENOMEM;
}

void kaudit_assembler_deinit(struct kaudit_assembler *a)
{
        free(a->pending);
        a->pending = NULL;
}
