/*
 * A limit on repeated reports (burst.c): a peer that keeps being refused,
 * a service that keeps trying an escape, must not fill the audit log.  At
 * most @burst reports, then one per @every; what is held back is counted
 * and handed to the next report ("suppressed").
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/time.h"

struct burst {
        unsigned n;              /* reports made, up to the burst */
        usec_t last;             /* of the last report */
        uint64_t suppressed;     /* held back since */
};

/* Return: true to report now, with *@suppressed the number held back
 * before it (0 if none); false to hold this one back (it is counted). */
bool burst_admit(struct burst *b, usec_t now, unsigned burst, usec_t every, uint64_t *suppressed);
