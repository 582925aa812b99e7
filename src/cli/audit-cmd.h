/*
 * `orbctl audit`: print, follow or verify the audit log.  It reads the
 * file directly (orbctl runs as root or as orbitald's user), so it works
 * whether or not orbitald is running; orbitald only contributes its live
 * head, which makes truncation of the newest records visible.
 */
#pragma once

#include <stddef.h>

/**
 * audit_cmd() - run `orbctl audit [-f] [--verify] [-n N] [--json] [--file PATH]`.
 * @path: the log; --file overrides it
 * @live_head: orbitald's head as "SEQ:HASH" (a space works as well as the
 *             colon), or NULL when orbitald is not reachable; --verify
 *             then checks against "<path>.head", as it does when --file
 *             names another file.  Fetch it BEFORE this call: a head
 *             taken after reading could name newer records.
 * @argc, @argv: the command's arguments, argv[0] being "audit"
 *
 * Without --verify: the last N records (default 20), one per line,
 * "SEQ TIME KIND ACTOR key=value ...", or with --json the raw lines; -f
 * then prints new records as they are appended until SIGINT.
 * With --verify: "audit log OK: N records, head SEQ HASH" or the problems.
 *
 * Return: the exit code: 0 ok; 1 the log has problems (--verify), or was
 * truncated or removed while followed; 100 bad usage; 111 system failure.
 */
int audit_cmd(const char *path, const char *live_head, int argc, char **argv);

/* orbitald's default log: <state dir>/audit.log, where the state dir is
 * /var/lib/orbital for root, else ~/.local/state/orbital (as orbitald's
 * --state-dir default).  Returns @buf. */
char *audit_default_path(char *buf, size_t n);
