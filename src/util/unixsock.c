/* AF_UNIX helpers shared by orbitald's sockets and its clients. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/unixsock.h"

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
        *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        strcpy(sa->sun_path, path);
        return 0;
}

int unix_listen(const char *path, int type, int backlog)
{
        struct sockaddr_un sa;
        _cleanup_close_ int fd = -1;
        int r = fill_addr(&sa, path);

        if (r < 0)
                return r;
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* Replace a stale socket file, never a live one. */
        r = unix_connect(path, type);
        if (r >= 0) {
                close(r);
                return -EADDRINUSE;
        }
        unlink(path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        if (type != SOCK_DGRAM && listen(fd, backlog) < 0)
                return -errno;
        return take_fd(fd);
}

int unix_connect(const char *path, int type)
{
        struct sockaddr_un sa;
        _cleanup_close_ int fd = -1;
        int r = fill_addr(&sa, path);

        if (r < 0)
                return r;
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        return take_fd(fd);
}
