/* server.h — bindlinkd's socket: one epoll loop serving every client, one request at
 * a time, so link changes are serialized without locks. */
#ifndef BINDLINKD_SERVER_H
#define BINDLINKD_SERVER_H

#include <sys/types.h>

#include "link_manager.h"

/* Create the listening socket at path (mode 0666: every request is authenticated).
 * A stale socket file (nothing listening) is replaced; a live one is -EADDRINUSE. */
int server_listen(const char *path);

/* What SIGHUP asks for (a reload), run by the loop between two requests. */
struct server_reload {
        void (*run)(void *ctx);
        void *ctx;
};

/* Serve until SIGTERM/SIGINT; on SIGHUP, run reload (NULL: ignore SIGHUP). */
int server_run(int listen_fd, struct link_manager *manager, const char *state_dir,
               gid_t allowed_group, const struct server_reload *reload);

#endif
