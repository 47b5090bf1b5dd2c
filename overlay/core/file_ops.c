/* file_ops.c — what both views of bindlink-overlay (the parent overlay, ops.c, and the
 * merged view, merged.c) do the same way: operations on an open file handle (fh is a
 * descriptor of the real file), attribute changes and extended attributes of a real
 * object reached by its O_PATH descriptor. */
#include "core.h"
#include "tmpfile_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

void ovl_proc_path(int fd, char *buf, size_t size)
{
        (void)snprintf(buf, size, "/proc/self/fd/%d", fd);
}

/* ---- attributes ------------------------------------------------------------------ */

/* The view's way to find an open file's descriptor (one view per process). */
static ovl_io_fd_fn view_io_fd;

static int set_times(int opath_fd, const struct stat *attr, int to_set, int file)
{
        struct timespec tv[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
        if (to_set & FUSE_SET_ATTR_ATIME_NOW)
                tv[0].tv_nsec = UTIME_NOW;
        else if (to_set & FUSE_SET_ATTR_ATIME)
                tv[0] = attr->st_atim;
        if (to_set & FUSE_SET_ATTR_MTIME_NOW)
                tv[1].tv_nsec = UTIME_NOW;
        else if (to_set & FUSE_SET_ATTR_MTIME)
                tv[1] = attr->st_mtim;
        if (file >= 0)
                return futimens(file, tv) < 0 ? -errno : 0;
        char path[64];
        ovl_proc_path(opath_fd, path, sizeof path);
        return utimensat(AT_FDCWD, path, tv, 0) < 0 ? -errno : 0;
}

/* Is the request's caller in group gid (primary or supplementary)? */
static bool caller_in_group(fuse_req_t req, gid_t gid)
{
        if (fuse_req_ctx(req)->gid == gid)
                return true;
        gid_t groups[256];
        int n = fuse_req_getgroups(req, 256, groups);
        for (int i = 0; i < n && i < 256; i++)
                if (groups[i] == gid)
                        return true;
        return false;
}

/* Clear the setuid bit, and the setgid bit of a group-executable file where the
 * writer is not in its group, as a write by someone other than the owner does. */
static int kill_for_writer(fuse_req_t req, const char *path, const struct stat *st)
{
        if (!S_ISREG(st->st_mode))
                return 0;
        mode_t mode = st->st_mode & 07777;
        if (mode & S_ISUID)
                mode &= ~(mode_t)S_ISUID;
        if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && !caller_in_group(req, st->st_gid))
                mode &= ~(mode_t)S_ISGID;
        if (mode == (st->st_mode & 07777))
                return 0;
        return chmod(path, mode) < 0 ? -errno : 0;
}

/* Truncate to size: through the open file where the request names one (fi), for the
 * right to write was checked when it was opened, whatever the mode says now (a file
 * made with mode 0 by that open, or chmod'ed to 0 since); its own descriptor, or for a
 * file opened without a request (fh 0) the view's descriptor for writing it. Without
 * an open file (truncate(2)), by path. As the caller if kill, so that setuid/setgid
 * bits go as they would for them. 0 or -errno. */
static int set_size(fuse_req_t req, fuse_ino_t ino, int opath_fd, const char *path, off_t size,
                    bool kill, struct fuse_file_info *fi)
{
        bool temporary = false;
        int file = -1;
        if (fi) {
                file = fi->fh ? (int)fi->fh : view_io_fd(req, ino, fi, IO_WRITE, &temporary);
                if (file < 0)
                        return file;
        }
        int r = kill ? ovl_writer_enter(req, file >= 0 ? file : opath_fd) : 0;
        if (!r && (file >= 0 ? ftruncate(file, size) : truncate(path, size)) < 0)
                r = -errno;
        if (kill)
                ovl_writer_leave();
        if (temporary)
                (void)close(file);
        return r;
}

int ovl_apply_setattr(fuse_req_t req, fuse_ino_t ino, int opath_fd, const struct stat *attr,
                      int to_set, struct fuse_file_info *fi)
{
        char path[64];
        int r = 0;
        ovl_proc_path(opath_fd, path, sizeof path);
        /* The open file's own descriptor; a file opened without a request has none
         * (fh 0). */
        int own = fi && fi->fh ? (int)fi->fh : -1;
        if (to_set & FUSE_SET_ATTR_MODE) {
                int rc = own >= 0 ? fchmod(own, attr->st_mode) : chmod(path, attr->st_mode);
                r = rc < 0 ? -errno : 0;
        }
        /* A change of no attribute is chown(-1, -1) (the kernel sends its ctime only
         * with a writeback cache) or the kernel clearing setuid/setgid bits before a
         * write (killpriv v2 leaves that to us). For the owner or root: made as
         * chown(-1, -1), which clears them as it does directly; for another writer
         * (who may not chown), the bits are cleared as the write would. */
        int attrs = FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID | FUSE_SET_ATTR_SIZE |
                    FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
                    FUSE_SET_ATTR_MTIME_NOW;
        bool chown_none = !(to_set & attrs);
        const struct fuse_ctx *ctx = fuse_req_ctx(req);
        struct stat st;
        if (chown_none && ctx->uid != 0 &&
            fstatat(opath_fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 &&
            st.st_uid != ctx->uid) {
                chown_none = false;
                r = kill_for_writer(req, path, &st);
        }
        if (!r && (chown_none || (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))) {
                uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
                gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
                /* As the caller (with their groups), so the backing filesystem clears
                 * setuid/setgid bits as it would for them (killpriv v2). */
                r = ovl_creds_enter(req);
                if (!r && fchownat(opath_fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno;
                ovl_creds_leave();
        }
        /* The kernel asks for setuid/setgid bits to go (KILL_SUIDGID: a caller without
         * CAP_FSETID): truncate as the caller. */
        if (!r && (to_set & FUSE_SET_ATTR_SIZE))
                r = set_size(req, ino, opath_fd, path, attr->st_size,
                             to_set & FUSE_SET_ATTR_KILL_SUID, fi);
        if (!r && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
                             FUSE_SET_ATTR_MTIME_NOW)))
                r = set_times(opath_fd, attr, to_set, own);
        return r;
}

/* ---- new objects, made as the caller ------------------------------------------------ */

/* FUSE_DONT_MASK was taken: the kernel sends modes without the caller's umask (and
 * the umask beside them), so the umask is applied here, only where the directory has
 * no default ACL — as on B, where a default ACL decides the mode and the umask does
 * not count. (The kernel cannot know: it masks whatever the directory.) */
static bool umask_is_ours;

static mode_t requested_mode(fuse_req_t req, int dirfd, mode_t mode)
{
        mode_t mask = fuse_req_ctx(req)->umask;
        if (!umask_is_ours || !(mode & mask))
                return mode; /* (the umask would take nothing away: no getxattr) */
        char path[64];
        ovl_proc_path(dirfd, path, sizeof path);
        if (getxattr(path, "system.posix_acl_default", NULL, 0) > 0)
                return mode; /* the backing filesystem applies the default ACL */
        return mode & ~mask;
}

int ovl_make_as_caller(fuse_req_t req, int dirfd, const char *name, mode_t mode, dev_t rdev,
                       const char *link_target, enum ovl_make_kind kind)
{
        if (kind != OVL_MAKE_SYMLINK)
                mode = requested_mode(req, dirfd, mode);
        int r = ovl_creds_enter(req);
        if (r < 0)
                return r;
        int rc = kind == OVL_MAKE_DIR       ? mkdirat(dirfd, name, mode)
                 : kind == OVL_MAKE_SYMLINK ? symlinkat(link_target, dirfd, name)
                                            : mknodat(dirfd, name, mode, rdev);
        r = rc < 0 ? -errno : 0;
        ovl_creds_leave();
        return r;
}

int ovl_create_as_caller(fuse_req_t req, int dirfd, const char *name, int flags, mode_t mode)
{
        mode = requested_mode(req, dirfd, mode);
        int r = ovl_creds_enter(req);
        if (r < 0)
                return r;
        int fd = ovl_is_tmpfile_name(name)
                         ? openat(dirfd, ".", (flags & ~(O_CREAT | O_NOFOLLOW)) | O_TMPFILE, mode)
                         : openat(dirfd, name, (flags | O_CREAT) & ~O_NOFOLLOW, mode);
        r = fd < 0 ? -errno : fd;
        ovl_creds_leave();
        return r;
}

int ovl_open_requested(fuse_req_t req, int opath_fd, int flags)
{
        char path[64];
        ovl_proc_path(opath_fd, path, sizeof path);
        /* O_TRUNC truncates here: as the caller, who may lose setuid bits (killpriv v2). */
        bool trunc = flags & O_TRUNC;
        int fd = trunc ? ovl_writer_enter(req, opath_fd) : 0;
        if (fd == 0) {
                fd = open(path, (flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC);
                if (fd < 0)
                        fd = -errno;
        }
        if (trunc)
                ovl_writer_leave();
        return fd;
}

int ovl_opath_of(int fd)
{
        char path[64];
        ovl_proc_path(fd, path, sizeof path);
        int opath = open(path, O_PATH | O_CLOEXEC);
        return opath < 0 ? -errno : opath;
}

/* ---- extended attributes: the backing filesystem's answer, unchanged ---------------- */

ssize_t ovl_xattr_read(int opath_fd, const char *name, size_t size, char **ret_value)
{
        char path[64];
        ovl_proc_path(opath_fd, path, sizeof path);
        *ret_value = NULL;
        char *value = size ? malloc(size) : NULL;
        if (size && !value)
                return -ENOMEM;
        ssize_t n = name ? getxattr(path, name, value, size) : listxattr(path, value, size);
        if (n < 0) {
                n = -errno;
                free(value);
                return n;
        }
        *ret_value = value;
        return n;
}

void ovl_reply_xattr_read(fuse_req_t req, ssize_t n, char *value, size_t size)
{
        if (n < 0)
                (void)fuse_reply_err(req, (int)-n);
        else if (size == 0)
                (void)fuse_reply_xattr(req, (size_t)n);
        else
                (void)fuse_reply_buf(req, value, (size_t)n);
        free(value);
}

int ovl_xattr_write(int opath_fd, const char *name, const char *value, size_t size, int flags)
{
        char path[64];
        ovl_proc_path(opath_fd, path, sizeof path);
        int rc = value ? setxattr(path, name, value, size, flags) : removexattr(path, name);
        return rc < 0 ? -errno : 0;
}

/* ---- open files -------------------------------------------------------------------- */

int ovl_open_for_io(int opath_fd, enum io_kind kind)
{
        char path[64];
        ovl_proc_path(opath_fd, path, sizeof path);
        int flags = kind == IO_READ ? O_RDONLY : kind == IO_WRITE ? O_RDWR : O_WRONLY | O_APPEND;
        int fd = open(path, flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

void ovl_file_opened(struct fuse_file_info *fi, int fd)
{
        fi->fh = (uint64_t)fd;
        bool local = fs_is_local(fd);
        /* The page cache stays valid across opens; the kernel drops it when getattr
         * shows another size or mtime (auto_inval_data). Not on a network or FUSE
         * filesystem: there another machine changes files, an mtime may have whole
         * seconds (sshfs), and each open reads again, as sshfs and NFS do (close-to-
         * open). */
        fi->keep_cache = local;
        /* No FLUSH round trip on every close where closing tells nobody anything. */
        fi->noflush = local;
}

void ovl_file_io_init(ovl_io_fd_fn io_fd) { view_io_fd = io_fd; }

/* The descriptor for I/O of this kind on the open file, or 0 after replying with the
 * error. *temporary: the caller closes it when done. */
static int io_fd_or_reply(fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi,
                          enum io_kind kind, bool *temporary)
{
        *temporary = false;
        int fd = fi->fh ? (int)fi->fh : view_io_fd(req, ino, fi, kind, temporary);
        if (fd < 0) {
                (void)fuse_reply_err(req, -fd);
                return -1;
        }
        return fd;
}

static void done_with(int fd, bool temporary)
{
        if (temporary)
                (void)close(fd);
}

void ovl_file_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                   struct fuse_file_info *fi)
{
        bool temporary;
        int fd = io_fd_or_reply(req, ino, fi, IO_READ, &temporary);
        if (fd < 0)
                return;
        struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
        buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
        buf.buf[0].fd = fd;
        buf.buf[0].pos = off;
        /* The reply reads from fd, so fd outlives it: a temporary one is this
         * request's own (no node's), and a node's shared one stays open while the
         * file does, which it is until the read is answered. */
        (void)fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
        done_with(fd, temporary);
}

void ovl_file_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
                        struct fuse_file_info *fi)
{
        /* An O_APPEND writer appends where the file ends now, whatever the kernel
         * thinks its size is (a writer beside the link may have made it longer). */
        bool temporary;
        int fd = io_fd_or_reply(req, ino, fi, (fi->flags & O_APPEND) ? IO_APPEND : IO_WRITE,
                                &temporary);
        if (fd < 0)
                return;
        struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
        out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
        out.buf[0].fd = fd;
        out.buf[0].pos = off;
        /* As the writer, so the backing filesystem clears setuid/setgid bits as it
         * would directly (the kernel leaves it to us: killpriv v2). */
        ssize_t n = ovl_writer_enter(req, fd);
        if (n == 0)
                n = fuse_buf_copy(&out, in, 0);
        ovl_writer_leave();
        done_with(fd, temporary);
        if (n < 0)
                (void)fuse_reply_err(req, (int)-n);
        else
                (void)fuse_reply_write(req, (size_t)n);
}

void ovl_file_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)ino;
        if (!fi->fh) {
                /* Opened without a request (ovl_conn_no_open): a close tells nobody
                 * anything, and ENOSYS tells the kernel never to ask again. */
                (void)fuse_reply_err(req, ENOSYS);
                return;
        }
        /* Closing a duplicate does what close() does for the caller (POSIX locks, NFS). */
        int dup_fd = dup((int)fi->fh);
        int r = dup_fd < 0 || close(dup_fd) < 0 ? errno : 0;
        (void)fuse_reply_err(req, r);
}

void ovl_file_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)ino;
        if (fi->fh) /* 0: opened without a request, nothing of its own to close */
                (void)close((int)fi->fh);
        (void)fuse_reply_err(req, 0);
}

void ovl_file_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
        bool temporary;
        int fd = io_fd_or_reply(req, ino, fi, IO_READ, &temporary);
        if (fd < 0)
                return;
        int r = (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
        done_with(fd, temporary);
        (void)fuse_reply_err(req, r);
}

void ovl_file_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                        struct fuse_file_info *fi)
{
        bool temporary;
        int fd = io_fd_or_reply(req, ino, fi, IO_WRITE, &temporary);
        if (fd < 0)
                return;
        int r = fallocate(fd, mode, offset, length) < 0 ? errno : 0;
        done_with(fd, temporary);
        (void)fuse_reply_err(req, r);
}

void ovl_file_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                    struct fuse_file_info *fi)
{
        bool temporary;
        int fd = io_fd_or_reply(req, ino, fi, IO_READ, &temporary);
        if (fd < 0)
                return;
        off_t r = lseek(fd, off, whence);
        int e = r < 0 ? errno : 0;
        done_with(fd, temporary);
        if (e)
                (void)fuse_reply_err(req, e);
        else
                (void)fuse_reply_lseek(req, r);
}

bool ovl_conn_no_open(struct fuse_conn_info *conn, bool allowed)
{
        if (!allowed || !(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT))
                return false;
        conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
        conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
        return true;
}

bool ovl_conn_no_opendir(struct fuse_conn_info *conn, bool allowed)
{
        if (!allowed || !(conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT))
                return false;
        conn->want |= FUSE_CAP_NO_OPENDIR_SUPPORT;
        return true;
}

void ovl_conn_init(struct fuse_conn_info *conn)
{
        /* Large writes and zero-copy where the kernel offers them. */
        conn->max_write = 1u << 20;
        if (conn->capable & FUSE_CAP_SPLICE_WRITE)
                conn->want |= FUSE_CAP_SPLICE_WRITE;
        if (conn->capable & FUSE_CAP_SPLICE_MOVE)
                conn->want |= FUSE_CAP_SPLICE_MOVE;
        if (conn->capable & FUSE_CAP_SPLICE_READ)
                conn->want |= FUSE_CAP_SPLICE_READ;
        /* Every listing carries its entries' attributes (READDIRPLUS, not the
         * kernel's guess of when they will be wanted): with names and attributes
         * kept for long, `ls -l`, `find -ls`, `du` stat nothing afterwards. */
        conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
        /* Writes must reach the lower file as they happen (another path sees it). */
        conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
        /* The kernel checks permissions itself (default_permissions), and the server
         * opens and looks up with privilege: without the ACLs in the kernel's checks
         * an ACL that denies what the mode bits allow would not be seen. With this,
         * the kernel reads system.posix_acl_access (passed through from the backing
         * object) and checks it as it does on B. */
        if (conn->capable & FUSE_CAP_POSIX_ACL)
                conn->want |= FUSE_CAP_POSIX_ACL;
        /* ... and a default ACL decides new objects' modes instead of the umask. */
        if (conn->capable & FUSE_CAP_DONT_MASK) {
                conn->want |= FUSE_CAP_DONT_MASK;
                umask_is_ours = true;
        }
        /* Last: passthrough is refused beside a writeback cache. */
        ovl_passthrough_init(conn);
}
