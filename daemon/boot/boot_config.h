/* boot_config.h — the links links.conf declares (S22): made at start, and made to
 * match the file again on reload (SIGHUP, `systemctl reload bindlinkd`).
 *
 * What the file made is remembered in memory: for each line whose link it made (or
 * found in place, identical, as after a restart), that link. A reload takes away
 * only such links, and only while they are still the very link the file made: a
 * link made through the API on the same virtual path is never touched. */
#ifndef BINDLINKD_BOOT_CONFIG_H
#define BINDLINKD_BOOT_CONFIG_H

#include <stddef.h>

#include "link_manager.h"

/* A line applied: the link it made (a copy: paths, flags, exceptions, and the
 * creation number that tells this link from a later one on the same path). */
struct boot_link {
        struct link *made;
        unsigned line_no;
};

struct boot_config {
        const char *path;
        struct boot_link *links;
        size_t count;
};

/* What one pass did, for the status line. */
struct boot_counts {
        unsigned created;
        unsigned removed;
        unsigned failed;    /* lines that could not be read or applied */
        unsigned unchanged; /* lines whose link was in place already */
};

void boot_config_init(struct boot_config *config, const char *path);
void boot_config_done(struct boot_config *config);

/* Read the file and make the links match it: create what a line declares, take
 * away what a line no longer declares (deepest first), re-create a link whose line
 * changed. Each line's outcome is logged as "PATH:LINE: ...". 0 with *ret filled,
 * or -errno (logged) when the file cannot be read: then nothing was changed. */
int boot_config_apply(struct boot_config *config, struct link_manager *manager,
                      struct boot_counts *ret);

#endif
