/* parent.h — the parent overlay: a directory shown unchanged, plus synthesized
 * top-level entries (anchorless links, S8; a file over a directory or the reverse, S9)
 * and hidden names (S10), changed in place through the control socket. */
#ifndef BINDLINK_OVERLAY_PARENT_H
#define BINDLINK_OVERLAY_PARENT_H

#include "core.h"

/* A synthesized top-level name. Allocated once and never freed while the server runs
 * (the kernel may hold its inode): a name withdrawn, or given another type, keeps its
 * old entry, no longer present, and gets a new one. */
struct ovl_entry_spec {
        char *name;
        mode_t mode;  /* S_IFDIR or S_IFREG; 0 for a hidden name */
        bool present; /* false: withdrawn, the lower directory's name shows again */
        size_t index; /* in the overlay's list: its inode number */
        struct ovl_inode inode;
};

struct overlay {
        struct ovl_inode root;          /* the lower directory */
        struct ovl_table table;
        /* Synthesized top-level names (entries.c), changed in place through the control
         * socket while requests read them. */
        pthread_rwlock_t entries_lock;
        struct ovl_entry_spec **entries;
        size_t entry_count, entry_cap;
        struct fuse_session *se;        /* for the kernel cache invalidations */
        /* O_PATH descriptors of the sockets made through the view (entries.c). */
        pthread_mutex_t sockets_lock;
        int *sockets;
        size_t socket_count;
        bool no_open;                   /* the kernel opens files without asking */
};

/* ---- the parent overlay's synthesized entries (entries.c) ---- */
/* Before any other use. 0 or -errno. */
int ovl_entries_init(struct overlay *o);
/* Add the entry name (mode S_IFDIR, S_IFREG, or 0: hidden), as --entry does at start.
 * 0 or -ENOMEM. */
int ovl_entries_add(struct overlay *o, const char *name, mode_t mode);
/* Is name a synthesized entry of the root? true with *ret_mode (0: hidden) and, if not
 * NULL, *ret_inode. */
bool ovl_entries_find(struct overlay *o, const char *name, mode_t *ret_mode,
                      struct ovl_inode **ret_inode);
/* The inode number and mode of a synthesized inode. */
ino_t ovl_entries_ino(const struct ovl_inode *inode);
/* Call fn for each shown (present, not hidden) entry, in order; stops at fn's first
 * error (a -errno), which it returns. */
int ovl_entries_each(struct overlay *o, int (*fn)(void *ctx, const char *name, ino_t ino,
                                                   mode_t mode),
                     void *ctx);
/* A socket was made as name in dir through the view: remember it, so that the control
 * socket's "?" says the view is still needed while it exists. */
void ovl_entries_note_socket(struct overlay *o, int dir_fd, const char *name);
/* Serve the control socket (bindlinkd changes the entries through it: see
 * overlay_update_entries) on a thread of its own, until the socket ends. 0 or -errno. */
int ovl_entries_serve_control(struct overlay *o, int control_fd);

/* ---- the parent overlay's operations (ops.c) ---- */
extern const struct fuse_lowlevel_ops ovl_ops;
/* The session is se: changes made beside the view are watched from now on. */
void ovl_parent_watch(struct overlay *o, struct fuse_session *se);

#endif
