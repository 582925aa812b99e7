/*
 * Closing a descriptor off the event loop, now or a little later
 * (async-close.c).
 *
 * Some last closes are slow: dropping the last reference to a mount
 * namespace unmounts its tree and waits for an RCU grace period (together
 * about 0.5 ms of a restart on these machines, bench/sandbox).  These
 * functions hand such a descriptor to one background thread, which closes
 * it while orbitald goes on; systemd's asynchronous_close() serves the
 * same purpose.  A delay keeps the work off the next few milliseconds too,
 * when a restarted service is starting on the same CPUs.
 */
#pragma once

#include <stdint.h>

/* Closes @fd (ignored when < 0) in the background thread, started on
 * first use, no sooner than @delay_usec from now.  When the thread cannot
 * be started, or the hand-over fails, @fd is closed here and now, so
 * nothing leaks. */
void async_close_later(int fd, uint64_t delay_usec);

static inline void async_close(int fd)
{
        async_close_later(fd, 0);
}
