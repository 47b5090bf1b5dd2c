/* manager.h — what the files of the link manager (daemon/links/) share with each
 * other; nothing outside this directory includes it (link_manager.h is the API).
 *   link_manager.c  create and remove
 *   show.c          the probe, the plan of a change, its teardown and realization
 *   supervise.c     servers that end, backing paths and filesystems that come and go
 *   adopt.c         start (re-adopt the journal, reconcile) and stop */
#ifndef BINDLINKD_LINKS_MANAGER_H
#define BINDLINKD_LINKS_MANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "link_manager.h"
#include "plan.h"

/* ---- lists of links ---- */
/* Append l (link_list_push), or say which link is left out (of what, why) when memory runs out. */
void manager_push_or_say(struct link ***list, size_t *count, struct link *l, const char *why);
/* The links an overlay on dir carries: those below dir (*ret malloc'd). */
int manager_links_below(struct link_manager *m, const char *dir, struct link ***ret,
                        size_t *ret_count);
/* Is some link's virtual path strictly below dir (mounted on the overlay there)? */
bool manager_carries_links(const struct link_manager *m, const char *dir);

/* ---- showing (show.c) ---- */
/* The planner's probe over this manager: what a path is, beneath our overlays, with
 * the rights of as (what as may not reach is missing). */
struct probe manager_probe(struct link_manager *m);
int manager_probe_type(struct link_manager *m, const char *path, bool follow,
                       const struct creds *as);
/* Why a placement cannot be shown, in words. */
const char *manager_placement_words(const struct placement *p);
/* The plan (daemon/plan/plan.h) for showing roots again, with the overlays that run
 * now and the manager's probe. */
int manager_plan_for(struct link_manager *m, struct link *const *roots, size_t root_count,
                     struct plan *ret);
/* Take the items down, deepest (last) first. */
void manager_teardown(struct link_manager *m, struct plan_item *items, size_t count);
/* Show the plan's items in order. Returns the index of the first that failed (count
 * if none), with *ret_error and *ret_path. With keep_going (nobody to refuse: a
 * re-plan), an item that fails is logged and left unshown, and the rest are shown. */
size_t manager_realize(struct link_manager *m, struct plan *plan, bool keep_going, int *ret_error,
                       const char **ret_path);
/* Record how the plan's links are shown now (all but except). */
void manager_journal_shown(struct link_manager *m, const struct plan *plan,
                           const struct link *except);
/* Tear down and show again everything the roots affect; errors are logged (used
 * where there is nobody to refuse: removal, restart, a crashed overlay). */
void manager_rebuild(struct link_manager *m, struct link *const *roots, size_t root_count,
                     const char *why);
/* Watch every directory on the way to l's B: as resolved, as named, and to each
 * symlink it went through (S10). Failures are logged. */
void manager_watch_backing(struct link_manager *m, const struct link *l);
/* l's B named through a symlink (link_table.h): walk the name again as its creator
 * and, when it leads elsewhere now, point l there (journaled). true when l changed
 * and must be shown again. */
bool manager_backing_repoint(struct link_manager *m, struct link *l);
/* Remember what B names now, to notice when its filesystem goes (S10). */
void manager_note_backing(struct link *l);
/* An overlay whose server did not take a change in place: take it down now, and show
 * what it carried again once the current change is done (manager_process_requeued). */
void manager_overlay_fall_back(struct link_manager *m, struct overlay_instance *o, int error);
/* Show again what overlays taken down during a change carried. */
void manager_process_requeued(struct link_manager *m);

#endif
