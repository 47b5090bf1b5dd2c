/* passthrough.c — FUSE passthrough (kernel >= 6.9), and how the session gets its device.
 *
 * With passthrough the kernel serves read, write and mmap of an open file straight
 * from a backing file the server registered (FUSE_DEV_IOC_BACKING_OPEN): no request,
 * no FUSE page cache, native speed, cold or warm. The same view also takes
 * FUSE_HANDLE_KILLPRIV_V2 when offered: the kernel then stops asking for
 * security.capability before every write (it asks once per file) and leaves clearing
 * setuid/setgid bits to the server, which writes, truncates and chowns as the caller
 * (ovl_writer_enter, ovl_apply_setattr).
 *
 * Two ways, chosen by configure:
 * - libfuse >= 3.17 (HAVE_FUSE_PASSTHROUGH_API) knows both: the init callback asks for
 *   them (ovl_passthrough_init) and an open reply carries fi->backing_id. The session
 *   takes the descriptor bindlinkd mounted as "/dev/fd/N". (Newer libfuse builds may
 *   leave fuse_session_custom_io() out, so that way must not need it.)
 * - libfuse 3.14-3.16 never negotiates them. There the session's device I/O goes
 *   through fuse_session_custom_io() and this file adds the protocol's few fields
 *   itself: it notes whether the kernel's INIT offers FUSE_PASSTHROUGH and
 *   FUSE_HANDLE_KILLPRIV_V2, adds them (and a stack depth of 1) to libfuse's INIT
 *   reply, and puts FOPEN_PASSTHROUGH and the backing id into the one open reply a
 *   thread announced with ovl_passthrough_reply_set(). Everything else is passed on
 *   byte for byte; splice stays libfuse's own. The message bytes are read and written
 *   in passthrough_wire.c.
 * Registering a backing file is the same ioctl on the device either way. */
#include "core.h"
#include "passthrough_wire.h"

#include <errno.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

struct pt_backing_map {
        int32_t fd;
        uint32_t flags;
        uint64_t padding;
};
#define PT_DEV_IOC_BACKING_OPEN _IOW(229, 1, struct pt_backing_map)
#define PT_DEV_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)

/* One session per process. */
static struct {
        int fd;
        bool wanted;   /* the view asked for passthrough */
        bool offered;  /* the kernel's INIT offered it */
        bool active;   /* negotiated: backing files may be registered */
#ifndef HAVE_FUSE_PASSTHROUGH_API
        bool killpriv_v2_offered; /* the kernel's INIT offered FUSE_HANDLE_KILLPRIV_V2 */
        uint64_t init_unique; /* the INIT request, until its reply (0: none) */
#endif
} pt = {.fd = -1};

#ifdef HAVE_FUSE_PASSTHROUGH_API

int ovl_passthrough_session(struct fuse_session *se, int fuse_fd, bool wanted)
{
        pt.fd = fuse_fd;
        pt.wanted = wanted;
        /* libfuse's way to serve a device descriptor someone else mounted. */
        char dev[32];
        (void)snprintf(dev, sizeof dev, "/dev/fd/%d", fuse_fd);
        return fuse_session_mount(se, dev) == 0 ? 0 : -EINVAL;
}

void ovl_passthrough_init(struct fuse_conn_info *conn)
{
        /* The 32-bit want and capable fields: libfuse refuses an init that sets both
         * them and want_ext, and the rest of the view sets want. */
        if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV_V2)
                conn->want |= FUSE_CAP_HANDLE_KILLPRIV_V2;
        pt.offered = pt.wanted && (conn->capable & FUSE_CAP_PASSTHROUGH);
        if (pt.offered && !(conn->want & FUSE_CAP_WRITEBACK_CACHE)) {
                conn->want |= FUSE_CAP_PASSTHROUGH;
                /* Backing files on plain filesystems; overlayfs may still stack on
                 * the view. */
                conn->max_backing_stack_depth = FUSE_BACKING_STACKED_UNDER;
                pt.active = true;
        }
}

void ovl_passthrough_reply_set(struct fuse_file_info *fi, int backing_id)
{
        fi->backing_id = backing_id;
}

#else /* libfuse 3.14-3.16: the fields are added on the wire */

/* The backing id the open or create reply this thread sends next carries; -1: none. */
static __thread int32_t next_reply_backing_id = -1;

static ssize_t pt_read(int fd, void *buf, size_t len, void *userdata)
{
        (void)userdata;
        ssize_t r = read(fd, buf, len);
        /* INIT always arrives by read(2): libfuse splices only once INIT said it may. */
        uint64_t unique;
        bool offered;
        if (r > 0 && pt_parse_init_request(buf, (size_t)r, &unique, &offered)) {
                pt.init_unique = unique;
                pt.offered = offered;
                pt.killpriv_v2_offered = pt_init_offers_killpriv_v2(buf, (size_t)r);
        }
        return r;
}

static ssize_t pt_writev(int fd, struct iovec *iov, int count, void *userdata)
{
        (void)userdata;
        if (count >= 1 && iov[0].iov_len >= sizeof(struct fuse_out_header)) {
                const struct fuse_out_header *out = iov[0].iov_base;
                if (pt.init_unique != 0 && out->unique == pt.init_unique) {
                        pt.init_unique = 0;
                        if (pt.wanted && pt.offered && pt_patch_init_reply(iov, count))
                                pt.active = true;
                        /* Every view: writes then cost no security.capability
                         * request each (see ovl_writer_enter). */
                        if (pt.killpriv_v2_offered)
                                (void)pt_patch_init_reply_killpriv_v2(iov, count);
                } else if (next_reply_backing_id >= 0 && out->unique != 0) {
                        (void)pt_patch_open_reply(iov, count, next_reply_backing_id);
                        next_reply_backing_id = -1;
                }
        }
        return writev(fd, iov, count);
}

int ovl_passthrough_session(struct fuse_session *se, int fuse_fd, bool wanted)
{
        static const struct fuse_custom_io io = {.read = pt_read, .writev = pt_writev};
        pt.fd = fuse_fd;
        pt.wanted = wanted;
        return fuse_session_custom_io(se, &io, fuse_fd);
}

void ovl_passthrough_init(struct fuse_conn_info *conn)
{
        (void)conn; /* the INIT request was read already (pt_read) */
}

void ovl_passthrough_reply_set(struct fuse_file_info *fi, int backing_id)
{
        (void)fi;
        next_reply_backing_id = backing_id;
}

#endif

bool ovl_passthrough_active(void) { return pt.active; }

bool ovl_passthrough_offered(void) { return pt.wanted && pt.offered; }

int ovl_passthrough_backing_open(int fd)
{
        struct pt_backing_map map = {.fd = fd};
        int id = ioctl(pt.fd, PT_DEV_IOC_BACKING_OPEN, &map);
        return id < 0 ? -errno : id;
}

void ovl_passthrough_backing_close(int backing_id)
{
        uint32_t id = (uint32_t)backing_id;
        if (ioctl(pt.fd, PT_DEV_IOC_BACKING_CLOSE, &id) < 0)
                fprintf(stderr, "bindlink-overlay: closing passthrough backing file %d: %s\n",
                        backing_id, strerror(errno));
}
