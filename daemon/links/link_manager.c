/* link_manager.c — create, remove and re-adopt links (see link_manager.h).
 *
 * Every change follows one pipeline: find the links whose view depends on the
 * change (planner_affected), classify each in the new table (planner_place), refuse
 * before touching anything if a link that is shown now could no longer be shown,
 * then detach the affected mounts deepest first and mount them again in dependency
 * order. Nothing is ever left buried under a new mount, so every mount we own is
 * the top mount at its virtual path and can be checked by its id. */
#include "link_manager.h"

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

__attribute__((format(printf, 5, 6))) static void
set_outcome(struct outcome *ret, int status, bindlink_fault fault, const char *path,
            const char *fmt, ...)
{
        ret->status = status > 0 ? -status : status;
        ret->fault = fault;
        ret->exception_index = 0;
        (void)snprintf(ret->path, sizeof ret->path, "%s", path ? path : "");
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(ret->message, sizeof ret->message, fmt, ap);
        va_end(ap);
}

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
                const struct path_index_entry *e = path_index_get(&m->table.virtual_paths, path, len);
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
                size_t skip = strcmp(under->dir, path) == 0     ? strlen(path)
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

static const char *placement_words(const struct placement *p)
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

/* ---- the plan: affected links and overlays, in dependency order -------------------- */

static int links_below(struct link_manager *m, const char *dir, struct link ***ret,
                       size_t *ret_count);
static void process_requeued(struct link_manager *m);

static int push(struct link ***list, size_t *count, struct link *l)
{
        struct link **grown = realloc(*list, (*count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        *list = grown;
        (*list)[(*count)++] = l;
        return 0;
}

static bool contains(struct link *const *list, size_t count, const struct link *l)
{
        for (size_t i = 0; i < count; i++)
                if (list[i] == l)
                        return true;
        return false;
}

/* The plan (daemon/plan/plan.h) for showing roots again, with the overlays that run
 * now and the manager's probe. */
static int plan_for(struct link_manager *m, struct link *const *roots, size_t root_count,
                    struct plan *ret)
{
        size_t n = m->overlays.serving_count;
        _cleanup_free_ struct plan_running *running = calloc(n + 1, sizeof *running);
        if (!running)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct overlay_instance *o = m->overlays.serving[i];
                running[i] = (struct plan_running){.dir = o->dir, .merged = o->merged,
                                                   .updatable = o->control_fd >= 0,
                                                   .instance = o};
        }
        struct probe probe = {.type_of = probe_type_of, .ctx = m};
        struct plan_input in = {.table = &m->table, .probe = &probe, .running = running,
                                .running_count = n};
        return plan_make(&in, roots, root_count, ret);
}

/* ---- teardown and realization --------------------------------------------------- */

static void teardown(struct link_manager *m, struct plan_item *items, size_t count)
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
                        log_error("cannot detach link %s: %s", l->virtual_path, strerror(-r));
                l->realization = BINDLINK_REALIZED_NONE;
                l->mount_id = 0;
        }
}

/* Is some link's virtual path strictly below dir (mounted on the overlay there)? */
static bool carries_links(const struct link_manager *m, const char *dir)
{
        return path_index_get(&m->table.virtual_ancestors, dir, strlen(dir)) != NULL;
}

/* An overlay whose server did not take a change in place (stopped, or gone): take it
 * down now, and show what it carried again once the current change is done
 * (link_manager_requeue_dirs). */
static void overlay_fall_back(struct link_manager *m, struct overlay_instance *o, int error)
{
        log_error("the overlay on %s did not change its entries (%s); taking it down to "
                  "show its links again", o->dir, strerror(-error));
        char *dir = strdup(o->dir);
        overlay_registry_stop(&m->overlays, o);
        if (!dir || push((struct link ***)&m->requeued, &m->requeued_count,
                         (struct link *)dir) < 0) {
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
                            "someone else's mount", c->o->dir);
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
static void note_backing(struct link *l)
{
        struct stat st;
        _cleanup_close_ int fd = as_caller_open(&l->creator, AT_FDCWD, l->backing_path, false);
        bool known = fd >= 0 && fstat(fd, &st) == 0;
        l->backing_dev = known ? st.st_dev : 0;
        l->backing_ino = known ? st.st_ino : 0;
}

/* Show an overlay item of the plan: change the running one's entries in place, or
 * start one (and put back what sits beside it). 0, or -errno with *ret_path. */
static int realize_overlay(struct link_manager *m, const struct plan *plan,
                           struct plan_item *item, const char **ret_path)
{
        char **names, *kinds;
        size_t n;
        if (item->update_in_place) {
                /* The overlay stays: only its entries change (S8, nothing else moves). */
                struct overlay_instance *o = item->overlay;
                int r = plan_entries_updated(plan, item->path, o->names, o->kinds, o->count,
                                             &names, &kinds, &n);
                if (r >= 0 && n == 0 && !carries_links(m, item->path) &&
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
                        overlay_fall_back(m, o, r);
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
                 * the way to its exceptions (S14). */
                bool shadow = !(l->flags & CREATE_BIND_LINK_FLAG_MERGED);
                int r = overlay_start_merged(m->journal.path, &l->creator, l->virtual_path,
                                             l->backing_path,
                                             l->flags & CREATE_BIND_LINK_FLAG_READ_ONLY,
                                             l->exception_paths,
                                             shadow ? l->exception_count : 0, &o,
                                             &about);
                if (r >= 0 && (r = overlay_registry_add(&m->overlays, o)) < 0)
                        overlay_free(o); /* not reached: add only fails on ENOMEM */
                if (r < 0) {
                        *ret_path = about;
                        return r;
                }
                l->realization = BINDLINK_REALIZED_OVERLAY;
                l->mount_id = o->mount_id;
                l->covered_type = p->place_type;
                note_backing(l);
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
                        note_backing(l);
                }
                return 0;
        }
        uint64_t mount_id;
        int r = mount_bind_link(&l->creator, l->virtual_path, l->backing_path,
                                l->flags & CREATE_BIND_LINK_FLAG_READ_ONLY, &mount_id,
                                ret_path);
        if (r < 0)
                return r;
        l->realization = p->kind == PLACE_GRAFT ? BINDLINK_REALIZED_OVERLAY
                                                : BINDLINK_REALIZED_BIND;
        l->mount_id = mount_id;
        l->covered_type = p->place_type;
        note_backing(l);
        return 0;
}

/* Show item i of the plan: 0, or -errno with *ret_path. */
static int realize_item(struct link_manager *m, struct plan *plan, size_t i,
                        const char **ret_path)
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
                return mount_graft_covered(&item->link->creator, owner,
                                           item->path + strlen(owner), item->path, &ignored,
                                           ret_path);
        }
        case PLAN_LINK:
                break;
        }
        return realize_link(m, item->link, p, ret_path);
}

/* Show the plan's items in order. Returns the index of the first that failed (count
 * if none), with *ret_error and *ret_path. With keep_going (nobody to refuse: a
 * re-plan), an item that fails is logged and left unshown, and the rest are shown. */
static size_t realize(struct link_manager *m, struct plan *plan, bool keep_going,
                      int *ret_error, const char **ret_path)
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
                log_error("cannot show %s (at %s): %s", item->path, path ? path : "?",
                          strerror(-r));
                if (item->kind == PLAN_LINK) {
                        item->link->realization = BINDLINK_REALIZED_NONE;
                        item->link->mount_id = 0;
                }
        }
        return first_failed;
}

/* Record how the plan's links are shown now (not except, its created link). */
static void journal_shown(struct link_manager *m, const struct plan *plan,
                          const struct link *except)
{
        for (size_t i = 0; i < plan->show_count; i++) {
                struct link *l = plan->show[i].link;
                if (plan->show[i].kind != PLAN_LINK || l == except)
                        continue;
                int r = journal_link_shown(&m->journal, l);
                if (r < 0)
                        log_error("cannot journal link %s: %s", l->virtual_path, strerror(-r));
        }
}

/* Tear down and show again everything the roots affect; errors are logged (used
 * where there is nobody to refuse: removal, restart, a crashed overlay). */
static void rebuild(struct link_manager *m, struct link *const *roots, size_t root_count,
                    const char *why)
{
        struct plan plan;
        int r = plan_for(m, roots, root_count, &plan);
        if (r < 0) {
                log_error("cannot plan the links to show again (%s): %s", why, strerror(-r));
                return;
        }
        teardown(m, plan.hide, plan.hide_count);
        int error;
        const char *failing_path;
        (void)realize(m, &plan, true, &error, &failing_path); /* failures are logged */
        for (size_t i = 0; i < plan.show_count; i++)
                if (plan.show[i].kind == PLAN_LINK &&
                    plan.show[i].link->realization == BINDLINK_REALIZED_NONE)
                        log_info("link %s stays registered but is not shown: %s",
                                 plan.show[i].path, placement_words(&plan.show[i].placement));
        journal_shown(m, &plan, NULL);
        plan_done(&plan);
}

/* ---- create ------------------------------------------------------------------- */

/* Take a create that failed back out, and give back its order number. */
static void forget_created(struct link_manager *m, struct link *created)
{
        if (created->order + 1 == m->table.next_order)
                m->table.next_order = created->order;
        link_free(link_table_take(&m->table, created->virtual_path));
}

static bool same_object(int fd, int other_fd)
{
        struct stat a, b;
        return fstat(fd, &a) == 0 && fstat(other_fd, &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

/* S3 over the wire: the library sends normalized absolute paths; the daemon takes
 * nothing else (two spellings of one place would stack mounts there). */
static bool paths_normalized(const struct wire_create *msg, struct outcome *ret)
{
        if (!path_is_normalized(msg->virtual_path)) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL, msg->virtual_path,
                            "virtual path %s is not a normalized absolute path",
                            msg->virtual_path);
                return false;
        }
        if (!path_is_normalized(msg->backing_path)) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_BACKING, msg->backing_path,
                            "backing path %s is not a normalized absolute path",
                            msg->backing_path);
                return false;
        }
        for (uint32_t i = 0; i < msg->exception_count; i++)
                if (!path_is_normalized(msg->exception_paths[i])) {
                        set_outcome(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION,
                                    msg->exception_paths[i],
                                    "exception %s is not a normalized absolute path",
                                    msg->exception_paths[i]);
                        ret->exception_index = i;
                        return false;
                }
        return true;
}

/* V's parent as the caller reaches it (searchable, no symlink on the way): the
 * descriptor, or -1 with *ret filled. */
static int open_parent_as_caller(const struct creds *as, const char *parent, struct outcome *ret)
{
        int fd = place_open(as, AT_FDCWD, parent, false);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
                (void)close(fd);
                fd = S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
        }
        int r = fd < 0 ? fd : as_caller_check(as, fd);
        if (r >= 0)
                return fd;
        if (fd >= 0)
                (void)close(fd);
        if (r == -ENOENT || r == -ENOTDIR)
                set_outcome(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "parent directory %s of the virtual path is not visible", parent);
        else if (r == -ELOOP)
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "parent directory %s of the virtual path is reached through a "
                            "symbolic link: name the virtual path by its own path", parent);
        else if (r == -EACCES)
                set_outcome(ret, -EACCES, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "the caller may not search parent directory %s", parent);
        else
                set_outcome(ret, r, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "cannot open parent directory %s: %s", parent, strerror(-r));
        return -1;
}

/* A path the caller named (B: following symlinks; an exception: but the last), as
 * the caller reaches it; it must be the object the caller's descriptor shows. The
 * descriptor, or -1 with *ret filled (ret->exception_index is the caller's). */
static int open_named_as_caller(const struct creds *as, const char *path, bool nofollow,
                                int caller_fd, bindlink_fault fault, const char *what,
                                struct outcome *ret)
{
        int fd = as_caller_open(as, AT_FDCWD, path, nofollow);
        if (fd == -ENOENT || fd == -ENOTDIR)
                set_outcome(ret, -ENOENT, fault, path, "%s %s does not exist", what, path);
        else if (fd == -EACCES)
                set_outcome(ret, -EACCES, fault, path,
                            "the caller may not %s %s %s", nofollow ? "reach" : "open", what,
                            path);
        else if (fd < 0)
                set_outcome(ret, fd, fault, path, "cannot open %s %s: %s", what, path,
                            strerror(-fd));
        else if (!same_object(caller_fd, fd))
                set_outcome(ret, -ESTALE, fault, path,
                            "%s %s changed while the request was made; try again", what, path);
        else
                return fd;
        if (fd >= 0)
                (void)close(fd);
        return -1;
}

/* The checks of S2 that need the table, the disk or the caller's rights. The daemon
 * looks every path up itself, with the caller's rights (as_caller.h), and what it
 * finds must be what the caller's descriptors show: a caller can neither name one
 * object and prove access to another, nor reach through the daemon what it could
 * not reach itself. */
static bool validate_create(struct link_manager *m, const struct create_request *req,
                            struct outcome *ret)
{
        const struct wire_create *msg = req->msg;
        const char *v = msg->virtual_path;
        const struct creds *as = req->creator;

        if (!paths_normalized(msg, ret))
                return false;
        if (strcmp(v, "/") == 0) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL, v,
                            "the root directory cannot be a virtual path");
                return false;
        }
        for (uint32_t i = 0; i < msg->exception_count; i++)
                if (!path_is_strict_descendant(v, msg->exception_paths[i])) {
                        set_outcome(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION,
                                    msg->exception_paths[i],
                                    "exception %s is not inside virtual path %s",
                                    msg->exception_paths[i], v);
                        ret->exception_index = i;
                        return false;
                }
        const struct link *existing = link_table_find(&m->table, v);
        if (existing) {
                set_outcome(ret, -EEXIST, BINDLINK_FAULT_VIRTUAL, v,
                            "%s is already the virtual path of a link (to %s)", v,
                            existing->backing_path);
                return false;
        }
        _cleanup_free_ char *parent = NULL;
        if (path_parent(v, &parent) < 0) {
                set_outcome(ret, -ENOMEM, BINDLINK_FAULT_NONE, v, "out of memory");
                return false;
        }
        if (msg->parent_error) {
                bool hidden = msg->parent_error == ENOENT || msg->parent_error == ENOTDIR;
                set_outcome(ret, hidden ? -ENOENT : -msg->parent_error,
                            BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            hidden ? "parent directory %s of the virtual path is not visible"
                                   : "the caller may not open parent directory %s: %s",
                            parent, strerror(msg->parent_error));
                return false;
        }
        _cleanup_close_ int parent_fd = open_parent_as_caller(as, parent, ret);
        if (parent_fd < 0)
                return false;
        if (!same_object(req->parent_fd, parent_fd)) {
                set_outcome(ret, -ESTALE, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "parent directory %s changed while the request was made; try "
                            "again", parent);
                return false;
        }
        if (msg->backing_error) {
                set_outcome(ret, -msg->backing_error, BINDLINK_FAULT_BACKING,
                            msg->backing_path,
                            msg->backing_error == ENOENT
                                    ? "backing path %s does not exist"
                                    : "the caller may not open backing path %s: %s",
                            msg->backing_path, strerror(msg->backing_error));
                return false;
        }
        _cleanup_close_ int backing_fd = open_named_as_caller(
                as, msg->backing_path, false, req->backing_fd, BINDLINK_FAULT_BACKING,
                "backing path", ret);
        if (backing_fd < 0)
                return false;
        struct stat st;
        bool anchorless = fstatat(parent_fd, path_last(v), &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                          errno == ENOENT;
        if (anchorless && msg->exception_count > 0) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION, v,
                            "%s does not exist, and an anchorless link cannot have exceptions",
                            v);
                return false;
        }
        for (uint32_t i = 0; i < msg->exception_count; i++) {
                int e = msg->exception_errors[i];
                if (e) {
                        set_outcome(ret, -e, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[i],
                                    e == ENOENT ? "exception %s does not exist"
                                                : "the caller may not open exception %s: %s",
                                    msg->exception_paths[i], strerror(e));
                        ret->exception_index = i;
                        return false;
                }
                int fd = open_named_as_caller(as, msg->exception_paths[i], true,
                                              req->exception_fds[i], BINDLINK_FAULT_EXCEPTION,
                                              "exception", ret);
                if (fd < 0) {
                        ret->exception_index = i;
                        return false;
                }
                (void)close(fd);
        }
        return true;
}

/* Take a create back after its plan was shown up to item done: take down what it
 * showed, forget the link, then show the others as they were, without it. Frees the
 * plan. */
static void undo_create(struct link_manager *m, struct plan *plan, size_t done,
                        struct link *created, const char *why)
{
        teardown(m, plan->show, done);
        struct link **others = NULL;
        size_t other_count = 0;
        for (size_t i = 0; i < plan->show_count; i++)
                if (plan->show[i].kind == PLAN_LINK && plan->show[i].link != created &&
                    push(&others, &other_count, plan->show[i].link) < 0)
                        log_error("out of memory: link %s is not shown again %s",
                                  plan->show[i].path, why);
        forget_created(m, created);
        plan_done(plan);
        if (other_count > 0)
                rebuild(m, others, other_count, why);
        free(others);
}

/* Why the new table cannot be shown, or true if it can. */
static bool plan_acceptable(const struct plan *plan, const struct link *created,
                            struct outcome *ret)
{
        for (size_t i = 0; i < plan->show_count; i++) {
                const struct plan_item *item = &plan->show[i];
                const struct link *l = item->link;
                const struct placement *p = &item->placement;
                if (item->kind == PLAN_OVERLAY || p->kind == PLACE_BIND ||
                    p->kind == PLACE_GRAFT || p->kind == PLACE_MERGE)
                        continue;
                if (item->kind == PLAN_EXCEPTION) {
                        if (l != created || p->kind == PLACE_BACKING_MISSING)
                                continue; /* logged when shown; an original gone is hidden */
                        set_outcome(ret, p->kind == PLACE_LOOP ? -ELOOP : -ENOTSUP,
                                    BINDLINK_FAULT_EXCEPTION, item->path,
                                    "exception %s of link %s -> %s cannot be shown: %s",
                                    item->path, created->virtual_path, created->backing_path,
                                    placement_words(p));
                        ret->exception_index = item->exception_index;
                        return false;
                }
                if (l != created && l->realization == BINDLINK_REALIZED_NONE)
                        continue; /* was not shown before either */
                if (l != created &&
                    (p->kind == PLACE_BACKING_MISSING || p->kind == PLACE_PARENT_MISSING))
                        continue; /* it waits for its place or its B, as it would anyway */
                if (p->kind == PLACE_LOOP) {
                        set_outcome(ret, -ELOOP, BINDLINK_FAULT_BACKING, created->backing_path,
                                    l == created ? "link %s -> %s would loop: %s"
                                                 : "link %s -> %s would loop through the new link: %s",
                                    l->virtual_path, l->backing_path, p->reason);
                        return false;
                }
                if (l == created && p->kind == PLACE_PARENT_MISSING) {
                        set_outcome(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL_PARENT,
                                    created->virtual_path,
                                    "the parent of %s is not visible", created->virtual_path);
                        return false;
                }
                if (l == created && p->kind == PLACE_BACKING_MISSING) {
                        set_outcome(ret, -ENOENT, BINDLINK_FAULT_BACKING, created->backing_path,
                                    "backing path %s does not exist", created->backing_path);
                        return false;
                }
                if (l == created)
                        set_outcome(ret, -ENOTSUP, BINDLINK_FAULT_VIRTUAL, l->virtual_path,
                                    "link %s -> %s needs the overlay, which this version does "
                                    "not have: %s",
                                    l->virtual_path, l->backing_path, placement_words(p));
                else
                        set_outcome(ret, -ENOTSUP, BINDLINK_FAULT_VIRTUAL,
                                    created->virtual_path,
                                    "link %s would hide nested link %s, which could then be "
                                    "shown only by the overlay this version does not have: %s",
                                    created->virtual_path, l->virtual_path, placement_words(p));
                return false;
        }
        return true;
}

void link_manager_create(struct link_manager *m, const struct create_request *req,
                         struct outcome *ret)
{
        const struct wire_create *msg = req->msg;
        set_outcome(ret, 0, BINDLINK_FAULT_NONE, NULL, "%s", "");
        if (!validate_create(m, req, ret))
                return;

        struct link *created = link_new(m->table.next_order, msg->flags, msg->virtual_path,
                                        msg->backing_path, msg->exception_count,
                                        msg->exception_paths);
        if (created) {
                creds_done(&created->creator);
                if (creds_copy(req->creator, &created->creator) < 0) {
                        link_free(created);
                        created = NULL;
                }
        }
        if (!created || link_table_add(&m->table, created) < 0) {
                link_free(created);
                set_outcome(ret, -ENOMEM, BINDLINK_FAULT_NONE, NULL, "out of memory");
                return;
        }

        struct plan plan;
        int r = plan_for(m, &created, 1, &plan);
        if (r < 0) {
                forget_created(m, created);
                set_outcome(ret, r, r == -ELOOP ? BINDLINK_FAULT_BACKING : BINDLINK_FAULT_NONE,
                            msg->backing_path,
                            r == -ELOOP ? "link %s -> %s would make links depend on each other in a loop"
                                        : "cannot plan link %s -> %s: %s",
                            msg->virtual_path, msg->backing_path, strerror(-r));
                return;
        }
        if (!plan_acceptable(&plan, created, ret)) {
                plan_done(&plan);
                forget_created(m, created);
                return;
        }

        teardown(m, plan.hide, plan.hide_count);
        int error = 0;
        const char *failing_path = NULL;
        size_t done = realize(m, &plan, false, &error, &failing_path);
        if (done < plan.show_count) {
                set_outcome(ret, error, BINDLINK_FAULT_NONE, failing_path,
                            "cannot show %s (at %s): %s", plan.show[done].path,
                            failing_path ? failing_path : "?", strerror(-error));
                undo_create(m, &plan, done, created, "after a failed create");
                return;
        }
        /* The link exists once its records are in the journal (S4): one that cannot
         * be recorded (a full disk) is taken back down, as if never made. */
        r = journal_link_added(&m->journal, created);
        if (r < 0) {
                set_outcome(ret, r, BINDLINK_FAULT_NONE, m->journal.path,
                            "cannot record link %s in the journal %s: %s; nothing was changed",
                            created->virtual_path, m->journal.path, strerror(-r));
                log_error("%s", ret->message);
                undo_create(m, &plan, plan.show_count, created,
                            "after a create that could not be journaled");
                return;
        }
        journal_shown(m, &plan, created);
        r = backing_watch_add(&m->backing, created->backing_path);
        if (r < 0)
                log_warning("cannot watch %s for deletion (S10): %s", created->backing_path,
                            strerror(-r));
        log_info("created link %s -> %s (#%llu, %s)", created->virtual_path,
                 created->backing_path, (unsigned long long)created->order,
                 bindlink_realization_name(created->realization));
        plan_done(&plan);
        process_requeued(m);
}

/* ---- remove ------------------------------------------------------------------- */

/* The removed link's parent overlay, in place: its name is no longer made up (or
 * hidden); with nothing left to make up or carry, the overlay goes. */
static void settle_after_removal(struct link_manager *m, const struct link *removed)
{
        _cleanup_free_ char *parent = NULL;
        if (path_parent(removed->virtual_path, &parent) < 0)
                return;
        struct overlay_instance *o = overlay_registry_find(&m->overlays, parent);
        if (!o)
                return;
        const char *name = path_last(removed->virtual_path);
        char **names = calloc(o->count + 1, sizeof *names);
        char *kinds = calloc(o->count + 1, sizeof *kinds);
        size_t n = 0;
        bool had = false;
        for (size_t i = 0; names && kinds && i < o->count; i++) {
                if (strcmp(o->names[i], name) == 0) {
                        had = true;
                        continue;
                }
                names[n] = o->names[i];
                kinds[n++] = o->kinds[i];
        }
        int r = names && kinds ? 0 : -ENOMEM;
        /* A socket bound through the view answers through it only: then the view stays,
         * with no entry, until the socket is gone (link_manager_tick looks). */
        if (r >= 0 && n == 0 && !carries_links(m, parent) && !overlay_serves_sockets(o) &&
            !overlay_hosts_foreign_mounts(o))
                overlay_registry_stop(&m->overlays, o);
        else if (r >= 0 && had)
                r = overlay_registry_update(&m->overlays, o, names, kinds, n);
        if (r < 0)
                overlay_fall_back(m, o, r);
        free(names);
        free(kinds);
}

/* Show again what overlays taken down during a change carried (overlay_fall_back). */
static void process_requeued(struct link_manager *m)
{
        while (m->requeued_count > 0) {
                char *dir = m->requeued[--m->requeued_count];
                struct link **links;
                size_t count;
                if (links_below(m, dir, &links, &count) >= 0) {
                        if (count > 0)
                                rebuild(m, links, count, "an overlay that did not change in place");
                        free(links);
                }
                free(dir);
        }
}

void link_manager_remove(struct link_manager *m, const char *virtual_path,
                         const struct creds *as, struct outcome *ret)
{
        set_outcome(ret, 0, BINDLINK_FAULT_NONE, NULL, "%s", "");
        if (!path_is_normalized(virtual_path)) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL, virtual_path,
                            "virtual path %s is not a normalized absolute path", virtual_path);
                return;
        }
        struct link *removed = link_table_find(&m->table, virtual_path);
        if (!removed) {
                set_outcome(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL, virtual_path,
                            "%s is not the virtual path of any link", virtual_path);
                return;
        }
        /* S20: RemoveBindLink fails when the caller may not access V (its parent may
         * be gone: S19, it is removed all the same). */
        _cleanup_free_ char *parent = NULL;
        if (!as->privileged && path_parent(virtual_path, &parent) >= 0) {
                _cleanup_close_ int fd = place_open(as, AT_FDCWD, parent, false);
                int r = fd < 0 ? fd : as_caller_check(as, fd);
                if (r == -EACCES) {
                        set_outcome(ret, -EACCES, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                                    "the caller may not search parent directory %s", parent);
                        return;
                }
        }
        struct plan plan;
        int r = plan_for(m, &removed, 1, &plan);
        if (r < 0) {
                set_outcome(ret, r, BINDLINK_FAULT_NONE, virtual_path, "cannot plan: %s",
                            strerror(-r));
                return;
        }
        /* Recorded first: a removal that cannot be journaled (a full disk) changes
         * nothing, rather than come back after a restart. */
        r = journal_link_removed(&m->journal, removed);
        if (r < 0) {
                set_outcome(ret, r, BINDLINK_FAULT_NONE, m->journal.path,
                            "cannot record the removal of %s in the journal %s: %s; the link "
                            "stays", virtual_path, m->journal.path, strerror(-r));
                log_error("%s", ret->message);
                plan_done(&plan);
                return;
        }
        teardown(m, plan.hide, plan.hide_count);
        (void)link_table_take(&m->table, virtual_path);
        journal_maybe_compact(&m->journal, &m->table);
        settle_after_removal(m, removed);

        /* S20: everything else is shown as if the link had never been made. */
        struct link **others = NULL;
        size_t other_count = 0;
        for (size_t i = 0; i < plan.hide_count; i++)
                if (plan.hide[i].kind == PLAN_LINK && plan.hide[i].link != removed)
                        (void)push(&others, &other_count, plan.hide[i].link);
        plan_done(&plan);
        if (other_count > 0)
                rebuild(m, others, other_count, "after a removal");
        free(others);
        log_info("removed link %s -> %s", removed->virtual_path, removed->backing_path);
        link_free(removed);
        process_requeued(m);
}

/* ---- overlays that end ------------------------------------------------------------ */

/* The links an overlay on dir carries: those below dir. */
static int links_below(struct link_manager *m, const char *dir, struct link ***ret,
                       size_t *ret_count)
{
        *ret = NULL;
        *ret_count = 0;
        for (size_t i = 0; i < m->table.count; i++)
                if (path_is_strict_descendant(dir, m->table.links[i]->virtual_path) &&
                    push(ret, ret_count, m->table.links[i]) < 0) {
                        free(*ret);
                        *ret = NULL;
                        *ret_count = 0;
                        return -ENOMEM;
                }
        return 0;
}

/* The links an overlay on dir carries (links_below), and with own the link at dir
 * itself: a merged view is its link's own mount, the link goes with it. */
static int links_carried(struct link_manager *m, const char *dir, bool own,
                         struct link ***ret, size_t *ret_count)
{
        int r = links_below(m, dir, ret, ret_count);
        struct link *at_dir = own && r == 0 ? link_table_find(&m->table, dir) : NULL;
        if (at_dir && (r = push(ret, ret_count, at_dir)) < 0) {
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
        struct overlay_instance *above = merged ? overlay_registry_find(&m->overlays, o->dir) : NULL;
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
                rebuild(m, links, count, "a crashed overlay");
        free(links);
        process_requeued(m);
}

/* Overlays kept with no entry and nothing on them, for sockets bound through them:
 * once no such socket has a name, they go. Looked at every ten seconds. */
static void stop_overlays_kept_for_sockets(struct link_manager *m)
{
        if (++m->ticks % 10 != 0)
                return;
        for (size_t i = 0; i < m->overlays.serving_count;) {
                struct overlay_instance *o = m->overlays.serving[i];
                if (!o->merged && o->count == 0 && !carries_links(m, o->dir) &&
                    !overlay_serves_sockets(o) && !overlay_hosts_foreign_mounts(o)) {
                        log_info("the overlay on %s is no longer needed (no socket bound "
                                 "through it, and nothing mounted on it, is left)", o->dir);
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
                        rebuild(m, links, count, "a retry");
                }
                free(links);
        }
        process_requeued(m);
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

static void backing_path_changed(void *ctx, const char *path)
{
        struct changed_links *c = ctx;
        const struct link_table *t = &c->m->table;
        if (!path_index_get(&t->backing_paths, path, strlen(path)))
                return; /* no link shows this name */
        for (size_t i = 0; i < t->count; i++)
                if (strcmp(t->links[i]->backing_path, path) == 0 &&
                    !contains(c->links, c->count, t->links[i]))
                        (void)push(&c->links, &c->count, t->links[i]);
}

int link_manager_backing_fd(const struct link_manager *m) { return m->backing.fd; }

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
                /* B's identity now against when the link was last placed (0 when B
                 * was missing): an unmount takes it away, a mount (back) at or above
                 * B's path makes it exist again, and no inotify watch says so. */
                struct stat st;
                _cleanup_close_ int fd =
                        as_caller_open(&l->creator, AT_FDCWD, l->backing_path, false);
                bool found = fd >= 0 && fstat(fd, &st) == 0;
                if (found ? st.st_dev == l->backing_dev && st.st_ino == l->backing_ino
                          : l->backing_dev == 0)
                        continue;
                if (push(&changed, &count, l) < 0)
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
                        (void)backing_watch_add(&m->backing, changed[i]->backing_path);
                rebuild(m, changed, count, "the mount table changed");
        }
        free(changed);
        process_requeued(m);
}

void link_manager_backing_changed(struct link_manager *m)
{
        struct changed_links c = {.m = m};
        backing_watch_read(&m->backing, backing_path_changed, &c);
        if (c.count > 0)
                rebuild(m, c.links, c.count, "a backing path came or went");
        free(c.links);
        process_requeued(m);
}

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
        if (links_below(lost->m, dir, &below, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (!contains(lost->links, lost->count, below[i])) {
                        below[i]->realization = BINDLINK_REALIZED_NONE;
                        below[i]->mount_id = 0;
                        (void)push(&lost->links, &lost->count, below[i]);
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
        if (carries_links(m, o->dir))
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
                                    "crash)", target);
                else if (r != -ESTALE)
                        log_warning("cannot detach the stray view on %s: %s", target,
                                    strerror(-r));
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
                log_warning("cannot rewrite the journal %s: %s; going on with it as it is "
                            "(links cannot be created or removed while nothing can be written "
                            "there)", m->journal.path, strerror(-m->journal.compact_error));
        overlay_registry_init(&m->overlays, &m->journal);
        if (backing_watch_init(&m->backing) < 0)
                log_warning("no inotify: links will not follow their backing paths (S10)");
        for (size_t i = 0; i < m->table.count; i++)
                (void)backing_watch_add(&m->backing, m->table.links[i]->backing_path);

        struct lost_links lost = {.m = m};
        overlay_registry_adopt(&m->overlays, overlay_lost, &lost);
        reconcile(m);

        /* A link whose mount is still the top mount at its place — or the mount right
         * beneath our overlay there — is adopted as is. */
        size_t adopted = 0;
        for (size_t i = 0; i < m->table.count; i++) {
                struct link *l = m->table.links[i];
                uint64_t top, beneath;
                if (contains(lost.links, lost.count, l))
                        continue;
                const struct overlay_instance *o = overlay_registry_find(&m->overlays,
                                                                         l->virtual_path);
                if (l->realization != BINDLINK_REALIZED_NONE &&
                    ((mount_id_at(l->virtual_path, &top) >= 0 && top == l->mount_id) ||
                     (o && o->lower_fd >= 0 && mount_id_of_fd(o->lower_fd, &beneath) >= 0 &&
                      beneath == l->mount_id))) {
                        note_backing(l);
                        adopted++;
                        continue;
                }
                l->realization = BINDLINK_REALIZED_NONE;
                l->mount_id = 0;
                (void)push(&lost.links, &lost.count, l);
        }
        if (lost.count > 0)
                rebuild(m, lost.links, lost.count, "at start");
        log_info("adopted %zu link(s) and %zu overlay(s) as they were, showed %zu again",
                 adopted, m->overlays.serving_count, lost.count);
        free(lost.links);
        process_requeued(m);
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
