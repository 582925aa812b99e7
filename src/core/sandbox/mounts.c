/*
 * The service's view of the filesystem, set up in the child after it
 * unshared its mount namespace: the whole system read-only and nosuid, a
 * private /tmp, a /proc of its own PID namespace, and the manifest's
 * paths mounted back over it, read-only or read-write.
 *
 * The declared paths are cloned (open_tree) before anything changes, so a
 * path under /tmp still reaches the host's directory after the private
 * /tmp hides it; the clones get their own read-only bit (mount_setattr)
 * and are attached where they were (move_mount).  Runs in the vfork-style
 * child: raw system calls and the stack only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#define TREES_MAX 64

/* mount(2) without <sys/mount.h>, whose definitions clash with <linux/mount.h>. */
static int sys_mount(const char *src, const char *dst, const char *type, unsigned long flags, const void *data)
{
        return syscall(SYS_mount, src, dst, type, flags, data) < 0 ? -errno : 0;
}

static int set_attr(int dfd, const char *path, unsigned flags, uint64_t set, uint64_t clr)
{
        struct mount_attr a = {.attr_set = set, .attr_clr = clr};

        return syscall(SYS_mount_setattr, dfd, path, flags, &a, sizeof(a)) < 0 ? -errno : 0;
}

/* mkdir -p of @path's parents, then the last component as a directory or
 * an empty file, as the source was (only needed inside the new /tmp). */
static int make_mount_point(const char *path, bool is_dir)
{
        char buf[1024];
        size_t len = strlen(path);
        int fd;

        if (len >= sizeof(buf))
                return -ENAMETOOLONG;
        memcpy(buf, path, len + 1);
        for (char *c = buf + 1; *c; c++) {
                if (*c != '/')
                        continue;
                *c = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *c = '/';
        }
        if (is_dir)
                return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
        fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return errno == EEXIST || errno == EISDIR ? 0 : -errno;
        close(fd);
        return 0;
}

static int attach(int tree, const char *path, bool is_rw)
{
        struct stat st;
        int r;

        if (fstat(tree, &st) < 0)
                return -errno;
        r = make_mount_point(path, S_ISDIR(st.st_mode));
        if (r < 0)
                return r;
        r = set_attr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (is_rw ? 0 : MOUNT_ATTR_RDONLY),
                     is_rw ? MOUNT_ATTR_RDONLY : 0);
        if (r < 0)
                return r;
        return syscall(SYS_move_mount, tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? -errno : 0;
}

static bool is_below(const char *path, const char *dir)
{
        size_t len = strlen(dir);

        return !strncmp(path, dir, len) && (path[len] == '/' || path[len] == '\0');
}

/* Below a path mounted back already: visible, and no mount point can be
 * made there (it may be read-only). */
static bool is_declared(const char *path, const char *const *paths, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                if (is_below(path, paths[i]))
                        return true;
        return false;
}

int sandbox_mounts_apply(const struct sandbox_spec *s, bool has_pid_ns, const char *const *implicit,
                         const char **failed_path)
{
        const char *paths[TREES_MAX];
        bool rw[TREES_MAX];
        int trees[TREES_MAX];
        unsigned n = 0;
        int r;

        for (char **p = s->read_only; *p && n < TREES_MAX; p++, n++)
                paths[n] = *p, rw[n] = false;
        for (char **p = s->read_write; *p && n < TREES_MAX; p++, n++)
                paths[n] = *p, rw[n] = true;
        /* The program and the notify socket, when the private /tmp would
         * hide them (as in the tests, whose run directory is there). */
        for (; implicit && *implicit && n < TREES_MAX; implicit++)
                if (is_below(*implicit, "/tmp") && !is_declared(*implicit, paths, n))
                        paths[n] = *implicit, rw[n++] = false;
        for (unsigned i = 0; i < n; i++) {
                trees[i] = (int)syscall(SYS_open_tree, AT_FDCWD, paths[i],
                                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                if (trees[i] < 0) {
                        *failed_path = paths[i];
                        return -errno;
                }
        }
        *failed_path = "/";
        if ((r = sys_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) < 0 ||
            (r = set_attr(AT_FDCWD, "/", AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0)) < 0)
                return r;
        *failed_path = "/tmp";
        r = sys_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m");
        if (r < 0)
                return r;
        /* The host's /proc would still list every process: a procfs of
         * our own PID namespace goes over it. */
        *failed_path = "/proc";
        if (has_pid_ns && (r = sys_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) < 0)
                return r;
        for (unsigned i = 0; i < n; i++) {
                *failed_path = paths[i];
                r = attach(trees[i], paths[i], rw[i]);
                close(trees[i]);
                if (r < 0)
                        return r;
        }
        *failed_path = NULL;
        return 0;
}
