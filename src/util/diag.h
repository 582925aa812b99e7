/*
 * A diagnostic for people: where the problem is and what was expected.
 * Parsers fill one of these instead of printing, so the caller decides
 * whether it goes to a log, an orbctl reply or a test assertion.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

struct orb_diag {
        char file[256];    /* input name, "" if none */
        unsigned line;     /* 1-based, 0 if unknown */
        unsigned column;   /* 1-based, 0 if unknown */
        char field[128];   /* dotted field path, "" if none */
        char message[512]; /* "expected X, found Y" */
};

#define ORB_DIAG_INIT {0}

/* Quoted values keep this many input bytes, then "..." follows. */
#define DIAG_QUOTE_MAX 40
/* Enough for DIAG_QUOTE_MAX bytes, each escaped as \xNN, quotes and "...". */
#define DIAG_QUOTE_SIZE (4 * DIAG_QUOTE_MAX + 8)

__attribute__((format(printf, 5, 6))) void diag_set(struct orb_diag *d, unsigned line, unsigned column,
                                                   const char *field, const char *fmt, ...);
/* "file:line:col: field: message" into buf; returns buf. */
char *diag_format(const struct orb_diag *d, char *buf, unsigned n);
/* Sets d->file (truncated to fit); NULL clears it. */
void diag_set_file(struct orb_diag *d, const char *file);
/* 'value' for a message: escaped, cut after DIAG_QUOTE_MAX bytes. Returns buf. */
char *diag_quote(char *buf, size_t n, const char *s, size_t len);
