/*
 * The JSON form of a message, for generic tools (orbctl call): one JSON
 * object, keys are the field names of a field list.
 *
 *   bool -> true/false     i64, u64 -> integer     str -> string
 *   bytes -> base64 string (RFC 4648 standard alphabet, with padding)
 *   a repeated field -> an array of those (always present in output, [] if
 *   there are none; may be left out in input)
 *
 * Input is checked completely before the first field is put, so a refusal
 * leaves the message as it was.  Refused: anything but an object, keys the
 * list does not know (the error lists those it does), missing required
 * fields, null, a JSON type that does not fit, a negative u64, a real for
 * an integer, base64 that is not in canonical form (length a multiple of
 * 4, '=' only as padding, unused bits zero), duplicate keys.
 *
 * Integers: jansson holds them as long long, so JSON can carry u64 values
 * up to INT64_MAX only; a bigger literal fails in the JSON parser and the
 * error says so.  Output has the same limit the other way round: a u64
 * above INT64_MAX is rendered as a string of its decimal digits, the one
 * lossless form jansson can write (input does not take it back).
 */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbital/contract.h"
#include "wire.h"
#include "util/cleanup.h"

#define KEY_SHOWN_MAX 64 /* bytes of an unknown key quoted in an error */

/* ------------------------------------------------------------------------
 * Base64
 */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes (n + 2) / 3 * 4 characters and a NUL. */
static void b64_encode(const uint8_t *in, size_t n, char *out)
{
        size_t i;

        for (i = 0; i + 3 <= n; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

                *out++ = b64_alphabet[v >> 18];
                *out++ = b64_alphabet[(v >> 12) & 63];
                *out++ = b64_alphabet[(v >> 6) & 63];
                *out++ = b64_alphabet[v & 63];
        }
        if (i < n) {
                uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

                *out++ = b64_alphabet[v >> 18];
                *out++ = b64_alphabet[(v >> 12) & 63];
                *out++ = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
                *out++ = '=';
        }
        *out = '\0';
}

static int b64_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/*
 * Strict decoding: every value has exactly one accepted spelling.  @out
 * (room for n / 4 * 3 bytes) may be NULL to only check.
 * Return: true and *@out_len, or false.
 */
static bool b64_decode(const char *in, size_t n, uint8_t *out, size_t *out_len)
{
        size_t pad = 0, o = 0;

        if (n % 4)
                return false;
        if (n && in[n - 1] == '=')
                pad = n >= 2 && in[n - 2] == '=' ? 2 : 1;
        for (size_t i = 0; i < n; i += 4) {
                bool last = i + 4 == n;
                uint32_t v = 0;

                for (size_t k = 0; k < 4; k++) {
                        int d = last && k >= 4 - pad ? 0 : b64_value(in[i + k]);

                        if (d < 0)
                                return false;
                        v = v << 6 | (uint32_t)d;
                }
                /* The bits padding leaves over must be zero. */
                if (last && ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff))))
                        return false;
                for (size_t k = 0; k < 3 - (last ? pad : 0); k++, o++)
                        if (out)
                                out[o] = (uint8_t)(v >> (16 - 8 * k));
        }
        *out_len = o;
        return true;
}

/* ------------------------------------------------------------------------
 * Errors
 */

static const char *type_name(uint8_t type)
{
        switch (type) {
        case ORB_TYPE_BOOL:
                return "bool";
        case ORB_TYPE_I64:
                return "i64";
        case ORB_TYPE_U64:
                return "u64";
        case ORB_TYPE_STR:
                return "str";
        case ORB_TYPE_BYTES:
                return "bytes (a base64 string)";
        }
        return "a supported type";
}

static const char *json_kind(const json_t *j)
{
        switch (json_typeof(j)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return json_integer_value(j) < 0 ? "a negative integer" : "an integer";
        case JSON_REAL:
                return "a real number";
        case JSON_TRUE:
                return "true";
        case JSON_FALSE:
                return "false";
        case JSON_NULL:
                return "null";
        }
        return "something else";
}

/* A key as it may be shown: printable ASCII, the rest as \xNN, cut. */
static const char *key_quote(const char *key, char *buf, size_t size)
{
        size_t pos = 0, i;

        for (i = 0; key[i] && i < KEY_SHOWN_MAX && pos + 5 < size; i++) {
                unsigned char ch = (unsigned char)key[i];

                if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'')
                        buf[pos++] = (char)ch;
                else
                        pos += (size_t)snprintf(buf + pos, size - pos, "\\x%02x", ch);
        }
        buf[pos] = '\0';
        if (key[i] && pos + 4 <= size)
                memcpy(buf + pos, "...", 4);
        return buf;
}

static int unknown_key(const char *key, const struct orb_field *fields, unsigned n_fields, char *err,
                       size_t err_size)
{
        char shown[4 * KEY_SHOWN_MAX + 8];
        char list[1024];
        size_t pos = 0;

        list[0] = '\0';
        for (unsigned i = 0; i < n_fields && pos < sizeof(list); i++) {
                int w = snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? ", " : "", fields[i].name);

                pos += w > 0 ? (size_t)w : 0;
        }
        return wire_errorf(-ORB_E_INVALID, err, err_size, "unknown field '%s' (expected %s%s)", key_quote(key, shown, sizeof(shown)),
                       n_fields ? "one of: " : "no fields", list);
}

/* ------------------------------------------------------------------------
 * JSON to message
 */

/* Whether @j can be a value of @f; @item is its array index or -1. */
static int value_check(const struct orb_field *f, const json_t *j, long item, char *err, size_t err_size)
{
        char where[32] = "";
        size_t n;

        if (item >= 0)
                snprintf(where, sizeof(where), " item %ld", item);
        switch (f->type) {
        case ORB_TYPE_BOOL:
                if (json_is_boolean(j))
                        return 0;
                break;
        case ORB_TYPE_I64:
                if (json_is_integer(j))
                        return 0;
                break;
        case ORB_TYPE_U64:
                if (json_is_integer(j) && json_integer_value(j) >= 0)
                        return 0;
                break;
        case ORB_TYPE_STR:
                if (json_is_string(j))
                        return 0;
                break;
        case ORB_TYPE_BYTES:
                if (!json_is_string(j))
                        break;
                if (b64_decode(json_string_value(j), json_string_length(j), NULL, &n))
                        return 0;
                return wire_errorf(-ORB_E_INVALID, err, err_size, "field '%s'%s: expected bytes as base64 (RFC 4648, with padding)",
                               f->name, where);
        }
        return wire_errorf(-ORB_E_INVALID, err, err_size, "field '%s'%s: expected %s, found %s", f->name, where, type_name(f->type),
                       json_kind(j));
}

static int field_check(const struct orb_field *f, const json_t *j, char *err, size_t err_size)
{
        size_t i;
        json_t *item;
        int r;

        if (!j) {
                if (f->is_optional || f->is_repeated)
                        return 0;
                return wire_errorf(-ORB_E_INVALID, err, err_size, "field '%s': missing", f->name);
        }
        if (!f->is_repeated)
                return value_check(f, j, -1, err, err_size);
        if (!json_is_array(j))
                return wire_errorf(-ORB_E_INVALID, err, err_size, "field '%s': expected an array of %s, found %s", f->name,
                               type_name(f->type), json_kind(j));
        if (json_array_size(j) > ORB_MSG_FIELDS_MAX)
                return wire_errorf(-ORB_E_INVALID, err, err_size, "field '%s': %zu items, more than a message holds (%u)", f->name,
                               json_array_size(j), ORB_MSG_FIELDS_MAX);
        json_array_foreach(j, i, item) {
                r = value_check(f, item, (long)i, err, err_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Puts one checked value; -ENOMEM is the only failure of its own. */
static int value_put(struct orb_msg *m, const struct orb_field *f, const json_t *j)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t n;

        switch (f->type) {
        case ORB_TYPE_BOOL:
                orb_msg_put_bool(m, f->tag, json_is_true(j));
                break;
        case ORB_TYPE_I64:
                orb_msg_put_i64(m, f->tag, json_integer_value(j));
                break;
        case ORB_TYPE_U64:
                orb_msg_put_u64(m, f->tag, (uint64_t)json_integer_value(j));
                break;
        case ORB_TYPE_STR:
                orb_msg_put_str(m, f->tag, json_string_value(j));
                break;
        case ORB_TYPE_BYTES:
                n = json_string_length(j);
                buf = malloc(n / 4 * 3 + 1);
                if (!buf)
                        return -ENOMEM;
                b64_decode(json_string_value(j), n, buf, &n);
                orb_msg_put_bytes(m, f->tag, buf, n);
                break;
        }
        return 0;
}

static int field_put(struct orb_msg *m, const struct orb_field *f, const json_t *j)
{
        size_t i;
        json_t *item;
        int r = 0;

        if (!j)
                return 0;
        if (!f->is_repeated)
                return value_put(m, f, j);
        json_array_foreach(j, i, item) {
                r = value_put(m, f, item);
                if (r < 0)
                        break;
        }
        return r;
}

static int json_syntax_error(const json_error_t *je, char *err, size_t err_size)
{
        if (strstr(je->text, "too big"))
                return wire_errorf(-ORB_E_INVALID, err, err_size,
                               "line %d, column %d: integer out of range: JSON integers here are 64-bit signed, "
                               "so a u64 above 9223372036854775807 cannot be given in JSON",
                               je->line, je->column);
        /* jansson's own words would name a flag of its API. */
        if (strstr(je->text, "\\u0000"))
                return wire_errorf(-ORB_E_INVALID, err, err_size, "line %d, column %d: invalid JSON: a string may not contain \\u0000",
                               je->line, je->column);
        return wire_errorf(-ORB_E_INVALID, err, err_size, "line %d, column %d: invalid JSON: %s", je->line, je->column, je->text);
}

/**
 * orb_msg_from_json() - add the fields of a JSON object to a message.
 * @m: the message to add to
 * @fields, @n_fields: the schema, e.g. a method's ->in
 * @json: the JSON text, NUL-terminated
 * @err, @err_size: on -ORB_E_INVALID, what is wrong (may be NULL)
 *
 * Fields are put in schema order, a repeated field's items in array order.
 * On -ORB_E_INVALID for the input, @m is unchanged.  A put that fails
 * (the record would be too big, or no memory) is also in m->error.
 *
 * Return: 0, -ORB_E_INVALID, -ENOMEM.
 */
int orb_msg_from_json(struct orb_msg *m, const struct orb_field *fields, unsigned n_fields, const char *json,
                      char *err, size_t err_size)
{
        _cleanup_(json_decrefp) json_t *root = NULL;
        json_error_t je;
        const char *key;
        json_t *value;
        int r;

        if (err && err_size)
                err[0] = '\0';
        if (!json)
                return wire_errorf(-ORB_E_INVALID, err, err_size, "expected a JSON object, found nothing");
        root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                return json_syntax_error(&je, err, err_size);
        if (!json_is_object(root))
                return wire_errorf(-ORB_E_INVALID, err, err_size, "expected a JSON object, found %s", json_kind(root));
        json_object_foreach(root, key, value) {
                unsigned i = 0;

                while (i < n_fields && strcmp(fields[i].name, key))
                        i++;
                if (i == n_fields)
                        return unknown_key(key, fields, n_fields, err, err_size);
        }
        for (unsigned i = 0; i < n_fields; i++) {
                r = field_check(&fields[i], json_object_get(root, fields[i].name), err, err_size);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < n_fields; i++) {
                r = field_put(m, &fields[i], json_object_get(root, fields[i].name));
                if (r < 0)
                        return r;
        }
        if (m->error == -ENOMEM)
                return -ENOMEM;
        if (m->error)
                return wire_errorf(-ORB_E_INVALID, err, err_size, "unable to build the message: %s", strerror(-m->error));
        return 0;
}

/* ------------------------------------------------------------------------
 * Message to JSON
 */

static json_t *bytes_to_json(const struct orb_value *v)
{
        _cleanup_free_ char *text = NULL;

        text = malloc(((size_t)v->len + 2) / 3 * 4 + 1);
        if (!text)
                return NULL;
        b64_encode(v->data, v->len, text);
        return json_string_nocheck(text);
}

/* One value of @f, or NULL (out of memory, or a value of another type). */
static json_t *value_to_json(const struct orb_field *f, const struct orb_value *v)
{
        char digits[24];
        uint64_t u;
        int64_t i;

        if (v->type != f->type && !(f->type == ORB_TYPE_BYTES && v->type == ORB_TYPE_MEMFD))
                return NULL;
        switch (f->type) {
        case ORB_TYPE_BOOL:
                return json_boolean(*(const uint8_t *)v->data);
        case ORB_TYPE_I64:
                memcpy(&i, v->data, sizeof(i));
                return json_integer(i);
        case ORB_TYPE_U64:
                memcpy(&u, v->data, sizeof(u));
                if (u <= INT64_MAX)
                        return json_integer((json_int_t)u);
                snprintf(digits, sizeof(digits), "%" PRIu64, u);
                return json_string(digits);
        case ORB_TYPE_STR:
                return json_stringn(v->data, v->len);
        case ORB_TYPE_BYTES:
                return bytes_to_json(v);
        }
        return NULL;
}

static json_t *field_to_json(const struct orb_msg *m, const struct orb_field *f)
{
        _cleanup_(json_decrefp) json_t *array = NULL;
        const struct orb_value *v;

        if (!f->is_repeated)
                return value_to_json(f, orb_msg_field(m, f->tag, 0));
        array = json_array();
        if (!array)
                return NULL;
        for (unsigned i = 0; (v = orb_msg_field(m, f->tag, i)); i++)
                if (json_array_append_new(array, value_to_json(f, v)) < 0)
                        return NULL;
        return take_ptr(array);
}

/**
 * orb_msg_to_json() - render the fields of a message that a field list
 * knows, as one JSON object text.
 * @m: a parsed (or built) message, best checked with orb_msg_check() first
 * @fields, @n_fields: the schema
 *
 * Absent optional fields are left out; a repeated field is always an
 * array.  Of a field that is not repeated only the first value shows.
 * Fields of unknown tags are not shown.
 *
 * Return: the text (free() it), or NULL when out of memory or when a value
 * is not of its field's type.
 */
char *orb_msg_to_json(const struct orb_msg *m, const struct orb_field *fields, unsigned n_fields)
{
        _cleanup_(json_decrefp) json_t *root = json_object();

        if (!root)
                return NULL;
        for (unsigned i = 0; i < n_fields; i++) {
                const struct orb_field *f = &fields[i];
                json_t *j;

                if (!f->is_repeated && !orb_msg_field(m, f->tag, 0))
                        continue;
                j = field_to_json(m, f);
                if (!j || json_object_set_new(root, f->name, j) < 0)
                        return NULL;
        }
        return json_dumps(root, JSON_COMPACT);
}
