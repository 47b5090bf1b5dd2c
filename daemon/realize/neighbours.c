/* neighbours.c — grafting back what a parent overlay's view cannot show as it is (see
 * neighbours.h). */
#include "neighbours.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "as_caller.h"
#include "log.h"
#include "mount_ops.h"
#include "path.h"
#include "util.h"

/* Entries looked at below P's directories for sockets and FIFOs, at most. */
#define SCAN_BUDGET 20000
/* Grafts onto one view, at most. */
#define GRAFT_LIMIT 1024

struct grafting {
        const char *dir;
        int lower_fd;
        const struct neighbours_ours *ours;
        size_t made;
        size_t budget;
        bool cut_short;
};

/* Attach the detached tree at view_path (its ancestors reached through the view, none
 * a symlink), as a slave: what happens to the original shows in the graft, nothing
 * flows back. */
static int attach_at(int tree, const char *view_path)
{
        struct mount_attr attr = {.propagation = MS_SLAVE};
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                return negative_errno();
        _cleanup_close_ int at = place_open(NULL, AT_FDCWD, view_path, false);
        if (at < 0)
                return at;
        if (move_mount(tree, "", at, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}

/* Graft the object at rel (below dir, from the lower directory) onto the view: a clone
 * of just that mount (its submounts are grafted one by one). */
static void graft(struct grafting *g, int from_fd, const char *rel, const char *what)
{
        if (g->made >= GRAFT_LIMIT) {
                g->cut_short = true;
                return;
        }
        _cleanup_free_ char *view_path = NULL;
        if (path_join(g->dir, rel, &view_path) < 0)
                return;
        _cleanup_close_ int tree = open_tree(from_fd, "",
                                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        int r = tree < 0 ? negative_errno() : attach_at(tree, view_path);
        if (r < 0) {
                log_warning_errno(r, "cannot put %s %s back over the overlay on %s", what,
                                  view_path, g->dir);
                return;
        }
        uint64_t legacy;
        if (mount_legacy_id_of_fd(tree, &legacy) >= 0)
                g->ours->grafted(g->ours->ctx, legacy);
        g->made++;
}

/* Does the directory (open for reading) hold a socket or a FIFO, on its own filesystem,
 * within the scan budget? */
static bool holds_special(struct grafting *g, int dir_fd, dev_t dev, int depth)
{
        DIR *d = fdopendir(dir_fd);
        if (!d) {
                (void)close(dir_fd);
                return false;
        }
        bool found = false;
        struct dirent *de;
        while (!found && (de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (g->budget == 0) {
                        g->cut_short = true;
                        break;
                }
                g->budget--;
                unsigned char type = de->d_type;
                struct stat st;
                if (type == DT_UNKNOWN || type == DT_DIR) {
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        type = S_ISSOCK(st.st_mode)   ? DT_SOCK
                               : S_ISFIFO(st.st_mode) ? DT_FIFO
                               : S_ISDIR(st.st_mode)  ? DT_DIR
                                                      : DT_REG;
                        if (type == DT_DIR && st.st_dev != dev)
                                continue; /* another filesystem: grafted by its mount */
                }
                if (type == DT_SOCK || type == DT_FIFO) {
                        found = true;
                } else if (type == DT_DIR && depth < 32) {
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                found = holds_special(g, sub, dev, depth + 1);
                }
        }
        (void)closedir(d);
        return found;
}

/* P's own entries: sockets and FIFOs, and directories holding some. */
static void graft_entries(struct grafting *g)
{
        int fd = openat(g->lower_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat root;
        if (fd < 0 || fstat(fd, &root) < 0) {
                if (fd >= 0)
                        (void)close(fd);
                return;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *name = de->d_name;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
                    g->ours->is_our_name(g->ours->ctx, name))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                bool special = S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode);
                bool dir = S_ISDIR(st.st_mode) && st.st_dev == root.st_dev;
                if (!special && !dir)
                        continue;
                if (dir) {
                        int sub = openat(dirfd(d), name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0 || !holds_special(g, sub, root.st_dev, 1))
                                continue;
                }
                _cleanup_close_ int obj = openat(dirfd(d), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (obj >= 0)
                        graft(g, obj, name, special ? (S_ISSOCK(st.st_mode) ? "socket" : "FIFO")
                                                    : "the directory (it holds sockets or FIFOs)");
        }
        (void)closedir(d);
}

static int by_length(const void *a, const void *b)
{
        size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
        return la < lb ? -1 : la > lb;
}

/* Filesystems mounted below P (not bindlinkd's), each as a clone of just that mount,
 * outermost first. */
static void graft_mounts(struct grafting *g)
{
        struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
        if (!tb) {
                log_warning("cannot read the mount table: mounts below %s are hidden by its "
                            "overlay", g->dir);
                return;
        }
        char **targets = NULL;
        size_t count = 0;
        struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;
        while (it && mnt_table_next_fs(tb, it, &fs) == 0) {
                const char *target = mnt_fs_get_target(fs);
                if (!target || !path_is_strict_descendant(g->dir, target))
                        continue;
                char **grown = realloc(targets, (count + 1) * sizeof *grown);
                char *copy = strdup(target);
                if (!grown || !copy) {
                        free(copy);
                        if (grown)
                                targets = grown;
                        break;
                }
                targets = grown;
                targets[count++] = copy;
        }
        mnt_free_iter(it);
        mnt_unref_table(tb);
        if (count > 1)
                qsort(targets, count, sizeof *targets, by_length);
        size_t skip = strcmp(g->dir, "/") == 0 ? 1 : strlen(g->dir) + 1;
        for (size_t i = 0; i < count; i++) {
                if (i > 0 && strcmp(targets[i], targets[i - 1]) == 0)
                        continue; /* stacked: the top one shows, and is the one found */
                const char *rel = targets[i] + skip;
                struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
                _cleanup_close_ int fd =
                        (int)syscall(SYS_openat2, g->lower_fd, rel, &how, sizeof how);
                /* Mounted there in the lower directory (not on the view: grafts made
                 * just now are listed too, at the same paths), and not ours. */
                _cleanup_free_ char *rel_parent = NULL;
                const char *slash = strrchr(rel, '/');
                rel_parent = slash ? strndup(rel, (size_t)(slash - rel)) : strdup(".");
                _cleanup_close_ int parent_fd =
                        rel_parent ? (int)syscall(SYS_openat2, g->lower_fd, rel_parent, &how,
                                                  sizeof how)
                                   : -1;
                uint64_t id, parent_id;
                if (fd < 0 || parent_fd < 0 || mount_id_of_fd(fd, &id) < 0 ||
                    mount_id_of_fd(parent_fd, &parent_id) < 0 || id == parent_id ||
                    g->ours->is_our_mount(g->ours->ctx, id))
                        continue;
                graft(g, fd, rel, "the filesystem mounted at");
        }
        for (size_t i = 0; i < count; i++)
                free(targets[i]);
        free(targets);
}

size_t neighbours_graft(const char *dir, int lower_fd, const struct neighbours_ours *ours)
{
        struct grafting g = {.dir = dir, .lower_fd = lower_fd, .ours = ours,
                             .budget = SCAN_BUDGET};
        graft_entries(&g);
        graft_mounts(&g);
        if (g.cut_short)
                log_warning("the overlay on %s: only part of what sits there was looked at or "
                            "put back (more than %d entries, or %d grafts); sockets or FIFOs "
                            "further down may not answer through it",
                            dir, SCAN_BUDGET, GRAFT_LIMIT);
        return g.made;
}
