/*
 * bench/config/leaves.h - the configuration every peer of bench/config
 * holds, and the changes every peer makes to it, so that the rows of the
 * table do the same work.
 *
 * A store of S leaves is S/5 entries bench.port[pNNNNNN] of five leaves:
 * the key (name) and mtu, metric, descr, alias.  A change of N leaves is
 * commit number k changing the four non-key leaves of N/4 entries (spread
 * over the whole list, or one block of consecutive entries: change_plan()),
 * to values made from k: no value of commit k equals one of an earlier commit or of
 * the load, so every one of the N leaves really changes.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LEAVES_PER_ENTRY 5u
#define CHANGED_PER_ENTRY 4u

enum leaf { LEAF_NAME, LEAF_MTU, LEAF_METRIC, LEAF_DESCR, LEAF_ALIAS };

static const char *const leaf_names[LEAVES_PER_ENTRY] = {"name", "mtu", "metric", "descr", "alias"};

/* Leaves held as integers (kind 1 in the store's table); the others are text. */
static inline int leaf_is_int(enum leaf l)
{
        return l == LEAF_MTU || l == LEAF_METRIC;
}

static inline void leaf_path(char *buf, size_t n, unsigned entry, enum leaf l)
{
        snprintf(buf, n, "bench.port[p%06u].%s", entry, leaf_names[l]);
}

/* The value at load (k = 0) or after commit k (k >= 1), as text. */
static inline void leaf_value(char *buf, size_t n, unsigned entry, enum leaf l, uint64_t k)
{
        switch (l) {
        case LEAF_NAME:
                snprintf(buf, n, "p%06u", entry);
                break;
        case LEAF_MTU: /* load: 1500; commits: 1501 .. 61500 */
                snprintf(buf, n, "%llu", k ? 1501 + (unsigned long long)(k % 60000) : 1500ull);
                break;
        case LEAF_METRIC: /* load: the entry number (< 1e6); commits: 1e6 + k */
                snprintf(buf, n, "%llu", k ? 1000000ull + (unsigned long long)k : (unsigned long long)entry);
                break;
        case LEAF_DESCR:
                if (k)
                        snprintf(buf, n, "rev %llu", (unsigned long long)k);
                else
                        snprintf(buf, n, "port %u", entry);
                break;
        case LEAF_ALIAS:
                if (k)
                        snprintf(buf, n, "r-%llu", (unsigned long long)k);
                else
                        snprintf(buf, n, "a-%u", entry);
                break;
        }
}

/* The entries commit k changes when it changes @n_leaves of a store of
 * @n_entries entries: entry j is first + j * stride, j < *count.
 * Spread: every stride-th entry over the whole list (a change scattered
 * over the store, one entry per page or so).  Block: *count consecutive
 * entries at a place that moves with k (the same shape in any store, so
 * that stores of different sizes see the same change). */
enum change_shape { CHANGE_SPREAD, CHANGE_BLOCK };

static inline int change_plan(unsigned n_entries, unsigned n_leaves, uint64_t k, enum change_shape shape,
                              unsigned *first, unsigned *stride, unsigned *count)
{
        if (n_leaves % CHANGED_PER_ENTRY || n_leaves / CHANGED_PER_ENTRY > n_entries || !n_leaves)
                return -1;
        *count = n_leaves / CHANGED_PER_ENTRY;
        if (shape == CHANGE_BLOCK) {
                *stride = 1;
                *first = (unsigned)((k * 7919u) % (n_entries - *count + 1));
        } else {
                *stride = n_entries / *count;
                *first = (unsigned)(k % *stride);
        }
        return 0;
}

static inline enum change_shape change_shape_of(const char *word)
{
        return word && !strcmp(word, "block") ? CHANGE_BLOCK : CHANGE_SPREAD;
}
