/* Seccomp violations read from the kernel log and attributed to services
 * (violations.c). */
#pragma once

#include "sandbox/sandbox.h"
#include "util/loop.h"

struct violations {
        int fd;                  /* /dev/kmsg, or -1 */
        struct loop_io io;
        struct loop *loop;
        char cg_prefix[80];      /* "/orbital-<pid>/" */
        void (*report)(void *ctx, const char *service, const struct seccomp_event *ev);
        void *ctx;
};

/* Return: 0, -errno when /dev/kmsg cannot be read (violations then only
 * show as EPERM to the service, or as its death by SIGSYS). */
int violations_init(struct violations *v, struct loop *l, const char *cg_name,
                    void (*report)(void *ctx, const char *service, const struct seccomp_event *ev), void *ctx);
void violations_deinit(struct violations *v);
