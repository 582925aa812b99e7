/* Shared by the unit tests of orb-config's core: a temporary directory and
 * the schema most tests use. */
#pragma once

#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/schema.h"

static const char test_net_schema[] =
        "subtree: net\n"
        "nodes:\n"
        "  hostname: {type: string, pattern: \"^[a-z0-9-]{1,63}$\", default: orbital}\n"
        "  domain: {type: string, required: true, default: local}\n"
        "  gateway: {type: string, required: true}\n"
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
        "          v4: {type: string, required: true}\n"
        "          v6: {type: string}\n"
        "      vlan:\n"
        "        list: id\n"
        "        nodes:\n"
        "          id: {type: int, range: [1, 4094]}\n"
        "          prio: {type: int, required: true}\n"
        "  bridge:\n"
        "    list: name\n"
        "    nodes:\n"
        "      name: {type: string}\n"
        "      stp: {type: bool, default: false}\n";

static const char test_sys_schema[] =
        "subtree: system\n"
        "nodes:\n"
        "  n: {type: int}\n"
        "  leaf:\n"
        "    list: k\n"
        "    nodes:\n"
        "      k: {type: int}\n"
        "      v: {type: int}\n"
        "  uplink: {type: ref, target: net.iface}\n";

static inline void test_schemas(struct schema_set *s)
{
        struct orb_diag d = ORB_DIAG_INIT;

        assert(schema_set_add(s, test_net_schema, strlen(test_net_schema), "net.yaml", &d) == 0);
        assert(schema_set_add(s, test_sys_schema, strlen(test_sys_schema), "system.yaml", &d) == 0);
        assert(schema_set_link(s, &d) == 0);
}

/* A fresh directory under $TMPDIR; the caller removes it with test_rmdir(). */
static inline char *test_tmpdir(void)
{
        const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char *dir;

        assert(asprintf(&dir, "%s/orb-config-test.XXXXXX", base) > 0);
        assert(mkdtemp(dir));
        return dir;
}

static inline void test_rmdir(char *dir)
{
        char *cmd;

        assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
        assert(system(cmd) == 0);
        free(cmd);
        free(dir);
}

static inline char *test_file(const char *dir, const char *name)
{
        char *f;

        assert(asprintf(&f, "%s/%s", dir, name) > 0);
        return f;
}

static inline double test_ms(const struct timespec *a, const struct timespec *b)
{
        return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}
