/* fs_kind.c — the filesystems a view treats as local (fs_kind.h). */
#include "fs_kind.h"

#include <linux/magic.h>
#include <sys/statfs.h>

bool fs_is_local(int fd)
{
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return false;
        /* POSIX locks on these are the kernel's (the views implement no lock
         * operations, so the FUSE kernel keeps them local), and inotify and fanotify
         * see every change. */
        switch ((unsigned long)sf.f_type) {
        case TMPFS_MAGIC:
        case EXT4_SUPER_MAGIC: /* also ext2 and ext3 */
        case XFS_SUPER_MAGIC:
        case BTRFS_SUPER_MAGIC:
        case F2FS_SUPER_MAGIC:
        case RAMFS_MAGIC:
                return true;
        default:
                return false;
        }
}
