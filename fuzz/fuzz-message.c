#undef NDEBUG

/*
 * libFuzzer target for the message codec (src/lib/message.c) and what
 * runs on a received message after it: orb_msg_check() and the JSON form
 * (src/lib/json.c).
 *
 * The input is one record, as recv would leave it, without descriptors.
 * It is either refused with -ORB_E_PROTO, an empty index and a printable
 * reason, or indexed so that every value lies inside the record and is of
 * a sound type.  A message that passes the check of a method's field list
 * must render as JSON, and that JSON must build a message that renders
 * the same (unless it holds a u64 JSON cannot carry).  replay.c runs the
 * corpus through this same function in ordinary builds.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orbital/contract.h"
#include "orbital/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every type, required, optional and repeated; tags that collide across
 * types, so one record meets both lists differently. */
static const char contract_text[] =
        "interface fuzz 1.0\n"
        "method all@1 write (b: bool@1, i: i64@2, u: u64?@3, s: str@4, y: bytes?@5, bl: bool[]@6, "
        "il: i64[]@7, ul: u64[]@8, sl: str[]@9, yl: bytes[]@10) -> (s: str?@1, n: u64[]@2, y: bytes@4)\n";

static const struct orb_contract *contract(void)
{
        static struct orb_contract *c;
        char err[256];

        if (!c)
                assert(orb_contract_parse(contract_text, strlen(contract_text), &c, err, sizeof(err)) == 0);
        return c;
}

static void check_printable(const char *s)
{
        for (; *s; s++)
                assert((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
}

static void check_index(const struct orb_msg *m)
{
        assert(m->n_values <= ORB_MSG_FIELDS_MAX);
        for (unsigned i = 0; i < m->n_values; i++) {
                const struct orb_value *v = &m->values[i];
                const uint8_t *d = v->data;
                unsigned nth = 0;

                /* Without descriptors no MEMFD can pass. */
                assert(v->tag && v->type >= ORB_TYPE_BOOL && v->type <= ORB_TYPE_BYTES);
                assert(d >= m->buf + sizeof(struct orb_hdr) + 8 && d + v->len <= m->buf + m->len);
                if (v->type == ORB_TYPE_BOOL)
                        assert(v->len == 1 && d[0] <= 1);
                if (v->type == ORB_TYPE_I64 || v->type == ORB_TYPE_U64)
                        assert(v->len == 8);
                if (v->type == ORB_TYPE_STR)
                        assert(d[v->len] == '\0' && strlen((const char *)d) == v->len);
                /* Getters find each value at its place among its tag's. */
                for (unsigned k = 0; k < i; k++)
                        nth += m->values[k].tag == v->tag;
                assert(orb_msg_field(m, v->tag, nth) == v);
        }
}

static bool has_big_u64(const struct orb_msg *m)
{
        for (unsigned i = 0; i < m->n_values; i++) {
                uint64_t u;

                if (m->values[i].type != ORB_TYPE_U64)
                        continue;
                memcpy(&u, m->values[i].data, sizeof(u));
                if (u > INT64_MAX)
                        return true;
        }
        return false;
}

/* A checked message renders; its JSON builds a message that renders the same. */
static void check_fields(const struct orb_msg *m, const struct orb_field *fields, unsigned n)
{
        struct orb_msg *again;
        char err[512], *json, *json2;
        int r;

        r = orb_msg_check(m, fields, n, err, sizeof(err));
        if (r) {
                assert(r == -ORB_E_INVALID && err[0]);
                check_printable(err);
                free(orb_msg_to_json(m, fields, n));
                return;
        }
        json = orb_msg_to_json(m, fields, n);
        assert(json);
        again = orb_msg_new(ORB_MSG_CALL);
        assert(again);
        r = orb_msg_from_json(again, fields, n, json, err, sizeof(err));
        assert(r == 0 || (r == -ORB_E_INVALID && has_big_u64(m)));
        if (r == 0) {
                assert(orb_msg_check(again, fields, n, err, sizeof(err)) == 0);
                json2 = orb_msg_to_json(again, fields, n);
                assert(json2 && !strcmp(json, json2));
                free(json2);
                /* What the builder made parses as it is. */
                assert(orb_msg_parse_untrusted(again, err, sizeof(err)) == 0);
        }
        orb_msg_free(again);
        free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct orb_contract *c = contract();
        struct orb_msg *m = orb_msg_new(0);
        char err[256];
        unsigned n;
        int r;

        assert(m);
        /* A buffer of exactly the record, so ASan sees any read past it. */
        free(m->buf);
        m->buf = malloc(size ? size : 1);
        assert(m->buf);
        if (size)
                memcpy(m->buf, data, size);
        m->len = m->cap = size;

        r = orb_msg_parse_untrusted(m, err, sizeof(err));
        if (r) {
                assert(r == -ORB_E_PROTO && err[0] && m->n_values == 0);
                check_printable(err);
                assert(!orb_msg_field(m, 1, 0));
                orb_msg_free(m);
                return 0;
        }
        check_index(m);
        n = m->n_values;
        assert(orb_msg_parse_untrusted(m, err, sizeof(err)) == 0 && m->n_values == n);
        for (unsigned i = 0; i < c->n_methods; i++) {
                check_fields(m, c->methods[i].in, c->methods[i].n_in);
                check_fields(m, c->methods[i].out, c->methods[i].n_out);
        }
        orb_msg_free(m);
        return 0;
}
