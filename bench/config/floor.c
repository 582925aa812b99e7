/*
 * bench/config/floor.c - the floor: raw SQLite writing the same leaves as
 * orb-config's store, and nothing else.  The same table as store.c's
 * (leaves (path PRIMARY KEY, kind, value) WITHOUT ROWID), the same
 * settings (exclusive locking, WAL, synchronous=FULL, 16 MiB page cache)
 * and the same upsert, N of them in one transaction (BEGIN IMMEDIATE ..
 * COMMIT, fsync included).  No schema, no validation, no reading of the
 * old values, no history row: what any SQLite-backed store must pay at
 * least for a durable commit of N leaves.
 *
 *   floor --dir DIR     then commands on stdin, as bench/config/commit.c:
 *   load NAME LEAVES | commit NAME N [spread|block] | close NAME | quit
 *
 * The commit number k (leaves.h) is kept in a one-row table of the file,
 * written in the same transaction.
 */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leaves.h"

#define STORES_MAX 8

struct fstore {
        char name[64];
        sqlite3 *db;          /* owned */
        sqlite3_stmt *upsert; /* owned */
        unsigned n_entries;
        uint64_t k;           /* commits so far */
};

static struct fstore stores[STORES_MAX];
static const char *dir;

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(struct fstore *f, const char *what)
{
        printf("error %s: %s\n", what, f->db ? sqlite3_errmsg(f->db) : "no database");
        exit(1);
}

static void exec_sql(struct fstore *f, const char *sql)
{
        if (sqlite3_exec(f->db, sql, NULL, NULL, NULL) != SQLITE_OK)
                die(f, sql);
}

static struct fstore *find(const char *name)
{
        for (unsigned i = 0; i < STORES_MAX; i++)
                if (stores[i].db && !strcmp(stores[i].name, name))
                        return &stores[i];
        return NULL;
}

static void upsert(struct fstore *f, unsigned e, enum leaf l, uint64_t k)
{
        char path[96], value[64];

        leaf_path(path, sizeof(path), e, l);
        leaf_value(value, sizeof(value), e, l, k);
        sqlite3_bind_text(f->upsert, 1, path, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(f->upsert, 2, leaf_is_int(l) ? 1 : 0);
        if (leaf_is_int(l))
                sqlite3_bind_int64(f->upsert, 3, strtoll(value, NULL, 10));
        else
                sqlite3_bind_text(f->upsert, 3, value, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(f->upsert) != SQLITE_DONE)
                die(f, "upsert");
        sqlite3_reset(f->upsert);
}

static void do_load(const char *name, unsigned leaves)
{
        struct fstore *f = NULL;
        char file[4096];
        uint64_t t0, t1;

        for (unsigned i = 0; i < STORES_MAX && !f; i++)
                if (!stores[i].db)
                        f = &stores[i];
        if (!f || find(name) || leaves % LEAVES_PER_ENTRY || strlen(name) >= sizeof(f->name)) {
                printf("error load %s %u: no room, a duplicate name, or not a multiple of %u\n", name, leaves,
                       LEAVES_PER_ENTRY);
                return;
        }
        snprintf(file, sizeof(file), "%s/%s.db", dir, name);
        remove(file);
        if (sqlite3_open_v2(file, &f->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL))
                die(f, "open");
        snprintf(f->name, sizeof(f->name), "%s", name);
        f->n_entries = leaves / LEAVES_PER_ENTRY;
        f->k = 0;
        exec_sql(f, "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                    "PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;"
                    "CREATE TABLE leaves (path TEXT PRIMARY KEY NOT NULL, kind INTEGER NOT NULL, value NOT NULL)"
                    " WITHOUT ROWID;"
                    "CREATE TABLE state (id INTEGER PRIMARY KEY, k INTEGER NOT NULL);"
                    "INSERT INTO state VALUES (1, 0)");
        if (sqlite3_prepare_v2(f->db,
                               "INSERT INTO leaves (path, kind, value) VALUES (?1, ?2, ?3) "
                               "ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, value = excluded.value",
                               -1, &f->upsert, NULL) != SQLITE_OK)
                die(f, "prepare");
        t0 = now_ns();
        exec_sql(f, "BEGIN IMMEDIATE");
        for (unsigned e = 0; e < f->n_entries; e++)
                for (unsigned l = 0; l < LEAVES_PER_ENTRY; l++)
                        upsert(f, e, l, 0);
        exec_sql(f, "COMMIT");
        t1 = now_ns();
        printf("ok commit_ns=%llu leaves=%u\n", (unsigned long long)(t1 - t0), leaves);
}

static void do_commit(const char *name, unsigned n_leaves, enum change_shape shape)
{
        struct fstore *f = find(name);
        unsigned first, stride, count, changed = 0;
        uint64_t t0, t1, k;
        char sql[96];

        if (!f) {
                printf("error no store %s\n", name);
                return;
        }
        k = f->k + 1;
        if (change_plan(f->n_entries, n_leaves, k, shape, &first, &stride, &count) < 0) {
                printf("error %u leaves cannot change in a store of %u entries\n", n_leaves, f->n_entries);
                return;
        }
        t0 = now_ns();
        exec_sql(f, "BEGIN IMMEDIATE");
        for (unsigned j = 0; j < count; j++)
                for (unsigned l = LEAF_MTU; l <= LEAF_ALIAS; l++) {
                        upsert(f, first + j * stride, l, k);
                        changed += (unsigned)sqlite3_changes(f->db);
                }
        snprintf(sql, sizeof(sql), "UPDATE state SET k = %llu WHERE id = 1", (unsigned long long)k);
        exec_sql(f, sql);
        exec_sql(f, "COMMIT");
        t1 = now_ns();
        f->k = k;
        printf("ok commit_ns=%llu changed=%u rev=%llu\n", (unsigned long long)(t1 - t0), changed,
               (unsigned long long)k);
}

static void do_close(const char *name)
{
        struct fstore *f = find(name);

        if (!f) {
                printf("error no store %s\n", name);
                return;
        }
        sqlite3_finalize(f->upsert);
        sqlite3_close(f->db);
        *f = (struct fstore){0};
        printf("ok closed=%s\n", name);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {{"dir", required_argument, NULL, 'd'}, {0}};
        char line[512], cmd[32], name[64], shape[16];
        unsigned n;
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c != 'd')
                        return 100;
                dir = optarg;
        }
        if (!dir) {
                fprintf(stderr, "usage: floor --dir DIR < commands\n");
                return 100;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        while (fgets(line, sizeof(line), stdin)) {
                if (sscanf(line, "%31s", cmd) != 1)
                        continue;
                if (!strcmp(cmd, "quit"))
                        break;
                if (!strcmp(cmd, "load") && sscanf(line, "%*s %63s %u", name, &n) == 2)
                        do_load(name, n);
                else if (!strcmp(cmd, "commit") && sscanf(line, "%*s %63s %u", name, &n) == 2) {
                        if (sscanf(line, "%*s %*s %*u %15s", shape) != 1)
                                shape[0] = 0;
                        do_commit(name, n, change_shape_of(shape));
                }
                else if (!strcmp(cmd, "close") && sscanf(line, "%*s %63s", name) == 1)
                        do_close(name);
                else
                        printf("error unknown command: %s", line);
        }
        for (unsigned i = 0; i < STORES_MAX; i++)
                if (stores[i].db) {
                        sqlite3_finalize(stores[i].upsert);
                        sqlite3_close(stores[i].db);
                }
        return 0;
}
