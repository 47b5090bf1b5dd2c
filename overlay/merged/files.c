/* files.c — opening the merged view's files: by passthrough where the kernel can
 * (one backing file per node, registered at the first open), else with the server's
 * own descriptor; and the shared I/O descriptors of files opened without a request. */
#include "nodes.h"

#include <fcntl.h>
#include <unistd.h>

/* The passthrough backing file serving opens of n, registered at the first from
 * file (an open descriptor of n's shown object), kept for the next; -1 where the
 * kernel shall serve n by requests. The kernel opens its own backing file for each
 * open, with that open's flags, from the registered one's path: one registration
 * serves readers and writers alike. A node whose shown object changed (B gained its
 * name) gets a new one; files opened before keep theirs (merged.sh tests both).
 *
 * Not for a file on a filesystem fs_is_local does not know (network, FUSE): the
 * kernel would read and write through a backing file of its own, which it never
 * closes with close(2), so the filesystem is never asked to flush — sshfs sends
 * writes without waiting and waits for them at FLUSH, NFS writes back at close —
 * and what was written through V was not yet on the server when close returned
 * (remote.sh). Served by requests there,
 * a FLUSH closes a duplicate of the server's own descriptor, as close(2) would. The
 * registered file would also stay open on the share until the kernel forgot the
 * node: sshfs hides a file removed while open as .fuse_hiddenN, and rm -r B failed. */
static int passthrough_backing(struct mnode *n, int file)
{
        if (!ovl_passthrough_active() || n->type != S_IFREG)
                return -1;
        enum layer shown = shown_layer(n);
        pthread_mutex_lock(&n->lock);
        if (n->backing >= 0 && (n->backing & 1) != (int)shown) {
                ovl_passthrough_backing_close(n->backing >> 1);
                __atomic_store_n(&n->backing, -1, __ATOMIC_RELEASE);
        }
        if (n->backing < 0) {
                if (!fs_is_local(file)) {
                        pthread_mutex_unlock(&n->lock);
                        return -1;
                }
                int id = ovl_passthrough_backing_open(file);
                if (id < 0) {
                        /* E.g. B on a stacked filesystem (overlayfs, another FUSE
                         * view): served by requests, as without passthrough. */
                        pthread_mutex_unlock(&n->lock);
                        return -1;
                }
                __atomic_store_n(&n->backing, id << 1 | (int)shown, __ATOMIC_RELEASE);
        }
        int id = n->backing >> 1;
        pthread_mutex_unlock(&n->lock);
        return id;
}

/* Passthrough without a descriptor of the server's own: the kernel opens its own
 * backing file and does the I/O; fsync and the like use the node's shared
 * descriptors (fh 0). */
static void passthrough_reply_set(struct fuse_file_info *fi, int backing_id)
{
        fi->fh = 0;
        /* The kernel refuses (EIO) a passthrough open with any cache flag: there is
         * no FUSE page cache to keep. */
        fi->keep_cache = 0;
        fi->direct_io = 0;
        /* Nothing to flush at close: the server holds no descriptor of it. And a
         * FLUSH would get ENOSYS (fh 0: ovl_file_flush), which makes the kernel send
         * no FLUSH again on the whole view — neither for the files it serves by
         * requests, on a network B, whose close must reach the share (remote.sh). */
        fi->noflush = 1;
        ovl_passthrough_reply_set(fi, backing_id);
}

/* A read-only open of a file already served by passthrough: replied at once with
 * no system call (the kernel checked the opener's rights: default_permissions;
 * reading refuses nothing else). false where it must be opened first. */
static bool reply_passthrough_again(fuse_req_t req, const struct mnode *n,
                                    struct fuse_file_info *fi)
{
        if (!ovl_passthrough_active() || n->type != S_IFREG)
                return false;
        int backing = __atomic_load_n(&n->backing, __ATOMIC_ACQUIRE);
        if (backing < 0 || (backing & 1) != (int)shown_layer(n))
                return false;
        passthrough_reply_set(fi, backing >> 1);
        (void)fuse_reply_open(req, fi);
        return true;
}

/* Reply to an open or create of n whose own descriptor is file (opened as the
 * request asks): by passthrough where it can, and then without a descriptor of the
 * server's own (fh 0: the kernel does the I/O; fsync and the like use the node's
 * shared descriptors). */
void mg_reply_opened(fuse_req_t req, struct mnode *n, int file, struct fuse_file_info *fi,
                     const struct fuse_entry_param *e)
{
        int backing_id = passthrough_backing(n, file);
        if (backing_id >= 0) {
                (void)close(file);
                passthrough_reply_set(fi, backing_id);
        } else {
                ovl_file_opened(fi, file);
        }
        if (e)
                (void)fuse_reply_create(req, e, fi);
        else
                (void)fuse_reply_open(req, fi);
}

/* ---- files ---------------------------------------------------------------------------------- */

/* The descriptor for I/O on a file opened without a request (ovl_io_fd_fn): the
 * node's shared one of the kind needed (opened at first use: the kernel has checked
 * the opener's rights already; kept while the descriptor budget allows, else
 * *temporary). -errno. */
int mg_io_fd(fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi, enum io_kind kind,
             bool *temporary)
{
        (void)fi;
        struct merged *mg = merged_of(req);
        struct mnode *n = node_of(req, ino);
        int fd = __atomic_load_n(&n->io_fd[kind], __ATOMIC_ACQUIRE);
        if (fd >= 0)
                return fd;
        int object = mg_shown_get(n);
        if (object < 0)
                return object;
        fd = ovl_open_for_io(object, kind);
        mg_object_put(n, object);
        if (fd < 0)
                return fd;
        /* Kept by the first thread to set it; a thread that lost the race uses the
         * winner's. */
        if (ovl_fds_past_budget(__atomic_load_n(&mg->held_fds, __ATOMIC_RELAXED) +
                                        __atomic_load_n(&mg->io_cached, __ATOMIC_RELAXED),
                                mg->fd_limit)) {
                *temporary = true;
                return fd;
        }
        int unset = -1;
        if (__atomic_compare_exchange_n(&n->io_fd[kind], &unset, fd, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
                __atomic_fetch_add(&mg->io_cached, 1, __ATOMIC_RELAXED);
        } else {
                (void)close(fd);
                fd = unset;
        }
        return fd;
}

void mg_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        struct merged *mg = merged_of(req);
        struct mnode *n = node_of(req, ino);
        if (mg->no_open) {
                /* The kernel opens by itself from now on; I/O uses io_fd. */
                (void)fuse_reply_err(req, ENOSYS);
                return;
        }
        bool writes = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
        if (!writes && reply_passthrough_again(req, n, fi))
                return;
        int fd = writes ? mg_target_get(mg, n) : mg_shown_get(n);
        if (fd < 0) {
                (void)fuse_reply_err(req, -fd);
                return;
        }
        int file = ovl_open_requested(req, fd, fi->flags);
        mg_object_put(n, fd);
        if (file < 0) {
                (void)fuse_reply_err(req, -file);
                return;
        }
        mg_reply_opened(req, n, file, fi, NULL);
}
