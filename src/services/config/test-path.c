/* Unit test of configuration paths: parsing, the errors' positions, entry
 * formatting, prefixes, and that subtree ranges hold exactly the subtree. */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/path.h"

static void test_parse(void)
{
        struct path p;

        assert(path_parse("system.hostname", &p, NULL) == 0);
        assert(p.n_segs == 2 && p.segs[1].name_len == 8 && !p.segs[1].key);
        assert(path_parse("net.iface[eth0].mtu", &p, NULL) == 0);
        assert(p.n_segs == 3 && p.segs[1].key_len == 4 && !memcmp(p.segs[1].key, "eth0", 4));
        assert(p.segs[1].end == strlen("net.iface[eth0]"));
        assert(path_prefix_len(&p, 2) == strlen("net.iface[eth0]"));
        /* Keys take any printable character but ']', including '.', '[' and spaces. */
        assert(path_parse("a.l[x.y [z]", &p, NULL) == 0 && p.n_segs == 2 && p.segs[1].key_len == 6);
        assert(path_parse("a.l[caf\xc3\xa9].b", &p, NULL) == 0);
        assert(path_parse("a.l[k]", &p, NULL) == 0 && p.n_segs == 2);
        assert(path_parse("x_1-2", &p, NULL) == 0);
}

static void refused(const char *text, const char *expect)
{
        struct orb_diag d = ORB_DIAG_INIT;
        struct path p;

        assert(path_parse(text, &p, &d) == PATH_E_INVALID);
        if (!strstr(d.message, expect)) {
                fprintf(stderr, "%s: %s (wanted %s)\n", text, d.message, expect);
                abort();
        }
}

static void test_errors(void)
{
        char big[PATH_TEXT_MAX + 8];

        refused("", "position 1: expected a name");
        refused("net..mtu", "position 5: expected a name");
        refused("net.", "position 5: expected a name of a-z, 0-9, '_' or '-', found the end");
        refused("Net", "position 1: expected a name");
        refused("net.iface[eth0", "position 15: expected ']' to close the key, found the end");
        refused("net.iface[]", "position 11: expected a key of at least one character");
        refused("net.iface[a]b", "position 13: expected '.' or the end, found 'b'");
        refused("net.ifa ce", "position 8: expected '.', '[' or the end, found ' '");
        refused("a.l[\x01]", "position 5: expected a printable key character");
        refused("a.l[\xff]", "position 5: expected a printable key character");
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        refused(big, "longer than 1024 bytes");
        {
                char deep[200] = "a";
                for (int i = 0; i < 40; i++)
                        strcat(deep, ".a");
                refused(deep, "at most 32 segments");
        }
}

static void test_prefix_and_ranges(void)
{
        static const char *const inside[] = { "net.iface", "net.iface[eth0]", "net.iface[eth0].mtu",
                                              "net.iface[a.b].x", "net.iface.x" };
        static const char *const outside[] = { "net.ifaces", "net.ifac", "net.iface-x", "net.iface_", "net" };
        char lo[2][PATH_TEXT_MAX + 2], hi[2][PATH_TEXT_MAX + 2], buf[64];

        for (size_t i = 0; i < sizeof(inside) / sizeof(*inside); i++)
                assert(path_has_prefix(inside[i], "net.iface"));
        for (size_t i = 0; i < sizeof(outside) / sizeof(*outside); i++)
                assert(!path_has_prefix(outside[i], "net.iface"));
        assert(path_has_prefix("net.iface[eth0].mtu", "net.iface[eth0]"));
        assert(!path_has_prefix("net.iface[eth0x].mtu", "net.iface[eth0]"));
        path_subtree_ranges("net.iface", lo, hi);
        for (size_t i = 1; i < sizeof(inside) / sizeof(*inside); i++) {
                bool in = false;
                for (int k = 0; k < 2; k++)
                        in |= strcmp(inside[i], lo[k]) >= 0 && strcmp(inside[i], hi[k]) < 0;
                assert(in);
        }
        for (size_t i = 0; i < sizeof(outside) / sizeof(*outside); i++)
                for (int k = 0; k < 2; k++)
                        assert(!(strcmp(outside[i], lo[k]) >= 0 && strcmp(outside[i], hi[k]) < 0));
        assert(path_format_entry(buf, sizeof(buf), "net.bridge", "br0", 3) && !strcmp(buf, "net.bridge[br0]"));
        assert(!path_format_entry(buf, sizeof(buf), "net.bridge", "b]r", 3));
        assert(!path_format_entry(buf, 8, "net.bridge", "br0", 3));
}

int main(void)
{
        test_parse();
        test_errors();
        test_prefix_and_ranges();
        printf("test-config-path: ok\n");
        return 0;
}
