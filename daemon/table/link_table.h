/* link_table.h — the ordered set of links (creation order matters: S16). Pure data:
 * no syscalls. */
#ifndef BINDLINKD_LINK_TABLE_H
#define BINDLINKD_LINK_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bindlink.h"
#include "creds.h"
#include "path_index.h"

struct link {
        uint64_t order; /* creation sequence number, unique, increasing */
        uint32_t flags; /* CREATE_BIND_LINK_FLAG_* */
        char *virtual_path;
        char *backing_path;
        uint32_t exception_count;
        char **exception_paths;
        /* B as its creator named it, when a symlink on the way made backing_path
         * differ (NULL otherwise), and the symlinks it went through when last
         * resolved: re-pointing one re-points the link (S10). */
        char *backing_named;
        char **backing_symlinks;
        size_t backing_symlink_count;
        /* Whose rights count whenever its paths are resolved (as_caller.h). */
        struct creds creator;
        /* Realization state, kept by the realizer. */
        bindlink_realization realization;
        uint64_t mount_id; /* the bind mount at virtual_path, when realized */
        int covered_type;  /* probe_type of what the mount covers (planner.h) */
        dev_t backing_dev; /* what B named when it was shown (0: not known) */
        ino_t backing_ino;
};

/* Is path an exception of link, or below one (S14)? */
bool link_excepts(const struct link *link, const char *path);

/* A link removed while shown, as the journal last recorded its mount: after a crash
 * between the removal's record and its unmount, the mount may still be there. */
struct removed_mount {
        char *virtual_path;
        uint64_t mount_id;
};

struct link_table {
        struct link **links; /* in creation order */
        /* Filled while a journal is read (R records), emptied by whoever reconciles. */
        struct removed_mount *removed;
        size_t removed_count;
        size_t count, cap;
        uint64_t next_order;
        /* Indexes, so the planner's questions cost O(depth), not O(links). */
        struct path_index virtual_paths;     /* V -> its link */
        struct path_index virtual_ancestors; /* each strict ancestor of a V -> count */
        struct path_index backing_paths;     /* B -> count */
        struct path_index backing_ancestors; /* each strict ancestor of a B -> count */
};

/* A new link owning copies of the strings, made by the daemon itself (set creator
 * afterwards for another's); NULL on ENOMEM. */
struct link *link_new(uint64_t order, uint32_t flags, const char *virtual_path,
                      const char *backing_path, uint32_t exception_count,
                      char *const *exception_paths);
void link_free(struct link *link);
/* Keep named as what link's B was named (a copy; NULL: as backing_path) and take
 * over the symlinks (the array and its strings) it went through. 0 or -ENOMEM
 * (nothing changed, the symlinks freed). */
int link_set_backing_named(struct link *link, const char *named, char **symlinks,
                           size_t symlink_count);

void link_table_init(struct link_table *table);
void link_table_done(struct link_table *table);
/* Note a removed link's last mount (journal replay). 0 or -ENOMEM. */
int link_table_note_removed(struct link_table *table, const struct link *link);
void link_table_forget_removed(struct link_table *table);
/* Append (takes ownership). Keeps next_order above every order seen. */
int link_table_add(struct link_table *table, struct link *link);
/* Detach and return the link with this virtual path, or NULL. */
struct link *link_table_take(struct link_table *table, const char *virtual_path);
/* Point a link of the table at another backing path (a symlink on the way to it
 * re-pointed), keeping the indexes. 0 or -ENOMEM (nothing changed). */
int link_table_set_backing(struct link_table *table, struct link *link, const char *backing_path);
struct link *link_table_find(const struct link_table *table, const char *virtual_path);
struct link *link_table_find_order(const struct link_table *table, uint64_t order);
/* Is some link's virtual path strictly below path? */
bool link_table_has_virtual_below(const struct link_table *table, const char *path);
/* Is some link's backing path path itself, above it or below it? */
bool link_table_has_backing_on_line(const struct link_table *table, const char *path);
/* Lists of links (the planner's and the manager's sets): append l (0 or -ENOMEM),
 * and whether l is in the list. */
int link_list_push(struct link ***list, size_t *count, struct link *l);
bool link_list_contains(struct link *const *list, size_t count, const struct link *l);

/* Index of link in the table, or -1. */
ssize_t link_table_index(const struct link_table *table, const struct link *link);

#endif
