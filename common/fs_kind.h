/* fs_kind.h — which filesystems a view can treat as local: the one rule shared by the
 * overlay server (what it watches, passthrough, keep_cache) and bindlinkd (what
 * `bindlinkctl list` says of a view's layers). */
#ifndef BINDLINK_FS_KIND_H
#define BINDLINK_FS_KIND_H

#include <stdbool.h>

/* Is fd (any descriptor, O_PATH too) on a filesystem whose every change is made
 * through this kernel, and whose close() does nothing a caller could see? tmpfs,
 * ramfs, ext2/3/4, xfs, btrfs, f2fs. Not network or FUSE filesystems (another
 * machine or a server changes them: fanotify cannot report it; close-to-open
 * consistency), nor any filesystem not named here; false if fstatfs fails. */
bool fs_is_local(int fd);

#endif
