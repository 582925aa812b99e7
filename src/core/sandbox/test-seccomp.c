/* Unit test of the seccomp plan: each rule is tried for real in a forked
 * child that loads the filter, and compared with the same call made
 * without it (so a call that fails anyway here proves nothing and says
 * so); other ABIs and the kill action end the whole process; a violation
 * reaches /dev/kmsg and reads back; the record parser survives hostile
 * and cut lines. */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

static char *no_names[] = {NULL};

/* Child exit codes past any errno. */
#define EXIT_APPLY_FAILED 250
#define EXIT_WORKED 0

static struct sandbox_spec spec_of(char **allow, char **deny, enum sandbox_action action)
{
        return (struct sandbox_spec){
                .enabled = true,
                .read_only = no_names,
                .read_write = no_names,
                .syscalls_allow = allow ? allow : no_names,
                .syscalls_deny = deny ? deny : no_names,
                .on_violation = action,
        };
}

static struct seccomp_plan build(char **allow, char **deny, enum sandbox_action action, bool has_network)
{
        struct sandbox_spec spec = spec_of(allow, deny, action);
        struct seccomp_plan p;
        char why[128];
        int r;

        r = seccomp_plan_build(&spec, has_network, &p, why, sizeof(why));
        if (r < 0)
                fprintf(stderr, "seccomp_plan_build: %s (%s)\n", strerror(-r), why);
        assert(r == 0 && p.filter && p.len > 0);
        return p;
}

/*
 * Runs @fn in a child under @p (none if NULL) and returns its wait status.
 * @fn returns 0 or an errno.  The child leaves with _exit(): no atexit
 * handler (LeakSanitizer's among them) runs under the filter.
 */
static int run(const struct seccomp_plan *p, int (*fn)(void))
{
        struct rlimit no_core = {0, 0};
        int status, r;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        assert(pid >= 0);
        if (pid == 0) {
                setrlimit(RLIMIT_CORE, &no_core);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(EXIT_APPLY_FAILED);
                r = p ? seccomp_plan_apply(p) : 0;
                if (r < 0)
                        _exit(EXIT_APPLY_FAILED);
                _exit(fn());
        }
        assert(waitpid(pid, &status, 0) == pid);
        return status;
}

static int exit_code(int status)
{
        if (WIFSIGNALED(status))
                fprintf(stderr, "child died by signal %d\n", WTERMSIG(status));
        assert(WIFEXITED(status));
        assert(WEXITSTATUS(status) != EXIT_APPLY_FAILED);
        return WEXITSTATUS(status);
}

static bool killed_by_sigsys(int status)
{
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

/*
 * The filter must make @fn fail with EPERM.  If it fails that way without
 * the filter too (no privilege here), the check cannot tell: say so.
 */
static void expect_eperm(const struct seccomp_plan *p, int (*fn)(void), const char *what)
{
        assert(exit_code(run(p, fn)) == EPERM);
        if (exit_code(run(NULL, fn)) == EPERM)
                printf("note: %s fails with EPERM here even unfiltered: only the kill test covers it\n", what);
}

/* The filter must let @fn through: same result as without it. */
static void expect_same(const struct seccomp_plan *p, int (*fn)(void))
{
        int unfiltered = exit_code(run(NULL, fn));

        assert(unfiltered != EPERM);
        assert(exit_code(run(p, fn)) == unfiltered);
}

static int result(long r)
{
        return r < 0 ? errno : EXIT_WORKED;
}

static int do_ptrace(void)
{
        return result(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

static int do_mount(void)
{
        /* ENOENT for root, EPERM otherwise: never a mount. */
        return result(mount("orbital-test", "/nonexistent/orbital-test", "tmpfs", 0, NULL));
}

static int do_uname(void)
{
        struct utsname u;

        return result(uname(&u));
}

static int do_socket(int family)
{
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return errno;
        close(fd);
        return EXIT_WORKED;
}

static int do_socket_inet(void)
{
        return do_socket(AF_INET);
}

static int do_socket_inet6(void)
{
        return do_socket(AF_INET6);
}

static int do_socket_unix(void)
{
        return do_socket(AF_UNIX);
}

static int do_io_uring_setup(void)
{
        /* EFAULT unfiltered: no ring is made. */
        return result(syscall(SYS_io_uring_setup, 1, NULL));
}

static int do_personality_query(void)
{
        return result(personality(0xffffffff));
}

static int do_personality_linux(void)
{
        return result(personality(PER_LINUX));
}

static int do_personality_change(void)
{
        return result(personality(ADDR_NO_RANDOMIZE));
}

static int do_personality_high_bits(void)
{
        /* The kernel keeps the low 32 bits: this would be ADDR_NO_RANDOMIZE. */
        return result(syscall(SYS_personality, 0x100000000UL | ADDR_NO_RANDOMIZE));
}

static void quiet(void)
{
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

        if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
        }
}

static int do_exec_true(void)
{
        execl("/bin/true", "true", (char *)NULL);
        return errno;
}

/* uname(1) makes uname(2): the filter must outlive execve. */
static int do_exec_uname(void)
{
        quiet();
        execl("/bin/uname", "uname", (char *)NULL);
        return errno;
}

/* Runs @fn in a second thread (a filter must hold for every thread, and
 * a kill must take the process, not the thread).  Return: EXIT_WORKED,
 * EAGAIN if no thread could be made. */
static int in_thread(void *(*fn)(void *))
{
        pthread_t t;

        if (pthread_create(&t, NULL, fn, NULL))
                return EAGAIN;
        pthread_join(t, NULL);
        return EXIT_WORKED;
}

/* The parent's view of a clone whose child exits at once. */
static int cloned(pid_t pid)
{
        int status;

        if (pid < 0)
                return errno;
        if (pid == 0)
                _exit(0);
        waitpid(pid, &status, 0);
        return EXIT_WORKED;
}

/* Not ptrace: unfiltered, a traced thread would be ours to reap. */
static void *thread_socket_inet(void *arg)
{
        (void)arg;
        do_socket_inet();
        return NULL;
}

/* Killing the thread alone would let the main thread exit 0. */
static int do_socket_inet_in_thread(void)
{
        return in_thread(thread_socket_inet);
}

static int do_clone_flags(unsigned long flags)
{
        return cloned((pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0));
}

static int do_clone_plain(void)
{
        return do_clone_flags(0);
}

static int do_clone_newuts(void)
{
        return do_clone_flags(CLONE_NEWUTS);
}

static int do_clone_newuser(void)
{
        return do_clone_flags(CLONE_NEWUSER);
}

static int do_clone_newnet_among_others(void)
{
        return do_clone_flags(CLONE_NEWNET | CLONE_FILES | CLONE_FS);
}

static int do_clone3(void)
{
        struct {
                uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
        } args = {.exit_signal = SIGCHLD};

        return cloned((pid_t)syscall(SYS_clone3, &args, sizeof(args)));
}

static void *thread_nothing(void *arg)
{
        return arg;
}

/* glibc tries clone3() first and falls back to clone() on ENOSYS. */
static int do_pthread_create(void)
{
        return in_thread(thread_nothing);
}

static void test_namespace_clones(void)
{
        struct seccomp_plan p = build(NULL, NULL, SANDBOX_EPERM, false);
        char *allow[] = {"unshare", NULL};
        struct seccomp_plan open_ns = build(allow, NULL, SANDBOX_EPERM, false);

        expect_same(&p, do_clone_plain);
        expect_eperm(&p, do_clone_newuts, "clone(CLONE_NEWUTS)");
        expect_eperm(&p, do_clone_newuser, "clone(CLONE_NEWUSER)");
        expect_eperm(&p, do_clone_newnet_among_others, "clone(CLONE_NEWNET|...)");
        assert(exit_code(run(&p, do_clone3)) == ENOSYS);
        assert(exit_code(run(&p, do_pthread_create)) == EXIT_WORKED);
        expect_same(&open_ns, do_clone_newuser);
        assert(exit_code(run(&open_ns, do_clone3)) == exit_code(run(NULL, do_clone3)));
        seccomp_plan_free(&p);
        seccomp_plan_free(&open_ns);
}

static bool in_default_list(const char *name)
{
        for (const char *const *d = seccomp_default_deny; *d; d++)
                if (!strcmp(*d, name))
                        return true;
        return false;
}

static void test_default_list(void)
{
        static const char *const need[] = {"ptrace", "mount", "bpf", "kexec_load", "keyctl", "personality"};
        size_t n = 0;

        for (const char *const *name = seccomp_default_deny; *name; name++, n++)
                for (const char *const *other = name + 1; *other; other++)
                        assert(strcmp(*name, *other));
        assert(n >= 45);
        for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
                assert(in_default_list(need[i]));
}

static void test_default_denials(void)
{
        struct seccomp_plan p = build(NULL, NULL, SANDBOX_EPERM, false);

        expect_eperm(&p, do_ptrace, "ptrace");
        expect_eperm(&p, do_mount, "mount");
        expect_eperm(&p, do_socket_inet, "socket(AF_INET)");
        expect_eperm(&p, do_socket_inet6, "socket(AF_INET6)");
        expect_same(&p, do_socket_unix);
        expect_same(&p, do_uname);
        expect_eperm(&p, do_io_uring_setup, "io_uring_setup");
        expect_same(&p, do_personality_query);
        expect_same(&p, do_personality_linux);
        expect_eperm(&p, do_personality_change, "personality(ADDR_NO_RANDOMIZE)");
        expect_eperm(&p, do_personality_high_bits, "personality(1<<32 | ADDR_NO_RANDOMIZE)");
        assert(exit_code(run(&p, do_exec_true)) == 0);
        assert(exit_code(run(&p, do_exec_uname)) == 0);
        seccomp_plan_free(&p);
        assert(!p.filter && p.len == 0);
}

static void test_network(void)
{
        struct seccomp_plan p = build(NULL, NULL, SANDBOX_EPERM, true);

        expect_same(&p, do_socket_inet);
        expect_same(&p, do_socket_unix);
        expect_same(&p, do_io_uring_setup);
        expect_eperm(&p, do_ptrace, "ptrace");
        seccomp_plan_free(&p);
}

static void test_manifest_lists(void)
{
        char *deny[] = {"uname", NULL};
        char *allow[] = {"ptrace", "personality", "read", NULL};
        char *deny_socket[] = {"socket", NULL};
        char *allow_uring[] = {"io_uring_setup", NULL};
        char *both[] = {"ptrace", NULL};
        struct seccomp_plan p;

        p = build(allow, deny, SANDBOX_EPERM, false);
        expect_eperm(&p, do_uname, "uname");
        assert(exit_code(run(&p, do_exec_uname)) != 0);
        expect_same(&p, do_ptrace);
        expect_same(&p, do_personality_change);
        expect_eperm(&p, do_mount, "mount");
        seccomp_plan_free(&p);

        /* An explicit deny beats the allow list. */
        p = build(both, both, SANDBOX_EPERM, true);
        expect_eperm(&p, do_ptrace, "ptrace");
        seccomp_plan_free(&p);

        /* An outright socket() denial covers AF_UNIX too. */
        p = build(NULL, deny_socket, SANDBOX_EPERM, false);
        expect_eperm(&p, do_socket_unix, "socket(AF_UNIX)");
        seccomp_plan_free(&p);

        /* The allow list never lifts the network rule. */
        p = build(allow_uring, NULL, SANDBOX_EPERM, false);
        expect_eperm(&p, do_io_uring_setup, "io_uring_setup");
        seccomp_plan_free(&p);
}

static void test_kill(void)
{
        struct seccomp_plan p = build(NULL, NULL, SANDBOX_KILL, false);

        assert(killed_by_sigsys(run(&p, do_ptrace)));
        assert(killed_by_sigsys(run(&p, do_mount)));
        assert(killed_by_sigsys(run(&p, do_socket_inet)));
        assert(killed_by_sigsys(run(&p, do_socket_inet_in_thread)));
        assert(exit_code(run(NULL, do_socket_inet_in_thread)) == 0);
        assert(exit_code(run(&p, do_socket_unix)) == 0);
        assert(exit_code(run(&p, do_exec_true)) == 0);
        seccomp_plan_free(&p);
}

#if defined(__x86_64__)
/* x32 numbers carry bit 30; the kernel may not even support them. */
static int do_x32_getpid(void)
{
        return result(syscall(0x40000000 | SYS_getpid));
}

static void *thread_x32(void *arg)
{
        (void)arg;
        do_x32_getpid();
        return NULL;
}

static int do_x32_in_thread(void)
{
        return in_thread(thread_x32);
}

/* getpid through the i386 entry: 20 is its number there. */
static int do_int80_getpid(void)
{
        long r = 20;

        quiet(); /* a kernel without the entry faults: no sanitizer report */
        __asm__ volatile("int $0x80" : "+a"(r) : : "memory", "r8", "r9", "r10", "r11");
        return r == getpid() ? EXIT_WORKED : EINVAL;
}

static void test_other_abis(void)
{
        struct seccomp_plan p = build(NULL, NULL, SANDBOX_EPERM, true);
        int unfiltered = run(NULL, do_int80_getpid);

        /* Even with on_violation EPERM, the whole process goes. */
        assert(killed_by_sigsys(run(&p, do_x32_getpid)));
        assert(killed_by_sigsys(run(&p, do_x32_in_thread)));
        if (WIFEXITED(unfiltered) && WEXITSTATUS(unfiltered) == 0)
                assert(killed_by_sigsys(run(&p, do_int80_getpid)));
        else
                printf("note: no i386 entry on this kernel: int 0x80 not tested\n");
        seccomp_plan_free(&p);
}
#else
static void test_other_abis(void)
{
        printf("note: not x86_64: x32/i386 not tested\n");
}
#endif

static void test_refused(void)
{
        char *unknown[] = {"read", "xyz_not_a_call", NULL};
        char *odd[] = {"bad\nname", NULL};
        struct seccomp_plan p = {.filter = (void *)1, .len = 7};
        struct sandbox_spec spec;
        char why[128], tiny[8];

        spec = spec_of(unknown, NULL, SANDBOX_EPERM);
        assert(seccomp_plan_build(&spec, false, &p, why, sizeof(why)) == -EINVAL);
        assert(!strcmp(why, "unknown system call 'xyz_not_a_call'"));
        assert(!p.filter && p.len == 0);
        spec = spec_of(NULL, unknown, SANDBOX_KILL);
        assert(seccomp_plan_build(&spec, true, &p, why, sizeof(why)) == -EINVAL);
        assert(!strcmp(why, "unknown system call 'xyz_not_a_call'"));
        assert(seccomp_plan_build(&spec, true, &p, tiny, sizeof(tiny)) == -EINVAL);
        assert(!strcmp(tiny, "unknown"));
        assert(seccomp_plan_build(&spec, true, &p, NULL, 0) == -EINVAL);
        spec = spec_of(NULL, odd, SANDBOX_EPERM);
        assert(seccomp_plan_build(&spec, true, &p, why, sizeof(why)) == -EINVAL);
        assert(!strcmp(why, "unknown system call 'bad?name'"));
#if defined(__x86_64__)
        /* libseccomp knows socketcall, but not as an x86_64 call. */
        char *pseudo[] = {"socketcall", NULL};

        spec = spec_of(NULL, pseudo, SANDBOX_EPERM);
        assert(seccomp_plan_build(&spec, true, &p, why, sizeof(why)) == -EINVAL);
        assert(strstr(why, "'socketcall'"));
#endif
        spec = spec_of(NULL, NULL, (enum sandbox_action)7);
        assert(seccomp_plan_build(&spec, true, &p, why, sizeof(why)) == -EINVAL);
        /* Sandbox off: an empty plan that loads nothing. */
        spec = spec_of(NULL, NULL, SANDBOX_EPERM);
        spec.enabled = false;
        assert(seccomp_plan_build(&spec, false, &p, why, sizeof(why)) == 0);
        assert(!p.filter && p.len == 0);
        assert(exit_code(run(&p, do_ptrace)) == exit_code(run(NULL, do_ptrace)));
        seccomp_plan_free(&p);
        seccomp_plan_free(NULL);
}

/* ---- the kernel log ---- */

static bool kmsg_logs_errno(void)
{
        char buf[256] = "";
        FILE *f = fopen("/proc/sys/kernel/seccomp/actions_logged", "re");

        if (!f)
                return false;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        fclose(f);
        return strstr(buf, "errno") != NULL;
}

static bool find_record(int fd, pid_t pid, struct seccomp_event *ev)
{
        struct timespec pause = {0, 10 * 1000 * 1000};
        char rec[8192];
        ssize_t n;

        for (int tries = 0; tries < 100; tries++) {
                n = read(fd, rec, sizeof(rec));
                if (n < 0 && errno == EAGAIN) {
                        nanosleep(&pause, NULL);
                        continue;
                }
                if (n < 0 && errno == EPIPE) /* overwritten: go on */
                        continue;
                assert(n > 0);
                if (seccomp_event_parse(rec, (size_t)n, ev) && ev->pid == pid) {
                        printf("kmsg: %.*s", (int)n, rec);
                        return true;
                }
        }
        return false;
}

/* A child that makes the denied uname(); returns its pid. */
static pid_t violate(const struct seccomp_plan *p)
{
        int status;
        pid_t pid;

        pid = fork();
        assert(pid >= 0);
        if (pid == 0) {
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                _exit(seccomp_plan_apply(p) < 0 ? EXIT_APPLY_FAILED : do_uname());
        }
        assert(waitpid(pid, &status, 0) == pid);
        assert(WIFEXITED(status) && WEXITSTATUS(status) == EPERM);
        return pid;
}

static unsigned read_sysctl(const char *path, unsigned dflt)
{
        FILE *f = fopen(path, "re");
        unsigned v;

        if (!f)
                return dflt;
        if (fscanf(f, "%u", &v) != 1)
                v = dflt;
        fclose(f);
        return v;
}

/*
 * With no audit daemon the kernel prints about ten records every five
 * seconds (printk_ratelimit) and drops the rest: this test's other
 * children, or the sanitizer build running beside it, may have spent the
 * budget.  So a lost record is retried in a fresh window before it fails.
 */
static void test_kmsg(void)
{
        unsigned window = read_sysctl("/proc/sys/kernel/printk_ratelimit", 5) + 1;
        char *deny[] = {"uname", NULL};
        struct seccomp_plan p;
        struct seccomp_event ev;
        char comm[17] = "";
        bool found = false;
        int fd;
        pid_t pid;

        fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 || !kmsg_logs_errno()) {
                printf("note: /dev/kmsg unreadable or errno actions not logged: kernel log not tested\n");
                if (fd >= 0)
                        close(fd);
                return;
        }
        assert(lseek(fd, 0, SEEK_END) >= 0);
        p = build(NULL, deny, SANDBOX_EPERM, true);
        for (int attempt = 0; attempt < 4 && !found; attempt++) {
                if (attempt) {
                        printf("note: no record (rate limit?): again in %us\n", window);
                        sleep(window);
                }
                pid = violate(&p);
                found = find_record(fd, pid, &ev);
        }
        assert(found);
        assert(!strcmp(ev.syscall, "uname") && ev.syscall_nr == SYS_uname);
        assert(ev.action == SECCOMP_RET_ERRNO);
        assert(prctl(PR_GET_NAME, comm, 0, 0, 0) == 0);
        assert(!strcmp(ev.comm, comm));
        close(fd);
        seccomp_plan_free(&p);
}

/* ---- parsing records ---- */

/* An exact-size heap copy: a read past @s's end is a sanitizer error. */
static bool parse(const char *s, struct seccomp_event *ev)
{
        size_t n = strlen(s);
        char *copy = malloc(n ? n : 1);
        bool ok;

        assert(copy);
        memcpy(copy, s, n);
        ok = seccomp_event_parse(copy, n, ev);
        free(copy);
        return ok;
}

#define REAL_BODY                                                                                                      \
        "audit: type=1326 audit(1796069211.871:2): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=16907 "              \
        "comm=\"probe\" exe=\"/tmp/seccomp-build/probe\" sig=0 arch=c000003e syscall=63 compat=0 "                     \
        "ip=0x7ff981c50b07 code=0x50000"
#define KMSG_PREFIX "5,1870,7870432634,-;"

static void test_parse_real(void)
{
        struct seccomp_event ev;

        /* As read from this machine's /dev/kmsg (a denied uname). */
        assert(parse(KMSG_PREFIX REAL_BODY "\n", &ev));
        assert(ev.pid == 16907 && ev.syscall_nr == 63 && !strcmp(ev.syscall, "uname"));
        assert(!strcmp(ev.comm, "probe") && ev.action == SECCOMP_RET_ERRNO);
        memset(&ev, 0, sizeof(ev));
        assert(parse(REAL_BODY, &ev) && ev.pid == 16907 && !strcmp(ev.syscall, "uname"));
        assert(parse("[ 7870.432634] " REAL_BODY, &ev) && ev.pid == 16907);
        /* kmsg continuation lines are not part of the record. */
        assert(parse(KMSG_PREFIX REAL_BODY "\n pid=1\n", &ev) && ev.pid == 16907);
        assert(parse("6,339,5140900,-,caller=T1;" REAL_BODY, &ev));
        /* The kill action, subj= and a name with a space (hex). */
        assert(parse("audit: type=1326 audit(1700000000.123:45): auid=4294967295 uid=0 gid=0 ses=4294967295 "
                     "subj=unconfined pid=1234 comm=6D792070726F67 exe=\"/usr/bin/dash\" sig=31 arch=c000003e "
                     "syscall=101 compat=0 ip=0x7f0000000000 code=0x80000000",
                     &ev));
        assert(ev.pid == 1234 && !strcmp(ev.syscall, "ptrace") && !strcmp(ev.comm, "my prog"));
        assert(ev.action == SECCOMP_RET_KILL_PROCESS);
        /* Unknown number; i386 numbering for an i386 record (20 is getpid). */
        assert(parse("audit: type=1326 audit(1.2:3): pid=5 syscall=99999 code=0x7ffc0000", &ev));
        assert(!strcmp(ev.syscall, "#99999") && ev.action == SECCOMP_RET_LOG && ev.comm[0] == '\0');
        assert(parse("audit: type=1326 audit(1.2:3): pid=5 arch=40000003 syscall=20 code=0x0", &ev));
        assert(!strcmp(ev.syscall, "getpid") && ev.action == SECCOMP_RET_KILL_THREAD);
        assert(parse("audit: type=1326 audit(1.2:3): pid=5 syscall=-1 code=0x50001", &ev));
        assert(!strcmp(ev.syscall, "#-1") && ev.syscall_nr == -1 && ev.action == SECCOMP_RET_ERRNO);
}

static void test_parse_hostile(void)
{
        static const char *const bad[] = {
                "",
                "5,1,2,-",
                "5,1,2,-;",
                "audit: type=1326",
                "audit: type=1300 audit(1.2:3): pid=5 syscall=1 code=0x0",
                "audit: type=13260 audit(1.2:3): pid=5 syscall=1 code=0x0",
                "audit: type=1326 pid=5 syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3):pid=5 syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 syscall=1",
                "audit: type=1326 audit(1.2:3): pid=99999999999999999999999 syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=2147483648 syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=0 syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=-5 syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid= syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5x syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 syscall=18446744073709551617 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 syscall=-2147483649 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 syscall=- code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 syscall=1 code=0x1ffffffff",
                "audit: type=1326 audit(1.2:3): pid=5 syscall=1 code=50000",
                "audit: type=1326 audit(1.2:3): pid=5 syscall=1 code=0x",
                "audit: type=1326 audit(1.2:3): pid=5 syscall=1 code=0x0 pid=6",
                "audit: type=1326 audit(1.2:3): pid=5 comm=\"sh syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 comm=sh\" syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 comm=\" syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 comm=\"a\"b\" syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 comm=ABC syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 comm=ZZ syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5 arch=1c000003e syscall=1 code=0x0",
                "audit: type=1326 audit(1.2:3): pid=5\n syscall=1 code=0x0",
                "[ 12.5 audit: type=1326 audit(1.2:3): pid=5 syscall=1 code=0x0",
                "x" REAL_BODY,
        };
        struct seccomp_event ev, untouched;

        memset(&untouched, 0x5a, sizeof(untouched));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ev = untouched;
                if (parse(bad[i], &ev))
                        fprintf(stderr, "accepted: %s\n", bad[i]);
                assert(!parse(bad[i], &ev));
                assert(!memcmp(&ev, &untouched, sizeof(ev)));
        }
        /* Look-alike keys are not pid=; an empty quoted comm is fine. */
        assert(parse("audit: type=1326 audit(1.2:3): ppid=9 xpid=8 pid=5 comm=\"\" syscall=1 code=0x0", &ev));
        assert(ev.pid == 5 && ev.comm[0] == '\0');
        /* Unprintable bytes and an over-long name are cut down to fit. */
        assert(parse("audit: type=1326 audit(1.2:3): pid=5 comm=\"\x1b[31mred\" syscall=1 code=0x0", &ev));
        assert(!strcmp(ev.comm, "?[31mred"));
        assert(parse("audit: type=1326 audit(1.2:3): pid=5 comm=\"0123456789012345678901234567890123456789\" "
                     "syscall=1 code=0x0",
                     &ev));
        assert(strlen(ev.comm) == sizeof(ev.comm) - 1 && !strncmp(ev.comm, "0123456789", 10));
        assert(parse("audit: type=1326 audit(1.2:3): pid=5 comm=0A0D00FF syscall=1 code=0x0", &ev));
        assert(!strcmp(ev.comm, "????"));
}

/* Every cut of a real record: no overread, and no record without code=. */
static void test_parse_truncated(void)
{
        const char *full = KMSG_PREFIX REAL_BODY;
        size_t n = strlen(full), code_at = (size_t)(strstr(full, "code=0x") - full) + strlen("code=0x");
        struct seccomp_event ev;
        char *cut;
        bool ok;

        for (size_t len = 0; len <= n; len++) {
                cut = malloc(len ? len : 1);
                assert(cut);
                memcpy(cut, full, len);
                ok = seccomp_event_parse(cut, len, &ev);
                free(cut);
                assert(ok == (len > code_at));
        }
}

int main(void)
{
        test_kmsg();
        test_default_list();
        test_refused();
        test_default_denials();
        test_network();
        test_namespace_clones();
        test_manifest_lists();
        test_kill();
        test_other_abis();
        test_parse_real();
        test_parse_hostile();
        test_parse_truncated();
        printf("test-seccomp: ok\n");
        return 0;
}
