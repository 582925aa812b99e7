/*
 * Values and change sets.
 *
 * A value is text, a 64-bit integer or a boolean; strings, enums and refs
 * are text.  A change set is a list of deltas, one per leaf: the leaf's
 * value before (if it had one) and after (if it keeps one).  Candidates
 * produce them, validation checks them, the store applies them and keeps
 * them in history as JSON, and a rollback is the inverse of some of them.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cfg_kind {
        CFG_KIND_TEXT,
        CFG_KIND_INT,
        CFG_KIND_BOOL,
};

struct cfg_value {
        enum cfg_kind kind;
        int64_t i;  /* CFG_KIND_INT; CFG_KIND_BOOL as 0 or 1 */
        char *s;    /* CFG_KIND_TEXT; owned by whoever holds the value */
};

#define CFG_VALUE_INIT { .kind = CFG_KIND_TEXT }

struct cfg_delta {
        char *path;           /* owned, canonical leaf path */
        bool has_old, has_new;
        struct cfg_value old; /* before the change, if has_old */
        struct cfg_value new; /* after the change, if has_new */
        char *ref_to;         /* owned: the list entry new refers to, NULL if not a ref */
};

struct cfg_changes {
        struct cfg_delta *v; /* owned array, sorted by path after changes_sort() */
        size_t n, n_alloc;
};

#define CFG_CHANGES_INIT { 0 }

void value_deinit(struct cfg_value *v);
int value_copy(struct cfg_value *dst, const struct cfg_value *src);
bool value_equal(const struct cfg_value *a, const struct cfg_value *b);
/* Text form for messages and the CLI: "1500", "true", the string. Returns buf. */
char *value_format(const struct cfg_value *v, char *buf, size_t n);
json_t *value_to_json(const struct cfg_value *v);
int value_from_json(const json_t *j, struct cfg_value *out);

void changes_deinit(struct cfg_changes *c);
/* Appends a delta with copies of everything; returns it through @out (may be NULL). */
int changes_add(struct cfg_changes *c, const char *path, const struct cfg_value *old, const struct cfg_value *new,
                const char *ref_to, struct cfg_delta **out);
void changes_sort(struct cfg_changes *c);
/* On a sorted set: does a path appear twice? */
bool changes_has_duplicates(const struct cfg_changes *c);
/* Binary search; @c must be sorted. */
struct cfg_delta *changes_find(const struct cfg_changes *c, const char *path);
/* {"added": [{path, value}], "changed": [{path, old, new}], "removed": [{path, old}]}. */
int changes_to_json(const struct cfg_changes *c, json_t **out);
int changes_to_json_text(const struct cfg_changes *c, char **out);
/* Back from changes_to_json()'s form; -EBADMSG when it is not that form. */
int changes_from_json(const json_t *j, struct cfg_changes *out);
