/* caller_creds.c — per-request credentials. setfsuid/setfsgid and the raw setgroups
 * syscall change only the calling thread, so each worker thread can act as its
 * request's caller without touching the others. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_GROUPS 256

/* Whether this thread acts as someone else now (root callers need no change: the
 * server is root, and the kernel checked their rights already). */
static __thread bool switched;

int ovl_creds_enter(fuse_req_t req)
{
        const struct fuse_ctx *ctx = fuse_req_ctx(req);
        switched = ctx->uid != 0 || ctx->gid != 0;
        if (!switched)
                return 0; /* and no read of the caller's groups from /proc */
        gid_t groups[MAX_GROUPS];
        int n = fuse_req_getgroups(req, MAX_GROUPS, groups);
        if (n < 0)
                n = 0; /* the caller is gone; its primary ids still apply */
        if (n > MAX_GROUPS)
                n = MAX_GROUPS;
        if (syscall(SYS_setgroups, (size_t)n, groups) < 0)
                return -errno;
        (void)syscall(SYS_setfsgid, ctx->gid);
        (void)syscall(SYS_setfsuid, ctx->uid);
        if ((uid_t)syscall(SYS_setfsuid, -1) != ctx->uid)
                return -EPERM;
        return 0;
}

void ovl_creds_leave(void)
{
        if (!switched)
                return;
        switched = false;
        (void)syscall(SYS_setfsuid, 0);
        (void)syscall(SYS_setfsgid, 0);
        (void)syscall(SYS_setgroups, 0, NULL);
}

/* The kernel leaves clearing setuid/setgid bits on write and truncate to the server
 * (FUSE_HANDLE_KILLPRIV_V2, see passthrough.c): the backing filesystem does it when
 * the change is made as the caller, exactly as it would for them directly. fsuid and
 * fsgid suffice but for a setgid, group-executable file of another group than the
 * caller's own: whether its bit stays depends on the caller's other groups, read
 * only then (they cost a read of /proc). Root callers change as root (they keep the
 * bits, as CAP_FSETID does directly). */
static __thread bool writer_switched;

int ovl_writer_enter(fuse_req_t req, int fd)
{
        const struct fuse_ctx *ctx = fuse_req_ctx(req);
        writer_switched = false;
        if (ctx->uid == 0)
                return 0;
        struct stat st;
        if (fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && S_ISREG(st.st_mode) &&
            (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && st.st_gid != ctx->gid)
                return ovl_creds_enter(req);
        (void)syscall(SYS_setfsgid, ctx->gid);
        (void)syscall(SYS_setfsuid, ctx->uid);
        writer_switched = true;
        return 0;
}

void ovl_writer_leave(void)
{
        if (writer_switched) {
                writer_switched = false;
                (void)syscall(SYS_setfsuid, 0);
                (void)syscall(SYS_setfsgid, 0);
        }
        ovl_creds_leave();
}
