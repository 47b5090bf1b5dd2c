/* supervise.c — what the manager does when the world changes under its links: an
 * overlay's server ends (replaced, or given up on when it keeps ending: S4), a
 * backing path is deleted, renamed away or made again, or a filesystem is unmounted
 * or mounted back (S10). */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "as_caller.h"
#include <libmount.h>
#include "log.h"
#include "mount_ops.h"
#include "neighbours.h"
#include "overlay_registry.h"
#include "path.h"
#include "plan.h"
#include "planner.h"
#include "symlink_walk.h"
#include "util.h"

/* ---- overlays that end ------------------------------------------------------------ */

/* The links an overlay on dir carries: those below dir. */
int manager_links_below(struct link_manager *m, const char *dir, struct link ***ret,
                        size_t *ret_count)
{
        *ret = NULL;
        *ret_count = 0;
        for (size_t i = 0; i < m->table.count; i++)
                if (path_is_strict_descendant(dir, m->table.links[i]->virtual_path) &&
                    link_list_push(ret, ret_count, m->table.links[i]) < 0) {
                        free(*ret);
                        *ret = NULL;
                        *ret_count = 0;
                        return -ENOMEM;
                }
        return 0;
}

/* The links an overlay on dir carries (links_below), and with own the link at dir
 * itself: a merged view is its link's own mount, the link goes with it. */
static int links_carried(struct link_manager *m, const char *dir, bool own, struct link ***ret,
                         size_t *ret_count)
{
        int r = manager_links_below(m, dir, ret, ret_count);
        struct link *at_dir = own && r == 0 ? link_table_find(&m->table, dir) : NULL;
        if (at_dir && (r = link_list_push(ret, ret_count, at_dir)) < 0) {
                free(*ret);
                *ret = NULL;
                *ret_count = 0;
        }
        return r;
}

void link_manager_process_ended(struct link_manager *m, int pidfd)
{
        struct overlay_instance *o = overlay_registry_ended(&m->overlays, pidfd);
        if (!o)
                return;
        /* A serving overlay died: its mount would answer "Transport endpoint is not
         * connected". Take it down and show its links again on a new one, unless
         * its servers keep ending as soon as they start (restart_guard.h). */
        uint64_t now = overlay_clock_ms();
        uint64_t lived = o->spawned_ms ? now - o->spawned_ms : UINT64_MAX;
        unsigned quick_ends;
        bool replace = restart_guard_should_replace(&m->restarts, o->dir, lived, now, &quick_ends);
        const char *what = o->merged ? "merged view" : "overlay";
        if (replace)
                log_error("the %s on %s ended unexpectedly; replacing it", what, o->dir);
        else
                log_error("the %s on %s ended %u times in a row within %d ms of starting; not "
                          "starting it again for now (the messages of its server are above): "
                          "its links stay unrealized until it is tried again later, they are "
                          "created again or bindlinkd restarts",
                          what, o->dir, quick_ends, RESTART_GUARD_QUICK_MS);
        _cleanup_free_ char *dir = strdup(o->dir);
        bool merged = o->merged;
        /* A parent overlay on the view (same directory, carrying links made inside
         * it) shows the dead view and covers it: it goes first, so the view's mount
         * is on top to be detached; its links are below dir, shown again with the
         * rest. */
        struct overlay_instance *above =
                merged ? overlay_registry_find(&m->overlays, o->dir) : NULL;
        if (above)
                overlay_registry_stop(&m->overlays, above);
        overlay_registry_stop(&m->overlays, o);
        struct link **links;
        size_t count;
        if (!dir || links_carried(m, dir, merged, &links, &count) < 0) {
                log_error("out of memory replacing an overlay");
                return;
        }
        for (size_t i = 0; i < count; i++) {
                links[i]->realization = BINDLINK_REALIZED_NONE; /* went with the overlay */
                links[i]->mount_id = 0;
        }
        if (count > 0 && replace)
                manager_rebuild(m, links, count, "a crashed overlay");
        free(links);
        manager_process_requeued(m);
}

/* Overlays kept with no entry and nothing on them, for sockets bound through them:
 * once no such socket has a name, they go. Looked at every ten seconds. */
static void stop_overlays_kept_for_sockets(struct link_manager *m)
{
        if (++m->ticks % 10 != 0)
                return;
        for (size_t i = 0; i < m->overlays.serving_count;) {
                struct overlay_instance *o = m->overlays.serving[i];
                if (!o->merged && o->count == 0 && !manager_carries_links(m, o->dir) &&
                    !overlay_serves_sockets(o) && !overlay_hosts_foreign_mounts(o)) {
                        log_info("the overlay on %s is no longer needed (no socket bound "
                                 "through it, and nothing mounted on it, is left)",
                                 o->dir);
                        overlay_registry_stop(&m->overlays, o); /* takes it out of serving */
                        continue;
                }
                i++;
        }
}

void link_manager_tick(struct link_manager *m)
{
        stop_overlays_kept_for_sockets(m);
        /* A journal that lagged behind (a full disk) is rewritten once there is room. */
        if (m->journal.stale || m->journal.broken) {
                int r = journal_catch_up(&m->journal, &m->table);
                if (r == 0)
                        log_info("the journal %s is up to date again", m->journal.path);
        }
        const char *dir;
        while ((dir = restart_guard_due(&m->restarts, overlay_clock_ms()))) {
                /* What the given-up overlay carried (a merged view's own link
                 * too, if it was one). Nothing to do if none is unrealized any
                 * more (created again meanwhile). */
                struct link **links;
                size_t count;
                if (links_carried(m, dir, true, &links, &count) < 0) {
                        log_error("out of memory trying the overlay on %s again", dir);
                        return;
                }
                /* Shown again together, as after a crash: a link made below dir
                 * meanwhile (on V's own directory) goes back on top of the view. */
                bool unrealized = false;
                for (size_t i = 0; i < count; i++)
                        unrealized |= links[i]->realization == BINDLINK_REALIZED_NONE;
                if (unrealized) {
                        log_info("trying the overlay on %s again", dir);
                        manager_rebuild(m, links, count, "a retry");
                }
                free(links);
        }
        manager_process_requeued(m);
}

void link_manager_watch(struct link_manager *m, void (*watch)(void *ctx, int pidfd), void *ctx)
{
        overlay_registry_watch(&m->overlays, watch, ctx);
}

/* ---- S10: backing paths that come and go ------------------------------------------ */

struct changed_links {
        struct link_manager *m;
        struct link **links;
        size_t count;
};

/* Does l's backing path name what it named when the link was last placed (nothing,
 * when B was missing then)? Looked up as the link's creator. */
static bool backing_unchanged(const struct link *l)
{
        struct stat st;
        _cleanup_close_ int fd = as_caller_open(&l->creator, AT_FDCWD, l->backing_path, false);
        bool found = fd >= 0 && fstat(fd, &st) == 0;
        return found ? st.st_dev == l->backing_dev && st.st_ino == l->backing_ino
                     : l->backing_dev == 0;
}

/* Does backing path b name path or something below it? */
static bool goes_through(const char *b, const char *path, size_t len)
{
        return strncmp(b, path, len) == 0 && (b[len] == '\0' || b[len] == '/');
}

void manager_watch_backing(struct link_manager *m, const struct link *l)
{
        int r = backing_watch_add(&m->backing, l->backing_path);
        if (r < 0)
                log_warning_errno(r, "cannot watch %s for deletion (S10)", l->backing_path);
        if (!l->backing_named)
                return;
        /* The directories holding each symlink on the way: re-pointing one is an
         * event there. Failures are the same ones as above, on other directories:
         * the path as resolved is watched either way. */
        (void)backing_watch_add(&m->backing, l->backing_named);
        for (size_t i = 0; i < l->backing_symlink_count; i++)
                (void)backing_watch_add(&m->backing, l->backing_symlinks[i]);
}

/* Walk l's name once and point l where it leads (see manager_backing_repoint); the
 * watches follow the symlinks met. *ret_changed is set when l's B changed. 0, or
 * -errno if l could not be changed (logged). */
static int repoint_once(struct link_manager *m, struct link *l, bool *ret_changed)
{
        struct symlink_walk walk;
        int r = symlink_walk(&l->creator, l->backing_named, &walk);
        /* A name that leads nowhere now (a symlink on the way deleted or dangling,
         * a directory the creator may not search) is kept as it is: looked up as
         * the creator it is missing too, so V answers ENOENT until it leads
         * somewhere again (S10). */
        const char *now = r >= 0 ? walk.resolved : l->backing_named;
        bool changed = strcmp(now, l->backing_path) != 0;
        _cleanup_free_ char *was = changed ? strdup(l->backing_path) : NULL;
        if (changed) {
                int e = link_table_set_backing(&m->table, l, now);
                if (e < 0) {
                        log_error_errno(e, "cannot point link %s at %s", l->virtual_path, now);
                        symlink_walk_done(&walk);
                        return e;
                }
        }
        /* The symlinks met this time: the ones to watch from now on. */
        if (link_set_backing_named(l, l->backing_named, walk.symlinks, walk.count) < 0)
                log_error("out of memory: the symbolic links on the way to %s are not all "
                          "watched",
                          l->backing_named);
        walk.symlinks = NULL;
        walk.count = 0;
        symlink_walk_done(&walk);
        manager_watch_backing(m, l);
        if (!changed)
                return 0;
        *ret_changed = true;
        log_info("link %s: backing path %s now leads to %s (was %s)%s%s", l->virtual_path,
                 l->backing_named, l->backing_path, was ? was : "?", r < 0 ? ": " : "",
                 r < 0 ? strerror(-r) : "");
        int e = journal_link_repointed(&m->journal, l);
        if (e < 0)
                log_warning_errno(e, "cannot record in the journal that link %s now shows %s",
                                  l->virtual_path, l->backing_path);
        return 0;
}

bool manager_backing_repoint(struct link_manager *m, struct link *l)
{
        if (!l->backing_named)
                return false;
        /* The watches are placed after a walk (the walk says which symlinks to
         * watch): a symlink re-pointed in between would be seen by neither. So walk
         * until a walk after the watches finds the link where it is. */
        bool changed = false;
        for (int tries = 0; tries < 4; tries++) {
                bool moved = false;
                if (repoint_once(m, l, &moved) < 0)
                        break;
                changed |= moved;
                if (!moved)
                        break;
        }
        return changed;
}

/* Does l's backing path go, as named, through path (or a symlink it went through)? */
static bool named_through(const struct link *l, const char *path, size_t len)
{
        if (!l->backing_named)
                return false;
        if (goes_through(l->backing_named, path, len))
                return true;
        for (size_t i = 0; i < l->backing_symlink_count; i++)
                if (goes_through(l->backing_symlinks[i], path, len))
                        return true;
        return false;
}

static void backing_path_changed(void *ctx, const char *path)
{
        struct changed_links *c = ctx;
        const struct link_table *t = &c->m->table;
        size_t len = strlen(path), before = c->count;
        /* A symlink on the way to B as named, re-pointed: the link follows it. */
        for (size_t i = 0; i < t->count; i++)
                if (named_through(t->links[i], path, len) &&
                    !link_list_contains(c->links, c->count, t->links[i]) &&
                    manager_backing_repoint(c->m, t->links[i]))
                        manager_push_or_say(&c->links, &c->count, t->links[i],
                                            "a symbolic link on the way to its backing path "
                                            "was re-pointed");
        /* B itself, or a directory or symlink on its way — if what the path names
         * changed: an event read late (a directory on the way made before the link
         * was) or one that left B as it was must not take a link down and up again
         * under its readers. */
        for (size_t i = 0; i < t->count; i++)
                if (goes_through(t->links[i]->backing_path, path, len) &&
                    !link_list_contains(c->links, c->count, t->links[i]) &&
                    !backing_unchanged(t->links[i]))
                        manager_push_or_say(&c->links, &c->count, t->links[i],
                                            "its backing path came or went");
        if (c->count > before)
                log_info("%s came or went: %zu link(s) whose backing path goes through it "
                         "are shown again",
                         path, c->count - before);
}

int link_manager_backing_fd(const struct link_manager *m)
{
        return m->backing.fd;
}

void link_manager_mounts_changed(struct link_manager *m)
{
        /* Mounts someone made on an overlay's view: the probe must look through the
         * view there (probe_type_as_daemon), and the view must not go. */
        for (size_t i = 0; i < m->overlays.serving_count; i++)
                (void)overlay_hosts_foreign_mounts(m->overlays.serving[i]);
        struct link **changed = NULL;
        size_t count = 0;
        for (size_t i = 0; i < m->table.count; i++) {
                struct link *l = m->table.links[i];
                /* B's identity now against when the link was last placed: an unmount
                 * takes it away, a mount (back) at or above B's path makes it exist
                 * again, and no inotify watch says so. */
                if (backing_unchanged(l))
                        continue;
                if (link_list_push(&changed, &count, l) < 0)
                        break;
        }
        if (count > 0) {
                log_info("%zu link(s) show what their backing path no longer names (a "
                         "filesystem was unmounted or mounted); showing them again",
                         count);
                /* The watches on the old filesystem see nothing any more. Placed
                 * again before re-planning looks at the paths, so that a B made
                 * meanwhile is either seen by the planning or reported by the
                 * watch, never missed by both. */
                for (size_t i = 0; i < count; i++)
                        manager_watch_backing(m, changed[i]);
                manager_rebuild(m, changed, count, "the mount table changed");
        }
        free(changed);
        manager_process_requeued(m);
}

void link_manager_backing_changed(struct link_manager *m)
{
        struct changed_links c = {.m = m};
        backing_watch_read(&m->backing, backing_path_changed, &c);
        /* A directory on the way made again needs a watch of its own: placed before
         * re-planning looks at the paths, as for a mount (above). */
        for (size_t i = 0; i < c.count; i++)
                manager_watch_backing(m, c.links[i]);
        if (c.count > 0)
                manager_rebuild(m, c.links, c.count, "a backing path came or went");
        free(c.links);
        manager_process_requeued(m);
}
