/*
 * Validation of a change set: the rules, each checked only where a delta
 * can break it.
 *
 * The configuration after the change is the change set laid over the
 * store: a leaf has a value afterwards if its delta has a new value, or if
 * it has no delta and the store has it (after_has()).  A list entry exists
 * exactly when its key leaf has a value.
 *
 * For a delta that sets a leaf:
 *   1. the path names a leaf of the schema;
 *   2. the value fits it (kind, range, length, pattern, enum);
 *   3. a key leaf holds its entry's key, spelt as the key is (an int
 *      key is written in its one decimal form: vlan[7], never vlan[07]);
 *   4. every list entry on the way exists afterwards;
 *   5. a ref names an entry of its target list that exists afterwards
 *      (and the delta's ref_to is set to that entry for the store);
 *   6. a new entry (its key leaf had no value) has every required leaf
 *      without a default, through its containers but not into sublists.
 * For a delta that removes a leaf:
 *   7. a required leaf without a default may go only with its entry;
 *   8. removing a key leaf removes the entry: no leaf of it may stay, and
 *      no ref outside the change may still point at it (the store's
 *      reverse index answers that with one index range);
 *   9. a leaf the schema no longer knows may always be removed.
 *
 * Every broken rule is reported, with the path and the reason; nothing
 * stops at the first.  Costs: per delta, one schema walk and O(depth)
 * point lookups; per removed entry, its own leaves and the refs to it.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/validate.h"
#include "util/cleanup.h"
#include "util/strbuf.h"

struct vctx {
        const struct schema_set *schemas;
        struct store *st;
        struct cfg_changes *c;
        struct validate_errors *errs;
};

/* A delta's path with the schema node of each segment (NULL inside the subtree path). */
struct located {
        struct path p;
        const struct schema_node *nodes[PATH_SEGS_MAX];
        unsigned first; /* first segment below the subtree root */
};

void validate_errors_deinit(struct validate_errors *e)
{
        for (size_t i = 0; i < e->n; i++) {
                free(e->v[i].path);
                free(e->v[i].reason);
        }
        free(e->v);
        *e = (struct validate_errors)VALIDATE_ERRORS_INIT;
}

/**
 * validate_errors_add() - record one broken rule.
 *
 * Return: 0 or -ENOMEM.
 */
int validate_errors_add(struct validate_errors *e, const char *path, const char *fmt, ...)
{
        struct validate_error err = { 0 };
        va_list ap;
        int r;

        if (e->n >= VALIDATE_ERRORS_MAX) {
                e->n_dropped++;
                return 0;
        }
        if (e->n == e->n_alloc) {
                size_t a = e->n_alloc ? 2 * e->n_alloc : 8;
                struct validate_error *v = reallocarray(e->v, a, sizeof(*v));

                if (!v)
                        return -ENOMEM;
                e->v = v;
                e->n_alloc = a;
        }
        va_start(ap, fmt);
        r = vasprintf(&err.reason, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        err.path = strdup(path);
        if (!err.path) {
                free(err.reason);
                return -ENOMEM;
        }
        e->v[e->n++] = err;
        return 0;
}

char *validate_errors_format(const struct validate_errors *e)
{
        size_t size = 64, pos = 0;
        char *buf;

        for (size_t i = 0; i < e->n; i++)
                size += strlen(e->v[i].path) + strlen(e->v[i].reason) + 3;
        buf = malloc(size);
        if (!buf)
                return NULL;
        buf[0] = '\0';
        for (size_t i = 0; i < e->n; i++)
                buf_appendf(buf, size, &pos, "%s: %s\n", e->v[i].path, e->v[i].reason);
        if (e->n_dropped)
                buf_appendf(buf, size, &pos, "(%zu more)\n", e->n_dropped);
        return buf;
}

static int after_has(struct vctx *v, const char *path, bool *out)
{
        const struct cfg_delta *d = changes_find(v->c, path);

        if (d) {
                *out = d->has_new;
                return 0;
        }
        return store_has(v->st, path, out);
}

/* "prefix.name" into buf; false if too long. */
static bool join(char *buf, size_t n, const char *prefix, size_t prefix_len, const char *name)
{
        int w = snprintf(buf, n, "%.*s.%s", (int)prefix_len, prefix, name);

        return w > 0 && (size_t)w < n;
}

static int locate(struct vctx *v, const char *path, struct located *loc, char *why, size_t n)
{
        const struct schema_node *node;
        bool is_entry;
        unsigned i;
        int r;

        if (path_parse(path, &loc->p, NULL)) {
                snprintf(why, n, "not a valid path");
                return SCHEMA_E_NO_NODE;
        }
        r = schema_resolve(v->schemas, &loc->p, &node, &is_entry, why, n);
        if (r)
                return r;
        if (node->kind != SCHEMA_LEAF) {
                snprintf(why, n, "expected a leaf, found a %s", node->kind == SCHEMA_LIST ? "list" : "container");
                return SCHEMA_E_NO_NODE;
        }
        memset(loc->nodes, 0, sizeof(loc->nodes));
        for (i = loc->p.n_segs; i-- > 0 && node && node->parent;) {
                loc->nodes[i] = node;
                node = node->parent;
        }
        loc->first = i + 1;
        return 0;
}

/* Rule 6: the required leaves of a new entry (or of a container in it). */
static int check_required(struct vctx *v, const char *entry, const struct schema_node *n)
{
        char path[PATH_TEXT_MAX + 1];
        bool has;
        int r;

        for (unsigned i = 0; i < n->n_children; i++) {
                const struct schema_node *c = n->children[i];

                if (c->kind == SCHEMA_LIST || (c->kind == SCHEMA_LEAF && (!c->is_required || c->has_default || c->is_key)))
                        continue;
                if (!join(path, sizeof(path), entry, strlen(entry), c->name))
                        continue;
                if (c->kind == SCHEMA_CONTAINER) {
                        r = check_required(v, path, c);
                        if (r)
                                return r;
                        continue;
                }
                r = after_has(v, path, &has);
                if (!r && !has)
                        r = validate_errors_add(v->errs, path, "required in the new entry %s, and has no default",
                                                entry);
                if (r)
                        return r;
        }
        return 0;
}

/* Rules 3 and 4: the key leaf holds its key; every entry on the way exists. */
static int check_entries(struct vctx *v, const struct cfg_delta *d, const struct located *loc)
{
        const struct schema_node *leaf = loc->nodes[loc->p.n_segs - 1];
        char key_path[PATH_TEXT_MAX + 1], why[256];
        int r;

        if (leaf->is_key) {
                const struct path_seg *seg = &loc->p.segs[loc->p.n_segs - 2];
                _cleanup_free_ char *key = strndup(seg->key, seg->key_len);
                struct cfg_value kv = CFG_VALUE_INIT;

                if (!key)
                        return -ENOMEM;
                /* The key's text must be the value's one spelling: vlan[07] is not vlan[7]. */
                r = schema_parse_value(leaf, key, &kv, why, sizeof(why));
                if (r < 0)
                        return r;
                if (r || !value_equal(&kv, &d->new) ||
                    (kv.kind != CFG_KIND_TEXT && strcmp(value_format(&kv, why, sizeof(why)), key)))
                        r = validate_errors_add(v->errs, d->path, "expected the entry's key %s, found %s", key,
                                                value_format(&d->new, why, sizeof(why)));
                value_deinit(&kv);
                if (r)
                        return r;
        }
        for (unsigned i = loc->first; i + 1 < loc->p.n_segs; i++) {
                const struct path_seg *seg = &loc->p.segs[i];
                bool has;

                if (!seg->key || (leaf->is_key && i + 2 == loc->p.n_segs))
                        continue;
                if (!join(key_path, sizeof(key_path), loc->p.text, seg->end, loc->nodes[i]->key->name))
                        continue;
                r = after_has(v, key_path, &has);
                if (!r && !has)
                        r = validate_errors_add(v->errs, d->path, "the entry %.*s does not exist", (int)seg->end,
                                                loc->p.text);
                if (r)
                        return r;
        }
        return 0;
}

/* Rule 5: a ref names an existing entry; records which, for the store. */
static int check_ref(struct vctx *v, struct cfg_delta *d, const struct schema_node *leaf)
{
        const struct schema_node *list = leaf->target_list;
        char entry[PATH_TEXT_MAX + 1], key_path[PATH_TEXT_MAX + 1];
        bool has = false;
        int r;

        free(d->ref_to);
        d->ref_to = NULL;
        if (!list) /* the set was not linked */
                return validate_errors_add(v->errs, d->path, "ref target %s is not resolved", leaf->target);
        if (d->new.kind != CFG_KIND_TEXT ||
            !path_format_entry(entry, sizeof(entry), leaf->target, d->new.s, strlen(d->new.s)) ||
            !join(key_path, sizeof(key_path), entry, strlen(entry), list->key->name))
                return validate_errors_add(v->errs, d->path, "expected the key of an entry of %s", leaf->target);
        r = after_has(v, key_path, &has);
        if (r)
                return r;
        if (!has)
                return validate_errors_add(v->errs, d->path, "refers to %s, which does not exist", entry);
        d->ref_to = strdup(entry);
        return d->ref_to ? 0 : -ENOMEM;
}

static int check_set(struct vctx *v, struct cfg_delta *d)
{
        const struct schema_node *leaf;
        struct located loc;
        char why[512];
        int r;

        r = locate(v, d->path, &loc, why, sizeof(why));
        if (r)
                return validate_errors_add(v->errs, d->path, "%s", why);
        leaf = loc.nodes[loc.p.n_segs - 1];
        if (schema_check_value(leaf, &d->new, why, sizeof(why)))
                return validate_errors_add(v->errs, d->path, "%s", why);
        r = check_entries(v, d, &loc);
        if (!r && leaf->type == SCHEMA_REF)
                r = check_ref(v, d, leaf);
        if (!r && leaf->is_key && !d->has_old) {
                size_t l = loc.p.segs[loc.p.n_segs - 2].end;
                _cleanup_free_ char *entry = strndup(d->path, l);

                if (!entry)
                        return -ENOMEM;
                r = check_required(v, entry, leaf->parent);
        }
        return r;
}

struct refs_ctx {
        struct vctx *v;
        const char *entry;
};

static int on_ref(const char *from, void *ctx)
{
        struct refs_ctx *rc = ctx;

        if (changes_find(rc->v->c, from))
                return 0; /* changed or removed too: rule 5 checks what it becomes */
        return validate_errors_add(rc->v->errs, rc->entry, "removed, but %s still refers to it", from);
}

static int on_leftover(const char *path, const struct cfg_value *value, void *ctx)
{
        struct refs_ctx *rc = ctx;

        (void)value;
        if (changes_find(rc->v->c, path))
                return 0; /* removed too, or set: rule 4 refuses that */
        return validate_errors_add(rc->v->errs, path, "its entry %s is removed, but it is not", rc->entry);
}

static int check_remove(struct vctx *v, const struct cfg_delta *d)
{
        const struct schema_node *leaf;
        struct located loc;
        char why[512];
        int r;

        if (locate(v, d->path, &loc, why, sizeof(why)))
                return 0; /* rule 9 */
        leaf = loc.nodes[loc.p.n_segs - 1];
        if (leaf->is_key) {
                size_t l = loc.p.segs[loc.p.n_segs - 2].end;
                _cleanup_free_ char *entry = strndup(d->path, l);
                struct refs_ctx rc = { .v = v };

                if (!entry)
                        return -ENOMEM;
                rc.entry = entry;
                r = store_refs_to(v->st, entry, on_ref, &rc);
                if (!r)
                        r = store_list(v->st, entry, on_leftover, &rc);
                return r;
        }
        if (!leaf->is_required || leaf->has_default)
                return 0;
        /* Rule 7: allowed only if the nearest entry goes too. */
        for (unsigned i = loc.p.n_segs - 1; i-- > loc.first;) {
                const struct path_seg *seg = &loc.p.segs[i];
                char key_path[PATH_TEXT_MAX + 1];
                bool has;

                if (!seg->key)
                        continue;
                if (!join(key_path, sizeof(key_path), loc.p.text, seg->end, loc.nodes[i]->key->name))
                        return 0;
                r = after_has(v, key_path, &has);
                if (r || !has)
                        return r;
                break;
        }
        return validate_errors_add(v->errs, d->path, "required, and has no default: it cannot be removed%s",
                                   leaf->parent && leaf->parent->kind == SCHEMA_LIST ? " but with its entry" : "");
}

/**
 * validate_changes() - check a change set against the schema and the store.
 * @s: the schema set, linked
 * @st: the store, at the revision the change set was computed on
 * @c: the deltas, sorted by path; each ref delta gets its ref_to set
 * @errs: every broken rule is appended
 *
 * Return: 0 (valid), VALIDATE_E_INVALID (see @errs), or a negative errno.
 */
int validate_changes(const struct schema_set *s, struct store *st, struct cfg_changes *c, struct validate_errors *errs)
{
        struct vctx v = { .schemas = s, .st = st, .c = c, .errs = errs };
        size_t before = errs->n + errs->n_dropped;
        int r = 0;

        for (size_t i = 0; i < c->n && !r; i++) {
                struct cfg_delta *d = &c->v[i];

                if (d->has_new)
                        r = check_set(&v, d);
                else if (d->has_old)
                        r = check_remove(&v, d);
        }
        if (r)
                return r < 0 ? r : -EIO;
        return errs->n + errs->n_dropped > before ? VALIDATE_E_INVALID : 0;
}
