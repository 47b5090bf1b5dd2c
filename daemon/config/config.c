/* config.c — parsing links.conf lines (pure). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "util.h"

void config_entry_free(struct config_entry *entry)
{
        free(entry->virtual_path);
        free(entry->backing_path);
        for (uint32_t i = 0; i < entry->exception_count; i++)
                free(entry->exception_paths[i]);
        *entry = (struct config_entry){0};
}

static int take_path(const char *field, char **ret, const char **ret_reason)
{
        int r = journal_unescape(field, ret);
        if (r < 0) {
                *ret_reason = "bad escape in a path (use \\ooo octal, e.g. \\040 for a space)";
                return -EINVAL;
        }
        if ((*ret)[0] != '/') {
                free(*ret);
                *ret = NULL;
                *ret_reason = "paths must be absolute";
                return -EINVAL;
        }
        return 0;
}

int config_parse_line(const char *line, struct config_entry *ret, const char **ret_reason)
{
        const char *p = line;
        while (isspace((unsigned char)*p))
                p++;
        if (*p == '\0' || *p == '#')
                return 0;

        _cleanup_free_ char *copy = strdup(p);
        if (!copy) {
                *ret_reason = "out of memory";
                return -ENOMEM;
        }
        struct config_entry e = {0};
        char *save = NULL;
        size_t n = 0;
        int r = 0;
        for (char *f = strtok_r(copy, " \t\r\n", &save); f && r >= 0;
             f = strtok_r(NULL, " \t\r\n", &save), n++) {
                if (n == 0)
                        r = take_path(f, &e.virtual_path, ret_reason);
                else if (n == 1)
                        r = take_path(f, &e.backing_path, ret_reason);
                else if (strcmp(f, "read-only") == 0)
                        e.flags |= CREATE_BIND_LINK_FLAG_READ_ONLY;
                else if (strcmp(f, "merged") == 0)
                        e.flags |= CREATE_BIND_LINK_FLAG_MERGED;
                else if (strncmp(f, "exception=", 10) == 0) {
                        if (e.exception_count == BINDLINK_MAX_EXCEPTIONS) {
                                *ret_reason = "too many exceptions";
                                r = -EINVAL;
                        } else {
                                r = take_path(f + 10, &e.exception_paths[e.exception_count],
                                              ret_reason);
                                if (r >= 0)
                                        e.exception_count++;
                        }
                } else {
                        *ret_reason = "unknown option (expected read-only, merged or exception=PATH)";
                        r = -EINVAL;
                }
        }
        if (r >= 0 && n < 2) {
                *ret_reason = "a link needs a virtual path and a backing path";
                r = -EINVAL;
        }
        if (r < 0) {
                config_entry_free(&e);
                return r;
        }
        *ret = e;
        return 1;
}
