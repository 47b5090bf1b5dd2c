/* merged.c — the view of a MERGED link (S12) and of a READ_ONLY|MERGED link (S13):
 * the union of an upper directory (the link's backing path B) and a lower one (what
 * the virtual path V showed before the link), mounted on V.
 *
 * A name shows B's object when B has it, else V's; two directories of one name are
 * merged again one level down. Changes act in place on the object shown; new names
 * go to B, whose missing parent directories are first made with the modes and
 * owners of their V counterparts (S12), or to V when B is read-only (S13). Removing
 * B's object of a colliding name lets V's show again; there are no whiteouts.
 *
 * Nodes (one per object the kernel knows) hold an O_PATH descriptor per layer and
 * are keyed by the (st_dev, st_ino) of the object first found, so hard links are one
 * node and a directory keeps its node id when B gains a counterpart of it (a node id
 * that changed would make the kernel drop the dentry, and with it any link mounted
 * on it). Directory nodes remember their parent and name: that is the way to B when
 * a missing parent must be made there. */
#include "merged.h"
#include "tmpfile_wire.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

enum layer { UPPER = 0, LOWER = 1 };

/* The shared descriptors of a file: for reading, for writing, for appending. */

struct mnode {
        /* Per layer: an O_PATH|O_NOFOLLOW descriptor, or for a file past the
         * descriptor budget its handle (object_handle.c); neither where the layer
         * lacks it. Each set once, kept while the node lives. */
        int fd[2];
        struct ovl_handle *handle[2];
        dev_t dev;     /* the key: the object first found */
        ino_t ino;
        mode_t type;   /* S_IFMT of the object shown */
        struct mnode *parent; /* directories: where last found (counted in children) */
        char *name;
        uint64_t nlookup;  /* kernel references */
        uint64_t children; /* directory nodes whose parent this is */
        struct view_scope scope; /* directories: which layers their entries come from */
        /* Files, when opens cost no request (see m_init): descriptors of the object
         * shown, opened at first use, shared by every open of it. */
        int io_fd[IO_KINDS];
        /* Files, when opens are served by passthrough: the backing file registered
         * at the first open and the layer of its object, as id << 1 | layer (-1:
         * none; set under the lock, read without it), kept until the node goes, so
         * the next open of a hot file costs no ioctl and no lock. */
        int backing;
        struct mnode *next;
};

struct merged {
        struct mnode root;
        pthread_mutex_t lock; /* the table, parent links, descriptors being set */
        struct mnode **buckets;
        size_t bucket_count, count;
        bool read_only; /* S13: B is not changed; new names go to V */
        bool shadow;    /* a link that is not merged, shown for its exceptions (S14) */
        bool no_open;   /* the kernel opens files without asking (m_init) */
        /* Descriptors held by nodes and shared I/O descriptors kept open (lock
         * held), and the descriptor limit: past half of it, files are held by
         * handle and I/O descriptors are not kept (ovl_fds_past_budget). */
        size_t held_fds, io_cached, fd_limit;
        double timeout;
        struct fuse_session *se;
};

static struct merged *merged_of(fuse_req_t req) { return fuse_req_userdata(req); }

static struct mnode *node_of(fuse_req_t req, fuse_ino_t ino)
{
        if (ino == FUSE_ROOT_ID)
                return &merged_of(req)->root;
        return (struct mnode *)(uintptr_t)ino;
}

static fuse_ino_t ino_of(const struct merged *mg, const struct mnode *n)
{
        return n == &mg->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

/* A layer's descriptor. Set once under the lock and never closed while the node
 * lives, so a plain atomic read is enough. */
static int layer_fd(const struct mnode *n, enum layer l)
{
        return __atomic_load_n(&n->fd[l], __ATOMIC_ACQUIRE);
}

static bool layer_has(const struct mnode *n, enum layer l)
{
        return layer_fd(n, l) >= 0 || __atomic_load_n(&n->handle[l], __ATOMIC_ACQUIRE);
}

static enum layer shown_layer(const struct mnode *n)
{
        return layer_has(n, UPPER) ? UPPER : LOWER;
}


/* The layer whose object a change of n acts on (S12: in place; S13: never B's), or
 * -EROFS. */
static int target_layer(const struct merged *mg, const struct mnode *n)
{
        if (!mg->read_only)
                return shown_layer(n);
        if (layer_has(n, LOWER) && (S_ISDIR(n->type) || !layer_has(n, UPPER)))
                return LOWER;
        return -EROFS;
}

/* A descriptor of n's object in layer l for one operation: the node's own, or one
 * opened from its handle. -errno (-ENOENT where the layer lacks it, or the object is
 * gone). Give it back with object_put. */
static int layer_get(const struct mnode *n, enum layer l)
{
        int fd = layer_fd(n, l);
        if (fd >= 0)
                return fd;
        const struct ovl_handle *h = __atomic_load_n(&n->handle[l], __ATOMIC_ACQUIRE);
        return h ? ovl_handle_open(h) : -ENOENT;
}

/* The object n shows, for one operation. */
static int shown_get(const struct mnode *n) { return layer_get(n, shown_layer(n)); }

/* The object a change of n acts on, for one operation: -EROFS where none may change. */
static int target_get(const struct merged *mg, const struct mnode *n)
{
        int l = target_layer(mg, n);
        return l < 0 ? l : layer_get(n, (enum layer)l);
}

/* Give back what layer_get returned: closed if it was opened for the operation (a
 * number the node's own slots cannot hold while it is open). */
static void object_put(const struct mnode *n, int fd)
{
        if (fd >= 0 && fd != layer_fd(n, UPPER) && fd != layer_fd(n, LOWER))
                (void)close(fd);
}

/* A directory's descriptors for one operation, per layer: -1 where the layer lacks
 * it or its directory is gone. The node's own, or opened from its handles (a
 * directory first seen past the descriptor budget). Give them back with dirs_put. */
struct dirs {
        const struct mnode *n;
        int fd[2];
};

static struct dirs dirs_get(const struct mnode *n)
{
        struct dirs d = {.n = n, .fd = {-1, -1}};
        int fd = layer_get(n, UPPER);
        d.fd[UPPER] = fd < 0 ? -1 : fd;
        /* A directory moved from V into B has one object in both slots. */
        const struct ovl_handle *h = __atomic_load_n(&n->handle[LOWER], __ATOMIC_ACQUIRE);
        if (h && layer_fd(n, LOWER) < 0 && h == __atomic_load_n(&n->handle[UPPER], __ATOMIC_ACQUIRE)) {
                d.fd[LOWER] = d.fd[UPPER];
                return d;
        }
        fd = layer_get(n, LOWER);
        d.fd[LOWER] = fd < 0 ? -1 : fd;
        return d;
}

static void dirs_put(const struct dirs *d)
{
        object_put(d->n, d->fd[UPPER]);
        if (d->fd[LOWER] != d->fd[UPPER])
                object_put(d->n, d->fd[LOWER]);
}

static int name_check(const char *name)
{
        return strlen(name) > NAME_MAX ? ENAMETOOLONG : 0;
}

/* ---- the node table ------------------------------------------------------------------ */

static size_t bucket_of(const struct merged *mg, dev_t dev, ino_t ino)
{
        uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;
        return (size_t)(h % mg->bucket_count);
}

static struct mnode *table_find(const struct merged *mg, dev_t dev, ino_t ino)
{
        for (struct mnode *n = mg->buckets[bucket_of(mg, dev, ino)]; n; n = n->next)
                if (n->dev == dev && n->ino == ino)
                        return n;
        return NULL;
}

static int table_grow(struct merged *mg)
{
        size_t count = mg->bucket_count * 2;
        struct mnode **buckets = calloc(count, sizeof *buckets);
        if (!buckets)
                return ENOMEM;
        for (size_t i = 0; i < mg->bucket_count; i++)
                for (struct mnode *n = mg->buckets[i], *next; n; n = next) {
                        next = n->next;
                        uint64_t h = (uint64_t)n->ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)n->dev;
                        size_t b = (size_t)(h % count);
                        n->next = buckets[b];
                        buckets[b] = n;
                }
        free(mg->buckets);
        mg->buckets = buckets;
        mg->bucket_count = count;
        return 0;
}

static void table_remove(struct merged *mg, struct mnode *n)
{
        for (struct mnode **p = &mg->buckets[bucket_of(mg, n->dev, n->ino)]; *p; p = &(*p)->next)
                if (*p == n) {
                        *p = n->next;
                        mg->count--;
                        return;
                }
}

/* Add d to a counter node_get reads without the lock. Lock held. */
static void count_add(size_t *counter, int d)
{
        __atomic_store_n(counter, *counter + (size_t)(ssize_t)d, __ATOMIC_RELAXED);
}

/* A directory moved from V into B keeps one descriptor (or handle) in both slots.
 * Lock held. */
static void close_layers(struct merged *mg, struct mnode *n)
{
        for (int k = 0; k < IO_KINDS; k++)
                if (n->io_fd[k] >= 0)
                        (void)close(n->io_fd[k]);
        if (n->fd[UPPER] >= 0) {
                (void)close(n->fd[UPPER]);
                count_add(&mg->held_fds, -1);
        }
        if (n->fd[LOWER] >= 0 && n->fd[LOWER] != n->fd[UPPER]) {
                (void)close(n->fd[LOWER]);
                count_add(&mg->held_fds, -1);
        }
        ovl_handle_free(n->handle[UPPER]);
        if (n->handle[LOWER] != n->handle[UPPER])
                ovl_handle_free(n->handle[LOWER]);
}

/* Free n and then any parent left unreferenced. Lock held. */
static void release_if_unused(struct merged *mg, struct mnode *n)
{
        while (n && n != &mg->root && n->nlookup == 0 && n->children == 0) {
                struct mnode *parent = n->parent;
                table_remove(mg, n);
                for (int k = 0; k < IO_KINDS; k++)
                        if (n->io_fd[k] >= 0)
                                count_add(&mg->io_cached, -1);
                if (n->backing >= 0)
                        ovl_passthrough_backing_close(n->backing >> 1);
                close_layers(mg, n);
                scope_done(&n->scope);
                free(n->name);
                free(n);
                if (parent)
                        parent->children--;
                n = parent;
        }
}

/* Remember where directory n was found. Lock held. ENOMEM leaves the old place. */
static void set_parent(struct merged *mg, struct mnode *n, struct mnode *parent, const char *name)
{
        if (n == &mg->root || (n->parent == parent && n->name && strcmp(n->name, name) == 0))
                return;
        char *copy = strdup(name);
        if (!copy)
                return;
        struct mnode *old = n->parent;
        free(n->name);
        n->name = copy;
        n->parent = parent;
        parent->children++;
        if (old) {
                old->children--;
                release_if_unused(mg, old);
        }
}

/* What a lookup found and node_get did not keep. */
static void drop_found(int fd[2], struct ovl_handle *h[2])
{
        for (int l = 0; l < 2; l++) {
                if (fd[l] >= 0)
                        (void)close(fd[l]);
                ovl_handle_free(h[l]);
        }
}

/* The node for what lookup found (descriptors taken: kept or closed), with one more
 * kernel reference. NULL on ENOMEM. */
static struct mnode *node_get(struct merged *mg, struct mnode *parent, const char *name,
                              int fd[2], const struct stat st[2])
{
        const struct stat *shown = fd[UPPER] >= 0 ? &st[UPPER] : &st[LOWER];
        /* Past the budget an object is held by its handle: made before taking the
         * lock, since it costs a system call; a race past the line by a few is
         * harmless. Not for an unnamed file (O_TMPFILE): a filesystem may not find it
         * again. A handle is opened relative to a directory of its mount: a
         * directory is its own. */
        struct ovl_handle *h[2] = {NULL, NULL};
        size_t held = __atomic_load_n(&mg->held_fds, __ATOMIC_RELAXED) +
                      __atomic_load_n(&mg->io_cached, __ATOMIC_RELAXED);
        if (shown->st_nlink > 0 && ovl_fds_past_budget(held, mg->fd_limit)) {
                bool dir = S_ISDIR(shown->st_mode);
                struct dirs pd = dir ? (struct dirs){.n = parent, .fd = {-1, -1}} : dirs_get(parent);
                for (int l = 0; l < 2; l++)
                        if (fd[l] >= 0 && (h[l] = ovl_handle_take(fd[l], dir ? fd[l] : pd.fd[l])))
                                fd[l] = -1;
                dirs_put(&pd);
        }
        pthread_mutex_lock(&mg->lock);
        struct mnode *n = table_find(mg, shown->st_dev, shown->st_ino);
        bool both = (fd[UPPER] >= 0 || h[UPPER]) && (fd[LOWER] >= 0 || h[LOWER]);
        if (!n && both)
                n = table_find(mg, st[LOWER].st_dev, st[LOWER].st_ino); /* B gained it */
        if (!n) {
                if (mg->count >= mg->bucket_count && table_grow(mg) != 0) {
                        pthread_mutex_unlock(&mg->lock);
                        drop_found(fd, h);
                        return NULL;
                }
                n = calloc(1, sizeof *n);
                if (!n) {
                        pthread_mutex_unlock(&mg->lock);
                        drop_found(fd, h);
                        return NULL;
                }
                if (scope_child(&parent->scope, name, &n->scope) < 0) {
                        pthread_mutex_unlock(&mg->lock);
                        free(n);
                        drop_found(fd, h);
                        return NULL;
                }
                n->fd[UPPER] = n->fd[LOWER] = -1;
                for (int k = 0; k < IO_KINDS; k++)
                        n->io_fd[k] = -1;
                n->backing = -1;
                n->dev = shown->st_dev;
                n->ino = shown->st_ino;
                n->type = shown->st_mode & S_IFMT;
                size_t b = bucket_of(mg, n->dev, n->ino);
                n->next = mg->buckets[b];
                mg->buckets[b] = n;
                mg->count++;
        }
        for (int l = 0; l < 2; l++) {
                if (layer_has(n, (enum layer)l))
                        continue; /* the node keeps what it has; dropped below */
                if (fd[l] >= 0) {
                        __atomic_store_n(&n->fd[l], fd[l], __ATOMIC_RELEASE);
                        count_add(&mg->held_fds, 1);
                        fd[l] = -1;
                } else if (h[l]) {
                        __atomic_store_n(&n->handle[l], h[l], __ATOMIC_RELEASE);
                        h[l] = NULL;
                }
        }
        if (S_ISDIR(n->type))
                set_parent(mg, n, parent, name);
        n->nlookup++;
        pthread_mutex_unlock(&mg->lock);
        drop_found(fd, h);
        return n;
}

static void forget_node(fuse_req_t req, fuse_ino_t ino, uint64_t count)
{
        struct merged *mg = merged_of(req);
        struct mnode *n = node_of(req, ino);
        if (n == &mg->root)
                return;
        pthread_mutex_lock(&mg->lock);
        n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
        release_if_unused(mg, n);
        pthread_mutex_unlock(&mg->lock);
}

/* The inode number shown: the key object's, stable for the node's life whichever
 * layer shows it; objects of another filesystem than B's get the top bit set, so
 * B's and V's numbers cannot collide when they live on two filesystems. */
static ino_t shown_ino(const struct merged *mg, dev_t dev, ino_t ino)
{
        return dev == mg->root.dev ? ino : (ino_t)((uint64_t)ino | 1ull << 63);
}

/* ---- attributes ------------------------------------------------------------------------ */

static bool timespec_before(struct timespec a, struct timespec b)
{
        return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* What stat through V shows: the object a change would act on (B's in a merged
 * directory, V's under S13), B's with the write bits masked where B is read-only
 * (S11). A directory of both layers changes its times when either does, so the
 * kernel's caches of its listing notice changes made beside the link. */
/* The attributes of one layer's object of n: from known (what a lookup just read,
 * NULL where it has none), else read now. 0 or errno. */
static int layer_stat(int fd, const struct stat *known, struct stat *st)
{
        if (known) {
                *st = *known;
                return 0;
        }
        return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
}

static int node_stat_known(const struct merged *mg, const struct mnode *n,
                           const struct stat *const known[2], struct stat *st)
{
        int target = target_layer(mg, n);
        enum layer layer = target >= 0 ? (enum layer)target : shown_layer(n);
        int r;
        if (known[layer]) {
                r = layer_stat(-1, known[layer], st);
        } else {
                int fd = layer_get(n, layer);
                r = fd < 0 ? -fd : layer_stat(fd, NULL, st);
                object_put(n, fd);
        }
        if (r)
                return r;
        if (target < 0)
                st->st_mode &= ~(mode_t)0222;
        st->st_ino = shown_ino(mg, n->dev, n->ino);
        if (S_ISDIR(n->type) && layer_has(n, UPPER) && layer_has(n, LOWER)) {
                struct stat other;
                int fd = known[!layer] ? -1 : layer_get(n, (enum layer)!layer);
                if ((known[!layer] || fd >= 0) && layer_stat(fd, known[!layer], &other) == 0) {
                        if (timespec_before(st->st_mtim, other.st_mtim))
                                st->st_mtim = other.st_mtim;
                        if (timespec_before(st->st_ctim, other.st_ctim))
                                st->st_ctim = other.st_ctim;
                }
                object_put(n, fd);
        }
        return 0;
}

static int node_stat(const struct merged *mg, const struct mnode *n, struct stat *st)
{
        const struct stat *const none[2] = {NULL, NULL};
        return node_stat_known(mg, n, none, st);
}

/* ---- lookup ------------------------------------------------------------------------------ */

/* Open name in one layer's directory: 0, ENOENT when that layer lacks it, or errno. */
static int open_in_layer(int dirfd, const char *name, int *ret_fd, struct stat *st)
{
        *ret_fd = -1;
        if (dirfd < 0)
                return ENOENT;
        int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR ? ENOENT : errno;
        if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
                int r = errno;
                (void)close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* Which layer shows name in the directory parent (its descriptors: dirs): UPPER,
 * LOWER, or -ENOENT / -errno. */
static int layer_showing(const struct mnode *parent, const struct dirs *dirs,
                            const char *name, struct stat *st)
{
        enum scope_pick pick = scope_pick(&parent->scope, name);
        int upper = pick == PICK_LOWER ? -1 : dirs->fd[UPPER];
        int lower = pick == PICK_UPPER ? -1 : dirs->fd[LOWER];
        if (pick == PICK_PATH && lower >= 0) {
                /* On the way to an exception the original's directory shows, merged
                 * with B's only if B's is a directory too. */
                struct stat up;
                bool upper_dir = upper >= 0 && fstatat(upper, name, &up, AT_SYMLINK_NOFOLLOW) == 0 &&
                                 S_ISDIR(up.st_mode);
                if (!upper_dir && fstatat(lower, name, st, AT_SYMLINK_NOFOLLOW) == 0)
                        return LOWER;
        }
        if (upper >= 0) {
                if (fstatat(upper, name, st, AT_SYMLINK_NOFOLLOW) == 0)
                        return UPPER;
                if (errno != ENOENT)
                        return -errno;
        }
        if (lower >= 0) {
                if (fstatat(lower, name, st, AT_SYMLINK_NOFOLLOW) == 0)
                        return LOWER;
                if (errno != ENOENT)
                        return -errno;
        }
        return -ENOENT;
}

/* The entry (e: timeouts set) of what was found as name in parent (fd: O_PATH
 * descriptors per layer, taken; st: their attributes). errno. */
static int found_entry(fuse_req_t req, struct mnode *parent, const char *name, int fd[2],
                       const struct stat st[2], struct fuse_entry_param *e)
{
        struct merged *mg = merged_of(req);
        /* What the lookup read stands for the node's objects: no second stat. */
        const struct stat *const known[2] = {fd[UPPER] >= 0 ? &st[UPPER] : NULL,
                                             fd[LOWER] >= 0 ? &st[LOWER] : NULL};
        struct mnode *n = node_get(mg, parent, name, fd, st);
        if (!n)
                return ENOMEM;
        int r = node_stat_known(mg, n, known, &e->attr);
        if (r) {
                forget_node(req, ino_of(mg, n), 1);
                return r;
        }
        e->ino = ino_of(mg, n);
        return 0;
}

static int do_lookup(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                     struct fuse_entry_param *e)
{
        struct merged *mg = merged_of(req);
        struct mnode *parent = node_of(req, parent_ino);
        ovl_entry_init(e, mg->timeout);
        int r = name_check(name);
        if (r)
                return r;
        int fd[2] = {-1, -1};
        struct stat st[2];
        enum scope_pick pick = scope_pick(&parent->scope, name);
        struct dirs d = dirs_get(parent);
        if (pick != PICK_LOWER) {
                r = open_in_layer(d.fd[UPPER], name, &fd[UPPER], &st[UPPER]);
                if (r && r != ENOENT) {
                        dirs_put(&d);
                        return r;
                }
        }
        /* B's entry wins; only two directories merge. On the way to an exception the
         * original's directory is what must show. */
        if (pick != PICK_UPPER &&
            (fd[UPPER] < 0 || S_ISDIR(st[UPPER].st_mode) || pick == PICK_PATH)) {
                r = open_in_layer(d.fd[LOWER], name, &fd[LOWER], &st[LOWER]);
                if (r && r != ENOENT && fd[UPPER] < 0) {
                        dirs_put(&d);
                        return r;
                }
                bool both_dirs = fd[LOWER] >= 0 && fd[UPPER] >= 0 &&
                                 S_ISDIR(st[LOWER].st_mode) && S_ISDIR(st[UPPER].st_mode);
                if (fd[LOWER] >= 0 && fd[UPPER] >= 0 && !both_dirs) {
                        int loser = pick == PICK_PATH ? UPPER : LOWER;
                        (void)close(fd[loser]);
                        fd[loser] = -1;
                }
        }
        dirs_put(&d);
        if (fd[UPPER] < 0 && fd[LOWER] < 0)
                return ENOENT;
        return found_entry(req, parent, name, fd, st, e);
}

static void m_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        struct fuse_entry_param e;
        int r = do_lookup(req, parent, name, &e);
        if (r == ENOENT) {
                e.ino = 0; /* a negative entry, cached like a positive one */
                (void)fuse_reply_entry(req, &e);
        } else if (r) {
                (void)fuse_reply_err(req, r);
        } else {
                (void)fuse_reply_entry(req, &e);
        }
}

static void m_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
        forget_node(req, ino, nlookup);
        fuse_reply_none(req);
}

static void m_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
        for (size_t i = 0; i < count; i++)
                forget_node(req, forgets[i].ino, forgets[i].nlookup);
        fuse_reply_none(req);
}

static void m_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)fi;
        struct stat st;
        int r = node_stat(merged_of(req), node_of(req, ino), &st);
        if (r)
                (void)fuse_reply_err(req, r);
        else
                (void)fuse_reply_attr(req, &st, merged_of(req)->timeout);
}

static void m_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                      struct fuse_file_info *fi)
{
        struct merged *mg = merged_of(req);
        struct mnode *n = node_of(req, ino);
        int fd = target_get(mg, n);
        struct stat st;
        int r = fd < 0 ? -fd : ovl_apply_setattr(req, ino, fd, attr, to_set, fi);
        object_put(n, fd);
        if (!r)
                r = node_stat(mg, n, &st);
        if (r)
                (void)fuse_reply_err(req, r);
        else
                (void)fuse_reply_attr(req, &st, mg->timeout);
}

static void m_readlink(fuse_req_t req, fuse_ino_t ino)
{
        char buf[PATH_MAX + 1];
        struct mnode *node = node_of(req, ino);
        int fd = shown_get(node);
        if (fd < 0) {
                (void)fuse_reply_err(req, -fd);
                return;
        }
        ssize_t n = readlinkat(fd, "", buf, sizeof buf);
        if (n < 0)
                n = -errno;
        object_put(node, fd);
        if (n < 0) {
                (void)fuse_reply_err(req, (int)-n);
        } else if ((size_t)n >= sizeof buf) {
                (void)fuse_reply_err(req, ENAMETOOLONG);
        } else {
                buf[n] = '\0';
                (void)fuse_reply_readlink(req, buf);
        }
}

/* ---- where new names go ------------------------------------------------------------------ */

/* V's ACLs (access and default) onto B's directory made like V's: a default ACL
 * decides the modes of what is made in it, as it would have in V. Nothing where V's
 * filesystem holds none; ENOTSUP where B's cannot hold them (then B's directory is
 * like V's but for them, as with any copy to such a filesystem). 0 or -errno. */
static int copy_acls(int from_fd, int to_fd)
{
        static const char *const names[] = {"system.posix_acl_access",
                                            "system.posix_acl_default"};
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
                char *value = malloc((size_t)size);
                if (!value)
                        return -ENOMEM;
                ssize_t n = getxattr(from, names[i], value, (size_t)size);
                int r = n < 0 ? -errno : setxattr(to, names[i], value, (size_t)n, 0) < 0 ? -errno : 0;
                free(value);
                if (r < 0 && r != -ENOTSUP)
                        return r;
        }
        return 0;
}

/* Make B's counterparts of directory d and its ancestors that B lacks, with the
 * modes, owners and ACLs of V's (S12). Returns B's descriptor of d for one operation (give
 * it back with object_put), or -errno. */
static int make_upper(struct merged *mg, struct mnode *d)
{
        if (layer_has(d, UPPER))
                return layer_get(d, UPPER);
        pthread_mutex_lock(&mg->lock);
        struct mnode *chain[PATH_MAX / 2];
        size_t depth = 0;
        struct mnode *n = d;
        int r = 0;
        for (; n && !layer_has(n, UPPER); n = n->parent) {
                if (depth == sizeof chain / sizeof chain[0] || !n->parent || !n->name) {
                        r = -ENOENT;
                        break;
                }
                chain[depth++] = n;
        }
        while (r == 0 && depth > 0) {
                struct mnode *c = chain[--depth];
                int parent_fd = layer_get(c->parent, UPPER);
                int lower_fd = layer_get(c, LOWER);
                struct stat original;
                bool made = false;
                int made_fd = -1;
                if (parent_fd < 0 || lower_fd < 0)
                        r = parent_fd < 0 ? parent_fd : lower_fd;
                else if (fstatat(lower_fd, "", &original, AT_EMPTY_PATH) < 0)
                        r = -errno;
                else if (!(made = mkdirat(parent_fd, c->name, original.st_mode & 07777) == 0) &&
                         errno != EEXIST)
                        r = -errno;
                else if ((made_fd = openat(parent_fd, c->name,
                                           O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)) < 0)
                        r = -errno;
                object_put(c->parent, parent_fd);
                if (r < 0) {
                        object_put(c, lower_fd);
                        break;
                }
                if (made) {
                        char path[64];
                        ovl_proc_path(made_fd, path, sizeof path);
                        if (fchownat(made_fd, "", original.st_uid, original.st_gid,
                                     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ||
                            chmod(path, original.st_mode & 07777) < 0)
                                r = -errno;
                        else
                                r = copy_acls(lower_fd, made_fd);
                }
                object_put(c, lower_fd);
                __atomic_store_n(&c->fd[UPPER], made_fd, __ATOMIC_RELEASE);
                count_add(&mg->held_fds, 1);
        }
        pthread_mutex_unlock(&mg->lock);
        return r < 0 ? r : layer_get(d, UPPER);
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
 * operation: give it back with object_put. -errno. */
static int new_name_dir(struct merged *mg, struct mnode *d)
{
        int layer = new_name_layer(mg, d);
        if (layer < 0)
                return layer;
        if (layer == UPPER)
                return make_upper(mg, d);
        return layer_has(d, LOWER) ? layer_get(d, LOWER) : -EROFS;
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
        int dirfd = r ? -r : new_name_dir(mg, parent);
        r = dirfd < 0 ? -dirfd : ovl_make_as_caller(req, dirfd, name, mode, rdev, link_target, kind);
        object_put(parent, dirfd);
        ovl_reply_made(req, r, do_lookup, parent_ino, name);
}

static void m_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
        make_object(req, parent, name, mode, rdev, NULL, OVL_MAKE_NODE);
}

static void m_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
        make_object(req, parent, name, mode, 0, NULL, OVL_MAKE_DIR);
}

static void m_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
        make_object(req, parent, name, 0, 0, target, OVL_MAKE_SYMLINK);
}

static void m_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
        struct merged *mg = merged_of(req);
        int r = name_check(newname);
        struct mnode *to = node_of(req, newparent);
        int dirfd = r ? -r : new_name_dir(mg, to);
        if (dirfd < 0)
                r = -dirfd;
        struct mnode *n = node_of(req, ino);
        int fd = r ? -1 : shown_get(n);
        if (!r && fd < 0)
                r = -fd;
        if (!r && linkat(fd, "", dirfd, newname, AT_EMPTY_PATH) < 0)
                r = errno;
        object_put(n, fd);
        object_put(to, dirfd);
        ovl_reply_made(req, r, do_lookup, newparent, newname);
}

/* The passthrough backing file serving opens of n, registered at the first from
 * file (an open descriptor of n's shown object), kept for the next; -1 where the
 * kernel shall serve n by requests. The kernel opens its own backing file for each
 * open, with that open's flags, from the registered one's path: one registration
 * serves readers and writers alike. A node whose shown object changed (B gained its
 * name) gets a new one; files opened before keep theirs (merged.sh tests both). */
static int passthrough_backing(struct merged *mg, struct mnode *n, int file)
{
        if (!ovl_passthrough_active() || n->type != S_IFREG)
                return -1;
        enum layer shown = shown_layer(n);
        pthread_mutex_lock(&mg->lock);
        if (n->backing >= 0 && (n->backing & 1) != (int)shown) {
                ovl_passthrough_backing_close(n->backing >> 1);
                __atomic_store_n(&n->backing, -1, __ATOMIC_RELEASE);
        }
        if (n->backing < 0) {
                int id = ovl_passthrough_backing_open(file);
                if (id < 0) {
                        /* E.g. B on a stacked filesystem (overlayfs, another FUSE
                         * view): served by requests, as without passthrough. */
                        pthread_mutex_unlock(&mg->lock);
                        return -1;
                }
                __atomic_store_n(&n->backing, id << 1 | (int)shown, __ATOMIC_RELEASE);
        }
        int id = n->backing >> 1;
        pthread_mutex_unlock(&mg->lock);
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
static void reply_opened(fuse_req_t req, struct merged *mg, struct mnode *n, int file,
                         struct fuse_file_info *fi, const struct fuse_entry_param *e)
{
        int backing_id = passthrough_backing(mg, n, file);
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

/* The entry of the unnamed file (O_TMPFILE) just made in parent's new-name layer and
 * open as file. errno. */
static int tmpfile_entry(fuse_req_t req, fuse_ino_t parent_ino, int file,
                         struct fuse_entry_param *e)
{
        struct merged *mg = merged_of(req);
        struct mnode *parent = node_of(req, parent_ino);
        ovl_entry_init(e, mg->timeout);
        int layer = new_name_layer(mg, parent);
        if (layer < 0)
                return -layer;
        int fd[2] = {-1, -1};
        struct stat st[2];
        fd[layer] = ovl_opath_of(file);
        if (fd[layer] < 0)
                return -fd[layer];
        if (fstat(fd[layer], &st[layer]) < 0) {
                int r = errno;
                (void)close(fd[layer]);
                return r;
        }
        return found_entry(req, parent, OVL_TMPFILE_NAME, fd, st, e);
}

static void m_create(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode,
                     struct fuse_file_info *fi)
{
        struct merged *mg = merged_of(req);
        int fd = -1;
        int r = name_check(name);
        struct mnode *parent = node_of(req, parent_ino);
        int dirfd = r ? -r : new_name_dir(mg, parent);
        if (dirfd < 0)
                r = -dirfd;
        if (!r) {
                fd = ovl_create_as_caller(req, dirfd, name, fi->flags, mode);
                r = fd < 0 ? -fd : 0;
        }
        object_put(parent, dirfd);
        struct fuse_entry_param e;
        if (!r && ovl_is_tmpfile_name(name))
                r = tmpfile_entry(req, parent_ino, fd, &e);
        else if (!r)
                r = do_lookup(req, parent_ino, name, &e);
        if (r) {
                if (fd >= 0)
                        (void)close(fd);
                (void)fuse_reply_err(req, r);
                return;
        }
        if (mg->no_open) {
                /* The kernel sends no RELEASE when it opens files by itself, not even
                 * for a created one: the file is used through the node's shared
                 * descriptors like any other (fh 0), or this one would leak. */
                (void)close(fd);
                fi->fh = 0;
                fi->keep_cache = 1;
                (void)fuse_reply_create(req, &e, fi);
        } else {
                reply_opened(req, mg, node_of(req, e.ino), fd, fi, &e);
        }
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
        struct dirs d = dirs_get(parent);
        int layer = r ? -r : layer_showing(parent, &d, name, &st);
        int lower = scope_pick(&parent->scope, name) == PICK_UPPER ? -1 : d.fd[LOWER];
        /* V's object of the same name, which shows once B's is gone. */
        bool uncovers = layer == UPPER && lower >= 0 &&
                        fstatat(lower, name, &under, AT_SYMLINK_NOFOLLOW) == 0;
        if (layer < 0)
                r = -layer;
        else if (layer == UPPER && mg->read_only)
                r = EROFS;
        else if (layer == LOWER && mg->shadow && parent->scope.kind != SCOPE_LOWER)
                r = EBUSY; /* a directory on the way to an exception */
        else if ((flags & AT_REMOVEDIR) && uncovers && S_ISDIR(st.st_mode) &&
                 S_ISDIR(under.st_mode) && !dir_is_empty(lower, name))
                r = ENOTEMPTY; /* the merged directory lists V's entries too */
        else if (unlinkat(d.fd[layer], name, flags) < 0)
                r = errno;
        dirs_put(&d);
        (void)fuse_reply_err(req, r);
        if (!r && uncovers)
                name_changed(mg, parent_ino, name);
}

static void m_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        remove_name(req, parent, name, 0);
}

static void m_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        remove_name(req, parent, name, AT_REMOVEDIR);
}

/* Renaming onto a name only V shows, in B: what rename(2) would have said about the
 * object that name shows. */
static int replace_check(const struct stat *src, int dst_layer_dir, const char *dst_name,
                         const struct stat *dst, unsigned int flags)
{
        if (flags & RENAME_NOREPLACE)
                return EEXIST;
        if (S_ISDIR(src->st_mode) && !S_ISDIR(dst->st_mode))
                return ENOTDIR;
        if (!S_ISDIR(src->st_mode) && S_ISDIR(dst->st_mode))
                return EISDIR;
        if (S_ISDIR(dst->st_mode) && !dir_is_empty(dst_layer_dir, dst_name))
                return ENOTEMPTY;
        return 0;
}

/* After a directory moved: where its node is now (and in which layer it lives). */
static void note_moved(struct merged *mg, int dirfd, const char *name, struct mnode *newparent,
                       enum layer from, enum layer to)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return;
        pthread_mutex_lock(&mg->lock);
        struct mnode *n = table_find(mg, st.st_dev, st.st_ino);
        if (n) {
                set_parent(mg, n, newparent, name);
                if (from != to && !layer_has(n, to)) {
                        /* V's directory now lives in B: same object, other layer. The
                         * old slot is left set (not closed): readers may hold it. */
                        if (n->fd[from] >= 0)
                                __atomic_store_n(&n->fd[to], n->fd[from], __ATOMIC_RELEASE);
                        else
                                __atomic_store_n(&n->handle[to], n->handle[from], __ATOMIC_RELEASE);
                }
        }
        pthread_mutex_unlock(&mg->lock);
}

static void m_rename(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                     fuse_ino_t newparent_ino, const char *newname, unsigned int flags)
{
        struct merged *mg = merged_of(req);
        struct mnode *parent = node_of(req, parent_ino), *newparent = node_of(req, newparent_ino);
        struct stat src = {0}, dst = {0};
        int r = name_check(name) ?: name_check(newname);
        struct dirs from = dirs_get(parent), into = dirs_get(newparent);
        int layer = r ? -r : layer_showing(parent, &from, name, &src);
        int dst_layer = -ENOENT, to_dir = -1;
        if (layer < 0)
                r = -layer;
        else if (layer == UPPER && mg->read_only)
                r = EROFS;
        if (!r && (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)))
                r = EINVAL;
        if (!r) {
                dst_layer = layer_showing(newparent, &into, newname, &dst);
                if (dst_layer < 0 && dst_layer != -ENOENT)
                        r = -dst_layer;
        }
        /* Where the object goes: B (S12: a V-only entry moves into B), or V (S13). */
        if (!r) {
                to_dir = new_name_dir(mg, newparent);
                if (to_dir < 0)
                        r = -to_dir;
        }
        int to_layer = new_name_layer(mg, newparent);
        enum layer to = to_layer == LOWER ? LOWER : UPPER;
        if (!r && layer == LOWER && mg->shadow && parent->scope.kind != SCOPE_LOWER)
                r = EBUSY; /* a directory on the way to an exception */
        if (!r && dst_layer >= 0 && dst_layer != (int)to) {
                /* The name shows an object of the other layer. */
                if (mg->read_only)
                        r = EROFS; /* it is B's: not replaced */
                else if (flags & RENAME_EXCHANGE)
                        r = EXDEV; /* the two objects live in different layers */
                else
                        r = replace_check(&src, into.fd[LOWER], newname, &dst, flags);
        }
        int from_dir = layer < 0 ? -1 : from.fd[layer];
        if (!r && renameat2(from_dir, name, to_dir, newname, flags) < 0)
                r = errno;
        int lower = scope_pick(&parent->scope, name) == PICK_UPPER ? -1 : from.fd[LOWER];
        struct stat under;
        bool uncovers = !r && layer == UPPER && !(flags & RENAME_EXCHANGE) && lower >= 0 &&
                        fstatat(lower, name, &under, AT_SYMLINK_NOFOLLOW) == 0;
        if (!r && S_ISDIR(src.st_mode))
                note_moved(mg, to_dir, newname, newparent, (enum layer)layer, to);
        if (to_dir >= 0)
                object_put(newparent, to_dir);
        dirs_put(&from);
        dirs_put(&into);
        (void)fuse_reply_err(req, r);
        if (uncovers)
                name_changed(mg, parent_ino, name);
}

/* ---- files ---------------------------------------------------------------------------------- */

/* The descriptor for I/O on a file opened without a request (ovl_io_fd_fn): the
 * node's shared one of the kind needed (opened at first use: the kernel has checked
 * the opener's rights already; kept while the descriptor budget allows, else
 * *temporary). -errno. */
static int io_fd(fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi,
                 enum io_kind kind, bool *temporary)
{
        (void)fi;
        struct merged *mg = merged_of(req);
        struct mnode *n = node_of(req, ino);
        int fd = __atomic_load_n(&n->io_fd[kind], __ATOMIC_ACQUIRE);
        if (fd >= 0)
                return fd;
        int object = shown_get(n);
        if (object < 0)
                return object;
        fd = ovl_open_for_io(object, kind);
        object_put(n, object);
        if (fd < 0)
                return fd;
        pthread_mutex_lock(&mg->lock);
        if (n->io_fd[kind] >= 0) {
                (void)close(fd);
                fd = n->io_fd[kind];
        } else if (!ovl_fds_past_budget(mg->held_fds + mg->io_cached, mg->fd_limit)) {
                __atomic_store_n(&n->io_fd[kind], fd, __ATOMIC_RELEASE);
                count_add(&mg->io_cached, 1);
        } else {
                *temporary = true;
        }
        pthread_mutex_unlock(&mg->lock);
        return fd;
}

static void m_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
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
        int fd = writes ? target_get(mg, n) : shown_get(n);
        if (fd < 0) {
                (void)fuse_reply_err(req, -fd);
                return;
        }
        int file = ovl_open_requested(req, fd, fi->flags);
        object_put(n, fd);
        if (file < 0) {
                (void)fuse_reply_err(req, -file);
                return;
        }
        reply_opened(req, mg, n, file, fi, NULL);
}

/* ---- directories ------------------------------------------------------------------------------ */

/* Names are remembered in a small open-addressing set while B's listing is read,
 * so V's colliding names are skipped in one pass. */
struct name_set {
        const char **slots;
        size_t size; /* a power of two */
};

static uint64_t name_hash(const char *s)
{
        uint64_t h = 1469598103934665603ull;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ull;
        return h;
}

static bool name_set_has(const struct name_set *set, const char *name)
{
        for (size_t i = name_hash(name) & (set->size - 1);; i = (i + 1) & (set->size - 1)) {
                if (!set->slots[i])
                        return false;
                if (strcmp(set->slots[i], name) == 0)
                        return true;
        }
}

static void name_set_add(struct name_set *set, const char *name)
{
        size_t i = name_hash(name) & (set->size - 1);
        while (set->slots[i])
                i = (i + 1) & (set->size - 1);
        set->slots[i] = name;
}

static int read_layer(const struct merged *mg, int opath_fd, struct dir_snapshot *d,
                      const struct name_set *skip, const struct view_scope *only)
{
        struct stat dir_st;
        if (fstatat(opath_fd, "", &dir_st, AT_EMPTY_PATH) < 0)
                return errno;
        int fd = openat(opath_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        DIR *dir = fdopendir(fd);
        if (!dir) {
                int r = errno;
                (void)close(fd);
                return r;
        }
        int r = 0;
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(dir);
                if (!de) {
                        r = errno;
                        break;
                }
                if (skip && name_set_has(skip, de->d_name))
                        continue;
                if (only && !scope_lists_lower_name(only, de->d_name) &&
                    strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        continue;
                r = dir_snapshot_add(d, de->d_name, shown_ino(mg, dir_st.st_dev, de->d_ino),
                                     de->d_type);
                if (r)
                        break;
        }
        (void)closedir(dir);
        return r;
}

static int merged_listing(const struct merged *mg, const struct mnode *n,
                          struct dir_snapshot *d)
{
        struct dirs dirs = dirs_get(n);
        int upper = n->scope.kind == SCOPE_LOWER ? -1 : dirs.fd[UPPER];
        int lower = n->scope.kind == SCOPE_UPPER ? -1 : dirs.fd[LOWER];
        const struct view_scope *only = n->scope.kind == SCOPE_PATHS ? &n->scope : NULL;
        int r;
        if (upper < 0 || lower < 0 || upper == lower) {
                r = read_layer(mg, upper >= 0 ? upper : lower, d, NULL, upper >= 0 ? NULL : only);
                dirs_put(&dirs);
                return r;
        }
        r = read_layer(mg, upper, d, NULL, NULL);
        struct name_set set = {.size = 16};
        while (set.size < d->count * 2)
                set.size *= 2;
        set.slots = r ? NULL : calloc(set.size, sizeof *set.slots);
        if (!r && !set.slots)
                r = ENOMEM;
        for (size_t i = 0; !r && i < d->count; i++)
                name_set_add(&set, d->entries[i].name);
        if (!r)
                r = read_layer(mg, lower, d, &set, only); /* "." and ".." are in B's already */
        free(set.slots);
        dirs_put(&dirs);
        return r;
}

static int read_listing(fuse_req_t req, fuse_ino_t ino, struct dir_snapshot *d)
{
        return merged_listing(merged_of(req), node_of(req, ino), d);
}

/* Listings are kept by the kernel: its own changes and a new mtime (either layer's,
 * see node_stat) make it read them again. */
static void m_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)ino;
        ovl_opendir_lazy(req, fi);
}

static void m_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                      struct fuse_file_info *fi)
{
        const struct dir_snapshot *d = ovl_listing(req, ino, fi, read_listing);
        if (d)
                ovl_reply_readdir(req, ino, d, size, off, NULL, forget_node);
}

static void m_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                          struct fuse_file_info *fi)
{
        const struct dir_snapshot *d = ovl_listing(req, ino, fi, read_listing);
        if (d)
                ovl_reply_readdir(req, ino, d, size, off, do_lookup, forget_node);
}

static void m_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)ino;
        ovl_releasedir_lazy(req, fi);
}

static void m_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
        (void)fi;
        struct mnode *n = node_of(req, ino);
        int dir = shown_get(n);
        int fd = dir < 0 ? dir : openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        object_put(n, dir);
        int r = dir < 0 ? -dir : fd < 0 ? errno : 0;
        if (!r && (datasync ? fdatasync(fd) : fsync(fd)) < 0)
                r = errno;
        if (fd >= 0)
                (void)close(fd);
        (void)fuse_reply_err(req, r);
}

static void m_statfs(fuse_req_t req, fuse_ino_t ino)
{
        struct merged *mg = merged_of(req);
        (void)ino;
        /* Where new names go: B, or V under S13. */
        struct statvfs sv;
        if (fstatvfs(layer_fd(&mg->root, mg->read_only ? LOWER : UPPER), &sv) < 0)
                (void)fuse_reply_err(req, errno);
        else
                (void)fuse_reply_statfs(req, &sv);
}

/* ---- extended attributes -------------------------------------------------------------------- */

/* name NULL: the list. */
static void xattr_read(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
        struct mnode *n = node_of(req, ino);
        int fd = shown_get(n);
        char *value = NULL;
        ssize_t r = fd < 0 ? fd : ovl_xattr_read(fd, name, size, &value);
        object_put(n, fd); /* before the reply: then the kernel may forget n */
        ovl_reply_xattr_read(req, r, value, size);
}

static void m_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
        xattr_read(req, ino, name, size);
}

static void m_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
        xattr_read(req, ino, NULL, size);
}

/* value NULL: remove name. */
static void xattr_write(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
        struct mnode *n = node_of(req, ino);
        int fd = target_get(merged_of(req), n);
        int r = fd < 0 ? -fd : ovl_xattr_write(fd, name, value, size, flags);
        object_put(n, fd); /* before the reply: then the kernel may forget n */
        (void)fuse_reply_err(req, r);
}

static void m_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                       size_t size, int flags)
{
        xattr_write(req, ino, name, value, size, flags);
}

static void m_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
        xattr_write(req, ino, name, NULL, 0, 0);
}

static void m_init(void *userdata, struct fuse_conn_info *conn)
{
        struct merged *mg = userdata;
        ovl_conn_init(conn);
        ovl_file_io_init(io_fd);
        /* Opens and closes with no request at all, where nothing is lost: the kernel
         * checks the opener's rights itself (default_permissions); a writable view
         * refuses nothing at open that it would not refuse at the first write (a
         * read-only one must say EROFS at open: S11, S13); and on local filesystems
         * a close tells nobody anything. */
        mg->no_open = ovl_conn_no_open(conn, !mg->read_only && !ovl_passthrough_offered() &&
                                                     ovl_fs_is_local(mg->root.fd[UPPER]) &&
                                                     ovl_fs_is_local(mg->root.fd[LOWER]));
}

/* ---- life ------------------------------------------------------------------------------------- */

struct merged *merged_new(int upper_fd, int lower_fd, bool read_only, char *const *shadow_paths,
                          size_t shadow_count, double timeout)
{
        struct stat upper, lower;
        if (fstatat(upper_fd, "", &upper, AT_EMPTY_PATH) < 0 ||
            fstatat(lower_fd, "", &lower, AT_EMPTY_PATH) < 0 || !S_ISDIR(upper.st_mode) ||
            !S_ISDIR(lower.st_mode))
                return NULL;
        struct merged *mg = calloc(1, sizeof *mg);
        if (!mg)
                return NULL;
        mg->bucket_count = 1024;
        mg->buckets = calloc(mg->bucket_count, sizeof *mg->buckets);
        if (!mg->buckets || pthread_mutex_init(&mg->lock, NULL) != 0) {
                free(mg->buckets);
                free(mg);
                return NULL;
        }
        for (int k = 0; k < IO_KINDS; k++)
                mg->root.io_fd[k] = -1;
        mg->root.backing = -1;
        mg->fd_limit = ovl_fd_limit();
        mg->root.fd[UPPER] = upper_fd;
        mg->root.fd[LOWER] = lower_fd;
        mg->root.dev = upper.st_dev;
        mg->root.ino = upper.st_ino;
        mg->root.type = S_IFDIR;
        mg->root.nlookup = 1;
        if (shadow_count > 0) {
                mg->shadow = true;
                mg->root.scope.kind = SCOPE_PATHS;
                mg->root.scope.paths = calloc(shadow_count, sizeof *mg->root.scope.paths);
                for (size_t i = 0; mg->root.scope.paths && i < shadow_count; i++)
                        if ((mg->root.scope.paths[i] = strdup(shadow_paths[i])))
                                mg->root.scope.count++;
                if (mg->root.scope.count != shadow_count) {
                        merged_free(mg);
                        return NULL;
                }
        }
        mg->read_only = read_only;
        mg->timeout = timeout;
        return mg;
}

void merged_set_session(struct merged *mg, struct fuse_session *se) { mg->se = se; }

void merged_free(struct merged *mg)
{
        if (!mg)
                return;
        for (size_t i = 0; i < mg->bucket_count; i++)
                for (struct mnode *n = mg->buckets[i], *next; n; n = next) {
                        next = n->next;
                        close_layers(mg, n);
                        scope_done(&n->scope);
                        free(n->name);
                        free(n);
                }
        (void)close(mg->root.fd[UPPER]);
        (void)close(mg->root.fd[LOWER]);
        scope_done(&mg->root.scope);
        pthread_mutex_destroy(&mg->lock);
        free(mg->buckets);
        free(mg);
}

const struct fuse_lowlevel_ops merged_ops = {
        .init = m_init,
        .lookup = m_lookup,
        .forget = m_forget,
        .forget_multi = m_forget_multi,
        .getattr = m_getattr,
        .setattr = m_setattr,
        .readlink = m_readlink,
        .mknod = m_mknod,
        .mkdir = m_mkdir,
        .symlink = m_symlink,
        .link = m_link,
        .unlink = m_unlink,
        .rmdir = m_rmdir,
        .rename = m_rename,
        .open = m_open,
        .create = m_create,
        .read = ovl_file_read,
        .write_buf = ovl_file_write_buf,
        .flush = ovl_file_flush,
        .release = ovl_file_release,
        .fsync = ovl_file_fsync,
        .fallocate = ovl_file_fallocate,
        .lseek = ovl_file_lseek,
        .opendir = m_opendir,
        .readdir = m_readdir,
        .readdirplus = m_readdirplus,
        .releasedir = m_releasedir,
        .fsyncdir = m_fsyncdir,
        .statfs = m_statfs,
        .getxattr = m_getxattr,
        .listxattr = m_listxattr,
        .setxattr = m_setxattr,
        .removexattr = m_removexattr,
};
