/*
 * liborbital: the bus connection, clients, services, topics.
 *
 * One connection = the bus socket to orbitald + the channels it handed
 * us, all watched by one epoll descriptor that the caller can put in its
 * own loop (orb_conn_fd).  Requests to orbitald are synchronous: the
 * library sends one and reads the bus until the reply with its id comes,
 * handling what arrives meanwhile (a channel opening, a revocation, an
 * event) on the spot.
 *
 * The hot path is a call on a channel: one sendmsg, one recvmsg, no
 * allocation but the reply the caller keeps, no poll (the timeout is the
 * socket's SO_RCVTIMEO, set only when it changes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "orbital/orbital.h"
#include "util/paths.h"

#define EVENTS_BATCH 32
#define CHANNEL_BATCH 8 /* calls handled per channel per wake-up: fair to the others */

enum watch_kind { WATCH_BUS, WATCH_CHANNEL, WATCH_CLIENT };

struct watch {
        enum watch_kind kind;
};

struct pending {
        struct pending *next;
        uint32_t id;
        const struct orb_method *method;
        uint64_t deadline_ms; /* CLOCK_MONOTONIC; 0 = none */
        orb_reply_fn fn;
        void *userdata;
};

struct orb_client {
        struct watch w;
        struct orb_conn *c;
        struct orb_client *next;
        int fd;
        uint32_t slot;
        unsigned rights;
        uint32_t next_id;
        int rcv_timeout_ms;     /* what SO_RCVTIMEO holds; -1 = none */
        bool is_revoked;
        bool is_watched;        /* in the epoll set (async calls pending) */
        struct orb_contract *contract;
        struct orb_msg *spare;  /* a request to reuse */
        struct orb_msg *rx;
        struct pending *pending;
};

struct orb_service {
        struct orb_conn *c;
        struct orb_service *next;
        struct orb_contract *contract;
        orb_method_fn *fns;     /* by method index */
        void *userdata;
        char type[128];
};

struct srv_channel {
        struct watch w;
        struct orb_conn *c;
        struct srv_channel *next;
        struct orb_service *svc;
        int fd;
        unsigned rights;
        unsigned rate;          /* calls/s this client may make; 0 = unlimited */
        double tokens;
        uint64_t tokens_at_ms;
        uint64_t n_rate_dropped;
        char peer[64];
        uint32_t peer_uid;
        unsigned n_deferred;    /* deferred calls still holding it */
        bool is_closed;         /* closed, kept for those calls */
};

struct orb_call {
        struct srv_channel *ch;
        const struct orb_method *method;
        uint32_t id;
        bool has_replied;
        bool is_deferred;       /* handed over by orb_call_defer() */
        bool is_heap;           /* the deferred copy: freed once finished */
};

struct subscription {
        struct subscription *next;
        orb_event_fn fn;
        void *userdata;
        char topic[128];
};

struct orb_conn {
        struct watch w;
        int bus_fd;
        int epoll_fd;
        uint32_t next_id;
        struct orb_msg *rx;       /* bus receive (dispatch) */
        struct orb_msg *call_rx;  /* bus receive (requests) */
        struct orb_msg *reply;    /* the reply a handler fills */
        struct orb_msg *srv_rx;   /* channel receive (service side) */
        struct orb_client *clients;
        struct orb_service *services;
        struct srv_channel *channels;
        struct subscription *subs;
        orb_revoke_fn revoke_fn;
        void *revoke_userdata;
        bool is_quitting;
};

static int bus_call(struct orb_conn *c, struct orb_msg *req, struct orb_msg **reply);
static struct orb_msg *msg_compact(struct orb_msg *from);

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int status_of(const struct orb_msg *m)
{
        uint32_t s = orb_msg_hdr(m)->status;

        return s == ORB_OK ? 0 : -(int)s;
}

/* ------------------------------------------------------------------------
 * Opening
 */

static int conn_new(int fd, struct orb_conn **out)
{
        struct orb_conn *c = calloc(1, sizeof(*c));
        struct epoll_event ev = {.events = EPOLLIN};

        if (!c)
                return -ENOMEM;
        c->w.kind = WATCH_BUS;
        c->bus_fd = fd;
        c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        c->rx = orb_msg_new(0);
        c->call_rx = orb_msg_new(0);
        c->reply = orb_msg_new(ORB_MSG_REPLY);
        c->srv_rx = orb_msg_new(0);
        ev.data.ptr = &c->w;
        if (c->epoll_fd < 0 || !c->rx || !c->call_rx || !c->reply || !c->srv_rx ||
            epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = c->epoll_fd < 0 ? -errno : -ENOMEM;
                c->bus_fd = -1;
                orb_conn_close(c);
                return r;
        }
        *out = c;
        return 0;
}

int orb_conn_open_path(const char *path, struct orb_conn **out)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd, r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        r = conn_new(fd, out);
        if (r < 0)
                close(fd);
        return r;
}

int orb_conn_open(struct orb_conn **out)
{
        const char *fd_text = getenv("ORB_BUS_FD"), *path = getenv("ORB_BUS_SOCKET");
        char buf[4096];
        struct stat st;

        if (fd_text && *fd_text) {
                char *end;
                long fd = strtol(fd_text, &end, 10);

                if (*end || fd < 0 || fd > 65535 || fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                        return -EBADF;
                /* Ours alone: children we start do not inherit the bus. */
                fcntl((int)fd, F_SETFD, FD_CLOEXEC);
                unsetenv("ORB_BUS_FD");
                return conn_new((int)fd, out);
        }
        if (!path || !*path) {
                if (!orbital_default_run_dir(buf, sizeof(buf) - 16))
                        return -ENAMETOOLONG;
                strcat(buf, "/bus.sock");
                path = buf;
        }
        return orb_conn_open_path(path, out);
}

int orb_conn_fd(const struct orb_conn *c)
{
        return c->epoll_fd;
}

void orb_conn_quit(struct orb_conn *c)
{
        c->is_quitting = true;
}

/* ------------------------------------------------------------------------
 * Service side
 */

static void channel_close(struct srv_channel *ch)
{
        struct orb_conn *c = ch->c;

        if (ch->is_closed)
                return;
        for (struct srv_channel **pp = &c->channels; *pp; pp = &(*pp)->next) {
                if (*pp == ch) {
                        *pp = ch->next;
                        break;
                }
        }
        epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, ch->fd, NULL);
        shutdown(ch->fd, SHUT_RDWR); /* orbitald's copy would keep it open for the client */
        close(ch->fd);
        ch->fd = -1;
        ch->is_closed = true;
        if (!ch->n_deferred)
                free(ch);
}

/* A deferred call is finished: the channel goes with the last one. */
static void call_release(struct orb_call *call)
{
        struct srv_channel *ch = call->ch;

        if (!call->is_heap)
                return;
        free(call);
        if (--ch->n_deferred == 0 && ch->is_closed)
                free(ch);
}

struct orb_call *orb_call_defer(struct orb_call *call)
{
        struct orb_call *copy;

        if (call->is_heap || call->has_replied || call->method->is_oneway)
                return NULL;
        copy = malloc(sizeof(*copy));
        if (!copy)
                return NULL;
        *copy = *call;
        copy->is_heap = true;
        call->is_deferred = true;
        call->ch->n_deferred++;
        return copy;
}

bool orb_call_is_alive(const struct orb_call *call)
{
        return !call->ch->is_closed;
}

void orb_call_drop(struct orb_call *call)
{
        call_release(call);
}

static void on_channel_open(struct orb_conn *c, struct orb_msg *m)
{
        const char *type = orb_msg_str(m, ORB_T_TYPE, "");
        unsigned major = (unsigned)orb_msg_u64(m, ORB_T_MAJOR, 0);
        struct epoll_event ev = {.events = EPOLLIN};
        struct orb_service *s;
        struct srv_channel *ch;

        for (s = c->services; s; s = s->next)
                if (!strcmp(s->type, type) && s->contract->major == major)
                        break;
        if (!s || m->n_fds != 1 || !(ch = calloc(1, sizeof(*ch)))) {
                /* orbitald holds this socket too: shut it, so the client sees EOF. */
                for (unsigned i = 0; i < m->n_fds; i++)
                        shutdown(m->fds[i], SHUT_RDWR);
                return;
        }
        ch->w.kind = WATCH_CHANNEL;
        ch->c = c;
        ch->svc = s;
        ch->fd = m->fds[0];
        ch->rights = (unsigned)orb_msg_u64(m, ORB_T_RIGHTS, 0);
        ch->rate = (unsigned)orb_msg_u64(m, ORB_T_RATE, 0);
        ch->tokens = ch->rate;
        ch->tokens_at_ms = now_ms();
        snprintf(ch->peer, sizeof(ch->peer), "%s", orb_msg_str(m, ORB_T_PEER, "?"));
        ch->peer_uid = (uint32_t)orb_msg_u64(m, ORB_T_UID, UINT32_MAX);
        ev.data.ptr = &ch->w;
        if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, ch->fd, &ev) < 0) {
                free(ch);
                return;
        }
        m->fds[0] = -1;
        m->n_fds = 0;
        ch->next = c->channels;
        c->channels = ch;
}

static bool channel_rate_take(struct srv_channel *ch)
{
        uint64_t now;

        if (!ch->rate)
                return true;
        now = now_ms();
        ch->tokens += (double)(now - ch->tokens_at_ms) * ch->rate / 1000.0;
        if (ch->tokens > ch->rate)
                ch->tokens = ch->rate;
        ch->tokens_at_ms = now;
        if (ch->tokens < 1)
                return false;
        ch->tokens -= 1;
        return true;
}

/* A reply must not stall the service on a client that does not read:
 * wait at most a second for room, then drop that reply. */
static int channel_send(struct srv_channel *ch, struct orb_msg *m)
{
        int r = orb_msg_send(ch->fd, m, MSG_DONTWAIT);

        if (r == -EAGAIN) {
                struct timeval tv = {1, 0};
                setsockopt(ch->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
                r = orb_msg_send(ch->fd, m, 0);
        }
        return r;
}

static void send_status(struct srv_channel *ch, uint32_t id, int status, const char *text)
{
        struct orb_msg *m = ch->c->reply;

        if (ch->is_closed)
                return;
        orb_msg_reset(m, ORB_MSG_REPLY);
        orb_msg_hdr(m)->id = id;
        orb_msg_hdr(m)->status = (uint32_t)-status;
        if (text)
                orb_msg_put_str(m, ORB_T_MESSAGE, text);
        channel_send(ch, m);
}

struct orb_msg *orb_call_reply_msg(struct orb_call *call)
{
        struct orb_msg *m = call->ch->c->reply;

        orb_msg_reset(m, ORB_MSG_REPLY);
        orb_msg_hdr(m)->id = call->id;
        return m;
}

static int call_send_reply(struct orb_call *call, struct orb_msg *reply)
{
        char err[160];
        int r;

        if (call->ch->is_closed)
                return -EPIPE;
        if (reply->error)
                return send_status(call->ch, call->id, -ORB_E_SERVICE, "the service's reply could not be built"),
                       reply->error;
        if (orb_msg_hdr(reply)->status == ORB_OK) {
                /* The contract binds the service too: a bad reply is its bug.
                 * (The builders kept the index: no need to parse it again.) */
                r = orb_msg_check(reply, call->method->out, call->method->n_out, err, sizeof(err));
                if (r < 0) {
                        send_status(call->ch, call->id, -ORB_E_SERVICE, err);
                        return r;
                }
        }
        return channel_send(call->ch, reply);
}

int orb_call_reply(struct orb_call *call, struct orb_msg *reply)
{
        int r;

        if (call->has_replied || call->is_deferred || call->method->is_oneway)
                return -EALREADY;
        call->has_replied = true;
        r = call_send_reply(call, reply);
        call_release(call);
        return r;
}

int orb_call_fail(struct orb_call *call, int status, const char *fmt, ...)
{
        struct orb_msg *m = orb_call_reply_msg(call);
        char text[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        orb_msg_hdr(m)->status = (uint32_t)(status > 0 ? status : -status);
        orb_msg_put_str(m, ORB_T_MESSAGE, text);
        return orb_call_reply(call, m);
}

const char *orb_call_peer(const struct orb_call *call)
{
        return call->ch->peer;
}

uint32_t orb_call_uid(const struct orb_call *call)
{
        return call->ch->peer_uid;
}

unsigned orb_call_rights(const struct orb_call *call)
{
        return call->ch->rights;
}

static void handle_call(struct srv_channel *ch, struct orb_msg *m)
{
        const struct orb_hdr *h = orb_msg_hdr(m);
        struct orb_call call = {.ch = ch, .id = h->id};
        const struct orb_contract *k = ch->svc->contract;
        bool oneway = h->type == ORB_MSG_NOTIFY;
        char err[200];
        int r;

        if (h->type != ORB_MSG_CALL && h->type != ORB_MSG_NOTIFY)
                return oneway ? (void)0 : send_status(ch, h->id, -ORB_E_PROTO, "expected a call");
        call.method = orb_contract_method_by_id(k, h->method);
        if (!call.method || call.method->is_oneway != oneway) {
                if (!oneway)
                        send_status(ch, h->id, -ORB_E_NO_METHOD, "no such method in this contract");
                return;
        }
        if (!(call.method->right & ch->rights)) {
                if (!oneway)
                        send_status(ch, h->id, -ORB_E_RIGHTS, call.method->right == ORB_RIGHT_WRITE
                                                                      ? "this method needs the write right"
                                                                      : "this method needs the read right");
                return;
        }
        if (!channel_rate_take(ch)) {
                if (!oneway)
                        send_status(ch, h->id, -ORB_E_RATE, "message-rate limit exceeded");
                else if (ch->n_rate_dropped++ == 0)
                        fprintf(stderr, "liborbital: %s exceeds its message rate; dropping its messages\n",
                                ch->peer);
                return;
        }
        r = orb_msg_check(m, call.method->in, call.method->n_in, err, sizeof(err));
        if (r < 0) {
                if (!oneway)
                        send_status(ch, h->id, r, err);
                return;
        }
        r = ch->svc->fns[call.method - k->methods](&call, m, ch->svc->userdata);
        if (oneway || call.has_replied || call.is_deferred)
                return;
        if (r < 0) /* an ORB_E_* status is sent as it is; anything else is the service's failure */
                send_status(ch, h->id, r <= -ORB_E_BASE && r > -ORB_E__MAX ? r : -ORB_E_SERVICE, NULL);
        else
                orb_call_reply(&call, orb_call_reply_msg(&call));
}

static void on_channel_readable(struct srv_channel *ch)
{
        struct orb_msg *m = ch->c->srv_rx;

        for (unsigned i = 0; i < CHANNEL_BATCH; i++) {
                char err[160];
                int r = orb_msg_recv(ch->fd, m, MSG_DONTWAIT);

                if (r == -EAGAIN || r == -EINTR)
                        return;
                if (r == -ORB_E_PROTO) {
                        send_status(ch, 0, -ORB_E_PROTO, "oversized or truncated message");
                        continue;
                }
                if (r < 0)
                        return channel_close(ch); /* the client went away, or was revoked */
                if (orb_msg_parse_untrusted(m, err, sizeof(err)) < 0) {
                        struct orb_hdr h;
                        memcpy(&h, m->buf, sizeof(h));
                        if (h.type == ORB_MSG_CALL)
                                send_status(ch, h.id, -ORB_E_PROTO, err);
                        continue;
                }
                handle_call(ch, m);
        }
}

int orb_conn_serve(struct orb_conn *c, const char *type, const char *version, const char *contract_text,
                   const struct orb_handler *handlers, void *userdata, struct orb_service **out)
{
        struct orb_service *s = calloc(1, sizeof(*s));
        struct orb_msg *req = NULL, *rep = NULL;
        char err[200];
        int r;

        if (!s)
                return -ENOMEM;
        r = orb_contract_parse(contract_text, strlen(contract_text), &s->contract, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "liborbital: contract of %s: %s\n", type, err);
                goto fail;
        }
        s->fns = calloc(s->contract->n_methods ? s->contract->n_methods : 1, sizeof(*s->fns));
        r = -ENOMEM;
        if (!s->fns)
                goto fail;
        r = -ORB_E_NO_METHOD;
        for (const struct orb_handler *h = handlers; h && h->method; h++) {
                const struct orb_method *m = orb_contract_method(s->contract, h->method);
                if (!m) {
                        fprintf(stderr, "liborbital: %s: the contract has no method '%s'\n", type, h->method);
                        goto fail;
                }
                s->fns[m - s->contract->methods] = h->fn;
        }
        for (unsigned i = 0; i < s->contract->n_methods; i++) {
                if (!s->fns[i]) {
                        fprintf(stderr, "liborbital: %s: no handler for method '%s'\n", type,
                                s->contract->methods[i].name);
                        goto fail;
                }
        }
        snprintf(s->type, sizeof(s->type), "%s", type);
        s->c = c;
        s->userdata = userdata;
        /* Listed before the reply: a channel may open right behind it. */
        s->next = c->services;
        c->services = s;
        r = -ENOMEM;
        if (!(req = orb_msg_new(ORB_MSG_REGISTER_SERVICE)))
                goto unlink;
        orb_msg_put_str(req, ORB_T_TYPE, type);
        orb_msg_put_str(req, ORB_T_VERSION, version);
        orb_msg_put_str(req, ORB_T_CONTRACT, contract_text);
        r = bus_call(c, req, &rep);
        if (r < 0) {
                if (rep)
                        fprintf(stderr, "liborbital: register %s: %s\n", type, orb_msg_str(rep, ORB_T_MESSAGE, ""));
                goto unlink;
        }
        orb_msg_free(rep);
        if (out)
                *out = s;
        return 0;
unlink:
        orb_msg_free(rep);
        c->services = s->next;
fail:
        orb_contract_free(s->contract);
        free(s->fns);
        free(s);
        return r;
}

/* ------------------------------------------------------------------------
 * The bus: requests to orbitald and what it sends unasked
 */

static void on_revoked(struct orb_conn *c, const struct orb_msg *m)
{
        uint32_t slot = (uint32_t)orb_msg_u64(m, ORB_T_SLOT, 0);

        for (struct orb_client *cl = c->clients; cl; cl = cl->next)
                if (cl->slot == slot)
                        cl->is_revoked = true; /* orbitald shut its socket already */
        if (c->revoke_fn)
                c->revoke_fn(c, slot, (unsigned)orb_msg_u64(m, ORB_T_OBJ_TYPE, 0), orb_msg_u64(m, ORB_T_OBJ_ID, 0),
                             (unsigned)orb_msg_u64(m, ORB_T_REASON, 0), c->revoke_userdata);
}

static void on_event(struct orb_conn *c, const struct orb_msg *m)
{
        const char *topic = orb_msg_str(m, ORB_T_TOPIC, "");
        const char *from = orb_msg_str(m, ORB_T_PEER, "");
        const void *data = "";
        size_t len = 0;

        orb_msg_get_bytes(m, ORB_T_DATA, &data, &len);
        for (struct subscription *s = c->subs; s; s = s->next) {
                size_t n = strlen(s->topic);
                if (!strncmp(s->topic, topic, n) && (topic[n] == '\0' || topic[n] == '.'))
                        s->fn(c, topic, data, len, from, s->userdata);
        }
}

/* Something orbitald sent without being asked. */
static void handle_unsolicited(struct orb_conn *c, struct orb_msg *m)
{
        switch (orb_msg_hdr(m)->type) {
        case ORB_MSG_CHANNEL_OPEN:
                on_channel_open(c, m);
                break;
        case ORB_MSG_CAP_REVOKED:
                on_revoked(c, m);
                break;
        case ORB_MSG_EVENT:
                on_event(c, m);
                break;
        default:
                break; /* a newer orbitald's message: ignore */
        }
}

/* Reads one bus message into @m.  Return: 0, -EPIPE, -errno. */
static int bus_recv(struct orb_conn *c, struct orb_msg *m, int flags)
{
        char err[160];
        int r;

        for (;;) {
                r = orb_msg_recv(c->bus_fd, m, flags);
                if (r == -EINTR)
                        continue;
                if (r < 0 && r != -ORB_E_PROTO)
                        return r;
                if (r == 0 && orb_msg_parse_untrusted(m, err, sizeof(err)) == 0)
                        return 0;
                /* orbitald does not send malformed messages; skip one if it did. */
        }
}

static int bus_call(struct orb_conn *c, struct orb_msg *req, struct orb_msg **reply)
{
        uint32_t id = ++c->next_id ? c->next_id : ++c->next_id;
        struct orb_msg *m = NULL;
        int r;

        *reply = NULL;
        orb_msg_hdr(req)->id = id;
        r = orb_msg_send(c->bus_fd, req, 0);
        orb_msg_free(req);
        if (r < 0)
                return r;
        /* The shared buffer is safe to reuse from a callback below: we
         * are done with each message before handing it on. */
        m = c->call_rx;
        for (;;) {
                r = bus_recv(c, m, 0);
                if (r < 0)
                        return r;
                if (orb_msg_hdr(m)->id == id)
                        break;
                handle_unsolicited(c, m);
        }
        *reply = msg_compact(m);
        if (!*reply)
                return -ENOMEM;
        r = status_of(*reply);
        if (orb_msg_parse_untrusted(*reply, NULL, 0) < 0)
                r = r ? r : -ORB_E_PROTO;
        return r;
}

/* A bus request whose reply carries nothing we need. */
static int bus_simple(struct orb_conn *c, struct orb_msg *req)
{
        struct orb_msg *rep;
        int r;

        if (!req)
                return -ENOMEM;
        r = bus_call(c, req, &rep);
        orb_msg_free(rep);
        return r;
}

int orb_conn_ready(struct orb_conn *c)
{
        return bus_simple(c, orb_msg_new(ORB_MSG_READY));
}

void orb_conn_on_revoke(struct orb_conn *c, orb_revoke_fn fn, void *userdata)
{
        c->revoke_fn = fn;
        c->revoke_userdata = userdata;
}

int orb_conn_grant(struct orb_conn *c, uint32_t slot, const char *target, unsigned rights, uint64_t expires_ms,
                   uint32_t *target_slot)
{
        struct orb_msg *req = orb_msg_new(ORB_MSG_GRANT), *rep;
        int r;

        if (!req)
                return -ENOMEM;
        orb_msg_put_u64(req, ORB_T_SLOT, slot);
        orb_msg_put_str(req, ORB_T_TARGET, target);
        orb_msg_put_u64(req, ORB_T_RIGHTS, rights);
        orb_msg_put_u64(req, ORB_T_EXPIRES, expires_ms);
        r = bus_call(c, req, &rep);
        if (r == 0 && target_slot)
                *target_slot = (uint32_t)orb_msg_u64(rep, ORB_T_SLOT, 0);
        orb_msg_free(rep);
        return r;
}

int orb_conn_revoke(struct orb_conn *c, uint32_t slot)
{
        struct orb_msg *req = orb_msg_new(ORB_MSG_REVOKE);

        if (req)
                orb_msg_put_u64(req, ORB_T_SLOT, slot);
        return bus_simple(c, req);
}

int orb_conn_publish(struct orb_conn *c, const char *topic, const void *data, size_t len, bool wait)
{
        struct orb_msg *req = orb_msg_new(ORB_MSG_PUBLISH);

        if (!req)
                return -ENOMEM;
        if (!wait)
                orb_msg_hdr(req)->flags |= ORB_F_NOWAIT;
        orb_msg_put_str(req, ORB_T_TOPIC, topic);
        orb_msg_put_bytes(req, ORB_T_DATA, data, len);
        return bus_simple(c, req);
}

int orb_conn_subscribe(struct orb_conn *c, const char *topic, orb_event_fn fn, void *userdata)
{
        struct orb_msg *req = orb_msg_new(ORB_MSG_SUBSCRIBE);
        struct subscription *s;
        int r;

        if (!req)
                return -ENOMEM;
        if (strlen(topic) >= sizeof(s->topic)) {
                orb_msg_free(req);
                return -ENAMETOOLONG;
        }
        orb_msg_put_str(req, ORB_T_TOPIC, topic);
        r = bus_simple(c, req);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        snprintf(s->topic, sizeof(s->topic), "%s", topic);
        s->fn = fn;
        s->userdata = userdata;
        s->next = c->subs;
        c->subs = s;
        return 0;
}

int orb_conn_unsubscribe(struct orb_conn *c, const char *topic)
{
        struct orb_msg *req = orb_msg_new(ORB_MSG_UNSUBSCRIBE);
        int r;

        if (!req)
                return -ENOMEM;
        orb_msg_put_str(req, ORB_T_TOPIC, topic);
        r = bus_simple(c, req);
        for (struct subscription **pp = &c->subs; *pp; pp = &(*pp)->next) {
                if (!strcmp((*pp)->topic, topic)) {
                        struct subscription *s = *pp;
                        *pp = s->next;
                        free(s);
                        break;
                }
        }
        return r;
}

/* ------------------------------------------------------------------------
 * Client side
 */

int orb_conn_lookup(struct orb_conn *c, const char *type, const char *range, struct orb_client **out)
{
        struct orb_msg *req = orb_msg_new(ORB_MSG_LOOKUP_SERVICE), *rep;
        struct orb_client *cl;
        const char *text;
        char err[200];
        int r;

        if (!req)
                return -ENOMEM;
        orb_msg_put_str(req, ORB_T_TYPE, type);
        orb_msg_put_str(req, ORB_T_RANGE, range ? range : "");
        r = bus_call(c, req, &rep);
        if (r < 0) {
                orb_msg_free(rep);
                return r;
        }
        text = orb_msg_str(rep, ORB_T_CONTRACT, "");
        cl = calloc(1, sizeof(*cl));
        if (!cl || rep->n_fds != 1) {
                free(cl);
                orb_msg_free(rep);
                return cl ? -ORB_E_PROTO : -ENOMEM;
        }
        r = orb_contract_parse(text, strlen(text), &cl->contract, err, sizeof(err));
        if (r < 0) {
                free(cl);
                orb_msg_free(rep);
                return -ORB_E_PROTO;
        }
        cl->w.kind = WATCH_CLIENT;
        cl->c = c;
        cl->fd = rep->fds[0];
        rep->fds[0] = -1;
        rep->n_fds = 0;
        cl->slot = (uint32_t)orb_msg_u64(rep, ORB_T_SLOT, 0);
        cl->rights = (unsigned)orb_msg_u64(rep, ORB_T_RIGHTS, 0);
        cl->rcv_timeout_ms = -1;
        orb_msg_free(rep);
        cl->next = c->clients;
        c->clients = cl;
        *out = cl;
        return 0;
}

struct orb_client *orb_client_close(struct orb_client *cl)
{
        struct orb_conn *c;

        if (!cl)
                return NULL;
        c = cl->c;
        for (struct orb_client **pp = &c->clients; *pp; pp = &(*pp)->next) {
                if (*pp == cl) {
                        *pp = cl->next;
                        break;
                }
        }
        while (cl->pending) {
                struct pending *p = cl->pending;
                cl->pending = p->next;
                free(p);
        }
        if (cl->is_watched)
                epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, cl->fd, NULL);
        close(cl->fd);
        orb_contract_free(cl->contract);
        orb_msg_free(cl->spare);
        orb_msg_free(cl->rx);
        free(cl);
        return NULL;
}

const struct orb_contract *orb_client_contract(const struct orb_client *cl)
{
        return cl->contract;
}

uint32_t orb_client_slot(const struct orb_client *cl)
{
        return cl->slot;
}

unsigned orb_client_rights(const struct orb_client *cl)
{
        return cl->rights;
}

struct orb_msg *orb_client_request(struct orb_client *cl, const char *method)
{
        const struct orb_method *m = orb_contract_method(cl->contract, method);
        struct orb_msg *req;

        if (!m)
                return NULL;
        req = cl->spare ? cl->spare : orb_msg_new(0);
        cl->spare = NULL;
        if (!req)
                return NULL;
        orb_msg_reset(req, m->is_oneway ? ORB_MSG_NOTIFY : ORB_MSG_CALL);
        orb_msg_hdr(req)->method = m->id;
        return req;
}

/* The request goes back to the spare slot: no allocation per call. */
static void recycle(struct orb_client *cl, struct orb_msg *req)
{
        if (cl->spare)
                orb_msg_free(req);
        else
                cl->spare = req;
}

static int client_send(struct orb_client *cl, struct orb_msg *req, int flags)
{
        int r;

        if (cl->is_revoked)
                r = -ORB_E_REVOKED;
        else
                r = orb_msg_send(cl->fd, req, flags | MSG_NOSIGNAL);
        recycle(cl, req);
        if (r == -EPIPE || r == -ECONNRESET) {
                cl->is_revoked = true;
                return -ORB_E_REVOKED;
        }
        return r == -EAGAIN ? -ORB_E_AGAIN : r;
}

static int set_rcv_timeout(struct orb_client *cl, int timeout_ms)
{
        struct timeval tv = {0, 0};

        if (timeout_ms < 0)
                timeout_ms = 0; /* SO_RCVTIMEO 0 = wait forever */
        else if (timeout_ms == 0)
                timeout_ms = 1; /* "do not wait" still gives a reply on its way a chance */
        if (cl->rcv_timeout_ms == timeout_ms)
                return 0;
        tv.tv_sec = timeout_ms / 1000;
        tv.tv_usec = (timeout_ms % 1000) * 1000;
        if (timeout_ms > 0 && !tv.tv_sec && !tv.tv_usec)
                tv.tv_usec = 1000;
        if (setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
                return -errno;
        cl->rcv_timeout_ms = timeout_ms;
        return 0;
}

static const struct orb_method *method_of(const struct orb_client *cl, const struct orb_msg *req)
{
        return orb_contract_method_by_id(cl->contract, orb_msg_hdr(req)->method);
}

/* Checks a reply against the method's result fields. */
static int reply_check(const struct orb_method *method, struct orb_msg *m)
{
        char err[200];

        if (orb_msg_parse_untrusted(m, err, sizeof(err)) < 0)
                return -ORB_E_PROTO;
        if (orb_msg_hdr(m)->type != ORB_MSG_REPLY)
                return -ORB_E_PROTO;
        if (orb_msg_hdr(m)->status != ORB_OK)
                return status_of(m);
        return orb_msg_check(m, method->out, method->n_out, err, sizeof(err)) < 0 ? -ORB_E_PROTO : 0;
}

static void complete_pending(struct orb_client *cl, uint32_t id, int status, struct orb_msg *m)
{
        for (struct pending **pp = &cl->pending; *pp; pp = &(*pp)->next) {
                struct pending *p = *pp;

                if (p->id != id)
                        continue;
                *pp = p->next;
                p->fn(cl, status, m, p->userdata);
                free(p);
                return;
        }
}

/*
 * The caller keeps its reply: move the record into a message of its own
 * size, so the 64 KiB receive buffer stays with the channel and a call
 * costs two small allocations, not a large one.
 */
static struct orb_msg *msg_compact(struct orb_msg *from)
{
        struct orb_msg *m = orb_msg_new(0);
        uint8_t *buf = malloc(from->len);

        if (!m || !buf) {
                free(buf);
                return orb_msg_free(m);
        }
        free(m->buf);
        memcpy(buf, from->buf, from->len);
        m->buf = buf;
        m->len = m->cap = from->len;
        for (unsigned i = 0; i < from->n_fds; i++) {
                m->fds[i] = from->fds[i];
                from->fds[i] = -1;
        }
        m->n_fds = from->n_fds;
        from->n_fds = 0;
        return m;
}

static void deliver_async_reply(struct orb_client *cl, struct orb_msg *m)
{
        uint32_t id = orb_msg_hdr(m)->id;
        struct pending *p;
        int st;

        for (p = cl->pending; p && p->id != id; p = p->next)
                ;
        if (!p)
                return; /* a reply nobody waits for any more */
        st = reply_check(p->method, m);
        complete_pending(cl, id, st, m);
}

int orb_client_call(struct orb_client *cl, struct orb_msg *req, int timeout_ms, struct orb_msg **reply)
{
        const struct orb_method *method = method_of(cl, req);
        uint32_t id = ++cl->next_id ? cl->next_id : ++cl->next_id;
        struct orb_msg *into = *reply; /* an earlier reply to reuse, or NULL */
        int r;

        if (!method || method->is_oneway) {
                recycle(cl, req);
                return -ORB_E_NO_METHOD;
        }
        orb_msg_hdr(req)->id = id;
        r = client_send(cl, req, 0);
        if (r < 0)
                return r;
        r = set_rcv_timeout(cl, timeout_ms);
        if (r < 0)
                return r;
        for (;;) {
                struct orb_msg *m = into;

                if (!m && !(m = cl->rx) && !(m = cl->rx = orb_msg_new(0)))
                        return -ENOMEM;
                r = orb_msg_recv(cl->fd, m, 0);
                if (r == -EINTR)
                        continue;
                if (r == -EAGAIN)
                        return -ORB_E_TIMEOUT;
                if (r == -EPIPE || r == -ECONNRESET) {
                        cl->is_revoked = true;
                        return -ORB_E_REVOKED;
                }
                if (r < 0)
                        return r;
                if (orb_msg_hdr(m)->id != id) {
                        /* A reply of an async call, or a late one of a call that timed out. */
                        deliver_async_reply(cl, m);
                        continue;
                }
                if (!into && !(*reply = into = msg_compact(m)))
                        return -ENOMEM;
                return reply_check(method, into);
        }
}

static int watch_client(struct orb_client *cl)
{
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cl->w};

        if (cl->is_watched)
                return 0;
        if (epoll_ctl(cl->c->epoll_fd, EPOLL_CTL_ADD, cl->fd, &ev) < 0)
                return -errno;
        cl->is_watched = true;
        return 0;
}

int orb_client_call_async(struct orb_client *cl, struct orb_msg *req, int timeout_ms, orb_reply_fn fn,
                          void *userdata)
{
        const struct orb_method *method = method_of(cl, req);
        struct pending *p;
        int r;

        if (!method || method->is_oneway) {
                recycle(cl, req);
                return -ORB_E_NO_METHOD;
        }
        p = calloc(1, sizeof(*p));
        if (!p || (r = watch_client(cl)) < 0) {
                free(p);
                recycle(cl, req);
                return p ? r : -ENOMEM;
        }
        p->id = ++cl->next_id ? cl->next_id : ++cl->next_id;
        p->method = method;
        p->deadline_ms = timeout_ms >= 0 ? now_ms() + (uint64_t)timeout_ms : 0;
        p->fn = fn;
        p->userdata = userdata;
        orb_msg_hdr(req)->id = p->id;
        r = client_send(cl, req, 0);
        if (r < 0) {
                free(p);
                return r;
        }
        p->next = cl->pending;
        cl->pending = p;
        return 0;
}

int orb_client_notify(struct orb_client *cl, struct orb_msg *req, bool wait)
{
        const struct orb_method *method = method_of(cl, req);

        if (!method || !method->is_oneway) {
                recycle(cl, req);
                return -ORB_E_NO_METHOD;
        }
        return client_send(cl, req, wait ? 0 : MSG_DONTWAIT);
}

static void on_client_readable(struct orb_client *cl)
{
        for (unsigned i = 0; i < CHANNEL_BATCH; i++) {
                struct pending *p;
                int r;

                if (!cl->rx && !(cl->rx = orb_msg_new(0)))
                        return;
                r = orb_msg_recv(cl->fd, cl->rx, MSG_DONTWAIT);
                if (r == -EAGAIN || r == -EINTR)
                        return;
                if (r < 0 && r != -ORB_E_PROTO) {
                        /* Revoked or gone: every pending call fails now. */
                        cl->is_revoked = true;
                        while ((p = cl->pending)) {
                                cl->pending = p->next;
                                p->fn(cl, -ORB_E_REVOKED, NULL, p->userdata);
                                free(p);
                        }
                        epoll_ctl(cl->c->epoll_fd, EPOLL_CTL_DEL, cl->fd, NULL);
                        cl->is_watched = false;
                        return;
                }
                if (r < 0)
                        continue;
                deliver_async_reply(cl, cl->rx);
        }
}

/* Fails async calls past their deadline; returns ms to the next one or -1. */
static int expire_pending(struct orb_conn *c)
{
        uint64_t now = now_ms(), next = 0;

        for (struct orb_client *cl = c->clients; cl; cl = cl->next) {
                for (struct pending **pp = &cl->pending; *pp;) {
                        struct pending *p = *pp;

                        if (p->deadline_ms && p->deadline_ms <= now) {
                                *pp = p->next;
                                p->fn(cl, -ORB_E_TIMEOUT, NULL, p->userdata);
                                free(p);
                                continue;
                        }
                        if (p->deadline_ms && (!next || p->deadline_ms < next))
                                next = p->deadline_ms;
                        pp = &p->next;
                }
        }
        return next ? (int)(next - now) : -1;
}

/* ------------------------------------------------------------------------
 * Dispatch
 */

static int on_bus_readable(struct orb_conn *c)
{
        for (unsigned i = 0; i < EVENTS_BATCH; i++) {
                int r = bus_recv(c, c->rx, MSG_DONTWAIT);

                if (r == -EAGAIN)
                        return 0;
                if (r < 0)
                        return r;
                handle_unsolicited(c, c->rx);
        }
        return 0;
}

int orb_conn_dispatch(struct orb_conn *c, int timeout_ms)
{
        struct epoll_event ev[EVENTS_BATCH];
        int n, r, next = expire_pending(c);

        if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
                timeout_ms = next;
        n = epoll_wait(c->epoll_fd, ev, EVENTS_BATCH, timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        /* Control first: a revocation overtakes the data beside it. */
        for (int i = 0; i < n; i++) {
                if (((struct watch *)ev[i].data.ptr)->kind == WATCH_BUS) {
                        r = on_bus_readable(c);
                        if (r < 0)
                                return r;
                }
        }
        for (int i = 0; i < n; i++) {
                struct watch *w = ev[i].data.ptr;

                if (w->kind == WATCH_CHANNEL)
                        on_channel_readable((struct srv_channel *)w);
                else if (w->kind == WATCH_CLIENT)
                        on_client_readable((struct orb_client *)w);
        }
        expire_pending(c);
        return n == 0 && timeout_ms != 0 && next < 0 ? -ETIMEDOUT : 0;
}

int orb_conn_run(struct orb_conn *c)
{
        c->is_quitting = false;
        while (!c->is_quitting) {
                int r = orb_conn_dispatch(c, -1);
                if (r < 0 && r != -ETIMEDOUT)
                        return r;
        }
        return 0;
}

struct orb_conn *orb_conn_close(struct orb_conn *c)
{
        if (!c)
                return NULL;
        while (c->clients)
                orb_client_close(c->clients);
        while (c->channels)
                channel_close(c->channels);
        while (c->services) {
                struct orb_service *s = c->services;
                c->services = s->next;
                orb_contract_free(s->contract);
                free(s->fns);
                free(s);
        }
        while (c->subs) {
                struct subscription *s = c->subs;
                c->subs = s->next;
                free(s);
        }
        if (c->epoll_fd >= 0)
                close(c->epoll_fd);
        if (c->bus_fd >= 0)
                close(c->bus_fd);
        orb_msg_free(c->rx);
        orb_msg_free(c->call_rx);
        orb_msg_free(c->reply);
        orb_msg_free(c->srv_rx);
        free(c);
        return NULL;
}

int orb_console_write(const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfprintf(stdout, fmt, ap);
        va_end(ap);
        if (r >= 0 && fputc('\n', stdout) == EOF)
                r = -1;
        return fflush(stdout) == 0 && r >= 0 ? 0 : -EIO;
}

void orb_exit(struct orb_conn *c, int status)
{
        fflush(NULL);
        orb_conn_close(c);
        exit(status);
}
