/* server.c — the epoll loop: framing, descriptor passing, dispatch, limits.
 *
 * A client that sends garbage (bad magic, unknown type, a length that lies, the
 * wrong number of descriptors) is dropped; one that sends nothing for
 * CLIENT_IDLE_SEC is dropped; neither ever blocks another client. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "peer_auth.h"
#include "util.h"

#define MAX_CLIENTS 512
/* A message must arrive whole within MESSAGE_SEC; a connection may wait IDLE_SEC
 * between requests (bindlink_connection reconnects after that). */
#define MESSAGE_SEC 10
#define IDLE_SEC 30

struct client {
        int fd;
        struct peer peer;
        uint8_t header_bytes[WIRE_HEADER_SIZE];
        size_t header_got;
        struct wire_header header;
        uint8_t *payload;
        size_t payload_got;
        int fds[WIRE_MAX_FDS];
        size_t fd_count;
        struct wire_buf out;
        size_t out_sent;
        bool waiting_to_write; /* EPOLLOUT is armed */
        time_t deadline;
};

struct server {
        int epoll_fd;
        int listen_fd;
        int signal_fd;
        int timer_fd;
        struct link_manager *manager;
        gid_t allowed_group;
        struct client *clients[MAX_CLIENTS];
        bool stopping;
};

static time_t now(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec;
}

int server_listen(const char *path)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof addr.sun_path)
                return -ENAMETOOLONG;
        memcpy(addr.sun_path, path, strlen(path) + 1);
        _cleanup_close_ int fd =
                socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
                if (errno != EADDRINUSE)
                        return negative_errno();
                /* Replace a socket file nobody listens on any more. */
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe < 0)
                        return negative_errno();
                if (connect(probe, (struct sockaddr *)&addr, sizeof addr) == 0)
                        return -EADDRINUSE;
                if (unlink(path) < 0 ||
                    bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
                        return negative_errno();
        }
        if (chmod(path, 0666) < 0 || listen(fd, 128) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

static void client_close_fds(struct client *c)
{
        for (size_t i = 0; i < c->fd_count; i++)
                (void)close(c->fds[i]);
        c->fd_count = 0;
}

static void client_drop(struct server *s, size_t slot, const char *why)
{
        struct client *c = s->clients[slot];
        if (why)
                log_warning("dropping client pid %d: %s", (int)c->peer.pid, why);
        (void)epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        (void)close(c->fd);
        client_close_fds(c);
        free(c->payload);
        wire_buf_free(&c->out);
        free(c);
        s->clients[slot] = NULL;
}

static bool read_input(struct server *s, size_t slot, const char **ret_why);

static void accept_clients(struct server *s)
{
        for (;;) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                log_error("accept: %s", strerror(errno));
                        return;
                }
                size_t slot = 0;
                while (slot < MAX_CLIENTS && s->clients[slot])
                        slot++;
                struct client *c = slot < MAX_CLIENTS ? calloc(1, sizeof *c) : NULL;
                if (!c) {
                        log_warning("too many clients; refusing one");
                        (void)close(fd);
                        continue;
                }
                c->fd = fd;
                c->deadline = now() + MESSAGE_SEC;
                if (peer_identify(fd, s->allowed_group, &c->peer) < 0) {
                        (void)close(fd);
                        free(c);
                        continue;
                }
                struct epoll_event ev = {.events = EPOLLIN, .data.u64 = slot};
                if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        (void)close(fd);
                        free(c);
                        continue;
                }
                s->clients[slot] = c;
                /* The request is usually there already: serve it without another
                 * trip through epoll. */
                const char *why;
                if (!read_input(s, slot, &why))
                        client_drop(s, slot, why);
        }
}

/* Write what is queued; returns false if the client must be dropped. */
static bool flush_output(struct server *s, size_t slot)
{
        struct client *c = s->clients[slot];
        while (c->out_sent < c->out.len) {
                ssize_t n = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent,
                                 MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                if (!c->waiting_to_write) {
                                        struct epoll_event ev = {.events = EPOLLOUT,
                                                                 .data.u64 = slot};
                                        (void)epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
                                        c->waiting_to_write = true;
                                }
                                return true;
                        }
                        return false;
                }
                c->out_sent += (size_t)n;
        }
        wire_buf_free(&c->out);
        c->out_sent = 0;
        if (c->waiting_to_write) {
                struct epoll_event ev = {.events = EPOLLIN, .data.u64 = slot};
                (void)epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
                c->waiting_to_write = false;
        }
        return true;
}

static void reply_outcome(struct client *c, const struct outcome *o)
{
        struct wire_reply reply = {
                .status = o->status, .fault = o->fault, .exception_index = o->exception_index,
                .path = (char *)o->path, .message = (char *)o->message,
        };
        (void)wire_put_reply(&c->out, &reply);
}

static struct outcome *denied(struct outcome *o, const struct client *c)
{
        *o = (struct outcome){.status = -EPERM, .fault = BINDLINK_FAULT_CALLER};
        (void)snprintf(o->message, sizeof o->message,
                       "user %u (pid %d) is not an administrator: changing links needs root, "
                       "CAP_SYS_ADMIN or the group bindlinkd allows",
                       (unsigned)c->peer.uid, (int)c->peer.pid);
        return o;
}

static bool handle_create(struct server *s, struct client *c, struct outcome *o)
{
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
        struct create_request req = {.msg = &msg, .exception_fds = exception_fds,
                                     .trusted = c->peer.uid == 0};
        req.parent_fd = msg.parent_error == 0 ? c->fds[next++] : -1;
        req.backing_fd = msg.backing_error == 0 ? c->fds[next++] : -1;
        for (uint32_t i = 0; i < msg.exception_count; i++)
                exception_fds[i] = msg.exception_errors[i] == 0 ? c->fds[next++] : -1;
        if (!c->peer.may_change_links)
                denied(o, c);
        else
                link_manager_create(s->manager, &req, o);
        wire_create_free(&msg);
        return true;
}

static bool handle_remove(struct server *s, struct client *c, struct outcome *o)
{
        struct wire_remove msg;
        if (wire_get_remove(c->payload, c->header.length, &msg) < 0)
                return false;
        if (!c->peer.may_change_links)
                denied(o, c);
        else
                link_manager_remove(s->manager, msg.virtual_path, o);
        wire_remove_free(&msg);
        return true;
}

static bool handle_list(struct server *s, struct client *c, struct outcome *o)
{
        if (c->header.length != 0)
                return false;
        const struct link_table *t = &s->manager->table;
        for (size_t i = 0; i < t->count; i++) {
                const struct link *l = t->links[i];
                struct wire_link entry = {
                        .order = l->order, .flags = l->flags, .realization = l->realization,
                        .virtual_path = l->virtual_path, .backing_path = l->backing_path,
                        .exception_count = l->exception_count,
                        .exception_paths = l->exception_paths,
                };
                (void)wire_put_link(&c->out, &entry);
        }
        *o = (struct outcome){0};
        return true;
}

/* A whole message is in: answer it. False drops the client. */
static bool dispatch(struct server *s, size_t slot)
{
        struct client *c = s->clients[slot];
        struct outcome *o = calloc(1, sizeof *o);
        if (!o)
                return false;
        bool ok;
        switch (c->header.type) {
        case WIRE_CREATE:
                ok = handle_create(s, c, o);
                break;
        case WIRE_REMOVE:
                ok = handle_remove(s, c, o);
                break;
        case WIRE_LIST:
                ok = handle_list(s, c, o);
                break;
        default:
                ok = false; /* replies are not requests */
                break;
        }
        if (ok)
                reply_outcome(c, o);
        free(o);
        client_close_fds(c);
        free(c->payload);
        c->payload = NULL;
        c->header_got = c->payload_got = 0;
        c->deadline = now() + IDLE_SEC;
        if (!ok)
                return false;
        if (c->out.error)
                return false;
        return flush_output(s, slot);
}

static bool take_fds(struct client *c, struct msghdr *msg)
{
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *fds = (int *)CMSG_DATA(cm);
                for (size_t i = 0; i < n; i++) {
                        if (c->fd_count == WIRE_MAX_FDS) {
                                (void)close(fds[i]);
                                return false;
                        }
                        c->fds[c->fd_count++] = fds[i];
                }
        }
        return !(msg->msg_flags & MSG_CTRUNC);
}

/* Read what is available; returns false if the client must be dropped, with
 * *ret_why saying why when it broke the protocol (NULL when it just left). */
static bool read_input(struct server *s, size_t slot, const char **ret_why)
{
        *ret_why = NULL;
        struct client *c = s->clients[slot];
        union {
                char buf[CMSG_SPACE(WIRE_MAX_FDS * sizeof(int))];
                struct cmsghdr align;
        } control;
        for (;;) {
                if (c->out.len > 0)
                        return true; /* answer first, then read the next request */
                uint8_t *dst;
                size_t want;
                if (c->header_got < WIRE_HEADER_SIZE) {
                        dst = c->header_bytes + c->header_got;
                        want = WIRE_HEADER_SIZE - c->header_got;
                } else {
                        dst = c->payload + c->payload_got;
                        want = c->header.length - c->payload_got;
                }
                struct iovec iov = {.iov_base = dst, .iov_len = want};
                struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                                     .msg_control = control.buf,
                                     .msg_controllen = sizeof control.buf};
                ssize_t n = want ? recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) : 0;
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR;
                if (want && n == 0)
                        return false; /* closed (mid-message or between messages) */
                if (!take_fds(c, &msg)) {
                        *ret_why = "too many descriptors";
                        return false;
                }
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
                        c->payload = malloc(c->header.length ? c->header.length : 1);
                        if (!c->payload)
                                return false;
                        c->payload_got = 0;
                } else {
                        c->payload_got += (size_t)n;
                }
                if (c->payload_got < c->header.length)
                        continue;
                if (c->fd_count != c->header.fd_count) {
                        *ret_why = "descriptors do not match the message";
                        return false;
                }
                if (!dispatch(s, slot)) {
                        *ret_why = "malformed request";
                        return false;
                }
        }
}

static void sweep_idle(struct server *s)
{
        time_t t = now();
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                if (s->clients[i] && s->clients[i]->deadline < t)
                        client_drop(s, i, "idle for too long");
}

#define TAG_PIDFD (1ull << 62) /* | the pidfd of an overlay process */
#define TAG_LISTEN (UINT64_MAX - 0)
#define TAG_SIGNAL (UINT64_MAX - 1)
#define TAG_TIMER (UINT64_MAX - 2)
#define TAG_BACKING (UINT64_MAX - 3)
#define TAG_MOUNTS (UINT64_MAX - 4)

static int add_watch(int epoll_fd, int fd, uint64_t tag)
{
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
        return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? negative_errno() : 0;
}

static void watch_process(void *ctx, int pidfd)
{
        struct server *s = ctx;
        if (add_watch(s->epoll_fd, pidfd, TAG_PIDFD | (uint64_t)pidfd) < 0)
                log_error("cannot watch an overlay process: %s", strerror(errno));
}

int server_run(int listen_fd, struct link_manager *manager, gid_t allowed_group)
{
        struct server s = {.listen_fd = listen_fd, .manager = manager,
                           .allowed_group = allowed_group, .signal_fd = -1, .timer_fd = -1};
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        _cleanup_close_ int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        _cleanup_close_ int signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        _cleanup_close_ int timer_fd =
                timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (epoll_fd < 0 || signal_fd < 0 || timer_fd < 0)
                return negative_errno();
        struct itimerspec every_second = {.it_interval = {1, 0}, .it_value = {1, 0}};
        if (timerfd_settime(timer_fd, 0, &every_second, NULL) < 0)
                return negative_errno();
        s.epoll_fd = epoll_fd;
        int r;
        if ((r = add_watch(epoll_fd, listen_fd, TAG_LISTEN)) < 0 ||
            (r = add_watch(epoll_fd, signal_fd, TAG_SIGNAL)) < 0 ||
            (r = add_watch(epoll_fd, timer_fd, TAG_TIMER)) < 0)
                return r;
        /* Overlay processes end by surprise (a crash: replace it) or when we retired
         * them (reap them). */
        link_manager_watch(manager, watch_process, &s);
        int backing_fd = link_manager_backing_fd(manager);
        if (backing_fd >= 0 && (r = add_watch(epoll_fd, backing_fd, TAG_BACKING)) < 0)
                return r;
        /* The mount table changed (a backing filesystem unmounted: inotify does not
         * say so). Checked on the next tick, so a burst of our own mounts costs one
         * check a second. */
        bool mounts_changed = false;
        _cleanup_close_ int mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        struct epoll_event mounts_ev = {.events = EPOLLPRI, .data.u64 = TAG_MOUNTS};
        if (mounts_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, mounts_fd, &mounts_ev) < 0)
                log_warning("cannot watch the mount table: a backing filesystem that is "
                            "unmounted will not be noticed (%s)", strerror(errno));

        while (!s.stopping) {
                struct epoll_event events[64];
                int n = epoll_wait(epoll_fd, events, 64, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                for (int i = 0; i < n; i++) {
                        uint64_t tag = events[i].data.u64;
                        if (tag == TAG_LISTEN) {
                                accept_clients(&s);
                        } else if (tag == TAG_SIGNAL) {
                                struct signalfd_siginfo si;
                                if (read(signal_fd, &si, sizeof si) == sizeof si) {
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
                                mounts_changed = true;
                        } else if (tag == TAG_BACKING) {
                                link_manager_backing_changed(manager);
                        } else if ((tag & TAG_PIDFD) && tag < TAG_MOUNTS) {
                                int pidfd = (int)(tag & ~TAG_PIDFD);
                                (void)epoll_ctl(epoll_fd, EPOLL_CTL_DEL, pidfd, NULL);
                                link_manager_process_ended(manager, pidfd);
                        } else if (tag < MAX_CLIENTS && s.clients[tag]) {
                                bool ok = true;
                                const char *why = NULL;
                                if (events[i].events & EPOLLOUT)
                                        ok = flush_output(&s, tag);
                                if (ok && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                                        ok = read_input(&s, tag, &why);
                                if (!ok)
                                        client_drop(&s, tag, why);
                        }
                }
        }
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                if (s.clients[i])
                        client_drop(&s, i, NULL);
        return 0;
}
