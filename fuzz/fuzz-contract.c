#undef NDEBUG

/*
 * libFuzzer target for the text parsers of contract.h (src/lib/contract.c,
 * src/lib/json.c): the contract language, version ranges, and the JSON
 * form of a message.
 *
 * A contract is either refused with -ORB_E_INVALID and "line N: ..." (N a
 * line of the input, the text printable), or holds every rule of the
 * language: valid names, unique method names and ids, unique field names
 * and tags per list, no reply for a oneway method, lookups that find each
 * method, and a copy of the text that parses to the same contract.
 *
 * The same input is also tried as a version range, and as a JSON object
 * for a fixed method: JSON that is accepted must build a message that
 * passes the schema check and renders to JSON that builds the same again.
 * replay.c runs the corpus through this same function in ordinary builds.
 */

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbital/contract.h"
#include "orbital/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RANGE_MAX 256 /* longer inputs are not tried as ranges */

static void check_printable(const char *s)
{
        for (; *s; s++)
                assert((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
}

static bool name_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 63 || s[0] < 'a' || s[0] > 'z')
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void check_error(const char *err, const uint8_t *data, size_t size)
{
        unsigned lines = 1, line = 0;

        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        assert(sscanf(err, "line %u: ", &line) == 1);
        assert(line >= 1 && line <= lines);
        check_printable(err);
}

static void check_fields(const struct orb_field *f, unsigned n)
{
        assert(n <= 64 && (n == 0 || f));
        for (unsigned i = 0; i < n; i++) {
                assert(name_valid(f[i].name));
                assert(f[i].tag >= 1 && f[i].type >= ORB_TYPE_BOOL && f[i].type <= ORB_TYPE_BYTES);
                assert(!f[i].is_repeated || f[i].is_optional);
                for (unsigned k = 0; k < i; k++)
                        assert(strcmp(f[i].name, f[k].name) && f[i].tag != f[k].tag);
        }
}

static void check_contract(const struct orb_contract *c, const uint8_t *data, size_t size)
{
        assert(name_valid(c->name));
        assert(strlen(c->text) == size && !memcmp(c->text, data, size));
        assert(c->n_methods <= 256);
        for (unsigned i = 0; i < c->n_methods; i++) {
                const struct orb_method *m = &c->methods[i];

                assert(name_valid(m->name) && m->id >= 1);
                assert(m->right == ORB_RIGHT_READ || m->right == ORB_RIGHT_WRITE);
                assert(!m->is_oneway || m->n_out == 0);
                assert(orb_contract_method(c, m->name) == m);
                assert(orb_contract_method_by_id(c, m->id) == m);
                check_fields(m->in, m->n_in);
                check_fields(m->out, m->n_out);
        }
}

/* The copy of the text parses to the same contract. */
static void check_reparse(const struct orb_contract *c)
{
        struct orb_contract *again = NULL;

        assert(orb_contract_parse(c->text, strlen(c->text), &again, NULL, 0) == 0);
        assert(!strcmp(again->name, c->name) && again->major == c->major && again->minor == c->minor);
        assert(again->n_methods == c->n_methods);
        for (unsigned i = 0; i < c->n_methods; i++) {
                const struct orb_method *a = &c->methods[i], *b = &again->methods[i];

                assert(!strcmp(a->name, b->name) && a->id == b->id && a->right == b->right);
                assert(a->n_in == b->n_in && a->n_out == b->n_out && a->is_oneway == b->is_oneway);
        }
        orb_contract_free(again);
}

static void try_range(const char *s)
{
        bool match, again;

        if (!orb_version_match(s, 1, 2, &match))
                return;
        /* Well-formed for one version is well-formed for any. */
        assert(orb_version_match(s, 0, 0, &again));
        assert(orb_version_match(s, 4294967295u, 4294967295u, &again));
}

static const char json_contract[] =
        "interface j 1.0\n"
        "method all@1 read (b: bool?@1, i: i64?@2, u: u64?@3, s: str?@4, y: bytes?@5, bl: bool[]@6, "
        "il: i64[]@7, ul: u64[]@8, sl: str[]@9, yl: bytes[]@10, r: str@11)\n";

static void try_json(const char *s)
{
        static struct orb_contract *c;
        const struct orb_method *m;
        struct orb_msg *msg, *again;
        char err[512], *json, *json2;
        int r;

        if (!c)
                assert(orb_contract_parse(json_contract, strlen(json_contract), &c, NULL, 0) == 0);
        m = &c->methods[0];
        msg = orb_msg_new(ORB_MSG_CALL);
        assert(msg);
        r = orb_msg_from_json(msg, m->in, m->n_in, s, err, sizeof(err));
        if (r) {
                assert(r == -ORB_E_INVALID && err[0]);
                orb_msg_free(msg);
                return;
        }
        assert(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == 0);
        json = orb_msg_to_json(msg, m->in, m->n_in);
        assert(json);
        again = orb_msg_new(ORB_MSG_CALL);
        assert(again);
        assert(orb_msg_from_json(again, m->in, m->n_in, json, err, sizeof(err)) == 0);
        json2 = orb_msg_to_json(again, m->in, m->n_in);
        assert(json2 && !strcmp(json, json2));
        free(json);
        free(json2);
        orb_msg_free(again);
        orb_msg_free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct orb_contract *c = NULL;
        char err[512], *text;
        int r;

        r = orb_contract_parse((const char *)data, size, &c, err, sizeof(err));
        if (r) {
                assert(r == -ORB_E_INVALID && !c);
                check_error(err, data, size);
        } else {
                check_contract(c, data, size);
                check_reparse(c);
                orb_contract_free(c);
        }

        /* The other parsers take NUL-terminated text. */
        text = malloc(size + 1);
        assert(text);
        memcpy(text, data, size);
        text[size] = '\0';
        if (size <= RANGE_MAX)
                try_range(text);
        if (size && text[0] == '{')
                try_json(text);
        free(text);
        return 0;
}
