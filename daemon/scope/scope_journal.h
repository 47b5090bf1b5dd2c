/* scope_journal.h — S23: the scoped links on disk, so that a restarted bindlinkd
 * knows them again. The whole file (state_dir/scopes) is written anew at a start, when
 * many links went at once (a container ended) and when appended lines have piled up
 * (a temporary file, then rename); between rewrites each change is appended as one
 * line (a rename on a disk costs ~300 µs: ext4 writes the new file's data out first).
 * Never fsynced: it describes nothing that outlives the boot, and a restarted daemon
 * of the same boot reads the page cache. The file: a line naming the boot, then a
 * line for each link added and for each removed:
 *   B <boot id>
 *   S <namespace id> <mount id> <flags> <order> <virtual path> <backing path> <anchor id>
 *     <view server pid> <its start time> <parent overlay's mount id>
 *   R <namespace id> <virtual path>
 * (paths escaped as in the link journal; anchor id 0: none, pid 0: a bind link,
 * parent overlay 0: none; the last four are absent in files of earlier releases; R removes the last
 * link of that namespace and path). */
#ifndef BINDLINKD_SCOPE_JOURNAL_H
#define BINDLINKD_SCOPE_JOURNAL_H

#include <stdbool.h>

#include "scope_links.h"

/* Write sl's links to path: 0 or -errno (the old file stays). */
int scope_journal_write(const char *path, const struct scope_links *sl);
/* Append to the file open at fd (O_APPEND) that l was added, or (forget) removed:
 * one line, "S ..." or "R <namespace id> <virtual path>". 0 or -errno. */
int scope_journal_append(int fd, const struct scoped_link *l, bool forget);
/* Read path's links into *ret (an array, each link's strings owned): 0 (none when the
 * file does not exist) or -errno; a malformed line is skipped, and counted in
 * *ret_bad. A file of another boot (its ids name nothing of this one) gives none,
 * with *ret_other_boot. */
int scope_journal_read(const char *path, struct scoped_link **ret, size_t *ret_count,
                       size_t *ret_bad, bool *ret_other_boot);

#endif
