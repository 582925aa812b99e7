/*
 * What message.c, contract.c and json.c share and liborbital does not
 * export (the version script keeps only orb_*).
 */
#pragma once

#include <stddef.h>

/* Formats @fmt into @err (when given) and returns @code: the one way the
 * codec reports why it refused something. */
__attribute__((format(printf, 4, 5))) int wire_errorf(int code, char *err, size_t err_size, const char *fmt, ...);
