/* overlay_instance.h — one running bindlink-overlay: the FUSE mount bindlinkd made on
 * a directory P, and the process serving it. Either the overlay on a link's parent,
 * which shows P as it was plus placeholder entries on which links are grafted
 * (anchorless links, a file over a directory or the reverse: S8, S9), or the merged
 * view of a MERGED link, mounted on its virtual path P (S12, S13). */
#ifndef BINDLINKD_OVERLAY_INSTANCE_H
#define BINDLINKD_OVERLAY_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "creds.h"

struct overlay_instance {
        char *dir;    /* the view path P it is mounted on */
        char **names; /* entries of P the overlay makes up */
        char *kinds;  /* for each: 'd' directory, 'f' file, 'h' hidden (S10) */
        size_t count;
        pid_t pid;
        int pidfd;           /* readable when the process has ended; -1 if unknown */
        uint64_t start_time; /* the process's start time, to recognize it after a restart */
        uint64_t spawned_ms; /* CLOCK_BOOTTIME when this daemon started it; 0: adopted */
        uint64_t mount_id;
        uint64_t legacy_mount_id; /* the same, as /proc/self/mountinfo numbers it */
        /* What the daemon grafted onto a parent overlay's view (neighbours.h), by
         * legacy mount id; every other mount on the view but links' is someone else's,
         * and the view must not go while one is there (overlay_hosts_foreign_mounts).
         * Journaled. */
        uint64_t *graft_ids;
        size_t graft_count;
        /* Mount points on the view that are someone else's (refreshed by
         * overlay_hosts_foreign_mounts): below them the view's lower directory does
         * not show what the view shows. */
        char **foreign_targets;
        size_t foreign_count;
        int lower_fd; /* what dir showed before the overlay covered it */
        /* A parent overlay's control socket: its synthesized entries are changed in
         * place through it (overlay_update_entries); -1 for a merged view. */
        int control_fd;
        bool retiring; /* we detached it: its end is expected */
        /* A merged view: MERGED_RW or MERGED_RO (S13), over upper_fd, the link's B;
         * MERGED_NONE for a parent overlay. */
        enum { MERGED_NONE = 0, MERGED_RW, MERGED_RO } merged;
        int upper_fd;
        /* A shadow view (a link that is not merged, with exceptions whose parent B
         * lacks: S14): the exceptions relative to dir. Only known to the instance
         * that started the server (not journaled: the server has them). */
        bool shadow;
        /* Or a MERGED link's exceptions (the union elsewhere), in shadow_paths. */
        bool merged_exceptions;
        char **shadow_paths;
        size_t shadow_count;
};

/* The server program: $BINDLINK_OVERLAY_PROGRAM, else the one installed. */
const char *overlay_program(void);

/* The clock of spawned_ms (CLOCK_BOOTTIME, milliseconds). */
uint64_t overlay_clock_ms(void);

/* The mount source of the overlays a daemon of this owner (its journal's path) makes:
 * "bindlink:OWNER" (overlay_start, overlay_start_merged take the owner first). */
bool overlay_is_ours(const char *mount_source, const char *owner);

/* Mount a FUSE overlay on dir (captured first, so the server sees what dir showed)
 * with the given synthesized entries, and start its server. On failure nothing is
 * left mounted or running, and *ret_path is left alone where the error is about dir,
 * or names what it is about: the server program (it cannot be executed). */
int overlay_start(const char *owner, const char *dir, char *const *names, const char *kinds,
                  size_t count, struct overlay_instance **ret, const char **ret_path);

/* Mount the merged view of backing (reached as creator would: as_caller.h) over dir
 * (captured first) and start its server. With shadow_count > 0 (absolute paths below
 * dir): for a merged link (merged_exceptions), the union but dir's original alone at
 * these exceptions (whatever type B has there); else the shadow view of a link that
 * is not merged, showing dir's original along the paths to these exceptions. On
 * failure nothing is left mounted or running, and *ret_path is as for overlay_start
 * or backing (it cannot be opened). */
int overlay_start_merged(const char *owner, const struct creds *creator, const char *dir,
                         const char *backing, bool read_only, bool merged_exceptions,
                         char *const *shadow, size_t shadow_count, struct overlay_instance **ret,
                         const char **ret_path);

/* Show exactly these synthesized entries from now on, in place: the running server
 * changes its names and drops what the kernel cached of those that changed, and says
 * so; nothing is remounted, so every other name in dir (and what is mounted on it)
 * goes on as it was (S8: a sibling link never sees an error). 0, or -errno: -ETIMEDOUT
 * when the server did not answer in time (stopped, say), -EPIPE when it is gone. On
 * success the instance's names and kinds are the new ones. */
int overlay_update_entries(struct overlay_instance *overlay, char *const *names, const char *kinds,
                           size_t count);

/* Are mounts that are neither ours nor the daemon's grafts on the view (someone
 * mounted there through it)? Refreshes foreign_targets. The view must not go then:
 * detaching it would take them along. */
bool overlay_hosts_foreign_mounts(struct overlay_instance *overlay);
/* Record a graft made onto the view (its legacy mount id). 0 or -ENOMEM. */
int overlay_add_graft(struct overlay_instance *overlay, uint64_t legacy_id);

/* Does the server still need to serve (a socket was bound through the view and still
 * has its name: it answers only through the view)? False also when it cannot say. */
bool overlay_serves_sockets(struct overlay_instance *overlay);

/* Detach the overlay's mount (if it is still ours on top) with everything on it. The
 * server ends by itself once the kernel lets go of the connection (open files
 * through the old mount keep it serving until then). */
int overlay_stop(struct overlay_instance *overlay);

/* Reap the process if it has ended; true if it has. */
bool overlay_reap(struct overlay_instance *overlay);

/* Re-attach to a journaled overlay after a restart: true when pid is still the
 * same process (by start time) and the top mount on dir is still mount_id, or
 * mount_id is beneath (the mount right under another overlay of ours on dir: a
 * parent overlay on a merged view). The
 * lower directory (and a merged view's upper one) is taken back from the process
 * (pidfd_getfd). */
bool overlay_adopt(struct overlay_instance *overlay, uint64_t beneath);

void overlay_free(struct overlay_instance *overlay);

/* S23: the merged (or shadow) view of upper (B, a descriptor, borrowed) over lower, a
 * directory of another mount namespace (borrowed; dir is its path there, for
 * messages), started as overlay_start_merged starts one but left detached:
 * *ret_mount is the view's mount, for the caller to attach where lower is. The
 * instance holds a copy of upper, not lower. With merged_exceptions, shadow are the
 * exceptions of a MERGED link (the union elsewhere), not a shadow view's. */
int overlay_start_merged_detached(const char *owner, int lower, const char *dir, int upper,
                                  bool read_only, bool merged_exceptions, char *const *shadow,
                                  size_t shadow_count, struct overlay_instance **ret,
                                  int *ret_mount, const char **ret_path);

/* S23: the overlay on a link's parent (as overlay_start) over lower, a directory of
 * another mount namespace (borrowed; dir is its path there, for messages), left
 * detached in *ret_mount for the caller to attach where lower is. */
int overlay_start_detached(const char *owner, int lower, const char *dir, char *const *names,
                           const char *kinds, size_t count, struct overlay_instance **ret,
                           int *ret_mount, const char **ret_path);

/* End the server process pidfd names (-1: none) now, and reap it if it is our child;
 * pidfd stays open. */
void overlay_kill(int pidfd);

/* The start time of process pid (clock ticks since boot), 0 if it cannot be read or
 * the process is ending (a zombie, or dead): a pid and its start time name one live
 * process across restarts. */
uint64_t overlay_process_start_time(pid_t pid);

/* The type (planner.h probe_type, or -errno) of relative_path ("" for the directory
 * itself) in the directory beneath the overlay, asked without going through FUSE; -EBADF if the
 * overlay has no lower descriptor (then look at the path itself). */
int overlay_lower_type(const struct overlay_instance *overlay, const char *relative_path,
                       bool follow);

/* Allocate with copies of dir and the entries (no process, no mount). */
struct overlay_instance *overlay_new(const char *dir, char *const *names, const char *kinds,
                                     size_t count);

#endif
