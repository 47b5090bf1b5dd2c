/* view_ops.c — the FUSE operations both views serve the same way, through the ways to
 * its nodes each view gives at INIT (struct ovl_view): forgetting nodes, listing
 * directories, syncing them, and extended attributes. A view's operation table
 * points at these directly. */
#include "core.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* One view per process, set once at INIT before any other request is served. */
static struct ovl_view view;

void ovl_view_init(const struct ovl_view *v)
{
        view = *v;
        ovl_file_io_init(v->io_fd);
}

void ovl_view_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
        view.forget(req, ino, nlookup);
        fuse_reply_none(req);
}

void ovl_view_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
        for (size_t i = 0; i < count; i++)
                view.forget(req, forgets[i].ino, forgets[i].nlookup);
        fuse_reply_none(req);
}

/* Listings are kept by the kernel (ovl_opendir_lazy) where every change of the
 * directory is notified: its own changes, notifications and a directory's new mtime
 * make it read them again. Elsewhere each opendir reads them. */
void ovl_view_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        if (view.no_opendir) {
                /* The kernel opens directories by itself from now on. */
                (void)fuse_reply_err(req, ENOSYS);
                return;
        }
        ovl_opendir_lazy(req, fi, view.listing_kept(req, ino));
}

/* A readdir of a directory the kernel opened without a request (fh 0). */
static void readdir_unopened(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                             ovl_lookup_fn lookup)
{
        struct stat dir;
        int fd = view.object_get(req, ino, false);
        int r = fd;
        if (fd >= 0)
                r = fstatat(fd, "", &dir, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
        view.object_put(req, ino, fd);
        if (r < 0) {
                (void)fuse_reply_err(req, -r);
                return;
        }
        /* Asked before the reply: once it is out, the kernel may forget ino. */
        bool kept = view.listing_kept(req, ino);
        ovl_readdir_unopened(req, ino, &dir, size, off, view.listing, lookup, view.forget,
                             kept ? view.listing_ended : NULL);
        if (!kept)
                ovl_watch_forget_listing(ino);
}

void ovl_view_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                      struct fuse_file_info *fi)
{
        if (!fi->fh) {
                readdir_unopened(req, ino, size, off, NULL);
                return;
        }
        const struct dir_snapshot *d = ovl_listing(req, ino, fi, view.listing);
        if (d)
                ovl_reply_readdir(req, ino, d, size, off, NULL, view.forget);
}

void ovl_view_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                          struct fuse_file_info *fi)
{
        if (!fi->fh) {
                readdir_unopened(req, ino, size, off, view.lookup);
                return;
        }
        const struct dir_snapshot *d = ovl_listing(req, ino, fi, view.listing);
        if (d)
                ovl_reply_readdir(req, ino, d, size, off, view.lookup, view.forget);
}

void ovl_view_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)ino;
        ovl_releasedir_lazy(req, fi);
}

int ovl_sync_dir(int opath_fd, int datasync)
{
        _cleanup_close_ int fd = openat(opath_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

/* ---- extended attributes: the real object's answer, unchanged ---- */

/* name NULL: the list. */
static void xattr_read(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
        int fd = view.object_get(req, ino, false);
        char *value = NULL;
        ssize_t r = fd < 0 ? fd : ovl_xattr_read(fd, name, size, &value);
        view.object_put(req, ino, fd); /* before the reply: then the kernel may forget ino */
        ovl_reply_xattr_read(req, r, value, size);
}

void ovl_view_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
        xattr_read(req, ino, name, size);
}

void ovl_view_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
        xattr_read(req, ino, NULL, size);
}

/* value NULL: remove name. */
static void xattr_write(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
        int fd = view.object_get(req, ino, true);
        int r = fd < 0 ? fd : ovl_xattr_write(fd, name, value, size, flags);
        view.object_put(req, ino, fd); /* before the reply: then the kernel may forget ino */
        (void)fuse_reply_err(req, -r);
}

void ovl_view_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                       size_t size, int flags)
{
        xattr_write(req, ino, name, value, size, flags);
}

void ovl_view_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
        xattr_write(req, ino, name, NULL, 0, 0);
}
