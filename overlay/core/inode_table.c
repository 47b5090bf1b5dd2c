/* inode_table.c — inodes keyed by (st_dev, st_ino): one kernel inode per real inode, so
 * hard links show one inode and attributes of every name stay in step. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static size_t bucket_of(const struct ovl_table *t, dev_t dev, ino_t ino)
{
        uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;
        return (size_t)(h % t->bucket_count);
}

int ovl_table_init(struct ovl_table *t)
{
        t->bucket_count = 1 << 16;
        t->buckets = calloc(t->bucket_count, sizeof *t->buckets);
        t->count = 0;
        t->held_fds = 0;
        t->fd_limit = ovl_fd_limit();
        if (!t->buckets)
                return -ENOMEM;
        return -pthread_mutex_init(&t->lock, NULL);
}

void ovl_table_done(struct ovl_table *t)
{
        for (size_t i = 0; i < t->bucket_count; i++)
                for (struct ovl_inode *n = t->buckets[i], *next; n; n = next) {
                        next = n->next;
                        if (n->fd >= 0)
                                (void)close(n->fd);
                        ovl_handle_free(n->handle);
                        free(n);
                }
        free(t->buckets);
        t->buckets = NULL;
        (void)pthread_mutex_destroy(&t->lock);
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
        pthread_mutex_lock(&t->lock);
        size_t b = bucket_of(t, st->st_dev, st->st_ino);
        for (struct ovl_inode *n = t->buckets[b]; n; n = n->next)
                if (n->dev == st->st_dev && n->ino == st->st_ino) {
                        n->nlookup++;
                        pthread_mutex_unlock(&t->lock);
                        if (fd >= 0)
                                (void)close(fd);
                        ovl_handle_free(handle);
                        return n;
                }
        struct ovl_inode *n = calloc(1, sizeof *n);
        if (!n) {
                pthread_mutex_unlock(&t->lock);
                if (fd >= 0)
                        (void)close(fd);
                ovl_handle_free(handle);
                return NULL;
        }
        n->fd = fd;
        n->handle = handle;
        if (fd >= 0)
                __atomic_store_n(&t->held_fds, t->held_fds + 1, __ATOMIC_RELAXED);
        if (handle)
                __atomic_store_n(&t->handles, t->handles + 1, __ATOMIC_RELAXED);
        n->dev = st->st_dev;
        n->ino = st->st_ino;
        n->nlookup = 1;
        n->next = t->buckets[b];
        t->buckets[b] = n;
        t->count++;
        pthread_mutex_unlock(&t->lock);
        return n;
}

void ovl_table_forget(struct ovl_table *t, struct ovl_inode *inode, uint64_t n)
{
        pthread_mutex_lock(&t->lock);
        if (inode->nlookup > n) {
                inode->nlookup -= n;
                pthread_mutex_unlock(&t->lock);
                return;
        }
        size_t b = bucket_of(t, inode->dev, inode->ino);
        for (struct ovl_inode **p = &t->buckets[b]; *p; p = &(*p)->next)
                if (*p == inode) {
                        *p = inode->next;
                        t->count--;
                        break;
                }
        if (inode->fd >= 0)
                __atomic_store_n(&t->held_fds, t->held_fds - 1, __ATOMIC_RELAXED);
        if (inode->handle)
                __atomic_store_n(&t->handles, t->handles - 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&t->lock);
        if (inode->fd >= 0)
                (void)close(inode->fd);
        ovl_handle_free(inode->handle);
        free(inode);
}

static struct ovl_inode *table_find(const struct ovl_table *t, dev_t dev, ino_t ino)
{
        for (struct ovl_inode *n = t->buckets[bucket_of(t, dev, ino)]; n; n = n->next)
                if (n->dev == dev && n->ino == ino)
                        return n;
        return NULL;
}

void ovl_table_hold_before_unlink(struct ovl_table *t, int dir_fd, const char *name)
{
        struct stat st;
        if (__atomic_load_n(&t->handles, __ATOMIC_RELAXED) == 0 ||
            fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
            st.st_nlink != 1)
                return;
        pthread_mutex_lock(&t->lock);
        struct ovl_inode *n = table_find(t, st.st_dev, st.st_ino);
        bool by_handle_only = n && n->fd < 0 && n->handle;
        pthread_mutex_unlock(&t->lock);
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
        pthread_mutex_lock(&t->lock);
        n = table_find(t, st.st_dev, st.st_ino);
        if (n && n->fd < 0) {
                __atomic_store_n(&n->fd, fd, __ATOMIC_RELEASE);
                __atomic_store_n(&t->held_fds, t->held_fds + 1, __ATOMIC_RELAXED);
                fd = -1;
        }
        pthread_mutex_unlock(&t->lock);
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
