/* adopt.c — the manager's start and stop: re-adopt the journal's links and
 * overlays (S4), take down what a crash left that no record owns, and show again
 * what could not be adopted. */
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
#include "util.h"

/* ---- start: re-adopt ---------------------------------------------------------------- */

struct lost_links {
        struct link_manager *m;
        struct link **links;
        size_t count;
};

static void overlay_lost(void *ctx, const char *dir)
{
        struct lost_links *lost = ctx;
        struct link **below;
        size_t n;
        if (manager_links_below(lost->m, dir, &below, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (!link_list_contains(lost->links, lost->count, below[i])) {
                        below[i]->realization = BINDLINK_REALIZED_NONE;
                        below[i]->mount_id = 0;
                        manager_push_or_say(&lost->links, &lost->count, below[i],
                                            "its overlay is gone");
                }
        free(below);
}

/* ---- start: what a crash left that no record owns -------------------------------- */

/* Is an adopted overlay owned by what the table shows? A merged view by its link (at
 * its directory, with its mount); a parent overlay by a link, or an exception of one,
 * below its directory. */
static bool overlay_owned(const struct link_manager *m, const struct overlay_instance *o)
{
        if (o->merged) {
                const struct link *l = link_table_find(&m->table, o->dir);
                return l && l->mount_id == o->mount_id;
        }
        if (manager_carries_links(m, o->dir))
                return true;
        for (size_t i = 0; i < m->table.count; i++) {
                const struct link *l = m->table.links[i];
                for (uint32_t e = 0; e < l->exception_count; e++)
                        if (path_is_strict_descendant(o->dir, l->exception_paths[e]))
                                return true;
        }
        return false;
}

/* Our FUSE mounts that no adopted overlay owns: made just before a crash, their record
 * never written (the source names this daemon: overlay_is_ours). */
static void detach_stray_views(struct link_manager *m)
{
        struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
        struct libmnt_iter *it = tb ? mnt_new_iter(MNT_ITER_BACKWARD) : NULL;
        struct libmnt_fs *fs;
        /* Newest first: a stray on top of another is detached before it. */
        while (it && mnt_table_next_fs(tb, it, &fs) == 0) {
                const char *type = mnt_fs_get_fstype(fs), *target = mnt_fs_get_target(fs);
                if (!type || strcmp(type, "fuse.bindlink") != 0 || !target ||
                    !overlay_is_ours(mnt_fs_get_source(fs), m->journal.path))
                        continue;
                bool owned = false;
                uint64_t legacy = (uint64_t)mnt_fs_get_id(fs), unique;
                for (size_t i = 0; i < m->overlays.serving_count && !owned; i++) {
                        uint64_t id;
                        owned = m->overlays.serving[i]->lower_fd >= 0 &&
                                strcmp(m->overlays.serving[i]->dir, target) == 0 &&
                                mount_id_at(target, &id) >= 0 &&
                                id == m->overlays.serving[i]->mount_id;
                }
                if (owned)
                        continue;
                int r = mount_detach_by_legacy_id(target, legacy, &unique);
                if (r == 0)
                        log_warning("detached a view on %s that no record owns (left by a "
                                    "crash)",
                                    target);
                else if (r != -ESTALE)
                        log_warning_errno(r, "cannot detach the stray view on %s", target);
        }
        mnt_free_iter(it);
        mnt_unref_table(tb);
}

/* Reconcile what a crash may have left with the journal: links removed whose mount was
 * not yet taken down, views of ours no record owns, adopted overlays nothing owns
 * (a crash after the overlay's record, before its link's). Every mount and overlay of
 * ours is then one the table shows. */
static void reconcile(struct link_manager *m)
{
        for (size_t i = 0; i < m->table.removed_count; i++) {
                const struct removed_mount *rm = &m->table.removed[i];
                bool live = false;
                for (size_t j = 0; j < m->table.count && !live; j++)
                        live = m->table.links[j]->mount_id == rm->mount_id;
                if (!live && mount_detach_link(rm->virtual_path, rm->mount_id) == 0)
                        log_warning("detached the mount of removed link %s (left by a crash)",
                                    rm->virtual_path);
        }
        link_table_forget_removed(&m->table);
        for (size_t i = 0; i < m->overlays.serving_count;) {
                struct overlay_instance *o = m->overlays.serving[i];
                if (overlay_owned(m, o)) {
                        i++;
                        continue;
                }
                log_warning("the %s on %s belongs to no link (left by a crash); taking it down",
                            o->merged ? "merged view" : "overlay", o->dir);
                overlay_registry_stop(&m->overlays, o); /* takes it out of serving */
        }
        detach_stray_views(m);
}

int link_manager_start(struct link_manager *m, const char *state_dir)
{
        link_table_init(&m->table);
        m->restarts = (struct restart_guard){0};
        m->requeued = NULL;
        m->requeued_count = 0;
        int r = journal_open(&m->journal, state_dir, &m->table);
        if (r == -EBADMSG)
                log_warning("journal in %s had malformed records; they were skipped", state_dir);
        else if (r < 0)
                return r;
        if (m->journal.compact_error)
                log_warning_errno(m->journal.compact_error,
                                  "going on with the journal %s as it is (links cannot be "
                                  "created or removed while nothing can be written there): it "
                                  "cannot be rewritten",
                                  m->journal.path);
        overlay_registry_init(&m->overlays, &m->journal);
        if (backing_watch_init(&m->backing) < 0)
                log_warning("no inotify: links will not follow their backing paths (S10)");
        /* A symlink on the way to a B re-pointed while no daemon ran: shown again
         * below, where the name leads now. */
        struct link **repointed = NULL;
        size_t repointed_count = 0;
        for (size_t i = 0; i < m->table.count; i++)
                if (manager_backing_repoint(m, m->table.links[i]))
                        manager_push_or_say(&repointed, &repointed_count, m->table.links[i],
                                            "its backing path was re-pointed");
        for (size_t i = 0; i < m->table.count; i++)
                manager_watch_backing(m, m->table.links[i]);

        struct lost_links lost = {.m = m, .links = repointed, .count = repointed_count};
        overlay_registry_adopt(&m->overlays, overlay_lost, &lost);
        reconcile(m);

        /* A link whose mount is still the top mount at its place — or the mount right
         * beneath our overlay there — is adopted as is. */
        size_t adopted = 0;
        for (size_t i = 0; i < m->table.count; i++) {
                struct link *l = m->table.links[i];
                uint64_t top, beneath;
                if (link_list_contains(lost.links, lost.count, l))
                        continue;
                const struct overlay_instance *o =
                        overlay_registry_find(&m->overlays, l->virtual_path);
                if (l->realization != BINDLINK_REALIZED_NONE &&
                    ((mount_id_at(l->virtual_path, &top) >= 0 && top == l->mount_id) ||
                     (o && o->lower_fd >= 0 && mount_id_of_fd(o->lower_fd, &beneath) >= 0 &&
                      beneath == l->mount_id))) {
                        manager_note_backing(l);
                        adopted++;
                        continue;
                }
                l->realization = BINDLINK_REALIZED_NONE;
                l->mount_id = 0;
                manager_push_or_say(&lost.links, &lost.count, l, "at start");
        }
        if (lost.count > 0)
                manager_rebuild(m, lost.links, lost.count, "at start");
        log_info("adopted %zu link(s) and %zu overlay(s) as they were, showed %zu again", adopted,
                 m->overlays.serving_count, lost.count);
        free(lost.links);
        manager_process_requeued(m);
        return 0;
}

void link_manager_stop(struct link_manager *m)
{
        for (size_t i = 0; i < m->requeued_count; i++)
                free(m->requeued[i]);
        free(m->requeued);
        m->requeued = NULL;
        m->requeued_count = 0;
        backing_watch_done(&m->backing);
        restart_guard_done(&m->restarts);
        overlay_registry_done(&m->overlays);
        journal_close(&m->journal);
        link_table_done(&m->table);
}
