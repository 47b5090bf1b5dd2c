/* inode_table.c — the parent overlay's inodes: one object each, held by an O_PATH
 * descriptor or, past the descriptor budget, by its file handle; kept in the node
 * table (node_table.c). */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int ovl_table_init(struct ovl_table *t)
{
        t->held_fds = 0;
        t->handles = 0;
        t->fd_limit = ovl_fd_limit();
        return ovl_nodes_init(&t->nodes, 1024);
}

static struct ovl_inode *inode_of_node(struct ovl_node *n)
{
        return ovl_container_of(n, struct ovl_inode, node);
}

/* ctx: non-NULL at the end, when marks go with the process. */
static void inode_free(struct ovl_node *node, void *ctx)
{
        struct ovl_inode *n = inode_of_node(node);
        if (n->watched) {
                int fd = ctx ? -1 : ovl_inode_get(n);
                ovl_watch_drop(n->watched, fd < 0 ? -1 : fd);
                ovl_inode_put(n, fd);
        }
        if (n->fd >= 0)
                (void)close(n->fd);
        ovl_handle_free(n->handle);
        free(n);
}

void ovl_table_done(struct ovl_table *t)
{
        ovl_nodes_done(&t->nodes, inode_free, t);
}

struct ovl_inode *ovl_table_lookup_add(struct ovl_table *t, int fd, const struct stat *st,
                                       int dir_fd)
{
        /* Past the budget an object is held by its handle: made before taking the
         * lock (a system call); a race past the line by a few is harmless. Not for an
         * unnamed file (O_TMPFILE): a filesystem may not find it again. A handle is
         * opened relative to a directory of its mount: a directory is its own. */
        struct ovl_handle *handle = NULL;
        if (st->st_nlink > 0 &&
            ovl_fds_past_budget(__atomic_load_n(&t->held_fds, __ATOMIC_RELAXED), t->fd_limit) &&
            (handle = ovl_handle_take(fd, S_ISDIR(st->st_mode) ? fd : dir_fd)))
                fd = -1;
        /* A known object costs no allocation; a new one's inode is allocated without
         * the lock, and the lookup tried again. */
        struct ovl_inode *fresh = NULL;
        struct ovl_node *found;
        for (;;) {
                ovl_nodes_lock_for_insert(&t->nodes);
                found = ovl_nodes_find(&t->nodes, st->st_dev, st->st_ino);
                if (found || fresh)
                        break;
                pthread_mutex_unlock(&t->nodes.lock);
                if (!(fresh = calloc(1, sizeof *fresh))) {
                        if (fd >= 0)
                                (void)close(fd);
                        ovl_handle_free(handle);
                        return NULL;
                }
        }
        struct ovl_inode *n = found ? inode_of_node(found) : fresh;
        if (found) {
                found->nlookup++;
        } else if (fresh) {
                fresh->fd = fd;
                fresh->handle = handle;
                fresh->node.dev = st->st_dev;
                fresh->node.ino = st->st_ino;
                fresh->node.nlookup = 1;
                if (fd >= 0)
                        __atomic_fetch_add(&t->held_fds, 1, __ATOMIC_RELAXED);
                if (handle)
                        __atomic_fetch_add(&t->handles, 1, __ATOMIC_RELAXED);
                ovl_nodes_insert(&t->nodes, &fresh->node);
        }
        pthread_mutex_unlock(&t->nodes.lock);
        if (!n || n != fresh) { /* found, or ENOMEM */
                free(fresh);
                if (fd >= 0)
                        (void)close(fd);
                ovl_handle_free(handle);
        }
        return n;
}

void ovl_table_forget(struct ovl_table *t, struct ovl_inode *inode, uint64_t n)
{
        pthread_mutex_lock(&t->nodes.lock);
        if (inode->node.nlookup > n) {
                inode->node.nlookup -= n;
                pthread_mutex_unlock(&t->nodes.lock);
                return;
        }
        ovl_nodes_remove(&t->nodes, &inode->node);
        pthread_mutex_unlock(&t->nodes.lock);
        if (inode->fd >= 0)
                __atomic_fetch_sub(&t->held_fds, 1, __ATOMIC_RELAXED);
        if (inode->handle)
                __atomic_fetch_sub(&t->handles, 1, __ATOMIC_RELAXED);
        inode_free(&inode->node, NULL);
}

static struct ovl_inode *table_find(const struct ovl_table *t, dev_t dev, ino_t ino)
{
        struct ovl_node *n = ovl_nodes_find(&t->nodes, dev, ino);
        return n ? inode_of_node(n) : NULL;
}

void ovl_table_hold_before_unlink(struct ovl_table *t, int dir_fd, const char *name)
{
        struct stat st;
        if (__atomic_load_n(&t->handles, __ATOMIC_RELAXED) == 0 ||
            fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
            st.st_nlink != 1)
                return;
        pthread_mutex_lock(&t->nodes.lock);
        struct ovl_inode *n = table_find(t, st.st_dev, st.st_ino);
        bool by_handle_only = n && n->fd < 0 && n->handle;
        pthread_mutex_unlock(&t->nodes.lock);
        if (!by_handle_only)
                return;
        int fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat now;
        if (fd < 0)
                return; /* the unlink will say what is wrong */
        if (fstatat(fd, "", &now, AT_EMPTY_PATH) < 0 || now.st_dev != st.st_dev ||
            now.st_ino != st.st_ino) {
                (void)close(fd);
                return;
        }
        /* The kernel holds the name while it is being unlinked, so the inode is still
         * known; its handle stays too (readers may be using it) until it is freed. */
        pthread_mutex_lock(&t->nodes.lock);
        n = table_find(t, st.st_dev, st.st_ino);
        if (n && n->fd < 0) {
                __atomic_store_n(&n->fd, fd, __ATOMIC_RELEASE);
                __atomic_fetch_add(&t->held_fds, 1, __ATOMIC_RELAXED);
                fd = -1;
        }
        pthread_mutex_unlock(&t->nodes.lock);
        if (fd >= 0)
                (void)close(fd);
}

/* The inode's descriptor, once set never changed while it lives (a plain atomic
 * read); one set just before the file lost its last name takes over from its handle. */
static int inode_fd(const struct ovl_inode *inode)
{
        return __atomic_load_n(&inode->fd, __ATOMIC_ACQUIRE);
}

int ovl_inode_get(const struct ovl_inode *inode)
{
        int fd = inode_fd(inode);
        if (fd >= 0 || !inode->handle)
                return fd;
        return ovl_handle_open(inode->handle);
}

void ovl_inode_put(const struct ovl_inode *inode, int fd)
{
        if (fd >= 0 && fd != inode_fd(inode))
                (void)close(fd);
}
