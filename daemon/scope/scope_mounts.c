/* scope_mounts.c — mount namespace marks (fanotify, FAN_MARK_MNTNS). */
#include "scope_mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Linux 6.14's uapi; Debian 12's headers predate it. */
#ifndef FAN_MARK_MNTNS
#define FAN_MARK_MNTNS 0x00000110
#endif
#ifndef FAN_REPORT_MNT
#define FAN_REPORT_MNT 0x00004000
#endif
#ifndef FAN_MNT_ATTACH
#define FAN_MNT_ATTACH 0x01000000
#endif
#ifndef FAN_MNT_DETACH
#define FAN_MNT_DETACH 0x02000000
#endif
#ifndef FAN_EVENT_INFO_TYPE_MNT
#define FAN_EVENT_INFO_TYPE_MNT 7
#endif

/* statmount(2), Linux 6.8; the namespace field, 6.11. */
#ifndef SYS_statmount
#define SYS_statmount 457
#endif
struct mount_id_request {
        uint32_t size, spare;
        uint64_t mnt_id, param, mnt_ns_id;
};
#define STATMOUNT_SB_BASIC_MASK 0x00000001U

int scope_mounts_exists(uint64_t ns_id, uint64_t mount_id)
{
        struct mount_id_request req = {.size = sizeof req,
                                       .mnt_id = mount_id,
                                       .param = STATMOUNT_SB_BASIC_MASK,
                                       .mnt_ns_id = ns_id};
        /* The answer's fixed part: what SB_BASIC fills is not looked at. */
        uint64_t buf[64];
        if (syscall(SYS_statmount, &req, buf, sizeof buf, 0) == 0)
                return 1;
        return errno == ENOENT ? 0 : negative_errno();
}

struct info_mnt {
        struct fanotify_event_info_header hdr;
        uint64_t mnt_id;
};

/* Does statmount(2) answer here? A system call filter that cannot name it refuses
 * it: systemd 252's allow list, built with libseccomp 2.5, whatever the unit says. */
static bool statmount_answers(void)
{
        struct mount_id_request req = {.size = sizeof req,
                                       .mnt_id = 0, /* no mount has it: ENOENT or EINVAL */
                                       .param = STATMOUNT_SB_BASIC_MASK};
        uint64_t buf[64];
        return syscall(SYS_statmount, &req, buf, sizeof buf, 0) == 0 ||
               (errno != EPERM && errno != ENOSYS);
}

int scope_mounts_open(void)
{
        int fan = fanotify_init(FAN_REPORT_MNT | FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, 0);
        if (fan < 0)
                return errno == EINVAL ? -EOPNOTSUPP : negative_errno();
        /* Without statmount a detach cannot be told from a move (S16): watching would
         * forget links that only moved. */
        if (!statmount_answers()) {
                (void)close(fan);
                return -EPERM;
        }
        return fan;
}

int scope_mounts_mark(int fan, int nsfd, bool add)
{
        unsigned flags = (add ? FAN_MARK_ADD : FAN_MARK_REMOVE) | FAN_MARK_MNTNS;
        return fanotify_mark(fan, flags, FAN_MNT_DETACH, nsfd, NULL) < 0 ? negative_errno() : 0;
}

int scope_mounts_read(int fan, void (*detached)(void *ctx, uint64_t mount_id), void *ctx,
                      bool *ret_overflow)
{
        *ret_overflow = false;
        int count = 0;
        for (;;) {
                _Alignas(struct fanotify_event_metadata) char buf[4096];
                ssize_t len = read(fan, buf, sizeof buf);
                if (len < 0)
                        return errno == EAGAIN ? count : negative_errno();
                const struct fanotify_event_metadata *m = (const void *)buf;
                for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
                        count++;
                        if (m->mask & FAN_Q_OVERFLOW)
                                *ret_overflow = true;
                        if (!(m->mask & FAN_MNT_DETACH))
                                continue;
                        const char *p = (const char *)m + m->metadata_len;
                        const char *end = (const char *)m + m->event_len;
                        while (p + sizeof(struct fanotify_event_info_header) <= end) {
                                struct fanotify_event_info_header h;
                                memcpy(&h, p, sizeof h);
                                if (h.len < sizeof h || p + h.len > end)
                                        break;
                                if (h.info_type == FAN_EVENT_INFO_TYPE_MNT &&
                                    h.len >= sizeof(struct info_mnt)) {
                                        struct info_mnt info;
                                        memcpy(&info, p, sizeof info);
                                        detached(ctx, info.mnt_id);
                                }
                                p += h.len;
                        }
                }
        }
}
