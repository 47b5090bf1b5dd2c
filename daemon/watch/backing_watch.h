/* backing_watch.h — notices when a backing path, or a directory or symlink on the way
 * to it, is deleted, renamed away or made again (S10), by watching every directory on
 * its path with inotify. */
#ifndef BINDLINKD_BACKING_WATCH_H
#define BINDLINKD_BACKING_WATCH_H

#include <stddef.h>

struct backing_watch {
        int fd; /* inotify, non-blocking; -1 if unavailable */
        struct watched_dir {
                int wd;
                char *dir;
        } *dirs;
        size_t count;
};

int backing_watch_init(struct backing_watch *watch);
void backing_watch_done(struct backing_watch *watch);
/* Watch the directories on the way to backing_path (once per directory). 0 or -errno
 * (its parent could not be watched). */
int backing_watch_add(struct backing_watch *watch, const char *backing_path);
/* Read what is pending; changed(ctx, path) for each name created, deleted or moved in
 * a watched directory. */
void backing_watch_read(struct backing_watch *watch,
                        void (*changed)(void *ctx, const char *path), void *ctx);

#endif
