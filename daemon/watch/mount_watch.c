/* mount_watch.c — the mount table's changes, through libmount's monitor (see
 * mount_watch.h). */
#include "mount_watch.h"

#include <errno.h>
#include <libmount.h>

int mount_watch_init(struct mount_watch *w)
{
        w->fd = -1;
        w->monitor = mnt_new_monitor();
        if (!w->monitor)
                return -ENOMEM;
        int r = mnt_monitor_enable_kernel(w->monitor, 1);
        if (r >= 0) {
                r = mnt_monitor_get_fd(w->monitor);
                if (r >= 0)
                        w->fd = r;
        }
        if (r < 0) {
                mount_watch_done(w);
                return r;
        }
        return 0;
}

bool mount_watch_read(struct mount_watch *w)
{
        bool changed = false;
        /* 0 for each change pending, 1 once there is none left, < 0 on error. */
        while (w->monitor && mnt_monitor_next_change(w->monitor, NULL, NULL) == 0)
                changed = true;
        return changed;
}

void mount_watch_done(struct mount_watch *w)
{
        /* The descriptor is the monitor's own: unref closes it. */
        mnt_unref_monitor(w->monitor);
        w->monitor = NULL;
        w->fd = -1;
}
