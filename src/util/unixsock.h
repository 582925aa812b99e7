/* AF_UNIX sockets by path: one place for the sockaddr dance. */
#pragma once

/*
 * unix_listen() - a non-blocking, close-on-exec socket of @type bound to
 * @path (an old socket file there is replaced) and, for stream and
 * seqpacket types, listening with @backlog.
 * Return: the descriptor, -EADDRINUSE if something answers there already,
 * -ENAMETOOLONG, -errno.
 */
int unix_listen(const char *path, int type, int backlog);

/* A blocking, close-on-exec client socket connected to @path.
 * Return: the descriptor, -ENAMETOOLONG, -errno. */
int unix_connect(const char *path, int type);
