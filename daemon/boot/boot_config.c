/* boot_config.c — links.conf applied, at start and on reload (see boot_config.h).
 *
 * A pass reads every line first (parsed, and its paths folded as the API folds them,
 * so that a line is compared with the links by the paths the table holds), then
 * removes, then creates:
 *   removals   links the file made whose line is gone or changed, and the links the
 *              file made below those (RemoveBindLink refuses a link that holds
 *              another, so they go first and come back after it), deepest first;
 *   creations  every line whose link is not in place, in file order, as at start.
 * A line whose link is in place as the line says is left alone: no remount. At start
 * the memory is empty, so a pass is what start always did: a line whose link was
 * re-adopted from the journal identical is taken as the file's, the rest created. */
#include "boot_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "normalize.h"
#include "path.h"
#include "planner.h"
#include "request.h"
#include "util.h"

/* One line of the file, as this pass read it. */
struct boot_line {
        unsigned line_no;
        struct config_entry entry; /* as written */
        struct wire_create msg;    /* the paths folded, as a request carries them */
        bool skip;                 /* reported already: not to be created */
        bool removed;              /* its link was taken away by this pass, to be made again */
};

/* What the file made before this pass, and what is to become of it. */
enum fate {
        FATE_BY_LINE, /* its line is still there: the creation pass decides */
        FATE_KEEP,    /* stays the file's as it is */
        FATE_REMOVE,  /* taken away */
        FATE_FORGET,  /* its line is gone and the link is not the file's any more */
};

struct pass {
        struct boot_config *config;
        struct link_manager *manager;
        struct boot_line *lines;
        size_t line_count;
        /* Virtual paths named by lines that could not be read: what the file made
         * there stays, rather than be removed for a typo. */
        char **held;
        size_t held_count;
        enum fate *fates;       /* one for each of config->links */
        struct boot_link *kept; /* the memory after this pass */
        size_t kept_count;
        struct boot_counts counts;
};

void boot_config_init(struct boot_config *config, const char *path)
{
        *config = (struct boot_config){.path = path};
}

static void boot_links_free(struct boot_link *links, size_t count)
{
        for (size_t i = 0; i < count; i++)
                link_free(links[i].made);
        free(links);
}

void boot_config_done(struct boot_config *config)
{
        boot_links_free(config->links, config->count);
        config->links = NULL;
        config->count = 0;
}

static bool same_strings(char *const *a, char *const *b, uint32_t n)
{
        for (uint32_t i = 0; i < n; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

/* Does link l show what the request asks for (V aside)? */
static bool link_is(const struct link *l, const struct wire_create *msg)
{
        return strcmp(l->backing_path, msg->backing_path) == 0 && l->flags == msg->flags &&
               l->exception_count == msg->exception_count &&
               same_strings(l->exception_paths, msg->exception_paths, msg->exception_count);
}

/* Is the link on made's V still the one the file made? Its creation number says
 * so: a link removed and made again through the API has another. */
static bool still_made(const struct link_manager *m, const struct link *made)
{
        const struct link *live = link_manager_find(m, made->virtual_path);
        return live && live->order == made->order &&
               strcmp(live->backing_path, made->backing_path) == 0 && live->flags == made->flags;
}

/* ---- reading ----------------------------------------------------------------------- */

/* A line that cannot be parsed keeps what the file made on the path it starts with,
 * if it starts with one. 0 or -ENOMEM. */
static int hold_first_field(struct pass *p, const char *line)
{
        line += strspn(line, " \t");
        if (line[0] != '/')
                return 0;
        _cleanup_free_ char *field = strndup(line, strcspn(line, " \t\r\n"));
        _cleanup_free_ char *unescaped = NULL, *folded = NULL;
        int ignored;
        if (!field)
                return -ENOMEM;
        int r = journal_unescape(field, &unescaped);
        if (r >= 0)
                r = normalize_path(unescaped, &folded, &ignored, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* names no path: nothing the file made can be on it */
        char **more = realloc(p->held, (p->held_count + 1) * sizeof *more);
        if (!more)
                return -ENOMEM;
        p->held = more;
        p->held[p->held_count++] = TAKE_PTR(folded);
        return 0;
}

static bool is_held(const struct pass *p, const char *virtual_path)
{
        for (size_t i = 0; i < p->held_count; i++)
                if (strcmp(p->held[i], virtual_path) == 0)
                        return true;
        return false;
}

/* Parse one line and fold its paths; a line that fails is logged and counted. */
static int read_line(struct pass *p, const char *text, unsigned line_no)
{
        struct boot_line l = {.line_no = line_no};
        const char *reason = NULL;
        int r = config_parse_line(text, &l.entry, &reason);
        if (r == -ENOMEM)
                return log_error_errno(r, "%s:%u: cannot read the line", p->config->path, line_no);
        if (r < 0) {
                log_error("%s:%u: %s", p->config->path, line_no, reason);
                p->counts.failed++;
                r = hold_first_field(p, text);
                if (r < 0) /* rather than remove what that line made */
                        return log_error_errno(r, "%s:%u: cannot read the line", p->config->path,
                                               line_no);
                return 0;
        }
        if (r == 0)
                return 0;
        struct caller_fds fds;
        bindlink_error error;
        if (request_prepare_create(l.entry.virtual_path, l.entry.backing_path, l.entry.flags,
                                   l.entry.exception_count,
                                   (const char *const *)l.entry.exception_paths, &l.msg, &fds,
                                   &error) < 0) {
                log_error("%s:%u: %s", p->config->path, line_no, error.message);
                p->counts.failed++;
                config_entry_free(&l.entry);
                return 0;
        }
        caller_fds_close(&fds); /* opened again when the link is made */
        struct boot_line *more = realloc(p->lines, (p->line_count + 1) * sizeof *more);
        if (!more) {
                config_entry_free(&l.entry);
                wire_create_free(&l.msg);
                return log_error_errno(-ENOMEM, "%s:%u: cannot read the line", p->config->path,
                                       line_no);
        }
        p->lines = more;
        p->lines[p->line_count++] = l;
        return 0;
}

static int read_file(struct pass *p)
{
        FILE *f = fopen(p->config->path, "re");
        if (!f)
                return log_error_errno(errno, "cannot read %s", p->config->path);
        _cleanup_free_ char *text = NULL;
        size_t cap = 0;
        unsigned line_no = 0;
        int r = 0;
        errno = 0;
        while (r >= 0 && getline(&text, &cap, f) >= 0) {
                r = read_line(p, text, ++line_no);
                errno = 0;
        }
        if (r >= 0 && ferror(f))
                r = log_error_errno(errno, "cannot read %s", p->config->path);
        (void)fclose(f);
        return r;
}

static struct boot_line *line_of(struct pass *p, const char *virtual_path)
{
        for (size_t i = 0; i < p->line_count; i++)
                if (strcmp(p->lines[i].msg.virtual_path, virtual_path) == 0)
                        return &p->lines[i];
        return NULL;
}

/* ---- removals ----------------------------------------------------------------------- */

/* Can the changed line be made? If B (or an exception) cannot even be opened, the
 * link the file made before stays, rather than leave V bare. */
static bool changed_line_can_be_made(const struct pass *p, const struct boot_line *line,
                                     const struct link *made)
{
        const struct wire_create *msg = &line->msg;
        const char *what = msg->backing_error ? msg->backing_path : NULL;
        int error = msg->backing_error;
        for (uint32_t i = 0; !what && i < msg->exception_count; i++)
                if (msg->exception_errors[i]) {
                        what = msg->exception_paths[i];
                        error = msg->exception_errors[i];
                }
        if (!what)
                return true;
        log_error("%s:%u: cannot open %s: %s (%s); link %s -> %s is kept as it was",
                  p->config->path, line->line_no, what, strerror(error),
                  bindlink_errno_name(error) ? bindlink_errno_name(error) : "?", made->virtual_path,
                  made->backing_path);
        return false;
}

/* What becomes of each link the file made, from the lines read. */
static void decide_fates(struct pass *p)
{
        struct boot_config *c = p->config;
        for (size_t i = 0; i < c->count; i++) {
                const struct link *made = c->links[i].made;
                bool made_still = still_made(p->manager, made);
                struct boot_line *line = line_of(p, made->virtual_path);
                if (is_held(p, made->virtual_path))
                        p->fates[i] = FATE_KEEP;
                else if (!line)
                        p->fates[i] = made_still ? FATE_REMOVE : FATE_FORGET;
                else if (link_is(made, &line->msg) || !made_still)
                        p->fates[i] = FATE_BY_LINE;
                else if (changed_line_can_be_made(p, line, made))
                        p->fates[i] = FATE_REMOVE;
                else {
                        p->fates[i] = FATE_KEEP;
                        line->skip = true;
                        p->counts.failed++;
                }
        }
        /* A link the file made below one that goes must go first (EBUSY otherwise),
         * and is made again by its line. Links made through the API below it are
         * left: the removal above them then fails, saying which. */
        bool grew = true;
        while (grew) {
                grew = false;
                for (size_t i = 0; i < c->count; i++) {
                        if (p->fates[i] != FATE_BY_LINE ||
                            !still_made(p->manager, c->links[i].made))
                                continue;
                        for (size_t j = 0; j < c->count; j++)
                                if (p->fates[j] == FATE_REMOVE &&
                                    path_is_strict_descendant(c->links[j].made->virtual_path,
                                                              c->links[i].made->virtual_path)) {
                                        p->fates[i] = FATE_REMOVE;
                                        grew = true;
                                        break;
                                }
                }
        }
}

/* Removals go deepest first; of one depth, the last made first (as remove_tree's). */
static const char *made_path(const void *b)
{
        return ((const struct boot_link *)b)->made->virtual_path;
}
static uint64_t made_order(const void *b)
{
        return ((const struct boot_link *)b)->made->order;
}
static const struct order_rules removal_order = {.path = made_path, .key = made_order};

/* Why a link the file made is being removed, for its line's message. */
static const char *removal_reason(const struct boot_line *line, const struct link *made)
{
        if (!line)
                return "line removed";
        if (!link_is(made, &line->msg))
                return "line changed";
        return "below a link whose line changed or went; made again below";
}

static int remove_what_goes(struct pass *p)
{
        struct boot_config *c = p->config;
        _cleanup_free_ struct boot_link **going = calloc(c->count + 1, sizeof *going);
        _cleanup_free_ struct outcome *o = calloc(1, sizeof *o);
        if (!going || !o)
                return log_error_errno(-ENOMEM, "%s: cannot plan the removals", c->path);
        size_t n = 0;
        for (size_t i = 0; i < c->count; i++)
                if (p->fates[i] == FATE_REMOVE)
                        going[n++] = &c->links[i];
        order_deepest_first((void **)going, n, &removal_order);
        struct creds daemon = creds_daemon();
        for (size_t i = 0; i < n; i++) {
                struct boot_link *b = going[i];
                size_t index = (size_t)(b - c->links);
                struct boot_line *line = line_of(p, b->made->virtual_path);
                unsigned line_no = line ? line->line_no : b->line_no;
                const char *reason = removal_reason(line, b->made);
                link_manager_remove(p->manager, b->made->virtual_path, false, &daemon, o);
                if (o->status < 0) {
                        log_error("%s:%u: %s: cannot remove link %s -> %s: %s (%s)", c->path,
                                  line_no, reason, b->made->virtual_path, b->made->backing_path,
                                  o->message,
                                  bindlink_errno_name(-o->status) ? bindlink_errno_name(-o->status)
                                                                  : strerror(-o->status));
                        p->counts.failed++;
                        p->fates[index] = FATE_KEEP; /* still there, still the file's */
                        if (line && !link_is(b->made, &line->msg))
                                line->skip = true; /* V is taken: reported once, here */
                        continue;
                }
                log_info("%s:%u: %s: removed link %s -> %s", c->path, line_no, reason,
                         b->made->virtual_path, b->made->backing_path);
                p->counts.removed++;
                if (line)
                        line->removed = true;
        }
        return 0;
}

/* ---- creations ---------------------------------------------------------------------- */

/* Remember link l as the one the line made. */
static void remember(struct pass *p, const struct link *l, unsigned line_no)
{
        struct link *copy = link_new(l->order, l->flags, l->virtual_path, l->backing_path,
                                     l->exception_count, l->exception_paths);
        struct boot_link *more = copy ? realloc(p->kept, (p->kept_count + 1) * sizeof *more) : NULL;
        if (!more) {
                link_free(copy);
                log_error("%s:%u: out of memory: link %s will not be known as this file's at "
                          "the next reload",
                          p->config->path, line_no, l->virtual_path);
                return;
        }
        p->kept = more;
        p->kept[p->kept_count++] = (struct boot_link){.made = copy, .line_no = line_no};
}

static const struct link *kept_on(const struct pass *p, const char *virtual_path)
{
        for (size_t i = 0; i < p->kept_count; i++)
                if (strcmp(p->kept[i].made->virtual_path, virtual_path) == 0)
                        return p->kept[i].made;
        return NULL;
}

/* Create the line's link as root would through the API: the paths opened again now
 * (what the removals changed included). 0, or -errno with the cause logged. */
static int create_line(struct pass *p, const struct boot_line *line)
{
        const char *path = p->config->path;
        const struct config_entry *e = &line->entry;
        struct wire_create msg;
        struct caller_fds fds;
        bindlink_error error;
        int r = request_prepare_create(e->virtual_path, e->backing_path, e->flags,
                                       e->exception_count, (const char *const *)e->exception_paths,
                                       &msg, &fds, &error);
        if (r < 0) {
                log_error("%s:%u: %s", path, line->line_no, error.message);
                return r;
        }
        int exception_fds[WIRE_MAX_FDS];
        size_t next = 0;
        struct creds daemon = creds_daemon();
        struct create_request req = {
                .msg = &msg, .exception_fds = exception_fds, .creator = &daemon};
        req.parent_fd = msg.parent_error == 0 ? fds.fds[next++] : -1;
        req.backing_fd = msg.backing_error == 0 ? fds.fds[next++] : -1;
        for (uint32_t i = 0; i < msg.exception_count; i++)
                exception_fds[i] = msg.exception_errors[i] == 0 ? fds.fds[next++] : -1;
        struct outcome *o = calloc(1, sizeof *o);
        if (o) {
                link_manager_create(p->manager, &req, o);
                r = o->status;
                if (r < 0)
                        log_error("%s:%u: %s (%s)", path, line->line_no, o->message,
                                  bindlink_errno_name(-r) ? bindlink_errno_name(-r) : strerror(-r));
                free(o);
        } else {
                r = log_error_errno(-ENOMEM, "%s:%u: cannot create link %s", path, line->line_no,
                                    msg.virtual_path);
        }
        caller_fds_close(&fds);
        wire_create_free(&msg);
        return r;
}

static void create_what_is_missing(struct pass *p)
{
        for (size_t i = 0; i < p->line_count; i++) {
                const struct boot_line *line = &p->lines[i];
                const char *v = line->msg.virtual_path;
                if (line->skip)
                        continue;
                const struct link *kept = kept_on(p, v);
                if (kept && link_is(kept, &line->msg))
                        continue; /* the same line twice */
                const struct link *live = link_manager_find(p->manager, v);
                if (!kept && live && link_is(live, &line->msg)) {
                        remember(p, live, line->line_no); /* in place: left alone */
                        p->counts.unchanged++;
                        continue;
                }
                if (create_line(p, line) < 0) {
                        p->counts.failed++;
                        continue;
                }
                live = link_manager_find(p->manager, v);
                if (live)
                        remember(p, live, line->line_no);
                p->counts.created++;
                log_info("%s:%u: %s link %s -> %s", p->config->path, line->line_no,
                         line->removed ? "made again:" : "created", v, line->msg.backing_path);
        }
}

/* ---- one pass ----------------------------------------------------------------------- */

static void pass_done(struct pass *p)
{
        for (size_t i = 0; i < p->line_count; i++) {
                config_entry_free(&p->lines[i].entry);
                wire_create_free(&p->lines[i].msg);
        }
        free(p->lines);
        for (size_t i = 0; i < p->held_count; i++)
                free(p->held[i]);
        free(p->held);
        free(p->fates);
        boot_links_free(p->kept, p->kept_count);
}

int boot_config_apply(struct boot_config *config, struct link_manager *manager,
                      struct boot_counts *ret)
{
        struct pass p = {.config = config, .manager = manager};
        int r = read_file(&p);
        if (r >= 0 && config->count > 0 && !(p.fates = calloc(config->count, sizeof *p.fates)))
                r = log_error_errno(-ENOMEM, "%s: cannot apply", config->path);
        if (r < 0) {
                pass_done(&p);
                return r; /* nothing changed */
        }
        decide_fates(&p);
        r = remove_what_goes(&p);
        if (r < 0) {
                /* Out of memory before any removal: keep the memory as it was. */
                pass_done(&p);
                return r;
        }
        /* What the file made that stays without a line deciding it. */
        for (size_t i = 0; i < config->count; i++)
                if (p.fates[i] == FATE_KEEP) {
                        struct boot_link *b = &config->links[i];
                        struct boot_link *more = realloc(p.kept, (p.kept_count + 1) * sizeof *more);
                        if (!more) {
                                log_error("%s:%u: out of memory: link %s will not be known as "
                                          "this file's at the next reload",
                                          config->path, b->line_no, b->made->virtual_path);
                                continue;
                        }
                        p.kept = more;
                        p.kept[p.kept_count++] = *b;
                        b->made = NULL; /* moved */
                }
        create_what_is_missing(&p);
        boot_config_done(config);
        config->links = TAKE_PTR(p.kept);
        config->count = p.kept_count;
        p.kept_count = 0;
        *ret = p.counts;
        pass_done(&p);
        return 0;
}
