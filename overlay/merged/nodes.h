/* nodes.h — inside the merged view: its nodes, its layers, and what each of its files
 * (nodes.c, lookup.c, write_routing.c, files.c, listing.c, merged.c) gives the others.
 *
 * The view is the union of an upper directory (the link's backing path B) and a
 * lower one (what the virtual path V showed before the link), mounted on V. A name
 * shows B's object when B has it, else V's; two directories of one name are merged
 * again one level down. Changes act in place on the object shown; new names go to B,
 * whose missing parent directories are first made with the modes and owners of their
 * V counterparts (S12), or to V when B is read-only (S13). Removing B's object of a
 * colliding name lets V's show again; there are no whiteouts.
 *
 * Nodes (one per object the kernel knows) hold an O_PATH descriptor per layer and are
 * kept in the core's node table (node_table.c) by the (st_dev, st_ino) of the object
 * first found, so hard links are one node and a directory keeps its node id when B
 * gains a counterpart of it (a node id that changed would make the kernel drop the
 * dentry, and with it any link mounted on it). Directory nodes remember their parent
 * and name: that is the way to B when a missing parent must be made there.
 *
 * Locking: the table's lock guards the chains, the reference counts and the parent
 * links, and is never held across a system call. Each node's own lock serializes
 * what is set on it once at first use (B's counterpart made, the passthrough backing
 * file); the descriptors themselves are read with atomic loads. */
#ifndef BINDLINK_OVERLAY_MERGED_NODES_H
#define BINDLINK_OVERLAY_MERGED_NODES_H

#include "merged.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

enum layer { UPPER = 0, LOWER = 1 };

struct mnode {
        struct ovl_node node; /* first: the table's key and the kernel's references */
        pthread_mutex_t lock; /* making B's counterpart; the backing file */
        /* Per layer: an O_PATH|O_NOFOLLOW descriptor, or for a file past the
         * descriptor budget its handle (object_handle.c); neither where the layer
         * lacks it. Each set once, kept while the node lives. */
        int fd[2];
        struct ovl_handle *handle[2];
        /* The object in each layer (where it has one): a directory whose layer now
         * holds another object is shown by a new node. */
        struct {
                dev_t dev;
                ino_t ino;
        } obj[2];
        /* Directories: each layer's watch for changes made beside the view (NULL:
         * not watched, names in it get short timeouts). */
        struct ovl_watched *watched[2];
        mode_t type;          /* S_IFMT of the object shown */
        struct mnode *parent; /* directories: where last found (counted in children) */
        char *name;
        uint64_t children;       /* directory nodes whose parent this is */
        struct view_scope scope; /* directories: which layers their entries come from */
        /* Files, when opens cost no request (see mg_init): descriptors of the object
         * shown, opened at first use, shared by every open of it. */
        int io_fd[IO_KINDS];
        /* Files, when opens are served by passthrough: the backing file registered
         * at the first open and the layer of its object, as id << 1 | layer (-1:
         * none; set under the node's lock, read without it), kept until the node
         * goes, so the next open of a hot file costs no ioctl and no lock. */
        int backing;
        /* Files: a digest of their object's attributes as last told to the kernel
         * (mg_attrs_digest; 0: none), for mg_kernel_holds. */
        uint64_t told;
        /* Directories, under the table's lock: the entries of their last listing the
         * kernel read to its end, and how many directories in them were listed to
         * their end since (mg_listing_ended). */
        size_t listing_entries, listed_below;
};

struct merged {
        struct mnode root;
        struct ovl_node_table nodes;
        bool read_only; /* S13: B is not changed; new names go to V */
        bool shadow;    /* a link that is not merged, shown for its exceptions (S14) */
        bool no_open;   /* the kernel opens files without asking (mg_init) */
        /* Descriptors held by nodes and shared I/O descriptors kept open (atomic),
         * and the descriptor limit: past half of it, files are held by handle and
         * I/O descriptors are not kept (ovl_fds_past_budget). */
        size_t held_fds, io_cached, fd_limit;
        struct fuse_session *se;
};

static inline struct merged *merged_of(fuse_req_t req)
{
        return fuse_req_userdata(req);
}

static inline struct mnode *node_of(fuse_req_t req, fuse_ino_t ino)
{
        if (ino == FUSE_ROOT_ID)
                return &merged_of(req)->root;
        return (struct mnode *)(uintptr_t)ino;
}

static inline fuse_ino_t ino_of(const struct merged *mg, const struct mnode *n)
{
        return n == &mg->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

/* A layer's descriptor. Set once and never closed while the node lives, so a plain
 * atomic read is enough. */
static inline int layer_fd(const struct mnode *n, enum layer l)
{
        return __atomic_load_n(&n->fd[l], __ATOMIC_ACQUIRE);
}

static inline bool layer_has(const struct mnode *n, enum layer l)
{
        return layer_fd(n, l) >= 0 || __atomic_load_n(&n->handle[l], __ATOMIC_ACQUIRE);
}

static inline enum layer shown_layer(const struct mnode *n)
{
        return layer_has(n, UPPER) ? UPPER : LOWER;
}

/* The layer whose object a change of n acts on (S12: in place; S13: never B's), or
 * -EROFS. */
static inline int target_layer(const struct merged *mg, const struct mnode *n)
{
        if (!mg->read_only)
                return shown_layer(n);
        if (layer_has(n, LOWER) && (S_ISDIR(n->type) || !layer_has(n, UPPER)))
                return LOWER;
        return -EROFS;
}

static inline int name_check(const char *name)
{
        return strlen(name) > NAME_MAX ? -ENAMETOOLONG : 0;
}

/* The inode number shown: the key object's, stable for the node's life whichever
 * layer shows it; objects of another filesystem than B's get the top bit set, so
 * B's and V's numbers cannot collide when they live on two filesystems. */
static inline ino_t shown_ino(const struct merged *mg, dev_t dev, ino_t ino)
{
        return dev == mg->root.node.dev ? ino : (ino_t)((uint64_t)ino | 1ull << 63);
}

/* ---- nodes and their objects (nodes.c) ---- */
/* A descriptor of n's object in layer l for one operation: the node's own, or one
 * opened from its handle. -errno (-ENOENT where the layer lacks it, or the object is
 * gone). Give it back with mg_object_put. */
int mg_layer_get(const struct mnode *n, enum layer l);
/* The object n shows, for one operation. */
int mg_shown_get(const struct mnode *n);
/* The object a change of n acts on, for one operation: -EROFS where none may change. */
int mg_target_get(const struct merged *mg, const struct mnode *n);
void mg_object_put(const struct mnode *n, int fd);
/* A directory's descriptors for one operation, per layer: -1 where the layer lacks
 * it or its directory is gone. The node's own, or opened from its handles (a
 * directory first seen past the descriptor budget). Give them back with mg_dirs_put. */
struct dirs {
        const struct mnode *n;
        int fd[2];
};
struct dirs mg_dirs_get(const struct mnode *n);
void mg_dirs_put(const struct dirs *d);
/* The node for what a lookup found as name in parent (fd: descriptors per layer,
 * taken: kept or closed; st: their attributes), with one more kernel reference.
 * NULL on ENOMEM. */
struct mnode *mg_node_get(struct merged *mg, struct mnode *parent, const char *name, int fd[2],
                          const struct stat st[2]);
void mg_forget_node(fuse_req_t req, fuse_ino_t ino, uint64_t count);
/* Hold n (and what it needs) while an operation works on it without the table's
 * lock; mg_node_unpin gives it back. Table lock held for pin, not for unpin. */
void mg_node_pin(struct mnode *n);
void mg_node_unpin(struct merged *mg, struct mnode *n);
/* Free every node left, at the end. */
void mg_nodes_done(struct merged *mg);
/* Watch the view's root directories (once the watch has started). */
void mg_watch_root(struct merged *mg);
/* The view's ovl_listing_ended_fn (listing.c). */
void mg_listing_ended(fuse_req_t req, fuse_ino_t ino, size_t entries);
/* The view's ovl_find_fn and ovl_told_fn. */
fuse_ino_t mg_find_node(dev_t dev, ino_t ino);
bool mg_kernel_holds(const struct stat *now);
/* A digest of what stat says of an object that a reply to the kernel shows: its
 * identity, type and rights, size and times but the access time. Never 0. */
uint64_t mg_attrs_digest(const struct stat *st);
/* After a directory moved to name in newparent (dirfd: the directory it is in now,
 * in layer to): where its node is now, and in which layer it lives. */
void mg_node_moved(struct merged *mg, int dirfd, const char *name, struct mnode *newparent,
                   enum layer from, enum layer to);

/* ---- lookup and attributes (lookup.c) ---- */
/* How long the kernel may keep names in directory n (and what they show): long where
 * every layer it consults is watched. */
double mg_dir_timeout(const struct mnode *n);
/* How long it may keep n's attributes. */
double mg_attr_timeout(const struct mnode *n);
/* What stat through V shows of n. 0 or -errno. */
int mg_node_stat(const struct merged *mg, struct mnode *n, struct stat *st);
/* Which layer shows name in the directory parent (its descriptors: dirs): UPPER,
 * LOWER, or -ENOENT / -errno. */
int mg_layer_showing(const struct mnode *parent, const struct dirs *dirs, const char *name,
                     struct stat *st);
/* The entry (e: timeouts set) of what was found as name in parent (fd: O_PATH
 * descriptors per layer, taken; st: their attributes). 0 or -errno. */
int mg_found_entry(fuse_req_t req, struct mnode *parent, const char *name, int fd[2],
                   const struct stat st[2], struct fuse_entry_param *e);
/* The view's lookup (ovl_lookup_fn). */
int mg_lookup_entry(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                    struct fuse_entry_param *e);
void mg_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void mg_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mg_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                struct fuse_file_info *fi);
void mg_readlink(fuse_req_t req, fuse_ino_t ino);

/* ---- where new names go, removing and renaming (write_routing.c) ---- */
void mg_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void mg_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void mg_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name);
void mg_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void mg_create(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode,
               struct fuse_file_info *fi);
void mg_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void mg_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void mg_rename(fuse_req_t req, fuse_ino_t parent_ino, const char *name, fuse_ino_t newparent_ino,
               const char *newname, unsigned int flags);

/* ---- files: opens, passthrough, shared I/O descriptors (files.c) ---- */
/* Reply to an open or create (e: its entry) of n whose own descriptor is file. */
void mg_reply_opened(fuse_req_t req, struct mnode *n, int file, struct fuse_file_info *fi,
                     const struct fuse_entry_param *e);
/* The view's ovl_io_fd_fn. */
int mg_io_fd(fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi, enum io_kind kind,
             bool *temporary);
void mg_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

/* ---- listings (listing.c) ---- */
/* The view's ovl_listing_fn. */
int mg_read_listing(fuse_req_t req, fuse_ino_t ino, struct dir_snapshot *d);
void mg_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);

#endif
