/*
 * liborbital: what a service or a client links to talk on the Orbital bus.
 *
 *   struct orb_conn *c;  orb_conn_open(&c);           // the bus
 *   struct orb_client *db; orb_conn_lookup(c, "storage", ">=1.2,<2", &db);
 *   struct orb_msg *req = orb_client_request(db, "get");
 *   orb_msg_put_str(req, 1, "key");
 *   orb_client_call(db, req, 1000, &reply);            // one round trip
 *
 * A service registers a contract and handlers, then puts orb_conn_fd() in
 * its own event loop (or calls orb_conn_run()).  orbitald decides who may
 * talk to whom and hands both ends of a fresh channel to client and
 * service; calls then go straight from one to the other, and a revocation
 * shuts the channel at once.
 *
 * Errors: 0 on success, -errno, or -ORB_E_* (orbital/protocol.h);
 * orb_strerror() names them.  Not thread-safe: one connection per thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orbital/contract.h"
#include "orbital/message.h"
#include "orbital/protocol.h"

#define ORB_LIB_VERSION_MAJOR 0
#define ORB_LIB_VERSION_MINOR 1

struct orb_conn;   /* the bus connection to orbitald */
struct orb_client; /* a channel to one service, seen from the client */
struct orb_service;/* a registered service */
struct orb_call;   /* one incoming call, seen from the service */

/*
 * orb_conn_open() - connect to the bus: the descriptor in $ORB_BUS_FD (a
 * supervised service inherits it and needs no path), else the socket
 * $ORB_BUS_SOCKET, else orbitald's default bus socket.
 */
int orb_conn_open(struct orb_conn **out);
/* Connect to a bus socket by path (tools, tests). */
int orb_conn_open_path(const char *path, struct orb_conn **out);
/* Closes the bus and every channel; NULL is fine. */
struct orb_conn *orb_conn_close(struct orb_conn *c);

/* One descriptor that becomes readable when orb_conn_dispatch() has work. */
int orb_conn_fd(const struct orb_conn *c);
/*
 * orb_conn_dispatch() - handle what has arrived: revocations first (they
 * overtake data), then calls to registered services, replies to async
 * calls, events of subscriptions.  @timeout_ms: 0 = do not wait, -1 = wait
 * for something to handle.  Return: 0, -ETIMEDOUT, -EPIPE when orbitald
 * closed the bus, -errno.
 */
int orb_conn_dispatch(struct orb_conn *c, int timeout_ms);
/* Dispatches until orb_conn_quit() or an error.  Return as dispatch. */
int orb_conn_run(struct orb_conn *c);
void orb_conn_quit(struct orb_conn *c);

/* Readiness: dependents of this service may start. */
int orb_conn_ready(struct orb_conn *c);
/* Console output: a line into this service's log stream. */
int orb_console_write(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Closes everything cleanly and exits the process with @status. */
void orb_exit(struct orb_conn *c, int status) __attribute__((noreturn));

/* ---- Capabilities ------------------------------------------------------ */

/* Called when orbitald revokes a capability this process holds. */
typedef void (*orb_revoke_fn)(struct orb_conn *c, uint32_t slot, unsigned object_type, uint64_t object_id,
                              unsigned reason, void *userdata);
void orb_conn_on_revoke(struct orb_conn *c, orb_revoke_fn fn, void *userdata);

/* Gives another service a copy of the capability in @slot, with @rights
 * (a subset of ours; needs the grant right), expiring after @expires_ms
 * (0 = never).  *@target_slot = its slot in the target's table. */
int orb_conn_grant(struct orb_conn *c, uint32_t slot, const char *target, unsigned rights, uint64_t expires_ms,
                   uint32_t *target_slot);
/* Revokes the capability in @slot and everything derived from it. */
int orb_conn_revoke(struct orb_conn *c, uint32_t slot);

/* ---- Client side ------------------------------------------------------- */

/*
 * orb_conn_lookup() - find a service of @type whose version is in @range
 * (NULL or "" = any) and open a channel to it.  A service that does not
 * exist and one we may not see look the same: -ORB_E_NOT_FOUND.
 */
int orb_conn_lookup(struct orb_conn *c, const char *type, const char *range, struct orb_client **out);
/* Closes the channel; orbitald sees it and drops the channel's capability
 * (the capability it was looked up with stays). */
struct orb_client *orb_client_close(struct orb_client *cl);

const struct orb_contract *orb_client_contract(const struct orb_client *cl);
uint32_t orb_client_slot(const struct orb_client *cl);
unsigned orb_client_rights(const struct orb_client *cl);

/* A new request for @method (NULL if the contract has no such method). */
struct orb_msg *orb_client_request(struct orb_client *cl, const char *method);

/*
 * orb_client_call() - send @req (consumed) and wait up to @timeout_ms
 * (-1 = forever) for the reply.  *@reply must be NULL (a new message is
 * made) or the reply of an earlier call, which is reused: a loop that
 * keeps its reply allocates nothing per call.  The reply is checked
 * against the contract and owned by the caller (orb_msg_free).  A reply
 * with an error status returns -that status, with the service's message
 * in *@reply when there is one.
 */
int orb_client_call(struct orb_client *cl, struct orb_msg *req, int timeout_ms, struct orb_msg **reply);

typedef void (*orb_reply_fn)(struct orb_client *cl, int status, struct orb_msg *reply, void *userdata);
/* Async: @fn runs from orb_conn_dispatch() with the reply (borrowed) or
 * an error (-ORB_E_TIMEOUT, -ORB_E_REVOKED, ...). */
int orb_client_call_async(struct orb_client *cl, struct orb_msg *req, int timeout_ms, orb_reply_fn fn,
                          void *userdata);
/* One-way message of a oneway method (consumed).  @wait: block while the
 * channel is full (backpressure), else fail with -ORB_E_AGAIN. */
int orb_client_notify(struct orb_client *cl, struct orb_msg *req, bool wait);

/* ---- Service side ------------------------------------------------------ */

/* A handler replies with orb_call_reply() before it returns, or returns
 * an error status (-ORB_E_*), which is sent for it; returning 0 without a
 * reply sends an empty one -- unless it deferred the call (below) to
 * reply later, from another event.  Oneway methods get no reply. */
typedef int (*orb_method_fn)(struct orb_call *call, const struct orb_msg *args, void *userdata);

struct orb_handler {
        const char *method;
        orb_method_fn fn;
};

/*
 * orb_conn_serve() - register a service of type @type (our manifest must
 * provide it) at @version ("1.2"), speaking @contract_text, with one
 * handler per method (NULL-terminated array).
 */
int orb_conn_serve(struct orb_conn *c, const char *type, const char *version, const char *contract_text,
                   const struct orb_handler *handlers, void *userdata, struct orb_service **out);

/* The reply to fill in (its header is set); send it with orb_call_reply. */
struct orb_msg *orb_call_reply_msg(struct orb_call *call);
int orb_call_reply(struct orb_call *call, struct orb_msg *reply);
/*
 * orb_call_defer() - keep @call (inside its handler) to answer it later:
 * the handler returns and nothing is sent yet.  The returned call is
 * finished by exactly one orb_call_reply() / orb_call_fail() (with
 * orb_call_reply_msg() as usual) or orb_call_drop(), which free it.
 * Return: the deferred call, NULL (no memory, a oneway or answered call).
 */
struct orb_call *orb_call_defer(struct orb_call *call);
/* Is the caller still connected?  (A deferred call's reply to a closed
 * channel fails with -EPIPE.) */
bool orb_call_is_alive(const struct orb_call *call);
/* Finishes a deferred call without a reply. */
void orb_call_drop(struct orb_call *call);

/* Replies with an error: @status (ORB_E_*, e.g. ORB_E_INVALID) and a
 * message for people (ORB_T_MESSAGE), which orbctl prints. */
int orb_call_fail(struct orb_call *call, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Who is calling, as orbitald told us when the channel opened: a
 * supervised service's name, or "comm[pid]" for an outside client. */
const char *orb_call_peer(const struct orb_call *call);
/* The caller's uid (from SO_PEERCRED at orbitald); UINT32_MAX if unknown. */
uint32_t orb_call_uid(const struct orb_call *call);
unsigned orb_call_rights(const struct orb_call *call);

/* ---- Publish / subscribe ---------------------------------------------- */

/* Publishes @data on @topic (needs a publish capability covering it).
 * @wait: when a subscriber's queue is full, wait; else -ORB_E_AGAIN. */
int orb_conn_publish(struct orb_conn *c, const char *topic, const void *data, size_t len, bool wait);

typedef void (*orb_event_fn)(struct orb_conn *c, const char *topic, const void *data, size_t len,
                             const char *publisher, void *userdata);
/* Subscribes to @topic and everything below it ("net" covers "net.link"). */
int orb_conn_subscribe(struct orb_conn *c, const char *topic, orb_event_fn fn, void *userdata);
int orb_conn_unsubscribe(struct orb_conn *c, const char *topic);
