/* path_index.c — chained hash of path strings (FNV-1a), grown at load 1. */
#include "path_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_of(const char *p, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
        return h;
}

void path_index_init(struct path_index *index) { *index = (struct path_index){0}; }

void path_index_done(struct path_index *index)
{
        for (size_t i = 0; i < index->bucket_count; i++)
                for (struct path_index_entry *e = index->buckets[i], *next; e; e = next) {
                        next = e->next;
                        free(e->path);
                        free(e);
                }
        free(index->buckets);
        path_index_init(index);
}

static int grow(struct path_index *index)
{
        size_t n = index->bucket_count ? index->bucket_count * 2 : 256;
        struct path_index_entry **buckets = calloc(n, sizeof *buckets);
        if (!buckets)
                return -ENOMEM;
        for (size_t i = 0; i < index->bucket_count; i++)
                for (struct path_index_entry *e = index->buckets[i], *next; e; e = next) {
                        next = e->next;
                        e->next = buckets[e->hash % n];
                        buckets[e->hash % n] = e;
                }
        free(index->buckets);
        index->buckets = buckets;
        index->bucket_count = n;
        return 0;
}

static struct path_index_entry *find(const struct path_index *index, const char *path,
                                     size_t len, uint64_t hash)
{
        if (!index->bucket_count)
                return NULL;
        for (struct path_index_entry *e = index->buckets[hash % index->bucket_count]; e;
             e = e->next)
                if (e->hash == hash && e->len == len && memcmp(e->path, path, len) == 0)
                        return e;
        return NULL;
}

const struct path_index_entry *path_index_get(const struct path_index *index, const char *path,
                                              size_t len)
{
        return find(index, path, len, hash_of(path, len));
}

int path_index_add(struct path_index *index, const char *path, size_t len, struct link *link)
{
        uint64_t hash = hash_of(path, len);
        struct path_index_entry *e = find(index, path, len, hash);
        if (!e) {
                if (index->count >= index->bucket_count && grow(index) < 0)
                        return -ENOMEM;
                e = calloc(1, sizeof *e);
                if (!e || !(e->path = malloc(len + 1))) {
                        free(e);
                        return -ENOMEM;
                }
                memcpy(e->path, path, len);
                e->path[len] = '\0';
                e->len = len;
                e->hash = hash;
                e->next = index->buckets[hash % index->bucket_count];
                index->buckets[hash % index->bucket_count] = e;
                index->count++;
        }
        e->count++;
        if (link)
                e->link = link;
        return 0;
}

void path_index_remove(struct path_index *index, const char *path, size_t len)
{
        uint64_t hash = hash_of(path, len);
        if (!index->bucket_count)
                return;
        for (struct path_index_entry **p = &index->buckets[hash % index->bucket_count]; *p;
             p = &(*p)->next) {
                struct path_index_entry *e = *p;
                if (e->hash != hash || e->len != len || memcmp(e->path, path, len) != 0)
                        continue;
                if (--e->count == 0) {
                        *p = e->next;
                        free(e->path);
                        free(e);
                        index->count--;
                }
                return;
        }
}

int path_for_each_ancestor(const char *path, int (*fn)(void *ctx, const char *p, size_t len),
                           void *ctx)
{
        size_t len = strlen(path);
        if (len <= 1)
                return 0; /* "/" has no ancestor */
        int r = fn(ctx, "/", 1);
        for (size_t i = 1; r == 0 && i < len; i++)
                if (path[i] == '/')
                        r = fn(ctx, path, i);
        return r;
}
