/* show.c — how the manager shows links: the probe the planner asks (what exists on
 * disk, seen beneath our own mounts), the plan of a change with what runs now, and
 * its realization: tear the old down deepest first, realize each item in order
 * (bind mounts, merged views, overlays started or changed in place, exceptions
 * grafted back), and record what is shown. Nothing is ever left buried under a new
 * mount, so every mount we own is the top mount at its virtual path and can be
 * checked by its id. */
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

/* ---- the probe: what exists on disk, seen beneath our own mounts ------------- */

static int probe_type_as_daemon(const struct link_manager *m, const char *path, bool follow)
{
        /* A path where one of our mounts sits: the planner asks what it covers. */
        const struct link *mounted = link_table_find(&m->table, path);
        if (mounted && mounted->realization != BINDLINK_REALIZED_NONE)
                return mounted->covered_type;
        /* At an exception of one of our links: what the link covers there (S14). */
        for (size_t len = strlen(path); len > 1;) {
                while (len > 1 && path[len - 1] != '/')
                        len--;
                if (len > 1)
                        len--;
                const struct path_index_entry *e =
                        path_index_get(&m->table.virtual_paths, path, len);
                if (e && e->link->realization != BINDLINK_REALIZED_NONE &&
                    e->link->exception_count > 0 && link_excepts(e->link, path)) {
                        struct stat covered;
                        int r = mount_covered_type(e->link->virtual_path, path + len, follow,
                                                   &covered);
                        if (r == -ENOENT || r == -ENOTDIR || r == -EACCES || r == -ELOOP)
                                return PROBE_MISSING;
                        if (r < 0)
                                return r;
                        return S_ISDIR(covered.st_mode)   ? PROBE_DIRECTORY
                               : S_ISLNK(covered.st_mode) ? PROBE_SYMLINK
                                                          : PROBE_FILE;
                }
        }
        /* Below one of our overlays: ask the directory beneath it, never through
         * FUSE (that is what lies under made-up and hidden names, and it cannot be
         * behind the kernel's cache of the overlay). */
        const struct overlay_instance *under = NULL;
        for (size_t i = 0; i < m->overlays.serving_count; i++) {
                const struct overlay_instance *o = m->overlays.serving[i];
                /* The overlay's own directory too: a server that is stopped (not
                 * dead) must never block the daemon on a getattr. */
                if ((strcmp(o->dir, path) == 0 || path_is_strict_descendant(o->dir, path)) &&
                    (!under || strlen(o->dir) > strlen(under->dir)))
                        under = o;
        }
        /* ... but at or below a mount someone made on the view (B's filesystem mounted
         * back there, say): there the view shows what the lower directory does not. */
        for (size_t i = 0; under && i < under->foreign_count; i++)
                if (strcmp(under->foreign_targets[i], path) == 0 ||
                    path_is_strict_descendant(under->foreign_targets[i], path))
                        under = NULL;
        if (under) {
                size_t skip = strcmp(under->dir, path) == 0  ? strlen(path)
                              : strcmp(under->dir, "/") == 0 ? 1
                                                             : strlen(under->dir) + 1;
                int type = overlay_lower_type(under, path + skip, follow);
                if (type == -EACCES)
                        return PROBE_MISSING; /* for whom it is looked up */
                if (type != -EBADF)
                        return type;
        }
        struct stat st;
        if (fstatat(AT_FDCWD, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EACCES)
                        return PROBE_MISSING;
                return negative_errno();
        }
        if (S_ISDIR(st.st_mode))
                return PROBE_DIRECTORY;
        if (S_ISLNK(st.st_mode))
                return PROBE_SYMLINK;
        return PROBE_FILE;
}

/* The planner's probe (planner.h): with the rights of as, where what as may not
 * reach is missing. */
static int probe_type_of(void *ctx, const char *path, bool follow, const struct creds *as)
{
        struct as_caller_saved *saved;
        int r = as_caller_enter(as, &saved);
        if (r < 0)
                return r;
        r = probe_type_as_daemon(ctx, path, follow);
        as_caller_leave(saved);
        return r;
}

struct probe manager_probe(struct link_manager *m)
{
        return (struct probe){.type_of = probe_type_of, .ctx = m};
}

int manager_probe_type(struct link_manager *m, const char *path, bool follow,
                       const struct creds *as)
{
        return probe_type_of(m, path, follow, as);
}

const char *manager_placement_words(const struct placement *p)
{
        switch (p->kind) {
        case PLACE_PARENT_MISSING:
                return "its parent directory is not visible";
        case PLACE_BACKING_MISSING:
                return "its backing path does not exist";
        default:
                return p->reason ? p->reason : "it cannot be shown";
        }
}

/* ---- lists of links ----------------------------------------------------------------- */

void manager_push_or_say(struct link ***list, size_t *count, struct link *l, const char *why)
{
        if (link_list_push(list, count, l) < 0)
                log_error("out of memory: link %s is not shown again (%s)", l->virtual_path, why);
}

/* The plan (daemon/plan/plan.h) for showing roots again, with the overlays that run
 * now and the manager's probe. */
int manager_plan_for(struct link_manager *m, struct link *const *roots, size_t root_count,
                     struct plan *ret)
{
        size_t n = m->overlays.serving_count;
        _cleanup_free_ struct plan_running *running = calloc(n + 1, sizeof *running);
        if (!running)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct overlay_instance *o = m->overlays.serving[i];
                running[i] = (struct plan_running){.dir = o->dir,
                                                   .merged = o->merged,
                                                   .updatable = o->control_fd >= 0,
                                                   .instance = o};
        }
        struct probe probe = {.type_of = probe_type_of, .ctx = m};
        struct plan_input in = {
                .table = &m->table, .probe = &probe, .running = running, .running_count = n};
        return plan_make(&in, roots, root_count, ret);
}

/* ---- teardown and realization --------------------------------------------------- */

void manager_teardown(struct link_manager *m, struct plan_item *items, size_t count)
{
        /* Deepest first: what sits on a mount goes before the mount. */
        for (size_t i = count; i-- > 0;) {
                if (items[i].kind == PLAN_OVERLAY) {
                        if (items[i].overlay)
                                overlay_registry_stop(&m->overlays, items[i].overlay);
                        items[i].overlay = NULL;
                        continue;
                }
                struct link *l = items[i].link;
                if (items[i].kind != PLAN_LINK || l->realization == BINDLINK_REALIZED_NONE)
                        continue;
                struct overlay_instance *merged =
                        overlay_registry_find_merged(&m->overlays, l->virtual_path);
                if (merged && merged->mount_id == l->mount_id) {
                        overlay_registry_stop(&m->overlays, merged);
                        l->realization = BINDLINK_REALIZED_NONE;
                        l->mount_id = 0;
                        continue;
                }
                int r = mount_detach_link(l->virtual_path, l->mount_id);
                if (r == -ESTALE)
                        log_warning("the mount of link %s is no longer on top there; left alone",
                                    l->virtual_path);
                else if (r < 0)
                        log_error_errno(r, "cannot detach link %s", l->virtual_path);
                l->realization = BINDLINK_REALIZED_NONE;
                l->mount_id = 0;
        }
}

/* Is some link's virtual path strictly below dir (mounted on the overlay there)? */
bool manager_carries_links(const struct link_manager *m, const char *dir)
{
        return path_index_get(&m->table.virtual_ancestors, dir, strlen(dir)) != NULL;
}

/* Queue dir, whose links are to be shown again (taken on success). 0 or -ENOMEM. */
static int requeue_dir(struct link_manager *m, char *dir)
{
        char **grown = realloc(m->requeued, (m->requeued_count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        m->requeued = grown;
        m->requeued[m->requeued_count++] = dir;
        return 0;
}

/* An overlay whose server did not take a change in place (stopped, or gone): take it
 * down now, and show what it carried again once the current change is done
 * (link_manager_requeue_dirs). */
void manager_overlay_fall_back(struct link_manager *m, struct overlay_instance *o, int error)
{
        log_error_errno(error, "taking down the overlay on %s to show its links again: it "
                               "did not change its entries",
                        o->dir);
        char *dir = strdup(o->dir);
        overlay_registry_stop(&m->overlays, o);
        if (!dir || requeue_dir(m, dir) < 0) {
                free(dir);
                log_error("out of memory: the links below %s are not shown again", o->dir);
                return;
        }
        for (size_t i = 0; i < m->table.count; i++) {
                struct link *l = m->table.links[i];
                if (path_is_strict_descendant(dir, l->virtual_path)) {
                        l->realization = BINDLINK_REALIZED_NONE; /* went with the overlay */
                        l->mount_id = 0;
                }
        }
}

/* What is ours in an overlaid directory (neighbours.h): the mounts of links and
 * overlays, and the names of dir's links and entries. */
struct ours_in_dir {
        const struct link_manager *m;
        const struct overlay_instance *o;
};

static bool is_our_mount(void *ctx, uint64_t id)
{
        const struct ours_in_dir *c = ctx;
        for (size_t i = 0; i < c->m->table.count; i++)
                if (c->m->table.links[i]->realization != BINDLINK_REALIZED_NONE &&
                    c->m->table.links[i]->mount_id == id)
                        return true;
        for (size_t i = 0; i < c->m->overlays.serving_count; i++)
                if (c->m->overlays.serving[i]->mount_id == id)
                        return true;
        return false;
}

static void grafted(void *ctx, uint64_t legacy_id)
{
        struct ours_in_dir *c = ctx;
        if (overlay_add_graft((struct overlay_instance *)c->o, legacy_id) < 0)
                log_warning("out of memory: a graft on the overlay on %s is taken for "
                            "someone else's mount",
                            c->o->dir);
}

static bool is_our_name(void *ctx, const char *name)
{
        const struct ours_in_dir *c = ctx;
        for (size_t i = 0; i < c->o->count; i++)
                if (strcmp(c->o->names[i], name) == 0)
                        return true;
        _cleanup_free_ char *v = NULL;
        return path_join(c->o->dir, name, &v) >= 0 && link_table_find(&c->m->table, v);
}

/* Remember what B names now, to notice when its filesystem goes (S10). */
void manager_note_backing(struct link *l)
{
        struct stat st;
        _cleanup_close_ int fd = as_caller_open(&l->creator, AT_FDCWD, l->backing_path, false);
        bool known = fd >= 0 && fstat(fd, &st) == 0;
        l->backing_dev = known ? st.st_dev : 0;
        l->backing_ino = known ? st.st_ino : 0;
}

/* Show an overlay item of the plan: change the running one's entries in place, or
 * start one (and put back what sits beside it). 0, or -errno with *ret_path. */
static int realize_overlay(struct link_manager *m, const struct plan *plan, struct plan_item *item,
                           const char **ret_path)
{
        char **names, *kinds;
        size_t n;
        if (item->update_in_place) {
                /* The overlay stays: only its entries change (S8, nothing else moves). */
                struct overlay_instance *o = item->overlay;
                int r = plan_entries_updated(plan, item->path, o->names, o->kinds, o->count, &names,
                                             &kinds, &n);
                if (r >= 0 && n == 0 && !manager_carries_links(m, item->path) &&
                    !overlay_serves_sockets(o) && !overlay_hosts_foreign_mounts(o)) {
                        /* Nothing to make up, mounted on it, or bound through it: it
                         * goes. */
                        free(names);
                        free(kinds);
                        overlay_registry_stop(&m->overlays, o);
                        item->overlay = NULL;
                        return 0;
                }
                if (r >= 0) {
                        r = overlay_registry_update(&m->overlays, o, names, kinds, n);
                        free(names);
                        free(kinds);
                }
                if (r < 0) {
                        *ret_path = item->path;
                        manager_overlay_fall_back(m, o, r);
                        item->overlay = NULL;
                }
                return r;
        }
        struct overlay_instance *o = NULL;
        const char *about = item->path;
        int r = plan_entries(plan, item->path, &names, &kinds, &n);
        if (r >= 0) {
                r = overlay_start(m->journal.path, item->path, names, kinds, n, &o, &about);
                free(names);
                free(kinds);
        }
        if (r >= 0 && (r = overlay_registry_add(&m->overlays, o)) < 0)
                overlay_free(o); /* not reached: add only fails on ENOMEM */
        if (r < 0) {
                *ret_path = about;
                return r;
        }
        item->overlay = o;
        /* What the view cannot show as it is goes back on top of it. */
        struct ours_in_dir ours = {.m = m, .o = o};
        struct neighbours_ours callbacks = {.is_our_mount = is_our_mount,
                                            .is_our_name = is_our_name,
                                            .grafted = grafted,
                                            .ctx = &ours};
        if (neighbours_graft(o->dir, o->lower_fd, &callbacks) > 0)
                overlay_registry_journal(&m->overlays, o); /* with its grafts */
        return 0;
}

/* Show a link item of the plan as it is placed. 0, or -errno with *ret_path. */
static int realize_link(struct link_manager *m, struct link *l, const struct placement *p,
                        const char **ret_path)
{
        if (p->kind == PLACE_MERGE) {
                /* S12, S13: the merged view of B over V, mounted on V. */
                struct overlay_instance *o = NULL;
                const char *about = l->virtual_path;
                /* Or, for a link that is not merged, the shadow view that shows
                 * the way to its exceptions (S14). A merged link's view is told its
                 * exceptions too: it shows the original there, whatever type B has
                 * at that name, so the original's graft always has a place. */
                bool merged = l->flags & CREATE_BIND_LINK_FLAG_MERGED;
                int r = overlay_start_merged(
                        m->journal.path, &l->creator, l->virtual_path, l->backing_path,
                        l->flags & CREATE_BIND_LINK_FLAG_READ_ONLY, merged, l->exception_paths,
                        l->exception_count, &o, &about);
                if (r >= 0 && (r = overlay_registry_add(&m->overlays, o)) < 0)
                        overlay_free(o); /* not reached: add only fails on ENOMEM */
                if (r < 0) {
                        *ret_path = about;
                        return r;
                }
                l->realization = BINDLINK_REALIZED_OVERLAY;
                l->mount_id = o->mount_id;
                l->covered_type = p->place_type;
                manager_note_backing(l);
                return 0;
        }
        if (p->kind != PLACE_BIND && p->kind != PLACE_GRAFT) {
                l->realization = BINDLINK_REALIZED_NONE;
                l->mount_id = 0;
                if (p->kind == PLACE_BACKING_MISSING) {
                        /* It waits for B to exist (link_manager_mounts_changed). Not
                         * what B's path names by now: a filesystem mounted back
                         * since the plan looked would be taken for what is already
                         * known, and the link never shown again. */
                        l->backing_dev = 0;
                        l->backing_ino = 0;
                } else {
                        manager_note_backing(l);
                }
                return 0;
        }
        uint64_t mount_id;
        int r = mount_bind_link(&l->creator, l->virtual_path, l->backing_path,
                                l->flags & CREATE_BIND_LINK_FLAG_READ_ONLY, &mount_id, ret_path);
        if (r < 0)
                return r;
        l->realization =
                p->kind == PLACE_GRAFT ? BINDLINK_REALIZED_OVERLAY : BINDLINK_REALIZED_BIND;
        l->mount_id = mount_id;
        l->covered_type = p->place_type;
        manager_note_backing(l);
        return 0;
}

/* Show item i of the plan: 0, or -errno with *ret_path. */
static int realize_item(struct link_manager *m, struct plan *plan, size_t i, const char **ret_path)
{
        struct plan_item *item = &plan->show[i];
        const struct placement *p = &item->placement;
        switch (item->kind) {
        case PLAN_OVERLAY:
                return realize_overlay(m, plan, item, ret_path);
        case PLAN_EXCEPTION: {
                /* S14: the original object, grafted back over the link. */
                if (p->kind != PLACE_BIND && p->kind != PLACE_GRAFT)
                        return 0;
                const char *owner = item->link->virtual_path;
                uint64_t ignored;
                return mount_graft_covered(&item->link->creator, owner, item->path + strlen(owner),
                                           item->path, &ignored, ret_path);
        }
        case PLAN_LINK:
                break;
        }
        return realize_link(m, item->link, p, ret_path);
}

/* Show the plan's items in order. Returns the index of the first that failed (count
 * if none), with *ret_error and *ret_path. With keep_going (nobody to refuse: a
 * re-plan), an item that fails is logged and left unshown, and the rest are shown. */
size_t manager_realize(struct link_manager *m, struct plan *plan, bool keep_going, int *ret_error,
                       const char **ret_path)
{
        size_t first_failed = plan->show_count;
        for (size_t i = 0; i < plan->show_count; i++) {
                const char *path = NULL;
                int r = realize_item(m, plan, i, &path);
                if (r >= 0)
                        continue;
                if (first_failed == plan->show_count) {
                        first_failed = i;
                        *ret_error = r;
                        *ret_path = path;
                }
                if (!keep_going)
                        break;
                const struct plan_item *item = &plan->show[i];
                /* (An overlay changed in place that failed was logged as it was taken
                 * down: manager_overlay_fall_back.) */
                if (!(item->kind == PLAN_OVERLAY && item->update_in_place))
                        log_error_errno(r, "cannot show %s (at %s)", item->path,
                                        path ? path : "?");
                if (item->kind == PLAN_LINK) {
                        item->link->realization = BINDLINK_REALIZED_NONE;
                        item->link->mount_id = 0;
                }
        }
        return first_failed;
}

/* Record how the plan's links are shown now (not except, its created link). */
void manager_journal_shown(struct link_manager *m, const struct plan *plan,
                           const struct link *except)
{
        for (size_t i = 0; i < plan->show_count; i++) {
                struct link *l = plan->show[i].link;
                if (plan->show[i].kind != PLAN_LINK || l == except)
                        continue;
                int r = journal_link_shown(&m->journal, l);
                if (r < 0)
                        log_error_errno(r, "cannot journal link %s", l->virtual_path);
        }
}

/* Tear down and show again everything the roots affect; errors are logged (used
 * where there is nobody to refuse: removal, restart, a crashed overlay). */
void manager_rebuild(struct link_manager *m, struct link *const *roots, size_t root_count,
                     const char *why)
{
        struct plan plan;
        int r = manager_plan_for(m, roots, root_count, &plan);
        if (r < 0) {
                log_error_errno(r, "cannot plan the links to show again (%s)", why);
                return;
        }
        manager_teardown(m, plan.hide, plan.hide_count);
        int error;
        const char *failing_path;
        (void)manager_realize(m, &plan, true, &error, &failing_path); /* failures are logged */
        for (size_t i = 0; i < plan.show_count; i++)
                if (plan.show[i].kind == PLAN_LINK &&
                    plan.show[i].link->realization == BINDLINK_REALIZED_NONE)
                        log_info("link %s stays registered but is not shown: %s", plan.show[i].path,
                                 manager_placement_words(&plan.show[i].placement));
        manager_journal_shown(m, &plan, NULL);
        plan_done(&plan);
}
