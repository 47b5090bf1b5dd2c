/* planner.c — resolution, classification and ordering of links (see planner.h). */
#include "planner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "util.h"

/* Why the walk up from path takes or passes over link, found at path's first
 * prefix_len bytes. */
static enum cover_reason cover_reason_of(const struct link *link, const char *path,
                                         size_t prefix_len, const struct link *ignored)
{
        if (link == ignored)
                return COVER_IGNORED;
        /* Through an exception the link is a hole: what it covers shows. */
        if (link->exception_count > 0 && link_excepts(link, path))
                return COVER_EXCEPTED;
        /* Below a merged link, the path shows B's or V's object (see planner.h). */
        if ((link->flags & CREATE_BIND_LINK_FLAG_MERGED) && path[prefix_len] != '\0')
                return COVER_BELOW_MERGED;
        return COVER_COVERS;
}

/* The path and each of its ancestors, longest first, looked up in the index. */
int planner_covering_link(const struct link_table *table, const char *path,
                          const struct link *ignored, cover_judge judge, void *ctx,
                          const struct link **ret_link)
{
        size_t len = strlen(path);
        *ret_link = NULL;
        for (;;) {
                const struct path_index_entry *e = path_index_get(&table->virtual_paths, path, len);
                if (e) {
                        enum cover_reason why = cover_reason_of(e->link, path, len, ignored);
                        int take = judge ? judge(ctx, e->link, why) : why == COVER_COVERS;
                        if (take < 0)
                                return take;
                        if (take) {
                                *ret_link = e->link;
                                return 0;
                        }
                }
                if (len <= 1)
                        return 0;
                while (len > 1 && path[len - 1] != '/')
                        len--;
                if (len > 1)
                        len--; /* "/a/" -> "/a"; "/" stays */
        }
}

/* Follow links from path until no link covers it, calling on_step (if not NULL) with
 * every path on the way, the first and the last included. A lookup may pass one link
 * more than once without looping (/x -> /y, /y/sub -> /x/other resolves /x/sub in
 * three steps through /x twice); it loops when a path comes back, or when paths grow
 * past PATH_MAX (/a -> /a/sub). */
static int resolve_steps(const struct link_table *table, const char *path,
                         const struct link *ignored,
                         bool (*on_step)(void *ctx, const char *path), void *ctx,
                         char **ret_path)
{
        char **seen = NULL;
        size_t seen_count = 0;
        char *current = strdup(path);
        int r = current ? 0 : -ENOMEM;
        while (r >= 0) {
                if (on_step && !on_step(ctx, current)) {
                        r = -ELOOP;
                        break;
                }
                for (size_t i = 0; i < seen_count; i++)
                        if (strcmp(seen[i], current) == 0)
                                r = -ELOOP;
                if (r < 0)
                        break;
                const struct link *l;
                r = planner_covering_link(table, current, ignored, NULL, NULL, &l);
                if (r < 0)
                        break;
                if (!l) {
                        *ret_path = TAKE_PTR(current);
                        break;
                }
                char **grown = realloc(seen, (seen_count + 1) * sizeof *seen);
                if (!grown) {
                        r = -ENOMEM;
                        break;
                }
                seen = grown;
                seen[seen_count++] = current;
                const char *rest = strcmp(l->virtual_path, "/") == 0
                                           ? current
                                           : current + strlen(l->virtual_path);
                current = NULL;
                r = path_join(l->backing_path, rest, &current);
                if (r == -EINVAL)
                        r = -ELOOP; /* grew past PATH_MAX */
        }
        free(current);
        for (size_t i = 0; i < seen_count; i++)
                free(seen[i]);
        free(seen);
        return r;
}

int planner_resolve(const struct link_table *table, const char *path,
                    const struct link *ignored, char **ret_path)
{
        return resolve_steps(table, path, ignored, NULL, NULL, ret_path);
}

/* A link whose backing view contains its own virtual path would show itself inside
 * itself: a loop no bind mount can show. */
static bool step_leaves_virtual_path(void *ctx, const char *path)
{
        const struct link *link = ctx;
        return !path_on_same_line(link->virtual_path, path);
}

static int place_kind(struct placement *p, enum placement_kind kind, const char *reason)
{
        p->kind = kind;
        p->reason = reason;
        return 0;
}

/* Does B's view have the parent directory of exception index? 1, 0, or -errno. */
static int exception_parent_in_backing(const struct link_table *table, const struct link *link,
                                       uint32_t index, const struct probe *probe)
{
        const char *rest = link->exception_paths[index] + strlen(link->virtual_path);
        _cleanup_free_ char *joined = NULL, *in_backing = NULL, *parent = NULL;
        int r = path_join(link->backing_path, rest, &joined);
        if (r >= 0)
                r = planner_resolve(table, joined, NULL, &in_backing);
        if (r == -ELOOP)
                return 1; /* placed (as a loop) with the exception itself */
        if (r >= 0)
                r = path_parent(in_backing, &parent);
        if (r >= 0)
                r = probe->type_of(probe->ctx, parent, true, &link->creator);
        return r < 0 ? r : r == PROBE_DIRECTORY;
}

int planner_place(const struct link_table *table, const struct link *link,
                  const struct probe *probe, struct placement *ret)
{
        *ret = (struct placement){0};
        _cleanup_free_ char *place = NULL, *backing = NULL, *place_parent = NULL;

        int r = planner_resolve(table, link->virtual_path, link, &place);
        if (r == -ELOOP)
                return place_kind(ret, PLACE_LOOP, "its place is reached through a loop of links");
        if (r < 0)
                return r;
        r = resolve_steps(table, link->backing_path, NULL, step_leaves_virtual_path,
                          (void *)link, &backing);
        if (r == -ELOOP)
                return place_kind(ret, PLACE_LOOP,
                                  "its backing path contains, lies inside or leads back to "
                                  "its virtual path");
        if (r < 0)
                return r;

        r = probe->type_of(probe->ctx, place, false, NULL);
        if (r < 0)
                return r;
        ret->place_type = r;
        if (ret->place_type == PROBE_MISSING) {
                r = path_parent(place, &place_parent);
                if (r < 0)
                        return r;
                r = probe->type_of(probe->ctx, place_parent, true, NULL);
                if (r < 0)
                        return r;
                if (r != PROBE_DIRECTORY)
                        return place_kind(ret, PLACE_PARENT_MISSING, NULL);
        }
        r = probe->type_of(probe->ctx, backing, true, &link->creator);
        if (r < 0)
                return r;
        ret->backing_type = r;
        if (ret->backing_type == PROBE_MISSING)
                return place_kind(ret, PLACE_BACKING_MISSING, NULL);

        bool both_dirs = ret->place_type == PROBE_DIRECTORY &&
                         ret->backing_type == PROBE_DIRECTORY;
        /* S12: MERGED has no effect unless both sides are directories. */
        if ((link->flags & CREATE_BIND_LINK_FLAG_MERGED) && both_dirs)
                return place_kind(ret, PLACE_MERGE, "it is merged");
        /* S14: an exception whose parent B lacks needs the way to it shown; the
         * merged view does that in shadow mode (B alone elsewhere). */
        for (uint32_t i = 0; both_dirs && i < link->exception_count; i++) {
                r = exception_parent_in_backing(table, link, i, probe);
                if (r < 0)
                        return r;
                if (r == 0)
                        return place_kind(ret, PLACE_MERGE,
                                          "an exception's parent directory is not in the "
                                          "backing path (a shadow view)");
        }
        /* The parent's overlay makes an entry of B's type; B is bound onto it. */
        if (ret->place_type == PROBE_MISSING)
                return place_kind(ret, PLACE_GRAFT,
                                  "the virtual path does not exist (an anchorless link)");
        if (ret->place_type == PROBE_SYMLINK)
                return place_kind(ret, PLACE_GRAFT, "the virtual path is a symbolic link");
        if ((ret->place_type == PROBE_DIRECTORY) != (ret->backing_type == PROBE_DIRECTORY))
                return place_kind(ret, PLACE_GRAFT,
                                  ret->place_type == PROBE_DIRECTORY
                                          ? "it shows a file over a directory"
                                          : "it shows a directory over a file");
        return place_kind(ret, PLACE_BIND, NULL);
}

int planner_place_exception(const struct link_table *table, const struct link *link,
                            uint32_t index, const struct probe *probe, struct placement *ret)
{
        *ret = (struct placement){0};
        const char *exception = link->exception_paths[index];
        const char *rest = exception + strlen(link->virtual_path); /* "/e/..." */
        _cleanup_free_ char *original = NULL, *in_backing = NULL, *joined = NULL,
                            *backing_parent = NULL;
        /* What the exception shows: the original object (resolution skips the link). */
        int r = planner_resolve(table, exception, NULL, &original);
        if (r == -ELOOP)
                return place_kind(ret, PLACE_LOOP, "the exception leads through a loop of links");
        if (r < 0)
                return r;
        /* Where it goes: that name in the link's backing view. */
        r = path_join(link->backing_path, rest, &joined);
        if (r >= 0)
                r = planner_resolve(table, joined, NULL, &in_backing);
        if (r == -ELOOP)
                return place_kind(ret, PLACE_LOOP, "the exception leads through a loop of links");
        if (r < 0)
                return r;
        r = probe->type_of(probe->ctx, original, false, &link->creator);
        if (r < 0)
                return r;
        ret->backing_type = r;
        r = probe->type_of(probe->ctx, in_backing, false, &link->creator);
        if (r < 0)
                return r;
        ret->place_type = r;
        if (ret->backing_type == PROBE_MISSING) /* the original is gone: hide the name */
                return place_kind(ret, PLACE_BACKING_MISSING, NULL);
        if (link->flags & CREATE_BIND_LINK_FLAG_MERGED)
                /* The merged view is told its exceptions: it shows the original's
                 * object there (its type), whether or not B has the name, of whichever
                 * type; the original goes right on it. */
                return place_kind(ret, PLACE_BIND, NULL);
        if (ret->place_type == PROBE_MISSING) {
                r = path_parent(in_backing, &backing_parent);
                if (r < 0)
                        return r;
                r = probe->type_of(probe->ctx, backing_parent, true, &link->creator);
                if (r < 0)
                        return r;
                if (r != PROBE_DIRECTORY) {
                        /* A link of two directories is then a shadow view, which shows
                         * the way to the exception (planner_place). */
                        _cleanup_free_ char *b = NULL;
                        r = planner_resolve(table, link->backing_path, NULL, &b);
                        if (r < 0 && r != -ELOOP)
                                return r;
                        r = r < 0 ? PROBE_MISSING : probe->type_of(probe->ctx, b, true, &link->creator);
                        if (r < 0)
                                return r;
                        if (r == PROBE_DIRECTORY)
                                return place_kind(ret, PLACE_BIND, NULL);
                        return place_kind(ret, PLACE_PARENT_MISSING,
                                          "the exception's parent directory does not exist "
                                          "in the backing path");
                }
                return place_kind(ret, PLACE_GRAFT, "the backing path has no such name");
        }
        bool same = ret->place_type != PROBE_SYMLINK && ret->backing_type != PROBE_SYMLINK &&
                    (ret->place_type == PROBE_DIRECTORY) == (ret->backing_type == PROBE_DIRECTORY);
        return same ? place_kind(ret, PLACE_BIND, NULL)
                    : place_kind(ret, PLACE_GRAFT, "the backing path has another type there");
}

bool planner_depends(const struct link *b, const struct link *a)
{
        if (a == b)
                return false;
        return path_is_strict_descendant(a->virtual_path, b->virtual_path) ||
               path_on_same_line(a->virtual_path, b->backing_path);
}

int planner_affected(const struct link_table *table, struct link *const *roots,
                     size_t root_count, struct link ***ret_links, size_t *ret_count)
{
        size_t cap = root_count + 16, count = 0;
        struct link **set = malloc(cap * sizeof *set);
        if (!set)
                return -ENOMEM;
        for (size_t i = 0; i < root_count; i++)
                if (!link_list_contains(set, count, roots[i]))
                        set[count++] = roots[i];
        /* Breadth-first: every member pulls in the links that depend on it. */
        for (size_t done = 0; done < count; done++) {
                const struct link *changed = set[done];
                /* Most links have no dependents: the indexes say so without a scan. */
                if (!link_table_has_virtual_below(table, changed->virtual_path) &&
                    !link_table_has_backing_on_line(table, changed->virtual_path))
                        continue;
                for (size_t i = 0; i < table->count; i++) {
                        struct link *l = table->links[i];
                        if (!planner_depends(l, changed) || link_list_contains(set, count, l))
                                continue;
                        if (count == cap) {
                                cap *= 2;
                                struct link **grown = realloc(set, cap * sizeof *set);
                                if (!grown) {
                                        free(set);
                                        return -ENOMEM;
                                }
                                set = grown;
                        }
                        set[count++] = l;
                }
        }
        *ret_links = set;
        *ret_count = count;
        return 0;
}

/* The generic order (planner.h): a depth-first topological sort over the elements,
 * visited in (depth, key) order so that ties keep that order. */
struct ordering {
        void **elems;
        const struct order_rules *rules;
};

static int by_depth_then_key(const void *pa, const void *pb, void *ctx)
{
        const struct order_rules *rules = ctx;
        const void *a = *(void *const *)pa, *b = *(void *const *)pb;
        size_t da = path_depth(rules->path(a)), db = path_depth(rules->path(b));
        if (da != db)
                return da < db ? -1 : 1;
        uint64_t ka = rules->key(a), kb = rules->key(b);
        return ka < kb ? -1 : ka > kb;
}

enum mark { UNSEEN, IN_PROGRESS, DONE };

static int visit(const struct ordering *o, size_t count, size_t i, enum mark *marks,
                 void **out, size_t *out_count)
{
        if (marks[i] == DONE)
                return 0;
        if (marks[i] == IN_PROGRESS)
                return -ELOOP;
        marks[i] = IN_PROGRESS;
        for (size_t j = 0; j < count; j++) {
                if (i == j || !o->rules->depends(o->elems[i], o->elems[j]))
                        continue;
                int r = visit(o, count, j, marks, out, out_count);
                if (r < 0)
                        return r;
        }
        marks[i] = DONE;
        out[(*out_count)++] = o->elems[i];
        return 0;
}

int order_by_dependency(void **elems, size_t count, const struct order_rules *rules)
{
        if (count < 2)
                return 0;
        qsort_r(elems, count, sizeof *elems, by_depth_then_key, (void *)rules);
        _cleanup_free_ enum mark *marks = calloc(count, sizeof *marks);
        _cleanup_free_ void **out = malloc(count * sizeof *out);
        if (!marks || !out)
                return -ENOMEM;
        struct ordering o = {.elems = elems, .rules = rules};
        size_t out_count = 0;
        for (size_t i = 0; i < count; i++) {
                int r = visit(&o, count, i, marks, out, &out_count);
                if (r < 0)
                        return r;
        }
        memcpy(elems, out, count * sizeof *elems);
        return 0;
}

static int deepest_then_latest(const void *pa, const void *pb, void *ctx)
{
        return by_depth_then_key(pb, pa, ctx);
}

void order_deepest_first(void **elems, size_t count, const struct order_rules *rules)
{
        if (count > 1)
                qsort_r(elems, count, sizeof *elems, deepest_then_latest, (void *)rules);
}

static const char *link_path(const void *l) { return ((const struct link *)l)->virtual_path; }
static uint64_t link_key(const void *l) { return ((const struct link *)l)->order; }
static bool link_depends(const void *b, const void *a) { return planner_depends(b, a); }

int planner_order(struct link **links, size_t count)
{
        static const struct order_rules rules = {
                .path = link_path, .key = link_key, .depends = link_depends};
        return order_by_dependency((void **)links, count, &rules);
}

void planner_order_for_removal(struct link **links, size_t count)
{
        static const struct order_rules rules = {.path = link_path, .key = link_key};
        order_deepest_first((void **)links, count, &rules);
}
