/* write_routing.c — where the merged view's changes go: new names to B (making B's
 * missing parents like V's, S12) or to V (S13, S14); removing a name of B that
 * uncovers V's; renaming within and across layers. */
#include "nodes.h"
#include "tmpfile_wire.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h> /* renameat2 */
#include <stdlib.h>
#include <sys/xattr.h>
#include <unistd.h>

/* ---- where new names go ------------------------------------------------------------------ */

/* V's ACLs (access and default) onto B's directory made like V's: a default ACL
 * decides the modes of what is made in it, as it would have in V. Nothing where V's
 * filesystem holds none; ENOTSUP where B's cannot hold them (then B's directory is
 * like V's but for them, as with any copy to such a filesystem). 0 or -errno. */
static int copy_acls(int from_fd, int to_fd)
{
        static const char *const names[] = {"system.posix_acl_access", "system.posix_acl_default"};
        char from[64], to[64];
        ovl_proc_path(from_fd, from, sizeof from);
        ovl_proc_path(to_fd, to, sizeof to);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                ssize_t size = getxattr(from, names[i], NULL, 0);
                if (size <= 0) {
                        if (size == 0 || errno == ENODATA || errno == ENOTSUP)
                                continue;
                        return -errno;
                }
                _cleanup_free_ char *value = malloc((size_t)size);
                if (!value)
                        return -ENOMEM;
                ssize_t n = getxattr(from, names[i], value, (size_t)size);
                int r = n < 0                                             ? -errno
                        : setxattr(to, names[i], value, (size_t)n, 0) < 0 ? -errno
                                                                          : 0;
                if (r < 0 && r != -ENOTSUP)
                        return r;
        }
        return 0;
}

/* Make B's counterpart of directory c, below B's counterpart of its parent p, as name,
 * with the mode, owner and ACLs of V's (S12). Under c's own lock, so two threads
 * making it at once make it once; no other lock is held. 0 or -errno. */
static int make_upper_one(struct merged *mg, struct mnode *p, struct mnode *c, const char *name)
{
        pthread_mutex_lock(&c->lock);
        if (layer_has(c, UPPER)) {
                pthread_mutex_unlock(&c->lock);
                return 0;
        }
        int parent_fd = mg_layer_get(p, UPPER);
        int lower_fd = mg_layer_get(c, LOWER);
        struct stat original;
        bool made = false;
        int made_fd = -1;
        int r = 0;
        if (parent_fd < 0 || lower_fd < 0)
                r = parent_fd < 0 ? parent_fd : lower_fd;
        else if (fstatat(lower_fd, "", &original, AT_EMPTY_PATH) < 0)
                r = -errno;
        else if (!(made = mkdirat(parent_fd, name, original.st_mode & 07777) == 0) &&
                 errno != EEXIST)
                r = -errno;
        else if ((made_fd = openat(parent_fd, name,
                                   O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)) < 0)
                r = -errno;
        mg_object_put(p, parent_fd);
        if (r == 0 && made) {
                char path[64];
                ovl_proc_path(made_fd, path, sizeof path);
                if (fchownat(made_fd, "", original.st_uid, original.st_gid,
                             AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ||
                    chmod(path, original.st_mode & 07777) < 0)
                        r = -errno;
                else
                        r = copy_acls(lower_fd, made_fd);
        }
        mg_object_put(c, lower_fd);
        if (made_fd >= 0) {
                /* Kept even when its owner or ACLs could not be copied: the directory
                 * exists in B now, and is what the name shows. */
                __atomic_store_n(&c->fd[UPPER], made_fd, __ATOMIC_RELEASE);
                __atomic_fetch_add(&mg->held_fds, 1, __ATOMIC_RELAXED);
        }
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* Make B's counterparts of directory d and its ancestors that B lacks (S12), top
 * down, one a round: each round finds the highest ancestor B lacks under the table's
 * lock, pins it and its parent, and makes it without the lock. Returns B's
 * descriptor of d for one operation (give it back with mg_object_put), or -errno. */
static int make_upper(struct merged *mg, struct mnode *d)
{
        while (!layer_has(d, UPPER)) {
                pthread_mutex_lock(&mg->nodes.lock);
                struct mnode *c = d;
                size_t depth = 0;
                while (c->parent && !layer_has(c->parent, UPPER) && depth++ < PATH_MAX / 2)
                        c = c->parent;
                struct mnode *p = c->parent;
                char *name = p && c->name && !layer_has(c, UPPER) ? strdup(c->name) : NULL;
                if (!name) {
                        int r = layer_has(c, UPPER) ? 0 : p && c->name ? -ENOMEM : -ENOENT;
                        pthread_mutex_unlock(&mg->nodes.lock);
                        if (r < 0)
                                return r;
                        continue; /* made meanwhile */
                }
                mg_node_pin(c);
                mg_node_pin(p);
                pthread_mutex_unlock(&mg->nodes.lock);
                int r = make_upper_one(mg, p, c, name);
                free(name);
                mg_node_unpin(mg, p);
                mg_node_unpin(mg, c);
                if (r < 0)
                        return r;
        }
        return mg_layer_get(d, UPPER);
}

/* The layer where a new name in d is made: B (S12), the original V under S13 or in
 * an exception (S14), or -EROFS (a read-only link that is not merged). */
static int new_name_layer(const struct merged *mg, const struct mnode *d)
{
        if (d->scope.kind == SCOPE_LOWER)
                return LOWER;
        if (!mg->read_only)
                return UPPER;
        return mg->shadow ? -EROFS : LOWER;
}

/* The directory where a new name in d is made (B's made if missing), for one
 * operation: give it back with mg_object_put. -errno. */
static int new_name_dir(struct merged *mg, struct mnode *d)
{
        int layer = new_name_layer(mg, d);
        if (layer < 0)
                return layer;
        if (layer == UPPER)
                return make_upper(mg, d);
        return layer_has(d, LOWER) ? mg_layer_get(d, LOWER) : -EROFS;
}

/* Tell the kernel that name in the directory parent_ino may show another object now
 * (V's, after B's went). Called after the reply: the kernel holds the directory
 * locked until then. By node id, not node: once the reply is out the kernel may
 * forget the directory, and another thread free its node. */
static void name_changed(struct merged *mg, fuse_ino_t parent_ino, const char *name)
{
        if (mg->se)
                (void)fuse_lowlevel_notify_inval_entry(mg->se, parent_ino, name, strlen(name));
}

/* ---- creating names ---------------------------------------------------------------------- */

static void make_object(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode,
                        dev_t rdev, const char *link_target, enum ovl_make_kind kind)
{
        struct merged *mg = merged_of(req);
        struct mnode *parent = node_of(req, parent_ino);
        int r = name_check(name);
        int dirfd = r ? r : new_name_dir(mg, parent);
        r = dirfd < 0 ? dirfd : ovl_make_as_caller(req, dirfd, name, mode, rdev, link_target, kind);
        mg_object_put(parent, dirfd);
        ovl_reply_made(req, r, mg_lookup_entry, parent_ino, name);
}

void mg_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
        make_object(req, parent, name, mode, rdev, NULL, OVL_MAKE_NODE);
}

void mg_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
        make_object(req, parent, name, mode, 0, NULL, OVL_MAKE_DIR);
}

void mg_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
        make_object(req, parent, name, 0, 0, target, OVL_MAKE_SYMLINK);
}

void mg_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
        struct merged *mg = merged_of(req);
        int r = name_check(newname);
        struct mnode *to = node_of(req, newparent);
        int dirfd = r ? r : new_name_dir(mg, to);
        if (dirfd < 0)
                r = dirfd;
        struct mnode *n = node_of(req, ino);
        int fd = r ? -1 : mg_shown_get(n);
        if (!r && fd < 0)
                r = fd;
        if (!r && linkat(fd, "", dirfd, newname, AT_EMPTY_PATH) < 0)
                r = -errno;
        mg_object_put(n, fd);
        mg_object_put(to, dirfd);
        ovl_reply_made(req, r, mg_lookup_entry, newparent, newname);
}

/* The entry of the unnamed file (O_TMPFILE) just made in parent's new-name layer and
 * open as file. 0 or -errno. */
static int tmpfile_entry(fuse_req_t req, fuse_ino_t parent_ino, int file,
                         struct fuse_entry_param *e)
{
        struct merged *mg = merged_of(req);
        struct mnode *parent = node_of(req, parent_ino);
        ovl_entry_init(e, mg_dir_timeout(parent));
        int layer = new_name_layer(mg, parent);
        if (layer < 0)
                return layer;
        int fd[2] = {-1, -1};
        struct stat st[2];
        fd[layer] = ovl_opath_of(file);
        if (fd[layer] < 0)
                return fd[layer];
        if (fstat(fd[layer], &st[layer]) < 0) {
                int r = -errno;
                (void)close(fd[layer]);
                return r;
        }
        return mg_found_entry(req, parent, OVL_TMPFILE_NAME, fd, st, e);
}

void mg_create(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode,
               struct fuse_file_info *fi)
{
        struct merged *mg = merged_of(req);
        uint64_t seq = ovl_watch_seq();
        int fd = -1;
        int r = name_check(name);
        struct mnode *parent = node_of(req, parent_ino);
        int dirfd = r ? r : new_name_dir(mg, parent);
        if (dirfd < 0)
                r = dirfd;
        if (!r) {
                fd = ovl_create_as_caller(req, dirfd, name, fi->flags, mode);
                r = fd < 0 ? fd : 0;
        }
        mg_object_put(parent, dirfd);
        struct fuse_entry_param e;
        if (!r && ovl_is_tmpfile_name(name))
                r = tmpfile_entry(req, parent_ino, fd, &e);
        else if (!r)
                r = mg_lookup_entry(req, parent_ino, name, &e);
        if (r) {
                if (fd >= 0)
                        (void)close(fd);
                (void)fuse_reply_err(req, -r);
                return;
        }
        ovl_watch_reply_begin(seq, &e.entry_timeout, &e.attr_timeout);
        if (mg->no_open) {
                /* The kernel sends no RELEASE when it opens files by itself, not even
                 * for a created one: the file is used through the node's shared
                 * descriptors like any other (fh 0), or this one would leak. */
                (void)close(fd);
                fi->fh = 0;
                fi->keep_cache = 1;
                (void)fuse_reply_create(req, &e, fi);
        } else {
                mg_reply_opened(req, node_of(req, e.ino), fd, fi, &e);
        }
        ovl_watch_reply_end();
}

/* ---- removing and renaming names ----------------------------------------------------------- */

static bool dir_is_empty(int dir_opath_fd, const char *name)
{
        int fd = openat(dir_opath_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return true;
        DIR *dir = fdopendir(fd);
        if (!dir) {
                (void)close(fd);
                return true;
        }
        bool empty = true;
        for (struct dirent *de; empty && (de = readdir(dir));)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        empty = false;
        (void)closedir(dir);
        return empty;
}

static void remove_name(fuse_req_t req, fuse_ino_t parent_ino, const char *name, int flags)
{
        struct merged *mg = merged_of(req);
        struct mnode *parent = node_of(req, parent_ino);
        struct stat st, under;
        int r = name_check(name);
        struct dirs d = mg_dirs_get(parent);
        int layer = r ? r : mg_layer_showing(parent, &d, name, &st);
        int lower = scope_pick(&parent->scope, name) == PICK_UPPER ? -1 : d.fd[LOWER];
        /* V's object of the same name, which shows once B's is gone. */
        bool uncovers = layer == UPPER && lower >= 0 &&
                        fstatat(lower, name, &under, AT_SYMLINK_NOFOLLOW) == 0;
        if (layer < 0)
                r = layer;
        else if (layer == UPPER && mg->read_only)
                r = -EROFS;
        else if (layer == LOWER && mg->shadow && parent->scope.kind != SCOPE_LOWER)
                r = -EBUSY; /* a directory on the way to an exception */
        else if ((flags & AT_REMOVEDIR) && uncovers && S_ISDIR(st.st_mode) &&
                 S_ISDIR(under.st_mode) && !dir_is_empty(lower, name))
                r = -ENOTEMPTY; /* the merged directory lists V's entries too */
        else if (unlinkat(d.fd[layer], name, flags) < 0)
                r = -errno;
        mg_dirs_put(&d);
        (void)fuse_reply_err(req, -r);
        if (!r && uncovers)
                name_changed(mg, parent_ino, name);
}

void mg_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        remove_name(req, parent, name, 0);
}

void mg_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        remove_name(req, parent, name, AT_REMOVEDIR);
}

/* Renaming onto a name only V shows, in B: what rename(2) would have said about the
 * object that name shows. */
static int replace_check(const struct stat *src, int dst_layer_dir, const char *dst_name,
                         const struct stat *dst, unsigned int flags)
{
        if (flags & RENAME_NOREPLACE)
                return -EEXIST;
        if (S_ISDIR(src->st_mode) && !S_ISDIR(dst->st_mode))
                return -ENOTDIR;
        if (!S_ISDIR(src->st_mode) && S_ISDIR(dst->st_mode))
                return -EISDIR;
        if (S_ISDIR(dst->st_mode) && !dir_is_empty(dst_layer_dir, dst_name))
                return -ENOTEMPTY;
        return 0;
}

void mg_rename(fuse_req_t req, fuse_ino_t parent_ino, const char *name, fuse_ino_t newparent_ino,
               const char *newname, unsigned int flags)
{
        struct merged *mg = merged_of(req);
        struct mnode *parent = node_of(req, parent_ino), *newparent = node_of(req, newparent_ino);
        struct stat src = {0}, dst = {0};
        int r = name_check(name) ?: name_check(newname);
        struct dirs from = mg_dirs_get(parent), into = mg_dirs_get(newparent);
        int layer = r ? r : mg_layer_showing(parent, &from, name, &src);
        int dst_layer = -ENOENT, to_dir = -1;
        if (layer < 0)
                r = layer;
        else if (layer == UPPER && mg->read_only)
                r = -EROFS;
        if (!r && (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)))
                r = -EINVAL;
        if (!r) {
                dst_layer = mg_layer_showing(newparent, &into, newname, &dst);
                if (dst_layer < 0 && dst_layer != -ENOENT)
                        r = dst_layer;
        }
        /* Where the object goes: B (S12: a V-only entry moves into B), or V (S13). */
        if (!r) {
                to_dir = new_name_dir(mg, newparent);
                if (to_dir < 0)
                        r = to_dir;
        }
        int to_layer = new_name_layer(mg, newparent);
        enum layer to = to_layer == LOWER ? LOWER : UPPER;
        if (!r && layer == LOWER && mg->shadow && parent->scope.kind != SCOPE_LOWER)
                r = -EBUSY; /* a directory on the way to an exception */
        if (!r && dst_layer >= 0 && dst_layer != (int)to) {
                /* The name shows an object of the other layer. */
                if (mg->read_only)
                        r = -EROFS; /* it is B's: not replaced */
                else if (flags & RENAME_EXCHANGE)
                        r = -EXDEV; /* the two objects live in different layers */
                else
                        r = replace_check(&src, into.fd[LOWER], newname, &dst, flags);
        }
        int from_dir = layer < 0 ? -1 : from.fd[layer];
        if (!r && renameat2(from_dir, name, to_dir, newname, flags) < 0)
                r = -errno;
        int lower = scope_pick(&parent->scope, name) == PICK_UPPER ? -1 : from.fd[LOWER];
        struct stat under;
        bool uncovers = !r && layer == UPPER && !(flags & RENAME_EXCHANGE) && lower >= 0 &&
                        fstatat(lower, name, &under, AT_SYMLINK_NOFOLLOW) == 0;
        if (!r && S_ISDIR(src.st_mode))
                mg_node_moved(mg, to_dir, newname, newparent, (enum layer)layer, to);
        if (to_dir >= 0)
                mg_object_put(newparent, to_dir);
        mg_dirs_put(&from);
        mg_dirs_put(&into);
        (void)fuse_reply_err(req, -r);
        if (uncovers)
                name_changed(mg, parent_ino, name);
}
