/*
 * bench/config/commit.c - orb-config's core timed without the bus: the
 * candidate (candidate_set per leaf) and its commit (candidate_commit:
 * the exact difference from the store, validation against the schema and
 * the store, one SQLite transaction with its history row, and the fsync
 * of synchronous=FULL), linked from liborb-config-core.a as orb-config
 * links it.
 *
 *   commit --schema FILE --dir DIR
 *
 * then one command per line on stdin, one answer line each on stdout
 * ("ok key=value ..." or "error WHY"), so that bench/config/run can
 * interleave single commits of every peer:
 *
 *   load NAME LEAVES   a new store DIR/NAME.db holding LEAVES leaves (leaves.h), in one commit
 *   commit NAME N [spread|block] [diff]
 *                      one commit changing N leaves of store NAME (leaves.h:
 *                      spread over the list, or one block); with "diff",
 *                      first what orb-config's commit handler does before
 *                      committing: candidate_diff() and json_dumps() of it
 *                      for the reply, timed apart (diff_ns)
 *   close NAME         close it (the file is whole: orb-config may open it)
 *   quit
 *
 * After each commit (untimed) the newest history row is read back: its
 * diff must hold exactly N changed leaves, none added or removed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/candidate.h"
#include "leaves.h"

#define STORES_MAX 8

struct bstore {
        char name[64];
        struct store *st;      /* owned */
        struct candidate *cand; /* owned */
        unsigned n_entries;
};

static struct schema_set schemas = SCHEMA_SET_INIT;
static struct bstore stores[STORES_MAX];
static const char *dir;

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct bstore *find(const char *name)
{
        for (unsigned i = 0; i < STORES_MAX; i++)
                if (stores[i].st && !strcmp(stores[i].name, name))
                        return &stores[i];
        return NULL;
}

static int set_leaf(struct bstore *b, unsigned e, enum leaf l, uint64_t k)
{
        struct orb_diag d = ORB_DIAG_INIT;
        char path[96], value[64], msg[512];

        leaf_path(path, sizeof(path), e, l);
        leaf_value(value, sizeof(value), e, l, k);
        if (candidate_set(b->cand, path, value, &d) != 0) {
                printf("error set %s %s: %s\n", path, value, diag_format(&d, msg, sizeof(msg)));
                return -1;
        }
        return 0;
}

static int commit_cand(struct bstore *b, uint64_t *id)
{
        struct validate_errors errs = VALIDATE_ERRORS_INIT;
        struct store_commit_info info = {.author = "bench", .message = "bench/config", .kind = STORE_COMMIT,
                                         .time = now_real()};
        int r = candidate_commit(b->cand, &info, id, &errs);

        if (r) {
                char *text = validate_errors_format(&errs);
                printf("error commit: %d %s\n", r, text ? strtok(text, "\n") : "");
                free(text);
        }
        validate_errors_deinit(&errs);
        return r ? -1 : 0;
}

static int do_load(const char *name, unsigned leaves)
{
        struct bstore *b = NULL;
        char file[4096];
        uint64_t t0, t1, t2, id;

        for (unsigned i = 0; i < STORES_MAX && !b; i++)
                if (!stores[i].st)
                        b = &stores[i];
        if (!b || find(name) || leaves % LEAVES_PER_ENTRY || strlen(name) >= sizeof(b->name)) {
                printf("error load %s %u: no room, a duplicate name, or not a multiple of %u\n", name, leaves,
                       LEAVES_PER_ENTRY);
                return 0;
        }
        snprintf(file, sizeof(file), "%s/%s.db", dir, name);
        remove(file);
        if (store_open(file, NULL, &b->st) != 0 || candidate_new(&schemas, b->st, &b->cand) != 0) {
                printf("error cannot open %s\n", file);
                exit(1);
        }
        snprintf(b->name, sizeof(b->name), "%s", name);
        b->n_entries = leaves / LEAVES_PER_ENTRY;
        t0 = now_ns();
        for (unsigned e = 0; e < b->n_entries; e++)
                for (unsigned l = 0; l < LEAVES_PER_ENTRY; l++)
                        if (set_leaf(b, e, l, 0) < 0)
                                exit(1);
        t1 = now_ns();
        if (commit_cand(b, &id) < 0)
                exit(1);
        t2 = now_ns();
        printf("ok set_ns=%llu commit_ns=%llu leaves=%u rev=%llu\n", (unsigned long long)(t1 - t0),
               (unsigned long long)(t2 - t1), leaves, (unsigned long long)id);
        return 0;
}

/* The newest history row's diff: how many leaves were added, changed, removed. */
static int check_last(struct bstore *b, size_t *added, size_t *changed, size_t *removed)
{
        struct store_record *recs = NULL;
        size_t n = 0;
        json_t *diff;

        if (store_history(b->st, 1, &recs, &n) != 0 || n != 1)
                return -1;
        diff = json_loads(recs[0].diff, 0, NULL);
        store_records_free(recs, n);
        if (!diff)
                return -1;
        *added = json_array_size(json_object_get(diff, "added"));
        *changed = json_array_size(json_object_get(diff, "changed"));
        *removed = json_array_size(json_object_get(diff, "removed"));
        json_decref(diff);
        return 0;
}

static int do_commit(const char *name, unsigned n_leaves, enum change_shape shape, bool with_diff)
{
        struct bstore *b = find(name);
        unsigned first, stride, count;
        uint64_t rev, k, t0, t1, t2, id, diff_ns = 0;
        size_t added, changed, removed;

        if (!b || store_revision(b->st, &rev) != 0) {
                printf("error no store %s\n", name);
                return 0;
        }
        k = rev + 1;
        if (change_plan(b->n_entries, n_leaves, k, shape, &first, &stride, &count) < 0) {
                printf("error %u leaves cannot change in a store of %u entries\n", n_leaves, b->n_entries);
                return 0;
        }
        t0 = now_ns();
        for (unsigned j = 0; j < count; j++)
                for (unsigned l = LEAF_MTU; l <= LEAF_ALIAS; l++)
                        if (set_leaf(b, first + j * stride, l, k) < 0)
                                exit(1);
        t1 = now_ns();
        if (with_diff) {
                json_t *diff = NULL;
                char *text = NULL;

                if (candidate_diff(b->cand, &diff) != 0 || !(text = json_dumps(diff, JSON_COMPACT))) {
                        printf("error diff\n");
                        exit(1);
                }
                free(text);
                json_decref(diff);
                t2 = now_ns();
                diff_ns = t2 - t1;
                t1 = t2;
        }
        if (commit_cand(b, &id) < 0)
                exit(1);
        t2 = now_ns();
        if (id != k || check_last(b, &added, &changed, &removed) < 0) {
                printf("error commit %llu: expected id %llu, or no history row\n", (unsigned long long)id,
                       (unsigned long long)k);
                exit(1);
        }
        printf("ok set_ns=%llu diff_ns=%llu commit_ns=%llu changed=%zu added=%zu removed=%zu rev=%llu\n",
               (unsigned long long)(t1 - t0 - diff_ns), (unsigned long long)diff_ns, (unsigned long long)(t2 - t1),
               changed, added, removed, (unsigned long long)id);
        return 0;
}

static void do_close(const char *name)
{
        struct bstore *b = find(name);

        if (!b) {
                printf("error no store %s\n", name);
                return;
        }
        b->cand = candidate_free(b->cand);
        b->st = store_free(b->st);
        printf("ok closed=%s\n", name);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"schema", required_argument, NULL, 's'}, {"dir", required_argument, NULL, 'd'}, {0}};
        struct orb_diag d = ORB_DIAG_INIT;
        const char *schema = NULL;
        char line[512], cmd[32], name[64], msg[512], w1[16], w2[16];
        unsigned n;
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 's')
                        schema = optarg;
                else if (c == 'd')
                        dir = optarg;
                else
                        return 100;
        }
        if (!schema || !dir) {
                fprintf(stderr, "usage: commit --schema FILE --dir DIR < commands\n");
                return 100;
        }
        if (schema_set_add_file(&schemas, schema, &d) != 0 || schema_set_link(&schemas, &d) != 0) {
                fprintf(stderr, "commit: %s\n", diag_format(&d, msg, sizeof(msg)));
                return 1;
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
                        int nw = sscanf(line, "%*s %*s %*u %15s %15s", w1, w2);
                        do_commit(name, n, change_shape_of(nw >= 1 ? w1 : NULL),
                                  (nw >= 1 && !strcmp(w1, "diff")) || (nw == 2 && !strcmp(w2, "diff")));
                }
                else if (!strcmp(cmd, "close") && sscanf(line, "%*s %63s", name) == 1)
                        do_close(name);
                else
                        printf("error unknown command: %s", line);
        }
        for (unsigned i = 0; i < STORES_MAX; i++) {
                candidate_free(stores[i].cand);
                store_free(stores[i].st);
        }
        schema_set_deinit(&schemas);
        return 0;
}
