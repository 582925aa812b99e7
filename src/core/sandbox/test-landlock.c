/* Unit test of the Landlock plan: a forked child applies a real ruleset and
 * finds the system readable but not writable, its read_write tree and /tmp
 * writable, its read_only tree readable only, an undeclared tree closed,
 * and programs still executable; the rights of later ABIs (REFER,
 * TRUNCATE, IOCTL_DEV) are handled when the kernel knows them.  The same
 * accesses are first shown to work without the ruleset, so each denial is
 * Landlock's.  Bad manifest paths and a kernel without Landlock (faked
 * with seccomp) are refused.
 *
 * The trees live in /var/tmp: below /tmp everything is allowed.  Landlock
 * needs no privilege (no_new_privs suffices), so this runs as any user;
 * it skips only on a kernel without Landlock. */
#undef NDEBUG
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

struct tree {
        char base[64];           /* /var/tmp/test-landlock.XXXXXX */
        char tmp[64];            /* /tmp/test-landlock.XXXXXX */
        char rw[128], ro[128], hidden[128];
        char ro_file[160];       /* in ro */
        char secret[160];        /* in hidden: undeclared */
        char single_ro[160];     /* in hidden, declared read_only as a file */
        char single_rw[160];     /* in hidden, declared read_write as a file */
        const char *system_file; /* a file below /etc */
        bool has_ptmx;           /* /dev/ptmx opens and answers TIOCGPTN */
        int abi;
};

static char *empty[] = {NULL};

static struct sandbox_spec spec_of(char **read_only, char **read_write)
{
        return (struct sandbox_spec){.enabled = true, .read_only = read_only, .read_write = read_write,
                                     .syscalls_allow = empty, .syscalls_deny = empty};
}

/* 0 or -errno of open(@path, @flags); creates with mode 0644. */
static int try_open(const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

static int try_mkdir(const char *path)
{
        return mkdir(path, 0755) < 0 ? -errno : 0;
}

static void write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        assert(fd >= 0);
        assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        close(fd);
}

static unsigned count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        unsigned n = 0;

        assert(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

/* 0 or -errno of a TIOCGPTN ioctl on /dev/ptmx, a device ioctl Landlock
 * does not always allow; 1 if /dev/ptmx does not open for reading. */
static int try_ptmx_ioctl(void)
{
        unsigned n;
        int r, fd = open("/dev/ptmx", O_RDONLY | O_NOCTTY | O_CLOEXEC);

        if (fd < 0)
                return 1;
        r = ioctl(fd, TIOCGPTN, &n) < 0 ? -errno : 0;
        close(fd);
        return r;
}

/* -errno of a terminal ioctl on /dev/null: ENOTTY from the driver, or
 * EACCES from Landlock. */
static int try_null_ioctl(void)
{
        unsigned n;
        int r, fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        assert(fd >= 0);
        r = ioctl(fd, TIOCGPTN, &n) < 0 ? -errno : 0;
        close(fd);
        return r;
}

static void path_join(char *buf, size_t size, const char *dir, const char *name)
{
        int n = snprintf(buf, size, "%s/%s", dir, name);

        assert(n > 0 && (size_t)n < size);
}

static void tree_make(struct tree *t)
{
        snprintf(t->base, sizeof(t->base), "/var/tmp/test-landlock.XXXXXX");
        snprintf(t->tmp, sizeof(t->tmp), "/tmp/test-landlock.XXXXXX");
        assert(mkdtemp(t->base) && mkdtemp(t->tmp));
        path_join(t->rw, sizeof(t->rw), t->base, "rw");
        path_join(t->ro, sizeof(t->ro), t->base, "ro");
        path_join(t->hidden, sizeof(t->hidden), t->base, "hidden");
        assert(try_mkdir(t->rw) == 0 && try_mkdir(t->ro) == 0 && try_mkdir(t->hidden) == 0);
        path_join(t->ro_file, sizeof(t->ro_file), t->ro, "file");
        path_join(t->secret, sizeof(t->secret), t->hidden, "secret");
        path_join(t->single_ro, sizeof(t->single_ro), t->hidden, "single-ro");
        path_join(t->single_rw, sizeof(t->single_rw), t->hidden, "single-rw");
        write_file(t->ro_file, "ro\n");
        write_file(t->secret, "secret\n");
        write_file(t->single_ro, "single\n");
        write_file(t->single_rw, "single\n");
        t->system_file = access("/etc/hostname", R_OK) == 0 ? "/etc/hostname" : "/etc/passwd";
        t->has_ptmx = try_ptmx_ioctl() == 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st, (void)type, (void)ftw;
        return remove(path);
}

static void tree_remove(struct tree *t)
{
        assert(nftw(t->base, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
        assert(nftw(t->tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

/* Run @fn in a child; it passes when the child exits 0 (a failed assert
 * aborts it). */
static void in_child(void (*fn)(const void *), const void *arg)
{
        int status;
        pid_t pid = fork();

        assert(pid >= 0);
        if (pid == 0) {
                fn(arg);
                _exit(0);
        }
        assert(waitpid(pid, &status, 0) == pid);
        assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int run(char *const argv[])
{
        int status;
        pid_t pid = fork();

        assert(pid >= 0);
        if (pid == 0) {
                execv(argv[0], argv);
                _exit(127);
        }
        assert(waitpid(pid, &status, 0) == pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Without a ruleset every access the sandboxed child is refused works:
 * the denials below are Landlock's, not the file modes'. */
static void check_unconfined(const struct tree *t)
{
        char path[200];

        assert(try_open(t->secret, O_RDONLY) == 0);
        assert(try_open(t->ro_file, O_WRONLY) == 0);
        path_join(path, sizeof(path), t->ro, "new");
        assert(try_open(path, O_WRONLY | O_CREAT) == 0);
        assert(unlink(path) == 0);
        assert(try_open(t->single_ro, O_WRONLY) == 0);
        assert(truncate(t->ro_file, 3) == 0);
}

static void check_rw(const struct tree *t)
{
        char path[200], path2[200];

        path_join(path, sizeof(path), t->rw, "new");
        path_join(path2, sizeof(path2), t->rw, "renamed");
        assert(try_open(path, O_WRONLY | O_CREAT | O_TRUNC) == 0);
        assert(rename(path, path2) == 0 && unlink(path2) == 0);
        path_join(path, sizeof(path), t->rw, "sub");
        assert(try_mkdir(path) == 0 && rmdir(path) == 0);
        path_join(path, sizeof(path), t->tmp, "new");
        assert(try_open(path, O_WRONLY | O_CREAT) == 0 && unlink(path) == 0);
        assert(try_open("/dev/null", O_WRONLY | O_TRUNC) == 0);
        assert(try_open("/dev/urandom", O_RDONLY) == 0);
        /* A file declared read_write: writable, its directory not. */
        assert(try_open(t->single_rw, O_RDWR) == 0);
        assert(truncate(t->single_rw, 0) == 0);
}

/* The rights of later ABIs are handled: without REFER a rename across
 * directories is always refused (EXDEV), without TRUNCATE truncate(2) is
 * never, without IOCTL_DEV device ioctls are never. */
static void check_abi_rights(const struct tree *t)
{
        char from[200], to[200];

        if (t->abi >= 2) {
                path_join(from, sizeof(from), t->rw, "moving");
                path_join(to, sizeof(to), t->tmp, "moved");
                assert(try_open(from, O_WRONLY | O_CREAT) == 0);
                assert(rename(from, to) == 0 && rename(to, from) == 0 && unlink(from) == 0);
        }
        if (t->abi >= 3)
                assert(truncate(t->ro_file, 3) < 0 && errno == EACCES);
        if (t->abi >= 5 && t->has_ptmx)
                assert(try_ptmx_ioctl() == -EACCES);
        /* ... but on the harmless devices ioctls reach the driver. */
        if (t->abi >= 5)
                assert(try_null_ioctl() == -ENOTTY);
}

static void check_ro(const struct tree *t)
{
        char path[200];

        assert(try_open(t->system_file, O_RDONLY) == 0);
        assert(try_open(t->system_file, O_WRONLY) == -EACCES);
        assert(try_open(t->ro, O_RDONLY | O_DIRECTORY) == 0);
        assert(try_open(t->ro_file, O_RDONLY) == 0);
        assert(try_open(t->ro_file, O_WRONLY) == -EACCES);
        path_join(path, sizeof(path), t->ro, "new");
        assert(try_open(path, O_WRONLY | O_CREAT) == -EACCES);
        assert(try_mkdir(path) == -EACCES);
        assert(unlink(t->ro_file) < 0 && errno == EACCES);
        /* A file declared read_only: readable, not writable. */
        assert(try_open(t->single_ro, O_RDONLY) == 0);
        assert(try_open(t->single_ro, O_WRONLY) == -EACCES);
}

static void check_hidden(const struct tree *t)
{
        char path[200];

        assert(try_open(t->secret, O_RDONLY) == -EACCES);
        assert(try_open(t->hidden, O_RDONLY | O_DIRECTORY) == -EACCES);
        path_join(path, sizeof(path), t->hidden, "new");
        assert(try_open(path, O_WRONLY | O_CREAT) == -EACCES);
        path_join(path, sizeof(path), t->base, "new");
        assert(try_mkdir(path) == -EACCES);
}

static void check_exec(const struct tree *t)
{
        char *true_argv[] = {"/bin/true", NULL};
        /* The domain is inherited across execve: a shell in it reads the
         * read_only file, writes the read_write tree, cannot read secret. */
        char *sh_argv[] = {"/bin/sh", "-c",
                           "cat \"$1\" >/dev/null && echo ok >\"$2/from-sh\" && ! cat \"$3\" 2>/dev/null",
                           "sh", (char *)t->ro_file, (char *)t->rw, (char *)t->secret, NULL};

        assert(run(true_argv) == 0);
        assert(run(sh_argv) == 0);
}

static void confined_child(const void *arg)
{
        const struct tree *t = arg;
        char *read_only[] = {(char *)t->ro, (char *)t->single_ro, NULL};
        char *read_write[] = {(char *)t->rw, (char *)t->single_rw, NULL};
        struct sandbox_spec spec = spec_of(read_only, read_write);
        struct landlock_plan plan;
        char why[256] = "";

        assert(landlock_plan_build(&spec, NULL, &plan, why, sizeof(why)) == 0);
        assert(plan.ruleset_fd >= 0 && plan.abi >= 1 && !why[0]);
        assert(fcntl(plan.ruleset_fd, F_GETFD) == FD_CLOEXEC);
        assert(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        assert(landlock_plan_apply(&plan, plan.ruleset_fd) == 0);
        /* Applied and closed: nothing leaks into the service. */
        assert(fcntl(plan.ruleset_fd, F_GETFD) < 0 && errno == EBADF);
        check_rw(t);
        check_ro(t);
        check_hidden(t);
        check_abi_rights(t);
        check_exec(t);
}

static void test_enforced(const struct tree *t)
{
        char path[200];

        check_unconfined(t);
        in_child(confined_child, t);
        path_join(path, sizeof(path), t->rw, "from-sh");
        assert(access(path, F_OK) == 0);
}

/* As spawn.c runs it: mounts.c has put a private tmpfs over /tmp and
 * attached the declared paths again after the plan was built.  Both must
 * still be writable. */
static void remounted_child(const void *arg)
{
        const struct tree *t = arg;
        char *read_write[] = {(char *)t->rw, NULL};
        struct sandbox_spec spec = spec_of(empty, read_write);
        struct landlock_plan plan;
        char path[200];

        assert(landlock_plan_build(&spec, NULL, &plan, NULL, 0) == 0);
        assert(unshare(CLONE_NEWNS) == 0);
        assert(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
        assert(mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m") == 0);
        assert(mount(t->rw, t->rw, NULL, MS_BIND, NULL) == 0);
        assert(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        assert(landlock_plan_apply(&plan, plan.ruleset_fd) == 0);
        assert(try_open("/tmp/new", O_WRONLY | O_CREAT) == 0);
        assert(try_mkdir("/tmp/dir") == 0);
        path_join(path, sizeof(path), t->rw, "new");
        assert(try_open(path, O_WRONLY | O_CREAT) == 0 && unlink(path) == 0);
        assert(try_open(t->secret, O_RDONLY) == -EACCES);
}

/* Needs a mount namespace: root, or it is skipped with a note. */
static void test_remounted(const struct tree *t)
{
        int status;
        pid_t pid = fork();

        assert(pid >= 0);
        if (pid == 0)
                _exit(unshare(CLONE_NEWNS) == 0 ? 0 : 1);
        assert(waitpid(pid, &status, 0) == pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                printf("test-landlock: no mount namespace (not root?): private /tmp not tested\n");
                return;
        }
        in_child(remounted_child, t);
}

static void expect_refused(char **read_only, char **read_write, int code, const char *why_expected)
{
        struct sandbox_spec spec = spec_of(read_only, read_write);
        struct landlock_plan plan;
        char why[256] = "";
        unsigned n_fds = count_fds();

        assert(landlock_plan_build(&spec, NULL, &plan, why, sizeof(why)) == code);
        assert(plan.ruleset_fd == -1);
        assert(!strcmp(why, why_expected));
        /* The ruleset and the O_PATH descriptors are all closed. */
        assert(count_fds() == n_fds);
        landlock_plan_free(&plan);
}

static void test_bad_paths(const struct tree *t)
{
        char missing[200], why[300];
        char *list[] = {missing, NULL};
        char *relative[] = {"etc", NULL};

        path_join(missing, sizeof(missing), t->base, "missing");
        snprintf(why, sizeof(why), "sandbox path %s does not exist", missing);
        expect_refused(list, empty, -ENOENT, why);
        expect_refused(empty, list, -ENOENT, why);
        /* Below a regular file: ENOTDIR, but it does not exist either. */
        path_join(missing, sizeof(missing), t->ro_file, "x");
        snprintf(why, sizeof(why), "sandbox path %s does not exist", missing);
        expect_refused(empty, list, -ENOENT, why);
        expect_refused(relative, empty, -EINVAL, "sandbox path etc is not absolute");
        /* A NULL why is allowed. */
        struct sandbox_spec spec = spec_of(list, empty);
        struct landlock_plan plan;
        assert(landlock_plan_build(&spec, NULL, &plan, NULL, 0) == -ENOENT);
}

static void test_disabled_and_free(void)
{
        struct sandbox_spec spec = spec_of(empty, empty);
        struct landlock_plan plan;
        char why[64] = "";

        spec.enabled = false;
        assert(landlock_plan_build(&spec, NULL, &plan, why, sizeof(why)) == 0);
        assert(plan.ruleset_fd == -1 && plan.abi >= 1 && !why[0]);
        /* Nothing to apply: the descriptor argument is not touched. */
        assert(landlock_plan_apply(&plan, 0) == 0 && fcntl(0, F_GETFD) >= 0);
        landlock_plan_free(&plan);

        spec.enabled = true;
        assert(landlock_plan_build(&spec, NULL, &plan, why, sizeof(why)) == 0 && plan.ruleset_fd >= 0);
        landlock_plan_free(&plan);
        assert(plan.ruleset_fd == -1);
        landlock_plan_free(&plan);
}

/* A kernel without Landlock, faked: landlock_create_ruleset() fails with
 * ENOSYS as it does when Landlock is not built in. */
static void no_landlock_child(const void *arg)
{
        struct sock_filter insns[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};
        struct sandbox_spec spec = spec_of(empty, empty);
        struct landlock_plan plan;
        char why[256] = "";

        (void)arg;
        assert(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        assert(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0);
        assert(landlock_plan_build(&spec, NULL, &plan, why, sizeof(why)) == -EOPNOTSUPP);
        assert(plan.abi == 0 && plan.ruleset_fd == -1);
        assert(!strcmp(why, "this kernel has no Landlock (not enforced)"));
        landlock_plan_free(&plan);
}

int main(void)
{
        struct tree t;
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

        if (abi < 0) {
                printf("SKIP: test-landlock: this kernel has no Landlock (%s)\n", strerror(errno));
                return 0;
        }
        tree_make(&t);
        t.abi = (int)abi;
        test_enforced(&t);
        test_remounted(&t);
        test_bad_paths(&t);
        test_disabled_and_free();
        in_child(no_landlock_child, NULL);
        tree_remove(&t);
        printf("test-landlock: ok (Landlock ABI %ld)\n", abi);
        return 0;
}
