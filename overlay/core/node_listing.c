/* node_listing.c — listings of directories the kernel opens without a request.
 *
 * With FUSE_CAP_NO_OPENDIR_SUPPORT the view answers the first OPENDIR with ENOSYS and
 * the kernel sends neither OPENDIR nor RELEASEDIR again: two round trips less for each
 * directory listed, which is nearly all `find` and `du` ask once the kernel keeps the
 * listings (it keeps every one then, as with cache_readdir). There is no handle to
 * hold a listing from one READDIR to the next, so:
 *
 * - each entry's offset is a hash of its name (63 bits) and a listing is sorted by it:
 *   a READDIR at offset h answers the names that hash above h, in whichever listing of
 *   the directory is at hand. Every listing read after a reader began holds each name
 *   that existed throughout, so the reader gets each of those once, as getdents
 *   promises across changes; and telldir/seekdir work as before.
 * - a listing read for a READDIR at offset 0 (a reader beginning) is kept for the
 *   READDIRs that follow, for a few directories at a time: a large directory is read
 *   once, not once per READDIR. A newer listing of the directory replaces it; the
 *   empty answer at its end drops it.
 * - names whose hashes are equal are never split across two answers.
 *
 * Where a directory's changes beside the view are not all notified (the view's
 * listing_kept says no: a network or FUSE layer), the kernel's copy of its listing is
 * dropped right after each answer (by the watch thread: ovl_watch_forget_listing), so
 * the next reader reads it again, as it did with a handle that kept nothing. */
#include "core.h"

#include <errno.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>

struct kept_listing {
        fuse_ino_t ino;
        dev_t dev; /* the directory object it was read from */
        ino_t obj;
        uint64_t built; /* when its reading began, in listings begun */
        unsigned users; /* requests answering from it */
        bool in_table;  /* freed by its last user once out of the table */
        struct dir_snapshot snapshot;
        uint64_t *offsets; /* each entry's, ascending */
};

#define KEPT 16

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept_listing *kept[KEPT];
static uint64_t listings_begun;

/* FNV-1a, folded to 63 bits; never 0 (the offset of the beginning). */
static uint64_t name_offset(const char *name)
{
        uint64_t h = 14695981039346656037ULL;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
                h ^= *p;
                h *= 1099511628211ULL;
        }
        h = (h ^ (h >> 63)) & INT64_MAX;
        return h ? h : 1;
}

static void listing_free(struct kept_listing *k)
{
        for (size_t i = 0; i < k->snapshot.count; i++)
                free(k->snapshot.entries[i].name);
        free(k->snapshot.entries);
        free(k->offsets);
        free(k);
}

static void listing_put(struct kept_listing *k)
{
        pthread_mutex_lock(&kept_lock);
        bool last = --k->users == 0 && !k->in_table;
        pthread_mutex_unlock(&kept_lock);
        if (last)
                listing_free(k);
}

/* Take k out of the table. Lock held; true if it is to be freed now. */
static bool unkeep(size_t slot)
{
        struct kept_listing *k = kept[slot];
        kept[slot] = NULL;
        k->in_table = false;
        return k->users == 0;
}

/* The kept listing of ino read from the directory (dev, obj), taken; NULL if none. */
static struct kept_listing *kept_find(fuse_ino_t ino, dev_t dev, ino_t obj)
{
        struct kept_listing *found = NULL;
        pthread_mutex_lock(&kept_lock);
        for (size_t i = 0; i < KEPT && !found; i++)
                if (kept[i] && kept[i]->ino == ino && kept[i]->dev == dev && kept[i]->obj == obj) {
                        found = kept[i];
                        found->users++;
                }
        pthread_mutex_unlock(&kept_lock);
        return found;
}

/* Keep k (taken by the caller) unless a newer listing of its directory is kept: in
 * the directory's place, an empty one, or the oldest listing's. */
static void keep(struct kept_listing *k)
{
        struct kept_listing *old = NULL;
        bool free_old = false;
        pthread_mutex_lock(&kept_lock);
        size_t place = KEPT, oldest = 0;
        for (size_t i = 0; i < KEPT; i++) {
                if (kept[i] && kept[i]->ino == k->ino) {
                        place = i;
                        break;
                }
                if (!kept[i] && place == KEPT)
                        place = i;
                else if (kept[i] && (!kept[oldest] || kept[i]->built < kept[oldest]->built))
                        oldest = i;
        }
        if (place == KEPT)
                place = oldest;
        if (!kept[place] || kept[place]->ino != k->ino || kept[place]->built < k->built) {
                if (kept[place]) {
                        old = kept[place];
                        free_old = unkeep(place);
                }
                kept[place] = k;
                k->in_table = true;
        }
        pthread_mutex_unlock(&kept_lock);
        if (free_old)
                listing_free(old);
}

/* Drop k from the table (it was answered to its end). */
static void unkeep_listing(struct kept_listing *k)
{
        bool free_it = false;
        pthread_mutex_lock(&kept_lock);
        for (size_t i = 0; i < KEPT; i++)
                if (kept[i] == k)
                        free_it = unkeep(i);
        pthread_mutex_unlock(&kept_lock);
        if (free_it)
                listing_free(k);
}

struct sorted_entry {
        uint64_t offset;
        struct dir_entry entry;
};

static int by_offset(const void *a, const void *b)
{
        const struct sorted_entry *x = a, *y = b;
        if (x->offset != y->offset)
                return x->offset < y->offset ? -1 : 1;
        return strcmp(x->entry.name, y->entry.name);
}

/* Read ino's listing (from the directory dev, obj) and sort it by offset: taken, or
 * NULL with *error set. */
static struct kept_listing *read_listing(fuse_req_t req, fuse_ino_t ino, dev_t dev, ino_t obj,
                                         ovl_listing_fn read, int *error)
{
        struct kept_listing *k = calloc(1, sizeof *k);
        if (!k) {
                *error = -ENOMEM;
                return NULL;
        }
        *k = (struct kept_listing){.ino = ino, .dev = dev, .obj = obj, .users = 1};
        k->built = __atomic_fetch_add(&listings_begun, 1, __ATOMIC_RELAXED);
        int r = read(req, ino, &k->snapshot);
        size_t count = k->snapshot.count;
        struct sorted_entry *sorted = r == 0 ? malloc((count ? count : 1) * sizeof *sorted) : NULL;
        k->offsets = sorted ? malloc((count ? count : 1) * sizeof *k->offsets) : NULL;
        if (!k->offsets) {
                free(sorted);
                listing_free(k);
                *error = r < 0 ? r : -ENOMEM;
                return NULL;
        }
        for (size_t i = 0; i < count; i++)
                sorted[i] = (struct sorted_entry){name_offset(k->snapshot.entries[i].name),
                                                  k->snapshot.entries[i]};
        qsort(sorted, count, sizeof *sorted, by_offset);
        for (size_t i = 0; i < count; i++) {
                k->snapshot.entries[i] = sorted[i].entry;
                k->offsets[i] = sorted[i].offset;
        }
        free(sorted);
        return k;
}

void ovl_readdir_unopened(fuse_req_t req, fuse_ino_t ino, const struct stat *dir, size_t size,
                          off_t off, ovl_listing_fn read, ovl_lookup_fn lookup,
                          ovl_forget_fn forget, ovl_listing_ended_fn ended)
{
        struct kept_listing *k = off > 0 ? kept_find(ino, dir->st_dev, dir->st_ino) : NULL;
        if (!k) {
                int r;
                k = read_listing(req, ino, dir->st_dev, dir->st_ino, read, &r);
                if (!k) {
                        (void)fuse_reply_err(req, -r);
                        return;
                }
                keep(k);
        }
        /* The first entry past off. */
        size_t start = 0, end = k->snapshot.count;
        while (start < end) {
                size_t mid = start + (end - start) / 2;
                if (k->offsets[mid] <= (uint64_t)off)
                        start = mid + 1;
                else
                        end = mid;
        }
        if (start == k->snapshot.count) {
                unkeep_listing(k); /* the empty answer at the end: nothing more is asked */
                if (ended) /* before the reply: then the kernel may forget ino */
                        ended(req, ino, k->snapshot.count);
        }
        ovl_reply_listing(req, ino, &k->snapshot, k->offsets, start, size, lookup, forget);
        listing_put(k);
}
