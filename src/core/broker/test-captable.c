/* Unit test of the capability algebra: attenuation never widens, a revoke
 * removes every descendant in every table, expiry is inherited and fires,
 * and the invariant checker passes after each of thousands of random
 * operations. */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/captable.h"
#include "orbital/protocol.h"

#define N_TABLES 4

static unsigned n_removed;
static unsigned last_reason;

static void on_removed(struct cap *c, unsigned reason, void *ctx)
{
        (void)c, (void)ctx;
        /* Leaves first: a cap is never removed before its children. */
        assert(!c->first_child);
        n_removed++;
        last_reason = reason;
}

static void check_all(struct captable *t)
{
        for (int i = 0; i < N_TABLES; i++)
                captable_check(&t[i]);
}

static void test_attenuation(void)
{
        struct captable a, b;
        struct cap *root, *child, *grandchild;

        captable_init(&a, NULL);
        captable_init(&b, NULL);
        assert(captable_insert(&a, NULL, ORB_OBJ_ENDPOINT, 7, "storage", ORB_RIGHT_READ | ORB_RIGHT_GRANT, 0,
                               &root) == 0);
        assert(root->slot == 1);
        /* Widening to write is refused; narrowing to read is fine. */
        assert(captable_grant(root, &b, ORB_RIGHT_READ | ORB_RIGHT_WRITE, 0, &child) == -CAP_E_RIGHTS);
        assert(captable_grant(root, &b, ORB_RIGHT_READ, 0, &child) == 0);
        assert(child->parent == root && child->obj_id == 7 && !strcmp(child->name, "storage"));
        /* The child lacks the grant right: it cannot pass it on. */
        assert(captable_grant(child, &a, ORB_RIGHT_READ, 0, &grandchild) == -CAP_E_RIGHTS);
        captable_check(&a);
        captable_check(&b);
        n_removed = 0;
        captable_revoke(root, ORB_REVOKE_EXPLICIT, on_removed, NULL);
        assert(n_removed == 2 && a.n_caps == 0 && b.n_caps == 0);
        assert(!captable_get(&b, child == NULL ? 0 : 1));
        captable_deinit(&a, 0, NULL, NULL);
        captable_deinit(&b, 0, NULL, NULL);
}

static void test_expiry(void)
{
        struct captable a, b;
        struct cap *root, *child, *c2;

        captable_init(&a, NULL);
        captable_init(&b, NULL);
        assert(captable_insert(&a, NULL, ORB_OBJ_TOPIC, 1, "net", ORB_RIGHTS_ALL, 100, &root) == 0);
        /* A child may not outlive its parent: "never" becomes 100. */
        assert(captable_grant(root, &b, ORB_RIGHT_READ, 0, &child) == 0 && child->expires == 100);
        assert(captable_grant(root, &b, ORB_RIGHT_READ, 50, &c2) == 0 && c2->expires == 50);
        assert(captable_next_expiry(&b) == 50);
        n_removed = 0;
        captable_expire(&b, 60, on_removed, NULL);
        assert(n_removed == 1 && last_reason == ORB_REVOKE_EXPIRED && b.n_caps == 1);
        captable_expire(&a, 100, on_removed, NULL);
        assert(n_removed == 3 && a.n_caps == 0 && b.n_caps == 0);
        captable_deinit(&a, 0, NULL, NULL);
        captable_deinit(&b, 0, NULL, NULL);
}

static void test_slots_reused_and_bounded(void)
{
        struct captable a;
        struct cap *c;

        captable_init(&a, NULL);
        for (unsigned i = 0; i < CAPTABLE_SLOTS_MAX; i++)
                assert(captable_insert(&a, NULL, ORB_OBJ_ENDPOINT, i, "x", ORB_RIGHT_READ, 0, &c) == 0);
        assert(captable_insert(&a, NULL, ORB_OBJ_ENDPOINT, 0, "x", ORB_RIGHT_READ, 0, &c) == -CAP_E_FULL);
        captable_revoke(captable_get(&a, 17), ORB_REVOKE_EXPLICIT, NULL, NULL);
        assert(captable_insert(&a, NULL, ORB_OBJ_ENDPOINT, 0, "x", ORB_RIGHT_READ, 0, &c) == 0 && c->slot == 17);
        captable_check(&a);
        captable_deinit(&a, 0, NULL, NULL);
}

/* A long chain is revoked without recursion. */
static void test_long_chain(void)
{
        struct captable a;
        struct cap *c, *root;

        captable_init(&a, NULL);
        assert(captable_insert(&a, NULL, ORB_OBJ_ENDPOINT, 1, "x", ORB_RIGHTS_ALL, 0, &root) == 0);
        c = root;
        for (unsigned i = 0; i < CAPTABLE_SLOTS_MAX - 1; i++)
                assert(captable_grant(c, &a, ORB_RIGHTS_ALL, 0, &c) == 0);
        n_removed = 0;
        captable_revoke(root, ORB_REVOKE_EXPLICIT, on_removed, NULL);
        assert(n_removed == CAPTABLE_SLOTS_MAX && a.n_caps == 0);
        captable_deinit(&a, 0, NULL, NULL);
}

/* Random grants, revokes and expiries over several tables; after each
 * step the invariants hold and no cap outlives an ancestor. */
static void test_random(void)
{
        struct captable t[N_TABLES];
        unsigned seed = 12345;

        for (int i = 0; i < N_TABLES; i++)
                captable_init(&t[i], NULL);
        for (unsigned step = 0; step < 20000; step++) {
                struct captable *a = &t[rand_r(&seed) % N_TABLES];
                uint32_t slot = 1 + rand_r(&seed) % 40;
                struct cap *c = captable_get(a, slot), *out;
                uint8_t rights = rand_r(&seed) % 8;

                switch (rand_r(&seed) % 4) {
                case 0:
                        (void)captable_insert(a, NULL, ORB_OBJ_ENDPOINT, slot, "r", rights,
                                              rand_r(&seed) % 2 ? 0 : step + rand_r(&seed) % 50, &out);
                        break;
                case 1:
                        if (c) {
                                int r = captable_grant(c, &t[rand_r(&seed) % N_TABLES], rights,
                                                       rand_r(&seed) % 3 ? 0 : step + 10, &out);
                                assert(r == 0 || r == -CAP_E_RIGHTS || r == -CAP_E_FULL);
                                if (r == 0)
                                        assert(!(out->rights & ~c->rights));
                                else if (r == -CAP_E_RIGHTS)
                                        assert(!(c->rights & ORB_RIGHT_GRANT) || (rights & ~c->rights));
                        }
                        break;
                case 2:
                        if (c)
                                captable_revoke(c, ORB_REVOKE_EXPLICIT, on_removed, NULL);
                        break;
                case 3:
                        captable_expire(a, step, on_removed, NULL);
                        break;
                }
                check_all(t);
        }
        for (int i = 0; i < N_TABLES; i++)
                captable_deinit(&t[i], ORB_REVOKE_SOURCE_EXITED, on_removed, NULL);
}

int main(void)
{
        test_attenuation();
        test_expiry();
        test_slots_reused_and_bounded();
        test_long_chain();
        test_random();
        printf("test-captable: ok\n");
        return 0;
}
