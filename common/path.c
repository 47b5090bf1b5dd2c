/* path.c — lexical path normalization (S3) and relations between folded paths. */
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int path_fold(const char *base, const char *path, char **ret_path)
{
        if (!path || !*path)
                return -EINVAL;
        if (path[0] != '/' && (!base || base[0] != '/'))
                return -EINVAL;

        size_t base_len = path[0] == '/' ? 0 : strlen(base);
        size_t in_len = base_len + 1 + strlen(path) + 1;
        _cleanup_free_ char *joined = malloc(in_len);
        _cleanup_free_ char *out = malloc(in_len + 1);
        if (!joined || !out)
                return -ENOMEM;
        if (base_len)
                (void)snprintf(joined, in_len, "%s/%s", base, path);
        else
                (void)snprintf(joined, in_len, "%s", path);

        /* Walk components; out always holds a folded absolute prefix without a
         * trailing slash ("" stands for "/"). */
        size_t out_len = 0;
        const char *p = joined;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *end = strchr(p, '/');
                size_t n = end ? (size_t)(end - p) : strlen(p);
                if (n == 1 && p[0] == '.') {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (out_len > 0 && out[out_len - 1] != '/')
                                out_len--;
                        if (out_len > 0)
                                out_len--; /* drop the slash too */
                } else {
                        out[out_len++] = '/';
                        memcpy(out + out_len, p, n);
                        out_len += n;
                }
                p += n;
        }
        if (out_len == 0)
                out[out_len++] = '/';
        out[out_len] = '\0';
        if (out_len >= PATH_MAX)
                return -EINVAL;

        *ret_path = TAKE_PTR(out);
        return 0;
}

bool path_is_strict_descendant(const char *ancestor, const char *descendant)
{
        size_t n = strlen(ancestor);
        if (strcmp(ancestor, "/") == 0)
                return descendant[0] == '/' && descendant[1] != '\0';
        return strncmp(ancestor, descendant, n) == 0 && descendant[n] == '/' &&
               descendant[n + 1] != '\0';
}

bool path_on_same_line(const char *a, const char *b)
{
        return strcmp(a, b) == 0 || path_is_strict_descendant(a, b) ||
               path_is_strict_descendant(b, a);
}

size_t path_depth(const char *path)
{
        size_t depth = 0;
        for (const char *p = path; *p; p++)
                if (*p == '/' && p[1] != '\0')
                        depth++;
        return depth;
}

int path_parent(const char *path, char **ret_parent)
{
        if (strcmp(path, "/") == 0 || path[0] != '/')
                return -EINVAL;
        const char *slash = strrchr(path, '/');
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        char *parent = strndup(path, n);
        if (!parent)
                return -ENOMEM;
        *ret_parent = parent;
        return 0;
}

const char *path_last(const char *path)
{
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

int path_join(const char *dir, const char *name, char **ret_path)
{
        /* name is always below dir, even when it starts with slashes or is empty. */
        while (*name == '/')
                name++;
        if (!*name)
                return path_fold(NULL, dir, ret_path);
        size_t size = strlen(dir) + 1 + strlen(name) + 1;
        _cleanup_free_ char *joined = malloc(size);
        if (!joined)
                return -ENOMEM;
        (void)snprintf(joined, size, "%s/%s", dir, name);
        return path_fold(NULL, joined, ret_path);
}

bool path_is_normalized(const char *path)
{
        if (!path || path[0] != '/')
                return false;
        char *folded = NULL;
        bool same = path_fold(NULL, path, &folded) >= 0 && strcmp(folded, path) == 0;
        free(folded);
        return same;
}
