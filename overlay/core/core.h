/* core.h — bindlink-overlay's core, shared by both views (parent/ and merged/): the
 * inode table, objects held by file handle, FUSE passthrough, the request loop, the
 * caller's credentials, file operations and directory listings. It includes nothing
 * from the views above it.
 *
 * bindlink-overlay is the FUSE server that shows a directory ("the lower
 * directory", captured as a descriptor before the FUSE mount covered it) unchanged,
 * plus synthesized entries at its top level: placeholders on which bindlinkd grafts
 * links that a bind mount alone cannot place (anchorless links, S8; a file over a
 * directory or the reverse, S9), and hidden names (a link whose backing path is gone
 * answers ENOENT, S10) — the parent overlay (parent/) — or B merged over the original
 * V — the merged view (merged/).
 *
 * Design after libfuse's passthrough_ll: low-level API, one inode per (st_dev,
 * st_ino) holding an O_PATH descriptor, *at() calls only, never path strings.
 *
 * Every operation of both views gives back what it took of a node (descriptors
 * opened from a handle, references) before it replies: once the reply is out, the
 * kernel may forget the node, and a FORGET served by another thread frees it. */
#ifndef BINDLINK_OVERLAY_CORE_H
#define BINDLINK_OVERLAY_CORE_H

#ifdef HAVE_FUSE_PASSTHROUGH_API
#define FUSE_USE_VERSION 317 /* fuse_file_info.backing_id */
#else
#define FUSE_USE_VERSION 312
#endif
#include "fs_kind.h"

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ---- the node table (node_table.c) ---- */
/* What every view's node starts with: the key of the real object it stands for and
 * the kernel's references to it. */
struct ovl_node {
        dev_t dev;
        ino_t ino;
        uint64_t nlookup;      /* kernel references (guarded by the table's lock) */
        struct ovl_node *next; /* hash chain */
};

struct ovl_node_table {
        pthread_mutex_t lock; /* the chains and the counts; never held across a system call */
        struct ovl_node **buckets;
        size_t bucket_count, count;
};

#define ovl_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* 0 or -errno. */
int ovl_nodes_init(struct ovl_node_table *t, size_t bucket_count);
/* free_node is called for every node left. */
void ovl_nodes_done(struct ovl_node_table *t, void (*free_node)(struct ovl_node *n, void *ctx),
                    void *ctx);
/* Take the lock, with room for one more node (the table grows before, outside the
 * lock; ENOMEM only makes chains longer). Then find, and insert if not found. */
void ovl_nodes_lock_for_insert(struct ovl_node_table *t);
/* Lock held. */
struct ovl_node *ovl_nodes_find(const struct ovl_node_table *t, dev_t dev, ino_t ino);
void ovl_nodes_insert(struct ovl_node_table *t, struct ovl_node *n);
void ovl_nodes_remove(struct ovl_node_table *t, struct ovl_node *n);

/* ---- the parent overlay's inodes, one object each (inode_table.c) ---- */
struct ovl_inode {
        struct ovl_node node;      /* first: the table's key and references */
        int fd;                    /* O_PATH|O_NOFOLLOW; -1 for a synthesized entry or ... */
        struct ovl_handle *handle; /* ... a file past the descriptor budget */
        mode_t synthesized_mode;   /* S_IFDIR or S_IFREG for a synthesized entry */
        /* Directories: watched for changes made beside the view (layer_watch.c);
         * tried once, at the first lookup that found one. */
        bool watch_tried;
        struct ovl_watched *watched;
};

struct ovl_table {
        struct ovl_node_table nodes;
        size_t held_fds, fd_limit; /* descriptors held by inodes; the process's limit */
        size_t handles;            /* inodes held by file handle */
};

/* ---- objects held by file handle past the descriptor budget (object_handle.c) ---- */
struct ovl_handle;
/* The handle of the object behind the O_PATH descriptor fd, found in the directory
 * dir_fd: fd is closed. NULL, fd left open, where the filesystem has no handles, the
 * object is mounted on its name, or on ENOMEM. */
struct ovl_handle *ovl_handle_take(int fd, int dir_fd);
/* A new O_PATH|O_NOFOLLOW descriptor of the handle's object: -ENOENT once it is gone. */
int ovl_handle_open(const struct ovl_handle *h);
void ovl_handle_free(struct ovl_handle *h);
/* The process's descriptor limit, and whether a view holding held descriptors (of
 * nodes and cached I/O) should keep its next file by handle: past half the limit,
 * so the other half stays for directories, open files and each operation's own. */
size_t ovl_fd_limit(void);
bool ovl_fds_past_budget(size_t held, size_t limit);
/* Grow the descriptor table to at least slots (at most the limit) before the first
 * thread starts: growing it later stalls the view (see object_handle.c). */
void ovl_fd_table_reserve(size_t slots);

/* ---- FUSE passthrough and the session's device (passthrough.c) ---- */
/* Give the session the mounted device fuse_fd (instead of fuse_session_mount); ask
 * the kernel for passthrough at INIT if wanted and offered. 0 or negative errno. */
int ovl_passthrough_session(struct fuse_session *se, int fuse_fd, bool wanted);
/* From the view's init callback, first thing: negotiate passthrough and
 * FUSE_HANDLE_KILLPRIV_V2 where the library knows them. */
void ovl_passthrough_init(struct fuse_conn_info *conn);
/* Did INIT settle on passthrough? */
bool ovl_passthrough_active(void);
/* Will it, if the INIT reply goes out as planned? Known from the view's init callback
 * on (ovl_passthrough_init called), so the view can plan by it. */
bool ovl_passthrough_offered(void);
/* Register the open file fd as a backing file: its id, or negative errno (EPERM
 * without CAP_SYS_ADMIN; a stacked filesystem's file is refused). */
int ovl_passthrough_backing_open(int fd);
void ovl_passthrough_backing_close(int backing_id);
/* The open or create reply about to be sent for fi (by this thread) is served by
 * passthrough from backing_id. */
void ovl_passthrough_reply_set(struct fuse_file_info *fi, int backing_id);

/* ---- serving requests (request_loop.c) ---- */
/* Receive and serve the session's requests on up to max_threads threads until the
 * session ends; at most max_idle of them wait for work. local_backing: the backing
 * directories are on filesystems fs_is_local() knows (their requests are quick).
 * 0, or the negative errno of a failed receive. */
int ovl_request_loop(struct fuse_session *se, unsigned max_threads, unsigned max_idle,
                     bool local_backing);

/* ---- inode table (inode_table.c) ---- */
int ovl_table_init(struct ovl_table *table);
void ovl_table_done(struct ovl_table *table);
/* Find or add the inode for (st->st_dev, st->st_ino), taking ownership of fd, found in
 * the directory dir_fd (closed if an inode existed; past the descriptor budget a new
 * file is kept by handle), and count one lookup. NULL on ENOMEM (fd closed). */
struct ovl_inode *ovl_table_lookup_add(struct ovl_table *table, int fd, const struct stat *st,
                                       int dir_fd);
/* Drop n lookups; frees the inode at 0. */
void ovl_table_forget(struct ovl_table *table, struct ovl_inode *inode, uint64_t n);
/* Just before name in dir_fd is unlinked or replaced: if it is the last name of a file
 * whose inode is held by handle, the inode gets a descriptor of it. A filesystem
 * cannot find a nameless file by its handle, and the file may be open through the
 * view (opened without a request: its I/O reaches it through the inode). */
void ovl_table_hold_before_unlink(struct ovl_table *table, int dir_fd, const char *name);
/* A descriptor of inode's real object for one operation: its own, or one opened from
 * its handle (-errno). Give it back with ovl_inode_put. */
int ovl_inode_get(const struct ovl_inode *inode);
void ovl_inode_put(const struct ovl_inode *inode, int fd);

/* ---- the caller's credentials (caller_creds.c) ---- */
/* Act as the request's caller on this thread (fsuid, fsgid, supplementary groups),
 * so new objects are owned by the caller and the lower filesystem checks the
 * caller's rights. 0 or -errno. */
int ovl_creds_enter(fuse_req_t req);
void ovl_creds_leave(void);
/* Act as the request's caller for a write or truncate of fd (any descriptor of the
 * file), so that the backing filesystem clears setuid/setgid bits as it would for
 * them: 0 or -errno. Always followed by ovl_writer_leave. */
int ovl_writer_enter(fuse_req_t req, int fd);
void ovl_writer_leave(void);

/* ---- shared by both views (file_ops.c) ---- */
enum ovl_make_kind { OVL_MAKE_NODE, OVL_MAKE_DIR, OVL_MAKE_SYMLINK };
/* mknod, mkdir or symlink name in dirfd as the request's caller (owner, rights on
 * the directory as the filesystem sees them). 0 or -errno. */
int ovl_make_as_caller(fuse_req_t req, int dirfd, const char *name, mode_t mode, dev_t rdev,
                       const char *link_target, enum ovl_make_kind kind);
/* open(O_CREAT) name in dirfd as the request's caller: the descriptor or -errno. For
 * the name OVL_TMPFILE_NAME (tmpfile_wire.h), an unnamed file in dirfd (O_TMPFILE). */
int ovl_create_as_caller(fuse_req_t req, int dirfd, const char *name, int flags, mode_t mode);
/* Open the object behind opath_fd as an OPEN request asks (flags): the descriptor or
 * -errno. An O_TRUNC open truncates as the caller (they may lose setuid bits). */
int ovl_open_requested(fuse_req_t req, int opath_fd, int flags);
/* An O_PATH descriptor of the file open as fd (an unnamed one has no name to find it
 * by): -errno. */
int ovl_opath_of(int fd);
void ovl_proc_path(int fd, char *buf, size_t size);
/* Apply a FUSE setattr to ino, the object behind opath_fd, or where the request names
 * an open file (fi, its fh 0 when it was opened without a request), through it. 0 or
 * -errno. */
int ovl_apply_setattr(fuse_req_t req, fuse_ino_t ino, int opath_fd, const struct stat *attr,
                      int to_set, struct fuse_file_info *fi);
/* getxattr (name) or listxattr (name NULL) of the object behind opath_fd: its size
 * (with size > 0, the value in *ret_value, to free) or -errno. Read before the reply,
 * so the view gives the object back before the kernel may forget it. */
ssize_t ovl_xattr_read(int opath_fd, const char *name, size_t size, char **ret_value);
/* Reply with what ovl_xattr_read returned (n, value: freed) for a request of size. */
void ovl_reply_xattr_read(fuse_req_t req, ssize_t n, char *value, size_t size);
/* setxattr, or removexattr when value is NULL. 0 or -errno. */
int ovl_xattr_write(int opath_fd, const char *name, const char *value, size_t size, int flags);
/* fs_is_local (fs_kind.h, shared with bindlinkd's list): filesystems known to answer
 * quickly, to learn nothing from a close (no write-back errors, no close-to-open
 * consistency) and to be changed through this kernel only. Their closes need no
 * FLUSH, their requests no thread of their own (request_loop.c), and layer_watch.c
 * watches them. */
/* What a file opened without a request is used for (its descriptor's mode). */
enum io_kind { IO_READ, IO_WRITE, IO_APPEND, IO_KINDS };
/* A new descriptor of the object behind opath_fd, for I/O of that kind: -errno. */
int ovl_open_for_io(int opath_fd, enum io_kind kind);
/* How a view finds the descriptor for I/O on a file opened without a request (fh 0):
 * -errno, or a descriptor, *temporary if the caller must close it. */
typedef int (*ovl_io_fd_fn)(fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi,
                            enum io_kind kind, bool *temporary);
/* Set, at INIT, the view's way; the ovl_file_* I/O operations below use the file's
 * own descriptor (fh) or the one it gives. */
void ovl_file_io_init(ovl_io_fd_fn io_fd);
/* Fill in fi for a file opened (or created) as fd. */
void ovl_file_opened(struct fuse_file_info *fi, int fd);
void ovl_file_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                   struct fuse_file_info *fi);
void ovl_file_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
                        struct fuse_file_info *fi);
void ovl_file_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ovl_file_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ovl_file_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void ovl_file_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                        struct fuse_file_info *fi);
void ovl_file_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                    struct fuse_file_info *fi);
/* Where allowed and the kernel can: directories open and close without a request
 * (the view answers the first OPENDIR with ENOSYS) and the kernel keeps every
 * listing. Whether it is so. */
bool ovl_conn_no_opendir(struct fuse_conn_info *conn, bool allowed);
/* The connection settings both views want. */
void ovl_conn_init(struct fuse_conn_info *conn);
/* Where allowed (a writable view whose backing filesystems fs_is_local knows) and
 * the kernel can: files open and close without a request (the view answers the first
 * OPEN and FLUSH with ENOSYS), and O_TRUNC comes as a setattr since no open would
 * truncate. Whether it is so. */
bool ovl_conn_no_open(struct fuse_conn_info *conn, bool allowed);

/* ---- directory listings, read whole at the first readdir (dir_snapshot.c) ---- */
struct dir_entry {
        char *name;
        ino_t ino;
        unsigned char type;
};

struct dir_snapshot {
        struct dir_entry *entries;
        size_t count, cap;
};

/* 0 or -ENOMEM. */
int dir_snapshot_add(struct dir_snapshot *d, const char *name, ino_t ino, unsigned char type);
/* Call fn for each entry of the directory behind opath_fd (with "." and ".."), until
 * it returns an error (-errno), which is returned. 0 or -errno. */
struct dirent;
int ovl_dir_each(int opath_fd, int (*fn)(void *ctx, const struct dirent *de), void *ctx);
/* Read a view's directory ino into d (empty): 0 or -errno. */
typedef int (*ovl_listing_fn)(fuse_req_t req, fuse_ino_t ino, struct dir_snapshot *d);
/* opendir, readdir's listing and releasedir of a directory handle whose listing is read
 * at its first readdir, not at opendir. With keep, the handle asks the kernel to keep
 * listings (cache_readdir), and when it has the directory cached it opens it and asks
 * nothing more; the kernel reads the listing again after its own changes and when the
 * directory's mtime changes. Without, each opendir reads it again. ovl_listing
 * returns NULL after replying with an error. */
void ovl_opendir_lazy(fuse_req_t req, struct fuse_file_info *fi, bool keep);
const struct dir_snapshot *ovl_listing(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
                                       ovl_listing_fn read);
void ovl_releasedir_lazy(fuse_req_t req, struct fuse_file_info *fi);
/* A view's lookup (0 or -errno; counts one kernel reference on success) and forget. */
typedef int (*ovl_lookup_fn)(fuse_req_t req, fuse_ino_t parent, const char *name,
                             struct fuse_entry_param *e);
typedef void (*ovl_forget_fn)(fuse_req_t req, fuse_ino_t ino, uint64_t n);
/* The kernel read directory ino's listing (of entries names) to its end from the
 * server: told before the empty answer that ends it is sent. */
typedef void (*ovl_listing_ended_fn)(fuse_req_t req, fuse_ino_t ino, size_t entries);
/* An empty entry whose name and attributes the kernel keeps for timeout seconds. */
static inline void ovl_entry_init(struct fuse_entry_param *e, double timeout)
{
        *e = (struct fuse_entry_param){.attr_timeout = timeout, .entry_timeout = timeout};
}
/* After making name in parent (r: 0 or the -errno of making it): reply with its
 * entry, found by the view's lookup, or with the error. */
void ovl_reply_made(fuse_req_t req, int r, ovl_lookup_fn lookup, fuse_ino_t parent,
                    const char *name);
/* Reply to readdir (lookup NULL) or readdirplus from offset off of the snapshot. */
void ovl_reply_readdir(fuse_req_t req, fuse_ino_t ino, const struct dir_snapshot *d, size_t size,
                       off_t off, ovl_lookup_fn lookup, ovl_forget_fn forget);
/* The same from entry start on, each entry's offset offsets[i] (ascending; entries
 * sharing one go out together) or, with offsets NULL, its index + 1. */
void ovl_reply_listing(fuse_req_t req, fuse_ino_t ino, const struct dir_snapshot *d,
                       const uint64_t *offsets, size_t start, size_t size, ovl_lookup_fn lookup,
                       ovl_forget_fn forget);

/* ---- listings of directories opened without a request (node_listing.c) ---- */
/* Reply to readdir (lookup NULL) or readdirplus of directory ino (dir: the attributes
 * of the object it shows) from offset off, where the kernel opened it without an
 * OPENDIR: offsets are hashes of the names, and listings (read by read) are kept
 * between a reader's READDIRs; ended (or NULL) is told of the answer that ends one. */
void ovl_readdir_unopened(fuse_req_t req, fuse_ino_t ino, const struct stat *dir, size_t size,
                          off_t off, ovl_listing_fn read, ovl_lookup_fn lookup,
                          ovl_forget_fn forget, ovl_listing_ended_fn ended);

/* ---- changes made beside the view reach the kernel's caches (layer_watch.c) ---- */
/* How long the kernel keeps names and attributes: long where every change is
 * notified, short where changes beside the view cannot be seen. */
#define OVL_LONG_TIMEOUT 3600.0
#define OVL_SHORT_TIMEOUT 1.0
/* The view's node id of the object (dev, ino), if the kernel may know it; 0 if none. */
typedef fuse_ino_t (*ovl_find_fn)(dev_t dev, ino_t ino);
/* The fanotify group, made while CAP_SYS_ADMIN is ours. Without it (said on stderr)
 * nothing is watched and every timeout is short. */
void ovl_watch_init(void);
/* Does the kernel hold the attributes of the file `now` names as they are now (what
 * the view last told it of that object, and its contents are never cached: served by
 * passthrough)? Asked when a file is closed after writing and nothing else changed
 * it; a view that cannot tell answers false, and the file's attributes are dropped. */
typedef bool (*ovl_told_fn)(const struct stat *now);
/* Turn the group's events into notifications to se, on a thread of its own; find:
 * the view's nodes of files; told (or NULL): see ovl_told_fn. Without the thread
 * (said), nothing is watched. Stopped (the thread joined) by ovl_watch_stop. */
void ovl_watch_start(struct fuse_session *se, ovl_find_fn find, ovl_told_fn told);
void ovl_watch_stop(void);
/* Is every change beside the view being notified (the group works, no mark was
 * refused, no event lost)? */
bool ovl_watch_coherent(void);
/* Are objects of filesystem dev watched (a local filesystem seen by ovl_watch_dir)? */
bool ovl_watch_dev_local(dev_t dev);
/* Watch the directory fd (its st_dev: dev, which the caller knows from its lookup),
 * shown as node ino: a token for ovl_watch_drop, or NULL where it is not watched
 * (then names in it get short timeouts). */
struct ovl_watched;
struct ovl_watched *ovl_watch_dir(int fd, dev_t dev, fuse_ino_t ino);
/* The node no longer shows the directory (fd: a descriptor of it, or -1). */
void ovl_watch_drop(struct ovl_watched *watched, int fd);
/* The kernel's copy of directory ino's listing is to be dropped, by the thread
 * (a request may hold what dropping it takes). */
void ovl_watch_forget_listing(fuse_ino_t ino);
/* Node ino gained the directory opath_fd (a layer's, made beside the view): the
 * names the kernel keeps below it are expired, by the thread. */
void ovl_watch_rescan(fuse_ino_t ino, int opath_fd);
/* A change the kernel is about to be told of (by the caller, next): entry replies
 * built before it go out with no timeouts. */
void ovl_watch_note_change(void);
/* Taken when a request starts building an entry; given to the reply. */
uint64_t ovl_watch_seq(void);
/* Send an entry (e) built since seq: with no timeouts if changes were notified
 * meanwhile. */
void ovl_reply_entry(fuse_req_t req, struct fuse_entry_param *e, uint64_t seq);
/* Around a reply carrying entries built since seq (readdirplus): begin zeroes the
 * timeouts if changes were notified meanwhile (attr_timeout may be NULL). */
void ovl_watch_reply_begin(uint64_t seq, double *entry_timeout, double *attr_timeout);
void ovl_watch_reply_end(void);

/* ---- operations both views serve alike (view_ops.c) ---- */
/* The ways to a view's nodes the shared operations use. */
struct ovl_view {
        ovl_io_fd_fn io_fd;
        ovl_listing_fn listing;
        ovl_lookup_fn lookup;
        ovl_forget_fn forget;
        /* May the kernel keep directory ino's listing: is every change of it
         * notified (its layers watched, OVL_LONG_TIMEOUT)? Where not — a network or
         * FUSE filesystem — a new mtime is no sign to rely on: sshfs gives whole
         * seconds, so a name made in the same second as the last change never
         * showed (remote.sh), and a server's clock may lag the other layer's. */
        bool (*listing_kept)(fuse_req_t req, fuse_ino_t ino);
        /* A descriptor of the real object ino shows (change: of the one a change
         * acts on) for one operation, or -errno; object_put gives it back (also a
         * negative one). */
        int (*object_get)(fuse_req_t req, fuse_ino_t ino, bool change);
        void (*object_put)(fuse_req_t req, fuse_ino_t ino, int fd);
        /* The kernel opens directories without a request (ovl_conn_no_opendir):
         * OPENDIR is answered ENOSYS, and READDIRs come without a handle
         * (ovl_readdir_unopened). */
        bool no_opendir;
        /* Told when the kernel has read a kept listing to its end (or NULL). */
        ovl_listing_ended_fn listing_ended;
};
/* From the view's init callback. */
void ovl_view_init(const struct ovl_view *v);
void ovl_view_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void ovl_view_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void ovl_view_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ovl_view_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                      struct fuse_file_info *fi);
void ovl_view_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                          struct fuse_file_info *fi);
void ovl_view_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ovl_view_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void ovl_view_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void ovl_view_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                       size_t size, int flags);
void ovl_view_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
/* fsync (fdatasync with datasync) the directory behind opath_fd: 0 or -errno. */
int ovl_sync_dir(int opath_fd, int datasync);

#endif
