/* scope_journal.h — S23: the scoped links on disk, so that a restarted bindlinkd
 * knows them again. Few and changed one at a time: the whole file (state_dir/scopes)
 * is written anew on each change (a temporary file, then rename; not fsynced: it
 * describes nothing that outlives the boot), a line naming the boot, then one line a
 * link:
 *   B <boot id>
 *   S <namespace id> <mount id> <flags> <order> <virtual path> <backing path> <anchor id>
 *     <view server pid> <its start time>
 * (paths escaped as in the link journal; anchor id 0: none, pid 0: a bind link; the
 * last three are absent in files of earlier releases). */
#ifndef BINDLINKD_SCOPE_JOURNAL_H
#define BINDLINKD_SCOPE_JOURNAL_H

#include <stdbool.h>

#include "scope_links.h"

/* Write sl's links to path: 0 or -errno (the old file stays). */
int scope_journal_write(const char *path, const struct scope_links *sl);
/* Read path's links into *ret (an array, each link's strings owned): 0 (none when the
 * file does not exist) or -errno; a malformed line is skipped, and counted in
 * *ret_bad. A file of another boot (its ids name nothing of this one) gives none,
 * with *ret_other_boot. */
int scope_journal_read(const char *path, struct scoped_link **ret, size_t *ret_count,
                       size_t *ret_bad, bool *ret_other_boot);

#endif
