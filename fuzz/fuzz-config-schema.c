#undef NDEBUG

/*
 * libFuzzer target for orb-config's schema parser
 * (src/services/config/schema.c).
 *
 * Any input must either be refused with SCHEMA_E_INVALID and a diag fit
 * for a terminal (a message, printable, a line inside the input, the file
 * name given), leaving the set as it was; or give a schema tree that holds
 * the invariants the validator relies on: valid sorted names, one key leaf
 * per list, defaults that pass their own checks, ranges in order.  A
 * schema that loads is then linked (refs resolved, or refused with a
 * diag), loaded again beside a fixed schema (overlap refused or not, never
 * a crash), and every leaf gets a few values parsed and checked, so
 * patterns run through regexec().  replay.c runs the corpus through this
 * same function in ordinary builds.
 */

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "config/schema.h"
#include "util/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] = "subtree: net\nnodes:\n  l:\n    list: k\n    nodes: {k: {type: string}}\n";

static void check_printable(const char *s)
{
        for (; *s; s++)
                assert((unsigned char)*s >= 0x20 && *s != 0x7f);
}

/* Lines as YAML counts them: CR LF, CR, LF, NEL, LS and PS each end one. */
static unsigned count_lines(const uint8_t *s, size_t n)
{
        unsigned lines = 1;

        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
                        i++;
                if (s[i] == '\r' || s[i] == '\n')
                        lines++;
                else if (s[i] == 0xc2 && i + 1 < n && s[i + 1] == 0x85)
                        lines++;
                else if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
                        lines++;
        }
        return lines;
}

static void check_diag(const struct orb_diag *d, const uint8_t *data, size_t size, const char *file)
{
        char buf[1024];

        assert(d->message[0]);
        assert(!strcmp(d->file, file));
        assert(d->line <= count_lines(data, size) + 1);
        check_printable(d->message);
        check_printable(d->field);
        check_printable(diag_format(d, buf, sizeof(buf)));
}

static void try_values(const struct schema_node *leaf)
{
        static const char *const inputs[] = { "0", "-1", "9223372036854775807", "true", "false", "x", "", "eth0",
                                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!" };
        char why[512];

        for (size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
                struct cfg_value v;
                int r = schema_parse_value(leaf, inputs[i], &v, why, sizeof(why));

                assert(r == 0 || r == SCHEMA_E_VALUE);
                if (r) {
                        check_printable(why);
                        continue;
                }
                r = schema_check_value(leaf, &v, why, sizeof(why));
                assert(r == 0 || r == SCHEMA_E_VALUE);
                value_deinit(&v);
        }
}

static void check_node(const struct schema_node *n, unsigned depth)
{
        char why[512];

        assert(depth < 64);
        assert(n->name && n->name[0]);
        assert(depth == 0 || path_name_is_valid(n->name, strlen(n->name)));
        for (unsigned i = 0; i < n->n_children; i++) {
                assert(n->children[i]->parent == n);
                assert(i == 0 || strcmp(n->children[i - 1]->name, n->children[i]->name) < 0);
                assert(schema_child(n, n->children[i]->name, strlen(n->children[i]->name)) == n->children[i]);
                check_node(n->children[i], depth + 1);
        }
        switch (n->kind) {
        case SCHEMA_CONTAINER:
                assert(n->n_children > 0);
                break;
        case SCHEMA_LIST:
                assert(n->key && n->key->parent == n && n->key->is_key && n->key->kind == SCHEMA_LEAF);
                assert(n->key->type != SCHEMA_BOOL && n->key->type != SCHEMA_REF && !n->key->has_default);
                break;
        case SCHEMA_LEAF:
                assert(n->n_children == 0);
                assert(!n->has_range || n->min <= n->max);
                assert(n->type != SCHEMA_ENUM || n->n_values > 0);
                assert(n->type != SCHEMA_REF || n->target);
                assert(!n->has_default || schema_check_value(n, &n->def, why, sizeof(why)) == 0);
                try_values(n);
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct schema_set s = SCHEMA_SET_INIT;
        struct orb_diag d = ORB_DIAG_INIT;
        int r;

        r = schema_set_add(&s, (const char *)data, size, "fuzz.yaml", &d);
        if (r) {
                assert(r == SCHEMA_E_INVALID);
                assert(s.n_files == 0);
                check_diag(&d, data, size, "fuzz.yaml");
                schema_set_deinit(&s);
                return 0;
        }
        assert(s.n_files == 1 && s.files[0]->root);
        check_node(s.files[0]->root, 0);
        r = schema_set_add(&s, fixed, strlen(fixed), "fixed.yaml", &d);
        assert(r == 0 || r == SCHEMA_E_INVALID);
        if (r)
                check_diag(&d, (const uint8_t *)fixed, strlen(fixed), "fixed.yaml");
        r = schema_set_link(&s, &d);
        assert(r == 0 || r == SCHEMA_E_INVALID);
        if (r) {
                assert(d.message[0] && d.line > 0);
                check_printable(d.message);
        }
        schema_set_deinit(&s);
        return 0;
}
