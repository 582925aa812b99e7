/*
 * The configuration store: one SQLite file holding the running leaves, the
 * reverse index of refs, numbered commits with their diffs, and at most one
 * pending confirmed commit.  Layout and crash-safety argument: store.c and
 * docs/config.md.
 *
 * Not thread-safe; one process owns the file (orb-config).  Reads see the
 * last commit; store_commit() is one transaction.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/change.h"
#include "util/time.h"

enum {
        STORE_E_CONFLICT = 1, /* the running revision is not the base the change was made on */
        STORE_E_NOT_FOUND,    /* no such leaf, commit or pending record */
        STORE_E_PRUNED,       /* the history a rollback needs was pruned */
        STORE_E_CORRUPT,      /* not a store, a newer format, or a bad history row */
};

enum store_kind {
        STORE_COMMIT,          /* "commit" */
        STORE_ROLLBACK,        /* "rollback" */
        STORE_CONFIRM_TIMEOUT, /* "confirm-timeout": the automatic rollback of an unconfirmed commit */
};

struct store_options {
        unsigned history_max;     /* commits kept (>= 1); 0 means STORE_HISTORY_DEFAULT */
        unsigned busy_timeout_ms; /* wait for another owner of the file; 0 means 5000 */
};

#define STORE_HISTORY_DEFAULT 1000

struct store_commit_info {
        const char *author;     /* borrowed */
        const char *message;    /* borrowed, may be "" */
        enum store_kind kind;
        usec_t time;            /* wall clock, microseconds */
        usec_t confirm_deadline; /* wall clock; nonzero: record a pending confirm in the same transaction */
        bool clears_pending;    /* drop the pending record in the same transaction (a confirm, a timeout) */
};

struct store_record {
        uint64_t id;
        char *author;  /* owned */
        char *message; /* owned */
        enum store_kind kind;
        usec_t time;
        char *diff;    /* owned JSON text, change.h's form */
};

struct store_pending {
        uint64_t commit_id;   /* the commit awaiting confirmation (the latest confirmed one) */
        usec_t deadline;      /* wall clock, microseconds */
        uint64_t rollback_to; /* revision restored if the deadline passes */
};

struct store;

typedef int (*store_leaf_fn)(const char *path, const struct cfg_value *v, void *ctx);
typedef int (*store_ref_fn)(const char *from_path, void *ctx);

int store_open(const char *filename, const struct store_options *o, struct store **out);
struct store *store_free(struct store *st);
const char *store_errmsg(const struct store *st);

int store_revision(struct store *st, uint64_t *out);
int store_get(struct store *st, const char *path, struct cfg_value *out);
int store_has(struct store *st, const char *path, bool *out);
int store_list(struct store *st, const char *prefix, store_leaf_fn fn, void *ctx);
int store_refs_to(struct store *st, const char *entry, store_ref_fn fn, void *ctx);
int store_commit(struct store *st, uint64_t base, const struct cfg_changes *c, const struct store_commit_info *info,
                 uint64_t *id);

int store_batch_begin(struct store *st);
int store_batch_end(struct store *st, bool ok);

int store_history(struct store *st, unsigned max, struct store_record **out, size_t *n);
void store_records_free(struct store_record *v, size_t n);
int store_inverse(struct store *st, uint64_t n, struct cfg_changes *out);
int store_prune(struct store *st, unsigned keep);

int store_pending_get(struct store *st, struct store_pending *out);
int store_pending_clear(struct store *st);
const char *store_kind_name(enum store_kind k);
