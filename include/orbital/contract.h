/*
 * Contracts: an interface described once, in a few lines of text, that
 * drives encoding, decoding and validation at both ends and lets generic
 * tools (orbctl call) speak JSON to any service.
 *
 *   # comment
 *   interface echo 1.2
 *   method echo@1 read (text: str@1, repeat: u64?@2) -> (text: str@1, count: u64@2)
 *   method reset@2 write () -> ()
 *   method log@3 write oneway (line: str@1)
 *
 * - `interface NAME MAJOR.MINOR` comes first, once.  A breaking change is a
 *   new MAJOR; a MINOR may only add methods and optional fields.
 * - `method NAME@ID RIGHT [oneway] (FIELDS) [-> (FIELDS)]`: ID 1..65535,
 *   unique; RIGHT is the capability right a caller needs: read or write.
 *   A oneway method has no reply part.
 * - A field is `NAME: TYPE[[]][?]@TAG`: TYPE bool, i64, u64, str, bytes;
 *   `[]` repeated (a list, may be empty), `?` optional; TAG 1..65535,
 *   unique within the field list.
 * - Names: [a-z][a-z0-9_]*, at most 63 characters.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orbital/message.h"

#define ORB_CONTRACT_MAX (64u << 10) /* largest contract text */

struct orb_field {
        char *name;
        uint16_t tag;
        uint8_t type;      /* ORB_TYPE_* except MEMFD */
        bool is_optional;
        bool is_repeated;  /* implies optional */
};

struct orb_method {
        char *name;
        uint16_t id;
        uint8_t right;     /* ORB_RIGHT_READ or ORB_RIGHT_WRITE */
        bool is_oneway;
        struct orb_field *in, *out;
        unsigned n_in, n_out;
};

struct orb_contract {
        char *name;
        unsigned major, minor;
        struct orb_method *methods;
        unsigned n_methods;
        char *text;        /* the source, as registered and shown */
};

/*
 * orb_contract_parse() - parse contract text.
 * Return: 0 and *@out, or -ORB_E_INVALID with @err as
 * "line N: what was expected", or -ENOMEM.
 */
int orb_contract_parse(const char *text, size_t len, struct orb_contract **out, char *err, size_t err_size);
struct orb_contract *orb_contract_free(struct orb_contract *c);

const struct orb_method *orb_contract_method(const struct orb_contract *c, const char *name);
const struct orb_method *orb_contract_method_by_id(const struct orb_contract *c, unsigned id);

/*
 * orb_msg_check() - validate a parsed message against a field list:
 * required fields present, each field's wire type matching (MEMFD satisfies
 * bytes), a non-repeated field at most once.  Unknown tags are allowed.
 * Return: 0, or -ORB_E_INVALID with @err naming the field and the problem.
 */
int orb_msg_check(const struct orb_msg *m, const struct orb_field *fields, unsigned n_fields, char *err,
                  size_t err_size);

/*
 * JSON, for generic tools.  from_json adds the fields of the JSON object
 * @json to @m (keys are field names; bytes are base64 strings; repeated
 * fields are arrays) and checks them against @fields; to_json renders the
 * known fields of a parsed @m as a JSON object text (malloc'd).
 * Return: 0, -ORB_E_INVALID with @err ("field 'x': expected u64"), -ENOMEM;
 * to_json returns NULL on failure.
 */
int orb_msg_from_json(struct orb_msg *m, const struct orb_field *fields, unsigned n_fields, const char *json,
                      char *err, size_t err_size);
char *orb_msg_to_json(const struct orb_msg *m, const struct orb_field *fields, unsigned n_fields);

/* "1.2" -> 1, 2.  Return: true if well-formed. */
bool orb_version_parse(const char *s, unsigned *major, unsigned *minor);
/*
 * A version range: comma-separated conditions, each an operator (>=, >, <=,
 * <, =, or none meaning =) and a version "M" or "M.m"; "" or "*" = any.
 * E.g. ">=1.2,<2".  Return: true if @range is well-formed (and sets *match).
 */
bool orb_version_match(const char *range, unsigned major, unsigned minor, bool *match);
/*
 * A bare major "M" compares as M.0 (">=1" is ">=1.0", "<2" is "<2.0",
 * "<=1" excludes 1.1), except with = or no operator, where it means any
 * minor of M: "1" and "=1" match 1.0, 1.7, ...; "=1.0" matches 1.0 only.
 * Numbers are decimal without sign or leading zero, at most 9 digits;
 * blanks may surround conditions and operators; "*" stands alone.
 */
