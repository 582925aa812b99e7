/*
 * Unit test of log capture: line splitting across reads, long lines,
 * ring bounds (lines and bytes), file records and rotation.
 */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/logstore.h"

static unsigned n_emitted;
static char last[LOG_LINE_MAX + 1];

static void on_emit(void *ctx, const struct log_record *rec)
{
        n_emitted++;
        memcpy(last, rec->text, rec->len + 1u);
}

static void test_split_and_partial(void)
{
        struct log_settings set = {.ring_lines = 8, .ring_bytes = 1 << 20};
        struct logstore ls;

        logstore_init(&ls, &set, "t");
        n_emitted = 0;
        logstore_feed(&ls, LOG_STREAM_STDOUT, 1, 1, "hel", 3, on_emit, NULL);
        assert(n_emitted == 0);
        logstore_feed(&ls, LOG_STREAM_STDOUT, 1, 2, "lo\nwor", 6, on_emit, NULL);
        assert(n_emitted == 1 && strcmp(last, "hello") == 0);
        /* stderr keeps its own partial line */
        logstore_feed(&ls, LOG_STREAM_STDERR, 1, 3, "err\r\n", 5, on_emit, NULL);
        assert(n_emitted == 2 && strcmp(last, "err") == 0);
        logstore_flush(&ls, LOG_STREAM_STDOUT, 1, 4, on_emit, NULL);
        assert(n_emitted == 3 && strcmp(last, "wor") == 0);
        assert(logstore_count(&ls) == 3);
        assert(strcmp(logstore_nth_newest(&ls, 2)->text, "hello") == 0);
        assert(logstore_nth_newest(&ls, 1)->stream == LOG_STREAM_STDERR);
        assert(logstore_nth_newest(&ls, 3) == NULL);
        logstore_deinit(&ls);
}

static void test_long_lines_split(void)
{
        struct log_settings set = {.ring_lines = 8, .ring_bytes = 1 << 20};
        struct logstore ls;
        size_t n = LOG_LINE_MAX * 2 + 10;
        char *big = malloc(n + 1);

        memset(big, 'a', n);
        big[n] = '\n';
        logstore_init(&ls, &set, "t");
        n_emitted = 0;
        logstore_feed(&ls, LOG_STREAM_STDOUT, 1, 1, big, n + 1, on_emit, NULL);
        assert(n_emitted == 3); /* 2048 + 2048 + 10 */
        assert(logstore_nth_newest(&ls, 0)->len == 10);
        assert(logstore_nth_newest(&ls, 1)->len == LOG_LINE_MAX);
        logstore_deinit(&ls);
        free(big);
}

static void test_ring_bounds(void)
{
        struct log_settings set = {.ring_lines = 4, .ring_bytes = 100};
        struct logstore ls;
        char line[64];

        logstore_init(&ls, &set, "t");
        for (int i = 0; i < 10; i++) {
                int len = snprintf(line, sizeof(line), "line %d", i);
                logstore_append(&ls, LOG_STREAM_STDOUT, 1, 1, line, (size_t)len);
                assert(logstore_count(&ls) <= 4);
                assert(ls.bytes <= 100);
        }
        assert(strcmp(logstore_nth_newest(&ls, 0)->text, "line 9") == 0);
        assert(strcmp(logstore_nth_newest(&ls, 3)->text, "line 6") == 0);
        assert(logstore_nth_newest(&ls, 0)->seq == 10);
        /* byte bound: two 40-byte lines fit in 100, a third evicts */
        memset(line, 'x', 40);
        for (int i = 0; i < 3; i++)
                logstore_append(&ls, LOG_STREAM_STDOUT, 1, 1, line, 40);
        assert(ls.bytes <= 100 && logstore_count(&ls) == 2);
        logstore_deinit(&ls);
}

static off_t file_size(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_file_rotation(void)
{
        char dir[] = "/tmp/test-logstore.XXXXXX", path[256], line[100];
        struct log_settings set = {.ring_lines = 4, .ring_bytes = 1024, .max_file = 1000, .keep = 2};
        struct logstore ls;
        FILE *f;

        assert(mkdtemp(dir));
        set.dir = dir;
        logstore_init(&ls, &set, "svc");
        memset(line, 'y', 50);
        for (int i = 0; i < 100; i++)
                logstore_append(&ls, LOG_STREAM_STDERR, 42, 1700000000000000ull, line, 50);
        snprintf(path, sizeof(path), "%s/svc.log", dir);
        assert(file_size(path) > 0 && file_size(path) <= 1000);
        snprintf(path, sizeof(path), "%s/svc.log.1", dir);
        assert(file_size(path) > 0 && file_size(path) <= 1000);
        snprintf(path, sizeof(path), "%s/svc.log.2", dir);
        assert(file_size(path) > 0);
        snprintf(path, sizeof(path), "%s/svc.log.3", dir);
        assert(file_size(path) == -1);
        /* record format: time stream pid text */
        snprintf(path, sizeof(path), "%s/svc.log", dir);
        f = fopen(path, "r");
        assert(f && fgets(line, sizeof(line), f));
        assert(strncmp(line, "2023-11-14T22:13:20.000Z stderr 42 yyyy", 39) == 0);
        fclose(f);
        logstore_deinit(&ls);
        snprintf(path, sizeof(path), "%s/svc.log", dir);
        unlink(path);
        for (int g = 1; g <= 2; g++) {
                snprintf(path, sizeof(path), "%s/svc.log.%d", dir, g);
                unlink(path);
        }
        rmdir(dir);
}

int main(void)
{
        test_split_and_partial();
        test_long_lines_split();
        test_ring_bounds();
        test_file_rotation();
        printf("test-logstore: ok\n");
        return 0;
}
