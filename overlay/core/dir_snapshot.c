/* dir_snapshot.c — a directory listing read whole, at a handle's first readdir.
 * Offsets are then indexes, stable for the life of the handle, and entries that the
 * views make up or merge from two directories slot in without offset games. */
#include "core.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dir_snapshot_add(struct dir_snapshot *d, const char *name, ino_t ino, unsigned char type)
{
        if (d->count == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 64;
                struct dir_entry *grown = realloc(d->entries, cap * sizeof *grown);
                if (!grown)
                        return -ENOMEM;
                d->entries = grown;
                d->cap = cap;
        }
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        d->entries[d->count++] = (struct dir_entry){copy, ino, type};
        return 0;
}

struct lazy_listing {
        bool read;
        struct dir_snapshot snapshot;
};

void ovl_opendir_lazy(fuse_req_t req, struct fuse_file_info *fi, bool keep)
{
        struct lazy_listing *l = calloc(1, sizeof *l);
        if (!l) {
                (void)fuse_reply_err(req, ENOMEM);
                return;
        }
        fi->fh = (uint64_t)(uintptr_t)l;
        fi->cache_readdir = keep;
        fi->keep_cache = keep;
        (void)fuse_reply_open(req, fi);
}

const struct dir_snapshot *ovl_listing(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
                                       ovl_listing_fn read)
{
        /* The kernel asks one handle's readdirs one at a time. */
        struct lazy_listing *l = (struct lazy_listing *)(uintptr_t)fi->fh;
        if (!l->read) {
                int r = read(req, ino, &l->snapshot);
                if (r < 0) {
                        (void)fuse_reply_err(req, -r);
                        return NULL;
                }
                l->read = true;
        }
        return &l->snapshot;
}

void ovl_releasedir_lazy(fuse_req_t req, struct fuse_file_info *fi)
{
        struct lazy_listing *l = (struct lazy_listing *)(uintptr_t)fi->fh;
        for (size_t i = 0; i < l->snapshot.count; i++)
                free(l->snapshot.entries[i].name);
        free(l->snapshot.entries);
        free(l);
        (void)fuse_reply_err(req, 0);
}

int ovl_dir_each(int opath_fd, int (*fn)(void *ctx, const struct dirent *de), void *ctx)
{
        _cleanup_close_ int fd = openat(opath_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *dir = fdopendir(fd);
        if (!dir)
                return -errno;
        TAKE_FD(fd); /* the DIR has it */
        int r = 0;
        while (r == 0) {
                errno = 0;
                struct dirent *de = readdir(dir);
                if (!de) {
                        r = -errno;
                        break;
                }
                r = fn(ctx, de);
        }
        (void)closedir(dir);
        return r;
}

void ovl_reply_made(fuse_req_t req, int r, ovl_lookup_fn lookup, fuse_ino_t parent,
                    const char *name)
{
        struct fuse_entry_param e;
        uint64_t seq = ovl_watch_seq();
        if (!r)
                r = lookup(req, parent, name, &e);
        if (r < 0)
                (void)fuse_reply_err(req, -r);
        else
                ovl_reply_entry(req, &e, seq);
}

static bool is_dot_or_dotdot(const char *name)
{
        return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Entries of a readdirplus reply (buf, used bytes) built before a change was
 * notified: the kernel is to ask again about each at its next use. */
static void entries_expire_now(char *buf, size_t used)
{
        for (size_t off = 0; off + FUSE_NAME_OFFSET_DIRENTPLUS <= used;) {
                struct fuse_direntplus *d = (struct fuse_direntplus *)(void *)(buf + off);
                d->entry_out.entry_valid = d->entry_out.attr_valid = 0;
                d->entry_out.entry_valid_nsec = d->entry_out.attr_valid_nsec = 0;
                off += FUSE_DIRENTPLUS_SIZE(d);
        }
}

/* Entries of a readdirplus reply (buf, from byte from to used) taken back: the
 * lookups they counted are given back. */
static void entries_take_back(fuse_req_t req, const char *buf, size_t from, size_t used,
                              ovl_forget_fn forget)
{
        for (size_t off = from; off + FUSE_NAME_OFFSET_DIRENTPLUS <= used;) {
                const struct fuse_direntplus *d = (const void *)(buf + off);
                if (d->entry_out.nodeid)
                        forget(req, d->entry_out.nodeid, 1);
                off += FUSE_DIRENTPLUS_SIZE(d);
        }
}

void ovl_reply_listing(fuse_req_t req, fuse_ino_t ino, const struct dir_snapshot *d,
                       const uint64_t *offsets, size_t start, size_t size, ovl_lookup_fn lookup,
                       ovl_forget_fn forget)
{
        char *buf = malloc(size);
        if (!buf) {
                (void)fuse_reply_err(req, ENOMEM);
                return;
        }
        uint64_t seq = ovl_watch_seq();
        size_t used = 0;
        /* Where the entries sharing the last one's offset begin in buf: such a run
         * goes out whole or not at all, since the next READDIR resumes past it. */
        size_t run_used = 0;
        bool run_first = true; /* the run began with this reply's first entry */
        int r = 0;
        for (size_t i = start; i < d->count; i++) {
                const struct dir_entry *de = &d->entries[i];
                off_t next = offsets ? (off_t)offsets[i] : (off_t)(i + 1);
                if (offsets && (i == start || offsets[i] != offsets[i - 1])) {
                        run_used = used;
                        run_first = i == start;
                }
                size_t n;
                if (!lookup) {
                        struct stat st = {.st_ino = de->ino, .st_mode = (mode_t)de->type << 12};
                        n = fuse_add_direntry(req, buf + used, size - used, de->name, &st, next);
                        if (n > size - used) {
                                if (offsets && !run_first)
                                        used = run_used;
                                break;
                        }
                } else {
                        struct fuse_entry_param e = {
                                .attr = {.st_ino = de->ino, .st_mode = (mode_t)de->type << 12}};
                        if (!is_dot_or_dotdot(de->name)) {
                                r = lookup(req, ino, de->name, &e);
                                if (r == -ENOENT) { /* gone since the listing was read */
                                        r = 0;
                                        continue;
                                }
                                if (r) {
                                        if (offsets && !run_first) {
                                                entries_take_back(req, buf, run_used, used, forget);
                                                used = run_used;
                                        }
                                        break;
                                }
                        }
                        n = fuse_add_direntry_plus(req, buf + used, size - used, de->name, &e,
                                                   next);
                        if (n > size - used) {
                                /* Not sent: give back the lookup it counted. */
                                if (e.ino)
                                        forget(req, e.ino, 1);
                                if (offsets && !run_first) {
                                        entries_take_back(req, buf, run_used, used, forget);
                                        used = run_used;
                                }
                                break;
                        }
                }
                used += n;
        }
        if (r < 0 && used == 0) {
                (void)fuse_reply_err(req, -r);
        } else if (!lookup) {
                (void)fuse_reply_buf(req, buf, used);
        } else {
                double changed = 1;
                ovl_watch_reply_begin(seq, &changed, NULL);
                if (changed == 0)
                        entries_expire_now(buf, used);
                (void)fuse_reply_buf(req, buf, used);
                ovl_watch_reply_end();
        }
        free(buf);
}

void ovl_reply_readdir(fuse_req_t req, fuse_ino_t ino, const struct dir_snapshot *d, size_t size,
                       off_t off, ovl_lookup_fn lookup, ovl_forget_fn forget)
{
        ovl_reply_listing(req, ino, d, NULL, (size_t)off, size, lookup, forget);
}
