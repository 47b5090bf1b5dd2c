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
#include <sys/stat.h>

/* Attach tree (a detached mount: open_tree(OPEN_TREE_CLONE)) on virtual_path in the
 * mount namespace nsfd, below root ("" or NULL: the namespace's own). The object at
 * virtual_path must exist and be a directory when dir, else a regular file. A shared
 * mount it would be attached below is made a slave first, so nothing propagates out
 * of the namespace. by_propagation: the tree reaches the target by propagation from a
 * staging namespace of bindlinkd's user namespace, onto an anchor (a bind of V on
 * itself), so that the kernel locks its flags when the target belongs to another user
 * namespace (a read-only link stays read-only against the container's root). 0 and
 * the new mount's unique id (and the anchor's, or 0), or -errno with why. With expect,
 * virtual_path must still be that object (its device and inode): -ESTALE otherwise.
 * -EOPNOTSUPP with *ret_needs_overlay when V is missing (its parent there) or of
 * another type: an overlay of its parent must make V's entry (scope_attach_graft).
 * movers (not by_propagation): links made below V before, moved onto the tree once it
 * is attached; each must have a place of its type in the tree, checked before. */
/* A mount of a link made below V before it (S16): moved onto the same place in the
 * new link's tree (relative to V), checked to be mount_id first. */
struct scope_mover {
        const char *relative;
        uint64_t mount_id;  /* its top mount there */
        uint64_t anchor_id; /* by propagation, the anchor under it (moved beneath it), or 0 */
};
#define SCOPE_MAX_MOVERS 64

int scope_attach(int nsfd, const char *root, const char *virtual_path, int tree, bool dir,
                 bool by_propagation, const struct stat *expect, const struct scope_mover *movers,
                 size_t mover_count, uint64_t *ret_mount_id, uint64_t *ret_anchor_id,
                 bool *ret_needs_overlay, char *why, size_t why_size);

/* Detach the mount mount_id from virtual_path in nsfd (below root). -ESTALE when
 * virtual_path shows no such mount any more (gone already, or covered). The anchor
 * anchor_id (0: none) under it goes too, and the overlay parent_id (0: none) on its
 * parent. */
int scope_detach(int nsfd, const char *root, const char *virtual_path, uint64_t mount_id,
                 uint64_t anchor_id, uint64_t parent_id, char *why, size_t why_size);

/* A link that needs an overlay of its parent (anchorless, or a file over a directory
 * or the reverse: S8, S9). First V's parent in the target (the descriptor, or -errno
 * with why) and what V is there (S_IFDIR, S_IFREG for any other object, 0 for none);
 * the parent may not be the namespace's own root (a root given may be the parent). */
int scope_open_parent(int nsfd, const char *root, const char *virtual_path, mode_t *ret_type,
                      char *why, size_t why_size);
/* Then the overlay (detached, made over that parent, *expect) attached on it, the
 * target's mounts that were below the parent (but at or below V) put back on top of
 * it, and tree attached on V's entry in it. 0 with the ids of the link's mount and of
 * the overlay's, or -errno with why (nothing left attached). by_propagation: as for
 * scope_attach, onto an anchor on the parent (its id in *ret_anchor_id). movers (not
 * by_propagation): links made in the parent before, relative to it, moved onto the
 * overlay as for scope_attach. */
int scope_attach_graft(int nsfd, const char *root, const char *virtual_path, int overlay, int tree,
                       const struct stat *expect, bool by_propagation,
                       const struct scope_mover *movers, size_t mover_count, uint64_t *ret_mount_id,
                       uint64_t *ret_parent_id, uint64_t *ret_anchor_id, char *why,
                       size_t why_size);

/* V's directory in the target (O_PATH, not followed, resolved in its root), for a view
 * that shows it, once each exception (a path of the target) is seen to exist there:
 * the descriptor, or -errno with why (and *ret_index the exception it is about, or
 * -1). */
int scope_open_place(int nsfd, const char *root, const char *virtual_path, char *const *exceptions,
                     size_t exception_count, int *ret_index, char *why, size_t why_size);

#endif
