/* peer_auth.c — peer credentials and the privilege check of S2's first row. */
#include "peer_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

bool peer_status_has_sys_admin(const char *status_text)
{
        const char *line = strncmp(status_text, "CapEff:", 7) == 0
                                   ? status_text
                                   : strstr(status_text, "\nCapEff:");
        if (!line)
                return false;
        line = strchr(line, ':') + 1;
        uint64_t caps;
        if (sscanf(line, "%" SCNx64, &caps) != 1)
                return false;
        return (caps >> CAP_SYS_ADMIN) & 1;
}

static bool pid_has_sys_admin(pid_t pid)
{
        char path[64], text[4096];
        (void)snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, text + 1, sizeof text - 2);
        if (n <= 0)
                return false;
        text[0] = '\n';
        text[n + 1] = '\0';
        return peer_status_has_sys_admin(text);
}

static bool in_group(int sock, gid_t primary, gid_t group)
{
        if (primary == group)
                return true;
        gid_t groups[1024];
        socklen_t len = sizeof groups;
        if (getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false;
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == group)
                        return true;
        return false;
}

int peer_identify(int sock, gid_t allowed_group, struct peer *ret_peer)
{
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return negative_errno();
        struct peer peer = {.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};

        if (cred.uid == 0) {
                peer.may_change_links = true;
        } else {
                /* Read capabilities only while a pidfd proves the pid is still the peer. */
                int pidfd = -1;
                len = sizeof pidfd;
                bool pinned = getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0;
                bool admin = pid_has_sys_admin(cred.pid);
                if (pinned) {
                        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
                                admin = false;
                        (void)close(pidfd);
                } else {
                        admin = false; /* without a pidfd the pid could be recycled */
                }
                peer.may_change_links =
                        admin || (allowed_group != (gid_t)-1 &&
                                  in_group(sock, cred.gid, allowed_group));
        }
        *ret_peer = peer;
        return 0;
}
