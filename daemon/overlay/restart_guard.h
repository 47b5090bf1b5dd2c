/* restart_guard.h — whether to replace an overlay whose server ended (S4), give up,
 * and when to try a given-up one again.
 *
 * A server that crashes is replaced at once: the link works again within a second. A
 * server that ends again and again right after it starts (a libfuse it cannot run
 * on, a backing filesystem it cannot serve) would otherwise be restarted in a tight
 * loop, taking a CPU and flooding the log while never serving. So: an end within
 * RESTART_GUARD_QUICK_MS of the start counts as quick; after RESTART_GUARD_LIMIT
 * quick ends in a row on one directory the overlay there is given up, and tried
 * once more after retry_ms, then after twice that, and so on up to
 * RESTART_GUARD_MAX_DOUBLINGS doublings (a cause that passes, such as a full
 * descriptor table, heals by itself; one that does not costs one try in a long
 * while). A new create or a restart of the daemon also tries again. An end after a
 * longer life starts the count afresh. Pure bookkeeping: unit-tested. */
#ifndef BINDLINK_RESTART_GUARD_H
#define BINDLINK_RESTART_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESTART_GUARD_QUICK_MS 2000
#define RESTART_GUARD_LIMIT 3
#define RESTART_GUARD_MAX_DOUBLINGS 5
#define RESTART_GUARD_DEFAULT_RETRY_MS 30000

struct restart_guard {
        struct quick_ends {
                char *dir;
                unsigned count;       /* quick ends in a row */
                unsigned retries;     /* times given up since the last long life */
                uint64_t retry_at_ms; /* given up: when to try once more; 0: not */
        } *dirs;
        size_t count;
        uint64_t retry_ms; /* the first wait before a given-up overlay is tried again;
                            * 0: never by itself */
};

/* The overlay on dir ended after living lived_ms (UINT64_MAX: unknown, e.g. adopted
 * from an earlier daemon), at now_ms. Replace it? *quick_ends: the quick ends in a
 * row so far (0 after a long life). Out of memory, it says replace (as without a
 * guard). */
bool restart_guard_should_replace(struct restart_guard *guard, const char *dir,
                                  uint64_t lived_ms, uint64_t now_ms, unsigned *quick_ends);

/* A directory whose given-up overlay is due for another try at now_ms (marked
 * tried: returned once), or NULL. */
const char *restart_guard_due(struct restart_guard *guard, uint64_t now_ms);

void restart_guard_done(struct restart_guard *guard);

#endif
