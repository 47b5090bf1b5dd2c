/* neighbours.h — what sits beside a link in a directory its overlay covers, put back
 * as it was (S5: nothing beside a link breaks).
 *
 * A parent overlay (a FUSE view mounted on P, for an anchorless link or a hidden
 * name: S8, S10) covers all of P's subtree. Most of it passes through the view
 * unchanged, but not everything can: a Unix socket through FUSE is the view's inode,
 * not the listener's (connect gives ECONNREFUSED); a FIFO is another pipe than the
 * one its other end opened by the real path; a filesystem mounted below P is hidden
 * under the view. So, right after the view is mounted, bindlinkd grafts onto it:
 *   - each socket and FIFO directly in P, by a bind mount of the real one;
 *   - each directory directly in P whose subtree holds a socket or a FIFO (looked for
 *     up to a bound), by a bind mount of the real directory, so everything below it is
 *     native;
 *   - each filesystem mounted below P that is not bindlinkd's, by a recursive clone.
 * The grafts are submounts of the view and go with it; the originals never moved.
 * What no graft keeps: a directory grafted for its socket is a mount point in the view
 * (rename or rmdir of it through the view answers EBUSY). */
#ifndef BINDLINKD_NEIGHBOURS_H
#define BINDLINKD_NEIGHBOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What is bindlinkd's own in P, and needs no graft: mounts (by unique mount id) and
 * names directly in P that links or the view's entries take. */
struct neighbours_ours {
        bool (*is_our_mount)(void *ctx, uint64_t mount_id);
        bool (*is_our_name)(void *ctx, const char *name);
        /* Told the legacy mount id (as mountinfo numbers it) of each graft made. */
        void (*grafted)(void *ctx, uint64_t legacy_id);
        void *ctx;
};

/* Graft P's neighbours (see above) onto the view now mounted on dir, whose lower
 * directory (what dir showed before) is lower_fd. Best effort: what cannot be grafted
 * is logged and left; returns the number of grafts made. */
size_t neighbours_graft(const char *dir, int lower_fd, const struct neighbours_ours *ours);

#endif
