/* Unit test of the schema parser and schema sets: a full schema loads with
 * every type; each kind of refusal names the file, line, column, field and
 * what was expected; overlapping subtrees and bad ref targets are refused;
 * path resolution and value checks follow the schema. */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/schema.h"
#include "test-fault.h"

static const char net_schema[] =
        "subtree: net\n"
        "nodes:\n"
        "  hostname: {type: string, pattern: \"^[a-z0-9-]{1,63}$\", default: orbital}\n"
        "  iface:\n"
        "    list: name\n"
        "    nodes:\n"
        "      name: {type: string, length: [1, 15]}\n"
        "      mtu: {type: int, range: [68, 9000], default: 1500}\n"
        "      mode: {type: enum, values: [dhcp, static], required: true}\n"
        "      enabled: {type: bool, default: true}\n"
        "      bridge: {type: ref, target: \"net.bridge\"}\n"
        "      addr:\n"
        "        nodes:\n"
        "          v4: {type: string}\n"
        "  bridge:\n"
        "    list: name\n"
        "    nodes:\n"
        "      name: {type: string}\n";

static void load_ok(struct schema_set *s, const char *text, const char *file)
{
        struct orb_diag d = ORB_DIAG_INIT;
        char buf[1024];
        int r = schema_set_add(s, text, strlen(text), file, &d);

        if (r) {
                fprintf(stderr, "unexpected refusal: %s\n", diag_format(&d, buf, sizeof(buf)));
                abort();
        }
}

static int add(struct schema_set *s, const char *text, const char *file, struct orb_diag *d)
{
        return schema_set_add(s, text, strlen(text), file, d);
}

static void test_full(void)
{
        struct schema_set s = SCHEMA_SET_INIT;
        const struct schema_node *n, *list;
        struct orb_diag d = ORB_DIAG_INIT;
        struct cfg_value v;
        char why[256];
        struct path p;
        bool is_entry;

        load_ok(&s, net_schema, "net.yaml");
        assert(schema_set_link(&s, &d) == 0);
        assert(path_parse("net.iface[eth0].mtu", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0);
        assert(n->kind == SCHEMA_LEAF && n->type == SCHEMA_INT && n->has_default && n->def.i == 1500);
        assert(n->has_range && n->min == 68 && n->max == 9000);
        assert(path_parse("net.iface[eth0]", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &list, &is_entry, why, sizeof(why)) == 0 && is_entry);
        assert(list->kind == SCHEMA_LIST && list->key && !strcmp(list->key->name, "name") && list->key->is_key);
        assert(path_parse("net.iface", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0 && !is_entry && n == list);
        assert(path_parse("net.iface[eth0].bridge", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0);
        assert(n->type == SCHEMA_REF && n->target_list && !strcmp(n->target_list->name, "bridge"));
        assert(path_parse("net.iface[eth0].addr.v4", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0 && n->type == SCHEMA_STRING);

        /* Paths the schema does not have. */
        assert(path_parse("net.iface.mtu", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == SCHEMA_E_NO_NODE);
        assert(strstr(why, "keyed list: expected iface[KEY]"));
        assert(path_parse("net.hostname[x]", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == SCHEMA_E_NO_NODE);
        assert(strstr(why, "not a list"));
        assert(path_parse("net.nope", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == SCHEMA_E_NO_NODE);
        assert(strstr(why, "no node nope") && strstr(why, "net.yaml"));
        assert(path_parse("system.hostname", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == SCHEMA_E_NO_NODE);
        assert(strstr(why, "no schema owns system"));

        /* Values. */
        assert(path_parse("net.iface[e].mtu", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0);
        assert(schema_parse_value(n, "12x", &v, why, sizeof(why)) == SCHEMA_E_VALUE && strstr(why, "integer"));
        assert(schema_parse_value(n, "9223372036854775808", &v, why, sizeof(why)) == SCHEMA_E_VALUE);
        assert(schema_parse_value(n, "-9223372036854775808", &v, why, sizeof(why)) == 0);
        assert(schema_check_value(n, &v, why, sizeof(why)) == SCHEMA_E_VALUE && strstr(why, "expected 68 to 9000"));
        assert(schema_parse_value(n, "9000", &v, why, sizeof(why)) == 0 && schema_check_value(n, &v, why, sizeof(why)) == 0);
        assert(path_parse("net.iface[e].mode", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0);
        assert(schema_parse_value(n, "ppp", &v, why, sizeof(why)) == 0);
        assert(schema_check_value(n, &v, why, sizeof(why)) == SCHEMA_E_VALUE);
        assert(strstr(why, "expected one of dhcp, static; found 'ppp'"));
        value_deinit(&v);
        assert(path_parse("net.hostname", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0);
        assert(schema_parse_value(n, "Bad_Name", &v, why, sizeof(why)) == 0);
        assert(schema_check_value(n, &v, why, sizeof(why)) == SCHEMA_E_VALUE && strstr(why, "matching"));
        value_deinit(&v);
        assert(path_parse("net.iface[e].name", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0);
        assert(schema_parse_value(n, "a-very-long-interface-name", &v, why, sizeof(why)) == 0);
        assert(schema_check_value(n, &v, why, sizeof(why)) == SCHEMA_E_VALUE && strstr(why, "1 to 15 bytes"));
        value_deinit(&v);
        assert(path_parse("net.iface[e].enabled", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0);
        assert(schema_parse_value(n, "yes", &v, why, sizeof(why)) == SCHEMA_E_VALUE && strstr(why, "true or false"));
        schema_set_deinit(&s);
}

struct bad {
        const char *text;
        unsigned line, column;
        const char *field;
        const char *message;
};

/* Each refusal kind: where, which field, and words of the message. */
static const struct bad bad[] = {
        { "subtree: net\nnodes: [\n", 3, 1, "", "invalid YAML" },
        { "", 1, 1, "", "empty schema" },
        { "- a\n", 1, 1, "", "expected a mapping with 'subtree' and 'nodes', found a list" },
        { "nodes: {a: {type: int}}\n", 1, 1, "", "expected 'subtree'" },
        { "subtree: net\n", 1, 1, "", "expected 'nodes'" },
        { "subtree: Net\nnodes: {a: {type: int}}\n", 1, 10, "subtree", "expected a path of names" },
        { "subtree: net[x]\nnodes: {a: {type: int}}\n", 1, 10, "subtree", "without keys" },
        { "subtree: net\nsubtree: x\nnodes: {a: {type: int}}\n", 2, 1, "", "found 'subtree' again (first at line 1" },
        { "subtree: net\nextra: 1\nnodes: {a: {type: int}}\n", 2, 1, "", "expected one of the keys of a schema (subtree, nodes, description), found 'extra'" },
        { "subtree: net\nnodes: {}\n", 2, 8, "nodes", "expected a mapping of at least one node name" },
        { "subtree: net\nnodes:\n  Bad: {type: int}\n", 3, 3, "nodes.Bad", "expected a node name" },
        { "subtree: net\nnodes:\n  a: 5\n", 3, 6, "nodes.a", "expected a mapping with 'type', 'nodes' or 'list', found text" },
        { "subtree: net\nnodes:\n  a: {desc: x}\n", 3, 6, "nodes.a", "expected 'type' (a leaf), 'nodes' (a container) or 'list'" },
        { "subtree: net\nnodes:\n  a: {type: float}\n", 3, 13, "nodes.a.type", "expected a type (string, int, bool, enum, ref), found 'float'" },
        { "subtree: net\nnodes:\n  a: {type: int, rnage: [1, 2]}\n", 3, 18, "nodes.a", "expected one of the keys of a leaf" },
        { "subtree: net\nnodes:\n  a: {type: int, range: [1]}\n", 3, 25, "nodes.a.range", "expected [MIN, MAX]" },
        { "subtree: net\nnodes:\n  a: {type: int, range: [1, x]}\n", 3, 29, "nodes.a.range", "expected a 64-bit integer, found 'x'" },
        { "subtree: net\nnodes:\n  a: {type: int, range: [9, 1]}\n", 3, 25, "nodes.a.range", "expected MIN <= MAX" },
        { "subtree: net\nnodes:\n  a: {type: string, range: [1, 2]}\n", 3, 28, "nodes.a.range", "expected no 'range' on a leaf of type string" },
        { "subtree: net\nnodes:\n  a: {type: int, pattern: x}\n", 3, 27, "nodes.a.pattern", "expected no 'pattern' on a leaf of type int" },
        { "subtree: net\nnodes:\n  a: {type: string, length: [-1, 2]}\n", 3, 30, "nodes.a.length", "expected at least 0" },
        { "subtree: net\nnodes:\n  a: {type: string, pattern: \"a(b\"}\n", 3, 30, "nodes.a.pattern", "expected a POSIX extended regular expression" },
        { "subtree: net\nnodes:\n  a: {type: string, pattern: \"((a{100}){100}){100}\"}\n", 3, 30, "nodes.a.pattern", "repetitions are expanded" },
        { "subtree: net\nnodes:\n  a: {type: string, pattern: \"x(a+)++\"}\n", 3, 30, "nodes.a.pattern", "expected no repetition right after another" },
        { "subtree: net\nnodes:\n  a: {type: string, pattern: \"(a)\\\\1\"}\n", 3, 30, "nodes.a.pattern", "expected no back-references" },
        { "subtree: net\nnodes:\n  a: {type: string, pattern: \"(()){1001}\"}\n", 3, 30, "nodes.a.pattern", "at most 1000 atoms" },
        { "subtree: net\nnodes:\n  a: {type: enum}\n", 3, 6, "nodes.a", "expected 'values'" },
        { "subtree: net\nnodes:\n  a: {type: enum, values: []}\n", 3, 27, "nodes.a.values", "expected a list of at least one name" },
        { "subtree: net\nnodes:\n  a: {type: enum, values: [x, y, x]}\n", 3, 34, "nodes.a.values[2]", "expected each name once, found 'x' again" },
        { "subtree: net\nnodes:\n  a: {type: ref}\n", 3, 6, "nodes.a", "expected 'target'" },
        { "subtree: net\nnodes:\n  a: {type: ref, target: \"net.l[x]\"}\n", 3, 26, "nodes.a.target", "without keys" },
        { "subtree: net\nnodes:\n  a: {type: bool, required: maybe}\n", 3, 29, "nodes.a.required", "expected true or false, found 'maybe'" },
        { "subtree: net\nnodes:\n  a: {type: int, range: [1, 9], default: 10}\n", 3, 42, "nodes.a.default", "default: expected 1 to 9, found 10" },
        { "subtree: net\nnodes:\n  a: {type: int, default: ten}\n", 3, 27, "nodes.a.default", "default: expected a 64-bit integer" },
        { "subtree: net\nnodes:\n  a: {type: enum, values: [x], default: y}\n", 3, 41, "nodes.a.default", "default: expected one of x" },
        { "subtree: net\nnodes:\n  a: {type: string, pattern: \"^a+$\", default: b}\n", 3, 47, "nodes.a.default", "default: expected text matching" },
        { "subtree: net\nnodes:\n  a: {type: ref, target: net.l, default: x}\n", 3, 42, "nodes.a.default", "expected no default on a ref" },
        { "subtree: net\nnodes:\n  a: {type: int, default: [1]}\n", 3, 27, "nodes.a.default", "expected a int value, found a list" },
        { "subtree: net\nnodes:\n  l:\n    list: id\n    nodes: {name: {type: string}}\n", 4, 11, "nodes.l.list", "expected the name of a leaf in 'nodes', found 'id'" },
        { "subtree: net\nnodes:\n  l:\n    list: on\n    nodes: {on: {type: bool}}\n", 4, 11, "nodes.l.list", "expected a key leaf of type string, int or enum, found bool" },
        { "subtree: net\nnodes:\n  l:\n    list: k\n    nodes: {k: {type: string, default: a}}\n", 4, 11, "nodes.l.list", "without a default" },
        { "subtree: net\nnodes:\n  l:\n    list: k\n", 4, 5, "nodes.l", "expected 'nodes' (the leaves of each entry)" },
        { "subtree: net\nnodes:\n  l:\n    list: k\n    type: int\n    nodes: {k: {type: string}}\n", 5, 5, "nodes.l", "expected one of the keys of a keyed list" },
        { "subtree: net\nnodes:\n  c:\n    nodes: {k: {type: string}}\n    type: int\n", 4, 5, "nodes.c", "expected one of the keys of a leaf" },
        { "subtree: net\nnodes:\n  a: &x {type: int}\n  b: *x\n", 3, 6, "nodes.a", "anchors are not supported" },
        { "subtree: net\nnodes:\n  a: !!map {type: int}\n", 3, 6, "nodes.a", "tags are not supported" },
        { "subtree: net\nnodes:\n  ? [a]\n  : {type: int}\n", 3, 5, "nodes", "expected a text key, found a list" },
        { "subtree: net\nnodes: {a: {type: int}}\n---\nx: 1\n", 3, 1, "", "found a second one" },
        { "subtree: \"n\\0et\"\nnodes: {a: {type: int}}\n", 1, 10, "subtree", "NUL character" },
        { "subtree: net\nnodes: {a: {type: \xff}}\n", 2, 19, "", "invalid input" },
};

static void test_refusals(void)
{
        bool failed = false;

        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                struct schema_set s = SCHEMA_SET_INIT;
                struct orb_diag d = ORB_DIAG_INIT;
                char buf[1024];
                int r = schema_set_add(&s, bad[i].text, strlen(bad[i].text), "bad.yaml", &d);

                diag_format(&d, buf, sizeof(buf));
                if (r != SCHEMA_E_INVALID || d.line != bad[i].line || d.column != bad[i].column ||
                    strcmp(d.field, bad[i].field) || !strstr(d.message, bad[i].message) || strcmp(d.file, "bad.yaml")) {
                        fprintf(stderr, "case %zu: r=%d %s\n  wanted %u:%u: %s: ...%s...\n", i, r, buf, bad[i].line,
                                bad[i].column, bad[i].field, bad[i].message);
                        failed = true;
                }
                assert(s.n_files == 0);
                schema_set_deinit(&s);
        }
        assert(!failed);
}

static void test_deep(void)
{
        struct schema_set s = SCHEMA_SET_INIT;
        struct orb_diag d = ORB_DIAG_INIT;
        char *text = malloc(64 * 1024);
        size_t pos = 0;

        pos += (size_t)sprintf(text + pos, "subtree: x\nnodes: ");
        for (int i = 0; i < 40; i++)
                pos += (size_t)sprintf(text + pos, "{a: {nodes: ");
        pos += (size_t)sprintf(text + pos, "{b: {type: int}}");
        for (int i = 0; i < 40; i++)
                pos += (size_t)sprintf(text + pos, "}}");
        assert(schema_set_add(&s, text, pos, "deep.yaml", &d) == SCHEMA_E_INVALID);
        assert(strstr(d.message, "nested too deeply") && d.line == 2);
        free(text);
        schema_set_deinit(&s);
}

static void test_set(void)
{
        struct schema_set s = SCHEMA_SET_INIT;
        struct orb_diag d = ORB_DIAG_INIT;
        const struct schema_node *n;
        char why[256];
        struct path p;
        bool is_entry;

        load_ok(&s, net_schema, "net.yaml");
        /* A subtree inside another's, or around it, or equal: refused, naming both. */
        assert(add(&s, "subtree: net.x\nnodes: {a: {type: int}}\n", "x.yaml", &d) == SCHEMA_E_INVALID);
        assert(d.line == 1 && d.column == 10 && !strcmp(d.field, "subtree") && !strcmp(d.file, "x.yaml"));
        assert(strstr(d.message, "overlaps net of net.yaml (line 1)"));
        assert(add(&s, "subtree: net\nnodes: {a: {type: int}}\n", "y.yaml", &d) == SCHEMA_E_INVALID);
        assert(s.n_files == 1);
        /* Disjoint, with a ref across files, and a dotted subtree. */
        load_ok(&s, "subtree: services.web\nnodes:\n  via: {type: ref, target: net.iface}\n", "web.yaml");
        load_ok(&s, "subtree: netx\nnodes: {a: {type: int}}\n", "netx.yaml");
        assert(schema_set_link(&s, &d) == 0);
        assert(path_parse("services.web.via", &p, NULL) == 0);
        assert(schema_resolve(&s, &p, &n, &is_entry, why, sizeof(why)) == 0 && n->target_list);
        /* Targets that are not keyed lists outside lists. */
        load_ok(&s, "subtree: t1\nnodes:\n  r: {type: ref, target: net.hostname}\n", "t1.yaml");
        assert(schema_set_link(&s, &d) == SCHEMA_E_INVALID);
        assert(!strcmp(d.file, "t1.yaml") && d.line == 3 && d.column == 26 && !strcmp(d.field, "t1.r"));
        assert(strstr(d.message, "net.hostname is a leaf"));
        schema_set_deinit(&s);
        load_ok(&s, net_schema, "net.yaml");
        load_ok(&s, "subtree: t2\nnodes:\n  r: {type: ref, target: nowhere.l}\n", "t2.yaml");
        assert(schema_set_link(&s, &d) == SCHEMA_E_INVALID && strstr(d.message, "no schema owns nowhere"));
        schema_set_deinit(&s);
        load_ok(&s, "subtree: t3\nnodes:\n  l:\n    list: k\n    nodes:\n      k: {type: string}\n"
                    "      m: {list: k, nodes: {k: {type: int}}}\n  r: {type: ref, target: t3.l.m}\n", "t3.yaml");
        assert(schema_set_link(&s, &d) == SCHEMA_E_INVALID && strstr(d.message, "keyed list: expected l[KEY]"));
        schema_set_deinit(&s);
}

static void test_file(void)
{
        struct schema_set s = SCHEMA_SET_INIT;
        struct orb_diag d = ORB_DIAG_INIT;
        char name[] = "/tmp/orb-config-schema-XXXXXX";
        int fd = mkstemp(name);

        assert(fd >= 0);
        assert(write(fd, net_schema, strlen(net_schema)) == (ssize_t)strlen(net_schema));
        close(fd);
        assert(schema_set_add_file(&s, name, &d) == 0 && s.n_files == 1 && !strcmp(s.files[0]->name, name));
        unlink(name);
        assert(schema_set_add_file(&s, name, &d) == -ENOENT && s.n_files == 1);
        schema_set_deinit(&s);
}

/* Every allocation of a load fails in turn: -ENOMEM, the set unchanged, no leak (ASan build). */
static void test_fault_injection(void)
{
        long n;

        for (n = 0;; n++) {
                struct schema_set s = SCHEMA_SET_INIT;
                struct orb_diag d = ORB_DIAG_INIT;
                int r;

                load_ok(&s, "subtree: other\nnodes: {x: {type: int}}\n", "other.yaml");
                fail_countdown = n;
                r = schema_set_add(&s, net_schema, strlen(net_schema), "net.yaml", &d);
                fail_countdown = -1;
                if (r == 0) {
                        assert(s.n_files == 2 && schema_set_link(&s, &d) == 0);
                        schema_set_deinit(&s);
                        break;
                }
                assert(r == -ENOMEM && s.n_files == 1);
                schema_set_deinit(&s);
        }
        assert(n > 40);
}

int main(void)
{
        test_full();
        test_refusals();
        test_deep();
        test_set();
        test_file();
        test_fault_injection();
        printf("test-config-schema: ok\n");
        return 0;
}
