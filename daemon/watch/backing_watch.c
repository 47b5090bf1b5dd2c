/* backing_watch.c — inotify on the parents of backing paths. A watch stays after its
 * links are gone (events for names no link uses are ignored): bounded by the number
 * of distinct parent directories ever linked from. */
#include "backing_watch.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "path.h"
#include "util.h"

#define NAME_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)

int backing_watch_init(struct backing_watch *w)
{
        *w = (struct backing_watch){.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)};
        return w->fd < 0 ? negative_errno() : 0;
}

void backing_watch_done(struct backing_watch *w)
{
        for (size_t i = 0; i < w->count; i++)
                free(w->dirs[i].dir);
        free(w->dirs);
        if (w->fd >= 0)
                (void)close(w->fd);
        *w = (struct backing_watch){.fd = -1};
}

int backing_watch_add(struct backing_watch *w, const char *backing_path)
{
        if (w->fd < 0 || strcmp(backing_path, "/") == 0)
                return 0;
        _cleanup_free_ char *dir = NULL;
        int r = path_parent(backing_path, &dir);
        if (r < 0)
                return r;
        int wd = inotify_add_watch(w->fd, dir, NAME_EVENTS);
        if (wd < 0)
                return negative_errno();
        /* Once per directory; a directory named again (another filesystem mounted
         * there since) gets its new descriptor. */
        for (size_t i = 0; i < w->count; i++)
                if (strcmp(w->dirs[i].dir, dir) == 0) {
                        w->dirs[i].wd = wd;
                        return 0;
                }
        struct watched_dir *grown = realloc(w->dirs, (w->count + 1) * sizeof *grown);
        if (!grown) {
                (void)inotify_rm_watch(w->fd, wd);
                return -ENOMEM;
        }
        w->dirs = grown;
        w->dirs[w->count++] = (struct watched_dir){.wd = wd, .dir = TAKE_PTR(dir)};
        return 0;
}

static struct watched_dir *find_wd(struct backing_watch *w, int wd)
{
        for (size_t i = 0; i < w->count; i++)
                if (w->dirs[i].wd == wd)
                        return &w->dirs[i];
        return NULL;
}

void backing_watch_read(struct backing_watch *w,
                        void (*changed)(void *ctx, const char *path), void *ctx)
{
        union {
                char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
                struct inotify_event align;
        } u;
        for (;;) {
                ssize_t n = read(w->fd, u.buf, sizeof u.buf);
                if (n <= 0)
                        return;
                for (char *p = u.buf; p < u.buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *)p;
                        p += sizeof *ev + ev->len;
                        struct watched_dir *d = find_wd(w, ev->wd);
                        if (!d)
                                continue;
                        if (ev->mask & IN_IGNORED) { /* the directory itself went */
                                free(d->dir);
                                *d = w->dirs[--w->count];
                                continue;
                        }
                        if (ev->len == 0)
                                continue;
                        _cleanup_free_ char *path = NULL;
                        if (path_join(d->dir, ev->name, &path) >= 0)
                                changed(ctx, path);
                }
        }
}
