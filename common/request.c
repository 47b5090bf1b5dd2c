/* request.c — building a create request as the caller: normalize every path (S3)
 * and open V's parent, B and each exception with the caller's own credentials. The
 * descriptors (or the errno of each failed open) go to the daemon, which decides.
 * Used by libbindlink and by bindlinkd for links.conf (where the caller is root). */
#include "request.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "normalize.h"
#include "path.h"
#include "util.h"

int request_fail(bindlink_error *ret_error, int error, bindlink_fault fault, int is_remove,
     const char *path, const char *fmt, ...)
{
        if (error > 0)
                error = -error;
        if (ret_error) {
                ret_error->error = -error;
                ret_error->fault = fault;
                ret_error->hresult = bindlink_hresult_from_errno(error, fault, is_remove);
                (void)snprintf(ret_error->path, sizeof ret_error->path, "%s", path ? path : "");
                va_list ap;
                va_start(ap, fmt);
                (void)vsnprintf(ret_error->message, sizeof ret_error->message, fmt, ap);
                va_end(ap);
        }
        return error;
}

void request_clear_error(bindlink_error *ret_error)
{
        if (ret_error) {
                ret_error->error = 0;
                ret_error->hresult = S_OK;
                ret_error->fault = BINDLINK_FAULT_NONE;
                ret_error->exception_index = 0;
                ret_error->path[0] = '\0';
                ret_error->message[0] = '\0';
        }
}

bool request_valid_path(const char *path)
{
        return path && *path && strnlen(path, PATH_MAX) < PATH_MAX;
}

void caller_fds_close(struct caller_fds *o)
{
        for (size_t i = 0; i < o->count; i++)
                (void)close(o->fds[i]);
        o->count = 0;
}

/* Open as the caller; returns 0 (fd kept) or the positive errno of the failure. */
static int32_t open_as_caller(struct caller_fds *o, const char *path, int flags)
{
        int fd = open(path, flags | O_PATH | O_CLOEXEC);
        if (fd < 0)
                return errno > 0 ? errno : EIO;
        o->fds[o->count++] = fd;
        return 0;
}

/* S2's EINVAL rows, the same for every create: 0 or -EINVAL (filled in). */
static int check_create_args(const char *virtual_path, const char *backing_path, uint32_t flags,
                             uint32_t exception_count, const char *const *exception_paths,
                             bindlink_error *ret_error)
{
        if (flags & ~(uint32_t)(CREATE_BIND_LINK_FLAG_READ_ONLY | CREATE_BIND_LINK_FLAG_MERGED))
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_FLAGS, 0, NULL,
                            "unknown flag bits 0x%x", flags);
        if (!request_valid_path(virtual_path))
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_VIRTUAL, 0, NULL,
                            "virtual path is missing, empty or longer than PATH_MAX");
        if (!request_valid_path(backing_path))
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_BACKING, 0, NULL,
                            "backing path is missing, empty or longer than PATH_MAX");
        if (exception_count > 0 && !exception_paths)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_EXCEPTION, 0, NULL,
                            "%u exceptions but no exception array", exception_count);
        if (exception_count > BINDLINK_MAX_EXCEPTIONS)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_EXCEPTION, 0, NULL,
                            "%u exceptions; at most %d are allowed", exception_count,
                            BINDLINK_MAX_EXCEPTIONS);
        for (uint32_t i = 0; i < exception_count; i++)
                if (!request_valid_path(exception_paths[i])) {
                        int r = request_fail(ret_error, EINVAL, BINDLINK_FAULT_EXCEPTION, 0, NULL,
                                     "exception %u is missing, empty or longer than PATH_MAX",
                                     i);
                        if (ret_error)
                                ret_error->exception_index = i;
                        return r;
                }
        return 0;
}

int request_prepare_create(const char *virtual_path, const char *backing_path, uint32_t flags,
                           uint32_t exception_count, const char *const *exception_paths,
                           struct wire_create *ret_msg, struct caller_fds *ret_fds,
                           bindlink_error *ret_error)
{
        int check = check_create_args(virtual_path, backing_path, flags, exception_count,
                                      exception_paths, ret_error);
        if (check < 0)
                return check;

        struct wire_create msg = {.flags = flags, .exception_count = exception_count};
        struct caller_fds opened = {.count = 0};
        int parent_error, r;

        int parent_fd;
        r = normalize_path(virtual_path, &msg.virtual_path, &parent_error, &parent_fd);
        if (r < 0)
                return request_fail(ret_error, r, BINDLINK_FAULT_VIRTUAL, 0, virtual_path,
                            "cannot normalize virtual path %s: %s", virtual_path,
                            strerror(-r));
        msg.parent_error = parent_error;
        if (strcmp(msg.virtual_path, "/") == 0)
                msg.parent_error = EINVAL; /* "/" has no parent; the daemon refuses it */
        else if (parent_fd >= 0)
                opened.fds[opened.count++] = parent_fd;

        int backing_parent_error; /* opening B below reports the same cause */
        r = normalize_path(backing_path, &msg.backing_path, &backing_parent_error, NULL);
        if (r < 0) {
                r = request_fail(ret_error, r, BINDLINK_FAULT_BACKING, 0, backing_path,
                         "cannot normalize backing path %s: %s", backing_path, strerror(-r));
                goto out;
        }
        msg.backing_error = open_as_caller(&opened, msg.backing_path, 0);
        /* B named through a symlink on the way: the daemon keeps the name, to follow
         * the symlink when it is re-pointed (S10). */
        char *named = NULL;
        if (!backing_parent_error && fold_path(backing_path, &named) >= 0 &&
            strcmp(named, msg.backing_path) != 0)
                msg.backing_named = TAKE_PTR(named);
        free(named);

        if (exception_count > 0) {
                msg.exception_paths = calloc(exception_count, sizeof(char *));
                msg.exception_errors = calloc(exception_count, sizeof(int32_t));
                if (!msg.exception_paths || !msg.exception_errors) {
                        r = request_fail(ret_error, ENOMEM, BINDLINK_FAULT_NONE, 0, NULL,
                                 "out of memory");
                        goto out;
                }
        }
        for (uint32_t i = 0; i < exception_count; i++) {
                int ignored;
                r = normalize_path(exception_paths[i], &msg.exception_paths[i], &ignored, NULL);
                if (r < 0) {
                        r = request_fail(ret_error, r, BINDLINK_FAULT_EXCEPTION, 0,
                                 exception_paths[i], "cannot normalize exception %s: %s",
                                 exception_paths[i], strerror(-r));
                        goto out;
                }
                msg.exception_errors[i] =
                        open_as_caller(&opened, msg.exception_paths[i], O_NOFOLLOW);
        }

        *ret_msg = msg;
        *ret_fds = opened;
        return 0;
out:
        caller_fds_close(&opened);
        wire_create_free(&msg);
        return r;
}

int request_target_path(const char *path, char **ret)
{
        if (!path || path[0] != '/' || strnlen(path, PATH_MAX) >= PATH_MAX)
                return -EINVAL;
        char *out = malloc(strlen(path) + 1);
        if (!out)
                return -ENOMEM;
        size_t n = 0;
        for (const char *p = path; *p;) {
                while (*p == '/')
                        p++;
                const char *end = strchrnul(p, '/');
                size_t len = (size_t)(end - p);
                if (len == 0)
                        break;
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
                        free(out);
                        return -EINVAL;
                }
                out[n++] = '/';
                memcpy(out + n, p, len);
                n += len;
                p = end;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        *ret = out;
        return 0;
}

int request_prepare_create_in(const char *virtual_path, const char *backing_path,
                              uint32_t flags, uint32_t exception_count,
                              const char *const *exception_paths, struct wire_create *ret_msg,
                              struct caller_fds *fds, bindlink_error *ret_error)
{
        int check = check_create_args(virtual_path, backing_path, flags, exception_count,
                                      exception_paths, ret_error);
        if (check < 0)
                return check;
        struct wire_create msg = {.flags = flags};
        int r = request_target_path(virtual_path, &msg.virtual_path);
        if (r < 0)
                return request_fail(ret_error, r, BINDLINK_FAULT_VIRTUAL, 0, virtual_path,
                                    "a virtual path in a target namespace must be absolute, "
                                    "without . or .. components: %s",
                                    virtual_path);
        if (exception_count > 0) {
                msg.exception_paths = calloc(exception_count, sizeof(char *));
                msg.exception_errors = calloc(exception_count, sizeof(int32_t));
                if (!msg.exception_paths || !msg.exception_errors) {
                        wire_create_free(&msg);
                        return request_fail(ret_error, ENOMEM, BINDLINK_FAULT_NONE, 0, NULL,
                                            "out of memory");
                }
                msg.exception_count = exception_count;
        }
        for (uint32_t i = 0; i < exception_count; i++) {
                r = request_target_path(exception_paths[i], &msg.exception_paths[i]);
                if (r < 0) {
                        wire_create_free(&msg);
                        r = request_fail(ret_error, r, BINDLINK_FAULT_EXCEPTION, 0,
                                         exception_paths[i],
                                         "exception %u is not an absolute path without . or "
                                         "..",
                                         i);
                        if (ret_error)
                                ret_error->exception_index = i;
                        return r;
                }
        }
        int ignored;
        r = normalize_path(backing_path, &msg.backing_path, &ignored, NULL);
        if (r < 0) {
                wire_create_free(&msg);
                return request_fail(ret_error, r, BINDLINK_FAULT_BACKING, 0, backing_path,
                                    "cannot normalize backing path %s: %s", backing_path,
                                    strerror(-r));
        }
        msg.backing_error = open_as_caller(fds, msg.backing_path, 0);
        *ret_msg = msg;
        return 0;
}
