/* journal.c — append-only link journal with atomic compaction (see journal.h). */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define JOURNAL_NAME "links.journal"

int journal_escape(const char *in, char **ret_out)
{
        size_t n = strlen(in);
        char *out = malloc(n * 4 + 1), *o = out;
        if (!out)
                return -ENOMEM;
        for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
                if (*p <= ' ' || *p == '\\' || *p == 0x7f) {
                        *o++ = '\\';
                        *o++ = (char)('0' + ((*p >> 6) & 7));
                        *o++ = (char)('0' + ((*p >> 3) & 7));
                        *o++ = (char)('0' + (*p & 7));
                } else {
                        *o++ = (char)*p;
                }
        }
        *o = '\0';
        *ret_out = out;
        return 0;
}

int journal_unescape(const char *in, char **ret_out)
{
        char *out = malloc(strlen(in) + 1), *o = out;
        if (!out)
                return -ENOMEM;
        for (const char *p = in; *p; p++) {
                if (*p != '\\') {
                        *o++ = *p;
                        continue;
                }
                if (p[1] < '0' || p[1] > '3' || p[2] < '0' || p[2] > '7' || p[3] < '0' ||
                    p[3] > '7') {
                        free(out);
                        return -EINVAL;
                }
                int v = (p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0');
                if (v == 0) {
                        free(out);
                        return -EINVAL;
                }
                *o++ = (char)v;
                p += 3;
        }
        *o = '\0';
        *ret_out = out;
        return 0;
}

int journal_fields(const char *line, char **ret_buf, char ***ret_fields, size_t *ret_count)
{
        char *buf = strdup(line);
        if (!buf)
                return -ENOMEM;
        /* As many fields as the line has spaces, and one. */
        size_t max = 1;
        for (const char *p = buf; *p; p++)
                max += *p == ' ';
        char **fields = calloc(max, sizeof *fields);
        if (!fields) {
                free(buf);
                return -ENOMEM;
        }
        size_t n = 0;
        char *save = NULL;
        for (char *tok = strtok_r(buf, " ", &save); tok && n < max;
             tok = strtok_r(NULL, " ", &save))
                fields[n++] = tok;
        *ret_buf = buf;
        *ret_fields = fields;
        *ret_count = n;
        return 0;
}

int journal_parse_u64(const char *s, uint64_t *ret)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

static int apply_link_record(struct link_table *table, char **f, size_t n)
{
        uint64_t order, flags, count;
        if (n < 6 || journal_parse_u64(f[1], &order) < 0 || journal_parse_u64(f[2], &flags) < 0 ||
            journal_parse_u64(f[5], &count) < 0 || count > 256 || n != 6 + count || order == 0 ||
            order == UINT64_MAX || flags > 3)
                return -EINVAL;
        if (link_table_find_order(table, order))
                return -EINVAL;
        char *paths[2 + 256] = {0};
        int r = 0;
        for (size_t i = 0; i < 2 + count && r >= 0; i++)
                r = journal_unescape(f[i < 2 ? 3 + i : 6 + (i - 2)], &paths[i]);
        struct link *link = NULL;
        if (r >= 0) {
                link = link_new(order, (uint32_t)flags, paths[0], paths[1], (uint32_t)count,
                                paths + 2);
                r = link ? 0 : -ENOMEM;
        }
        for (size_t i = 0; i < 2 + count; i++)
                free(paths[i]);
        if (r < 0)
                return r;
        if (link_table_find(table, link->virtual_path)) {
                link_free(link);
                return -EINVAL;
        }
        r = link_table_add(table, link);
        if (r < 0)
                link_free(link);
        return r;
}

/* C: who made a link (creds.h). */
static int apply_creator_record(struct link_table *table, char **f, size_t n)
{
        uint64_t order, privileged, uid, gid, dac, count;
        if (n < 7 || journal_parse_u64(f[1], &order) < 0 ||
            journal_parse_u64(f[2], &privileged) < 0 || journal_parse_u64(f[3], &uid) < 0 ||
            journal_parse_u64(f[4], &gid) < 0 || journal_parse_u64(f[5], &dac) < 0 ||
            journal_parse_u64(f[6], &count) < 0 || privileged > 1 || uid > UINT32_MAX ||
            gid > UINT32_MAX || dac > (CREDS_DAC_OVERRIDE | CREDS_DAC_READ_SEARCH) ||
            count > JOURNAL_MAX_GROUPS || n != 7 + count)
                return -EINVAL;
        struct link *link = link_table_find_order(table, order);
        if (!link)
                return -EINVAL;
        struct creds c = {.privileged = privileged,
                          .uid = (uid_t)uid,
                          .gid = (gid_t)gid,
                          .dac_caps = (unsigned)dac};
        if (count > 0) {
                c.groups = calloc(count, sizeof *c.groups);
                if (!c.groups)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < count; i++) {
                uint64_t g;
                if (journal_parse_u64(f[7 + i], &g) < 0 || g > UINT32_MAX) {
                        free(c.groups);
                        return -EINVAL;
                }
                c.groups[c.group_count++] = (gid_t)g;
        }
        creds_done(&link->creator);
        link->creator = c;
        return 0;
}

/* N: B as named (a symlink on the way); B: what it resolves to since. */
static int apply_backing_record(struct link_table *table, char **f, size_t n, bool named)
{
        uint64_t order;
        if (n != 3 || journal_parse_u64(f[1], &order) < 0)
                return -EINVAL;
        struct link *link = link_table_find_order(table, order);
        if (!link)
                return -EINVAL;
        _cleanup_free_ char *path = NULL;
        int r = journal_unescape(f[2], &path);
        if (r < 0)
                return r;
        if (path[0] != '/')
                return -EINVAL;
        if (named)
                return link_set_backing_named(link, path, NULL, 0);
        return link_table_set_backing(table, link, path);
}

int journal_apply_line(struct link_table *table, const char *line)
{
        _cleanup_free_ char *copy = NULL;
        _cleanup_free_ char **f = NULL;
        size_t n;
        int r = journal_fields(line, &copy, &f, &n);
        if (r < 0)
                return r;
        if (n == 0 || strlen(f[0]) != 1)
                return -EINVAL;
        uint64_t order, realization, mount_id, covered;
        struct link *link;
        switch (f[0][0]) {
        case 'L':
                return apply_link_record(table, f, n);
        case 'C':
                return apply_creator_record(table, f, n);
        case 'N':
        case 'B':
                return apply_backing_record(table, f, n, f[0][0] == 'N');
        case 'M':
                if (n != 5 || journal_parse_u64(f[1], &order) < 0 ||
                    journal_parse_u64(f[2], &realization) < 0 ||
                    journal_parse_u64(f[3], &mount_id) < 0 ||
                    journal_parse_u64(f[4], &covered) < 0 ||
                    realization > BINDLINK_REALIZED_OVERLAY || covered > 3)
                        return -EINVAL;
                link = link_table_find_order(table, order);
                if (!link)
                        return -EINVAL;
                link->realization = (bindlink_realization)realization;
                link->mount_id = mount_id;
                link->covered_type = (int)covered;
                return 0;
        case 'R':
                if (n != 2 || journal_parse_u64(f[1], &order) < 0)
                        return -EINVAL;
                link = link_table_find_order(table, order);
                if (!link)
                        return -EINVAL;
                /* Its mount goes after this record: a crash in between leaves it. */
                (void)link_table_note_removed(table, link);
                link_free(link_table_take(table, link->virtual_path));
                return 0;
        default:
                return -EINVAL;
        }
}

/* Append the C record of a link made by someone other than the daemon to *text. */
static int append_creator(char **text, const struct link *link)
{
        const struct creds *c = &link->creator;
        if (c->privileged && c->uid == 0 && c->group_count == 0)
                return 0; /* the daemon's, as a link without a C record is */
        size_t len = strlen(*text), size = len + 96 + c->group_count * 12;
        char *grown = realloc(*text, size);
        if (!grown)
                return -ENOMEM;
        *text = grown;
        int n = snprintf(grown + len, size - len, "C %" PRIu64 " %d %u %u %u %zu", link->order,
                         c->privileged ? 1 : 0, (unsigned)c->uid, (unsigned)c->gid, c->dac_caps,
                         c->group_count);
        len += (size_t)n;
        for (size_t i = 0; i < c->group_count; i++)
                len += (size_t)snprintf(grown + len, size - len, " %u", (unsigned)c->groups[i]);
        (void)snprintf(grown + len, size - len, "\n");
        return 0;
}

/* Append the N record of a link whose B was named through a symlink to *text. */
static int append_named(char **text, const struct link *link)
{
        if (!link->backing_named)
                return 0;
        _cleanup_free_ char *escaped = NULL;
        int r = journal_escape(link->backing_named, &escaped);
        if (r < 0)
                return r;
        size_t len = strlen(*text), size = len + strlen(escaped) + 32;
        char *grown = realloc(*text, size);
        if (!grown)
                return -ENOMEM;
        *text = grown;
        (void)snprintf(grown + len, size - len, "N %" PRIu64 " %s\n", link->order, escaped);
        return 0;
}

/* Format a link's L record and, made by someone else than the daemon, its C record
 * (each with its newline); malloc'd. */
static int format_link(const struct link *link, char **ret)
{
        _cleanup_free_ char *v = NULL, *b = NULL;
        int r = journal_escape(link->virtual_path, &v);
        if (r >= 0)
                r = journal_escape(link->backing_path, &b);
        if (r < 0)
                return r;
        size_t size = strlen(v) + strlen(b) + 96;
        char **escaped = calloc(link->exception_count + 1, sizeof(char *));
        if (!escaped)
                return -ENOMEM;
        for (uint32_t i = 0; i < link->exception_count && r >= 0; i++) {
                r = journal_escape(link->exception_paths[i], &escaped[i]);
                if (r >= 0)
                        size += strlen(escaped[i]) + 1;
        }
        char *out = r >= 0 ? malloc(size) : NULL;
        if (r >= 0 && !out)
                r = -ENOMEM;
        if (r >= 0) {
                int len = snprintf(out, size, "L %" PRIu64 " %u %s %s %u", link->order, link->flags,
                                   v, b, link->exception_count);
                for (uint32_t i = 0; i < link->exception_count; i++)
                        len += snprintf(out + len, size - (size_t)len, " %s", escaped[i]);
                (void)snprintf(out + len, size - (size_t)len, "\n");
                r = append_creator(&out, link);
                if (r >= 0)
                        r = append_named(&out, link);
                if (r >= 0)
                        *ret = out;
                else
                        free(out);
        }
        for (uint32_t i = 0; i < link->exception_count; i++)
                free(escaped[i]);
        free(escaped);
        return r;
}

static int format_shown(const struct link *link, char *buf, size_t size)
{
        return snprintf(buf, size, "M %" PRIu64 " %d %" PRIu64 " %d\n", link->order,
                        (int)link->realization, link->mount_id, link->covered_type);
}

/* One write per record: a crash leaves at most the last record cut short. */
static int append(struct journal *journal, const char *record);

int journal_append_record(struct journal *journal, const char *record)
{
        return append(journal, record);
}

static int append(struct journal *journal, const char *record)
{
        if (journal->broken)
                return -EIO;
        size_t len = strlen(record);
        ssize_t n;
        do
                n = write(journal->fd, record, len);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)len) {
                journal->size += (off_t)len;
                journal->records++;
                return 0;
        }
        int r = n < 0 ? negative_errno() : -ENOSPC; /* short: the disk filled */
        /* Take back the part that was written, or the next record would continue
         * its line. Truncating needs no space. */
        if (n > 0 && ftruncate(journal->fd, journal->size) < 0)
                journal->broken = true;
        journal->stale = true;
        return r;
}

static int write_all(int fd, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Rewrite the journal with only live records: temp file, fsync, rename. */
static int compact(struct journal *journal, const struct link_table *table)
{
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp", journal->path) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        int r = 0;
        for (size_t i = 0; i < table->count && r >= 0; i++) {
                _cleanup_free_ char *rec = NULL;
                char shown[128];
                r = format_link(table->links[i], &rec);
                if (r >= 0)
                        r = write_all(fd, rec, strlen(rec));
                if (r >= 0) {
                        int n = format_shown(table->links[i], shown, sizeof shown);
                        r = write_all(fd, shown, (size_t)n);
                }
        }
        for (size_t i = 0; i < journal->overlay_count && r >= 0; i++) {
                _cleanup_free_ char *rec = NULL;
                r = overlay_record_format(&journal->overlays[i], &rec);
                if (r >= 0)
                        r = write_all(fd, rec, strlen(rec));
        }
        if (r >= 0 && journal->write_overlays)
                r = journal->write_overlays(journal->write_overlays_ctx, fd);
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && rename(tmp, journal->path) < 0)
                r = negative_errno();
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }
        int appender = open(journal->path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (appender < 0)
                return negative_errno();
        struct stat st;
        if (fstat(appender, &st) < 0) {
                int e = negative_errno();
                (void)close(appender);
                return e;
        }
        (void)close(journal->fd);
        journal->fd = appender;
        journal->records = table->count * 2;
        journal->size = st.st_size;
        journal->stale = journal->broken = false;
        return 0;
}

/* An O record starts an overlay (a later one of the same directory and mount — its
 * entries changed in place — replaces it); an X record ends the one with that
 * directory and mount id. Only the overlays still in force are kept. */
static int overlay_line(struct journal *journal, const char *line)
{
        struct overlay_record *kept = journal->overlays;
        if (line[0] == 'X') {
                _cleanup_free_ char *dir = NULL;
                uint64_t mount_id;
                int r = overlay_record_parse_stop(line, &dir, &mount_id);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < journal->overlay_count; i++)
                        if (strcmp(kept[i].dir, dir) == 0 && kept[i].mount_id == mount_id) {
                                overlay_record_done(&kept[i]);
                                kept[i] = kept[--journal->overlay_count];
                                break;
                        }
                return 0;
        }
        struct overlay_record rec;
        int r = overlay_record_parse(line, &rec);
        if (r < 0)
                return r;
        for (size_t i = 0; i < journal->overlay_count; i++)
                if (strcmp(kept[i].dir, rec.dir) == 0 && kept[i].mount_id == rec.mount_id) {
                        overlay_record_done(&kept[i]);
                        kept[i] = rec;
                        return 0;
                }
        struct overlay_record *grown = realloc(kept, (journal->overlay_count + 1) * sizeof *grown);
        if (!grown) {
                overlay_record_done(&rec);
                return -ENOMEM;
        }
        journal->overlays = grown;
        journal->overlays[journal->overlay_count++] = rec;
        return 0;
}

void journal_take_overlays(struct journal *journal, struct overlay_record **ret, size_t *ret_count)
{
        *ret = journal->overlays;
        *ret_count = journal->overlay_count;
        journal->overlays = NULL;
        journal->overlay_count = 0;
}

int journal_open(struct journal *journal, const char *state_dir, struct link_table *table)
{
        *journal = (struct journal){.fd = -1};
        if (mkdir(state_dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (asprintf(&journal->path, "%s/%s", state_dir, JOURNAL_NAME) < 0) {
                journal->path = NULL;
                return -ENOMEM;
        }
        _cleanup_close_ int fd = open(journal->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        FILE *f = fdopen(dup(fd), "r");
        if (!f)
                return negative_errno();
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        off_t whole = 0; /* bytes of whole records read */
        int r = 0;
        while ((len = getline(&line, &cap, f)) > 0) {
                if (line[len - 1] != '\n')
                        break; /* cut short by a crash: the operation never finished */
                whole += len;
                line[len - 1] = '\0';
                journal->records++;
                if (line[0] == 'O' || line[0] == 'X') {
                        if (overlay_line(journal, line) < 0)
                                r = -EBADMSG; /* one bad record loses one overlay */
                        continue;
                }
                if (journal_apply_line(table, line) < 0)
                        r = -EBADMSG; /* keep going: one bad record loses one link */
        }
        free(line);
        (void)fclose(f);
        journal->fd = TAKE_FD(fd);
        int c = compact(journal, table);
        if (c < 0) {
                /* A full disk, say: go on with the file as it is, without the record
                 * a crash cut short, appending to it; compact when there is room. */
                journal->compact_error = c;
                int appender = open(journal->path, O_WRONLY | O_APPEND | O_CLOEXEC);
                if (appender < 0)
                        return negative_errno();
                (void)close(journal->fd);
                journal->fd = appender;
                journal->size = whole;
                journal->stale = true;
                if (ftruncate(appender, whole) < 0)
                        journal->broken = true;
        }
        return r;
}

void journal_close(struct journal *journal)
{
        for (size_t i = 0; i < journal->overlay_count; i++)
                overlay_record_done(&journal->overlays[i]);
        free(journal->overlays);
        if (journal->fd >= 0)
                (void)close(journal->fd);
        free(journal->path);
        *journal = (struct journal){.fd = -1};
}

int journal_link_added(struct journal *journal, const struct link *link)
{
        _cleanup_free_ char *rec = NULL;
        int r = format_link(link, &rec);
        if (r < 0)
                return r;
        /* The link and how it is shown, in one write: replayed together or not at all. */
        char shown[128];
        int n = format_shown(link, shown, sizeof shown);
        size_t len = strlen(rec);
        char *both = realloc(rec, len + (size_t)n + 1);
        if (!both)
                return -ENOMEM;
        rec = both;
        memcpy(rec + len, shown, (size_t)n + 1);
        r = append(journal, rec);
        if (r >= 0)
                journal->records++; /* two records in that write */
        return r;
}

int journal_link_shown(struct journal *journal, const struct link *link)
{
        char rec[128];
        (void)format_shown(link, rec, sizeof rec);
        return append(journal, rec);
}

int journal_link_repointed(struct journal *journal, const struct link *link)
{
        _cleanup_free_ char *escaped = NULL, *rec = NULL;
        int r = journal_escape(link->backing_path, &escaped);
        if (r < 0)
                return r;
        if (asprintf(&rec, "B %" PRIu64 " %s\n", link->order, escaped) < 0)
                return -ENOMEM;
        return append(journal, rec);
}

int journal_link_removed(struct journal *journal, const struct link *link)
{
        char rec[64];
        (void)snprintf(rec, sizeof rec, "R %" PRIu64 "\n", link->order);
        return append(journal, rec);
}

void journal_maybe_compact(struct journal *journal, const struct link_table *table)
{
        /* When dead records dominate, but not for every few changes of a small
         * table. A failure leaves the journal stale: journal_catch_up. */
        if (journal->records > 4 * table->count + JOURNAL_COMPACT_SLACK &&
            compact(journal, table) < 0)
                journal->stale = true;
}

int journal_catch_up(struct journal *journal, const struct link_table *table)
{
        if (!journal->stale && !journal->broken)
                return 0;
        return compact(journal, table);
}
