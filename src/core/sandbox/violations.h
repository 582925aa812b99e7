/* What a sandbox refused, as the kernel reports it, attributed to services
 * (violations.c: from the kernel's audit records over netlink, or from
 * /dev/kmsg where orbitald cannot read those; kaudit.c assembles them). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/sandbox.h"
#include "util/loop.h"
#include "util/time.h"

enum violation_kind {
        VIOLATION_SYSCALL,       /* the seccomp filter refused or killed a call */
        VIOLATION_FILE,          /* a file operation refused: Landlock, a read-only
                                    mount, or file permissions */
        VIOLATION_LIMIT,         /* a fork refused (EAGAIN): the pids limit */
        VIOLATION_SETID,         /* a setuid/setgid program ran without its privilege */
};

struct violation {
        enum violation_kind kind;
        int pid;                 /* as the host numbers it */
        long long uid;           /* the process's uid, -1 if the record had none */
        long long ses;           /* its audit session, -1 if the record had none */
        int syscall_nr;          /* -1 if unknown */
        char syscall[32];        /* name, "#N", or "" */
        char comm[32];
        bool is_kill;            /* SYSCALL: the process was killed, not refused */
        int error;               /* FILE, LIMIT: the errno the call failed with */
        char by[48];             /* FILE: "landlock fs.write_file", "read-only mount", "permissions" */
        char path[256];          /* FILE, SETID: as the record names it, "" if none */
};

/* ---- assembling audit records into violations (kaudit.c) ---- */

/* A seccomp record as a violation (uid and ses are left as they are). */
void violation_from_seccomp(struct violation *v, const struct seccomp_event *ev);

/* SECCOMP_RET_KILL_PROCESS or SECCOMP_RET_KILL_THREAD (0). */
static inline bool seccomp_action_kills(unsigned action)
{
        return action == 0x80000000u || action == 0;
}

#define KAUDIT_PENDING 16        /* events waiting for the rest of their records */
#define KAUDIT_DOMAINS 64        /* Landlock domains seen, and the pid that made each */

struct kaudit_pending;

struct kaudit_assembler {
        struct kaudit_pending *pending; /* KAUDIT_PENDING, owned */
        struct {
                uint64_t id;
                int pid;
        } domains[KAUDIT_DOMAINS];
        unsigned next_domain;
        void (*emit)(void *ctx, const struct violation *v);
        void *ctx;
};

/* Return: 0, -ENOMEM. */
int kaudit_assembler_init(struct kaudit_assembler *a, void (*emit)(void *ctx, const struct violation *v), void *ctx);
void kaudit_assembler_deinit(struct kaudit_assembler *a);
/* One audit record: @type its netlink type, @payload "audit(SEC.MS:SERIAL): key=value ..."
 * (untrusted, not NUL-terminated).  Records of one event are merged; an
 * event is emitted at its end-of-event record, or by kaudit_expire(). */
void kaudit_feed(struct kaudit_assembler *a, int type, const char *payload, size_t len, usec_t now);
/* Emits the events older than @age that never got their end record (a
 * process without an audit context sends single records). */
void kaudit_expire(struct kaudit_assembler *a, usec_t now, usec_t age);
/* Whether an event is still waiting (to arm a timer). */
bool kaudit_has_pending(const struct kaudit_assembler *a);

/* ---- the kernel's audit records, or /dev/kmsg (violations.c) ---- */

/* The loginuid orbitald takes and its services inherit: the audit rules
 * orbitald installs give an audit context to exactly these processes. */
#define ORB_AUDIT_LOGINUID 61183u

struct violations {
        int fd;                  /* the audit netlink socket, or /dev/kmsg, or -1 */
        bool is_netlink;
        struct loop_io io;
        struct loop_timer timer; /* expires events without an end record */
        struct loop *loop;
        struct kaudit_assembler assembler;
        char cg_prefix[80];      /* "/orbital-<pid>/" */
        void (*report)(void *ctx, const char *service, const struct violation *v);
        void *ctx;
        char limits[200];        /* what is not reported, and why; "" if nothing */
        long long ses;           /* our audit session (every service's), -1 if unknown */
};

/* Return: 0 (see v->limits for what cannot be reported), -errno when
 * neither source can be read (violations then only show as EPERM or
 * EACCES to the service, or as its death by SIGSYS). */
int violations_init(struct violations *v, struct loop *l, const char *cg_name,
                    void (*report)(void *ctx, const char *service, const struct violation *v), void *ctx);
void violations_deinit(struct violations *v);
