/* overlay.h — bindlink-overlay, the FUSE server that shows a directory ("the lower
 * directory", captured as a descriptor before the FUSE mount covered it) unchanged,
 * plus synthesized entries at its top level: placeholders on which bindlinkd grafts
 * links that a bind mount alone cannot place (anchorless links, S8; a file over a
 * directory or the reverse, S9), and hidden names (a link whose backing path is gone
 * answers ENOENT, S10).
 *
 * Design after libfuse's passthrough_ll: low-level API, one inode per (st_dev,
 * st_ino) holding an O_PATH descriptor, *at() calls only, never path strings. */
#ifndef BINDLINK_OVERLAY_H
#define BINDLINK_OVERLAY_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct ovl_inode {
        int fd;         /* O_PATH|O_NOFOLLOW; -1 for a synthesized entry */
        dev_t dev;
        ino_t ino;
        mode_t synthesized_mode; /* S_IFDIR or S_IFREG for a synthesized entry */
        uint64_t nlookup;        /* kernel references; freed at 0 (guarded by table lock) */
        struct ovl_inode *next;  /* hash chain */
};

struct ovl_entry_spec {
        char *name;
        mode_t mode; /* S_IFDIR or S_IFREG; 0 for a hidden name */
        struct ovl_inode inode;
};

struct ovl_table {
        pthread_mutex_t lock;
        struct ovl_inode **buckets;
        size_t bucket_count;
        size_t count;
};

struct overlay {
        struct ovl_inode root;          /* the lower directory */
        struct ovl_table table;
        struct ovl_entry_spec *entries; /* synthesized top-level names */
        size_t entry_count;
        double timeout;                 /* entry and attribute cache, seconds */
};

/* ---- inode table (inode_table.c) ---- */
int ovl_table_init(struct ovl_table *table);
void ovl_table_done(struct ovl_table *table);
/* Find or add the inode for (st->st_dev, st->st_ino), taking ownership of fd (closed if
 * an inode existed), and count one lookup. NULL on ENOMEM (fd closed). */
struct ovl_inode *ovl_table_lookup_add(struct ovl_table *table, int fd, const struct stat *st);
/* Drop n lookups; frees the inode at 0. */
void ovl_table_forget(struct ovl_table *table, struct ovl_inode *inode, uint64_t n);

/* ---- the caller's credentials (caller_creds.c) ---- */
/* Act as the request's caller on this thread (fsuid, fsgid, supplementary groups),
 * so new objects are owned by the caller and the lower filesystem checks the
 * caller's rights. 0 or -errno. */
int ovl_creds_enter(fuse_req_t req);
void ovl_creds_leave(void);

/* ---- FUSE operations (ops.c) ---- */
extern const struct fuse_lowlevel_ops ovl_ops;

#endif
