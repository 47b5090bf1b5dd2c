/* peer_auth.h — who is on the other end of a client socket, and may they change links. */
#ifndef BINDLINKD_PEER_AUTH_H
#define BINDLINKD_PEER_AUTH_H

#include <stdbool.h>
#include <sys/types.h>

struct peer {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        bool may_change_links; /* root, CAP_SYS_ADMIN, or the allowed group */
};

/* Read the peer's credentials (SO_PEERCRED, SO_PEERGROUPS, its capabilities through
 * a pidfd so a recycled pid cannot lend them). allowed_group is (gid_t)-1 if none. */
int peer_identify(int sock, gid_t allowed_group, struct peer *ret_peer);

/* Pure: is CAP_SYS_ADMIN in the "CapEff:" line of a /proc/PID/status text? */
bool peer_status_has_sys_admin(const char *status_text);

#endif
