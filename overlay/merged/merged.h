/* merged.h — the merged view of a MERGED link (S12, S13), and the shadow view of a
 * link with exceptions whose parents B lacks (S14). */
#ifndef BINDLINK_OVERLAY_MERGED_H
#define BINDLINK_OVERLAY_MERGED_H

#include "core.h"

/* ---- which layers the merged view consults (view_scope.c) ---- */
enum scope_kind {
        SCOPE_UNION, /* both layers: a MERGED link (S12) */
        SCOPE_UPPER, /* B alone */
        SCOPE_LOWER, /* the original V alone: at and below an exception (S14) */
        SCOPE_PATHS, /* B, and the original V along the paths to exceptions */
};

struct view_scope {
        enum scope_kind kind;
        char **paths; /* SCOPE_PATHS: the exceptions, relative to this directory */
        size_t count;
        /* SCOPE_PATHS: a name on no path is the union (the exceptions of a MERGED
         * link), not B's alone (the shadow view of a link that is not merged). */
        bool union_rest;
};

enum scope_pick {
        PICK_UNION, /* B's object wins; two directories merge */
        PICK_UPPER, /* B's object only */
        PICK_LOWER, /* the original V's object only */
        PICK_PATH,  /* on the way to an exception: the original V's directory, merged
                     * with B's if B has a directory there */
};

enum scope_pick scope_pick(const struct view_scope *s, const char *name);
/* The scope below name. 0 or -ENOMEM. */
int scope_child(const struct view_scope *parent, const char *name, struct view_scope *child);
/* Does a listing of a directory in scope s show the original V's entry name? */
bool scope_lists_lower_name(const struct view_scope *s, const char *name);
void scope_done(struct view_scope *s);

/* ---- the merged view of a MERGED link (merged.c): S12, S13 ---- */
struct merged;
/* A view of upper_fd (B) over lower_fd (the original V); read_only for S13. Takes
 * the descriptors. With shadow_paths (shadow_count > 0), the view of a link that is
 * not merged: B alone but for the paths to these exceptions (relative to V), which
 * show the original V (S14); with union_rest too, the merged view of a MERGED link
 * with these exceptions (the union elsewhere). NULL on ENOMEM or if they are not
 * directories. */
struct merged *merged_new(int upper_fd, int lower_fd, bool read_only, bool union_rest,
                          char *const *shadow_paths, size_t shadow_count);
void merged_free(struct merged *mg);
/* The session, for the kernel cache invalidations the view sends. */
/* ... and changes made beside the view are watched from now on (layer_watch.c). */
void merged_set_session(struct merged *mg, struct fuse_session *se);
extern const struct fuse_lowlevel_ops merged_ops;

#endif
