/*
 * Capability tables and the derivation forest (see captable.h).
 *
 * Slots are reused lowest-first, so a table that stays small stays dense.
 * A revoke walks the subtree depth-first and unlinks leaves first: the
 * callback never sees a cap whose children still exist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/captable.h"
#include "orbital/protocol.h"

void captable_init(struct captable *t, void *owner)
{
        *t = (struct captable){.owner = owner};
}

static int table_free_slot(struct captable *t, uint32_t *slot)
{
        uint32_t n;
        struct cap **s;

        for (uint32_t i = 1; i < t->n_slots; i++) {
                if (!t->slots[i]) {
                        *slot = i;
                        return 0;
                }
        }
        if (t->n_caps >= CAPTABLE_SLOTS_MAX)
                return -CAP_E_FULL;
        n = t->n_slots ? t->n_slots * 2 : 8;
        if (n > CAPTABLE_SLOTS_MAX + 1)
                n = CAPTABLE_SLOTS_MAX + 1;
        s = reallocarray(t->slots, n, sizeof(*s));
        if (!s)
                return -ENOMEM;
        memset(s + t->n_slots, 0, (n - t->n_slots) * sizeof(*s));
        *slot = t->n_slots ? t->n_slots : 1;
        t->slots = s;
        t->n_slots = n;
        return 0;
}

static void link_child(struct cap *parent, struct cap *c)
{
        c->parent = parent;
        c->next_sibling = parent->first_child;
        if (parent->first_child)
                parent->first_child->prev_sibling = c;
        parent->first_child = c;
}

static void unlink_child(struct cap *c)
{
        if (c->prev_sibling)
                c->prev_sibling->next_sibling = c->next_sibling;
        else if (c->parent)
                c->parent->first_child = c->next_sibling;
        if (c->next_sibling)
                c->next_sibling->prev_sibling = c->prev_sibling;
        c->parent = c->prev_sibling = c->next_sibling = NULL;
}

int captable_insert(struct captable *t, struct cap *parent, uint8_t obj_type, uint64_t obj_id, const char *name,
                    uint8_t rights, usec_t expires, struct cap **out)
{
        struct cap *c;
        uint32_t slot;
        int r;

        if (parent && (rights & ~parent->rights))
                return -CAP_E_RIGHTS;
        if (parent && parent->expires && (!expires || expires > parent->expires))
                expires = parent->expires;
        r = table_free_slot(t, &slot);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        *c = (struct cap){.table = t, .slot = slot, .obj_type = obj_type, .rights = rights, .obj_id = obj_id,
                          .expires = expires};
        snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
        if (parent) {
                c->is_provider = parent->is_provider;
                link_child(parent, c);
        }
        t->slots[slot] = c;
        t->n_caps++;
        *out = c;
        return 0;
}

int captable_grant(struct cap *from, struct captable *to, uint8_t rights, usec_t expires, struct cap **out)
{
        if (!(from->rights & ORB_RIGHT_GRANT))
                return -CAP_E_RIGHTS;
        return captable_insert(to, from, from->obj_type, from->obj_id, from->name, rights, expires, out);
}

static void cap_remove_one(struct cap *c, unsigned reason, cap_removed_fn fn, void *ctx)
{
        struct captable *t = c->table;

        if (fn)
                fn(c, reason, ctx);
        unlink_child(c);
        t->slots[c->slot] = NULL;
        t->n_caps--;
        free(c);
}

/* Iterative post-order walk: a long delegation chain cannot overflow the stack. */
void captable_revoke(struct cap *cap, unsigned reason, cap_removed_fn fn, void *ctx)
{
        struct cap *c = cap;

        for (;;) {
                while (c->first_child)
                        c = c->first_child;
                if (c == cap)
                        break;
                struct cap *up = c->parent;
                cap_remove_one(c, reason, fn, ctx);
                c = up;
        }
        cap_remove_one(cap, reason, fn, ctx);
}

struct cap *captable_get(const struct captable *t, uint32_t slot)
{
        return slot && slot < t->n_slots ? t->slots[slot] : NULL;
}

usec_t captable_next_expiry(const struct captable *t)
{
        usec_t next = 0;

        for (uint32_t i = 1; i < t->n_slots; i++) {
                const struct cap *c = t->slots[i];

                if (c && c->expires && (!next || c->expires < next))
                        next = c->expires;
        }
        return next;
}

void captable_expire(struct captable *t, usec_t now, cap_removed_fn fn, void *ctx)
{
        for (uint32_t i = 1; i < t->n_slots; i++) {
                struct cap *c = t->slots[i];

                /* A revoke may clear later slots of this table: re-read each. */
                if (c && c->expires && c->expires <= now)
                        captable_revoke(c, ORB_REVOKE_EXPIRED, fn, ctx);
        }
}

void captable_deinit(struct captable *t, unsigned reason, cap_removed_fn fn, void *ctx)
{
        for (uint32_t i = 1; i < t->n_slots; i++)
                if (t->slots[i])
                        captable_revoke(t->slots[i], reason, fn, ctx);
        free(t->slots);
        *t = (struct captable){0};
}

static void check_fail(const struct cap *c, const char *what)
{
        fprintf(stderr, "captable invariant broken at slot %u (%s): %s\n", c->slot, c->name, what);
        abort();
}

void captable_check(const struct captable *t)
{
        uint32_t n = 0;

        for (uint32_t i = 1; i < t->n_slots; i++) {
                const struct cap *c = t->slots[i];
                unsigned depth = 0;

                if (!c)
                        continue;
                n++;
                if (c->slot != i || c->table != t)
                        check_fail(c, "slot or table mismatch");
                if (c->parent && (c->rights & ~c->parent->rights))
                        check_fail(c, "rights wider than the parent's");
                if (c->parent && c->parent->expires && (!c->expires || c->expires > c->parent->expires))
                        check_fail(c, "expires after the parent");
                if (c->prev_sibling ? c->prev_sibling->next_sibling != c
                                    : c->parent && c->parent->first_child != c)
                        check_fail(c, "sibling links broken");
                for (const struct cap *k = c->first_child; k; k = k->next_sibling)
                        if (k->parent != c)
                                check_fail(c, "child does not point back");
                for (const struct cap *a = c->parent; a; a = a->parent)
                        if (a == c || ++depth > 1000000)
                                check_fail(c, "cycle in the derivation tree");
        }
        if (n != t->n_caps)
                check_fail(t->slots[0] ? t->slots[0] : &(struct cap){0}, "n_caps does not match the slots");
}
