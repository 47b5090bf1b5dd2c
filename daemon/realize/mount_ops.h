/* mount_ops.h — the privileged mount steps, by file descriptor (new mount API). */
#ifndef BINDLINKD_MOUNT_OPS_H
#define BINDLINKD_MOUNT_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "creds.h"

/* Bind backing_path (recursively, as the view shows it now, as creator reaches it)
 * over virtual_path (reached with no symlink on the way), read-only if asked. On
 * success *ret_mount_id names the new mount. On failure nothing is left mounted;
 * *ret_failing_path says which path failed. */
int mount_bind_link(const struct creds *creator, const char *virtual_path,
                    const char *backing_path, bool read_only, uint64_t *ret_mount_id,
                    const char **ret_failing_path);

/* Detach the mount at virtual_path if it is the one we made (mount_id), with
 * everything mounted on it. 0 when detached, -ESTALE when the top mount there is
 * not ours (nothing done), -errno otherwise. */
int mount_detach_link(const char *virtual_path, uint64_t mount_id);

/* The id of the mount an open descriptor is on (never asks a FUSE server). */
int mount_id_of_fd(int fd, uint64_t *ret_mount_id);
/* The same mount's id as /proc/self/mountinfo shows it (reused once it is gone). */
int mount_legacy_id_of_fd(int fd, uint64_t *ret_mount_id);

/* Detach the topmost mount at path if its legacy id (the one /proc/self/mountinfo
 * shows) is legacy_id: 0, -ESTALE when another mount is on top, -errno. The unique id
 * of what was detached goes to *ret_mount_id (may be NULL). */
int mount_detach_by_legacy_id(const char *path, uint64_t legacy_id, uint64_t *ret_mount_id);

/* The id of the topmost mount at path (without following a final symlink). */
int mount_id_at(const char *path, uint64_t *ret_mount_id);

/* S14: stat what virtual_path covers, at rest ("/e/x") below it. 0 or -errno. */
int mount_covered_type(const char *virtual_path, const char *rest, bool follow,
                       struct stat *ret_stat);

/* S14: graft what virtual_path covers at rest (as creator reaches it, below V, no
 * symlink on the way) onto target (the exception's path in the view), writable as it
 * is on disk. */
int mount_graft_covered(const struct creds *creator, const char *virtual_path,
                        const char *rest, const char *target, uint64_t *ret_mount_id,
                        const char **ret_failing_path);

#endif
