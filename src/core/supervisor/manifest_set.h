/*
 * A set of manifests loaded from one directory, checked as a whole:
 * unique names, every `requires` present, no dependency cycle (through
 * requires and after).  On success the set is in dependency order: a
 * service comes after everything it requires or is after.
 */
#pragma once

#include "supervisor/manifest.h"

struct manifest_set {
        struct manifest **items; /* owned, n_items, in dependency order */
        unsigned n_items;
};

#define MANIFEST_SET_INIT {0}

/*
 * manifest_set_load_dir() - load every *.yaml / *.yml file of @dir.
 * Files starting with '.' are skipped.  All or nothing: on error @out is
 * untouched.  A directory with no manifest is a valid, empty set.
 *
 * Return: 0, MANIFEST_E_INVALID (diag names file, line, field), -errno
 * when the directory cannot be read (diag names it too), -ENOMEM.
 */
int manifest_set_load_dir(const char *dir, struct manifest_set *out, struct orb_diag *diag);

/*
 * manifest_set_check() - validate names and dependencies of @set and sort
 * it into dependency order in place.  Used by load_dir; exposed for tests.
 * Return: 0, MANIFEST_E_INVALID or -ENOMEM.
 */
int manifest_set_check(struct manifest_set *set, struct orb_diag *diag);

const struct manifest *manifest_set_find(const struct manifest_set *set, const char *name);

void manifest_set_deinit(struct manifest_set *set);
