/* normalize.c — S3 path identity as seen by the calling process: fold against the
 * cwd, then resolve symlinks in the ancestors (the last component names the link's
 * place and is kept). Shared by libbindlink and bindlinkd (for links.conf). */
#include "normalize.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "path.h"
#include "util.h"

/* Fold path against the cwd and resolve symlinks in its ancestors (S3); the last
 * component is kept as given. When the ancestors cannot be resolved, the folded
 * path is returned with *ret_parent_error set (ENOENT, EACCES, ENOTDIR, …). */
int normalize_path(const char *path, char **ret_path, int *ret_parent_error)
{
        _cleanup_free_ char *cwd = NULL;
        if (path[0] != '/') {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return negative_errno();
        }
        _cleanup_free_ char *folded = NULL;
        int r = path_fold(cwd, path, &folded);
        if (r < 0)
                return r;
        *ret_parent_error = 0;
        if (strcmp(folded, "/") == 0) {
                *ret_path = TAKE_PTR(folded);
                return 0;
        }
        _cleanup_free_ char *parent = NULL;
        r = path_parent(folded, &parent);
        if (r < 0)
                return r;
        _cleanup_free_ char *real_parent = realpath(parent, NULL);
        if (!real_parent) {
                *ret_parent_error = errno > 0 ? errno : EIO;
                *ret_path = TAKE_PTR(folded);
                return 0;
        }
        return path_join(real_parent, path_last(folded), ret_path);
}

