/* overlay_record.h — the journal's records of overlays, written and read here only:
 *   O <dir> <pid> <start> <mount_id> <n> <d|f|h><name>... [merged=rw|ro|shadow=rw|ro]
 *     [g=<id>,<id>...]     an overlay runs on dir (a parent overlay with its n
 *                          entries, or a merged or shadow view), with the legacy mount
 *                          ids of the grafts put back over it (neighbours.h)
 *   X <dir> <mount_id>     that overlay was stopped
 * Paths and names escaped as the journal escapes them (journal.h). */
#ifndef BINDLINKD_OVERLAY_RECORD_H
#define BINDLINKD_OVERLAY_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum overlay_record_view {
        RECORD_PARENT = 0, /* a parent overlay */
        RECORD_MERGED_RW,  /* a merged (or shadow) view, writable */
        RECORD_MERGED_RO,  /* ... read-only (S13) */
};

struct overlay_record {
        char *dir;
        pid_t pid;
        uint64_t start_time;
        uint64_t mount_id;
        size_t count; /* entries */
        char **names;
        char *kinds; /* 'd', 'f' or 'h' each */
        enum overlay_record_view view;
        int shadow; /* a shadow view (S14), not a merged one */
        uint64_t *graft_ids;
        size_t graft_count;
};

/* The O line of r, with its newline. */
int overlay_record_format(const struct overlay_record *r, char **ret_line);
/* The X line for the overlay on dir with mount_id, with its newline. */
int overlay_record_format_stop(const char *dir, uint64_t mount_id, char **ret_line);
/* Parse an O line (without its newline) into *ret (owning its strings): 0, -EINVAL if
 * it is malformed in any field, -ENOMEM. */
int overlay_record_parse(const char *line, struct overlay_record *ret);
/* Parse an X line: its directory (malloc'd, unescaped) and mount id. */
int overlay_record_parse_stop(const char *line, char **ret_dir, uint64_t *ret_mount_id);
void overlay_record_done(struct overlay_record *r);

#endif
