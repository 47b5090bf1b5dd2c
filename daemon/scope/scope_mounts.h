/* scope_mounts.h — S23: noticing that a scoped link's mount left its namespace without
 * bindlinkd (the container unmounted it, or the namespace ended) by fanotify's mount
 * namespace marks (FAN_MARK_MNTNS, Linux 6.14), which report each mount attached to or
 * detached from a namespace by its unique id. A mark does not keep the namespace
 * alive: the namespace's end detaches its mounts and removes the mark. Where the
 * kernel has no such marks, the scopes' pidfds alone tell when a namespace ends. */
#ifndef BINDLINKD_SCOPE_MOUNTS_H
#define BINDLINKD_SCOPE_MOUNTS_H

#include <stdbool.h>
#include <stdint.h>

/* A fanotify group for mount namespace marks: its descriptor (non-blocking), or
 * -EOPNOTSUPP where the kernel has none, -EPERM where statmount(2) is refused (a
 * system call filter), or -errno. */
int scope_mounts_open(void);

/* Report the mounts detached from the namespace nsfd (mark), or stop (unmark). 0 or
 * -errno. */
int scope_mounts_mark(int fan, int nsfd, bool add);

/* Is mount_id attached in the mount namespace ns_id (statmount(2))? 1, 0, or -errno
 * (-ENOSYS where the kernel cannot say). A mount moved within its namespace (S16)
 * is reported detached and attached again: this tells the two apart. */
int scope_mounts_exists(uint64_t ns_id, uint64_t mount_id);

/* Read the pending events: detached(ctx, id) for each mount detached. Returns the
 * number of events read, or -errno; *ret_overflow when the kernel dropped some. */
int scope_mounts_read(int fan, void (*detached)(void *ctx, uint64_t mount_id), void *ctx,
                      bool *ret_overflow);

#endif
