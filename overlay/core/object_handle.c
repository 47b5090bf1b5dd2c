/* object_handle.c — holding a file or directory by its file handle instead
 * of an O_PATH descriptor. Each object the kernel knows through a view is a node that
 * must reach its real object; descriptors are the fast way, but a process has only
 * RLIMIT_NOFILE of them and the kernel may know any number of objects (`ls -l` of a
 * directory of 100,000 files). Past a budget the views keep a handle
 * (name_to_handle_at) and open the object from it for each operation
 * (open_by_handle_at, which needs CAP_DAC_READ_SEARCH: the server keeps it).
 *
 * A handle is opened relative to a descriptor of its mount. The first object seen on a
 * mount gives its descriptor to a small table that lives as long as the process: it
 * also keeps the mount's id from being reused. Directories past the budget are held by
 * handle too (the views open them for each operation below them); a directory is a
 * descriptor of its own mount. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct ovl_handle {
        int mount_fd; /* borrowed from the mount table */
        struct file_handle fh;
};

struct mount_slot {
        int mount_id;
        int fd;
};

static pthread_mutex_t mounts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mount_slot *mounts;
static size_t mount_count;

/* A descriptor of mount mount_id, for opening handles: the table's, or one of the
 * directory dir_fd if it lives there (then kept in the table). open_by_handle_at
 * wants a real open file, not an O_PATH one. -1 if neither. */
static int mount_fd_of(int mount_id, int dir_fd)
{
        pthread_mutex_lock(&mounts_lock);
        for (size_t i = 0; i < mount_count; i++)
                if (mounts[i].mount_id == mount_id) {
                        int found = mounts[i].fd;
                        pthread_mutex_unlock(&mounts_lock);
                        return found;
                }
        struct statx stx;
        int fd = -1;
        struct mount_slot *grown = NULL;
        if (statx(dir_fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) == 0 &&
            (stx.stx_mask & STATX_MNT_ID) && stx.stx_mnt_id == (uint64_t)mount_id &&
            (grown = realloc(mounts, (mount_count + 1) * sizeof *mounts)) &&
            (fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
                mounts = grown;
                mounts[mount_count++] = (struct mount_slot){.mount_id = mount_id, .fd = fd};
        } else if (grown) {
                mounts = grown;
        }
        pthread_mutex_unlock(&mounts_lock);
        return fd;
}

struct ovl_handle *ovl_handle_take(int fd, int dir_fd)
{
        union {
                struct file_handle fh;
                char bytes[sizeof(struct file_handle) + MAX_HANDLE_SZ];
        } buf;
        buf.fh.handle_bytes = MAX_HANDLE_SZ;
        int mount_id;
        /* Filesystems without handles (EOPNOTSUPP) keep the descriptor; so does an
         * object mounted on its name (another mount than its directory's). */
        if (name_to_handle_at(fd, "", &buf.fh, &mount_id, AT_EMPTY_PATH) < 0)
                return NULL;
        int mount_fd = mount_fd_of(mount_id, dir_fd);
        if (mount_fd < 0)
                return NULL;
        struct ovl_handle *h = malloc(sizeof *h + buf.fh.handle_bytes);
        if (!h)
                return NULL;
        h->mount_fd = mount_fd;
        memcpy(&h->fh, &buf.fh, sizeof buf.fh + buf.fh.handle_bytes);
        (void)close(fd);
        return h;
}

int ovl_handle_open(const struct ovl_handle *h)
{
        int fd = open_by_handle_at(h->mount_fd, (struct file_handle *)&h->fh,
                                   O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        /* The object is gone (deleted and no longer in memory). */
        return errno == ESTALE ? -ENOENT : -errno;
}

void ovl_handle_free(struct ovl_handle *h) { free(h); }

bool ovl_fds_past_budget(size_t held, size_t limit) { return held >= limit / 2; }

size_t ovl_fd_limit(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return 1 << 20;
        return (size_t)rl.rlim_cur;
}

/* The kernel's table of a process's descriptors grows by doubling as they are opened,
 * and once threads share it each growth waits for an RCU grace period (expand_fdtable
 * calls synchronize_rcu): 5-15 ms on the loaded 2-vCPU VM of bench/, and a first stat
 * of 5,000 files through a merged view met five of them, 10 us per file. Grown while
 * the process has one thread, it waits for nothing; the table costs 8 bytes a slot. */
void ovl_fd_table_reserve(size_t slots)
{
        size_t limit = ovl_fd_limit();
        if (slots > limit)
                slots = limit;
        if (slots < 2)
                return;
        /* Best effort: the table then grows as it would have. */
        int root = open("/", O_PATH | O_CLOEXEC);
        if (root < 0)
                return;
        int last = fcntl(root, F_DUPFD_CLOEXEC, (int)(slots - 1));
        if (last >= 0)
                (void)close(last);
        (void)close(root);
}
