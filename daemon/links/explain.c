/* explain.c — which link decides what a path shows, through which chain, from which
 * layer, and why (bindlinkctl explain): the planner's resolution (planner.c) told
 * step by step, with the merged views' layers asked as the caller, so an answer never
 * says more about a name than the caller could learn by looking. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "as_caller.h"
#include "manager.h"
#include "path.h"
#include "util.h"

/* Links followed at most: a chain longer than this is a loop (S18). */
#define EXPLAIN_MAX_STEPS 64

struct steps {
        struct explain_step *items;
        size_t count;
};

__attribute__((format(printf, 5, 6))) static int add_step(struct steps *s,
                                                          enum bindlink_step_kind kind,
                                                          const char *path, const struct link *l,
                                                          const char *fmt, ...)
{
        if (s->count == EXPLAIN_MAX_STEPS)
                return -ELOOP;
        struct explain_step *grown = realloc(s->items, (s->count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        s->items = grown;
        struct explain_step *st = &s->items[s->count];
        *st = (struct explain_step){.kind = kind, .link = l, .path = strdup(path)};
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&st->detail, fmt, ap);
        va_end(ap);
        if (!st->path || n < 0) {
                free(st->path);
                if (n >= 0)
                        free(st->detail);
                return -ENOMEM;
        }
        s->count++;
        return 0;
}

void explain_steps_free(struct explain_step *steps, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                free(steps[i].path);
                free(steps[i].detail);
        }
        free(steps);
}

static const char *type_words(int type)
{
        switch (type) {
        case PROBE_DIRECTORY:
                return "a directory";
        case PROBE_SYMLINK:
                return "a symbolic link";
        case PROBE_FILE:
                return "a file";
        default:
                return "nothing";
        }
}

static const char *type_noun(int type)
{
        return type == PROBE_DIRECTORY ? "directory"
               : type == PROBE_SYMLINK ? "symbolic link"
                                       : "file";
}

static const char *read_only_words(const struct link *l)
{
        if (!(l->flags & CREATE_BIND_LINK_FLAG_READ_ONLY))
                return "";
        return l->flags & CREATE_BIND_LINK_FLAG_MERGED
                       ? "; read-only: what comes from the backing path cannot be changed "
                         "through the link, the original's objects stay writable, new names "
                         "go to the original (S13)"
                       : "; read-only: nothing can be changed through the link (S11)";
}

/* Which layer of a merged view shows rel, walked name by name as the view does (two
 * directories of one name merge; otherwise B's object wins), looked up as the caller.
 * 'b' (B's), 'v' (the original's) or 0 (neither has it); *ret_both: both have the
 * last name (a collision B wins); *ret_type: the shown object's probe_type. */
static int merged_layer(const struct overlay_instance *o, const char *rel, const struct creds *as,
                        bool *ret_both, int *ret_type)
{
        struct as_caller_saved *saved;
        int r = as_caller_enter(as, &saved);
        if (r < 0)
                return r;
        _cleanup_close_ int b = fcntl(o->upper_fd, F_DUPFD_CLOEXEC, 3);
        _cleanup_close_ int v = fcntl(o->lower_fd, F_DUPFD_CLOEXEC, 3);
        int shown = 0;
        *ret_both = false;
        *ret_type = PROBE_MISSING;
        for (const char *p = rel; *p;) {
                const char *end = strchrnul(p, '/');
                char name[NAME_MAX + 1];
                size_t len = (size_t)(end - p);
                if (len == 0 || len > NAME_MAX)
                        break;
                memcpy(name, p, len);
                name[len] = '\0';
                struct stat bs, vs;
                bool in_b = b >= 0 && fstatat(b, name, &bs, AT_SYMLINK_NOFOLLOW) == 0;
                bool in_v = v >= 0 && fstatat(v, name, &vs, AT_SYMLINK_NOFOLLOW) == 0;
                shown = in_b ? 'b' : in_v ? 'v' : 0;
                *ret_both = in_b && in_v;
                const struct stat *st = in_b ? &bs : &vs;
                *ret_type = !shown                 ? PROBE_MISSING
                            : S_ISDIR(st->st_mode) ? PROBE_DIRECTORY
                            : S_ISLNK(st->st_mode) ? PROBE_SYMLINK
                                                   : PROBE_FILE;
                if (!*end || !shown)
                        break;
                if (*ret_type != PROBE_DIRECTORY) { /* a name below a non-directory */
                        shown = 0;
                        *ret_type = PROBE_MISSING;
                        break;
                }
                /* Below: B's directory, and V's too where both are directories. */
                int next_b =
                        in_b ? openat(b, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
                int next_v =
                        in_v && S_ISDIR(vs.st_mode)
                                ? openat(v, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                : -1;
                if (b >= 0)
                        (void)close(b);
                if (v >= 0)
                        (void)close(v);
                b = next_b;
                v = next_v;
                p = end + 1;
        }
        as_caller_leave(saved);
        return shown;
}

/* The walk of the planner's resolution (planner_covering_link), told: a link passed
 * over on the way up from current is said so in a step. Two differences, both of what
 * shows now against what the planner would show: a link not shown now is passed over,
 * and a merged link (shown) decides the paths below it too, by its layers. */
struct deciding {
        struct link_manager *m;
        const char *current;
        struct steps *s;
};

static int decides(void *ctx, const struct link *l, enum cover_reason why)
{
        struct deciding *d = ctx;
        if (why == COVER_EXCEPTED) {
                /* A hole in the link (S14): what is beneath it shows. */
                const char *which = "";
                for (uint32_t i = 0; i < l->exception_count; i++)
                        if (strcmp(l->exception_paths[i], d->current) == 0 ||
                            path_is_strict_descendant(l->exception_paths[i], d->current))
                                which = l->exception_paths[i];
                return add_step(d->s, BINDLINK_STEP_EXCEPTION, d->current, l,
                                "inside the exception %s of the link on %s: the original object "
                                "shows, writable as it is on disk (S14)",
                                which, l->virtual_path);
        }
        if (why != COVER_COVERS && why != COVER_BELOW_MERGED)
                return 0;
        if (l->realization == BINDLINK_REALIZED_NONE) {
                struct placement p = {0};
                struct probe probe = manager_probe(d->m);
                int r = planner_place(&d->m->table, l, &probe, &p);
                return add_step(d->s, BINDLINK_STEP_NOT_SHOWN, d->current, l,
                                "the link on %s is registered but not shown now: %s; what is "
                                "beneath it shows",
                                l->virtual_path,
                                r < 0 ? strerror(-r) : manager_placement_words(&p));
        }
        return 1;
}

/* The deepest link whose virtual path is current or above it and that decides what
 * current shows, adding a step for each link passed over on the way (an exception of
 * it, not shown now). NULL when none does. */
static const struct link *deciding_link(struct link_manager *m, const char *current,
                                        struct steps *s, int *ret_error)
{
        struct deciding d = {.m = m, .current = current, .s = s};
        const struct link *l;
        *ret_error = planner_covering_link(&m->table, current, NULL, decides, &d, &l);
        return *ret_error < 0 ? NULL : l;
}

int link_manager_explain(struct link_manager *m, const char *path, const struct creds *as,
                         struct explain_step **ret_steps, size_t *ret_count, struct outcome *o)
{
        struct steps s = {0};
        if (!path_is_normalized(path)) {
                o->status = -EINVAL;
                o->fault = BINDLINK_FAULT_VIRTUAL;
                (void)snprintf(o->path, sizeof o->path, "%s", path);
                (void)snprintf(o->message, sizeof o->message,
                               "%s is not a normalized absolute path", path);
                return -EINVAL;
        }
        _cleanup_free_ char *current = strdup(path);
        int r = current ? 0 : -ENOMEM;
        while (r == 0) {
                const struct link *l = deciding_link(m, current, &s, &r);
                if (r < 0)
                        break;
                if (!l) {
                        /* No link covers it: what is on disk (beneath our overlays, as
                         * the caller may see it). */
                        int type = manager_probe_type(m, current, false, as);
                        if (type < 0)
                                r = type;
                        else if (type == PROBE_MISSING)
                                r = add_step(&s, BINDLINK_STEP_MISSING, current, NULL,
                                             "no link decides it, and nothing is there (or "
                                             "the caller may not see it)");
                        else
                                r = add_step(&s, BINDLINK_STEP_FOUND, current, NULL,
                                             "no link decides it: %s on disk", type_words(type));
                        break;
                }
                size_t vlen = strcmp(l->virtual_path, "/") == 0 ? 0 : strlen(l->virtual_path);
                const char *rest = current + vlen;
                bool below = *rest != '\0';
                char *next = NULL;
                /* A merged view (S12): B's names over the original's. (A shadow view,
                 * S14, shows B but along the way to its exceptions: as a plain link.) */
                const struct overlay_instance *view =
                        (l->flags & CREATE_BIND_LINK_FLAG_MERGED) &&
                                        l->realization == BINDLINK_REALIZED_OVERLAY
                                ? overlay_registry_find_merged(&m->overlays, l->virtual_path)
                                : NULL;
                if (view && (view->upper_fd < 0 || view->lower_fd < 0))
                        view = NULL;
                if (view && below) {
                        bool both;
                        int type;
                        int layer = merged_layer(view, rest + 1, as, &both, &type);
                        if (layer < 0) {
                                r = layer;
                                break;
                        }
                        if (layer == 'b') {
                                r = add_step(&s, BINDLINK_STEP_LAYER_BACKING, current, l,
                                             "the merged link on %s shows its backing path's "
                                             "%s%s%s",
                                             l->virtual_path, type_noun(type),
                                             both ? " (the original has one too: the "
                                                    "backing path wins, S12)"
                                                  : "",
                                             read_only_words(l));
                                if (r == 0)
                                        r = path_join(l->backing_path, rest, &next);
                        } else if (layer == 'v') {
                                r = add_step(&s, BINDLINK_STEP_LAYER_ORIGINAL, current, l,
                                             "the merged link on %s shows the original's %s "
                                             "(its backing path has no such name, S12)%s",
                                             l->virtual_path, type_noun(type), read_only_words(l));
                                if (r == 0)
                                        r = add_step(&s, BINDLINK_STEP_FOUND, current, NULL,
                                                     "%s in the original directory the view "
                                                     "covers",
                                                     type_words(type));
                                break;
                        } else {
                                r = add_step(&s, BINDLINK_STEP_MISSING, current, l,
                                             "the merged link on %s shows nothing there: "
                                             "neither its backing path nor the original has "
                                             "it (or the caller may not see it)",
                                             l->virtual_path);
                                break;
                        }
                } else {
                        r = path_join(l->backing_path, rest, &next);
                        if (r == 0)
                                r = add_step(&s, BINDLINK_STEP_LINK, current, l,
                                             "%s on %s (order %llu) shows %s there, %s%s",
                                             view ? "the merged link" : "the link", l->virtual_path,
                                             (unsigned long long)l->order, next,
                                             view ? "its names over the original's (a merged "
                                                    "view, S12)"
                                             : l->realization == BINDLINK_REALIZED_OVERLAY
                                                     ? "by a bind mount on an entry the overlay "
                                                       "of its parent makes up (S8, S9)"
                                                     : "by a bind mount",
                                             read_only_words(l));
                }
                if (r < 0) {
                        free(next);
                        break;
                }
                free(current);
                current = next;
        }
        if (r == -EINVAL)
                r = -ELOOP; /* a path that grew past PATH_MAX */
        if (r < 0) {
                explain_steps_free(s.items, s.count);
                o->status = r;
                o->fault = BINDLINK_FAULT_NONE;
                (void)snprintf(o->path, sizeof o->path, "%s", path);
                (void)snprintf(o->message, sizeof o->message, "cannot explain %s: %s", path,
                               r == -ELOOP ? "the links loop (S18)" : strerror(-r));
                return r;
        }
        *ret_steps = s.items;
        *ret_count = s.count;
        return 0;
}
