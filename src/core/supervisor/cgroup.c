/*
 * cgroup limits for services.
 *
 * Model: orbitald makes one directory of its own (`orbital-<pid>` unless
 * named otherwise) under the cgroup it was started in, per controller, and
 * one sub-directory per service.  Limits are written once when the
 * service's cgroup is made; the forked child moves itself in before exec,
 * so nothing it spawns can escape the accounting.
 *
 * Detection order: v2 with memory, pids and cpu delegated to us; else the
 * v1 memory, pids and cpu hierarchies (hybrid hosts); else none, and the
 * spawner uses rlimits.  Each refusal is kept as the reason string.
 *
 * Violations: the kernel enforces memory (OOM kill inside the cgroup) and
 * pids (fork fails).  A memory OOM reclaims the whole service at once (v1:
 * an eventfd on memory.oom_control; v2: memory.oom.group).  v1 gives no
 * notification for pids.max, so a refused fork is attributed to
 * `limit:pids` when the service then dies with a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "supervisor/cgroup.h"
#include "util/cleanup.h"
#include "util/log.h"

static const char *const ctl_names[_CG_N] = {"memory", "pids", "cpu", "cpuacct"};

const char *cgroup_mode_name(enum cgroup_mode m)
{
        static const char *const names[] = {"rlimit", "cgroup-v1", "cgroup-v2"};
        return m <= CGROUP_V2 ? names[m] : "?";
}

static int write_file(const char *dir, const char *file, const char *value)
{
        char path[4096];
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, value, len) != (ssize_t)len)
                return -errno;
        return 0;
}

static int read_file(const char *dir, const char *file, char *buf, size_t n)
{
        char path[4096];
        _cleanup_close_ int fd = -1;
        ssize_t r;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = read(fd, buf, n - 1);
        if (r < 0)
                return -errno;
        buf[r] = '\0';
        return 0;
}

static int64_t read_int(const char *dir, const char *file)
{
        char buf[64];

        if (!dir || read_file(dir, file, buf, sizeof(buf)) < 0)
                return -1;
        if (strncmp(buf, "max", 3) == 0)
                return -1;
        return strtoll(buf, NULL, 10);
}

/* Value of "key N" in a flat keyed file such as memory.events. */
static int64_t read_keyed(const char *dir, const char *file, const char *key)
{
        char buf[2048], *p;
        size_t klen = strlen(key);

        if (!dir || read_file(dir, file, buf, sizeof(buf)) < 0)
                return -1;
        for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
                        return strtoll(p + klen + 1, NULL, 10);
        return -1;
}

/* Our own cgroup path in the hierarchy holding @ctl ("" = v2). */
static int own_cgroup_path(const char *ctl, char *out, size_t n)
{
        _cleanup_(fclosep_) FILE *f = NULL;
        char line[1024];

        f = fopen("/proc/self/cgroup", "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char *ctls = strchr(line, ':'), *path;
                if (!ctls)
                        continue;
                path = strchr(++ctls, ':');
                if (!path)
                        continue;
                *path++ = '\0';
                path[strcspn(path, "\n")] = '\0';
                if (*ctl == '\0' ? *ctls == '\0' : strstr(ctls, ctl) != NULL) {
                        /* match whole names in "cpu,cpuacct" */
                        for (char *tok = strtok(ctls, ","); *ctl && tok; tok = strtok(NULL, ","))
                                if (strcmp(tok, ctl) == 0)
                                        goto found;
                        if (*ctl)
                                continue;
                found:
                        snprintf(out, n, "%s", strcmp(path, "/") == 0 ? "" : path);
                        return 0;
                }
        }
        return -ENOENT;
}

static bool is_fs(const char *path, long magic)
{
        struct statfs s;
        return statfs(path, &s) == 0 && (long)s.f_type == magic;
}

/*
 * Removes what an orbitald that died without cleaning up left in @parent:
 * directories named orbital-<pid> whose pid is gone.  A directory that
 * still holds processes (services that outlived a kill -9) is left alone
 * and reported.
 */
static void remove_stale(const char *parent)
{
        _cleanup_(closedirp_) DIR *d = opendir(parent);
        struct dirent *e;
        char path[4096], sub[4096 + 256];

        if (!d)
                return;
        while ((e = readdir(d))) {
                int pid;
                if (sscanf(e->d_name, "orbital-%d", &pid) != 1 || pid <= 0 || pid == getpid())
                        continue;
                if (kill(pid, 0) == 0 || errno != ESRCH)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
                _cleanup_(closedirp_) DIR *sd = opendir(path);
                struct dirent *se;
                while (sd && (se = readdir(sd)))
                        if (se->d_type == DT_DIR && se->d_name[0] != '.') {
                                snprintf(sub, sizeof(sub), "%s/%s", path, se->d_name);
                                rmdir(sub);
                        }
                if (rmdir(path) == 0)
                        log_info("removed stale cgroup %s", path);
                else
                        log_warn("stale cgroup %s of a dead orbitald still holds processes: %s", path,
                                 strerror(errno));
        }
}

static bool make_base(struct cgroup_root *root, enum cgroup_ctl c, const char *mount, const char *own,
                      const char *name)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s%s", mount, own);
        remove_stale(path);

        snprintf(path, sizeof(path), "%s%s/%s", mount, own, name);
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return false;
        root->base[c] = strdup(path);
        root->has[c] = root->base[c] != NULL;
        return root->has[c];
}

static bool try_v2(struct cgroup_root *root, const char *name)
{
        char own[1024], dir[4096], ctls[512];

        if (!is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) {
                snprintf(root->reason, sizeof(root->reason), "no cgroup v2 at /sys/fs/cgroup");
                return false;
        }
        if (own_cgroup_path("", own, sizeof(own)) < 0)
                return false;
        snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s", own);
        if (read_file(dir, "cgroup.controllers", ctls, sizeof(ctls)) < 0 || !strstr(ctls, "memory") ||
            !strstr(ctls, "pids") || !strstr(ctls, "cpu")) {
                snprintf(root->reason, sizeof(root->reason), "cgroup v2 lacks memory/pids/cpu controllers in %s", dir);
                return false;
        }
        if (write_file(dir, "cgroup.subtree_control", "+memory +pids +cpu") < 0) {
                snprintf(root->reason, sizeof(root->reason),
                         "cannot delegate controllers below %s: %s (orbitald must run in its own cgroup)", dir,
                         strerror(errno));
                return false;
        }
        for (int c = CG_MEMORY; c <= CG_CPU; c++)
                if (!make_base(root, (enum cgroup_ctl)c, "/sys/fs/cgroup", own, name))
                        return false;
        if (write_file(root->base[CG_MEMORY], "cgroup.subtree_control", "+memory +pids +cpu") < 0)
                return false;
        root->mode = CGROUP_V2;
        snprintf(root->reason, sizeof(root->reason), "cgroup v2 controllers memory, pids, cpu under %s",
                 root->base[CG_MEMORY]);
        return true;
}

static bool try_v1(struct cgroup_root *root, const char *name)
{
        char own[1024], mount[256], missing[128] = "";
        unsigned n = 0;

        for (int c = 0; c < _CG_N; c++) {
                snprintf(mount, sizeof(mount), "/sys/fs/cgroup/%s", ctl_names[c]);
                if (!is_fs(mount, CGROUP_SUPER_MAGIC) || own_cgroup_path(ctl_names[c], own, sizeof(own)) < 0 ||
                    !make_base(root, (enum cgroup_ctl)c, mount, own, name)) {
                        if (c != CG_CPUACCT)
                                snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s",
                                         ctl_names[c]);
                        continue;
                }
                n++;
        }
        if (!root->has[CG_MEMORY] && !root->has[CG_PIDS]) {
                snprintf(root->reason + strlen(root->reason), sizeof(root->reason) - strlen(root->reason),
                         "; no writable cgroup v1 memory or pids hierarchy");
                return false;
        }
        root->mode = CGROUP_V1;
        snprintf(root->reason, sizeof(root->reason), "cgroup v1 (hybrid host: v2 has no controllers)%s%s",
                 missing[0] ? "; missing:" : "", missing);
        return true;
}

void cgroup_root_init(struct cgroup_root *root, const char *name, int want)
{
        *root = (struct cgroup_root){.mode = CGROUP_NONE};
        if (want == CGROUP_NONE) {
                snprintf(root->reason, sizeof(root->reason), "cgroups disabled by --cgroup=none");
                return;
        }
        if (geteuid() != 0) {
                snprintf(root->reason, sizeof(root->reason),
                         "not running as root: cannot create cgroups; memory and pids limits use rlimits, "
                         "CPU limits are not enforced");
                return;
        }
        if ((want < 0 || want == CGROUP_V2) && try_v2(root, name))
                return;
        if ((want < 0 || want == CGROUP_V1) && try_v1(root, name))
                return;
        cgroup_root_deinit(root);
        root->mode = CGROUP_NONE;
}

/* Finds the cgroup2 mount and its super options in /proc/self/mountinfo. */
static int find_cgroup2_mount(char *path, size_t n, char *opts, size_t m)
{
        _cleanup_(fclosep_) FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char mnt[1024], fstype[64], super[1024];
                const char *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
                    sscanf(sep + 3, "%63s %*s %1023s", fstype, super) != 2 || strcmp(fstype, "cgroup2") != 0)
                        continue;
                snprintf(path, n, "%s", mnt);
                snprintf(opts, m, "%s", super);
                return 0;
        }
        return -ENOENT;
}

int cgroup_favor_dynmods(void)
{
        char path[1024], opts[1024], data[1100];
        size_t len;

        if (find_cgroup2_mount(path, sizeof(path), opts, sizeof(opts)) < 0)
                return -ENOENT;
        if (strstr(opts, "favordynmods"))
                return 0;
        /* Keep the other options: a remount resets what it does not name. */
        len = strlen(opts);
        if (len >= 2 && strncmp(opts, "rw", 2) == 0)
                snprintf(data, sizeof(data), "%s%sfavordynmods", opts + 2 + (opts[2] == ','),
                         opts[2] == ',' ? "," : "");
        else
                snprintf(data, sizeof(data), "%s,favordynmods", opts);
        if (mount("cgroup2", path, "cgroup2", MS_REMOUNT, data) < 0)
                return -errno;
        log_notice("cgroup: favordynmods is now on for %s: task migrations no longer wait for an RCU grace "
                   "period; forks and exits cost slightly more, host-wide, until reboot",
                   path);
        return 0;
}

void cgroup_root_deinit(struct cgroup_root *root)
{
        for (int c = 0; c < _CG_N; c++) {
                if (root->base[c] && (c == CG_MEMORY || root->mode != CGROUP_V2))
                        rmdir(root->base[c]);
                free(root->base[c]);
                root->base[c] = NULL;
                root->has[c] = false;
        }
}

/*
 * A fresh v1 cgroup is unlimited, so only real limits are written (each
 * write costs: a CPU quota write walks every task group of the system).
 * A reused one (after a reload) gets every value, to undo old limits.
 */
static void write_limits_v1(struct cgroup *cg, const struct limits_spec *l, bool is_fresh)
{
        char v[64];

        if (cg->dir[CG_MEMORY] && (l->memory || !is_fresh)) {
                snprintf(v, sizeof(v), l->memory ? "%" PRIu64 : "-1", l->memory);
                write_file(cg->dir[CG_MEMORY], "memory.limit_in_bytes", v);
        }
        if (cg->dir[CG_PIDS] && (l->pids || !is_fresh)) {
                snprintf(v, sizeof(v), l->pids ? "%u" : "max", l->pids);
                write_file(cg->dir[CG_PIDS], "pids.max", v);
        }
        if (cg->dir[CG_CPU] && (l->cpu_pc || !is_fresh)) {
                /* The period stays at the kernel's 100 ms default. */
                snprintf(v, sizeof(v), "%ld", l->cpu_pc ? (long)l->cpu_pc * 1000 : -1L);
                write_file(cg->dir[CG_CPU], "cpu.cfs_quota_us", v);
        }
}

static void write_limits_v2(struct cgroup *cg, const struct limits_spec *l)
{
        const char *d = cg->dir[CG_MEMORY];
        char v[64];

        snprintf(v, sizeof(v), l->memory ? "%" PRIu64 : "max", l->memory);
        write_file(d, "memory.max", v);
        write_file(d, "memory.oom.group", "1"); /* an OOM kills the whole service */
        snprintf(v, sizeof(v), l->pids ? "%u" : "max", l->pids);
        write_file(d, "pids.max", v);
        if (l->cpu_pc)
                snprintf(v, sizeof(v), "%u 100000", l->cpu_pc * 1000);
        else
                snprintf(v, sizeof(v), "max 100000");
        write_file(d, "cpu.max", v);
}

int cgroup_create(const struct cgroup_root *root, struct cgroup *cg, const char *service,
                  const struct limits_spec *limits)
{
        char path[4096];
        bool is_reused = false;

        if (root->mode == CGROUP_NONE || cg->is_created)
                return 0;
        for (int c = 0; c < _CG_N; c++) {
                if (!root->has[c] || cg->dir[c])
                        continue;
                /* v1 cpu only throttles (usage is in cpuacct): skip it
                 * for a service without a CPU limit. */
                if (root->mode == CGROUP_V1 && c == CG_CPU && !limits->cpu_pc)
                        continue;
                if (root->mode == CGROUP_V2 && c != CG_MEMORY) {
                        continue; /* one directory holds every controller */
                }
                snprintf(path, sizeof(path), "%s/%s", root->base[c], service);
                if (mkdir(path, 0755) < 0) {
                        if (errno != EEXIST)
                                return -errno;
                        is_reused = true;
                }
                cg->dir[c] = strdup(path);
                if (!cg->dir[c])
                        return -ENOMEM;
        }
        if (root->mode == CGROUP_V2) {
                for (int c = CG_PIDS; c <= CG_CPU; c++)
                        cg->dir[c] = strdup(cg->dir[CG_MEMORY]);
                write_limits_v2(cg, limits);
        } else {
                write_limits_v1(cg, limits, !is_reused);
        }
        cg->mode = root->mode;
        cg->is_created = true;
        if (is_reused) {
                /* Take the current counters as the baseline; a new
                 * cgroup's start at zero. */
                cgroup_check_oom(cg);
                cgroup_check_pids_max(cg);
        }
        return 0;
}

void cgroup_destroy(struct cgroup *cg)
{
        for (int c = 0; c < _CG_N; c++) {
                bool is_dup = cg->mode == CGROUP_V2 && c != CG_MEMORY;
                if (cg->dir[c] && !is_dup && rmdir(cg->dir[c]) < 0 && errno != ENOENT)
                        log_debug("unable to remove cgroup %s: %s", cg->dir[c], strerror(errno));
                free(cg->dir[c]);
                cg->dir[c] = NULL;
        }
        cg->is_created = cg->has_oom_watch = false;
        cg->oom_kills = cg->pids_max_events = 0; /* a new cgroup counts from 0 */
}

/* Runs in the spawned child, which shares orbitald's memory: no stdio,
 * no allocation.  "0" in cgroup.procs means the writing process. */
int cgroup_enter_self(const struct cgroup *cg)
{
        for (int c = 0; c < _CG_N; c++) {
                static const char procs[] = "/cgroup.procs";
                char path[4096];
                size_t len;
                int fd;
                if (!cg->dir[c] || (cg->mode == CGROUP_V2 && c != CG_MEMORY))
                        continue;
                len = strlen(cg->dir[c]);
                if (len + sizeof(procs) > sizeof(path))
                        return -ENAMETOOLONG;
                memcpy(path, cg->dir[c], len);
                memcpy(path + len, procs, sizeof(procs));
                fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                if (write(fd, "0", 1) != 1) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                close(fd);
        }
        return 0;
}

static const char *procs_dir(const struct cgroup *cg)
{
        return cg->dir[CG_PIDS] ? cg->dir[CG_PIDS] : cg->dir[CG_MEMORY];
}

/* Calls @fn for every pid listed in the cgroup; returns how many. */
static unsigned for_each_pid(const struct cgroup *cg, void (*fn)(pid_t))
{
        char path[4096], line[32];
        _cleanup_(fclosep_) FILE *f = NULL;
        unsigned n = 0;

        if (!procs_dir(cg))
                return 0;
        snprintf(path, sizeof(path), "%s/cgroup.procs", procs_dir(cg));
        f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f)) {
                if (fn)
                        fn((pid_t)atoi(line));
                n++;
        }
        return n;
}

static void kill_pid(pid_t pid)
{
        if (pid > 0)
                kill(pid, SIGKILL);
}

/* A process forking during the kill can slip past one pass: go over the
 * list until a pass finds nothing new to kill (a few passes at most). */
unsigned cgroup_kill_all(const struct cgroup *cg)
{
        unsigned total = 0, n;

        for (int pass = 0; pass < 4 && (n = for_each_pid(cg, kill_pid)) > 0; pass++)
                total += n;
        return total;
}

unsigned cgroup_count(const struct cgroup *cg)
{
        return for_each_pid(cg, NULL);
}

bool cgroup_check_oom(struct cgroup *cg)
{
        const char *d = cg->dir[CG_MEMORY];
        int64_t n;

        if (!d)
                return false;
        n = read_keyed(d, cg->mode == CGROUP_V2 ? "memory.events" : "memory.oom_control", "oom_kill");
        if (n < 0 || (uint64_t)n <= cg->oom_kills)
                return false;
        cg->oom_kills = (uint64_t)n;
        return true;
}

bool cgroup_check_pids_max(struct cgroup *cg)
{
        int64_t n = read_keyed(cg->dir[CG_PIDS], "pids.events", "max");

        if (n < 0 || (uint64_t)n <= cg->pids_max_events)
                return false;
        cg->pids_max_events = (uint64_t)n;
        return true;
}

int cgroup_oom_watch(struct cgroup *cg, int eventfd)
{
        char path[4096], line[64];
        _cleanup_close_ int ofd = -1;
        int r;

        if (cg->mode != CGROUP_V1 || !cg->dir[CG_MEMORY])
                return -EOPNOTSUPP;
        if (cg->has_oom_watch)
                return 0;
        snprintf(path, sizeof(path), "%s/memory.oom_control", cg->dir[CG_MEMORY]);
        ofd = open(path, O_RDONLY | O_CLOEXEC);
        if (ofd < 0)
                return -errno;
        snprintf(line, sizeof(line), "%d %d", eventfd, ofd);
        r = write_file(cg->dir[CG_MEMORY], "cgroup.event_control", line);
        if (r < 0)
                return r;
        cg->has_oom_watch = true;
        return 0;
}

void cgroup_usage(const struct cgroup *cg, struct cgroup_usage *u)
{
        bool v2 = cg->mode == CGROUP_V2;

        *u = (struct cgroup_usage){-1, -1, -1, -1, -1};
        if (v2) {
                int64_t usage = read_keyed(cg->dir[CG_CPU], "cpu.stat", "usage_usec");
                u->memory = read_int(cg->dir[CG_MEMORY], "memory.current");
                u->memory_max = read_int(cg->dir[CG_MEMORY], "memory.max");
                u->cpu_usec = usage;
        } else {
                int64_t ns = read_int(cg->dir[CG_CPUACCT], "cpuacct.usage");
                u->memory = read_int(cg->dir[CG_MEMORY], "memory.usage_in_bytes");
                u->memory_max = read_int(cg->dir[CG_MEMORY], "memory.limit_in_bytes");
                if (u->memory_max >= (int64_t)1 << 60)
                        u->memory_max = -1;
                u->cpu_usec = ns < 0 ? -1 : ns / 1000;
        }
        u->pids = read_int(cg->dir[CG_PIDS], "pids.current");
        u->pids_max = read_int(cg->dir[CG_PIDS], "pids.max");
}
