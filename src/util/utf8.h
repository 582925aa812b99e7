/*
 * Text from services is arbitrary bytes; JSON needs UTF-8.  Invalid
 * sequences become U+FFFD, so nothing a service prints can make a reply
 * unencodable.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at @s (1..4), or 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* Bytes utf8_sanitize() will write for @in (without the NUL). */
size_t utf8_sanitized_len(const char *in, size_t n);
/* Copies @in to @out (room for utf8_sanitized_len() + 1), NUL-terminated. */
size_t utf8_sanitize(const char *in, size_t n, char *out);
bool utf8_is_valid(const char *s, size_t n);
/* For valid UTF-8 @s of @n bytes: the longest prefix of at most @max
 * bytes that ends on a character boundary. */
size_t utf8_cut(const char *s, size_t n, size_t max);
