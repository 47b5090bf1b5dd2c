/* mount_watch.h — notices when the mount table of bindlinkd's mount namespace
 * changes: a backing filesystem unmounted (inotify does not say so) or mounted back
 * (S10). libmount's monitor of the kernel's table, behind one descriptor for epoll. */
#ifndef BINDLINKD_MOUNT_WATCH_H
#define BINDLINKD_MOUNT_WATCH_H

#include <stdbool.h>

struct libmnt_monitor;

struct mount_watch {
        struct libmnt_monitor *monitor;
        int fd; /* readable (EPOLLIN) when the table changed; -1 if not watched */
};

/* 0, or -errno (then fd is -1 and nothing is watched). */
int mount_watch_init(struct mount_watch *w);
/* Take what is pending: true if the table changed since the last call. */
bool mount_watch_read(struct mount_watch *w);
void mount_watch_done(struct mount_watch *w);

#endif
