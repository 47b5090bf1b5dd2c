/* config.h — /etc/bindlink/links.conf: links created at boot (S22), see bindlink.conf(5).
 * One link per line: VIRTUAL BACKING [read-only] [merged] [exception=PATH]...;
 * '#' starts a comment line; \ooo octal escapes in paths (as in fstab). */
#ifndef BINDLINKD_CONFIG_H
#define BINDLINKD_CONFIG_H

#include <stdint.h>

#include "bindlink.h"

struct config_entry {
        char *virtual_path;
        char *backing_path;
        uint32_t flags;
        uint32_t exception_count;
        char *exception_paths[BINDLINK_MAX_EXCEPTIONS];
};

/* Pure. 1 with *ret filled, 0 for a blank or comment line, -EINVAL with
 * *ret_reason (static text) for a malformed one. */
int config_parse_line(const char *line, struct config_entry *ret, const char **ret_reason);
void config_entry_free(struct config_entry *entry);

#endif
