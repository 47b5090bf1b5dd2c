/* scope_links.c — the links in other mount namespaces (S23). */
#include "scope_links.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "as_caller.h"
#include "fs_kind.h"
#include "bindlink.h"
#include "log.h"
#include "path.h"
#include "planner.h"
#include "overlay_instance.h"
#include "scope_attach.h"
#include "scope_journal.h"
#include "scope_mounts.h"
#include "scope_ns.h"
#include "util.h"

__attribute__((format(printf, 5, 6))) static void
say(struct outcome *o, int status, bindlink_fault fault, const char *path, const char *fmt, ...)
{
        *o = (struct outcome){.status = status, .fault = fault};
        (void)snprintf(o->path, sizeof o->path, "%s", path ? path : "");
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(o->message, sizeof o->message, fmt, ap);
        va_end(ap);
}

void scope_links_init(struct scope_links *sl, void (*watch)(void *ctx, int pidfd), void *ctx)
{
        *sl = (struct scope_links){
                .next_order = 1, .watch = watch, .watch_ctx = ctx, .journal_fd = -1};
        sl->mounts_fd = scope_mounts_open();
        if (sl->mounts_fd == -EOPNOTSUPP)
                log_info("this kernel has no mount namespace marks (fanotify FAN_MARK_MNTNS): "
                         "a link unmounted inside its container is noticed when the container "
                         "ends");
        else if (sl->mounts_fd == -EPERM)
                log_info("statmount(2) is refused here (a system call filter that does not "
                         "know it, as systemd 252's): a link unmounted inside its container "
                         "is noticed when the container ends");
        else if (sl->mounts_fd < 0)
                log_warning_errno(sl->mounts_fd,
                                  "cannot watch the mounts of containers (a link unmounted "
                                  "inside its container is noticed when the container ends)");
}

int scope_links_mounts_fd(const struct scope_links *sl)
{
        return sl->mounts_fd;
}

static void scoped_free(struct scoped_link *l)
{
        free(l->virtual_path);
        free(l->backing_path);
}

void scope_links_done(struct scope_links *sl)
{
        /* Views' servers go on serving: a restarted daemon knows them again. */
        for (size_t i = 0; i < sl->count; i++) {
                if (sl->links[i].server_pidfd >= 0)
                        (void)close(sl->links[i].server_pidfd);
                scoped_free(&sl->links[i]);
        }
        for (size_t i = 0; i < sl->retired_count; i++)
                (void)close(sl->retired[i]);
        free(sl->retired);
        for (size_t i = 0; i < sl->scope_count; i++)
                (void)close(sl->scopes[i].pidfd);
        free(sl->links);
        free(sl->scopes);
        free(sl->journal_path);
        if (sl->journal_fd >= 0)
                (void)close(sl->journal_fd);
        if (sl->mounts_fd >= 0)
                (void)close(sl->mounts_fd);
        *sl = (struct scope_links){0};
}

/* After a change: the file says what the table holds. */
static int journal_now(struct scope_links *sl)
{
        if (!sl->journal_path)
                return 0;
        if (sl->journal_fd >= 0)
                (void)close(sl->journal_fd);
        sl->journal_fd = -1;
        sl->appended = 0;
        int r = scope_journal_write(sl->journal_path, sl);
        if (r >= 0 &&
            (sl->journal_fd = open(sl->journal_path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
                r = negative_errno();
        if (r < 0)
                log_error_errno(r, "cannot write the scoped links to %s", sl->journal_path);
        return r;
}

/* Will the next change rewrite the file rather than append to it? */
static bool journal_rewrites(const struct scope_links *sl)
{
        return sl->journal_fd < 0 || sl->appended >= 64 + 2 * sl->count;
}

/* Record that l was added (it is in the table) or is being removed (it still is: its
 * line is appended before it goes; when the file is to be rewritten instead, the
 * caller calls journal_now once it has gone). */
static int journal_change(struct scope_links *sl, const struct scoped_link *l, bool forget)
{
        if (!sl->journal_path)
                return 0;
        if (journal_rewrites(sl))
                return forget ? 0 : journal_now(sl);
        int r = scope_journal_append(sl->journal_fd, l, forget);
        if (r < 0)
                return log_error_errno(r, "cannot append to %s", sl->journal_path);
        sl->appended++;
        return 0;
}

static struct scope *scope_find(const struct scope_links *sl, uint64_t id)
{
        for (size_t i = 0; i < sl->scope_count; i++)
                if (sl->scopes[i].id == id)
                        return &sl->scopes[i];
        return NULL;
}

pid_t scope_links_pid(const struct scope_links *sl, uint64_t scope_id)
{
        const struct scope *s = scope_find(sl, scope_id);
        return s ? s->pid : 0;
}

static void scope_drop(struct scope_links *sl, size_t i)
{
        if (sl->scopes[i].pidfd >= 0)
                (void)close(sl->scopes[i].pidfd); /* and so out of the server's epoll */
        sl->scopes[i] = sl->scopes[--sl->scope_count];
}

static void link_drop(struct scope_links *sl, size_t i)
{
        scoped_free(&sl->links[i]);
        memmove(&sl->links[i], &sl->links[i + 1], (sl->count - i - 1) * sizeof *sl->links);
        sl->count--;
}

/* Scope id when none of its links is left: kept, or forgotten (and its mounts no
 * longer watched, given its namespace nsfd; -1: it cannot be, forgotten). */
static void scope_release(struct scope_links *sl, uint64_t id, int nsfd)
{
        for (size_t i = 0; i < sl->count; i++)
                if (sl->links[i].scope_id == id)
                        return;
        /* A container whose links are gone often gets others (a runtime's hook, an
         * admin's next create): the scope is kept, a pidfd and a mark that hold
         * nothing of it, while at most 64 are kept so, and goes when its namespace
         * ends. (Dropping and making it again was a third of a scoped remove.) */
        size_t idle = 0;
        for (size_t i = 0; i < sl->scope_count; i++) {
                bool has_links = false;
                for (size_t j = 0; j < sl->count && !has_links; j++)
                        has_links = sl->links[j].scope_id == sl->scopes[i].id;
                idle += !has_links;
        }
        if (idle <= 64 && nsfd >= 0)
                return;
        if (sl->mounts_fd >= 0 && nsfd >= 0)
                (void)scope_mounts_mark(sl->mounts_fd, nsfd, false);
        for (size_t i = 0; i < sl->scope_count; i++)
                if (sl->scopes[i].id == id) {
                        scope_drop(sl, i);
                        return;
                }
}

static struct scoped_link *link_find(const struct scope_links *sl, uint64_t id, const char *v)
{
        for (size_t i = 0; i < sl->count; i++)
                if (sl->links[i].scope_id == id && strcmp(sl->links[i].virtual_path, v) == 0)
                        return &sl->links[i];
        return NULL;
}

/* The namespace a create or remove names, if its sender may act on it. */
static int open_scope(const struct scope_request *req, struct scope_ns *ns, bool *ret_own_userns,
                      struct outcome *ret)
{
        char why[512] = "";
        if (!req->admin) {
                say(ret, -EPERM, BINDLINK_FAULT_CALLER, NULL,
                    "changing links in another mount namespace needs CAP_SYS_ADMIN in "
                    "bindlinkd's user namespace (the group bindlinkd allows is not enough)");
                return -EPERM;
        }
        int r = scope_ns_open(req->target, req->target_fd, ns, why, sizeof why);
        if (r < 0) {
                say(ret, r, BINDLINK_FAULT_NONE, NULL, "the target: %s", why);
                return r;
        }
        r = scope_ns_authorize(ns, ret_own_userns, why, sizeof why);
        if (r < 0) {
                scope_ns_done(ns);
                say(ret, r, BINDLINK_FAULT_CALLER, NULL, "the target: %s", why);
                return r;
        }
        return 0;
}

static const char *target_root(const struct scope_request *req)
{
        return req->target->root ? req->target->root : "";
}

/* The first link of scope id strictly below v, or NULL. */
static const struct scoped_link *link_below(const struct scope_links *sl, uint64_t id,
                                            const char *v)
{
        for (size_t i = 0; i < sl->count; i++)
                if (sl->links[i].scope_id == id &&
                    path_is_strict_descendant(v, sl->links[i].virtual_path))
                        return &sl->links[i];
        return NULL;
}

/* B as its creator reaches it now, checked to be what the caller opened. */
static int open_backing(const struct scope_request *req, const struct wire_create *msg,
                        int caller_fd, struct stat *st, struct outcome *ret)
{
        const char *b = msg->backing_path;
        if (msg->backing_error) {
                say(ret, -msg->backing_error, BINDLINK_FAULT_BACKING, b,
                    "cannot open backing path %s: %s", b, strerror(msg->backing_error));
                return -msg->backing_error;
        }
        int fd = as_caller_open(req->creator, AT_FDCWD, b, false);
        struct stat caller_st;
        if (fd >= 0 && (fstat(fd, st) < 0 || fstat(caller_fd, &caller_st) < 0 ||
                        st->st_dev != caller_st.st_dev || st->st_ino != caller_st.st_ino)) {
                (void)close(fd);
                fd = -ESTALE;
        }
        if (fd < 0)
                say(ret, fd, BINDLINK_FAULT_BACKING, b,
                    fd == -ESTALE ? "backing path %s changed while the link was made"
                                  : "cannot open backing path %s as its creator: %s",
                    b, strerror(-fd));
        return fd;
}

/* A detached copy of B, read-only for READ_ONLY, private (it shall receive nothing
 * from B's peers, and give nothing back). For a target of another user namespace
 * (userns >= 0), idmapped to it where B's filesystem allows, so that B's owners show
 * inside as the same numbers (root's files as the container root's, as podman's
 * ":idmap" volumes do); where it does not, they show as that namespace maps them
 * (unmapped ones as the overflow id, nobody). */
static int prepare_tree(int backing, bool read_only, int userns, const char *virtual_path)
{
        _cleanup_close_ int tree = open_tree(
                backing, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0)
                return negative_errno();
        if (userns >= 0) {
                struct mount_attr idmap = {.attr_set = MOUNT_ATTR_IDMAP,
                                           .userns_fd = (uint64_t)userns};
                if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &idmap, sizeof idmap) < 0)
                        log_info_errno(negative_errno(),
                                       "the link on %s shows B's owners unmapped: its "
                                       "filesystem cannot be idmapped",
                                       virtual_path);
        }
        struct mount_attr attr = {.propagation = MS_PRIVATE};
        if (read_only)
                attr.attr_set = MOUNT_ATTR_RDONLY;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                return negative_errno();
        return TAKE_FD(tree);
}

static int scope_add(struct scope_links *sl, struct scope_ns *ns)
{
        if (scope_find(sl, ns->id))
                return 0;
        struct scope *grown = realloc(sl->scopes, (sl->scope_count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        sl->scopes = grown;
        sl->scopes[sl->scope_count++] = (struct scope){ns->id, ns->pidfd, ns->pid};
        ns->pidfd = -1; /* the scope's now */
        if (sl->mounts_fd >= 0) {
                _cleanup_close_ int found = -1;
                int nsfd = ns->nsfd >= 0 ? ns->nsfd
                                         : (found = scope_ns_of_pidfd(
                                                    sl->scopes[sl->scope_count - 1].pidfd));
                int r = nsfd < 0 ? nsfd : scope_mounts_mark(sl->mounts_fd, nsfd, true);
                if (r < 0)
                        log_warning_errno(r,
                                          "cannot watch the mounts of mount namespace %llu (a "
                                          "link unmounted there is noticed when it ends)",
                                          (unsigned long long)ns->id);
        }
        if (sl->watch)
                sl->watch(sl->watch_ctx, sl->scopes[sl->scope_count - 1].pidfd);
        return 0;
}

/* Checks a scoped create makes before touching anything: the outcome filled and
 * false when one fails. */
static bool create_allowed(const struct wire_create *msg, struct outcome *ret)
{
        const char *v = msg->virtual_path;
        if (strcmp(v, "/") == 0) {
                say(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL, v, "/ cannot be a virtual path");
                return false;
        }
        for (uint32_t i = 0; i < msg->exception_count; i++)
                if (!path_is_normalized(msg->exception_paths[i]) ||
                    !path_is_strict_descendant(v, msg->exception_paths[i])) {
                        say(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[i],
                            "exception %s is not a normalized path inside virtual path %s",
                            msg->exception_paths[i], v);
                        ret->exception_index = i;
                        return false;
                }
        return true;
}

/* S16: the links of scope id made below v before it, whose mounts move onto the new
 * link's tree (scope_attach.h): the topmost mount of each (a graft's parent overlay,
 * else its own), outermost ones only. Their count, or -1 with ret filled. */
static int movers_of(const struct scope_links *sl, uint64_t id, const char *v,
                     struct scope_mover *out, char **paths, struct outcome *ret)
{
        size_t count = 0;
        for (size_t i = 0; i < sl->count; i++) {
                const struct scoped_link *l = &sl->links[i];
                if (l->scope_id != id || !path_is_strict_descendant(v, l->virtual_path))
                        continue;
                /* On another link's parent overlay: moves with it. */
                if (l->parent_id && !l->server_pid)
                        continue;
                char *top = NULL;
                if (l->parent_id ? path_parent(l->virtual_path, &top) < 0
                                 : !(top = strdup(l->virtual_path))) {
                        say(ret, -ENOMEM, BINDLINK_FAULT_NONE, NULL, "out of memory");
                        goto fail;
                }
                const char *why = strcmp(top, v) == 0 ? "whose overlay is on this virtual path"
                                  : count == SCOPE_MAX_MOVERS ? "more of them than 64"
                                                              : NULL;
                if (why) {
                        say(ret, -EOPNOTSUPP, BINDLINK_FAULT_VIRTUAL, v,
                            "%s would cover the link on %s in the target, %s: not supported "
                            "yet (make the outer one first)",
                            v, l->virtual_path, why);
                        free(top);
                        goto fail;
                }
                paths[count] = top;
                /* Its top mount there; under it, by propagation, its anchor. */
                out[count++] =
                        (struct scope_mover){.relative = top + strlen(v) + 1,
                                             .mount_id = l->parent_id ? l->parent_id : l->mount_id,
                                             .anchor_id = l->anchor_id};
        }
        /* Outermost only: one below another moves with it. */
        size_t kept = 0;
        for (size_t i = 0; i < count; i++) {
                bool inner = false;
                for (size_t j = 0; j < count; j++)
                        inner |= j != i && path_is_strict_descendant(paths[j], paths[i]);
                if (inner) {
                        free(paths[i]);
                        continue;
                }
                paths[kept] = paths[i];
                out[kept++] = out[i];
        }
        return (int)kept;
fail:
        for (size_t i = 0; i < count; i++)
                free(paths[i]);
        return -1;
}

/* The view of a MERGED link of two directories, or the shadow view of a link with
 * exceptions (S12-S14), over V's directory in the target: its server started here,
 * its mount detached in *ret_mount for the caller to attach on V (which must still be
 * *ret_place). The server sees the target's V through a descriptor only. */
static int start_view(const struct scope_links *sl, const struct scope_request *req,
                      const struct scope_ns *ns, const struct wire_create *msg, int backing,
                      struct overlay_instance **ret_view, int *ret_mount, struct stat *ret_place,
                      bool *ret_needs_overlay, struct outcome *ret)
{
        const char *v = msg->virtual_path;
        char why[512] = "";
        int index = -1;
        _cleanup_close_ int lower =
                scope_open_place(ns->nsfd, target_root(req), v, msg->exception_paths,
                                 msg->exception_count, &index, why, sizeof why);
        if (lower < 0) {
                if (index >= 0) {
                        say(ret, lower, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[index], "%s",
                            why);
                        ret->exception_index = (uint32_t)index;
                } else if (lower == -ENOENT) {
                        say(ret, lower, BINDLINK_FAULT_VIRTUAL_PARENT, v, "%s", why);
                } else if (lower == -EOPNOTSUPP || lower == -ENOTDIR || lower == -ELOOP) {
                        /* V is missing, or not a directory: MERGED has no effect (S12),
                         * B is shown by an overlay of V's parent. */
                        *ret_needs_overlay = true;
                        say(ret, -EOPNOTSUPP, BINDLINK_FAULT_VIRTUAL, v, "%s", why);
                } else {
                        say(ret, lower, BINDLINK_FAULT_VIRTUAL, v, "%s", why);
                }
                return lower;
        }
        if (fstat(lower, ret_place) < 0) {
                int r = negative_errno();
                say(ret, r, BINDLINK_FAULT_VIRTUAL, v, "cannot stat %s in the target: %s", v,
                    strerror(-r));
                return r;
        }
        bool merged = msg->flags & CREATE_BIND_LINK_FLAG_MERGED;
        const char *about = v;
        int r = overlay_start_merged_detached(
                sl->journal_path ? sl->journal_path : "scopes", lower, v, backing,
                msg->flags & CREATE_BIND_LINK_FLAG_READ_ONLY, merged, msg->exception_paths,
                msg->exception_count, ret_view, ret_mount, &about);
        if (r < 0)
                say(ret, r, BINDLINK_FAULT_NONE, about, "cannot start the view of %s: %s (%s)", v,
                    strerror(-r), about);
        return r;
}

/* End a view's server now (its mount never reached the target, or the target ended). */
static void kill_server(int pidfd)
{
        overlay_kill(pidfd);
        if (pidfd >= 0)
                (void)close(pidfd);
}

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* Add (kind 'd' or 'f') or take away (kind '-') the entry name in the parent overlay
 * that owner's server serves, through the server's control socket (the daemon's end,
 * which the server keeps as its descriptor 6: bindlinkd need not hold it). */
static int change_entry(const struct scoped_link *owner, const char *name, char kind)
{
        if (owner->server_pidfd < 0)
                return -ENOTCONN;
        int control = (int)syscall(SYS_pidfd_getfd, owner->server_pidfd, 6, 0);
        if (control < 0)
                return negative_errno();
        char *names[] = {(char *)name};
        char kinds[] = {kind};
        struct overlay_instance *o =
                kind == '-' ? overlay_new("", names, "d", 1) : overlay_new("", NULL, NULL, 0);
        if (!o) {
                (void)close(control);
                return -ENOMEM;
        }
        o->control_fd = control;
        int r = kind == '-' ? overlay_update_entries(o, NULL, NULL, 0)
                            : overlay_update_entries(o, names, kinds, 1);
        overlay_free(o);
        return r;
}

/* The link of scope id that owns the overlay of parent (its server serves it), or
 * NULL. */
static struct scoped_link *overlay_owner(const struct scope_links *sl, uint64_t id,
                                         const char *parent)
{
        for (size_t i = 0; i < sl->count; i++) {
                struct scoped_link *l = &sl->links[i];
                _cleanup_free_ char *up = NULL;
                if (l->scope_id == id && l->parent_id && l->server_pid &&
                    path_parent(l->virtual_path, &up) >= 0 && strcmp(up, parent) == 0)
                        return l;
        }
        return NULL;
}

/* V's entry added to the overlay of its parent that owner's server serves, and B's
 * tree attached on it. */
static int graft_join(const struct scope_request *req, const struct scope_ns *ns, bool own_userns,
                      int userns, const struct wire_create *msg, int backing,
                      const struct stat *backing_st, const struct scoped_link *owner,
                      uint64_t *ret_mount_id, uint64_t *ret_parent_id, uint64_t *ret_anchor_id,
                      struct outcome *ret)
{
        const char *v = msg->virtual_path;
        if (msg->exception_count > 0) {
                say(ret, -EOPNOTSUPP, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[0],
                    "exceptions of a link whose virtual path %s is missing or of another type "
                    "are not supported in a target yet",
                    v);
                return -EOPNOTSUPP;
        }
        const char *name = path_last(v);
        int r = change_entry(owner, name, S_ISDIR(backing_st->st_mode) ? 'd' : 'f');
        if (r < 0) {
                say(ret, r, BINDLINK_FAULT_VIRTUAL, v,
                    "cannot add %s to the overlay of its parent (the link on %s's): %s", v,
                    owner->virtual_path, strerror(-r));
                return r;
        }
        char why[512] = "";
        bool needs_overlay = false;
        _cleanup_close_ int tree =
                prepare_tree(backing, msg->flags & CREATE_BIND_LINK_FLAG_READ_ONLY, userns, v);
        r = tree < 0 ? tree
                     : scope_attach(ns->nsfd, target_root(req), v, tree,
                                    S_ISDIR(backing_st->st_mode), !own_userns, NULL, NULL, 0,
                                    ret_mount_id, ret_anchor_id, &needs_overlay, why, sizeof why);
        if (r < 0) {
                (void)change_entry(owner, name, '-');
                say(ret, r, BINDLINK_FAULT_VIRTUAL, v,
                    "cannot place the link on %s in the target: %s", v,
                    why[0] ? why : strerror(-r));
                return r;
        }
        *ret_parent_id = owner->parent_id;
        return 0;
}

/* A link whose V is missing or of another type than B (S8, S9): an overlay of V's
 * parent (bindlink-overlay, in bindlinkd's namespace over a descriptor of the
 * target's parent) makes V's entry, and B's tree goes on it. Its server in *ret_view,
 * ids in *ret_mount_id and *ret_parent_id. */
static int graft_with(const struct scope_links *sl, const struct scope_request *req,
                      const struct scope_ns *ns, bool own_userns, int userns,
                      const struct wire_create *msg, int backing, const struct stat *backing_st,
                      struct overlay_instance **ret_view, uint64_t *ret_mount_id,
                      uint64_t *ret_parent_id, uint64_t *ret_anchor_id,
                      const struct scope_mover *movers, int mover_count, struct outcome *ret)
{
        const char *v = msg->virtual_path;
        char why[512] = "";
        _cleanup_free_ char *up = NULL;
        if (path_parent(v, &up) < 0) {
                say(ret, -ENOMEM, BINDLINK_FAULT_NONE, NULL, "out of memory");
                return -ENOMEM;
        }
        mode_t type = 0;
        _cleanup_close_ int parent =
                scope_open_parent(ns->nsfd, target_root(req), v, &type, why, sizeof why);
        if (parent < 0) {
                say(ret, parent,
                    parent == -ENOENT ? BINDLINK_FAULT_VIRTUAL_PARENT : BINDLINK_FAULT_VIRTUAL, v,
                    "%s", why);
                return parent;
        }
        if (msg->exception_count > 0) {
                /* S8: nothing to except in what does not exist; and exceptions of a link
                 * over another type are not made in a target. */
                int r = type == 0 ? -EINVAL : -EOPNOTSUPP;
                say(ret, r, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[0],
                    type == 0 ? "%s does not exist, and an anchorless link cannot have "
                                "exceptions"
                              : "%s is of another type than the backing path: exceptions of "
                                "such a link in a target namespace are not supported yet",
                    v);
                return r;
        }
        struct stat parent_st;
        if (fstat(parent, &parent_st) < 0) {
                int r = negative_errno();
                say(ret, r, BINDLINK_FAULT_VIRTUAL, v, "cannot stat the parent of %s: %s", v,
                    strerror(-r));
                return r;
        }
        char *names[] = {(char *)path_last(v)};
        char kinds[] = {S_ISDIR(backing_st->st_mode) ? 'd' : 'f'};
        const char *about = up;
        _cleanup_close_ int overlay = -1;
        int r = overlay_start_detached(sl->journal_path ? sl->journal_path : "scopes", parent, up,
                                       names, kinds, 1, ret_view, &overlay, &about);
        if (r < 0) {
                say(ret, r, BINDLINK_FAULT_NONE, about,
                    "cannot start the overlay of %s in the target: %s (%s)", up, strerror(-r),
                    about);
                return r;
        }
        _cleanup_close_ int tree =
                prepare_tree(backing, msg->flags & CREATE_BIND_LINK_FLAG_READ_ONLY, userns, v);
        r = tree < 0 ? tree
                     : scope_attach_graft(ns->nsfd, target_root(req), v, overlay, tree, &parent_st,
                                          !own_userns, movers, (size_t)mover_count, ret_mount_id,
                                          ret_parent_id, ret_anchor_id, why, sizeof why);
        if (r < 0) {
                kill_server(TAKE_FD((*ret_view)->pidfd));
                overlay_free(*ret_view);
                *ret_view = NULL;
                say(ret, r, BINDLINK_FAULT_VIRTUAL, v,
                    "cannot place the link on %s in the target: %s", v,
                    why[0] ? why : strerror(-r));
        }
        return r;
}

static int graft(const struct scope_links *sl, const struct scope_request *req,
                 const struct scope_ns *ns, bool own_userns, int userns,
                 const struct wire_create *msg, int backing, const struct stat *backing_st,
                 struct overlay_instance **ret_view, uint64_t *ret_mount_id,
                 uint64_t *ret_parent_id, uint64_t *ret_anchor_id, struct outcome *ret)
{
        const char *v = msg->virtual_path;
        _cleanup_free_ char *up = NULL;
        if (path_parent(v, &up) < 0) {
                say(ret, -ENOMEM, BINDLINK_FAULT_NONE, NULL, "out of memory");
                return -ENOMEM;
        }
        /* The parent has its overlay already (another link's): V's entry is added
         * to it, in place, as the host does, and B goes on it. */
        struct scoped_link *owner = overlay_owner(sl, ns->id, up);
        if (owner)
                return graft_join(req, ns, own_userns, userns, msg, backing, backing_st, owner,
                                  ret_mount_id, ret_parent_id, ret_anchor_id, ret);
        /* Links made in the parent before move onto the overlay (S16), as onto any
         * link made over them. */
        struct scope_mover movers[SCOPE_MAX_MOVERS];
        char *mover_paths[SCOPE_MAX_MOVERS];
        int mover_count = movers_of(sl, ns->id, up, movers, mover_paths, ret);
        if (mover_count < 0)
                return -EOPNOTSUPP;
        int r = graft_with(sl, req, ns, own_userns, userns, msg, backing, backing_st, ret_view,
                           ret_mount_id, ret_parent_id, ret_anchor_id, movers, mover_count, ret);
        for (int i = 0; i < mover_count; i++)
                free(mover_paths[i]);
        return r;
}

/* Create msg's link in the scope ns (opened and authorized). */
static void create_in(struct scope_links *sl, const struct scope_request *req, struct scope_ns *ns,
                      bool own_userns, const struct wire_create *msg, int backing_fd,
                      struct outcome *ret)
{
        const char *v = msg->virtual_path;
        struct stat st, place;
        _cleanup_close_ int backing = -1;
        _cleanup_close_ int tree = -1;
        struct overlay_instance *view = NULL;
        uint64_t mount_id = 0, anchor_id = 0, parent_id = 0;
        bool needs_overlay = false;
        struct scope_mover movers[SCOPE_MAX_MOVERS];
        char *mover_paths[SCOPE_MAX_MOVERS];
        int mover_count = 0;
        char why[512] = "";
        int r;
        bool merged = msg->flags & CREATE_BIND_LINK_FLAG_MERGED;
        if (!create_allowed(msg, ret)) {
                /* said */
        } else if ((mover_count = movers_of(sl, ns->id, v, movers, mover_paths, ret)) < 0) {
                /* said */
        } else if ((backing = open_backing(req, msg, backing_fd, &st, ret)) < 0) {
                /* said (before the duplicate, as Windows orders them: S2) */
        } else if (link_find(sl, ns->id, v)) {
                say(ret, -EEXIST, BINDLINK_FAULT_VIRTUAL, v,
                    "%s is already the virtual path of a link in the target", v);
        } else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
                say(ret, -EINVAL, BINDLINK_FAULT_BACKING, msg->backing_path,
                    "backing path %s is neither a directory nor a regular file", msg->backing_path);
        } else if (!S_ISDIR(st.st_mode) && msg->exception_count > 0) {
                say(ret, -EOPNOTSUPP, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[0],
                    "exceptions of a link whose backing path is a file in a target namespace "
                    "are not supported yet");
        } else {
                bool needs_view = S_ISDIR(st.st_mode) && (merged || msg->exception_count > 0);
                struct scoped_link *grown = realloc(sl->links, (sl->count + 1) * sizeof *grown);
                if (!grown) {
                        say(ret, -ENOMEM, BINDLINK_FAULT_NONE, NULL, "out of memory");
                        goto out;
                }
                sl->links = grown;
                struct scoped_link l = {.scope_id = ns->id,
                                        .flags = msg->flags,
                                        .virtual_path = strdup(v),
                                        .backing_path = strdup(msg->backing_path),
                                        .server_pidfd = -1};
                if (!l.virtual_path || !l.backing_path || scope_add(sl, ns) < 0) {
                        scoped_free(&l);
                        say(ret, -ENOMEM, BINDLINK_FAULT_NONE, NULL, "out of memory");
                        scope_release(sl, ns->id, ns->nsfd);
                        goto out;
                }
                /* In a target of another user namespace the link arrives by
                 * propagation, which locks its flags: attached directly, a
                 * read-only mount would be its root's to remount read-write. */
                _cleanup_close_ int userns = own_userns ? -1 : ioctl(ns->nsfd, NS_GET_USERNS);
                if (!own_userns && userns < 0) {
                        r = negative_errno();
                        say(ret, r, BINDLINK_FAULT_NONE, NULL,
                            "cannot open the target's user namespace: %s", strerror(-r));
                } else if (needs_view) {
                        r = start_view(sl, req, ns, msg, backing, &view, &tree, &place,
                                       &needs_overlay, ret);
                } else {
                        tree = prepare_tree(backing, msg->flags & CREATE_BIND_LINK_FLAG_READ_ONLY,
                                            userns, v);
                        r = tree;
                        if (r < 0)
                                say(ret, r, BINDLINK_FAULT_BACKING, msg->backing_path,
                                    "cannot copy the mount of %s: %s", msg->backing_path,
                                    strerror(-r));
                }
                if (r >= 0) {
                        r = scope_attach(ns->nsfd, target_root(req), v, tree, S_ISDIR(st.st_mode),
                                         !own_userns, view ? &place : NULL, movers,
                                         (size_t)mover_count, &mount_id, &anchor_id, &needs_overlay,
                                         why, sizeof why);
                        if (r < 0)
                                say(ret, r,
                                    r == -ENOENT ? BINDLINK_FAULT_VIRTUAL_PARENT
                                                 : BINDLINK_FAULT_VIRTUAL,
                                    v, "cannot place the link on %s in the target: %s", v,
                                    why[0] ? why : strerror(-r));
                }
                if (r < 0 && needs_overlay)
                        r = graft(sl, req, ns, own_userns, userns, msg, backing, &st, &view,
                                  &mount_id, &parent_id, &anchor_id, ret);
                if (r < 0) {
                        if (view) {
                                kill_server(TAKE_FD(view->pidfd));
                                overlay_free(view);
                        }
                        scoped_free(&l);
                        scope_release(sl, ns->id, ns->nsfd);
                        goto out;
                }
                if (view) {
                        /* The server is all the daemon keeps of the view: B and the
                         * target's V are the server's to hold, not ours. */
                        l.server_pid = view->pid;
                        l.server_start = view->start_time;
                        l.server_pidfd = TAKE_FD(view->pidfd);
                        overlay_free(view);
                        view = NULL;
                        if (sl->watch)
                                sl->watch(sl->watch_ctx, l.server_pidfd);
                }
                l.mount_id = mount_id;
                l.anchor_id = anchor_id;
                l.parent_id = parent_id;
                l.order = sl->next_order++;
                sl->links[sl->count++] = l;
                /* A link that cannot be recorded would be lost at a restart: undone. */
                r = journal_change(sl, &sl->links[sl->count - 1], false);
                if (r < 0) {
                        (void)scope_detach(ns->nsfd, target_root(req), v, mount_id, anchor_id,
                                           parent_id, why, sizeof why);
                        struct scoped_link *undone = &sl->links[--sl->count];
                        kill_server(TAKE_FD(undone->server_pidfd));
                        scoped_free(undone);
                        scope_release(sl, ns->id, ns->nsfd);
                        say(ret, r, BINDLINK_FAULT_NONE, v,
                            "cannot record the link on %s in %s: %s", v, sl->journal_path,
                            strerror(-r));
                        goto out;
                }
                log_info("link %s -> %s created in mount namespace %llu (pid %d)%s", v,
                         msg->backing_path, (unsigned long long)ns->id, (int)ns->pid,
                         parent_id      ? " on an overlay of its parent"
                         : l.server_pid ? " as a view"
                                        : "");
                *ret = (struct outcome){0};
        }
out:
        for (int i = 0; i < mover_count; i++)
                free(mover_paths[i]);
}

/* Remove the link on virtual_path from the scope ns (opened and authorized). */
static void remove_in(struct scope_links *sl, const struct scope_request *req, struct scope_ns *ns,
                      const char *virtual_path, struct outcome *ret)
{
        struct scoped_link *l = link_find(sl, ns->id, virtual_path);
        if (!l) {
                say(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL, virtual_path,
                    "%s is not the virtual path of a link in the target", virtual_path);
                return;
        }
        /* RemoveBindLink's rule: nested links go deepest first (unmounting this one
         * would take them with it). */
        const struct scoped_link *below = link_below(sl, ns->id, virtual_path);
        if (below) {
                say(ret, -EBUSY, BINDLINK_FAULT_VIRTUAL, virtual_path,
                    "the link on %s in the target holds the link on %s: remove nested "
                    "links deepest first, or all of them at once (--recursive)",
                    virtual_path, below->virtual_path);
                return;
        }
        /* The overlay that makes V's entry carries whatever else was made in V's
         * parent since: it goes with it, so they go first. */
        _cleanup_free_ char *up = NULL;
        bool owns_overlay = l->parent_id && l->server_pid;
        if (owns_overlay && path_parent(virtual_path, &up) >= 0)
                for (size_t i = 0; i < sl->count; i++)
                        if (&sl->links[i] != l && sl->links[i].scope_id == ns->id &&
                            path_is_strict_descendant(up, sl->links[i].virtual_path)) {
                                say(ret, -EBUSY, BINDLINK_FAULT_VIRTUAL, virtual_path,
                                    "the overlay of %s that shows the link on %s in the target "
                                    "carries the link on %s: remove that one first",
                                    up, virtual_path, sl->links[i].virtual_path);
                                return;
                        }
        char why[512] = "";
        int r = scope_detach(ns->nsfd, target_root(req), virtual_path, l->mount_id, l->anchor_id,
                             owns_overlay ? l->parent_id : 0, why, sizeof why);
        if (r == -ESTALE) {
                log_warning("link %s in mount namespace %llu: %s; forgotten", virtual_path,
                            (unsigned long long)ns->id, why);
                r = 0;
        }
        if (r < 0) {
                say(ret, r, BINDLINK_FAULT_VIRTUAL, virtual_path,
                    "cannot remove the link on %s in the target: %s", virtual_path,
                    why[0] ? why : strerror(-r));
        } else {
                /* A link on another's parent overlay: its entry goes from it. */
                _cleanup_free_ char *parent = NULL;
                struct scoped_link *owner =
                        l->parent_id && !owns_overlay && path_parent(virtual_path, &parent) >= 0
                                ? overlay_owner(sl, ns->id, parent)
                                : NULL;
                int e = owner ? change_entry(owner, path_last(virtual_path), '-') : 0;
                if (e < 0)
                        log_warning_errno(e, "the overlay of %s still shows an entry %s", parent,
                                          path_last(virtual_path));
                /* A view's server ends once nothing opened through the view is left. */
                if (l->server_pidfd >= 0) {
                        int *grown = realloc(sl->retired, (sl->retired_count + 1) * sizeof *grown);
                        if (grown) {
                                sl->retired = grown;
                                sl->retired[sl->retired_count++] = TAKE_FD(l->server_pidfd);
                        } else {
                                kill_server(TAKE_FD(l->server_pidfd));
                        }
                }
                bool rewrite = journal_rewrites(sl);
                (void)journal_change(sl, l, true); /* said if it fails */
                link_drop(sl, (size_t)(l - sl->links));
                scope_release(sl, ns->id, ns->nsfd);
                if (rewrite)
                        (void)journal_now(sl);
                log_info("link %s removed from mount namespace %llu", virtual_path,
                         (unsigned long long)ns->id);
                *ret = (struct outcome){0};
        }
}

void scope_links_create(struct scope_links *sl, const struct scope_request *req,
                        const struct wire_create *msg, int backing_fd, struct outcome *ret)
{
        struct scope_ns ns;
        bool own_userns = false;
        if (open_scope(req, &ns, &own_userns, ret) < 0)
                return;
        create_in(sl, req, &ns, own_userns, msg, backing_fd, ret);
        scope_ns_done(&ns);
}

void scope_links_create_many(struct scope_links *sl, const struct scope_request *req,
                             const struct wire_create *msgs, uint32_t count, const int *backing_fds,
                             struct outcome *ret)
{
        struct scope_ns ns;
        bool own_userns = false;
        if (open_scope(req, &ns, &own_userns, ret) < 0)
                return;
        uint32_t made = 0;
        for (; made < count; made++) {
                create_in(sl, req, &ns, own_userns, &msgs[made], backing_fds[made], ret);
                if (ret->status < 0)
                        break;
        }
        if (made < count) {
                /* All or none: those made go again, last first (nested ones are made
                 * after their outer links). */
                struct outcome failed = *ret;
                for (uint32_t i = made; i-- > 0;) {
                        struct outcome undone;
                        remove_in(sl, req, &ns, msgs[i].virtual_path, &undone);
                        if (undone.status < 0)
                                log_error("link %s in mount namespace %llu, made in a batch "
                                          "that failed, stays: %s",
                                          msgs[i].virtual_path, (unsigned long long)ns.id,
                                          undone.message);
                }
                *ret = failed;
                (void)snprintf(ret->message, sizeof ret->message, "link %u of %u (%.200s): %.270s",
                               made + 1, count, msgs[made].virtual_path, failed.message);
        }
        scope_ns_done(&ns);
}

/* A link of the tree being removed, copied: each removal changes sl->links. */
struct tree_member {
        char *virtual_path;
        uint64_t order;
};

/* Removals go deepest first; of one depth, the last made first (an overlay's owner
 * goes last). */
static const char *member_path(const void *m)
{
        return ((const struct tree_member *)m)->virtual_path;
}
static uint64_t member_order(const void *m)
{
        return ((const struct tree_member *)m)->order;
}
static const struct order_rules removal_order = {.path = member_path, .key = member_order};

/* Every link at or below virtual_path in the scope ns, deepest first. */
static void remove_tree_in(struct scope_links *sl, const struct scope_request *req,
                           struct scope_ns *ns, const char *virtual_path, struct outcome *ret)
{
        struct tree_member *members = calloc(sl->count + 1, sizeof *members);
        _cleanup_free_ struct tree_member **deepest_first =
                calloc(sl->count + 1, sizeof *deepest_first);
        size_t count = 0;
        if (!members || !deepest_first) {
                free(members);
                say(ret, -ENOMEM, BINDLINK_FAULT_NONE, virtual_path, "out of memory");
                return;
        }
        for (size_t i = 0; i < sl->count; i++) {
                const struct scoped_link *l = &sl->links[i];
                if (l->scope_id != ns->id || (strcmp(l->virtual_path, virtual_path) != 0 &&
                                              !path_is_strict_descendant(virtual_path,
                                                                         l->virtual_path)))
                        continue;
                members[count] = (struct tree_member){strdup(l->virtual_path), l->order};
                deepest_first[count] = &members[count];
                if (!members[count++].virtual_path) {
                        say(ret, -ENOMEM, BINDLINK_FAULT_NONE, virtual_path, "out of memory");
                        goto out;
                }
        }
        if (count == 0) {
                say(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL, virtual_path,
                    "no link's virtual path in the target is %s or below it", virtual_path);
                goto out;
        }
        order_deepest_first((void **)deepest_first, count, &removal_order);
        for (size_t i = 0; i < count; i++) {
                remove_in(sl, req, ns, deepest_first[i]->virtual_path, ret);
                if (ret->status < 0) {
                        char cause[sizeof ret->message];
                        (void)snprintf(cause, sizeof cause, "%s", ret->message);
                        (void)snprintf(ret->message, sizeof ret->message,
                                       "removed %zu of the %zu links at or below %.150s, then: "
                                       "%.200s",
                                       i, count, virtual_path, cause);
                        goto out;
                }
        }
out:
        for (size_t i = 0; i < count; i++)
                free(members[i].virtual_path);
        free(members);
}

void scope_links_remove(struct scope_links *sl, const struct scope_request *req,
                        const char *virtual_path, bool tree, struct outcome *ret)
{
        struct scope_ns ns;
        bool own_userns;
        if (open_scope(req, &ns, &own_userns, ret) < 0)
                return;
        if (tree)
                remove_tree_in(sl, req, &ns, virtual_path, ret);
        else
                remove_in(sl, req, &ns, virtual_path, ret);
        scope_ns_done(&ns);
}

int scope_links_resolve(const struct scope_request *req, uint64_t *ret_id, struct outcome *ret)
{
        struct scope_ns ns;
        char why[512] = "";
        int r = scope_ns_open(req->target, req->target_fd, &ns, why, sizeof why);
        if (r < 0) {
                say(ret, r, BINDLINK_FAULT_NONE, NULL, "the target: %s", why);
                return r;
        }
        *ret_id = ns.id;
        scope_ns_done(&ns);
        return 0;
}

uint32_t scope_links_layer_watch(const struct scoped_link *l)
{
        if (!l->server_pid && !l->parent_id)
                return BINDLINK_WATCH_NO_VIEW;
        /* V's original is the container's (often its root's overlayfs, which is not
         * watched): reaching it means entering the container, not done for a list. */
        if (l->parent_id)
                return BINDLINK_WATCH_ORIGINAL_UNKNOWN; /* B is a bind mount on the overlay */
        _cleanup_close_ int b = open(l->backing_path, O_PATH | O_CLOEXEC);
        return BINDLINK_WATCH_ORIGINAL_UNKNOWN |
               (b >= 0 && fs_is_local(b) ? 0 : BINDLINK_WATCH_BACKING_TIMEOUT);
}

void scope_links_each(const struct scope_links *sl, bool all, uint64_t id,
                      void (*fn)(void *ctx, const struct scoped_link *link, pid_t pid), void *ctx)
{
        for (size_t i = 0; i < sl->count; i++)
                if (all || sl->links[i].scope_id == id)
                        fn(ctx, &sl->links[i], scope_links_pid(sl, sl->links[i].scope_id));
}

/* pidfd is a view server's that ended: reaped (if it is our child) and closed. */
static bool server_ended(struct scope_links *sl, int pidfd)
{
        for (size_t i = 0; i < sl->retired_count; i++)
                if (sl->retired[i] == pidfd) {
                        kill_server(pidfd); /* ended already: reaped and closed */
                        sl->retired[i] = sl->retired[--sl->retired_count];
                        return true;
                }
        for (size_t i = 0; i < sl->count; i++)
                if (sl->links[i].server_pidfd == pidfd) {
                        struct scoped_link *l = &sl->links[i];
                        kill_server(TAKE_FD(l->server_pidfd));
                        log_error("the view of link %s in mount namespace %llu has ended (its "
                                  "server, pid %d): it answers ENOTCONN until the link is "
                                  "removed",
                                  l->virtual_path, (unsigned long long)l->scope_id,
                                  (int)l->server_pid);
                        return true;
                }
        return false;
}

static void scope_forget(struct scope_links *sl, size_t i);

bool scope_links_process_ended(struct scope_links *sl, int pidfd)
{
        if (server_ended(sl, pidfd))
                return true;
        size_t i = 0;
        while (i < sl->scope_count && sl->scopes[i].pidfd != pidfd)
                i++;
        if (i == sl->scope_count)
                return false;
        struct scope *s = &sl->scopes[i];
        uint64_t id = s->id;
        (void)close(s->pidfd);
        s->pidfd = -1;
        pid_t pid;
        int next = scope_ns_find_process(id, &pid);
        if (next >= 0) {
                s->pidfd = next;
                s->pid = pid;
                if (sl->watch)
                        sl->watch(sl->watch_ctx, next);
                return true;
        }
        scope_forget(sl, i);
        return true;
}

/* Scope i's namespace has ended: its mounts went with it, and a view's server, which
 * holds the target's V, ends now (a file opened through the view and passed out of
 * the container would keep it serving). Its pidfd is closed. */
static void scope_forget(struct scope_links *sl, size_t i)
{
        uint64_t id = sl->scopes[i].id;
        scope_drop(sl, i);
        size_t forgotten = 0;
        for (size_t j = sl->count; j-- > 0;)
                if (sl->links[j].scope_id == id) {
                        kill_server(TAKE_FD(sl->links[j].server_pidfd));
                        link_drop(sl, j);
                        forgotten++;
                }
        if (forgotten > 0)
                log_info("mount namespace %llu ended: its %zu link(s) forgotten",
                         (unsigned long long)id, forgotten);
        (void)journal_now(sl);
}

/* Has the namespace of s ended (its process has left it, and no other is in it)? */
static bool namespace_ended(const struct scope *s)
{
        _cleanup_close_ int nsfd = scope_ns_of_pidfd(s->pidfd);
        if (nsfd >= 0)
                return false;
        pid_t pid;
        _cleanup_close_ int other = scope_ns_find_process(s->id, &pid);
        return other < 0;
}

static void mount_detached(void *ctx, uint64_t mount_id)
{
        struct scope_links *sl = ctx;
        for (size_t i = 0; i < sl->count; i++) {
                struct scoped_link *l = &sl->links[i];
                if (l->mount_id != mount_id)
                        continue;
                uint64_t id = l->scope_id;
                /* Moved onto a link made over it (S16), not gone. */
                if (scope_mounts_exists(id, mount_id) == 1)
                        return;
                /* A namespace that ends detaches all its mounts, before its last
                 * process's pidfd says it has ended: said as its end. */
                struct scope *s = scope_find(sl, id);
                if (s && namespace_ended(s)) {
                        scope_forget(sl, (size_t)(s - sl->scopes));
                        sl->forgot = true;
                        return;
                }
                /* On its parent's overlay, which still serves the parent: kept (and
                 * its server) until the link is removed, which takes it away. */
                if (l->parent_id && scope_mounts_exists(id, l->parent_id) == 1) {
                        log_warning("link %s in mount namespace %llu was unmounted there; the "
                                    "overlay of its parent stays until the link is removed",
                                    l->virtual_path, (unsigned long long)id);
                        return;
                }
                log_info("link %s in mount namespace %llu was unmounted there: forgotten",
                         l->virtual_path, (unsigned long long)id);
                kill_server(TAKE_FD(l->server_pidfd));
                link_drop(sl, i);
                scope_release(sl, id, -1);
                sl->forgot = true;
                return;
        }
}

void scope_links_mounts_changed(struct scope_links *sl)
{
        bool overflow = false;
        sl->forgot = false;
        int r = scope_mounts_read(sl->mounts_fd, mount_detached, sl, &overflow);
        if (r < 0)
                log_warning_errno(r, "cannot read the mounts detached in containers");
        if (overflow)
                log_warning("too many mounts changed in containers at once: a link unmounted "
                            "inside its container may be known until the container ends");
        if (sl->forgot)
                (void)journal_now(sl);
}

/* After a restart: a pidfd of the view server of l if it is still the same process
 * (its pid and start time), else -1. */
static int server_again(const struct scoped_link *l)
{
        if (!l->server_pid)
                return -1;
        int pidfd = pidfd_open(l->server_pid, 0);
        if (pidfd >= 0 && overlay_process_start_time(l->server_pid) != l->server_start) {
                (void)close(pidfd);
                pidfd = -1;
        }
        return pidfd;
}

static void adopt_server(struct scope_links *sl, struct scoped_link *l)
{
        l->server_pidfd = server_again(l);
        if (l->server_pidfd >= 0) {
                if (sl->watch)
                        sl->watch(sl->watch_ctx, l->server_pidfd);
        } else if (l->server_pid) {
                log_error("the view of link %s in mount namespace %llu ended while bindlinkd "
                          "was stopped: it answers ENOTCONN until the link is removed",
                          l->virtual_path, (unsigned long long)l->scope_id);
        }
}

int scope_links_start(struct scope_links *sl, const char *state_dir)
{
        if (asprintf(&sl->journal_path, "%s/scopes", state_dir) < 0) {
                sl->journal_path = NULL;
                return -ENOMEM;
        }
        struct scoped_link *links;
        size_t count, bad;
        bool other_boot;
        int r = scope_journal_read(sl->journal_path, &links, &count, &bad, &other_boot);
        if (r < 0)
                return log_error_errno(r, "cannot read the scoped links in %s", sl->journal_path);
        if (other_boot)
                log_info("%s is of an earlier boot: its scoped links ended with it",
                         sl->journal_path);
        if (bad > 0)
                log_error("%s: %zu malformed line(s) skipped", sl->journal_path, bad);
        sl->links = links;
        sl->count = count;
        size_t kept = 0, dropped = 0;
        for (size_t i = 0; i < count; i++)
                if (links[i].order >= sl->next_order)
                        sl->next_order = links[i].order + 1;
        for (size_t i = sl->count; i-- > 0;) {
                uint64_t id = sl->links[i].scope_id;
                if (!scope_find(sl, id)) {
                        pid_t pid;
                        int pidfd = scope_ns_find_process(id, &pid);
                        struct scope_ns ns = {.id = id, .nsfd = -1, .pidfd = pidfd, .pid = pid};
                        if (pidfd >= 0 && scope_add(sl, &ns) < 0)
                                (void)close(pidfd);
                }
                if (scope_find(sl, id)) {
                        adopt_server(sl, &sl->links[i]);
                        kept++;
                } else {
                        log_info("link %s in mount namespace %llu dropped: the namespace "
                                 "has ended",
                                 sl->links[i].virtual_path, (unsigned long long)id);
                        kill_server(server_again(&sl->links[i]));
                        link_drop(sl, i);
                        dropped++;
                }
        }
        if (kept + dropped > 0)
                log_info("scoped links: %zu adopted, %zu dropped", kept, dropped);
        /* Rewritten whole: only the links kept, and open for appending. */
        (void)journal_now(sl); /* said if it fails; the next change tries again */
        return 0;
}
