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

/* The plan's stand-ins (overlays, exceptions) are not links of the table. */
static bool is_stand_in(const struct link *l) { return l->is_overlay || l->exception_owner; }

/* What the overlay on a link's parent must make up for it: a placeholder of B's type
 * to graft on ('d', 'f'), the name hidden because B is gone (S10: V answers ENOENT
 * rather than showing what it covered), or nothing (0). */
static char overlay_kind(const struct placement *p)
{
        if (p->kind == PLACE_GRAFT)
                return p->backing_type == PROBE_DIRECTORY ? 'd' : 'f';
        if (p->kind == PLACE_BACKING_MISSING && p->place_type != PROBE_MISSING)
                return 'h';
        return 0;
}

/* Affected links and the overlays they need, each list in dependency order:
 * `show` to realize (links and the overlays to start), `hide` to tear down, in
 * reverse (links and the overlays now serving that must go). */
struct plan {
        struct link **show;
        struct placement *placements; /* of show[i] (unused for overlay stand-ins) */
        size_t show_count;
        struct link **hide;
        size_t hide_count;
        struct link **stand_ins; /* owned */
        size_t stand_in_count;
};

static void plan_done(struct plan *plan)
{
        free(plan->show);
        free(plan->placements);
        free(plan->hide);
        for (size_t i = 0; i < plan->stand_in_count; i++)
                link_free(plan->stand_ins[i]);
        free(plan->stand_ins);
        *plan = (struct plan){0};
}

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

static bool has_string(char *const *list, size_t count, const char *s)
{
        for (size_t i = 0; i < count; i++)
                if (strcmp(list[i], s) == 0)
                        return true;
        return false;
}

static struct link *stand_in(struct plan *plan, const char *dir, struct overlay_instance *running)
{
        struct link *l = link_new(0, 0, dir, "", 0, NULL);
        if (!l || push(&plan->stand_ins, &plan->stand_in_count, l) < 0) {
                link_free(l);
                return NULL;
        }
        l->is_overlay = true;
        l->overlay = running;
        return l;
}

/* Stand-ins for the exceptions of the given links, placed (S14). */
struct exceptions {
        struct link **items;
        struct placement *placements;
        size_t count;
};

static void exceptions_done(struct exceptions *x)
{
        for (size_t i = 0; i < x->count; i++)
                link_free(x->items[i]);
        free(x->items);
        free(x->placements);
        *x = (struct exceptions){0};
}

static int probe_type_of(void *ctx, const char *path, bool follow, const struct creds *as);

static int exceptions_make(struct link_manager *m, struct link *const *links, size_t count,
                           struct exceptions *ret)
{
        struct exceptions x = {0};
        size_t total = 0;
        for (size_t i = 0; i < count; i++)
                total += links[i]->exception_count;
        x.items = calloc(total + 1, sizeof *x.items);
        x.placements = calloc(total + 1, sizeof *x.placements);
        int r = x.items && x.placements ? 0 : -ENOMEM;
        struct probe probe = {.type_of = probe_type_of, .ctx = m};
        for (size_t i = 0; i < count && r >= 0; i++)
                for (uint32_t e = 0; e < links[i]->exception_count && r >= 0; e++) {
                        struct link *l = link_new(0, 0, links[i]->exception_paths[e], "", 0, NULL);
                        if (!l) {
                                r = -ENOMEM;
                                break;
                        }
                        l->exception_owner = links[i];
                        l->exception_index = e;
                        x.items[x.count] = l;
                        r = planner_place_exception(&m->table, links[i], e, &probe,
                                                    &x.placements[x.count]);
                        x.count++;
                }
        if (r < 0) {
                exceptions_done(&x);
                return r;
        }
        *ret = x;
        return 0;
}

static int place_all(struct link_manager *m, struct link *const *links, size_t count,
                     struct placement *ret)
{
        struct probe probe = {.type_of = probe_type_of, .ctx = m};
        for (size_t i = 0; i < count; i++) {
                int r = planner_place(&m->table, links[i], &probe, &ret[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Directories whose overlay must be (re)made for these links: parents of grafted
 * links, overlays that host an affected link, overlays lying on an affected link. */
static int overlay_dirs(struct link_manager *m, struct link *const *links,
                        const struct placement *placements, size_t count, char ***dirs,
                        size_t *dir_count)
{
        for (size_t i = 0; i < count; i++) {
                _cleanup_free_ char *parent = NULL;
                int r = path_parent(links[i]->virtual_path, &parent);
                if (r < 0)
                        return r;
                bool hosted = overlay_registry_find(&m->overlays, parent) != NULL;
                if ((overlay_kind(&placements[i]) || hosted) &&
                    !has_string(*dirs, *dir_count, parent)) {
                        r = push((struct link ***)dirs, dir_count, (struct link *)TAKE_PTR(parent));
                        if (r < 0)
                                return r;
                }
        }
        for (size_t o = 0; o < m->overlays.serving_count; o++) {
                if (m->overlays.serving[o]->merged)
                        continue; /* a merged view comes and goes with its link */
                const char *dir = m->overlays.serving[o]->dir;
                for (size_t i = 0; i < count; i++) {
                        const char *v = links[i]->virtual_path;
                        if ((strcmp(v, dir) == 0 || path_is_strict_descendant(v, dir)) &&
                            !has_string(*dirs, *dir_count, dir)) {
                                char *copy = strdup(dir);
                                if (!copy || push((struct link ***)dirs, dir_count,
                                                  (struct link *)copy) < 0) {
                                        free(copy);
                                        return -ENOMEM;
                                }
                        }
                }
        }
        return 0;
}

/* The overlay serving dir now, if it can stay and have its entries changed in place
 * in this plan: it has a control socket; no link of the plan is at or above dir (that
 * link's mount, and the overlay on it, come down with it); and no overlay is started or
 * remade above it (it would be covered: what is mounted on dir's place below the new
 * overlay no longer shows). NULL: remake it. */
static struct overlay_instance *stays_in_place(const struct link_manager *m, const char *dir,
                                               struct link *const *links, size_t count,
                                               char *const *dirs, size_t dir_count)
{
        struct overlay_instance *o = overlay_registry_find(&m->overlays, dir);
        if (!o || o->control_fd < 0)
                return NULL;
        for (size_t i = 0; i < count; i++) {
                const char *v = links[i]->virtual_path;
                if (strcmp(v, dir) == 0 || path_is_strict_descendant(v, dir))
                        return NULL;
        }
        for (size_t d = 0; d < dir_count; d++)
                if (path_is_strict_descendant(dirs[d], dir) &&
                    !stays_in_place(m, dirs[d], links, count, dirs, dir_count))
                        return NULL;
        return o;
}

static int plan_make(struct link_manager *m, struct link *const *roots, size_t root_count,
                     struct plan *ret)
{
        struct plan plan = {0};
        struct link **links = NULL;
        struct placement *placements = NULL;
        struct exceptions x = {0};
        char **dirs = NULL;
        size_t count = 0, dir_count = 0;
        int r = planner_affected(&m->table, roots, root_count, &links, &count);

        /* Remaking an overlay takes down everything below its directory: add those
         * links, until nothing more comes in. An overlay that stays (its entries are
         * changed in place) takes nothing down: its other links stay as they are. */
        for (;;) {
                free(placements);
                placements = r < 0 ? NULL : calloc(count + 1, sizeof *placements);
                if (r >= 0 && !placements)
                        r = -ENOMEM;
                if (r >= 0)
                        r = place_all(m, links, count, placements);
                exceptions_done(&x);
                if (r >= 0)
                        r = exceptions_make(m, links, count, &x);
                if (r >= 0)
                        r = overlay_dirs(m, links, placements, count, &dirs, &dir_count);
                if (r >= 0)
                        r = overlay_dirs(m, x.items, x.placements, x.count, &dirs, &dir_count);
                if (r < 0)
                        break;
                size_t before = count;
                for (size_t i = 0; i < m->table.count && r >= 0; i++) {
                        struct link *l = m->table.links[i];
                        for (size_t d = 0; d < dir_count; d++)
                                if (path_is_strict_descendant(dirs[d], l->virtual_path) &&
                                    !contains(links, count, l) &&
                                    !stays_in_place(m, dirs[d], links, count, dirs, dir_count)) {
                                        r = push(&links, &count, l);
                                        break;
                                }
                }
                if (r < 0 || count == before)
                        break;
                struct link **grown = NULL;
                size_t grown_count = 0;
                r = planner_affected(&m->table, links, count, &grown, &grown_count);
                free(links);
                links = grown;
                count = grown_count;
        }

        /* show: the links, their exceptions, and an overlay for each directory that
         * makes up or hides names. */
        for (size_t i = 0; i < count && r >= 0; i++)
                r = push(&plan.show, &plan.show_count, links[i]);
        for (size_t i = 0; i < x.count && r >= 0; i++) {
                r = push(&plan.show, &plan.show_count, x.items[i]);
                if (r >= 0)
                        r = push(&plan.stand_ins, &plan.stand_in_count, x.items[i]);
                if (r >= 0)
                        x.items[i] = NULL; /* the plan owns it now */
        }
        for (size_t d = 0; d < dir_count && r >= 0; d++) {
                bool needed = false;
                for (size_t i = 0; i < count; i++) {
                        _cleanup_free_ char *parent = NULL;
                        if (overlay_kind(&placements[i]) &&
                            path_parent(links[i]->virtual_path, &parent) >= 0 &&
                            strcmp(parent, dirs[d]) == 0)
                                needed = true;
                }
                for (size_t i = 0; i < x.count; i++) {
                        _cleanup_free_ char *parent = NULL;
                        const struct link *item = plan.show[count + i];
                        if (overlay_kind(&x.placements[i]) &&
                            path_parent(item->virtual_path, &parent) >= 0 &&
                            strcmp(parent, dirs[d]) == 0)
                                needed = true;
                }
                /* A running overlay that stays is shown by changing its entries (to
                 * none, it may be: then it still carries the links below dir). */
                struct overlay_instance *staying =
                        stays_in_place(m, dirs[d], links, count, dirs, dir_count);
                struct link *l = needed || staying ? stand_in(&plan, dirs[d], staying) : NULL;
                if (l)
                        l->update_in_place = staying != NULL;
                if (needed || staying)
                        r = l ? push(&plan.show, &plan.show_count, l) : -ENOMEM;
        }
        /* hide: the links plus the overlays serving those directories now. */
        for (size_t i = 0; i < count && r >= 0; i++)
                r = push(&plan.hide, &plan.hide_count, links[i]);
        for (size_t d = 0; d < dir_count && r >= 0; d++) {
                struct overlay_instance *o = overlay_registry_find(&m->overlays, dirs[d]);
                if (!o || stays_in_place(m, dirs[d], links, count, dirs, dir_count))
                        continue;
                struct link *l = stand_in(&plan, dirs[d], o);
                r = l ? push(&plan.hide, &plan.hide_count, l) : -ENOMEM;
        }
        if (r >= 0)
                r = planner_order(plan.show, plan.show_count);
        if (r >= 0)
                r = planner_order(plan.hide, plan.hide_count);
        /* Placements in show order (overlay stand-ins have none). */
        if (r >= 0) {
                plan.placements = calloc(plan.show_count + 1, sizeof *plan.placements);
                if (!plan.placements)
                        r = -ENOMEM;
                for (size_t i = 0; r >= 0 && i < plan.show_count; i++) {
                        for (size_t j = 0; j < count; j++)
                                if (plan.show[i] == links[j])
                                        plan.placements[i] = placements[j];
                        for (size_t j = 0; j < plan.stand_in_count; j++)
                                if (plan.show[i] == plan.stand_ins[j] &&
                                    plan.stand_ins[j]->exception_owner)
                                        plan.placements[i] = x.placements[j]; /* pushed first */
                }
        }
        free(links);
        free(placements);
        exceptions_done(&x);
        for (size_t d = 0; d < dir_count; d++)
                free(dirs[d]);
        free(dirs);
        if (r < 0) {
                plan_done(&plan);
                return r;
        }
        *ret = plan;
        return 0;
}

/* ---- teardown and realization --------------------------------------------------- */

static void teardown(struct link_manager *m, struct link **items, size_t count)
{
        /* Deepest first: what sits on a mount goes before the mount. */
        for (size_t i = count; i-- > 0;) {
                struct link *l = items[i];
                if (l->is_overlay) {
                        if (l->overlay)
                                overlay_registry_stop(&m->overlays, l->overlay);
                        l->overlay = NULL;
                        continue;
                }
                if (l->realization == BINDLINK_REALIZED_NONE)
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

/* The entries an overlay on dir synthesizes: the plan's grafted links there. */
static int overlay_entries(const struct plan *plan, const char *dir, char ***ret_names,
                           char **ret_kinds, size_t *ret_count)
{
        char **names = calloc(plan->show_count + 1, sizeof *names);
        char *kinds = calloc(plan->show_count + 1, sizeof *kinds);
        size_t n = 0;
        if (!names || !kinds) {
                free(names);
                free(kinds);
                return -ENOMEM;
        }
        for (size_t i = 0; i < plan->show_count; i++) {
                const struct link *l = plan->show[i];
                _cleanup_free_ char *parent = NULL;
                char kind = l->is_overlay ? 0 : overlay_kind(&plan->placements[i]);
                if (!kind || path_parent(l->virtual_path, &parent) < 0 ||
                    strcmp(parent, dir) != 0)
                        continue;
                names[n] = (char *)path_last(l->virtual_path);
                kinds[n] = kind;
                n++;
        }
        *ret_names = names;
        *ret_kinds = kinds;
        *ret_count = n;
        return 0;
}

/* The entries of the overlay o on dir once the plan is shown: what it has now, with
 * those of the plan's items in dir as the plan places them (arrays malloc'd; names
 * point into o's and the plan's strings). */
static int overlay_entries_updated(const struct plan *plan, const struct overlay_instance *o,
                                   const char *dir, char ***ret_names, char **ret_kinds,
                                   size_t *ret_count)
{
        size_t cap = o->count + plan->show_count + 1, n = 0;
        char **names = calloc(cap, sizeof *names);
        char *kinds = calloc(cap, sizeof *kinds);
        if (!names || !kinds) {
                free(names);
                free(kinds);
                return -ENOMEM;
        }
        for (size_t i = 0; i < o->count; i++) {
                names[n] = o->names[i];
                kinds[n++] = o->kinds[i];
        }
        for (size_t i = 0; i < plan->show_count; i++) {
                const struct link *l = plan->show[i];
                _cleanup_free_ char *parent = NULL;
                if (l->is_overlay || path_parent(l->virtual_path, &parent) < 0 ||
                    strcmp(parent, dir) != 0)
                        continue;
                const char *name = path_last(l->virtual_path);
                char kind = overlay_kind(&plan->placements[i]);
                size_t at = 0;
                while (at < n && strcmp(names[at], name) != 0)
                        at++;
                if (kind) {
                        names[at] = (char *)name;
                        kinds[at] = kind;
                        n += at == n;
                } else if (at < n) {
                        names[at] = names[n - 1];
                        kinds[at] = kinds[n - 1];
                        n--;
                }
        }
        *ret_names = names;
        *ret_kinds = kinds;
        *ret_count = n;
        return 0;
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

/* Show item i of the plan: 0, or -errno with *ret_path. */
static int realize_item(struct link_manager *m, struct plan *plan, size_t i,
                        const char **ret_path)
{
        struct link *l = plan->show[i];
        const struct placement *p = &plan->placements[i];
        if (l->is_overlay && l->update_in_place) {
                /* The overlay stays: only its entries change (S8, nothing else moves). */
                char **names, *kinds;
                size_t n;
                int r = overlay_entries_updated(plan, l->overlay, l->virtual_path, &names,
                                                &kinds, &n);
                if (r >= 0 && n == 0 && !carries_links(m, l->virtual_path) &&
                    !overlay_serves_sockets(l->overlay) &&
                    !overlay_hosts_foreign_mounts(l->overlay)) {
                        /* Nothing to make up, mounted on it, or bound through it: it
                         * goes. */
                        free(names);
                        free(kinds);
                        overlay_registry_stop(&m->overlays, l->overlay);
                        l->overlay = NULL;
                        return 0;
                }
                if (r >= 0) {
                        r = overlay_registry_update(&m->overlays, l->overlay, names, kinds, n);
                        free(names);
                        free(kinds);
                }
                if (r < 0) {
                        *ret_path = l->virtual_path;
                        overlay_fall_back(m, l->overlay, r);
                        l->overlay = NULL;
                }
                return r;
        }
        if (l->is_overlay) {
                char **names, *kinds;
                size_t n;
                struct overlay_instance *o = NULL;
                const char *about = l->virtual_path;
                int r = overlay_entries(plan, l->virtual_path, &names, &kinds, &n);
                if (r >= 0) {
                        r = overlay_start(m->journal.path, l->virtual_path, names, kinds, n, &o,
                                          &about);
                        free(names);
                        free(kinds);
                }
                if (r >= 0 && (r = overlay_registry_add(&m->overlays, o)) < 0)
                        overlay_free(o); /* not reached: add only fails on ENOMEM */
                if (r < 0) {
                        *ret_path = about;
                        return r;
                }
                l->overlay = o;
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
        if (l->exception_owner) {
                /* S14: the original object, grafted back over the link. */
                if (p->kind != PLACE_BIND && p->kind != PLACE_GRAFT)
                        return 0;
                const char *owner = l->exception_owner->virtual_path;
                uint64_t ignored;
                return mount_graft_covered(&l->exception_owner->creator, owner,
                                           l->virtual_path + strlen(owner), l->virtual_path,
                                           &ignored, ret_path);
        }
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
                struct link *l = plan->show[i];
                log_error("cannot show %s (at %s): %s", l->virtual_path, path ? path : "?",
                          strerror(-r));
                if (!l->is_overlay && !l->exception_owner) {
                        l->realization = BINDLINK_REALIZED_NONE;
                        l->mount_id = 0;
                }
        }
        return first_failed;
}

static void journal_shown(struct link_manager *m, struct link **links, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                if (is_stand_in(links[i]))
                        continue;
                int r = journal_link_shown(&m->journal, links[i]);
                if (r < 0)
                        log_error("cannot journal link %s: %s", links[i]->virtual_path,
                                  strerror(-r));
        }
}

/* Tear down and show again everything the roots affect; errors are logged (used
 * where there is nobody to refuse: removal, restart, a crashed overlay). */
static void rebuild(struct link_manager *m, struct link *const *roots, size_t root_count,
                    const char *why)
{
        struct plan plan;
        int r = plan_make(m, roots, root_count, &plan);
        if (r < 0) {
                log_error("cannot plan the links to show again (%s): %s", why, strerror(-r));
                return;
        }
        teardown(m, plan.hide, plan.hide_count);
        int error;
        const char *failing_path;
        (void)realize(m, &plan, true, &error, &failing_path); /* failures are logged */
        for (size_t i = 0; i < plan.show_count; i++)
                if (!is_stand_in(plan.show[i]) &&
                    plan.show[i]->realization == BINDLINK_REALIZED_NONE)
                        log_info("link %s stays registered but is not shown: %s",
                                 plan.show[i]->virtual_path, placement_words(&plan.placements[i]));
        journal_shown(m, plan.show, plan.show_count);
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
                if (!is_stand_in(plan->show[i]) && plan->show[i] != created &&
                    push(&others, &other_count, plan->show[i]) < 0)
                        log_error("out of memory: link %s is not shown again %s",
                                  plan->show[i]->virtual_path, why);
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
                const struct link *l = plan->show[i];
                const struct placement *p = &plan->placements[i];
                if (l->is_overlay || p->kind == PLACE_BIND || p->kind == PLACE_GRAFT ||
                    p->kind == PLACE_MERGE)
                        continue;
                if (l->exception_owner) {
                        if (l->exception_owner != created || p->kind == PLACE_BACKING_MISSING)
                                continue; /* logged when shown; an original gone is hidden */
                        set_outcome(ret, p->kind == PLACE_LOOP ? -ELOOP : -ENOTSUP,
                                    BINDLINK_FAULT_EXCEPTION, l->virtual_path,
                                    "exception %s of link %s -> %s cannot be shown: %s",
                                    l->virtual_path, created->virtual_path, created->backing_path,
                                    placement_words(p));
                        ret->exception_index = l->exception_index;
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
        int r = plan_make(m, &created, 1, &plan);
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
                            "cannot show %s (at %s): %s", plan.show[done]->virtual_path,
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
        for (size_t i = 0; i < plan.show_count; i++)
                if (plan.show[i] != created)
                        journal_shown(m, &plan.show[i], 1);
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
        int r = plan_make(m, &removed, 1, &plan);
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
                if (!is_stand_in(plan.hide[i]) && plan.hide[i] != removed)
                        (void)push(&others, &other_count, plan.hide[i]);
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
