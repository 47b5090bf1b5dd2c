/* passthrough_wire.c — see passthrough_wire.h. The constants and layouts are the
 * kernel's ABI (include/uapi/linux/fuse.h, protocol 7.40), spelled out here because
 * Debian 12's headers predate them; the older fields come from <linux/fuse.h>. */
#include "passthrough_wire.h"

#include <linux/fuse.h>
#include <string.h>

#define PT_FUSE_PASSTHROUGH_FLAGS2 (1u << 5) /* FUSE_PASSTHROUGH, bit 37 of the flags */
#define PT_FOPEN_PASSTHROUGH (1u << 7)
#define PT_MAX_STACK_DEPTH 1 /* backing files on plain filesystems; overlayfs may
                              * still stack on the view */

/* fuse_init_out as of 7.40: max_stack_depth took the first unused word. */
struct pt_init_out {
        uint32_t major, minor, max_readahead, flags;
        uint16_t max_background, congestion_threshold;
        uint32_t max_write, time_gran;
        uint16_t max_pages, map_alignment;
        uint32_t flags2, max_stack_depth;
        uint32_t unused[6];
};
/* fuse_open_out as of 7.40: backing_id took the padding. */
struct pt_open_out {
        uint64_t fh;
        uint32_t open_flags;
        int32_t backing_id;
};
_Static_assert(sizeof(struct pt_init_out) == sizeof(struct fuse_init_out), "init_out");
_Static_assert(sizeof(struct pt_open_out) == sizeof(struct fuse_open_out), "open_out");

bool pt_parse_init_request(const void *msg, size_t len, uint64_t *unique, bool *offered)
{
        struct fuse_in_header in;
        struct fuse_init_in init;
        if (len < sizeof in + sizeof init)
                return false;
        memcpy(&in, msg, sizeof in);
        if (in.opcode != FUSE_INIT)
                return false;
        memcpy(&init, (const char *)msg + sizeof in, sizeof init);
        *unique = in.unique;
        *offered = (init.flags & FUSE_INIT_EXT) && (init.flags2 & PT_FUSE_PASSTHROUGH_FLAGS2);
        return true;
}

bool pt_init_offers_killpriv_v2(const void *msg, size_t len)
{
        struct fuse_in_header in;
        struct fuse_init_in init;
        if (len < sizeof in + sizeof init)
                return false;
        memcpy(&in, msg, sizeof in);
        memcpy(&init, (const char *)msg + sizeof in, sizeof init);
        return in.opcode == FUSE_INIT && (init.flags & FUSE_HANDLE_KILLPRIV_V2);
}

static bool reply_ok(const struct iovec *iov, int count)
{
        if (count < 2 || iov[0].iov_len < sizeof(struct fuse_out_header))
                return false;
        const struct fuse_out_header *out = iov[0].iov_base;
        return out->error == 0;
}

bool pt_patch_init_reply(struct iovec *iov, int count)
{
        if (!reply_ok(iov, count) || iov[1].iov_len < sizeof(struct pt_init_out))
                return false;
        struct pt_init_out init;
        memcpy(&init, iov[1].iov_base, sizeof init);
        if (init.flags & FUSE_WRITEBACK_CACHE)
                return false;
        init.flags |= FUSE_INIT_EXT;
        init.flags2 |= PT_FUSE_PASSTHROUGH_FLAGS2;
        init.max_stack_depth = PT_MAX_STACK_DEPTH;
        memcpy(iov[1].iov_base, &init, sizeof init);
        return true;
}

bool pt_patch_init_reply_killpriv_v2(struct iovec *iov, int count)
{
        if (!reply_ok(iov, count) || iov[1].iov_len < sizeof(struct pt_init_out))
                return false;
        struct pt_init_out init;
        memcpy(&init, iov[1].iov_base, sizeof init);
        init.flags = (init.flags | FUSE_HANDLE_KILLPRIV_V2) & ~(uint32_t)FUSE_HANDLE_KILLPRIV;
        memcpy(iov[1].iov_base, &init, sizeof init);
        return true;
}

bool pt_patch_open_reply(struct iovec *iov, int count, int32_t backing_id)
{
        if (!reply_ok(iov, count) || count != 2)
                return false;
        size_t len = iov[1].iov_len;
        if (len != sizeof(struct pt_open_out) &&
            len != sizeof(struct fuse_entry_out) + sizeof(struct pt_open_out))
                return false;
        char *at = (char *)iov[1].iov_base + len - sizeof(struct pt_open_out);
        struct pt_open_out open_out;
        memcpy(&open_out, at, sizeof open_out);
        open_out.open_flags |= PT_FOPEN_PASSTHROUGH;
        open_out.backing_id = backing_id;
        memcpy(at, &open_out, sizeof open_out);
        return true;
}
