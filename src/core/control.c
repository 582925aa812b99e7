/*
 * Control socket server.  A request is {"method": M, "params": {...}};
 * the answer is zero or more {"item": ...} messages and then one
 * {"ok": true, "result": ...} or {"ok": false, "error": {"code", "message"}}.
 * Follow streams (logs -f, events -f) send items until the client leaves.
 *
 * Methods are a static table (name, needs-write, handler), as ubusd does.
 * Replies are produced whole when the request arrives (their size is
 * bounded by what orbitald keeps: the service set, the log ring, the
 * event ring) and queued; the queue is flushed as the socket drains.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/capspec.h"
#include "config-react.h"
#include "control.h"
#include "orbital/protocol.h"
#include "sandbox/sandbox.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/unixsock.h"

struct packet {
        struct packet *next;
        size_t len;
        char data[];
};

enum follow_kind {
        FOLLOW_NONE,
        FOLLOW_LOGS,
        FOLLOW_EVENTS,
};

struct client {
        struct client *next;
        struct control *ctl;        /* borrowed */
        int fd;
        struct loop_io io;
        uid_t uid;
        pid_t pid;
        struct packet *head, *tail; /* owned output queue */
        size_t queued;              /* bytes in the queue */
        enum follow_kind follow;
        char follow_service[MANIFEST_NAME_MAX]; /* logs -f: whose */
        unsigned long dropped;      /* follow records lost to a slow reader */
        unsigned long overflow;     /* items of this reply that did not fit */
        bool is_dead;
        struct loop_defer free_defer;
};



static void client_close(struct client *c);

static bool is_privileged(const struct control *ctl, uid_t uid)
{
        return uid == 0 || uid == ctl->owner_uid;
}

/* ---- output ---- */

static void client_flush(struct client *c)
{
        while (c->head) {
                struct packet *p = c->head;
                ssize_t n = send(c->fd, p->data, p->len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        client_close(c);
                        return;
                }
                c->head = p->next;
                if (!c->head)
                        c->tail = NULL;
                c->queued -= p->len;
                free(p);
        }
        /* While a reply is queued the next request waits in the socket:
         * one reply in flight per client bounds its memory. */
        if (!c->is_dead)
                loop_io_modify(c->ctl->loop, &c->io, c->head ? EPOLLOUT : EPOLLIN);
}

/* Queues one JSON message; steals @msg.  Return: false if it was dropped. */
static bool client_queue(struct client *c, json_t *msg, size_t limit)
{
        char *text = json_dumps(msg, JSON_COMPACT);
        size_t len = text ? strlen(text) : 0;
        struct packet *p;

        json_decref(msg);
        if (!text || c->is_dead)
                goto drop;
        if (len > CONTROL_MSG_MAX || c->queued + len > limit)
                goto drop;
        p = malloc(sizeof(*p) + len);
        if (!p)
                goto drop;
        *p = (struct packet){.len = len};
        memcpy(p->data, text, len);
        free(text);
        if (c->tail)
                c->tail->next = p;
        else
                c->head = p;
        c->tail = p;
        c->queued += len;
        return true;
drop:
        free(text);
        return false;
}

static void send_item(struct client *c, json_t *item)
{
        if (!client_queue(c, json_pack("{s:o}", "item", item), CONTROL_QUEUE_MAX))
                c->overflow++;
}

__attribute__((format(printf, 3, 4))) static void send_error(struct client *c, const char *code, const char *fmt,
                                                             ...);

/* The final message; a reply that lost items says so instead of "ok". */
static void send_ok(struct client *c, json_t *result)
{
        if (c->overflow) {
                json_decref(result);
                send_error(c, "reply-too-large", "%lu items did not fit the %u-byte reply queue; ask for fewer",
                           c->overflow, CONTROL_QUEUE_MAX);
                c->overflow = 0;
                return;
        }
        if (!client_queue(c, json_pack("{s:b,s:o}", "ok", 1, "result", result ? result : json_object()),
                          CONTROL_QUEUE_MAX + CONTROL_MSG_MAX)) {
                send_error(c, "reply-too-large", "the reply does not fit one %d-byte message", CONTROL_MSG_MAX);
                return;
        }
        client_flush(c);
}

__attribute__((format(printf, 3, 4))) static void send_error(struct client *c, const char *code, const char *fmt,
                                                             ...)
{
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        client_queue(c, json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code, "message", msg),
                     CONTROL_QUEUE_MAX + CONTROL_MSG_MAX);
        client_flush(c);
}

/* A follow record: dropped when the reader is behind, counted, reported. */
static void send_follow(struct client *c, json_t *item)
{
        if (c->dropped && c->queued < CONTROL_FOLLOW_MAX / 2) {
                client_queue(c, json_pack("{s:{s:I}}", "dropped", "count", (json_int_t)c->dropped),
                             CONTROL_FOLLOW_MAX);
                c->dropped = 0;
        }
        if (!client_queue(c, json_pack("{s:o}", "item", item), CONTROL_FOLLOW_MAX))
                c->dropped++;
        client_flush(c);
}

/* ---- JSON views of supervisor state ---- */

static json_t *json_time(usec_t realtime)
{
        char buf[48];
        return json_string(format_timestamp(buf, sizeof(buf), realtime));
}

/* Realtime of a monotonic instant in the past. */
static usec_t mono_to_real(usec_t mono, usec_t now_m)
{
        usec_t now_r = now_real();
        return mono > now_m ? now_r : now_r - (now_m - mono);
}

static json_t *json_ms(usec_t d)
{
        return json_integer((json_int_t)(d / USEC_PER_MSEC));
}

static json_t *service_summary(const struct service *svc, usec_t now)
{
        const struct fsm *m = &svc->fsm;
        json_t *o = json_pack("{s:s,s:s,s:I,s:s}", "name", svc->spec->name, "state", svc_state_name(m->state),
                              "restarts", (json_int_t)m->restarts, "reason", m->reason);

        json_object_set_new(o, "pid", svc->main.pid ? json_integer(svc->main.pid) : json_null());
        json_object_set_new(o, "uptime_ms", svc->main.pid ? json_ms(now - m->started_at) : json_null());
        json_object_set_new(o, "since", json_time(mono_to_real(m->since, now)));
        json_object_set_new(o, "breaker", json_string(breaker_state_name(m->breaker)));
        return o;
}

static json_t *json_limit(int64_t current, int64_t max)
{
        return json_pack("{s:o,s:o}", "current", current >= 0 ? json_integer(current) : json_null(), "max",
                         max >= 0 ? json_integer(max) : json_null());
}

static int64_t count_fds(pid_t pid)
{
        char path[64];
        _cleanup_(closedirp_) DIR *d = NULL;
        struct dirent *e;
        int64_t n = 0;

        if (!pid)
                return -1;
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        d = opendir(path);
        if (!d)
                return -1;
        while ((e = readdir(d)))
                n += e->d_name[0] != '.';
        return n;
}

static json_t *service_limits(const struct service *svc)
{
        const struct limits_spec *l = &svc->spec->limits;
        struct cgroup_usage u;
        bool has_cg = svc->cg.dir[CG_MEMORY] || svc->cg.dir[CG_PIDS];
        json_t *o;

        cgroup_usage(&svc->cg, &u);
        o = json_pack("{s:s}", "enforcement",
                      has_cg ? cgroup_mode_name(svc->cg.mode) : cgroup_mode_name(CGROUP_NONE));
        json_object_set_new(o, "memory", json_limit(u.memory, l->memory ? (int64_t)l->memory : -1));
        json_object_set_new(o, "pids", json_limit(u.pids, l->pids ? (int64_t)l->pids : -1));
        json_object_set_new(o, "cpu", json_pack("{s:o,s:o}", "max_percent",
                                                l->cpu_pc ? json_integer(l->cpu_pc) : json_null(), "usage_usec",
                                                u.cpu_usec >= 0 ? json_integer(u.cpu_usec) : json_null()));
        json_object_set_new(o, "files", json_limit(count_fds(svc->main.pid), l->files));
        return o;
}

static json_t *string_array(const struct service *const *list, unsigned n)
{
        json_t *a = json_array();

        for (unsigned i = 0; i < n; i++)
                json_array_append_new(a, json_string(list[i]->spec->name));
        return a;
}

/* @with_output: include the last log lines (root and the owner only). */
static json_t *service_crashes(const struct service *svc, bool with_output)
{
        json_t *a = json_array();
        unsigned n = svc->n_crashes < CRASH_RECORDS_MAX ? svc->n_crashes : CRASH_RECORDS_MAX;

        for (unsigned i = 0; i < n; i++) {
                const struct crash_record *c = &svc->crashes[(svc->n_crashes - 1 - i) % CRASH_RECORDS_MAX];
                json_t *lines = json_array();
                for (const char *p = with_output ? c->last_lines : NULL; p && *p;) {
                        size_t len = strcspn(p, "\n");
                        json_array_append_new(lines, json_stringn(p, len));
                        p += len + (p[len] == '\n');
                }
                json_array_append_new(a, json_pack("{s:o,s:s,s:o}", "time", json_time(c->time), "reason", c->reason,
                                                   "last_lines", lines));
        }
        return a;
}

static json_t *service_status(const struct service *svc, usec_t now, bool with_output)
{
        const struct fsm *m = &svc->fsm;
        const struct manifest *s = svc->spec;
        json_t *o = service_summary(svc, now);
        json_t *last = json_null();

        if (m->started_at && !svc->main.pid)
                last = json_pack("{s:o,s:o}", "code", m->exit_signal ? json_null() : json_integer(m->exit_code),
                                 "signal", m->exit_signal && sigabbrev_np(m->exit_signal)
                                                   ? json_string(sigabbrev_np(m->exit_signal))
                                                   : json_null());
        json_object_set_new(o, "description", s->description ? json_string(s->description) : json_null());
        json_object_set_new(o, "manifest", json_string(s->source ? s->source : ""));
        json_object_set_new(o, "restart_policy", json_string(restart_policy_name(s->restart)));
        json_object_set_new(o, "restart_limit", json_integer(s->restart_limit));
        json_object_set_new(o, "attempt", json_integer(m->attempt));
        json_object_set_new(o, "last_exit", last);
        json_object_set_new(o, "started", m->started_at ? json_time(svc->started_real) : json_null());
        json_object_set_new(o, "next_in_ms", m->deadline != USEC_INFINITY && m->deadline > now
                                                     ? json_ms(m->deadline - now)
                                                     : json_null());
        json_object_set_new(o, "breaker_detail",
                            json_pack("{s:s,s:i,s:i,s:o,s:o}", "state", breaker_state_name(m->breaker), "deaths",
                                      m->crashes.n, "threshold", s->breaker.crashes, "window_ms",
                                      json_ms(s->breaker.window), "cooldown_ms", json_ms(s->breaker.cooldown)));
        json_object_set_new(o, "readiness", json_string(s->readiness.kind == READINESS_NOTIFY ? "notify" : "none"));
        json_object_set_new(o, "status_text",
                            svc->status_text[0] && with_output ? json_string(svc->status_text) : json_null());
        json_object_set_new(o, "health", s->health.kind == HEALTH_COMMAND
                                                 ? json_pack("{s:i,s:s}", "failures", svc->health.failures, "last",
                                                             svc->health.last[0] ? svc->health.last : "pending")
                                                 : json_null());
        json_object_set_new(o, "limits", service_limits(svc));
        json_object_set_new(o, "requires", string_array((const struct service *const *)svc->requires, svc->n_requires));
        json_object_set_new(o, "after", string_array((const struct service *const *)svc->after, svc->n_after));
        json_object_set_new(o, "crashes", service_crashes(svc, with_output));
        return o;
}

static json_t *log_json(const struct service *svc, const struct log_record *rec)
{
        return json_pack("{s:s,s:I,s:o,s:s,s:i,s:s%}", "service", svc->spec->name, "seq", (json_int_t)rec->seq,
                         "time", json_time(rec->time), "stream", log_stream_name(rec->stream), "pid", (int)rec->pid,
                         "text", rec->text, (size_t)rec->len);
}

static json_t *event_json(const struct sup_event *ev)
{
        json_t *o = json_pack("{s:I,s:o,s:s,s:s,s:s}", "seq", (json_int_t)ev->seq, "time", json_time(ev->time),
                              "kind", event_kind_name(ev->kind), "service", ev->service, "detail", ev->detail);

        if (ev->kind == SUP_EV_STATE) {
                json_object_set_new(o, "from", json_string(svc_state_name(ev->from)));
                json_object_set_new(o, "to", json_string(svc_state_name(ev->to)));
        }
        return o;
}

/* ---- methods ---- */

struct request {
        struct client *c;
        json_t *params;  /* borrowed */
        const char *method;
};

static struct service *param_service(struct request *rq)
{
        json_t *v = json_object_get(rq->params, "name");
        struct service *svc;

        if (!json_is_string(v)) {
                send_error(rq->c, "bad-request", "%s: params.name: expected a service name string", rq->method);
                return NULL;
        }
        svc = sup_find(rq->c->ctl->sup, json_string_value(v));
        if (!svc)
                send_error(rq->c, "no-such-service", "no service named '%s'", json_string_value(v));
        return svc;
}

static bool param_uint(struct request *rq, const char *key, unsigned long dflt, unsigned long max,
                       unsigned long *out)
{
        json_t *v = json_object_get(rq->params, key);

        *out = dflt;
        if (!v)
                return true;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || (unsigned long)json_integer_value(v) > max) {
                send_error(rq->c, "bad-request", "%s: params.%s: expected an integer 0..%lu", rq->method, key, max);
                return false;
        }
        *out = (unsigned long)json_integer_value(v);
        return true;
}

static bool param_bool(struct request *rq, const char *key, bool *out)
{
        json_t *v = json_object_get(rq->params, key);

        *out = false;
        if (!v)
                return true;
        if (!json_is_boolean(v)) {
                send_error(rq->c, "bad-request", "%s: params.%s: expected true or false", rq->method, key);
                return false;
        }
        *out = json_is_true(v);
        return true;
}

static void m_list(struct request *rq)
{
        struct supervisor *sup = rq->c->ctl->sup;
        usec_t now = loop_now(sup->loop);

        for (unsigned i = 0; i < sup->n_services; i++)
                if (!sup->services[i]->is_removed)
                        send_item(rq->c, service_summary(sup->services[i], now));
        send_ok(rq->c, json_pack("{s:s,s:s}", "limits", cgroup_mode_name(sup->cgroups.mode), "limits_reason",
                                 sup->cgroups.reason));
}

static void m_status(struct request *rq)
{
        struct service *svc = param_service(rq);

        if (svc)
                send_ok(rq->c, service_status(svc, loop_now(svc->sup->loop),
                                              is_privileged(rq->c->ctl, rq->c->uid)));
}

static void m_op(struct request *rq, enum sup_op op)
{
        struct service *svc = param_service(rq);
        int r;

        if (!svc)
                return;
        if (rq->c->ctl->sup->is_shutting_down) {
                send_error(rq->c, "invalid-state", "%s: orbitald is shutting down", rq->method);
                return;
        }
        r = sup_request(rq->c->ctl->sup, svc, op);
        if (r == SUP_E_NOOP)
                send_error(rq->c, "invalid-state", "%s: nothing to do: service '%s' is %s%s", rq->method,
                           svc->spec->name, svc_state_name(svc->fsm.state),
                           svc->fsm.state == SVC_DISABLED ? " (use enable or reset)" : "");
        else if (r < 0)
                send_error(rq->c, "internal", "%s: %s", rq->method, strerror(-r));
        else
                send_ok(rq->c, json_pack("{s:s}", "state", svc_state_name(svc->fsm.state)));
}

static void m_start(struct request *rq) { m_op(rq, SUP_OP_START); }
static void m_stop(struct request *rq) { m_op(rq, SUP_OP_STOP); }
static void m_restart(struct request *rq) { m_op(rq, SUP_OP_RESTART); }
static void m_enable(struct request *rq) { m_op(rq, SUP_OP_ENABLE); }
static void m_disable(struct request *rq) { m_op(rq, SUP_OP_DISABLE); }
static void m_reset(struct request *rq) { m_op(rq, SUP_OP_RESET); }

static void m_reload(struct request *rq)
{
        struct reload_summary sum;
        struct orb_diag diag = ORB_DIAG_INIT;
        char msg[1024];
        int r = sup_reload(rq->c->ctl->sup, &sum, &diag);

        if (r == -ESHUTDOWN) {
                send_error(rq->c, "invalid-state", "reload: orbitald is shutting down");
                return;
        }
        if (r == MANIFEST_E_INVALID || r < 0) {
                if (r < 0 && !diag.message[0])
                        snprintf(diag.message, sizeof(diag.message), "%s", strerror(-r));
                send_error(rq->c, "invalid-manifest", "reload refused, nothing changed: %s",
                           diag_format(&diag, msg, sizeof(msg)));
                return;
        }
        send_ok(rq->c, json_pack("{s:i,s:i,s:i,s:i}", "added", sum.added, "removed", sum.removed, "changed",
                                 sum.changed, "unchanged", sum.unchanged));
}

static void m_logs(struct request *rq)
{
        struct service *svc = param_service(rq);
        unsigned long lines;
        bool follow;

        if (!svc || !param_uint(rq, "lines", 20, 100000, &lines) || !param_bool(rq, "follow", &follow))
                return;
        if (lines > logstore_count(&svc->log))
                lines = logstore_count(&svc->log);
        for (unsigned long i = lines; i-- > 0;)
                send_item(rq->c, log_json(svc, logstore_nth_newest(&svc->log, (unsigned)i)));
        if (follow) {
                rq->c->follow = FOLLOW_LOGS;
                snprintf(rq->c->follow_service, sizeof(rq->c->follow_service), "%s", svc->spec->name);
                client_flush(rq->c);
                return;
        }
        send_ok(rq->c, NULL);
}

static void m_events(struct request *rq)
{
        struct supervisor *sup = rq->c->ctl->sup;
        unsigned long lines;
        bool follow;
        unsigned n = sup_event_count(sup);

        if (!param_uint(rq, "lines", SUP_EVENT_RING, 100000, &lines) || !param_bool(rq, "follow", &follow))
                return;
        for (unsigned i = lines < n ? n - (unsigned)lines : 0; i < n; i++)
                send_item(rq->c, event_json(sup_event_at(sup, i)));
        if (follow) {
                rq->c->follow = FOLLOW_EVENTS;
                client_flush(rq->c);
                return;
        }
        send_ok(rq->c, NULL);
}

static void m_ping(struct request *rq)
{
        send_ok(rq->c, json_pack("{s:i}", "pid", (int)getpid()));
}

/* ---- the broker ---- */

static bool param_string(struct request *rq, const char *key, const char **out)
{
        json_t *v = json_object_get(rq->params, key);

        if (!json_is_string(v)) {
                send_error(rq->c, "bad-request", "%s: params.%s: expected a string", rq->method, key);
                return false;
        }
        *out = json_string_value(v);
        return true;
}

static struct broker *need_broker(struct request *rq)
{
        if (!rq->c->ctl->broker)
                send_error(rq->c, "unavailable", "%s: the broker is not running", rq->method);
        return rq->c->ctl->broker;
}

static void m_caps(struct request *rq)
{
        struct broker *b = need_broker(rq);
        const char *name;
        json_t *caps;

        if (!b || !param_string(rq, "name", &name))
                return;
        caps = broker_caps_json(b, name);
        if (!caps)
                return send_error(rq->c, "no-such-peer",
                                  "'%s' is not connected to the bus (a service holds capabilities while it runs)",
                                  name);
        send_ok(rq->c, json_pack("{s:s, s:o}", "name", name, "caps", caps));
}

static void m_services(struct request *rq)
{
        struct broker *b = need_broker(rq);

        if (b)
                send_ok(rq->c, json_pack("{s:o}", "services", broker_services_json(b)));
}

static void actor_name(const struct request *rq, char *buf, size_t n)
{
        snprintf(buf, n, "orbctl(uid %u)", (unsigned)rq->c->uid);
}

static void m_grant(struct request *rq)
{
        struct broker *b = need_broker(rq);
        const char *holder, *target, *rights_text = NULL;
        unsigned long slot, expires_ms;
        uint8_t rights = ORB_RIGHT_READ | ORB_RIGHT_WRITE;
        uint32_t out;
        char why[256], actor[64];
        json_t *rv = json_object_get(rq->params, "rights");

        if (!b || !param_string(rq, "holder", &holder) || !param_string(rq, "target", &target) ||
            !param_uint(rq, "slot", 0, UINT32_MAX, &slot) || !param_uint(rq, "expires_ms", 0, 1ul << 40, &expires_ms))
                return;
        if (rv && (!json_is_string(rv) || !rights_parse((rights_text = json_string_value(rv)), &rights)))
                return send_error(rq->c, "bad-request", "grant: params.rights: expected r, w, g in that order (e.g. rw)");
        actor_name(rq, actor, sizeof(actor));
        if (broker_grant(b, holder, (uint32_t)slot, target, rights, (usec_t)expires_ms * USEC_PER_MSEC, actor, &out,
                         why, sizeof(why)) < 0)
                return send_error(rq->c, "grant-refused", "%s", why);
        send_ok(rq->c, json_pack("{s:s, s:I}", "target", target, "slot", (json_int_t)out));
}

static void m_revoke(struct request *rq)
{
        struct broker *b = need_broker(rq);
        const char *holder;
        unsigned long slot;
        char why[256], actor[64];

        if (!b || !param_string(rq, "holder", &holder) || !param_uint(rq, "slot", 0, UINT32_MAX, &slot))
                return;
        actor_name(rq, actor, sizeof(actor));
        if (broker_revoke(b, holder, (uint32_t)slot, actor, why, sizeof(why)) < 0)
                return send_error(rq->c, "revoke-refused", "%s", why);
        send_ok(rq->c, NULL);
}

/* ---- the sandbox ---- */

static void m_sandbox(struct request *rq)
{
        struct service *svc = param_service(rq);
        json_t *r;

        if (!svc)
                return;
        if (!svc->spec->sandbox.enabled)
                return send_ok(rq->c, json_pack("{s:s, s:b}", "name", svc->spec->name, "enabled", 0));
        if (!svc->has_sandbox)
                return send_error(rq->c, "not-started", "%s has not been started with its sandbox yet",
                                  svc->spec->name);
        r = sandbox_report_json(svc->spec, &svc->sandbox);
        json_object_set_new(r, "name", json_string(svc->spec->name));
        send_ok(rq->c, r);
}

/* What a manifest's sandbox would be here, without starting anything. */
static void m_check(struct request *rq)
{
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        struct orb_diag diag = ORB_DIAG_INIT;
        struct sandbox_plans sb;
        const char *text, *source = "manifest.yaml";
        char why[256], msg[1024], stem[256];
        json_t *r, *v = json_object_get(rq->params, "source");
        int rc;

        if (!param_string(rq, "text", &text))
                return;
        if (json_is_string(v))
                source = json_string_value(v);
        manifest_file_stem(source, stem, sizeof(stem)); /* its name decides the dynamic uid */
        rc = manifest_parse(text, strlen(text), source, stem, &m, &diag);
        if (rc != 0)
                return send_error(rq->c, "bad-manifest", "%s",
                                  diag.message[0] ? diag_format(&diag, msg, sizeof(msg)) : strerror(-rc));
        if (!m->sandbox.enabled)
                return send_ok(rq->c, json_pack("{s:s, s:b, s:[s]}", "name", m->name, "enabled", 0, "warnings",
                                                "the sandbox is off: the service can do whatever its user can"));
        rc = sandbox_plans_build(m, rq->c->ctl->sup->is_root, rq->c->ctl->sup->init_fd >= 0, NULL, NULL, &sb, why, sizeof(why));
        if (rc < 0)
                return send_error(rq->c, "bad-sandbox", "%s: sandbox: %s", source, why);
        r = sandbox_report_json(m, &sb.report);
        sandbox_plans_free(&sb);
        json_object_set_new(r, "name", json_string(m->name));
        send_ok(rq->c, r);
}

static void m_audit_head(struct request *rq)
{
        struct control *ctl = rq->c->ctl;

        if (!ctl->audit_head)
                return send_error(rq->c, "unavailable", "audit-head: no audit log");
        send_ok(rq->c, ctl->audit_head(ctl->audit_ctx));
}

/* Which services a commit changing params.paths would restart or reload. */
static void m_config_affected(struct request *rq)
{
        json_t *paths = json_object_get(rq->params, "paths"), *v;
        size_t i;

        if (!json_is_array(paths))
                return send_error(rq->c, "bad-request", "config-affected: 'paths' must be an array of strings");
        json_array_foreach(paths, i, v)
                if (!json_is_string(v))
                        return send_error(rq->c, "bad-request", "config-affected: paths[%zu] is not a string", i);
        send_ok(rq->c, json_pack("{s:o}", "services", config_affected(rq->c->ctl->sup, paths)));
}

static const struct method {
        const char *name;
        bool needs_write;  /* changes services: root or the owner */
        bool is_private;   /* reads services' output: root or the owner */
        void (*fn)(struct request *rq);
} methods[] = {
        {"ping", false, false, m_ping},       {"list", false, false, m_list},
        {"status", false, false, m_status},   {"logs", false, true, m_logs},
        {"events", false, false, m_events},   {"start", true, false, m_start},
        {"stop", true, false, m_stop},        {"restart", true, false, m_restart},
        {"enable", true, false, m_enable},    {"disable", true, false, m_disable},
        {"reset", true, false, m_reset},      {"reload", true, false, m_reload},
        {"caps", false, true, m_caps},        {"services", false, false, m_services},
        {"grant", true, false, m_grant},      {"revoke", true, false, m_revoke},
        {"audit-head", false, true, m_audit_head},
        {"sandbox", false, false, m_sandbox}, {"check", false, true, m_check},
        {"config-affected", false, false, m_config_affected},
};

static void client_handle(struct client *c, const char *buf, size_t len)
{
        json_error_t err;
        _cleanup_(json_decrefp) json_t *req = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
        struct request rq = {.c = c};
        json_t *m;

        c->overflow = 0;
        if (!req || !json_is_object(req)) {
                send_error(c, "bad-request", "request is not a JSON object: %s",
                           req ? "found another JSON type" : err.text);
                return;
        }
        m = json_object_get(req, "method");
        rq.params = json_object_get(req, "params");
        if (!json_is_string(m) || (rq.params && !json_is_object(rq.params))) {
                send_error(c, "bad-request", "expected {\"method\": string, \"params\": object}");
                return;
        }
        rq.method = json_string_value(m);
        for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
                if (strcmp(methods[i].name, rq.method) != 0)
                        continue;
                if ((methods[i].needs_write || methods[i].is_private) && !is_privileged(c->ctl, c->uid)) {
                        send_error(c, "permission-denied", "%s: only root or uid %u may %s (you are %u)", rq.method,
                                   (unsigned)c->ctl->owner_uid,
                                   methods[i].needs_write ? "change services" : "read services' output",
                                   (unsigned)c->uid);
                        return;
                }
                methods[i].fn(&rq);
                return;
        }
        send_error(c, "unknown-method", "unknown method '%s'", rq.method);
}

/* ---- connections ---- */

static void client_free_deferred(struct loop_defer *d)
{
        struct client *c = container_of(d, struct client, free_defer);

        while (c->head) {
                struct packet *p = c->head;
                c->head = p->next;
                free(p);
        }
        free(c);
}

static void client_close(struct client *c)
{
        struct control *ctl = c->ctl;

        if (c->is_dead)
                return;
        c->is_dead = true;
        loop_io_remove(ctl->loop, &c->io);
        c->fd = safe_close(c->fd);
        for (struct client **pp = &ctl->clients; *pp; pp = &(*pp)->next) {
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        }
        ctl->n_clients--;
        loop_defer(ctl->loop, &c->free_defer, client_free_deferred);
}

static void client_on_io(struct loop_io *io, uint32_t revents)
{
        struct client *c = container_of(io, struct client, io);
        char buf[CONTROL_MSG_MAX + 1];
        ssize_t n;

        if (revents & EPOLLOUT)
                client_flush(c);
        if (c->is_dead || !(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return;
        n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                client_close(c);
                return;
        }
        if ((size_t)n > CONTROL_MSG_MAX) {
                log_lossy(LOG_NOTICE, "client pid=%d: request of %zd bytes over the %d limit", (int)c->pid, n,
                          CONTROL_MSG_MAX);
                send_error(c, "bad-request", "request of %zd bytes exceeds the %d-byte limit", n, CONTROL_MSG_MAX);
                return;
        }
        client_handle(c, buf, (size_t)n);
}

/* Other users share what is left after the reserved slots, a few each. */
static bool control_admits(const struct control *ctl, uid_t uid)
{
        unsigned same = 0;

        if (ctl->n_clients >= CONTROL_CLIENTS_MAX)
                return false;
        if (is_privileged(ctl, uid))
                return true;
        if (ctl->n_clients >= CONTROL_CLIENTS_MAX - CONTROL_RESERVED)
                return false;
        for (const struct client *c = ctl->clients; c; c = c->next)
                same += c->uid == uid;
        return same < CONTROL_PER_UID_MAX;
}

static void control_on_accept(struct loop_io *io, uint32_t revents)
{
        struct control *ctl = container_of(io, struct control, io);
        struct ucred cred;
        socklen_t len = sizeof(cred);
        _cleanup_close_ int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        struct client *c;

        if (fd < 0)
                return;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return;
        if (!control_admits(ctl, cred.uid)) {
                log_lossy(LOG_WARN, "control: refusing a client of uid %u: %u connected", (unsigned)cred.uid,
                          ctl->n_clients);
                return;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
                return;
        *c = (struct client){.ctl = ctl, .fd = take_fd(fd), .uid = cred.uid, .pid = cred.pid, .io = LOOP_IO_INIT};
        if (loop_io_add(ctl->loop, &c->io, c->fd, EPOLLIN, client_on_io) < 0) {
                close(c->fd);
                free(c);
                return;
        }
        c->next = ctl->clients;
        ctl->clients = c;
        ctl->n_clients++;
}

/* ---- supervisor hooks: live streams ---- */

static void control_on_event(void *ctx, const struct sup_event *ev)
{
        struct control *ctl = ctx;

        for (struct client *c = ctl->clients, *next; c; c = next) {
                next = c->next;
                if (c->follow == FOLLOW_EVENTS)
                        send_follow(c, event_json(ev));
        }
}

static void control_on_log(void *ctx, const struct service *svc, const struct log_record *rec)
{
        struct control *ctl = ctx;

        for (struct client *c = ctl->clients, *next; c; c = next) {
                next = c->next;
                if (c->follow == FOLLOW_LOGS && strcmp(c->follow_service, svc->spec->name) == 0)
                        send_follow(c, log_json(svc, rec));
        }
}

int control_init(struct control *ctl, struct loop *loop, struct supervisor *sup, const char *path)
{
        int r;

        *ctl = (struct control){.loop = loop, .sup = sup, .fd = -1, .io = LOOP_IO_INIT, .owner_uid = geteuid()};
        ctl->path = strdup(path);
        if (!ctl->path)
                return -ENOMEM;
        ctl->fd = unix_listen(path, SOCK_SEQPACKET, 64);
        if (ctl->fd < 0)
                return ctl->fd;
        /* Anyone may read; the peer-credential check guards changes. */
        chmod(path, 0666);
        r = loop_io_add(loop, &ctl->io, ctl->fd, EPOLLIN, control_on_accept);
        if (r < 0)
                return r;
        sup->hooks.ctx = ctl;
        sup->hooks.on_event = control_on_event;
        sup->hooks.on_log = control_on_log;
        return 0;
}

void control_deinit(struct control *ctl)
{
        while (ctl->clients)
                client_close(ctl->clients);
        loop_io_remove(ctl->loop, &ctl->io);
        if (ctl->fd >= 0 && ctl->path)
                unlink(ctl->path); /* only a socket we bound ourselves */
        ctl->fd = safe_close(ctl->fd);
        free(ctl->path);
        ctl->path = NULL;
}
