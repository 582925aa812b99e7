/*
 * Subscribers with a veto: services that watch a configuration subtree,
 * are asked to check every commit that touches it before it is made, and
 * are told the outcome after (issue 5, docs/config.md "Subscribers").
 *
 * A subscriber subscribes once (subtree, name) and then long-polls: each
 * `next` call is held (liborbital's deferred calls) until there is a
 * notice for it -- a check to answer with `verdict`, or an outcome.  A
 * commit touching subscribed subtrees is held too, until every asked
 * subscriber has accepted (then it is made), one refuses (nothing
 * changes, the refusal is the commit's answer), or the deadline passes
 * (refused, naming who did not answer).  One check runs at a time.
 *
 * A subscriber that does not answer in time, or whose held call finds
 * its caller gone, loses its subscription: a restarted one subscribes
 * again, and a dead one cannot block commits beyond one deadline.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <orbital/orbital.h>

#include "config/change.h"
#include "util/time.h"

#define VETO_SUBSCRIBERS_MAX 64
#define VETO_QUEUE_MAX 8 /* notices waiting for a subscriber's next `next` */

struct veto_notice {
        char kind[12];   /* "check" or "outcome" */
        uint64_t token;
        char *diff;      /* owned JSON text (checks) */
        char *author;    /* owned */
        char *outcome;   /* owned: "committed 12", "refused: ..." (outcomes) */
};

struct veto_subscriber {
        uint64_t id;
        char owner[96], name[64], subtree[256];
        struct orb_call *waiting;                /* a held `next`, or NULL */
        struct veto_notice queue[VETO_QUEUE_MAX];
        unsigned n_queued;
        bool is_asked, has_accepted;             /* in the running check */
};

/* Called once per check: accepted, or refused with a reason. */
typedef void (*veto_done_fn)(void *ctx, bool accepted, const char *why);

struct veto {
        struct veto_subscriber subs[VETO_SUBSCRIBERS_MAX];
        unsigned n_subs;
        uint64_t next_id, next_token;
        /* the running check */
        uint64_t token;                          /* 0: none */
        usec_t deadline;                         /* monotonic */
        veto_done_fn done;
        void *done_ctx;
};

void veto_init(struct veto *v);
void veto_deinit(struct veto *v);

/* Subscribes @owner's @name to @subtree ("" = everything); the same
 * owner and name again replace the old subscription.  Return: 0, -ENOSPC. */
int veto_subscribe(struct veto *v, const char *owner, const char *name, const char *subtree, uint64_t *id);
/* A `next` call: answered at once with a queued notice, or held.
 * Return: 0, -ENOENT (no such subscription: subscribe again), -ENOMEM. */
int veto_next(struct veto *v, uint64_t id, const char *owner, struct orb_call *call);
/* Subscription @id's `verdict` for the running check (@owner must own the
 * subscription: one owner may hold several).  Return: 0, -ENOENT (no
 * such check running, or no such subscription of @owner among those asked). */
int veto_verdict(struct veto *v, uint64_t token, uint64_t id, const char *owner, bool accept, const char *reason);

/* The names of the subscribers @c touches, comma-separated, into @buf. */
void veto_who(const struct veto *v, const struct cfg_changes *c, char *buf, size_t n);
/*
 * veto_begin() - ask every subscriber whose subtree @c touches.
 * Return: the number asked (0: nothing to ask, @done is not called);
 * -EBUSY while another check runs; -ENOMEM.
 */
int veto_begin(struct veto *v, const struct cfg_changes *c, const char *diff, const char *author, usec_t timeout,
               veto_done_fn done, void *ctx, uint64_t *token);
/* Tells the subscribers asked in check @token how it ended. */
void veto_outcome(struct veto *v, uint64_t token, const char *outcome);
/* Timeouts and callers gone: call after each event.  Return: when to
 * call again at the latest (monotonic), 0 if not needed. */
usec_t veto_tick(struct veto *v, usec_t now);
