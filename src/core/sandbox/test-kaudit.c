/*
 * Unit test of kaudit.c: audit records, as the kernel sends them over
 * netlink, assembled into sandbox violations.  The records are written
 * after ones seen on this project's machines (kernel 6.18, Landlock ABI 7);
 * the last part throws broken and random records at the assembler.
 */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/violations.h"

static struct violation got[64];
static unsigned n_got;

static void collect(void *ctx, const struct violation *v)
{
        (void)ctx;
        if (n_got < 64)
                got[n_got] = *v;
        n_got++;
}

static void feed(struct kaudit_assembler *a, int type, const char *text, usec_t now)
{
        kaudit_feed(a, type, text, strlen(text), now);
}

static void landlock_without_context(struct kaudit_assembler *a)
{
        n_got = 0;
        feed(a, 1423, "audit(1796092594.735:10): domain=110dfb351 blockers=fs.read_file path=\"/var/tmp/s\" "
                      "dev=\"vda\" ino=12", 1000);
        feed(a, 1424, "audit(1796092594.735:11): domain=110dfb351 status=allocated mode=enforcing pid=4242 uid=65078 "
                      "exe=\"/usr/bin/x\" comm=\"x\"", 1000);
        assert(n_got == 0 && kaudit_has_pending(a));
        kaudit_expire(a, 5000, 20000); /* not yet */
        assert(n_got == 0);
        kaudit_expire(a, 30000, 20000);
        assert(n_got == 1 && !kaudit_has_pending(a));
        assert(got[0].kind == VIOLATION_FILE && got[0].pid == 4242 && got[0].error == EACCES);
        assert(!strcmp(got[0].by, "landlock fs.read_file") && !strcmp(got[0].path, "/var/tmp/s"));
}

static void landlock_with_context(struct kaudit_assembler *a)
{
        n_got = 0;
        feed(a, 1423, "audit(1.2:20): domain=2 blockers=fs.write_file path=\"/srv/a b\" dev=\"vda\" ino=3", 0);
        feed(a, 1300, "audit(1.2:20): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=1 ppid=1 "
                      "pid=55 auid=61183 uid=65078 comm=\"svc\" exe=\"/usr/bin/svc\" key=\"orbital\"", 0);
        feed(a, 1302, "audit(1.2:20): item=0 name=\"/srv/a b\" inode=9 nametype=NORMAL", 0);
        feed(a, 1327, "audit(1.2:20): proctitle=737663", 0);
        assert(n_got == 0);
        feed(a, 1320, "audit(1.2:20): ", 0);
        assert(n_got == 1);
        assert(got[0].kind == VIOLATION_FILE && got[0].pid == 55 && got[0].error == EACCES);
        assert(!strcmp(got[0].syscall, "openat") && !strcmp(got[0].comm, "svc"));
        assert(!strcmp(got[0].by, "landlock fs.write_file") && !strcmp(got[0].path, "/srv/a b"));
}

static void read_only_and_permissions(struct kaudit_assembler *a)
{
        n_got = 0;
        /* A create under a read-only mount names only the parent. */
        feed(a, 1300, "audit(1.2:30): arch=c000003e syscall=257 success=no exit=-30 items=1 pid=56 auid=61183 "
                      "comm=\"svc\" key=\"orbital\"", 0);
        feed(a, 1302, "audit(1.2:30): item=0 name=\"/etc/\" nametype=PARENT", 0);
        feed(a, 1320, "audit(1.2:30): ", 0);
        assert(n_got == 1 && got[0].error == EROFS && !strcmp(got[0].by, "read-only mount"));
        assert(!strcmp(got[0].path, "/etc/"));
        /* The object itself wins over its parent, in whatever order; hex names decode. */
        feed(a, 1302, "audit(1.2:31): item=1 name=2F6574632F736861646F77 nametype=NORMAL", 0);
        feed(a, 1302, "audit(1.2:31): item=0 name=\"/etc/\" nametype=PARENT", 0);
        feed(a, 1300, "audit(1.2:31): arch=c000003e syscall=2 success=no exit=-13 pid=57 comm=6120622063 "
                      "key=\"orbital\"", 0);
        feed(a, 1320, "audit(1.2:31): ", 0);
        assert(n_got == 2 && got[1].error == EACCES && !strcmp(got[1].by, "permissions"));
        assert(!strcmp(got[1].path, "/etc/shadow") && !strcmp(got[1].comm, "a b c") && !strcmp(got[1].syscall, "open"));
}

static void not_ours(struct kaudit_assembler *a)
{
        n_got = 0;
        /* Another rule's record, a success, an error our rules do not ask about. */
        feed(a, 1300, "audit(1.2:40): syscall=257 success=no exit=-30 pid=58 key=(null)", 0);
        feed(a, 1320, "audit(1.2:40): ", 0);
        feed(a, 1300, "audit(1.2:41): syscall=257 success=yes exit=3 pid=58 key=\"orbital\"", 0);
        feed(a, 1320, "audit(1.2:41): ", 0);
        feed(a, 1300, "audit(1.2:42): syscall=257 success=no exit=-2 pid=58 key=\"orbital\"", 0);
        feed(a, 1320, "audit(1.2:42): ", 0);
        feed(a, 1335, "audit(1.2:43): pid=1 uid=0 nl-mcgrp=1 op=connect res=1", 0);
        feed(a, 1320, "audit(1.2:44): ", 0); /* an end with no event */
        assert(n_got == 0 && !kaudit_has_pending(a));
}

static void seccomp_and_forks(struct kaudit_assembler *a)
{
        n_got = 0;
        /* Killed: reported at once, while the pid still tells whose it was. */
        feed(a, 1326, "audit(1.2:50): auid=61183 uid=65078 gid=65078 ses=4 pid=77 comm=\"svc\" exe=\"/x\" sig=31 "
                      "arch=c000003e syscall=165 compat=0 ip=0x7f code=0x80000000", 0);
        assert(n_got == 1 && got[0].kind == VIOLATION_SYSCALL && got[0].is_kill);
        assert(got[0].pid == 77 && !strcmp(got[0].syscall, "mount"));
        /* Refused: after the wait (no end record comes without one of our rules). */
        feed(a, 1326, "audit(1.2:51): pid=78 comm=\"svc\" arch=c000003e syscall=101 code=0x50001", 0);
        assert(n_got == 1);
        kaudit_expire(a, 100000, 20000);
        assert(n_got == 2 && !got[1].is_kill && !strcmp(got[1].syscall, "ptrace"));
        /* A fork the pids limit refused. */
        feed(a, 1300, "audit(1.2:52): arch=c000003e syscall=56 success=no exit=-11 pid=79 comm=\"svc\" key=\"orbital\"",
             0);
        feed(a, 1320, "audit(1.2:52): ", 0);
        assert(n_got == 3 && got[2].kind == VIOLATION_LIMIT && got[2].error == EAGAIN && !strcmp(got[2].syscall, "clone"));
        /* An exec that ran a setuid program (our exec rule): named by the PATH record with the bit. */
        feed(a, 1300, "audit(1.2:53): arch=c000003e syscall=59 success=yes exit=0 items=2 pid=80 uid=65078 "
                      "comm=\"id-suid\" key=\"orbital\"", 0);
        feed(a, 1302, "audit(1.2:53): item=0 name=\"/t/bin/id-suid\" inode=1 mode=0104755 ouid=0 nametype=NORMAL", 0);
        feed(a, 1302, "audit(1.2:53): item=1 name=\"/lib64/ld-linux-x86-64.so.2\" mode=0100755 nametype=NORMAL", 0);
        feed(a, 1320, "audit(1.2:53): ", 0);
        assert(n_got == 4 && got[3].kind == VIOLATION_SETID && got[3].uid == 65078 && !strcmp(got[3].path, "/t/bin/id-suid"));
        /* An ordinary exec: nothing. A setgid directory is no program. */
        feed(a, 1300, "audit(1.2:54): syscall=59 success=yes exit=0 pid=81 key=\"orbital\"", 0);
        feed(a, 1302, "audit(1.2:54): item=0 name=\"/usr/bin/true\" mode=0100755 nametype=NORMAL", 0);
        feed(a, 1302, "audit(1.2:54): item=1 name=\"/srv\" mode=042755 nametype=NORMAL", 0);
        feed(a, 1320, "audit(1.2:54): ", 0);
        assert(n_got == 4);
}

static void flood(struct kaudit_assembler *a)
{
        char text[128];

        n_got = 0;
        /* More open events than slots: the oldest go out early, none is lost. */
        feed(a, 1424, "audit(1.2:999): domain=5 status=allocated pid=90", 0);
        for (unsigned i = 0; i < 100; i++) {
                snprintf(text, sizeof(text), "audit(1.2:%u): domain=5 blockers=fs.read_file path=\"/f%u\"", 1000 + i, i);
                feed(a, 1423, text, i);
        }
        assert(n_got == 100 - KAUDIT_PENDING);
        kaudit_expire(a, 1000000, 20000);
        assert(n_got == 100);
        for (unsigned i = 0; i < 64; i++)
                assert(got[i].pid == 90 && atoi(got[i].path + 2) == (int)i);
}

static void broken(struct kaudit_assembler *a)
{
        static const char *const bad[] = {
                "", "audit(", "audit()", "audit(1.2:): x", "audit(1.2:x): pid=1", "audit(1.2:99999999999999999999): a",
                "audit(1.2:60", "audit(1.2:60): pid=", "audit(1.2:60): pid=-5 syscall=-1 exit=-999999 key=\"orbital",
                "audit(1.2:60): name=\"unterminated", "audit(1.2:60): name=ABC", "audit(1.2:60): =x =\"\" ==",
                "audit(1.2:60): domain=zz pid=99999999999999999999 blockers=",
                "noise audit(1.2:61): pid=1",
        };
        static const int types[] = {1300, 1302, 1320, 1326, 1423, 1424, 0, -1, 65535};

        n_got = 0;
        for (unsigned t = 0; t < sizeof(types) / sizeof(types[0]); t++)
                for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                        feed(a, types[t], bad[i], 0);
        kaudit_expire(a, 1000000, 20000);
        assert(n_got == 0); /* nothing well-formed enough to attribute */
}

/* Valid records, cut and mutated at random: no crash, no read past the
 * end (run under ASan in CI), and whatever comes out is printable. */
static void random_records(struct kaudit_assembler *a)
{
        static const char *const seeds[] = {
                "audit(1.2:70): arch=c000003e syscall=257 success=no exit=-30 pid=56 comm=\"svc\" key=\"orbital\"",
                "audit(1.2:70): item=0 name=\"/etc/\" nametype=PARENT",
                "audit(1.2:70): domain=110dfb351 blockers=fs.read_file path=2F7661722F74 dev=\"vda\" ino=12",
                "audit(1.2:70): domain=110dfb351 status=allocated mode=enforcing pid=4242 comm=\"x\"",
                "audit(1.2:70): pid=78 comm=\"svc\" arch=c000003e syscall=101 code=0x50001",
                "audit(1.2:70): ",
        };
        static const int types[] = {1300, 1302, 1423, 1424, 1326, 1320};
        unsigned seed = 12345;

        n_got = 0;
        for (unsigned i = 0; i < 20000; i++) {
                unsigned k = (seed = seed * 1103515245u + 12345u) >> 16, which = k % 6;
                size_t len = strlen(seeds[which]);
                char *buf = malloc(len ? len : 1);

                memcpy(buf, seeds[which], len);
                for (unsigned m = 0; m < 1 + k % 4; m++) {
                        seed = seed * 1103515245u + 12345u;
                        buf[(seed >> 8) % len] = (char)(seed >> 20);
                }
                seed = seed * 1103515245u + 12345u;
                kaudit_feed(a, types[(seed >> 16) % 6], buf, (seed >> 4) % (len + 1), i);
                free(buf);
        }
        kaudit_expire(a, 1u << 30, 0);
        for (unsigned i = 0; i < n_got && i < 64; i++)
                for (const char *s = got[i].path; *s; s++)
                        assert(*s >= 0x20 && *s < 0x7f);
}

int main(void)
{
        struct kaudit_assembler a;

        assert(kaudit_assembler_init(&a, collect, NULL) == 0);
        landlock_without_context(&a);
        landlock_with_context(&a);
        read_only_and_permissions(&a);
        not_ours(&a);
        seccomp_and_forks(&a);
        flood(&a);
        broken(&a);
        random_records(&a);
        kaudit_assembler_deinit(&a);
        printf("test-kaudit: ok\n");
        return 0;
}
