/* Crash consistency of the store: a child commits in a loop and is killed
 * with SIGKILL at a random moment, 200 times (more with ORB_CRASH_ROUNDS).
 * Commit K sets 20 leaves and system.n to K and replaces the pending
 * confirm with one for K (history is pruned to 30 in the same transaction).  After each kill the store must open and hold whole commits only:
 * every leaf equals the running revision, the newest history row is that
 * revision, history ids are consecutive, the pending record names it, and
 * SQLite's own integrity check passes. */
#include "test-util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/candidate.h"

#define N_LEAVES 20
#define HISTORY_MAX 30

static struct schema_set schemas = SCHEMA_SET_INIT;

/* The child tells the parent through @tell: 'o' once the store is open,
 * 'c' after each commit (dropped when the pipe is full: non-blocking). */
static _Noreturn void child(const char *file, int tell)
{
        struct store_options o = { .history_max = HISTORY_MAX };
        struct validate_errors e = VALIDATE_ERRORS_INIT;
        struct store *st;
        struct candidate *c;
        char path[64], val[32];
        uint64_t id;

        if (store_open(file, &o, &st) || candidate_new(&schemas, st, &c))
                _exit(111);
        (void)!write(tell, "o", 1);
        for (;;) {
                uint64_t next = candidate_base(c) + 1;

                snprintf(val, sizeof(val), "%" PRIu64, next);
                for (int i = 0; i < N_LEAVES; i++) {
                        snprintf(path, sizeof(path), "system.leaf[%d].v", i);
                        if (candidate_set(c, path, val, NULL))
                                _exit(111);
                }
                if (candidate_set(c, "system.n", val, NULL))
                        _exit(111);
                if (candidate_commit(c, &(struct store_commit_info){ .author = "crash",
                                                                          .confirm_deadline = next,
                                                                          .clears_pending = true },
                                     &id, &e))
                        _exit(111);
                (void)!write(tell, "c", 1);
        }
}

/* Waits (at most 30 s, however slow the machine) for the child to say @what. */
static void wait_for(int fd, char what)
{
        struct pollfd pf = {fd, POLLIN, 0};
        char c;

        do {
                assert(poll(&pf, 1, 30000) == 1);
                assert(read(fd, &c, 1) == 1);
        } while (c != what);
}

static int check_leaf(const char *path, const struct cfg_value *v, void *ctx)
{
        uint64_t rev = *(uint64_t *)ctx;
        size_t len = strlen(path);

        if (len > 2 && !strcmp(path + len - 2, ".k"))
                return 0; /* key leaves hold their keys */
        if (v->kind != CFG_KIND_INT || (uint64_t)v->i != rev) {
                fprintf(stderr, "%s = %" PRId64 " at revision %" PRIu64 "\n", path, v->i, rev);
                abort();
        }
        return 0;
}

/* Opens the store after a kill and checks it holds whole commits only; returns the revision. */
static uint64_t check(const char *file)
{
        struct store_options o = { .history_max = HISTORY_MAX };
        struct store_record *h;
        struct store_pending p;
        struct store *st;
        uint64_t rev;
        size_t n;
        int r;

        r = store_open(file, &o, &st);
        if (r) {
                fprintf(stderr, "store_open after kill: %d\n", r);
                abort();
        }
        assert(store_revision(st, &rev) == 0);
        assert(store_list(st, "system", check_leaf, &rev) == 0);
        assert(store_history(st, 1000, &h, &n) == 0);
        assert(n == (rev < HISTORY_MAX ? rev : HISTORY_MAX));
        for (size_t i = 0; i < n; i++)
                assert(h[i].id == rev - i && !strcmp(h[i].author, "crash"));
        store_records_free(h, n);
        if (rev) {
                assert(store_pending_get(st, &p) == 0 && p.commit_id == rev && p.deadline == rev);
                assert(p.rollback_to == rev - 1);
        } else {
                assert(store_pending_get(st, &p) == STORE_E_NOT_FOUND);
        }
        store_free(st);
        return rev;
}

static void integrity(const char *file)
{
        sqlite3 *db;
        sqlite3_stmt *q;

        assert(sqlite3_open(file, &db) == SQLITE_OK);
        assert(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK);
        assert(sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), "ok"));
        sqlite3_finalize(q);
        assert(sqlite3_close(db) == SQLITE_OK);
}

int main(void)
{
        char *dir = test_tmpdir(), *file = test_file(dir, "crash.db");
        const char *env = getenv("ORB_CRASH_ROUNDS");
        unsigned rounds = env ? (unsigned)atoi(env) : 200, seed = (unsigned)time(NULL), mid_commit = 0;
        uint64_t rev = 0, last = 0;
        struct timespec t0, t1;

        test_schemas(&schemas);
        srand(seed);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (unsigned i = 0; i < rounds; i++) {
                int status, tell[2];
                pid_t pid;

                assert(pipe2(tell, O_CLOEXEC) == 0 && fcntl(tell[1], F_SETFL, O_NONBLOCK) == 0);
                pid = fork();
                assert(pid >= 0);
                if (pid == 0)
                        child(file, tell[1]);
                close(tell[1]);
                /* Odd rounds: anywhere from just opened to many commits in
                 * (0 to 30 ms).  Even rounds: after a commit, within 5 ms --
                 * in the middle of the next one, however slow the machine. */
                if (i % 2) {
                        wait_for(tell[0], 'o');
                        usleep((useconds_t)(rand() % 30000));
                } else {
                        wait_for(tell[0], 'c');
                        usleep((useconds_t)(rand() % 5000));
                }
                close(tell[0]);
                assert(kill(pid, SIGKILL) == 0);
                assert(waitpid(pid, &status, 0) == pid);
                assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
                rev = check(file);
                assert(rev >= last);
                mid_commit += rev > last;
                last = rev;
                if (i % 25 == 0)
                        integrity(file);
        }
        integrity(file);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("crash: %u kills (seed %u), %" PRIu64 " commits survived, %u rounds made progress, %.1f s\n", rounds,
               seed, rev, mid_commit, test_ms(&t0, &t1) / 1e3);
        /* Every even round waited for a commit: half the rounds progressed. */
        assert(mid_commit >= rounds / 2);
        schema_set_deinit(&schemas);
        free(file);
        test_rmdir(dir);
        printf("test-config-crash: ok\n");
        return 0;
}
