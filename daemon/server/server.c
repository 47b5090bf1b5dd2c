/* server.c — the epoll loop: framing, descriptor passing, dispatch, limits.
 *
 * Every message is judged by who sent it (peer_auth.h), when its first byte is read:
 * from a sender who may not change links nothing is kept — its descriptors are
 * closed as they arrive, its payload is read and dropped — and a create or remove
 * is answered EPERM. What any other peer can make the daemon hold is bounded:
 * connections per user (with a reserve only root may use), bytes read per turn, the
 * output queued for it (a list is sent as the socket drains), the time a message
 * may take and a connection may idle. A client that sends garbage (bad magic, an
 * unknown type, a length that lies, the wrong number of descriptors, credentials
 * that change within a message) is dropped; none ever blocks another client. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mount_watch.h"
#include "peer_auth.h"
#include "scope_links.h"
#include "util.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif
/* The most descriptors one recvmsg can bring (the kernel's SCM_MAX_FD). */
#define FDS_PER_RECEIVE 253

/* Connections: at most MAX_CLIENTS, of which ROOT_RESERVE only for uid 0 (so
 * root is served whatever other users hold), and PER_USER_CLIENTS per other uid. */
#define MAX_CLIENTS 1024
#define ROOT_RESERVE 64
#define PER_USER_CLIENTS 32
/* A message must arrive whole within MESSAGE_SEC; a connection may wait IDLE_SEC
 * between requests (USER_IDLE_SEC when a user other than root opened it);
 * bindlink_connection reconnects after that. */
#define MESSAGE_SEC 10
#define IDLE_SEC 30
#define USER_IDLE_SEC 10
/* Bytes read from one client before the others get their turn. */
#define READ_TURN (256 * 1024)
/* Output queued for one client before the daemon waits for it to read (a list
 * is sent in pieces of about this size). */
#define OUTPUT_QUEUE (64 * 1024)
#define DROPS_LOGGED_PER_SECOND 10

struct client {
        int fd;
        struct ucred connected; /* SO_PEERCRED: who connected (the limits count it) */
        /* The message being read. */
        uint8_t header_bytes[WIRE_HEADER_SIZE];
        size_t header_got;
        struct wire_header header;
        bool started;         /* its first byte is in: sender and verdict known */
        struct ucred sender;  /* SCM_CREDENTIALS of every piece of it */
        struct caller caller; /* the verdict about the sender */
        uint8_t *payload;     /* NULL while a payload is read and dropped */
        size_t payload_got;
        int fds[WIRE_MAX_FDS]; /* kept (a sender who may change links only) */
        size_t fd_count;
        size_t fds_received; /* kept or closed */
        /* The answer. */
        struct wire_buf out;
        size_t out_sent;
        bool waiting_to_write; /* EPOLLOUT is armed */
        bool listing;          /* a list is being sent: entries after list_after */
        uint64_t list_after;
        /* S23: a scoped list (entries with their scope): bindlinkd's own links first
         * (list_host), then the scoped ones, all of them or those of list_scope. */
        bool list_in, list_host, list_all_scopes;
        bool list_watch; /* WIRE_LIST_WANT_WATCH: each entry says which layers are watched */
        uint64_t list_scope;
        time_t deadline;
};

struct server {
        int epoll_fd;
        int listen_fd;
        bool accepting; /* the listening socket is in the epoll set */
        struct link_manager *manager;
        struct scope_links scopes; /* S23: links in other mount namespaces */
        gid_t allowed_group;
        struct client *clients[MAX_CLIENTS];
        size_t client_count;
        size_t fds_held, fd_budget; /* descriptors held for messages being read */
        unsigned long refused;      /* connections refused since the last report */
        /* Clients dropped for breaking the protocol: the first few of each second are
         * logged one by one, the rest counted (a flood must not flood the log too). */
        unsigned drops_logged;
        unsigned long drops_unlogged;
        bool stopping;
};

static time_t now(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec;
}

static int enable(int fd, int option)
{
        int on = 1;
        return setsockopt(fd, SOL_SOCKET, option, &on, sizeof on) < 0 ? negative_errno() : 0;
}

int server_listen(const char *path)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof addr.sun_path)
                return -ENAMETOOLONG;
        memcpy(addr.sun_path, path, strlen(path) + 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        /* Every message carries its sender's credentials and pidfd; accepted
         * sockets inherit these (and a message sent before accept gets them too). */
        int r = enable(fd, SO_PASSCRED);
        if (r < 0)
                return r;
        if (enable(fd, SO_PASSPIDFD) < 0)
                log_warning("no SO_PASSPIDFD (Linux < 6.5): senders are identified by pid "
                            "only, so a sender that ends at once may lend its pid");
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
                if (errno != EADDRINUSE)
                        return negative_errno();
                /* Replace a socket file nobody listens on any more. */
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe < 0)
                        return negative_errno();
                if (connect(probe, (struct sockaddr *)&addr, sizeof addr) == 0)
                        return -EADDRINUSE;
                if (unlink(path) < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
                        return negative_errno();
        }
        if (chmod(path, 0666) < 0 || listen(fd, SOMAXCONN) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

/* ---- clients ------------------------------------------------------------------- */

static void message_reset(struct server *s, struct client *c)
{
        for (size_t i = 0; i < c->fd_count; i++)
                (void)close(c->fds[i]);
        s->fds_held -= c->fd_count;
        c->fd_count = c->fds_received = 0;
        free(c->payload);
        c->payload = NULL;
        c->header_got = c->payload_got = 0;
        c->started = false;
        caller_done(&c->caller);
}

static void client_drop(struct server *s, size_t slot, const char *why)
{
        struct client *c = s->clients[slot];
        if (why && s->drops_logged < DROPS_LOGGED_PER_SECOND) {
                s->drops_logged++;
                log_warning("dropping client pid %d (uid %u): %s", (int)c->connected.pid,
                            (unsigned)c->connected.uid, why);
        } else if (why) {
                s->drops_unlogged++;
        }
        (void)epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        (void)close(c->fd);
        message_reset(s, c);
        wire_buf_free(&c->out);
        free(c);
        s->clients[slot] = NULL;
        s->client_count--;
}

/* May a connection from uid take a slot now? */
static bool admit(const struct server *s, uid_t uid)
{
        if (uid == 0)
                return s->client_count < MAX_CLIENTS;
        if (s->client_count >= MAX_CLIENTS - ROOT_RESERVE)
                return false;
        size_t same = 0;
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                if (s->clients[i] && s->clients[i]->connected.uid == uid)
                        same++;
        return same < PER_USER_CLIENTS;
}

static void set_accepting(struct server *s, bool on);
static bool read_input(struct server *s, size_t slot, const char **ret_why);

static void accept_clients(struct server *s)
{
        while (s->client_count < MAX_CLIENTS) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_error_errno(errno, "accept");
                        return;
                }
                struct ucred cred;
                socklen_t len = sizeof cred;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
                    !admit(s, cred.uid)) {
                        s->refused++;
                        (void)close(fd);
                        continue;
                }
                size_t slot = 0;
                while (s->clients[slot])
                        slot++; /* client_count < MAX_CLIENTS: there is one */
                struct client *c = calloc(1, sizeof *c);
                if (!c) {
                        (void)close(fd);
                        continue;
                }
                c->fd = fd;
                c->connected = cred;
                c->deadline = now() + MESSAGE_SEC;
                struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = slot};
                if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        (void)close(fd);
                        free(c);
                        continue;
                }
                s->clients[slot] = c;
                s->client_count++;
                /* The request is usually there already: serve it without another
                 * trip through epoll. */
                const char *why;
                if (!read_input(s, slot, &why))
                        client_drop(s, slot, why);
        }
        set_accepting(s, false); /* full: the rest wait in the backlog */
}

static void set_accepting(struct server *s, bool on)
{
        if (on == s->accepting)
                return;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
        if (epoll_ctl(s->epoll_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->listen_fd, &ev) == 0)
                s->accepting = on;
}

/* ---- answers -------------------------------------------------------------------- */

static void arm_output(struct server *s, size_t slot, bool on)
{
        struct client *c = s->clients[slot];
        if (c->waiting_to_write == on)
                return;
        struct epoll_event ev = {.events = (on ? EPOLLOUT : EPOLLIN) | EPOLLRDHUP,
                                 .data.u64 = slot};
        (void)epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
        c->waiting_to_write = on;
}

static void reply_outcome(struct client *c, const struct outcome *o)
{
        struct wire_reply reply = {
                .status = o->status,
                .fault = o->fault,
                .exception_index = o->exception_index,
                .path = (char *)o->path,
                .message = (char *)o->message,
        };
        (void)wire_put_reply(&c->out, &reply);
}

/* Queue the next list entries (up to OUTPUT_QUEUE bytes), and the closing reply
 * after the last. The table is in creation order, so the entries after list_after
 * are a suffix of it: links made meanwhile come last, links removed are not sent. */
struct scoped_entries {
        struct wire_buf *out;
        bool watch;
};

static void put_scoped_entry(void *ctx, const struct scoped_link *l, pid_t pid)
{
        const struct scoped_entries *to = ctx;
        struct wire_link entry = {
                .watch_said = to->watch,
                .watch = to->watch ? scope_links_layer_watch(l) : 0,
                .scope_id = l->scope_id,
                .scope_pid = (int32_t)pid,
                .order = l->order,
                .flags = l->flags,
                /* A view's server serves it, else a bind mount (scope_links.h), on an
                 * overlay's entry where V was missing or of another type. */
                .realization = l->server_pid && !l->parent_id ? BINDLINK_REALIZED_OVERLAY
                                                              : BINDLINK_REALIZED_BIND,
                .virtual_path = l->virtual_path,
                .backing_path = l->backing_path,
        };
        if (to->watch)
                (void)wire_put_link_want(to->out, &entry);
        else
                (void)wire_put_link_in(to->out, &entry);
}

static void fill_list(struct server *s, struct client *c)
{
        size_t count;
        struct link *const *links = link_manager_links(s->manager, &count);
        size_t lo = 0, hi = count;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (links[mid]->order <= c->list_after)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (c->list_in && !c->list_host)
                lo = count;
        for (size_t i = lo; i < count && c->out.len < OUTPUT_QUEUE; i++) {
                const struct link *l = links[i];
                struct wire_link entry = {
                        .order = l->order,
                        .flags = l->flags,
                        .realization = l->realization,
                        .virtual_path = l->virtual_path,
                        .backing_path = l->backing_path,
                        .exception_count = l->exception_count,
                        .exception_paths = l->exception_paths,
                        .watch_said = c->list_watch,
                        .watch = c->list_watch ? link_manager_layer_watch(s->manager, l) : 0,
                };
                if (c->list_watch)
                        (void)wire_put_link_want(&c->out, &entry);
                else if (c->list_in)
                        (void)wire_put_link_in(&c->out, &entry);
                else
                        (void)wire_put_link(&c->out, &entry);
                c->list_after = l->order;
                lo = i + 1;
        }
        if (lo >= count && c->list_in) {
                /* The scoped links (few), all at once. */
                struct scoped_entries to = {.out = &c->out, .watch = c->list_watch};
                scope_links_each(&s->scopes, c->list_all_scopes, c->list_scope, put_scoped_entry,
                                 &to);
                c->list_in = false;
        }
        if (lo >= count) {
                struct outcome o = {0};
                reply_outcome(c, &o);
                c->listing = false;
        }
}

/* Write what is queued (refilling a list); false if the client must be dropped. */
static bool flush_output(struct server *s, size_t slot)
{
        struct client *c = s->clients[slot];
        for (;;) {
                if (c->out.error)
                        return false;
                while (c->out_sent < c->out.len) {
                        ssize_t n = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent,
                                         MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (errno == EAGAIN) {
                                        arm_output(s, slot, true);
                                        return true;
                                }
                                return false;
                        }
                        c->out_sent += (size_t)n;
                }
                wire_buf_free(&c->out);
                c->out_sent = 0;
                if (!c->listing)
                        break;
                fill_list(s, c);
        }
        arm_output(s, slot, false);
        return true;
}

/* ---- requests ------------------------------------------------------------------- */

static void denied(struct outcome *o, const struct client *c)
{
        *o = (struct outcome){.status = -EPERM, .fault = BINDLINK_FAULT_CALLER};
        (void)snprintf(o->message, sizeof o->message,
                       "user %u (pid %d) is not an administrator: changing links needs "
                       "CAP_SYS_ADMIN or the group bindlinkd allows, and %s",
                       (unsigned)c->sender.uid, (int)c->sender.pid, c->caller.why_not);
}

static bool handle_create(struct server *s, struct client *c, struct outcome *o)
{
        if (!c->caller.may_change_links) {
                denied(o, c);
                return true;
        }
        struct wire_create msg;
        if (wire_get_create(c->payload, c->header.length, &msg) < 0)
                return false;
        /* One descriptor for every path the caller could open, in wire order. */
        size_t expected = (msg.parent_error == 0) + (msg.backing_error == 0);
        for (uint32_t i = 0; i < msg.exception_count; i++)
                expected += msg.exception_errors[i] == 0;
        if (expected != c->fd_count) {
                wire_create_free(&msg);
                return false;
        }
        int exception_fds[WIRE_MAX_FDS];
        size_t next = 0;
        struct create_request req = {
                .msg = &msg, .exception_fds = exception_fds, .creator = &c->caller.creds};
        req.parent_fd = msg.parent_error == 0 ? c->fds[next++] : -1;
        req.backing_fd = msg.backing_error == 0 ? c->fds[next++] : -1;
        for (uint32_t i = 0; i < msg.exception_count; i++)
                exception_fds[i] = msg.exception_errors[i] == 0 ? c->fds[next++] : -1;
        link_manager_create(s->manager, &req, o);
        wire_create_free(&msg);
        return true;
}

/* S23: the target's descriptor (a pidfd or namespace) is the message's first. */
static struct scope_request scope_request_of(const struct client *c,
                                             const struct wire_target *target)
{
        return (struct scope_request){.target = target,
                                      .target_fd = wire_target_fds(target) ? c->fds[0] : -1,
                                      .creator = &c->caller.creds,
                                      .admin = c->caller.admin};
}

static bool handle_create_in(struct server *s, struct client *c, struct outcome *o)
{
        if (!c->caller.may_change_links) { /* its payload was not even kept */
                denied(o, c);
                return true;
        }
        struct wire_target target;
        struct wire_create msg;
        if (wire_get_create_in(c->payload, c->header.length, &target, &msg) < 0)
                return false;
        /* The target's descriptor, then B's; V and the exceptions are resolved in the
         * target by the daemon, so they come without one. */
        bool well_formed = msg.parent_error == 0;
        for (uint32_t i = 0; i < msg.exception_count; i++)
                well_formed &= msg.exception_errors[i] == 0;
        size_t expected = wire_target_fds(&target) + (msg.backing_error == 0);
        if (!well_formed || expected != c->fd_count) {
                wire_target_free(&target);
                wire_create_free(&msg);
                return false;
        }
        {
                struct scope_request req = scope_request_of(c, &target);
                int backing_fd = msg.backing_error == 0 ? c->fds[wire_target_fds(&target)] : -1;
                scope_links_create(&s->scopes, &req, &msg, backing_fd, o);
        }
        wire_target_free(&target);
        wire_create_free(&msg);
        return true;
}

/* Several creates in one target, all or none (an OCI hook's links). Descriptors: the
 * target's, then B's of each create that has one, in order. */
static bool handle_create_many_in(struct server *s, struct client *c, struct outcome *o)
{
        if (!c->caller.may_change_links) { /* its payload was not even kept */
                denied(o, c);
                return true;
        }
        struct wire_target target;
        struct wire_create *msgs;
        uint32_t count;
        if (wire_get_create_many_in(c->payload, c->header.length, &target, &msgs, &count) < 0)
                return false;
        size_t expected = wire_target_fds(&target);
        bool well_formed = true;
        for (uint32_t i = 0; i < count; i++) {
                well_formed &= msgs[i].parent_error == 0;
                for (uint32_t j = 0; j < msgs[i].exception_count; j++)
                        well_formed &= msgs[i].exception_errors[j] == 0;
                expected += msgs[i].backing_error == 0;
        }
        bool ok = well_formed && expected == c->fd_count;
        int *backing_fds = ok ? calloc(count, sizeof *backing_fds) : NULL;
        if (ok && !backing_fds) {
                *o = (struct outcome){.status = -ENOMEM};
                (void)snprintf(o->message, sizeof o->message, "out of memory");
        } else if (ok) {
                size_t next = wire_target_fds(&target);
                for (uint32_t i = 0; i < count; i++)
                        backing_fds[i] = msgs[i].backing_error == 0 ? c->fds[next++] : -1;
                struct scope_request req = scope_request_of(c, &target);
                scope_links_create_many(&s->scopes, &req, msgs, count, backing_fds, o);
                free(backing_fds);
        }
        wire_target_free(&target);
        wire_create_many_free(msgs, count);
        return ok;
}

static bool handle_remove_in(struct server *s, struct client *c, struct outcome *o)
{
        if (!c->caller.may_change_links) {
                denied(o, c);
                return true;
        }
        struct wire_target target;
        struct wire_remove msg;
        if (wire_get_remove_in(c->payload, c->header.length, &target, &msg) < 0)
                return false;
        msg.tree = c->header.type == WIRE_REMOVE_TREE_IN;
        if (wire_target_fds(&target) != c->fd_count) {
                wire_target_free(&target);
                wire_remove_free(&msg);
                return false;
        }
        {
                struct scope_request req = scope_request_of(c, &target);
                scope_links_remove(&s->scopes, &req, msg.virtual_path, msg.tree, o);
        }
        wire_target_free(&target);
        wire_remove_free(&msg);
        return true;
}

/* A scoped list: false drops the client; *ret_reply: answer now (an error) instead of
 * listing. Other namespaces' links are shown to administrators only. */
static bool handle_list_in(struct client *c, struct outcome *o, bool *ret_reply)
{
        *ret_reply = true;
        if (!c->caller.admin) { /* (the payload of one who may change nothing is not kept) */
                *o = (struct outcome){.status = -EPERM, .fault = BINDLINK_FAULT_CALLER};
                (void)snprintf(o->message, sizeof o->message,
                               "the links of other mount namespaces are shown to "
                               "administrators (CAP_SYS_ADMIN) only");
                return true;
        }
        struct wire_target target;
        uint32_t want = 0;
        if ((c->header.type == WIRE_LIST_WANT_IN
                     ? wire_get_list_want_in(c->payload, c->header.length, &target, &want)
                     : wire_get_list_in(c->payload, c->header.length, &target)) < 0)
                return false;
        c->list_watch = want & WIRE_LIST_WANT_WATCH;
        bool ok = wire_target_fds(&target) == c->fd_count;
        if (ok) {
                c->list_all_scopes = target.kind == WIRE_TARGET_ALL;
                struct scope_request req = scope_request_of(c, &target);
                if (c->list_all_scopes || scope_links_resolve(&req, &c->list_scope, o) == 0) {
                        c->listing = true;
                        c->list_after = 0;
                        c->list_in = true;
                        c->list_host = c->list_all_scopes;
                        *ret_reply = false;
                }
        }
        wire_target_free(&target);
        return ok;
}

static bool handle_remove(struct server *s, struct client *c, struct outcome *o)
{
        if (!c->caller.may_change_links) {
                denied(o, c);
                return true;
        }
        struct wire_remove msg;
        if (wire_get_remove(c->payload, c->header.length, &msg) < 0)
                return false;
        msg.tree = c->header.type == WIRE_REMOVE_TREE;
        link_manager_remove(s->manager, msg.virtual_path, msg.tree, &c->caller.creds, o);
        wire_remove_free(&msg);
        return true;
}

/* What decides what a path shows: its steps, then the reply. Those who may change
 * links may ask: the path is a payload, and nothing beyond the header is kept or
 * parsed from anyone else. The layers of merged views are looked at with the
 * asker's rights. */
static bool handle_explain(struct server *s, struct client *c, struct outcome *o)
{
        if (!c->caller.may_change_links) { /* its payload was not even kept */
                *o = (struct outcome){.status = -EPERM, .fault = BINDLINK_FAULT_CALLER};
                (void)snprintf(o->message, sizeof o->message,
                               "user %u (pid %d) is not an administrator: explain needs "
                               "CAP_SYS_ADMIN or the group bindlinkd allows (list does not), "
                               "and %s",
                               (unsigned)c->sender.uid, (int)c->sender.pid, c->caller.why_not);
                return true;
        }
        struct wire_explain msg;
        if (c->fds_received != 0 || wire_get_explain(c->payload, c->header.length, &msg) < 0)
                return false;
        struct explain_step *steps;
        size_t count;
        int r = link_manager_explain(s->manager, msg.path, &c->caller.creds, &steps, &count, o);
        if (r == 0) {
                for (size_t i = 0; i < count; i++) {
                        const struct link *l = steps[i].link;
                        struct wire_step w = {
                                .kind = (uint32_t)steps[i].kind,
                                .path = steps[i].path,
                                .order = l ? l->order : 0,
                                .flags = l ? l->flags : 0,
                                .virtual_path = l ? l->virtual_path : NULL,
                                .backing_path = l ? l->backing_path : NULL,
                                .detail = steps[i].detail,
                        };
                        (void)wire_put_step(&c->out, &w);
                }
                explain_steps_free(steps, count);
        }
        wire_explain_free(&msg);
        return true;
}

/* A whole message is in: answer it. False drops the client. */
static bool dispatch(struct server *s, size_t slot)
{
        struct client *c = s->clients[slot];
        struct outcome *o = calloc(1, sizeof *o);
        if (!o)
                return false;
        bool ok, reply = true;
        switch (c->header.type) {
        case WIRE_CREATE:
                ok = handle_create(s, c, o);
                break;
        case WIRE_REMOVE:
        case WIRE_REMOVE_TREE:
                ok = handle_remove(s, c, o);
                break;
        case WIRE_CREATE_IN:
                ok = handle_create_in(s, c, o);
                break;
        case WIRE_REMOVE_IN:
        case WIRE_REMOVE_TREE_IN:
                ok = handle_remove_in(s, c, o);
                break;
        case WIRE_CREATE_MANY_IN:
                ok = handle_create_many_in(s, c, o);
                break;
        case WIRE_LIST_IN:
        case WIRE_LIST_WANT_IN:
                ok = handle_list_in(c, o, &reply);
                break;
        case WIRE_EXPLAIN:
                ok = handle_explain(s, c, o);
                break;
        case WIRE_LIST:
        case WIRE_LIST_WANT: {
                uint32_t want = 0;
                ok = (c->header.type == WIRE_LIST
                              ? c->header.length == 0
                              : wire_get_list_want(c->payload, c->header.length, &want) == 0) &&
                     c->fds_received == 0;
                c->list_watch = want & WIRE_LIST_WANT_WATCH;
                c->listing = ok;
                c->list_after = 0;
                reply = false; /* after the entries (fill_list) */
                break;
        }
        default:
                ok = false; /* replies are not requests */
                break;
        }
        if (ok && reply)
                reply_outcome(c, o);
        if (ok && c->listing)
                fill_list(s, c);
        free(o);
        message_reset(s, c);
        c->deadline = now() + (c->connected.uid == 0 ? IDLE_SEC : USER_IDLE_SEC);
        if (!ok)
                return false;
        return flush_output(s, slot);
}

/* The control messages of one recvmsg: the sender's credentials and pidfd, and
 * descriptors. The first piece of a message names its sender and decides what is
 * kept; every later piece must come from the same sender. False drops the client,
 * with *ret_why. */
static bool take_control(struct server *s, struct client *c, struct msghdr *msg,
                         const char **ret_why)
{
        struct ucred cred = {.pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1};
        bool have_cred = false;
        int pidfd = -1;
        int *fds = NULL;
        size_t fd_n = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
                if (cm->cmsg_level != SOL_SOCKET)
                        continue;
                size_t data = cm->cmsg_len - CMSG_LEN(0);
                if (cm->cmsg_type == SCM_CREDENTIALS && data == sizeof cred) {
                        memcpy(&cred, CMSG_DATA(cm), sizeof cred);
                        have_cred = true;
                } else if (cm->cmsg_type == SCM_PIDFD && data == sizeof(int)) {
                        memcpy(&pidfd, CMSG_DATA(cm), sizeof(int));
                } else if (cm->cmsg_type == SCM_RIGHTS) {
                        fds = (int *)CMSG_DATA(cm);
                        fd_n = data / sizeof(int);
                }
        }
        _cleanup_close_ int sender_pidfd = pidfd; /* negative: the kernel could not make one */
        bool ok = true;
        if (!c->started) {
                c->started = true;
                c->sender = cred;
                int r = peer_identify_sender(have_cred ? cred.pid : 0, cred.uid, cred.gid,
                                             sender_pidfd, s->allowed_group, &c->caller);
                if (r < 0) {
                        *ret_why = "out of memory";
                        ok = false;
                }
        } else if (!have_cred || cred.pid != c->sender.pid || cred.uid != c->sender.uid ||
                   cred.gid != c->sender.gid) {
                *ret_why = "a message came from more than one sender";
                ok = false;
        }
        for (size_t i = 0; i < fd_n; i++) {
                /* Nothing is kept for a sender who may change nothing. */
                if (!ok || !c->caller.may_change_links) {
                        (void)close(fds[i]);
                } else if (c->fd_count == WIRE_MAX_FDS || s->fds_held >= s->fd_budget) {
                        (void)close(fds[i]);
                        *ret_why = "too many descriptors";
                        ok = false;
                } else {
                        c->fds[c->fd_count++] = fds[i];
                        s->fds_held++;
                }
                c->fds_received++;
        }
        if (ok && (msg->msg_flags & MSG_CTRUNC)) {
                *ret_why = "descriptors were lost (too many in one message)";
                ok = false;
        }
        return ok;
}

/* Read what is available (at most READ_TURN bytes); returns false if the client
 * must be dropped, with *ret_why saying why when it broke the protocol (NULL when it
 * just left). */
static bool read_input(struct server *s, size_t slot, const char **ret_why)
{
        *ret_why = NULL;
        struct client *c = s->clients[slot];
        union {
                char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int)) +
                         CMSG_SPACE(FDS_PER_RECEIVE * sizeof(int))];
                struct cmsghdr align;
        } control;
        uint8_t dropped[16384]; /* where a payload that is not kept goes */
        size_t turn = 0;
        while (turn < READ_TURN) {
                if (c->out.len > 0 || c->listing)
                        return true; /* answer first, then read the next request */
                uint8_t *dst;
                size_t want;
                if (c->header_got < WIRE_HEADER_SIZE) {
                        dst = c->header_bytes + c->header_got;
                        want = WIRE_HEADER_SIZE - c->header_got;
                } else if (c->payload) {
                        dst = c->payload + c->payload_got;
                        want = c->header.length - c->payload_got;
                } else {
                        dst = dropped;
                        want = c->header.length - c->payload_got;
                        if (want > sizeof dropped)
                                want = sizeof dropped;
                }
                struct iovec iov = {.iov_base = dst, .iov_len = want};
                struct msghdr msg = {.msg_iov = &iov,
                                     .msg_iovlen = 1,
                                     .msg_control = control.buf,
                                     .msg_controllen = sizeof control.buf};
                ssize_t n = want ? recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) : 0;
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR;
                if (want && n == 0)
                        return false; /* closed (mid-message or between messages) */
                turn += (size_t)n;
                if (want && !take_control(s, c, &msg, ret_why))
                        return false;
                if (c->header_got < WIRE_HEADER_SIZE) {
                        if (c->header_got == 0)
                                c->deadline = now() + MESSAGE_SEC;
                        c->header_got += (size_t)n;
                        if (c->header_got < WIRE_HEADER_SIZE)
                                continue;
                        if (wire_parse_header(c->header_bytes, WIRE_HEADER_SIZE, &c->header) < 0) {
                                *ret_why = "malformed message header";
                                return false;
                        }
                        /* Memory only for a request that will be served. */
                        if (c->caller.may_change_links && c->header.length > 0) {
                                c->payload = malloc(c->header.length);
                                if (!c->payload)
                                        return false;
                        }
                        c->payload_got = 0;
                } else {
                        c->payload_got += (size_t)n;
                }
                if (c->payload_got < c->header.length)
                        continue;
                if (c->caller.may_change_links && c->fds_received != c->header.fd_count) {
                        *ret_why = "descriptors do not match the message";
                        return false;
                }
                if (!dispatch(s, slot)) {
                        *ret_why = "malformed request";
                        return false;
                }
        }
        return true;
}

static void sweep_idle(struct server *s)
{
        time_t t = now();
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                if (s->clients[i] && s->clients[i]->deadline < t)
                        client_drop(s, i,
                                    s->clients[i]->header_got > 0
                                            ? "a message took too long"
                                            : NULL /* idle: nothing to report */);
        if (s->refused > 0) {
                log_warning("refused %lu connection(s): too many from one user, or all %d "
                            "slots taken",
                            s->refused, MAX_CLIENTS);
                s->refused = 0;
        }
        if (s->drops_unlogged > 0)
                log_warning("dropped %lu more client(s) that broke the protocol",
                            s->drops_unlogged);
        s->drops_logged = 0;
        s->drops_unlogged = 0;
}

/* ---- the loop ------------------------------------------------------------------- */

#define TAG_PIDFD (1ull << 62) /* | the pidfd of an overlay process */
#define TAG_LISTEN (UINT64_MAX - 0)
#define TAG_SIGNAL (UINT64_MAX - 1)
#define TAG_TIMER (UINT64_MAX - 2)
#define TAG_BACKING (UINT64_MAX - 3)
#define TAG_MOUNTS (UINT64_MAX - 4)
#define TAG_SCOPE_MOUNTS (UINT64_MAX - 5)

static int add_watch(int epoll_fd, int fd, uint64_t tag)
{
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
        return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? negative_errno() : 0;
}

static void watch_process(void *ctx, int pidfd)
{
        struct server *s = ctx;
        int r = add_watch(s->epoll_fd, pidfd, TAG_PIDFD | (uint64_t)pidfd);
        if (r < 0)
                log_error_errno(r, "cannot watch an overlay process");
}

/* Descriptors held for messages being read: a quarter of the limit at most. */
static size_t fd_budget(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return 4096;
        return rl.rlim_cur / 4 > WIRE_MAX_FDS ? rl.rlim_cur / 4 : WIRE_MAX_FDS;
}

static void serve_client(struct server *s, size_t slot, uint32_t events)
{
        bool ok = true;
        const char *why = NULL;
        if (events & EPOLLOUT)
                ok = flush_output(s, slot);
        if (ok && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
                ok = read_input(s, slot, &why);
        if (!ok)
                client_drop(s, slot, why);
}

int server_run(int listen_fd, struct link_manager *manager, const char *state_dir,
               gid_t allowed_group, const struct server_reload *reload)
{
        struct server s = {.listen_fd = listen_fd,
                           .manager = manager,
                           .allowed_group = allowed_group,
                           .fd_budget = fd_budget()};
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        _cleanup_close_ int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        _cleanup_close_ int signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        _cleanup_close_ int timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (epoll_fd < 0 || signal_fd < 0 || timer_fd < 0)
                return negative_errno();
        struct itimerspec every_second = {.it_interval = {1, 0}, .it_value = {1, 0}};
        if (timerfd_settime(timer_fd, 0, &every_second, NULL) < 0)
                return negative_errno();
        s.epoll_fd = epoll_fd;
        int r;
        if ((r = add_watch(epoll_fd, signal_fd, TAG_SIGNAL)) < 0 ||
            (r = add_watch(epoll_fd, timer_fd, TAG_TIMER)) < 0)
                return r;
        set_accepting(&s, true);
        if (!s.accepting)
                return negative_errno();
        /* Overlay processes end by surprise (a crash: replace it) or when we retired
         * them (reap them). */
        link_manager_watch(manager, watch_process, &s);
        /* A scope's process ends: another of it is looked for, or its links go. */
        scope_links_init(&s.scopes, watch_process, &s);
        r = scope_links_start(&s.scopes, state_dir);
        if (r < 0)
                return r;
        /* A scoped link's mount taken away in its namespace (S23). */
        int scope_mounts = scope_links_mounts_fd(&s.scopes);
        if (scope_mounts >= 0 && (r = add_watch(epoll_fd, scope_mounts, TAG_SCOPE_MOUNTS)) < 0)
                return r;
        int backing_fd = link_manager_backing_fd(manager);
        if (backing_fd >= 0 && (r = add_watch(epoll_fd, backing_fd, TAG_BACKING)) < 0)
                return r;
        /* The mount table changed (a backing filesystem unmounted: inotify does not
         * say so). Checked on the next tick, so a burst of our own mounts costs one
         * check a second. */
        bool mounts_changed = false;
        struct mount_watch mounts;
        r = mount_watch_init(&mounts);
        if (r >= 0 && (r = add_watch(epoll_fd, mounts.fd, TAG_MOUNTS)) < 0)
                mount_watch_done(&mounts);
        if (r < 0)
                log_warning_errno(r, "cannot watch the mount table (a backing filesystem "
                                     "that is unmounted will not be noticed)");

        while (!s.stopping) {
                struct epoll_event events[64];
                int n = epoll_wait(epoll_fd, events, 64, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        mount_watch_done(&mounts);
                        return r;
                }
                bool accept_now = false;
                /* Clients first: a closed connection frees its slot before new ones
                 * are let in, and no slot is reused within one batch of events. */
                for (int i = 0; i < n; i++) {
                        uint64_t tag = events[i].data.u64;
                        if (tag < MAX_CLIENTS && s.clients[tag])
                                serve_client(&s, tag, events[i].events);
                }
                for (int i = 0; i < n; i++) {
                        uint64_t tag = events[i].data.u64;
                        if (tag < MAX_CLIENTS) {
                                continue;
                        } else if (tag == TAG_LISTEN) {
                                accept_now = true;
                        } else if (tag == TAG_SIGNAL) {
                                struct signalfd_siginfo si;
                                if (read(signal_fd, &si, sizeof si) != sizeof si)
                                        continue;
                                if (si.ssi_signo == SIGHUP) {
                                        if (reload)
                                                reload->run(reload->ctx);
                                } else {
                                        log_info("signal %u: stopping; links stay in place",
                                                 si.ssi_signo);
                                        s.stopping = true;
                                }
                        } else if (tag == TAG_TIMER) {
                                uint64_t ticks;
                                (void)!read(timer_fd, &ticks, sizeof ticks);
                                sweep_idle(&s);
                                link_manager_tick(manager);
                                if (mounts_changed) {
                                        mounts_changed = false;
                                        link_manager_mounts_changed(manager);
                                }
                        } else if (tag == TAG_MOUNTS) {
                                mounts_changed |= mount_watch_read(&mounts);
                        } else if (tag == TAG_BACKING) {
                                link_manager_backing_changed(manager);
                        } else if (tag == TAG_SCOPE_MOUNTS) {
                                scope_links_mounts_changed(&s.scopes);
                        } else if ((tag & TAG_PIDFD) && tag < TAG_SCOPE_MOUNTS) {
                                int pidfd = (int)(tag & ~TAG_PIDFD);
                                (void)epoll_ctl(epoll_fd, EPOLL_CTL_DEL, pidfd, NULL);
                                if (!scope_links_process_ended(&s.scopes, pidfd))
                                        link_manager_process_ended(manager, pidfd);
                        }
                }
                if (!s.accepting && s.client_count < MAX_CLIENTS)
                        set_accepting(&s, true);
                else if (accept_now)
                        accept_clients(&s);
        }
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                if (s.clients[i])
                        client_drop(&s, i, NULL);
        mount_watch_done(&mounts);
        scope_links_done(&s.scopes);
        return 0;
}
