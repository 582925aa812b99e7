/*
 * Bounded formatting into a caller's buffer: each call appends at *pos and
 * never writes past n - 1, so a sequence of calls truncates cleanly.
 */
#pragma once

#include <stddef.h>

__attribute__((format(printf, 4, 5))) void buf_appendf(char *buf, size_t n, size_t *pos, const char *fmt, ...);
