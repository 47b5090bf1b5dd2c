/* as_caller.h — looking up a link's paths with its creator's rights (creds.h), and
 * places without following symbolic links.
 *
 * bindlinkd mounts as root, but a link must never show its creator more than the
 * creator could reach: B and each exception are resolved, when the link is made and
 * every time it is shown again later, as the creator would resolve them (their
 * filesystem uid and gid, groups and DAC capabilities, on this thread only), and the
 * creator must be able to search them (directories) or read them (anything else). The
 * daemon then mounts what it found by descriptor, with its own rights.
 *
 * A place (V, an exception's place in the view, the directory an overlay covers) is
 * reached with no symbolic link on the way: S3 resolved its ancestors when the link
 * was made, so a symlink there now was put there since — by whoever may write an
 * ancestor — and following it would mount somewhere else. */
#ifndef BINDLINKD_AS_CALLER_H
#define BINDLINKD_AS_CALLER_H

#include <stdbool.h>

#include "creds.h"

/* Open path (absolute, or relative to dir_fd) as creds would, O_PATH, following
 * symbolic links (nofollow: all but the last), and check that creds may search it (a
 * directory) or read it (anything else). The descriptor, or -errno: -EACCES where
 * creds may not, -ENOENT where it does not exist for them. */
int as_caller_open(const struct creds *creds, int dir_fd, const char *path, bool nofollow);

/* Does creds have the access a link needs to the object open as fd (search for a
 * directory, read for anything else)? 0, -EACCES, or -errno. */
int as_caller_check(const struct creds *creds, int fd);

/* Open place, O_PATH: the object at place itself (a symlink there is not followed),
 * refusing (-ELOOP) any symbolic link on the way to it, as creds (NULL: the daemon).
 * With beneath, place is relative to dir_fd and must stay below it. */
int place_open(const struct creds *creds, int dir_fd, const char *place, bool beneath);

/* Run as creds for path lookups on this thread: enter returns 0 or -errno (nothing
 * changed); leave restores the daemon's own identity (it aborts if it cannot: the
 * daemon must never go on with another's rights). Nothing to do for NULL or
 * privileged creds. Between the two, only lookups and access checks. */
struct as_caller_saved;
int as_caller_enter(const struct creds *creds, struct as_caller_saved **ret_saved);
void as_caller_leave(struct as_caller_saved *saved);

#endif
