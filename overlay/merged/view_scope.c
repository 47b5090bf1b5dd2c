/* view_scope.c — which layers a merged view consults below a directory.
 *
 * A MERGED link consults both layers everywhere (the union, S12). A link that is not
 * merged but has an exception whose parent directory B lacks (S14) is shown by the
 * same view in "shadow" mode: B alone, except along the paths to its exceptions,
 * where the original V's directories are shown (merged with B's where B has them)
 * so that the exception has a place, and at the exceptions, which show the original
 * V's object alone. A MERGED link with exceptions is the union but at its exceptions
 * (and on the way to them, as above): union_rest. */
#include "merged.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The first component of path is name. */
static bool starts_with_component(const char *path, const char *name, const char **rest)
{
        size_t len = strlen(name);
        if (strncmp(path, name, len) != 0 || (path[len] != '\0' && path[len] != '/'))
                return false;
        *rest = path[len] == '/' ? path + len + 1 : path + len;
        return true;
}

enum scope_pick scope_pick(const struct view_scope *s, const char *name)
{
        switch (s->kind) {
        case SCOPE_UNION:
                return PICK_UNION;
        case SCOPE_UPPER:
                return PICK_UPPER;
        case SCOPE_LOWER:
                return PICK_LOWER;
        case SCOPE_PATHS:
                break;
        }
        enum scope_pick pick = s->union_rest ? PICK_UNION : PICK_UPPER;
        for (size_t i = 0; i < s->count; i++) {
                const char *rest;
                if (!starts_with_component(s->paths[i], name, &rest))
                        continue;
                if (*rest == '\0')
                        return PICK_LOWER; /* the exception itself */
                pick = PICK_PATH;
        }
        return pick;
}

int scope_child(const struct view_scope *parent, const char *name, struct view_scope *child)
{
        *child = (struct view_scope){.kind = parent->kind, .union_rest = parent->union_rest};
        if (parent->kind != SCOPE_PATHS)
                return 0;
        switch (scope_pick(parent, name)) {
        case PICK_LOWER:
                child->kind = SCOPE_LOWER;
                return 0;
        case PICK_UPPER:
                child->kind = SCOPE_UPPER;
                return 0;
        case PICK_UNION:
                child->kind = SCOPE_UNION;
                return 0;
        default:
                break;
        }
        child->paths = calloc(parent->count, sizeof *child->paths);
        if (!child->paths)
                return -ENOMEM;
        for (size_t i = 0; i < parent->count; i++) {
                const char *rest;
                if (!starts_with_component(parent->paths[i], name, &rest) || !*rest)
                        continue;
                child->paths[child->count] = strdup(rest);
                if (!child->paths[child->count++]) {
                        scope_done(child);
                        return -ENOMEM;
                }
        }
        return 0;
}

bool scope_lists_lower_name(const struct view_scope *s, const char *name)
{
        if (s->kind == SCOPE_PATHS)
                return scope_pick(s, name) != PICK_UPPER;
        return s->kind != SCOPE_UPPER;
}

void scope_done(struct view_scope *s)
{
        for (size_t i = 0; i < s->count; i++)
                free(s->paths[i]);
        free(s->paths);
        *s = (struct view_scope){0};
}
