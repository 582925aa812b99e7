/* Unit test of the store: open and format version, commit, get and subtree
 * listing, the reverse index of refs, optimistic concurrency on the base
 * revision, history, inverse change sets for rollback, pruning, the pending
 * confirm record across close and reopen, and commit timing at scale. */
#include "test-util.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>

#include "config/store.h"

#define TEXT(str) (&(struct cfg_value){ .kind = CFG_KIND_TEXT, .s = (char *)(str) })
#define NUM(n) (&(struct cfg_value){ .kind = CFG_KIND_INT, .i = (n) })

static const struct store_commit_info plain = { .author = "test", .message = "m", .time = 1 };

/* Commits one set (or removal, when v is NULL) with its old value from the store. */
static int commit1(struct store *st, uint64_t base, const char *path, const struct cfg_value *v, const char *ref_to)
{
        struct cfg_changes c = CFG_CHANGES_INIT;
        struct cfg_value old = CFG_VALUE_INIT;
        bool has_old = store_get(st, path, &old) == 0;
        uint64_t id;
        int r;

        assert(changes_add(&c, path, has_old ? &old : NULL, v, ref_to, NULL) == 0);
        value_deinit(&old);
        r = store_commit(st, base, &c, &plain, &id);
        assert(r || id == base + 1);
        changes_deinit(&c);
        return r;
}

static int collect(const char *path, const struct cfg_value *v, void *ctx)
{
        char *buf = ctx, val[64];

        strcat(buf, path);
        strcat(buf, "=");
        strcat(buf, value_format(v, val, sizeof(val)));
        strcat(buf, ";");
        return 0;
}

static int collect_ref(const char *from, void *ctx)
{
        strcat(ctx, from);
        strcat(ctx, ";");
        return 0;
}

/* A scan whose callback scans again (the cached statement is busy: a private one runs). */
static struct store *nested_st;

static int nested(const char *path, const struct cfg_value *v, void *ctx)
{
        char inner[4096] = "";

        (void)v;
        assert(store_list(nested_st, "net.iface[eth0]", collect, inner) == 0);
        assert(!strcmp(inner, "net.iface[eth0].bridge=br0;net.iface[eth0].mtu=9000;net.iface[eth0].name=eth0;"));
        (*(int *)ctx)++;
        return 0;
}

static void test_basics(const char *dir)
{
        char *file = test_file(dir, "basics.db"), buf[4096];
        struct store *st;
        struct cfg_value v = CFG_VALUE_INIT;
        uint64_t rev;
        bool has;

        assert(store_open(file, NULL, &st) == 0);
        assert(store_revision(st, &rev) == 0 && rev == 0);
        assert(store_get(st, "net.hostname", &v) == STORE_E_NOT_FOUND);
        assert(commit1(st, 0, "net.hostname", TEXT("box"), NULL) == 0);
        assert(commit1(st, 1, "net.iface[eth0].name", TEXT("eth0"), NULL) == 0);
        assert(commit1(st, 2, "net.iface[eth0].mtu", NUM(9000), NULL) == 0);
        assert(commit1(st, 3, "net.ifaces", NUM(1), NULL) == 0);
        assert(commit1(st, 4, "net.iface-x", NUM(2), NULL) == 0);
        assert(commit1(st, 5, "net.iface[eth0.1].name", TEXT("eth0.1"), NULL) == 0);
        assert(commit1(st, 6, "net.bridge[br0].name", TEXT("br0"), NULL) == 0);
        assert(commit1(st, 7, "net.iface[eth0].bridge", TEXT("br0"), "net.bridge[br0]") == 0);
        assert(store_revision(st, &rev) == 0 && rev == 8);
        assert(store_get(st, "net.iface[eth0].mtu", &v) == 0 && v.kind == CFG_KIND_INT && v.i == 9000);
        assert(store_get(st, "net.hostname", &v) == 0 && v.kind == CFG_KIND_TEXT && !strcmp(v.s, "box"));
        value_deinit(&v);
        assert(store_has(st, "net.iface[eth0].name", &has) == 0 && has);
        assert(store_has(st, "net.iface[eth1].name", &has) == 0 && !has);

        /* Subtrees: exactly the paths inside, in order; neighbours stay out. */
        buf[0] = '\0';
        assert(store_list(st, "net.iface", collect, buf) == 0);
        assert(!strcmp(buf, "net.iface[eth0.1].name=eth0.1;net.iface[eth0].bridge=br0;"
                            "net.iface[eth0].mtu=9000;net.iface[eth0].name=eth0;"));
        buf[0] = '\0';
        assert(store_list(st, "net.iface[eth0]", collect, buf) == 0);
        assert(!strcmp(buf, "net.iface[eth0].bridge=br0;net.iface[eth0].mtu=9000;net.iface[eth0].name=eth0;"));
        buf[0] = '\0';
        assert(store_list(st, "net.hostname", collect, buf) == 0 && !strcmp(buf, "net.hostname=box;"));
        buf[0] = '\0';
        assert(store_list(st, "", collect, buf) == 0 && strstr(buf, "net.ifaces=1;") && strstr(buf, "net.iface-x=2;"));

        {
                int n = 0;

                nested_st = st;
                assert(store_list(st, "net.iface", nested, &n) == 0 && n == 4);
        }
        /* The reverse index; removing the ref leaf drops its row (ON DELETE CASCADE). */
        buf[0] = '\0';
        assert(store_refs_to(st, "net.bridge[br0]", collect_ref, buf) == 0 && !strcmp(buf, "net.iface[eth0].bridge;"));
        assert(commit1(st, 8, "net.iface[eth0].bridge", NULL, NULL) == 0);
        buf[0] = '\0';
        assert(store_refs_to(st, "net.bridge[br0]", collect_ref, buf) == 0 && !buf[0]);
        /* Setting it again, then to something that is no ref (schema change), drops it too. */
        assert(commit1(st, 9, "net.iface[eth0].bridge", TEXT("br0"), "net.bridge[br0]") == 0);
        assert(commit1(st, 10, "net.iface[eth0].bridge", TEXT("plain"), NULL) == 0);
        buf[0] = '\0';
        assert(store_refs_to(st, "net.bridge[br0]", collect_ref, buf) == 0 && !buf[0]);
        store_free(st);

        /* Reopen: all there. */
        assert(store_open(file, NULL, &st) == 0);
        assert(store_revision(st, &rev) == 0 && rev == 11);
        assert(store_get(st, "net.iface[eth0].mtu", &v) == 0 && v.i == 9000);
        store_free(st);
        free(file);
}

/* The history's hand-written JSON says what jansson's does, and reads back. */
static void test_json_text(void)
{
        struct cfg_changes c = CFG_CHANGES_INIT, back = CFG_CHANGES_INIT;
        json_t *a, *b;
        char *t;

        assert(changes_to_json_text(&c, &t) == 0 && !strcmp(t, "{\"added\":[],\"changed\":[],\"removed\":[]}"));
        free(t);
        assert(changes_add(&c, "a.b[x\"y\\z]", NULL, TEXT("tab\there \"q\" \x01 caf\xc3\xa9"), NULL, NULL) == 0);
        assert(changes_add(&c, "a.c", NUM(INT64_MIN), NUM(INT64_MAX), NULL, NULL) == 0);
        assert(changes_add(&c, "a.d", &(struct cfg_value){ .kind = CFG_KIND_BOOL, .i = 1 }, NULL, NULL, NULL) == 0);
        changes_sort(&c);
        assert(changes_to_json_text(&c, &t) == 0 && changes_to_json(&c, &a) == 0);
        b = json_loads(t, 0, NULL);
        assert(b && json_equal(a, b));
        assert(changes_from_json(b, &back) == 0 && back.n == 3);
        for (size_t i = 0; i < 3; i++) {
                assert(!strcmp(back.v[i].path, c.v[i].path) && back.v[i].has_old == c.v[i].has_old);
                assert(!c.v[i].has_new || value_equal(&back.v[i].new, &c.v[i].new));
                assert(!c.v[i].has_old || value_equal(&back.v[i].old, &c.v[i].old));
        }
        json_decref(a);
        json_decref(b);
        free(t);
        changes_deinit(&back);
        changes_deinit(&c);
}

static void test_conflict(const char *dir)
{
        char *file = test_file(dir, "conflict.db");
        struct store *st;
        struct store_record *h;
        struct cfg_value v = CFG_VALUE_INIT;
        uint64_t rev;
        size_t n;

        assert(store_open(file, NULL, &st) == 0);
        assert(commit1(st, 0, "system.n", NUM(1), NULL) == 0);
        /* A second session made its change on revision 0: refused, nothing written. */
        assert(commit1(st, 0, "system.n", NUM(2), NULL) == STORE_E_CONFLICT);
        assert(strstr(store_errmsg(st), "running revision is 1, the change was made on 0"));
        assert(commit1(st, 5, "system.n", NUM(2), NULL) == STORE_E_CONFLICT);
        assert(store_revision(st, &rev) == 0 && rev == 1);
        assert(store_get(st, "system.n", &v) == 0 && v.i == 1);
        assert(store_history(st, 10, &h, &n) == 0 && n == 1);
        store_records_free(h, n);
        assert(commit1(st, 1, "system.n", NUM(2), NULL) == 0);
        store_free(st);
        free(file);
}

static void test_history_and_inverse(const char *dir)
{
        char *file = test_file(dir, "history.db"), buf[4096];
        struct store_options o = { .history_max = 4 };
        struct cfg_changes c = CFG_CHANGES_INIT;
        struct store_record *h;
        struct store *st;
        uint64_t id;
        size_t n;
        json_t *j;

        assert(store_open(file, &o, &st) == 0);
        assert(commit1(st, 0, "system.n", NUM(1), NULL) == 0);                 /* 1 */
        assert(commit1(st, 1, "system.leaf[1].k", NUM(1), NULL) == 0);         /* 2 */
        assert(commit1(st, 2, "system.n", NUM(2), NULL) == 0);                 /* 3 */
        assert(commit1(st, 3, "system.leaf[1].k", NULL, NULL) == 0);            /* 4 */

        assert(store_history(st, 10, &h, &n) == 0 && n == 4);
        assert(h[0].id == 4 && h[3].id == 1 && h[0].kind == STORE_COMMIT && !strcmp(h[0].author, "test"));
        assert(!strcmp(h[1].diff, "{\"added\": [], \"changed\": [{\"path\": \"system.n\", \"old\": 1, \"new\": 2}], "
                                  "\"removed\": []}") ||
               strstr(h[1].diff, "\"changed\":[{\"path\":\"system.n\",\"old\":1,\"new\":2}]"));
        j = json_loads(h[0].diff, 0, NULL);
        assert(j && json_array_size(json_object_get(j, "removed")) == 1);
        json_decref(j);
        store_records_free(h, n);

        /* Back to after 1: n=1, no leaf[1]. */
        assert(store_inverse(st, 1, &c) == 0);
        assert(c.n == 1 && !strcmp(c.v[0].path, "system.n") && c.v[0].old.i == 2 && c.v[0].new.i == 1);
        changes_deinit(&c);
        /* Back to after 2: n=1 and leaf[1].k=1 again. */
        assert(store_inverse(st, 2, &c) == 0 && c.n == 2);
        assert(!strcmp(c.v[0].path, "system.leaf[1].k") && !c.v[0].has_old && c.v[0].new.i == 1);
        assert(!strcmp(c.v[1].path, "system.n") && c.v[1].new.i == 1);
        /* The rollback is a commit of its own. */
        assert(store_commit(st, 4, &c, &(struct store_commit_info){ .author = "op", .kind = STORE_ROLLBACK }, &id) == 0);
        assert(id == 5);
        changes_deinit(&c);
        buf[0] = '\0';
        assert(store_list(st, "system", collect, buf) == 0 && !strcmp(buf, "system.leaf[1].k=1;system.n=1;"));
        assert(store_history(st, 1, &h, &n) == 0 && n == 1 && h[0].kind == STORE_ROLLBACK);
        store_records_free(h, n);
        /* Back to after 4 (undoing the rollback): n=2 again, no leaf. */
        assert(store_inverse(st, 4, &c) == 0 && c.n == 2 && !c.v[0].has_new && c.v[1].new.i == 2);
        changes_deinit(&c);
        assert(store_inverse(st, 5, &c) == 0 && c.n == 0);
        changes_deinit(&c);
        assert(store_inverse(st, 6, &c) == STORE_E_NOT_FOUND);

        /* History is bounded at 4: commit 1 is gone, so is going back to 0 or 1. */
        assert(store_history(st, 100, &h, &n) == 0 && n == 4 && h[3].id == 2);
        store_records_free(h, n);
        assert(store_inverse(st, 0, &c) == STORE_E_PRUNED);
        assert(store_inverse(st, 1, &c) == 0);
        changes_deinit(&c);
        assert(store_prune(st, 2) == 0);
        assert(store_inverse(st, 2, &c) == STORE_E_PRUNED);
        assert(store_inverse(st, 3, &c) == 0);
        changes_deinit(&c);
        assert(store_prune(st, 0) == 0); /* at least the last one stays */
        assert(store_history(st, 100, &h, &n) == 0 && n == 1 && h[0].id == 5);
        store_records_free(h, n);
        store_free(st);
        free(file);
}

static void test_pending(const char *dir)
{
        char *file = test_file(dir, "pending.db");
        struct store_options o = { .history_max = 2 };
        struct store_commit_info confirm = { .author = "op", .time = 5, .confirm_deadline = 1000 };
        struct cfg_changes c = CFG_CHANGES_INIT;
        struct store_pending p;
        struct store_record *h;
        struct store *st;
        uint64_t id;
        size_t n;

        assert(store_open(file, &o, &st) == 0);
        assert(commit1(st, 0, "system.n", NUM(1), NULL) == 0);
        assert(commit1(st, 1, "system.n", NUM(2), NULL) == 0);
        assert(store_pending_get(st, &p) == STORE_E_NOT_FOUND);
        assert(changes_add(&c, "system.n", NUM(2), NUM(3), NULL, NULL) == 0);
        assert(store_commit(st, 2, &c, &confirm, &id) == 0 && id == 3);
        changes_deinit(&c);
        store_free(st);

        /* Survives close and reopen. */
        assert(store_open(file, &o, &st) == 0);
        assert(store_pending_get(st, &p) == 0);
        assert(p.commit_id == 3 && p.deadline == 1000 && p.rollback_to == 2);
        /* A second confirmed commit keeps the first rollback point; history it needs is kept past the bound. */
        assert(changes_add(&c, "system.n", NUM(3), NUM(4), NULL, NULL) == 0);
        confirm.confirm_deadline = 2000;
        assert(store_commit(st, 3, &c, &confirm, &id) == 0 && id == 4);
        changes_deinit(&c);
        assert(commit1(st, 4, "system.n", NUM(5), NULL) == 0);
        assert(commit1(st, 5, "system.n", NUM(6), NULL) == 0);
        assert(store_pending_get(st, &p) == 0 && p.commit_id == 4 && p.deadline == 2000 && p.rollback_to == 2);
        assert(store_history(st, 100, &h, &n) == 0 && n == 4 && h[3].id == 3);
        store_records_free(h, n);
        assert(store_inverse(st, 2, &c) == 0 && c.n == 1 && c.v[0].new.i == 2);
        changes_deinit(&c);
        /* The timeout's rollback clears the record in the same transaction. */
        assert(store_inverse(st, 2, &c) == 0);
        assert(store_commit(st, 6, &c,
                            &(struct store_commit_info){ .author = "orb-config", .kind = STORE_CONFIRM_TIMEOUT,
                                                         .clears_pending = true },
                            &id) == 0);
        changes_deinit(&c);
        assert(store_pending_get(st, &p) == STORE_E_NOT_FOUND);
        assert(store_history(st, 1, &h, &n) == 0 && h[0].kind == STORE_CONFIRM_TIMEOUT);
        store_records_free(h, n);
        store_free(st);

        /* A confirm clears it for good. */
        assert(store_open(file, &o, &st) == 0);
        assert(store_pending_get(st, &p) == STORE_E_NOT_FOUND);
        assert(changes_add(&c, "system.n", NUM(2), NUM(9), NULL, NULL) == 0);
        assert(store_commit(st, 7, &c, &confirm, &id) == 0);
        changes_deinit(&c);
        assert(store_pending_clear(st) == 0);
        store_free(st);
        assert(store_open(file, &o, &st) == 0);
        assert(store_pending_get(st, &p) == STORE_E_NOT_FOUND);
        store_free(st);
        free(file);
}

static void test_format(const char *dir)
{
        char *file = test_file(dir, "newer.db"), *junk = test_file(dir, "junk.db");
        struct store *st;
        sqlite3 *db;
        FILE *f;

        assert(store_open(file, NULL, &st) == 0);
        store_free(st);
        assert(sqlite3_open(file, &db) == SQLITE_OK);
        assert(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(db);
        assert(store_open(file, NULL, &st) == STORE_E_CORRUPT);
        f = fopen(junk, "w");
        assert(f);
        for (int i = 0; i < 200; i++)
                fputs("this is not an SQLite database. ", f);
        fclose(f);
        assert(store_open(junk, NULL, &st) == STORE_E_CORRUPT);
        /* WAL, and one owner at a time: a second opener gives up after its busy timeout. */
        {
                struct store_options quick = { .busy_timeout_ms = 50 };
                struct store *other;
                sqlite3_stmt *q;
                char *fresh = test_file(dir, "owned.db");

                assert(store_open(fresh, NULL, &st) == 0);
                assert(store_open(fresh, &quick, &other) == -EBUSY);
                store_free(st);
                assert(store_open(fresh, &quick, &other) == 0);
                store_free(other);
                assert(sqlite3_open(fresh, &db) == SQLITE_OK);
                assert(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK);
                assert(sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), "wal"));
                sqlite3_finalize(q);
                sqlite3_close(db);
                free(fresh);
        }
        assert(store_open("/nonexistent-dir/x.db", NULL, &st) < 0);
        free(file);
        free(junk);
}

/* 100,000 leaves, then commits of 100, 1,000 and 10,000 leaves into them. */
static void test_scale(const char *dir)
{
        char *file = test_file(dir, "scale.db"), path[64];
        struct cfg_changes c = CFG_CHANGES_INIT;
        struct timespec t0, t1;
        struct store *st;
        uint64_t id;

        assert(store_open(file, NULL, &st) == 0);
        for (int i = 0; i < 100000; i++) {
                snprintf(path, sizeof(path), "system.leaf[%d].v", i);
                assert(changes_add(&c, path, NULL, NUM(i), NULL, NULL) == 0);
        }
        changes_sort(&c);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert(store_commit(st, 0, &c, &plain, &id) == 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("store: load of 100000 leaves: %.1f ms\n", test_ms(&t0, &t1));
        changes_deinit(&c);
        for (int size = 100, base = 1; size <= 10000; size *= 10, base++) {
                for (int i = 0; i < size; i++) {
                        snprintf(path, sizeof(path), "system.leaf[%d].v", i * 7 % 100000);
                        assert(changes_add(&c, path, NUM(i * 7 % 100000), NUM(-i), NULL, NULL) == 0);
                }
                changes_sort(&c);
                clock_gettime(CLOCK_MONOTONIC, &t0);
                assert(store_commit(st, (uint64_t)base, &c, &plain, &id) == 0);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                printf("store: commit of %d leaves into 100000: %.1f ms\n", size, test_ms(&t0, &t1));
                changes_deinit(&c);
        }
        store_free(st);
        free(file);
}

int main(void)
{
        char *dir = test_tmpdir();

        test_json_text();
        test_basics(dir);
        test_conflict(dir);
        test_history_and_inverse(dir);
        test_pending(dir);
        test_format(dir);
        test_scale(dir);
        test_rmdir(dir);
        printf("test-config-store: ok\n");
        return 0;
}
