/*
 * Capability tables: what each bus peer holds, named by slot (seed 002).
 *
 * A capability is (object type, object id, rights, expiry, parent).  Caps
 * form a derivation forest across tables: a grant makes a child of the
 * granted cap in the receiver's table, with rights that are a subset of
 * the parent's (attenuation never widens).  Revoking a cap removes it and
 * every descendant, wherever they live; the broker hears of each removal
 * through a callback, children before parents, so it can tell holders and
 * shut channels.
 *
 * Invariants (captable_check() verifies them in test builds):
 *  1. cap->rights is a subset of cap->parent->rights;
 *  2. a cap's expiry is no later than its parent's (0 = never);
 *  3. every cap in a table's slot array has that slot and that table;
 *  4. parent/child links are symmetric; there are no cycles.
 * This module does no I/O and takes time as an argument.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/time.h"

#define CAP_NAME_MAX 128
#define CAPTABLE_SLOTS_MAX 4096u /* per peer: a table is bounded */

struct captable;

struct cap {
        struct captable *table;  /* holder */
        uint32_t slot;           /* 1-based */
        uint8_t obj_type;        /* ORB_OBJ_* */
        uint8_t rights;          /* ORB_RIGHT_* */
        bool is_provider;        /* may register the endpoint (provide:) */
        uint64_t obj_id;
        usec_t expires;          /* CLOCK_MONOTONIC; 0 = never */
        struct cap *parent;      /* NULL: a root, granted by orbitald */
        struct cap *first_child, *next_sibling, *prev_sibling;
        void *data;              /* the broker's (a channel) */
        char name[CAP_NAME_MAX]; /* the object's name: type or topic */
};

struct captable {
        struct cap **slots;      /* owned array of owned caps; [0] unused */
        uint32_t n_slots;        /* allocated length of slots */
        uint32_t n_caps;
        void *owner;             /* the broker's peer */
};

/* Called for each cap a revoke removes, before it is freed. */
typedef void (*cap_removed_fn)(struct cap *cap, unsigned reason, void *ctx);

enum {
        CAP_E_RIGHTS = 1,   /* would widen rights, or needs the grant right */
        CAP_E_FULL,         /* the table has CAPTABLE_SLOTS_MAX caps */
};

void captable_init(struct captable *t, void *owner);
/* Removes every cap (and its descendants elsewhere) with @reason. */
void captable_deinit(struct captable *t, unsigned reason, cap_removed_fn fn, void *ctx);

/*
 * captable_insert() - add a cap to @t in the lowest free slot.
 * @parent: NULL for a root cap; else @rights must be a subset of its rights
 * and the expiry is clamped to the parent's.
 * Return: 0 and *@out, -CAP_E_RIGHTS, -CAP_E_FULL, -ENOMEM.
 */
int captable_insert(struct captable *t, struct cap *parent, uint8_t obj_type, uint64_t obj_id, const char *name,
                    uint8_t rights, usec_t expires, struct cap **out);

/*
 * captable_grant() - derive a child of @from into @to: @from must hold the
 * grant right; @rights must be a subset of @from's.
 * Return: as captable_insert.
 */
int captable_grant(struct cap *from, struct captable *to, uint8_t rights, usec_t expires, struct cap **out);

/* Removes @cap and all its descendants; @fn hears of each, leaves first. */
void captable_revoke(struct cap *cap, unsigned reason, cap_removed_fn fn, void *ctx);

struct cap *captable_get(const struct captable *t, uint32_t slot);
/* The earliest expiry in @t, or 0. */
usec_t captable_next_expiry(const struct captable *t);
/* Revokes every cap of @t that expired at @now (reason ORB_REVOKE_EXPIRED). */
void captable_expire(struct captable *t, usec_t now, cap_removed_fn fn, void *ctx);

/* Verifies the invariants above for @t; aborts with a message if broken. */
void captable_check(const struct captable *t);
