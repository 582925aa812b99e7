/*
 * Validation of a change set against the schema and the running
 * configuration.  Only what the change can affect is looked at: the cost
 * follows the number of deltas (and the refs into deleted entries), not the
 * size of the configuration.
 */
#pragma once

#include <stddef.h>

#include "config/change.h"
#include "config/schema.h"
#include "config/store.h"

#define VALIDATE_ERRORS_MAX 10000 /* kept; past this only counted */

enum {
        VALIDATE_E_INVALID = 1, /* the change breaks a rule; the error list says each */
};

struct validate_error {
        char *path;   /* owned */
        char *reason; /* owned, "expected 68 to 9000, found 9001" */
};

struct validate_errors {
        struct validate_error *v; /* owned, in the order found */
        size_t n, n_alloc;
        size_t n_dropped;         /* past VALIDATE_ERRORS_MAX */
};

#define VALIDATE_ERRORS_INIT { 0 }

void validate_errors_deinit(struct validate_errors *e);
int validate_errors_add(struct validate_errors *e, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* "path: reason" lines into a new string. */
char *validate_errors_format(const struct validate_errors *e);

int validate_changes(const struct schema_set *s, struct store *st, struct cfg_changes *c, struct validate_errors *errs);
