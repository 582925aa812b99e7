/* Where orbitald and its clients meet by default: one rule, both sides. */
#pragma once

#include <stddef.h>

/* root: /run/orbital; others: $XDG_RUNTIME_DIR/orbital or /tmp/orbital-<uid>. */
char *orbital_default_run_dir(char *buf, size_t n);
/* $ORBITAL_SOCKET, else <default run dir>/control. */
char *orbital_default_socket(char *buf, size_t n);
