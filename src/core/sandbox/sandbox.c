/*
 * The parent's half of the sandbox: from a manifest, the plans one spawn
 * applies (sandbox.h), and a report of what is enforced and what this
 * kernel or this orbitald cannot enforce.  Nothing here is silent: a
 * feature that is missing becomes a warning in the report, which the
 * service's log, `orbctl sandbox` and `orbctl check` show.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "supervisor/manifest.h"

__attribute__((format(printf, 2, 3))) static void warn(struct sandbox_report *r, const char *fmt, ...)
{
        va_list ap;

        if (r->n_warnings >= sizeof(r->warnings) / sizeof(r->warnings[0]))
                return;
        va_start(ap, fmt);
        vsnprintf(r->warnings[r->n_warnings++], sizeof(r->warnings[0]), fmt, ap);
        va_end(ap);
}

/* Network is a declared permission: net.* or iface.* */
static bool declares_network(char *const *caps)
{
        for (; caps && *caps; caps++)
                if (!strchr(*caps, ':') && (!strncmp(*caps, "net.", 4) || !strncmp(*caps, "iface.", 6)))
                        return true;
        return false;
}

/* A stable id per service name, so files it owns survive restarts. */
static unsigned dynamic_id(const char *name)
{
        uint32_t h = 2166136261u;

        for (; *name; name++)
                h = (h ^ (uint8_t)*name) * 16777619u;
        return SANDBOX_UID_BASE + h % SANDBOX_UID_COUNT;
}

int sandbox_plans_build(const struct manifest *m, bool is_root, bool has_init, const char *program,
                        const struct seccomp_plan *cached, struct sandbox_plans *out, char *why, size_t why_size)
{
        struct sandbox_report *rep = &out->report;
        int r;

        *out = (struct sandbox_plans){.landlock = {.ruleset_fd = -1}};
        rep->is_root = is_root;
        rep->has_network = declares_network(m->capabilities);
        if (is_root) {
                rep->unshare_flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (rep->has_network ? 0 : CLONE_NEWNET) |
                                     (has_init ? CLONE_NEWPID : 0);
                if (!has_init)
                        warn(rep, "no PID namespace: orb-init was not found beside orbitald (the service sees the "
                                  "host's processes)");
                rep->has_dynamic_ids = !m->user && !m->group;
                if (rep->has_dynamic_ids)
                        rep->uid = rep->gid = dynamic_id(m->name);
                caps_plan_build(m->capabilities, &out->caps);
                rep->caps_keep = out->caps.keep;
        } else {
                warn(rep, "orbitald is not root: no namespaces, filesystem view, own uid or capability drop");
        }
        if (cached && cached->filter) {
                out->seccomp = *cached;
                out->is_seccomp_borrowed = true;
        } else if ((r = seccomp_plan_build(&m->sandbox, rep->has_network, &out->seccomp, why, why_size)) < 0) {
                return r;
        }
        out->has_seccomp = true;
        for (const char *const *d = seccomp_default_deny; *d; d++)
                rep->n_denied++;
        r = landlock_plan_build(&m->sandbox, program, &out->landlock, why, why_size);
        if (r == -EOPNOTSUPP) {
                warn(rep, "%s", why);
        } else if (r < 0) {
                sandbox_plans_free(out);
                return r;
        } else {
                out->has_landlock = true;
                rep->landlock_abi = out->landlock.abi;
        }
        return 0;
}

int sandbox_init_open(char *why, size_t why_size)
{
        char self[4096], path[4096 + 16];
        ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash;
        int fd;

        if (len < 0) {
                snprintf(why, why_size, "cannot read /proc/self/exe: %s", strerror(errno));
                return -errno;
        }
        self[len] = '\0';
        slash = strrchr(self, '/');
        if (slash)
                *slash = '\0';
        snprintf(path, sizeof(path), "%s/orb-init", self);
        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0) {
                snprintf(why, why_size, "%s: %s", path, strerror(errno));
                return -errno;
        }
        return fd;
}

/* Safe to call twice (a failed build frees, and so does its caller). */
void sandbox_plans_free(struct sandbox_plans *p)
{
        if (!p->is_seccomp_borrowed)
                seccomp_plan_free(&p->seccomp);
        p->seccomp = (struct seccomp_plan){0};
        p->is_seccomp_borrowed = false;
        landlock_plan_free(&p->landlock);
        p->landlock.ruleset_fd = -1;
        p->has_seccomp = p->has_landlock = false;
}

static json_t *strv_json(char *const *v)
{
        json_t *a = json_array();

        for (; a && v && *v; v++)
                json_array_append_new(a, json_string(*v));
        return a;
}

static json_t *caps_json(uint64_t keep)
{
        json_t *a = json_array();
        uint64_t listed = 0;

        /* Several permissions may map to one capability: list each once. */
        for (const struct caps_mapping *c = caps_mappings; a && c->permission; c++) {
                if (!((keep >> c->cap) & 1) || ((listed >> c->cap) & 1))
                        continue;
                listed |= 1ull << c->cap;
                json_array_append_new(a, json_string(c->cap_name));
        }
        return a;
}

json_t *sandbox_report_json(const struct manifest *m, const struct sandbox_report *r)
{
        const struct sandbox_spec *s = &m->sandbox;
        json_t *ns = json_array(), *warnings = json_array();
        static const struct {
                int flag;
                const char *name;
        } nss[] = {{CLONE_NEWNS, "mount"}, {CLONE_NEWPID, "pid"},  {CLONE_NEWNET, "network"},
                   {CLONE_NEWIPC, "ipc"},  {CLONE_NEWUTS, "uts"}};

        if (!s->enabled)
                return json_pack("{s:b}", "enabled", 0);
        for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++)
                if (r->unshare_flags & nss[i].flag)
                        json_array_append_new(ns, json_string(nss[i].name));
        for (unsigned i = 0; i < r->n_warnings; i++)
                json_array_append_new(warnings, json_string(r->warnings[i]));
        return json_pack("{s:b, s:o, s:b, s:o, s:o, s:o, s:{s:s, s:I, s:o, s:o}, s:i, s:o, s:o, s:b}", "enabled", 1,
                         "namespaces", ns, "network", r->has_network, "read_only", strv_json(s->read_only),
                         "read_write", strv_json(s->read_write), "identity",
                         r->has_dynamic_ids ? json_pack("{s:s, s:I, s:I}", "kind", "dynamic", "uid",
                                                        (json_int_t)r->uid, "gid", (json_int_t)r->gid)
                                            : json_pack("{s:s, s:s?}", "kind", "manifest", "user", m->user),
                         "seccomp", "on_violation", s->on_violation == SANDBOX_KILL ? "kill" : "eperm",
                         "default_denied", (json_int_t)r->n_denied, "allow", strv_json(s->syscalls_allow), "deny",
                         strv_json(s->syscalls_deny), "landlock_abi", r->landlock_abi, "capabilities",
                         caps_json(r->caps_keep), "warnings", warnings, "no_new_privs", 1);
}
