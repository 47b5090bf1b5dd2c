/* plan.c — the plan of a change (see plan.h): the affected links, placed, their
 * exceptions, and the overlays they need, grown until nothing more comes in. */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "util.h"

char plan_entry_kind(const struct placement *p)
{
        if (p->kind == PLACE_GRAFT)
                return p->backing_type == PROBE_DIRECTORY ? 'd' : 'f';
        if (p->kind == PLACE_BACKING_MISSING && p->place_type != PROBE_MISSING)
                return 'h';
        return 0;
}

void plan_done(struct plan *plan)
{
        free(plan->show);
        free(plan->hide);
        for (size_t i = 0; i < plan->dir_count; i++)
                free(plan->dirs[i]);
        free(plan->dirs);
        *plan = (struct plan){0};
}

/* ---- growing lists ---------------------------------------------------------------- */

static int push_item(struct plan_item **list, size_t *count, const struct plan_item *item)
{
        struct plan_item *grown = realloc(*list, (*count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        *list = grown;
        (*list)[(*count)++] = *item;
        return 0;
}

static bool has_string(char *const *list, size_t count, const char *s)
{
        for (size_t i = 0; i < count; i++)
                if (strcmp(list[i], s) == 0)
                        return true;
        return false;
}

/* Add a copy of dir to the set (once). */
static int add_dir(char ***dirs, size_t *count, const char *dir)
{
        if (has_string(*dirs, *count, dir))
                return 0;
        char **grown = realloc(*dirs, (*count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        *dirs = grown;
        char *copy = strdup(dir);
        if (!copy)
                return -ENOMEM;
        (*dirs)[(*count)++] = copy;
        return 0;
}

/* ---- what runs now ------------------------------------------------------------------ */

/* The parent overlay (not a merged view) running on dir, or NULL. */
static const struct plan_running *running_at(const struct plan_input *in, const char *dir)
{
        for (size_t i = 0; i < in->running_count; i++)
                if (!in->running[i].merged && strcmp(in->running[i].dir, dir) == 0)
                        return &in->running[i];
        return NULL;
}

/* The overlay running on dir, if it can stay and have its entries changed in place in
 * this plan: it can be told (updatable); no link of the plan is at or above dir (that
 * link's mount, and the overlay on it, come down with it); and no overlay is started
 * or remade above it (it would be covered: what is mounted on dir's place below the
 * new overlay no longer shows). NULL: remake it. */
static const struct plan_running *stays_in_place(const struct plan_input *in, const char *dir,
                                                 struct link *const *links, size_t count,
                                                 char *const *dirs, size_t dir_count)
{
        const struct plan_running *o = running_at(in, dir);
        if (!o || !o->updatable)
                return NULL;
        for (size_t i = 0; i < count; i++) {
                const char *v = links[i]->virtual_path;
                if (strcmp(v, dir) == 0 || path_is_strict_descendant(v, dir))
                        return NULL;
        }
        for (size_t d = 0; d < dir_count; d++)
                if (path_is_strict_descendant(dirs[d], dir) &&
                    !stays_in_place(in, dirs[d], links, count, dirs, dir_count))
                        return NULL;
        return o;
}

/* ---- placing ------------------------------------------------------------------------ */

/* The links, placed, then their exceptions, placed (S14). */
static int place_items(const struct plan_input *in, struct link *const *links, size_t count,
                       struct plan_item **ret, size_t *ret_count)
{
        struct plan_item *items = NULL;
        size_t n = 0;
        int r = 0;
        for (size_t i = 0; i < count && r >= 0; i++) {
                struct plan_item item = {
                        .kind = PLAN_LINK, .path = links[i]->virtual_path, .link = links[i]};
                r = planner_place(in->table, links[i], in->probe, &item.placement);
                if (r >= 0)
                        r = push_item(&items, &n, &item);
        }
        for (size_t i = 0; i < count && r >= 0; i++)
                for (uint32_t e = 0; e < links[i]->exception_count && r >= 0; e++) {
                        struct plan_item item = {.kind = PLAN_EXCEPTION,
                                                 .path = links[i]->exception_paths[e],
                                                 .link = links[i],
                                                 .exception_index = e};
                        r = planner_place_exception(in->table, links[i], e, in->probe,
                                                    &item.placement);
                        if (r >= 0)
                                r = push_item(&items, &n, &item);
                }
        if (r < 0) {
                free(items);
                return r;
        }
        *ret = items;
        *ret_count = n;
        return 0;
}

/* Directories whose overlay must be (re)made for these items: parents of grafted or
 * hidden items, overlays that host an item, overlays lying on an item. */
static int overlay_dirs(const struct plan_input *in, const struct plan_item *items, size_t count,
                        char ***dirs, size_t *dir_count)
{
        for (size_t i = 0; i < count; i++) {
                _cleanup_free_ char *parent = NULL;
                int r = path_parent(items[i].path, &parent);
                if (r < 0)
                        return r;
                if (plan_entry_kind(&items[i].placement) || running_at(in, parent)) {
                        r = add_dir(dirs, dir_count, parent);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t o = 0; o < in->running_count; o++) {
                if (in->running[o].merged)
                        continue; /* a merged view comes and goes with its link */
                const char *dir = in->running[o].dir;
                for (size_t i = 0; i < count; i++) {
                        const char *v = items[i].path;
                        if (strcmp(v, dir) == 0 || path_is_strict_descendant(v, dir)) {
                                int r = add_dir(dirs, dir_count, dir);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        return 0;
}

/* ---- order ------------------------------------------------------------------------- */

static const char *item_path(const void *e)
{
        return ((const struct plan_item *)e)->path;
}

static uint64_t item_key(const void *e)
{
        const struct plan_item *item = e;
        return item->kind == PLAN_LINK ? item->link->order : 0;
}

/* Must b come after a? An overlay after a link at its own directory (it is mounted on
 * the link) and before everything below it; anything below another's path after it;
 * a link after whatever lies on its backing path's line. */
static bool item_depends(const void *pb, const void *pa)
{
        const struct plan_item *b = pb, *a = pa;
        if (a == b)
                return false;
        if (b->kind == PLAN_OVERLAY && a->kind != PLAN_OVERLAY && strcmp(a->path, b->path) == 0)
                return true;
        if (path_is_strict_descendant(a->path, b->path))
                return true;
        /* Overlays and exceptions show no backing path of their own. */
        return b->kind == PLAN_LINK && path_on_same_line(a->path, b->link->backing_path);
}

static int order_items(struct plan_item *items, size_t count)
{
        static const struct order_rules rules = {
                .path = item_path, .key = item_key, .depends = item_depends};
        if (count < 2)
                return 0;
        _cleanup_free_ struct plan_item **ptrs = calloc(count, sizeof *ptrs);
        _cleanup_free_ struct plan_item *copy = calloc(count, sizeof *copy);
        if (!ptrs || !copy)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++)
                ptrs[i] = &items[i];
        int r = order_by_dependency((void **)ptrs, count, &rules);
        if (r < 0)
                return r;
        for (size_t i = 0; i < count; i++)
                copy[i] = *ptrs[i];
        memcpy(items, copy, count * sizeof *items);
        return 0;
}

/* ---- the plan ---------------------------------------------------------------------- */

/* Is an overlay on dir needed for what the items place there? */
static bool makes_up_names_in(const struct plan_item *items, size_t count, const char *dir)
{
        for (size_t i = 0; i < count; i++) {
                _cleanup_free_ char *parent = NULL;
                if (plan_entry_kind(&items[i].placement) &&
                    path_parent(items[i].path, &parent) >= 0 && strcmp(parent, dir) == 0)
                        return true;
        }
        return false;
}

int plan_make(const struct plan_input *in, struct link *const *roots, size_t root_count,
              struct plan *ret)
{
        struct plan plan = {0};
        struct link **links = NULL;
        struct plan_item *placed = NULL;
        size_t count = 0, placed_count = 0;
        int r = planner_affected(in->table, roots, root_count, &links, &count);

        /* Remaking an overlay takes down everything below its directory: add those
         * links, until nothing more comes in. An overlay that stays (its entries are
         * changed in place) takes nothing down: its other links stay as they are. */
        for (;;) {
                free(placed);
                placed = NULL;
                if (r >= 0)
                        r = place_items(in, links, count, &placed, &placed_count);
                if (r >= 0)
                        r = overlay_dirs(in, placed, placed_count, &plan.dirs, &plan.dir_count);
                if (r < 0)
                        break;
                size_t before = count;
                for (size_t i = 0; i < in->table->count && r >= 0; i++) {
                        struct link *l = in->table->links[i];
                        for (size_t d = 0; d < plan.dir_count; d++)
                                if (path_is_strict_descendant(plan.dirs[d], l->virtual_path) &&
                                    !link_list_contains(links, count, l) &&
                                    !stays_in_place(in, plan.dirs[d], links, count, plan.dirs,
                                                    plan.dir_count)) {
                                        r = link_list_push(&links, &count, l);
                                        break;
                                }
                }
                if (r < 0 || count == before)
                        break;
                struct link **grown = NULL;
                size_t grown_count = 0;
                r = planner_affected(in->table, links, count, &grown, &grown_count);
                free(links);
                links = grown;
                count = grown_count;
        }

        /* show: the links and their exceptions, placed, and an overlay for each
         * directory that makes up or hides names, or whose overlay stays. */
        for (size_t i = 0; i < placed_count && r >= 0; i++)
                r = push_item(&plan.show, &plan.show_count, &placed[i]);
        for (size_t d = 0; d < plan.dir_count && r >= 0; d++) {
                const struct plan_running *staying =
                        stays_in_place(in, plan.dirs[d], links, count, plan.dirs, plan.dir_count);
                if (!staying && !makes_up_names_in(placed, placed_count, plan.dirs[d]))
                        continue;
                struct plan_item item = {.kind = PLAN_OVERLAY,
                                         .path = plan.dirs[d],
                                         .overlay = staying ? staying->instance : NULL,
                                         .update_in_place = staying != NULL};
                r = push_item(&plan.show, &plan.show_count, &item);
        }
        /* hide: the links, and the overlays serving those directories now that do not
         * stay. */
        for (size_t i = 0; i < placed_count && r >= 0; i++)
                if (placed[i].kind == PLAN_LINK)
                        r = push_item(&plan.hide, &plan.hide_count, &placed[i]);
        for (size_t d = 0; d < plan.dir_count && r >= 0; d++) {
                const struct plan_running *o = running_at(in, plan.dirs[d]);
                if (!o || stays_in_place(in, plan.dirs[d], links, count, plan.dirs, plan.dir_count))
                        continue;
                struct plan_item item = {
                        .kind = PLAN_OVERLAY, .path = plan.dirs[d], .overlay = o->instance};
                r = push_item(&plan.hide, &plan.hide_count, &item);
        }
        if (r >= 0)
                r = order_items(plan.show, plan.show_count);
        if (r >= 0)
                r = order_items(plan.hide, plan.hide_count);
        free(links);
        free(placed);
        if (r < 0) {
                plan_done(&plan);
                return r;
        }
        *ret = plan;
        return 0;
}

/* ---- an overlay's entries ---------------------------------------------------------- */

static int entry_arrays(size_t cap, char ***names, char **kinds)
{
        *names = calloc(cap + 1, sizeof **names);
        *kinds = calloc(cap + 1, sizeof **kinds);
        if (*names && *kinds)
                return 0;
        free(*names);
        free(*kinds);
        return -ENOMEM;
}

/* Is item placed directly in dir (and not an overlay itself)? */
static bool placed_in(const struct plan_item *item, const char *dir)
{
        _cleanup_free_ char *parent = NULL;
        return item->kind != PLAN_OVERLAY && path_parent(item->path, &parent) >= 0 &&
               strcmp(parent, dir) == 0;
}

int plan_entries(const struct plan *plan, const char *dir, char ***ret_names, char **ret_kinds,
                 size_t *ret_count)
{
        char **names;
        char *kinds;
        size_t n = 0;
        int r = entry_arrays(plan->show_count, &names, &kinds);
        if (r < 0)
                return r;
        for (size_t i = 0; i < plan->show_count; i++) {
                const struct plan_item *item = &plan->show[i];
                char kind = plan_entry_kind(&item->placement);
                if (!kind || !placed_in(item, dir))
                        continue;
                names[n] = (char *)path_last(item->path);
                kinds[n++] = kind;
        }
        *ret_names = names;
        *ret_kinds = kinds;
        *ret_count = n;
        return 0;
}

int plan_entries_updated(const struct plan *plan, const char *dir, char *const *now_names,
                         const char *now_kinds, size_t now_count, char ***ret_names,
                         char **ret_kinds, size_t *ret_count)
{
        char **names;
        char *kinds;
        size_t n = 0;
        int r = entry_arrays(now_count + plan->show_count, &names, &kinds);
        if (r < 0)
                return r;
        for (size_t i = 0; i < now_count; i++) {
                names[n] = now_names[i];
                kinds[n++] = now_kinds[i];
        }
        for (size_t i = 0; i < plan->show_count; i++) {
                const struct plan_item *item = &plan->show[i];
                if (!placed_in(item, dir))
                        continue;
                const char *name = path_last(item->path);
                char kind = plan_entry_kind(&item->placement);
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
