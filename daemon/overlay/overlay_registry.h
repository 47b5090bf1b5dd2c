/* overlay_registry.h — the overlays bindlinkd runs: the ones serving (at most one per
 * directory) and the retired ones (detached, their process not yet ended), with
 * their journal records so a restarted daemon finds them again (S4). */
#ifndef BINDLINKD_OVERLAY_REGISTRY_H
#define BINDLINKD_OVERLAY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "journal.h"
#include "overlay_instance.h"

struct overlay_registry {
        struct overlay_instance **serving;
        size_t serving_count;
        struct overlay_instance **retired;
        size_t retired_count;
        struct journal *journal;
        /* Told about each new process descriptor to watch (the server's epoll). */
        void (*watch)(void *ctx, int pidfd);
        void *watch_ctx;
};

void overlay_registry_init(struct overlay_registry *reg, struct journal *journal);
void overlay_registry_done(struct overlay_registry *reg);

/* The parent overlay serving dir, or NULL (merged views are not found here). */
struct overlay_instance *overlay_registry_find(const struct overlay_registry *reg,
                                               const char *dir);
/* The merged view mounted on dir (a MERGED link's virtual path), or NULL. */
struct overlay_instance *overlay_registry_find_merged(const struct overlay_registry *reg,
                                                      const char *dir);
/* Record a started overlay (journal O) and watch it. */
int overlay_registry_add(struct overlay_registry *reg, struct overlay_instance *overlay);
/* Change a serving parent overlay's entries in place (overlay_update_entries) and
 * journal its new O record. 0 or -errno (then nothing changed). */
int overlay_registry_update(struct overlay_registry *reg, struct overlay_instance *overlay,
                            char *const *names, const char *kinds, size_t count);
/* Journal a serving overlay's record again (after it changed: grafts made). */
void overlay_registry_journal(struct overlay_registry *reg, const struct overlay_instance *o);
/* Stop a serving overlay: detach it, journal X; it is retired until its process ends. */
void overlay_registry_stop(struct overlay_registry *reg, struct overlay_instance *overlay);
/* A watched process descriptor became readable. Returns the serving overlay that
 * ended unexpectedly (the caller replaces it), or NULL. */
struct overlay_instance *overlay_registry_ended(struct overlay_registry *reg, int pidfd);

/* Parse the journal's O lines: adopt each overlay still running and on top of its
 * directory; for the others, call lost(ctx, dir) after detaching what is left. */
void overlay_registry_adopt(struct overlay_registry *reg,
                            void (*lost)(void *ctx, const char *dir), void *ctx);

/* Start watching every process (when the server starts). */
void overlay_registry_watch(struct overlay_registry *reg, void (*watch)(void *ctx, int pidfd),
                            void *ctx);

#endif
