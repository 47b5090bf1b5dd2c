/* normalize.h — S3 normalization against the calling process's cwd and view. */
#ifndef BINDLINK_NORMALIZE_H
#define BINDLINK_NORMALIZE_H

/* Returns 0 with a malloc'd absolute path whose ancestors are canonical; when the
 * ancestors cannot be resolved the folded path is returned and *ret_parent_error
 * holds the positive errno (ENOENT, EACCES, ENOTDIR, …). -EINVAL/-ENOMEM/-errno
 * when no path can be produced at all. With ret_parent_fd, the parent directory,
 * opened as the caller (O_PATH|O_DIRECTORY), is handed over there (-1 if it could
 * not be opened). */
int normalize_path(const char *path, char **ret_path, int *ret_parent_error,
                   int *ret_parent_fd);

/* path folded against the cwd (".", "..", "//", a trailing "/"), its symlinks not
 * followed: the path as the caller named it. 0 with a malloc'd absolute path, or
 * -errno. */
int fold_path(const char *path, char **ret_path);

#endif
