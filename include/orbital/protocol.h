/*
 * Orbital bus protocol: the numbers every party agrees on.
 *
 * Every message, on a service's bus connection to orbitald and on a
 * channel between a client and a service, is one SOCK_SEQPACKET record:
 * a 16-byte header followed by a payload of tagged fields (contract.h).
 * Descriptors (channel ends, sealed memfds) ride along as SCM_RIGHTS.
 * docs/protocol.md is the full description.
 */
#pragma once

#include <stdint.h>

#define ORB_WIRE_MAGIC 0x4f52u     /* "OR" */
#define ORB_WIRE_VERSION 1u
#define ORB_MSG_MAX (64u << 10)    /* largest record; bigger payloads go by memfd */
#define ORB_MSG_FDS_MAX 8u         /* descriptors one record may carry */

/* The header, host byte order (both ends are on one machine). */
struct orb_hdr {
        uint16_t magic;   /* ORB_WIRE_MAGIC */
        uint8_t version;  /* ORB_WIRE_VERSION */
        uint8_t flags;    /* ORB_F_* */
        uint16_t type;    /* ORB_MSG_* */
        uint16_t method;  /* ORB_MSG_CALL/NOTIFY: method id; else 0 */
        uint32_t id;      /* request id echoed by the reply; 0 = none */
        uint32_t status;  /* replies: ORB_OK or ORB_E_*; requests: 0 */
};

enum {
        ORB_F_PRIORITY = 1 << 0, /* control traffic: overtakes data */
        ORB_F_NOWAIT = 1 << 1,   /* publish: fail with ORB_E_AGAIN, do not wait */
};

/* Message types.  Seed numbers where the seeds give them. */
enum orb_msg_type {
        ORB_MSG_CONSOLE_INPUT = 0x0002,   /* orbitald -> service: console input */
        ORB_MSG_REGISTER_SERVICE = 0x3000,/* service -> orbitald */
        ORB_MSG_LOOKUP_SERVICE = 0x3001,  /* client -> orbitald; reply carries a channel fd */
        ORB_MSG_CHANNEL_OPEN = 0x3002,    /* orbitald -> service: a client's channel end */
        ORB_MSG_GRANT = 0x3003,           /* holder -> orbitald */
        ORB_MSG_REVOKE = 0x3004,          /* holder -> orbitald */
        ORB_MSG_CAPS = 0x3005,            /* any -> orbitald: list own slots */
        ORB_MSG_PUBLISH = 0x3006,         /* publisher -> orbitald */
        ORB_MSG_SUBSCRIBE = 0x3007,       /* subscriber -> orbitald */
        ORB_MSG_UNSUBSCRIBE = 0x3008,
        ORB_MSG_EVENT = 0x3009,           /* orbitald -> subscriber */
        ORB_MSG_READY = 0x300a,           /* service -> orbitald: readiness */
        ORB_MSG_CAP_REVOKED = 0x3010,     /* orbitald -> holder */
        ORB_MSG_CALL = 0x3020,            /* client -> service on a channel */
        ORB_MSG_REPLY = 0x3021,           /* service -> client on a channel */
        ORB_MSG_NOTIFY = 0x3022,          /* one-way, either direction on a channel */
        ORB_MSG_ERROR = 0x30ff,           /* a reply to something unparseable */
};

/* Status codes in replies (struct orb_hdr.status).  Library calls return
 * them negated (-ORB_E_*) next to -errno values, which are all below
 * -ORB_E_BASE's range: see orb_strerror(). */
enum orb_status {
        ORB_OK = 0,
        ORB_E_BASE = 4096,
        ORB_E_PROTO = 4096,     /* malformed message */
        ORB_E_NOT_FOUND,        /* no such service (or not allowed to know) */
        ORB_E_DENIED,           /* no capability for this operation */
        ORB_E_RIGHTS,           /* capability lacks the right (read/write/grant) */
        ORB_E_RATE,             /* message-rate limit exceeded */
        ORB_E_AGAIN,            /* queue full and the sender chose not to wait */
        ORB_E_INVALID,          /* well-formed but invalid arguments */
        ORB_E_EXISTS,           /* already registered / subscribed */
        ORB_E_NO_METHOD,        /* the contract has no such method */
        ORB_E_REVOKED,          /* the channel's capability was revoked */
        ORB_E_TIMEOUT,          /* no reply within the call's timeout */
        ORB_E_LIMIT,            /* a table or quota is full */
        ORB_E_VERSION,          /* contract version mismatch */
        ORB_E_SERVICE,          /* the service's handler failed */
        ORB_E__MAX
};

/* Capability object types (seed 002). */
enum orb_object_type {
        ORB_OBJ_ENDPOINT = 1,
        ORB_OBJ_CONSOLE = 2,
        ORB_OBJ_STORAGE = 3,
        ORB_OBJ_NETWORK = 4,
        ORB_OBJ_PROCESS = 5,
        ORB_OBJ_MEMORY = 6,
        ORB_OBJ_TOPIC = 7,      /* publish/subscribe on a topic subtree */
        ORB_OBJ_PERMISSION = 8, /* a named permission (net.configure ...) */
};

/* Rights (seed 002). */
enum {
        ORB_RIGHT_READ = 1 << 0,
        ORB_RIGHT_WRITE = 1 << 1,
        ORB_RIGHT_GRANT = 1 << 2,
        ORB_RIGHTS_ALL = 7,
};

/* MSG_CAP_REVOKED reasons (seed 002). */
enum orb_revoke_reason {
        ORB_REVOKE_EXPLICIT = 1,
        ORB_REVOKE_EXPIRED = 2,
        ORB_REVOKE_SOURCE_EXITED = 3,
};

/* Field tags of the broker's own messages (orbitald <-> liborbital). */
enum orb_bus_tag {
        ORB_T_TYPE = 1,      /* str: service type, e.g. "storage" */
        ORB_T_SLOT = 2,      /* u64 */
        ORB_T_VERSION = 3,   /* str: "1.3" */
        ORB_T_CONTRACT = 4,  /* str: contract text (contract.h) */
        ORB_T_RANGE = 5,     /* str: ">=1.2,<2" */
        ORB_T_RIGHTS = 6,    /* u64: ORB_RIGHT_* */
        ORB_T_CHANNEL = 7,   /* u64: channel id */
        ORB_T_PEER = 8,      /* str: name of the other side */
        ORB_T_PID = 9,       /* u64 */
        ORB_T_UID = 10,      /* u64 */
        ORB_T_RATE = 11,     /* u64: messages/s the server should allow */
        ORB_T_TARGET = 12,   /* str: service name a grant goes to */
        ORB_T_EXPIRES = 13,  /* u64: milliseconds from now; 0 = never */
        ORB_T_OBJ_TYPE = 14, /* u64: ORB_OBJ_* */
        ORB_T_OBJ_ID = 15,   /* u64 */
        ORB_T_REASON = 16,   /* u64: ORB_REVOKE_* */
        ORB_T_TOPIC = 17,    /* str */
        ORB_T_DATA = 18,     /* bytes */
        ORB_T_OBJ_NAME = 19, /* str: what the object is called */
        ORB_T_PARENT = 20,   /* u64: parent slot, 0 = none */
        ORB_T_MESSAGE = 21,  /* str: human-readable error detail */
        ORB_T_MAJOR = 22,    /* u64: contract major version of a channel */
};
