/* path.h — lexical path normalization and path relations (S3). Pure: no syscalls. */
#ifndef BINDLINK_PATH_H
#define BINDLINK_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Make path absolute against base (an absolute directory; ignored when path is
 * absolute) and fold ".", "..", duplicate and trailing slashes. "/.." is "/".
 * Returns 0 and a malloc'd string, -EINVAL for NULL/empty/relative-without-base
 * or a result longer than PATH_MAX-1, -ENOMEM. */
int path_fold(const char *base, const char *path, char **ret_path);

/* Is path absolute and already folded (what path_fold would give back unchanged)? */
bool path_is_normalized(const char *path);
/* True when descendant lies strictly below ancestor (both folded). */
bool path_is_strict_descendant(const char *ancestor, const char *descendant);
/* True when a equals b or one lies below the other (both folded). */
bool path_on_same_line(const char *a, const char *b);
/* Number of components: "/" is 0, "/a/b" is 2. */
size_t path_depth(const char *path);
/* The parent of a folded path ("/" for "/a"); malloc'd. -EINVAL for "/". */
int path_parent(const char *path, char **ret_parent);
/* The last component of a folded path (points into path). */
const char *path_last(const char *path);
/* dir + "/" + name, folded; malloc'd. name is taken as relative to dir (leading
 * slashes ignored); an empty name gives dir. */
int path_join(const char *dir, const char *name, char **ret_path);

#endif
