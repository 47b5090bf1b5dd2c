/* bindlink.h — the Windows Bind Link API (CreateBindLink/RemoveBindLink) on Linux,
 * plus a native API (bindlink_*) that returns 0 or a negative errno.
 *
 * Links are realized by bindlinkd; these calls talk to it over a Unix socket
 * (default /run/bindlinkd.sock, overridden by the BINDLINK_SOCKET environment
 * variable). Every function is thread-safe and keeps no global state. */
#ifndef BINDLINK_H
#define BINDLINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The Windows-compatible edge -------------------------------------------- */

#ifndef _HRESULT_DEFINED
#define _HRESULT_DEFINED
typedef int32_t HRESULT;
#endif

#ifndef S_OK
#define S_OK ((HRESULT)0x00000000L)
#endif
#ifndef SUCCEEDED
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#endif
#ifndef FACILITY_WIN32
#define FACILITY_WIN32 7
#endif
#ifndef HRESULT_FROM_WIN32
#define HRESULT_FROM_WIN32(x)                                                                      \
        ((HRESULT)(x) <= 0 ? ((HRESULT)(x))                                                        \
                           : ((HRESULT)(((uint32_t)(x)&0x0000FFFFu) |                              \
                                        ((uint32_t)FACILITY_WIN32 << 16) | 0x80000000u)))
#endif

#ifndef E_ACCESSDENIED
#define E_ACCESSDENIED ((HRESULT)0x80070005L)
#endif
#ifndef E_INVALIDARG
#define E_INVALIDARG ((HRESULT)0x80070057L)
#endif
#ifndef E_NOTIMPL
#define E_NOTIMPL ((HRESULT)0x80004001L)
#endif
#ifndef E_OUTOFMEMORY
#define E_OUTOFMEMORY ((HRESULT)0x8007000EL)
#endif
#ifndef E_FAIL
#define E_FAIL ((HRESULT)0x80004005L)
#endif
#ifndef ERROR_FILE_NOT_FOUND
#define ERROR_FILE_NOT_FOUND 2L
#endif
#ifndef ERROR_PATH_NOT_FOUND
#define ERROR_PATH_NOT_FOUND 3L
#endif
#ifndef ERROR_NOT_FOUND
#define ERROR_NOT_FOUND 1168L
#endif
#ifndef RPC_S_SERVER_UNAVAILABLE
#define RPC_S_SERVER_UNAVAILABLE 1722L
#endif

typedef enum CREATE_BIND_LINK_FLAGS {
        CREATE_BIND_LINK_FLAG_NONE = 0x00000000,
        CREATE_BIND_LINK_FLAG_READ_ONLY = 0x00000001,
        CREATE_BIND_LINK_FLAG_MERGED = 0x00000002,
} CREATE_BIND_LINK_FLAGS;

/* Make virtualPath show backingPath, system-wide, until RemoveBindLink. */
HRESULT CreateBindLink(const char *virtualPath, const char *backingPath,
                       CREATE_BIND_LINK_FLAGS createBindLinkFlags, uint32_t exceptionCount,
                       const char *const *exceptionPaths);

/* Remove the link whose virtual path is virtualPath. */
HRESULT RemoveBindLink(const char *virtualPath);

/* ---- The native API ------------------------------------------------------------ */

#define BINDLINK_DEFAULT_SOCKET "/run/bindlinkd.sock"
#define BINDLINK_MAX_EXCEPTIONS 256

/* Which argument an error is about. */
typedef enum bindlink_fault {
        BINDLINK_FAULT_NONE = 0,
        BINDLINK_FAULT_VIRTUAL,        /* the virtual path itself */
        BINDLINK_FAULT_VIRTUAL_PARENT, /* the parent of the virtual path (S6) */
        BINDLINK_FAULT_BACKING,        /* the backing path */
        BINDLINK_FAULT_EXCEPTION,      /* exception number bindlink_error.exception_index */
        BINDLINK_FAULT_FLAGS,          /* the flags argument */
        BINDLINK_FAULT_DAEMON,         /* reaching or talking to bindlinkd */
        BINDLINK_FAULT_CALLER,         /* the caller's privileges */
} bindlink_fault;

/* What went wrong, for callers that want more than an errno. */
typedef struct bindlink_error {
        int error;                /* positive errno, 0 on success */
        HRESULT hresult;          /* what CreateBindLink/RemoveBindLink return */
        bindlink_fault fault;     /* which argument it is about */
        uint32_t exception_index; /* with BINDLINK_FAULT_EXCEPTION */
        char path[4096];          /* the (normalized) path it is about, or "" */
        char message[512];        /* the cause in words, or "" */
} bindlink_error;

/* Create a link. Returns 0 or a negative errno; fills *ret_error (if not NULL) on
 * failure, and clears it on success. Relative paths are resolved against the
 * current working directory. */
int bindlink_create(const char *virtual_path, const char *backing_path, uint32_t flags,
                    uint32_t exception_count, const char *const *exception_paths,
                    bindlink_error *ret_error);

/* Remove the link whose virtual path is virtual_path. 0 or a negative errno. As
 * RemoveBindLink, it fails with -EBUSY while another link's virtual path lies below
 * virtual_path: nested links are removed deepest first. */
int bindlink_remove(const char *virtual_path, bindlink_error *ret_error);
/* Beyond Windows: remove every link whose virtual path is virtual_path or below it,
 * deepest first, in one request (virtual_path itself need not be a link). Nothing is
 * removed unless the caller may remove each one; -ENOENT when there is none. */
int bindlink_remove_tree(const char *virtual_path, bindlink_error *ret_error);

/* S21: the links in force, in creation order. */
typedef struct bindlink_links bindlink_links;

typedef enum bindlink_realization {
        BINDLINK_REALIZED_NONE = 0, /* registered, not shown now (its place is missing) */
        BINDLINK_REALIZED_BIND = 1, /* a bind mount */
        BINDLINK_REALIZED_OVERLAY = 2,
} bindlink_realization;

int bindlink_list(bindlink_links **ret_links, bindlink_error *ret_error);
size_t bindlink_links_count(const bindlink_links *links);
const char *bindlink_links_virtual(const bindlink_links *links, size_t i);
const char *bindlink_links_backing(const bindlink_links *links, size_t i);
uint32_t bindlink_links_flags(const bindlink_links *links, size_t i);
uint64_t bindlink_links_order(const bindlink_links *links, size_t i);
bindlink_realization bindlink_links_realization(const bindlink_links *links, size_t i);
uint32_t bindlink_links_exception_count(const bindlink_links *links, size_t i);
const char *bindlink_links_exception(const bindlink_links *links, size_t i, uint32_t j);
void bindlink_links_free(bindlink_links *links);

/* Beyond Windows: what decides what a path shows (bindlinkctl explain) — which link,
 * through which chain of links, from which layer of a merged view, and why. The
 * steps go from the path as named to what is on disk, in order; each names the link
 * that decides it (virtual_path NULL for none). Layers are looked at with the
 * caller's rights: what the caller may not see is reported missing. */
typedef enum bindlink_step_kind {
        BINDLINK_STEP_LINK = 1,           /* a link shows its backing path there */
        BINDLINK_STEP_EXCEPTION = 2,      /* inside an exception: the original shows */
        BINDLINK_STEP_LAYER_BACKING = 3,  /* a merged link shows its backing path's object */
        BINDLINK_STEP_LAYER_ORIGINAL = 4, /* a merged link shows the original's object */
        BINDLINK_STEP_NOT_SHOWN = 5,      /* a link registered but not shown now */
        BINDLINK_STEP_FOUND = 6,          /* no link decides it: this object shows */
        BINDLINK_STEP_MISSING = 7,        /* nothing shows there */
} bindlink_step_kind;

typedef struct bindlink_step {
        bindlink_step_kind kind;
        const char *path;         /* the path this step is about */
        const char *virtual_path; /* the deciding link's, or NULL */
        const char *backing_path; /* the deciding link's, or NULL */
        uint64_t order;           /* the deciding link's creation order */
        uint32_t flags;           /* the deciding link's flags */
        const char *detail;       /* why, in words */
        /* Fields may be added at the end: the library allocates steps, callers never. */
} bindlink_step;

typedef struct bindlink_explanation bindlink_explanation;

/* path is normalized as a virtual path is (relative to the working directory,
 * symlinks in its ancestors resolved). 0 or a negative errno (-ELOOP: the links
 * loop). */
int bindlink_explain(const char *path, bindlink_explanation **ret_explanation,
                     bindlink_error *ret_error);
size_t bindlink_explanation_count(const bindlink_explanation *explanation);
const bindlink_step *bindlink_explanation_step(const bindlink_explanation *explanation, size_t i);
void bindlink_explanation_free(bindlink_explanation *explanation);

/* A connection to bindlinkd for callers that make many calls: it saves a connect
 * per call. Use it from one thread at a time (one connection per thread). The
 * daemon closes a connection idle for 30 s; the next call reconnects by itself. */
typedef struct bindlink_connection bindlink_connection;

int bindlink_connect(bindlink_connection **ret_connection, bindlink_error *ret_error);
void bindlink_disconnect(bindlink_connection *connection);
int bindlink_connection_create(bindlink_connection *connection, const char *virtual_path,
                               const char *backing_path, uint32_t flags, uint32_t exception_count,
                               const char *const *exception_paths, bindlink_error *ret_error);
int bindlink_connection_remove(bindlink_connection *connection, const char *virtual_path,
                               bindlink_error *ret_error);
int bindlink_connection_remove_tree(bindlink_connection *connection, const char *virtual_path,
                                    bindlink_error *ret_error);
int bindlink_connection_list(bindlink_connection *connection, bindlink_links **ret_links,
                             bindlink_error *ret_error);

/* S23: links in another mount namespace (a container's), visible there only. The
 * target names the namespace: by a pidfd of a process in it (preferred: a pid can be
 * reused), by a pid, or by an open mount-namespace descriptor (/proc/PID/ns/mnt).
 * Its virtual path (absolute, no "." or "..") is resolved in the target, below root
 * where given (a directory of the target: an OCI hook, which runs before the
 * container's pivot_root, names bundle/rootfs), never out of it; the backing path is
 * resolved in the caller's view. Creating or removing needs what the calls above
 * need and CAP_SYS_ADMIN over the user namespace that owns the target. A link lives
 * until it is removed or the namespace's last process ends. */
typedef enum bindlink_target_kind {
        BINDLINK_TARGET_PIDFD = 1, /* fd: a pidfd */
        BINDLINK_TARGET_PID = 2,   /* pid */
        BINDLINK_TARGET_NSFD = 3,  /* fd: a mount namespace */
} bindlink_target_kind;

typedef struct bindlink_target {
        bindlink_target_kind kind;
        int fd;
        pid_t pid;
        const char *root; /* NULL: the target's own root */
} bindlink_target;

int bindlink_target_create(const bindlink_target *target, const char *virtual_path,
                           const char *backing_path, uint32_t flags, uint32_t exception_count,
                           const char *const *exception_paths, bindlink_error *ret_error);
int bindlink_target_remove(const bindlink_target *target, const char *virtual_path,
                           bindlink_error *ret_error);
int bindlink_target_remove_tree(const bindlink_target *target, const char *virtual_path,
                                bindlink_error *ret_error);
/* The same on a connection (bindlink_connect): for many calls, such as a container
 * runtime making a container's links. */
int bindlink_connection_target_create(bindlink_connection *connection,
                                      const bindlink_target *target, const char *virtual_path,
                                      const char *backing_path, uint32_t flags,
                                      uint32_t exception_count, const char *const *exception_paths,
                                      bindlink_error *ret_error);
int bindlink_connection_target_remove(bindlink_connection *connection,
                                      const bindlink_target *target, const char *virtual_path,
                                      bindlink_error *ret_error);
int bindlink_connection_target_remove_tree(bindlink_connection *connection,
                                           const bindlink_target *target,
                                           const char *virtual_path, bindlink_error *ret_error);
/* Several links in one target in one request, in order, all or none: an OCI hook's
 * links (one authorization, one round trip, one namespace lookup). count: 1 to 256.
 * When one fails, those made before it are removed again, and ret_error says which
 * ("link N of M (VIRTUAL): ...", path: its virtual path). */
typedef struct bindlink_link_spec {
        const char *virtual_path;
        const char *backing_path;
        uint32_t flags;
        uint32_t exception_count;
        const char *const *exception_paths;
} bindlink_link_spec;
int bindlink_target_create_many(const bindlink_target *target, size_t count,
                                const bindlink_link_spec *links, bindlink_error *ret_error);
int bindlink_connection_target_create_many(bindlink_connection *connection,
                                           const bindlink_target *target, size_t count,
                                           const bindlink_link_spec *links,
                                           bindlink_error *ret_error);
/* The links of target's namespace, or with target NULL of every namespace, the host's
 * included; each with its scope: */
int bindlink_target_list(const bindlink_target *target, bindlink_links **ret_links,
                         bindlink_error *ret_error);
/* The mount namespace's 64-bit id (0: bindlinkd's own), and a process in it as
 * bindlinkd's pid namespace sees it (0: the host, or none known). */
uint64_t bindlink_links_scope_id(const bindlink_links *links, size_t i);
pid_t bindlink_links_scope_pid(const bindlink_links *links, size_t i);

/* Beyond Windows: the same lists, with what the bits of what ask for besides. */
#define BINDLINK_LIST_WATCH 1u /* bindlink_links_watch */
int bindlink_list_what(uint32_t what, bindlink_links **ret_links, bindlink_error *ret_error);
int bindlink_target_list_what(const bindlink_target *target, uint32_t what,
                              bindlink_links **ret_links, bindlink_error *ret_error);
/* Whether a change made directly in a layer of link i's view (beside it) shows
 * through the view at once, or within the view's 1 s timeouts: 0 (every layer is
 * watched) or BINDLINK_WATCH_* bits; -ENODATA where the list did not ask
 * (BINDLINK_LIST_WATCH) or bindlinkd did not say (older than the question). Decided
 * by the layers' filesystem kinds (the rule the view's server watches by): a view
 * that could not watch at run time (a mark refused, its event queue overflowed on a
 * kernel before 6.16) says so in bindlinkd's log only. */
enum {
        BINDLINK_WATCH_NO_VIEW = 1,          /* a bind mount, or not shown: nothing is cached */
        BINDLINK_WATCH_ORIGINAL_TIMEOUT = 2, /* the original V (or, for a link grafted on an
                                              * overlay of V's parent, that directory) */
        BINDLINK_WATCH_BACKING_TIMEOUT = 4,  /* B */
        BINDLINK_WATCH_ORIGINAL_UNKNOWN = 8, /* a container's original V: not looked at */
};
int bindlink_links_watch(const bindlink_links *links, size_t i);

/* Helpers for messages. */
const char *bindlink_realization_name(bindlink_realization realization);
/* The HRESULT CreateBindLink/RemoveBindLink return for -error about fault. */
HRESULT bindlink_hresult_from_errno(int error, bindlink_fault fault, int is_remove);
/* A sentence for an HRESULT this library returns, as FormatMessage gives one on
 * Windows ("The system cannot find the file specified."); "Unknown error." for any
 * other. Static; never NULL. */
const char *bindlink_hresult_message(HRESULT hr);

/* "ENOENT" for ENOENT, …; NULL for unknown. */
const char *bindlink_errno_name(int error);

#ifdef __cplusplus
}

/* C++: the flags combine as Windows headers let them (DEFINE_ENUM_FLAG_OPERATORS), so
 * that CREATE_BIND_LINK_FLAG_READ_ONLY | CREATE_BIND_LINK_FLAG_MERGED compiles as it
 * does there. */
extern "C++" {
inline constexpr CREATE_BIND_LINK_FLAGS operator|(CREATE_BIND_LINK_FLAGS a,
                                                  CREATE_BIND_LINK_FLAGS b) noexcept
{
        return static_cast<CREATE_BIND_LINK_FLAGS>(static_cast<uint32_t>(a) |
                                                   static_cast<uint32_t>(b));
}
inline constexpr CREATE_BIND_LINK_FLAGS operator&(CREATE_BIND_LINK_FLAGS a,
                                                  CREATE_BIND_LINK_FLAGS b) noexcept
{
        return static_cast<CREATE_BIND_LINK_FLAGS>(static_cast<uint32_t>(a) &
                                                   static_cast<uint32_t>(b));
}
inline constexpr CREATE_BIND_LINK_FLAGS operator^(CREATE_BIND_LINK_FLAGS a,
                                                  CREATE_BIND_LINK_FLAGS b) noexcept
{
        return static_cast<CREATE_BIND_LINK_FLAGS>(static_cast<uint32_t>(a) ^
                                                   static_cast<uint32_t>(b));
}
inline constexpr CREATE_BIND_LINK_FLAGS operator~(CREATE_BIND_LINK_FLAGS a) noexcept
{
        return static_cast<CREATE_BIND_LINK_FLAGS>(~static_cast<uint32_t>(a));
}
inline CREATE_BIND_LINK_FLAGS &operator|=(CREATE_BIND_LINK_FLAGS &a,
                                          CREATE_BIND_LINK_FLAGS b) noexcept
{
        return a = a | b;
}
inline CREATE_BIND_LINK_FLAGS &operator&=(CREATE_BIND_LINK_FLAGS &a,
                                          CREATE_BIND_LINK_FLAGS b) noexcept
{
        return a = a & b;
}
inline CREATE_BIND_LINK_FLAGS &operator^=(CREATE_BIND_LINK_FLAGS &a,
                                          CREATE_BIND_LINK_FLAGS b) noexcept
{
        return a = a ^ b;
}
}
#endif
#endif
