/*
 * The broker (see broker.h for the model).
 *
 * One receive buffer and two scratch messages serve every peer: orbitald
 * is single-threaded, and a message is handled completely before the next
 * is read.  What a peer costs while idle is its struct, its slot array and
 * its registrations; its queue is empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/capspec.h"
#include "orbital/contract.h"
#include "orbital/message.h"
#include "util/burst.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/unixsock.h"

#define RECV_BATCH 32 /* messages read from one peer per wake-up */

struct out_msg {
        struct out_msg *next;
        size_t len;
        unsigned n_fds;
        int fds[2];
        uint8_t data[];
};

struct reg {
        struct reg *next;          /* in the endpoint's list */
        struct reg *peer_next;     /* in the server's list */
        struct endpoint *ep;
        struct peer *server;
        struct channel *channels;  /* open channels to it */
        uint64_t id;
        unsigned major, minor;
        char version[24];
        char *contract;            /* owned text */
        char contract_name[64];
};

/*
 * We keep a duplicate of the service's end: shutdown() on it ends the
 * channel for both sides (a revocation), and it reports a hang-up when the
 * client closes its end, so a channel the client dropped is freed.  (A
 * duplicate of the client's end would keep the client's socket alive, and
 * the service would never see it go.)
 */
struct channel {
        struct channel *next, *prev; /* in the registration's list */
        struct broker *b;
        struct reg *reg;
        struct cap *cap;           /* the client's capability for it */
        uint64_t id;
        int server_end;
        struct loop_io io;         /* hang-up of the client's end */
        bool is_client_gone;       /* closed by the client: nobody to tell */
        struct loop_defer free_defer;
};

struct peer {
        struct broker *b;
        struct peer *next, *prev;
        int fd;
        struct loop_io io;
        struct captable caps;
        struct service *svc;       /* borrowed; NULL for an outside client */
        char name[64];
        pid_t pid;
        uid_t uid;
        bool is_operator;
        bool is_closing;
        struct out_msg *q_head, *q_tail;
        size_t q_bytes;
        unsigned rate;             /* messages/s; 0 = unlimited */
        double tokens;
        usec_t tokens_at;
        uint64_t n_rate_refused;
        struct burst denials;      /* audited denials (util/burst.h) */
        char *subs[BROKER_SUBS_MAX];
        unsigned n_subs;
        struct reg *regs;
        unsigned n_regs;
        struct orb_msg *parked;    /* a publish waiting for room */
        struct peer *parked_next;
        struct loop_defer free_defer;
};

static void peer_close(struct peer *p);
static void retry_parked(struct broker *b);
static void check_invariants(struct broker *b);
static void broker_arm_expiry(struct broker *b);

/* ------------------------------------------------------------------------
 * Audit
 */

/*
 * Denials are audited, but a peer that keeps asking must not fill the log:
 * at most DENIALS_BURST records, then one per DENIALS_EVERY, the rest
 * counted in the next record ("suppressed").
 */
#define DENIALS_BURST 20
#define DENIALS_EVERY (5 * USEC_PER_SEC)

static void audit(struct broker *b, const char *kind, const struct peer *actor, json_t *fields);

static void audit_denied(struct broker *b, const char *kind, struct peer *p, json_t *fields)
{
        uint64_t suppressed;

        if (!burst_admit(&p->denials, loop_now(b->loop), DENIALS_BURST, DENIALS_EVERY, &suppressed)) {
                json_decref(fields);
                return;
        }
        if (suppressed && fields)
                json_object_set_new(fields, "suppressed", json_integer((json_int_t)suppressed));
        audit(b, kind, p, fields);
}

static void audit(struct broker *b, const char *kind, const struct peer *actor, json_t *fields)
{
        if (b->hooks.audit)
                b->hooks.audit(b->hooks.ctx, kind, actor ? actor->name : "orbitald", fields);
        else
                json_decref(fields);
}

static json_t *cap_fields(const struct cap *c)
{
        const struct peer *holder = c->table->owner;
        char r[4];

        return json_pack("{s:s, s:I, s:s, s:s, s:s}", "holder", holder->name, "slot", (json_int_t)c->slot, "type",
                         object_type_name(c->obj_type), "object", c->name, "rights", rights_str(c->rights, r));
}

/* ------------------------------------------------------------------------
 * Sending: straight to the socket when nothing is queued, else queued.
 */

static void peer_update_events(struct peer *p)
{
        uint32_t ev = p->q_head ? EPOLLOUT : 0;

        /* Backpressure: a peer that does not read its replies is not read. */
        if (p->q_bytes < BROKER_QUEUE_MAX && !p->parked)
                ev |= EPOLLIN;
        if (ev != p->io.events)
                loop_io_modify(p->b->loop, &p->io, ev);
}

static int queue_copy(struct peer *p, const struct orb_msg *m, bool is_priority)
{
        struct out_msg *o = malloc(sizeof(*o) + m->len);

        if (!o)
                return -ENOMEM;
        o->next = NULL;
        o->len = m->len;
        o->n_fds = 0;
        memcpy(o->data, m->buf, m->len);
        for (unsigned i = 0; i < m->n_fds && i < 2; i++) {
                o->fds[i] = fcntl(m->fds[i], F_DUPFD_CLOEXEC, 3);
                if (o->fds[i] < 0) {
                        while (i--)
                                close(o->fds[i]);
                        free(o);
                        return -errno;
                }
                o->n_fds++;
        }
        if (is_priority) { /* records are whole: the head can be overtaken */
                o->next = p->q_head;
                p->q_head = o;
                if (!p->q_tail)
                        p->q_tail = o;
        } else {
                if (p->q_tail)
                        p->q_tail->next = o;
                else
                        p->q_head = o;
                p->q_tail = o;
        }
        p->q_bytes += sizeof(*o) + m->len;
        return 0;
}

/* Return: 0, or -errno when the peer is beyond help (then it is closed). */
static int peer_send(struct peer *p, struct orb_msg *m, bool is_priority)
{
        int r;

        if (p->is_closing)
                return -EPIPE;
        if (!p->q_head) {
                r = orb_msg_send(p->fd, m, MSG_DONTWAIT);
                if (r != -EAGAIN)
                        return r == -EPIPE || r == -ECONNRESET ? 0 : r; /* EOF handling closes it */
        }
        if (p->q_bytes > 2 * BROKER_QUEUE_MAX) {
                log_warn("bus peer %s does not read its messages; disconnecting it", p->name);
                peer_close(p);
                return -ENOBUFS;
        }
        r = queue_copy(p, m, is_priority);
        if (r == 0)
                peer_update_events(p);
        return r;
}

static void flush_queue(struct peer *p)
{
        while (p->q_head) {
                struct out_msg *o = p->q_head;
                struct iovec iov = {o->data, o->len};
                union {
                        char buf[CMSG_SPACE(2 * sizeof(int))];
                        struct cmsghdr align;
                } ctl;
                struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

                if (o->n_fds) {
                        mh.msg_control = ctl.buf;
                        mh.msg_controllen = CMSG_SPACE(o->n_fds * sizeof(int));
                        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(o->n_fds * sizeof(int));
                        memcpy(CMSG_DATA(c), o->fds, o->n_fds * sizeof(int));
                }
                if (sendmsg(p->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        peer_close(p);
                        return;
                }
                p->q_head = o->next;
                if (!p->q_head)
                        p->q_tail = NULL;
                p->q_bytes -= sizeof(*o) + o->len;
                for (unsigned i = 0; i < o->n_fds; i++)
                        close(o->fds[i]);
                free(o);
        }
        peer_update_events(p);
}

static struct orb_msg *reply_begin(struct broker *b, const struct orb_hdr *req, uint32_t status)
{
        struct orb_msg *m = b->out;

        orb_msg_reset(m, req->type);
        orb_msg_hdr(m)->id = req->id;
        orb_msg_hdr(m)->status = status;
        return m;
}

__attribute__((format(printf, 4, 5))) static void reply_error(struct peer *p, const struct orb_hdr *req,
                                                              uint32_t status, const char *fmt, ...)
{
        struct orb_msg *m = reply_begin(p->b, req, status);
        char text[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        orb_msg_put_str(m, ORB_T_MESSAGE, text);
        peer_send(p, m, false);
}

static void reply_ok(struct peer *p, const struct orb_hdr *req)
{
        peer_send(p, reply_begin(p->b, req, ORB_OK), false);
}

/* ------------------------------------------------------------------------
 * Revocation: every removed capability passes through here.
 */

static void channel_free_deferred(struct loop_defer *d)
{
        free(container_of(d, struct channel, free_defer));
}

static void channel_free(struct channel *ch)
{
        if (ch->prev)
                ch->prev->next = ch->next;
        else
                ch->reg->channels = ch->next;
        if (ch->next)
                ch->next->prev = ch->prev;
        /* Both ends see EOF/EPIPE at once, whoever else holds them. */
        shutdown(ch->server_end, SHUT_RDWR);
        loop_io_remove(ch->b->loop, &ch->io);
        close(ch->server_end);
        ch->cap = NULL;
        /* Its hang-up may be pending in this batch of events. */
        loop_defer(ch->b->loop, &ch->free_defer, channel_free_deferred);
}

static void notify_revoked(struct peer *p, const struct cap *c, unsigned reason)
{
        /* Its own scratch message: a revoke can happen while b->out is
         * being built (a send that disconnects a stuck peer). */
        struct orb_msg *m = p->b->note;

        orb_msg_reset(m, ORB_MSG_CAP_REVOKED);
        orb_msg_hdr(m)->flags = ORB_F_PRIORITY;
        orb_msg_put_u64(m, ORB_T_SLOT, c->slot);
        orb_msg_put_u64(m, ORB_T_OBJ_TYPE, c->obj_type);
        orb_msg_put_u64(m, ORB_T_OBJ_ID, c->obj_id);
        orb_msg_put_u64(m, ORB_T_REASON, reason);
        orb_msg_put_str(m, ORB_T_OBJ_NAME, c->name);
        peer_send(p, m, true);
}

static void on_cap_removed(struct cap *c, unsigned reason, void *ctx)
{
        struct broker *b = ctx;
        struct peer *holder = c->table->owner;

        struct channel *ch = c->data;

        if (ch)
                channel_free(ch);
        if (holder->is_closing || (ch && ch->is_client_gone))
                return; /* nobody to tell */
        audit(b, "cap.revoke", NULL, json_pack("{s:o, s:i}", "cap", cap_fields(c), "reason", (int)reason));
        notify_revoked(holder, c, reason);
}

static void cap_revoke(struct broker *b, struct cap *c, unsigned reason)
{
        captable_revoke(c, reason, on_cap_removed, b);
}

/* ------------------------------------------------------------------------
 * Registry
 */

static uint32_t hash_str(const char *s)
{
        uint32_t h = 2166136261u;

        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 16777619u;
        return h;
}

static struct endpoint *endpoint_get(struct broker *b, const char *type, bool create)
{
        uint32_t i = hash_str(type) % BROKER_HASH_SIZE;
        struct endpoint *e;

        for (e = b->endpoints[i]; e; e = e->hash_next)
                if (!strcmp(e->type, type))
                        return e;
        if (!create || !(e = calloc(1, sizeof(*e))))
                return NULL;
        e->id = ++b->next_id;
        snprintf(e->type, sizeof(e->type), "%s", type);
        e->hash_next = b->endpoints[i];
        b->endpoints[i] = e;
        b->n_endpoints++;
        return e;
}

static void reg_free(struct broker *b, struct reg *r, unsigned reason)
{
        struct reg **pp;

        while (r->channels)
                cap_revoke(b, r->channels->cap, reason);
        for (pp = &r->ep->regs; *pp != r; pp = &(*pp)->next)
                ;
        *pp = r->next;
        audit(b, "service.unregister", r->server,
              json_pack("{s:s, s:s}", "service_type", r->ep->type, "version", r->version));
        b->n_regs--;
        free(r->contract);
        free(r);
}

/* A cap of @p for endpoint @type with any of @want rights (or a provider). */
static struct cap *find_cap(const struct peer *p, uint8_t obj_type, const char *name, uint8_t want, bool provider)
{
        for (uint32_t i = 1; i < p->caps.n_slots; i++) {
                struct cap *c = p->caps.slots[i];

                if (!c || c->obj_type != obj_type || c->data || (provider && !c->is_provider))
                        continue;
                if (obj_type == ORB_OBJ_TOPIC ? !topic_covers(c->name, name) : strcmp(c->name, name) != 0)
                        continue;
                if (c->rights & want)
                        return c;
        }
        return NULL;
}

/* Operators (root, orbitald's user) may reach anything: the capability is
 * minted on first use, so even they hold and are audited per object. */
static struct cap *operator_cap(struct broker *b, struct peer *p, uint8_t obj_type, const char *name)
{
        struct endpoint *e = obj_type == ORB_OBJ_ENDPOINT ? endpoint_get(b, name, true) : NULL;
        struct cap *c;

        if (!p->is_operator || (obj_type == ORB_OBJ_ENDPOINT && !e))
                return NULL;
        if (captable_insert(&p->caps, NULL, obj_type, e ? e->id : 0, name, ORB_RIGHTS_ALL, 0, &c) < 0)
                return NULL;
        audit(b, "cap.grant", NULL, json_pack("{s:o, s:s}", "cap", cap_fields(c), "policy", "operator"));
        return c;
}

static int get_str(struct peer *p, const struct orb_msg *m, uint16_t tag, const char *what, const char **out)
{
        if (orb_msg_get_str(m, tag, out) < 0) {
                reply_error(p, orb_msg_hdr(m), ORB_E_PROTO, "missing field %s", what);
                return -1;
        }
        return 0;
}

static void on_register(struct peer *p, struct orb_msg *m)
{
        struct broker *b = p->b;
        const struct orb_hdr *h = orb_msg_hdr(m);
        const char *type, *version, *text;
        struct orb_contract *contract = NULL;
        struct cap *c;
        struct reg *r;
        unsigned major, minor;
        char err[256];

        if (get_str(p, m, ORB_T_TYPE, "type", &type) < 0 || get_str(p, m, ORB_T_VERSION, "version", &version) < 0 ||
            get_str(p, m, ORB_T_CONTRACT, "contract", &text) < 0)
                return;
        c = find_cap(p, ORB_OBJ_ENDPOINT, type, ORB_RIGHT_GRANT, true);
        if (!c && p->is_operator && capspec_name_valid(type, strlen(type)))
                c = operator_cap(b, p, ORB_OBJ_ENDPOINT, type);
        if (!c) {
                audit_denied(b, "register.denied", p, json_pack("{s:s}", "service_type", type));
                return reply_error(p, h, ORB_E_DENIED, "no provide:%s capability", type);
        }
        if (!orb_version_parse(version, &major, &minor))
                return reply_error(p, h, ORB_E_INVALID, "version '%s': expected MAJOR.MINOR", version);
        if (orb_contract_parse(text, strlen(text), &contract, err, sizeof(err)) < 0)
                return reply_error(p, h, ORB_E_INVALID, "contract: %s", err);
        if (contract->major != major) {
                reply_error(p, h, ORB_E_VERSION, "version %s does not match contract %s %u.%u", version,
                            contract->name, contract->major, contract->minor);
                orb_contract_free(contract);
                return;
        }
        for (r = p->regs; r; r = r->peer_next) {
                if (r->ep->id == c->obj_id && r->major == major) {
                        orb_contract_free(contract);
                        return reply_error(p, h, ORB_E_EXISTS, "%s %u is already registered", type, major);
                }
        }
        if (p->n_regs >= BROKER_REGS_MAX || !(r = calloc(1, sizeof(*r)))) {
                orb_contract_free(contract);
                return reply_error(p, h, ORB_E_LIMIT, "too many registrations");
        }
        r->ep = endpoint_get(b, type, false);
        r->server = p;
        r->id = ++b->next_id;
        r->major = major;
        r->minor = minor;
        snprintf(r->version, sizeof(r->version), "%u.%u", major, minor);
        snprintf(r->contract_name, sizeof(r->contract_name), "%s", contract->name);
        r->contract = strdup(text);
        orb_contract_free(contract);
        if (!r->ep || !r->contract) {
                free(r->contract);
                free(r);
                return reply_error(p, h, ORB_E_LIMIT, "out of memory");
        }
        r->next = r->ep->regs;
        r->ep->regs = r;
        r->peer_next = p->regs;
        p->regs = r;
        p->n_regs++;
        b->n_regs++;
        audit(b, "service.register", p, json_pack("{s:s, s:s, s:I}", "service_type", type, "version", r->version,
                                                  "slot", (json_int_t)c->slot));
        reply_ok(p, h);
}

static struct reg *best_match(struct endpoint *e, const char *range, bool *bad_range)
{
        struct reg *best = NULL;
        bool match;

        *bad_range = false;
        for (struct reg *r = e ? e->regs : NULL; r; r = r->next) {
                if (!orb_version_match(range, r->major, r->minor, &match)) {
                        *bad_range = true;
                        return NULL;
                }
                if (match && (!best || r->major > best->major ||
                              (r->major == best->major && r->minor > best->minor)))
                        best = r;
        }
        return best;
}

/* The client closed its end: the channel and its capability go quietly. */
static void on_channel_hup(struct loop_io *io, uint32_t revents)
{
        struct channel *ch = container_of(io, struct channel, io);

        if (!ch->cap)
                return; /* already revoked in this batch */
        ch->is_client_gone = true;
        audit(ch->b, "channel.close", ch->cap->table->owner,
              json_pack("{s:I, s:s}", "slot", (json_int_t)ch->cap->slot, "object", ch->cap->name));
        cap_revoke(ch->b, ch->cap, ORB_REVOKE_EXPLICIT);
}

/* Hands a fresh channel's ends to server and client; returns its cap. */
static int channel_open(struct peer *p, struct cap *via, struct reg *reg, const struct orb_hdr *h)
{
        struct broker *b = p->b;
        struct orb_msg *m = b->out;
        _cleanup_close_ int ends_0 = -1, ends_1 = -1;
        struct channel *ch;
        struct cap *c;
        int ends[2], r;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) < 0)
                return -errno;
        ends_0 = ends[0], ends_1 = ends[1];
        ch = calloc(1, sizeof(*ch));
        if (!ch)
                return -ENOMEM;
        ch->b = b;
        ch->io = (struct loop_io)LOOP_IO_INIT;
        ch->server_end = fcntl(ends[1], F_DUPFD_CLOEXEC, 3);
        r = ch->server_end < 0 ? -errno : loop_io_add(b->loop, &ch->io, ch->server_end, EPOLLRDHUP, on_channel_hup);
        if (r == 0)
                r = captable_insert(&p->caps, via, ORB_OBJ_ENDPOINT, reg->ep->id, reg->ep->type,
                                    via->rights & (ORB_RIGHT_READ | ORB_RIGHT_WRITE | ORB_RIGHT_GRANT), via->expires,
                                    &c);
        if (r < 0) {
                loop_io_remove(b->loop, &ch->io);
                if (ch->server_end >= 0)
                        close(ch->server_end);
                free(ch);
                return r == -CAP_E_FULL ? -ORB_E_LIMIT : r;
        }
        ch->id = ++b->next_id;
        ch->reg = reg;
        ch->cap = c;
        c->data = ch;
        ch->next = reg->channels;
        if (reg->channels)
                reg->channels->prev = ch;
        reg->channels = ch;

        /* The client first: the server may turn out not to read its bus,
         * and sending to it can then close it (and revoke this channel). */
        audit(b, "channel.open", p, json_pack("{s:o, s:s, s:s}", "cap", cap_fields(c), "server",
                                              reg->server->name, "version", reg->version));
        m = reply_begin(b, h, ORB_OK);
        orb_msg_put_u64(m, ORB_T_SLOT, c->slot);
        orb_msg_put_u64(m, ORB_T_CHANNEL, ch->id);
        orb_msg_put_str(m, ORB_T_VERSION, reg->version);
        orb_msg_put_u64(m, ORB_T_RIGHTS, c->rights);
        orb_msg_put_str(m, ORB_T_CONTRACT, reg->contract);
        orb_msg_put_str(m, ORB_T_PEER, reg->server->name);
        m->fds[m->n_fds++] = take_fd(ends_0);
        uint64_t ch_id = ch->id;
        uint8_t rights = c->rights;
        peer_send(p, m, false);
        orb_msg_reset(m, ORB_MSG_CHANNEL_OPEN); /* closes our copy of the client's end */
        if (p->is_closing)
                return 0; /* the client went away meanwhile, and the channel with it */

        orb_msg_put_u64(m, ORB_T_CHANNEL, ch_id);
        orb_msg_put_str(m, ORB_T_TYPE, reg->ep->type);
        orb_msg_put_str(m, ORB_T_PEER, p->name);
        orb_msg_put_u64(m, ORB_T_PID, (uint64_t)p->pid);
        orb_msg_put_u64(m, ORB_T_UID, (uint64_t)p->uid);
        orb_msg_put_u64(m, ORB_T_RIGHTS, rights);
        orb_msg_put_u64(m, ORB_T_RATE, p->rate);
        orb_msg_put_u64(m, ORB_T_MAJOR, reg->major);
        m->fds[m->n_fds++] = take_fd(ends_1);
        peer_send(reg->server, m, false); /* last: reg, ch and c may be gone after it */
        orb_msg_reset(m, ORB_MSG_CHANNEL_OPEN);
        return 0;
}

static void on_lookup(struct peer *p, struct orb_msg *m)
{
        struct broker *b = p->b;
        const struct orb_hdr *h = orb_msg_hdr(m);
        const char *type, *range = orb_msg_str(m, ORB_T_RANGE, "");
        struct endpoint *e;
        struct cap *via;
        struct reg *reg;
        bool bad_range;
        int r;

        if (get_str(p, m, ORB_T_TYPE, "type", &type) < 0)
                return;
        e = endpoint_get(b, type, false);
        via = find_cap(p, ORB_OBJ_ENDPOINT, type, ORB_RIGHT_READ | ORB_RIGHT_WRITE, false);
        if (!via && e && e->regs)
                via = operator_cap(b, p, ORB_OBJ_ENDPOINT, type);
        reg = best_match(e, range, &bad_range);
        if (bad_range)
                return reply_error(p, h, ORB_E_INVALID, "version range '%s': expected e.g. '>=1.2,<2'", range);
        if (!via) {
                /* Denied looks exactly like absent to the caller; only the audit log knows. */
                audit_denied(b, "lookup.denied", p, json_pack("{s:s, s:s}", "service_type", type, "range", range));
                return reply_error(p, h, ORB_E_NOT_FOUND, "no service '%s' matching '%s'", type, range);
        }
        if (!reg)
                return reply_error(p, h, ORB_E_NOT_FOUND, "no service '%s' matching '%s'", type, range);
        r = channel_open(p, via, reg, h);
        if (r < 0)
                reply_error(p, h, r < -ORB_E_BASE + 1 && r > -ORB_E__MAX ? (uint32_t)-r : ORB_E_LIMIT,
                            "unable to open a channel: %s", orb_strerror(r));
}

/* ------------------------------------------------------------------------
 * Grant, revoke, list
 */

static struct peer *peer_find(struct broker *b, const char *name)
{
        for (struct peer *p = b->peers; p; p = p->next)
                if (!p->is_closing && !strcmp(p->name, name))
                        return p;
        return NULL;
}

static int do_grant(struct broker *b, struct peer *holder, uint32_t slot, const char *target, uint8_t rights,
                    usec_t expires_in, const struct peer *actor, const char *by, uint32_t *out_slot, char *why,
                    size_t n)
{
        struct cap *c = captable_get(&holder->caps, slot), *g;
        struct peer *to = peer_find(b, target);
        usec_t expires = expires_in ? loop_now(b->loop) + expires_in : 0;
        int r;

        if (!c)
                return snprintf(why, n, "%s holds nothing in slot %u", holder->name, slot), -ORB_E_INVALID;
        if (!to)
                return snprintf(why, n, "no bus peer named '%s' is connected", target), -ORB_E_NOT_FOUND;
        if (c->data)
                c = c->parent; /* a channel's grant is a grant of the right to open one */
        r = captable_grant(c, &to->caps, rights, expires, &g);
        if (r == -CAP_E_RIGHTS)
                return snprintf(why, n, "slot %u lacks the grant right or the rights asked for", slot),
                       -ORB_E_RIGHTS;
        if (r < 0)
                return snprintf(why, n, "%s's table is full", target), -ORB_E_LIMIT;
        audit(b, "cap.grant", actor, json_pack("{s:o, s:s, s:I, s:s}", "cap", cap_fields(g), "from", holder->name,
                                              "from_slot", (json_int_t)slot, "by", by ? by : holder->name));
        check_invariants(b);
        if (expires)
                broker_arm_expiry(b);
        *out_slot = g->slot;
        return 0;
}

static void on_grant(struct peer *p, struct orb_msg *m)
{
        const struct orb_hdr *h = orb_msg_hdr(m);
        const char *target;
        uint64_t slot, rights, expires;
        uint32_t out;
        char why[160];
        int r;

        if (get_str(p, m, ORB_T_TARGET, "target", &target) < 0)
                return;
        slot = orb_msg_u64(m, ORB_T_SLOT, 0);
        rights = orb_msg_u64(m, ORB_T_RIGHTS, 0);
        expires = orb_msg_u64(m, ORB_T_EXPIRES, 0);
        if (slot > UINT32_MAX || rights > ORB_RIGHTS_ALL || expires > 100ull * 365 * 86400 * 1000)
                return reply_error(p, h, ORB_E_INVALID, "slot, rights or expiry out of range");
        r = do_grant(p->b, p, (uint32_t)slot, target, (uint8_t)rights, expires * USEC_PER_MSEC, p, NULL, &out, why,
                     sizeof(why));
        if (r < 0)
                return reply_error(p, h, (uint32_t)-r, "%s", why);
        struct orb_msg *rep = reply_begin(p->b, h, ORB_OK);
        orb_msg_put_u64(rep, ORB_T_SLOT, out);
        peer_send(p, rep, false);
}

static void on_revoke(struct peer *p, struct orb_msg *m)
{
        const struct orb_hdr *h = orb_msg_hdr(m);
        uint64_t slot = orb_msg_u64(m, ORB_T_SLOT, 0);
        struct cap *c = slot <= UINT32_MAX ? captable_get(&p->caps, (uint32_t)slot) : NULL;

        if (!c)
                return reply_error(p, h, ORB_E_INVALID, "nothing in slot %llu", (unsigned long long)slot);
        audit(p->b, "cap.revoke.request", p, json_pack("{s:I}", "slot", (json_int_t)slot));
        cap_revoke(p->b, c, ORB_REVOKE_EXPLICIT);
        reply_ok(p, h);
}

static void put_cap(struct orb_msg *m, const struct cap *c)
{
        orb_msg_put_u64(m, ORB_T_SLOT, c->slot);
        orb_msg_put_u64(m, ORB_T_OBJ_TYPE, c->obj_type);
        orb_msg_put_str(m, ORB_T_OBJ_NAME, c->name);
        orb_msg_put_u64(m, ORB_T_RIGHTS, c->rights);
        orb_msg_put_u64(m, ORB_T_PARENT, c->parent && c->parent->table == c->table ? c->parent->slot : 0);
}

static void on_caps(struct peer *p, struct orb_msg *m)
{
        struct orb_msg *rep = reply_begin(p->b, orb_msg_hdr(m), ORB_OK);

        /* Repeated fields, one group per cap, in slot order; cut at the
         * record size (a table this large is listed by orbctl caps). */
        for (uint32_t i = 1; i < p->caps.n_slots && rep->len < ORB_MSG_MAX - 512; i++)
                if (p->caps.slots[i])
                        put_cap(rep, p->caps.slots[i]);
        peer_send(p, rep, false);
}

/* ------------------------------------------------------------------------
 * Topics
 */

static bool may_receive(const struct peer *p, const char *topic)
{
        return find_cap(p, ORB_OBJ_TOPIC, topic, ORB_RIGHT_READ, false) != NULL;
}

static bool sub_matches(const struct peer *p, const char *topic)
{
        for (unsigned i = 0; i < p->n_subs; i++)
                if (topic_covers(p->subs[i], topic))
                        return true;
        return false;
}

/* Return: 0 when delivered (or nobody listens), 1 when a subscriber's queue
 * is full (nothing was delivered). */
static int publish_deliver(struct peer *from, struct orb_msg *m)
{
        struct broker *b = from->b;
        const char *topic = orb_msg_str(m, ORB_T_TOPIC, "");
        const void *data = NULL;
        size_t len = 0;
        struct orb_msg *ev = b->out;

        orb_msg_get_bytes(m, ORB_T_DATA, &data, &len); /* on_publish bounded it */
        for (struct peer *p = b->peers; p; p = p->next)
                if (!p->is_closing && sub_matches(p, topic) && p->q_bytes + len + 512 > BROKER_QUEUE_MAX &&
                    may_receive(p, topic))
                        return 1;
        orb_msg_reset(ev, ORB_MSG_EVENT);
        orb_msg_put_str(ev, ORB_T_TOPIC, topic);
        orb_msg_put_str(ev, ORB_T_PEER, from->name);
        orb_msg_put_bytes(ev, ORB_T_DATA, data, len);
        for (struct peer *p = b->peers; p; p = p->next)
                if (p != from && !p->is_closing && sub_matches(p, topic) && may_receive(p, topic))
                        peer_send(p, ev, false);
        orb_msg_reset(ev, ORB_MSG_EVENT);
        if (b->hooks.event)
                b->hooks.event(b->hooks.ctx, topic, from->name, data, len);
        return 0;
}

/* The topic of a publish or subscribe; replies with the error when it is
 * missing or malformed.  Return: 0, or -1 when answered. */
static int get_topic(struct peer *p, const struct orb_msg *m, const char **topic)
{
        if (get_str(p, m, ORB_T_TOPIC, "topic", topic) < 0)
                return -1;
        if (capspec_name_valid(*topic, strlen(*topic)))
                return 0;
        reply_error(p, orb_msg_hdr(m), ORB_E_INVALID, "topic '%s': expected [a-z0-9][a-z0-9._-]*", *topic);
        return -1;
}

static void on_publish(struct peer *p, struct orb_msg *m)
{
        const struct orb_hdr *h = orb_msg_hdr(m);
        const char *topic;

        if (get_topic(p, m, &topic) < 0)
                return;
        /* Events are copied into every subscriber's queue: only inline
         * payloads, so the queues' bound is a bound on memory. */
        const struct orb_value *data = orb_msg_field(m, ORB_T_DATA, 0);
        if (data && (data->type != ORB_TYPE_BYTES || data->len > BROKER_EVENT_MAX))
                return reply_error(p, h, ORB_E_INVALID, "an event carries at most %u bytes; send bulk data on a "
                                   "channel", BROKER_EVENT_MAX);
        if (!find_cap(p, ORB_OBJ_TOPIC, topic, ORB_RIGHT_WRITE, false) &&
            !operator_cap(p->b, p, ORB_OBJ_TOPIC, topic)) {
                audit_denied(p->b, "publish.denied", p, json_pack("{s:s}", "topic", topic));
                return reply_error(p, h, ORB_E_DENIED, "no publish:%s capability", topic);
        }
        if (publish_deliver(p, m) == 0)
                return reply_ok(p, h);
        if (h->flags & ORB_F_NOWAIT)
                return reply_error(p, h, ORB_E_AGAIN, "a subscriber of '%s' is not keeping up", topic);
        /* Wait: keep this one message, stop reading the publisher. */
        p->parked = orb_msg_new(ORB_MSG_PUBLISH);
        if (!p->parked)
                return reply_error(p, h, ORB_E_LIMIT, "out of memory");
        free(p->parked->buf);
        p->parked->buf = malloc(m->len);
        if (!p->parked->buf) {
                p->parked = orb_msg_free(p->parked);
                return reply_error(p, h, ORB_E_LIMIT, "out of memory");
        }
        memcpy(p->parked->buf, m->buf, m->len);
        p->parked->len = p->parked->cap = m->len;
        for (unsigned i = 0; i < m->n_fds; i++)
                p->parked->fds[i] = m->fds[i], m->fds[i] = -1;
        p->parked->n_fds = m->n_fds;
        m->n_fds = 0;
        if (orb_msg_parse_untrusted(p->parked, NULL, 0) < 0) {
                p->parked = orb_msg_free(p->parked);
                return reply_error(p, h, ORB_E_PROTO, "unable to keep the message");
        }
        p->parked_next = p->b->parked;
        p->b->parked = p;
        peer_update_events(p);
}

/* Room appeared somewhere: retry every parked publish. */
static void retry_parked_now(struct loop_defer *d)
{
        struct broker *b = container_of(d, struct broker, retry_defer);
        struct peer **pp = &b->parked;

        while (*pp) {
                struct peer *p = *pp;

                if (p->is_closing || publish_deliver(p, p->parked) == 0) {
                        *pp = p->parked_next;
                        if (!p->is_closing) {
                                struct orb_hdr h = *orb_msg_hdr(p->parked);
                                p->parked = orb_msg_free(p->parked);
                                reply_ok(p, &h);
                                peer_update_events(p);
                        }
                        continue;
                }
                pp = &p->parked_next;
        }
}

/* Deferred: room appears deep inside sends and closes, where the peer
 * list must not change under the caller. */
static void retry_parked(struct broker *b)
{
        loop_defer(b->loop, &b->retry_defer, retry_parked_now);
}

static void on_subscribe(struct peer *p, struct orb_msg *m)
{
        const struct orb_hdr *h = orb_msg_hdr(m);
        const char *topic;

        if (get_topic(p, m, &topic) < 0)
                return;
        if (!may_receive(p, topic) && !operator_cap(p->b, p, ORB_OBJ_TOPIC, topic)) {
                audit_denied(p->b, "subscribe.denied", p, json_pack("{s:s}", "topic", topic));
                return reply_error(p, h, ORB_E_DENIED, "no subscribe:%s capability", topic);
        }
        for (unsigned i = 0; i < p->n_subs; i++)
                if (!strcmp(p->subs[i], topic))
                        return reply_error(p, h, ORB_E_EXISTS, "already subscribed to '%s'", topic);
        if (p->n_subs >= BROKER_SUBS_MAX)
                return reply_error(p, h, ORB_E_LIMIT, "at most %u subscriptions", BROKER_SUBS_MAX);
        if (!(p->subs[p->n_subs] = strdup(topic)))
                return reply_error(p, h, ORB_E_LIMIT, "out of memory");
        p->n_subs++;
        reply_ok(p, h);
}

static void on_unsubscribe(struct peer *p, struct orb_msg *m)
{
        const char *topic = orb_msg_str(m, ORB_T_TOPIC, "");

        for (unsigned i = 0; i < p->n_subs; i++) {
                if (!strcmp(p->subs[i], topic)) {
                        free(p->subs[i]);
                        p->subs[i] = p->subs[--p->n_subs];
                        return reply_ok(p, orb_msg_hdr(m));
                }
        }
        reply_error(p, orb_msg_hdr(m), ORB_E_INVALID, "not subscribed to '%s'", topic);
}

static void on_ready(struct peer *p, struct orb_msg *m)
{
        if (p->svc && p->b->hooks.ready)
                p->b->hooks.ready(p->b->hooks.ctx, p->svc);
        reply_ok(p, orb_msg_hdr(m));
}

/* ------------------------------------------------------------------------
 * Dispatch
 */

static const struct handler {
        uint16_t type;
        void (*fn)(struct peer *p, struct orb_msg *m);
} handlers[] = {
        {ORB_MSG_REGISTER_SERVICE, on_register}, {ORB_MSG_LOOKUP_SERVICE, on_lookup},
        {ORB_MSG_GRANT, on_grant},               {ORB_MSG_REVOKE, on_revoke},
        {ORB_MSG_CAPS, on_caps},                 {ORB_MSG_PUBLISH, on_publish},
        {ORB_MSG_SUBSCRIBE, on_subscribe},       {ORB_MSG_UNSUBSCRIBE, on_unsubscribe},
        {ORB_MSG_READY, on_ready},
};

/* Test builds (sanitizers) check every table after every operation. */
static void check_invariants(struct broker *b)
{
#ifdef ORB_HAS_ASAN
        for (struct peer *p = b->peers; p; p = p->next)
                if (!p->is_closing)
                        captable_check(&p->caps);
#else
        (void)b;
#endif
}

/* Token bucket: @rate per second, a burst of one second's worth. */
static bool rate_take(struct peer *p, usec_t now)
{
        if (!p->rate)
                return true;
        p->tokens += (double)(now - p->tokens_at) * p->rate / USEC_PER_SEC;
        if (p->tokens > p->rate)
                p->tokens = p->rate;
        p->tokens_at = now;
        if (p->tokens < 1)
                return false;
        p->tokens -= 1;
        return true;
}

static void handle_message(struct peer *p, struct orb_msg *m)
{
        struct orb_hdr h = {.type = ORB_MSG_ERROR};
        char err[160];

        if (m->len >= sizeof(h))
                memcpy(&h, m->buf, sizeof(h));
        if (orb_msg_parse_untrusted(m, err, sizeof(err)) < 0) {
                h.type = ORB_MSG_ERROR;
                return reply_error(p, &h, ORB_E_PROTO, "malformed message: %s", err);
        }
        if (!rate_take(p, loop_now(p->b->loop))) {
                if (p->n_rate_refused++ == 0)
                        log_warn("bus peer %s exceeds its rate of %u messages/s", p->name, p->rate);
                return reply_error(p, &h, ORB_E_RATE, "rate limit of %u messages/s exceeded", p->rate);
        }
        for (size_t i = 0; i < ARRAY_SIZE(handlers); i++) {
                if (handlers[i].type == h.type) {
                        handlers[i].fn(p, m);
                        check_invariants(p->b);
                        return;
                }
        }
        reply_error(p, &h, ORB_E_PROTO, "unknown message type 0x%04x", h.type);
}

static void on_peer_io(struct loop_io *io, uint32_t revents)
{
        struct peer *p = container_of(io, struct peer, io);
        struct broker *b = p->b;
        bool had_queue = p->q_bytes > 0;

        if (revents & EPOLLOUT)
                flush_queue(p);
        for (unsigned i = 0; i < RECV_BATCH && !p->is_closing && (revents & EPOLLIN) && (p->io.events & EPOLLIN);
             i++) {
                int r = orb_msg_recv(p->fd, b->in, MSG_DONTWAIT);

                if (r == -EAGAIN || r == -EINTR)
                        break;
                if (r == -ORB_E_PROTO) {
                        struct orb_hdr h = {.type = ORB_MSG_ERROR};
                        reply_error(p, &h, ORB_E_PROTO, "oversized or truncated message (limit %u bytes)",
                                    ORB_MSG_MAX);
                        continue;
                }
                if (r < 0) {
                        peer_close(p);
                        return;
                }
                handle_message(p, b->in);
                orb_msg_reset(b->in, 0); /* closes fds it carried and nobody took */
        }
        if (!p->is_closing && (revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN))
                peer_close(p);
        if (had_queue && b->parked)
                retry_parked(b);
}

/* ------------------------------------------------------------------------
 * Peers
 */

static void peer_free_deferred(struct loop_defer *d)
{
        struct peer *p = container_of(d, struct peer, free_defer);

        free(p);
}

static void peer_close(struct peer *p)
{
        struct broker *b = p->b;

        if (p->is_closing)
                return;
        p->is_closing = true;
        while (p->regs) {
                struct reg *r = p->regs;
                p->regs = r->peer_next;
                reg_free(b, r, ORB_REVOKE_SOURCE_EXITED);
        }
        /* Its own caps go silently; what it granted to others is revoked
         * with reason 3 (the source exited). */
        captable_deinit(&p->caps, ORB_REVOKE_SOURCE_EXITED, on_cap_removed, b);
        for (struct peer **pp = &b->parked; *pp; pp = &(*pp)->parked_next) {
                if (*pp == p) {
                        *pp = p->parked_next;
                        break;
                }
        }
        p->parked = orb_msg_free(p->parked);
        while (p->q_head) {
                struct out_msg *o = p->q_head;
                p->q_head = o->next;
                for (unsigned i = 0; i < o->n_fds; i++)
                        close(o->fds[i]);
                free(o);
        }
        for (unsigned i = 0; i < p->n_subs; i++)
                free(p->subs[i]);
        loop_io_remove(b->loop, &p->io);
        close(p->fd);
        if (p->prev)
                p->prev->next = p->next;
        else
                b->peers = p->next;
        if (p->next)
                p->next->prev = p->prev;
        b->n_peers--;
        log_debug("bus peer %s disconnected", p->name);
        check_invariants(b);
        loop_defer(b->loop, &p->free_defer, peer_free_deferred);
        if (b->parked)
                retry_parked(b);
}

static struct peer *peer_new(struct broker *b, int fd, const char *name, pid_t pid, uid_t uid, unsigned rate)
{
        struct peer *p = calloc(1, sizeof(*p));

        if (!p)
                return NULL;
        p->b = b;
        p->fd = fd;
        p->io = (struct loop_io)LOOP_IO_INIT;
        snprintf(p->name, sizeof(p->name), "%s", name);
        p->pid = pid;
        p->uid = uid;
        p->rate = rate;
        p->tokens = rate;
        p->tokens_at = loop_now(b->loop);
        captable_init(&p->caps, p);
        if (loop_io_add(b->loop, &p->io, fd, EPOLLIN, on_peer_io) < 0) {
                free(p);
                return NULL;
        }
        p->next = b->peers;
        if (b->peers)
                b->peers->prev = p;
        b->peers = p;
        b->n_peers++;
        return p;
}

static int grant_declared(struct broker *b, struct peer *p, char *const *caps)
{
        struct capspec spec;
        struct endpoint *e;
        struct cap *c;
        char why[160];

        for (; caps && *caps; caps++) {
                if (!capspec_parse(*caps, &spec, why, sizeof(why)))
                        return -EINVAL; /* the manifest parser refused it already */
                e = spec.obj_type == ORB_OBJ_ENDPOINT ? endpoint_get(b, spec.name, true) : NULL;
                if (spec.obj_type == ORB_OBJ_ENDPOINT && !e)
                        return -ENOMEM;
                if (captable_insert(&p->caps, NULL, spec.obj_type, e ? e->id : 0, spec.name, spec.rights, 0, &c) < 0)
                        return -ENOMEM;
                c->is_provider = spec.is_provider;
                audit(b, "cap.grant", NULL, json_pack("{s:o, s:s}", "cap", cap_fields(c), "policy", "manifest"));
        }
        check_invariants(b);
        return 0;
}

int broker_attach(struct broker *b, struct service *svc, const char *name, char *const *caps, unsigned ipc_rate)
{
        int ends[2], r;
        struct peer *p;

        broker_detach(b, svc);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) < 0)
                return -errno;
        p = peer_new(b, ends[0], name, 0, geteuid(), ipc_rate);
        if (!p) {
                close(ends[0]);
                close(ends[1]);
                return -ENOMEM;
        }
        p->svc = svc;
        r = grant_declared(b, p, caps);
        if (r < 0) {
                peer_close(p);
                close(ends[1]);
                return r;
        }
        return ends[1];
}

static struct peer *peer_of_service(struct broker *b, const struct service *svc)
{
        for (struct peer *p = b->peers; p; p = p->next)
                if (p->svc == svc && !p->is_closing)
                        return p;
        return NULL;
}

void broker_spawned(struct broker *b, struct service *svc, pid_t pid, uid_t uid)
{
        struct peer *p = peer_of_service(b, svc);

        if (p) {
                p->pid = pid;
                p->uid = uid;
        }
}

void broker_detach(struct broker *b, struct service *svc)
{
        struct peer *p = peer_of_service(b, svc);

        if (p)
                peer_close(p);
}

/* "orbctl[1234]": the kernel's pid and command name.  '[' cannot occur in
 * a service name, so a client never passes for a service. */
static void peer_client_name(pid_t pid, char *name, size_t n)
{
        char path[64], comm[32] = "client";
        ssize_t len;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                len = read(fd, comm, sizeof(comm) - 1);
                close(fd);
                comm[len > 0 ? len : 0] = '\0';
                comm[strcspn(comm, "\n")] = '\0';
                for (char *c = comm; *c; c++)
                        if ((unsigned char)*c < 0x21 || *c == '[' || *c == ']' || (unsigned char)*c > 0x7e)
                                *c = '_';
                if (!comm[0])
                        snprintf(comm, sizeof(comm), "client");
        }
        snprintf(name, n, "%s[%d]", comm, (int)pid);
}

/* An outside client: identified by the kernel, holding nothing. */
static void on_listen(struct loop_io *io, uint32_t revents)
{
        struct broker *b = container_of(io, struct broker, listen_io);
        struct ucred cred;
        socklen_t len = sizeof(cred);
        unsigned same_uid = 0;
        bool is_operator;
        char name[64];
        int fd;

        fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                close(fd);
                return;
        }
        is_operator = cred.uid == 0 || cred.uid == b->owner_uid;
        for (struct peer *p = b->peers; p; p = p->next)
                same_uid += !p->svc && p->uid == cred.uid;
        if (b->n_peers >= BROKER_PEERS_MAX || (!is_operator && same_uid >= BROKER_PEERS_PER_UID)) {
                log_warn("bus: refusing a connection of uid %u: too many", (unsigned)cred.uid);
                close(fd);
                return;
        }
        peer_client_name(cred.pid, name, sizeof(name));
        struct peer *p = peer_new(b, fd, name, cred.pid, cred.uid, is_operator ? 0 : BROKER_CLIENT_RATE);
        if (!p) {
                close(fd);
                return;
        }
        p->is_operator = is_operator;
        (void)revents;
}

/* ------------------------------------------------------------------------
 * Expiry
 */

static void on_expiry(struct loop_timer *t)
{
        struct broker *b = container_of(t, struct broker, expiry_timer);
        usec_t now = loop_now(b->loop);

        for (struct peer *p = b->peers; p; p = p->next)
                if (!p->is_closing)
                        captable_expire(&p->caps, now, on_cap_removed, b);
        check_invariants(b);
        broker_arm_expiry(b);
}

static void broker_arm_expiry(struct broker *b)
{
        usec_t next = 0;

        for (struct peer *p = b->peers; p; p = p->next) {
                usec_t e = p->is_closing ? 0 : captable_next_expiry(&p->caps);

                if (e && (!next || e < next))
                        next = e;
        }
        if (next)
                loop_timer_arm(b->loop, &b->expiry_timer, next);
        else
                loop_timer_disarm(b->loop, &b->expiry_timer);
}

/* ------------------------------------------------------------------------
 * Operator requests
 */

json_t *broker_caps_json(struct broker *b, const char *name)
{
        struct peer *p = peer_find(b, name);
        json_t *a;
        char r[4];

        if (!p)
                return NULL;
        a = json_array();
        for (uint32_t i = 1; a && i < p->caps.n_slots; i++) {
                const struct cap *c = p->caps.slots[i];
                const struct peer *src = c && c->parent ? c->parent->table->owner : NULL;

                if (!c)
                        continue;
                json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:b, s:b}", "slot", (json_int_t)c->slot, "type",
                                      object_type_name(c->obj_type), "object", c->name, "object_id",
                                      (json_int_t)c->obj_id, "rights", rights_str(c->rights, r), "provider",
                                      c->is_provider, "channel", c->data != NULL);
                if (src)
                        json_object_set_new(o, "parent", json_pack("{s:s, s:I}", "holder", src->name, "slot",
                                                                  (json_int_t)c->parent->slot));
                if (c->expires)
                        json_object_set_new(o, "expires_in_ms",
                                            json_integer((json_int_t)((c->expires > loop_now(b->loop)
                                                                           ? c->expires - loop_now(b->loop)
                                                                           : 0) / USEC_PER_MSEC)));
                json_array_append_new(a, o);
        }
        return a;
}

json_t *broker_services_json(struct broker *b)
{
        json_t *a = json_array();

        for (unsigned i = 0; a && i < BROKER_HASH_SIZE; i++) {
                for (struct endpoint *e = b->endpoints[i]; e; e = e->hash_next) {
                        for (struct reg *r = e->regs; r; r = r->next) {
                                unsigned n = 0;

                                for (struct channel *ch = r->channels; ch; ch = ch->next)
                                        n++;
                                json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:i}", "type", e->type,
                                                                   "version", r->version, "server", r->server->name,
                                                                   "interface", r->contract_name, "channels", n));
                        }
                }
        }
        return a;
}

int broker_grant(struct broker *b, const char *holder, uint32_t slot, const char *target, uint8_t rights,
                 usec_t expires_in, const char *actor, uint32_t *out_slot, char *why, size_t why_size)
{
        struct peer *h = peer_find(b, holder);

        if (!h)
                return snprintf(why, why_size, "no bus peer named '%s' is connected", holder), -ORB_E_NOT_FOUND;
        return do_grant(b, h, slot, target, rights, expires_in, NULL, actor, out_slot, why, why_size);
}

int broker_revoke(struct broker *b, const char *holder, uint32_t slot, const char *actor, char *why, size_t n)
{
        struct peer *h = peer_find(b, holder);
        struct cap *c = h ? captable_get(&h->caps, slot) : NULL;

        if (!c)
                return snprintf(why, n, h ? "%s holds nothing in slot %u" : "no bus peer named '%s' is connected",
                                holder, slot),
                       -ORB_E_NOT_FOUND;
        audit(b, "cap.revoke.request", NULL, json_pack("{s:s, s:s, s:I}", "by", actor, "holder", holder, "slot",
                                                       (json_int_t)slot));
        cap_revoke(b, c, ORB_REVOKE_EXPLICIT);
        check_invariants(b);
        return 0;
}

/* ------------------------------------------------------------------------
 * Setup
 */

int broker_init(struct broker *b, struct loop *loop, const char *bus_path, const struct broker_hooks *hooks)
{
        int r;

        *b = (struct broker){.loop = loop, .listen_fd = -1, .listen_io = LOOP_IO_INIT,
                             .expiry_timer = LOOP_TIMER_INIT(on_expiry), .owner_uid = geteuid()};
        if (hooks)
                b->hooks = *hooks;
        b->in = orb_msg_new(0);
        b->out = orb_msg_new(0);
        b->note = orb_msg_new(0);
        if (!b->in || !b->out || !b->note)
                return -ENOMEM;
        if (!bus_path)
                return 0;
        b->path = strdup(bus_path);
        if (!b->path)
                return -ENOMEM;
        r = unix_listen(bus_path, SOCK_SEQPACKET, 128);
        if (r < 0)
                return r;
        b->listen_fd = r;
        /* Anyone may connect: a connection holds nothing until granted. */
        if (chmod(bus_path, 0666) < 0)
                return -errno;
        return loop_io_add(loop, &b->listen_io, b->listen_fd, EPOLLIN, on_listen);
}

void broker_deinit(struct broker *b)
{
        if (!b->loop)
                return; /* never initialised: orbitald failed before */
        while (b->peers)
                peer_close(b->peers);
        for (unsigned i = 0; i < BROKER_HASH_SIZE; i++) {
                while (b->endpoints[i]) {
                        struct endpoint *e = b->endpoints[i];
                        b->endpoints[i] = e->hash_next;
                        free(e);
                }
        }
        if (b->listen_fd >= 0) {
                loop_io_remove(b->loop, &b->listen_io);
                close(b->listen_fd);
                unlink(b->path);
        }
        loop_timer_disarm(b->loop, &b->expiry_timer);
        free(b->path);
        orb_msg_free(b->in);
        orb_msg_free(b->out);
        orb_msg_free(b->note);
        loop_run_deferred(b->loop);
}
