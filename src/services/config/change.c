/*
 * Values and change sets (change.h).
 *
 * A change set owns every string it holds.  Deltas are appended in any
 * order and sorted once (changes_sort()) before lookups; a path appears
 * at most once in a set built by a candidate, which the sort asserts.
 *
 * JSON form, shared by diffs shown to people and the history table:
 *
 *     {"added":   [{"path": P, "value": V}],
 *      "changed": [{"path": P, "old": V, "new": V}],
 *      "removed": [{"path": P, "old": V}]}
 *
 * where V is a JSON string, integer or boolean as the value's kind, and
 * each array is in path order.  A ref's target entry is not stored: it
 * follows from the schema, and a rollback goes through a candidate that
 * recomputes it.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/change.h"
#include "util/cleanup.h"
#include "util/utf8.h"

void value_deinit(struct cfg_value *v)
{
        free(v->s);
        v->s = NULL;
}

int value_copy(struct cfg_value *dst, const struct cfg_value *src)
{
        *dst = *src;
        dst->s = NULL;
        if (src->kind == CFG_KIND_TEXT) {
                dst->s = strdup(src->s ? src->s : "");
                if (!dst->s)
                        return -ENOMEM;
        }
        return 0;
}

bool value_equal(const struct cfg_value *a, const struct cfg_value *b)
{
        if (a->kind != b->kind)
                return false;
        if (a->kind == CFG_KIND_TEXT)
                return !strcmp(a->s ? a->s : "", b->s ? b->s : "");
        return a->i == b->i;
}

char *value_format(const struct cfg_value *v, char *buf, size_t n)
{
        switch (v->kind) {
        case CFG_KIND_INT:
                snprintf(buf, n, "%" PRId64, v->i);
                break;
        case CFG_KIND_BOOL:
                snprintf(buf, n, "%s", v->i ? "true" : "false");
                break;
        default:
                snprintf(buf, n, "%s", v->s ? v->s : "");
                break;
        }
        return buf;
}

json_t *value_to_json(const struct cfg_value *v)
{
        switch (v->kind) {
        case CFG_KIND_INT:
                return json_integer(v->i);
        case CFG_KIND_BOOL:
                return json_boolean(v->i);
        default:
                return json_string(v->s ? v->s : "");
        }
}

int value_from_json(const json_t *j, struct cfg_value *out)
{
        *out = (struct cfg_value)CFG_VALUE_INIT;
        if (json_is_integer(j)) {
                out->kind = CFG_KIND_INT;
                out->i = json_integer_value(j);
        } else if (json_is_boolean(j)) {
                out->kind = CFG_KIND_BOOL;
                out->i = json_is_true(j);
        } else if (json_is_string(j)) {
                out->s = strdup(json_string_value(j));
                if (!out->s)
                        return -ENOMEM;
        } else {
                return -EBADMSG;
        }
        return 0;
}

static void delta_deinit(struct cfg_delta *d)
{
        free(d->path);
        free(d->ref_to);
        if (d->has_old)
                value_deinit(&d->old);
        if (d->has_new)
                value_deinit(&d->new);
}

void changes_deinit(struct cfg_changes *c)
{
        for (size_t i = 0; i < c->n; i++)
                delta_deinit(&c->v[i]);
        free(c->v);
        *c = (struct cfg_changes)CFG_CHANGES_INIT;
}

/**
 * changes_add() - append one delta.
 * @c: the set
 * @path: leaf path, copied
 * @old, @new: values before and after, copied; NULL for none
 * @ref_to: entry @new refers to, copied; NULL if not a ref
 * @out: the delta in @c, valid until the next append; may be NULL
 *
 * Return: 0 or -ENOMEM (then @c is unchanged).
 */
int changes_add(struct cfg_changes *c, const char *path, const struct cfg_value *old, const struct cfg_value *new,
                const char *ref_to, struct cfg_delta **out)
{
        struct cfg_delta d = { 0 };

        if (c->n == c->n_alloc) {
                size_t a = c->n_alloc ? 2 * c->n_alloc : 16;
                struct cfg_delta *v = reallocarray(c->v, a, sizeof(*v));

                if (!v)
                        return -ENOMEM;
                c->v = v;
                c->n_alloc = a;
        }
        d.path = strdup(path);
        if (!d.path)
                goto oom;
        if (ref_to && !(d.ref_to = strdup(ref_to)))
                goto oom;
        if (old) {
                if (value_copy(&d.old, old))
                        goto oom;
                d.has_old = true;
        }
        if (new) {
                if (value_copy(&d.new, new))
                        goto oom;
                d.has_new = true;
        }
        c->v[c->n] = d;
        if (out)
                *out = &c->v[c->n];
        c->n++;
        return 0;
oom:
        delta_deinit(&d);
        return -ENOMEM;
}

static int delta_cmp(const void *a, const void *b)
{
        return strcmp(((const struct cfg_delta *)a)->path, ((const struct cfg_delta *)b)->path);
}

void changes_sort(struct cfg_changes *c)
{
        if (c->n > 1)
                qsort(c->v, c->n, sizeof(*c->v), delta_cmp);
}

bool changes_has_duplicates(const struct cfg_changes *c)
{
        for (size_t i = 1; i < c->n; i++)
                if (!strcmp(c->v[i - 1].path, c->v[i].path))
                        return true;
        return false;
}

struct cfg_delta *changes_find(const struct cfg_changes *c, const char *path)
{
        struct cfg_delta key = { .path = (char *)path };

        if (!c->n)
                return NULL;
        return bsearch(&key, c->v, c->n, sizeof(*c->v), delta_cmp);
}

/* Sets @key of @o to @v, which it steals; false on failure. */
static bool set_new(json_t *o, const char *key, json_t *v)
{
        return v && json_object_set_new(o, key, v) == 0;
}

static json_t *delta_to_json(const struct cfg_delta *d)
{
        json_t *o = json_object();

        if (!o || !set_new(o, "path", json_string(d->path)))
                goto fail;
        if (d->has_old && d->has_new) {
                if (!set_new(o, "old", value_to_json(&d->old)) || !set_new(o, "new", value_to_json(&d->new)))
                        goto fail;
        } else if (d->has_new) {
                if (!set_new(o, "value", value_to_json(&d->new)))
                        goto fail;
        } else if (d->has_old) {
                if (!set_new(o, "old", value_to_json(&d->old)))
                        goto fail;
        }
        return o;
fail:
        json_decref(o);
        return NULL;
}

/**
 * changes_to_json() - the JSON form of a change set (see the top of the file).
 * @c: the set; sorted, so each array is in path order
 * @out: new reference on success
 *
 * Deltas with neither an old nor a new value are left out.
 *
 * Return: 0 or -ENOMEM.
 */
int changes_to_json(const struct cfg_changes *c, json_t **out)
{
        json_t *o = json_object(), *added = json_array(), *changed = json_array(), *removed = json_array();
        int r = -ENOMEM;

        if (!o || !added || !changed || !removed)
                goto done;
        for (size_t i = 0; i < c->n; i++) {
                const struct cfg_delta *d = &c->v[i];
                json_t *arr = d->has_old && d->has_new ? changed : d->has_new ? added : removed;

                if (!d->has_old && !d->has_new)
                        continue;
                if (json_array_append_new(arr, delta_to_json(d)))
                        goto done;
        }
        if (json_object_set(o, "added", added) || json_object_set(o, "changed", changed) ||
            json_object_set(o, "removed", removed))
                goto done;
        *out = o;
        o = NULL;
        r = 0;
done:
        json_decref(added);
        json_decref(changed);
        json_decref(removed);
        json_decref(o);
        return r;
}

/* A growing text buffer for changes_to_json_text(); a failed grow sticks. */
struct text {
        char *buf;
        size_t len, size;
        bool failed;
};

static void text_grow(struct text *t, size_t more)
{
        size_t size;
        char *b;

        if (t->failed || t->len + more < t->size)
                return;
        size = t->size ? t->size : 4096;
        while (size <= t->len + more)
                size *= 2;
        b = realloc(t->buf, size);
        if (!b) {
                t->failed = true;
                return;
        }
        t->buf = b;
        t->size = size;
}

static void text_add(struct text *t, const char *s, size_t len)
{
        text_grow(t, len);
        if (t->failed)
                return;
        memcpy(t->buf + t->len, s, len);
        t->len += len;
        t->buf[t->len] = '\0';
}

/* A JSON string: '"', '\\' and control characters escaped, invalid UTF-8 as U+FFFD. */
static void text_string(struct text *t, const char *s)
{
        size_t len = strlen(s);

        text_add(t, "\"", 1);
        for (size_t i = 0; i < len && !t->failed;) {
                unsigned char c = (unsigned char)s[i];
                char esc[8];
                size_t run = i, u;

                while (run < len && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] < 0x80 &&
                       s[run] != '"' && s[run] != '\\')
                        run++;
                if (run > i) {
                        text_add(t, s + i, run - i);
                        i = run;
                        continue;
                }
                if (c >= 0x80) {
                        u = utf8_seq_len((const unsigned char *)s + i, len - i);
                        text_add(t, u ? s + i : "\xef\xbf\xbd", u ? u : 3);
                        i += u ? u : 1;
                        continue;
                }
                if (c == '"' || c == '\\')
                        snprintf(esc, sizeof(esc), "\\%c", c);
                else
                        snprintf(esc, sizeof(esc), "\\u%04x", c);
                text_add(t, esc, strlen(esc));
                i++;
        }
        text_add(t, "\"", 1);
}

static void text_value(struct text *t, const struct cfg_value *v)
{
        char num[32];

        if (v->kind == CFG_KIND_TEXT) {
                text_string(t, v->s ? v->s : "");
                return;
        }
        value_format(v, num, sizeof(num));
        text_add(t, num, strlen(num));
}

/**
 * changes_to_json_text() - changes_to_json()'s form as compact text,
 * written directly: the history row of a 10,000-leaf commit must not
 * cost a tree of 40,000 JSON objects.
 * @out: NUL-terminated, owned by the caller
 *
 * Return: 0 or -ENOMEM.
 */
int changes_to_json_text(const struct cfg_changes *c, char **out)
{
        static const char *const names[] = { "added", "changed", "removed" };
        struct text t = { 0 };

        text_add(&t, "{", 1);
        for (int a = 0; a < 3; a++) {
                bool first = true;

                text_add(&t, a ? "],\"" : "\"", a ? 3 : 1);
                text_add(&t, names[a], strlen(names[a]));
                text_add(&t, "\":[", 3);
                for (size_t i = 0; i < c->n; i++) {
                        const struct cfg_delta *d = &c->v[i];
                        int kind = d->has_old && d->has_new ? 1 : d->has_new ? 0 : d->has_old ? 2 : -1;

                        if (kind != a)
                                continue;
                        text_add(&t, first ? "{\"path\":" : ",{\"path\":", first ? 8 : 9);
                        first = false;
                        text_string(&t, d->path);
                        if (a == 0) {
                                text_add(&t, ",\"value\":", 9);
                                text_value(&t, &d->new);
                        } else {
                                text_add(&t, ",\"old\":", 7);
                                text_value(&t, &d->old);
                                if (a == 1) {
                                        text_add(&t, ",\"new\":", 7);
                                        text_value(&t, &d->new);
                                }
                        }
                        text_add(&t, "}", 1);
                }
        }
        text_add(&t, "]}", 2);
        if (t.failed) {
                free(t.buf);
                return -ENOMEM;
        }
        *out = t.buf;
        return 0;
}

static int add_from_json(struct cfg_changes *c, const json_t *item, bool has_old, bool has_new)
{
        const json_t *path = json_object_get(item, "path");
        struct cfg_value old = CFG_VALUE_INIT, new = CFG_VALUE_INIT;
        int r;

        if (!json_is_string(path))
                return -EBADMSG;
        r = has_old ? value_from_json(json_object_get(item, "old"), &old) : 0;
        if (!r && has_new)
                r = value_from_json(json_object_get(item, has_old ? "new" : "value"), &new);
        if (!r)
                r = changes_add(c, json_string_value(path), has_old ? &old : NULL, has_new ? &new : NULL, NULL,
                                NULL);
        value_deinit(&old);
        value_deinit(&new);
        return r;
}

/**
 * changes_from_json() - a change set back from changes_to_json()'s form.
 * @j: the JSON object
 * @out: filled (and sorted) on success; untouched otherwise
 *
 * Return: 0, -EBADMSG when @j is not that form, -ENOMEM.
 */
int changes_from_json(const json_t *j, struct cfg_changes *out)
{
        static const struct {
                const char *name;
                bool has_old, has_new;
        } arrays[] = { { "added", false, true }, { "changed", true, true }, { "removed", true, false } };
        struct cfg_changes c = CFG_CHANGES_INIT;
        int r = 0;

        if (!json_is_object(j))
                return -EBADMSG;
        for (size_t a = 0; a < ARRAY_SIZE(arrays) && !r; a++) {
                const json_t *arr = json_object_get(j, arrays[a].name), *item;
                size_t i;

                if (!json_is_array(arr)) {
                        r = -EBADMSG;
                        break;
                }
                json_array_foreach(arr, i, item)
                {
                        r = add_from_json(&c, item, arrays[a].has_old, arrays[a].has_new);
                        if (r)
                                break;
                }
        }
        if (r) {
                changes_deinit(&c);
                return r;
        }
        changes_sort(&c);
        if (changes_has_duplicates(&c)) {
                changes_deinit(&c);
                return -EBADMSG;
        }
        *out = c;
        return 0;
}
