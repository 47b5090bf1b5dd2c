/* client.h — one connection from libbindlink to bindlinkd: send a request with
 * descriptors, read framed replies. Each API call opens its own connection, so
 * nothing is shared between threads. */
#ifndef BINDLINK_CLIENT_H
#define BINDLINK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* The socket path: BINDLINK_SOCKET, else the default. */
const char *client_socket_path(void);

/* Connect; returns an fd or -errno (ENOENT/ECONNREFUSED: no daemon; EACCES). */
int client_connect(const char *socket_path);

/* Send buf's bytes, attaching fds to the first byte (more than the kernel carries at
 * once: to the first bytes, a group each). 0 or -errno. */
int client_send(int sock, const struct wire_buf *buf, const int *fds, size_t fd_count);

/* Receive one message; *ret_payload is malloc'd (may be NULL for length 0). */
int client_receive(int sock, struct wire_header *ret_header, uint8_t **ret_payload);

#endif
