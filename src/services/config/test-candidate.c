/* Unit test of candidates: set, delete (leaves, entries, lists), get through
 * overlay, store and defaults, diff, discard, validation at commit, two
 * sessions in conflict and a rebase, rollback N, and confirmed commits that
 * are confirmed or time out, also across a close and reopen; then the time
 * of 100, 1,000 and 10,000-leaf commits into 100,000 leaves. */
#include "test-util.h"

#include <errno.h>
#include <inttypes.h>

#include "config/candidate.h"
#include "test-fault.h"

static struct schema_set schemas = SCHEMA_SET_INIT;
static struct store *st;

static void set_ok(struct candidate *c, const char *path, const char *value)
{
        struct orb_diag d = ORB_DIAG_INIT;
        char buf[1024];

        if (candidate_set(c, path, value, &d)) {
                fprintf(stderr, "set %s %s: %s\n", path, value, diag_format(&d, buf, sizeof(buf)));
                abort();
        }
}

static void set_bad(struct candidate *c, const char *path, const char *value, const char *why)
{
        struct orb_diag d = ORB_DIAG_INIT;
        char buf[1024];

        assert(candidate_set(c, path, value, &d) == CANDIDATE_E_INVALID);
        if (!strstr(diag_format(&d, buf, sizeof(buf)), why)) {
                fprintf(stderr, "set %s %s: %s (wanted %s)\n", path, value, buf, why);
                abort();
        }
}

static void del_ok(struct candidate *c, const char *path)
{
        assert(candidate_delete(c, path, NULL) == 0);
}

/* The candidate's value of @path as text, or "-" when it has none; @src as a letter. */
static const char *get(struct candidate *c, const char *path)
{
        static char buf[128];
        struct cfg_value v = CFG_VALUE_INIT;
        enum candidate_source src;
        size_t n;
        int r = candidate_get(c, path, &v, &src, NULL);

        if (r == CANDIDATE_E_NOT_FOUND)
                return "-";
        assert(r == 0);
        value_format(&v, buf, sizeof(buf) - 3);
        n = strlen(buf);
        snprintf(buf + n, 4, "/%c", src == CANDIDATE_FROM_OVERLAY ? 'o' : src == CANDIDATE_FROM_RUNNING ? 'r' : 'd');
        value_deinit(&v);
        return buf;
}

static void commit_ok(struct candidate *c, uint64_t *id)
{
        struct validate_errors e = VALIDATE_ERRORS_INIT;
        int r = candidate_commit(c, &(struct store_commit_info){ .author = "alice", .message = "m" }, id, &e);

        if (r) {
                char *s = validate_errors_format(&e);
                fprintf(stderr, "commit: %d\n%s", r, s);
                abort();
        }
        validate_errors_deinit(&e);
}

/* The diff as compact JSON text. */
static char *diff(struct candidate *c)
{
        json_t *j;
        char *s;

        assert(candidate_diff(c, &j) == 0);
        s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        return s;
}

static void expect_diff(struct candidate *c, const char *want)
{
        char *s = diff(c);

        if (strcmp(s, want)) {
                fprintf(stderr, "diff:   %s\nwanted: %s\n", s, want);
                abort();
        }
        free(s);
}

static void test_set_get_delete(void)
{
        struct candidate *c;
        struct orb_diag d = ORB_DIAG_INIT;
        uint64_t id;

        assert(candidate_new(&schemas, st, &c) == 0 && candidate_base(c) == 0);
        /* Defaults, and none inside an entry that does not exist. */
        assert(!strcmp(get(c, "net.hostname"), "orbital/d"));
        assert(!strcmp(get(c, "net.gateway"), "-"));
        assert(!strcmp(get(c, "net.iface[eth0].mtu"), "-"));
        assert(candidate_get(c, "net.iface", &(struct cfg_value){ 0 }, NULL, &d) == CANDIDATE_E_INVALID);
        /* Setting a leaf of an entry creates the entry. */
        set_ok(c, "net.gateway", "10.0.0.1");
        set_ok(c, "net.iface[eth0].mode", "dhcp");
        set_ok(c, "net.iface[eth0].addr.v4", "10.0.0.2");
        assert(!strcmp(get(c, "net.iface[eth0].name"), "eth0/o"));
        assert(!strcmp(get(c, "net.iface[eth0].mtu"), "1500/d"));
        assert(!strcmp(get(c, "net.iface[eth0].mode"), "dhcp/o"));
        expect_diff(c, "{\"added\":[{\"path\":\"net.gateway\",\"value\":\"10.0.0.1\"},"
                       "{\"path\":\"net.iface[eth0].addr.v4\",\"value\":\"10.0.0.2\"},"
                       "{\"path\":\"net.iface[eth0].mode\",\"value\":\"dhcp\"},"
                       "{\"path\":\"net.iface[eth0].name\",\"value\":\"eth0\"}],\"changed\":[],\"removed\":[]}");
        /* Refusals at set time name the path and the reason. */
        set_bad(c, "net.iface[eth0].mtu", "9001", "net.iface[eth0].mtu: expected 68 to 9000, found 9001");
        set_bad(c, "net.iface[eth0].mtu", "big", "expected a 64-bit integer, found 'big'");
        set_bad(c, "net.iface[eth0].name", "eth1", "expected the entry's key eth0");
        set_bad(c, "net.iface[eth0]", "x", "expected a leaf, found a list; set its leaves");
        set_bad(c, "net.iface[eth0].addr", "x", "expected a leaf, found a container");
        set_bad(c, "net.iface..mtu", "1", "bad path 'net.iface..mtu': position 11: expected a name");
        set_bad(c, "net.nope", "1", "no node nope");
        set_bad(c, "net.iface[a-name-longer-than-15].mtu", "1500", "bad key: expected 1 to 15 bytes");
        set_bad(c, "net.iface[eth0].vlan[07].prio", "1", "bad key: expected the key written 7, its one spelling");
        set_bad(c, "net.iface[eth0].vlan[x].prio", "1", "bad key: expected a 64-bit integer, found 'x'");
        assert(candidate_size(c) == 4);
        commit_ok(c, &id);
        assert(id == 1 && candidate_base(c) == 1 && candidate_size(c) == 0);
        assert(!strcmp(get(c, "net.iface[eth0].mode"), "dhcp/r"));
        expect_diff(c, "{\"added\":[],\"changed\":[],\"removed\":[]}");

        /* Delete a leaf: its default shows again. */
        set_ok(c, "net.iface[eth0].mtu", "9000");
        set_ok(c, "net.hostname", "box");
        commit_ok(c, &id);
        del_ok(c, "net.iface[eth0].mtu");
        assert(!strcmp(get(c, "net.iface[eth0].mtu"), "1500/d"));
        expect_diff(c, "{\"added\":[],\"changed\":[],\"removed\":[{\"old\":9000,\"path\":\"net.iface[eth0].mtu\"}]}");
        /* Set again after delete: the set wins; set to the running value: no change. */
        set_ok(c, "net.iface[eth0].mtu", "9000");
        expect_diff(c, "{\"added\":[],\"changed\":[],\"removed\":[]}");
        /* Delete the entry: all its leaves go; then a leaf set inside brings back only it (and the key). */
        del_ok(c, "net.iface[eth0]");
        assert(!strcmp(get(c, "net.iface[eth0].mtu"), "-"));
        assert(!strcmp(get(c, "net.iface[eth0].name"), "-"));
        expect_diff(c, "{\"added\":[],\"changed\":[],\"removed\":["
                       "{\"old\":\"10.0.0.2\",\"path\":\"net.iface[eth0].addr.v4\"},"
                       "{\"old\":\"dhcp\",\"path\":\"net.iface[eth0].mode\"},"
                       "{\"old\":9000,\"path\":\"net.iface[eth0].mtu\"},"
                       "{\"old\":\"eth0\",\"path\":\"net.iface[eth0].name\"}]}");
        set_ok(c, "net.iface[eth0].mode", "static");
        assert(!strcmp(get(c, "net.iface[eth0].name"), "eth0/o"));
        assert(!strcmp(get(c, "net.iface[eth0].mtu"), "1500/d"));
        expect_diff(c, "{\"added\":[],\"changed\":[{\"new\":\"static\",\"old\":\"dhcp\",\"path\":\"net.iface[eth0].mode\"}],"
                       "\"removed\":[{\"old\":\"10.0.0.2\",\"path\":\"net.iface[eth0].addr.v4\"},"
                       "{\"old\":9000,\"path\":\"net.iface[eth0].mtu\"}]}");
        /* Deleting the key leaf deletes the entry; deleting the list, every entry; a container, its leaves. */
        candidate_discard(c);
        expect_diff(c, "{\"added\":[],\"changed\":[],\"removed\":[]}");
        del_ok(c, "net.iface[eth0].name");
        assert(!strcmp(get(c, "net.iface[eth0].mode"), "-"));
        candidate_discard(c);
        del_ok(c, "net.iface");
        assert(!strcmp(get(c, "net.iface[eth0].mode"), "-"));
        candidate_discard(c);
        del_ok(c, "net.iface[eth0].addr");
        assert(!strcmp(get(c, "net.iface[eth0].addr.v4"), "-"));
        assert(!strcmp(get(c, "net.iface[eth0].mode"), "dhcp/r"));
        /* Which the validator refuses: v4 is required. */
        {
                struct validate_errors e = VALIDATE_ERRORS_INIT;
                uint64_t rev;

                assert(candidate_validate(c, &e) == CANDIDATE_E_REFUSED && e.n == 1);
                assert(!strcmp(e.v[0].path, "net.iface[eth0].addr.v4"));
                validate_errors_deinit(&e);
                assert(candidate_commit(c, &(struct store_commit_info){ .author = "a" }, &id, &e) ==
                       CANDIDATE_E_REFUSED);
                validate_errors_deinit(&e);
                assert(store_revision(st, &rev) == 0 && rev == 2);
        }
        /* Nested trees: delete the list, set inside an entry, delete that entry: no duplicates. */
        candidate_discard(c);
        del_ok(c, "net.iface");
        set_ok(c, "net.iface[eth0].mtu", "1400");
        del_ok(c, "net.iface[eth0]");
        set_ok(c, "net.iface[eth0].mode", "dhcp");
        set_ok(c, "net.iface[eth0].addr.v4", "10.0.0.9");
        expect_diff(c, "{\"added\":[],\"changed\":[{\"new\":\"10.0.0.9\",\"old\":\"10.0.0.2\","
                       "\"path\":\"net.iface[eth0].addr.v4\"}],"
                       "\"removed\":[{\"old\":9000,\"path\":\"net.iface[eth0].mtu\"}]}");
        commit_ok(c, &id);
        assert(!strcmp(get(c, "net.iface[eth0].mtu"), "1500/d"));
        candidate_free(c);
}

static void test_sessions(void)
{
        struct validate_errors e = VALIDATE_ERRORS_INIT;
        struct candidate *a, *b;
        uint64_t id, rev;

        assert(candidate_new(&schemas, st, &a) == 0);
        assert(candidate_new(&schemas, st, &b) == 0);
        set_ok(a, "net.hostname", "from-a");
        set_ok(b, "net.hostname", "from-b");
        /* Separate candidates: neither sees the other's. */
        assert(!strcmp(get(a, "net.hostname"), "from-a/o") && !strcmp(get(b, "net.hostname"), "from-b/o"));
        commit_ok(a, &id);
        assert(candidate_commit(b, &(struct store_commit_info){ .author = "bob" }, &id, &e) == CANDIDATE_E_CONFLICT);
        assert(store_revision(st, &rev) == 0 && rev == candidate_base(a));
        assert(!strcmp(get(b, "net.hostname"), "from-b/o"));
        assert(candidate_rebase(b) == 0 && candidate_base(b) == rev);
        commit_ok(b, &id);
        assert(!strcmp(get(a, "net.hostname"), "from-b/r"));
        candidate_free(a);
        candidate_free(b);
        validate_errors_deinit(&e);
}

static void test_rollback(void)
{
        struct validate_errors e = VALIDATE_ERRORS_INIT;
        struct candidate *c;
        struct store_record *h;
        uint64_t start, id;
        size_t n;

        assert(candidate_new(&schemas, st, &c) == 0);
        start = candidate_base(c);
        set_ok(c, "net.bridge[br0].name", "br0");
        set_ok(c, "net.iface[eth0].bridge", "br0");
        commit_ok(c, &id);
        set_ok(c, "net.iface[eth0].mtu", "2000");
        del_ok(c, "net.iface[eth0].bridge");
        del_ok(c, "net.bridge[br0]");
        commit_ok(c, &id);
        assert(!strcmp(get(c, "net.iface[eth0].bridge"), "-"));
        /* Back to start + 1: the bridge and the ref come back (and the ref index with them). */
        assert(config_rollback(&schemas, st, start + 1, &(struct store_commit_info){ .author = "op", .kind = STORE_ROLLBACK },
                               &id, &e) == 0);
        assert(id == start + 3);
        assert(candidate_rebase(c) == 0);
        assert(!strcmp(get(c, "net.iface[eth0].bridge"), "br0/r"));
        assert(!strcmp(get(c, "net.iface[eth0].mtu"), "1500/d"));
        del_ok(c, "net.bridge[br0]");
        assert(candidate_validate(c, &e) == CANDIDATE_E_REFUSED && e.n == 1);
        assert(!strcmp(e.v[0].path, "net.bridge[br0]") && strstr(e.v[0].reason, "net.iface[eth0].bridge"));
        validate_errors_deinit(&e);
        candidate_discard(c);
        assert(store_history(st, 1, &h, &n) == 0 && n == 1 && h[0].kind == STORE_ROLLBACK && h[0].id == id);
        store_records_free(h, n);
        assert(config_rollback(&schemas, st, id + 1, &(struct store_commit_info){ .author = "op" }, &id, &e) ==
               CANDIDATE_E_NOT_FOUND);
        candidate_free(c);
}

static void test_confirm(const char *file)
{
        struct store_commit_info confirm = { .author = "op", .confirm_deadline = 1000 * USEC_PER_SEC };
        struct validate_errors e = VALIDATE_ERRORS_INIT;
        struct candidate *c;
        struct store_pending p;
        struct store_record *h;
        uint64_t before, id, rolled;
        size_t n;

        /* Confirmed in time. */
        assert(candidate_new(&schemas, st, &c) == 0);
        before = candidate_base(c);
        set_ok(c, "net.hostname", "risky");
        assert(candidate_commit(c, &confirm, &id, &e) == 0);
        assert(store_pending_get(st, &p) == 0 && p.commit_id == id && p.rollback_to == before);
        assert(config_check_pending(&schemas, st, 999 * USEC_PER_SEC, &rolled, &e) == 0 && rolled == 0);
        assert(config_confirm(st) == 0);
        assert(config_confirm(st) == CANDIDATE_E_NO_PENDING);
        assert(config_check_pending(&schemas, st, 2000 * USEC_PER_SEC, &rolled, &e) == 0 && rolled == 0);
        assert(!strcmp(get(c, "net.hostname"), "risky/r"));

        /* Not confirmed, and orb-config restarts before the deadline passes. */
        before = candidate_base(c);
        set_ok(c, "net.hostname", "riskier");
        set_ok(c, "net.iface[eth1].mode", "dhcp");
        set_ok(c, "net.iface[eth1].addr.v4", "10.1.1.1");
        assert(candidate_commit(c, &confirm, &id, &e) == 0);
        candidate_free(c);
        store_free(st);
        assert(store_open(file, NULL, &st) == 0);
        assert(store_pending_get(st, &p) == 0 && p.commit_id == id && p.rollback_to == before);
        assert(config_check_pending(&schemas, st, 1000 * USEC_PER_SEC, &rolled, &e) == 0);
        assert(rolled == id + 1);
        assert(store_pending_get(st, &p) == STORE_E_NOT_FOUND);
        assert(candidate_new(&schemas, st, &c) == 0);
        assert(!strcmp(get(c, "net.hostname"), "risky/r"));
        assert(!strcmp(get(c, "net.iface[eth1].mode"), "-"));
        assert(store_history(st, 1, &h, &n) == 0 && h[0].kind == STORE_CONFIRM_TIMEOUT && !strcmp(h[0].author, "orb-config"));
        assert(strstr(h[0].message, "was not confirmed in time"));
        store_records_free(h, n);
        candidate_free(c);
        validate_errors_deinit(&e);
}

/* Every allocation of the core fails in turn: -ENOMEM, and the candidate and store as they were. */
static void test_fault_injection(const char *dir)
{
        char *file = test_file(dir, "fault.db");
        struct validate_errors e = VALIDATE_ERRORS_INIT;
        struct store_commit_info info = { .author = "f", .confirm_deadline = 5 };
        struct candidate *c;
        struct store *fst;
        uint64_t id, rev;
        size_t size;
        long n;
        int r;

        assert(store_open(file, NULL, &fst) == 0);
        assert(candidate_new(&schemas, fst, &c) == 0);
        set_ok(c, "net.bridge[br0].name", "br0");
        set_ok(c, "net.iface[eth0].mode", "dhcp");
        set_ok(c, "net.iface[eth0].addr.v4", "10.0.0.1");
        set_ok(c, "net.iface[eth0].bridge", "br0");
        commit_ok(c, &id);
        assert(id == 1);

        /* A set that creates two entries: all of it or nothing. */
        for (n = 0;; n++) {
                fail_countdown = n;
                r = candidate_set(c, "net.iface[eth1].vlan[3].prio", "5", NULL);
                fail_countdown = -1;
                if (r == 0)
                        break;
                assert(r == -ENOMEM && candidate_size(c) == 0);
        }
        assert(n > 3 && candidate_size(c) == 3);
        set_ok(c, "net.iface[eth1].mode", "static");
        set_ok(c, "net.iface[eth1].addr.v4", "10.0.1.1");
        set_ok(c, "net.iface[eth1].bridge", "br1");
        set_ok(c, "net.bridge[br1].name", "br1");
        assert(candidate_delete(c, "net.iface[eth0].bridge", NULL) == 0);
        assert(candidate_delete(c, "net.bridge[br0]", NULL) == 0);
        size = candidate_size(c);

        /* A commit (diff, validation, write, pending record). */
        for (n = 0;; n++) {
                fail_countdown = n;
                r = candidate_commit(c, &info, &id, &e);
                fail_countdown = -1;
                validate_errors_deinit(&e);
                if (r == 0)
                        break;
                assert(r == -ENOMEM);
                assert(store_revision(fst, &rev) == 0 && rev == 1 && candidate_size(c) == size);
        }
        assert(n > 20 && id == 2);

        /* A rollback (history read back from JSON, validation, write). */
        for (n = 0;; n++) {
                fail_countdown = n;
                r = config_rollback(&schemas, fst, 1, &(struct store_commit_info){ .author = "f" }, &id, &e);
                fail_countdown = -1;
                validate_errors_deinit(&e);
                if (r == 0)
                        break;
                assert(r == -ENOMEM);
                assert(store_revision(fst, &rev) == 0 && rev == 2);
        }
        assert(n > 10 && id == 3);
        assert(candidate_rebase(c) == 0);
        assert(!strcmp(get(c, "net.iface[eth0].bridge"), "br0/r"));
        assert(!strcmp(get(c, "net.iface[eth1].mode"), "-"));
        candidate_free(c);
        store_free(fst);
        free(file);
}

static void test_scale(const char *dir)
{
        char *file = test_file(dir, "scale.db"), path[64], val[32];
        struct validate_errors e = VALIDATE_ERRORS_INIT;
        struct timespec t0, t1, t2;
        struct store *big;
        struct candidate *c;
        uint64_t id;

        assert(store_open(file, NULL, &big) == 0);
        assert(candidate_new(&schemas, big, &c) == 0);
        for (int i = 0; i < 50000; i++) {
                snprintf(path, sizeof(path), "system.leaf[%d].v", i);
                snprintf(val, sizeof(val), "%d", i);
                set_ok(c, path, val); /* and the key leaf: 100,000 leaves */
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert(candidate_commit(c, &(struct store_commit_info){ .author = "load" }, &id, &e) == 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("candidate: load of 100000 leaves: commit %.1f ms\n", test_ms(&t0, &t1));
        for (int size = 100, round = 1; size <= 10000; size *= 10, round++) {
                clock_gettime(CLOCK_MONOTONIC, &t0);
                for (int i = 0; i < size; i++) {
                        snprintf(path, sizeof(path), "system.leaf[%d].v", i * 3 % 50000);
                        snprintf(val, sizeof(val), "%d", -round * i);
                        set_ok(c, path, val);
                }
                clock_gettime(CLOCK_MONOTONIC, &t1);
                assert(candidate_commit(c, &(struct store_commit_info){ .author = "t" }, &id, &e) == 0);
                clock_gettime(CLOCK_MONOTONIC, &t2);
                printf("candidate: %d leaves into 100000: set %.1f ms, commit (diff, validate, write) %.1f ms\n", size,
                       test_ms(&t0, &t1), test_ms(&t1, &t2));
        }
        /* Removing 5,000 entries (10,000 leaves), each checked for leftovers and refs. */
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < 5000; i++) {
                snprintf(path, sizeof(path), "system.leaf[%d]", i * 7 % 50000);
                assert(candidate_delete(c, path, NULL) == 0);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert(candidate_commit(c, &(struct store_commit_info){ .author = "t" }, &id, &e) == 0);
        clock_gettime(CLOCK_MONOTONIC, &t2);
        printf("candidate: 5000 entries (10000 leaves) removed from 100000: delete %.1f ms, commit %.1f ms\n",
               test_ms(&t0, &t1), test_ms(&t1, &t2));
        candidate_free(c);
        store_free(big);
        validate_errors_deinit(&e);
        free(file);
}

int main(void)
{
        char *dir = test_tmpdir(), *file = test_file(dir, "c.db");

        test_schemas(&schemas);
        assert(store_open(file, NULL, &st) == 0);
        test_set_get_delete();
        test_sessions();
        test_rollback();
        test_confirm(file);
        store_free(st);
        test_fault_injection(dir);
        test_scale(dir);
        schema_set_deinit(&schemas);
        free(file);
        test_rmdir(dir);
        printf("test-config-candidate: ok\n");
        return 0;
}
