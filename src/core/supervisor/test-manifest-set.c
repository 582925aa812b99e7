#undef NDEBUG

/*
 * Tests for supervisor/manifest_set.c: loading directories, name and
 * dependency checks, start order.
 *
 * Fixture directories live in testdata/set/ beside this file; the path of
 * testdata/ is ORB_TESTDATA (a compile definition), or argv[1] when given.
 */

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/manifest_set.h"
#include "util/diag.h"

#ifndef ORB_TESTDATA
#define ORB_TESTDATA "src/core/supervisor/testdata"
#endif

static const char *testdata = ORB_TESTDATA;

static const char *fixture(const char *name)
{
        static char path[4096];

        snprintf(path, sizeof(path), "%s/set/%s", testdata, name);
        return path;
}

/* "a.yaml" of fixture @dir, as the set names it in ->source. */
static const char *fixture_file(const char *dir, const char *file)
{
        static char path[4096];

        snprintf(path, sizeof(path), "%s/set/%s/%s", testdata, dir, file);
        return path;
}

static void check_order(const struct manifest_set *set, const char *const *names)
{
        unsigned i = 0;

        for (; names[i]; i++) {
                assert(i < set->n_items);
                if (strcmp(set->items[i]->name, names[i])) {
                        fprintf(stderr, "item %u is '%s', want '%s'\n", i, set->items[i]->name, names[i]);
                        abort();
                }
        }
        assert(i == set->n_items);
}

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void load_bad(const char *dir, int want, const char *file, unsigned line, unsigned column, const char *field,
                     const char *text)
{
        struct manifest_set set = MANIFEST_SET_INIT;
        struct orb_diag d = ORB_DIAG_INIT;
        char buf[1024];
        int r;

        r = manifest_set_load_dir(fixture(dir), &set, &d);
        diag_format(&d, buf, sizeof(buf));
        if (r != want || strcmp(d.file, fixture_file(dir, file)) || d.line != line || d.column != column ||
            strcmp(d.field, field) || !strstr(d.message, text)) {
                fprintf(stderr, "%s: got %d, %s\n", dir, r, buf);
                abort();
        }
        assert(!set.items && set.n_items == 0); /* untouched */
}

static void test_good(void)
{
        struct manifest_set set = MANIFEST_SET_INIT;
        struct orb_diag d = ORB_DIAG_INIT;
        const struct manifest *web;

        assert(manifest_set_load_dir(fixture("good"), &set, &d) == 0);
        /*
         * Files in name order: api, cache, db, web, worker.  cache and db
         * wait for nothing; web waits for db (requires) and cache (after;
         * metrics is absent and ignored); api for web; worker for db and web.
         */
        check_order(&set, NAMES("cache", "db", "web", "api", "worker"));
        web = manifest_set_find(&set, "web");
        assert(web);
        assert(!strcmp(web->source, fixture_file("good", "web.yaml")));
        assert(manifest_set_find(&set, "db")->readiness.kind == READINESS_NOTIFY);
        assert(!manifest_set_find(&set, "metrics"));
        assert(!manifest_set_find(&set, "hidden"));
        assert(!manifest_set_find(&set, "sub"));
        manifest_set_deinit(&set);
        assert(!set.items && set.n_items == 0);
        manifest_set_deinit(&set); /* twice is fine */

        /* A trailing slash does not double up in ->source. */
        {
                char dir[4096];

                snprintf(dir, sizeof(dir), "%s/", fixture("good"));
                assert(manifest_set_load_dir(dir, &set, &d) == 0);
                assert(!strcmp(manifest_set_find(&set, "web")->source, fixture_file("good", "web.yaml")));
                manifest_set_deinit(&set);
        }
}

static void test_empty_and_missing(void)
{
        struct manifest_set set = MANIFEST_SET_INIT;
        struct orb_diag d = ORB_DIAG_INIT;

        assert(manifest_set_load_dir(fixture("empty"), &set, &d) == 0);
        assert(set.n_items == 0);
        manifest_set_deinit(&set);

        assert(manifest_set_load_dir(fixture("does-not-exist"), &set, &d) == -ENOENT);
        assert(!strcmp(d.file, fixture("does-not-exist")));
        assert(strstr(d.message, "unable to open directory"));
        assert(!set.items);

        /* A file where a directory should be. */
        assert(manifest_set_load_dir(fixture_file("good", "db.yaml"), &set, &d) == -ENOTDIR);
        assert(!set.items);
}

static void test_errors(void)
{
        load_bad("missing-dep", MANIFEST_E_INVALID, "a.yaml", 4, 5, "requires[1]",
                 "missing dependency 'db'");
        load_bad("cycle", MANIFEST_E_INVALID, "a.yaml", 2, 15, "requires[1]", "dependency cycle: a -> b -> c -> a");
        load_bad("duplicate", MANIFEST_E_INVALID, "b.yaml", 2, 7, "name", "duplicate service name 'web'");
        load_bad("duplicate", MANIFEST_E_INVALID, "b.yaml", 2, 7, "name", "/set/duplicate/a.yaml");
        load_bad("self-dep", MANIFEST_E_INVALID, "a.yaml", 2, 12, "after[1]", "service 'a' depends on itself");
        load_bad("bad-file", MANIFEST_E_INVALID, "y.yaml", 4, 8, "limits.cpu", "found '50'");
}

/* A set built by hand, as manifest_set_check() sees it. */
static void add(struct manifest_set *set, const char *name, const char *yaml)
{
        struct orb_diag d = ORB_DIAG_INIT;
        struct manifest *m = NULL;
        char source[64];

        snprintf(source, sizeof(source), "%s.yaml", name);
        assert(manifest_parse(yaml, strlen(yaml), source, name, &m, &d) == 0);
        set->items = reallocarray(set->items, set->n_items + 1, sizeof(*set->items));
        assert(set->items);
        set->items[set->n_items++] = m;
}

static void check_bad(struct manifest_set *set, const char *file, const char *field, const char *text)
{
        struct orb_diag d = ORB_DIAG_INIT;
        char buf[1024];

        assert(manifest_set_check(set, &d) == MANIFEST_E_INVALID);
        if (strcmp(d.file, file) || strcmp(d.field, field) || !strstr(d.message, text)) {
                fprintf(stderr, "got %s\n", diag_format(&d, buf, sizeof(buf)));
                abort();
        }
        manifest_set_deinit(set);
}

static void test_check(void)
{
        struct manifest_set set = MANIFEST_SET_INIT;
        struct orb_diag d = ORB_DIAG_INIT;

        /* No edges: file order stays. */
        add(&set, "c", "command: a\n");
        add(&set, "a", "command: a\n");
        add(&set, "b", "command: a\n");
        assert(manifest_set_check(&set, &d) == 0);
        check_order(&set, NAMES("c", "a", "b"));
        manifest_set_deinit(&set);

        /* A chain written backwards comes out forwards. */
        add(&set, "a", "command: a\nafter: b\n");
        add(&set, "b", "command: a\nrequires: c\n");
        add(&set, "c", "command: a\nafter: d\n");
        add(&set, "d", "command: a\n");
        assert(manifest_set_check(&set, &d) == 0);
        check_order(&set, NAMES("d", "c", "b", "a"));
        /* Checking again keeps the order: it is already sorted. */
        assert(manifest_set_check(&set, &d) == 0);
        check_order(&set, NAMES("d", "c", "b", "a"));
        manifest_set_deinit(&set);

        /* Ties go by position: x and z are both free once y is. */
        add(&set, "z", "command: a\nafter: [y]\n");
        add(&set, "y", "command: a\n");
        add(&set, "x", "command: a\nrequires: [y]\nafter: [y, nobody]\n");
        assert(manifest_set_check(&set, &d) == 0);
        check_order(&set, NAMES("y", "z", "x"));
        manifest_set_deinit(&set);

        /* Cycles through after edges only, reported from the first file. */
        add(&set, "q", "command: a\nafter: [p]\n");
        add(&set, "p", "command: a\nafter: [free, q]\n");
        add(&set, "free", "command: a\n");
        check_bad(&set, "q.yaml", "after[0]", "dependency cycle: q -> p -> q");

        /* The cycle is found behind a service that only leads into it. */
        add(&set, "lead", "command: a\nrequires: [m]\n");
        add(&set, "m", "command: a\nrequires: [n]\n");
        add(&set, "n", "command: a\nrequires: [o]\n");
        add(&set, "o", "command: a\nafter: [m]\n");
        check_bad(&set, "m.yaml", "requires[0]", "dependency cycle: m -> n -> o -> m");

        add(&set, "a", "command: a\nrequires: a\n");
        check_bad(&set, "a.yaml", "requires[0]", "service 'a' depends on itself");

        add(&set, "a", "command: a\n");
        add(&set, "b", "command: a\nrequires: [a, ghost]\n");
        check_bad(&set, "b.yaml", "requires[1]", "missing dependency 'ghost'");

        /* Duplicates are found before dependencies; name from the stem. */
        add(&set, "a", "command: a\nrequires: [ghost]\n");
        add(&set, "a", "command: a\n");
        check_bad(&set, "a.yaml", "name", "duplicate service name 'a', also in a.yaml");

        /* An empty set checks fine. */
        assert(manifest_set_check(&set, &d) == 0);
        assert(set.n_items == 0 && !set.items);
}

/* A long chain: the quadratic loops stay fast, the order is right. */
static void test_chain(void)
{
        struct manifest_set set = MANIFEST_SET_INIT;
        struct orb_diag d = ORB_DIAG_INIT;
        char name[32], yaml[128];

        for (unsigned i = 0; i < 300; i++) {
                snprintf(name, sizeof(name), "s%03u", i);
                if (i == 299)
                        snprintf(yaml, sizeof(yaml), "command: a\n");
                else
                        snprintf(yaml, sizeof(yaml), "command: a\nrequires: [s%03u]\nafter: [s299]\n", i + 1);
                add(&set, name, yaml);
        }
        assert(manifest_set_check(&set, &d) == 0);
        for (unsigned i = 0; i < 300; i++) {
                snprintf(name, sizeof(name), "s%03u", 299 - i);
                assert(!strcmp(set.items[i]->name, name));
        }
        manifest_set_deinit(&set);
}

int main(int argc, char **argv)
{
        if (argc > 1)
                testdata = argv[1];

        test_good();
        test_empty_and_missing();
        test_errors();
        test_check();
        test_chain();
        return 0;
}
