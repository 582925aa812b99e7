/*
 * Manifest sets: every manifest of one directory, checked as a whole and
 * put in the order services start.
 *
 * This module owns what no single manifest can know:
 *  - which files form the set: *.yaml and *.yml, not starting with '.',
 *    regular files (a symlink counts as what it points to), read in byte
 *    order of their names, so the result never depends on readdir();
 *  - that names are unique across the set;
 *  - that every `requires` names a service of the set, and nothing names
 *    itself; an `after` naming an absent service is ignored, since it only
 *    orders;
 *  - that requires and after edges together have no cycle;
 *  - the start order: a topological sort where, among the services that
 *    could start next, the one read first wins (Kahn's algorithm with the
 *    smallest index).  The same directory always gives the same order.
 *
 * Loading is all or nothing: the first bad file or bad edge fails the
 * whole set, and the diag names that file, line and field.  A cycle is
 * reported as "a -> b -> a", starting with the service read first, at the
 * line of its edge.
 *
 * Sets are small (tens of services), so the checks are plain quadratic
 * loops over arrays: easy to read, and no hashing to get wrong.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "supervisor/manifest_set.h"
#include "util/cleanup.h"
#include "util/diag.h"

struct edge {
        unsigned from, to; /* item indices: from starts after to */
        bool is_requires;  /* else after */
        unsigned entry;    /* index into from's requires or after */
};

struct graph {
        struct edge *edges; /* owned, n_edges */
        unsigned n_edges;
        unsigned n_alloc;
        unsigned *waiting;  /* owned, per item: edges to items not yet ordered */
        bool *done;         /* owned, per item: already in order */
        unsigned *order;    /* owned: item indices in start order */
        unsigned n_order;
};

static void graph_deinit(struct graph *g)
{
        free(g->edges);
        free(g->waiting);
        free(g->done);
        free(g->order);
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

static void names_free(char **v, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/**
 * manifest_set_deinit() - free every manifest of @set and empty it.
 * @set: set; may be empty
 */
void manifest_set_deinit(struct manifest_set *set)
{
        for (unsigned i = 0; i < set->n_items; i++)
                manifest_free(set->items[i]);
        free(set->items);
        *set = (struct manifest_set)MANIFEST_SET_INIT;
}

/**
 * manifest_set_find() - look a service up by name.
 * @set: set
 * @name: service name
 *
 * Return: the manifest, borrowed from @set, or NULL.
 */
const struct manifest *manifest_set_find(const struct manifest_set *set, const char *name)
{
        for (unsigned i = 0; i < set->n_items; i++) {
                if (!strcmp(set->items[i]->name, name))
                        return set->items[i];
        }
        return NULL;
}

static int index_of(const struct manifest_set *set, const char *name)
{
        for (unsigned i = 0; i < set->n_items; i++) {
                if (!strcmp(set->items[i]->name, name))
                        return (int)i;
        }
        return -1;
}

/* Points @diag at entry @entry of @m's requires (or after). */
__attribute__((format(printf, 5, 6))) static int fail_entry(struct orb_diag *diag, const struct manifest *m,
                                                            bool is_requires, unsigned entry,
                                                            const char *fmt, ...)
{
        const struct manifest_pos *pos = is_requires ? m->requires_pos : m->after_pos;
        char field[32], msg[sizeof(diag->message)];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(field, sizeof(field), "%s[%u]", is_requires ? "requires" : "after", entry);
        diag_set_file(diag, m->source);
        diag_set(diag, pos ? pos[entry].line : 0, pos ? pos[entry].column : 0, field, "%s", msg);
        return MANIFEST_E_INVALID;
}

static int check_names(const struct manifest_set *set, struct orb_diag *diag)
{
        for (unsigned i = 0; i < set->n_items; i++) {
                const struct manifest *m = set->items[i];

                for (unsigned j = 0; j < i; j++) {
                        if (strcmp(m->name, set->items[j]->name))
                                continue;
                        diag_set_file(diag, m->source);
                        diag_set(diag, m->name_pos.line, m->name_pos.column, "name",
                                 "duplicate service name '%s', also in %s", m->name, set->items[j]->source);
                        return MANIFEST_E_INVALID;
                }
        }
        return 0;
}

static int graph_add(struct graph *g, unsigned from, unsigned to, bool is_requires, unsigned entry)
{
        if (g->n_edges == g->n_alloc) {
                unsigned a = g->n_alloc ? 2 * g->n_alloc : 16;
                struct edge *e = reallocarray(g->edges, a, sizeof(*e));

                if (!e)
                        return -ENOMEM;
                g->edges = e;
                g->n_alloc = a;
        }
        g->edges[g->n_edges++] = (struct edge){ from, to, is_requires, entry };
        return 0;
}

/* Edges of item @i's requires (or after) list. */
static int graph_add_list(struct graph *g, const struct manifest_set *set, unsigned i, bool is_requires,
                          struct orb_diag *diag)
{
        const struct manifest *m = set->items[i];
        char **names = is_requires ? m->requires : m->after;

        for (unsigned k = 0; names && names[k]; k++) {
                int to = index_of(set, names[k]);
                int r;

                if (to < 0 && !is_requires)
                        continue;
                if (to < 0)
                        return fail_entry(diag, m, true, k,
                                          "missing dependency '%s': no service in the set has that name",
                                          names[k]);
                if ((unsigned)to == i)
                        return fail_entry(diag, m, is_requires, k, "service '%s' depends on itself", m->name);
                r = graph_add(g, i, (unsigned)to, is_requires, k);
                if (r)
                        return r;
        }
        return 0;
}

static int graph_build(struct graph *g, const struct manifest_set *set, struct orb_diag *diag)
{
        unsigned n = set->n_items ? set->n_items : 1;

        g->waiting = calloc(n, sizeof(*g->waiting));
        g->done = calloc(n, sizeof(*g->done));
        g->order = calloc(n, sizeof(*g->order));
        if (!g->waiting || !g->done || !g->order)
                return -ENOMEM;
        for (unsigned i = 0; i < set->n_items; i++) {
                int r = graph_add_list(g, set, i, true, diag);

                if (!r)
                        r = graph_add_list(g, set, i, false, diag);
                if (r)
                        return r;
        }
        return 0;
}

/* Kahn's algorithm, smallest index first; stops early on a cycle. */
static void graph_sort(struct graph *g, unsigned n)
{
        for (unsigned e = 0; e < g->n_edges; e++)
                g->waiting[g->edges[e].from]++;
        while (g->n_order < n) {
                unsigned next = 0;

                while (next < n && (g->done[next] || g->waiting[next]))
                        next++;
                if (next == n)
                        return;
                g->done[next] = true;
                g->order[g->n_order++] = next;
                for (unsigned e = 0; e < g->n_edges; e++) {
                        if (g->edges[e].to == next)
                                g->waiting[g->edges[e].from]--;
                }
        }
}

/* The first edge from @v to an item not yet ordered. */
static const struct edge *open_edge(const struct graph *g, unsigned v)
{
        for (unsigned e = 0; e < g->n_edges; e++) {
                if (g->edges[e].from == v && !g->done[g->edges[e].to])
                        return &g->edges[e];
        }
        return NULL;
}

/*
 * After graph_sort() stopped early, every item not ordered waits for
 * another item not ordered, so walking open edges from any of them must
 * come back to an item already seen: that loop is a cycle.
 */
static int report_cycle(const struct graph *g, const struct manifest_set *set, struct orb_diag *diag)
{
        unsigned n = set->n_items, v = 0, k = 0, start, first;
        const struct edge *e;
        _cleanup_free_ unsigned *step = calloc(n, sizeof(*step));
        _cleanup_free_ const struct edge **walk = calloc(n, sizeof(*walk));
        char msg[sizeof(diag->message)] = "dependency cycle: ";
        size_t len = strlen(msg);

        if (!step || !walk)
                return -ENOMEM;
        while (g->done[v])
                v++;
        while (!step[v]) {
                step[v] = ++k;
                walk[k - 1] = open_edge(g, v);
                if (!walk[k - 1])
                        return -EPROTO; /* cannot happen: v waits for something */
                v = walk[k - 1]->to;
        }
        start = step[v] - 1;
        first = start;
        for (unsigned i = start; i < k; i++) {
                if (walk[i]->from < walk[first]->from)
                        first = i;
        }
        for (unsigned i = 0; i <= k - start && len < sizeof(msg); i++) {
                e = walk[start + (first - start + i) % (k - start)];
                len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s", i ? " -> " : "",
                                        set->items[e->from]->name);
        }
        e = walk[first];
        return fail_entry(diag, set->items[e->from], e->is_requires, e->entry, "%s", msg);
}

static int apply_order(struct manifest_set *set, const struct graph *g)
{
        struct manifest **items;

        if (!set->n_items)
                return 0;
        items = calloc(set->n_items, sizeof(*items));
        if (!items)
                return -ENOMEM;
        for (unsigned i = 0; i < set->n_items; i++)
                items[i] = set->items[g->order[i]];
        free(set->items);
        set->items = items;
        return 0;
}

/**
 * manifest_set_check() - validate names and dependencies of @set and sort
 * it into dependency order in place.
 * @set: set, in the order its files were read
 * @diag: on MANIFEST_E_INVALID, the file, line and field at fault
 *
 * Checks run in this order: duplicate names, missing requires and
 * self-dependencies (in item order), cycles.  On error @set keeps its
 * order.
 *
 * Return: 0, MANIFEST_E_INVALID, -ENOMEM.
 */
int manifest_set_check(struct manifest_set *set, struct orb_diag *diag)
{
        _cleanup_(graph_deinit) struct graph g = { 0 };
        int r;

        r = check_names(set, diag);
        if (!r)
                r = graph_build(&g, set, diag);
        if (r)
                return r;
        graph_sort(&g, set->n_items);
        if (g.n_order < set->n_items)
                return report_cycle(&g, set, diag);
        return apply_order(set, &g);
}

static int dir_error(const char *dir, int r, const char *what, struct orb_diag *diag)
{
        diag_set_file(diag, dir);
        diag_set(diag, 0, 0, NULL, "unable to %s directory: %s", what, strerror(-r));
        return r;
}

static bool is_manifest_name(const char *name)
{
        size_t len = strlen(name);

        if (name[0] == '.')
                return false;
        return (len > 5 && !strcmp(name + len - 5, ".yaml")) || (len > 4 && !strcmp(name + len - 4, ".yml"));
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends @name if it is a regular file of @d (after symlinks). */
static int add_if_regular(DIR *d, const char *name, char ***names, unsigned *n)
{
        struct stat st;
        char **v;

        if (fstatat(dirfd(d), name, &st, 0) < 0)
                return errno == ENOENT ? 0 : -errno; /* gone, or a dangling link */
        if (!S_ISREG(st.st_mode))
                return 0;
        v = reallocarray(*names, *n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        *names = v;
        v[*n] = strdup(name);
        if (!v[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

/* Manifest file names of @dir, sorted bytewise. */
static int list_dir(const char *dir, char ***out, unsigned *n_out, struct orb_diag *diag)
{
        _cleanup_(closedirp) DIR *d = opendir(dir);
        char **names = NULL;
        unsigned n = 0;
        int r = 0;

        if (!d)
                return dir_error(dir, -errno, "open", diag);
        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                if (is_manifest_name(de->d_name))
                        r = add_if_regular(d, de->d_name, &names, &n);
                if (r)
                        break;
        }
        if (r) {
                names_free(names, n);
                return r == -ENOMEM ? r : dir_error(dir, r, "read", diag);
        }
        if (n)
                qsort(names, n, sizeof(*names), compare_names);
        *out = names;
        *n_out = n;
        return 0;
}

static int load_one(const char *dir, const char *name, struct manifest_set *set, struct orb_diag *diag)
{
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_free_ char *path = NULL;
        size_t len = strlen(dir);
        struct manifest **items;
        int r;

        if (asprintf(&path, "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/", name) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        r = manifest_load_file(path, &m, diag);
        if (r)
                return r;
        items = reallocarray(set->items, set->n_items + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        set->items = items;
        set->items[set->n_items++] = take_ptr(m);
        return 0;
}

/**
 * manifest_set_load_dir() - load every *.yaml / *.yml file of @dir.
 * @dir: directory path, used in diagnostics as given
 * @out: on success, the set in dependency order; its old content is not
 *       freed, so pass an empty one (MANIFEST_SET_INIT)
 * @diag: on error, the file (or directory), line and field at fault
 *
 * Files starting with '.' and entries that are not regular files are
 * skipped.  Files are read in byte order of their names.  All or nothing:
 * on error @out is untouched.  A directory with no manifest is a valid,
 * empty set.
 *
 * Return: 0, MANIFEST_E_INVALID (diag names file, line, field), -errno
 * when the directory or a file cannot be read (diag names it too, e.g.
 * -ENOENT for a missing directory), -ENOMEM.
 */
int manifest_set_load_dir(const char *dir, struct manifest_set *out, struct orb_diag *diag)
{
        _cleanup_(manifest_set_deinit) struct manifest_set set = MANIFEST_SET_INIT;
        char **names = NULL;
        unsigned n_names = 0;
        int r;

        r = list_dir(dir, &names, &n_names, diag);
        if (r)
                return r;
        for (unsigned i = 0; i < n_names && !r; i++)
                r = load_one(dir, names[i], &set, diag);
        names_free(names, n_names);
        if (!r)
                r = manifest_set_check(&set, diag);
        if (r)
                return r;
        *out = set;
        set = (struct manifest_set)MANIFEST_SET_INIT;
        return 0;
}
