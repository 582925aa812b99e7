/*
 * The configuration store: SQLite, one file, one writer.
 *
 * Tables (format version 1, in PRAGMA user_version):
 *
 *   leaves  (path TEXT PRIMARY KEY, kind INTEGER, value) WITHOUT ROWID
 *           the running configuration, one row per leaf that has a value;
 *           schema defaults are not stored.  value is TEXT or INTEGER as
 *           kind says (change.h).  A list entry exists exactly when its
 *           key leaf has a row.
 *   refs    (from_path TEXT PRIMARY KEY REFERENCES leaves ON DELETE CASCADE,
 *            to_entry TEXT) WITHOUT ROWID, indexed on to_entry
 *           the reverse index of ref leaves: "who points at net.bridge[br0]"
 *           is one index range, whatever the size of the configuration.
 *   commits (id INTEGER PRIMARY KEY, author, time, message, kind, diff)
 *           history; diff is the JSON form of change.h.  Ids are
 *           consecutive: commit N+1 is made on revision N.
 *   state   (one row: revision) the id of the last commit, 0 when none.
 *   pending (one row at most: commit_id, deadline, rollback_to) the
 *           confirmed commit that rolls back unless confirmed.
 *
 * Ordering: every path compares bytewise (BINARY), as path.h requires, so
 * a subtree is two primary-key ranges and never a full scan.
 *
 * Locking: locking_mode=EXCLUSIVE.  One process owns the file; it takes
 * the lock at its first read and keeps it until store_free(), so a second
 * orb-config on the same file fails (-EBUSY after the busy timeout)
 * instead of writing beside the first, and reads cost no lock each (with
 * the shared lock per statement, file locking was most of a 10,000-leaf
 * commit).  The WAL then needs no shared-memory index either.
 *
 * Crash safety: journal_mode=WAL with synchronous=FULL.  A commit is one
 * transaction (BEGIN IMMEDIATE ... COMMIT) that writes the changed leaves,
 * their refs, the history row, the revision, the pending record and the
 * pruning of old history; SQLite makes it all or nothing across a process
 * crash, and FULL syncs the WAL at each COMMIT, so a commit that returned
 * survives power loss too.  NORMAL would only be atomic across power loss,
 * not durable, and a configuration service must not forget a commit it
 * has reported (or a pending confirm whose rollback it owes).  The price is
 * one fsync per commit, which configuration changes can afford.
 *
 * Concurrency: the revision is checked inside the write transaction, so a
 * change made on a stale base fails (STORE_E_CONFLICT) without writing.
 */

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/path.h"
#include "config/store.h"
#include "util/cleanup.h"

#define STORE_VERSION 1
#define BUSY_TIMEOUT_MS 5000

enum stmt {
        ST_BEGIN,
        ST_COMMIT,
        ST_ROLLBACK,
        ST_REVISION,
        ST_SET_REVISION,
        ST_GET,
        ST_RANGE,
        ST_UPSERT,
        ST_DELETE,
        ST_REF_UPSERT,
        ST_REF_DELETE,
        ST_REFS_TO,
        ST_HISTORY_ADD,
        ST_HISTORY,
        ST_HISTORY_FROM,
        ST_HISTORY_MIN,
        ST_PRUNE,
        ST_PENDING_GET,
        ST_PENDING_SET,
        ST_PENDING_CLEAR,
        ST_SAVEPOINT,
        ST_RELEASE,
        ST_ROLLBACK_TO,
        ST__MAX,
};

static const char *const stmt_sql[ST__MAX] = {
        [ST_BEGIN] = "BEGIN IMMEDIATE",
        [ST_COMMIT] = "COMMIT",
        [ST_ROLLBACK] = "ROLLBACK",
        [ST_REVISION] = "SELECT revision FROM state WHERE id = 1",
        [ST_SET_REVISION] = "UPDATE state SET revision = ?1 WHERE id = 1",
        [ST_GET] = "SELECT kind, value FROM leaves WHERE path = ?1",
        [ST_RANGE] = "SELECT path, kind, value FROM leaves WHERE path >= ?1 AND path < ?2 ORDER BY path",
        [ST_UPSERT] = "INSERT INTO leaves (path, kind, value) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, value = excluded.value",
        [ST_DELETE] = "DELETE FROM leaves WHERE path = ?1",
        [ST_REF_UPSERT] = "INSERT INTO refs (from_path, to_entry) VALUES (?1, ?2) "
                          "ON CONFLICT (from_path) DO UPDATE SET to_entry = excluded.to_entry",
        [ST_REF_DELETE] = "DELETE FROM refs WHERE from_path = ?1",
        [ST_REFS_TO] = "SELECT from_path FROM refs WHERE to_entry = ?1 ORDER BY from_path",
        [ST_HISTORY_ADD] = "INSERT INTO commits (id, author, time, message, kind, diff) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        [ST_HISTORY] = "SELECT id, author, time, message, kind, diff FROM commits ORDER BY id DESC LIMIT ?1",
        [ST_HISTORY_FROM] = "SELECT diff FROM commits WHERE id > ?1 ORDER BY id",
        [ST_HISTORY_MIN] = "SELECT min(id) FROM commits",
        [ST_PRUNE] = "DELETE FROM commits WHERE id <= ?1",
        [ST_PENDING_GET] = "SELECT commit_id, deadline, rollback_to FROM pending WHERE id = 1",
        [ST_PENDING_SET] = "INSERT OR REPLACE INTO pending (id, commit_id, deadline, rollback_to) VALUES (1, ?1, ?2, ?3)",
        [ST_PENDING_CLEAR] = "DELETE FROM pending",
        [ST_SAVEPOINT] = "SAVEPOINT store_commit",
        [ST_RELEASE] = "RELEASE store_commit",
        [ST_ROLLBACK_TO] = "ROLLBACK TO store_commit",
};

static const char create_sql[] =
        "CREATE TABLE leaves (path TEXT PRIMARY KEY NOT NULL, kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 2),"
        " value NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE refs (from_path TEXT PRIMARY KEY NOT NULL REFERENCES leaves (path) ON DELETE CASCADE,"
        " to_entry TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE INDEX refs_to_entry ON refs (to_entry);"
        "CREATE TABLE commits (id INTEGER PRIMARY KEY, author TEXT NOT NULL, time INTEGER NOT NULL,"
        " message TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('commit', 'rollback', 'confirm-timeout')),"
        " diff TEXT NOT NULL);"
        "CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);"
        "INSERT INTO state (id, revision) VALUES (1, 0);"
        "CREATE TABLE pending (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " commit_id INTEGER NOT NULL REFERENCES commits (id), deadline INTEGER NOT NULL,"
        " rollback_to INTEGER NOT NULL);"
        "PRAGMA user_version = 1;";

struct store {
        sqlite3 *db;                   /* owned */
        sqlite3_stmt *stmt[ST__MAX];   /* owned, prepared on first use */
        bool is_scanning[ST__MAX];     /* a scan with this statement is running its callbacks */
        unsigned history_max;
        bool in_batch;                 /* inside store_batch_begin() .. store_batch_end() */
        char errmsg[256];              /* the last SQLite failure, for logs */
};

const char *store_kind_name(enum store_kind k)
{
        static const char *const names[] = { "commit", "rollback", "confirm-timeout" };

        return (unsigned)k < ARRAY_SIZE(names) ? names[k] : "unknown";
}

static bool kind_parse(const char *s, enum store_kind *out)
{
        for (enum store_kind k = STORE_COMMIT; k <= STORE_CONFIRM_TIMEOUT; k++)
                if (s && !strcmp(s, store_kind_name(k))) {
                        *out = k;
                        return true;
                }
        return false;
}

const char *store_errmsg(const struct store *st)
{
        return st->errmsg;
}

/* An SQLite result code as this module's return value; keeps the message. */
static int fail_sql(struct store *st, int rc)
{
        snprintf(st->errmsg, sizeof(st->errmsg), "%s", sqlite3_errmsg(st->db));
        switch (rc & 0xff) {
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return STORE_E_CORRUPT;
        case SQLITE_CANTOPEN:
                return sqlite3_system_errno(st->db) ? -sqlite3_system_errno(st->db) : -EIO;
        default:
                return -EIO;
        }
}

/* The prepared statement @s, reset and with no bindings. */
static int stmt_get(struct store *st, enum stmt s, sqlite3_stmt **out)
{
        int rc;

        if (!st->stmt[s]) {
                rc = sqlite3_prepare_v3(st->db, stmt_sql[s], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[s], NULL);
                if (rc != SQLITE_OK)
                        return fail_sql(st, rc);
        }
        sqlite3_reset(st->stmt[s]);
        sqlite3_clear_bindings(st->stmt[s]);
        *out = st->stmt[s];
        return 0;
}

/* Runs a statement that returns no row. */
static int stmt_done(struct store *st, sqlite3_stmt *s)
{
        int rc = sqlite3_step(s);

        sqlite3_reset(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return fail_sql(st, rc);
        return 0;
}

static int exec_simple(struct store *st, enum stmt s)
{
        sqlite3_stmt *q = NULL;
        int r = stmt_get(st, s, &q);

        return r ? r : stmt_done(st, q);
}

static int exec_sql(struct store *st, const char *sql)
{
        int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? 0 : fail_sql(st, rc);
}

static int pragma_int(struct store *st, const char *sql, int64_t *out)
{
        sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);

        if (rc == SQLITE_OK) {
                rc = sqlite3_step(q);
                if (rc == SQLITE_ROW) {
                        *out = sqlite3_column_int64(q, 0);
                        rc = SQLITE_OK;
                }
        }
        if (rc != SQLITE_OK && rc != SQLITE_DONE) {
                int r = fail_sql(st, rc);

                sqlite3_finalize(q);
                return r;
        }
        sqlite3_finalize(q);
        return 0;
}

/* Creates the tables of a new file, or checks the version of an old one. */
static int migrate(struct store *st)
{
        int64_t version = 0;
        int r;

        r = exec_sql(st, "BEGIN IMMEDIATE");
        if (!r)
                r = pragma_int(st, "PRAGMA user_version", &version);
        if (!r && version == 0)
                r = exec_sql(st, create_sql);
        if (!r && version > STORE_VERSION) {
                snprintf(st->errmsg, sizeof(st->errmsg), "store format %" PRId64 " is newer than this program's (%d)",
                         version, STORE_VERSION);
                r = STORE_E_CORRUPT;
        }
        /* Later versions: "if (version < 2) add what 2 adds", in order. */
        if (!r)
                r = exec_sql(st, "COMMIT");
        if (r)
                sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

/**
 * store_open() - open or create a store file.
 * @filename: the SQLite file; its -wal and -shm files sit beside it
 * @o: options, may be NULL
 * @out: the store
 *
 * Sets WAL, synchronous=FULL, foreign keys and a busy timeout, then
 * creates the tables or checks the format version.
 *
 * Return: 0, STORE_E_CORRUPT (not a store, or a newer format), or a
 * negative errno (-ENOMEM, -EACCES, -ENOENT, -EBUSY, -EIO).
 */
int store_open(const char *filename, const struct store_options *o, struct store **out)
{
        struct store *st = calloc(1, sizeof(*st));
        int64_t fk = 0;
        int rc, r;

        if (!st)
                return -ENOMEM;
        st->history_max = o && o->history_max ? o->history_max : STORE_HISTORY_DEFAULT;
        rc = sqlite3_open_v2(filename, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
        if (rc != SQLITE_OK) {
                r = st->db ? fail_sql(st, rc) : -ENOMEM;
                store_free(st);
                return r;
        }
        sqlite3_extended_result_codes(st->db, 1);
        sqlite3_busy_timeout(st->db, o && o->busy_timeout_ms ? (int)o->busy_timeout_ms : BUSY_TIMEOUT_MS);
        r = exec_sql(st, "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                         "PRAGMA foreign_keys = ON;"
                         "PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY");
        if (!r)
                r = pragma_int(st, "PRAGMA foreign_keys", &fk);
        if (!r && !fk)
                r = -ENOTSUP; /* an SQLite built without foreign keys */
        if (!r)
                r = migrate(st);
        if (r) {
                store_free(st);
                return r;
        }
        *out = st;
        return 0;
}

struct store *store_free(struct store *st)
{
        if (!st)
                return NULL;
        for (int i = 0; i < ST__MAX; i++)
                sqlite3_finalize(st->stmt[i]);
        sqlite3_close(st->db);
        free(st);
        return NULL;
}

static int read_revision(struct store *st, uint64_t *out)
{
        sqlite3_stmt *q = NULL;
        int r = stmt_get(st, ST_REVISION, &q), rc;

        if (r)
                return r;
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW) {
                r = rc == SQLITE_DONE ? STORE_E_CORRUPT : fail_sql(st, rc);
                sqlite3_reset(q);
                return r;
        }
        *out = (uint64_t)sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        return 0;
}

/**
 * store_revision() - the id of the last commit, 0 before the first.
 *
 * Return: 0, STORE_E_CORRUPT, or a negative errno.
 */
int store_revision(struct store *st, uint64_t *out)
{
        return read_revision(st, out);
}

/* A value from columns @col (kind) and @col + 1 (value); text borrowed from SQLite. */
static int column_value(sqlite3_stmt *q, int col, struct cfg_value *v)
{
        int kind = sqlite3_column_int(q, col);

        *v = (struct cfg_value)CFG_VALUE_INIT;
        if (kind == CFG_KIND_INT || kind == CFG_KIND_BOOL) {
                v->kind = (enum cfg_kind)kind;
                v->i = sqlite3_column_int64(q, col + 1);
                return 0;
        }
        if (kind != CFG_KIND_TEXT)
                return STORE_E_CORRUPT;
        v->s = (char *)sqlite3_column_text(q, col + 1);
        return v->s ? 0 : -ENOMEM;
}

static int bind_value(sqlite3_stmt *q, int idx, const struct cfg_value *v)
{
        sqlite3_bind_int(q, idx, (int)v->kind);
        if (v->kind == CFG_KIND_TEXT)
                return sqlite3_bind_text(q, idx + 1, v->s ? v->s : "", -1, SQLITE_STATIC);
        return sqlite3_bind_int64(q, idx + 1, v->i);
}

/**
 * store_get() - the running value of one leaf.
 * @out: the value; its text is owned by the caller
 *
 * Return: 0, STORE_E_NOT_FOUND, STORE_E_CORRUPT, or a negative errno.
 */
int store_get(struct store *st, const char *path, struct cfg_value *out)
{
        struct cfg_value v;
        sqlite3_stmt *q = NULL;
        int r = stmt_get(st, ST_GET, &q), rc;

        if (r)
                return r;
        sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                r = STORE_E_NOT_FOUND;
        else if (rc != SQLITE_ROW)
                r = fail_sql(st, rc);
        else {
                r = column_value(q, 0, &v);
                if (!r)
                        r = value_copy(out, &v);
        }
        sqlite3_reset(q);
        return r;
}

/**
 * store_has() - does a leaf have a running value?
 *
 * Return: 0 or a negative errno.
 */
int store_has(struct store *st, const char *path, bool *out)
{
        sqlite3_stmt *q = NULL;
        int r = stmt_get(st, ST_GET, &q), rc;

        if (r)
                return r;
        sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return fail_sql(st, rc);
        *out = rc == SQLITE_ROW;
        return 0;
}

/*
 * A statement for a scan that calls back: the cached one, unless a scan
 * with it is running (a callback that scans again), then a private one.
 */
static int scan_begin(struct store *st, enum stmt s, sqlite3_stmt **out, bool *is_private)
{
        int rc;

        *is_private = st->is_scanning[s];
        if (!*is_private) {
                int r = stmt_get(st, s, out);

                if (!r)
                        st->is_scanning[s] = true;
                return r;
        }
        rc = sqlite3_prepare_v2(st->db, stmt_sql[s], -1, out, NULL);
        return rc == SQLITE_OK ? 0 : fail_sql(st, rc);
}

static void scan_end(struct store *st, enum stmt s, sqlite3_stmt *q, bool is_private)
{
        if (is_private) {
                sqlite3_finalize(q);
                return;
        }
        sqlite3_reset(q);
        st->is_scanning[s] = false;
}

static int scan_range(struct store *st, const char *lo, const char *hi, store_leaf_fn fn, void *ctx)
{
        sqlite3_stmt *q = NULL;
        bool is_private;
        int r, rc = SQLITE_DONE;

        r = scan_begin(st, ST_RANGE, &q, &is_private);
        if (r)
                return r;
        sqlite3_bind_text(q, 1, lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, hi, -1, SQLITE_TRANSIENT);
        while (!r && (rc = sqlite3_step(q)) == SQLITE_ROW) {
                struct cfg_value v;

                r = column_value(q, 1, &v);
                if (!r)
                        r = fn((const char *)sqlite3_column_text(q, 0), &v, ctx);
        }
        if (!r && rc != SQLITE_DONE)
                r = fail_sql(st, rc);
        scan_end(st, ST_RANGE, q, is_private);
        return r;
}

/**
 * store_list() - every running leaf at or under @prefix, in path order.
 * @prefix: a valid path, or "" for everything
 * @fn: called per leaf with a borrowed value; a nonzero return stops the
 *      scan and is returned
 *
 * Two primary-key ranges (path_subtree_ranges()) and one point lookup:
 * the cost follows the size of the subtree, not of the store.
 *
 * Return: 0, @fn's code, STORE_E_CORRUPT, or a negative errno.
 */
int store_list(struct store *st, const char *prefix, store_leaf_fn fn, void *ctx)
{
        char lo[2][PATH_TEXT_MAX + 2], hi[2][PATH_TEXT_MAX + 2];
        struct cfg_value v = CFG_VALUE_INIT;
        int r;

        if (!prefix[0])
                return scan_range(st, "", "\x7f", fn, ctx);
        r = store_get(st, prefix, &v);
        if (!r) {
                r = fn(prefix, &v, ctx);
                value_deinit(&v);
                if (r)
                        return r;
        } else if (r != STORE_E_NOT_FOUND)
                return r;
        path_subtree_ranges(prefix, lo, hi);
        /* "p." sorts before "p[": keep path order. */
        r = scan_range(st, lo[0], hi[0], fn, ctx);
        return r ? r : scan_range(st, lo[1], hi[1], fn, ctx);
}

/**
 * store_refs_to() - the ref leaves that point at a list entry.
 * @entry: "net.bridge[br0]"
 * @fn: called per referring leaf path; nonzero stops and is returned
 *
 * Return: 0, @fn's code, or a negative errno.
 */
int store_refs_to(struct store *st, const char *entry, store_ref_fn fn, void *ctx)
{
        sqlite3_stmt *q = NULL;
        bool is_private;
        int r, rc = SQLITE_DONE;

        r = scan_begin(st, ST_REFS_TO, &q, &is_private);
        if (r)
                return r;
        sqlite3_bind_text(q, 1, entry, -1, SQLITE_TRANSIENT);
        while (!r && (rc = sqlite3_step(q)) == SQLITE_ROW)
                r = fn((const char *)sqlite3_column_text(q, 0), ctx);
        if (!r && rc != SQLITE_DONE)
                r = fail_sql(st, rc);
        scan_end(st, ST_REFS_TO, q, is_private);
        return r;
}

static int write_delta(struct store *st, const struct cfg_delta *d)
{
        sqlite3_stmt *q = NULL;
        int r;

        if (!d->has_new) {
                /* ON DELETE CASCADE drops its ref row. */
                r = stmt_get(st, ST_DELETE, &q);
                if (r)
                        return r;
                sqlite3_bind_text(q, 1, d->path, -1, SQLITE_STATIC);
                return stmt_done(st, q);
        }
        r = stmt_get(st, ST_UPSERT, &q);
        if (r)
                return r;
        sqlite3_bind_text(q, 1, d->path, -1, SQLITE_STATIC);
        bind_value(q, 2, &d->new);
        r = stmt_done(st, q);
        if (r)
                return r;
        if (d->ref_to) {
                r = stmt_get(st, ST_REF_UPSERT, &q);
                if (r)
                        return r;
                sqlite3_bind_text(q, 1, d->path, -1, SQLITE_STATIC);
                sqlite3_bind_text(q, 2, d->ref_to, -1, SQLITE_STATIC);
                return stmt_done(st, q);
        }
        if (!d->has_old || d->old.kind != CFG_KIND_TEXT)
                return 0; /* a ref's value is text: nothing else had a ref row */
        /* A leaf that was a ref under an older schema is one no longer. */
        r = stmt_get(st, ST_REF_DELETE, &q);
        if (r)
                return r;
        sqlite3_bind_text(q, 1, d->path, -1, SQLITE_STATIC);
        return stmt_done(st, q);
}

static int read_pending(struct store *st, struct store_pending *out)
{
        sqlite3_stmt *q = NULL;
        int r = stmt_get(st, ST_PENDING_GET, &q), rc;

        if (r)
                return r;
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
                out->commit_id = (uint64_t)sqlite3_column_int64(q, 0);
                out->deadline = (usec_t)sqlite3_column_int64(q, 1);
                out->rollback_to = (uint64_t)sqlite3_column_int64(q, 2);
        }
        r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_E_NOT_FOUND : fail_sql(st, rc);
        sqlite3_reset(q);
        return r;
}

/* Records a pending confirm for commit @id; an earlier unconfirmed one keeps its rollback point. */
static int write_pending(struct store *st, uint64_t id, uint64_t base, usec_t deadline)
{
        struct store_pending p;
        sqlite3_stmt *q = NULL;
        int r = read_pending(st, &p);

        if (r == STORE_E_NOT_FOUND)
                p.rollback_to = base;
        else if (r)
                return r;
        r = stmt_get(st, ST_PENDING_SET, &q);
        if (r)
                return r;
        sqlite3_bind_int64(q, 1, (int64_t)id);
        sqlite3_bind_int64(q, 2, (int64_t)deadline);
        sqlite3_bind_int64(q, 3, (int64_t)p.rollback_to);
        return stmt_done(st, q);
}

/* Deletes history older than the newest @keep commits, but never what a pending rollback needs. */
static int prune_locked(struct store *st, uint64_t revision, unsigned keep)
{
        struct store_pending p;
        uint64_t limit;
        sqlite3_stmt *q = NULL;
        int r;

        if (keep < 1)
                keep = 1;
        if (revision <= keep)
                return 0;
        limit = revision - keep;
        r = read_pending(st, &p);
        if (r == 0 && limit > p.rollback_to)
                limit = p.rollback_to;
        else if (r && r != STORE_E_NOT_FOUND)
                return r;
        r = stmt_get(st, ST_PRUNE, &q);
        if (r)
                return r;
        sqlite3_bind_int64(q, 1, (int64_t)limit);
        return stmt_done(st, q);
}

static int add_history(struct store *st, uint64_t id, const struct store_commit_info *info, const char *diff)
{
        sqlite3_stmt *q = NULL;
        int r = stmt_get(st, ST_HISTORY_ADD, &q);

        if (r)
                return r;
        sqlite3_bind_int64(q, 1, (int64_t)id);
        sqlite3_bind_text(q, 2, info->author ? info->author : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (int64_t)info->time);
        sqlite3_bind_text(q, 4, info->message ? info->message : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, store_kind_name(info->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 6, diff, -1, SQLITE_STATIC);
        return stmt_done(st, q);
}

static int set_revision(struct store *st, uint64_t id)
{
        sqlite3_stmt *q = NULL;
        int r = stmt_get(st, ST_SET_REVISION, &q);

        if (r)
                return r;
        sqlite3_bind_int64(q, 1, (int64_t)id);
        return stmt_done(st, q);
}

/* Everything store_commit() writes, inside its transaction. */
static int commit_locked(struct store *st, uint64_t base, const struct cfg_changes *c,
                         const struct store_commit_info *info, const char *diff)
{
        uint64_t revision;
        int r = read_revision(st, &revision);

        if (r)
                return r;
        if (revision != base) {
                snprintf(st->errmsg, sizeof(st->errmsg), "running revision is %" PRIu64 ", the change was made on %" PRIu64,
                         revision, base);
                return STORE_E_CONFLICT;
        }
        for (size_t i = 0; i < c->n && !r; i++)
                r = write_delta(st, &c->v[i]);
        if (!r)
                r = add_history(st, base + 1, info, diff);
        if (!r)
                r = set_revision(st, base + 1);
        if (!r && info->clears_pending)
                r = exec_simple(st, ST_PENDING_CLEAR);
        if (!r && info->confirm_deadline)
                r = write_pending(st, base + 1, base, info->confirm_deadline);
        if (!r)
                r = prune_locked(st, base + 1, st->history_max);
        return r;
}

/**
 * store_commit() - apply a change set as one transaction.
 * @st: the store
 * @base: the revision the change was made on
 * @c: deltas; only has_new/new and ref_to are written, has_old/old go to history
 * @info: author, message, kind, time, and the pending-confirm record to write or clear
 * @id: the new revision
 *
 * Writes only the changed leaves (and their ref rows), the history row
 * with @c's JSON diff, the revision, the pending record if asked, and
 * prunes history past the configured bound.  If the running revision is
 * not @base nothing is written.
 *
 * Return: 0, STORE_E_CONFLICT, STORE_E_CORRUPT, or a negative errno (then
 * nothing was written either).
 */
int store_commit(struct store *st, uint64_t base, const struct cfg_changes *c, const struct store_commit_info *info,
                 uint64_t *id)
{
        _cleanup_free_ char *diff = NULL;
        int r;

        r = changes_to_json_text(c, &diff);
        if (r)
                return r;
        /* In a batch, a savepoint undoes a failed commit and leaves the batch open. */
        r = exec_simple(st, st->in_batch ? ST_SAVEPOINT : ST_BEGIN);
        if (r)
                return r;
        r = commit_locked(st, base, c, info, diff);
        if (!r)
                r = exec_simple(st, st->in_batch ? ST_RELEASE : ST_COMMIT);
        if (r) {
                char saved[sizeof(st->errmsg)];

                memcpy(saved, st->errmsg, sizeof(saved));
                if (st->in_batch) {
                        exec_simple(st, ST_ROLLBACK_TO);
                        exec_simple(st, ST_RELEASE);
                } else {
                        exec_simple(st, ST_ROLLBACK);
                }
                memcpy(st->errmsg, saved, sizeof(saved));
                return r;
        }
        *id = base + 1;
        return 0;
}

/**
 * store_batch_begin() - start one write transaction for a sequence of
 * reads and at most a few store_commit()s, so that what is read (to
 * validate) is what the commit applies to, and reads cost no lock each.
 *
 * Return: 0, -EBUSY (already in a batch), or a negative errno.
 */
int store_batch_begin(struct store *st)
{
        int r;

        if (st->in_batch)
                return -EBUSY;
        r = exec_simple(st, ST_BEGIN);
        if (!r)
                st->in_batch = true;
        return r;
}

/**
 * store_batch_end() - end the batch: make its commits durable, or (@ok
 * false) undo them all.
 *
 * Return: 0 or a negative errno (then the batch was rolled back).
 */
int store_batch_end(struct store *st, bool ok)
{
        int r = 0;

        if (!st->in_batch)
                return 0;
        st->in_batch = false;
        if (ok)
                r = exec_simple(st, ST_COMMIT);
        if (!ok || r)
                exec_simple(st, ST_ROLLBACK);
        return r;
}

void store_records_free(struct store_record *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].author);
                free(v[i].message);
                free(v[i].diff);
        }
        free(v);
}

static char *dup_column(sqlite3_stmt *q, int col)
{
        const unsigned char *s = sqlite3_column_text(q, col);

        return strdup(s ? (const char *)s : "");
}

/**
 * store_history() - the newest @max commits, newest first.
 * @out, @n: an array the caller frees with store_records_free()
 *
 * Return: 0, STORE_E_CORRUPT, or a negative errno.
 */
int store_history(struct store *st, unsigned max, struct store_record **out, size_t *n)
{
        struct store_record *v = NULL;
        size_t k = 0;
        sqlite3_stmt *q = NULL;
        int r = stmt_get(st, ST_HISTORY, &q), rc;

        if (r)
                return r;
        v = calloc(max ? max : 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        sqlite3_bind_int64(q, 1, max);
        while (!r && (rc = sqlite3_step(q)) == SQLITE_ROW) {
                struct store_record *rec = &v[k++];

                rec->id = (uint64_t)sqlite3_column_int64(q, 0);
                rec->time = (usec_t)sqlite3_column_int64(q, 2);
                rec->author = dup_column(q, 1);
                rec->message = dup_column(q, 3);
                rec->diff = dup_column(q, 5);
                if (!rec->author || !rec->message || !rec->diff)
                        r = -ENOMEM;
                else if (!kind_parse((const char *)sqlite3_column_text(q, 4), &rec->kind))
                        r = STORE_E_CORRUPT;
        }
        if (!r && rc != SQLITE_DONE)
                r = fail_sql(st, rc);
        sqlite3_reset(q);
        if (r) {
                store_records_free(v, k);
                return r;
        }
        *out = v;
        *n = k;
        return 0;
}

/* One delta of one commit, while the inverse is assembled. */
struct step {
        uint64_t seq;             /* order of commits, then of deltas */
        const struct cfg_delta *d; /* borrowed from the commit's parsed set */
};

static int step_cmp(const void *a, const void *b)
{
        const struct step *x = a, *y = b;
        int c = strcmp(x->d->path, y->d->path);

        return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Parses the diffs of every commit after @n, oldest first, into @sets. */
static int load_diffs(struct store *st, uint64_t n, uint64_t count, struct cfg_changes *sets)
{
        sqlite3_stmt *q = NULL;
        uint64_t k = 0;
        int r = stmt_get(st, ST_HISTORY_FROM, &q), rc;

        if (r)
                return r;
        sqlite3_bind_int64(q, 1, (int64_t)n);
        while (!r && (rc = sqlite3_step(q)) == SQLITE_ROW) {
                const char *text = (const char *)sqlite3_column_text(q, 0);
                json_t *j = text ? json_loads(text, 0, NULL) : NULL;

                if (k >= count)
                        r = STORE_E_CORRUPT;
                else
                        r = j ? changes_from_json(j, &sets[k++]) : STORE_E_CORRUPT;
                if (r == -EBADMSG)
                        r = STORE_E_CORRUPT;
                json_decref(j);
        }
        if (!r && rc != SQLITE_DONE)
                r = fail_sql(st, rc);
        sqlite3_reset(q);
        if (!r && k != count)
                r = STORE_E_CORRUPT;
        return r;
}

/* From the sorted steps: per path, the latest new value back to the earliest old one. */
static int fold_steps(struct step *steps, size_t n_steps, struct cfg_changes *out)
{
        for (size_t i = 0; i < n_steps;) {
                size_t j = i;
                const struct cfg_delta *first = steps[i].d, *last;

                while (j + 1 < n_steps && !strcmp(steps[j + 1].d->path, first->path))
                        j++;
                last = steps[j].d;
                i = j + 1;
                if (first->has_old == last->has_new && (!first->has_old || value_equal(&first->old, &last->new)))
                        continue;
                int r = changes_add(out, first->path, last->has_new ? &last->new : NULL,
                                    first->has_old ? &first->old : NULL, NULL, NULL);
                if (r)
                        return r;
        }
        return 0;
}

/**
 * store_inverse() - the change set that brings the running configuration
 * back to what it was right after commit @n (0: empty).
 * @out: deltas from the running values (old) to those of revision @n
 *       (new), sorted; refs are not filled (a candidate recomputes them)
 *
 * Reads the diffs of commits @n+1 .. current, nothing else: per path the
 * value before its first change after @n is the one to restore.
 *
 * Return: 0, STORE_E_NOT_FOUND (@n is past the running revision),
 * STORE_E_PRUNED (history after @n is gone), STORE_E_CORRUPT, or a
 * negative errno.
 */
int store_inverse(struct store *st, uint64_t n, struct cfg_changes *out)
{
        struct cfg_changes *sets = NULL, result = CFG_CHANGES_INIT;
        struct step *steps = NULL;
        uint64_t revision, count, min_id = 0;
        size_t n_steps = 0, k = 0;
        sqlite3_stmt *q = NULL;
        int r, rc;

        r = read_revision(st, &revision);
        if (r)
                return r;
        if (n > revision)
                return STORE_E_NOT_FOUND;
        count = revision - n;
        if (count) {
                r = stmt_get(st, ST_HISTORY_MIN, &q);
                if (r)
                        return r;
                rc = sqlite3_step(q);
                if (rc == SQLITE_ROW)
                        min_id = (uint64_t)sqlite3_column_int64(q, 0);
                sqlite3_reset(q);
                if (rc != SQLITE_ROW)
                        return fail_sql(st, rc);
                if (min_id == 0 || min_id > n + 1)
                        return STORE_E_PRUNED;
        }
        sets = calloc(count ? count : 1, sizeof(*sets));
        if (!sets)
                return -ENOMEM;
        r = load_diffs(st, n, count, sets);
        for (uint64_t i = 0; !r && i < count; i++)
                n_steps += sets[i].n;
        if (!r && n_steps && !(steps = calloc(n_steps, sizeof(*steps))))
                r = -ENOMEM;
        for (uint64_t i = 0; !r && i < count; i++)
                for (size_t j = 0; j < sets[i].n; j++, k++)
                        steps[k] = (struct step){ .seq = k, .d = &sets[i].v[j] };
        if (!r && n_steps)
                qsort(steps, n_steps, sizeof(*steps), step_cmp);
        if (!r)
                r = fold_steps(steps, n_steps, &result);
        for (uint64_t i = 0; i < count; i++)
                changes_deinit(&sets[i]);
        free(sets);
        free(steps);
        if (r) {
                changes_deinit(&result);
                return r;
        }
        changes_sort(&result);
        *out = result;
        return 0;
}

/**
 * store_prune() - keep only the newest @keep commits (at least 1), and
 * whatever a pending confirm's rollback needs.
 *
 * Return: 0 or a negative errno.
 */
int store_prune(struct store *st, unsigned keep)
{
        uint64_t revision;
        int r = exec_simple(st, st->in_batch ? ST_SAVEPOINT : ST_BEGIN);

        if (r)
                return r;
        r = read_revision(st, &revision);
        if (!r)
                r = prune_locked(st, revision, keep);
        if (!r)
                r = exec_simple(st, st->in_batch ? ST_RELEASE : ST_COMMIT);
        if (r && st->in_batch) {
                exec_simple(st, ST_ROLLBACK_TO);
                exec_simple(st, ST_RELEASE);
        } else if (r) {
                exec_simple(st, ST_ROLLBACK);
        }
        return r;
}

/**
 * store_pending_get() - the pending confirmed commit, if any.
 *
 * Return: 0, STORE_E_NOT_FOUND, or a negative errno.
 */
int store_pending_get(struct store *st, struct store_pending *out)
{
        return read_pending(st, out);
}

/**
 * store_pending_clear() - forget the pending confirm (it was confirmed).
 *
 * Return: 0 or a negative errno.
 */
int store_pending_clear(struct store *st)
{
        return exec_simple(st, ST_PENDING_CLEAR);
}
