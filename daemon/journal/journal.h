/* journal.h — the link table on disk, so a restarted daemon re-adopts its links (S4).
 *
 * An append-only text file of records, one per line:
 *   L <order> <flags> <virtual> <backing> <n> <exception>...   a link was created
 *   C <order> <privileged> <uid> <gid> <dac> <n> <group>...      by whom (creds.h; a link
 *                                                              without one: the daemon)
 *   N <order> <named>                                          its B as named, through a
 *                                                              symlink (link_table.h)
 *   B <order> <backing>                                        that symlink re-pointed: B
 *                                                              resolves to this now
 *   M <order> <realization> <mount_id> <covered_type>          it is shown like this
 *   R <order>                                                  it was removed
 *   O <dir> ...                                                an overlay runs on dir
 *   X <dir> <mount_id>                                         that overlay was stopped
 * (the O and X records are overlay_record.h's, written and read there only).
 * Paths are escaped (\ooo octal for bytes <= space, backslash and DEL). A record
 * without its newline (a write cut short) is ignored. When dead records outnumber
 * live ones the file is rewritten to a temporary file and renamed over. */
#ifndef BINDLINKD_JOURNAL_H
#define BINDLINKD_JOURNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "link_table.h"
#include "overlay_record.h"

/* The file is compacted when it holds more than 4 * live links + this many records. */
#define JOURNAL_COMPACT_SLACK 4096
/* The most supplementary groups a C record keeps (the kernel's NGROUPS_MAX). */
#define JOURNAL_MAX_GROUPS 65536

struct journal {
        char *path;
        int fd;            /* O_APPEND */
        size_t records;    /* in the file now */
        off_t size;        /* bytes of whole records in the file */
        /* A record could not be written (a full disk): the file lags behind the
         * table until a compaction succeeds (journal_catch_up). */
        bool stale;
        /* Not even the part of a record written could be taken back: nothing more
         * may be appended until a compaction rewrote the file. */
        bool broken;
        int compact_error; /* why the compaction at open failed (0: it did not) */
        /* The overlays in force when the journal was opened, until the registry takes
         * them (journal_take_overlays). */
        struct overlay_record *overlays;
        size_t overlay_count;
        /* Writes the live overlay records during compaction (set by the manager). */
        int (*write_overlays)(void *ctx, int fd);
        void *write_overlays_ctx;
};

/* Open (creating) state_dir/links.journal and load it into table, then compact it.
 * A compaction that fails (a full disk) leaves the file as it was: the journal opens
 * all the same, stale, with compact_error set. */
int journal_open(struct journal *journal, const char *state_dir, struct link_table *table);
void journal_close(struct journal *journal);

/* Each write either lands whole or not at all (a short write is taken back): the
 * record's effect must then be undone by the caller, or is caught up later. */

/* L, C and M records of a new link, in one write. */
int journal_link_added(struct journal *journal, const struct link *link);
int journal_link_shown(struct journal *journal, const struct link *link);
/* The B record of a link whose backing path was resolved again to another path. */
int journal_link_repointed(struct journal *journal, const struct link *link);
/* The R record of a link about to be removed (written before anything is torn down,
 * so a removal that cannot be recorded changes nothing). */
int journal_link_removed(struct journal *journal, const struct link *link);
/* After removals: compact when dead records dominate (a failure leaves it stale). */
void journal_maybe_compact(struct journal *journal, const struct link_table *table);
/* If the file lags behind (stale) or cannot be appended to (broken), rewrite it from
 * table now: 0 when it is current, -errno when it still is not. */
int journal_catch_up(struct journal *journal, const struct link_table *table);

/* The overlays the file held when it was opened: the caller owns them now (each to
 * overlay_record_done, the array to free), and writes the live ones from then on
 * (write_overlays). */
void journal_take_overlays(struct journal *journal, struct overlay_record **ret,
                           size_t *ret_count);
/* Append one overlay record line (with its newline). */
int journal_append_record(struct journal *journal, const char *record);

/* Pure helpers, for the record parsers (overlay_record.c) and tests. */
/* line split at its spaces: the fields point into *ret_buf (a copy); both to free. */
int journal_fields(const char *line, char **ret_buf, char ***ret_fields, size_t *ret_count);
/* A whole unsigned decimal number: 0 or -EINVAL. */
int journal_parse_u64(const char *s, uint64_t *ret);
int journal_escape(const char *in, char **ret_out);
int journal_unescape(const char *in, char **ret_out);
/* Apply one record line (without newline) to table. -EINVAL if malformed. */
int journal_apply_line(struct link_table *table, const char *line);

#endif
