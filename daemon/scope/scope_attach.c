/* scope_attach.c — the child that acts inside another mount namespace (S23). */
#include "scope_attach.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "path.h"
#include "util.h"

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

/* What the child says: sent once as one datagram, read whole by the parent, with a
 * descriptor beside it when fd >= 0 (scope_open_place). */
struct verdict {
        int32_t status;     /* 0 or -errno */
        int fd;             /* the child's, sent with SCM_RIGHTS; -1: none */
        int32_t index;      /* the exception a failure is about, or -1 */
        uint32_t type;      /* child_open_parent: what V is (S_IFDIR, S_IFREG, 0: nothing) */
        bool needs_overlay; /* child_attach: V is missing or of another type (S8, S9) */
        uint64_t parent_id; /* child_attach_graft: the overlay's mount */
        uint64_t mount_id;
        uint64_t anchor_id; /* attached by propagation: the mount under it */
        char why[512];
};

static int child_fail(struct verdict *v, int r, const char *fmt, const char *arg)
{
        v->status = r;
        (void)snprintf(v->why, sizeof v->why, fmt, arg, strerror(-r));
        return r;
}

static int open_in_root(int root, const char *path, uint64_t flags)
{
        struct open_how how = {.flags = flags | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
        return fd < 0 ? negative_errno() : fd;
}

/* The namespace's root, or root below it. */
static int child_root(int nsfd, const char *root, struct verdict *v)
{
        if (setns(nsfd, CLONE_NEWNS) < 0)
                return child_fail(v, negative_errno(),
                                  "cannot join the target mount "
                                  "namespace%s: %s",
                                  "");
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return child_fail(v, negative_errno(), "cannot open the target's root%s: %s", "");
        if (!root || !*root)
                return fd;
        int below = open_in_root(fd, root, O_PATH | O_DIRECTORY);
        (void)close(fd);
        if (below < 0)
                return child_fail(v, below, "cannot open the root %s in the target: %s", root);
        return below;
}

static int mount_id_of(int fd, const char *name, int flags, uint64_t *ret, bool *ret_root)
{
        struct statx sx;
        if (statx(fd, name, flags | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID_UNIQUE, &sx) < 0)
                return negative_errno();
        if (!(sx.stx_mask & STATX_MNT_ID_UNIQUE))
                return -EOPNOTSUPP;
        *ret = sx.stx_mnt_id;
        if (ret_root)
                *ret_root = sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
        return 0;
}

/* The root of the mount that holds dir: up through ".." until a mount root. At the
 * namespace's root ".." stays there. */
static int mount_root_of(int dir)
{
        int cur = fcntl(dir, F_DUPFD_CLOEXEC, 3);
        for (int depth = 0; cur >= 0 && depth < 4096; depth++) {
                struct statx sx;
                if (statx(cur, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) < 0)
                        break;
                if (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)
                        return cur;
                int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                (void)close(cur);
                cur = up;
        }
        if (cur >= 0)
                (void)close(cur);
        return -ELOOP;
}

/* Undo \ooo escapes of a mountinfo field in place. */
static void unescape_octal(char *s)
{
        char *out = s;
        for (char *in = s; *in;) {
                if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
                    in[3] >= '0' && in[3] <= '7') {
                        *out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
                        in += 4;
                } else {
                        *out++ = *in++;
                }
        }
        *out = '\0';
}

struct neighbour {
        char *relative; /* below the parent */
        int tree;       /* its clone, with what is mounted below it */
};

/* The mounts of the target below dir (a path of its namespace), topmost of each
 * branch, but none at or below one of skips: cloned (open_tree, recursive), so that they go
 * back on top of the overlay that covers dir. Up to max; their count, or -errno. */
static int clone_neighbours(int proc_self, const char *dir, char *const *skips, size_t skip_count,
                            struct neighbour *out, size_t max)
{
        int fd = openat(proc_self, "mountinfo", O_RDONLY | O_CLOEXEC);
        FILE *f = fd < 0 ? NULL : fdopen(fd, "re");
        if (!f) {
                int r = negative_errno();
                if (fd >= 0)
                        (void)close(fd);
                return r;
        }
        size_t dir_len = strlen(dir), count = 0;
        char *line = NULL;
        size_t cap = 0;
        int r = 0;
        /* Mount points below dir, with their ids and parents' ids. */
        struct below {
                unsigned long id, parent;
                char *point;
        } *found = NULL;
        size_t found_count = 0;
        while (r >= 0 && getline(&line, &cap, f) > 0) {
                unsigned long id, parent;
                char point[4096];
                if (sscanf(line, "%lu %lu %*s %*s %4095s", &id, &parent, point) != 3)
                        continue;
                unescape_octal(point);
                if (strncmp(point, dir, dir_len) != 0 || point[dir_len] != '/')
                        continue;
                struct below *grown = realloc(found, (found_count + 1) * sizeof *grown);
                char *copy = strdup(point);
                if (!grown || !copy) {
                        free(copy);
                        if (grown)
                                found = grown;
                        r = -ENOMEM;
                        break;
                }
                found = grown;
                found[found_count++] = (struct below){id, parent, copy};
        }
        free(line);
        (void)fclose(f);
        for (size_t i = 0; r >= 0 && i < found_count; i++) {
                bool nested = false;
                for (size_t j = 0; j < found_count; j++)
                        nested |= found[j].id == found[i].parent;
                const char *p = found[i].point;
                bool skipped = false;
                for (size_t k = 0; k < skip_count && !skipped; k++) {
                        size_t len = strlen(skips[k]);
                        skipped = strncmp(p, skips[k], len) == 0 && (!p[len] || p[len] == '/');
                }
                if (nested || skipped)
                        continue; /* cloned with its parent, or covered by the link */
                if (count == max) {
                        r = -E2BIG;
                        break;
                }
                struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                                       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
                _cleanup_close_ int at = (int)syscall(SYS_openat2, AT_FDCWD, p, &how, sizeof how);
                int tree = at < 0 ? -1
                                  : open_tree(at, "",
                                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
                                                      AT_EMPTY_PATH);
                char *relative = strdup(p + dir_len + 1);
                if (tree < 0 || !relative) {
                        r = tree < 0 ? negative_errno() : -ENOMEM;
                        if (tree >= 0)
                                (void)close(tree);
                        free(relative);
                        break;
                }
                out[count++] = (struct neighbour){relative, tree};
        }
        for (size_t i = 0; i < found_count; i++)
                free(found[i].point);
        free(found);
        if (r < 0) {
                for (size_t i = 0; i < count; i++) {
                        free(out[i].relative);
                        (void)close(out[i].tree);
                }
                return r;
        }
        return (int)count;
}

static int attach_below(int dir, const char *relative, int tree)
{
        struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                          RESOLVE_NO_MAGICLINKS};
        _cleanup_close_ int place = (int)syscall(SYS_openat2, dir, relative, &how, sizeof how);
        if (place < 0)
                return negative_errno();
        return move_mount(tree, "", place, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
                               0
                       ? negative_errno()
                       : 0;
}

#define MAX_NEIGHBOURS 256

/* A throwaway mount namespace of the child's own, made from bindlinkd's (so owned by
 * its user namespace) and private throughout: nothing mounted in it reaches the
 * host. Its descriptor; it ends with the child. */
static int stage_namespace(struct verdict *v)
{
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return child_fail(v, negative_errno(),
                                  "cannot make a staging mount namespace%s: %s", "");
        int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        return fd < 0 ? child_fail(v, negative_errno(), "cannot open the staging namespace%s: %s",
                                   "")
                      : fd;
}

/* Attach tree on place by propagation from the staging namespace, so that the kernel
 * locks it as it locks every mount that reaches a less privileged user namespace
 * (read-only, nosuid, nodev, noexec, atime stay as set; the container's root cannot
 * change them): an anchor, a bind of place on itself, is made shared and a peer of
 * it is attached in the staging namespace; tree, attached on that peer, propagates to
 * the anchor. Then both are made private again. The anchor's id in anchor_id. */
struct movers;
static int move_movers_by_propagation(int place, const char *virtual_path, int top,
                                      struct movers *movers, struct verdict *v);

static int attach_by_propagation(int nsfd, int stage, int rootfd, const char *virtual_path,
                                 int place, int tree, struct neighbour *neighbours, int count,
                                 struct movers *movers, struct verdict *v)
{
        _cleanup_close_ int anchor =
                open_tree(place, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        struct mount_attr shared = {.propagation = MS_SHARED};
        if (anchor < 0 ||
            move_mount(anchor, "", place, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
                    0 ||
            mount_setattr(anchor, "", AT_EMPTY_PATH, &shared, sizeof shared) < 0)
                return child_fail(v, negative_errno(),
                                  "cannot make an anchor on %s in the target: %s", virtual_path);
        int r = mount_id_of(anchor, "", AT_EMPTY_PATH, &v->anchor_id, NULL);
        if (r < 0)
                return child_fail(v, r, "cannot read the id of the anchor on %s: %s", virtual_path);
        _cleanup_close_ int peer =
                open_tree(anchor, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (peer < 0)
                return child_fail(v, negative_errno(), "cannot copy the anchor on %s: %s",
                                  virtual_path);
        if (setns(stage, CLONE_NEWNS) < 0 ||
            move_mount(peer, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
            move_mount(tree, "", peer, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return child_fail(v, negative_errno(),
                                  "cannot propagate the link to %s in the target: %s",
                                  virtual_path);
        /* A view's neighbours go on it here, and reach the target with it. */
        for (int i = 0; i < count; i++) {
                r = attach_below(tree, neighbours[i].relative, neighbours[i].tree);
                if (r < 0)
                        return child_fail(v, r, "cannot put a mount back below %s: %s",
                                          virtual_path);
        }
        if (setns(nsfd, CLONE_NEWNS) < 0)
                return child_fail(v, negative_errno(), "cannot join the target again%s: %s", "");
        /* What the anchor shows now: the propagated copy, unless the container
         * mounted on V at the same moment (then refused). */
        _cleanup_close_ int top = open_in_root(rootfd, virtual_path, O_PATH | O_NOFOLLOW);
        bool is_root = false;
        r = top < 0 ? top : mount_id_of(top, "", AT_EMPTY_PATH, &v->mount_id, &is_root);
        if (r >= 0 && (!is_root || v->mount_id == v->anchor_id))
                r = -EBUSY;
        struct mount_attr private = {.propagation = MS_PRIVATE};
        if (r >= 0 &&
            (mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &private, sizeof private) < 0 ||
             mount_setattr(anchor, "", AT_EMPTY_PATH, &private, sizeof private) < 0))
                r = negative_errno();
        if (r < 0)
                return child_fail(v, r, "the link did not reach %s in the target: %s",
                                  virtual_path);
        return move_movers_by_propagation(place, virtual_path, top, movers, v);
}

/* V's directory in the target, for a view to show it (sent to the daemon), once each
 * exception is seen to exist there. */
static int child_open_place(int nsfd, const char *root, const char *virtual_path,
                            char *const *exceptions, size_t exception_count, struct verdict *v)
{
        _cleanup_close_ int rootfd = child_root(nsfd, root, v);
        if (rootfd < 0)
                return rootfd;
        int place = open_in_root(rootfd, virtual_path, O_PATH | O_NOFOLLOW | O_DIRECTORY);
        if (place == -ENOENT) {
                _cleanup_free_ char *up = NULL;
                _cleanup_close_ int parent_dir = -1;
                if (path_parent(virtual_path, &up) >= 0 &&
                    (parent_dir = open_in_root(rootfd, up, O_PATH | O_DIRECTORY)) >= 0)
                        return child_fail(v, -EOPNOTSUPP,
                                          "%s does not exist in the target, and an anchorless "
                                          "link in a target namespace is not supported yet "
                                          "(%s)",
                                          virtual_path);
                return child_fail(v, -ENOENT, "the parent of %s does not exist in the target: %s",
                                  virtual_path);
        }
        if (place < 0)
                return child_fail(v, place,
                                  place == -ENOTDIR ? "%s is not a directory in the target: %s"
                                                    : "cannot open %s in the target: %s",
                                  virtual_path);
        for (size_t i = 0; i < exception_count; i++) {
                int e = open_in_root(rootfd, exceptions[i], O_PATH | O_NOFOLLOW);
                if (e < 0) {
                        (void)close(place);
                        v->index = (int32_t)i;
                        return child_fail(v, e,
                                          e == -ENOENT ? "exception %s does not exist in the "
                                                         "target (%s)"
                                                       : "cannot open exception %s in the "
                                                         "target: %s",
                                          exceptions[i]);
                }
                (void)close(e);
        }
        /* A copy of V's mount alone, rooted at V: the view's server sees V's own
         * entries, none of the mounts below it (child_attach puts those back on
         * the view). */
        v->fd = open_tree(place, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        int r = v->fd < 0 ? negative_errno() : 0;
        (void)close(place);
        if (r < 0)
                return child_fail(v, r, "cannot copy the mount of %s in the target: %s",
                                  virtual_path);
        v->status = 0;
        return 0;
}

/* S16: the mounts of links made below V before it, moved onto the same places in
 * the link's tree once it is attached (a moved mount keeps its id, so their records
 * stay true). Each is opened and checked to be its link's mount, and its place in
 * the tree to exist with the same type, before anything is attached. */
struct movers {
        const struct scope_mover *list;
        size_t count;
        int fd[SCOPE_MAX_MOVERS];    /* the mounts */
        int place[SCOPE_MAX_MOVERS]; /* their places in the tree */
};

static void movers_close(struct movers *m)
{
        for (size_t i = 0; i < m->count; i++) {
                if (m->fd[i] >= 0)
                        (void)close(m->fd[i]);
                if (m->place[i] >= 0)
                        (void)close(m->place[i]);
        }
}

/* The path of dir in the namespace this process is in (read through its own /proc
 * directory proc_self), as mountinfo names mount points: 0, or -errno. */
static int path_in_namespace(int proc_self, int dir, char real[PATH_MAX])
{
        char proc[64];
        (void)snprintf(proc, sizeof proc, "fd/%d", dir);
        ssize_t n = readlinkat(proc_self, proc, real, PATH_MAX - 1);
        if (n <= 0)
                return n < 0 ? negative_errno() : -EIO;
        real[n] = '\0';
        return 0;
}

/* The target's mounts below real (clone_neighbours) but at or below also (NULL: none)
 * and the places the movers come from, which move instead. Their count, or -errno. */
static int neighbours_but(int proc_self, const char *real, const char *also,
                          const struct movers *movers, struct neighbour *out)
{
        char *skips[1 + SCOPE_MAX_MOVERS];
        size_t skip_count = 0;
        if (also && !(skips[skip_count++] = strdup(also)))
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; r >= 0 && i < movers->count; i++)
                if (path_join(real, movers->list[i].relative, &skips[skip_count]) < 0)
                        r = -ENOMEM;
                else
                        skip_count++;
        if (r >= 0)
                r = clone_neighbours(proc_self, real, skips, skip_count, out, MAX_NEIGHBOURS);
        for (size_t i = 0; i < skip_count; i++)
                free(skips[i]);
        return r;
}

static void neighbours_free(struct neighbour *neighbours, int count)
{
        for (int i = 0; i < count; i++) {
                free(neighbours[i].relative);
                (void)close(neighbours[i].tree);
        }
}

static int movers_open(struct movers *m, int rootfd, const char *virtual_path, int tree,
                       struct verdict *v)
{
        for (size_t i = 0; i < m->count; i++)
                m->fd[i] = m->place[i] = -1;
        for (size_t i = 0; i < m->count; i++) {
                const struct scope_mover *mv = &m->list[i];
                _cleanup_free_ char *path = NULL;
                if (path_join(virtual_path, mv->relative, &path) < 0)
                        return child_fail(v, -ENOMEM, "out of memory%s: %s", "");
                uint64_t id;
                bool is_root = false;
                m->fd[i] = open_in_root(rootfd, path, O_PATH | O_NOFOLLOW);
                int r = m->fd[i] < 0 ? m->fd[i]
                                     : mount_id_of(m->fd[i], "", AT_EMPTY_PATH, &id, &is_root);
                if (r >= 0 && (!is_root || id != mv->mount_id))
                        r = -ESTALE;
                if (r < 0)
                        return child_fail(v, r, "the link on %s is not as it was made: %s", path);
                struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                                  RESOLVE_NO_MAGICLINKS};
                m->place[i] = (int)syscall(SYS_openat2, tree, mv->relative, &how, sizeof how);
                struct stat a, b;
                if (m->place[i] < 0) {
                        int r = negative_errno();
                        (void)child_fail(v, r,
                                         "the link on %s has no place in the new link's tree "
                                         "(links made below it become anchorless there, which "
                                         "is not done in a target yet): %s",
                                         path);
                        v->status = r == -ENOENT ? -EOPNOTSUPP : r;
                        return v->status;
                }
                if (fstat(m->fd[i], &a) < 0 || fstat(m->place[i], &b) < 0)
                        return child_fail(v, negative_errno(), "cannot stat %s: %s", path);
                if (S_ISDIR(a.st_mode) != S_ISDIR(b.st_mode))
                        return child_fail(v, -EOPNOTSUPP,
                                          "the new link's tree has another type where the link "
                                          "on %s is (not done in a target yet): %s",
                                          path);
        }
        return 0;
}

#ifndef MOVE_MOUNT_BENEATH
#define MOVE_MOUNT_BENEATH 0x00000200
#endif

/* By propagation, a link below V has its anchor under its top mount: once the new
 * link's copy is in the target (top) and private, each one's top moves onto its
 * place in it, then the anchor, uncovered (reached from V's directory under the new
 * link), moves beneath it there
 * (MOVE_MOUNT_BENEATH, Linux 6.5), so that both keep their ids and their order. */
static int move_movers_by_propagation(int place_v, const char *virtual_path, int top,
                                      struct movers *movers, struct verdict *v)
{
        struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                          RESOLVE_NO_MAGICLINKS};
        for (size_t i = 0; i < movers->count; i++) {
                const struct scope_mover *mv = &movers->list[i];
                _cleanup_free_ char *path = NULL;
                if (path_join(virtual_path, mv->relative, &path) < 0)
                        return child_fail(v, -ENOMEM, "out of memory%s: %s", "");
                _cleanup_close_ int place =
                        (int)syscall(SYS_openat2, top, mv->relative, &how, sizeof how);
                if (place < 0 || move_mount(movers->fd[i], "", place, "",
                                            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return child_fail(v, negative_errno(),
                                          "cannot move the link on %s onto the new link: %s", path);
                if (!mv->anchor_id)
                        continue;
                /* Reached from V's own directory, under the new link (place_v was
                 * opened before it came). */
                _cleanup_close_ int anchor =
                        (int)syscall(SYS_openat2, place_v, mv->relative, &how, sizeof how);
                if (anchor < 0)
                        anchor = negative_errno();
                uint64_t id;
                bool is_root = false;
                int r = anchor < 0 ? anchor : mount_id_of(anchor, "", AT_EMPTY_PATH, &id, &is_root);
                if (r >= 0 && (!is_root || id != mv->anchor_id))
                        r = -ESTALE;
                /* Its place again: now the moved top's root, beneath which it goes. */
                _cleanup_close_ int moved =
                        r < 0 ? -1 : (int)syscall(SYS_openat2, top, mv->relative, &how, sizeof how);
                if (r >= 0 &&
                    (moved < 0 || move_mount(anchor, "", moved, "",
                                             MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH |
                                                     MOVE_MOUNT_BENEATH) < 0))
                        r = negative_errno();
                if (r < 0)
                        return child_fail(v, r, "cannot move the anchor of the link on %s: %s",
                                          path);
        }
        return 0;
}

static int child_attach(int nsfd, const char *root, const char *virtual_path, int tree, bool dir,
                        bool by_propagation, const struct stat *expect, struct movers *movers,
                        struct verdict *v)
{
        /* A view: this process's /proc in bindlinkd's procfs (child_attach_graft says
         * why), to find the mounts below V. A bind link needs none. */
        _cleanup_close_ int proc_self =
                expect ? open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
        if (expect && proc_self < 0)
                return child_fail(v, negative_errno(), "cannot open /proc/self%s: %s", "");
        _cleanup_close_ int stage = -1;
        if (by_propagation && (stage = stage_namespace(v)) < 0)
                return stage;
        _cleanup_close_ int rootfd = child_root(nsfd, root, v);
        if (rootfd < 0)
                return rootfd;
        /* The object itself, not followed: a symlink at V is refused, and what is
         * attached on is exactly what was checked (no name looked up again). */
        _cleanup_close_ int place = open_in_root(rootfd, virtual_path, O_PATH | O_NOFOLLOW);
        if (place == -ENOENT) {
                /* Its parent there: an anchorless link (S8), which needs an overlay. */
                _cleanup_free_ char *up = NULL;
                _cleanup_close_ int parent_dir = -1;
                if (path_parent(virtual_path, &up) >= 0 &&
                    (parent_dir = open_in_root(rootfd, up, O_PATH | O_DIRECTORY)) >= 0) {
                        v->needs_overlay = true;
                        return child_fail(v, -EOPNOTSUPP,
                                          "%s does not exist in the target: an anchorless "
                                          "link (%s)",
                                          virtual_path);
                }
                return child_fail(v, -ENOENT, "the parent of %s does not exist in the target: %s",
                                  virtual_path);
        }
        if (place < 0)
                return child_fail(v, place, "cannot open %s in the target: %s", virtual_path);
        struct stat st;
        if (fstat(place, &st) < 0)
                return child_fail(v, negative_errno(), "cannot stat %s in the target: %s",
                                  virtual_path);
        if (S_ISLNK(st.st_mode) && !expect) {
                v->needs_overlay = true;
                return child_fail(v, -EOPNOTSUPP, "%s is a symbolic link in the target (%s)",
                                  virtual_path);
        }
        /* The directory a view was made of must be the one it goes on. */
        if (expect && (st.st_dev != expect->st_dev || st.st_ino != expect->st_ino))
                return child_fail(v, -ESTALE, "%s changed in the target while the link was made%s",
                                  virtual_path);
        if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
                v->needs_overlay = !expect;
                return child_fail(v, -EOPNOTSUPP,
                                  dir ? "%s is not a directory in the target: a directory "
                                        "over a file (%s)"
                                      : "%s is not a regular file in the target: a file over "
                                        "another object (%s)",
                                  virtual_path);
        }
        /* Attached below a shared mount, the link would propagate to its peers, the
         * host's among them: the mount becomes a slave (the host's mounts still
         * reach the container; the container's no longer go out). */
        _cleanup_free_ char *parent_path = NULL;
        if (path_parent(virtual_path, &parent_path) < 0)
                return child_fail(v, -ENOMEM, "out of memory%s: %s", "");
        _cleanup_close_ int parent_dir = open_in_root(rootfd, parent_path, O_PATH | O_DIRECTORY);
        if (parent_dir < 0)
                return child_fail(v, parent_dir, "cannot open %s in the target: %s", parent_path);
        _cleanup_close_ int holder = mount_root_of(parent_dir);
        struct mount_attr slave = {.propagation = MS_SLAVE};
        if (holder < 0 || mount_setattr(holder, "", AT_EMPTY_PATH, &slave, sizeof slave) < 0)
                return child_fail(v, holder < 0 ? holder : negative_errno(),
                                  "cannot keep the mount holding %s from propagating out of "
                                  "the target: %s",
                                  parent_path);
        /* A view (made over a copy of V's mount alone: its server sees no mount below
         * V) covers the target's mounts below V: copies of them go back on it, but
         * for the links below, which move onto it. */
        struct neighbour neighbours[MAX_NEIGHBOURS];
        int count = 0;
        if (expect) {
                char real[PATH_MAX];
                int r = path_in_namespace(proc_self, place, real);
                if (r < 0)
                        return child_fail(v, r, "cannot name %s in the target: %s", virtual_path);
                count = neighbours_but(proc_self, real, NULL, movers, neighbours);
                if (count < 0)
                        return child_fail(v, count, "cannot copy the mounts below %s: %s",
                                          virtual_path);
        }
        int r;
        if (by_propagation) {
                r = movers_open(movers, rootfd, virtual_path, tree, v);
                if (r >= 0)
                        r = attach_by_propagation(nsfd, stage, rootfd, virtual_path, place, tree,
                                                  neighbours, count, movers, v);
        } else {
                r = movers_open(movers, rootfd, virtual_path, tree, v);
                if (r >= 0 && move_mount(tree, "", place, "",
                                         MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        r = child_fail(v, negative_errno(), "cannot mount on %s in the target: %s",
                                       virtual_path);
                for (size_t i = 0; r >= 0 && i < movers->count; i++)
                        if (move_mount(movers->fd[i], "", movers->place[i], "",
                                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                                /* Left under the new link: it shows through again when
                                 * the new link goes. */
                                r = child_fail(v, negative_errno(),
                                               "cannot move the link below %s onto it: %s",
                                               virtual_path);
                for (int i = 0; r >= 0 && i < count; i++)
                        if ((r = attach_below(tree, neighbours[i].relative, neighbours[i].tree)) <
                            0)
                                (void)child_fail(v, r, "cannot put a mount back below %s: %s",
                                                 virtual_path);
                if (r >= 0 && (r = mount_id_of(tree, "", AT_EMPTY_PATH, &v->mount_id, NULL)) < 0)
                        (void)child_fail(v, r, "cannot read the id of the mount on %s: %s",
                                         virtual_path);
        }
        neighbours_free(neighbours, count);
        if (r < 0)
                return r;
        v->status = 0;
        return 0;
}

/* ---- a link that needs an overlay of its parent (S8, S9) ------------------------ */

/* V's parent in the target, for the overlay that makes V's entry (sent to the
 * daemon), and what V is there now: S_IFDIR, S_IFREG (any other object), or 0 (none).
 * The parent must not be the target's root (processes there have it as their root
 * directory and would not see a mount on it). */
static int child_open_parent(int nsfd, const char *root, const char *virtual_path,
                             struct verdict *v)
{
        _cleanup_close_ int rootfd = child_root(nsfd, root, v);
        if (rootfd < 0)
                return rootfd;
        _cleanup_free_ char *up = NULL;
        if (path_parent(virtual_path, &up) < 0)
                return child_fail(v, -ENOMEM, "out of memory%s: %s", "");
        if (strcmp(up, "/") == 0 && (!root || !*root))
                return child_fail(v, -EOPNOTSUPP,
                                  "%s is at the target's root, whose overlay its processes "
                                  "would not see: not supported (%s)",
                                  virtual_path);
        int parent = open_in_root(rootfd, up, O_PATH | O_DIRECTORY | O_NOFOLLOW);
        if (parent < 0)
                return child_fail(v, parent == -ENOENT ? -ENOENT : parent,
                                  "cannot open the parent of %s in the target: %s", virtual_path);
        struct stat st;
        if (fstatat(parent, path_last(virtual_path), &st, AT_SYMLINK_NOFOLLOW) == 0)
                v->type = S_ISDIR(st.st_mode) ? S_IFDIR : S_IFREG;
        else if (errno == ENOENT)
                v->type = 0;
        else {
                int r = negative_errno();
                (void)close(parent);
                return child_fail(v, r, "cannot look at %s in the target: %s", virtual_path);
        }
        /* As for a view (child_open_place): a copy of the parent's mount alone. */
        v->fd = open_tree(parent, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        int r = v->fd < 0 ? negative_errno() : 0;
        (void)close(parent);
        if (r < 0)
                return child_fail(v, r, "cannot copy the mount of the parent of %s: %s",
                                  virtual_path);
        v->status = 0;
        return 0;
}

/* The overlay on onto, the neighbours put back on it, tree on V's entry in it. */
static int assemble(int onto, int overlay, struct neighbour *neighbours, int count,
                    const char *virtual_path, int tree, struct verdict *v)
{
        if (move_mount(overlay, "", onto, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
            0)
                return child_fail(v, negative_errno(),
                                  "cannot mount the overlay on the parent of %s: %s", virtual_path);
        for (int i = 0; i < count; i++) {
                int r = attach_below(overlay, neighbours[i].relative, neighbours[i].tree);
                if (r < 0)
                        return child_fail(v, r,
                                          "cannot put a mount back below the parent of %s: %s",
                                          virtual_path);
        }
        int r = attach_below(overlay, path_last(virtual_path), tree);
        return r < 0 ? child_fail(v, r, "cannot mount on %s in the target: %s", virtual_path) : 0;
}

/* By propagation (a target of another user namespace, as attach_by_propagation): an
 * anchor on the parent, shared, and its peer in the staging namespace, where the
 * overlay and what goes on it are attached; the kernel copies them onto the anchor,
 * locked. Then the target's copies are made private and their ids read. */
static int assemble_by_propagation(int nsfd, int stage, int rootfd, const char *up, int parent,
                                   int overlay, struct neighbour *neighbours, int count,
                                   const char *virtual_path, int tree, struct movers *movers,
                                   struct verdict *v)
{
        _cleanup_close_ int anchor =
                open_tree(parent, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        struct mount_attr shared = {.propagation = MS_SHARED};
        if (anchor < 0 ||
            move_mount(anchor, "", parent, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
                    0 ||
            mount_setattr(anchor, "", AT_EMPTY_PATH, &shared, sizeof shared) < 0)
                return child_fail(v, negative_errno(),
                                  "cannot make an anchor on the parent of %s: %s", virtual_path);
        int r = mount_id_of(anchor, "", AT_EMPTY_PATH, &v->anchor_id, NULL);
        _cleanup_close_ int peer =
                r < 0 ? -1
                      : open_tree(anchor, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (r < 0 || peer < 0)
                return child_fail(v, r < 0 ? r : negative_errno(),
                                  "cannot copy the anchor on the parent of %s: %s", virtual_path);
        if (setns(stage, CLONE_NEWNS) < 0 ||
            move_mount(peer, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return child_fail(v, negative_errno(), "cannot stage the overlay of %s: %s",
                                  virtual_path);
        r = assemble(peer, overlay, neighbours, count, virtual_path, tree, v);
        if (setns(nsfd, CLONE_NEWNS) < 0)
                return child_fail(v, negative_errno(), "cannot join the target again%s: %s", "");
        if (r < 0)
                return r;
        _cleanup_close_ int top_parent =
                open_in_root(rootfd, up, O_PATH | O_DIRECTORY | O_NOFOLLOW);
        _cleanup_close_ int top = open_in_root(rootfd, virtual_path, O_PATH | O_NOFOLLOW);
        bool parent_root = false, root = false;
        r = top_parent < 0
                    ? top_parent
                    : mount_id_of(top_parent, "", AT_EMPTY_PATH, &v->parent_id, &parent_root);
        if (r >= 0)
                r = top < 0 ? top : mount_id_of(top, "", AT_EMPTY_PATH, &v->mount_id, &root);
        if (r >= 0 && (!parent_root || !root || v->parent_id == v->anchor_id))
                r = -EBUSY;
        struct mount_attr private = {.propagation = MS_PRIVATE};
        if (r >= 0 && (mount_setattr(top_parent, "", AT_EMPTY_PATH | AT_RECURSIVE, &private,
                                     sizeof private) < 0 ||
                       mount_setattr(anchor, "", AT_EMPTY_PATH, &private, sizeof private) < 0))
                r = negative_errno();
        if (r < 0)
                return child_fail(v, r, "the link did not reach %s in the target: %s",
                                  virtual_path);
        /* The links made in the parent before, onto the overlay (S16). */
        return move_movers_by_propagation(parent, up, top_parent, movers, v);
}

/* Attach overlay (the parent's overlay, made over *expect) on V's parent, put back
 * on it the mounts that were below the parent (but at V), and attach tree on V's
 * entry in it. The link's mount id in mount_id, the overlay's in parent_id (and the
 * anchor's, by propagation, in anchor_id). */
static int child_attach_graft(int nsfd, const char *root, const char *virtual_path, int overlay,
                              int tree, const struct stat *expect, bool by_propagation,
                              struct movers *movers, struct verdict *v)
{
        /* This process's /proc directory, in bindlinkd's procfs: the target's own
         * /proc (a procfs of its pid namespace, where this process is not) would not
         * know it. Read after joining, it tells of the target's namespace. */
        _cleanup_close_ int proc_self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc_self < 0)
                return child_fail(v, negative_errno(), "cannot open /proc/self%s: %s", "");
        _cleanup_close_ int stage = -1;
        if (by_propagation && (stage = stage_namespace(v)) < 0)
                return stage;
        _cleanup_close_ int rootfd = child_root(nsfd, root, v);
        if (rootfd < 0)
                return rootfd;
        _cleanup_free_ char *up = NULL;
        if (path_parent(virtual_path, &up) < 0)
                return child_fail(v, -ENOMEM, "out of memory%s: %s", "");
        _cleanup_close_ int parent = open_in_root(rootfd, up, O_PATH | O_DIRECTORY | O_NOFOLLOW);
        struct stat st;
        if (parent < 0 || fstat(parent, &st) < 0)
                return child_fail(v, parent < 0 ? parent : negative_errno(),
                                  "cannot open the parent of %s in the target: %s", virtual_path);
        if (st.st_dev != expect->st_dev || st.st_ino != expect->st_ino)
                return child_fail(v, -ESTALE,
                                  "the parent of %s changed in the target while the link was "
                                  "made%s",
                                  virtual_path);
        /* Its path in the namespace, as mountinfo names mount points. */
        char real[PATH_MAX];
        int named = path_in_namespace(proc_self, parent, real);
        if (named < 0)
                return child_fail(v, named, "cannot name the parent of %s in the target: %s",
                                  virtual_path);
        _cleanup_free_ char *real_v = NULL;
        if (path_join(real, path_last(virtual_path), &real_v) < 0)
                return child_fail(v, -ENOMEM, "out of memory%s: %s", "");
        /* What the parent is now: whatever goes above it on a failure comes off. */
        uint64_t before;
        bool ignored;
        _cleanup_close_ int grand = openat(parent, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        /* Its name in its own parent: the last of its path in the namespace (not of
         * up, which is "/" for the root given, a container's root before pivot_root). */
        const char *pname = path_last(real);
        if (grand < 0 || mount_id_of(grand, pname, 0, &before, &ignored) < 0)
                return child_fail(v, grand < 0 ? negative_errno() : -EIO,
                                  "cannot look at the parent of %s: %s", virtual_path);
        struct neighbour neighbours[MAX_NEIGHBOURS];
        /* Not V's place, nor the links made in the parent before, which move. */
        int count = neighbours_but(proc_self, real, real_v, movers, neighbours);
        if (count < 0)
                return child_fail(v, count, "cannot copy the mounts below the parent of %s: %s",
                                  virtual_path);
        int r;
        if (by_propagation) {
                r = movers_open(movers, rootfd, up, overlay, v);
                if (r >= 0)
                        r = assemble_by_propagation(nsfd, stage, rootfd, up, parent, overlay,
                                                    neighbours, count, virtual_path, tree, movers,
                                                    v);
        } else {
                r = movers_open(movers, rootfd, up, overlay, v);
                if (r >= 0)
                        r = assemble(parent, overlay, neighbours, count, virtual_path, tree, v);
                for (size_t i = 0; r >= 0 && i < movers->count; i++)
                        if (move_mount(movers->fd[i], "", movers->place[i], "",
                                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                                r = child_fail(v, negative_errno(),
                                               "cannot move a link in the parent of %s onto its "
                                               "overlay: %s",
                                               virtual_path);
                if (r >= 0 && (r = mount_id_of(tree, "", AT_EMPTY_PATH, &v->mount_id, NULL)) >= 0)
                        r = mount_id_of(overlay, "", AT_EMPTY_PATH, &v->parent_id, NULL);
        }
        neighbours_free(neighbours, count);
        if (r < 0) {
                /* Whatever was attached on the parent comes off again (the overlay and
                 * what it carries, an anchor), down to what was there before. */
                uint64_t top;
                bool is_root;
                for (int i = 0;
                     i < 3 && fchdir(grand) == 0 &&
                     mount_id_of(grand, pname, 0, &top, &is_root) >= 0 && is_root && top != before;
                     i++)
                        (void)umount2(pname, MNT_DETACH | UMOUNT_NOFOLLOW);
                if (v->status == 0)
                        v->status = r;
                return r;
        }
        v->status = 0;
        return 0;
}

static int child_detach(int nsfd, const char *root, const char *virtual_path, uint64_t mount_id,
                        uint64_t anchor_id, uint64_t parent_id, struct verdict *v)
{
        /* A link on its parent's overlay: this process's /proc in bindlinkd's procfs,
         * as in child_attach_graft, to name the parent. Others need none. */
        _cleanup_close_ int proc_self =
                parent_id ? open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
        if (parent_id && proc_self < 0)
                return child_fail(v, negative_errno(), "cannot open /proc/self%s: %s", "");
        _cleanup_close_ int rootfd = child_root(nsfd, root, v);
        if (rootfd < 0)
                return rootfd;
        _cleanup_free_ char *parent_path = NULL;
        const char *name = strrchr(virtual_path, '/');
        if (!name || !name[1] || path_parent(virtual_path, &parent_path) < 0)
                return child_fail(v, -EINVAL, "%s has no parent: %s", virtual_path);
        name++;
        _cleanup_close_ int parent = open_in_root(rootfd, parent_path, O_PATH | O_DIRECTORY);
        uint64_t top;
        bool is_root = false;
        int r = parent < 0 ? parent : mount_id_of(parent, name, 0, &top, &is_root);
        bool gone = r == -ENOENT || r == -ENOTDIR || (r >= 0 && (!is_root || top != mount_id));
        if (gone && !parent_id)
                return child_fail(v, -ESTALE,
                                  "%s no longer shows the link's mount in the "
                                  "target: %s",
                                  virtual_path);
        if (r < 0 && !gone)
                return child_fail(v, r, "cannot look at %s in the target: %s", virtual_path);
        /* By a name relative to its parent, not followed; the mount was just seen. (A
         * link on a parent's overlay that the container unmounted itself still has the
         * overlay to take away.) */
        if (!gone && (fchdir(parent) < 0 || umount2(name, MNT_DETACH | UMOUNT_NOFOLLOW) < 0))
                return child_fail(v, negative_errno(), "cannot unmount %s in the target: %s",
                                  virtual_path);
        /* The anchor it was propagated onto, if V shows it now (the container may
         * have taken it away itself). */
        if (anchor_id && mount_id_of(parent, name, 0, &top, &is_root) >= 0 && is_root &&
            top == anchor_id && umount2(name, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                return child_fail(v, negative_errno(),
                                  "cannot unmount the anchor on %s in the target: %s",
                                  virtual_path);
        /* The overlay on V's parent that made V's entry (and what it carried). */
        if (parent_id) {
                _cleanup_close_ int grand = openat(parent, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                /* Its name in its own parent (for a root given, not "/"). */
                char real[PATH_MAX];
                int named = path_in_namespace(proc_self, parent, real);
                if (named < 0)
                        return child_fail(v, named,
                                          "cannot name the parent of %s in the target: %s",
                                          virtual_path);
                const char *parent_name = path_last(real);
                if (grand >= 0 && mount_id_of(grand, parent_name, 0, &top, &is_root) >= 0 &&
                    is_root && top == parent_id &&
                    (fchdir(grand) < 0 || umount2(parent_name, MNT_DETACH | UMOUNT_NOFOLLOW) < 0))
                        return child_fail(v, negative_errno(),
                                          "cannot unmount the overlay on the parent of %s: %s",
                                          virtual_path);
                /* And the anchor it was propagated onto. */
                if (grand >= 0 && anchor_id &&
                    mount_id_of(grand, parent_name, 0, &top, &is_root) >= 0 && is_root &&
                    top == anchor_id &&
                    (fchdir(grand) < 0 || umount2(parent_name, MNT_DETACH | UMOUNT_NOFOLLOW) < 0))
                        return child_fail(v, negative_errno(),
                                          "cannot unmount the anchor on the parent of %s: %s",
                                          virtual_path);
        }
        v->status = 0;
        return 0;
}

/* Children whose answer is in but who may not have ended yet: reaped later, so that
 * no request waits for a process to be torn down. */
static pid_t unreaped[64];
static size_t unreaped_count;

static void reap_ended(void)
{
        size_t kept = 0;
        for (size_t i = 0; i < unreaped_count; i++)
                if (waitpid(unreaped[i], NULL, WNOHANG) == 0)
                        unreaped[kept++] = unreaped[i];
        unreaped_count = kept;
}

/* Run fn in a child; its verdict. */
static void send_verdict(int sock, const struct verdict *v)
{
        struct iovec iov = {.iov_base = (void *)v, .iov_len = sizeof *v};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control = {0};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (v->status == 0 && v->fd >= 0) {
                msg.msg_control = control.buf;
                msg.msg_controllen = sizeof control.buf;
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &v->fd, sizeof(int));
        }
        (void)!sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* The verdict, and its descriptor (or -1) in v->fd. */
static ssize_t receive_verdict(int sock, struct verdict *v)
{
        struct iovec iov = {.iov_base = v, .iov_len = sizeof *v};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = control.buf,
                             .msg_controllen = sizeof control.buf};
        ssize_t n;
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        int fd = -1;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n > 0 && cm; cm = CMSG_NXTHDR(&msg, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                    cm->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        v->fd = fd;
        return n;
}

/* Run fn in a child; its verdict (v->fd: a descriptor it sent, or -1). */
static int run_child(int (*fn)(void *ctx, struct verdict *v), void *ctx, struct verdict *ret,
                     char *why, size_t why_size)
{
        int sockets[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) < 0)
                return negative_errno();
        reap_ended();
        /* vfork: the child borrows the daemon's memory while the daemon waits, so no
         * page tables are copied and none of its writes fault (a scoped create took
         * 415 µs with fork, 250–270 µs so; a host create 155–180 µs). Safe here: the
         * daemon has one thread, the child only makes system calls, allocates and
         * frees what it allocated, and leaves by _exit, never returning from this
         * frame; its descriptors are its own (no CLONE_FILES), and a mount namespace
         * can be joined since it shares no fs_struct. */
        pid_t pid = vfork();
        if (pid < 0) {
                int r = negative_errno();
                (void)close(sockets[0]);
                (void)close(sockets[1]);
                return r;
        }
        if (pid == 0) {
                (void)close(sockets[0]);
                struct verdict v = {.status = -EIO, .fd = -1, .index = -1};
                (void)fn(ctx, &v);
                send_verdict(sockets[1], &v);
                _exit(0);
        }
        (void)close(sockets[1]);
        struct verdict v = {.status = -EIO, .fd = -1, .index = -1};
        ssize_t n = receive_verdict(sockets[0], &v);
        (void)close(sockets[0]);
        /* The answer is in and the child has let go of our memory; it may still be
         * ending: reaped without waiting if it is done, else later (at most 64
         * outstanding, then waited for). */
        if (waitpid(pid, NULL, WNOHANG) == 0) {
                if (unreaped_count < sizeof unreaped / sizeof unreaped[0])
                        unreaped[unreaped_count++] = pid;
                else
                        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                                ;
        }
        if (n != (ssize_t)sizeof v) {
                if (v.fd >= 0)
                        (void)close(v.fd);
                (void)snprintf(why, why_size,
                               "the helper in the target namespace ended "
                               "without an answer");
                return -EIO;
        }
        v.why[sizeof v.why - 1] = '\0';
        (void)snprintf(why, why_size, "%s", v.why);
        if (v.status < 0 && v.fd >= 0) {
                (void)close(v.fd);
                v.fd = -1;
        }
        *ret = v;
        return v.status;
}

/* run_child for a child that sends a descriptor: it, or -errno with why. */
static int run_child_for_fd(int (*fn)(void *ctx, struct verdict *v), void *ctx, struct verdict *ret,
                            char *why, size_t why_size)
{
        int r = run_child(fn, ctx, ret, why, why_size);
        if (r >= 0 && ret->fd < 0) {
                (void)snprintf(why, why_size, "the helper in the target sent no descriptor");
                return -EIO;
        }
        return r < 0 ? r : ret->fd;
}

struct attach_args {
        int nsfd, tree;
        const char *root, *virtual_path;
        bool dir, by_propagation;
        const struct stat *expect;
        const struct scope_mover *movers;
        size_t mover_count;
        int overlay;
        uint64_t parent_id;
        char *const *exceptions;
        size_t exception_count;
        uint64_t mount_id, anchor_id;
};

static int attach_fn(void *ctx, struct verdict *v)
{
        const struct attach_args *a = ctx;
        struct movers m = {.list = a->movers, .count = a->mover_count};
        int r = child_attach(a->nsfd, a->root, a->virtual_path, a->tree, a->dir, a->by_propagation,
                             a->expect, &m, v);
        movers_close(&m);
        return r;
}

static int detach_fn(void *ctx, struct verdict *v)
{
        const struct attach_args *a = ctx;
        return child_detach(a->nsfd, a->root, a->virtual_path, a->mount_id, a->anchor_id,
                            a->parent_id, v);
}

static int open_parent_fn(void *ctx, struct verdict *v)
{
        const struct attach_args *a = ctx;
        return child_open_parent(a->nsfd, a->root, a->virtual_path, v);
}

static int attach_graft_fn(void *ctx, struct verdict *v)
{
        const struct attach_args *a = ctx;
        struct movers m = {.list = a->movers, .count = a->mover_count};
        int r = child_attach_graft(a->nsfd, a->root, a->virtual_path, a->overlay, a->tree,
                                   a->expect, a->by_propagation, &m, v);
        movers_close(&m);
        return r;
}

static int open_place_fn(void *ctx, struct verdict *v)
{
        const struct attach_args *a = ctx;
        return child_open_place(a->nsfd, a->root, a->virtual_path, a->exceptions,
                                a->exception_count, v);
}

int scope_attach(int nsfd, const char *root, const char *virtual_path, int tree, bool dir,
                 bool by_propagation, const struct stat *expect, const struct scope_mover *movers,
                 size_t mover_count, uint64_t *ret_mount_id, uint64_t *ret_anchor_id,
                 bool *ret_needs_overlay, char *why, size_t why_size)
{
        if (mover_count > SCOPE_MAX_MOVERS)
                return -EINVAL;
        struct attach_args a = {.nsfd = nsfd,
                                .tree = tree,
                                .root = root,
                                .virtual_path = virtual_path,
                                .dir = dir,
                                .by_propagation = by_propagation,
                                .expect = expect,
                                .movers = movers,
                                .mover_count = mover_count};
        struct verdict v = {.needs_overlay = false};
        int r = run_child(attach_fn, &a, &v, why, why_size);
        if (r >= 0) {
                *ret_mount_id = v.mount_id;
                *ret_anchor_id = v.anchor_id;
        }
        *ret_needs_overlay = r == -EOPNOTSUPP && v.needs_overlay;
        return r;
}

int scope_open_parent(int nsfd, const char *root, const char *virtual_path, mode_t *ret_type,
                      char *why, size_t why_size)
{
        struct attach_args a = {.nsfd = nsfd, .root = root, .virtual_path = virtual_path};
        struct verdict v = {.index = -1};
        int r = run_child_for_fd(open_parent_fn, &a, &v, why, why_size);
        if (r >= 0)
                *ret_type = v.type;
        return r;
}

int scope_attach_graft(int nsfd, const char *root, const char *virtual_path, int overlay, int tree,
                       const struct stat *expect, bool by_propagation,
                       const struct scope_mover *movers, size_t mover_count, uint64_t *ret_mount_id,
                       uint64_t *ret_parent_id, uint64_t *ret_anchor_id, char *why, size_t why_size)
{
        if (mover_count > SCOPE_MAX_MOVERS)
                return -EINVAL;
        struct attach_args a = {.movers = movers,
                                .mover_count = mover_count,
                                .nsfd = nsfd,
                                .root = root,
                                .virtual_path = virtual_path,
                                .overlay = overlay,
                                .tree = tree,
                                .expect = expect,
                                .by_propagation = by_propagation};
        struct verdict v;
        int r = run_child(attach_graft_fn, &a, &v, why, why_size);
        if (r >= 0) {
                *ret_mount_id = v.mount_id;
                *ret_parent_id = v.parent_id;
                *ret_anchor_id = v.anchor_id;
        }
        return r;
}

int scope_detach(int nsfd, const char *root, const char *virtual_path, uint64_t mount_id,
                 uint64_t anchor_id, uint64_t parent_id, char *why, size_t why_size)
{
        struct attach_args a = {.nsfd = nsfd,
                                .root = root,
                                .virtual_path = virtual_path,
                                .mount_id = mount_id,
                                .anchor_id = anchor_id,
                                .parent_id = parent_id};
        struct verdict v;
        return run_child(detach_fn, &a, &v, why, why_size);
}

int scope_open_place(int nsfd, const char *root, const char *virtual_path, char *const *exceptions,
                     size_t exception_count, int *ret_index, char *why, size_t why_size)
{
        struct attach_args a = {.nsfd = nsfd,
                                .root = root,
                                .virtual_path = virtual_path,
                                .exceptions = exceptions,
                                .exception_count = exception_count};
        struct verdict v = {.index = -1};
        int r = run_child_for_fd(open_place_fn, &a, &v, why, why_size);
        *ret_index = v.index;
        return r;
}
