/*
 * The supervisor owns the set of services and everything that spans more
 * than one of them: dependency links, boot, reload, shutdown order, child
 * reaping and the event stream.
 *
 * Dependencies: `requires` must be running before a service starts;
 * `after` only orders.  Links are pointers recomputed from the manifests'
 * names whenever the set changes (boot, reload, removal).  Stopping works
 * by marking services stop_pending; a marked service stops once every
 * marked service that depends on it is down, which gives reverse
 * dependency order for shutdown and for `orbctl stop` alike.
 *
 * Reload: the new manifest set is loaded and checked whole before anything
 * changes.  Unchanged services (same digest) are left alone; changed ones
 * are stopped, get their new manifest once down, and start again if they
 * were wanted up (or the new manifest enables what the old one disabled);
 * removed ones stop and are freed; new ones start.  No reload during
 * shutdown.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/supervisor.h"
#include "util/cleanup.h"
#include "util/log.h"

static void sup_on_deferred(struct loop_defer *d);

/* Some service's memory cgroup hit its limit: find which (rare, O(n)). */
static void sup_on_oom(struct loop_io *io, uint32_t revents)
{
        struct supervisor *sup = container_of(io, struct supervisor, oom_io);
        uint64_t n;

        if (read(sup->oom_fd, &n, sizeof(n)) != sizeof(n))
                return;
        for (unsigned i = 0; i < sup->n_services; i++)
                service_check_oom(sup->services[i]);
}

static void sup_watch_oom(struct supervisor *sup)
{
        sup->oom_fd = -1;
        sup->oom_io = (struct loop_io)LOOP_IO_INIT;
        if (sup->cgroups.mode != CGROUP_V1 || !sup->cgroups.has[CG_MEMORY])
                return; /* v2: memory.oom.group kills the whole service */
        sup->oom_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (sup->oom_fd < 0 || loop_io_add(sup->loop, &sup->oom_io, sup->oom_fd, EPOLLIN, sup_on_oom) < 0) {
                log_warn("unable to watch for OOM kills (%s): a service is reclaimed when its main process dies",
                         strerror(errno));
                sup->oom_fd = safe_close(sup->oom_fd);
        }
}

int sup_init(struct supervisor *sup, struct loop *loop, const struct sup_settings *set)
{
        *sup = (struct supervisor){.loop = loop, .set = *set};
        if (getrandom(&sup->rng, sizeof(sup->rng), GRND_NONBLOCK) != sizeof(sup->rng))
                sup->rng = (uint32_t)getpid() ^ (uint32_t)now_mono();
        sup->is_root = geteuid() == 0;
        sup->init_fd = -1;
        if (sup->is_root) {
                char why[256];
                sup->init_fd = sandbox_init_open(why, sizeof(why));
                if (sup->init_fd < 0)
                        log_warn("sandbox: no PID namespaces: orb-init not found: %s", why);
                else if (!spawn_can_enter_pid_ns()) {
                        sup->init_fd = safe_close(sup->init_fd);
                        log_warn("sandbox: no PID namespaces: /proc/self/ns/pid cannot be opened");
                }
        }
        cgroup_root_init(&sup->cgroups, set->cgroup_name, set->cgroup_want);
        if (sup->cgroups.mode == CGROUP_NONE)
                log_warn("limits: rlimits only (open files, address space); %s", sup->cgroups.reason);
        else
                log_info("limits: %s: %s", cgroup_mode_name(sup->cgroups.mode), sup->cgroups.reason);
        sup_watch_oom(sup);
        return 0;
}

void sup_deinit(struct supervisor *sup)
{
        for (unsigned i = 0; i < sup->n_services; i++) {
                struct service *svc = sup->services[i];
                if (svc->main.pid) {
                        log_warn("service=%s pid=%d: still running at exit; killing it", svc->spec->name,
                                 (int)svc->main.pid);
                        kill(svc->main.pid, SIGKILL);
                        cgroup_kill_all(&svc->cg);
                }
                service_free(svc);
        }
        free(sup->services);
        free(sup->children);
        loop_io_remove(sup->loop, &sup->oom_io);
        sup->oom_fd = safe_close(sup->oom_fd);
        cgroup_root_deinit(&sup->cgroups);
        if (sup->init_fd >= 0)
                close(sup->init_fd);
        *sup = (struct supervisor){0};
}

struct service *sup_find(const struct supervisor *sup, const char *name)
{
        for (unsigned i = 0; i < sup->n_services; i++)
                if (strcmp(sup->services[i]->spec->name, name) == 0 && !sup->services[i]->is_removed)
                        return sup->services[i];
        return NULL;
}

static struct service *sup_find_removed(const struct supervisor *sup, const char *name)
{
        for (unsigned i = 0; i < sup->n_services; i++)
                if (sup->services[i]->is_removed && strcmp(sup->services[i]->spec->name, name) == 0)
                        return sup->services[i];
        return NULL;
}

struct service *sup_find_by_pid(const struct supervisor *sup, pid_t pid)
{
        for (unsigned i = 0; i < sup->n_services; i++)
                if (sup->services[i]->main.pid == pid)
                        return sup->services[i];
        return NULL;
}

struct service *sup_find_by_record_pid(const struct supervisor *sup, pid_t pid)
{
        struct service *svc = sup_find_by_pid(sup, pid);

        for (unsigned i = 0; i < sup->n_services && !svc && pid > 0; i++)
                if (sup->services[i]->holder.pid == pid || sup->services[i]->last_pid == pid)
                        svc = sup->services[i];
        return svc;
}

struct service *sup_find_by_uid(const struct supervisor *sup, uid_t uid)
{
        struct service *found = NULL;

        for (unsigned i = 0; i < sup->n_services; i++) {
                struct service *s = sup->services[i];

                if (!s->has_sandbox || !s->sandbox.has_dynamic_ids || s->sandbox.uid != uid)
                        continue;
                if (found)
                        return NULL; /* two services share it (an unlikely hash clash): say nothing */
                found = s;
        }
        return found;
}

/* ---- dependency links ---- */

/* A throw-away name index, so linking is O(services + edges). */
struct name_index {
        struct service **slots; /* open addressing, cap a power of two */
        size_t cap;
};

static size_t name_hash(const char *s)
{
        size_t h = 1469598103934665603ull;

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ull;
        return h;
}

static int name_index_build(struct name_index *ix, const struct supervisor *sup)
{
        ix->cap = 16;
        while (ix->cap < 2 * (size_t)sup->n_services)
                ix->cap *= 2;
        ix->slots = calloc(ix->cap, sizeof(*ix->slots));
        if (!ix->slots)
                return -ENOMEM;
        for (unsigned i = 0; i < sup->n_services; i++) {
                struct service *s = sup->services[i];
                size_t h = name_hash(s->spec->name) & (ix->cap - 1);
                if (s->is_removed)
                        continue;
                while (ix->slots[h])
                        h = (h + 1) & (ix->cap - 1);
                ix->slots[h] = s;
        }
        return 0;
}

static struct service *name_index_find(const struct name_index *ix, const char *name)
{
        for (size_t h = name_hash(name) & (ix->cap - 1); ix->slots[h]; h = (h + 1) & (ix->cap - 1))
                if (strcmp(ix->slots[h]->spec->name, name) == 0)
                        return ix->slots[h];
        return NULL;
}

static int link_list(const struct name_index *ix, char **names, struct service ***out, unsigned *n_out)
{
        unsigned n = 0, cap = 0;
        struct service **list;

        for (char **p = names; p && *p; p++)
                cap++;
        free(*out);
        *out = NULL;
        *n_out = 0;
        if (!cap)
                return 0;
        list = calloc(cap, sizeof(*list));
        if (!list)
                return -ENOMEM;
        for (char **p = names; *p; p++) {
                struct service *d = name_index_find(ix, *p);
                if (d)
                        list[n++] = d; /* an absent `after` is simply no constraint */
        }
        *out = list;
        *n_out = n;
        return 0;
}

static int add_dependent(struct service *of, struct service *dep)
{
        struct service **l;

        for (unsigned i = 0; i < of->n_dependents; i++)
                if (of->dependents[i] == dep)
                        return 0;
        l = realloc(of->dependents, (of->n_dependents + 1) * sizeof(*l));
        if (!l)
                return -ENOMEM;
        l[of->n_dependents++] = dep;
        of->dependents = l;
        return 0;
}

static int sup_link(struct supervisor *sup)
{
        struct name_index ix;
        int r = name_index_build(&ix, sup);

        if (r < 0)
                return r;
        for (unsigned i = 0; i < sup->n_services; i++) {
                struct service *s = sup->services[i];
                free(s->dependents);
                s->dependents = NULL;
                s->n_dependents = 0;
        }
        for (unsigned i = 0; i < sup->n_services && r == 0; i++) {
                struct service *s = sup->services[i];
                r = link_list(&ix, s->spec->requires, &s->requires, &s->n_requires);
                if (r == 0)
                        r = link_list(&ix, s->spec->after, &s->after, &s->n_after);
                for (unsigned j = 0; r == 0 && j < s->n_requires; j++)
                        r = add_dependent(s->requires[j], s);
                for (unsigned j = 0; r == 0 && j < s->n_after; j++)
                        r = add_dependent(s->after[j], s);
        }
        free(ix.slots);
        return r;
}

/* ---- boot ---- */

static void sup_start_initial(struct service *svc)
{
        service_dispatch(svc, svc->spec->enabled ? EV_START : EV_DISABLE);
}

int sup_boot(struct supervisor *sup, struct orb_diag *diag)
{
        struct manifest_set set = MANIFEST_SET_INIT;
        int r = manifest_set_load_dir(sup->set.manifest_dir, &set, diag);

        if (r != 0)
                return r;
        sup->services = calloc(set.n_items ? set.n_items : 1, sizeof(*sup->services));
        if (!sup->services) {
                manifest_set_deinit(&set);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < set.n_items; i++) {
                r = service_new(sup, set.items[i], &sup->services[sup->n_services]);
                if (r < 0)
                        break;
                set.items[i] = NULL;
                sup->n_services++;
        }
        manifest_set_deinit(&set);
        if (r == 0)
                r = sup_link(sup);
        if (r < 0)
                return r;
        log_info("loaded %u services from %s", sup->n_services, sup->set.manifest_dir);
        for (unsigned i = 0; i < sup->n_services; i++)
                sup_start_initial(sup->services[i]);
        return 0;
}

/* ---- reload ---- */

static struct manifest *current_spec(const struct service *svc)
{
        return svc->next_spec ? svc->next_spec : svc->spec;
}

/* Takes @m for an existing service; returns true if it changed. */
static bool reload_existing(struct service *svc, struct manifest *m)
{
        if (current_spec(svc)->digest == m->digest && !svc->is_revived) {
                manifest_free(m);
                return false;
        }
        manifest_free(svc->next_spec);
        svc->next_spec = m;
        /* Restart what is up and wanted; a stop or disable under way is an
         * operator's decision and goes on (the swap happens once down). */
        if (svc_state_is_up(svc->fsm.state) && svc->fsm.want_up && !svc->stop_pending)
                service_dispatch(svc, EV_RESTART); /* swapped in when down */
        else if (svc_state_is_up(svc->fsm.state))
                ; /* swapped in when the stop completes */
        else
                sup_service_down(svc->sup, svc);
        return true;
}

int sup_reload(struct supervisor *sup, struct reload_summary *sum, struct orb_diag *diag)
{
        struct manifest_set set = MANIFEST_SET_INIT;
        struct service **next, **added;
        unsigned n = 0, n_added = 0;
        int r = manifest_set_load_dir(sup->set.manifest_dir, &set, diag);

        *sum = (struct reload_summary){0};
        if (r != 0)
                return r;
        if (sup->is_shutting_down) {
                manifest_set_deinit(&set);
                return -ESHUTDOWN; /* nothing may start any more */
        }
        next = calloc(set.n_items + sup->n_services + 1, sizeof(*next));
        added = calloc(set.n_items + 1, sizeof(*added));
        if (!next || !added) {
                free(next);
                free(added);
                manifest_set_deinit(&set);
                return -ENOMEM;
        }
        /* First pass: create the new services (the only step that can fail).
         * One removed by an earlier reload but still stopping is revived
         * instead: two instances would share one cgroup. */
        for (unsigned i = 0; i < set.n_items; i++) {
                struct service *gone = sup_find_removed(sup, set.items[i]->name);
                if (gone) {
                        gone->is_removed = false;
                        gone->is_revived = true;
                }
                if (sup_find(sup, set.items[i]->name))
                        continue;
                r = service_new(sup, set.items[i], &added[n_added]);
                if (r < 0) {
                        for (unsigned j = 0; j < n_added; j++) {
                                added[j]->spec = NULL; /* still owned by the set */
                                service_free(added[j]);
                        }
                        free(next);
                        free(added);
                        manifest_set_deinit(&set);
                        return r;
                }
                n_added++;
        }
        /* Second pass: commit.  Keep the new order; old services not in it
         * are marked removed and kept at the end until they are down. */
        for (unsigned i = 0; i < sup->n_services; i++)
                sup->services[i]->is_kept = false;
        for (unsigned i = 0, a = 0; i < set.n_items; i++) {
                struct service *old = sup_find(sup, set.items[i]->name);
                if (old)
                        old->is_kept = true;
                next[n++] = old ? old : added[a++];
        }
        for (unsigned i = 0; i < sup->n_services; i++) {
                struct service *s = sup->services[i];
                if (s->is_kept)
                        continue;
                if (!s->is_removed)
                        sum->removed++;
                s->is_removed = true;
                next[n++] = s;
        }
        free(sup->services);
        sup->services = next;
        sup->n_services = n;
        sup_link(sup);
        /* Third pass: act. */
        for (unsigned i = 0; i < set.n_items; i++) {
                struct manifest *m = set.items[i];
                struct service *s = sup_find(sup, m->name);
                set.items[i] = NULL;
                if (s->spec == m) {
                        sum->added++;
                        sup_start_initial(s);
                } else if (reload_existing(s, m)) {
                        sum->changed++;
                } else {
                        sum->unchanged++;
                }
        }
        for (unsigned i = 0; i < sup->n_services; i++) {
                struct service *s = sup->services[i];
                if (!s->is_removed)
                        continue;
                if (svc_state_is_up(s->fsm.state) || s->fsm.state == SVC_RESTARTING || s->fsm.state == SVC_LOADING)
                        service_dispatch(s, EV_STOP);
                else
                        sup_service_down(sup, s);
        }
        free(added);
        manifest_set_deinit(&set);
        sup_emit(sup, SUP_EV_RELOAD, NULL, "%u added, %u removed, %u changed, %u unchanged", sum->added, sum->removed,
                 sum->changed, sum->unchanged);
        return 0;
}

/* ---- going down: manifest swaps, removals, shutdown ---- */

static void sup_remove_service(struct supervisor *sup, struct service *svc)
{
        unsigned j = 0;

        for (unsigned i = 0; i < sup->n_services; i++)
                if (sup->services[i] != svc)
                        sup->services[j++] = sup->services[i];
        sup->n_services = j;
        sup_link(sup);
        service_free(svc);
}

/*
 * A changed service starts again with its new manifest if it was wanted
 * up, or if the old manifest kept it disabled and the new one enables it;
 * one an operator stopped stays stopped.
 */
static void swap_spec(struct supervisor *sup, struct service *svc)
{
        bool was_wanted = svc->fsm.want_up || (svc->fsm.state == SVC_LOADING && !svc->stop_pending) ||
                          (!svc->spec->enabled && svc->fsm.state == SVC_DISABLED);
        bool was_disabled = svc->fsm.state == SVC_DISABLED && svc->fsm.disabled_by == DISABLED_BY_OPERATOR &&
                            svc->spec->enabled;

        if (svc->is_revived) {
                /* removed, then added back: it starts like a new service */
                was_wanted = true;
                was_disabled = false;
                svc->is_revived = false;
        }
        struct manifest *old = svc->spec;
        struct fsm fresh;

        if (fsm_init(&fresh, svc->next_spec, loop_now(sup->loop), rng_next(&sup->rng)) < 0)
                return; /* try again at the next down transition */
        fsm_deinit(&svc->fsm);
        svc->fsm = fresh;
        svc->spec = take_ptr(svc->next_spec);
        manifest_free(old);
        loop_timer_disarm(sup->loop, &svc->fsm_timer);
        /* New limits: the next spawn makes the cgroup afresh (the
         * service is down, so it is empty). */
        cgroup_destroy(&svc->cg);
        sup_link(sup);
        service_log(svc, "manifest changed: %s", was_wanted ? "starting with the new one" : "applied");
        if (!svc->spec->enabled || was_disabled)
                service_dispatch(svc, EV_DISABLE); /* the manifest's, or the operator's */
        else if (was_wanted)
                service_dispatch(svc, EV_START);
        else
                service_dispatch(svc, EV_STOP); /* a fresh machine is in loading */
}

static bool all_down(const struct supervisor *sup)
{
        for (unsigned i = 0; i < sup->n_services; i++)
                if (svc_state_is_up(sup->services[i]->fsm.state))
                        return false;
        return true;
}

static void sup_on_deferred(struct loop_defer *d)
{
        struct service *svc = container_of(d, struct service, free_defer);
        struct supervisor *sup = svc->sup;

        if (svc_state_is_up(svc->fsm.state))
                return; /* came back up in the meantime */
        if (svc->is_removed)
                sup_remove_service(sup, svc);
        else if (svc->next_spec && !sup->is_shutting_down)
                swap_spec(sup, svc);
}

void sup_service_down(struct supervisor *sup, struct service *svc)
{
        if (svc->is_removed || svc->next_spec)
                loop_defer(sup->loop, &svc->free_defer, sup_on_deferred);
        if (sup->is_shutting_down && all_down(sup) && sup->hooks.on_idle_shutdown)
                sup->hooks.on_idle_shutdown(sup->hooks.shutdown_ctx);
}

void sup_shutdown(struct supervisor *sup)
{
        if (sup->is_shutting_down)
                return;
        sup->is_shutting_down = true;
        log_info("shutting down: stopping %u services in reverse dependency order", sup->n_services);
        for (unsigned i = 0; i < sup->n_services; i++)
                sup->services[i]->stop_pending = true;
        for (unsigned i = sup->n_services; i-- > 0;)
                service_try_stop(sup->services[i]);
        if (all_down(sup) && sup->hooks.on_idle_shutdown)
                sup->hooks.on_idle_shutdown(sup->hooks.shutdown_ctx);
}

/* ---- operator requests ---- */

/* Starts what @svc requires, transitively; each service once per request
 * (@gen), so shared dependencies cost nothing extra. */
static void mark_start(struct service *svc, unsigned gen)
{
        svc->stop_pending = false;
        svc->mark_gen = gen;
        for (unsigned i = 0; i < svc->n_requires; i++) {
                struct service *d = svc->requires[i];
                enum svc_state s = d->fsm.state;
                if (d->mark_gen == gen)
                        continue;
                mark_start(d, gen);
                if (s == SVC_STOPPED || s == SVC_FAILED || s == SVC_STOPPING)
                        service_dispatch(d, EV_START);
        }
}

/* Marks @svc and everything that requires it, transitively. */
static void mark_stop(struct service *svc)
{
        if (svc->stop_pending)
                return;
        svc->stop_pending = true;
        for (unsigned i = 0; i < svc->n_dependents; i++) {
                struct service *d = svc->dependents[i];
                for (unsigned j = 0; j < d->n_requires; j++)
                        if (d->requires[j] == svc)
                                mark_stop(d);
        }
}

static int request_stop(struct supervisor *sup, struct service *svc)
{
        enum svc_state s = svc->fsm.state;

        if (s == SVC_DISABLED && svc->fsm.disabled_by == DISABLED_BY_BREAKER) {
                service_dispatch(svc, EV_STOP); /* no more breaker trials */
                return 0;
        }
        if (!svc_state_is_up(s) && s != SVC_LOADING && s != SVC_RESTARTING)
                return SUP_E_NOOP;
        mark_stop(svc);
        for (unsigned i = sup->n_services; i-- > 0;)
                if (sup->services[i]->stop_pending)
                        service_try_stop(sup->services[i]);
        return 0;
}

int sup_request(struct supervisor *sup, struct service *svc, enum sup_op op)
{
        static const enum svc_event events[] = {
                [SUP_OP_START] = EV_START,     [SUP_OP_RESTART] = EV_RESTART, [SUP_OP_ENABLE] = EV_ENABLE,
                [SUP_OP_DISABLE] = EV_DISABLE, [SUP_OP_RESET] = EV_RESET,
        };
        struct fsm_result r;

        if (sup->is_shutting_down)
                return SUP_E_NOOP;
        if (op == SUP_OP_STOP)
                return request_stop(sup, svc);
        if (op == SUP_OP_DISABLE && svc->fsm.state == SVC_DISABLED && svc->fsm.disabled_by == DISABLED_BY_OPERATOR)
                return SUP_E_NOOP;
        if (op == SUP_OP_START || op == SUP_OP_RESTART || op == SUP_OP_ENABLE) {
                if (svc->fsm.state == SVC_DISABLED && op != SUP_OP_ENABLE)
                        return SUP_E_NOOP;
                if (op == SUP_OP_START && (svc->fsm.state == SVC_RUNNING || svc->fsm.state == SVC_STARTING))
                        return SUP_E_NOOP;
                mark_start(svc, ++sup->mark_gen);
        }
        r = fsm_event(&svc->fsm, events[op], loop_now(sup->loop));
        if (!r.is_handled)
                return SUP_E_NOOP;
        service_apply(svc, r);
        return 0;
}

/* ---- children ---- */

int sup_child_add(struct supervisor *sup, struct child *c)
{
        if (sup->n_children == sup->cap_children) {
                unsigned cap = sup->cap_children ? 2 * sup->cap_children : 64;
                struct child **a = realloc(sup->children, cap * sizeof(*a));
                if (!a)
                        return -ENOMEM;
                sup->children = a;
                sup->cap_children = cap;
        }
        sup->children[sup->n_children++] = c;
        return 0;
}

void sup_child_remove(struct supervisor *sup, struct child *c)
{
        for (unsigned i = 0; i < sup->n_children; i++) {
                if (sup->children[i] == c) {
                        sup->children[i] = sup->children[--sup->n_children];
                        return;
                }
        }
}

static struct child *child_take(struct supervisor *sup, pid_t pid)
{
        for (unsigned i = 0; i < sup->n_children; i++) {
                struct child *c = sup->children[i];
                if (c->pid == pid) {
                        sup->children[i] = sup->children[--sup->n_children];
                        return c;
                }
        }
        return NULL;
}

void sup_reap(struct supervisor *sup)
{
        for (;;) {
                siginfo_t si = {0};
                struct child *c;
                int code = 0, sig = 0;

                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                        return;
                if (si.si_code == CLD_EXITED)
                        code = si.si_status;
                else
                        sig = si.si_status;
                c = child_take(sup, si.si_pid);
                if (c)
                        c->on_exit(c, code, sig);
                else
                        log_debug("reaped orphan pid=%d", (int)si.si_pid);
        }
}

/* ---- events ---- */

const char *event_kind_name(enum sup_event_kind k)
{
        static const char *const names[] = {"state", "breaker", "crash", "limit", "reload", "health"};
        return k <= SUP_EV_HEALTH ? names[k] : "?";
}

static struct sup_event *event_next(struct supervisor *sup, enum sup_event_kind kind, const struct service *svc)
{
        struct sup_event *ev = &sup->events[sup->event_seq % SUP_EVENT_RING];

        *ev = (struct sup_event){.seq = ++sup->event_seq, .time = now_real(), .kind = kind};
        if (svc) {
                snprintf(ev->service, sizeof(ev->service), "%s", svc->spec->name);
                ev->from = ev->to = svc->fsm.state;
        }
        return ev;
}

static void event_publish(struct supervisor *sup, const struct sup_event *ev)
{
        if (ev->kind == SUP_EV_STATE)
                log_info("service=%s: %s -> %s: %s", ev->service, svc_state_name(ev->from), svc_state_name(ev->to),
                         ev->detail);
        else if (ev->service[0])
                log_info("service=%s: %s: %s", ev->service, event_kind_name(ev->kind), ev->detail);
        else
                log_info("%s: %s", event_kind_name(ev->kind), ev->detail);
        if (sup->hooks.on_event)
                sup->hooks.on_event(sup->hooks.ctx, ev);
}

void sup_emit(struct supervisor *sup, enum sup_event_kind kind, const struct service *svc, const char *fmt, ...)
{
        struct sup_event *ev = event_next(sup, kind, svc);
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(ev->detail, sizeof(ev->detail), fmt, ap);
        va_end(ap);
        event_publish(sup, ev);
}

void sup_emit_state(struct supervisor *sup, const struct service *svc, enum svc_state from)
{
        struct sup_event *ev = event_next(sup, SUP_EV_STATE, svc);

        ev->from = from;
        snprintf(ev->detail, sizeof(ev->detail), "%s", svc->fsm.reason);
        event_publish(sup, ev);
}

unsigned sup_event_count(const struct supervisor *sup)
{
        return sup->event_seq < SUP_EVENT_RING ? (unsigned)sup->event_seq : SUP_EVENT_RING;
}

const struct sup_event *sup_event_at(const struct supervisor *sup, unsigned i)
{
        unsigned n = sup_event_count(sup);

        if (i >= n)
                return NULL;
        return &sup->events[(sup->event_seq - n + i) % SUP_EVENT_RING];
}
