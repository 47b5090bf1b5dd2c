/* layer_watch.c — changes made beside the view (directly in B, in the original V, in a
 * parent overlay's directory) reach the kernel's caches of the view at once, so the
 * view can let the kernel keep names and attributes for long (S10, S12: Windows
 * filters paths in the I/O path, nothing there is ever stale).
 *
 * One fanotify group reports, with file handles (FAN_REPORT_DFID_NAME_TARGET), what
 * happens in the layer directories the kernel holds through the view: each view marks
 * a directory when its node is made and unmarks it when the kernel forgets the node.
 * A thread of its own reads the events and turns each into the narrowest
 * notification: a name made, removed or moved in a directory expires that name
 * (notify_expire_entry: the kernel asks again at its next use, and a link mounted on
 * the name stays unless the answer is another object) and drops the directory's
 * listing and attributes (notify_inval_inode); a change of attributes, content or
 * size drops that object's. Nothing that serves a request waits on that thread, and
 * it holds no lock while it notifies (libfuse's rules: a notification may wait for
 * the kernel's lock of a directory that a request in flight holds).
 *
 * The view's own changes are left out (the event's pid is ours): the kernel saw them.
 *
 * A reply built before a change but sent after the change's notification would put
 * the old answer back for long. Every entry reply is sent under a shared lock, after
 * checking that no batch of notifications began since the request began; the thread
 * takes the lock exclusively only to count a batch in. A reply that raced a change
 * goes out with no timeout, so the kernel asks again at its next use. (Left to the
 * kernel: a revalidation whose reply has been sent but not yet applied when a
 * notification arrives; its window is the wake-up of the caller.) Listings need no
 * such check: the directory's mtime changes with every name, and the kernel drops a
 * listing it kept when the mtime it reads at the next opendir differs.
 *
 * What cannot be watched keeps short timeouts: a filesystem whose changes are not all
 * made through this kernel (network and FUSE filesystems), a directory whose mark the
 * kernel refused, and, on kernels that cannot expire every name at once, the whole
 * view after the event queue overflowed. */
#include "core.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* What a directory's mark reports: names made, removed and moved in it; its own and
 * its children's attributes, and contents once a writer closes the file; its own
 * removal or move. Not every write: an event per write(2) would cost every writer,
 * the view's own clients above all (their passthrough writes are the kernel's, in
 * their context, so their pid is not ours). A file written directly in B shows its
 * new content and size through the view when its writer closes it. */
#define WATCH_MASK                                                                                 \
        (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ATTRIB | FAN_CLOSE_WRITE |  \
         FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_ONDIR | FAN_EVENT_ON_CHILD)
#define NAME_EVENTS (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO)
#define OBJECT_EVENTS (FAN_ATTRIB | FAN_CLOSE_WRITE | FAN_DELETE_SELF | FAN_MOVE_SELF)

/* A watched directory object, known by its filesystem and file handle, as one view
 * node (ino) shows it. One object may stand in two nodes (a directory moved from V
 * into B while the kernel held both); its mark goes with the last. */
struct ovl_watched {
        struct ovl_watched *next; /* hash chain */
        fuse_ino_t ino;
        unsigned refs;
        uint64_t fsid;
        int type;
        unsigned bytes;
        unsigned char handle[];
};

/* Not in the headers of every system this builds on (protocol 7.44). */
#define FUSE_NOTIFY_INC_EPOCH_CODE 8

#define BUCKETS 4096
/* Filesystems past these many are not watched (their names get short timeouts). */
#define MAX_FILESYSTEMS 64

/* A filesystem seen: whether it can be watched, and a descriptor of it to open the
 * handles its events carry. */
struct watched_fs {
        dev_t dev;
        uint64_t fsid;
        bool local;
        int fd; /* -1 where not local */
};

static struct {
        int fan_fd;  /* the group; -1: nothing is watched */
        int stop_fd; /* eventfd: the thread ends */
        pid_t pid;
        struct fuse_session *se;
        ovl_find_fn find;
        ovl_told_fn told;
        pthread_t thread;
        bool running;
        bool degraded;        /* a mark refused or the queue overflowed: short timeouts */
        pthread_mutex_t lock; /* the table and the filesystems */
        struct ovl_watched *table[BUCKETS];
        /* Filesystems seen, added under the lock and read without it. */
        struct watched_fs fs[MAX_FILESYSTEMS];
        size_t fs_count;
        struct rescan *rescans; /* directories whose names to expire (queued) */
        int rescan_fd;          /* eventfd: rescans were queued */
        pthread_rwlock_t reply_lock;
        uint64_t seq; /* batches of notifications begun */
} w = {.fan_fd = -1,
       .stop_fd = -1,
       .rescan_fd = -1,
       .lock = PTHREAD_MUTEX_INITIALIZER,
       /* The thread must get its exclusive moment between a stream of replies. */
       .reply_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP};

/* Why nothing is watched: said once, in the same words wherever it happens. */
static void unwatched(const char *what, int error)
{
        fprintf(stderr,
                "bindlink-overlay: cannot %s (%s): changes made beside the view show within "
                "%.0f s\n",
                what, strerror(error), OVL_SHORT_TIMEOUT);
}

void ovl_watch_init(void)
{
        /* The kernel's queue is bounded (fs.fanotify.max_queued_events): a flood of
         * changes beside the view costs the kernel no more than that, and its
         * overflow is handled (expire_everything). */
        w.fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_DFID_NAME_TARGET,
                                 O_RDONLY | O_LARGEFILE | O_CLOEXEC);
        if (w.fan_fd < 0) {
                unwatched("watch the layers", errno);
                return;
        }
        w.pid = getpid();
}

bool ovl_watch_coherent(void)
{
        return w.fan_fd >= 0 && !__atomic_load_n(&w.degraded, __ATOMIC_RELAXED);
}

static void degrade(const char *why)
{
        if (!__atomic_exchange_n(&w.degraded, true, __ATOMIC_RELAXED))
                fprintf(stderr,
                        "bindlink-overlay: %s: changes made beside the view now show within "
                        "%.0f s\n",
                        why, OVL_SHORT_TIMEOUT);
}

/* ---- filesystems ---- */

/* The filesystem of fd (its st_dev: dev), added when first seen. Lock held. NULL on
 * ENOMEM or if it cannot be read. */
static struct watched_fs *fs_of(int fd, dev_t dev)
{
        for (size_t i = 0; i < w.fs_count; i++)
                if (w.fs[i].dev == dev)
                        return &w.fs[i];
        struct statfs sf;
        if (w.fs_count == MAX_FILESYSTEMS || fstatfs(fd, &sf) < 0)
                return NULL;
        struct watched_fs *f = &w.fs[w.fs_count];
        uint64_t fsid;
        memcpy(&fsid, &sf.f_fsid, sizeof fsid);
        *f = (struct watched_fs){.dev = dev, .fsid = fsid, .local = fs_is_local(fd), .fd = -1};
        /* open_by_handle_at wants an open file of the filesystem, not an O_PATH one. */
        if (f->local && (f->fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                f->local = false;
        __atomic_store_n(&w.fs_count, w.fs_count + 1, __ATOMIC_RELEASE);
        return f;
}

bool ovl_watch_dev_local(dev_t dev)
{
        if (!ovl_watch_coherent())
                return false;
        size_t count = __atomic_load_n(&w.fs_count, __ATOMIC_ACQUIRE);
        for (size_t i = 0; i < count; i++)
                if (w.fs[i].dev == dev)
                        return w.fs[i].local;
        return false;
}

/* ---- the table of watched directories ---- */

static size_t bucket(uint64_t fsid, const unsigned char *h, unsigned bytes)
{
        uint64_t x = 1469598103934665603ull ^ fsid;
        for (unsigned i = 0; i < bytes; i++)
                x = (x ^ h[i]) * 1099511628211ull;
        return (size_t)(x % BUCKETS);
}

static bool same_object(const struct ovl_watched *e, uint64_t fsid, int type,
                        const unsigned char *h, unsigned bytes)
{
        return e->fsid == fsid && e->type == type && e->bytes == bytes &&
               memcmp(e->handle, h, bytes) == 0;
}

struct ovl_watched *ovl_watch_dir(int fd, dev_t dev, fuse_ino_t ino)
{
        if (!ovl_watch_coherent())
                return NULL;
        union {
                struct file_handle fh;
                char bytes[sizeof(struct file_handle) + MAX_HANDLE_SZ];
        } buf;
        buf.fh.handle_bytes = MAX_HANDLE_SZ;
        int mount_id;
        if (name_to_handle_at(fd, "", &buf.fh, &mount_id, AT_EMPTY_PATH) < 0)
                return NULL; /* no handles: not watched, short timeouts there */
        pthread_mutex_lock(&w.lock);
        struct watched_fs *f = fs_of(fd, dev);
        if (!f || !f->local) {
                pthread_mutex_unlock(&w.lock);
                return NULL;
        }
        uint64_t fsid = f->fsid;
        size_t b = bucket(fsid, buf.fh.f_handle, buf.fh.handle_bytes);
        bool marked = false;
        for (struct ovl_watched *e = w.table[b]; e; e = e->next)
                if (same_object(e, fsid, buf.fh.handle_type, buf.fh.f_handle,
                                buf.fh.handle_bytes)) {
                        marked = true;
                        if (e->ino == ino) {
                                e->refs++;
                                pthread_mutex_unlock(&w.lock);
                                return e;
                        }
                }
        struct ovl_watched *e = malloc(sizeof *e + buf.fh.handle_bytes);
        if (!e) {
                pthread_mutex_unlock(&w.lock);
                degrade("out of memory watching a directory");
                return NULL;
        }
        *e = (struct ovl_watched){.ino = ino,
                                  .refs = 1,
                                  .fsid = fsid,
                                  .type = buf.fh.handle_type,
                                  .bytes = buf.fh.handle_bytes};
        memcpy(e->handle, buf.fh.f_handle, buf.fh.handle_bytes);
        /* Marked under the lock, so a mark and its table entry come and go together.
         * By "." below fd: the kernel takes no O_PATH descriptor alone here. */
        if (!marked &&
            fanotify_mark(w.fan_fd, FAN_MARK_ADD | FAN_MARK_ONLYDIR, WATCH_MASK, fd, ".") < 0) {
                int saved = errno;
                pthread_mutex_unlock(&w.lock);
                free(e);
                char why[96];
                (void)snprintf(why, sizeof why, "cannot watch a directory (%s)", strerror(saved));
                degrade(why);
                return NULL;
        }
        e->next = w.table[b];
        w.table[b] = e;
        pthread_mutex_unlock(&w.lock);
        return e;
}

void ovl_watch_drop(struct ovl_watched *e, int fd)
{
        if (!e)
                return;
        pthread_mutex_lock(&w.lock);
        if (--e->refs > 0) {
                pthread_mutex_unlock(&w.lock);
                return;
        }
        size_t b = bucket(e->fsid, e->handle, e->bytes);
        bool others = false;
        for (struct ovl_watched **p = &w.table[b]; *p;) {
                if (*p == e) {
                        *p = e->next;
                        continue;
                }
                if (same_object(*p, e->fsid, e->type, e->handle, e->bytes))
                        others = true;
                p = &(*p)->next;
        }
        /* Without a descriptor (a directory held by handle that is gone) the mark
         * goes with the object. */
        if (!others && fd >= 0)
                (void)fanotify_mark(w.fan_fd, FAN_MARK_REMOVE | FAN_MARK_ONLYDIR, WATCH_MASK, fd,
                                    ".");
        pthread_mutex_unlock(&w.lock);
        free(e);
}

/* The nodes that show the directory object of an event's record: up to max of them
 * into inos. */
static size_t nodes_of(const struct fanotify_event_info_fid *fid, fuse_ino_t *inos, size_t max)
{
        const struct file_handle *fh = (const void *)fid->handle;
        uint64_t fsid;
        memcpy(&fsid, &fid->fsid, sizeof fsid);
        size_t n = 0;
        pthread_mutex_lock(&w.lock);
        for (struct ovl_watched *e = w.table[bucket(fsid, fh->f_handle, fh->handle_bytes)];
             e && n < max; e = e->next)
                if (same_object(e, fsid, fh->handle_type, fh->f_handle, fh->handle_bytes))
                        inos[n++] = e->ino;
        pthread_mutex_unlock(&w.lock);
        return n;
}

/* The node of an object that is not a watched directory (a file whose attributes or
 * contents changed): opened by its handle, found by the view. 0 if none, or if the
 * file was only closed after writing (closed_written) and the kernel holds its
 * attributes as they are (ovl_told_fn). */
static fuse_ino_t node_of_object(const struct fanotify_event_info_fid *fid, bool closed_written)
{
        uint64_t fsid;
        memcpy(&fsid, &fid->fsid, sizeof fsid);
        int mount_fd = -1;
        pthread_mutex_lock(&w.lock);
        for (size_t i = 0; i < w.fs_count; i++)
                if (w.fs[i].fsid == fsid && w.fs[i].fd >= 0)
                        mount_fd = w.fs[i].fd;
        pthread_mutex_unlock(&w.lock);
        if (mount_fd < 0)
                return 0;
        _cleanup_close_ int fd =
                open_by_handle_at(mount_fd, (struct file_handle *)(void *)fid->handle,
                                  O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                return 0; /* gone already: its removal's own event says it */
        /* A file written through the view is closed by its writer (the kernel closes
         * the passthrough backing file in the writer's context), so the event does not
         * carry the server's pid: `tar -x` through V would drop every file's
         * attributes, a GETATTR at its next stat. Nothing to drop where they are what
         * the kernel was told last. */
        if (closed_written && w.told && w.told(&st))
                return 0;
        return w.find(st.st_dev, st.st_ino);
}

/* ---- a directory that a node gains ---- */

/* A node that gains a layer's directory (made in B beside the view, say) may have
 * names below it that the kernel keeps from before: absent, or the other layer's.
 * Its names are expired by the thread (a request may hold the kernel's lock of the
 * directory that an expiry takes). */
struct rescan {
        struct rescan *next;
        fuse_ino_t ino;
        int dir_fd; /* open for reading, owned; -1: only the listing is dropped */
};

/* Hand r to the thread, and wake it (said as failing_what if it cannot be). */
static void queue_rescan(struct rescan *r, const char *failing_what)
{
        pthread_mutex_lock(&w.lock);
        r->next = w.rescans;
        w.rescans = r;
        pthread_mutex_unlock(&w.lock);
        uint64_t one = 1;
        if (write(w.rescan_fd, &one, sizeof one) != sizeof one)
                degrade(failing_what);
}

void ovl_watch_rescan(fuse_ino_t ino, int opath_fd)
{
        if (!w.running)
                return;
        struct rescan *r = malloc(sizeof *r);
        int fd = openat(opath_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!r || fd < 0) {
                free(r);
                if (fd >= 0)
                        (void)close(fd);
                degrade("cannot read a directory the view gained");
                return;
        }
        *r = (struct rescan){.ino = ino, .dir_fd = fd};
        queue_rescan(r, "cannot queue a directory the view gained");
}

void ovl_watch_forget_listing(fuse_ino_t ino)
{
        if (!w.running)
                return;
        struct rescan *r = malloc(sizeof *r);
        if (!r) {
                degrade("cannot queue a listing to forget");
                return;
        }
        *r = (struct rescan){.ino = ino, .dir_fd = -1};
        queue_rescan(r, "cannot queue a listing to forget");
}

static void notify_name(fuse_ino_t dir, const char *name);
static void notify_inode(fuse_ino_t ino);

static void run_rescans(void)
{
        /* The eventfd only wakes this thread; what to rescan is the list taken below,
         * whatever the read says (EAGAIN after a spurious wake-up: the list is empty).
         * Named, not cast to void: glibc's _FORTIFY_SOURCE marks read warn_unused_result. */
        uint64_t count;
        ssize_t woken = read(w.rescan_fd, &count, sizeof count);
        (void)woken;
        pthread_mutex_lock(&w.lock);
        struct rescan *list = w.rescans;
        w.rescans = NULL;
        pthread_mutex_unlock(&w.lock);
        while (list) {
                struct rescan *r = list;
                list = r->next;
                /* No directory: only its listing (and attributes) to drop. */
                DIR *d = r->dir_fd < 0 ? NULL : fdopendir(r->dir_fd);
                if (r->dir_fd >= 0 && !d) {
                        (void)close(r->dir_fd);
                        degrade("cannot read a directory the view gained");
                } else if (d) {
                        for (struct dirent *de; (de = readdir(d));)
                                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                                        notify_name(r->ino, de->d_name);
                        (void)closedir(d);
                }
                notify_inode(r->ino);
                free(r);
        }
}

/* ---- replies that must not undo a notification ---- */

uint64_t ovl_watch_seq(void)
{
        return __atomic_load_n(&w.seq, __ATOMIC_ACQUIRE);
}

void ovl_watch_reply_begin(uint64_t seq, double *entry_timeout, double *attr_timeout)
{
        (void)pthread_rwlock_rdlock(&w.reply_lock);
        if (__atomic_load_n(&w.seq, __ATOMIC_ACQUIRE) != seq) {
                *entry_timeout = 0;
                if (attr_timeout)
                        *attr_timeout = 0;
        }
}

void ovl_watch_reply_end(void)
{
        (void)pthread_rwlock_unlock(&w.reply_lock);
}

void ovl_watch_note_change(void)
{
        (void)pthread_rwlock_wrlock(&w.reply_lock);
        __atomic_add_fetch(&w.seq, 1, __ATOMIC_RELEASE);
        (void)pthread_rwlock_unlock(&w.reply_lock);
}

void ovl_reply_entry(fuse_req_t req, struct fuse_entry_param *e, uint64_t seq)
{
        ovl_watch_reply_begin(seq, &e->entry_timeout, &e->attr_timeout);
        (void)fuse_reply_entry(req, e);
        ovl_watch_reply_end();
}

/* ---- the thread ---- */

/* Whether this round of the thread (one wake-up: its queued work and one read of
 * events) has counted a batch in (ovl_watch_note_change): done before the round's
 * first notification, not at all in a round of the view's own changes only. Those
 * are most rounds while a client writes through the view, and counting them in sent
 * the entries replied meanwhile with no timeout (a file created by `tar -x` was
 * looked up again at its next stat). */
static bool round_counted;

static void before_notifying(void)
{
        if (!round_counted) {
                ovl_watch_note_change();
                round_counted = true;
        }
}

static void notify_inode(fuse_ino_t ino)
{
        before_notifying();
        (void)fuse_lowlevel_notify_inval_inode(w.se, ino, 0, 0);
}

static void notify_name(fuse_ino_t dir, const char *name)
{
        before_notifying();
        (void)fuse_lowlevel_notify_inval_inode(w.se, dir, 0, 0);
        size_t len = strlen(name);
        int r = fuse_lowlevel_notify_expire_entry(w.se, dir, name, len, FUSE_LL_EXPIRE_ONLY);
        if (r == -ENOSYS)
                (void)fuse_lowlevel_notify_inval_entry(w.se, dir, name, len);
}

/* Every name the kernel keeps is to be asked about again at its next use
 * (FUSE_NOTIFY_INC_EPOCH, Linux 6.16). false where the kernel cannot. */
static bool notify_new_epoch(void)
{
        struct fuse_out_header h = {.len = sizeof h, .error = FUSE_NOTIFY_INC_EPOCH_CODE};
        return write(fuse_session_fd(w.se), &h, sizeof h) == (ssize_t)sizeof h;
}

/* Events were lost: every name the kernel keeps is expired, and every directory's
 * listing and attributes dropped. Where the kernel cannot expire every name at once,
 * the view keeps short timeouts from now on. */
static void expire_everything(void)
{
        static bool said;
        before_notifying();
        if (!notify_new_epoch())
                degrade("the change queue overflowed");
        else if (!said)
                fprintf(stderr, "bindlink-overlay: the change queue overflowed: every name and "
                                "listing the kernel kept is asked about again (said once)\n");
        said = true;
        size_t count = 0, cap = 0;
        fuse_ino_t *inos = NULL;
        pthread_mutex_lock(&w.lock);
        for (size_t b = 0; b < BUCKETS; b++)
                for (struct ovl_watched *e = w.table[b]; e; e = e->next) {
                        if (count == cap) {
                                fuse_ino_t *grown =
                                        realloc(inos, (cap = cap * 2 + 64) * sizeof *grown);
                                if (!grown)
                                        break;
                                inos = grown;
                        }
                        inos[count++] = e->ino;
                }
        pthread_mutex_unlock(&w.lock);
        /* Each directory's listing and attributes. (Files' attributes come again with
         * their names; what a file open since then shows to fstat may lag until it is
         * looked up again.) */
        for (size_t i = 0; i < count; i++)
                notify_inode(inos[i]);
        free(inos);
}

/* Objects already invalidated in this batch of events (a file closed after writing
 * and then its attributes changed, say): one notification each. */
struct batch_seen {
        const struct fanotify_event_info_fid *fids[64];
        size_t count;
};

/* Was fid invalidated earlier in the batch? */
static bool seen_before(const struct batch_seen *seen, const struct fanotify_event_info_fid *fid)
{
        const struct file_handle *fh = (const void *)fid->handle;
        for (size_t i = 0; i < seen->count; i++) {
                const struct file_handle *other = (const void *)seen->fids[i]->handle;
                if (memcmp(&seen->fids[i]->fsid, &fid->fsid, sizeof fid->fsid) == 0 &&
                    other->handle_type == fh->handle_type &&
                    other->handle_bytes == fh->handle_bytes &&
                    memcmp(other->f_handle, fh->f_handle, fh->handle_bytes) == 0)
                        return true;
        }
        return false;
}

/* Count fid as invalidated in this batch (a full list only costs a notification). */
static void seen_add(struct batch_seen *seen, const struct fanotify_event_info_fid *fid)
{
        if (seen->count < ELEMENTSOF(seen->fids))
                seen->fids[seen->count++] = fid;
}

/* One event: its metadata m (copied out: events are aligned to 4 bytes only) and the
 * event itself at raw, where its information records follow the metadata. */
static void handle_event(const struct fanotify_event_metadata *m, const char *raw,
                         struct batch_seen *seen)
{
        if (m->mask & FAN_Q_OVERFLOW) {
                expire_everything();
                return;
        }
        if (m->pid == w.pid)
                return; /* the view's own change */
        const struct fanotify_event_info_fid *dir = NULL, *object = NULL;
        const char *name = NULL;
        for (size_t off = m->metadata_len;
             off + sizeof(struct fanotify_event_info_header) <= m->event_len;) {
                const struct fanotify_event_info_header *h = (const void *)(raw + off);
                if (h->len == 0 || off + h->len > m->event_len)
                        break;
                const struct fanotify_event_info_fid *fid = (const void *)h;
                const struct file_handle *fh = (const void *)fid->handle;
                switch (h->info_type) {
                case FAN_EVENT_INFO_TYPE_DFID_NAME:
                        dir = fid;
                        name = (const char *)fh->f_handle + fh->handle_bytes;
                        break;
                case FAN_EVENT_INFO_TYPE_DFID:
                        dir = fid;
                        break;
                case FAN_EVENT_INFO_TYPE_FID:
                        object = fid;
                        break;
                default:
                        break;
                }
                off += h->len;
        }
        fuse_ino_t inos[4];
        bool named = name && strcmp(name, ".") != 0;
        if ((m->mask & NAME_EVENTS) && dir && named) {
                size_t n = nodes_of(dir, inos, ELEMENTSOF(inos));
                for (size_t i = 0; i < n; i++)
                        notify_name(inos[i], name);
        }
        if (m->mask & OBJECT_EVENTS) {
                const struct fanotify_event_info_fid *target = object ? object : dir;
                if (!target || seen_before(seen, target))
                        return;
                size_t n = nodes_of(target, inos, ELEMENTSOF(inos));
                if (n == 0 && object && !(m->mask & FAN_ONDIR)) {
                        bool closed_written = (m->mask & OBJECT_EVENTS) == FAN_CLOSE_WRITE;
                        if ((inos[0] = node_of_object(object, closed_written)) != 0)
                                n = 1;
                        else if (closed_written)
                                return; /* not seen: a later change of it still counts */
                }
                seen_add(seen, target);
                for (size_t i = 0; i < n; i++)
                        notify_inode(inos[i]);
        }
}

static void *watch_thread(void *arg)
{
        (void)arg;
        static char buf[64 * 1024];
        struct pollfd pfd[3] = {{.fd = w.fan_fd, .events = POLLIN},
                                {.fd = w.stop_fd, .events = POLLIN},
                                {.fd = w.rescan_fd, .events = POLLIN}};
        for (;;) {
                if (poll(pfd, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        degrade("cannot wait for changes");
                        return NULL;
                }
                if (pfd[1].revents)
                        return NULL;
                round_counted = false;
                if (pfd[2].revents)
                        run_rescans();
                if (!pfd[0].revents)
                        continue;
                ssize_t len = read(w.fan_fd, buf, sizeof buf);
                if (len < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        degrade("cannot read changes");
                        return NULL;
                }
                /* One batch: replies built before it are sent without timeouts
                 * (before_notifying). */
                struct batch_seen seen = {.count = 0};
                for (size_t off = 0; off + sizeof(struct fanotify_event_metadata) <= (size_t)len;) {
                        struct fanotify_event_metadata m;
                        memcpy(&m, buf + off, sizeof m);
                        if (m.event_len < sizeof m || off + m.event_len > (size_t)len)
                                break;
                        if (m.vers == FANOTIFY_METADATA_VERSION)
                                handle_event(&m, buf + off, &seen);
                        off += m.event_len;
                }
        }
}

void ovl_watch_start(struct fuse_session *se, ovl_find_fn find, ovl_told_fn told)
{
        if (w.fan_fd < 0)
                return;
        w.se = se;
        w.find = find;
        w.told = told;
        w.stop_fd = eventfd(0, EFD_CLOEXEC);
        w.rescan_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        int e = w.stop_fd < 0 || w.rescan_fd < 0
                        ? errno
                        : pthread_create(&w.thread, NULL, watch_thread, NULL);
        if (e != 0) {
                if (w.stop_fd >= 0)
                        (void)close(w.stop_fd);
                if (w.rescan_fd >= 0)
                        (void)close(w.rescan_fd);
                w.stop_fd = w.rescan_fd = -1;
                /* The group goes too: nothing marked is ever read, all stays short. */
                (void)close(w.fan_fd);
                w.fan_fd = -1;
                unwatched("start the thread that watches the layers", e);
                return;
        }
        w.running = true;
}

void ovl_watch_stop(void)
{
        if (!w.running)
                return;
        uint64_t one = 1;
        if (write(w.stop_fd, &one, sizeof one) == sizeof one)
                (void)pthread_join(w.thread, NULL);
        w.running = false;
        for (struct rescan *r = w.rescans, *next; r; r = next) {
                next = r->next;
                if (r->dir_fd >= 0)
                        (void)close(r->dir_fd);
                free(r);
        }
        w.rescans = NULL;
}
