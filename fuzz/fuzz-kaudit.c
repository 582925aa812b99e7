#undef NDEBUG

/*
 * libFuzzer target for the audit record assembler (src/core/sandbox/
 * kaudit.c), which reads what the kernel says about processes that are
 * misbehaving: nothing in a record may be trusted.
 *
 * The input is a sequence of lines "TYPE PAYLOAD": TYPE a decimal netlink
 * message type, PAYLOAD one record as the kernel writes it ("audit(T:S):
 * key=value ...").  Each payload gets a buffer of exactly its size.  Every
 * violation that comes out must be attributable (a pid) and hold only
 * printable, terminated text.  replay.c runs the corpus through this same
 * function in ordinary builds.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/violations.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s, size_t size)
{
        size_t n = strnlen(s, size);

        assert(n < size);
        for (size_t i = 0; i < n; i++)
                assert(s[i] >= 0x20 && s[i] < 0x7f);
}

static void check(void *ctx, const struct violation *v)
{
        (void)ctx;
        assert(v->pid > 0);
        assert(v->kind == VIOLATION_SYSCALL || v->kind == VIOLATION_FILE || v->kind == VIOLATION_LIMIT ||
               v->kind == VIOLATION_SETID);
        printable(v->syscall, sizeof(v->syscall));
        printable(v->comm, sizeof(v->comm));
        printable(v->by, sizeof(v->by));
        printable(v->path, sizeof(v->path));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct kaudit_assembler a;
        const char *p = (const char *)data, *end = p + size;
        usec_t now = 0;

        if (kaudit_assembler_init(&a, check, NULL) < 0)
                return 0;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p)), *line_end = nl ? nl : end;
                int type = 0;
                char *copy;
                size_t len;

                while (p < line_end && *p >= '0' && *p <= '9' && type < 100000)
                        type = type * 10 + (*p++ - '0');
                if (p < line_end && *p == ' ')
                        p++;
                len = (size_t)(line_end - p);
                copy = malloc(len ? len : 1);
                if (!copy)
                        break;
                memcpy(copy, p, len);
                kaudit_feed(&a, type, copy, len, now);
                free(copy);
                now += 7000; /* some events wait, some expire */
                kaudit_expire(&a, now, 20000);
                p = nl ? nl + 1 : end;
        }
        kaudit_expire(&a, now + 1000000, 20000);
        kaudit_assembler_deinit(&a);
        return 0;
}
