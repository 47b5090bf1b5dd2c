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

/* o's O record (overlay_record.h), with its newline. */
static int format_record(const struct overlay_instance *o, char **ret)
{
        struct overlay_record rec = {
                .dir = o->dir, .pid = o->pid, .start_time = o->start_time,
                .mount_id = o->mount_id, .count = o->count, .names = o->names,
                .kinds = o->kinds, .shadow = o->shadow,
                .view = o->merged == MERGED_RO   ? RECORD_MERGED_RO
                        : o->merged == MERGED_RW ? RECORD_MERGED_RW
                                                 : RECORD_PARENT,
                .graft_ids = o->graft_ids, .graft_count = o->graft_count};
        return overlay_record_format(&rec, ret);
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
                if (write(fd, rec, len) != (ssize_t)len)
                        return -EIO;
        }
        return 0;
}

/* Append o's O record (a later one for the same directory and mount replaces it). */
void overlay_registry_journal(struct overlay_registry *reg, const struct overlay_instance *o);
void overlay_registry_journal(struct overlay_registry *reg, const struct overlay_instance *o)
{
        _cleanup_free_ char *rec = NULL;
        int r = format_record(o, &rec);
        if (r >= 0)
                r = journal_append_record(reg->journal, rec);
        if (r < 0)
                log_error_errno(r, "cannot journal the overlay on %s", o->dir);
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
                log_warning_errno(r, "cannot detach the overlay on %s", o->dir);
        _cleanup_free_ char *rec = NULL;
        r = overlay_record_format_stop(o->dir, o->mount_id, &rec);
        if (r >= 0)
                r = journal_append_record(reg->journal, rec);
        if (r < 0)
                log_error_errno(r, "cannot journal that the overlay on %s stopped", o->dir);
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

/* The instance an O record describes (not yet adopted), or NULL on ENOMEM. */
static struct overlay_instance *from_record(const struct overlay_record *rec)
{
        struct overlay_instance *o = overlay_new(rec->dir, rec->names, rec->kinds, rec->count);
        if (!o)
                return NULL;
        o->pid = rec->pid;
        o->start_time = rec->start_time;
        o->mount_id = rec->mount_id;
        o->merged = rec->view == RECORD_MERGED_RO   ? MERGED_RO
                    : rec->view == RECORD_MERGED_RW ? MERGED_RW
                                                    : MERGED_NONE;
        o->shadow = rec->shadow;
        for (size_t i = 0; i < rec->graft_count; i++)
                if (overlay_add_graft(o, rec->graft_ids[i]) < 0) {
                        overlay_free(o);
                        return NULL;
                }
        return o;
}

void overlay_registry_adopt(struct overlay_registry *reg,
                            void (*lost)(void *ctx, const char *dir), void *ctx)
{
        struct overlay_record *records;
        size_t count;
        journal_take_overlays(reg->journal, &records, &count);
        /* Parent overlays first: one may sit on a merged view at the same directory,
         * which is then found beneath it. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < count; i++) {
                        if ((pass == 0) == (records[i].view != RECORD_PARENT))
                                continue;
                        struct overlay_instance *o = from_record(&records[i]);
                        if (!o) {
                                log_error("out of memory: the overlay on %s is not adopted",
                                          records[i].dir);
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
        for (size_t i = 0; i < count; i++)
                overlay_record_done(&records[i]);
        free(records);
        struct journal *j = reg->journal;
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
