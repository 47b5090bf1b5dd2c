/* restart_guard.h — whether to replace an overlay whose server ended (S4), or give up.
 *
 * A server that crashes is replaced at once: the link works again within a second. A
 * server that ends again and again right after it starts (a libfuse it cannot run
 * on, a backing filesystem it cannot serve) would otherwise be restarted in a tight
 * loop, taking a CPU and flooding the log while never serving. So: an end within
 * RESTART_GUARD_QUICK_MS of the start counts as quick; after RESTART_GUARD_LIMIT
 * quick ends in a row on one directory the overlay there is not started again by
 * itself (a new create, or a restart of the daemon, tries once more). An end after a
 * longer life starts the count afresh. Pure bookkeeping: unit-tested. */
#ifndef BINDLINK_RESTART_GUARD_H
#define BINDLINK_RESTART_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESTART_GUARD_QUICK_MS 2000
#define RESTART_GUARD_LIMIT 3

struct restart_guard {
        struct quick_ends {
                char *dir;
                unsigned count; /* quick ends in a row */
        } *dirs;
        size_t count;
};

/* The overlay on dir ended after living lived_ms (UINT64_MAX: unknown, e.g. adopted
 * from an earlier daemon). Replace it? *quick_ends: the quick ends in a row so far
 * (0 after a long life). Out of memory, it says replace (as without a guard). */
bool restart_guard_should_replace(struct restart_guard *guard, const char *dir,
                                  uint64_t lived_ms, unsigned *quick_ends);

void restart_guard_done(struct restart_guard *guard);

#endif
