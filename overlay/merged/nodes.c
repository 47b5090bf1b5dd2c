/* nodes.c — the merged view's nodes: found, kept in the core's node table, freed
 * when the kernel forgets them; and the descriptors of their objects for one
 * operation. */
#include "nodes.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* A descriptor of n's object in layer l for one operation: the node's own, or one
 * opened from its handle. -errno (-ENOENT where the layer lacks it, or the object is
 * gone). Give it back with mg_object_put. */
int mg_layer_get(const struct mnode *n, enum layer l)
{
        int fd = layer_fd(n, l);
        if (fd >= 0)
                return fd;
        const struct ovl_handle *h = __atomic_load_n(&n->handle[l], __ATOMIC_ACQUIRE);
        return h ? ovl_handle_open(h) : -ENOENT;
}

/* The object n shows, for one operation. */
int mg_shown_get(const struct mnode *n)
{
        return mg_layer_get(n, shown_layer(n));
}

/* The object a change of n acts on, for one operation: -EROFS where none may change. */
int mg_target_get(const struct merged *mg, const struct mnode *n)
{
        int l = target_layer(mg, n);
        return l < 0 ? l : mg_layer_get(n, (enum layer)l);
}

/* Give back what mg_layer_get returned: closed if it was opened for the operation (a
 * number the node's own slots cannot hold while it is open). */
void mg_object_put(const struct mnode *n, int fd)
{
        if (fd >= 0 && fd != layer_fd(n, UPPER) && fd != layer_fd(n, LOWER))
                (void)close(fd);
}

struct dirs mg_dirs_get(const struct mnode *n)
{
        struct dirs d = {.n = n, .fd = {-1, -1}};
        int fd = mg_layer_get(n, UPPER);
        d.fd[UPPER] = fd < 0 ? -1 : fd;
        /* A directory moved from V into B has one object in both slots. */
        const struct ovl_handle *h = __atomic_load_n(&n->handle[LOWER], __ATOMIC_ACQUIRE);
        if (h && layer_fd(n, LOWER) < 0 &&
            h == __atomic_load_n(&n->handle[UPPER], __ATOMIC_ACQUIRE)) {
                d.fd[LOWER] = d.fd[UPPER];
                return d;
        }
        fd = mg_layer_get(n, LOWER);
        d.fd[LOWER] = fd < 0 ? -1 : fd;
        return d;
}

void mg_dirs_put(const struct dirs *d)
{
        mg_object_put(d->n, d->fd[UPPER]);
        if (d->fd[LOWER] != d->fd[UPPER])
                mg_object_put(d->n, d->fd[LOWER]);
}

/* ---- the node table ------------------------------------------------------------------ */

static struct mnode *mnode_of(struct ovl_node *n)
{
        return n ? ovl_container_of(n, struct mnode, node) : NULL;
}

static struct mnode *table_find(const struct merged *mg, dev_t dev, ino_t ino)
{
        return mnode_of(ovl_nodes_find(&mg->nodes, dev, ino));
}

/* Close what n holds and free it. Not under the table's lock (close is a system
 * call). A directory moved from V into B keeps one descriptor (or handle) in both
 * slots. */
static void node_free(struct merged *mg, struct mnode *n, bool session_ended)
{
        for (int l = 0; l < 2; l++)
                if (n->watched[l]) {
                        /* One object in both slots (moved from V into B) has one watch. */
                        int fd = session_ended ? -1 : mg_layer_get(n, (enum layer)l);
                        ovl_watch_drop(n->watched[l], fd < 0 ? -1 : fd);
                        mg_object_put(n, fd);
                }
        for (int k = 0; k < IO_KINDS; k++)
                if (n->io_fd[k] >= 0) {
                        (void)close(n->io_fd[k]);
                        __atomic_fetch_sub(&mg->io_cached, 1, __ATOMIC_RELAXED);
                }
        if (n->backing >= 0 && !session_ended)
                ovl_passthrough_backing_close(n->backing >> 1);
        if (n->fd[UPPER] >= 0) {
                (void)close(n->fd[UPPER]);
                __atomic_fetch_sub(&mg->held_fds, 1, __ATOMIC_RELAXED);
        }
        if (n->fd[LOWER] >= 0 && n->fd[LOWER] != n->fd[UPPER]) {
                (void)close(n->fd[LOWER]);
                __atomic_fetch_sub(&mg->held_fds, 1, __ATOMIC_RELAXED);
        }
        ovl_handle_free(n->handle[UPPER]);
        if (n->handle[LOWER] != n->handle[UPPER])
                ovl_handle_free(n->handle[LOWER]);
        scope_done(&n->scope);
        (void)pthread_mutex_destroy(&n->lock);
        free(n->name);
        free(n);
}

/* Nodes taken out of the table under its lock, freed after it is let go. */
struct dead_nodes {
        struct mnode *first;
};

static void dead_free(struct merged *mg, struct dead_nodes *dead)
{
        for (struct mnode *n = dead->first, *next; n; n = next) {
                next = mnode_of(n->node.next);
                node_free(mg, n, false);
        }
        dead->first = NULL;
}

/* Take n out of the table, and then any parent left unreferenced. Lock held. */
static void release_if_unused(struct merged *mg, struct mnode *n, struct dead_nodes *dead)
{
        while (n && n != &mg->root && n->node.nlookup == 0 && n->children == 0) {
                struct mnode *parent = n->parent;
                ovl_nodes_remove(&mg->nodes, &n->node);
                n->node.next = dead->first ? &dead->first->node : NULL;
                dead->first = n;
                if (parent)
                        parent->children--;
                n = parent;
        }
}

/* Remember where directory n was found (copy: name, allocated before the lock; taken
 * or freed). Lock held. ENOMEM (copy NULL) leaves the old place. */
static void set_parent(struct merged *mg, struct mnode *n, struct mnode *parent, char *copy,
                       struct dead_nodes *dead)
{
        if (!copy || n == &mg->root ||
            (n->parent == parent && n->name && strcmp(n->name, copy) == 0)) {
                free(copy);
                return;
        }
        struct mnode *old = n->parent;
        free(n->name);
        n->name = copy;
        n->parent = parent;
        parent->children++;
        if (old) {
                old->children--;
                release_if_unused(mg, old, dead);
        }
}

/* What a lookup found and mg_node_get did not keep. */
static void drop_found(int fd[2], struct ovl_handle *h[2])
{
        for (int l = 0; l < 2; l++) {
                if (fd[l] >= 0)
                        (void)close(fd[l]);
                ovl_handle_free(h[l]);
        }
}

/* A new node of the object shown (its attributes), below parent as name: allocated
 * before the table's lock is taken. NULL on ENOMEM. */
static struct mnode *node_new(const struct mnode *parent, const char *name,
                              const struct stat *shown)
{
        struct mnode *n = calloc(1, sizeof *n);
        if (!n)
                return NULL;
        if (scope_child(&parent->scope, name, &n->scope) < 0 ||
            pthread_mutex_init(&n->lock, NULL) != 0) {
                scope_done(&n->scope);
                free(n);
                return NULL;
        }
        n->fd[UPPER] = n->fd[LOWER] = -1;
        for (int k = 0; k < IO_KINDS; k++)
                n->io_fd[k] = -1;
        n->backing = -1;
        n->node.dev = shown->st_dev;
        n->node.ino = shown->st_ino;
        n->type = shown->st_mode & S_IFMT;
        return n;
}

/* Does directory node n show other objects than a lookup found now (fd, h: per
 * layer; st: their attributes)? A layer's directory removed or replaced beside the
 * view, say. Lock held. */
static bool layers_replaced(const struct merged *mg, const struct mnode *n, const int fd[2],
                            struct ovl_handle *const h[2], const struct stat st[2])
{
        if (!S_ISDIR(n->type) || n == &mg->root)
                return false;
        for (int l = 0; l < 2; l++) {
                if (!layer_has(n, (enum layer)l))
                        continue;
                if ((fd[l] < 0 && !h[l]) || n->obj[l].dev != st[l].st_dev ||
                    n->obj[l].ino != st[l].st_ino)
                        return true;
        }
        return false;
}

/* Watch directory n's object in layer l, filled just now; gained: the node had been
 * shown before without it, so the kernel may keep names below it that this layer
 * now changes. */
static void watch_layer(struct merged *mg, struct mnode *n, enum layer l, bool gained)
{
        int fd = mg_layer_get(n, l);
        if (fd < 0)
                return;
        struct ovl_watched *w = ovl_watch_dir(fd, n->obj[l].dev, ino_of(mg, n));
        struct ovl_watched *none = NULL;
        if (w && !__atomic_compare_exchange_n(&n->watched[l], &none, w, false, __ATOMIC_RELEASE,
                                              __ATOMIC_RELAXED))
                ovl_watch_drop(w, fd);
        if (gained)
                ovl_watch_rescan(ino_of(mg, n), fd);
        mg_object_put(n, fd);
}

struct mnode *mg_node_get(struct merged *mg, struct mnode *parent, const char *name, int fd[2],
                          const struct stat st[2])
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
        bool dir = S_ISDIR(shown->st_mode);
        if (shown->st_nlink > 0 && ovl_fds_past_budget(held, mg->fd_limit)) {
                struct dirs pd =
                        dir ? (struct dirs){.n = parent, .fd = {-1, -1}} : mg_dirs_get(parent);
                for (int l = 0; l < 2; l++)
                        if (fd[l] >= 0 && (h[l] = ovl_handle_take(fd[l], dir ? fd[l] : pd.fd[l])))
                                fd[l] = -1;
                mg_dirs_put(&pd);
        }
        /* Most lookups find a node that keeps its place: they allocate nothing. What
         * a new node or a directory's new place needs is allocated without the lock,
         * and the lookup is tried again. */
        struct mnode *fresh = NULL, *n;
        char *name_copy = NULL;
        struct dead_nodes dead = {NULL};
        bool both = (fd[UPPER] >= 0 || h[UPPER]) && (fd[LOWER] >= 0 || h[LOWER]);
        for (;;) {
                ovl_nodes_lock_for_insert(&mg->nodes);
                n = table_find(mg, shown->st_dev, shown->st_ino);
                if (!n && both)
                        n = table_find(mg, st[LOWER].st_dev, st[LOWER].st_ino); /* B gained it */
                if (n && layers_replaced(mg, n, fd, h, st)) {
                        /* Out of the table: the kernel's references end it. */
                        ovl_nodes_remove(&mg->nodes, &n->node);
                        n = NULL;
                }
                bool moves = n ? S_ISDIR(n->type) && n != &mg->root &&
                                             (n->parent != parent || !n->name ||
                                              strcmp(n->name, name) != 0)
                               : dir;
                bool want_node = !n && !fresh, want_name = moves && !name_copy;
                if (!want_node && !want_name)
                        break;
                pthread_mutex_unlock(&mg->nodes.lock);
                if ((want_node && !(fresh = node_new(parent, name, shown))) ||
                    (want_name && !(name_copy = strdup(name)))) {
                        if (fresh)
                                node_free(mg, fresh, false);
                        free(name_copy);
                        drop_found(fd, h);
                        return NULL; /* ENOMEM */
                }
        }
        bool is_new = !n;
        if (!n) {
                n = fresh;
                fresh = NULL;
                ovl_nodes_insert(&mg->nodes, &n->node);
        }
        bool filled[2] = {false, false};
        for (int l = 0; l < 2; l++) {
                if (layer_has(n, (enum layer)l))
                        continue; /* the node keeps what it has; dropped below */
                filled[l] = fd[l] >= 0 || h[l];
                if (filled[l]) { /* st[l] is set only where the layer has the name */
                        n->obj[l].dev = st[l].st_dev;
                        n->obj[l].ino = st[l].st_ino;
                }
                if (fd[l] >= 0) {
                        __atomic_store_n(&n->fd[l], fd[l], __ATOMIC_RELEASE);
                        __atomic_fetch_add(&mg->held_fds, 1, __ATOMIC_RELAXED);
                        fd[l] = -1;
                } else if (h[l]) {
                        __atomic_store_n(&n->handle[l], h[l], __ATOMIC_RELEASE);
                        h[l] = NULL;
                }
        }
        if (S_ISDIR(n->type))
                set_parent(mg, n, parent, name_copy, &dead);
        else
                free(name_copy);
        n->node.nlookup++;
        pthread_mutex_unlock(&mg->nodes.lock);
        if (fresh)
                node_free(mg, fresh, false);
        dead_free(mg, &dead);
        drop_found(fd, h);
        if (S_ISDIR(n->type))
                for (int l = 0; l < 2; l++)
                        if (filled[l])
                                watch_layer(mg, n, (enum layer)l, !is_new);
        return n;
}

void mg_forget_node(fuse_req_t req, fuse_ino_t ino, uint64_t count)
{
        struct merged *mg = merged_of(req);
        struct mnode *n = node_of(req, ino);
        if (n == &mg->root)
                return;
        struct dead_nodes dead = {NULL};
        pthread_mutex_lock(&mg->nodes.lock);
        n->node.nlookup = n->node.nlookup > count ? n->node.nlookup - count : 0;
        release_if_unused(mg, n, &dead);
        pthread_mutex_unlock(&mg->nodes.lock);
        dead_free(mg, &dead);
}

/* A pin is one more reference, as the kernel's are: the node (and through its
 * children count, its parents) stays while it is held. */
void mg_node_pin(struct mnode *n)
{
        n->node.nlookup++;
}

void mg_node_unpin(struct merged *mg, struct mnode *n)
{
        if (n == &mg->root)
                return;
        struct dead_nodes dead = {NULL};
        pthread_mutex_lock(&mg->nodes.lock);
        n->node.nlookup--;
        release_if_unused(mg, n, &dead);
        pthread_mutex_unlock(&mg->nodes.lock);
        dead_free(mg, &dead);
}

void mg_node_moved(struct merged *mg, int dirfd, const char *name, struct mnode *newparent,
                   enum layer from, enum layer to)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return;
        char *copy = strdup(name);
        struct dead_nodes dead = {NULL};
        pthread_mutex_lock(&mg->nodes.lock);
        struct mnode *n = table_find(mg, st.st_dev, st.st_ino);
        if (n) {
                set_parent(mg, n, newparent, copy, &dead);
                copy = NULL;
                if (from != to && !layer_has(n, to)) {
                        /* V's directory now lives in B: same object, other layer. The
                         * old slot is left set (not closed): readers may hold it. */
                        n->obj[to] = n->obj[from];
                        if (n->fd[from] >= 0)
                                __atomic_store_n(&n->fd[to], n->fd[from], __ATOMIC_RELEASE);
                        else
                                __atomic_store_n(&n->handle[to], n->handle[from], __ATOMIC_RELEASE);
                }
        }
        pthread_mutex_unlock(&mg->nodes.lock);
        free(copy);
        dead_free(mg, &dead);
}

/* ---- life ------------------------------------------------------------------------------- */

/* The view, for the watch's thread. */
static struct merged *watched_view;

void mg_watch_root(struct merged *mg)
{
        watched_view = mg;
        for (int l = 0; l < 2; l++)
                if (mg->root.fd[l] >= 0 &&
                    !(l == LOWER && mg->root.fd[LOWER] == mg->root.fd[UPPER]))
                        mg->root.watched[l] =
                                ovl_watch_dir(mg->root.fd[l], mg->root.obj[l].dev, FUSE_ROOT_ID);
}

fuse_ino_t mg_find_node(dev_t dev, ino_t ino)
{
        struct merged *mg = watched_view;
        pthread_mutex_lock(&mg->nodes.lock);
        struct mnode *n = table_find(mg, dev, ino);
        fuse_ino_t found = n ? ino_of(mg, n) : 0;
        pthread_mutex_unlock(&mg->nodes.lock);
        return found;
}

uint64_t mg_attrs_digest(const struct stat *st)
{
        const uint64_t fields[] = {
                (uint64_t)st->st_dev,          (uint64_t)st->st_ino,
                (uint64_t)st->st_mode,         (uint64_t)st->st_nlink,
                (uint64_t)st->st_uid,          (uint64_t)st->st_gid,
                (uint64_t)st->st_size,         (uint64_t)st->st_blocks,
                (uint64_t)st->st_mtim.tv_sec,  (uint64_t)st->st_mtim.tv_nsec,
                (uint64_t)st->st_ctim.tv_sec,  (uint64_t)st->st_ctim.tv_nsec,
        };
        /* FNV-1a over whole words, each mixed down before the next: taken at every
         * reply of a file, so 12 steps rather than 96 (a byte at a time took 95 ns). */
        uint64_t h = 0xcbf29ce484222325u;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                h = (h ^ fields[i]) * 0x100000001b3u;
                h ^= h >> 29;
        }
        return h ? h : 1;
}

/* Only a file served by passthrough: the kernel keeps no page of it, so equal
 * attributes leave nothing stale. A file served by requests keeps its pages across
 * opens (keep_cache), and a write within one tick of a coarse clock changes no time:
 * its attributes and pages are dropped as before. The kernel's own writes through
 * passthrough make it ask for size and times again by itself. */
bool mg_kernel_holds(const struct stat *now)
{
        struct merged *mg = watched_view;
        uint64_t digest = mg_attrs_digest(now);
        pthread_mutex_lock(&mg->nodes.lock);
        struct mnode *n = table_find(mg, now->st_dev, now->st_ino);
        bool holds = n && S_ISREG(n->type) && __atomic_load_n(&n->backing, __ATOMIC_ACQUIRE) >= 0 &&
                     __atomic_load_n(&n->told, __ATOMIC_ACQUIRE) == digest;
        pthread_mutex_unlock(&mg->nodes.lock);
        return holds;
}

static void node_free_at_end(struct ovl_node *n, void *ctx)
{
        node_free(ctx, mnode_of(n), true);
}

void mg_nodes_done(struct merged *mg)
{
        ovl_nodes_done(&mg->nodes, node_free_at_end, mg);
}
