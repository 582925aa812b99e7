/* Unit test of the capability plan: the permission table, and forked root
 * children that apply a plan around a switch to uid 65534 and then hold
 * exactly the kept capabilities, in every set and after execve too.  A
 * capability shows itself by what it allows: with CAP_NET_BIND_SERVICE
 * kept, bind() to port 80 works; without it, EACCES; CAP_NET_RAW is never
 * kept, so a raw socket fails with EPERM (and works in the same child
 * before the plan is applied, so the failure is the plan's).
 *
 * Each child gets a network namespace of its own when it can: port 80 is
 * then free, and ip_unprivileged_port_start is set to 1024 there whatever
 * the host's is.  Needs root; skips otherwise. */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#define BIT(cap) (UINT64_C(1) << (cap))
#define NOBODY 65534
#define LOW_PORT 80

static bool has_netns; /* children unshare their network namespace */

static void test_mappings(void)
{
        char *caps[] = {"provide:echo", "call:storage:r", "net.configure", "iface.manage", "net.bind-low",
                        "storage:web", "no.such-permission", NULL};
        char *colon_only[] = {"net.configure:x", "call:net.raw", NULL};
        char *empty[] = {NULL};
        struct caps_plan plan;
        size_t n = 0;

        for (const struct caps_mapping *m = caps_mappings; m->permission; m++, n++) {
                assert(m->cap >= 0 && m->cap <= CAP_LAST_CAP);
                assert(!strncmp(m->cap_name, "CAP_", 4));
        }
        assert(n == 10);
        assert(caps_plan_build(caps, &plan) == 0);
        /* Two permissions share CAP_NET_ADMIN; the bus ones keep nothing. */
        assert(plan.keep == (BIT(CAP_NET_ADMIN) | BIT(CAP_NET_BIND_SERVICE)));
        assert(caps_plan_build(colon_only, &plan) == 0 && plan.keep == 0);
        assert(caps_plan_build(empty, &plan) == 0 && plan.keep == 0);
        assert(caps_plan_build(NULL, &plan) == 0 && plan.keep == 0);
}

static void test_mapping_names(void)
{
        static const struct {
                const char *permission;
                int cap;
                const char *name;
        } want[] = {
                {"net.configure", CAP_NET_ADMIN, "CAP_NET_ADMIN"},
                {"iface.manage", CAP_NET_ADMIN, "CAP_NET_ADMIN"},
                {"net.bind-low", CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE"},
                {"net.raw", CAP_NET_RAW, "CAP_NET_RAW"},
                {"time.set", CAP_SYS_TIME, "CAP_SYS_TIME"},
                {"sys.nice", CAP_SYS_NICE, "CAP_SYS_NICE"},
                {"fs.chown", CAP_CHOWN, "CAP_CHOWN"},
                {"fs.override", CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE"},
                {"kill.any", CAP_KILL, "CAP_KILL"},
                {"ipc.lock", CAP_IPC_LOCK, "CAP_IPC_LOCK"},
        };

        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                const struct caps_mapping *m = &caps_mappings[i];

                assert(!strcmp(m->permission, want[i].permission));
                assert(m->cap == want[i].cap && !strcmp(m->cap_name, want[i].name));
        }
}

/* The hex value of @field ("CapEff") in /proc/self/status. */
static uint64_t status_caps(const char *field)
{
        char buf[8192], key[16];
        ssize_t n;
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        const char *p;

        assert(fd >= 0);
        n = read(fd, buf, sizeof(buf) - 1);
        assert(n > 0);
        close(fd);
        buf[n] = '\0';
        snprintf(key, sizeof(key), "\n%s:\t", field);
        p = strstr(buf, key);
        assert(p);
        return strtoull(p + strlen(key), NULL, 16);
}

static uint64_t effective_caps(void)
{
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

        assert(syscall(SYS_capget, &hdr, data) == 0);
        return data[0].effective | (uint64_t)data[1].effective << 32;
}

static int try_bind_low(void)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(LOW_PORT),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

        assert(s >= 0);
        r = bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
        close(s);
        return r;
}

static int try_raw_socket(void)
{
        int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

        if (s < 0)
                return -errno;
        close(s);
        return 0;
}

/* The exact state a service must find, before and after execve. */
static void check_holds_exactly(uint64_t keep, bool check_ambient)
{
        assert(status_caps("CapBnd") == keep);
        assert(status_caps("CapPrm") == keep);
        assert(status_caps("CapEff") == keep);
        assert(effective_caps() == keep);
        if (check_ambient) {
                assert(status_caps("CapInh") == keep);
                assert(status_caps("CapAmb") == keep);
        }
        assert(try_bind_low() == (keep & BIT(CAP_NET_BIND_SERVICE) ? 0 : -EACCES));
        assert(try_raw_socket() == (keep & BIT(CAP_NET_RAW) ? 0 : -EPERM));
}

/* A network of our own with lo up and the usual low-port limit, and proof
 * that root may still do what the plan is to forbid. */
static void child_network(void)
{
        struct ifreq ifr = {.ifr_name = "lo"};
        int s, fd;

        if (has_netns) {
                assert(unshare(CLONE_NEWNET) == 0);
                fd = open("/proc/sys/net/ipv4/ip_unprivileged_port_start", O_WRONLY | O_CLOEXEC);
                assert(fd >= 0 && write(fd, "1024", 4) == 4);
                close(fd);
                s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                assert(s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0);
                ifr.ifr_flags |= IFF_UP;
                assert(ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
                close(s);
        }
        assert(try_bind_low() == 0);
        assert(try_raw_socket() == 0);
}

static void drop_ids(void)
{
        assert(setgroups(0, NULL) == 0);
        assert(setresgid(NOBODY, NOBODY, NOBODY) == 0);
        assert(setresuid(NOBODY, NOBODY, NOBODY) == 0);
}

/* Re-run this binary with "--check KEEP": the sets must survive execve,
 * under no_new_privs as spawn.c sets it. */
static void exec_check(int exe, uint64_t keep, bool as_root)
{
        char arg[32];
        char *argv[] = {"test-caps", as_root ? "--check-root" : "--check", arg, NULL};
        extern char **environ;

        snprintf(arg, sizeof(arg), "%llu", (unsigned long long)keep);
        assert(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        syscall(SYS_execveat, exe, "", argv, environ, AT_EMPTY_PATH);
        perror("execveat");
        abort();
}

static pid_t fork_child(void)
{
        pid_t pid = fork();

        assert(pid >= 0);
        return pid;
}

static void wait_ok(pid_t pid)
{
        int status;

        assert(waitpid(pid, &status, 0) == pid);
        assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The spawn order (sandbox.h): bounding set, ids, kept capabilities. */
static void test_service_user(uint64_t keep)
{
        struct caps_plan plan = {.keep = keep};
        int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        pid_t pid;

        assert(exe >= 0);
        pid = fork_child();
        if (pid == 0) {
                child_network();
                assert(caps_plan_apply_before_ids(&plan) == 0);
                drop_ids();
                assert(caps_plan_apply_after_ids(&plan) == 0);
                assert(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
                check_holds_exactly(keep, true);
                exec_check(exe, keep, false);
        }
        close(exe);
        wait_ok(pid);
}

/* A service left as root: at execve root gets the bounding set, which the
 * plan has cut to the kept set. */
static void test_service_root(uint64_t keep)
{
        struct caps_plan plan = {.keep = keep};
        int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        pid_t pid;

        assert(exe >= 0);
        pid = fork_child();
        if (pid == 0) {
                child_network();
                assert(caps_plan_apply_before_ids(&plan) == 0);
                assert(caps_plan_apply_after_ids(&plan) == 0);
                check_holds_exactly(keep, true);
                exec_check(exe, keep, true);
        }
        close(exe);
        wait_ok(pid);
}

/* Without PR_SET_KEEPCAPS the uid change empties the permitted set, and
 * nothing can be raised back: the documented -EPERM. */
static void test_after_ids_alone_fails(void)
{
        struct caps_plan plan = {.keep = BIT(CAP_NET_BIND_SERVICE)};
        pid_t pid = fork_child();

        if (pid == 0) {
                drop_ids();
                assert(caps_plan_apply_after_ids(&plan) == -EPERM);
                _exit(0);
        }
        wait_ok(pid);
}

static int check_after_exec(const char *mode, const char *arg)
{
        uint64_t keep = strtoull(arg, NULL, 10);
        bool as_root = !strcmp(mode, "--check-root");

        assert(as_root ? getuid() == 0 : getuid() == NOBODY && geteuid() == NOBODY);
        /* Root's exec recomputes inheritable and ambient its own way; a
         * user's must carry them over unchanged. */
        check_holds_exactly(keep, !as_root);
        return 0;
}

/* Root with the capabilities this test uses to set up its children. */
static bool can_run(const char **why)
{
        uint64_t need = BIT(CAP_SETUID) | BIT(CAP_SETGID) | BIT(CAP_SETPCAP) | BIT(CAP_NET_BIND_SERVICE) |
                        BIT(CAP_NET_RAW);

        if (geteuid() != 0) {
                *why = "needs root (it switches to uid 65534 and binds port 80)";
                return false;
        }
        if ((effective_caps() & need) != need) {
                *why = "root lacks CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_NET_BIND_SERVICE or CAP_NET_RAW";
                return false;
        }
        return true;
}

/* Can a child get a network namespace?  Otherwise the host's must keep
 * port 80 privileged. */
static bool probe_netns(const char **why)
{
        pid_t pid = fork_child();
        int status;
        char buf[16] = "";
        FILE *f;

        if (pid == 0)
                _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
        assert(waitpid(pid, &status, 0) == pid);
        has_netns = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (has_netns)
                return true;
        f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
        if (f && fgets(buf, sizeof(buf), f) && atoi(buf) <= LOW_PORT)
                *why = "no network namespace, and the host lets anyone bind port 80";
        if (f)
                fclose(f);
        return !*why;
}

int main(int argc, char **argv)
{
        const char *why = NULL;

        if (argc == 3)
                return check_after_exec(argv[1], argv[2]);
        test_mappings();
        test_mapping_names();
        if (!can_run(&why) || !probe_netns(&why)) {
                printf("SKIP: test-caps: %s (the table was tested)\n", why);
                return 0;
        }
        test_service_user(BIT(CAP_NET_BIND_SERVICE));
        test_service_user(0);
        test_service_user(BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL));
        test_service_root(BIT(CAP_NET_BIND_SERVICE));
        test_service_root(0);
        test_after_ids_alone_fails();
        printf("test-caps: ok%s\n", has_netns ? "" : " (in the host's network namespace)");
        return 0;
}
