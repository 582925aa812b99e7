/* Unit test of validation: each rule, every error reported (not just the
 * first) with its path and reason, refs across files, and the reverse
 * index that guards the removal of an entry that is still referred to. */
#include "test-util.h"

#include "config/store.h"
#include "config/validate.h"

#define TEXT(str) (&(struct cfg_value){ .kind = CFG_KIND_TEXT, .s = (char *)(str) })
#define NUM(n) (&(struct cfg_value){ .kind = CFG_KIND_INT, .i = (n) })

static struct schema_set schemas = SCHEMA_SET_INIT;
static struct store *st;

static void set(struct cfg_changes *c, const char *path, const struct cfg_value *v)
{
        struct cfg_value old = CFG_VALUE_INIT;
        bool has_old = store_get(st, path, &old) == 0;

        assert(changes_add(c, path, has_old ? &old : NULL, v, NULL, NULL) == 0);
        value_deinit(&old);
}

static void del(struct cfg_changes *c, const char *path)
{
        struct cfg_value old = CFG_VALUE_INIT;

        assert(store_get(st, path, &old) == 0);
        assert(changes_add(c, path, &old, NULL, NULL, NULL) == 0);
        value_deinit(&old);
}

/* Validates @c; each expected "path|reason words" must be among the errors, and nothing else. */
static void expect(struct cfg_changes *c, const char *const *want, size_t n_want)
{
        struct validate_errors e = VALIDATE_ERRORS_INIT;
        int r;

        changes_sort(c);
        r = validate_changes(&schemas, st, c, &e);
        assert(r == (n_want ? VALIDATE_E_INVALID : 0));
        if (e.n != n_want) {
                char *s = validate_errors_format(&e);
                fprintf(stderr, "wanted %zu errors, got %zu:\n%s", n_want, e.n, s);
                free(s);
                abort();
        }
        for (size_t i = 0; i < n_want; i++) {
                const char *bar = strchr(want[i], '|');
                bool found = false;

                for (size_t k = 0; k < e.n && !found; k++)
                        found = strlen(e.v[k].path) == (size_t)(bar - want[i]) &&
                                !strncmp(e.v[k].path, want[i], (size_t)(bar - want[i])) && strstr(e.v[k].reason, bar + 1);
                if (!found) {
                        char *s = validate_errors_format(&e);
                        fprintf(stderr, "missing error %s in:\n%s", want[i], s);
                        free(s);
                        abort();
                }
        }
        validate_errors_deinit(&e);
}

#define EXPECT(c, ...)                                                                                                 \
        do {                                                                                                           \
                static const char *const w_[] = { __VA_ARGS__ };                                                       \
                expect((c), w_, sizeof(w_) / sizeof(*w_));                                                             \
        } while (0)
#define EXPECT_OK(c) expect((c), NULL, 0)

/* Validates and commits @c (which must be valid); frees it. */
static void apply(struct cfg_changes *c)
{
        uint64_t rev, id;

        EXPECT_OK(c);
        assert(store_revision(st, &rev) == 0);
        assert(store_commit(st, rev, c, &(struct store_commit_info){ .author = "t" }, &id) == 0);
        changes_deinit(c);
}

static void setup(void)
{
        struct cfg_changes c = CFG_CHANGES_INIT;

        set(&c, "net.gateway", TEXT("10.0.0.1"));
        set(&c, "net.bridge[br0].name", TEXT("br0"));
        set(&c, "net.bridge[br1].name", TEXT("br1"));
        set(&c, "net.iface[eth0].name", TEXT("eth0"));
        set(&c, "net.iface[eth0].mode", TEXT("dhcp"));
        set(&c, "net.iface[eth0].addr.v4", TEXT("10.0.0.2"));
        set(&c, "net.iface[eth0].bridge", TEXT("br0"));
        set(&c, "system.uplink", TEXT("eth0"));
        set(&c, "net.legacy", NUM(1)); /* a leaf of an older schema */
        changes_sort(&c);
        /* net.legacy is not in the schema: commit it without validation. */
        {
                struct validate_errors e = VALIDATE_ERRORS_INIT;
                uint64_t id;

                assert(validate_changes(&schemas, st, &c, &e) == VALIDATE_E_INVALID && e.n == 1);
                assert(!strcmp(e.v[0].path, "net.legacy"));
                validate_errors_deinit(&e);
                assert(store_commit(st, 0, &c, &(struct store_commit_info){ .author = "t" }, &id) == 0);
                changes_deinit(&c);
        }
}

static void test_leaf_rules(void)
{
        struct cfg_changes c = CFG_CHANGES_INIT;

        /* Rules 1 and 2, all reported at once. */
        set(&c, "net.nope", NUM(1));
        set(&c, "net.iface[eth0].addr", TEXT("x"));
        set(&c, "net.iface[eth0].mtu", NUM(9001));
        set(&c, "net.iface[eth0].mode", TEXT("ppp"));
        set(&c, "net.hostname", TEXT("Not_Valid"));
        set(&c, "net.iface[eth0].enabled", TEXT("yes"));
        set(&c, "net.iface[eth0].name", TEXT("eth0"));
        EXPECT(&c, "net.nope|no node nope", "net.iface[eth0].addr|expected a leaf, found a container",
               "net.iface[eth0].mtu|expected 68 to 9000, found 9001",
               "net.iface[eth0].mode|expected one of dhcp, static; found 'ppp'",
               "net.hostname|expected text matching", "net.iface[eth0].enabled|expected a value of type bool");
        changes_deinit(&c);
        /* Rule 3: a key leaf holds its key. */
        set(&c, "net.bridge[br2].name", TEXT("br3"));
        EXPECT(&c, "net.bridge[br2].name|expected the entry's key br2, found br3");
        changes_deinit(&c);
        /* Rule 4: entries on the way exist. */
        set(&c, "net.iface[eth9].mtu", NUM(1500));
        set(&c, "net.iface[eth0].vlan[7].prio", NUM(1));
        EXPECT(&c, "net.iface[eth9].mtu|the entry net.iface[eth9] does not exist",
               "net.iface[eth0].vlan[7].prio|the entry net.iface[eth0].vlan[7] does not exist");
        changes_deinit(&c);
        set(&c, "net.iface[eth0].vlan[7].id", NUM(7));
        set(&c, "net.iface[eth0].vlan[7].prio", NUM(1));
        EXPECT_OK(&c);
        changes_deinit(&c);
        /* An int key has one spelling: vlan[07] is not vlan[7]. */
        set(&c, "net.iface[eth0].vlan[07].id", NUM(7));
        set(&c, "net.iface[eth0].vlan[07].prio", NUM(1));
        EXPECT(&c, "net.iface[eth0].vlan[07].id|expected the entry's key 07, found 7");
        changes_deinit(&c);
        set(&c, "net.iface[eth0].vlan[x].id", NUM(7));
        EXPECT(&c, "net.iface[eth0].vlan[x].id|expected the entry's key x, found 7",
               "net.iface[eth0].vlan[x].prio|required in the new entry net.iface[eth0].vlan[x]");
        changes_deinit(&c);
}

static void test_refs(void)
{
        struct cfg_changes c = CFG_CHANGES_INIT;
        struct cfg_delta *d;

        /* Rule 5: to a missing entry, and one created in the same change (ref_to filled). */
        set(&c, "net.iface[eth0].bridge", TEXT("br9"));
        EXPECT(&c, "net.iface[eth0].bridge|refers to net.bridge[br9], which does not exist");
        changes_deinit(&c);
        set(&c, "net.iface[eth0].bridge", TEXT("br9"));
        set(&c, "net.bridge[br9].name", TEXT("br9"));
        EXPECT_OK(&c);
        d = changes_find(&c, "net.iface[eth0].bridge");
        assert(d && d->ref_to && !strcmp(d->ref_to, "net.bridge[br9]"));
        changes_deinit(&c);
        /* Across files: system.uplink -> net.iface. */
        set(&c, "system.uplink", TEXT("eth5"));
        EXPECT(&c, "system.uplink|refers to net.iface[eth5], which does not exist");
        changes_deinit(&c);
        /* Rule 8: removing br0 while net.iface[eth0].bridge points at it names both. */
        del(&c, "net.bridge[br0].name");
        EXPECT(&c, "net.bridge[br0]|removed, but net.iface[eth0].bridge still refers to it");
        changes_deinit(&c);
        /* ...fine when the ref goes too, or moves to another entry. */
        del(&c, "net.bridge[br0].name");
        del(&c, "net.iface[eth0].bridge");
        EXPECT_OK(&c);
        changes_deinit(&c);
        del(&c, "net.bridge[br0].name");
        set(&c, "net.iface[eth0].bridge", TEXT("br1"));
        EXPECT_OK(&c);
        changes_deinit(&c);
        /* ...but not to the entry being removed. */
        del(&c, "net.bridge[br1].name");
        set(&c, "net.iface[eth0].bridge", TEXT("br1"));
        EXPECT(&c, "net.iface[eth0].bridge|refers to net.bridge[br1], which does not exist");
        changes_deinit(&c);
        /* Removing eth0 whole: the cross-file ref from system.uplink stops it. */
        del(&c, "net.iface[eth0].name");
        del(&c, "net.iface[eth0].mode");
        del(&c, "net.iface[eth0].addr.v4");
        del(&c, "net.iface[eth0].bridge");
        EXPECT(&c, "net.iface[eth0]|removed, but system.uplink still refers to it");
        changes_deinit(&c);
}

static void test_required_and_removal(void)
{
        struct cfg_changes c = CFG_CHANGES_INIT;

        /* Rule 6: a new entry needs its required leaves, through containers, not sublists. */
        set(&c, "net.iface[eth1].name", TEXT("eth1"));
        EXPECT(&c, "net.iface[eth1].mode|required in the new entry net.iface[eth1]",
               "net.iface[eth1].addr.v4|required in the new entry net.iface[eth1]");
        changes_deinit(&c);
        set(&c, "net.iface[eth1].name", TEXT("eth1"));
        set(&c, "net.iface[eth1].mode", TEXT("static"));
        set(&c, "net.iface[eth1].addr.v4", TEXT("10.0.1.1"));
        apply(&c);
        /* Rule 7: required leaves without a default go only with their entry. */
        del(&c, "net.gateway");
        del(&c, "net.iface[eth1].mode");
        EXPECT(&c, "net.gateway|required, and has no default: it cannot be removed",
               "net.iface[eth1].mode|cannot be removed but with its entry");
        changes_deinit(&c);
        /* Rule 8: a removed entry leaves nothing behind. */
        del(&c, "net.iface[eth1].name");
        del(&c, "net.iface[eth1].mode");
        EXPECT(&c, "net.iface[eth1].addr.v4|its entry net.iface[eth1] is removed, but it is not");
        changes_deinit(&c);
        del(&c, "net.iface[eth1].name");
        del(&c, "net.iface[eth1].mode");
        del(&c, "net.iface[eth1].addr.v4");
        apply(&c);
        /* Rule 9: a leaf the schema does not know may go. */
        del(&c, "net.legacy");
        apply(&c);
}

int main(void)
{
        char *dir = test_tmpdir(), *file = test_file(dir, "v.db");

        test_schemas(&schemas);
        assert(store_open(file, NULL, &st) == 0);
        setup();
        test_leaf_rules();
        test_refs();
        test_required_and_removal();
        store_free(st);
        schema_set_deinit(&schemas);
        free(file);
        test_rmdir(dir);
        printf("test-config-validate: ok\n");
        return 0;
}
