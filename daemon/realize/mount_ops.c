/* mount_ops.c — bind mounts made and removed by descriptor, never by a path string
 * that could be swapped for a symlink between check and use. */
#include "mount_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "as_caller.h"
#include "util.h"

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

static int sys_mount_setattr(int dfd, const char *path, unsigned flags,
                             struct mount_attr *attr)
{
        return mount_setattr(dfd, path, flags, attr, sizeof *attr);
}

/* Prefer the 64-bit never-reused id (Linux 6.8+); fall back to the classic one. */
static int fd_mount_id(int fd, uint64_t *ret_mount_id)
{
        struct statx sx;
        /* DONT_SYNC: never ask a FUSE server, which may be dead (its mount must
         * still be recognized to be replaced). */
        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID_UNIQUE | STATX_MNT_ID,
                  &sx) < 0)
                return negative_errno();
        if (!(sx.stx_mask & (STATX_MNT_ID_UNIQUE | STATX_MNT_ID)))
                return -EOPNOTSUPP;
        *ret_mount_id = sx.stx_mnt_id;
        return 0;
}

int mount_detach_by_legacy_id(const char *path, uint64_t legacy_id, uint64_t *ret_mount_id)
{
        _cleanup_close_ int fd = place_open(NULL, AT_FDCWD, path, false);
        if (fd < 0)
                return fd;
        struct statx sx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &sx) < 0)
                return negative_errno();
        if (!(sx.stx_mask & STATX_MNT_ID) || sx.stx_mnt_id != legacy_id)
                return -ESTALE;
        uint64_t unique = 0;
        (void)fd_mount_id(fd, &unique);
        char proc_path[64];
        (void)snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
        if (umount2(proc_path, MNT_DETACH) < 0)
                return negative_errno();
        if (ret_mount_id)
                *ret_mount_id = unique;
        return 0;
}

int mount_legacy_id_of_fd(int fd, uint64_t *ret_mount_id)
{
        struct statx sx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &sx) < 0)
                return negative_errno();
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *ret_mount_id = sx.stx_mnt_id;
        return 0;
}

int mount_id_of_fd(int fd, uint64_t *ret_mount_id)
{
        return fd_mount_id(fd, ret_mount_id);
}

int mount_id_at(const char *path, uint64_t *ret_mount_id)
{
        _cleanup_close_ int fd = place_open(NULL, AT_FDCWD, path, false);
        if (fd < 0)
                return fd;
        return fd_mount_id(fd, ret_mount_id);
}

/* Attach a detached tree onto target: as a slave (a clone of a shared mount joins its
 * peer group, and a link nested on top would then propagate back into the source,
 * S17; as a slave it still receives the source's mount events, S10, and sends none
 * back), read-only if asked. On failure nothing is attached. */
static int attach_tree(int tree, const struct creds *creator, const char *target,
                       bool read_only, uint64_t *ret_mount_id)
{
        struct mount_attr attr = {.propagation = MS_SLAVE};
        if (read_only)
                attr.attr_set = MOUNT_ATTR_RDONLY;
        if (sys_mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) < 0)
                return negative_errno();
        /* The place as its creator reaches it, with no symlink on the way. */
        _cleanup_close_ int at = place_open(creator, AT_FDCWD, target, false);
        if (at < 0)
                return at;
        if (move_mount(tree, "", at, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        /* After move_mount the tree fd names the attached mount. */
        int r = fd_mount_id(tree, ret_mount_id);
        if (r < 0) {
                char proc_path[64];
                (void)snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", tree);
                (void)umount2(proc_path, MNT_DETACH);
        }
        return r;
}

int mount_bind_link(const struct creds *creator, const char *virtual_path,
                    const char *backing_path, bool read_only, uint64_t *ret_mount_id,
                    const char **ret_failing_path)
{
        *ret_failing_path = backing_path;
        /* B as its creator reaches it now (S10: by path, symlinks followed). */
        _cleanup_close_ int backing = as_caller_open(creator, AT_FDCWD, backing_path, false);
        if (backing < 0)
                return backing;
        /* AT_RECURSIVE: the link shows B as the view shows it, links below B included
         * (S18 chains). */
        _cleanup_close_ int tree = open_tree(
                backing, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0)
                return negative_errno();
        *ret_failing_path = virtual_path;
        int r = attach_tree(tree, creator, virtual_path, read_only, ret_mount_id);
        if (r >= 0)
                *ret_failing_path = NULL;
        return r;
}

int mount_detach_link(const char *virtual_path, uint64_t mount_id)
{
        _cleanup_close_ int fd = place_open(NULL, AT_FDCWD, virtual_path, false);
        if (fd < 0)
                return fd == -ENOENT || fd == -ELOOP ? -ESTALE : fd;
        uint64_t top_id;
        int r = fd_mount_id(fd, &top_id);
        if (r < 0)
                return r;
        if (top_id != mount_id)
                return -ESTALE;
        /* Unmount through the descriptor's magic link: the mount we checked is the
         * one detached, whatever happens to the path meanwhile. */
        char proc_path[64];
        (void)snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
        if (umount2(proc_path, MNT_DETACH) < 0)
                return negative_errno();
        return 0;
}

/* The directory holding what virtual_path covers: a non-recursive clone of its
 * parent's mount leaves out every mount on virtual_path (ours included), so the
 * original is reached through it at any time, also after a restart. */
static int open_covered_parent(const char *virtual_path, const char **ret_name)
{
        const char *slash = strrchr(virtual_path, '/');
        char parent[PATH_MAX];
        size_t n = slash == virtual_path ? 1 : (size_t)(slash - virtual_path);
        if (!slash || n >= sizeof parent)
                return -EINVAL;
        memcpy(parent, virtual_path, n);
        parent[n] = '\0';
        *ret_name = slash + 1;
        int fd = open_tree(AT_FDCWD, parent, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

/* open_covered_parent plus the path of rest below it, relative to that clone. */
static int open_covered(const char *virtual_path, const char *rest, char *relative,
                        size_t relative_size)
{
        const char *name;
        int parent = open_covered_parent(virtual_path, &name);
        if (parent < 0)
                return parent;
        if ((size_t)snprintf(relative, relative_size, "%s%s", name, rest) >= relative_size) {
                (void)close(parent);
                return -ENAMETOOLONG;
        }
        return parent;
}

int mount_covered_type(const char *virtual_path, const char *rest, bool follow,
                       struct stat *ret_stat)
{
        char relative[PATH_MAX];
        _cleanup_close_ int parent = open_covered(virtual_path, rest, relative, sizeof relative);
        if (parent < 0)
                return parent;
        return fstatat(parent, relative, ret_stat, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0
                       ? negative_errno()
                       : 0;
}

int mount_graft_covered(const struct creds *creator, const char *virtual_path,
                        const char *rest, const char *target, uint64_t *ret_mount_id,
                        const char **ret_failing_path)
{
        *ret_failing_path = target;
        char relative[PATH_MAX];
        _cleanup_close_ int parent = open_covered(virtual_path, rest, relative, sizeof relative);
        if (parent < 0)
                return parent;
        /* The original as the creator reaches it, below V's place and with no symlink
         * on the way (one put there since would lead out of it). */
        _cleanup_close_ int original = place_open(creator, parent, relative, true);
        if (original < 0)
                return original;
        int r = as_caller_check(creator, original);
        if (r < 0)
                return r;
        _cleanup_close_ int tree = open_tree(original, "",
                                                 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                                         AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0)
                return negative_errno();
        /* Writable as it is on disk, even inside a read-only link (S14). */
        r = attach_tree(tree, creator, target, false, ret_mount_id);
        if (r >= 0)
                *ret_failing_path = NULL;
        return r;
}
