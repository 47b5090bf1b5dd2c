/* hresult.c — errno <-> HRESULT at the Windows-compatible edge (S2), and errno names. */
#include <errno.h>
#include <stddef.h>

#include "bindlink.h"

#define ERROR_TOO_MANY_OPEN_FILES 4L
#define ERROR_NOT_ENOUGH_MEMORY 8L
#define ERROR_NOT_SAME_DEVICE 17L
#define ERROR_WRITE_PROTECT 19L
#define ERROR_DISK_FULL 112L
#define ERROR_BUSY 170L
#define ERROR_FILENAME_EXCED_RANGE 206L
#define ERROR_DIRECTORY 267L
#define ERROR_IO_DEVICE 1117L
#define ERROR_TIMEOUT 1460L
#define ERROR_CANT_RESOLVE_FILENAME 1921L

HRESULT bindlink_hresult_from_errno(int error, bindlink_fault fault, int is_remove)
{
        if (error < 0)
                error = -error;
        switch (error) {
        case 0:
                return S_OK;
        case EPERM:
        case EACCES:
                return E_ACCESSDENIED;
        case ENOENT:
                if (fault == BINDLINK_FAULT_DAEMON)
                        return HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
                if (fault == BINDLINK_FAULT_VIRTUAL_PARENT)
                        return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
                if (is_remove && fault == BINDLINK_FAULT_VIRTUAL)
                        return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
                return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
        case ECONNREFUSED:
        case ECONNRESET:
        case EPIPE:
        case ENOTCONN:
        case EPROTO:
                return HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
        case EEXIST:
        case EINVAL:
                return E_INVALIDARG;
        case ENOTSUP:
        case ENOSYS:
                return E_NOTIMPL;
        case ENOMEM:
                return E_OUTOFMEMORY;
        case ELOOP:
                return HRESULT_FROM_WIN32(ERROR_CANT_RESOLVE_FILENAME);
        case ENOTDIR:
                return fault == BINDLINK_FAULT_VIRTUAL_PARENT
                               ? HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND)
                               : HRESULT_FROM_WIN32(ERROR_DIRECTORY);
        case ENAMETOOLONG:
                return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
        case EMFILE:
        case ENFILE:
                return HRESULT_FROM_WIN32(ERROR_TOO_MANY_OPEN_FILES);
        case EXDEV:
                return HRESULT_FROM_WIN32(ERROR_NOT_SAME_DEVICE);
        case EROFS:
                return HRESULT_FROM_WIN32(ERROR_WRITE_PROTECT);
        case ENOSPC:
                return HRESULT_FROM_WIN32(ERROR_DISK_FULL);
        case EBUSY:
                return HRESULT_FROM_WIN32(ERROR_BUSY);
        case EIO:
                return HRESULT_FROM_WIN32(ERROR_IO_DEVICE);
        case ETIMEDOUT:
                return HRESULT_FROM_WIN32(ERROR_TIMEOUT);
        default:
                return E_FAIL;
        }
}

const char *bindlink_errno_name(int error)
{
        static const struct {
                int error;
                const char *name;
        } names[] = {
                {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {EIO, "EIO"}, {EBADF, "EBADF"},
                {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EBUSY, "EBUSY"},
                {EEXIST, "EEXIST"}, {EXDEV, "EXDEV"}, {ENOTDIR, "ENOTDIR"},
                {EISDIR, "EISDIR"}, {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"},
                {EMFILE, "EMFILE"}, {ENOSPC, "ENOSPC"}, {EROFS, "EROFS"},
                {EPIPE, "EPIPE"}, {ENAMETOOLONG, "ENAMETOOLONG"}, {ENOSYS, "ENOSYS"},
                {ELOOP, "ELOOP"}, {EPROTO, "EPROTO"}, {EMSGSIZE, "EMSGSIZE"},
                {ENOTSUP, "ENOTSUP"}, {ECONNRESET, "ECONNRESET"},
                {ENOTCONN, "ENOTCONN"}, {ETIMEDOUT, "ETIMEDOUT"},
                {ECONNREFUSED, "ECONNREFUSED"}, {ESTALE, "ESTALE"},
                {EOVERFLOW, "EOVERFLOW"}, {EAGAIN, "EAGAIN"},
        };
        if (error < 0)
                error = -error;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (names[i].error == error)
                        return names[i].name;
        return NULL;
}

const char *bindlink_realization_name(bindlink_realization realization)
{
        switch (realization) {
        case BINDLINK_REALIZED_BIND:
                return "bind";
        case BINDLINK_REALIZED_OVERLAY:
                return "overlay";
        case BINDLINK_REALIZED_NONE:
        default:
                return "none";
        }
}
