/* link_manager.h — the daemon's one owner of links: validates a request against the
 * table and the disk, plans with the planner, changes mounts with mount_ops, and
 * journals the result. A failed create changes nothing (S2). */
#ifndef BINDLINKD_LINK_MANAGER_H
#define BINDLINKD_LINK_MANAGER_H

#include <limits.h>
#include <stdbool.h>

#include "bindlink.h"
#include "journal.h"
#include "backing_watch.h"
#include "restart_guard.h"
#include "link_table.h"
#include "overlay_registry.h"
#include "wire.h"

struct link_manager {
        struct link_table table;
        struct journal journal;
        struct overlay_registry overlays;
        struct backing_watch backing;  /* S10: B deleted, renamed away, made again */
        struct restart_guard restarts; /* S4: overlays whose server keeps ending */
        /* Directories whose overlay was taken down during a change: their links are
         * shown again once the change is done. */
        char **requeued;
        size_t requeued_count;
        unsigned long ticks; /* seconds served */
};

/* The answer to a request, as it goes back on the wire. */
struct outcome {
        int status; /* 0 or -errno */
        bindlink_fault fault;
        uint32_t exception_index;
        char path[PATH_MAX];
        char message[512];
};

/* What a create request carries: the message plus the caller's descriptors
 * (-1 where the caller's open failed; the errno is in the message). */
struct create_request {
        const struct wire_create *msg;
        int parent_fd;
        int backing_fd;
        const int *exception_fds;
        const struct creds *creator; /* who asked: whose rights count (as_caller.h) */
};

/* Load the journal from state_dir and re-adopt every link (S4). */
int link_manager_start(struct link_manager *manager, const char *state_dir);
void link_manager_stop(struct link_manager *manager);

void link_manager_create(struct link_manager *manager, const struct create_request *request,
                         struct outcome *ret);
/* as: who asks (S20: they must be able to search V's parent). A link that holds a
 * nested link is not removed (EBUSY: deepest first, as RemoveBindLink); tree removes
 * every link at or below virtual_path, deepest first. */
void link_manager_remove(struct link_manager *manager, const char *virtual_path, bool tree,
                         const struct creds *as, struct outcome *ret);

/* One step of an explanation (bindlinkctl explain): what decides what path shows. */
struct explain_step {
        enum bindlink_step_kind kind;
        char *path;              /* the path the step is about */
        const struct link *link; /* the link that decides it, or NULL */
        char *detail;            /* why, in words */
};
/* Explain what path (normalized) shows, as the caller as may see it: the steps from
 * path to what is on disk. 0, or -errno with ret filled in (ELOOP: the links loop). */
int link_manager_explain(struct link_manager *manager, const char *path, const struct creds *as,
                         struct explain_step **ret_steps, size_t *ret_count, struct outcome *ret);
void explain_steps_free(struct explain_step *steps, size_t count);

/* The links in creation order (for listing), *ret_count of them; valid until the
 * next change. */
struct link *const *link_manager_links(const struct link_manager *manager, size_t *ret_count);
/* The link whose virtual path is virtual_path, or NULL. */
const struct link *link_manager_find(const struct link_manager *manager,
                                     const char *virtual_path);

/* Overlay processes are watched by the server through pidfds: watch() is told about
 * each; process_ended() is called when one becomes readable. */
void link_manager_watch(struct link_manager *manager, void (*watch)(void *ctx, int pidfd),
                        void *ctx);
void link_manager_process_ended(struct link_manager *manager, int pidfd);
/* Once a second: try again the overlays given up on whose wait is over
 * (restart_guard.h). */
void link_manager_tick(struct link_manager *manager);

/* Which layers of link l's view changes made beside it reach within the view's
 * timeouts only: BINDLINK_WATCH_* bits (0: every layer is watched). */
uint32_t link_manager_layer_watch(const struct link_manager *manager, const struct link *l);

/* The inotify descriptor watching backing paths (-1 if none); when it is readable,
 * backing_changed() shows the links whose B came or went again. */
int link_manager_backing_fd(const struct link_manager *manager);
void link_manager_backing_changed(struct link_manager *manager);
/* The mount table changed: show again every link whose backing path no longer
 * names the object it showed (its filesystem was unmounted or replaced: S10). */
void link_manager_mounts_changed(struct link_manager *manager);

#endif
