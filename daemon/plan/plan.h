/* plan.h — what a change to the links needs done, decided with no system call: which
 * links it affects, how each is placed (planner.h), which overlays must be started,
 * changed in place or taken down, and in what order. The manager (daemon/links/)
 * then tears the plan's `hide` items down, deepest first, and realizes its `show`
 * items in order.
 *
 * Three kinds of item:
 *   PLAN_LINK       a link of the table, placed (bind mount, merged view, graft on an
 *                   overlay's entry, or not shown: B missing, parent missing, loop);
 *   PLAN_EXCEPTION  exception `exception_index` of `link` (S14): the original object
 *                   grafted back over the link, placed like a link;
 *   PLAN_OVERLAY    the parent overlay on directory `path` (S8, S9, S10): started,
 *                   or — when one runs there and nothing above it changes — kept with
 *                   its entries changed in place (update_in_place).
 *
 * What runs now is told by the caller (struct plan_running); the plan hands the
 * caller's `instance` pointers back in its items and never looks into them. */
#ifndef BINDLINKD_PLAN_H
#define BINDLINKD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link_table.h"
#include "planner.h"

/* An overlay that runs now. */
struct plan_running {
        const char *dir;
        bool merged;    /* a merged view: it comes and goes with its link */
        bool updatable; /* a parent overlay whose entries can change in place */
        void *instance; /* the caller's */
};

struct plan_input {
        const struct link_table *table;
        const struct probe *probe;
        const struct plan_running *running;
        size_t running_count;
};

enum plan_item_kind {
        PLAN_LINK,
        PLAN_EXCEPTION,
        PLAN_OVERLAY,
};

struct plan_item {
        enum plan_item_kind kind;
        const char *path;           /* V, the exception's path, or the overlay's directory */
        struct link *link;          /* PLAN_LINK: the link; PLAN_EXCEPTION: its owner */
        uint32_t exception_index;   /* PLAN_EXCEPTION */
        struct placement placement; /* PLAN_LINK, PLAN_EXCEPTION */
        void *overlay;              /* PLAN_OVERLAY: the running instance, or NULL */
        bool update_in_place;       /* PLAN_OVERLAY: keep it, change its entries */
};

struct plan {
        struct plan_item *show; /* in dependency order */
        size_t show_count;
        struct plan_item *hide; /* in dependency order; torn down in reverse */
        size_t hide_count;
        char **dirs; /* the overlays' directories (items point into them) */
        size_t dir_count;
};

/* The plan for showing the roots again, and every link they affect. 0, -ELOOP when
 * the links would depend on each other in a loop, -ENOMEM, or a probe's -errno. */
int plan_make(const struct plan_input *in, struct link *const *roots, size_t root_count,
              struct plan *ret);
void plan_done(struct plan *plan);

/* What the overlay on a placed item's parent makes up for it: a placeholder of B's
 * type to graft on ('d', 'f'), the name hidden because B is gone ('h': S10, V
 * answers ENOENT rather than showing what it covered), or nothing (0). */
char plan_entry_kind(const struct placement *p);

/* The entries a new overlay on dir synthesizes: the names and kinds of the plan's
 * items placed in dir (arrays malloc'd, names point into the items' paths). */
int plan_entries(const struct plan *plan, const char *dir, char ***ret_names, char **ret_kinds,
                 size_t *ret_count);

/* The entries of the overlay running on dir, which synthesizes names/kinds (count)
 * now, once the plan is shown: those, changed by the plan's items in dir. */
int plan_entries_updated(const struct plan *plan, const char *dir, char *const *names,
                         const char *kinds, size_t count, char ***ret_names, char **ret_kinds,
                         size_t *ret_count);

#endif
