/*
 * A session's candidate configuration: an overlay of sets and deletions
 * over the running configuration at a base revision.  Each session has its
 * own; none is shared.  Committing turns the overlay into a change set,
 * validates it and hands it to the store as one transaction, which fails
 * with a conflict if someone else committed since the base.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config/change.h"
#include "config/schema.h"
#include "config/store.h"
#include "config/validate.h"
#include "util/diag.h"

enum {
        CANDIDATE_E_INVALID = 1, /* bad path or value for set/delete/get; the diag says why */
        CANDIDATE_E_NOT_FOUND,   /* get: the leaf has no value and no default */
        CANDIDATE_E_CONFLICT,    /* commit: the running revision moved past the base */
        CANDIDATE_E_REFUSED,     /* commit/validate/rollback: broken rules, see the error list */
        CANDIDATE_E_PRUNED,      /* rollback: the history it needs is gone */
        CANDIDATE_E_NO_PENDING,  /* confirm: nothing awaits confirmation */
};

enum candidate_source {
        CANDIDATE_FROM_OVERLAY, /* set in this candidate */
        CANDIDATE_FROM_RUNNING, /* the running configuration */
        CANDIDATE_FROM_DEFAULT, /* the schema's default */
};

struct candidate;

int candidate_new(const struct schema_set *s, struct store *st, struct candidate **out);
struct candidate *candidate_free(struct candidate *c);
uint64_t candidate_base(const struct candidate *c);
size_t candidate_size(const struct candidate *c);

int candidate_set(struct candidate *c, const char *path, const char *value, struct orb_diag *d);
int candidate_delete(struct candidate *c, const char *path, struct orb_diag *d);
int candidate_get(struct candidate *c, const char *path, struct cfg_value *out, enum candidate_source *src,
                  struct orb_diag *d);
int candidate_changes(struct candidate *c, struct cfg_changes *out);
int candidate_diff(struct candidate *c, json_t **out);
int candidate_validate(struct candidate *c, struct validate_errors *errs);
int candidate_commit(struct candidate *c, const struct store_commit_info *info, uint64_t *id,
                     struct validate_errors *errs);
void candidate_discard(struct candidate *c);
int candidate_rebase(struct candidate *c);

int config_rollback(const struct schema_set *s, struct store *st, uint64_t n, const struct store_commit_info *info,
                    uint64_t *id, struct validate_errors *errs);
int config_confirm(struct store *st);
int config_check_pending(const struct schema_set *s, struct store *st, usec_t now, uint64_t *rolled_back,
                         struct validate_errors *errs);
