/* listing.c — the merged view's directory listings: B's names, then V's that B
 * lacks (S12), or only those on the way to an exception (S14). */
#include "nodes.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- directories ------------------------------------------------------------------------------
 */

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

struct layer_read {
        const struct merged *mg;
        struct dir_snapshot *d;
        const struct name_set *skip;   /* names B has, when reading V's */
        const struct view_scope *only; /* V's names on the way to exceptions */
        dev_t dev;                     /* the layer directory's filesystem */
};

static int add_entry(void *ctx, const struct dirent *de)
{
        const struct layer_read *l = ctx;
        if (l->skip && name_set_has(l->skip, de->d_name))
                return 0;
        if (l->only && !scope_lists_lower_name(l->only, de->d_name) &&
            strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                return 0;
        return dir_snapshot_add(l->d, de->d_name, shown_ino(l->mg, l->dev, de->d_ino), de->d_type);
}

static int read_layer(const struct merged *mg, int opath_fd, struct dir_snapshot *d,
                      const struct name_set *skip, const struct view_scope *only)
{
        struct stat dir_st;
        if (fstatat(opath_fd, "", &dir_st, AT_EMPTY_PATH) < 0)
                return -errno;
        struct layer_read l = {mg, d, skip, only, dir_st.st_dev};
        return ovl_dir_each(opath_fd, add_entry, &l);
}

static int merged_listing(const struct merged *mg, const struct mnode *n, struct dir_snapshot *d)
{
        struct dirs dirs = mg_dirs_get(n);
        int upper = n->scope.kind == SCOPE_LOWER ? -1 : dirs.fd[UPPER];
        int lower = n->scope.kind == SCOPE_UPPER ? -1 : dirs.fd[LOWER];
        const struct view_scope *only = n->scope.kind == SCOPE_PATHS ? &n->scope : NULL;
        int r;
        if (upper < 0 || lower < 0 || upper == lower) {
                r = read_layer(mg, upper >= 0 ? upper : lower, d, NULL, upper >= 0 ? NULL : only);
                mg_dirs_put(&dirs);
                return r;
        }
        r = read_layer(mg, upper, d, NULL, NULL);
        struct name_set set = {.size = 16};
        while (set.size < d->count * 2)
                set.size *= 2;
        set.slots = r ? NULL : calloc(set.size, sizeof *set.slots);
        if (!r && !set.slots)
                r = -ENOMEM;
        for (size_t i = 0; !r && i < d->count; i++)
                name_set_add(&set, d->entries[i].name);
        if (!r)
                r = read_layer(mg, lower, d, &set, only); /* "." and ".." are in B's already */
        free(set.slots);
        mg_dirs_put(&dirs);
        return r;
}

int mg_read_listing(fuse_req_t req, fuse_ino_t ino, struct dir_snapshot *d)
{
        return merged_listing(merged_of(req), node_of(req, ino), d);
}

/* A directory listing read from the server leaves its attributes invalid in the
 * kernel (fuse_readdir_uncached invalidates its atime), so the next stat of it asks
 * a GETATTR: a second `du`, `find` or `ls -lR` of a tree asks one per directory.
 * A READDIRPLUS of its parent would give them again with every other entry's. So
 * once enough directories in a parent have been listed to their end — one for
 * every RELIST_ENTRIES entries of the parent's own listing, so that reading the
 * parent again costs less than the GETATTRs it saves (about 5 us an entry against a
 * 20-40 us round trip here) — the kernel's copy of the parent's listing is dropped
 * (by the watch thread, like a listing that is not kept): a walk reads the parent
 * first, from the server, and finds its directories' attributes fresh. Only the
 * kernel's caches are dropped; nothing it shows changes. */
#define RELIST_ENTRIES 2

void mg_listing_ended(fuse_req_t req, fuse_ino_t ino, size_t entries)
{
        struct merged *mg = merged_of(req);
        struct mnode *n = node_of(req, ino);
        fuse_ino_t drop = 0;
        pthread_mutex_lock(&mg->nodes.lock);
        n->listing_entries = entries;
        struct mnode *p = n != &mg->root ? n->parent : NULL;
        if (p && p->listing_entries > 0 &&
            ++p->listed_below * RELIST_ENTRIES >= p->listing_entries) {
                p->listed_below = 0;
                drop = ino_of(mg, p);
        }
        pthread_mutex_unlock(&mg->nodes.lock);
        if (drop)
                ovl_watch_forget_listing(drop);
}

void mg_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
        (void)fi;
        struct mnode *n = node_of(req, ino);
        int dir = mg_shown_get(n);
        int r = dir < 0 ? dir : ovl_sync_dir(dir, datasync);
        mg_object_put(n, dir);
        (void)fuse_reply_err(req, -r);
}
