/* link_manager.c — create, remove and re-adopt links (see link_manager.h).
 *
 * Every change follows one pipeline: find the links whose view depends on the
 * change (planner_affected), classify each in the new table (planner_place), refuse
 * before touching anything if a link that is shown now could no longer be shown,
 * then detach the affected mounts deepest first and mount them again in dependency
 * order. Nothing is ever left buried under a new mount, so every mount we own is
 * the top mount at its virtual path and can be checked by its id. */
#include "link_manager.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "mount_ops.h"
#include "path.h"
#include "planner.h"
#include "util.h"

__attribute__((format(printf, 5, 6))) static void
set_outcome(struct outcome *ret, int status, bindlink_fault fault, const char *path,
            const char *fmt, ...)
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

/* ---- the probe: what exists on disk, seen beneath our own mounts ------------- */

static int probe_type_of(void *ctx, const char *path, bool follow)
{
        const struct link_table *table = ctx;
        /* A path where one of our mounts sits: the planner asks what it covers. */
        const struct link *mounted = link_table_find(table, path);
        if (mounted && mounted->realization == BINDLINK_REALIZED_BIND)
                return mounted->covered_type;
        struct stat st;
        if (fstatat(AT_FDCWD, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
                        return PROBE_MISSING;
                return negative_errno();
        }
        if (S_ISDIR(st.st_mode))
                return PROBE_DIRECTORY;
        if (S_ISLNK(st.st_mode))
                return PROBE_SYMLINK;
        return PROBE_FILE;
}

/* ---- teardown and realization --------------------------------------------------- */

static void teardown(struct link **links, size_t count)
{
        /* Deepest first: a nested link's mount sits on its parent link's mount. */
        for (size_t i = count; i-- > 0;) {
                struct link *l = links[i];
                if (l->realization != BINDLINK_REALIZED_BIND)
                        continue;
                int r = mount_detach_link(l->virtual_path, l->mount_id);
                if (r == -ESTALE)
                        log_warning("the mount of link %s is no longer on top there; left alone",
                                    l->virtual_path);
                else if (r < 0)
                        log_error("cannot detach link %s: %s", l->virtual_path, strerror(-r));
                l->realization = BINDLINK_REALIZED_NONE;
                l->mount_id = 0;
        }
}

/* Show links in dependency order with their placements. Returns the index of the
 * first that failed (count if none), with *ret_error and *ret_path. */
static size_t realize(struct link **links, const struct placement *placements, size_t count,
                      int *ret_error, const char **ret_path)
{
        for (size_t i = 0; i < count; i++) {
                struct link *l = links[i];
                if (placements[i].kind != PLACE_BIND) {
                        l->realization = BINDLINK_REALIZED_NONE;
                        l->mount_id = 0;
                        continue;
                }
                uint64_t mount_id;
                int r = mount_bind_link(l->virtual_path, l->backing_path,
                                        l->flags & CREATE_BIND_LINK_FLAG_READ_ONLY, &mount_id,
                                        ret_path);
                if (r < 0) {
                        *ret_error = r;
                        return i;
                }
                l->realization = BINDLINK_REALIZED_BIND;
                l->mount_id = mount_id;
                l->covered_type = placements[i].place_type;
        }
        return count;
}

static void journal_shown(struct link_manager *m, struct link **links, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                int r = journal_link_shown(&m->journal, links[i]);
                if (r < 0)
                        log_error("cannot journal link %s: %s", links[i]->virtual_path,
                                  strerror(-r));
        }
}

/* Affected links in dependency order, each classified in the current table. */
struct plan {
        struct link **links;
        struct placement *placements;
        size_t count;
};

static void plan_done(struct plan *plan)
{
        free(plan->links);
        free(plan->placements);
        *plan = (struct plan){0};
}

static int plan_make(struct link_manager *m, struct link *const *roots, size_t root_count,
                     struct plan *ret)
{
        struct plan plan = {0};
        int r = planner_affected(&m->table, roots, root_count, &plan.links, &plan.count);
        if (r < 0)
                return r;
        r = planner_order(plan.links, plan.count);
        if (r >= 0) {
                plan.placements = calloc(plan.count ? plan.count : 1, sizeof *plan.placements);
                if (!plan.placements)
                        r = -ENOMEM;
        }
        struct probe probe = {.type_of = probe_type_of, .ctx = &m->table};
        for (size_t i = 0; i < plan.count && r >= 0; i++)
                r = planner_place(&m->table, plan.links[i], &probe, &plan.placements[i]);
        if (r < 0) {
                plan_done(&plan);
                return r;
        }
        *ret = plan;
        return 0;
}

/* Drop links that are not part of the table any more (a removed link). */
static void plan_keep_table_links(struct link_manager *m, struct plan *plan)
{
        size_t kept = 0;
        for (size_t i = 0; i < plan->count; i++) {
                if (link_table_index(&m->table, plan->links[i]) < 0)
                        continue;
                plan->links[kept] = plan->links[i];
                plan->placements[kept] = plan->placements[i];
                kept++;
        }
        plan->count = kept;
}

/* ---- create ------------------------------------------------------------------- */

/* Take a create that failed back out, and give back its order number. */
static void forget_created(struct link_manager *m, struct link *created)
{
        if (created->order + 1 == m->table.next_order)
                m->table.next_order = created->order;
        link_free(link_table_take(&m->table, created->virtual_path));
}

static bool same_object(int fd, const char *path)
{
        struct stat by_fd, by_path;
        return fstat(fd, &by_fd) == 0 && stat(path, &by_path) == 0 &&
               by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

static const char *placement_words(const struct placement *p)
{
        switch (p->kind) {
        case PLACE_PARENT_MISSING:
                return "its parent directory is not visible";
        case PLACE_BACKING_MISSING:
                return "its backing path does not exist";
        default:
                return p->reason ? p->reason : "it cannot be shown";
        }
}

/* The checks of S2 that need the table or the caller's descriptors. */
static bool validate_create(struct link_manager *m, const struct create_request *req,
                            struct outcome *ret)
{
        const struct wire_create *msg = req->msg;
        const char *v = msg->virtual_path;

        if (strcmp(v, "/") == 0) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_VIRTUAL, v,
                            "the root directory cannot be a virtual path");
                return false;
        }
        for (uint32_t i = 0; i < msg->exception_count; i++)
                if (!path_is_strict_descendant(v, msg->exception_paths[i])) {
                        set_outcome(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION,
                                    msg->exception_paths[i],
                                    "exception %s is not inside virtual path %s",
                                    msg->exception_paths[i], v);
                        ret->exception_index = i;
                        return false;
                }
        const struct link *existing = link_table_find(&m->table, v);
        if (existing) {
                set_outcome(ret, -EEXIST, BINDLINK_FAULT_VIRTUAL, v,
                            "%s is already the virtual path of a link (to %s)", v,
                            existing->backing_path);
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
        if (msg->backing_error) {
                set_outcome(ret, -msg->backing_error, BINDLINK_FAULT_BACKING,
                            msg->backing_path,
                            msg->backing_error == ENOENT
                                    ? "backing path %s does not exist"
                                    : "the caller may not open backing path %s: %s",
                            msg->backing_path, strerror(msg->backing_error));
                return false;
        }
        /* The caller opened these; they must be what the paths name now (a caller who
         * is not root must not name one object and prove access to another). */
        if (!req->trusted && (!same_object(req->parent_fd, parent) ||
                              !same_object(req->backing_fd, msg->backing_path))) {
                set_outcome(ret, -ESTALE, BINDLINK_FAULT_NONE, v,
                            "%s or %s changed while the request was made; try again", parent,
                            msg->backing_path);
                return false;
        }
        struct stat st;
        bool anchorless = fstatat(req->parent_fd, path_last(v), &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                          errno == ENOENT;
        if (anchorless && msg->exception_count > 0) {
                set_outcome(ret, -EINVAL, BINDLINK_FAULT_EXCEPTION, v,
                            "%s does not exist, and an anchorless link cannot have exceptions",
                            v);
                return false;
        }
        for (uint32_t i = 0; i < msg->exception_count; i++)
                if (msg->exception_errors[i]) {
                        int e = msg->exception_errors[i];
                        set_outcome(ret, -e, BINDLINK_FAULT_EXCEPTION, msg->exception_paths[i],
                                    e == ENOENT ? "exception %s does not exist"
                                                : "the caller may not open exception %s: %s",
                                    msg->exception_paths[i], strerror(e));
                        ret->exception_index = i;
                        return false;
                }
        return true;
}

/* Why the new table cannot be shown, or true if it can. */
static bool plan_acceptable(const struct plan *plan, const struct link *created,
                            struct outcome *ret)
{
        for (size_t i = 0; i < plan->count; i++) {
                const struct link *l = plan->links[i];
                const struct placement *p = &plan->placements[i];
                if (p->kind == PLACE_BIND)
                        continue;
                if (l != created && l->realization != BINDLINK_REALIZED_BIND)
                        continue; /* was not shown before either */
                if (p->kind == PLACE_LOOP) {
                        set_outcome(ret, -ELOOP, BINDLINK_FAULT_BACKING, created->backing_path,
                                    l == created ? "link %s -> %s would loop: %s"
                                                 : "link %s -> %s would loop through the new link: %s",
                                    l->virtual_path, l->backing_path, p->reason);
                        return false;
                }
                if (l == created && p->kind == PLACE_PARENT_MISSING) {
                        set_outcome(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL_PARENT,
                                    created->virtual_path,
                                    "the parent of %s is not visible", created->virtual_path);
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
                                    l->virtual_path, l->backing_path, placement_words(p));
                else
                        set_outcome(ret, -ENOTSUP, BINDLINK_FAULT_VIRTUAL,
                                    created->virtual_path,
                                    "link %s would hide nested link %s, which could then be "
                                    "shown only by the overlay this version does not have: %s",
                                    created->virtual_path, l->virtual_path, placement_words(p));
                return false;
        }
        return true;
}

void link_manager_create(struct link_manager *m, const struct create_request *req,
                         struct outcome *ret)
{
        const struct wire_create *msg = req->msg;
        set_outcome(ret, 0, BINDLINK_FAULT_NONE, NULL, "%s", "");
        if (!validate_create(m, req, ret))
                return;

        struct link *created = link_new(m->table.next_order, msg->flags, msg->virtual_path,
                                        msg->backing_path, msg->exception_count,
                                        msg->exception_paths);
        if (!created || link_table_add(&m->table, created) < 0) {
                link_free(created);
                set_outcome(ret, -ENOMEM, BINDLINK_FAULT_NONE, NULL, "out of memory");
                return;
        }

        struct plan plan;
        int r = plan_make(m, &created, 1, &plan);
        if (r < 0) {
                forget_created(m, created);
                set_outcome(ret, r, r == -ELOOP ? BINDLINK_FAULT_BACKING : BINDLINK_FAULT_NONE,
                            msg->backing_path,
                            r == -ELOOP ? "link %s -> %s would make links depend on each other in a loop"
                                        : "cannot plan link %s -> %s: %s",
                            msg->virtual_path, msg->backing_path, strerror(-r));
                return;
        }
        if (!plan_acceptable(&plan, created, ret)) {
                plan_done(&plan);
                forget_created(m, created);
                return;
        }

        /* Remember how the others were shown, to put them back on failure. */
        teardown(plan.links, plan.count);
        int error = 0;
        const char *failing_path = NULL;
        size_t done = realize(plan.links, plan.placements, plan.count, &error, &failing_path);
        if (done < plan.count) {
                set_outcome(ret, error, BINDLINK_FAULT_NONE, failing_path,
                            "cannot mount link %s -> %s (at %s): %s",
                            plan.links[done]->virtual_path, plan.links[done]->backing_path,
                            failing_path ? failing_path : "?", strerror(-error));
                teardown(plan.links, done);
                forget_created(m, created);
                plan_keep_table_links(m, &plan);
                struct plan undo;
                if (plan_make(m, plan.links, plan.count, &undo) >= 0) {
                        int undo_error;
                        const char *undo_path;
                        if (realize(undo.links, undo.placements, undo.count, &undo_error,
                                    &undo_path) < undo.count)
                                log_error("cannot restore links after a failed create: %s",
                                          strerror(-undo_error));
                        journal_shown(m, undo.links, undo.count);
                        plan_done(&undo);
                }
                plan_done(&plan);
                return;
        }
        r = journal_link_added(&m->journal, created);
        if (r < 0)
                log_error("cannot journal link %s: %s (it will not survive a restart)",
                          created->virtual_path, strerror(-r));
        for (size_t i = 0; i < plan.count; i++)
                if (plan.links[i] != created)
                        journal_shown(m, &plan.links[i], 1);
        log_info("created link %s -> %s (#%llu, %s)", created->virtual_path,
                 created->backing_path, (unsigned long long)created->order,
                 bindlink_realization_name(created->realization));
        plan_done(&plan);
}

/* ---- remove ------------------------------------------------------------------- */

void link_manager_remove(struct link_manager *m, const char *virtual_path, struct outcome *ret)
{
        set_outcome(ret, 0, BINDLINK_FAULT_NONE, NULL, "%s", "");
        struct link *removed = link_table_find(&m->table, virtual_path);
        if (!removed) {
                set_outcome(ret, -ENOENT, BINDLINK_FAULT_VIRTUAL, virtual_path,
                            "%s is not the virtual path of any link", virtual_path);
                return;
        }
        struct link **affected = NULL;
        size_t count = 0;
        int r = planner_affected(&m->table, &removed, 1, &affected, &count);
        if (r < 0) {
                set_outcome(ret, r, BINDLINK_FAULT_NONE, virtual_path, "cannot plan: %s",
                            strerror(-r));
                return;
        }
        r = planner_order(affected, count);
        if (r < 0)
                log_warning("links depending on %s are ordered by depth only: %s", virtual_path,
                            strerror(-r));
        teardown(affected, count);
        (void)link_table_take(&m->table, virtual_path);
        r = journal_link_removed(&m->journal, removed, &m->table);
        if (r < 0)
                log_error("cannot journal the removal of %s: %s", virtual_path, strerror(-r));

        /* S20: everything else is shown as if the link had never been made. */
        struct plan plan;
        r = plan_make(m, affected + 1, count - 1, &plan);
        free(affected);
        if (r < 0) {
                log_error("cannot re-plan the links below %s: %s", virtual_path, strerror(-r));
        } else {
                int error;
                const char *failing_path;
                size_t done = realize(plan.links, plan.placements, plan.count, &error,
                                      &failing_path);
                if (done < plan.count)
                        log_error("cannot show link %s again (at %s): %s",
                                  plan.links[done]->virtual_path, failing_path,
                                  strerror(-error));
                for (size_t i = 0; i < plan.count; i++)
                        if (plan.links[i]->realization != BINDLINK_REALIZED_BIND)
                                log_info("link %s stays registered but is not shown: %s",
                                         plan.links[i]->virtual_path,
                                         placement_words(&plan.placements[i]));
                journal_shown(m, plan.links, plan.count);
                plan_done(&plan);
        }
        log_info("removed link %s -> %s", removed->virtual_path, removed->backing_path);
        link_free(removed);
}

/* ---- start: re-adopt ---------------------------------------------------------------- */

int link_manager_start(struct link_manager *m, const char *state_dir)
{
        link_table_init(&m->table);
        int r = journal_open(&m->journal, state_dir, &m->table);
        if (r == -EBADMSG)
                log_warning("journal in %s had malformed records; they were skipped", state_dir);
        else if (r < 0)
                return r;

        /* A link whose mount is still the top mount at its place is adopted as is. */
        struct link **lost = calloc(m->table.count + 1, sizeof *lost);
        if (!lost)
                return -ENOMEM;
        size_t lost_count = 0, adopted = 0;
        for (size_t i = 0; i < m->table.count; i++) {
                struct link *l = m->table.links[i];
                uint64_t top;
                if (l->realization == BINDLINK_REALIZED_BIND &&
                    mount_id_at(l->virtual_path, &top) >= 0 && top == l->mount_id) {
                        adopted++;
                        continue;
                }
                l->realization = BINDLINK_REALIZED_NONE;
                l->mount_id = 0;
                lost[lost_count++] = l;
        }
        if (lost_count > 0) {
                struct plan plan;
                r = plan_make(m, lost, lost_count, &plan);
                if (r >= 0) {
                        teardown(plan.links, plan.count);
                        int error;
                        const char *failing_path;
                        size_t done = realize(plan.links, plan.placements, plan.count, &error,
                                              &failing_path);
                        if (done < plan.count)
                                log_error("cannot show link %s again (at %s): %s",
                                          plan.links[done]->virtual_path, failing_path,
                                          strerror(-error));
                        journal_shown(m, plan.links, plan.count);
                        plan_done(&plan);
                } else {
                        log_error("cannot plan the links to show again: %s", strerror(-r));
                }
        }
        free(lost);
        log_info("adopted %zu link(s) as they were, showed %zu again", adopted, lost_count);
        return 0;
}

void link_manager_stop(struct link_manager *m)
{
        journal_close(&m->journal);
        link_table_done(&m->table);
}
