/*
 * Scoped cleanup for locals, after c-util/c-stdaux: a local declared with
 * _cleanup_(fn) has fn(&local) called when it leaves scope.  take_ptr() and
 * take_fd() steal ownership out of such a local on the success path.
 */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(fn) __attribute__((cleanup(fn)))

#define DEFINE_CLEANUP(type, fn)                                               \
        static inline void fn##p(type *p)                                      \
        {                                                                      \
                if (*p)                                                        \
                        fn(*p);                                                \
        }

static inline void freep(void *p)
{
        free(*(void **)p);
}

/* Closes a descriptor but keeps errno: cleanup runs on error paths. */
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define take_ptr(p)                                                            \
        ({                                                                     \
                __typeof__(p) _tp = (p);                                       \
                (p) = NULL;                                                    \
                _tp;                                                           \
        })

#define take_fd(fd)                                                            \
        ({                                                                     \
                int _tf = (fd);                                                \
                (fd) = -1;                                                     \
                _tf;                                                           \
        })

static inline int safe_close(int fd)
{
        if (fd >= 0)
                close(fd);
        return -1;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member)                                        \
        ((type *)((char *)(ptr) - offsetof(type, member)))

#include <stdio.h>
static inline void fclosep_(FILE **f)
{
        if (*f)
                fclose(*f);
}

#include <dirent.h>
static inline void closedirp_(DIR **d)
{
        if (*d)
                closedir(*d);
}
