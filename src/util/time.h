/*
 * Time and quantity helpers.  All durations are microseconds in a usec_t.
 * Policy code takes `now` as an argument; only the thin wrappers here read
 * the clock, so tests drive time by hand.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t usec_t;

#define USEC_PER_MSEC ((usec_t)1000)
#define USEC_PER_SEC ((usec_t)1000000)
#define USEC_INFINITY UINT64_MAX

usec_t now_mono(void);
usec_t now_real(void);

/*
 * "250ms", "5s", "2m", "1h", "1.5s", "0", "1m30s", "10us"; units h, m, s,
 * ms, us in that order, each at most once; false on anything else.
 */
bool parse_duration(const char *s, usec_t *out);
/* "64M", "64MiB", "512K", "1G", "4096"; binary units; false otherwise. */
bool parse_size(const char *s, uint64_t *out);
/* Shortest exact form: "250ms", "5s", "1m30s". Returns buf. */
char *format_duration(char *buf, size_t n, usec_t d);
/* Largest exact binary unit: "64M", "512K", "4097". Returns buf. */
char *format_size(char *buf, size_t n, uint64_t size);
/* "2026-11-22T02:39:50.123Z" from a realtime usec. Returns buf. */
char *format_timestamp(char *buf, size_t n, usec_t realtime);
