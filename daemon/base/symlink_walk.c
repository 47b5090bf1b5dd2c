/* symlink_walk.c — resolve a named backing path component by component, as its
 * creator, noting each symlink on the way (see symlink_walk.h). */
#include "symlink_walk.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "as_caller.h"
#include "path.h"
#include "util.h"

void symlink_walk_done(struct symlink_walk *walk)
{
        free(walk->resolved);
        for (size_t i = 0; i < walk->count; i++)
                free(walk->symlinks[i]);
        free(walk->symlinks);
        *walk = (struct symlink_walk){0};
}

static int note_symlink(struct symlink_walk *walk, const char *path)
{
        char **grown = realloc(walk->symlinks, (walk->count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        walk->symlinks = grown;
        walk->symlinks[walk->count] = strdup(path);
        if (!walk->symlinks[walk->count])
                return -ENOMEM;
        walk->count++;
        return 0;
}

/* Resolve dir (absolute, folded) following every symlink, into *ret_path. The
 * components still to walk are kept in `rest`, a path relative to `at`: a symlink's
 * target replaces the component that named it. Runs as the caller already. */
static int walk_dir(struct symlink_walk *walk, const char *dir, char **ret_path)
{
        _cleanup_free_ char *at = strdup("/"), *rest = strdup(dir);
        if (!at || !rest)
                return -ENOMEM;
        unsigned followed = 0;
        for (;;) {
                const char *p = rest;
                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                size_t len = strcspn(p, "/");
                _cleanup_free_ char *component = strndup(p, len);
                if (!component)
                        return -ENOMEM;
                const char *after = p + len;
                if (strcmp(component, ".") == 0) {
                        memmove(rest, after, strlen(after) + 1);
                        continue;
                }
                if (strcmp(component, "..") == 0) {
                        /* Physical: the parent of what was reached, as the kernel's. */
                        char *up = NULL;
                        if (strcmp(at, "/") != 0) {
                                int r = path_parent(at, &up);
                                if (r < 0)
                                        return r;
                                free(at);
                                at = up;
                        }
                        memmove(rest, after, strlen(after) + 1);
                        continue;
                }
                _cleanup_free_ char *next = NULL;
                int r = path_join(at, component, &next);
                if (r < 0)
                        return r == -EINVAL ? -ENAMETOOLONG : r;
                struct stat st;
                if (lstat(next, &st) < 0)
                        return negative_errno();
                if (S_ISLNK(st.st_mode)) {
                        if (++followed > SYMLINK_WALK_MAX)
                                return -ELOOP;
                        r = note_symlink(walk, next);
                        if (r < 0)
                                return r;
                        char target[PATH_MAX];
                        ssize_t n = readlink(next, target, sizeof target - 1);
                        if (n < 0)
                                return negative_errno();
                        if (n == 0)
                                return -ENOENT;
                        target[n] = '\0';
                        /* The target, then what followed the symlink's name. */
                        size_t need = (size_t)n + 1 + strlen(after) + 1;
                        if (need > PATH_MAX)
                                return -ENAMETOOLONG;
                        char *spliced = malloc(need);
                        if (!spliced)
                                return -ENOMEM;
                        memcpy(spliced, target, (size_t)n);
                        spliced[n] = '/';
                        strcpy(spliced + n + 1, after);
                        free(rest);
                        rest = spliced;
                        if (target[0] == '/') {
                                free(at);
                                at = strdup("/");
                                if (!at)
                                        return -ENOMEM;
                        }
                        continue;
                }
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                free(at);
                at = TAKE_PTR(next);
                memmove(rest, after, strlen(after) + 1);
        }
        *ret_path = TAKE_PTR(at);
        return 0;
}

int symlink_walk(const struct creds *creds, const char *named, struct symlink_walk *ret)
{
        *ret = (struct symlink_walk){0};
        if (!path_is_normalized(named) || strcmp(named, "/") == 0)
                return -EINVAL;
        _cleanup_free_ char *parent = NULL, *real_parent = NULL;
        int r = path_parent(named, &parent);
        if (r < 0)
                return r;
        struct as_caller_saved *saved;
        r = as_caller_enter(creds, &saved);
        if (r < 0)
                return r;
        r = walk_dir(ret, parent, &real_parent);
        as_caller_leave(saved);
        if (r >= 0)
                r = path_join(real_parent, path_last(named), &ret->resolved);
        if (r < 0) {
                free(ret->resolved);
                ret->resolved = NULL;
        }
        return r;
}
