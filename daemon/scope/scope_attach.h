/* scope_attach.h — S23: placing and taking away a link's mount in another mount
 * namespace. The daemon never joins a namespace itself (setns into a mount
 * namespace fails in a threaded process, and would change every later path it
 * resolves): a short-lived child joins it, resolves the virtual path inside the
 * target's root with openat2(RESOLVE_IN_ROOT), so that no symlink the container
 * controls leads out of it, and attaches a tree the daemon prepared in its own
 * namespace. */
#ifndef BINDLINKD_SCOPE_ATTACH_H
#define BINDLINKD_SCOPE_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Attach tree (a detached mount: open_tree(OPEN_TREE_CLONE)) on virtual_path in the
 * mount namespace nsfd, below root ("" or NULL: the namespace's own). The object at
 * virtual_path must exist and be a directory when dir, else a regular file. A shared
 * mount it would be attached below is made a slave first, so nothing propagates out
 * of the namespace. 0 and the new mount's unique id, or -errno with why. */
int scope_attach(int nsfd, const char *root, const char *virtual_path, int tree, bool dir,
                 uint64_t *ret_mount_id, char *why, size_t why_size);

/* Detach the mount mount_id from virtual_path in nsfd (below root). -ESTALE when
 * virtual_path shows no such mount any more (gone already, or covered). */
int scope_detach(int nsfd, const char *root, const char *virtual_path, uint64_t mount_id, char *why,
                 size_t why_size);

#endif
