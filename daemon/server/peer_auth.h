/* peer_auth.h — who sent one request, and may they change links (S2's first row).
 *
 * Decided for every message, never once per connection: from what the kernel
 * attaches to the message itself (SCM_CREDENTIALS: the sender's pid, real uid and
 * gid when it sent; SCM_PIDFD: that very process, so a recycled pid lends nothing)
 * and from that process as it is when the message is read. A connection passed on,
 * or inherited across fork and exec (of a setuid program, say), gains nothing: it is
 * the sender of each message that must be an administrator. */
#ifndef BINDLINKD_PEER_AUTH_H
#define BINDLINKD_PEER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "creds.h"

/* What the daemon learned about the sender of one message. */
struct peer_facts {
        uid_t sent_uid; /* SCM_CREDENTIALS: real uid and gid when it sent */
        gid_t sent_gid;
        bool known; /* the process below could be read, and is the sender */
        uid_t uids[4]; /* real, effective, saved, filesystem: now */
        gid_t gids[4];
        const gid_t *groups; /* supplementary groups */
        size_t group_count;
        bool sys_admin;    /* CAP_SYS_ADMIN in effect */
        unsigned dac_caps; /* CREDS_DAC_* in effect */
        bool same_user_ns; /* in bindlinkd's own user namespace */
        int secure_exec;   /* AT_SECURE of the program it runs: 1, 0, or -1 unknown */
};

/* The verdict about one message. */
struct caller {
        pid_t pid;
        struct creds creds; /* whose rights count for its paths (owned) */
        bool may_change_links;
        bool admin; /* by CAP_SYS_ADMIN, not only the group: may act in other mount
                     * namespaces (S23) */
        char why_not[200]; /* when it may not: the reason, in words */
};

/* Pure: the verdict from the facts (allowed_group (gid_t)-1: none). An administrator
 * is a process in bindlinkd's user namespace with CAP_SYS_ADMIN in effect that is
 * not running a program that gave it privileges by exec (setuid, setgid, file
 * capabilities) unless it is root through and through; or, with allowed_group, a
 * member of that group running no such program. Fills ret->creds (copy of groups):
 * 0 or -ENOMEM. */
int peer_decide(const struct peer_facts *facts, gid_t allowed_group, struct caller *ret);

/* The facts about the sender of a message (sent: its SCM_CREDENTIALS; pidfd: its
 * SCM_PIDFD, or -1), then the verdict. 0 or -ENOMEM; a sender that cannot be read
 * (gone, not in our pid namespace) is simply not an administrator. */
int peer_identify_sender(pid_t pid, uid_t sent_uid, gid_t sent_gid, int pidfd,
                         gid_t allowed_group, struct caller *ret);
void caller_done(struct caller *caller);

/* Pure parsers, exposed for tests. */
struct peer_status {
        uid_t uids[4];
        gid_t gids[4];
        gid_t *groups; /* malloc'd */
        size_t group_count;
};
/* The Uid:, Gid: and Groups: lines of a /proc/PID/status text. 0, -EINVAL when one is
 * missing or garbled, -ENOMEM. */
int peer_status_parse(const char *text, struct peer_status *ret);
/* AT_SECURE in a /proc/PID/auxv image: 1 or 0, -1 if it is not there. */
int peer_auxv_secure(const void *auxv, size_t len);

#endif
