/* overlay_record.c — O and X records of the journal (see overlay_record.h). */
#include "overlay_record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "util.h"

void overlay_record_done(struct overlay_record *r)
{
        free(r->dir);
        for (size_t i = 0; r->names && i < r->count; i++)
                free(r->names[i]);
        free(r->names);
        free(r->kinds);
        free(r->graft_ids);
        *r = (struct overlay_record){0};
}

/* A growing line (open_memstream), checked once at the end. */
int overlay_record_format(const struct overlay_record *r, char **ret_line)
{
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        _cleanup_free_ char *dir = NULL;
        int e = journal_escape(r->dir, &dir);
        if (e >= 0)
                fprintf(f, "O %s %d %" PRIu64 " %" PRIu64 " %zu", dir, (int)r->pid, r->start_time,
                        r->mount_id, r->count);
        for (size_t i = 0; e >= 0 && i < r->count; i++) {
                _cleanup_free_ char *name = NULL;
                e = journal_escape(r->names[i], &name);
                if (e >= 0)
                        fprintf(f, " %c%s", r->kinds[i], name);
        }
        if (e >= 0 && r->view != RECORD_PARENT)
                fprintf(f, " %s=%s", r->shadow ? "shadow" : "merged",
                        r->view == RECORD_MERGED_RO ? "ro" : "rw");
        for (size_t i = 0; e >= 0 && i < r->graft_count; i++)
                fprintf(f, "%s%" PRIu64, i == 0 ? " g=" : ",", r->graft_ids[i]);
        if (e >= 0)
                fputc('\n', f);
        if (fclose(f) != 0 && e >= 0)
                e = -ENOMEM;
        if (e < 0) {
                free(out);
                return e;
        }
        *ret_line = out;
        return 0;
}

int overlay_record_format_stop(const char *dir, uint64_t mount_id, char **ret_line)
{
        _cleanup_free_ char *escaped = NULL;
        int r = journal_escape(dir, &escaped);
        if (r < 0)
                return r;
        return asprintf(ret_line, "X %s %" PRIu64 "\n", escaped, mount_id) < 0 ? -ENOMEM : 0;
}

/* The optional fields after the entries: merged=/shadow=, then g=, each once. */
static int parse_tail(char *const *f, size_t n, struct overlay_record *r)
{
        size_t i = 0;
        if (i < n && (strncmp(f[i], "merged=", 7) == 0 || strncmp(f[i], "shadow=", 7) == 0)) {
                r->shadow = strncmp(f[i], "shadow=", 7) == 0;
                if (strcmp(f[i] + 7, "rw") == 0)
                        r->view = RECORD_MERGED_RW;
                else if (strcmp(f[i] + 7, "ro") == 0)
                        r->view = RECORD_MERGED_RO;
                else
                        return -EINVAL;
                i++;
        }
        if (i < n && strncmp(f[i], "g=", 2) == 0) {
                for (const char *g = f[i] + 2; *g;) {
                        char *end;
                        errno = 0;
                        unsigned long long id = strtoull(g, &end, 10);
                        if (end == g || errno != 0 || (*end && *end != ','))
                                return -EINVAL;
                        uint64_t *grown =
                                realloc(r->graft_ids, (r->graft_count + 1) * sizeof *grown);
                        if (!grown)
                                return -ENOMEM;
                        r->graft_ids = grown;
                        r->graft_ids[r->graft_count++] = id;
                        g = *end == ',' ? end + 1 : end;
                }
                i++;
        }
        return i == n ? 0 : -EINVAL;
}

int overlay_record_parse(const char *line, struct overlay_record *ret)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char **f = NULL;
        size_t n;
        int e = journal_fields(line, &buf, &f, &n);
        if (e < 0)
                return e;
        struct overlay_record r = {0};
        uint64_t pid, count;
        if (n < 6 || strcmp(f[0], "O") != 0 || journal_parse_u64(f[2], &pid) < 0 ||
            pid > INT32_MAX || journal_parse_u64(f[3], &r.start_time) < 0 ||
            journal_parse_u64(f[4], &r.mount_id) < 0 || journal_parse_u64(f[5], &count) < 0 ||
            count > n - 6)
                return -EINVAL;
        r.pid = (pid_t)pid;
        r.count = count;
        e = journal_unescape(f[1], &r.dir);
        if (e >= 0) {
                r.names = calloc(count + 1, sizeof *r.names);
                r.kinds = calloc(count + 1, sizeof *r.kinds);
                e = r.names && r.kinds ? 0 : -ENOMEM;
        }
        for (size_t i = 0; e >= 0 && i < count; i++) {
                r.kinds[i] = f[6 + i][0];
                e = r.kinds[i] && strchr("dfh", r.kinds[i])
                            ? journal_unescape(f[6 + i] + 1, &r.names[i])
                            : -EINVAL;
        }
        if (e >= 0)
                e = parse_tail(f + 6 + count, n - 6 - count, &r);
        if (e < 0) {
                overlay_record_done(&r);
                return e == -ENOMEM ? e : -EINVAL;
        }
        *ret = r;
        return 0;
}

int overlay_record_parse_stop(const char *line, char **ret_dir, uint64_t *ret_mount_id)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char **f = NULL;
        size_t n;
        int e = journal_fields(line, &buf, &f, &n);
        if (e < 0)
                return e;
        uint64_t mount_id;
        if (n != 3 || strcmp(f[0], "X") != 0 || journal_parse_u64(f[2], &mount_id) < 0)
                return -EINVAL;
        e = journal_unescape(f[1], ret_dir);
        if (e < 0)
                return e == -ENOMEM ? e : -EINVAL;
        *ret_mount_id = mount_id;
        return 0;
}
