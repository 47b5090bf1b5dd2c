/* entries.c — the synthesized top-level names of a parent overlay, and the control
 * socket through which bindlinkd changes them in place (S8: adding or removing one
 * link never remounts the overlay, so its siblings never see an error).
 *
 * Requests read the entries under a read lock; the control thread changes them under
 * the write lock, then — with no lock held, from a thread that serves no request, as
 * libfuse's notification rules want — tells the kernel to forget what it cached of
 * the names that changed and of the root's listing, and only then answers "ok": the
 * daemon's next lookup of such a name (to graft a link on it) sees the change. An
 * entry is never freed while the server runs: the kernel may hold its inode. A name
 * that changes type gets a new entry (an inode never changes type under the kernel);
 * the daemon has taken any link off it before. */
#include "parent.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYNTHESIZED_INO_BASE 0xB17D000000000000ull

int ovl_entries_init(struct overlay *o)
{
        int r = pthread_rwlock_init(&o->entries_lock, NULL);
        if (!r)
                r = pthread_mutex_init(&o->sockets_lock, NULL);
        return r ? -r : 0;
}

void ovl_entries_note_socket(struct overlay *o, int dir_fd, const char *name)
{
        int fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        (void)pthread_mutex_lock(&o->sockets_lock);
        int *grown = realloc(o->sockets, (o->socket_count + 1) * sizeof *grown);
        if (grown) {
                o->sockets = grown;
                o->sockets[o->socket_count++] = fd;
                fd = -1;
        }
        (void)pthread_mutex_unlock(&o->sockets_lock);
        if (fd >= 0)
                (void)close(fd);
}

/* Does a socket made through the view still have a name? Those gone are forgotten. */
static bool sockets_live(struct overlay *o)
{
        bool live = false;
        (void)pthread_mutex_lock(&o->sockets_lock);
        for (size_t i = 0; i < o->socket_count;) {
                struct stat st;
                if (fstat(o->sockets[i], &st) == 0 && st.st_nlink > 0) {
                        live = true;
                        i++;
                        continue;
                }
                (void)close(o->sockets[i]);
                o->sockets[i] = o->sockets[--o->socket_count];
        }
        (void)pthread_mutex_unlock(&o->sockets_lock);
        return live;
}

/* The present entry named name (lock held), or NULL. */
static struct ovl_entry_spec *present_named(const struct overlay *o, const char *name)
{
        for (size_t i = 0; i < o->entry_count; i++)
                if (o->entries[i]->present && strcmp(o->entries[i]->name, name) == 0)
                        return o->entries[i];
        return NULL;
}

/* Add a new entry (write lock held or no other thread yet). */
static int entry_new(struct overlay *o, const char *name, mode_t mode)
{
        if (o->entry_count == o->entry_cap) {
                size_t cap = o->entry_cap ? o->entry_cap * 2 : 8;
                struct ovl_entry_spec **grown = realloc(o->entries, cap * sizeof *grown);
                if (!grown)
                        return -ENOMEM;
                o->entries = grown;
                o->entry_cap = cap;
        }
        struct ovl_entry_spec *s = calloc(1, sizeof *s);
        char *copy = strdup(name);
        if (!s || !copy) {
                free(s);
                free(copy);
                return -ENOMEM;
        }
        *s = (struct ovl_entry_spec){.name = copy, .mode = mode, .present = true,
                                     .index = o->entry_count};
        s->inode.fd = -1;
        s->inode.synthesized_mode = mode;
        o->entries[o->entry_count++] = s;
        return 0;
}

int ovl_entries_add(struct overlay *o, const char *name, mode_t mode)
{
        return entry_new(o, name, mode);
}

bool ovl_entries_find(struct overlay *o, const char *name, mode_t *ret_mode,
                      struct ovl_inode **ret_inode)
{
        (void)pthread_rwlock_rdlock(&o->entries_lock);
        struct ovl_entry_spec *s = present_named(o, name);
        if (s) {
                *ret_mode = s->mode;
                if (ret_inode)
                        *ret_inode = &s->inode;
        }
        (void)pthread_rwlock_unlock(&o->entries_lock);
        return s != NULL;
}

ino_t ovl_entries_ino(const struct ovl_inode *inode)
{
        const struct ovl_entry_spec *s =
                (const struct ovl_entry_spec *)((const char *)inode -
                                                offsetof(struct ovl_entry_spec, inode));
        return (ino_t)(SYNTHESIZED_INO_BASE + s->index);
}

int ovl_entries_each(struct overlay *o, int (*fn)(void *ctx, const char *name, ino_t ino,
                                                   mode_t mode),
                     void *ctx)
{
        int r = 0;
        (void)pthread_rwlock_rdlock(&o->entries_lock);
        for (size_t i = 0; i < o->entry_count && !r; i++) {
                const struct ovl_entry_spec *s = o->entries[i];
                if (s->present && s->mode)
                        r = fn(ctx, s->name, (ino_t)(SYNTHESIZED_INO_BASE + s->index), s->mode);
        }
        (void)pthread_rwlock_unlock(&o->entries_lock);
        return r;
}

/* ---- the control socket ---------------------------------------------------------- */

struct control {
        struct overlay *o;
        int fd;
        char **changed; /* names to invalidate at the end of the change */
        size_t changed_count;
};

static int note_changed(struct control *c, const char *name)
{
        char **grown = realloc(c->changed, (c->changed_count + 1) * sizeof *grown);
        char *copy = strdup(name);
        if (!grown || !copy) {
                free(copy);
                if (grown)
                        c->changed = grown;
                return -ENOMEM;
        }
        c->changed = grown;
        c->changed[c->changed_count++] = copy;
        return 0;
}

/* One change: kind 'd', 'f', 'h' (hidden) or '-' (withdrawn) for name. */
static int apply(struct control *c, char kind, const char *name)
{
        struct overlay *o = c->o;
        mode_t mode = kind == 'd' ? S_IFDIR : kind == 'f' ? S_IFREG : 0;
        int r = 0;
        (void)pthread_rwlock_wrlock(&o->entries_lock);
        struct ovl_entry_spec *s = present_named(o, name);
        if (kind == '-') {
                if (s)
                        s->present = false;
        } else if (s && mode != s->mode) {
                s->present = false; /* another type (or hidden): another inode */
                r = entry_new(o, name, mode);
        } else if (!s) {
                r = entry_new(o, name, mode);
        }
        (void)pthread_rwlock_unlock(&o->entries_lock);
        return r < 0 ? r : note_changed(c, name);
}

/* The change is in: make the kernel forget what it cached of it. */
static void invalidate(struct control *c)
{
        struct fuse_session *se = c->o->se;
        /* A lookup that read the entries before the change must not put its answer
         * back for long after these notifications. */
        ovl_watch_note_change();
        for (size_t i = 0; i < c->changed_count; i++) {
                /* -ENOENT: the kernel had nothing cached under that name. */
                if (se)
                        (void)fuse_lowlevel_notify_inval_entry(se, FUSE_ROOT_ID, c->changed[i],
                                                               strlen(c->changed[i]));
                free(c->changed[i]);
        }
        c->changed_count = 0;
        /* The root's listing (kept by the kernel: ovl_opendir_lazy) and attributes. */
        if (se)
                (void)fuse_lowlevel_notify_inval_inode(se, FUSE_ROOT_ID, 0, 0);
}

static void *control_thread(void *arg)
{
        struct control *c = arg;
        char packet[1 + NAME_MAX + 2];
        for (;;) {
                ssize_t n = recv(c->fd, packet, sizeof packet - 1, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break; /* the socket ended: the daemon no longer changes us */
                packet[n] = '\0';
                int r = 0;
                if (packet[0] == '.' && n == 1) {
                        invalidate(c);
                        r = send(c->fd, "ok", 2, MSG_NOSIGNAL) == 2 ? 0 : -EPIPE;
                } else if (packet[0] == '?' && n == 1) {
                        /* Is the view still needed by what was made through it? */
                        const char *answer = sockets_live(c->o) ? "busy" : "idle";
                        r = send(c->fd, answer, 4, MSG_NOSIGNAL) == 4 ? 0 : -EPIPE;
                } else if (n >= 2 && strchr("dfh-", packet[0]) && !memchr(packet + 1, '/', (size_t)n - 1) &&
                           strlen(packet + 1) == (size_t)n - 1) {
                        r = apply(c, packet[0], packet + 1);
                } else {
                        fprintf(stderr, "bindlink-overlay: malformed control message\n");
                        r = -EPROTO;
                }
                if (r < 0 && r != -EPIPE)
                        (void)send(c->fd, "no", 2, MSG_NOSIGNAL);
                if (r == -EPIPE)
                        break;
        }
        for (size_t i = 0; i < c->changed_count; i++)
                free(c->changed[i]);
        free(c->changed);
        (void)close(c->fd);
        free(c);
        return NULL;
}

int ovl_entries_serve_control(struct overlay *o, int control_fd)
{
        struct control *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (struct control){.o = o, .fd = control_fd};
        pthread_t thread;
        int r = pthread_create(&thread, NULL, control_thread, c);
        if (r) {
                free(c);
                return -r;
        }
        (void)pthread_detach(thread);
        return 0;
}
