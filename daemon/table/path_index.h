/* path_index.h — a hash of paths, each with a count and (for exact maps) a link, so
 * the planner can ask "is there a link at or below this path?" in O(depth) instead
 * of scanning every link. Lookups take (pointer, length) so prefixes of a path are
 * looked up without copying. Pure data, no syscalls. */
#ifndef BINDLINKD_PATH_INDEX_H
#define BINDLINKD_PATH_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct link;

struct path_index_entry {
        char *path;
        size_t len;
        uint64_t hash;
        size_t count;
        struct link *link;
        struct path_index_entry *next;
};

struct path_index {
        struct path_index_entry **buckets;
        size_t bucket_count, count;
};

void path_index_init(struct path_index *index);
void path_index_done(struct path_index *index);
/* Count one more use of path (len bytes); set link if not NULL. 0 or -ENOMEM. */
int path_index_add(struct path_index *index, const char *path, size_t len, struct link *link);
/* Count one use less; the entry goes at 0. */
void path_index_remove(struct path_index *index, const char *path, size_t len);
const struct path_index_entry *path_index_get(const struct path_index *index, const char *path,
                                              size_t len);

/* Call fn on each strict ancestor prefix of a folded absolute path ("/a/b" gives
 * "/" and "/a"), as (path, len). Stops and returns fn's value when it is not 0. */
int path_for_each_ancestor(const char *path, int (*fn)(void *ctx, const char *p, size_t len),
                           void *ctx);

#endif
