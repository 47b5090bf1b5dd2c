/* ops.c — the FUSE operations of bindlink-overlay. Every real object is reached by
 * its O_PATH descriptor; synthesized top-level entries are empty placeholders that
 * bindlinkd covers with a bind mount of the link's backing path.
 *
 * Permission checks are the kernel's (the mount has default_permissions); the server
 * acts as the caller where the result depends on who acts: creating objects (owner,
 * rights on the parent) and writing (setuid bits are cleared for non-root writers). */
#include "parent.h"
#include "tmpfile_wire.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

static struct overlay *overlay_of(fuse_req_t req) { return fuse_req_userdata(req); }

static struct ovl_inode *inode_of(fuse_req_t req, fuse_ino_t ino)
{
        if (ino == FUSE_ROOT_ID)
                return &overlay_of(req)->root;
        return (struct ovl_inode *)(uintptr_t)ino;
}

static fuse_ino_t ino_of(const struct overlay *o, const struct ovl_inode *inode)
{
        return inode == &o->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)inode;
}

static bool is_synthesized(const struct ovl_inode *inode)
{
        return inode->fd < 0 && !inode->handle;
}

/* Is name in parent one of the synthesized entries (entries.c)? With its mode (0:
 * hidden) and inode. */
static bool synthesized_named(struct overlay *o, const struct ovl_inode *parent,
                              const char *name, mode_t *ret_mode, struct ovl_inode **ret_inode)
{
        mode_t mode;
        if (parent != &o->root || !ovl_entries_find(o, name, &mode, ret_inode))
                return false;
        if (ret_mode)
                *ret_mode = mode;
        return true;
}

static void synthesized_attr(const struct ovl_inode *inode, struct stat *st)
{
        memset(st, 0, sizeof *st);
        st->st_ino = ovl_entries_ino(inode);
        st->st_mode = inode->synthesized_mode | (S_ISDIR(inode->synthesized_mode) ? 0755 : 0644);
        st->st_nlink = S_ISDIR(inode->synthesized_mode) ? 2 : 1;
        st->st_blksize = 4096;
}

static int name_check(const char *name)
{
        return strlen(name) > NAME_MAX ? -ENAMETOOLONG : 0;
}

/* ---- lookup ------------------------------------------------------------------------ */

/* How long the kernel may keep names in directory inode, and what they show: long
 * where the directory is watched (placeholders never change but through the control
 * socket, which notifies itself). */
static double dir_timeout(const struct ovl_inode *inode)
{
        if (!ovl_watch_coherent())
                return OVL_SHORT_TIMEOUT;
        if (is_synthesized(inode))
                return OVL_LONG_TIMEOUT;
        return __atomic_load_n(&inode->watched, __ATOMIC_ACQUIRE) ? OVL_LONG_TIMEOUT
                                                                  : OVL_SHORT_TIMEOUT;
}

/* ... and its attributes. */
static double attr_timeout(const struct overlay *o, const struct ovl_inode *inode)
{
        if (inode == &o->root || is_synthesized(inode) || inode->watched)
                return dir_timeout(inode);
        /* A file's changes are reported to the watched directory it is in. */
        return ovl_watch_dev_local(inode->node.dev) ? OVL_LONG_TIMEOUT : OVL_SHORT_TIMEOUT;
}

/* Watch a directory the kernel is told of, the first time. */
static void watch_dir(struct overlay *o, struct ovl_inode *inode)
{
        if (__atomic_load_n(&inode->watch_tried, __ATOMIC_ACQUIRE) ||
            __atomic_exchange_n(&inode->watch_tried, true, __ATOMIC_ACQ_REL))
                return;
        int fd = ovl_inode_get(inode);
        if (fd < 0)
                return;
        __atomic_store_n(&inode->watched, ovl_watch_dir(fd, inode->node.dev, ino_of(o, inode)),
                         __ATOMIC_RELEASE);
        ovl_inode_put(inode, fd);
}

/* The view, for the watch's thread. */
static struct overlay *watched_view;

static fuse_ino_t find_node(dev_t dev, ino_t ino)
{
        struct overlay *o = watched_view;
        pthread_mutex_lock(&o->table.nodes.lock);
        struct ovl_node *n = ovl_nodes_find(&o->table.nodes, dev, ino);
        fuse_ino_t found =
                n ? (fuse_ino_t)(uintptr_t)ovl_container_of(n, struct ovl_inode, node) : 0;
        pthread_mutex_unlock(&o->table.nodes.lock);
        return found;
}

void ovl_parent_watch(struct overlay *o, struct fuse_session *se)
{
        watched_view = o;
        ovl_watch_start(se, find_node, NULL);
        watch_dir(o, &o->root);
}

/* The entry of the object found in parent as the O_PATH descriptor fd (taken). */
static int found_entry(struct overlay *o, struct ovl_inode *parent, int fd,
                       struct fuse_entry_param *e)
{
        if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
                int r = -errno;
                (void)close(fd);
                return r;
        }
        int dir = ovl_inode_get(parent);
        struct ovl_inode *inode = ovl_table_lookup_add(&o->table, fd, &e->attr, dir);
        ovl_inode_put(parent, dir);
        if (!inode)
                return -ENOMEM;
        e->ino = ino_of(o, inode);
        if (S_ISDIR(e->attr.st_mode))
                watch_dir(o, inode);
        e->attr_timeout = attr_timeout(o, inode);
        return 0;
}

static int do_lookup(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                     struct fuse_entry_param *e)
{
        struct overlay *o = overlay_of(req);
        struct ovl_inode *parent = inode_of(req, parent_ino);
        ovl_entry_init(e, dir_timeout(parent));
        int r = name_check(name);
        if (r)
                return r;
        mode_t mode;
        struct ovl_inode *synthesized;
        if (synthesized_named(o, parent, name, &mode, &synthesized)) {
                if (!mode)
                        return -ENOENT; /* hidden: its link's backing path is gone (S10) */
                e->ino = ino_of(o, synthesized);
                synthesized_attr(synthesized, &e->attr);
                return 0;
        }
        if (is_synthesized(parent))
                return -ENOENT; /* placeholders are empty */
        int dir = ovl_inode_get(parent);
        int fd = dir < 0 ? dir : openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        r = dir < 0 ? dir : fd < 0 ? -errno : 0;
        ovl_inode_put(parent, dir);
        return r ? r : found_entry(o, parent, fd, e);
}

/* The entry of the unnamed file (O_TMPFILE) just made in parent and open as file. */
static int tmpfile_entry(fuse_req_t req, fuse_ino_t parent_ino, int file,
                         struct fuse_entry_param *e)
{
        struct overlay *o = overlay_of(req);
        ovl_entry_init(e, dir_timeout(inode_of(req, parent_ino)));
        int fd = ovl_opath_of(file);
        return fd < 0 ? fd : found_entry(o, inode_of(req, parent_ino), fd, e);
}

static void ovl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        struct fuse_entry_param e;
        uint64_t seq = ovl_watch_seq();
        int r = do_lookup(req, parent, name, &e);
        if (r == -ENOENT) {
                /* A negative entry, cached like a positive one. */
                e.ino = 0;
                ovl_reply_entry(req, &e, seq);
                return;
        }
        if (r < 0)
                (void)fuse_reply_err(req, -r);
        else
                ovl_reply_entry(req, &e, seq);
}

static void forget_one(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
        struct overlay *o = overlay_of(req);
        struct ovl_inode *inode = inode_of(req, ino);
        if (inode == &o->root || is_synthesized(inode))
                return;
        ovl_table_forget(&o->table, inode, n);
}

/* ---- attributes ---------------------------------------------------------------------- */

static int inode_stat(struct ovl_inode *inode, struct stat *st)
{
        if (is_synthesized(inode)) {
                synthesized_attr(inode, st);
                return 0;
        }
        int fd = ovl_inode_get(inode);
        if (fd < 0)
                return fd;
        int r = fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
        ovl_inode_put(inode, fd);
        return r;
}

static void ovl_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)fi;
        struct stat st;
        int r = inode_stat(inode_of(req, ino), &st);
        if (r < 0)
                (void)fuse_reply_err(req, -r);
        else
                (void)fuse_reply_attr(req, &st, attr_timeout(overlay_of(req), inode_of(req, ino)));
}

static void ovl_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                        struct fuse_file_info *fi)
{
        struct ovl_inode *inode = inode_of(req, ino);
        if (is_synthesized(inode)) {
                (void)fuse_reply_err(req, EPERM);
                return;
        }
        struct stat st;
        int fd = ovl_inode_get(inode);
        int r = fd < 0 ? fd : ovl_apply_setattr(req, ino, fd, attr, to_set, fi);
        ovl_inode_put(inode, fd);
        if (!r)
                r = inode_stat(inode, &st);
        if (r < 0)
                (void)fuse_reply_err(req, -r);
        else
                (void)fuse_reply_attr(req, &st, attr_timeout(overlay_of(req), inode));
}

static void ovl_readlink(fuse_req_t req, fuse_ino_t ino)
{
        struct ovl_inode *inode = inode_of(req, ino);
        char buf[PATH_MAX + 1];
        if (is_synthesized(inode)) {
                (void)fuse_reply_err(req, EINVAL);
                return;
        }
        int fd = ovl_inode_get(inode);
        ssize_t n = fd < 0 ? fd : readlinkat(fd, "", buf, sizeof buf);
        if (n < 0 && fd >= 0)
                n = -errno;
        ovl_inode_put(inode, fd);
        if (n < 0)
                (void)fuse_reply_err(req, (int)-n);
        else if ((size_t)n >= sizeof buf)
                (void)fuse_reply_err(req, ENAMETOOLONG);
        else {
                buf[n] = '\0';
                (void)fuse_reply_readlink(req, buf);
        }
}

/* ---- creating and removing names ----------------------------------------------------- */

/* Refuse changes to names the overlay synthesizes (they carry a link). */
static int name_is_free(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                        struct ovl_inode **ret_parent)
{
        struct overlay *o = overlay_of(req);
        struct ovl_inode *parent = inode_of(req, parent_ino);
        int r = name_check(name);
        if (r)
                return r;
        if (is_synthesized(parent))
                return -EPERM;
        if (synthesized_named(o, parent, name, NULL, NULL))
                return -EBUSY;
        *ret_parent = parent;
        return 0;
}

static void make_object(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode,
                        dev_t rdev, const char *link_target, enum ovl_make_kind kind)
{
        struct ovl_inode *parent = NULL;
        int r = name_is_free(req, parent_ino, name, &parent);
        int dir = r ? -1 : ovl_inode_get(parent);
        if (!r)
                r = dir < 0 ? dir : ovl_make_as_caller(req, dir, name, mode, rdev, link_target, kind);
        /* A socket bound through the view answers only through it (the listener has
         * the view's inode): while one lives, the view must (entries.c). */
        if (!r && kind == OVL_MAKE_NODE && S_ISSOCK(mode))
                ovl_entries_note_socket(overlay_of(req), dir, name);
        if (parent)
                ovl_inode_put(parent, dir);
        ovl_reply_made(req, r, do_lookup, parent_ino, name);
}

static void ovl_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
        make_object(req, parent, name, mode, rdev, NULL, OVL_MAKE_NODE);
}

static void ovl_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
        make_object(req, parent, name, mode, 0, NULL, OVL_MAKE_DIR);
}

static void ovl_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
        make_object(req, parent, name, 0, 0, target, OVL_MAKE_SYMLINK);
}

static void ovl_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
        struct ovl_inode *inode = inode_of(req, ino), *parent = NULL;
        int r = name_is_free(req, newparent, newname, &parent);
        if (!r && is_synthesized(inode))
                r = -EPERM;
        int fd = r ? -1 : ovl_inode_get(inode);
        if (!r && fd < 0)
                r = fd;
        int dir = r ? -1 : ovl_inode_get(parent);
        if (!r && dir < 0)
                r = dir;
        if (!r && linkat(fd, "", dir, newname, AT_EMPTY_PATH) < 0)
                r = -errno;
        ovl_inode_put(inode, fd);
        if (parent)
                ovl_inode_put(parent, dir);
        ovl_reply_made(req, r, do_lookup, newparent, newname);
}

static void remove_name(fuse_req_t req, fuse_ino_t parent_ino, const char *name, int flags)
{
        struct ovl_inode *parent = NULL;
        int r = name_is_free(req, parent_ino, name, &parent);
        int dir = r ? -1 : ovl_inode_get(parent);
        if (!r && dir < 0)
                r = dir;
        if (!r && !(flags & AT_REMOVEDIR))
                ovl_table_hold_before_unlink(&overlay_of(req)->table, dir, name);
        if (!r && unlinkat(dir, name, flags) < 0)
                r = -errno;
        if (parent)
                ovl_inode_put(parent, dir);
        (void)fuse_reply_err(req, -r);
}

static void ovl_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        remove_name(req, parent, name, 0);
}

static void ovl_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        remove_name(req, parent, name, AT_REMOVEDIR);
}

static void ovl_rename(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                       fuse_ino_t newparent_ino, const char *newname, unsigned int flags)
{
        struct ovl_inode *parent = NULL, *newparent = NULL;
        int r = name_is_free(req, parent_ino, name, &parent);
        if (!r)
                r = name_is_free(req, newparent_ino, newname, &newparent);
        int from = r ? -1 : ovl_inode_get(parent);
        int to = r || from < 0 ? -1 : ovl_inode_get(newparent);
        if (!r)
                r = from < 0 ? from : to < 0 ? to : 0;
        if (!r && !(flags & RENAME_EXCHANGE)) /* a file it replaces loses a name */
                ovl_table_hold_before_unlink(&overlay_of(req)->table, to, newname);
        if (!r && renameat2(from, name, to, newname, flags) < 0)
                r = -errno;
        if (parent)
                ovl_inode_put(parent, from);
        if (newparent)
                ovl_inode_put(newparent, to);
        (void)fuse_reply_err(req, -r);
}

/* ---- files --------------------------------------------------------------------------- */

static void ovl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        if (overlay_of(req)->no_open) {
                /* The kernel opens by itself from now on (ovl_init); I/O opens its
                 * own descriptors (file_io_fd). */
                (void)fuse_reply_err(req, ENOSYS);
                return;
        }
        struct ovl_inode *inode = inode_of(req, ino);
        if (is_synthesized(inode)) {
                (void)fuse_reply_err(req, EACCES); /* a placeholder waiting for its link */
                return;
        }
        int object = ovl_inode_get(inode);
        if (object < 0) {
                (void)fuse_reply_err(req, -object);
                return;
        }
        int fd = ovl_open_requested(req, object, fi->flags);
        ovl_inode_put(inode, object);
        if (fd < 0) {
                (void)fuse_reply_err(req, -fd);
                return;
        }
        ovl_file_opened(fi, fd);
        (void)fuse_reply_open(req, fi);
}

static void ovl_create(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode,
                       struct fuse_file_info *fi)
{
        uint64_t seq = ovl_watch_seq();
        struct ovl_inode *parent;
        int fd = -1;
        int r = name_is_free(req, parent_ino, name, &parent);
        if (!r) {
                int dir = ovl_inode_get(parent);
                fd = dir < 0 ? dir : ovl_create_as_caller(req, dir, name, fi->flags, mode);
                ovl_inode_put(parent, dir);
                r = fd < 0 ? fd : 0;
        }
        struct fuse_entry_param e;
        if (!r && ovl_is_tmpfile_name(name))
                r = tmpfile_entry(req, parent_ino, fd, &e);
        else if (!r)
                r = do_lookup(req, parent_ino, name, &e);
        if (r) {
                if (fd >= 0)
                        (void)close(fd);
                (void)fuse_reply_err(req, -r);
                return;
        }
        if (overlay_of(req)->no_open) {
                /* No RELEASE comes when the kernel opens by itself, not even for a
                 * created file: it is used like any other (fh 0). */
                (void)close(fd);
                fi->fh = 0;
                fi->keep_cache = 1;
        } else {
                ovl_file_opened(fi, fd);
        }
        ovl_watch_reply_begin(seq, &e.entry_timeout, &e.attr_timeout);
        (void)fuse_reply_create(req, &e, fi);
        ovl_watch_reply_end();
}

/* The descriptor for I/O on a file opened without a request (ovl_io_fd_fn): a new
 * one of the kind needed, *temporary: such I/O is rare, since the kernel keeps the
 * pages. -errno. */
static int file_io_fd(fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi,
                      enum io_kind kind, bool *temporary)
{
        (void)fi;
        struct ovl_inode *inode = inode_of(req, ino);
        if (is_synthesized(inode))
                return -EACCES; /* a placeholder waiting for its link */
        int object = ovl_inode_get(inode);
        if (object < 0)
                return object;
        int fd = ovl_open_for_io(object, kind);
        ovl_inode_put(inode, object);
        *temporary = fd >= 0;
        return fd;
}

/* ---- directories --------------------------------------------------------------------- */

static int add_synthesized(void *ctx, const char *name, ino_t ino, mode_t mode)
{
        return dir_snapshot_add(ctx, name, ino, S_ISDIR(mode) ? DT_DIR : DT_REG);
}

struct listing_read {
        struct overlay *o;
        const struct ovl_inode *inode;
        struct dir_snapshot *d;
};

static int add_real(void *ctx, const struct dirent *de)
{
        struct listing_read *l = ctx;
        if (synthesized_named(l->o, l->inode, de->d_name, NULL, NULL))
                return 0; /* the synthesized entry replaces it, or it is hidden */
        return dir_snapshot_add(l->d, de->d_name, de->d_ino, de->d_type);
}

static int snapshot_read(struct overlay *o, struct ovl_inode *inode, struct dir_snapshot *d)
{
        int r = 0;
        if (is_synthesized(inode))
                return dir_snapshot_add(d, ".", 1, DT_DIR) ?: dir_snapshot_add(d, "..", 1, DT_DIR);
        int opath = ovl_inode_get(inode);
        struct listing_read ctx = {o, inode, d};
        r = opath < 0 ? opath : ovl_dir_each(opath, add_real, &ctx);
        ovl_inode_put(inode, opath);
        if (inode == &o->root && !r)
                r = ovl_entries_each(o, add_synthesized, d);
        return r;
}

static int read_listing(fuse_req_t req, fuse_ino_t ino, struct dir_snapshot *d)
{
        return snapshot_read(overlay_of(req), inode_of(req, ino), d);
}

static void ovl_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
        (void)fi;
        struct ovl_inode *inode = inode_of(req, ino);
        if (is_synthesized(inode)) {
                (void)fuse_reply_err(req, 0);
                return;
        }
        int opath = ovl_inode_get(inode);
        int r = opath < 0 ? opath : ovl_sync_dir(opath, datasync);
        ovl_inode_put(inode, opath);
        (void)fuse_reply_err(req, -r);
}

static void ovl_statfs(fuse_req_t req, fuse_ino_t ino)
{
        struct ovl_inode *inode = inode_of(req, ino);
        struct statvfs sv;
        if (is_synthesized(inode))
                inode = &overlay_of(req)->root;
        int fd = ovl_inode_get(inode);
        int r = fd < 0 ? fd : fstatvfs(fd, &sv) < 0 ? -errno : 0;
        ovl_inode_put(inode, fd);
        if (r < 0)
                (void)fuse_reply_err(req, -r);
        else
                (void)fuse_reply_statfs(req, &sv);
}

/* The object behind ino for the shared operations (struct ovl_view): a synthesized
 * entry has none, so no xattrs. */
static int object_get(fuse_req_t req, fuse_ino_t ino, bool change)
{
        (void)change; /* the overlay changes objects in place */
        struct ovl_inode *inode = inode_of(req, ino);
        return is_synthesized(inode) ? -ENOTSUP : ovl_inode_get(inode);
}

static bool listing_kept(fuse_req_t req, fuse_ino_t ino)
{
        return dir_timeout(inode_of(req, ino)) == OVL_LONG_TIMEOUT;
}

static void object_put(fuse_req_t req, fuse_ino_t ino, int fd)
{
        ovl_inode_put(inode_of(req, ino), fd);
}

static void ovl_init(void *userdata, struct fuse_conn_info *conn)
{
        struct overlay *o = userdata;
        ovl_conn_init(conn);
        ovl_view_init(&(struct ovl_view){.io_fd = file_io_fd,
                                         .listing = read_listing,
                                         .lookup = do_lookup,
                                         .forget = forget_one,
                                         .listing_kept = listing_kept,
                                         .object_get = object_get,
                                         .object_put = object_put});
        /* Opens and closes with no request (see ovl_conn_no_open): the kernel checks
         * the opener's rights itself, the overlay is writable, and on local
         * filesystems a close tells nobody anything. Placeholders, which refuse to
         * be opened, then refuse their I/O instead (file_io_fd). */
        o->no_open = ovl_conn_no_open(conn, fs_is_local(o->root.fd));
}

const struct fuse_lowlevel_ops ovl_ops = {
        .init = ovl_init,
        .lookup = ovl_lookup,
        .forget = ovl_view_forget,
        .forget_multi = ovl_view_forget_multi,
        .getattr = ovl_getattr,
        .setattr = ovl_setattr,
        .readlink = ovl_readlink,
        .mknod = ovl_mknod,
        .mkdir = ovl_mkdir,
        .symlink = ovl_symlink,
        .link = ovl_link,
        .unlink = ovl_unlink,
        .rmdir = ovl_rmdir,
        .rename = ovl_rename,
        .open = ovl_open,
        .create = ovl_create,
        .read = ovl_file_read,
        .write_buf = ovl_file_write_buf,
        .flush = ovl_file_flush,
        .release = ovl_file_release,
        .fsync = ovl_file_fsync,
        .fallocate = ovl_file_fallocate,
        .lseek = ovl_file_lseek,
        .opendir = ovl_view_opendir,
        .readdir = ovl_view_readdir,
        .readdirplus = ovl_view_readdirplus,
        .releasedir = ovl_view_releasedir,
        .fsyncdir = ovl_fsyncdir,
        .statfs = ovl_statfs,
        .getxattr = ovl_view_getxattr,
        .listxattr = ovl_view_listxattr,
        .setxattr = ovl_view_setxattr,
        .removexattr = ovl_view_removexattr,
};
