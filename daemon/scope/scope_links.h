/* scope_links.h — S23: the links that live in other mount namespaces (containers),
 * one table for all of them, apart from bindlinkd's own links: a link in a scope is
 * visible there only, and lives until it is removed or the scope's last process
 * ends. The daemon holds a pidfd of one process of each scope, nothing else of it
 * (no namespace, no descriptor in its tree), so a dead container's filesystems are
 * never kept busy.
 *
 * Plain and READ_ONLY links (a directory over a directory, a file over a file) are
 * bind mounts; MERGED links of two directories and links with exceptions are views
 * (bindlink-overlay, running in bindlinkd's namespace over descriptors of B and of the
 * target's V), made as for the host and attached in the scope. In a target of
 * another user namespace, links arrive by propagation, which locks their flags, and
 * bind links are idmapped to it. Links inside them made after them work (removed
 * deepest first). A link whose V is missing or of another type than B is shown, as on
 * the host, on an entry that an overlay of V's parent makes (its server like a view's;
 * the target's mounts below the parent are put back on top of it). Refused with
 * EOPNOTSUPP, saying so: a link over one made below it before that has no place in
 * its tree (others move onto it: S16), and one
 * that needs an overlay of a parent that is the namespace's own root. */
#ifndef BINDLINKD_SCOPE_LINKS_H
#define BINDLINKD_SCOPE_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "creds.h"
#include "link_manager.h" /* struct outcome */
#include "wire.h"

struct scoped_link {
        uint64_t order;
        uint64_t scope_id; /* the mount namespace's id */
        uint32_t flags;
        char *virtual_path; /* in the scope, as named at creation (below its root) */
        char *backing_path; /* in bindlinkd's view */
        uint64_t mount_id;  /* its mount, unique */
        uint64_t anchor_id; /* the mount it was propagated onto, or 0 (scope_attach.h) */
        uint64_t parent_id; /* the overlay of V's parent that makes V's entry, or 0 */
        /* A view (MERGED, or exceptions: S12-S14): its server, in bindlinkd's
         * namespace; pid 0 for a bind link. pidfd -1 when not (or no longer) known. */
        pid_t server_pid;
        uint64_t server_start; /* its start time, to know it again after a restart */
        int server_pidfd;
};

struct scope {
        uint64_t id;
        int pidfd; /* a process in it: when it ends, another is looked for */
        pid_t pid;
};

struct scope_links {
        struct scoped_link *links;
        size_t count;
        struct scope *scopes;
        size_t scope_count;
        /* Servers of removed views, still serving files opened through them: reaped
         * when they end. */
        int *retired;
        size_t retired_count;
        uint64_t next_order;
        /* Told about each scope's pidfd, to call scope_links_process_ended when it
         * becomes readable. */
        void (*watch)(void *ctx, int pidfd);
        void *watch_ctx;
        char *journal_path; /* state_dir/scopes (scope_journal.h); NULL: none */
        int journal_fd;     /* it, open for appending; -1 until rewritten */
        size_t appended;    /* lines appended since the last rewrite */
        int mounts_fd;      /* scope_mounts.h: mounts detached in scopes; -1: none */
        bool forgot;        /* scope_links_mounts_changed forgot a link */
};

/* A scoped request as the server received it. */
struct scope_request {
        const struct wire_target *target;
        int target_fd; /* its pidfd or namespace, or -1 */
        const struct creds *creator;
        bool admin; /* CAP_SYS_ADMIN in bindlinkd's user namespace */
};

void scope_links_init(struct scope_links *sl, void (*watch)(void *ctx, int pidfd), void *ctx);
void scope_links_done(struct scope_links *sl);
/* Read the scoped links of an earlier run from state_dir and keep those whose
 * namespace still has a process (by its 64-bit id: namespace inode numbers are
 * reused); the others are dropped and said. 0 or -errno (then none are known). */
int scope_links_start(struct scope_links *sl, const char *state_dir);

void scope_links_create(struct scope_links *sl, const struct scope_request *req,
                        const struct wire_create *msg, int backing_fd, struct outcome *ret);
/* Several creates in one scope, in order, all or none: on the first failure those made
 * are removed again (last first), and ret says which link failed ("link N of M"). */
void scope_links_create_many(struct scope_links *sl, const struct scope_request *req,
                             const struct wire_create *msgs, uint32_t count, const int *backing_fds,
                             struct outcome *ret);
/* A link that holds a nested link is not removed (EBUSY); tree: every link at or
 * below virtual_path in the target, deepest first. */
void scope_links_remove(struct scope_links *sl, const struct scope_request *req,
                        const char *virtual_path, bool tree, struct outcome *ret);

/* The id of the scope a list request names (req->target not of kind ALL). 0, or
 * -errno with ret filled. */
int scope_links_resolve(const struct scope_request *req, uint64_t *ret_id, struct outcome *ret);
/* Call fn for each scoped link, in creation order: all of them, or those of scope id. */
/* What `list -o +WATCH` says of l (BINDLINK_WATCH_*): B's filesystem kind, by the
 * rule the view's server watches by; the container's original V is not looked at. */
uint32_t scope_links_layer_watch(const struct scoped_link *l);
void scope_links_each(const struct scope_links *sl, bool all, uint64_t id,
                      void (*fn)(void *ctx, const struct scoped_link *link, pid_t pid), void *ctx);
/* The pid shown for a scope (0: none known). */
pid_t scope_links_pid(const struct scope_links *sl, uint64_t scope_id);

/* A descriptor that becomes readable when a mount leaves a scope (scope_mounts.h), for
 * scope_links_mounts_changed; -1 where the kernel cannot say. */
int scope_links_mounts_fd(const struct scope_links *sl);
/* Forget the links whose mount left their scope without bindlinkd (the container
 * unmounted it, or its namespace ended), ending their views' servers. */
void scope_links_mounts_changed(struct scope_links *sl);

/* pidfd became readable: if it is a scope's, another process of the scope takes its
 * place, or, when none is left, the scope's links are forgotten (their mounts went
 * with the namespace) and their views' servers ended. If it is a view's server, it is
 * reaped (said, if its link is still there: the view answers ENOTCONN until the link
 * is removed). true if it was one of these (closed then). */
bool scope_links_process_ended(struct scope_links *sl, int pidfd);

#endif
