/* backing_watch.c — inotify on the directories on the way to backing paths. A watch
 * stays after its links are gone (events for names no link's path goes through are
 * ignored): bounded by the number of distinct such directories ever linked from. */
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

/* Watch the directory dir (once per directory; a directory named again — another
 * filesystem mounted there since, or made again — gets its new descriptor). Takes
 * dir. 0 or -errno. */
static int watch_dir(struct backing_watch *w, char *dir)
{
        int wd = inotify_add_watch(w->fd, dir, NAME_EVENTS);
        if (wd < 0) {
                int r = negative_errno();
                free(dir);
                return r;
        }
        for (size_t i = 0; i < w->count; i++)
                if (strcmp(w->dirs[i].dir, dir) == 0) {
                        w->dirs[i].wd = wd;
                        free(dir);
                        return 0;
                }
        struct watched_dir *grown = realloc(w->dirs, (w->count + 1) * sizeof *grown);
        if (!grown) {
                (void)inotify_rm_watch(w->fd, wd);
                free(dir);
                return -ENOMEM;
        }
        w->dirs = grown;
        w->dirs[w->count++] = (struct watched_dir){.wd = wd, .dir = dir};
        return 0;
}

int backing_watch_add(struct backing_watch *w, const char *backing_path)
{
        if (w->fd < 0 || strcmp(backing_path, "/") == 0)
                return 0;
        /* Every directory on the way to B: S10 holds for the whole path (a parent of
         * B renamed or deleted, a symlink on the way changed). The parent first: it
         * is the one whose failure is reported. A directory that does not exist (a B
         * whose path is gone) is watched again when the link is placed again. */
        _cleanup_free_ char *dir = NULL;
        int r = path_parent(backing_path, &dir);
        if (r < 0)
                return r;
        char *copy = strdup(dir);
        if (!copy)
                return -ENOMEM;
        r = watch_dir(w, copy);
        if (r < 0)
                return r;
        while (strcmp(dir, "/") != 0) {
                char *up = NULL;
                if (path_parent(dir, &up) < 0)
                        break;
                free(dir);
                dir = up;
                copy = strdup(dir);
                if (!copy || watch_dir(w, copy) < 0)
                        break; /* the nearer ones are watched */
        }
        return 0;
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
                        /* One directory may be watched under several names (a
                         * symlink on one backing path to a directory on another's):
                         * the change is under each. */
                        for (size_t i = 0; i < w->count;) {
                                struct watched_dir *d = &w->dirs[i];
                                if (d->wd != ev->wd) {
                                        i++;
                                        continue;
                                }
                                if (ev->mask & IN_IGNORED) { /* the directory itself went */
                                        free(d->dir);
                                        *d = w->dirs[--w->count];
                                        continue;
                                }
                                _cleanup_free_ char *path = NULL;
                                if (ev->len > 0 && path_join(d->dir, ev->name, &path) >= 0)
                                        changed(ctx, path);
                                i++;
                        }
                }
        }
}
