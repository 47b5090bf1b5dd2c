/* passthrough_wire.h — the FUSE passthrough fields of the kernel protocol (7.40), and
 * FUSE_HANDLE_KILLPRIV_V2 (7.33), which libfuse 3.14 never negotiates, read and
 * written in the messages libfuse 3.14 builds without them (passthrough.c).
 * Pure functions on message bytes: unit-tested in tests/unit/test_passthrough_wire.c. */
#ifndef BINDLINK_PASSTHROUGH_WIRE_H
#define BINDLINK_PASSTHROUGH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* A FUSE_INIT request (header and fuse_init_in, len bytes)? Then *unique is its id
 * and *offered whether the kernel offers passthrough (FUSE_INIT_EXT and the
 * FUSE_PASSTHROUGH bit of flags2). */
bool pt_parse_init_request(const void *msg, size_t len, uint64_t *unique, bool *offered);

/* Does the FUSE_INIT request msg offer FUSE_HANDLE_KILLPRIV_V2 (protocol 7.33: the
 * server clears setuid/setgid bits on write, truncate and chown, and the kernel no
 * longer asks for security.capability before every write)? libfuse 3.14 never
 * takes it. */
bool pt_init_offers_killpriv_v2(const void *msg, size_t len);

/* Take FUSE_HANDLE_KILLPRIV_V2 in libfuse's INIT reply (dropping the older
 * FUSE_HANDLE_KILLPRIV). Nothing is changed in an error reply or a short one. True if
 * changed. */
bool pt_patch_init_reply_killpriv_v2(struct iovec *iov, int count);

/* Ask for passthrough in libfuse's INIT reply (iov[0] the out header, iov[1] its
 * fuse_init_out): FUSE_INIT_EXT, FUSE_PASSTHROUGH, a stack depth of 1. Nothing is
 * changed in an error reply, a short one, or one asking for the writeback cache (the
 * kernel refuses the two together). True if changed. */
bool pt_patch_init_reply(struct iovec *iov, int count);

/* Mark an open reply (fuse_open_out, alone for OPEN or after the fuse_entry_out for
 * CREATE, in iov[1]) FOPEN_PASSTHROUGH with backing_id. True if changed. */
bool pt_patch_open_reply(struct iovec *iov, int count, int32_t backing_id);

#endif
