/* request.h — preparing requests as the caller, and filling bindlink_error. */
#ifndef BINDLINK_REQUEST_H
#define BINDLINK_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "bindlink.h"
#include "wire.h"

/* Descriptors opened as the caller, in wire order (parent, backing, exceptions). */
struct caller_fds {
        int fds[WIRE_MAX_FDS];
        size_t count;
};

void caller_fds_close(struct caller_fds *fds);

/* Validate the arguments (S2's EINVAL rows), normalize the paths and open them as the
 * caller. On success *ret_msg and *ret_fds are owned by the caller. */
int request_prepare_create(const char *virtual_path, const char *backing_path, uint32_t flags,
                           uint32_t exception_count, const char *const *exception_paths,
                           struct wire_create *ret_msg, struct caller_fds *ret_fds,
                           bindlink_error *ret_error);

/* S23: the same for a link in another mount namespace: V and the exceptions are
 * paths in the target (checked with request_target_path, not opened here); B is
 * normalized and opened as the caller. Descriptors are appended to *fds (which may
 * hold the target's already). */
int request_prepare_create_in(const char *virtual_path, const char *backing_path,
                              uint32_t flags, uint32_t exception_count,
                              const char *const *exception_paths, struct wire_create *ret_msg,
                              struct caller_fds *fds, bindlink_error *ret_error);
/* A path in a target namespace: absolute, with no "." or ".." components; repeated
 * and trailing slashes dropped. A copy in *ret, or -EINVAL / -ENOMEM. */
int request_target_path(const char *path, char **ret);
/* Fill *ret_error (if not NULL) and return -error. */
__attribute__((format(printf, 6, 7))) int
request_fail(bindlink_error *ret_error, int error, bindlink_fault fault, int is_remove,
             const char *path, const char *fmt, ...);
void request_clear_error(bindlink_error *ret_error);
/* Not NULL, not empty, shorter than PATH_MAX (S2's EINVAL row). */
bool request_valid_path(const char *path);

#endif
