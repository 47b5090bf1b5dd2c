/* tmpfile_wire.h — O_TMPFILE through a libfuse that does not know FUSE_TMPFILE.
 *
 * The kernel (protocol 7.37) asks for an unnamed file with FUSE_TMPFILE, whose
 * arguments are FUSE_CREATE's (fuse_create_in, then the name "/", which no real entry
 * can have) and whose reply is FUSE_CREATE's (an entry and an open file). libfuse 3.14
 * answers the opcode it does not know with ENOSYS, and the kernel then says
 * EOPNOTSUPP to every O_TMPFILE open for the life of the mount. So the request loop
 * hands libfuse such a request as a FUSE_CREATE, and the views' create makes an
 * unnamed file when the name is OVL_TMPFILE_NAME.
 * Pure functions on message bytes: unit-tested in tests/unit/test_tmpfile_wire.c. */
#ifndef BINDLINK_TMPFILE_WIRE_H
#define BINDLINK_TMPFILE_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#define OVL_TMPFILE_NAME "/"

/* If msg (len bytes received) is a well-formed FUSE_TMPFILE request, make it a
 * FUSE_CREATE of OVL_TMPFILE_NAME: true if changed. */
bool ovl_tmpfile_request_as_create(void *msg, size_t len);

/* Is name the one a create of an unnamed file carries? */
bool ovl_is_tmpfile_name(const char *name);

#endif
