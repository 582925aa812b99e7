/* Unit test of contracts: the example of contract.h and the corners of
 * the grammar parse to the right struct; every refusal names its line and
 * what was expected; orb_msg_check() holds a message to a field list; JSON
 * round-trips every type and refuses what does not fit; version strings
 * and ranges follow the rules written in contract.h. */
#undef NDEBUG
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "orbital/contract.h"

static unsigned n_checks, n_failed;

#define CHECK(cond)                                                                                      \
        do {                                                                                             \
                n_checks++;                                                                              \
                if (!(cond)) {                                                                           \
                        n_failed++;                                                                      \
                        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
                }                                                                                        \
        } while (0)

#define REQUIRE(cond)                                                                                    \
        do {                                                                                             \
                if (!(cond)) {                                                                           \
                        fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);       \
                        abort();                                                                         \
                }                                                                                        \
        } while (0)

static struct orb_contract *parse_ok(const char *text)
{
        struct orb_contract *c = NULL;
        char err[256];
        int r = orb_contract_parse(text, strlen(text), &c, err, sizeof(err));

        if (r != 0)
                fprintf(stderr, "  unexpected: %s\n", err);
        REQUIRE(r == 0 && c);
        return c;
}

static const struct orb_field *field(const struct orb_field *f, unsigned n, const char *name)
{
        for (unsigned i = 0; i < n; i++)
                if (!strcmp(f[i].name, name))
                        return &f[i];
        return NULL;
}

/* ------------------------------------------------------------------------
 * Parsing
 */

static const char echo_text[] = "# comment\n"
                                "interface echo 1.2\n"
                                "method echo@1 read (text: str@1, repeat: u64?@2) -> (text: str@1, count: u64@2)\n"
                                "method reset@2 write () -> ()\n"
                                "method log@3 write oneway (line: str@1)\n";

static void test_example(void)
{
        struct orb_contract *c = parse_ok(echo_text);
        const struct orb_method *m;
        const struct orb_field *f;

        CHECK(!strcmp(c->name, "echo") && c->major == 1 && c->minor == 2 && c->n_methods == 3);
        CHECK(!strcmp(c->text, echo_text));
        m = orb_contract_method(c, "echo");
        CHECK(m && m == &c->methods[0] && m->id == 1 && m->right == ORB_RIGHT_READ && !m->is_oneway);
        CHECK(m && m->n_in == 2 && m->n_out == 2);
        f = m ? field(m->in, m->n_in, "text") : NULL;
        CHECK(f && f->tag == 1 && f->type == ORB_TYPE_STR && !f->is_optional && !f->is_repeated);
        f = m ? field(m->in, m->n_in, "repeat") : NULL;
        CHECK(f && f->tag == 2 && f->type == ORB_TYPE_U64 && f->is_optional && !f->is_repeated);
        f = m ? field(m->out, m->n_out, "count") : NULL;
        CHECK(f && f->tag == 2 && f->type == ORB_TYPE_U64 && !f->is_optional);
        m = orb_contract_method(c, "reset");
        CHECK(m && m->id == 2 && m->right == ORB_RIGHT_WRITE && m->n_in == 0 && m->n_out == 0 && !m->is_oneway);
        m = orb_contract_method(c, "log");
        CHECK(m && m->id == 3 && m->is_oneway && m->n_in == 1 && m->n_out == 0);
        CHECK(orb_contract_method_by_id(c, 3) == m);
        CHECK(orb_contract_method_by_id(c, 1) == orb_contract_method(c, "echo"));
        CHECK(orb_contract_method_by_id(c, 4) == NULL && orb_contract_method_by_id(c, 0) == NULL);
        CHECK(orb_contract_method(c, "nope") == NULL && orb_contract_method(c, "") == NULL);
        CHECK(orb_contract_method(c, NULL) == NULL);
        orb_contract_free(c);
        CHECK(orb_contract_free(NULL) == NULL);
}

static void test_corners(void)
{
        struct orb_contract *c;
        const struct orb_method *m;
        char name63[64], text[256];

        /* Tabs, CRLF, comments after code, no final newline, blanks
         * around punctuation, every type, [] and ?, no reply part. */
        c = parse_ok("\t# leading comment\r\n"
                     "\r\n"
                     "  interface  store_2\t10.0  # trailing\r\n"
                     "method put@65535 write ( k : str@1 , v : bytes@65535 , tags: str[]@3, "
                     "n: i64[]?@4, b: bool?@5 ) -> ( ok: bool@1 )\n"
                     "method ping@7 read()#no reply part: an empty one\n"
                     "# comment with UTF-8: \xc3\xa9\xe2\x82\xac\n"
                     "method notify@8 write oneway ()");
        CHECK(!strcmp(c->name, "store_2") && c->major == 10 && c->minor == 0 && c->n_methods == 3);
        m = orb_contract_method(c, "put");
        CHECK(m && m->id == 65535 && m->n_in == 5 && m->n_out == 1);
        if (m && m->n_in == 5) {
                CHECK(m->in[1].type == ORB_TYPE_BYTES && m->in[1].tag == 65535);
                CHECK(m->in[2].is_repeated && m->in[2].is_optional && m->in[2].type == ORB_TYPE_STR);
                CHECK(m->in[3].is_repeated && m->in[3].is_optional && m->in[3].type == ORB_TYPE_I64);
                CHECK(!m->in[4].is_repeated && m->in[4].is_optional && m->in[4].type == ORB_TYPE_BOOL);
        }
        m = orb_contract_method(c, "ping");
        CHECK(m && m->n_in == 0 && m->n_out == 0 && !m->is_oneway);
        CHECK(orb_contract_method_by_id(c, 8) && orb_contract_method_by_id(c, 8)->is_oneway);
        orb_contract_free(c);

        /* Longest name, and many methods and fields (arrays grow). */
        memset(name63, 'a', 63);
        name63[63] = '\0';
        snprintf(text, sizeof(text), "interface %s 0.0\nmethod %s@1 read (%s: u64@1)", name63, name63, name63);
        c = parse_ok(text);
        CHECK(strlen(c->name) == 63 && c->major == 0 && c->minor == 0);
        orb_contract_free(c);

        {
                char *big = malloc(64 << 10);
                size_t pos = 0;

                REQUIRE(big);
                pos += (size_t)sprintf(big + pos, "interface many 1.0\n");
                for (unsigned i = 1; i <= 256; i++)
                        pos += (size_t)sprintf(big + pos, "method m%u@%u read () -> ()\n", i, i);
                pos += (size_t)sprintf(big + pos, "# and a list of 64 fields\n");
                c = parse_ok(big);
                CHECK(c->n_methods == 256 && orb_contract_method_by_id(c, 256) == &c->methods[255]);
                CHECK(!strcmp(orb_contract_method(c, "m77")->name, "m77"));
                orb_contract_free(c);

                pos = (size_t)sprintf(big, "interface wide 1.0\nmethod w@1 read (");
                for (unsigned i = 1; i <= 64; i++)
                        pos += (size_t)sprintf(big + pos, "%sf%u: i64@%u", i > 1 ? ", " : "", i, i);
                sprintf(big + pos, ") -> (");
                c = parse_ok(strcat(big, "x: str@1)"));
                CHECK(c->methods[0].n_in == 64 && c->methods[0].in[63].tag == 64);
                CHECK(!strcmp(c->methods[0].in[63].name, "f64"));
                orb_contract_free(c);
                free(big);
        }
}

struct bad {
        const char *text;
        const char *error; /* exact */
};

static const struct bad bad_contracts[] = {
        {"", "line 1: expected 'interface NAME MAJOR.MINOR', found end of text"},
        {"# only\n\n  # comments\n", "line 4: expected 'interface NAME MAJOR.MINOR', found end of text"},
        {"method a@1 read ()", "line 1: expected 'interface NAME MAJOR.MINOR', found 'method'"},
        {"interface Echo 1.0", "line 1: expected an interface name ([a-z][a-z0-9_]*, at most 63 characters), "
                               "found 'Echo'"},
        {"interface 1echo 1.0", "line 1: expected an interface name ([a-z][a-z0-9_]*, at most 63 characters), "
                                "found '1echo'"},
        {"interface echo", "line 1: expected a version MAJOR.MINOR, found end of line"},
        {"interface echo 1", "line 1: expected a version MAJOR.MINOR, found '1'"},
        {"interface echo 1.x", "line 1: expected a version MAJOR.MINOR, found '1.x'"},
        {"interface echo 01.2", "line 1: expected a version MAJOR.MINOR, found '01.2'"},
        {"interface echo 1.2.3", "line 1: expected a version MAJOR.MINOR, found '1.2.3'"},
        {"interface echo 1.2 extra", "line 1: expected end of line, found 'extra'"},
        {"interface echo 1.0\ninterface echo 1.0", "line 2: expected 'method', found a second 'interface'"},
        {"interface echo 1.0\n\nfunction a@1 read ()", "line 3: expected 'method', found 'function'"},
        {"interface e 1.0\nmethod A@1 read ()", "line 2: expected a method name ([a-z][a-z0-9_]*, at most 63 "
                                                "characters), found 'A@1'"},
        {"interface e 1.0\nmethod a read ()", "line 2: expected '@' and a method id, found 'read'"},
        {"interface e 1.0\nmethod a@0 read ()", "line 2: expected a method id 1..65535, found '0'"},
        {"interface e 1.0\nmethod a@65536 read ()", "line 2: expected a method id 1..65535, found '65536'"},
        {"interface e 1.0\nmethod a@01 read ()", "line 2: expected a method id 1..65535, found '01'"},
        {"interface e 1.0\nmethod a@x read ()", "line 2: expected a method id 1..65535, found 'x'"},
        {"interface e 1.0\nmethod a@1x read ()", "line 2: expected a method id 1..65535, found '1x'"},
        {"interface e 1.0\nmethod a@1 admin ()", "line 2: expected 'read' or 'write', found 'admin'"},
        {"interface e 1.0\nmethod a@1 read", "line 2: expected '(', found end of line"},
        {"interface e 1.0\nmethod a@1 read (x: str@1", "line 2: expected ',' or ')', found end of line"},
        {"interface e 1.0\nmethod a@1 read (x: str@1,)", "line 2: expected a field name ([a-z][a-z0-9_]*, at most "
                                                         "63 characters), found ')'"},
        {"interface e 1.0\nmethod a@1 read (x str@1)", "line 2: expected ':' and a type, found 'str@1)'"},
        {"interface e 1.0\nmethod a@1 read (x: string@1)",
         "line 2: expected a type (bool, i64, u64, str, bytes), found 'string@1)'"},
        {"interface e 1.0\nmethod a@1 read (x: str[@1)", "line 2: expected ']', found '@1)'"},
        {"interface e 1.0\nmethod a@1 read (x: str?[]@1)", "line 2: expected '@' and a field tag, found '[]@1)'"},
        {"interface e 1.0\nmethod a@1 read (x: str)", "line 2: expected '@' and a field tag, found ')'"},
        {"interface e 1.0\nmethod a@1 read (x: str@0)", "line 2: expected a field tag 1..65535, found '0)'"},
        {"interface e 1.0\nmethod a@1 read (x: str@70000)", "line 2: expected a field tag 1..65535, found "
                                                            "'70000)'"},
        {"interface e 1.0\nmethod a@1 read (x: str@1, x: u64@2)",
         "line 2: expected a unique field name, found 'x' again"},
        {"interface e 1.0\nmethod a@1 read () -> (x: str@1, y: u64@1)",
         "line 2: expected a unique field tag, found 1 again (field 'x')"},
        {"interface e 1.0\nmethod a@1 read ()\n# x\nmethod a@2 read ()",
         "line 4: expected a unique method name, found 'a' again (first on line 2)"},
        {"interface e 1.0\nmethod a@1 read ()\nmethod b@1 read ()",
         "line 3: expected a unique method id, found 1 again (method 'a' on line 2)"},
        {"interface e 1.0\nmethod a@1 write oneway () -> ()",
         "line 2: expected end of line (a oneway method has no reply), found '->'"},
        {"interface e 1.0\nmethod a@1 read () junk", "line 2: expected '->' or end of line, found 'junk'"},
        {"interface e 1.0\nmethod a@1 read () -> () ()", "line 2: expected end of line, found '()'"},
        {"interface e 1.0\nmethod a@1 read () ->", "line 2: expected '(', found end of line"},
        {"interface e 1.0\nmethod a@1 read (\xff: str@1)", "line 2: expected UTF-8 text, found byte 0xff"},
        {"interface e 1.0\nmethod a@1 read (\xc3\xa9: str@1)", "line 2: expected a field name ([a-z][a-z0-9_]*, "
                                                              "at most 63 characters), found '\\xc3\\xa9:'"},
        {"interface e 1.0\n# caf\xc3\n", "line 2: expected UTF-8 text, found byte 0xc3"},
        {"interface e 1.0\n\n\x01", "line 3: expected text, found control character 0x01"},
        {"interface e 1.0\rmethod", "line 1: expected text, found control character 0x0d"},
        {"interface e 1.0\n\x7f", "line 2: expected text, found control character 0x7f"},
        {"interface e 1.0 'quote\\", "line 1: expected end of line, found '\\x27quote\\x5c'"},
        {"interface e 1.0\nmethod abcdefghijklmnopqrstuvwxyz0123456789@1 read (x: str@1) -> (y: str@1) junk",
         "line 2: expected end of line, found 'junk'"},
};

static void test_errors(void)
{
        char err[512];

        for (size_t i = 0; i < sizeof(bad_contracts) / sizeof(bad_contracts[0]); i++) {
                const struct bad *b = &bad_contracts[i];
                struct orb_contract *c = (void *)1;
                int r = orb_contract_parse(b->text, strlen(b->text), &c, err, sizeof(err));

                CHECK(r == -ORB_E_INVALID && c == (void *)1);
                CHECK(!strcmp(err, b->error));
                if (strcmp(err, b->error))
                        fprintf(stderr, "  for %zu: got      '%s'\n           expected '%s'\n", i, err, b->error);
        }
}

/* Errors that need more text than a table line: limits, NUL. */
static void test_limits(void)
{
        char *big = malloc(ORB_CONTRACT_MAX + 2);
        struct orb_contract *c = NULL;
        char name64[65], err[512];
        size_t pos = 0;

        REQUIRE(big);
        memset(big, '#', ORB_CONTRACT_MAX + 1);
        memcpy(big, "interface e 1.0\n", 16);
        CHECK(orb_contract_parse(big, ORB_CONTRACT_MAX + 1, &c, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "line 1: expected at most 65536 bytes of contract, found 65537"));
        big[ORB_CONTRACT_MAX] = '\0';
        CHECK(orb_contract_parse(big, ORB_CONTRACT_MAX, &c, err, sizeof(err)) == 0);
        c = orb_contract_free(c);

        /* A NUL inside: the length counts, not the terminator. */
        CHECK(orb_contract_parse("interface e 1.0\n\0method", 23, &c, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "line 2: expected text, found a NUL byte") && !c);
        /* Not NUL-terminated input is read only up to len. */
        CHECK(orb_contract_parse("interface e 1.0garbage", 15, &c, err, sizeof(err)) == 0 && c);
        CHECK(c && !strcmp(c->text, "interface e 1.0"));
        c = orb_contract_free(c);
        CHECK(orb_contract_parse(NULL, 0, &c, NULL, 0) == -ORB_E_INVALID);

        memset(name64, 'a', 64);
        name64[64] = '\0';
        snprintf(big, 256, "interface %s 1.0", name64);
        CHECK(orb_contract_parse(big, strlen(big), &c, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "line 1: expected an interface name ([a-z][a-z0-9_]*, at most 63 characters), "
                           "found 'aaaaaaaaaaaaaaaaaaaaaaaa'..."));

        pos = (size_t)sprintf(big, "interface many 1.0\n");
        for (unsigned i = 1; i <= 257; i++)
                pos += (size_t)sprintf(big + pos, "method m%u@%u read ()\n", i, i);
        CHECK(orb_contract_parse(big, pos, &c, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "line 258: expected at most 256 methods"));

        pos = (size_t)sprintf(big, "interface wide 1.0\n\nmethod w@1 read () -> (");
        for (unsigned i = 1; i <= 65; i++)
                pos += (size_t)sprintf(big + pos, "%sf%u: i64@%u", i > 1 ? "," : "", i, i);
        strcpy(big + pos, ")");
        CHECK(orb_contract_parse(big, strlen(big), &c, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "line 3: expected at most 64 fields in a list"));

        /* A small err buffer gets a cut, terminated text. */
        CHECK(orb_contract_parse("x", 1, &c, err, 8) == -ORB_E_INVALID && !strcmp(err, "line 1:"));
        free(big);
}

/* ------------------------------------------------------------------------
 * orb_msg_check
 */

static const char check_text[] = "interface t 1.0\n"
                                 "method all@1 read (b: bool@1, i: i64@2, u: u64?@3, s: str@4, y: bytes@5, "
                                 "l: str[]@6) -> ()\n";

static void test_check(void)
{
        struct orb_contract *c = parse_ok(check_text);
        const struct orb_method *m = orb_contract_method(c, "all");
        struct orb_msg *msg = orb_msg_new(ORB_MSG_CALL);
        uint8_t *big = calloc(1, ORB_INLINE_MAX + 10);
        char err[256];

        REQUIRE(m && msg && big);
#define BASE()                                                                                           \
        do {                                                                                             \
                orb_msg_reset(msg, ORB_MSG_CALL);                                                        \
                orb_msg_put_bool(msg, 1, true);                                                          \
                orb_msg_put_i64(msg, 2, -5);                                                             \
                orb_msg_put_str(msg, 4, "s");                                                            \
        } while (0)

        BASE();
        orb_msg_put_bytes(msg, 5, "y", 1);
        CHECK(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == 0);
        /* The same after a real parse; unknown tags and list items pass. */
        orb_msg_put_u64(msg, 99, 1);
        orb_msg_put_str(msg, 6, "a");
        orb_msg_put_str(msg, 6, "b");
        CHECK(orb_msg_parse_untrusted(msg, err, sizeof(err)) == 0);
        CHECK(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == 0 && err[0] == '\0');

        /* A memfd satisfies bytes. */
        BASE();
        orb_msg_put_bytes(msg, 5, big, ORB_INLINE_MAX + 10);
        CHECK(orb_msg_field(msg, 5, 0)->type == ORB_TYPE_MEMFD);
        CHECK(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == 0);

        BASE();
        CHECK(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "field 'y' (tag 5): missing"));
        BASE();
        orb_msg_put_str(msg, 5, "not bytes");
        CHECK(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "field 'y' (tag 5): expected bytes, found str"));
        BASE();
        orb_msg_put_bytes(msg, 5, "", 0);
        orb_msg_put_i64(msg, 3, 1);
        CHECK(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "field 'u' (tag 3): expected u64, found i64"));
        BASE();
        orb_msg_put_bytes(msg, 5, "", 0);
        orb_msg_put_bytes(msg, 6, "", 0);
        CHECK(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "field 'l' (tag 6): expected str, found bytes"));
        BASE();
        orb_msg_put_bytes(msg, 5, "", 0);
        orb_msg_put_bool(msg, 1, false);
        CHECK(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "field 'b' (tag 1): given 2 times, expected once"));
        orb_msg_reset(msg, ORB_MSG_CALL);
        orb_msg_put_bytes(msg, 2, big, ORB_INLINE_MAX + 10);
        CHECK(orb_msg_check(msg, m->in, m->n_in, NULL, 0) == -ORB_E_INVALID);
        CHECK(orb_msg_check(msg, m->in + 1, 1, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "field 'i' (tag 2): expected i64, found bytes (memfd)"));
        /* An empty field list takes anything. */
        CHECK(orb_msg_check(msg, m->out, m->n_out, err, sizeof(err)) == 0);
#undef BASE
        free(big);
        orb_msg_free(msg);
        orb_contract_free(c);
}

/* ------------------------------------------------------------------------
 * JSON
 */

static const char json_text[] = "interface j 1.0\n"
                                "method all@1 read (b: bool@1, i: i64@2, u: u64@3, s: str@4, y: bytes@5, "
                                "bl: bool[]@6, il: i64[]@7, ul: u64[]@8, sl: str[]@9, yl: bytes[]@10, "
                                "os: str?@11) -> ()\n"
                                "method one@2 read (y: bytes?@1, u: u64?@2) -> ()\n";

/* from_json, then to_json of the built message and of its parsed copy. */
static char *json_roundtrip(const struct orb_method *m, const char *in)
{
        struct orb_msg *msg = orb_msg_new(ORB_MSG_CALL);
        char err[512], *out, *again;
        int r;

        REQUIRE(msg);
        r = orb_msg_from_json(msg, m->in, m->n_in, in, err, sizeof(err));
        if (r)
                fprintf(stderr, "  from_json: %s\n", err);
        REQUIRE(r == 0);
        CHECK(orb_msg_check(msg, m->in, m->n_in, err, sizeof(err)) == 0);
        out = orb_msg_to_json(msg, m->in, m->n_in);
        REQUIRE(out);
        CHECK(orb_msg_parse_untrusted(msg, err, sizeof(err)) == 0);
        again = orb_msg_to_json(msg, m->in, m->n_in);
        CHECK(again && !strcmp(out, again));
        free(again);
        orb_msg_free(msg);
        return out;
}

static void check_json(const struct orb_method *m, const char *in, const char *want)
{
        char *out = json_roundtrip(m, in);

        CHECK(!strcmp(out, want));
        if (strcmp(out, want))
                fprintf(stderr, "  got      %s\n  expected %s\n", out, want);
        free(out);
}

static void test_json_roundtrip(void)
{
        struct orb_contract *c = parse_ok(json_text);
        const struct orb_method *all = orb_contract_method(c, "all"), *one = orb_contract_method(c, "one");
        static const char *const b64[][2] = {
                {"", ""},           {"f", "Zg=="},          {"fo", "Zm8="},         {"foo", "Zm9v"},
                {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
        };

        REQUIRE(all && one);
        check_json(all,
                   "{\"b\": true, \"i\": -9223372036854775808, \"u\": 9223372036854775807, "
                   "\"s\": \"h\\u00e9llo \\ud83d\\ude00\", \"y\": \"AAEC/w==\", \"bl\": [true, false], "
                   "\"il\": [-1, 0, 1], \"ul\": [0, 18], \"sl\": [\"\", \"x\"], \"yl\": [\"\", \"+/8=\"], "
                   "\"os\": \"opt\"}",
                   "{\"b\":true,\"i\":-9223372036854775808,\"u\":9223372036854775807,"
                   "\"s\":\"h\xc3\xa9llo \xf0\x9f\x98\x80\",\"y\":\"AAEC/w==\",\"bl\":[true,false],"
                   "\"il\":[-1,0,1],\"ul\":[0,18],\"sl\":[\"\",\"x\"],\"yl\":[\"\",\"+/8=\"],\"os\":\"opt\"}");
        /* Order of output is the schema's; absent optionals are left out,
         * absent lists are []. */
        check_json(all, "{\"y\": \"\", \"s\": \"\", \"u\": 0, \"i\": 0, \"b\": false}",
                   "{\"b\":false,\"i\":0,\"u\":0,\"s\":\"\",\"y\":\"\",\"bl\":[],\"il\":[],\"ul\":[],"
                   "\"sl\":[],\"yl\":[]}");
        check_json(one, "{}", "{}");
        for (size_t i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
                struct orb_msg *msg = orb_msg_new(1);
                char want[64], *out;

                REQUIRE(msg);
                orb_msg_put_bytes(msg, 1, b64[i][0], strlen(b64[i][0]));
                out = orb_msg_to_json(msg, one->in, one->n_in);
                snprintf(want, sizeof(want), "{\"y\":\"%s\"}", b64[i][1]);
                CHECK(out && !strcmp(out, want));
                free(out);
                check_json(one, want, want);
                orb_msg_free(msg);
        }
        /* Big bytes travel by memfd and come back the same. */
        {
                size_t n = ORB_INLINE_MAX + 3;
                uint8_t *data = malloc(n);
                struct orb_msg *msg = orb_msg_new(1), *back = orb_msg_new(1);
                const void *p;
                size_t got;
                char *out, err[256];

                REQUIRE(data && msg && back);
                for (size_t i = 0; i < n; i++)
                        data[i] = (uint8_t)(i * 13);
                orb_msg_put_bytes(msg, 1, data, n);
                out = orb_msg_to_json(msg, one->in, one->n_in);
                REQUIRE(out);
                CHECK(orb_msg_from_json(back, one->in, one->n_in, out, err, sizeof(err)) == 0);
                CHECK(back->n_fds == 1);
                REQUIRE(orb_msg_get_bytes(back, 1, &p, &got) == 0);
                CHECK(got == n && !memcmp(p, data, n));
                free(out);
                free(data);
                orb_msg_free(msg);
                orb_msg_free(back);
        }
        /* A u64 above INT64_MAX renders as a string of its digits. */
        {
                struct orb_msg *msg = orb_msg_new(1);
                char *out;

                REQUIRE(msg);
                orb_msg_put_u64(msg, 2, UINT64_MAX);
                out = orb_msg_to_json(msg, one->in, one->n_in);
                CHECK(out && !strcmp(out, "{\"u\":\"18446744073709551615\"}"));
                free(out);
                /* A value of the wrong type cannot be rendered. */
                orb_msg_reset(msg, 1);
                orb_msg_put_str(msg, 2, "x");
                CHECK(orb_msg_to_json(msg, one->in, one->n_in) == NULL);
                orb_msg_free(msg);
        }
        orb_contract_free(c);
}

struct bad_json {
        const char *json;
        const char *error; /* exact */
};

static const struct bad_json bad_jsons[] = {
        {"", "line 1, column 0: invalid JSON: '[' or '{' expected near end of file"},
        {"{\"y\": }", "line 1, column 7: invalid JSON: unexpected token near '}'"},
        {"[]", "expected a JSON object, found an array"},
        {"{} x", "line 1, column 4: invalid JSON: end of file expected near 'x'"},
        {"{\"u\": 1, \"u\": 2}", "line 1, column 12: invalid JSON: duplicate object key near '\"u\"'"},
        {"{\"x\": 1}", "unknown field 'x' (expected one of: y, u)"},
        {"{\"U\\n\\u0001'\": 1}", "unknown field 'U\\x0a\\x01\\x27' (expected one of: y, u)"},
        {"{\"u\": -1}", "field 'u': expected u64, found a negative integer"},
        {"{\"u\": 1.0}", "field 'u': expected u64, found a real number"},
        {"{\"u\": \"1\"}", "field 'u': expected u64, found a string"},
        {"{\"u\": null}", "field 'u': expected u64, found null"},
        {"{\"u\": 18446744073709551615}",
         "line 1, column 26: integer out of range: JSON integers here are 64-bit signed, so a u64 above "
         "9223372036854775807 cannot be given in JSON"},
        {"{\"u\": 9223372036854775808}",
         "line 1, column 25: integer out of range: JSON integers here are 64-bit signed, so a u64 above "
         "9223372036854775807 cannot be given in JSON"},
        {"{\"y\": 5}", "field 'y': expected bytes (a base64 string), found an integer"},
        {"{\"y\": \"Zg\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": \"Zg=\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": \"Zh==\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": \"Zm9=\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": \"Z===\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": \"====\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": \"Zg==Zg==\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": \"Zm9v\\n\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": \"-_8=\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": \"Zm 9\"}", "field 'y': expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"y\": [\"Zg==\"]}", "field 'y': expected bytes (a base64 string), found an array"},
        {"{\"y\": \"a\\u0000\"}", "line 1, column 15: invalid JSON: a string may not contain \\u0000"},
};

static const struct bad_json bad_all_jsons[] = {
        {"{}", "field 'b': missing"},
        {"{\"b\": 1}", "field 'b': expected bool, found an integer"},
        {"{\"b\": true, \"i\": 1.5}", "field 'i': expected i64, found a real number"},
        {"{\"b\": true, \"i\": 1, \"u\": 1, \"s\": 3}", "field 's': expected str, found an integer"},
        {"{\"b\": true, \"i\": 1, \"u\": 1, \"s\": \"\"}", "field 'y': missing"},
        {"{\"b\": true, \"i\": 1, \"u\": 1, \"s\": \"\", \"y\": \"\", \"sl\": \"x\"}",
         "field 'sl': expected an array of str, found a string"},
        {"{\"b\": true, \"i\": 1, \"u\": 1, \"s\": \"\", \"y\": \"\", \"il\": [1, \"2\"]}",
         "field 'il' item 1: expected i64, found a string"},
        {"{\"b\": true, \"i\": 1, \"u\": 1, \"s\": \"\", \"y\": \"\", \"yl\": [\"\", \"A\"]}",
         "field 'yl' item 1: expected bytes as base64 (RFC 4648, with padding)"},
        {"{\"b\": true, \"i\": 1, \"u\": 1, \"s\": \"\", \"y\": \"\", \"bl\": [null]}",
         "field 'bl' item 0: expected bool, found null"},
        {"{\"b\": true, \"i\": 1, \"u\": 1, \"s\": \"\", \"y\": \"\", \"os\": null}",
         "field 'os': expected str, found null"},
};

static void test_json_errors(void)
{
        struct orb_contract *c = parse_ok(json_text);
        const struct orb_method *all = orb_contract_method(c, "all"), *one = orb_contract_method(c, "one");
        struct orb_msg *msg = orb_msg_new(1);
        char err[512];

        REQUIRE(all && one && msg);
        orb_msg_put_u64(msg, 50, 1);
        for (size_t i = 0; i < sizeof(bad_jsons) / sizeof(bad_jsons[0]); i++) {
                CHECK(orb_msg_from_json(msg, one->in, one->n_in, bad_jsons[i].json, err, sizeof(err)) ==
                      -ORB_E_INVALID);
                CHECK(!strcmp(err, bad_jsons[i].error));
                if (strcmp(err, bad_jsons[i].error))
                        fprintf(stderr, "  %s\n  got      %s\n  expected %s\n", bad_jsons[i].json, err,
                                bad_jsons[i].error);
        }
        for (size_t i = 0; i < sizeof(bad_all_jsons) / sizeof(bad_all_jsons[0]); i++) {
                CHECK(orb_msg_from_json(msg, all->in, all->n_in, bad_all_jsons[i].json, err, sizeof(err)) ==
                      -ORB_E_INVALID);
                CHECK(!strcmp(err, bad_all_jsons[i].error));
                if (strcmp(err, bad_all_jsons[i].error))
                        fprintf(stderr, "  %s\n  got      %s\n  expected %s\n", bad_all_jsons[i].json, err,
                                bad_all_jsons[i].error);
        }
        /* Refusals left the message as it was. */
        CHECK(msg->n_values == 1 && msg->error == 0 && orb_msg_u64(msg, 50, 0) == 1);
        CHECK(orb_msg_from_json(msg, one->in, one->n_in, NULL, err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(orb_msg_from_json(msg, NULL, 0, "{\"a\": 1}", err, sizeof(err)) == -ORB_E_INVALID);
        CHECK(!strcmp(err, "unknown field 'a' (expected no fields)"));
        CHECK(orb_msg_from_json(msg, NULL, 0, "{}", err, sizeof(err)) == 0);

        /* 40000 bytes go by memfd: that fits, twice too.  60000 and 6000
         * bytes of text do not fit one record: -ORB_E_INVALID, and sticky. */
        {
                char *json = malloc(128 << 10);

                REQUIRE(json);
                orb_msg_reset(msg, 1);
                strcpy(json, "{\"yl\": [\"");
                memset(json + strlen(json), 'A', 40000 / 3 * 4);
                strcpy(json + 9 + 40000 / 3 * 4, "\", \"\"]}");
                CHECK(orb_msg_from_json(msg, &all->in[9], 1, json, err, sizeof(err)) == 0);
                CHECK(msg->n_fds == 1 && msg->n_values == 2 && msg->error == 0);
                orb_msg_reset(msg, 1);
                strcpy(json, "{\"sl\": [\"");
                memset(json + 9, 'x', 60000);
                strcpy(json + 9 + 60000, "\", \"");
                memset(json + 9 + 60000 + 4, 'x', 6000);
                strcpy(json + 9 + 60000 + 4 + 6000, "\"]}");
                CHECK(orb_msg_from_json(msg, &all->in[8], 1, json, err, sizeof(err)) == -ORB_E_INVALID);
                CHECK(!strcmp(err, "unable to build the message: Message too long"));
                CHECK(msg->error == -EMSGSIZE && msg->n_values == 1);
                free(json);
        }
        orb_msg_free(msg);
        orb_contract_free(c);
}

/* ------------------------------------------------------------------------
 * Versions
 */

static void test_versions(void)
{
        static const struct {
                const char *s;
                bool ok;
                unsigned major, minor;
        } parses[] = {
                {"1.2", true, 1, 2},      {"0.0", true, 0, 0},          {"10.300", true, 10, 300},
                {"999999999.0", true, 999999999, 0},
                {"1", false, 0, 0},       {"1.", false, 0, 0},          {".1", false, 0, 0},
                {"1.x", false, 0, 0},     {"01.2", false, 0, 0},        {"1.02", false, 0, 0},
                {"1.2.3", false, 0, 0},   {"1.2 ", false, 0, 0},        {" 1.2", false, 0, 0},
                {"+1.2", false, 0, 0},    {"-1.2", false, 0, 0},        {"", false, 0, 0},
                {"1000000000.0", false, 0, 0}, {"1,2", false, 0, 0},    {"v1.2", false, 0, 0},
        };
        static const struct {
                const char *range;
                unsigned major, minor;
                int want; /* 1 match, 0 no match, -1 malformed */
        } ranges[] = {
                {"", 1, 2, 1},           {"*", 0, 0, 1},           {" * ", 7, 7, 1},
                {NULL, 3, 0, 1},         {">=1.2,<2", 1, 2, 1},    {">=1.2,<2", 1, 9, 1},
                {">=1.2,<2", 1, 1, 0},   {">=1.2,<2", 2, 0, 0},    {">=1.2, <2", 1, 5, 1},
                {" >= 1.2 , < 2 ", 1, 5, 1},
                {"1", 1, 0, 1},          {"1", 1, 7, 1},           {"1", 2, 0, 0},
                {"=1", 1, 9, 1},         {"=1", 0, 9, 0},          {"=1.0", 1, 0, 1},
                {"=1.0", 1, 1, 0},       {"1.3", 1, 3, 1},         {"1.3", 1, 4, 0},
                {">1", 1, 0, 0},         {">1", 1, 1, 1},          {"<=1", 1, 0, 1},
                {"<=1", 1, 1, 0},        {"<1.5", 1, 4, 1},        {"<1.5", 1, 5, 0},
                {">=2", 1, 99, 0},       {">=2", 2, 0, 1},         {"<=1.5", 1, 5, 1},
                {">0.9", 1, 0, 1},       {"1,2", 1, 0, 0},         {">=1,>=1.1,<=1.1", 1, 1, 1},
                {">=1.x", 1, 0, -1},     {">=1.2junk", 1, 2, -1},  {">=", 1, 0, -1},
                {",", 1, 0, -1},         {">=1,", 1, 0, -1},       {",>=1", 1, 0, -1},
                {"*,1", 1, 0, -1},       {"1,*", 1, 0, -1},        {"**", 1, 0, -1},
                {"=>1", 1, 0, -1},       {"==1", 1, 0, -1},        {"!=1", 1, 0, -1},
                {"~1", 1, 0, -1},        {"1.2.3", 1, 2, -1},      {"01", 1, 0, -1},
                {">= 1 .2", 1, 2, -1},   {"1 2", 1, 0, -1},        {"1000000000", 1, 0, -1},
        };

        for (size_t i = 0; i < sizeof(parses) / sizeof(parses[0]); i++) {
                unsigned a = 77, b = 77;
                bool ok = orb_version_parse(parses[i].s, &a, &b);

                CHECK(ok == parses[i].ok);
                if (ok != parses[i].ok)
                        fprintf(stderr, "  version '%s'\n", parses[i].s);
                CHECK(ok ? a == parses[i].major && b == parses[i].minor : a == 77 && b == 77);
        }
        CHECK(!orb_version_parse(NULL, &(unsigned){0}, &(unsigned){0}));
        for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
                bool match = 42;
                bool ok = orb_version_match(ranges[i].range, ranges[i].major, ranges[i].minor, &match);
                int got = ok ? match : -1;

                CHECK(got == ranges[i].want);
                if (got != ranges[i].want)
                        fprintf(stderr, "  range '%s' with %u.%u: got %d\n",
                                ranges[i].range ? ranges[i].range : "(null)", ranges[i].major, ranges[i].minor, got);
        }
}

int main(void)
{
        test_example();
        test_corners();
        test_errors();
        test_limits();
        test_check();
        test_json_roundtrip();
        test_json_errors();
        test_versions();
        printf("test-contract: %u checks, %u failed\n", n_checks, n_failed);
        return n_failed ? 1 : 0;
}
