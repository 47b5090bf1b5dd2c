/* symlink_walk.h — a backing path as its creator named it, resolved again: which
 * directory it names now, and through which symbolic links (S10 for the whole path:
 * a symlink on the way to B re-pointed re-points the link).
 *
 * The kernel resolves a path in one call but does not say which symlinks it went
 * through, and the daemon must watch each of them. So the walk is done here, one
 * component at a time, with lstat and readlink as the creator: a directory the
 * creator may not search stops it (-EACCES), as the kernel's lookup would. */
#ifndef BINDLINKD_SYMLINK_WALK_H
#define BINDLINKD_SYMLINK_WALK_H

#include <stddef.h>

#include "creds.h"

/* At most this many symlinks on one walk, as the kernel's MAXSYMLINKS. */
#define SYMLINK_WALK_MAX 40

struct symlink_walk {
        char *resolved;   /* the named path with every symlink above its last
                           * component followed; its last component is kept (S3) */
        char **symlinks;  /* each symlink met on the way, by its own (resolved) path */
        size_t count;
};

/* Walk named (absolute, folded) as creds (NULL: the daemon). 0 with *ret filled, or
 * -errno with *ret empty: -ENOENT/-ENOTDIR where a component is missing or not a
 * directory, -EACCES, -ELOOP past SYMLINK_WALK_MAX, -ENAMETOOLONG, -ENOMEM. On an
 * error, ret->symlinks still lists the symlinks met before it (they are worth
 * watching: re-pointing one may make the path whole again). */
int symlink_walk(const struct creds *creds, const char *named, struct symlink_walk *ret);
void symlink_walk_done(struct symlink_walk *walk);

#endif
