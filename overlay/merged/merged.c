/* merged.c — the merged view of a MERGED link (S12) and of a READ_ONLY|MERGED link
 * (S13), and the shadow view of a link with exceptions whose parents B lacks (S14):
 * its life, its connection settings, the operations that only read or change one
 * object's attributes (statfs, xattrs), and the table of its FUSE operations. Where
 * each stage lives: nodes.h. */
#include "nodes.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void mg_statfs(fuse_req_t req, fuse_ino_t ino)
{
        struct merged *mg = merged_of(req);
        (void)ino;
        /* Where new names go: B, or V under S13. */
        struct statvfs sv;
        if (fstatvfs(layer_fd(&mg->root, mg->read_only ? LOWER : UPPER), &sv) < 0)
                (void)fuse_reply_err(req, errno);
        else
                (void)fuse_reply_statfs(req, &sv);
}

/* The object ino shows, or the one a change acts on (struct ovl_view). */
static int object_get(fuse_req_t req, fuse_ino_t ino, bool change)
{
        struct mnode *n = node_of(req, ino);
        return change ? mg_target_get(merged_of(req), n) : mg_shown_get(n);
}

static bool listing_kept(fuse_req_t req, fuse_ino_t ino)
{
        return mg_dir_timeout(node_of(req, ino)) == OVL_LONG_TIMEOUT;
}

static void object_put(fuse_req_t req, fuse_ino_t ino, int fd)
{
        mg_object_put(node_of(req, ino), fd);
}

static void mg_init(void *userdata, struct fuse_conn_info *conn)
{
        struct merged *mg = userdata;
        ovl_conn_init(conn);
        /* Directories open without a request where every listing can be kept: all
         * changes beside the view are notified (those of a directory that cannot be
         * watched are not, and its listing is dropped after each reading:
         * node_listing.c). */
        bool no_opendir = ovl_conn_no_opendir(conn, ovl_watch_coherent());
        ovl_view_init(&(struct ovl_view){.io_fd = mg_io_fd,
                                         .listing = mg_read_listing,
                                         .lookup = mg_lookup_entry,
                                         .forget = mg_forget_node,
                                         .listing_kept = listing_kept,
                                         .object_get = object_get,
                                         .object_put = object_put,
                                         .no_opendir = no_opendir,
                                         .listing_ended = mg_listing_ended});
        /* Opens and closes with no request at all, where nothing is lost: the kernel
         * checks the opener's rights itself (default_permissions); a writable view
         * refuses nothing at open that it would not refuse at the first write (a
         * read-only one must say EROFS at open: S11, S13); and on local filesystems
         * a close tells nobody anything. */
        mg->no_open = ovl_conn_no_open(conn, !mg->read_only && !ovl_passthrough_offered() &&
                                                     fs_is_local(mg->root.fd[UPPER]) &&
                                                     fs_is_local(mg->root.fd[LOWER]));
}

/* ---- life -------------------------------------------------------------------------------------
 */

struct merged *merged_new(int upper_fd, int lower_fd, bool read_only, bool union_rest,
                          char *const *shadow_paths, size_t shadow_count)
{
        struct stat upper, lower;
        if (fstatat(upper_fd, "", &upper, AT_EMPTY_PATH) < 0 ||
            fstatat(lower_fd, "", &lower, AT_EMPTY_PATH) < 0 || !S_ISDIR(upper.st_mode) ||
            !S_ISDIR(lower.st_mode))
                return NULL;
        struct merged *mg = calloc(1, sizeof *mg);
        if (!mg)
                return NULL;
        mg->root.fd[UPPER] = mg->root.fd[LOWER] = -1;
        if (ovl_nodes_init(&mg->nodes, 1024) < 0 || pthread_mutex_init(&mg->root.lock, NULL) != 0) {
                mg_nodes_done(mg);
                free(mg);
                return NULL;
        }
        for (int k = 0; k < IO_KINDS; k++)
                mg->root.io_fd[k] = -1;
        mg->root.backing = -1;
        mg->fd_limit = ovl_fd_limit();
        mg->root.fd[UPPER] = upper_fd;
        mg->root.fd[LOWER] = lower_fd;
        mg->root.obj[UPPER].dev = upper.st_dev;
        mg->root.obj[UPPER].ino = upper.st_ino;
        mg->root.obj[LOWER].dev = lower.st_dev;
        mg->root.obj[LOWER].ino = lower.st_ino;
        mg->root.node.dev = upper.st_dev;
        mg->root.node.ino = upper.st_ino;
        mg->root.type = S_IFDIR;
        mg->root.node.nlookup = 1;
        if (shadow_count > 0) {
                mg->shadow = !union_rest;
                mg->root.scope.kind = SCOPE_PATHS;
                mg->root.scope.union_rest = union_rest;
                mg->root.scope.paths = calloc(shadow_count, sizeof *mg->root.scope.paths);
                for (size_t i = 0; mg->root.scope.paths && i < shadow_count; i++)
                        if ((mg->root.scope.paths[i] = strdup(shadow_paths[i])))
                                mg->root.scope.count++;
                if (mg->root.scope.count != shadow_count) {
                        merged_free(mg);
                        return NULL;
                }
        }
        mg->read_only = read_only;
        return mg;
}

void merged_set_session(struct merged *mg, struct fuse_session *se)
{
        mg->se = se;
        ovl_watch_start(se, mg_find_node, mg_kernel_holds);
        mg_watch_root(mg);
}

void merged_free(struct merged *mg)
{
        if (!mg)
                return;
        mg_nodes_done(mg);
        (void)close(mg->root.fd[UPPER]);
        (void)close(mg->root.fd[LOWER]);
        scope_done(&mg->root.scope);
        (void)pthread_mutex_destroy(&mg->root.lock);
        free(mg);
}

const struct fuse_lowlevel_ops merged_ops = {
        .init = mg_init,
        .lookup = mg_lookup,
        .forget = ovl_view_forget,
        .forget_multi = ovl_view_forget_multi,
        .getattr = mg_getattr,
        .setattr = mg_setattr,
        .readlink = mg_readlink,
        .mknod = mg_mknod,
        .mkdir = mg_mkdir,
        .symlink = mg_symlink,
        .link = mg_link,
        .unlink = mg_unlink,
        .rmdir = mg_rmdir,
        .rename = mg_rename,
        .open = mg_open,
        .create = mg_create,
        .read = ovl_file_read,
        .write_buf = ovl_file_write_buf,
        .flush = ovl_file_flush,
        .release = ovl_file_release,
        .fsync = ovl_file_fsync,
        .fallocate = ovl_file_fallocate,
        .lseek = ovl_file_lseek,
        .opendir = ovl_view_opendir,
        .readdir = ovl_view_readdir,
        .readdirplus = ovl_view_readdirplus,
        .releasedir = ovl_view_releasedir,
        .fsyncdir = mg_fsyncdir,
        .statfs = mg_statfs,
        .getxattr = ovl_view_getxattr,
        .listxattr = ovl_view_listxattr,
        .setxattr = ovl_view_setxattr,
        .removexattr = ovl_view_removexattr,
};
