/*
 * orb-config: the configuration service (issue 5, docs/config.md).
 *
 * A supervised, sandboxed service like any other: orbitald starts it with
 * its bus connection; it registers the "config" contract below and holds
 * the one SQLite store (store.c) and the schemas of every subtree
 * (schema.c).  Each caller works in its own candidate (candidate.c),
 * named by the caller's identity as orbitald reports it plus an optional
 * session name, so two operators -- or two sessions of one -- never share
 * uncommitted changes.  A commit is one store transaction; a confirmed
 * commit's deadline is in the store, and the timer here only wakes us up:
 * after a restart the deadline is read back and still honoured.
 * Committed changes are published on the topic "config.committed".
 *
 *   orb-config --schemas DIR --store FILE [--history N] [--veto-timeout DURATION]
 *
 * Subscribers (veto.c) are asked to check each commit touching their
 * subtree; the commit waits for them (at most --veto-timeout, 5s).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <orbital/orbital.h>

#include "config/candidate.h"
#include "config/veto.h"
#include "util/time.h"

static const char contract[] =
        "interface config 1.0\n"
        "method get@1 read (session: str@1, path: str@2) -> (value: str@1, source: str@2)\n"
        "method show@2 read (session: str@1, path: str@2, running: bool@3) -> (leaves: bytes@1)\n"
        "method set@3 write (session: str@1, path: str@2, value: str@3) -> ()\n"
        "method delete@4 write (session: str@1, path: str@2) -> ()\n"
        "method diff@5 read (session: str@1) -> (diff: bytes@1, base: u64@2)\n"
        "method validate@6 read (session: str@1) -> (changes: u64@1)\n"
        "method discard@7 write (session: str@1) -> ()\n"
        "method commit@8 write (session: str@1, message: str@2, confirm_s: u64@3, dry_run: bool@4, "
        "rebase: bool@5) -> (id: u64@1, diff: bytes@2, confirm_by_ms: u64@3, asked: str@4)\n"
        "method confirm@9 write () -> (id: u64@1)\n"
        "method rollback@10 write (to: u64@1, message: str@2) -> (id: u64@1)\n"
        "method history@11 read (max: u64@1) -> (history: bytes@1)\n"
        "method status@12 read () -> (revision: u64@1, pending_id: u64@2, confirm_by_ms: u64@3, sessions: u64@4)\n"
        "method subscribe@13 read (subtree: str@1, name: str@2) -> (id: u64@1)\n"
        "method next@14 read (id: u64@1) -> (kind: str@1, token: u64@2, diff: bytes@3, author: str@4, outcome: str@5)\n"
        "method verdict@15 read (token: u64@1, accept: bool@2, reason: str@3, id: u64@4) -> ()\n"
        "method complete@16 read (prefix: str@1) -> (paths: bytes@1)\n";

enum { F_SESSION = 1, F_PATH = 2, F_VALUE = 3 };

#define SESSIONS_MAX 64
#define CONFIRM_MAX_S (24 * 3600)

struct session {
        char key[192];          /* "peer/name" */
        struct candidate *cand;
        usec_t last_used;
        bool is_locked;         /* its commit is being checked by subscribers */
};

/* A commit held while its subscribers check it. */
struct held_commit {
        struct orb_call *call;  /* deferred */
        struct session *session;
        char *author, *message;
        uint64_t confirm_s;
        json_t *diff;
        uint64_t token;
        char asked[512];        /* who checks it */
};

struct config {
        struct schema_set schemas;
        struct store *store;
        struct orb_conn *bus;
        int timer_fd;            /* fires at the pending confirm's deadline */
        struct session sessions[SESSIONS_MAX];
        unsigned n_sessions;
        struct veto veto;
        usec_t veto_timeout;
        struct held_commit held; /* .call NULL: none */
};

/* ---- sessions ---- */

/* Who owns a candidate: a supervised service by its name; an outside
 * client ("comm[pid]", one per orbctl run) by its uid, so that one
 * user's successive orbctl commands share a candidate. */
static void owner_of(struct orb_call *call, char *buf, size_t n)
{
        const char *peer = orb_call_peer(call);

        if (strchr(peer, '['))
                snprintf(buf, n, "uid %u", (unsigned)orb_call_uid(call));
        else
                snprintf(buf, n, "%s", peer);
}

/* The caller's session: found, or made with a fresh candidate.  The
 * least recently used one is evicted when the table is full (its
 * uncommitted changes go). */
static struct session *session_of(struct config *cf, struct orb_call *call, const struct orb_msg *args, int *err)
{
        char key[sizeof(((struct session *)0)->key)], owner[96];
        struct session *s = NULL, *oldest = NULL;

        owner_of(call, owner, sizeof(owner));
        snprintf(key, sizeof(key), "%s/%s", owner, orb_msg_str(args, F_SESSION, ""));
        for (unsigned i = 0; i < cf->n_sessions; i++) {
                if (!strcmp(cf->sessions[i].key, key))
                        s = &cf->sessions[i];
                if (!cf->sessions[i].is_locked && (!oldest || cf->sessions[i].last_used < oldest->last_used))
                        oldest = &cf->sessions[i];
        }
        if (!s && cf->n_sessions == SESSIONS_MAX && !oldest) {
                *err = -ORB_E_LIMIT;
                return NULL;
        }
        if (!s) {
                s = cf->n_sessions < SESSIONS_MAX ? &cf->sessions[cf->n_sessions++] : oldest;
                candidate_free(s->cand);
                *s = (struct session){0};
                snprintf(s->key, sizeof(s->key), "%s", key);
                *err = candidate_new(&cf->schemas, cf->store, &s->cand);
                if (*err < 0) { /* the slot stays, empty: a later call makes its candidate */
                        s->key[0] = '\0';
                        return NULL;
                }
        }
        /* A candidate without changes follows the running configuration:
         * only changes can conflict. */
        if (candidate_size(s->cand) == 0 && (*err = candidate_rebase(s->cand)) != 0) {
                *err = *err > 0 ? -EIO : *err;
                return NULL;
        }
        s->last_used = now_mono();
        return s;
}

/* ---- replies ---- */

static int fail_diag(struct orb_call *call, const struct orb_diag *d)
{
        char msg[1024];

        return orb_call_fail(call, ORB_E_INVALID, "%s", diag_format(d, msg, sizeof(msg)));
}

static int fail_errors(struct orb_call *call, const char *what, const struct validate_errors *errs)
{
        char *text = validate_errors_format(errs);
        int r = orb_call_fail(call, ORB_E_INVALID, "%s:\n%s", what, text ? text : "(out of memory)");

        free(text);
        return r;
}

static int fail_store(struct orb_call *call, struct config *cf, int r)
{
        if (r == STORE_E_NOT_FOUND)
                return orb_call_fail(call, ORB_E_INVALID, "no such commit");
        if (r == STORE_E_PRUNED || r == CANDIDATE_E_PRUNED)
                return orb_call_fail(call, ORB_E_INVALID, "that commit is older than the history kept");
        return orb_call_fail(call, ORB_E_SERVICE, "the store failed: %s",
                             r < 0 ? strerror(-r) : store_errmsg(cf->store));
}

static int session_busy(struct orb_call *call)
{
        return orb_call_fail(call, ORB_E_AGAIN, "this session's commit is being checked by its subscribers");
}

/* JSON documents go as bytes: above 32 KiB liborbital sends them in a
 * sealed memfd, so a diff of 10,000 leaves fits where a string would not. */
static int reply_json(struct orb_call *call, uint16_t tag, json_t *v)
{
        struct orb_msg *reply = orb_call_reply_msg(call);
        char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        int r;

        json_decref(v);
        if (!text)
                return -ENOMEM;
        orb_msg_put_bytes(reply, tag, text, strlen(text));
        free(text);
        r = orb_call_reply(call, reply);
        return r;
}

/* ---- reading ---- */

static int on_get(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        static const char *const sources[] = {"candidate", "running", "default"};
        struct config *cf = userdata;
        struct orb_diag d = ORB_DIAG_INIT;
        struct cfg_value v = CFG_VALUE_INIT;
        enum candidate_source src;
        struct session *s;
        struct orb_msg *reply;
        char buf[256];
        int r, err = 0;

        if (!(s = session_of(cf, call, args, &err)))
                return err;
        r = candidate_get(s->cand, orb_msg_str(args, F_PATH, ""), &v, &src, &d);
        if (r == CANDIDATE_E_NOT_FOUND)
                return orb_call_fail(call, ORB_E_INVALID, "%s has no value", orb_msg_str(args, F_PATH, ""));
        if (r > 0)
                return fail_diag(call, &d);
        if (r < 0)
                return r;
        reply = orb_call_reply_msg(call);
        orb_msg_put_str(reply, 1, v.kind == CFG_KIND_TEXT ? v.s : value_format(&v, buf, sizeof(buf)));
        orb_msg_put_str(reply, 2, sources[src]);
        value_deinit(&v);
        return orb_call_reply(call, reply);
}

static int add_leaf(const char *path, const struct cfg_value *v, void *ctx)
{
        return json_object_set_new(ctx, path, value_to_json(v)) < 0 ? -ENOMEM : 0;
}

/* The leaves at or below a path, as {path: value}: the running ones,
 * with this session's changes on top unless @running. */
static int on_show(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        const char *prefix = orb_msg_str(args, F_PATH, "");
        struct cfg_changes ch = CFG_CHANGES_INIT;
        json_t *leaves = json_object();
        struct session *s;
        bool running = false;
        int r, err = 0;

        if (prefix[0] && !path_is_valid(prefix))
                return orb_call_fail(call, ORB_E_INVALID, "'%s' is not a configuration path", prefix);
        orb_msg_get_bool(args, 3, &running);
        if (!leaves)
                return -ENOMEM;
        r = store_list(cf->store, prefix, add_leaf, leaves);
        if (!r && !running) {
                if (!(s = session_of(cf, call, args, &err))) {
                        json_decref(leaves);
                        return err;
                }
                r = candidate_changes(s->cand, &ch);
                for (size_t i = 0; !r && i < ch.n; i++) {
                        const struct cfg_delta *dl = &ch.v[i];
                        if (prefix[0] && !path_has_prefix(dl->path, prefix))
                                continue;
                        if (dl->has_new)
                                r = add_leaf(dl->path, &dl->new, leaves);
                        else
                                json_object_del(leaves, dl->path); /* absent already: fine */
                }
                changes_deinit(&ch);
        }
        if (r) {
                json_decref(leaves);
                return r > 0 ? fail_store(call, cf, r) : r;
        }
        return reply_json(call, 1, leaves);
}

static int on_diff(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        struct session *s;
        json_t *diff = NULL;
        struct orb_msg *reply;
        char *text;
        int r, err = 0;

        if (!(s = session_of(cf, call, args, &err)))
                return err;
        r = candidate_diff(s->cand, &diff);
        if (r)
                return r > 0 ? fail_store(call, cf, r) : r;
        text = json_dumps(diff, JSON_COMPACT);
        json_decref(diff);
        if (!text)
                return -ENOMEM;
        reply = orb_call_reply_msg(call);
        orb_msg_put_bytes(reply, 1, text, strlen(text));
        orb_msg_put_u64(reply, 2, candidate_base(s->cand));
        free(text);
        return orb_call_reply(call, reply);
}

static int on_validate(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        struct validate_errors errs = VALIDATE_ERRORS_INIT;
        struct orb_msg *reply;
        struct session *s;
        int r, err = 0;

        if (!(s = session_of(cf, call, args, &err)))
                return err;
        r = candidate_validate(s->cand, &errs);
        if (r == CANDIDATE_E_REFUSED)
                r = fail_errors(call, "the candidate is not valid", &errs);
        else if (r > 0)
                r = fail_store(call, cf, r);
        else if (r == 0) {
                reply = orb_call_reply_msg(call);
                orb_msg_put_u64(reply, 1, candidate_size(s->cand));
                r = orb_call_reply(call, reply);
        }
        validate_errors_deinit(&errs);
        return r;
}

static int on_history(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        uint64_t max = orb_msg_u64(args, 1, 20);
        struct store_record *recs = NULL;
        json_t *list = json_array();
        size_t n = 0;
        int r;

        if (!list)
                return -ENOMEM;
        r = store_history(cf->store, max > 10000 ? 10000 : (unsigned)max, &recs, &n);
        for (size_t i = 0; !r && i < n; i++) {
                json_t *diff = json_loads(recs[i].diff, 0, NULL);
                json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:I, s:o}", "id", (json_int_t)recs[i].id,
                                                      "kind", store_kind_name(recs[i].kind), "author",
                                                      recs[i].author, "message", recs[i].message, "time_us",
                                                      (json_int_t)recs[i].time, "diff",
                                                      diff ? diff : json_null()));
        }
        store_records_free(recs, n);
        if (r) {
                json_decref(list);
                return r > 0 ? fail_store(call, cf, r) : r;
        }
        return reply_json(call, 1, list);
}

/* ---- changing the candidate ---- */

/* The caller's session if its candidate may change now; else NULL with
 * *@r the handler's return (the call answered when it is locked). */
static struct session *changeable_session(struct config *cf, struct orb_call *call, const struct orb_msg *args,
                                          int *r)
{
        struct session *s = session_of(cf, call, args, r);

        if (s && s->is_locked) {
                *r = session_busy(call);
                return NULL;
        }
        return s;
}

static int on_set(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        struct orb_diag d = ORB_DIAG_INIT;
        struct session *s;
        int r = 0;

        if (!(s = changeable_session(cf, call, args, &r)))
                return r;
        r = candidate_set(s->cand, orb_msg_str(args, F_PATH, ""), orb_msg_str(args, F_VALUE, ""), &d);
        return r > 0 ? fail_diag(call, &d) : r;
}

static int on_delete(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        struct orb_diag d = ORB_DIAG_INIT;
        struct session *s;
        int r = 0;

        if (!(s = changeable_session(cf, call, args, &r)))
                return r;
        r = candidate_delete(s->cand, orb_msg_str(args, F_PATH, ""), &d);
        return r > 0 ? fail_diag(call, &d) : r;
}

static int on_discard(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        struct session *s;
        int r = 0;

        if (!(s = changeable_session(cf, call, args, &r)))
                return r;
        candidate_discard(s->cand);
        return 0;
}

/* ---- commits ---- */

static void arm_confirm_timer(struct config *cf);

#define EVENT_PATHS_MAX (24u << 10) /* bytes of paths in an event (events are <= 32 KiB) */

/* The leaves @diff changed, or, when they would not fit in an event, the
 * subtrees (first segments) they are in ("coarse"). */
static json_t *diff_paths(const json_t *diff, bool *coarse)
{
        static const char *const groups[] = {"added", "changed", "removed"};
        json_t *paths = json_array(), *d;
        size_t bytes = 0, i;

        *coarse = false;
        for (unsigned g = 0; paths && g < 3; g++)
                json_array_foreach(json_object_get(diff, groups[g]), i, d) {
                        const char *path = json_string_value(json_object_get(d, "path"));
                        if (!path)
                                continue;
                        bytes += strlen(path) + 3;
                        if (bytes > EVENT_PATHS_MAX && !*coarse) {
                                *coarse = true;
                                json_array_clear(paths);
                        }
                        if (!*coarse) {
                                json_array_append_new(paths, json_string(path));
                                continue;
                        }
                        size_t seg = strcspn(path, ".["), j;
                        json_t *first = json_stringn(path, seg), *p;
                        bool seen = false;
                        json_array_foreach(paths, j, p)
                                seen |= json_equal(p, first);
                        if (!seen)
                                json_array_append(paths, first);
                        json_decref(first);
                }
        return paths;
}

/* The newest commit's diff, from the history (rollbacks: we have no other). */
static json_t *newest_diff(struct config *cf)
{
        struct store_record *rec = NULL;
        json_t *diff = NULL;
        size_t n = 0;

        if (store_history(cf->store, 1, &rec, &n) == 0 && n == 1)
                diff = json_loads(rec->diff, 0, NULL);
        store_records_free(rec, n);
        return diff;
}

/* Every commit and rollback goes out on config.committed: subscribers of
 * the topic, and orbitald, which restarts the services bound to the paths. */
static void publish_commit(struct config *cf, uint64_t id, const char *kind, const char *author, const json_t *diff)
{
        json_t *newest = diff ? NULL : newest_diff(cf);
        bool coarse;
        json_t *paths = diff_paths(diff ? diff : newest, &coarse);

        json_decref(newest);
        json_t *v = json_pack("{s:I, s:s, s:s, s:o, s:b}", "id", (json_int_t)id, "kind", kind, "author", author,
                              "paths", paths ? paths : json_array(), "coarse", coarse);
        char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
        int r = text ? orb_conn_publish(cf->bus, "config.committed", text, strlen(text), false) : -ENOMEM;

        if (r < 0 && r != -ORB_E_DENIED)
                fprintf(stderr, "orb-config: unable to publish commit %llu: %s\n", (unsigned long long)id,
                        orb_strerror(r));
        free(text);
        json_decref(v);
}

static int reply_commit(struct orb_call *call, uint64_t id, const json_t *diff, usec_t confirm_by, const char *asked)
{
        struct orb_msg *reply = orb_call_reply_msg(call);
        char *text = json_dumps(diff, JSON_COMPACT);

        if (!text)
                return -ENOMEM;
        orb_msg_put_u64(reply, 1, id);
        orb_msg_put_bytes(reply, 2, text, strlen(text));
        orb_msg_put_u64(reply, 3, confirm_by / 1000);
        orb_msg_put_str(reply, 4, asked);
        free(text);
        return orb_call_reply(call, reply);
}

static int commit_refused(struct orb_call *call, struct config *cf, struct session *s, int r,
                          const struct validate_errors *errs)
{
        uint64_t now = 0;

        if (r == CANDIDATE_E_REFUSED)
                return fail_errors(call, "commit refused, nothing changed", errs);
        if (r == CANDIDATE_E_CONFLICT) {
                store_revision(cf->store, &now);
                return orb_call_fail(call, ORB_E_INVALID,
                                     "conflict: the running configuration is at revision %llu, this candidate was "
                                     "taken at %llu; nothing changed (commit with rebase to apply it on top)",
                                     (unsigned long long)now, (unsigned long long)candidate_base(s->cand));
        }
        return r > 0 ? fail_store(call, cf, r) : r;
}

/* Makes the commit and answers @call, committed (*@id) or refused (*@id
 * 0).  Return: 0, or -errno when no answer could be sent. */
static int commit_now(struct config *cf, struct orb_call *call, struct session *s, const char *author,
                      const char *message, uint64_t confirm_s, const json_t *diff, const char *asked, uint64_t *id)
{
        struct validate_errors errs = VALIDATE_ERRORS_INIT;
        struct store_commit_info info = {.author = author, .message = message, .kind = STORE_COMMIT,
                                         .time = now_real()};
        int r;

        if (confirm_s)
                info.confirm_deadline = info.time + confirm_s * USEC_PER_SEC;
        *id = 0;
        r = candidate_commit(s->cand, &info, id, &errs);
        if (r) {
                *id = 0;
                r = commit_refused(call, cf, s, r, &errs);
                validate_errors_deinit(&errs);
                return r;
        }
        reply_commit(call, *id, diff, info.confirm_deadline, asked);
        publish_commit(cf, *id, "commit", author, diff);
        arm_confirm_timer(cf);
        return 0;
}

static void held_free(struct held_commit *h)
{
        free(h->author);
        free(h->message);
        json_decref(h->diff);
        *h = (struct held_commit){0};
}

/* The subscribers' answer to a held commit. */
static void on_checked(void *ctx, bool accepted, const char *why)
{
        struct config *cf = ctx;
        struct held_commit h = cf->held;
        char outcome[600];
        uint64_t id = 0;

        cf->held = (struct held_commit){0};
        h.session->is_locked = false;
        if (!accepted) {
                orb_call_fail(h.call, ORB_E_INVALID, "commit refused, nothing changed: %s", why);
                snprintf(outcome, sizeof(outcome), "refused: %s", why);
        } else if (commit_now(cf, h.call, h.session, h.author, h.message, h.confirm_s, h.diff, h.asked, &id), id) {
                snprintf(outcome, sizeof(outcome), "committed %llu", (unsigned long long)id);
        } else {
                snprintf(outcome, sizeof(outcome), "refused: the commit failed after the check");
        }
        veto_outcome(&cf->veto, h.token, outcome);
        held_free(&h);
}

/* Asks the subscribers of what @ch touches; the commit waits for them. */
static int hold_commit(struct config *cf, struct orb_call *call, struct session *s, const struct orb_msg *args,
                       const struct cfg_changes *ch, json_t *diff, const char *asked)
{
        struct held_commit h = {.session = s, .confirm_s = orb_msg_u64(args, 3, 0), .diff = json_incref(diff)};
        char *text = json_dumps(diff, JSON_COMPACT);
        int r;

        snprintf(h.asked, sizeof(h.asked), "%s", asked);
        h.author = strdup(orb_call_peer(call));
        h.message = strdup(orb_msg_str(args, 2, ""));
        if (!text || !h.author || !h.message) {
                free(text);
                held_free(&h);
                return -ENOMEM;
        }
        r = veto_begin(&cf->veto, ch, text, h.author, cf->veto_timeout, on_checked, cf, &h.token);
        free(text);
        if (r == -EBUSY) {
                held_free(&h);
                return orb_call_fail(call, ORB_E_AGAIN, "another commit is being checked by its subscribers");
        }
        if (r <= 0 || !(h.call = orb_call_defer(call))) {
                held_free(&h);
                return r < 0 ? r : -ENOMEM;
        }
        s->is_locked = true;
        cf->held = h;
        return 0;
}

/*
 * The change set of @s's candidate, its JSON diff and who must check it,
 * computed once; validated here only when someone will look at the result
 * before the commit's own transaction validates it again (a dry run, or
 * subscribers to ask).  Return: 0, or CANDIDATE_E_* / -errno.
 */
static int diff_and_check(struct config *cf, struct session *s, bool dry_run, struct cfg_changes *ch, json_t **diff,
                          char *asked, size_t asked_size, struct validate_errors *errs)
{
        bool own = store_batch_begin(cf->store) == 0; /* one read view for all of it */
        int r = candidate_changes(s->cand, ch);

        if (!r)
                r = changes_to_json(ch, diff);
        if (!r)
                veto_who(&cf->veto, ch, asked, asked_size);
        if (!r && (dry_run || asked[0])) {
                r = validate_changes(&cf->schemas, cf->store, ch, errs);
                if (r == VALIDATE_E_INVALID)
                        r = CANDIDATE_E_REFUSED;
        }
        if (own)
                store_batch_end(cf->store, false);
        return r;
}

static int on_commit(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        struct validate_errors errs = VALIDATE_ERRORS_INIT;
        struct cfg_changes ch = CFG_CHANGES_INIT;
        uint64_t confirm_s = orb_msg_u64(args, 3, 0), id = 0;
        bool dry_run = false, rebase = false;
        json_t *diff = NULL;
        char asked[512];
        struct session *s;
        int r, err = 0;

        orb_msg_get_bool(args, 4, &dry_run);
        orb_msg_get_bool(args, 5, &rebase);
        if (confirm_s > CONFIRM_MAX_S)
                return orb_call_fail(call, ORB_E_INVALID, "confirm within at most %d s, not %llu", CONFIRM_MAX_S,
                                     (unsigned long long)confirm_s);
        if (!(s = changeable_session(cf, call, args, &err)))
                return err;
        if (rebase && (r = candidate_rebase(s->cand)) != 0)
                return commit_refused(call, cf, s, r, &errs);
        r = diff_and_check(cf, s, dry_run, &ch, &diff, asked, sizeof(asked), &errs);
        if (r) {
                json_decref(diff);
                changes_deinit(&ch);
                r = commit_refused(call, cf, s, r, &errs);
                validate_errors_deinit(&errs);
                return r;
        }
        if (dry_run)
                r = reply_commit(call, 0, diff, 0, asked);
        else if (asked[0])
                r = hold_commit(cf, call, s, args, &ch, diff, asked);
        else
                r = commit_now(cf, call, s, orb_call_peer(call), orb_msg_str(args, 2, ""), confirm_s, diff, "", &id);
        json_decref(diff);
        changes_deinit(&ch);
        return r;
}

/* ---- completion (orbctl config edit) ---- */

#define COMPLETIONS_MAX 200

struct completion {
        json_t *out;       /* array of candidate paths */
        const char *base;  /* "net.iface" for keys of net.iface[...] */
        const char *part;  /* what the key starts with */
};

static void offer(json_t *out, const char *text)
{
        if (json_array_size(out) < COMPLETIONS_MAX)
                json_array_append_new(out, json_string(text));
}

/* Keys of the running entries of a list: "base[KEY]" once each. */
static int offer_key(const char *path, const struct cfg_value *v, void *ctx)
{
        struct completion *c = ctx;
        size_t n = strlen(c->base), k;
        char entry[PATH_TEXT_MAX + 2];

        (void)v;
        if (strncmp(path, c->base, n) || path[n] != '[')
                return 0;
        k = strcspn(path + n + 1, "]");
        snprintf(entry, sizeof(entry), "%.*s]", (int)(n + 1 + k), path);
        if (strncmp(path + n + 1, c->part, strlen(c->part)))
                return 0;
        for (size_t i = 0; i < json_array_size(c->out); i++)
                if (!strcmp(json_string_value(json_array_get(c->out, i)), entry))
                        return 0;
        offer(c->out, entry);
        return 0;
}

/* Child names of the node @base names, that start with @part. */
static void offer_children(struct config *cf, json_t *out, const char *base, const char *part)
{
        const struct schema_node *node = NULL;
        struct orb_diag d = ORB_DIAG_INIT;
        bool is_entry = false;
        struct path p;
        char why[256], buf[PATH_TEXT_MAX + 64];

        if (!base[0]) { /* the subtrees */
                for (unsigned i = 0; i < cf->schemas.n_files; i++)
                        if (!strncmp(cf->schemas.files[i]->root->name, part, strlen(part)))
                                offer(out, cf->schemas.files[i]->root->name);
                return;
        }
        if (path_parse(base, &p, &d) || schema_resolve(&cf->schemas, &p, &node, &is_entry, why, sizeof(why)))
                return;
        if (node->kind == SCHEMA_LIST && !is_entry)
                return; /* an entry is named with [KEY] first */
        for (unsigned i = 0; i < node->n_children; i++)
                if (!strncmp(node->children[i]->name, part, strlen(part))) {
                        snprintf(buf, sizeof(buf), "%s.%s", base, node->children[i]->name);
                        offer(out, buf);
                }
}

/* The paths that extend @prefix by one segment (or one list key). */
static int on_complete(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        const char *prefix = orb_msg_str(args, 1, "");
        char base[PATH_TEXT_MAX + 1];
        const char *bracket = strrchr(prefix, '['), *dot = strrchr(prefix, '.');
        json_t *out = json_array();

        if (!out || strlen(prefix) > PATH_TEXT_MAX)
                return json_decref(out), orb_call_fail(call, ORB_E_INVALID, "prefix too long");
        if (bracket && !strchr(bracket, ']')) { /* "net.iface[e": keys */
                snprintf(base, sizeof(base), "%.*s", (int)(bracket - prefix), prefix);
                struct completion c = {.out = out, .base = base, .part = bracket + 1};
                store_list(cf->store, base, offer_key, &c);
        } else {
                snprintf(base, sizeof(base), "%.*s", dot ? (int)(dot - prefix) : 0, prefix);
                offer_children(cf, out, base, dot ? dot + 1 : prefix);
        }
        return reply_json(call, 1, out);
}

/* ---- subscribers ---- */

static int on_subscribe(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        const char *subtree = orb_msg_str(args, 1, ""), *name = orb_msg_str(args, 2, "");
        struct orb_msg *reply;
        char owner[96];
        uint64_t id;

        if (subtree[0] && !path_is_valid(subtree))
                return orb_call_fail(call, ORB_E_INVALID, "'%s' is not a configuration path", subtree);
        if (!name[0] || strlen(name) > 63)
                return orb_call_fail(call, ORB_E_INVALID, "a subscriber needs a name of 1 to 63 bytes");
        owner_of(call, owner, sizeof(owner));
        if (veto_subscribe(&cf->veto, owner, name, subtree, &id) < 0)
                return orb_call_fail(call, ORB_E_LIMIT, "too many subscribers (%d)", VETO_SUBSCRIBERS_MAX);
        reply = orb_call_reply_msg(call);
        orb_msg_put_u64(reply, 1, id);
        return orb_call_reply(call, reply);
}

static int on_next(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        char owner[96];
        int r;

        owner_of(call, owner, sizeof(owner));
        r = veto_next(&cf->veto, orb_msg_u64(args, 1, 0), owner, call);
        if (r == -ENOENT)
                return orb_call_fail(call, ORB_E_INVALID, "no such subscription (subscribe again)");
        return r;
}

static int on_verdict(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        bool accept = false;
        char owner[96];

        orb_msg_get_bool(args, 2, &accept);
        owner_of(call, owner, sizeof(owner));
        if (veto_verdict(&cf->veto, orb_msg_u64(args, 1, 0), orb_msg_u64(args, 4, 0), owner, accept,
                         orb_msg_str(args, 3, "")) < 0)
                return orb_call_fail(call, ORB_E_INVALID, "no such check for this subscriber (too late?)");
        return 0;
}

static int on_confirm(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        struct store_pending p;
        struct orb_msg *reply;
        int r;

        (void)args;
        if (store_pending_get(cf->store, &p) == STORE_E_NOT_FOUND)
                return orb_call_fail(call, ORB_E_INVALID, "no commit awaits confirmation");
        r = config_confirm(cf->store);
        if (r == CANDIDATE_E_NO_PENDING)
                return orb_call_fail(call, ORB_E_INVALID, "no commit awaits confirmation");
        if (r)
                return r > 0 ? fail_store(call, cf, r) : r;
        arm_confirm_timer(cf);
        reply = orb_call_reply_msg(call);
        orb_msg_put_u64(reply, 1, p.commit_id);
        return orb_call_reply(call, reply);
}

static int on_rollback(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        struct validate_errors errs = VALIDATE_ERRORS_INIT;
        struct store_commit_info info = {.author = orb_call_peer(call), .message = orb_msg_str(args, 2, ""),
                                         .kind = STORE_ROLLBACK, .time = now_real()};
        struct orb_msg *reply;
        uint64_t to, id = 0;
        int r;

        if (orb_msg_get_u64(args, 1, &to) < 0)
                return orb_call_fail(call, ORB_E_INVALID, "rollback needs the commit to go back to");
        r = config_rollback(&cf->schemas, cf->store, to, &info, &id, &errs);
        if (r) { /* refused: answered, and nothing to publish */
                if (r == CANDIDATE_E_REFUSED)
                        r = fail_errors(call, "the rollback would not be valid under the current schemas", &errs);
                else
                        r = r > 0 ? fail_store(call, cf, r) : r;
                validate_errors_deinit(&errs);
                return r;
        }
        validate_errors_deinit(&errs);
        publish_commit(cf, id, "rollback", info.author, NULL);
        reply = orb_call_reply_msg(call);
        orb_msg_put_u64(reply, 1, id);
        return orb_call_reply(call, reply);
}

static int on_status(struct orb_call *call, const struct orb_msg *args, void *userdata)
{
        struct config *cf = userdata;
        struct orb_msg *reply = orb_call_reply_msg(call);
        struct store_pending p = {0};
        uint64_t rev = 0;

        (void)args;
        store_revision(cf->store, &rev);
        if (store_pending_get(cf->store, &p) != 0)
                p = (struct store_pending){0};
        orb_msg_put_u64(reply, 1, rev);
        orb_msg_put_u64(reply, 2, p.commit_id);
        orb_msg_put_u64(reply, 3, p.deadline / 1000);
        orb_msg_put_u64(reply, 4, cf->n_sessions);
        return orb_call_reply(call, reply);
}

/* ---- the confirm deadline ---- */

/* Rolls back an unconfirmed commit whose deadline passed (also right
 * after a restart), then sets the timer for the next deadline, if any. */
#define PENDING_RETRY_S 30 /* after a refused automatic rollback */

static void arm_timer_in(struct config *cf, usec_t delay)
{
        struct itimerspec when = {.it_value = {(time_t)(delay / USEC_PER_SEC), (long)(delay % USEC_PER_SEC) * 1000}};

        timerfd_settime(cf->timer_fd, 0, &when, NULL);
}

static void check_pending(struct config *cf)
{
        struct validate_errors errs = VALIDATE_ERRORS_INIT;
        uint64_t rolled_back = 0;
        int r = config_check_pending(&cf->schemas, cf->store, now_real(), &rolled_back, &errs);

        if (r) {
                /* Not in a loop: the next try is in 30 s (a schema that
                 * refuses the old configuration needs an operator). */
                char *text = validate_errors_format(&errs);
                fprintf(stderr, "orb-config: the automatic rollback failed (%d), next try in %d s: %s\n", r,
                        PENDING_RETRY_S, text ? text : "");
                free(text);
                validate_errors_deinit(&errs);
                arm_timer_in(cf, PENDING_RETRY_S * USEC_PER_SEC);
                return;
        } else if (rolled_back) {
                printf("orb-config: unconfirmed commit rolled back by commit %llu\n",
                       (unsigned long long)rolled_back);
                fflush(stdout);
                if (cf->bus)
                        publish_commit(cf, rolled_back, "confirm-timeout", "orb-config", NULL);
        }
        validate_errors_deinit(&errs);
        arm_confirm_timer(cf);
}

static void arm_confirm_timer(struct config *cf)
{
        struct itimerspec when = {0};
        struct store_pending p;

        if (store_pending_get(cf->store, &p) == 0) {
                usec_t now = now_real();
                usec_t left = p.deadline > now ? p.deadline - now : 1;
                when.it_value.tv_sec = (time_t)(left / USEC_PER_SEC);
                when.it_value.tv_nsec = (long)(left % USEC_PER_SEC) * 1000;
        }
        timerfd_settime(cf->timer_fd, 0, &when, NULL);
}

/* ---- start-up ---- */

static int load_schemas(struct schema_set *s, const char *dir)
{
        struct orb_diag d = ORB_DIAG_INIT;
        struct dirent **names = NULL;
        char path[4096], msg[1024];
        int n = scandir(dir, &names, NULL, alphasort), r = 0;

        if (n < 0) {
                fprintf(stderr, "orb-config: cannot read the schema directory %s: %s\n", dir, strerror(errno));
                return -1;
        }
        for (int i = 0; i < n; i++) {
                size_t len = strlen(names[i]->d_name);
                if (!r && len > 5 && !strcmp(names[i]->d_name + len - 5, ".yaml")) {
                        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
                        if (schema_set_add_file(s, path, &d) != 0) {
                                fprintf(stderr, "orb-config: %s\n", diag_format(&d, msg, sizeof(msg)));
                                r = -1;
                        }
                }
                free(names[i]);
        }
        free(names);
        if (!r && schema_set_link(s, &d) != 0) {
                fprintf(stderr, "orb-config: %s\n", diag_format(&d, msg, sizeof(msg)));
                r = -1;
        }
        return r;
}

static int usage(void)
{
        fprintf(stderr, "usage: orb-config --schemas DIR --store FILE [--history N] [--veto-timeout DURATION]\n");
        return 100;
}

static int serve(struct config *cf)
{
        static const struct orb_handler handlers[] = {
                {"get", on_get},           {"show", on_show},       {"set", on_set},
                {"delete", on_delete},     {"diff", on_diff},       {"validate", on_validate},
                {"discard", on_discard},   {"commit", on_commit},   {"confirm", on_confirm},
                {"rollback", on_rollback}, {"history", on_history}, {"status", on_status},
                {"subscribe", on_subscribe}, {"next", on_next},     {"verdict", on_verdict},
                {"complete", on_complete},
                {0}};
        int r;

        if ((r = orb_conn_open(&cf->bus)) < 0 ||
            (r = orb_conn_serve(cf->bus, "config", "1.0", contract, handlers, cf, NULL)) < 0 ||
            (r = orb_conn_ready(cf->bus)) < 0) {
                fprintf(stderr, "orb-config: bus: %s\n", orb_strerror(r));
                return 111;
        }
        for (;;) {
                struct pollfd pf[2] = {{orb_conn_fd(cf->bus), POLLIN, 0}, {cf->timer_fd, POLLIN, 0}};
                usec_t now = now_mono(), wake = veto_tick(&cf->veto, now);
                int timeout_ms = wake ? (int)((wake - now) / USEC_PER_MSEC) + 1 : cf->veto.n_subs ? 1000 : -1;
                uint64_t ticks;

                /* (with subscribers: a look each second for held calls whose callers left) */
                if (poll(pf, 2, timeout_ms) < 0 && errno != EINTR)
                        return 111;
                if (pf[1].revents & POLLIN) {
                        if (read(cf->timer_fd, &ticks, sizeof(ticks)) > 0)
                                check_pending(cf);
                }
                r = orb_conn_dispatch(cf->bus, 0);
                if (r < 0 && r != -EAGAIN && r != -ETIMEDOUT) {
                        fprintf(stderr, "orb-config: bus: %s\n", orb_strerror(r));
                        return r == -EPIPE ? 0 : 111;
                }
        }
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"schemas", required_argument, NULL, 's'},
                {"store", required_argument, NULL, 'f'},
                {"history", required_argument, NULL, 'n'},
                {"veto-timeout", required_argument, NULL, 't'},
                {0}};
        struct store_options so = {0};
        static struct config cf = {.schemas = SCHEMA_SET_INIT, .timer_fd = -1, .veto_timeout = 5 * USEC_PER_SEC};
        const char *schemas = NULL, *file = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 's')
                        schemas = optarg;
                else if (c == 'f')
                        file = optarg;
                else if (c == 'n' && atoi(optarg) > 0)
                        so.history_max = (unsigned)atoi(optarg);
                else if (c == 't' && parse_duration(optarg, &cf.veto_timeout) && cf.veto_timeout > 0)
                        continue;
                else
                        return usage();
        }
        if (!schemas || !file || optind != argc)
                return usage();
        if (load_schemas(&cf.schemas, schemas) < 0)
                return 1;
        r = store_open(file, &so, &cf.store);
        if (r) {
                fprintf(stderr, "orb-config: cannot open the store %s: %s\n", file,
                        r < 0 ? strerror(-r) : "not a configuration store (or a newer format)");
                return 1;
        }
        cf.timer_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
        if (cf.timer_fd < 0)
                return 111;
        veto_init(&cf.veto);
        check_pending(&cf); /* a deadline that passed while we were down */
        r = serve(&cf);
        veto_deinit(&cf.veto);
        store_free(cf.store);
        schema_set_deinit(&cf.schemas);
        return r;
}
