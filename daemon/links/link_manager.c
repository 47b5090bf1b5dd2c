/* link_manager.c — create and remove links (see link_manager.h).
 *
 * Every change follows one pipeline: validate the request, add the link to the table
 * tentatively, plan (daemon/plan/), refuse before touching anything if a link that
 * is shown now could no longer be shown, then realize the plan (show.c) and journal
 * it; a step that fails takes everything back. */
#include "manager.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "as_caller.h"
#include <libmount.h>
#include "log.h"
#include "mount_ops.h"
#include "neighbours.h"
#include "overlay_registry.h"
#include "path.h"
#include "plan.h"
#include "planner.h"
#include "symlink_walk.h"
#include "util.h"

__attribute__((format(printf, 5, 6))) static void set_outcome(struct outcome *ret, int status,
                                                              bindlink_fault fault,
                                                              const char *path, const char *fmt,
                                                              ...)
{
        ret->status = status > 0 ? -status : status;
        ret->fault = fault;
        ret->exception_index = 0;
        (void)snprintf(ret->path, sizeof ret->path, "%s", path ? path : "");
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(ret->message, sizeof ret->message, fmt, ap);
        va_end(ap);
}

/* ---- create ------------------------------------------------------------------- */

/* Take a create that failed back out, and give back its order number. */
static void forget_created(struct link_manager *m, struct link *created)
{
        if (created->order + 1 == m->table.next_order)
                m->table.next_order = created->order;
        link_free(link_table_take(&m->table, created->virtual_path));
}

static bool same_object(int fd, int other_fd)
{
        struct stat a, b;
        return fstat(fd, &a) == 0 && fstat(other_fd, &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

/* S3 over the wire: the library sends normalized absolute paths; the daemon takes
 * nothing else (two spellings of one place would stack mounts there). */
static bool paths_normalized(const struct wire_create *msg, struct outcome *ret)
{
        if (!path_is_normalized(msg->virtual_path)) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL, msg->virtual_path,
                            "virtual path %s is not a normalized absolute path", msg->virtual_path);
                return false;
        }
        if (!path_is_normalized(msg->backing_path)) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_BACKING, msg->backing_path,
                            "backing path %s is not a normalized absolute path", msg->backing_path);
                return false;
        }
        for (uint32_t i = 0; i < msg->exception_count; i++)
                if (!path_is_normalized(msg->exception_paths[i])) {
                        set_outcome(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[i],
                                    "exception %s is not a normalized absolute path",
                                    msg->exception_paths[i]);
                        ret->exception_index = i;
                        return false;
                }
        return true;
}

/* V's parent as the caller reaches it (searchable, no symlink on the way): the
 * descriptor, or -1 with *ret filled. */
static int open_parent_as_caller(const struct creds *as, const char *parent, struct outcome *ret)
{
        int fd = place_open(as, AT_FDCWD, parent, false);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
                (void)close(fd);
                fd = S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
        }
        int r = fd < 0 ? fd : as_caller_check(as, fd);
        if (r >= 0)
                return fd;
        if (fd >= 0)
                (void)close(fd);
        if (r == -ENOENT || r == -ENOTDIR)
                set_outcome(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "parent directory %s of the virtual path is not visible", parent);
        else if (r == -ELOOP)
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "parent directory %s of the virtual path is reached through a "
                            "symbolic link: name the virtual path by its own path",
                            parent);
        else if (r == -EACCES)
                set_outcome(ret, -EACCES, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "the caller may not search parent directory %s", parent);
        else
                set_outcome(ret, r, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "cannot open parent directory %s: %s", parent, strerror(-r));
        return -1;
}

/* A path the caller named (B: following symlinks; an exception: but the last), as
 * the caller reaches it; it must be the object the caller's descriptor shows. The
 * descriptor, or -1 with *ret filled (ret->exception_index is the caller's). */
static int open_named_as_caller(const struct creds *as, const char *path, bool nofollow,
                                int caller_fd, bindlink_fault fault, const char *what,
                                struct outcome *ret)
{
        int fd = as_caller_open(as, AT_FDCWD, path, nofollow);
        if (fd == -ENOENT || fd == -ENOTDIR)
                set_outcome(ret, -ENOENT, fault, path, "%s %s does not exist", what, path);
        else if (fd == -EACCES)
                set_outcome(ret, -EACCES, fault, path, "the caller may not %s %s %s",
                            nofollow ? "reach" : "open", what, path);
        else if (fd < 0)
                set_outcome(ret, fd, fault, path, "cannot open %s %s: %s", what, path,
                            strerror(-fd));
        else if (!same_object(caller_fd, fd))
                set_outcome(ret, -ESTALE, fault, path,
                            "%s %s changed while the request was made; try again", what, path);
        else
                return fd;
        if (fd >= 0)
                (void)close(fd);
        return -1;
}

/* The checks of S2 that need the table, the disk or the caller's rights. The daemon
 * looks every path up itself, with the caller's rights (as_caller.h), and what it
 * finds must be what the caller's descriptors show: a caller can neither name one
 * object and prove access to another, nor reach through the daemon what it could
 * not reach itself. */
static bool validate_create(struct link_manager *m, const struct create_request *req,
                            struct outcome *ret)
{
        const struct wire_create *msg = req->msg;
        const char *v = msg->virtual_path;
        const struct creds *as = req->creator;

        if (!paths_normalized(msg, ret))
                return false;
        if (strcmp(v, "/") == 0) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL, v,
                            "the root directory cannot be a virtual path");
                return false;
        }
        for (uint32_t i = 0; i < msg->exception_count; i++)
                if (!path_is_strict_descendant(v, msg->exception_paths[i])) {
                        set_outcome(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[i],
                                    "exception %s is not inside virtual path %s",
                                    msg->exception_paths[i], v);
                        ret->exception_index = i;
                        return false;
                }
        _cleanup_free_ char *parent = NULL;
        if (path_parent(v, &parent) < 0) {
                set_outcome(ret, -ENOMEM, BINDLINK_FAULT_NONE, v, "out of memory");
                return false;
        }
        if (msg->parent_error) {
                bool hidden = msg->parent_error == ENOENT || msg->parent_error == ENOTDIR;
                set_outcome(ret, hidden ? -ENOENT : -msg->parent_error,
                            BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            hidden ? "parent directory %s of the virtual path is not visible"
                                   : "the caller may not open parent directory %s: %s",
                            parent, strerror(msg->parent_error));
                return false;
        }
        _cleanup_close_ int parent_fd = open_parent_as_caller(as, parent, ret);
        if (parent_fd < 0)
                return false;
        if (!same_object(req->parent_fd, parent_fd)) {
                set_outcome(ret, -ESTALE, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                            "parent directory %s changed while the request was made; try "
                            "again",
                            parent);
                return false;
        }
        if (msg->backing_error) {
                set_outcome(ret, -msg->backing_error, BINDLINK_FAULT_BACKING, msg->backing_path,
                            msg->backing_error == ENOENT
                                    ? "backing path %s does not exist"
                                    : "the caller may not open backing path %s: %s",
                            msg->backing_path, strerror(msg->backing_error));
                return false;
        }
        /* After B's check, as Windows orders them: CreateBindLink on a virtual path
         * that has a link, with a backing path that does not exist, says "file not
         * found" (the Microsoft BindLink sample's walkthrough). */
        const struct link *existing = link_table_find(&m->table, v);
        if (existing) {
                set_outcome(ret, -EEXIST, BINDLINK_FAULT_VIRTUAL, v,
                            "%s is already the virtual path of a link (to %s)", v,
                            existing->backing_path);
                return false;
        }
        _cleanup_close_ int backing_fd =
                open_named_as_caller(as, msg->backing_path, false, req->backing_fd,
                                     BINDLINK_FAULT_BACKING, "backing path", ret);
        if (backing_fd < 0)
                return false;
        struct stat st;
        bool anchorless =
                fstatat(parent_fd, path_last(v), &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
        if (anchorless && msg->exception_count > 0) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION, v,
                            "%s does not exist, and an anchorless link cannot have exceptions", v);
                return false;
        }
        for (uint32_t i = 0; i < msg->exception_count; i++) {
                int e = msg->exception_errors[i];
                if (e) {
                        set_outcome(ret, -e, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[i],
                                    e == ENOENT ? "exception %s does not exist"
                                                : "the caller may not open exception %s: %s",
                                    msg->exception_paths[i], strerror(e));
                        ret->exception_index = i;
                        return false;
                }
                int fd = open_named_as_caller(as, msg->exception_paths[i], true,
                                              req->exception_fds[i], BINDLINK_FAULT_EXCEPTION,
                                              "exception", ret);
                if (fd < 0) {
                        ret->exception_index = i;
                        return false;
                }
                (void)close(fd);
        }
        return true;
}

/* B named through a symlink on the way (wire.h): the name must lead, as the caller
 * walks it now, to the backing path the library resolved, or the request described
 * two different places (a symlink changed between the two, or a client that lies).
 * true with *ret_walk filled (the symlinks to watch), or false with *ret. */
static bool backing_named_checked(const struct create_request *req, struct symlink_walk *ret_walk,
                                  struct outcome *ret)
{
        const struct wire_create *msg = req->msg;
        *ret_walk = (struct symlink_walk){0};
        if (!msg->backing_named)
                return true;
        const char *named = msg->backing_named;
        if (!path_is_normalized(named) || strcmp(named, "/") == 0 ||
            strcmp(path_last(named), path_last(msg->backing_path)) != 0) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_BACKING, named,
                            "backing path %s, as named, is not a normalized absolute path "
                            "ending in the backing path's last component (%s)",
                            named, msg->backing_path);
                return false;
        }
        int r = symlink_walk(req->creator, named, ret_walk);
        if (r >= 0 && strcmp(ret_walk->resolved, msg->backing_path) == 0)
                return true;
        if (r >= 0)
                set_outcome(ret, -ESTALE, BINDLINK_FAULT_BACKING, named,
                            "backing path %s now leads to %s, not %s: a symbolic link on the "
                            "way changed while the request was made; try again",
                            named, ret_walk->resolved, msg->backing_path);
        else
                set_outcome(ret, r == -ENOMEM ? r : -ESTALE, BINDLINK_FAULT_BACKING, named,
                            "backing path %s cannot be followed now (%s): a symbolic link on "
                            "the way changed while the request was made; try again",
                            named, strerror(-r));
        symlink_walk_done(ret_walk);
        return false;
}

/* Take a create back after its plan was shown up to item done: take down what it
 * showed, forget the link, then show the others as they were, without it. Frees the
 * plan. */
static void undo_create(struct link_manager *m, struct plan *plan, size_t done,
                        struct link *created, const char *why)
{
        manager_teardown(m, plan->show, done);
        struct link **others = NULL;
        size_t other_count = 0;
        for (size_t i = 0; i < plan->show_count; i++)
                if (plan->show[i].kind == PLAN_LINK && plan->show[i].link != created &&
                    link_list_push(&others, &other_count, plan->show[i].link) < 0)
                        log_error("out of memory: link %s is not shown again %s",
                                  plan->show[i].path, why);
        forget_created(m, created);
        plan_done(plan);
        if (other_count > 0)
                manager_rebuild(m, others, other_count, why);
        free(others);
}

/* What the link's backing path is, as the plan placed it (PROBE_MISSING if the plan
 * does not place it). */
static int link_backing_type(const struct plan *plan, const struct link *l)
{
        for (size_t i = 0; i < plan->show_count; i++)
                if (plan->show[i].kind == PLAN_LINK && plan->show[i].link == l)
                        return plan->show[i].placement.backing_type;
        return PROBE_MISSING;
}

/* Why the new table cannot be shown, or true if it can. */
static bool plan_acceptable(const struct plan *plan, const struct link *created,
                            struct outcome *ret)
{
        for (size_t i = 0; i < plan->show_count; i++) {
                const struct plan_item *item = &plan->show[i];
                const struct link *l = item->link;
                const struct placement *p = &item->placement;
                if (item->kind == PLAN_OVERLAY || p->kind == PLACE_BIND || p->kind == PLACE_GRAFT ||
                    p->kind == PLACE_MERGE)
                        continue;
                if (item->kind == PLAN_EXCEPTION) {
                        if (l != created || p->kind == PLACE_BACKING_MISSING)
                                continue; /* logged when shown; an original gone is hidden */
                        int backing_type = link_backing_type(plan, l);
                        if (p->kind == PLACE_PARENT_MISSING && backing_type != PROBE_DIRECTORY) {
                                /* V shows a file: nothing is below it to except. */
                                set_outcome(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION, item->path,
                                            "exception %s cannot be below %s: the link shows "
                                            "%s there, which has nothing below it",
                                            item->path, created->virtual_path,
                                            backing_type == PROBE_SYMLINK
                                                    ? "a symbolic link"
                                                    : "a file");
                                ret->exception_index = item->exception_index;
                                return false;
                        }
                        set_outcome(ret, p->kind == PLACE_LOOP ? -ELOOP : -ENOTSUP,
                                    BINDLINK_FAULT_EXCEPTION, item->path,
                                    "exception %s of link %s -> %s cannot be shown: %s", item->path,
                                    created->virtual_path, created->backing_path,
                                    manager_placement_words(p));
                        ret->exception_index = item->exception_index;
                        return false;
                }
                if (l != created && l->realization == BINDLINK_REALIZED_NONE)
                        continue; /* was not shown before either */
                if (l != created &&
                    (p->kind == PLACE_BACKING_MISSING || p->kind == PLACE_PARENT_MISSING))
                        continue; /* it waits for its place or its B, as it would anyway */
                if (p->kind == PLACE_LOOP) {
                        set_outcome(ret, -ELOOP, BINDLINK_FAULT_BACKING, created->backing_path,
                                    l == created
                                            ? "link %s -> %s would loop: %s"
                                            : "link %s -> %s would loop through the new link: %s",
                                    l->virtual_path, l->backing_path, p->reason);
                        return false;
                }
                if (l == created && p->kind == PLACE_PARENT_MISSING) {
                        set_outcome(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL_PARENT,
                                    created->virtual_path, "the parent of %s is not visible",
                                    created->virtual_path);
                        return false;
                }
                if (l == created && p->kind == PLACE_BACKING_MISSING) {
                        set_outcome(ret, -ENOENT, BINDLINK_FAULT_BACKING, created->backing_path,
                                    "backing path %s does not exist", created->backing_path);
                        return false;
                }
                if (l == created)
                        set_outcome(ret, -ENOTSUP, BINDLINK_FAULT_VIRTUAL, l->virtual_path,
                                    "link %s -> %s needs the overlay, which this version does "
                                    "not have: %s",
                                    l->virtual_path, l->backing_path, manager_placement_words(p));
                else
                        set_outcome(ret, -ENOTSUP, BINDLINK_FAULT_VIRTUAL, created->virtual_path,
                                    "link %s would hide nested link %s, which could then be "
                                    "shown only by the overlay this version does not have: %s",
                                    created->virtual_path, l->virtual_path,
                                    manager_placement_words(p));
                return false;
        }
        return true;
}

void link_manager_create(struct link_manager *m, const struct create_request *req,
                         struct outcome *ret)
{
        const struct wire_create *msg = req->msg;
        set_outcome(ret, 0, BINDLINK_FAULT_NONE, NULL, "%s", "");
        struct symlink_walk walk;
        if (!validate_create(m, req, ret) || !backing_named_checked(req, &walk, ret))
                return;

        struct link *created =
                link_new(m->table.next_order, msg->flags, msg->virtual_path, msg->backing_path,
                         msg->exception_count, msg->exception_paths);
        if (created) {
                creds_done(&created->creator);
                if (creds_copy(req->creator, &created->creator) < 0 ||
                    link_set_backing_named(created, msg->backing_named, walk.symlinks,
                                           walk.count) < 0) {
                        link_free(created);
                        created = NULL;
                }
                walk.symlinks = NULL; /* the link's (or freed) now */
                walk.count = 0;
        }
        symlink_walk_done(&walk);
        if (!created || link_table_add(&m->table, created) < 0) {
                link_free(created);
                set_outcome(ret, -ENOMEM, BINDLINK_FAULT_NONE, NULL, "out of memory");
                return;
        }

        struct plan plan;
        int r = manager_plan_for(m, &created, 1, &plan);
        if (r < 0) {
                forget_created(m, created);
                set_outcome(
                        ret, r, r == -ELOOP ? BINDLINK_FAULT_BACKING : BINDLINK_FAULT_NONE,
                        msg->backing_path,
                        r == -ELOOP
                                ? "link %s -> %s would make links depend on each other in a loop"
                                : "cannot plan link %s -> %s: %s",
                        msg->virtual_path, msg->backing_path, strerror(-r));
                return;
        }
        if (!plan_acceptable(&plan, created, ret)) {
                plan_done(&plan);
                forget_created(m, created);
                return;
        }

        manager_teardown(m, plan.hide, plan.hide_count);
        int error = 0;
        const char *failing_path = NULL;
        size_t done = manager_realize(m, &plan, false, &error, &failing_path);
        if (done < plan.show_count) {
                set_outcome(ret, error, BINDLINK_FAULT_NONE, failing_path,
                            "cannot show %s (at %s): %s", plan.show[done].path,
                            failing_path ? failing_path : "?", strerror(-error));
                undo_create(m, &plan, done, created, "after a failed create");
                return;
        }
        /* The link exists once its records are in the journal (S4): one that cannot
         * be recorded (a full disk) is taken back down, as if never made. */
        r = journal_link_added(&m->journal, created);
        if (r < 0) {
                set_outcome(ret, r, BINDLINK_FAULT_NONE, m->journal.path,
                            "cannot record link %s in the journal %s: %s; nothing was changed",
                            created->virtual_path, m->journal.path, strerror(-r));
                log_error("%s", ret->message);
                undo_create(m, &plan, plan.show_count, created,
                            "after a create that could not be journaled");
                return;
        }
        manager_journal_shown(m, &plan, created);
        manager_watch_backing(m, created);
        log_info("created link %s -> %s (#%llu, %s)", created->virtual_path, created->backing_path,
                 (unsigned long long)created->order,
                 bindlink_realization_name(created->realization));
        plan_done(&plan);
        manager_process_requeued(m);
}

/* ---- remove ------------------------------------------------------------------- */

/* The removed link's parent overlay, in place: its name is no longer made up (or
 * hidden); with nothing left to make up or carry, the overlay goes. */
static void settle_after_removal(struct link_manager *m, const struct link *removed)
{
        _cleanup_free_ char *parent = NULL;
        if (path_parent(removed->virtual_path, &parent) < 0)
                return;
        struct overlay_instance *o = overlay_registry_find(&m->overlays, parent);
        if (!o)
                return;
        const char *name = path_last(removed->virtual_path);
        char **names = calloc(o->count + 1, sizeof *names);
        char *kinds = calloc(o->count + 1, sizeof *kinds);
        size_t n = 0;
        bool had = false;
        for (size_t i = 0; names && kinds && i < o->count; i++) {
                if (strcmp(o->names[i], name) == 0) {
                        had = true;
                        continue;
                }
                names[n] = o->names[i];
                kinds[n++] = o->kinds[i];
        }
        int r = names && kinds ? 0 : -ENOMEM;
        /* A socket bound through the view answers through it only: then the view stays,
         * with no entry, until the socket is gone (link_manager_tick looks). */
        if (r >= 0 && n == 0 && !manager_carries_links(m, parent) && !overlay_serves_sockets(o) &&
            !overlay_hosts_foreign_mounts(o))
                overlay_registry_stop(&m->overlays, o);
        else if (r >= 0 && had)
                r = overlay_registry_update(&m->overlays, o, names, kinds, n);
        if (r < 0)
                manager_overlay_fall_back(m, o, r);
        free(names);
        free(kinds);
}

/* Show again what overlays taken down during a change carried (overlay_fall_back). */
void manager_process_requeued(struct link_manager *m)
{
        while (m->requeued_count > 0) {
                char *dir = m->requeued[--m->requeued_count];
                struct link **links;
                size_t count;
                if (manager_links_below(m, dir, &links, &count) >= 0) {
                        if (count > 0)
                                manager_rebuild(m, links, count,
                                                "an overlay that did not change in place");
                        free(links);
                }
                free(dir);
        }
}

/* S20: RemoveBindLink fails when the caller may not search V's parent (a parent that
 * is gone — S19 — does not stop it). 0 or -EACCES (filled in). */
static int check_may_remove(const char *virtual_path, const struct creds *as, struct outcome *ret)
{
        _cleanup_free_ char *parent = NULL;
        if (as->privileged || path_parent(virtual_path, &parent) < 0)
                return 0;
        _cleanup_close_ int fd = place_open(as, AT_FDCWD, parent, false);
        int r = fd < 0 ? fd : as_caller_check(as, fd);
        if (r != -EACCES)
                return 0;
        set_outcome(ret, -EACCES, BINDLINK_FAULT_VIRTUAL_PARENT, parent,
                    "the caller may not search parent directory %s", parent);
        return -EACCES;
}

/* A link whose virtual path is strictly below virtual_path, the first made, or NULL
 * (O(1) when there is none: the index of V's ancestors). */
static const struct link *link_nested_in(const struct link_manager *m, const char *virtual_path)
{
        if (!link_table_has_virtual_below(&m->table, virtual_path))
                return NULL;
        for (size_t i = 0; i < m->table.count; i++)
                if (path_is_strict_descendant(virtual_path, m->table.links[i]->virtual_path))
                        return m->table.links[i];
        return NULL;
}

/* Take the link removed (in the table) away: plan, journal, teardown, show the rest
 * as if it had never been made. 0 or -errno (filled in; the link stays). */
static int remove_link(struct link_manager *m, struct link *removed, struct outcome *ret)
{
        const char *virtual_path = removed->virtual_path;
        struct plan plan;
        int r = manager_plan_for(m, &removed, 1, &plan);
        if (r < 0) {
                set_outcome(ret, r, BINDLINK_FAULT_NONE, virtual_path, "cannot plan: %s",
                            strerror(-r));
                return r;
        }
        /* Recorded first: a removal that cannot be journaled (a full disk) changes
         * nothing, rather than come back after a restart. */
        r = journal_link_removed(&m->journal, removed);
        if (r < 0) {
                set_outcome(ret, r, BINDLINK_FAULT_NONE, m->journal.path,
                            "cannot record the removal of %s in the journal %s: %s; the link "
                            "stays",
                            virtual_path, m->journal.path, strerror(-r));
                log_error("%s", ret->message);
                plan_done(&plan);
                return r;
        }
        manager_teardown(m, plan.hide, plan.hide_count);
        (void)link_table_take(&m->table, virtual_path);
        journal_maybe_compact(&m->journal, &m->table);
        settle_after_removal(m, removed);

        /* S20: everything else is shown as if the link had never been made. */
        struct link **others = NULL;
        size_t other_count = 0;
        for (size_t i = 0; i < plan.hide_count; i++)
                if (plan.hide[i].kind == PLAN_LINK && plan.hide[i].link != removed)
                        manager_push_or_say(&others, &other_count, plan.hide[i].link,
                                            "after a removal");
        plan_done(&plan);
        if (other_count > 0)
                manager_rebuild(m, others, other_count, "after a removal");
        free(others);
        log_info("removed link %s -> %s", removed->virtual_path, removed->backing_path);
        link_free(removed);
        manager_process_requeued(m);
        return 0;
}

/* Beyond Windows: every link at or below virtual_path, deepest first, in one request.
 * Nothing is removed unless the caller may remove each of them. */
static void remove_tree(struct link_manager *m, const char *virtual_path, const struct creds *as,
                        struct outcome *ret)
{
        _cleanup_free_ struct link **links = calloc(m->table.count + 1, sizeof *links);
        if (!links) {
                set_outcome(ret, -ENOMEM, BINDLINK_FAULT_NONE, virtual_path, "out of memory");
                return;
        }
        size_t count = 0;
        for (size_t i = 0; i < m->table.count; i++) {
                struct link *l = m->table.links[i];
                if (strcmp(l->virtual_path, virtual_path) == 0 ||
                    path_is_strict_descendant(virtual_path, l->virtual_path))
                        links[count++] = l;
        }
        if (count == 0) {
                set_outcome(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL, virtual_path,
                            "no link's virtual path is %s or below it", virtual_path);
                return;
        }
        for (size_t i = 0; i < count; i++)
                if (check_may_remove(links[i]->virtual_path, as, ret) < 0)
                        return;
        planner_order_for_removal(links, count); /* deepest first, the last made first */
        for (size_t i = 0; i < count; i++) {
                /* The table may have changed under a rebuild: look each one up again. */
                _cleanup_free_ char *v = strdup(links[i]->virtual_path);
                struct link *l = v ? link_table_find(&m->table, v) : NULL;
                if (!v) {
                        set_outcome(ret, -ENOMEM, BINDLINK_FAULT_NONE, virtual_path,
                                    "out of memory after removing %zu of %zu links", i, count);
                        return;
                }
                if (l && remove_link(m, l, ret) < 0) {
                        char cause[sizeof ret->message];
                        (void)snprintf(cause, sizeof cause, "%s", ret->message);
                        set_outcome(ret, ret->status, ret->fault, v,
                                    "removed %zu of the %zu links at or below %s, then: %s", i,
                                    count, virtual_path, cause);
                        return;
                }
        }
        log_info("removed %zu link(s) at or below %s, deepest first", count, virtual_path);
}

void link_manager_remove(struct link_manager *m, const char *virtual_path, bool tree,
                         const struct creds *as, struct outcome *ret)
{
        set_outcome(ret, 0, BINDLINK_FAULT_NONE, NULL, "%s", "");
        if (!path_is_normalized(virtual_path)) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL, virtual_path,
                            "virtual path %s is not a normalized absolute path", virtual_path);
                return;
        }
        if (tree) {
                remove_tree(m, virtual_path, as, ret);
                return;
        }
        struct link *removed = link_table_find(&m->table, virtual_path);
        if (!removed) {
                set_outcome(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL, virtual_path,
                            "%s is not the virtual path of any link", virtual_path);
                return;
        }
        if (check_may_remove(virtual_path, as, ret) < 0)
                return;
        /* RemoveBindLink's documentation: it fails "if the link being deleted is the
         * ancestor of an existing link"; nested links go deepest first. EBUSY (the
         * link holds another), as for a link in another mount namespace. */
        const struct link *nested = link_nested_in(m, virtual_path);
        if (nested) {
                set_outcome(ret, -EBUSY, BINDLINK_FAULT_VIRTUAL, virtual_path,
                            "the link on %s holds the link on %s: remove nested links deepest "
                            "first, or all of them at once (bindlinkctl remove --recursive)",
                            virtual_path, nested->virtual_path);
                return;
        }
        (void)remove_link(m, removed, ret);
}

/* ---- what the table holds -------------------------------------------------------- */

struct link *const *link_manager_links(const struct link_manager *m, size_t *ret_count)
{
        *ret_count = m->table.count;
        return m->table.links;
}

const struct link *link_manager_find(const struct link_manager *m, const char *virtual_path)
{
        return link_table_find(&m->table, virtual_path);
}
