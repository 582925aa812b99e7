/*
 * Subscribers with a veto (veto.h): subscriptions, their queues of
 * notices, held `next` calls, and the one running check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/path.h"
#include "config/veto.h"

enum { N_KIND = 1, N_TOKEN = 2, N_DIFF = 3, N_AUTHOR = 4, N_OUTCOME = 5 };

void veto_init(struct veto *v)
{
        *v = (struct veto){.next_id = 1, .next_token = 1};
}

static void notice_free(struct veto_notice *n)
{
        free(n->diff);
        free(n->author);
        free(n->outcome);
        *n = (struct veto_notice){0};
}

static void subscriber_clear(struct veto_subscriber *s)
{
        for (unsigned i = 0; i < s->n_queued; i++)
                notice_free(&s->queue[i]);
        if (s->waiting && orb_call_is_alive(s->waiting))
                orb_call_fail(s->waiting, ORB_E_INVALID, "subscription dropped: subscribe again");
        else if (s->waiting)
                orb_call_drop(s->waiting);
        *s = (struct veto_subscriber){0};
}

void veto_deinit(struct veto *v)
{
        for (unsigned i = 0; i < v->n_subs; i++)
                subscriber_clear(&v->subs[i]);
        v->n_subs = 0;
}

static struct veto_subscriber *find(struct veto *v, uint64_t id)
{
        for (unsigned i = 0; i < v->n_subs; i++)
                if (v->subs[i].id == id)
                        return &v->subs[i];
        return NULL;
}

static void unsubscribe(struct veto *v, struct veto_subscriber *s)
{
        subscriber_clear(s);
        *s = v->subs[--v->n_subs];
        v->subs[v->n_subs] = (struct veto_subscriber){0};
}

int veto_subscribe(struct veto *v, const char *owner, const char *name, const char *subtree, uint64_t *id)
{
        struct veto_subscriber *s = NULL;

        for (unsigned i = 0; i < v->n_subs; i++)
                if (!strcmp(v->subs[i].owner, owner) && !strcmp(v->subs[i].name, name))
                        s = &v->subs[i];
        if (s)
                subscriber_clear(s); /* a restarted subscriber: its old self is gone */
        else if (v->n_subs < VETO_SUBSCRIBERS_MAX)
                s = &v->subs[v->n_subs++];
        else
                return -ENOSPC;
        s->id = v->next_id++;
        snprintf(s->owner, sizeof(s->owner), "%s", owner);
        snprintf(s->name, sizeof(s->name), "%s", name);
        snprintf(s->subtree, sizeof(s->subtree), "%s", subtree);
        *id = s->id;
        return 0;
}

/* Answers the held call with the oldest notice. */
static void deliver(struct veto_subscriber *s)
{
        struct veto_notice *n = &s->queue[0];
        struct orb_msg *reply;

        if (!s->waiting || !s->n_queued)
                return;
        reply = orb_call_reply_msg(s->waiting);
        orb_msg_put_str(reply, N_KIND, n->kind);
        orb_msg_put_u64(reply, N_TOKEN, n->token);
        orb_msg_put_bytes(reply, N_DIFF, n->diff ? n->diff : "", n->diff ? strlen(n->diff) : 0);
        orb_msg_put_str(reply, N_AUTHOR, n->author ? n->author : "");
        orb_msg_put_str(reply, N_OUTCOME, n->outcome ? n->outcome : "");
        orb_call_reply(s->waiting, reply); /* frees the held call */
        s->waiting = NULL;
        notice_free(n);
        memmove(&s->queue[0], &s->queue[1], --s->n_queued * sizeof(s->queue[0]));
        s->queue[s->n_queued] = (struct veto_notice){0};
}

/* Queues a notice (the oldest outcome makes room when full). */
static int post(struct veto_subscriber *s, const char *kind, uint64_t token, const char *diff, const char *author,
                const char *outcome)
{
        struct veto_notice *n;

        if (s->n_queued == VETO_QUEUE_MAX) {
                notice_free(&s->queue[0]);
                memmove(&s->queue[0], &s->queue[1], --s->n_queued * sizeof(s->queue[0]));
        }
        n = &s->queue[s->n_queued];
        snprintf(n->kind, sizeof(n->kind), "%s", kind);
        n->token = token;
        n->diff = diff ? strdup(diff) : NULL;
        n->author = author ? strdup(author) : NULL;
        n->outcome = outcome ? strdup(outcome) : NULL;
        if ((diff && !n->diff) || (author && !n->author) || (outcome && !n->outcome)) {
                notice_free(n);
                return -ENOMEM;
        }
        s->n_queued++;
        deliver(s);
        return 0;
}

int veto_next(struct veto *v, uint64_t id, const char *owner, struct orb_call *call)
{
        struct veto_subscriber *s = find(v, id);

        if (!s || strcmp(s->owner, owner))
                return -ENOENT;
        if (s->waiting) /* a second `next` replaces the first */
                orb_call_drop(s->waiting);
        s->waiting = orb_call_defer(call);
        if (!s->waiting)
                return -ENOMEM;
        deliver(s);
        return 0;
}

static bool touches(const struct veto_subscriber *s, const struct cfg_changes *c)
{
        for (size_t i = 0; i < c->n; i++)
                if (!s->subtree[0] || path_has_prefix(c->v[i].path, s->subtree))
                        return true;
        return false;
}

void veto_who(const struct veto *v, const struct cfg_changes *c, char *buf, size_t n)
{
        size_t len = 0;

        buf[0] = '\0';
        for (unsigned i = 0; i < v->n_subs && len < n; i++)
                if (touches(&v->subs[i], c))
                        len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", v->subs[i].name);
}

static void finish(struct veto *v, bool accepted, const char *why)
{
        veto_done_fn done = v->done;

        v->token = 0;
        v->done = NULL;
        for (unsigned i = 0; i < v->n_subs; i++)
                v->subs[i].has_accepted = false;
        if (done)
                done(v->done_ctx, accepted, why);
}

int veto_begin(struct veto *v, const struct cfg_changes *c, const char *diff, const char *author, usec_t timeout,
               veto_done_fn done, void *ctx, uint64_t *token)
{
        int asked = 0, r;

        if (v->token)
                return -EBUSY;
        *token = v->next_token++;
        for (unsigned i = 0; i < v->n_subs; i++) {
                struct veto_subscriber *s = &v->subs[i];
                s->is_asked = touches(s, c);
                s->has_accepted = false;
                if (!s->is_asked)
                        continue;
                r = post(s, "check", *token, diff, author, NULL);
                if (r < 0)
                        return r;
                asked++;
        }
        if (!asked)
                return 0;
        v->token = *token;
        v->deadline = now_mono() + timeout;
        v->done = done;
        v->done_ctx = ctx;
        return asked;
}

int veto_verdict(struct veto *v, uint64_t token, uint64_t id, const char *owner, bool accept, const char *reason)
{
        struct veto_subscriber *s = find(v, id);
        char why[512];
        bool all = true;

        if (!v->token || token != v->token || !s || !s->is_asked || strcmp(s->owner, owner))
                return -ENOENT;
        if (!accept) {
                snprintf(why, sizeof(why), "refused by %s: %s", s->name, reason[0] ? reason : "(no reason)");
                finish(v, false, why);
                return 0;
        }
        s->has_accepted = true;
        for (unsigned i = 0; i < v->n_subs; i++)
                all &= !v->subs[i].is_asked || v->subs[i].has_accepted;
        if (all)
                finish(v, true, NULL);
        return 0;
}

void veto_outcome(struct veto *v, uint64_t token, const char *outcome)
{
        for (unsigned i = 0; i < v->n_subs; i++) {
                struct veto_subscriber *s = &v->subs[i];
                if (s->is_asked) {
                        s->is_asked = false;
                        post(s, "outcome", token, NULL, NULL, outcome); /* best effort */
                }
        }
}

usec_t veto_tick(struct veto *v, usec_t now)
{
        char why[512];
        size_t len = 0;

        /* A held call whose caller is gone: the subscriber went away. */
        for (unsigned i = 0; i < v->n_subs; i++) {
                struct veto_subscriber *s = &v->subs[i];
                if (s->waiting && !orb_call_is_alive(s->waiting) && !s->is_asked) {
                        unsubscribe(v, s);
                        i--;
                }
        }
        if (!v->token)
                return 0;
        if (now < v->deadline)
                return v->deadline;
        why[0] = '\0';
        for (unsigned i = 0; i < v->n_subs; i++) {
                struct veto_subscriber *s = &v->subs[i];
                if (s->is_asked && !s->has_accepted && len < sizeof(why))
                        len += (size_t)snprintf(why + len, sizeof(why) - len, "%s%s", len ? ", " : "", s->name);
        }
        /* Whoever did not answer loses the subscription (see veto.h). */
        for (unsigned i = 0; i < v->n_subs; i++) {
                struct veto_subscriber *s = &v->subs[i];
                if (s->is_asked && !s->has_accepted) {
                        unsubscribe(v, s);
                        i--;
                }
        }
        char msg[600];
        snprintf(msg, sizeof(msg), "no answer in time from %s", why);
        finish(v, false, msg);
        return 0;
}
