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

const char *bindlink_hresult_message(HRESULT hr)
{
        static const struct {
                HRESULT hr;
                const char *text;
        } known[] = {
                {S_OK, "The operation completed successfully."},
                {E_INVALIDARG, "One or more arguments are not valid."},
                {E_ACCESSDENIED, "Access is denied."},
                {E_NOTIMPL, "Not implemented."},
                {E_OUTOFMEMORY, "Not enough memory is available to complete this operation."},
                {E_FAIL, "Unspecified error."},
                {HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
                 "The system cannot find the file specified."},
                {HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND),
                 "The system cannot find the path specified."},
                {HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "Element not found."},
                {HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE),
                 "The bind link service (bindlinkd) is unavailable."},
                {HRESULT_FROM_WIN32(ERROR_CANT_RESOLVE_FILENAME),
                 "The name of the file cannot be resolved by the system."},
                {HRESULT_FROM_WIN32(ERROR_DIRECTORY), "The directory name is invalid."},
                {HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE),
                 "The filename or extension is too long."},
                {HRESULT_FROM_WIN32(ERROR_TOO_MANY_OPEN_FILES), "Too many files are open."},
                {HRESULT_FROM_WIN32(ERROR_NOT_SAME_DEVICE),
                 "The file cannot be moved to a different device."},
                {HRESULT_FROM_WIN32(ERROR_WRITE_PROTECT), "The media is write protected."},
                {HRESULT_FROM_WIN32(ERROR_DISK_FULL), "There is not enough space on the disk."},
                {HRESULT_FROM_WIN32(ERROR_BUSY), "The requested resource is in use."},
                {HRESULT_FROM_WIN32(ERROR_IO_DEVICE),
                 "The request could not be performed because of an I/O device error."},
                {HRESULT_FROM_WIN32(ERROR_TIMEOUT), "The operation timed out."},
        };
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
                if (known[i].hr == hr)
                        return known[i].text;
        return "Unknown error.";
}

const char *bindlink_errno_name(int error)
{
        static const struct {
                int error;
                const char *name;
        } names[] = {
                {EPERM, "EPERM"},       {ENOENT, "ENOENT"},       {EIO, "EIO"},
                {EBADF, "EBADF"},       {ENOMEM, "ENOMEM"},       {EACCES, "EACCES"},
                {EBUSY, "EBUSY"},       {EEXIST, "EEXIST"},       {EXDEV, "EXDEV"},
                {ENOTDIR, "ENOTDIR"},   {EISDIR, "EISDIR"},       {EINVAL, "EINVAL"},
                {ENFILE, "ENFILE"},     {EMFILE, "EMFILE"},       {ENOSPC, "ENOSPC"},
                {EROFS, "EROFS"},       {EPIPE, "EPIPE"},         {ENAMETOOLONG, "ENAMETOOLONG"},
                {ENOSYS, "ENOSYS"},     {ELOOP, "ELOOP"},         {EPROTO, "EPROTO"},
                {EMSGSIZE, "EMSGSIZE"}, {ENOTSUP, "ENOTSUP"},     {ECONNRESET, "ECONNRESET"},
                {ENOTCONN, "ENOTCONN"}, {ETIMEDOUT, "ETIMEDOUT"}, {ECONNREFUSED, "ECONNREFUSED"},
                {ESTALE, "ESTALE"},     {EOVERFLOW, "EOVERFLOW"}, {EAGAIN, "EAGAIN"},
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
