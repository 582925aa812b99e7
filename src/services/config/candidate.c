/*
 * Candidates: a session's overlay over the running configuration.
 *
 * The overlay is a table of operations by path, each stamped with a
 * sequence number that grows with every operation:
 *
 *   SET PATH VALUE   the leaf has this value
 *   DELETE PATH      the leaf has no value (its default shows through)
 *   TREE PATH        everything inside PATH (a container, a list entry, a
 *                    whole list) is gone, as of this operation's number
 *
 * A SET or DELETE is live when it is newer than every TREE above it;
 * older ones were wiped by the TREE.  Nothing is ever removed from the
 * table, so an operation costs one hash insert whatever came before, and
 * a TREE does not need to find what it wipes.
 *
 * Reading a leaf: a live entry for it; else, if a TREE is above it, no
 * value; else the store; and when there is no value, the schema default,
 * provided every list entry on the way exists.
 *
 * The change set (candidate_changes()) is the exact per-leaf difference
 * from the store, each leaf once: live SETs that change something, and
 * DELETEs of stored leaves that no TREE covers; then, for each outermost
 * TREE, every stored leaf inside it that no live SET brings back.  It
 * costs the size of the overlay plus the size of the deleted subtrees.
 *
 * Setting a leaf inside list entries creates the entries: each missing
 * entry's key leaf is set to its key.  Deleting a key leaf deletes its
 * entry.  Values are checked for their type when set (early feedback);
 * validate.c checks everything again, and the rest, at commit.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/candidate.h"
#include "util/cleanup.h"

enum ov_op {
        OV_SET,
        OV_DELETE,
        OV_TREE,
};

struct ov {
        char *path;         /* owned */
        size_t len;
        enum ov_op op;
        struct cfg_value v; /* OV_SET; owned */
        uint64_t seq;
};

struct candidate {
        const struct schema_set *schemas; /* borrowed */
        struct store *st;                 /* borrowed */
        uint64_t base;                    /* running revision the overlay was started on */
        uint64_t seq;                     /* of the last operation */
        struct ov *v;                     /* owned, in insertion order */
        size_t n, n_alloc;
        uint32_t *index;                  /* owned; open addressing, 1 + index into v, 0 empty */
        size_t index_size;                /* a power of two, at least twice n */
        size_t n_trees;                   /* TREE entries: when 0, no ancestor look-ups */
};

/* Ancestors of a path in the overlay: is any TREE above it, and the newest one's number. */
struct above {
        bool any;
        uint64_t seq;
};

static uint64_t hash(const char *s, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ull;

        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 0x100000001b3ull;
        }
        return h;
}

static struct ov *find(const struct candidate *c, const char *path, size_t len)
{
        size_t mask = c->index_size - 1;

        if (!c->index_size)
                return NULL;
        for (size_t i = hash(path, len) & mask;; i = (i + 1) & mask) {
                uint32_t slot = c->index[i];

                if (!slot)
                        return NULL;
                if (c->v[slot - 1].len == len && !memcmp(c->v[slot - 1].path, path, len))
                        return &c->v[slot - 1];
        }
}

static int index_grow(struct candidate *c)
{
        size_t size = c->index_size ? 2 * c->index_size : 64;
        uint32_t *index;

        if (c->n >= UINT32_MAX / 2)
                return -ENOMEM;
        index = calloc(size, sizeof(*index));
        if (!index)
                return -ENOMEM;
        for (size_t k = 0; k < c->n; k++) {
                size_t i = hash(c->v[k].path, c->v[k].len) & (size - 1);

                while (index[i])
                        i = (i + 1) & (size - 1);
                index[i] = (uint32_t)(k + 1);
        }
        free(c->index);
        c->index = index;
        c->index_size = size;
        return 0;
}

/*
 * An operation with its allocations done: applying a batch of them cannot
 * fail half-way, so a set that creates entries is all or nothing.
 */
struct prep {
        char *path;         /* owned until applied */
        size_t len;
        enum ov_op op;
        struct cfg_value v; /* OV_SET; owned until applied */
};

static int prep_init(struct prep *p, const char *path, size_t len, enum ov_op op, struct cfg_value *value)
{
        *p = (struct prep){ .len = len, .op = op, .v = CFG_VALUE_INIT };
        if (value) {
                p->v = *value;
                *value = (struct cfg_value)CFG_VALUE_INIT;
        }
        p->path = strndup(path, len);
        return p->path ? 0 : -ENOMEM;
}

static void preps_deinit(struct prep *ops, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(ops[i].path);
                value_deinit(&ops[i].v);
        }
}

/* Room for @k more entries in the table and its index. */
static int reserve(struct candidate *c, size_t k)
{
        if (c->n + k > c->n_alloc) {
                size_t a = c->n_alloc ? 2 * c->n_alloc : 16;
                struct ov *v;

                while (a < c->n + k)
                        a *= 2;
                v = reallocarray(c->v, a, sizeof(*v));
                if (!v)
                        return -ENOMEM;
                c->v = v;
                c->n_alloc = a;
        }
        while (2 * (c->n + k) > c->index_size)
                if (index_grow(c))
                        return -ENOMEM;
        return 0;
}

/* Records one prepared operation; needs room for one entry (reserve()). */
static void apply(struct candidate *c, struct prep *p)
{
        struct ov *e = find(c, p->path, p->len);
        size_t i;

        if (!e) {
                e = &c->v[c->n];
                *e = (struct ov){ .len = p->len, .path = take_ptr(p->path) };
                for (i = hash(e->path, e->len) & (c->index_size - 1); c->index[i]; i = (i + 1) & (c->index_size - 1))
                        ;
                c->index[i] = (uint32_t)(c->n + 1);
                c->n++;
        } else if (e->op == OV_SET) {
                value_deinit(&e->v);
        } else if (e->op == OV_TREE) {
                c->n_trees--;
        }
        e->op = p->op;
        e->seq = ++c->seq;
        e->v = p->v;
        p->v = (struct cfg_value)CFG_VALUE_INIT;
        if (p->op == OV_TREE)
                c->n_trees++;
}

/* Records @n prepared operations, all or none; frees what is left of them. */
static int put_all(struct candidate *c, struct prep *ops, size_t n)
{
        int r = reserve(c, n);

        for (size_t i = 0; !r && i < n; i++)
                apply(c, &ops[i]);
        preps_deinit(ops, n);
        return r;
}

/* Records one operation on @path (@len bytes); @value is stolen for OV_SET. */
static int put(struct candidate *c, const char *path, size_t len, enum ov_op op, struct cfg_value *value)
{
        struct prep p;
        int r = prep_init(&p, path, len, op, value);

        if (r) {
                preps_deinit(&p, 1);
                return r;
        }
        return put_all(c, &p, 1);
}

static void check_above(const struct candidate *c, const char *text, size_t len, struct above *a)
{
        const struct ov *e = find(c, text, len);

        if (e && e->op == OV_TREE) {
                a->any = true;
                if (e->seq > a->seq)
                        a->seq = e->seq;
        }
}

/* The TREEs strictly above @p: containers, lists and entries on the way. */
static struct above above_of(const struct candidate *c, const struct path *p)
{
        struct above a = { 0 };

        if (!c->n_trees)
                return a;
        for (unsigned i = 0; i < p->n_segs; i++) {
                const struct path_seg *seg = &p->segs[i];
                size_t name_end = (size_t)(seg->name - p->text) + seg->name_len;

                if (i + 1 < p->n_segs || seg->key)
                        check_above(c, p->text, name_end, &a);
                if (seg->key && i + 1 < p->n_segs)
                        check_above(c, p->text, seg->end, &a);
        }
        return a;
}

static bool is_live(const struct ov *e, const struct above *a)
{
        return e && e->seq > a->seq;
}

int candidate_new(const struct schema_set *s, struct store *st, struct candidate **out)
{
        struct candidate *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        c->schemas = s;
        c->st = st;
        r = store_revision(st, &c->base);
        if (r) {
                free(c);
                return r < 0 ? r : -EIO;
        }
        *out = c;
        return 0;
}

/**
 * candidate_discard() - drop every operation; the base stays.
 */
void candidate_discard(struct candidate *c)
{
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].path);
                if (c->v[i].op == OV_SET)
                        value_deinit(&c->v[i].v);
        }
        free(c->v);
        free(c->index);
        c->v = NULL;
        c->index = NULL;
        c->n = c->n_alloc = c->index_size = c->n_trees = 0;
}

struct candidate *candidate_free(struct candidate *c)
{
        if (!c)
                return NULL;
        candidate_discard(c);
        free(c);
        return NULL;
}

uint64_t candidate_base(const struct candidate *c)
{
        return c->base;
}

size_t candidate_size(const struct candidate *c)
{
        return c->n;
}

/**
 * candidate_rebase() - move the base to the running revision, keeping the
 * overlay: the session's own operations win over what was committed since.
 *
 * Return: 0 or a negative errno.
 */
int candidate_rebase(struct candidate *c)
{
        int r = store_revision(c->st, &c->base);

        return r < 0 ? r : r ? -EIO : 0;
}

/* Parses and resolves a path for set/delete/get; fills the diag on refusal. */
static int resolve(struct candidate *c, const char *text, struct path *p, const struct schema_node **node,
                   bool *is_entry, struct orb_diag *d)
{
        char why[512];

        if (path_parse(text, p, d))
                return CANDIDATE_E_INVALID;
        if (schema_resolve(c->schemas, p, node, is_entry, why, sizeof(why))) {
                diag_set(d, 0, 0, text, "%s", why);
                return CANDIDATE_E_INVALID;
        }
        return 0;
}

/* Does the leaf at @text have a value in the candidate's view? */
static int leaf_exists(struct candidate *c, const char *text, bool *out)
{
        struct path p;
        struct above a;
        const struct ov *e;

        if (path_parse(text, &p, NULL)) {
                *out = false;
                return 0;
        }
        a = above_of(c, &p);
        e = find(c, text, p.len);
        if (is_live(e, &a)) {
                *out = e->op == OV_SET;
                return 0;
        }
        if (a.any) {
                *out = false;
                return 0;
        }
        return store_has(c->st, text, out);
}

/* The key leaf of the entry that ends at segment @i: "net.iface[eth0].name". */
static bool key_path_of(const struct path *p, unsigned i, const struct schema_node *list, char *buf, size_t n)
{
        int w = snprintf(buf, n, "%.*s.%s", (int)p->segs[i].end, p->text, list->key->name);

        return w > 0 && (size_t)w < n;
}

/* The list node of segment @i of a path resolving to @leaf. */
static const struct schema_node *node_at(const struct path *p, const struct schema_node *leaf, unsigned i)
{
        const struct schema_node *n = leaf;

        for (unsigned k = p->n_segs - 1; k > i && n; k--)
                n = n->parent;
        return n;
}

/* The key leaf @key_path of @list, set to @key: checked, and written as the key is. */
static int key_op(const struct schema_node *list, const char *key_path, const struct path_seg *seg, struct prep *op,
                  struct orb_diag *d)
{
        char why[256], canon[32];
        struct cfg_value kv = CFG_VALUE_INIT;
        _cleanup_free_ char *key = strndup(seg->key, seg->key_len);
        int r;

        if (!key)
                return -ENOMEM;
        r = schema_parse_value(list->key, key, &kv, why, sizeof(why));
        if (!r)
                r = schema_check_value(list->key, &kv, why, sizeof(why));
        if (!r && kv.kind != CFG_KIND_TEXT && strcmp(value_format(&kv, canon, sizeof(canon)), key)) {
                snprintf(why, sizeof(why), "expected the key written %s, its one spelling", canon);
                r = SCHEMA_E_VALUE;
        }
        if (r > 0) {
                value_deinit(&kv);
                diag_set(d, 0, 0, key_path, "bad key: %s", why);
                return CANDIDATE_E_INVALID;
        }
        if (!r) {
                r = prep_init(op, key_path, strlen(key_path), OV_SET, &kv);
                if (r)
                        preps_deinit(op, 1);
        }
        value_deinit(&kv);
        return r;
}

/* Prepares the creation of each list entry on the way to @leaf that does not exist yet. */
static int entry_ops(struct candidate *c, const struct path *p, const struct schema_node *leaf, unsigned n_segs,
                     struct prep *ops, size_t *n_ops, struct orb_diag *d)
{
        char key_path[PATH_TEXT_MAX + 1];

        for (unsigned i = 0; i < n_segs; i++) {
                const struct schema_node *list;
                bool has;
                int r;

                if (!p->segs[i].key)
                        continue;
                list = node_at(p, leaf, i);
                if (!list || list->kind != SCHEMA_LIST || !key_path_of(p, i, list, key_path, sizeof(key_path)))
                        return -EINVAL;
                r = leaf_exists(c, key_path, &has);
                if (r)
                        return r;
                if (has)
                        continue;
                r = key_op(list, key_path, &p->segs[i], &ops[*n_ops], d);
                if (r)
                        return r;
                (*n_ops)++;
        }
        return 0;
}

/**
 * candidate_set() - set a leaf.
 * @c: the candidate
 * @path: a leaf path; list entries on the way are created
 * @value: text: "1500", "true", "eth0"
 * @d: filled on refusal
 *
 * The value must have the leaf's type and fit its range, length, pattern
 * or enum; a key leaf only takes its entry's key.  Refs and required
 * leaves are checked at commit (validate.c).  On failure the candidate
 * is unchanged.
 *
 * Return: 0, CANDIDATE_E_INVALID, or a negative errno.
 */
int candidate_set(struct candidate *c, const char *path, const char *value, struct orb_diag *d)
{
        struct prep ops[PATH_SEGS_MAX + 1];
        const struct schema_node *leaf;
        struct cfg_value v = CFG_VALUE_INIT;
        size_t n_ops = 0;
        char why[512];
        struct path p;
        bool is_entry;
        int r;

        r = resolve(c, path, &p, &leaf, &is_entry, d);
        if (r)
                return r;
        if (leaf->kind != SCHEMA_LEAF) {
                diag_set(d, 0, 0, path, "expected a leaf, found a %s; set its leaves",
                         leaf->kind == SCHEMA_LIST ? "list" : "container");
                return CANDIDATE_E_INVALID;
        }
        r = schema_parse_value(leaf, value, &v, why, sizeof(why));
        if (!r)
                r = schema_check_value(leaf, &v, why, sizeof(why));
        if (!r && leaf->is_key) {
                const struct path_seg *seg = &p.segs[p.n_segs - 2];

                if (strlen(value) != seg->key_len || memcmp(value, seg->key, seg->key_len)) {
                        snprintf(why, sizeof(why), "expected the entry's key %.*s", (int)seg->key_len, seg->key);
                        r = SCHEMA_E_VALUE;
                }
        }
        if (r > 0) {
                value_deinit(&v);
                diag_set(d, 0, 0, path, "%s", why);
                return CANDIDATE_E_INVALID;
        }
        if (r)
                return r;
        /* The entries on the way and the leaf: all recorded, or none. */
        r = entry_ops(c, &p, leaf, p.n_segs - 1, ops, &n_ops, d);
        if (!r)
                r = prep_init(&ops[n_ops++], path, p.len, OV_SET, &v);
        value_deinit(&v);
        if (r) {
                preps_deinit(ops, n_ops);
                return r;
        }
        return put_all(c, ops, n_ops);
}

/**
 * candidate_delete() - delete a leaf, a container's leaves, a list entry or
 * a whole list.
 * @path: what to delete; a key leaf deletes its entry; a leaf the schema
 *        no longer knows may be deleted if it has a running value
 *
 * Deleting what has no value is not an error.
 *
 * Return: 0, CANDIDATE_E_INVALID, or a negative errno.
 */
int candidate_delete(struct candidate *c, const char *path, struct orb_diag *d)
{
        const struct schema_node *node;
        struct path p;
        bool is_entry, has;
        int r;

        if (path_parse(path, &p, d))
                return CANDIDATE_E_INVALID;
        r = resolve(c, path, &p, &node, &is_entry, d);
        if (r) {
                /* A leftover of an older schema. */
                if (store_has(c->st, path, &has) == 0 && has)
                        return put(c, path, p.len, OV_DELETE, NULL);
                return r;
        }
        if (node->kind == SCHEMA_LEAF && node->is_key)
                return put(c, path, p.segs[p.n_segs - 2].end, OV_TREE, NULL);
        if (node->kind == SCHEMA_LEAF)
                return put(c, path, p.len, OV_DELETE, NULL);
        return put(c, path, p.len, OV_TREE, NULL);
}

/* Do all list entries on the way to @leaf exist?  (A default shows only then.) */
static int entries_exist(struct candidate *c, const struct path *p, const struct schema_node *leaf, bool *out)
{
        char key_path[PATH_TEXT_MAX + 1];

        *out = true;
        for (unsigned i = 0; i + 1 < p->n_segs && *out; i++) {
                const struct schema_node *list;
                int r;

                if (!p->segs[i].key)
                        continue;
                list = node_at(p, leaf, i);
                if (!list || list->kind != SCHEMA_LIST || !key_path_of(p, i, list, key_path, sizeof(key_path)))
                        return -EINVAL;
                r = leaf_exists(c, key_path, out);
                if (r)
                        return r;
        }
        return 0;
}

/**
 * candidate_get() - a leaf's value in this candidate.
 * @out: the value; the caller owns its text
 * @src: where it came from; may be NULL
 *
 * Return: 0, CANDIDATE_E_INVALID (not a leaf path), CANDIDATE_E_NOT_FOUND
 * (no value and no default, or its entry does not exist), or a negative
 * errno.
 */
int candidate_get(struct candidate *c, const char *path, struct cfg_value *out, enum candidate_source *src,
                  struct orb_diag *d)
{
        const struct schema_node *leaf;
        const struct ov *e;
        struct above a;
        struct path p;
        bool is_entry, ok;
        int r;

        r = resolve(c, path, &p, &leaf, &is_entry, d);
        if (r)
                return r;
        if (leaf->kind != SCHEMA_LEAF) {
                diag_set(d, 0, 0, path, "expected a leaf, found a %s", leaf->kind == SCHEMA_LIST ? "list" : "container");
                return CANDIDATE_E_INVALID;
        }
        a = above_of(c, &p);
        e = find(c, path, p.len);
        if (is_live(e, &a) && e->op == OV_SET) {
                if (src)
                        *src = CANDIDATE_FROM_OVERLAY;
                return value_copy(out, &e->v);
        }
        if (!is_live(e, &a) && !a.any) {
                r = store_get(c->st, path, out);
                if (r != STORE_E_NOT_FOUND) {
                        if (src)
                                *src = CANDIDATE_FROM_RUNNING;
                        return r > 0 ? -EIO : r;
                }
        }
        if (!leaf->has_default)
                return CANDIDATE_E_NOT_FOUND;
        r = entries_exist(c, &p, leaf, &ok);
        if (r)
                return r;
        if (!ok)
                return CANDIDATE_E_NOT_FOUND;
        if (src)
                *src = CANDIDATE_FROM_DEFAULT;
        return value_copy(out, &leaf->def);
}

static int ov_cmp(const void *a, const void *b)
{
        return strcmp((*(const struct ov *const *)a)->path, (*(const struct ov *const *)b)->path);
}

struct tree_ctx {
        struct candidate *c;
        struct cfg_changes *out;
};

/* A stored leaf inside an outermost TREE: removed unless a live SET brings it back. */
static int on_tree_leaf(const char *path, const struct cfg_value *v, void *ctx)
{
        struct tree_ctx *t = ctx;
        const struct ov *e = find(t->c, path, strlen(path));
        struct path p;
        struct above a;

        if (e && e->op == OV_SET && path_parse(path, &p, NULL) == 0) {
                a = above_of(t->c, &p);
                if (is_live(e, &a))
                        return 0;
        }
        return changes_add(t->out, path, v, NULL, NULL, NULL);
}

static int change_of(struct candidate *c, const struct ov *e, struct cfg_changes *out)
{
        struct cfg_value old = CFG_VALUE_INIT;
        struct above a;
        struct path p;
        int r;

        if (path_parse(e->path, &p, NULL))
                return -EINVAL;
        a = above_of(c, &p);
        if (e->op == OV_TREE) {
                struct tree_ctx t = { .c = c, .out = out };

                return a.any ? 0 : store_list(c->st, e->path, on_tree_leaf, &t);
        }
        if ((e->op == OV_SET && !is_live(e, &a)) || (e->op == OV_DELETE && a.any))
                return 0;
        r = store_get(c->st, e->path, &old);
        if (r == STORE_E_NOT_FOUND) {
                return e->op == OV_SET ? changes_add(out, e->path, NULL, &e->v, NULL, NULL) : 0;
        }
        if (r)
                return r > 0 ? -EIO : r;
        if (e->op == OV_DELETE)
                r = changes_add(out, e->path, &old, NULL, NULL, NULL);
        else if (!value_equal(&old, &e->v))
                r = changes_add(out, e->path, &old, &e->v, NULL, NULL);
        value_deinit(&old);
        return r;
}

/**
 * candidate_changes() - the per-leaf difference from the running
 * configuration, sorted by path, each leaf once.
 * @out: the change set; refs are filled by validate_changes()
 *
 * Return: 0 or a negative errno.
 */
int candidate_changes(struct candidate *c, struct cfg_changes *out)
{
        _cleanup_free_ struct ov **sorted = NULL;
        struct cfg_changes ch = CFG_CHANGES_INIT;
        int r = 0;

        if (c->n) {
                sorted = calloc(c->n, sizeof(*sorted));
                if (!sorted)
                        return -ENOMEM;
                for (size_t i = 0; i < c->n; i++)
                        sorted[i] = &c->v[i];
                qsort(sorted, c->n, sizeof(*sorted), ov_cmp);
        }
        for (size_t i = 0; i < c->n && !r; i++)
                r = change_of(c, sorted[i], &ch);
        if (r) {
                changes_deinit(&ch);
                return r;
        }
        changes_sort(&ch);
        *out = ch;
        return 0;
}

/**
 * candidate_diff() - the change set as JSON: added, changed, removed.
 *
 * Return: 0 or a negative errno.
 */
int candidate_diff(struct candidate *c, json_t **out)
{
        struct cfg_changes ch = CFG_CHANGES_INIT;
        int r = candidate_changes(c, &ch);

        if (!r)
                r = changes_to_json(&ch, out);
        changes_deinit(&ch);
        return r;
}

/**
 * candidate_validate() - check the candidate's change set (reads in one
 * transaction).
 * @errs: every broken rule is appended
 *
 * Return: 0, CANDIDATE_E_REFUSED, or a negative errno.
 */
int candidate_validate(struct candidate *c, struct validate_errors *errs)
{
        struct cfg_changes ch = CFG_CHANGES_INIT;
        bool own = store_batch_begin(c->st) == 0;
        int r = candidate_changes(c, &ch);

        if (!r)
                r = validate_changes(c->schemas, c->st, &ch, errs);
        changes_deinit(&ch);
        if (own)
                store_batch_end(c->st, false);
        return r == VALIDATE_E_INVALID ? CANDIDATE_E_REFUSED : r;
}

static int map_store(int r)
{
        switch (r) {
        case 0:
                return 0;
        case STORE_E_CONFLICT:
                return CANDIDATE_E_CONFLICT;
        case STORE_E_PRUNED:
                return CANDIDATE_E_PRUNED;
        case STORE_E_NOT_FOUND:
                return CANDIDATE_E_NOT_FOUND;
        default:
                return r < 0 ? r : -EIO;
        }
}

/**
 * candidate_commit() - validate and commit the candidate as one transaction.
 * @info: author, message, kind, time, pending-confirm handling
 * @id: the new running revision
 * @errs: broken rules, on CANDIDATE_E_REFUSED
 *
 * On success the overlay is empty and based on the new revision.
 *
 * Return: 0, CANDIDATE_E_CONFLICT (someone committed since the base: see
 * candidate_rebase()), CANDIDATE_E_REFUSED, or a negative errno.
 */
int candidate_commit(struct candidate *c, const struct store_commit_info *info, uint64_t *id,
                     struct validate_errors *errs)
{
        struct cfg_changes ch = CFG_CHANGES_INIT;
        uint64_t revision;
        int r;

        r = store_batch_begin(c->st);
        if (r)
                return r;
        r = map_store(store_revision(c->st, &revision));
        if (!r && revision != c->base)
                r = CANDIDATE_E_CONFLICT;
        if (!r)
                r = candidate_changes(c, &ch);
        if (!r)
                r = validate_changes(c->schemas, c->st, &ch, errs);
        if (r == VALIDATE_E_INVALID)
                r = CANDIDATE_E_REFUSED;
        else if (!r)
                r = map_store(store_commit(c->st, c->base, &ch, info, id));
        changes_deinit(&ch);
        if (!r)
                r = store_batch_end(c->st, true);
        else
                store_batch_end(c->st, false);
        if (r)
                return r;
        candidate_discard(c);
        c->base = *id;
        return 0;
}

/**
 * config_rollback() - commit the inverse of commits @n+1 .. current, so
 * the running configuration is again what it was after commit @n.
 * @info: the new commit's record (kind STORE_ROLLBACK or
 *        STORE_CONFIRM_TIMEOUT)
 *
 * The inverse is validated like any change (refs are recomputed).
 *
 * Return: 0, CANDIDATE_E_NOT_FOUND (@n is in the future),
 * CANDIDATE_E_PRUNED, CANDIDATE_E_REFUSED, CANDIDATE_E_CONFLICT, or a
 * negative errno.
 */
int config_rollback(const struct schema_set *s, struct store *st, uint64_t n, const struct store_commit_info *info,
                    uint64_t *id, struct validate_errors *errs)
{
        struct cfg_changes ch = CFG_CHANGES_INIT;
        uint64_t revision;
        int r;

        r = store_batch_begin(st);
        if (r)
                return r;
        r = store_revision(st, &revision);
        if (!r)
                r = store_inverse(st, n, &ch);
        r = map_store(r);
        if (!r)
                r = validate_changes(s, st, &ch, errs);
        if (r == VALIDATE_E_INVALID)
                r = CANDIDATE_E_REFUSED;
        else if (!r)
                r = map_store(store_commit(st, revision, &ch, info, id));
        changes_deinit(&ch);
        if (!r)
                return store_batch_end(st, true);
        store_batch_end(st, false);
        return r;
}

/**
 * config_confirm() - confirm the pending confirmed commit.
 *
 * Return: 0, CANDIDATE_E_NO_PENDING, or a negative errno.
 */
int config_confirm(struct store *st)
{
        struct store_pending p;
        int r = store_pending_get(st, &p);

        if (r == STORE_E_NOT_FOUND)
                return CANDIDATE_E_NO_PENDING;
        return r ? map_store(r) : map_store(store_pending_clear(st));
}

/**
 * config_check_pending() - roll back an unconfirmed commit whose deadline
 * has passed.  Call at start-up and when the deadline comes.
 * @now: wall clock, microseconds
 * @rolled_back: the rollback commit's id, 0 if nothing was due
 *
 * The rollback (kind "confirm-timeout") and the removal of the pending
 * record are one transaction, so a crash leaves either both or neither.
 *
 * Return: 0, or as config_rollback().
 */
int config_check_pending(const struct schema_set *s, struct store *st, usec_t now, uint64_t *rolled_back,
                         struct validate_errors *errs)
{
        struct store_pending p;
        char message[96];
        struct store_commit_info info = {
                .author = "orb-config",
                .message = message,
                .kind = STORE_CONFIRM_TIMEOUT,
                .time = now,
                .clears_pending = true,
        };
        int r = store_pending_get(st, &p);

        *rolled_back = 0;
        if (r == STORE_E_NOT_FOUND || (!r && now < p.deadline))
                return 0;
        if (r)
                return map_store(r);
        snprintf(message, sizeof(message), "commit %" PRIu64 " was not confirmed in time", p.commit_id);
        return config_rollback(s, st, p.rollback_to, &info, rolled_back, errs);
}
