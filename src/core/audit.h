/*
 * The audit log: an append-only file of records, each chained to the one
 * before it by a BLAKE2b-256 hash, so that changing, removing, reordering
 * or inserting a record is detectable, and removing records from the end
 * is detectable against a known head (docs/audit.md).
 *
 * Format.  One record per line, "\n"-terminated, at most AUDIT_RECORD_MAX
 * bytes with the newline.  A line is compact JSON (no spaces, jansson's
 * escaping, so no raw control character and no newline inside), written
 * in this member order:
 *
 *   {"seq":N,"time":T,"kind":K,"actor":A,<fields>,"prev":P,"hash":H}
 *
 *   seq     1 for the first record, then +1 per record
 *   time    RFC 3339 UTC with microseconds, "2026-11-22T02:39:50.123456Z"
 *   kind    what happened, "cap.grant", "service.start", "audit.recovered"
 *   actor   who did it (credentials from the kernel), "orbitald" by default
 *   fields  the caller's members, sorted by key (strcmp), nested objects
 *           sorted too; "fields_dropped":N follows them when some did not
 *           fit
 *   prev    the hash of the previous record; 64 zeros for seq 1
 *   hash    this record's hash, always the last member
 *
 * Hash.  Let L be the line without its newline.  L always ends with the
 * 75 bytes ,"hash":"<64 lowercase hex digits>"} so L = B + that suffix.
 * The canonical form of the record is C = B + "}": the exact bytes of the
 * line as it would be without the hash member, which is itself a JSON
 * object.  H = lowercase hex of BLAKE2b with a 32-byte output and no key
 * (libsodium crypto_generichash) over C.  Verifiers hash the bytes as they
 * are and never re-encode the JSON, so the member order above is the
 * writer's convention, not something a verifier depends on.
 *
 * Reserved keys.  A field cannot override seq, time, kind, actor, prev,
 * hash or fields_dropped: a field key that is one of those, or that starts
 * with "_", is written with one more "_" in front ("seq" -> "_seq",
 * "_x" -> "__x"), which keeps distinct keys distinct.
 *
 * Head.  (seq, hash) of the last record.  orbitald knows the live head;
 * the file <path>.head holds a recent one, {"seq":N,"hash":H,"clean":B},
 * replaced atomically.  A head proves that the log once reached that
 * record, so a file that ends before it was truncated.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/cleanup.h"

struct loop;
struct audit;

#define AUDIT_RECORD_MAX 4096  /* bytes of a line, newline included */
#define AUDIT_NAME_MAX 128     /* bytes of kind, actor and keys; longer ones are cut */
#define AUDIT_STRING_MAX 1024  /* bytes of a string value; longer ones are cut and marked */
#define AUDIT_ITEMS_MAX 64     /* members of a nested array or object; the rest are counted */
#define AUDIT_DEPTH_MAX 8      /* nesting of field values */
#define AUDIT_HASH_HEX 65      /* 64 hex digits and a NUL */
#define AUDIT_PROBLEMS_MAX 8   /* problems a report describes; it counts all */

enum {
        AUDIT_E_CORRUPT = 1, /* audit_verify(): the log has problems, the report says which */
        AUDIT_E_FORMAT,      /* audit_parse_line(): the line is not a record */
};

/**
 * audit_open() - open or create the log at @path and continue its chain.
 * @out: the log, on success
 * @path: the log file; "<path>.head" and "<path>.head.tmp" sit beside it
 * @loop: borrowed: batches fdatasync() per event-loop batch and writes the
 *        head file from a timer; NULL syncs each record before
 *        audit_record() returns and writes the head file at open and close
 *
 * The file is created with mode 0600 and locked against a second writer.
 * Damage is repaired or recorded, never a reason not to start: a torn final
 * record (a write cut short by a crash) is truncated away and an
 * "audit.recovered" record says how many bytes went; a last record whose
 * hash does not verify, or an unreadable tail, gets an "audit.broken"
 * record chained onto it; a file that ends before the head file's record
 * gets an "audit.truncated" record that continues the head's chain (so
 * verification keeps showing the gap); a previous run that did not close
 * the log gets an "audit.unclean" record.  Each is logged as a warning.
 *
 * Return: 0 and *@out; otherwise always negative, *@out untouched:
 * -EBUSY if another process (another orbitald) holds the log, -EINVAL if
 * @path is not a regular file, -ENOMEM, -errno from open, read, write or
 * ftruncate.  A failed sync at open is logged, not returned.
 */
int audit_open(struct audit **out, const char *path, struct loop *loop);

/**
 * audit_close() - sync the log, write the head file marked clean, free.
 * @a: the log, or NULL
 *
 * Call it before the loop is deinitialised; it cancels its pending sync.
 * Errors are logged: nothing is left for the caller to do about them.
 */
void audit_close(struct audit *a);
DEFINE_CLEANUP(struct audit *, audit_close)

/**
 * audit_record() - append one record.
 * @a: the log
 * @kind: what happened, non-empty; sanitised to UTF-8, cut at AUDIT_NAME_MAX
 * @actor: who did it, or NULL for "orbitald"; sanitised and cut the same way
 * @fields: a JSON object or NULL; BORROWED: the caller keeps its reference.
 *          Strings are made valid UTF-8 and cut at AUDIT_STRING_MAX with a
 *          "...[+N bytes]" mark; nested arrays and objects keep
 *          AUDIT_ITEMS_MAX members and AUDIT_DEPTH_MAX levels; reserved
 *          keys are escaped (top of file).  Fields are added in key order
 *          while the line stays within AUDIT_RECORD_MAX; the others are
 *          dropped and counted in "fields_dropped".
 *
 * The record is written with one write() and is in the file when this
 * returns; it is on disk after the current loop batch (or at once without
 * a loop).  On a failed or short write the file is cut back to the last
 * whole record and the chain does not advance.
 *
 * Return: 0; -EINVAL for an empty @kind or @fields not an object; -ENOMEM;
 * -errno from write(); -EIO while a short write could not be cut back.
 */
int audit_record(struct audit *a, const char *kind, const char *actor, json_t *fields);

/**
 * audit_sync() - put every record written so far on disk now.
 * @a: the log
 *
 * For callers that must not acknowledge something before its record is
 * durable.  The loop batch does the same thing later anyway.
 *
 * Return: 0 or -errno from fdatasync().
 */
int audit_sync(struct audit *a);

/* The last record written (seq 0 and 64 zeros for an empty log). */
void audit_head(const struct audit *a, uint64_t *seq, char hex[AUDIT_HASH_HEX]);
/* fdatasync() calls so far: one per loop batch that wrote records. */
unsigned long audit_n_syncs(const struct audit *a);

/* ---- reading ---- */

/* One line, checked: what audit_parse_line() found. */
struct audit_line {
        uint64_t seq;
        char prev[AUDIT_HASH_HEX];
        char hash[AUDIT_HASH_HEX]; /* as written in the line */
        bool is_hash_ok;           /* the hash over the canonical form matches */
        char why[96];              /* on AUDIT_E_FORMAT: "not JSON", "no seq" ... */
};

/**
 * audit_parse_line() - parse one line and recompute its hash.
 * @line, @len: the line without its newline; need not be NUL-terminated
 * @rec: what the line says
 * @json: if not NULL, on success the parsed object (the caller owns it)
 *
 * Return: 0 (check rec->is_hash_ok); AUDIT_E_FORMAT with rec->why set.
 */
int audit_parse_line(const char *line, size_t len, struct audit_line *rec, json_t **json);

/* A head a log must reach: from the live orbitald or the head file. */
struct audit_expect {
        uint64_t seq;
        char hash[AUDIT_HASH_HEX];
};

struct audit_problem {
        uint64_t line; /* 1-based; one past the last line for truncation */
        uint64_t seq;  /* of the record, 0 if unknown */
        char why[160]; /* "hash mismatch", "seq jumps from 5 to 7" ... */
};

struct audit_report {
        uint64_t n_lines;
        uint64_t n_records;               /* lines that parse as records */
        uint64_t head_seq;                /* the last record's seq, 0 if none */
        char head_hash[AUDIT_HASH_HEX];   /* the last record's hash as written */
        const char *expect_from;          /* "caller", "head file" or "nothing" */
        unsigned n_problems;              /* all of them */
        struct audit_problem problems[AUDIT_PROBLEMS_MAX]; /* the first ones, in file order */
};

/**
 * audit_verify() - check every record, the chain and the head.
 * @path: the log
 * @expect: a head the log must contain, or NULL to use "<path>.head" if
 *          there is one (an unreadable head file is itself a problem)
 * @report: filled in all cases but -errno
 *
 * Problems: "not JSON" or another audit_parse_line() reason, "hash
 * mismatch", "seq jumps from A to B", "seq goes back from A to B",
 * "chain broken: prev does not match record N", "torn final record",
 * "head mismatch: ...", "truncated: file ends at seq A, head says B".
 *
 * Return: 0 if the log is whole; AUDIT_E_CORRUPT with @report listing the
 * problems; -errno if the log cannot be read.
 */
int audit_verify(const char *path, const struct audit_expect *expect, struct audit_report *report);

/**
 * audit_read_head_file() - read "<path>.head".
 * @path: the log (not the head file)
 * @head: what it says
 * @is_clean: if not NULL, whether the writer closed the log cleanly
 *
 * Return: 0; -ENOENT if there is none; AUDIT_E_FORMAT if it is not a
 * head; -errno if it cannot be read.
 */
int audit_read_head_file(const char *path, struct audit_expect *head, bool *is_clean);
