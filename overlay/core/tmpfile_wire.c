/* tmpfile_wire.c — FUSE_TMPFILE handed to libfuse 3.14 as FUSE_CREATE (see
 * tmpfile_wire.h). */
#include "tmpfile_wire.h"

#include <linux/fuse.h>
#include <string.h>

bool ovl_tmpfile_request_as_create(void *msg, size_t len)
{
        struct fuse_in_header in;
        if (len < sizeof in)
                return false;
        memcpy(&in, msg, sizeof in);
        if (in.opcode != FUSE_TMPFILE || in.len != len)
                return false;
        /* fuse_create_in, then the name with its terminating NUL. */
        size_t name_at = sizeof in + sizeof(struct fuse_create_in);
        size_t name_len = sizeof OVL_TMPFILE_NAME; /* with the NUL */
        if (len < name_at + name_len ||
            memcmp((const char *)msg + name_at, OVL_TMPFILE_NAME, name_len) != 0)
                return false;
        in.opcode = FUSE_CREATE;
        memcpy(msg, &in, sizeof in);
        return true;
}

bool ovl_is_tmpfile_name(const char *name) { return strcmp(name, OVL_TMPFILE_NAME) == 0; }
