/* node_table.c — the one table of nodes both views keep: one node per real object,
 * keyed by (st_dev, st_ino), so hard links are one node and the attributes of every
 * name stay in step. A view's node starts with a struct ovl_node.
 *
 * The lock guards the chains and the kernel's reference counts only. It is never
 * held across a system call: a view opens, closes and makes objects outside it, and
 * the bucket array grows from memory allocated before the lock is taken. */
#include "core.h"

#include <errno.h>
#include <stdlib.h>

static size_t bucket_index(dev_t dev, ino_t ino, size_t bucket_count)
{
        uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;
        return (size_t)(h % bucket_count);
}

int ovl_nodes_init(struct ovl_node_table *t, size_t bucket_count)
{
        *t = (struct ovl_node_table){.bucket_count = bucket_count};
        t->buckets = calloc(bucket_count, sizeof *t->buckets);
        if (!t->buckets)
                return -ENOMEM;
        int r = pthread_mutex_init(&t->lock, NULL);
        if (r) {
                free(t->buckets);
                t->buckets = NULL;
                return -r;
        }
        return 0;
}

void ovl_nodes_done(struct ovl_node_table *t, void (*free_node)(struct ovl_node *n, void *ctx),
                    void *ctx)
{
        if (!t->buckets)
                return;
        for (size_t i = 0; i < t->bucket_count; i++)
                for (struct ovl_node *n = t->buckets[i], *next; n; n = next) {
                        next = n->next;
                        free_node(n, ctx);
                }
        free(t->buckets);
        t->buckets = NULL;
        (void)pthread_mutex_destroy(&t->lock);
}

struct ovl_node *ovl_nodes_find(const struct ovl_node_table *t, dev_t dev, ino_t ino)
{
        for (struct ovl_node *n = t->buckets[bucket_index(dev, ino, t->bucket_count)]; n;
             n = n->next)
                if (n->dev == dev && n->ino == ino)
                        return n;
        return NULL;
}

void ovl_nodes_lock_for_insert(struct ovl_node_table *t)
{
        /* Grow (to twice the buckets) when one more node would pass one per bucket.
         * The new array is allocated before the lock; a thread that finds the table
         * grown by another meanwhile frees it after. A chain a little long for a
         * moment is harmless. */
        size_t count = __atomic_load_n(&t->count, __ATOMIC_RELAXED);
        size_t buckets = __atomic_load_n(&t->bucket_count, __ATOMIC_RELAXED);
        struct ovl_node **grown = NULL;
        if (count + 1 > buckets)
                grown = calloc(buckets * 2, sizeof *grown);
        pthread_mutex_lock(&t->lock);
        if (!grown)
                return;
        if (t->bucket_count != buckets) {
                pthread_mutex_unlock(&t->lock);
                free(grown);
                pthread_mutex_lock(&t->lock);
                return;
        }
        for (size_t i = 0; i < t->bucket_count; i++)
                for (struct ovl_node *n = t->buckets[i], *next; n; n = next) {
                        next = n->next;
                        size_t b = bucket_index(n->dev, n->ino, buckets * 2);
                        n->next = grown[b];
                        grown[b] = n;
                }
        struct ovl_node **old = t->buckets;
        t->buckets = grown;
        __atomic_store_n(&t->bucket_count, buckets * 2, __ATOMIC_RELAXED);
        /* free() of a large array may unmap it: not under the lock. */
        pthread_mutex_unlock(&t->lock);
        free(old);
        pthread_mutex_lock(&t->lock);
}

void ovl_nodes_insert(struct ovl_node_table *t, struct ovl_node *n)
{
        size_t b = bucket_index(n->dev, n->ino, t->bucket_count);
        n->next = t->buckets[b];
        t->buckets[b] = n;
        __atomic_store_n(&t->count, t->count + 1, __ATOMIC_RELAXED);
}

void ovl_nodes_remove(struct ovl_node_table *t, struct ovl_node *n)
{
        for (struct ovl_node **p = &t->buckets[bucket_index(n->dev, n->ino, t->bucket_count)]; *p;
             p = &(*p)->next)
                if (*p == n) {
                        *p = n->next;
                        __atomic_store_n(&t->count, t->count - 1, __ATOMIC_RELAXED);
                        return;
                }
}
