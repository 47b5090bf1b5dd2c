/* scope_journal.c — the scoped links on disk (S23). */
#include "scope_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "util.h"

static int line_of(const struct scoped_link *l, char **ret)
{
        _cleanup_free_ char *v = NULL, *b = NULL;
        int r = journal_escape(l->virtual_path, &v);
        if (r >= 0)
                r = journal_escape(l->backing_path, &b);
        if (r < 0)
                return r;
        return asprintf(ret,
                        "S %" PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIu64 " %s %s %" PRIu64
                        " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                        l->scope_id, l->mount_id, l->flags, l->order, v, b, l->anchor_id,
                        (uint64_t)l->server_pid, l->server_start, l->parent_id) < 0
                       ? -ENOMEM
                       : 0;
}

/* This boot's id (36 characters), or "" if the kernel does not say. */
static void boot_id(char out[37])
{
        out[0] = '\0';
        _cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = read(fd, out, 36);
        out[n == 36 ? 36 : 0] = '\0';
}

int scope_journal_append(int fd, const struct scoped_link *l, bool forget)
{
        _cleanup_free_ char *line = NULL, *v = NULL;
        int r = forget ? journal_escape(l->virtual_path, &v) : line_of(l, &line);
        if (r >= 0 && forget && asprintf(&line, "R %" PRIu64 " %s\n", l->scope_id, v) < 0) {
                line = NULL;
                r = -ENOMEM;
        }
        if (r < 0)
                return r;
        /* One write of one line: a daemon that dies leaves it whole or not at all (a
         * machine that dies takes the namespaces with it). */
        size_t n = strlen(line);
        ssize_t w = write(fd, line, n);
        return w == (ssize_t)n ? 0 : w < 0 ? negative_errno() : -EIO;
}

int scope_journal_write(const char *path, const struct scope_links *sl)
{
        char boot[37];
        boot_id(boot);
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.new", path) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        /* Whose boot: namespace and mount ids are counted again from the start
         * after a reboot, so another boot's lines could name this boot's objects. */
        _cleanup_free_ char *header = NULL;
        int r = asprintf(&header, "B %s\n", boot[0] ? boot : "-") < 0 ? -ENOMEM : 0;
        size_t header_len = r < 0 ? 0 : strlen(header);
        if (r >= 0 && write(fd, header, header_len) != (ssize_t)header_len)
                r = errno ? negative_errno() : -EIO;
        for (size_t i = 0; r >= 0 && i < sl->count; i++) {
                _cleanup_free_ char *line = NULL;
                r = line_of(&sl->links[i], &line);
                size_t n = r < 0 ? 0 : strlen(line);
                if (r >= 0 && write(fd, line, n) != (ssize_t)n)
                        r = errno ? negative_errno() : -EIO;
        }
        /* Not fsynced: what it describes does not outlive the boot, and a restarted
         * daemon of the same boot reads the page cache (a scoped create took one
         * fsync more than a host one: 60-500 µs on this machine's disk). The rename
         * still makes each version whole. */
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

static int parse_line(const char *line, struct scoped_link *ret)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char **f = NULL;
        size_t n;
        int r = journal_fields(line, &buf, &f, &n);
        if (r < 0)
                return r;
        uint64_t id, mount_id, flags, order, anchor_id = 0, pid = 0, start = 0, parent_id = 0;
        /* The anchor's id, the view's server and the parent's overlay came later: a
         * line of 7 fields has none, one of 8 no server, one of 10 no parent overlay. */
        if ((n != 7 && n != 8 && n != 10 && n != 11) ||
            (n >= 8 && journal_parse_u64(f[7], &anchor_id) < 0) ||
            (n >= 10 && (journal_parse_u64(f[8], &pid) < 0 || pid > INT32_MAX ||
                         journal_parse_u64(f[9], &start) < 0)) ||
            (n == 11 && journal_parse_u64(f[10], &parent_id) < 0) || strcmp(f[0], "S") != 0 ||
            journal_parse_u64(f[1], &id) < 0 || journal_parse_u64(f[2], &mount_id) < 0 ||
            journal_parse_u64(f[3], &flags) < 0 || flags > 3 || journal_parse_u64(f[4], &order) < 0)
                return -EINVAL;
        struct scoped_link l = {.scope_id = id,
                                .mount_id = mount_id,
                                .flags = (uint32_t)flags,
                                .order = order,
                                .anchor_id = anchor_id,
                                .server_pid = (pid_t)pid,
                                .server_start = start,
                                .parent_id = parent_id,
                                .server_pidfd = -1};
        r = journal_unescape(f[5], &l.virtual_path);
        if (r >= 0)
                r = journal_unescape(f[6], &l.backing_path);
        if (r >= 0 && (l.virtual_path[0] != '/' || l.backing_path[0] != '/'))
                r = -EINVAL;
        if (r < 0) {
                free(l.virtual_path);
                free(l.backing_path);
                return r;
        }
        *ret = l;
        return 0;
}

/* "R <scope id> <virtual path>": the link it names is forgotten (the last one added
 * of that scope and path). -EINVAL when malformed or naming none. */
static int forget_line(const char *line, struct scoped_link *links, size_t *count)
{
        _cleanup_free_ char *buf = NULL, *v = NULL;
        _cleanup_free_ char **f = NULL;
        size_t n;
        uint64_t id;
        int r = journal_fields(line, &buf, &f, &n);
        if (r >= 0 && (n != 3 || journal_parse_u64(f[1], &id) < 0))
                r = -EINVAL;
        if (r >= 0)
                r = journal_unescape(f[2], &v);
        if (r < 0)
                return r;
        for (size_t i = *count; i-- > 0;)
                if (links[i].scope_id == id && strcmp(links[i].virtual_path, v) == 0) {
                        free(links[i].virtual_path);
                        free(links[i].backing_path);
                        memmove(&links[i], &links[i + 1], (*count - i - 1) * sizeof *links);
                        (*count)--;
                        return 0;
                }
        return -EINVAL;
}

int scope_journal_read(const char *path, struct scoped_link **ret, size_t *ret_count,
                       size_t *ret_bad, bool *ret_other_boot)
{
        *ret = NULL;
        *ret_count = *ret_bad = 0;
        *ret_other_boot = false;
        char boot[37];
        boot_id(boot);
        FILE *f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : negative_errno();
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int r = 0;
        while (r >= 0 && (len = getline(&line, &cap, f)) > 0) {
                if (line[len - 1] == '\n')
                        line[len - 1] = '\0';
                if (line[0] == 'B' && line[1] == ' ') {
                        /* "-": a kernel that gave no id; taken as this boot. */
                        if (strcmp(line + 2, "-") != 0 && boot[0] && strcmp(line + 2, boot) != 0) {
                                *ret_other_boot = true;
                                break;
                        }
                        continue;
                }
                if (line[0] == 'R' && line[1] == ' ') {
                        if (forget_line(line, *ret, ret_count) < 0)
                                (*ret_bad)++;
                        continue;
                }
                struct scoped_link l;
                if (parse_line(line, &l) < 0) {
                        (*ret_bad)++;
                        continue;
                }
                struct scoped_link *grown = realloc(*ret, (*ret_count + 1) * sizeof *grown);
                if (!grown) {
                        free(l.virtual_path);
                        free(l.backing_path);
                        r = -ENOMEM;
                        break;
                }
                *ret = grown;
                (*ret)[(*ret_count)++] = l;
        }
        free(line);
        (void)fclose(f);
        if (*ret_other_boot) {
                for (size_t i = 0; i < *ret_count; i++) {
                        free((*ret)[i].virtual_path);
                        free((*ret)[i].backing_path);
                }
                free(*ret);
                *ret = NULL;
                *ret_count = *ret_bad = 0;
        }
        return r;
}
