/* fuzz_journal.c — libFuzzer target for the journal parser (daemon/journal/journal.c), which
 * a restarted bindlinkd trusts to rebuild its link table (S4).
 *
 * Input: journal text, one record a line. Every line is applied in order to a fresh
 * link_table with journal_apply_line, as journal_open does; afterwards the table must
 * be consistent (creation order, each link found by its virtual path and its order),
 * and writing its links back out as L and M records (what compaction writes) and
 * replaying those must give the same table. Each line also goes through
 * journal_escape / journal_unescape: escaping yields no byte the record format splits
 * on, and unescaping gives the original back. And each line is read as an overlay's O
 * or X record (overlay_record.c): what parses is written back as one line that parses
 * to the same record. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>

#include "fuzz.h"
#include "journal.h"
#include "link_table.h"
#include "overlay_record.h"

/* journal_open applies every line; a few dozen reach every record kind and order. */
#define MAX_LINES 64

static void check_escape_round_trip(const char *s)
{
        char *escaped = NULL, *back = NULL;
        CHECK(journal_escape(s, &escaped) == 0);
        for (const unsigned char *p = (const unsigned char *)escaped; *p; p++) {
                CHECK(*p > ' ' && *p != 0x7f);
                if (*p == '\\')
                        CHECK(p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                              p[3] >= '0' && p[3] <= '7');
        }
        CHECK(journal_unescape(escaped, &back) == 0);
        CHECK_STR_EQ(back, s);
        free(back);
        free(escaped);

        /* Whatever unescapes is the escape of its result, read back. */
        char *plain = NULL;
        int r = journal_unescape(s, &plain);
        CHECK(r == 0 || r == -EINVAL);
        if (r == 0) {
                CHECK(strlen(plain) <= strlen(s));
                CHECK(journal_escape(plain, &escaped) == 0);
                CHECK(journal_unescape(escaped, &back) == 0);
                CHECK_STR_EQ(back, plain);
                free(back);
                free(escaped);
                free(plain);
        }
}

static void check_table(const struct link_table *t)
{
        /* Every order is below the next one to be given out (a record with order
         * UINT64_MAX once wrapped next_order to 0: corpus/journal/order-wrap). The table
         * is in order: the largest is last. */
        for (size_t i = 0; i < t->count; i++) {
                const struct link *l = t->links[i];
                CHECK(l->order > 0 && l->order < t->next_order);
                if (i > 0)
                        CHECK(t->links[i - 1]->order < l->order);
                CHECK(l->flags <= 3 && l->exception_count <= 256);
                CHECK(link_table_find(t, l->virtual_path) == l);
                CHECK(link_table_find_order(t, l->order) == l);
                CHECK(link_table_index(t, l) == (ssize_t)i);
        }
}

static char *escaped(const char *s)
{
        char *e = NULL;
        CHECK(journal_escape(s, &e) == 0);
        return e;
}

/* The L and M records of a link, as compaction writes them (without newlines). */
static void replay_link(struct link_table *t, const struct link *l)
{
        char *v = escaped(l->virtual_path), *b = escaped(l->backing_path);
        size_t size = strlen(v) + strlen(b) + 96;
        for (uint32_t i = 0; i < l->exception_count; i++)
                size += strlen(l->exception_paths[i]) * 4 + 1;
        char *rec = malloc(size);
        CHECK(rec != NULL);
        int len = snprintf(rec, size, "L %" PRIu64 " %u %s %s %u", l->order, l->flags, v, b,
                           l->exception_count);
        for (uint32_t i = 0; i < l->exception_count; i++) {
                char *e = escaped(l->exception_paths[i]);
                len += snprintf(rec + len, size - (size_t)len, " %s", e);
                free(e);
        }
        CHECK(journal_apply_line(t, rec) == 0);
        (void)snprintf(rec, size, "M %" PRIu64 " %d %" PRIu64 " %d", l->order, (int)l->realization,
                       l->mount_id, l->covered_type);
        CHECK(journal_apply_line(t, rec) == 0);
        free(rec);
        free(v);
        free(b);
}

static void check_same_tables(const struct link_table *a, const struct link_table *b)
{
        CHECK(a->count == b->count);
        for (size_t i = 0; i < a->count; i++) {
                const struct link *x = a->links[i], *y = b->links[i];
                CHECK(x->order == y->order && x->flags == y->flags);
                CHECK(x->realization == y->realization && x->mount_id == y->mount_id &&
                      x->covered_type == y->covered_type);
                CHECK_STR_EQ(x->virtual_path, y->virtual_path);
                CHECK_STR_EQ(x->backing_path, y->backing_path);
                CHECK(x->exception_count == y->exception_count);
                for (uint32_t e = 0; e < x->exception_count; e++)
                        CHECK_STR_EQ(x->exception_paths[e], y->exception_paths[e]);
        }
}

static void check_same_records(const struct overlay_record *a, const struct overlay_record *b)
{
        CHECK_STR_EQ(a->dir, b->dir);
        CHECK(a->pid == b->pid && a->start_time == b->start_time && a->mount_id == b->mount_id);
        CHECK(a->view == b->view && a->shadow == b->shadow && a->count == b->count);
        for (size_t i = 0; i < a->count; i++) {
                CHECK(a->kinds[i] == b->kinds[i]);
                CHECK_STR_EQ(a->names[i], b->names[i]);
        }
        CHECK(a->graft_count == b->graft_count);
        for (size_t i = 0; i < a->graft_count; i++)
                CHECK(a->graft_ids[i] == b->graft_ids[i]);
}

static void check_overlay_record(const char *line)
{
        struct overlay_record rec, again;
        int r = overlay_record_parse(line, &rec);
        CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r == 0) {
                char *out = NULL;
                CHECK(overlay_record_format(&rec, &out) == 0);
                size_t len = strlen(out);
                CHECK(len > 0 && out[len - 1] == '\n' && !memchr(out, '\n', len - 1));
                out[len - 1] = '\0';
                CHECK(overlay_record_parse(out, &again) == 0);
                check_same_records(&rec, &again);
                overlay_record_done(&again);
                overlay_record_done(&rec);
                free(out);
        }
        char *dir = NULL;
        uint64_t mount_id;
        r = overlay_record_parse_stop(line, &dir, &mount_id);
        CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r == 0) {
                char *out = NULL, *back = NULL;
                uint64_t id;
                CHECK(overlay_record_format_stop(dir, mount_id, &out) == 0);
                out[strlen(out) - 1] = '\0';
                CHECK(overlay_record_parse_stop(out, &back, &id) == 0);
                CHECK_STR_EQ(back, dir);
                CHECK(id == mount_id);
                free(back);
                free(out);
                free(dir);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct link_table table;
        link_table_init(&table);
        size_t at = 0;
        char *line;
        for (int n = 0; n < MAX_LINES && (line = fuzz_next_piece(data, size, &at, '\n')); n++) {
                int r = journal_apply_line(&table, line);
                CHECK(r == 0 || r == -EINVAL);
                check_table(&table);
                check_escape_round_trip(line);
                check_overlay_record(line);
                free(line);
        }

        struct link_table replayed;
        link_table_init(&replayed);
        for (size_t i = 0; i < table.count; i++)
                replay_link(&replayed, table.links[i]);
        check_table(&replayed);
        check_same_tables(&table, &replayed);

        link_table_done(&replayed);
        link_table_done(&table);
        return 0;
}
