/* fuse_floor.c — the least a FUSE request costs on this machine: a server that does
 * no work at all.
 *
 * Usage: fuse_floor [--spin] MOUNTPOINT COUNT
 *
 * Mounts a FUSE filesystem on MOUNTPOINT showing one directory of COUNT regular files
 * f0 ... f(COUNT-1), 4 KiB each, every answer made up in memory: a LOOKUP, GETATTR or
 * OPEN costs the server no system call beyond receiving the request and writing the
 * reply. Entries and attributes are cached for 1 s and files opened with keep_cache
 * and noflush, as bindlink's views do, so a workload run against it costs exactly the
 * round trips the kernel must make and nothing else. bench/floor.sh times the same
 * workloads on it, on tmpfs and through a merged view: what a first stat or an
 * open+close through *any* FUSE server costs here, and so how close to native a view
 * can come.
 *
 * Requests are received by one thread. Without --spin it sleeps in read(2) between
 * requests (libfuse's own loop); with --spin it reads without blocking for 30 us after
 * each reply before it sleeps in poll(2), as bindlink-overlay's request loop does (a
 * program issuing requests back to back sends its next one within that time, so the
 * server is not woken for it).
 *
 * Runs in the foreground until the filesystem is unmounted or it gets SIGTERM/SIGINT. */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_SIZE 4096
#define SPIN_NS 30000L
#define TIMEOUT 1.0

static unsigned long file_count;
static char zeros[FILE_SIZE];

/* Inode 1 is the directory, 2 ... file_count + 1 the files. */
static void fill_attr(fuse_ino_t ino, struct stat *st)
{
        memset(st, 0, sizeof *st);
        st->st_ino = ino;
        st->st_uid = 0;
        st->st_gid = 0;
        if (ino == FUSE_ROOT_ID) {
                st->st_mode = S_IFDIR | 0755;
                st->st_nlink = 2;
        } else {
                st->st_mode = S_IFREG | 0644;
                st->st_nlink = 1;
                st->st_size = FILE_SIZE;
                st->st_blocks = FILE_SIZE / 512;
        }
        st->st_blksize = 4096;
}

/* The inode of name "f<number>", or 0. */
static fuse_ino_t ino_of(const char *name)
{
        if (name[0] != 'f' || name[1] < '0' || name[1] > '9' || (name[1] == '0' && name[2]))
                return 0;
        char *end;
        errno = 0;
        unsigned long n = strtoul(name + 1, &end, 10);
        if (errno || *end || n >= file_count)
                return 0;
        return (fuse_ino_t)n + 2;
}

static void fl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        fuse_ino_t ino = parent == FUSE_ROOT_ID ? ino_of(name) : 0;
        struct fuse_entry_param e = {.entry_timeout = TIMEOUT, .attr_timeout = TIMEOUT};
        if (!ino) {
                /* A negative entry, cached like the positive ones. */
                (void)fuse_reply_entry(req, &e);
                return;
        }
        e.ino = ino;
        e.generation = 1;
        fill_attr(ino, &e.attr);
        (void)fuse_reply_entry(req, &e);
}

static void fl_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)fi;
        struct stat st;
        fill_attr(ino, &st);
        (void)fuse_reply_attr(req, &st, TIMEOUT);
}

static void fl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)ino;
        if ((fi->flags & O_ACCMODE) != O_RDONLY) {
                (void)fuse_reply_err(req, EROFS);
                return;
        }
        fi->keep_cache = 1;
        fi->noflush = 1;
        (void)fuse_reply_open(req, fi);
}

static void fl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
        (void)ino;
        (void)fi;
        size_t n = off >= FILE_SIZE ? 0 : (size_t)(FILE_SIZE - off);
        (void)fuse_reply_buf(req, zeros, n < size ? n : size);
}

static void fl_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        (void)ino;
        (void)fi;
        (void)fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops ops = {
        .lookup = fl_lookup,
        .getattr = fl_getattr,
        .open = fl_open,
        .read = fl_read,
        .release = fl_release,
};

static long ns_since(const struct timespec *t0)
{
        struct timespec t;
        (void)clock_gettime(CLOCK_MONOTONIC, &t);
        return (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

/* Receive without blocking for SPIN_NS after each request, then sleep in poll(2). */
static int spin_loop(struct fuse_session *se)
{
        int fd = fuse_session_fd(se);
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                perror("fuse_floor: fcntl O_NONBLOCK on /dev/fuse");
                return -1;
        }
        struct fuse_buf buf = {.mem = NULL};
        struct timespec last;
        (void)clock_gettime(CLOCK_MONOTONIC, &last);
        int rc = 0;
        while (!fuse_session_exited(se)) {
                int r = fuse_session_receive_buf(se, &buf);
                if (r == -EAGAIN) {
                        if (ns_since(&last) < SPIN_NS)
                                continue;
                        struct pollfd p = {.fd = fd, .events = POLLIN};
                        if (poll(&p, 1, 1000) < 0 && errno != EINTR) {
                                perror("fuse_floor: poll");
                                rc = -1;
                                break;
                        }
                        (void)clock_gettime(CLOCK_MONOTONIC, &last);
                        continue;
                }
                if (r == -EINTR)
                        continue;
                if (r <= 0) {
                        /* 0 or -ENODEV: unmounted. */
                        if (r < 0 && r != -ENODEV) {
                                fprintf(stderr, "fuse_floor: receiving: %s\n", strerror(-r));
                                rc = -1;
                        }
                        break;
                }
                fuse_session_process_buf(se, &buf);
                (void)clock_gettime(CLOCK_MONOTONIC, &last);
        }
        free(buf.mem);
        return rc;
}

int main(int argc, char **argv)
{
        int spin = argc > 1 && strcmp(argv[1], "--spin") == 0;
        if (argc != 3 + spin) {
                fprintf(stderr, "usage: fuse_floor [--spin] MOUNTPOINT COUNT\n");
                return 2;
        }
        const char *mountpoint = argv[1 + spin];
        char *end;
        errno = 0;
        file_count = strtoul(argv[2 + spin], &end, 10);
        if (errno || *end || file_count == 0 || file_count > 100000000) {
                fprintf(stderr, "fuse_floor: COUNT must be a number from 1 to 100000000\n");
                return 2;
        }
        char *fuse_argv[] = {argv[0], "-o", "default_permissions,allow_other", NULL};
        struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
        struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
        if (!se) {
                fprintf(stderr, "fuse_floor: cannot make a FUSE session\n");
                return 1;
        }
        int rc = 1;
        if (fuse_set_signal_handlers(se) != 0) {
                fprintf(stderr, "fuse_floor: cannot set signal handlers\n");
                goto out_destroy;
        }
        if (fuse_session_mount(se, mountpoint) != 0) {
                fprintf(stderr, "fuse_floor: cannot mount on %s\n", mountpoint);
                goto out_signals;
        }
        rc = (spin ? spin_loop(se) : fuse_session_loop(se)) == 0 ? 0 : 1;
        fuse_session_unmount(se);
out_signals:
        fuse_remove_signal_handlers(se);
out_destroy:
        fuse_session_destroy(se);
        return rc;
}
