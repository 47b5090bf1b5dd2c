/* lookup.c — what the merged view shows: which layer's object a name shows (S12's
 * collisions, S14's paths to exceptions), its node, and its attributes. */
#include "nodes.h"

#include <fcntl.h>
#include <unistd.h>

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
 * NULL where it has none), else read now. 0 or -errno. */
static int layer_stat(int fd, const struct stat *known, struct stat *st)
{
        if (known) {
                *st = *known;
                return 0;
        }
        return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int node_stat_known(const struct merged *mg, struct mnode *n,
                           const struct stat *const known[2], struct stat *st)
{
        int target = target_layer(mg, n);
        enum layer layer = target >= 0 ? (enum layer)target : shown_layer(n);
        int r;
        if (known[layer]) {
                r = layer_stat(-1, known[layer], st);
        } else {
                int fd = mg_layer_get(n, layer);
                r = fd < 0 ? fd : layer_stat(fd, NULL, st);
                mg_object_put(n, fd);
        }
        if (r)
                return r;
        /* What a reply will tell the kernel of a file (mg_kernel_holds). */
        if (S_ISREG(st->st_mode))
                __atomic_store_n(&n->told, mg_attrs_digest(st), __ATOMIC_RELEASE);
        if (target < 0)
                st->st_mode &= ~(mode_t)0222;
        st->st_ino = shown_ino(mg, n->node.dev, n->node.ino);
        if (S_ISDIR(n->type) && layer_has(n, UPPER) && layer_has(n, LOWER)) {
                struct stat other;
                int fd = known[!layer] ? -1 : mg_layer_get(n, (enum layer) !layer);
                if ((known[!layer] || fd >= 0) && layer_stat(fd, known[!layer], &other) == 0) {
                        if (timespec_before(st->st_mtim, other.st_mtim))
                                st->st_mtim = other.st_mtim;
                        if (timespec_before(st->st_ctim, other.st_ctim))
                                st->st_ctim = other.st_ctim;
                }
                mg_object_put(n, fd);
        }
        return 0;
}

int mg_node_stat(const struct merged *mg, struct mnode *n, struct stat *st)
{
        const struct stat *const none[2] = {NULL, NULL};
        return node_stat_known(mg, n, none, st);
}

/* ---- how long the kernel keeps what it was told -------------------------------------- */

double mg_dir_timeout(const struct mnode *n)
{
        if (!ovl_watch_coherent())
                return OVL_SHORT_TIMEOUT;
        for (int l = 0; l < 2; l++) {
                if (!layer_has(n, (enum layer)l) || (l == UPPER && n->scope.kind == SCOPE_LOWER) ||
                    (l == LOWER && n->scope.kind == SCOPE_UPPER))
                        continue;
                /* A directory moved from V into B is one object in both layers. */
                bool same = layer_has(n, (enum layer) !l) && n->obj[l].dev == n->obj[!l].dev &&
                            n->obj[l].ino == n->obj[!l].ino;
                if (!__atomic_load_n(&n->watched[l], __ATOMIC_ACQUIRE) &&
                    !(same && __atomic_load_n(&n->watched[!l], __ATOMIC_ACQUIRE)))
                        return OVL_SHORT_TIMEOUT;
        }
        return OVL_LONG_TIMEOUT;
}

double mg_attr_timeout(const struct mnode *n)
{
        if (S_ISDIR(n->type))
                return mg_dir_timeout(n);
        /* A file's changes are reported to the watched directory it is in. */
        return ovl_watch_dev_local(n->obj[shown_layer(n)].dev) ? OVL_LONG_TIMEOUT
                                                               : OVL_SHORT_TIMEOUT;
}

/* ---- lookup ------------------------------------------------------------------------------ */

/* Open name in one layer's directory: 0, -ENOENT when that layer lacks it, or -errno. */
static int open_in_layer(int dirfd, const char *name, int *ret_fd, struct stat *st)
{
        *ret_fd = -1;
        if (dirfd < 0)
                return -ENOENT;
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR ? -ENOENT : -errno;
        if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Which layer shows name in the directory parent (its descriptors: dirs): UPPER,
 * LOWER, or -ENOENT / -errno. */
int mg_layer_showing(const struct mnode *parent, const struct dirs *dirs, const char *name,
                     struct stat *st)
{
        enum scope_pick pick = scope_pick(&parent->scope, name);
        int upper = pick == PICK_LOWER ? -1 : dirs->fd[UPPER];
        int lower = pick == PICK_UPPER ? -1 : dirs->fd[LOWER];
        if (pick == PICK_PATH && lower >= 0) {
                /* On the way to an exception the original's directory shows, merged
                 * with B's only if B's is a directory too. */
                struct stat up;
                bool upper_dir = upper >= 0 &&
                                 fstatat(upper, name, &up, AT_SYMLINK_NOFOLLOW) == 0 &&
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
 * descriptors per layer, taken; st: their attributes). 0 or -errno. */
int mg_found_entry(fuse_req_t req, struct mnode *parent, const char *name, int fd[2],
                   const struct stat st[2], struct fuse_entry_param *e)
{
        struct merged *mg = merged_of(req);
        /* What the lookup read stands for the node's objects: no second stat. */
        const struct stat *const known[2] = {fd[UPPER] >= 0 ? &st[UPPER] : NULL,
                                             fd[LOWER] >= 0 ? &st[LOWER] : NULL};
        struct mnode *n = mg_node_get(mg, parent, name, fd, st);
        if (!n)
                return -ENOMEM;
        int r = node_stat_known(mg, n, known, &e->attr);
        if (r) {
                mg_forget_node(req, ino_of(mg, n), 1);
                return r;
        }
        e->ino = ino_of(mg, n);
        return 0;
}

int mg_lookup_entry(fuse_req_t req, fuse_ino_t parent_ino, const char *name,
                    struct fuse_entry_param *e)
{
        struct mnode *parent = node_of(req, parent_ino);
        ovl_entry_init(e, mg_dir_timeout(parent));
        int r = name_check(name);
        if (r)
                return r;
        int fd[2] = {-1, -1};
        struct stat st[2];
        enum scope_pick pick = scope_pick(&parent->scope, name);
        struct dirs d = mg_dirs_get(parent);
        if (pick != PICK_LOWER) {
                r = open_in_layer(d.fd[UPPER], name, &fd[UPPER], &st[UPPER]);
                if (r && r != -ENOENT) {
                        mg_dirs_put(&d);
                        return r;
                }
        }
        /* B's entry wins; only two directories merge. On the way to an exception the
         * original's directory is what must show. */
        if (pick != PICK_UPPER &&
            (fd[UPPER] < 0 || S_ISDIR(st[UPPER].st_mode) || pick == PICK_PATH)) {
                r = open_in_layer(d.fd[LOWER], name, &fd[LOWER], &st[LOWER]);
                if (r && r != -ENOENT && fd[UPPER] < 0) {
                        mg_dirs_put(&d);
                        return r;
                }
                bool both_dirs = fd[LOWER] >= 0 && fd[UPPER] >= 0 && S_ISDIR(st[LOWER].st_mode) &&
                                 S_ISDIR(st[UPPER].st_mode);
                if (fd[LOWER] >= 0 && fd[UPPER] >= 0 && !both_dirs) {
                        int loser = pick == PICK_PATH ? UPPER : LOWER;
                        (void)close(fd[loser]);
                        fd[loser] = -1;
                }
        }
        mg_dirs_put(&d);
        if (fd[UPPER] < 0 && fd[LOWER] < 0)
                return -ENOENT;
        return mg_found_entry(req, parent, name, fd, st, e);
}

void mg_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        struct fuse_entry_param e;
        uint64_t seq = ovl_watch_seq();
        int r = mg_lookup_entry(req, parent, name, &e);
        if (r == -ENOENT) {
                e.ino = 0; /* a negative entry, cached like a positive one */
                ovl_reply_entry(req, &e, seq);
        } else if (r < 0) {
                (void)fuse_reply_err(req, -r);
        } else {
                ovl_reply_entry(req, &e, seq);
        }
}

void mg_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)fi;
        struct stat st;
        int r = mg_node_stat(merged_of(req), node_of(req, ino), &st);
        if (r < 0)
                (void)fuse_reply_err(req, -r);
        else
                (void)fuse_reply_attr(req, &st, mg_attr_timeout(node_of(req, ino)));
}

void mg_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                struct fuse_file_info *fi)
{
        struct merged *mg = merged_of(req);
        struct mnode *n = node_of(req, ino);
        int fd = mg_target_get(mg, n);
        struct stat st;
        int r = fd < 0 ? fd : ovl_apply_setattr(req, ino, fd, attr, to_set, fi);
        mg_object_put(n, fd);
        if (!r)
                r = mg_node_stat(mg, n, &st);
        if (r < 0)
                (void)fuse_reply_err(req, -r);
        else
                (void)fuse_reply_attr(req, &st, mg_attr_timeout(n));
}

void mg_readlink(fuse_req_t req, fuse_ino_t ino)
{
        char buf[PATH_MAX + 1];
        struct mnode *node = node_of(req, ino);
        int fd = mg_shown_get(node);
        if (fd < 0) {
                (void)fuse_reply_err(req, -fd);
                return;
        }
        ssize_t n = readlinkat(fd, "", buf, sizeof buf);
        if (n < 0)
                n = -errno;
        mg_object_put(node, fd);
        if (n < 0) {
                (void)fuse_reply_err(req, (int)-n);
        } else if ((size_t)n >= sizeof buf) {
                (void)fuse_reply_err(req, ENAMETOOLONG);
        } else {
                buf[n] = '\0';
                (void)fuse_reply_readlink(req, buf);
        }
}
