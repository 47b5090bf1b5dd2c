/* planner.h — decides how links are shown, with no syscalls of its own.
 *
 * The view at a path is found by following links: the deepest link whose virtual
 * path covers the path maps it into that link's backing path, and so on until no
 * link covers it (an "original" path, on disk). What exists on disk is asked of a
 * probe, so unit tests can drive every rule with a fake tree.
 *
 * A merged link (S12) does not map the paths below V to B: what shows there is B's
 * or the original V's object, which only the probe can tell (it asks the merged
 * view's two layers). Paths below a merged V therefore resolve to themselves. */
#ifndef BINDLINKD_PLANNER_H
#define BINDLINKD_PLANNER_H

#include <stdbool.h>
#include <stddef.h>

#include "link_table.h"

enum probe_type {
        PROBE_MISSING = 0,
        PROBE_DIRECTORY,
        PROBE_FILE, /* anything that is neither a directory nor a symlink */
        PROBE_SYMLINK,
};

struct probe {
        /* Type of an original path; follow says whether a final symlink is followed.
         * as: the creds it is looked up with (a link's B and exceptions: its creator's,
         * as_caller.h), NULL for the daemon's own (places). What as may not reach is
         * missing. Returns a probe_type, or -errno for errors other than "missing". */
        int (*type_of)(void *ctx, const char *path, bool follow, const struct creds *as);
        void *ctx;
};

/* What the walk up from a path makes of a link whose virtual path is the path or
 * one of its ancestors. */
enum cover_reason {
        COVER_COVERS = 0,   /* it covers the path: resolution follows it */
        COVER_IGNORED,      /* the link the caller said to ignore: passed over */
        COVER_EXCEPTED,     /* the path is in one of its exceptions (S14): a hole, passed over */
        COVER_BELOW_MERGED, /* the path is below a merged link's V (see above): passed over */
};

/* Told of a link on the way up (the deepest first) and why the walk would take it or
 * pass it over; returns 1 to take it, 0 to pass it over, -errno to stop the walk. */
typedef int (*cover_judge)(void *ctx, const struct link *link, enum cover_reason why);

/* The link whose virtual path is path or its deepest ancestor that covers path, in
 * *ret_link (NULL when none does): the one resolution follows. judge (may be NULL:
 * take a link exactly when COVER_COVERS) is told of each link found on the way and
 * decides, so that what explains a resolution walks as it does. 0, or judge's -errno. */
int planner_covering_link(const struct link_table *table, const char *path,
                          const struct link *ignored, cover_judge judge, void *ctx,
                          const struct link **ret_link);

/* Resolve a view path to the original path showing there, ignoring `ignored`
 * (may be NULL). -ELOOP when the links loop. */
int planner_resolve(const struct link_table *table, const char *path,
                    const struct link *ignored, char **ret_path);

enum placement_kind {
        PLACE_BIND,            /* a bind mount shows it exactly */
        PLACE_GRAFT,           /* a bind mount on an entry its parent's overlay synthesizes */
        PLACE_MERGE,           /* a merged view of B over V, mounted on V (S12, S13) */
        PLACE_PARENT_MISSING,  /* the parent of its place is not visible (S6, S19) */
        PLACE_NEEDS_OVERLAY,   /* only an overlay can show it (reason says why) */
        PLACE_BACKING_MISSING, /* B does not exist now */
        PLACE_LOOP,            /* the links loop (S18) */
};

struct placement {
        enum placement_kind kind;
        const char *reason; /* static text for PLACE_NEEDS_OVERLAY and PLACE_LOOP */
        int place_type;     /* probe_type of what the link covers */
        int backing_type;   /* probe_type of what it shows */
};

/* Classify one link of table. -errno only for probe failures. */
int planner_place(const struct link_table *table, const struct link *link,
                  const struct probe *probe, struct placement *ret_placement);

/* Classify exception index of link (S14): what the original object there is
 * (backing_type) and what the link's backing view has at that name (place_type).
 * PLACE_BIND: graft the original right there; PLACE_GRAFT: on an entry the overlay
 * of its parent makes up; PLACE_BACKING_MISSING: the original is gone (hide the
 * name); PLACE_PARENT_MISSING: the backing view lacks the exception's parent. */
int planner_place_exception(const struct link_table *table, const struct link *link,
                            uint32_t index, const struct probe *probe,
                            struct placement *ret_placement);

/* Links whose view depends on the given ones (closure): links below their virtual
 * paths and links whose backing path is on the same line. The given links come
 * first. *ret_links is malloc'd. */
int planner_affected(const struct link_table *table, struct link *const *roots,
                     size_t root_count, struct link ***ret_links, size_t *ret_count);

/* Order links so that each comes after every link of the set it depends on
 * (ancestors of its virtual path, links its backing path goes through); ties by
 * depth, then creation order. -ELOOP on a dependency cycle. In place. */
int planner_order(struct link **links, size_t count);

/* True when b depends on a (a must be shown first): b's virtual path is below a's,
 * or b's backing path is on a's line. */
bool planner_depends(const struct link *b, const struct link *a);

/* The order of planner_order for any element: what each is at (path), its tie-break
 * among elements of one depth (key), and whether b must come after a (depends). */
struct order_rules {
        const char *(*path)(const void *elem);
        uint64_t (*key)(const void *elem);
        bool (*depends)(const void *b, const void *a);
};
int order_by_dependency(void **elems, size_t count, const struct order_rules *rules);

/* The order removals go in, the reverse of those ties: deepest first; of one depth,
 * the greatest key (the last made) first, so nested links go before those they are
 * nested in and an overlay's owner after the links grafted on it. Only rules->path
 * and rules->key are used. In place. */
void order_deepest_first(void **elems, size_t count, const struct order_rules *rules);

/* order_deepest_first for links (key: creation order). */
void planner_order_for_removal(struct link **links, size_t count);

#endif
