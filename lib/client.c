/* client.c — the library's end of the Unix socket (framing and SCM_RIGHTS). */
#include "client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "bindlink.h"
#include "util.h"

/* A request that takes longer than this means the daemon is wedged. */
#define CLIENT_TIMEOUT_SEC 120

const char *client_socket_path(void)
{
        const char *env = getenv("BINDLINK_SOCKET");
        return env && *env ? env : BINDLINK_DEFAULT_SOCKET;
}

int client_connect(const char *socket_path)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (strlen(socket_path) >= sizeof addr.sun_path)
                return -ENAMETOOLONG;
        memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);

        _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return negative_errno();
        struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_SEC};
        if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
            setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
                return negative_errno();
        if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0)
                return negative_errno();
        return TAKE_FD(sock);
}

/* The kernel carries at most SCM_MAX_FD descriptors in one SCM_RIGHTS message. */
#define CLIENT_FDS_PER_SEND 253

int client_send(int sock, const struct wire_buf *buf, const int *fds, size_t fd_count)
{
        /* More descriptors than one message carries go in groups of
         * CLIENT_FDS_PER_SEND, each with one byte of the message; the last group
         * with the rest of it. The daemon collects them until the header's count. */
        size_t groups = (fd_count + CLIENT_FDS_PER_SEND - 1) / CLIENT_FDS_PER_SEND;
        if (groups > buf->len)
                return -EINVAL;
        size_t sent = 0, fds_sent = 0;
        while (sent < buf->len) {
                size_t group = fds_sent < fd_count ? fd_count - fds_sent : 0;
                if (group > CLIENT_FDS_PER_SEND)
                        group = CLIENT_FDS_PER_SEND;
                bool more_groups = fds_sent + group < fd_count;
                size_t len = more_groups ? 1 : buf->len - sent;
                struct iovec iov = {.iov_base = buf->data + sent, .iov_len = len};
                struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
                _cleanup_free_ char *control = NULL;
                if (group > 0) {
                        size_t space = CMSG_SPACE(group * sizeof(int));
                        control = calloc(1, space);
                        if (!control)
                                return -ENOMEM;
                        msg.msg_control = control;
                        msg.msg_controllen = space;
                        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(group * sizeof(int));
                        memcpy(CMSG_DATA(c), fds + fds_sent, group * sizeof(int));
                }
                ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? -ETIMEDOUT : negative_errno();
                }
                /* The descriptors went with the first byte sent. */
                fds_sent += group;
                sent += (size_t)n;
        }
        return 0;
}

static int read_exact(int sock, void *data, size_t len)
{
        size_t got = 0;
        while (got < len) {
                ssize_t n = recv(sock, (char *)data + got, len - got, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? -ETIMEDOUT : negative_errno();
                }
                if (n == 0)
                        return -ECONNRESET;
                got += (size_t)n;
        }
        return 0;
}

int client_receive(int sock, struct wire_header *ret_header, uint8_t **ret_payload)
{
        uint8_t raw[WIRE_HEADER_SIZE];
        int r = read_exact(sock, raw, sizeof raw);
        if (r < 0)
                return r;
        struct wire_header h;
        r = wire_parse_header(raw, sizeof raw, &h);
        if (r < 0)
                return -EPROTO;
        _cleanup_free_ uint8_t *payload = NULL;
        if (h.length > 0) {
                payload = malloc(h.length);
                if (!payload)
                        return -ENOMEM;
                r = read_exact(sock, payload, h.length);
                if (r < 0)
                        return r;
        }
        *ret_header = h;
        *ret_payload = TAKE_PTR(payload);
        return 0;
}
