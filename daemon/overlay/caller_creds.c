/* caller_creds.c — per-request credentials. setfsuid/setfsgid and the raw setgroups
 * syscall change only the calling thread, so each worker thread can act as its
 * request's caller without touching the others. */
#include "overlay.h"

#include <errno.h>
#include <stdbool.h>
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
