/* normalize.c — S3 path identity as seen by the calling process: fold against the
 * cwd, then resolve symlinks in the ancestors (the last component names the link's
 * place and is kept). Shared by libbindlink and bindlinkd (for links.conf). */
#include "normalize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "path.h"
#include "util.h"

/* The canonical path of an open directory, from its /proc magic link: one readlink
 * instead of realpath's one per component. NULL when /proc cannot say (not mounted,
 * or the directory was deleted). */
static char *fd_path(int fd)
{
        char proc[64], buf[PATH_MAX];
        (void)snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(proc, buf, sizeof buf - 1);
        if (n <= 0 || buf[0] != '/')
                return NULL;
        buf[n] = '\0';
        static const char deleted[] = " (deleted)";
        size_t dl = sizeof deleted - 1;
        if ((size_t)n > dl && strcmp(buf + n - dl, deleted) == 0)
                return NULL;
        return strdup(buf);
}

int fold_path(const char *path, char **ret_path)
{
        _cleanup_free_ char *cwd = NULL;
        if (path[0] != '/') {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return negative_errno();
        }
        return path_fold(cwd, path, ret_path);
}

int normalize_path(const char *path, char **ret_path, int *ret_parent_error, int *ret_parent_fd)
{
        if (ret_parent_fd)
                *ret_parent_fd = -1;
        _cleanup_free_ char *folded = NULL;
        int r = fold_path(path, &folded);
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
        /* Opened as the caller: this is also the permission check on the ancestors. */
        _cleanup_close_ int parent_fd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0) {
                *ret_parent_error = errno > 0 ? errno : EIO;
                *ret_path = TAKE_PTR(folded);
                return 0;
        }
        _cleanup_free_ char *real_parent = fd_path(parent_fd);
        if (!real_parent)
                real_parent = realpath(parent, NULL);
        if (!real_parent) {
                *ret_parent_error = errno > 0 ? errno : EIO;
                *ret_path = TAKE_PTR(folded);
                return 0;
        }
        r = path_join(real_parent, path_last(folded), ret_path);
        if (r >= 0 && ret_parent_fd)
                *ret_parent_fd = TAKE_FD(parent_fd);
        return r;
}
