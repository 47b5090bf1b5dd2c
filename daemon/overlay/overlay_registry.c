/* overlay_registry.c — bookkeeping of running overlays (see overlay_registry.h). */
#include "overlay_registry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mount_ops.h"
#include "util.h"

void overlay_registry_init(struct overlay_registry *reg, struct journal *journal)
{
        *reg = (struct overlay_registry){.journal = journal};
}

void overlay_registry_done(struct overlay_registry *reg)
{
        /* The processes go on serving: links stay when the daemon stops (S4). */
        for (size_t i = 0; i < reg->serving_count; i++)
                overlay_free(reg->serving[i]);
        for (size_t i = 0; i < reg->retired_count; i++)
                overlay_free(reg->retired[i]);
        free(reg->serving);
        free(reg->retired);
        *reg = (struct overlay_registry){0};
}

static int list_add(struct overlay_instance ***list, size_t *count, struct overlay_instance *o)
{
        struct overlay_instance **grown = realloc(*list, (*count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        *list = grown;
        (*list)[(*count)++] = o;
        return 0;
}

static void list_remove(struct overlay_instance **list, size_t *count, struct overlay_instance *o)
{
        for (size_t i = 0; i < *count; i++)
                if (list[i] == o) {
                        list[i] = list[--*count];
                        return;
                }
}

struct overlay_instance *overlay_registry_find(const struct overlay_registry *reg,
                                               const char *dir)
{
        for (size_t i = 0; i < reg->serving_count; i++)
                if (!reg->serving[i]->merged && strcmp(reg->serving[i]->dir, dir) == 0)
                        return reg->serving[i];
        return NULL;
}

struct overlay_instance *overlay_registry_find_merged(const struct overlay_registry *reg,
                                                      const char *dir)
{
        for (size_t i = 0; i < reg->serving_count; i++)
                if (reg->serving[i]->merged && strcmp(reg->serving[i]->dir, dir) == 0)
                        return reg->serving[i];
        return NULL;
}

/* O <dir> <pid> <start> <mount_id> <n> <d|f|h><name>... [merged=rw|ro|shadow=rw|ro]
 * (escaped as in the journal). */
static int format_record(const struct overlay_instance *o, char **ret)
{
        _cleanup_free_ char *dir = NULL;
        int r = journal_escape(o->dir, &dir);
        if (r < 0)
                return r;
        size_t size = strlen(dir) + 128 + o->graft_count * 22;
        char **names = calloc(o->count + 1, sizeof *names);
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < o->count && r >= 0; i++) {
                r = journal_escape(o->names[i], &names[i]);
                if (r >= 0)
                        size += strlen(names[i]) + 2;
        }
        char *out = r >= 0 ? malloc(size) : NULL;
        if (out) {
                int len = snprintf(out, size, "O %s %d %" PRIu64 " %" PRIu64 " %zu", dir,
                                   (int)o->pid, o->start_time, o->mount_id, o->count);
                for (size_t i = 0; i < o->count; i++)
                        len += snprintf(out + len, size - (size_t)len, " %c%s", o->kinds[i],
                                        names[i]);
                if (o->merged)
                        len += snprintf(out + len, size - (size_t)len, " %s=%s",
                                        o->shadow ? "shadow" : "merged",
                                        o->merged == MERGED_RO ? "ro" : "rw");
                for (size_t i = 0; i < o->graft_count; i++)
                        len += snprintf(out + len, size - (size_t)len, "%s%" PRIu64,
                                        i == 0 ? " g=" : ",", o->graft_ids[i]);
                *ret = out;
        } else if (r >= 0) {
                r = -ENOMEM;
        }
        for (size_t i = 0; i < o->count; i++)
                free(names[i]);
        free(names);
        return r;
}

static int write_serving(void *ctx, int fd)
{
        struct overlay_registry *reg = ctx;
        for (size_t i = 0; i < reg->serving_count; i++) {
                _cleanup_free_ char *rec = NULL;
                int r = format_record(reg->serving[i], &rec);
                if (r < 0)
                        return r;
                size_t len = strlen(rec);
                rec[len] = '\n'; /* format_record leaves room: size had slack */
                if (write(fd, rec, len + 1) != (ssize_t)(len + 1))
                        return -EIO;
        }
        return 0;
}

/* Append o's O record (a later one for the same directory and mount replaces it). */
void overlay_registry_journal(struct overlay_registry *reg, const struct overlay_instance *o);
void overlay_registry_journal(struct overlay_registry *reg, const struct overlay_instance *o)
{
        _cleanup_free_ char *rec = NULL;
        if (format_record(o, &rec) >= 0) {
                size_t len = strlen(rec);
                rec[len] = '\n';
                rec[len + 1] = '\0';
                if (journal_append_record(reg->journal, rec) < 0)
                        log_error("cannot journal the overlay on %s", o->dir);
        }
}

int overlay_registry_update(struct overlay_registry *reg, struct overlay_instance *o,
                            char *const *names, const char *kinds, size_t count)
{
        int r = overlay_update_entries(o, names, kinds, count);
        if (r >= 0)
                overlay_registry_journal(reg, o);
        return r;
}

int overlay_registry_add(struct overlay_registry *reg, struct overlay_instance *o)
{
        int r = list_add(&reg->serving, &reg->serving_count, o);
        if (r < 0)
                return r;
        overlay_registry_journal(reg, o);
        if (reg->watch && o->pidfd >= 0)
                reg->watch(reg->watch_ctx, o->pidfd);
        return 0;
}

void overlay_registry_stop(struct overlay_registry *reg, struct overlay_instance *o)
{
        list_remove(reg->serving, &reg->serving_count, o);
        int r = overlay_stop(o);
        if (r < 0 && r != -ESTALE)
                log_warning("cannot detach the overlay on %s: %s", o->dir, strerror(-r));
        _cleanup_free_ char *dir = NULL;
        char *rec = NULL;
        if (journal_escape(o->dir, &dir) >= 0 &&
            asprintf(&rec, "X %s %" PRIu64 "\n", dir, o->mount_id) >= 0) {
                (void)journal_append_record(reg->journal, rec);
                free(rec);
        }
        if (overlay_reap(o) || list_add(&reg->retired, &reg->retired_count, o) < 0)
                overlay_free(o);
}

struct overlay_instance *overlay_registry_ended(struct overlay_registry *reg, int pidfd)
{
        for (size_t i = 0; i < reg->retired_count; i++) {
                struct overlay_instance *o = reg->retired[i];
                if (o->pidfd == pidfd) {
                        if (overlay_reap(o)) {
                                list_remove(reg->retired, &reg->retired_count, o);
                                overlay_free(o);
                        }
                        return NULL;
                }
        }
        for (size_t i = 0; i < reg->serving_count; i++)
                if (reg->serving[i]->pidfd == pidfd && overlay_reap(reg->serving[i]))
                        return reg->serving[i];
        return NULL;
}

static struct overlay_instance *parse_record(const char *line)
{
        _cleanup_free_ char *copy = strdup(line);
        if (!copy)
                return NULL;
        char *save = NULL, *f[6 + 1024];
        size_t n = 0;
        for (char *t = strtok_r(copy, " ", &save); t && n < sizeof f / sizeof f[0];
             t = strtok_r(NULL, " ", &save))
                f[n++] = t;
        if (n < 6 || strcmp(f[0], "O") != 0)
                return NULL;
        size_t count = strtoul(f[5], NULL, 10);
        int merged = MERGED_NONE;
        bool shadow = false;
        const char *grafts = NULL;
        if (n < 6 + count)
                return NULL;
        /* After the entries: merged=/shadow= (a merged view), g= (grafts), in order. */
        for (size_t i = 6 + count; i < n; i++) {
                const char *t = f[i];
                if (strncmp(t, "g=", 2) == 0 && !grafts) {
                        grafts = t + 2;
                } else if (!grafts && merged == MERGED_NONE &&
                           (strncmp(t, "merged=", 7) == 0 || strncmp(t, "shadow=", 7) == 0)) {
                        shadow = strncmp(t, "shadow=", 7) == 0;
                        if (strcmp(t + 7, "rw") == 0)
                                merged = MERGED_RW;
                        else if (strcmp(t + 7, "ro") == 0)
                                merged = MERGED_RO;
                        else
                                return NULL;
                } else {
                        return NULL;
                }
        }
        _cleanup_free_ char *dir = NULL;
        if (journal_unescape(f[1], &dir) < 0)
                return NULL;
        char **names = calloc(count + 1, sizeof *names);
        char *kinds = calloc(count + 1, sizeof *kinds);
        struct overlay_instance *o = NULL;
        bool ok = names && kinds;
        for (size_t i = 0; ok && i < count; i++) {
                kinds[i] = f[6 + i][0];
                ok = strchr("dfh", kinds[i]) && journal_unescape(f[6 + i] + 1, &names[i]) >= 0;
        }
        if (ok)
                o = overlay_new(dir, names, kinds, count);
        if (o) {
                o->pid = (pid_t)strtol(f[2], NULL, 10);
                o->start_time = strtoull(f[3], NULL, 10);
                o->mount_id = strtoull(f[4], NULL, 10);
                o->merged = merged;
                o->shadow = shadow;
                for (const char *g = grafts; o && g && *g;) {
                        char *end;
                        uint64_t id = strtoull(g, &end, 10);
                        if (end == g || overlay_add_graft(o, id) < 0)
                                break;
                        g = *end == ',' ? end + 1 : end;
                }
        }
        for (size_t i = 0; names && i < count; i++)
                free(names[i]);
        free(names);
        free(kinds);
        return o;
}

void overlay_registry_adopt(struct overlay_registry *reg,
                            void (*lost)(void *ctx, const char *dir), void *ctx)
{
        struct journal *j = reg->journal;
        /* Parent overlays first: one may sit on a merged view at the same directory,
         * which is then found beneath it. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < j->overlay_line_count; i++) {
                        struct overlay_instance *o = parse_record(j->overlay_lines[i]);
                        if (!o) {
                                if (pass == 0)
                                        log_warning("journal: malformed overlay record skipped");
                                continue;
                        }
                        if ((pass == 0) == (o->merged != MERGED_NONE)) {
                                overlay_free(o);
                                continue;
                        }
                        uint64_t beneath = 0;
                        struct overlay_instance *above =
                                o->merged ? overlay_registry_find(reg, o->dir) : NULL;
                        if (above && above->lower_fd >= 0)
                                (void)mount_id_of_fd(above->lower_fd, &beneath);
                        if (overlay_adopt(o, beneath) &&
                            list_add(&reg->serving, &reg->serving_count, o) >= 0)
                                continue;
                        /* Gone or replaced: take down what is left of it (a dead FUSE
                         * mount answers "Transport endpoint is not connected") and show
                         * its links again. */
                        log_warning("the %s on %s is gone; showing its links again",
                                    o->merged ? "merged view" : "overlay", o->dir);
                        /* A parent overlay on a lost view shows the dead view (its
                         * lower directory), and covers it: it goes too, and its links
                         * (all below dir) are shown again with the rest. */
                        if (above)
                                overlay_registry_stop(reg, above);
                        (void)mount_detach_link(o->dir, o->mount_id);
                        lost(ctx, o->dir);
                        overlay_free(o);
                }
        for (size_t i = 0; i < j->overlay_line_count; i++)
                free(j->overlay_lines[i]);
        free(j->overlay_lines);
        j->overlay_lines = NULL;
        j->overlay_line_count = 0;
        j->write_overlays = write_serving;
        j->write_overlays_ctx = reg;
}

void overlay_registry_watch(struct overlay_registry *reg, void (*watch)(void *ctx, int pidfd),
                            void *ctx)
{
        reg->watch = watch;
        reg->watch_ctx = ctx;
        for (size_t i = 0; i < reg->serving_count; i++)
                if (reg->serving[i]->pidfd >= 0)
                        watch(ctx, reg->serving[i]->pidfd);
        for (size_t i = 0; i < reg->retired_count; i++)
                if (reg->retired[i]->pidfd >= 0)
                        watch(ctx, reg->retired[i]->pidfd);
}
