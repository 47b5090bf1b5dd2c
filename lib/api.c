/* api.c — the public API: bindlink_create/remove/list and the Windows-compatible
 * CreateBindLink/RemoveBindLink on top of them.
 *
 * The library does what must happen as the caller: it normalizes paths (S3) against
 * the caller's cwd and opens V's parent, B and each exception with the caller's own
 * credentials, passing the descriptors (or the errno of the failed open) to the
 * daemon, which decides. */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bindlink.h"
#include "client.h"
#include "normalize.h"
#include "path.h"
#include "request.h"
#include "util.h"
#include "wire.h"

struct bindlink_connection {
        int sock; /* -1 until connected, and after the daemon closed it */
        char socket_path[108];
};

static int connection_fail_connect(bindlink_error *ret_error, int r, int is_remove,
                                   const char *socket_path)
{
        if (r == -EACCES || r == -EPERM)
                return request_fail(ret_error, r, BINDLINK_FAULT_CALLER, is_remove, socket_path,
                                    "not allowed to connect to bindlinkd at %s: %s", socket_path,
                                    strerror(-r));
        /* Nobody listens there: say how to start it. */
        bool absent = r == -ENOENT || r == -ECONNREFUSED;
        return request_fail(ret_error, r, BINDLINK_FAULT_DAEMON, is_remove, socket_path,
                            "cannot reach bindlinkd at %s: %s%s", socket_path, strerror(-r),
                            absent ? " (is it running? start it with 'systemctl start "
                                     "bindlinkd', or set BINDLINK_SOCKET to its socket)"
                                   : "");
}

static void connection_drop(bindlink_connection *c)
{
        if (c->sock >= 0)
                (void)close(c->sock);
        c->sock = -1;
}

/* The daemon closes connections that stay idle; notice that before sending, so a
 * request is never lost in a connection that is already going away. */
static int connection_ready(bindlink_connection *c)
{
        if (c->sock >= 0) {
                struct pollfd p = {.fd = c->sock, .events = POLLIN | POLLRDHUP};
                if (poll(&p, 1, 0) != 0)
                        connection_drop(c); /* closed (or unsolicited data): start afresh */
        }
        if (c->sock < 0) {
                int sock = client_connect(c->socket_path);
                if (sock < 0)
                        return sock;
                c->sock = sock;
        }
        return 0;
}

/* What comes before a REPLY (list entries, explanation steps): decoded by on_entry,
 * which returns 0 or -errno. */
typedef int (*entry_fn)(void *ctx, uint16_t type, const uint8_t *payload, uint32_t len);

/* Send one request and read the REPLY; LIST_ENTRY and EXPLAIN_STEP messages before
 * it go to on_entry. Connection errors are reported as BINDLINK_FAULT_DAEMON. */
static int transact(bindlink_connection *c, const struct wire_buf *request, const int *fds,
                    size_t fd_count, int is_remove, entry_fn on_entry, void *ctx,
                    bindlink_error *ret_error)
{
        const char *socket_path = c->socket_path;
        int r = connection_ready(c);
        if (r < 0)
                return connection_fail_connect(ret_error, r, is_remove, socket_path);
        r = client_send(c->sock, request, fds, fd_count);
        if (r < 0) {
                connection_drop(c);
                return request_fail(ret_error, r, BINDLINK_FAULT_DAEMON, is_remove, socket_path,
                                    "cannot send to bindlinkd at %s: %s", socket_path,
                                    strerror(-r));
        }
        for (;;) {
                struct wire_header h;
                _cleanup_free_ uint8_t *payload = NULL;
                r = client_receive(c->sock, &h, &payload);
                if (r < 0) {
                        connection_drop(c);
                        return request_fail(ret_error, r, BINDLINK_FAULT_DAEMON, is_remove,
                                            socket_path, "no answer from bindlinkd at %s: %s",
                                            socket_path, strerror(-r));
                }
                if ((h.type == WIRE_LIST_ENTRY || h.type == WIRE_LIST_ENTRY_IN ||
                     h.type == WIRE_LIST_ENTRY_WANT || h.type == WIRE_EXPLAIN_STEP) &&
                    on_entry) {
                        r = on_entry(ctx, h.type, payload, h.length);
                        if (r < 0) {
                                connection_drop(c);
                                return request_fail(ret_error, r, BINDLINK_FAULT_DAEMON, is_remove,
                                                    socket_path, "bad answer from bindlinkd: %s",
                                                    strerror(-r));
                        }
                        continue;
                }
                struct wire_reply reply;
                if (h.type != WIRE_REPLY || wire_get_reply(payload, h.length, &reply) < 0) {
                        connection_drop(c);
                        return request_fail(ret_error, -EPROTO, BINDLINK_FAULT_DAEMON, is_remove,
                                            socket_path, "malformed reply from bindlinkd");
                }
                if (reply.status < 0) {
                        r = request_fail(ret_error, reply.status, (bindlink_fault)reply.fault,
                                         is_remove, reply.path, "%s", reply.message);
                        if (ret_error)
                                ret_error->exception_index = reply.exception_index;
                } else {
                        r = 0;
                }
                wire_reply_free(&reply);
                return r;
        }
}

/* Send the request encoded in buf (encoded: what wire_put_* returned) and read its
 * answer (transact); buf is freed. 0 or -error (filled in). */
static int send_request(bindlink_connection *c, struct wire_buf *buf, int encoded, const int *fds,
                        size_t fd_count, int is_remove, entry_fn on_entry, void *ctx,
                        bindlink_error *ret_error)
{
        int r = encoded < 0 ? request_fail(ret_error, encoded, BINDLINK_FAULT_NONE, is_remove, NULL,
                                           "cannot encode request: %s", strerror(-encoded))
                            : transact(c, buf, fds, fd_count, is_remove, on_entry, ctx, ret_error);
        wire_buf_free(buf);
        return r;
}

static int connection_init(bindlink_connection *c, bindlink_error *ret_error)
{
        const char *socket_path = client_socket_path();
        c->sock = -1;
        if (strlen(socket_path) >= sizeof c->socket_path)
                return request_fail(ret_error, ENAMETOOLONG, BINDLINK_FAULT_DAEMON, 0, socket_path,
                                    "socket path %s is too long", socket_path);
        memcpy(c->socket_path, socket_path, strlen(socket_path) + 1);
        return 0;
}

int bindlink_connect(bindlink_connection **ret_connection, bindlink_error *ret_error)
{
        request_clear_error(ret_error);
        if (!ret_connection)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_NONE, 0, NULL,
                                    "no place for the connection");
        bindlink_connection *c = calloc(1, sizeof *c);
        if (!c)
                return request_fail(ret_error, ENOMEM, BINDLINK_FAULT_NONE, 0, NULL,
                                    "out of memory");
        int r = connection_init(c, ret_error);
        if (r >= 0) {
                r = connection_ready(c);
                if (r < 0)
                        r = connection_fail_connect(ret_error, r, 0, c->socket_path);
        }
        if (r < 0) {
                free(c);
                return r;
        }
        *ret_connection = c;
        return 0;
}

void bindlink_disconnect(bindlink_connection *connection)
{
        if (!connection)
                return;
        connection_drop(connection);
        free(connection);
}

int bindlink_connection_create(bindlink_connection *c, const char *virtual_path,
                               const char *backing_path, uint32_t flags, uint32_t exception_count,
                               const char *const *exception_paths, bindlink_error *ret_error)
{
        request_clear_error(ret_error);
        if (!c)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_DAEMON, 0, NULL,
                                    "no connection");
        struct wire_create msg = {0};
        struct caller_fds fds = {.count = 0};
        int r = request_prepare_create(virtual_path, backing_path, flags, exception_count,
                                       exception_paths, &msg, &fds, ret_error);
        if (r < 0)
                return r;
        struct wire_buf buf = {0};
        r = send_request(c, &buf, wire_put_create(&buf, &msg, (uint32_t)fds.count), fds.fds,
                         fds.count, 0, NULL, NULL, ret_error);
        caller_fds_close(&fds);
        wire_create_free(&msg);
        return r;
}

static int connection_remove(bindlink_connection *c, const char *virtual_path, bool tree,
                             bindlink_error *ret_error)
{
        request_clear_error(ret_error);
        if (!c)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_DAEMON, 1, NULL,
                                    "no connection");
        if (!request_valid_path(virtual_path))
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_VIRTUAL, 1, NULL,
                                    "virtual path is missing, empty or longer than PATH_MAX");
        struct wire_remove msg = {.tree = tree};
        int parent_error;
        int r = normalize_path(virtual_path, &msg.virtual_path, &parent_error, NULL);
        if (r < 0)
                return request_fail(ret_error, r, BINDLINK_FAULT_VIRTUAL, 1, virtual_path,
                                    "cannot normalize virtual path %s: %s", virtual_path,
                                    strerror(-r));
        struct wire_buf buf = {0};
        r = send_request(c, &buf, wire_put_remove(&buf, &msg), NULL, 0, 1, NULL, NULL, ret_error);
        wire_remove_free(&msg);
        return r;
}

int bindlink_connection_remove(bindlink_connection *c, const char *virtual_path,
                               bindlink_error *ret_error)
{
        return connection_remove(c, virtual_path, false, ret_error);
}

int bindlink_connection_remove_tree(bindlink_connection *c, const char *virtual_path,
                                    bindlink_error *ret_error)
{
        return connection_remove(c, virtual_path, true, ret_error);
}

struct bindlink_links {
        struct wire_link *items;
        size_t count, cap;
};

static int collect_link(void *ctx, uint16_t type, const uint8_t *payload, uint32_t len)
{
        bindlink_links *links = ctx;
        struct wire_link decoded;
        struct wire_link *link = &decoded;
        int r = type == WIRE_LIST_ENTRY        ? wire_get_link(payload, len, link)
                : type == WIRE_LIST_ENTRY_IN   ? wire_get_link_in(payload, len, link)
                : type == WIRE_LIST_ENTRY_WANT ? wire_get_link_want(payload, len, link)
                                               : -EPROTO;
        if (r < 0)
                return r;
        if (links->count == links->cap) {
                size_t cap = links->cap ? links->cap * 2 : 64;
                struct wire_link *grown = realloc(links->items, cap * sizeof *grown);
                if (!grown) {
                        wire_link_free(link);
                        return -ENOMEM;
                }
                links->items = grown;
                links->cap = cap;
        }
        links->items[links->count++] = *link;
        return 0;
}

void bindlink_links_free(bindlink_links *links)
{
        if (!links)
                return;
        for (size_t i = 0; i < links->count; i++)
                wire_link_free(&links->items[i]);
        free(links->items);
        free(links);
}

static int connection_list(bindlink_connection *c, uint32_t want, bindlink_links **ret_links,
                           bindlink_error *ret_error)
{
        request_clear_error(ret_error);
        if (!c)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_DAEMON, 0, NULL,
                                    "no connection");
        if (!ret_links)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_NONE, 0, NULL,
                                    "no place for the list");
        bindlink_links *links = calloc(1, sizeof *links);
        if (!links)
                return request_fail(ret_error, ENOMEM, BINDLINK_FAULT_NONE, 0, NULL,
                                    "out of memory");
        struct wire_buf buf = {0};
        int r = send_request(c, &buf, want ? wire_put_list_want(&buf, want) : wire_put_list(&buf),
                             NULL, 0, 0, collect_link, links, ret_error);
        if (r < 0) {
                bindlink_links_free(links);
                return r;
        }
        *ret_links = links;
        return 0;
}

/* The one-shot calls: a connection for the length of one call. */
int bindlink_create(const char *virtual_path, const char *backing_path, uint32_t flags,
                    uint32_t exception_count, const char *const *exception_paths,
                    bindlink_error *ret_error)
{
        bindlink_connection c;
        int r = connection_init(&c, ret_error);
        if (r < 0)
                return r;
        r = bindlink_connection_create(&c, virtual_path, backing_path, flags, exception_count,
                                       exception_paths, ret_error);
        connection_drop(&c);
        return r;
}

static int remove_once(const char *virtual_path, bool tree, bindlink_error *ret_error)
{
        bindlink_connection c;
        int r = connection_init(&c, ret_error);
        if (r < 0)
                return r;
        r = connection_remove(&c, virtual_path, tree, ret_error);
        connection_drop(&c);
        return r;
}

int bindlink_remove(const char *virtual_path, bindlink_error *ret_error)
{
        return remove_once(virtual_path, false, ret_error);
}

int bindlink_remove_tree(const char *virtual_path, bindlink_error *ret_error)
{
        return remove_once(virtual_path, true, ret_error);
}

int bindlink_connection_list(bindlink_connection *c, bindlink_links **ret_links,
                             bindlink_error *ret_error)
{
        return connection_list(c, 0, ret_links, ret_error);
}

/* The request's WIRE_LIST_WANT_* for a caller's BINDLINK_LIST_* (the same bits). */
static uint32_t list_want(uint32_t what)
{
        return what & BINDLINK_LIST_WATCH ? WIRE_LIST_WANT_WATCH : 0;
}

int bindlink_list_what(uint32_t what, bindlink_links **ret_links, bindlink_error *ret_error)
{
        bindlink_connection c;
        int r = connection_init(&c, ret_error);
        if (r < 0)
                return r;
        r = connection_list(&c, list_want(what), ret_links, ret_error);
        connection_drop(&c);
        return r;
}

int bindlink_list(bindlink_links **ret_links, bindlink_error *ret_error)
{
        return bindlink_list_what(0, ret_links, ret_error);
}

size_t bindlink_links_count(const bindlink_links *links)
{
        return links ? links->count : 0;
}

#define LINK_AT(links, i) (links && i < links->count ? &links->items[i] : NULL)

const char *bindlink_links_virtual(const bindlink_links *links, size_t i)
{
        const struct wire_link *l = LINK_AT(links, i);
        return l ? l->virtual_path : NULL;
}

const char *bindlink_links_backing(const bindlink_links *links, size_t i)
{
        const struct wire_link *l = LINK_AT(links, i);
        return l ? l->backing_path : NULL;
}

uint32_t bindlink_links_flags(const bindlink_links *links, size_t i)
{
        const struct wire_link *l = LINK_AT(links, i);
        return l ? l->flags : 0;
}

uint64_t bindlink_links_order(const bindlink_links *links, size_t i)
{
        const struct wire_link *l = LINK_AT(links, i);
        return l ? l->order : 0;
}

bindlink_realization bindlink_links_realization(const bindlink_links *links, size_t i)
{
        const struct wire_link *l = LINK_AT(links, i);
        return l ? (bindlink_realization)l->realization : BINDLINK_REALIZED_NONE;
}

uint32_t bindlink_links_exception_count(const bindlink_links *links, size_t i)
{
        const struct wire_link *l = LINK_AT(links, i);
        return l ? l->exception_count : 0;
}

const char *bindlink_links_exception(const bindlink_links *links, size_t i, uint32_t j)
{
        const struct wire_link *l = LINK_AT(links, i);
        return l && j < l->exception_count ? l->exception_paths[j] : NULL;
}

uint64_t bindlink_links_scope_id(const bindlink_links *links, size_t i)
{
        const struct wire_link *l = LINK_AT(links, i);
        return l ? l->scope_id : 0;
}

pid_t bindlink_links_scope_pid(const bindlink_links *links, size_t i)
{
        const struct wire_link *l = LINK_AT(links, i);
        return l ? (pid_t)l->scope_pid : 0;
}

int bindlink_links_watch(const bindlink_links *links, size_t i)
{
        const struct wire_link *l = LINK_AT(links, i);
        if (!l || !l->watch_said)
                return -ENODATA;
        return (int)l->watch;
}

/* ---- S23: links in another mount namespace ---- */

/* The wire form of target (root copied), and its descriptor in *ret_fd (-1: none).
 * 0 or -error (filled in). */
static int target_prepare(const bindlink_target *target, int is_remove, struct wire_target *ret,
                          int *ret_fd, bindlink_error *ret_error)
{
        *ret_fd = -1;
        if (!target)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_NONE, is_remove, NULL,
                                    "no target namespace");
        struct wire_target t = {.kind = (uint32_t)target->kind};
        switch (target->kind) {
        case BINDLINK_TARGET_PIDFD:
        case BINDLINK_TARGET_NSFD:
                if (target->fd < 0)
                        return request_fail(ret_error, EBADF, BINDLINK_FAULT_NONE, is_remove, NULL,
                                            "the target's descriptor %d is not open", target->fd);
                *ret_fd = target->fd;
                break;
        case BINDLINK_TARGET_PID:
                if (target->pid <= 0)
                        return request_fail(ret_error, EINVAL, BINDLINK_FAULT_NONE, is_remove, NULL,
                                            "the target's pid %d is not a process id",
                                            (int)target->pid);
                t.pid = (int32_t)target->pid;
                break;
        default:
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_NONE, is_remove, NULL,
                                    "unknown target kind %d", (int)target->kind);
        }
        char *root = NULL;
        if (target->root && *target->root) {
                int r = request_target_path(target->root, &root);
                if (r < 0)
                        return request_fail(ret_error, r, BINDLINK_FAULT_NONE, is_remove,
                                            target->root,
                                            "the target's root %s is not an absolute path "
                                            "without . or .. components",
                                            target->root);
        } else if (!(root = strdup(""))) {
                return request_fail(ret_error, ENOMEM, BINDLINK_FAULT_NONE, is_remove, NULL,
                                    "out of memory");
        }
        t.root = root;
        *ret = t;
        return 0;
}

/* The target's descriptor (if any) as the message's first: a dup, closed with the
 * others, so that the caller's own stays theirs. 0 or -error (filled in). */
static int target_fd_first(int target_fd, struct caller_fds *fds, bindlink_error *ret_error)
{
        if (target_fd < 0)
                return 0;
        int fd = fcntl(target_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return request_fail(ret_error, errno, BINDLINK_FAULT_NONE, 0, NULL,
                                    "cannot use the target's descriptor %d: %s", target_fd,
                                    strerror(errno));
        fds->fds[fds->count++] = fd;
        return 0;
}

int bindlink_connection_target_create(bindlink_connection *c, const bindlink_target *target,
                                      const char *virtual_path, const char *backing_path,
                                      uint32_t flags, uint32_t exception_count,
                                      const char *const *exception_paths, bindlink_error *ret_error)
{
        request_clear_error(ret_error);
        if (!c)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_DAEMON, 0, NULL,
                                    "no connection");
        struct wire_target t;
        int target_fd;
        int r = target_prepare(target, 0, &t, &target_fd, ret_error);
        if (r < 0)
                return r;
        struct wire_create msg = {0};
        struct caller_fds fds = {.count = 0};
        r = target_fd_first(target_fd, &fds, ret_error);
        if (r < 0) {
                wire_target_free(&t);
                return r;
        }
        r = request_prepare_create_in(virtual_path, backing_path, flags, exception_count,
                                      exception_paths, &msg, &fds, ret_error);
        if (r < 0) {
                caller_fds_close(&fds);
                wire_target_free(&t);
                return r;
        }
        struct wire_buf buf = {0};
        r = send_request(c, &buf, wire_put_create_in(&buf, &t, &msg, (uint32_t)fds.count), fds.fds,
                         fds.count, 0, NULL, NULL, ret_error);
        caller_fds_close(&fds);
        wire_create_free(&msg);
        wire_target_free(&t);
        return r;
}

int bindlink_connection_target_create_many(bindlink_connection *c, const bindlink_target *target,
                                           size_t count, const bindlink_link_spec *links,
                                           bindlink_error *ret_error)
{
        request_clear_error(ret_error);
        if (!c)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_DAEMON, 0, NULL,
                                    "no connection");
        if (count == 0 || count > WIRE_MAX_BATCH || !links)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_NONE, 0, NULL,
                                    "%zu links: between 1 and %d can be made in one call", count,
                                    WIRE_MAX_BATCH);
        struct wire_target t;
        int target_fd;
        int r = target_prepare(target, 0, &t, &target_fd, ret_error);
        if (r < 0)
                return r;
        struct wire_create *msgs = calloc(count, sizeof *msgs);
        struct caller_fds fds = {.count = 0};
        size_t prepared = 0;
        if (!msgs) {
                r = request_fail(ret_error, ENOMEM, BINDLINK_FAULT_NONE, 0, NULL, "out of memory");
                goto out;
        }
        if ((r = target_fd_first(target_fd, &fds, ret_error)) < 0)
                goto out;
        /* Each link as bindlink_target_create checks and opens it: B's descriptor
         * after the target's, in order. */
        for (; prepared < count; prepared++) {
                const bindlink_link_spec *l = &links[prepared];
                r = request_prepare_create_in(l->virtual_path, l->backing_path, l->flags,
                                              l->exception_count, l->exception_paths,
                                              &msgs[prepared], &fds, ret_error);
                if (r < 0) {
                        if (ret_error) {
                                char said[sizeof ret_error->message];
                                memcpy(said, ret_error->message, sizeof said);
                                (void)snprintf(ret_error->message, sizeof ret_error->message,
                                               "link %zu of %zu: %.400s", prepared + 1, count,
                                               said);
                        }
                        goto out;
                }
        }
        struct wire_buf buf = {0};
        r = send_request(
                c, &buf,
                wire_put_create_many_in(&buf, &t, msgs, (uint32_t)count, (uint32_t)fds.count),
                fds.fds, fds.count, 0, NULL, NULL, ret_error);
out:
        caller_fds_close(&fds);
        wire_create_many_free(msgs, (uint32_t)prepared);
        wire_target_free(&t);
        return r;
}

int bindlink_target_create_many(const bindlink_target *target, size_t count,
                                const bindlink_link_spec *links, bindlink_error *ret_error)
{
        bindlink_connection c;
        int r = connection_init(&c, ret_error);
        if (r < 0)
                return r;
        r = bindlink_connection_target_create_many(&c, target, count, links, ret_error);
        connection_drop(&c);
        return r;
}

int bindlink_target_create(const bindlink_target *target, const char *virtual_path,
                           const char *backing_path, uint32_t flags, uint32_t exception_count,
                           const char *const *exception_paths, bindlink_error *ret_error)
{
        bindlink_connection c;
        int r = connection_init(&c, ret_error);
        if (r < 0)
                return r;
        r = bindlink_connection_target_create(&c, target, virtual_path, backing_path, flags,
                                              exception_count, exception_paths, ret_error);
        connection_drop(&c);
        return r;
}

static int connection_target_remove(bindlink_connection *c, const bindlink_target *target,
                                    const char *virtual_path, bool tree,
                                    bindlink_error *ret_error)
{
        request_clear_error(ret_error);
        if (!c)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_DAEMON, 1, NULL,
                                    "no connection");
        struct wire_target t;
        int target_fd;
        int r = target_prepare(target, 1, &t, &target_fd, ret_error);
        if (r < 0)
                return r;
        struct wire_remove msg = {.tree = tree};
        if (!request_valid_path(virtual_path))
                r = request_fail(ret_error, EINVAL, BINDLINK_FAULT_VIRTUAL, 1, NULL,
                                 "virtual path is missing, empty or longer than PATH_MAX");
        else if ((r = request_target_path(virtual_path, &msg.virtual_path)) < 0)
                r = request_fail(ret_error, r, BINDLINK_FAULT_VIRTUAL, 1, virtual_path,
                                 "a virtual path in a target namespace must be absolute, "
                                 "without . or .. components: %s",
                                 virtual_path);
        if (r >= 0) {
                struct wire_buf buf = {0};
                r = send_request(c, &buf, wire_put_remove_in(&buf, &t, &msg, target_fd >= 0),
                                 &target_fd, target_fd >= 0, 1, NULL, NULL, ret_error);
        }
        wire_remove_free(&msg);
        wire_target_free(&t);
        return r;
}

int bindlink_connection_target_remove(bindlink_connection *c, const bindlink_target *target,
                                      const char *virtual_path, bindlink_error *ret_error)
{
        return connection_target_remove(c, target, virtual_path, false, ret_error);
}

int bindlink_connection_target_remove_tree(bindlink_connection *c, const bindlink_target *target,
                                           const char *virtual_path, bindlink_error *ret_error)
{
        return connection_target_remove(c, target, virtual_path, true, ret_error);
}

static int target_remove_once(const bindlink_target *target, const char *virtual_path, bool tree,
                              bindlink_error *ret_error)
{
        bindlink_connection c;
        int r = connection_init(&c, ret_error);
        if (r < 0)
                return r;
        r = connection_target_remove(&c, target, virtual_path, tree, ret_error);
        connection_drop(&c);
        return r;
}

int bindlink_target_remove(const bindlink_target *target, const char *virtual_path,
                           bindlink_error *ret_error)
{
        return target_remove_once(target, virtual_path, false, ret_error);
}

int bindlink_target_remove_tree(const bindlink_target *target, const char *virtual_path,
                                bindlink_error *ret_error)
{
        return target_remove_once(target, virtual_path, true, ret_error);
}

int bindlink_target_list_what(const bindlink_target *target, uint32_t what,
                              bindlink_links **ret_links, bindlink_error *ret_error)
{
        request_clear_error(ret_error);
        if (!ret_links)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_NONE, 0, NULL,
                                    "no place for the list");
        struct wire_target t = {.kind = WIRE_TARGET_ALL};
        int target_fd = -1;
        int r = target ? target_prepare(target, 0, &t, &target_fd, ret_error) : 0;
        if (r < 0)
                return r;
        bindlink_links *links = calloc(1, sizeof *links);
        if (!links) {
                wire_target_free(&t);
                return request_fail(ret_error, ENOMEM, BINDLINK_FAULT_NONE, 0, NULL,
                                    "out of memory");
        }
        bindlink_connection c;
        r = connection_init(&c, ret_error);
        if (r >= 0) {
                struct wire_buf buf = {0};
                r = send_request(&c, &buf,
                                 list_want(what) ? wire_put_list_want_in(&buf, &t, list_want(what),
                                                                         target_fd >= 0)
                                                 : wire_put_list_in(&buf, &t, target_fd >= 0),
                                 &target_fd, target_fd >= 0, 0, collect_link, links, ret_error);
                connection_drop(&c);
        }
        wire_target_free(&t);
        if (r < 0) {
                bindlink_links_free(links);
                return r;
        }
        *ret_links = links;
        return 0;
}

HRESULT CreateBindLink(const char *virtualPath, const char *backingPath,
                       CREATE_BIND_LINK_FLAGS createBindLinkFlags, uint32_t exceptionCount,
                       const char *const *exceptionPaths)
{
        bindlink_error error;
        int r = bindlink_create(virtualPath, backingPath, (uint32_t)createBindLinkFlags,
                                exceptionCount, exceptionPaths, &error);
        return r < 0 ? error.hresult : S_OK;
}

HRESULT RemoveBindLink(const char *virtualPath)
{
        bindlink_error error;
        int r = bindlink_remove(virtualPath, &error);
        return r < 0 ? error.hresult : S_OK;
}

/* ---- explain: what decides what a path shows ------------------------------------ */

struct bindlink_explanation {
        struct wire_step *wire; /* the strings the steps point into */
        bindlink_step *steps;
        size_t count, cap;
};

static int collect_step(void *ctx, uint16_t type, const uint8_t *payload, uint32_t len)
{
        bindlink_explanation *e = ctx;
        if (type != WIRE_EXPLAIN_STEP)
                return -EPROTO;
        if (e->count == e->cap) {
                size_t cap = e->cap ? e->cap * 2 : 8;
                struct wire_step *wire = realloc(e->wire, cap * sizeof *wire);
                if (!wire)
                        return -ENOMEM;
                e->wire = wire;
                bindlink_step *steps = realloc(e->steps, cap * sizeof *steps);
                if (!steps)
                        return -ENOMEM;
                e->steps = steps;
                e->cap = cap;
        }
        struct wire_step *w = &e->wire[e->count];
        int r = wire_get_step(payload, len, w);
        if (r < 0)
                return r;
        /* The strings stay where wire_get_step put them; steps point into them (the
         * wire array may move, the strings do not). */
        e->steps[e->count++] = (bindlink_step){
                .kind = (bindlink_step_kind)w->kind,
                .path = w->path,
                .virtual_path = *w->virtual_path ? w->virtual_path : NULL,
                .backing_path = *w->backing_path ? w->backing_path : NULL,
                .order = w->order,
                .flags = w->flags,
                .detail = w->detail,
        };
        return 0;
}

void bindlink_explanation_free(bindlink_explanation *e)
{
        if (!e)
                return;
        for (size_t i = 0; i < e->count; i++)
                wire_step_free(&e->wire[i]);
        free(e->wire);
        free(e->steps);
        free(e);
}

size_t bindlink_explanation_count(const bindlink_explanation *e)
{
        return e ? e->count : 0;
}

const bindlink_step *bindlink_explanation_step(const bindlink_explanation *e, size_t i)
{
        return e && i < e->count ? &e->steps[i] : NULL;
}

int bindlink_explain(const char *path, bindlink_explanation **ret_explanation,
                     bindlink_error *ret_error)
{
        request_clear_error(ret_error);
        if (!ret_explanation)
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_NONE, 0, NULL,
                                    "no place for the explanation");
        if (!request_valid_path(path))
                return request_fail(ret_error, EINVAL, BINDLINK_FAULT_VIRTUAL, 0, NULL,
                                    "the path is missing, empty or longer than PATH_MAX");
        struct wire_explain msg = {0};
        int parent_error;
        int r = normalize_path(path, &msg.path, &parent_error, NULL);
        if (r < 0)
                return request_fail(ret_error, r, BINDLINK_FAULT_VIRTUAL, 0, path,
                                    "cannot normalize %s: %s", path, strerror(-r));
        bindlink_explanation *e = calloc(1, sizeof *e);
        bindlink_connection c;
        if (!e)
                r = request_fail(ret_error, ENOMEM, BINDLINK_FAULT_NONE, 0, NULL, "out of memory");
        else
                r = connection_init(&c, ret_error);
        if (r >= 0) {
                struct wire_buf buf = {0};
                r = send_request(&c, &buf, wire_put_explain(&buf, &msg), NULL, 0, 0, collect_step,
                                 e, ret_error);
                connection_drop(&c);
        }
        wire_explain_free(&msg);
        if (r < 0) {
                bindlink_explanation_free(e);
                return r;
        }
        *ret_explanation = e;
        return 0;
}

int bindlink_target_list(const bindlink_target *target, bindlink_links **ret_links,
                         bindlink_error *ret_error)
{
        return bindlink_target_list_what(target, 0, ret_links, ret_error);
}
