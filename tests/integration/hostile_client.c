/* hostile_client.c — what an attacker's program does to bindlinkd's socket, for
 * hostile.sh: raw requests the library would never send, a connection carried across
 * the exec of a setuid program, floods of big messages, descriptors and idle
 * connections, a message written by two processes. Speaks the wire format through
 * common/ and lib/ (wire.c, client.c, request.c), nothing else.
 *
 * Usage (the socket is $BINDLINK_SOCKET):
 *   hostile_client raw-create V B [E...]      create with V, B, E sent as given (and,
 *                                             with $HOSTILE_BACKING_NAMED, that as B's
 *                                             name through a symlink)
 *   hostile_client raw-remove V               remove with V sent as given
 *   hostile_client fork-exec PROGRAM V B      connect, fork; the parent execs PROGRAM (a
 *                                             setuid one); the child, once the parent
 *                                             runs it, creates V -> B on the connection
 *   hostile_client send-exec PROGRAM V B      create V -> B, then exec PROGRAM at once
 *   hostile_client two-senders V B            a create whose header one process writes
 *                                             and whose payload another does
 *   hostile_client flood-big N                N connections, each a 2 MiB message but
 *                                             for its last byte (so it stays unfinished)
 *   hostile_client flood-fds N                N connections, each 253 descriptors with
 *                                             the first byte of a message, then silence
 *   hostile_client idle N                     N connections that send nothing
 * The flood commands print "ready" once every connection is made (or refused) and
 * then wait to be killed. A request's outcome is printed as "status=N message".
 * Exit: 0 as described, 1 on a usage or setup error, 3 when a request the attacker
 * should not get through succeeded. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "request.h"
#include "util.h"
#include "wire.h"

static int fail(const char *what)
{
        fprintf(stderr, "hostile_client: %s: %s\n", what, strerror(errno));
        return 1;
}

static int connect_socket(void)
{
        int s = client_connect(client_socket_path());
        if (s < 0)
                errno = -s;
        return s;
}

/* Read the reply to a request (list entries skipped): its status, printed. */
static int read_reply(int sock)
{
        for (;;) {
                struct wire_header h;
                uint8_t *payload = NULL;
                int r = client_receive(sock, &h, &payload);
                if (r < 0) {
                        printf("status=%d no reply (%s)\n", r, strerror(-r));
                        return r;
                }
                if (h.type != WIRE_REPLY) {
                        free(payload);
                        continue;
                }
                struct wire_reply reply;
                r = wire_get_reply(payload, h.length, &reply);
                free(payload);
                if (r < 0) {
                        printf("status=%d malformed reply\n", r);
                        return r;
                }
                printf("status=%d %s\n", reply.status, reply.message ? reply.message : "");
                fflush(stdout);
                r = reply.status;
                wire_reply_free(&reply);
                return r;
        }
}

/* A create exactly as given: descriptors opened here for V's lexical parent, B and
 * each E, the strings sent unchanged. */
static int raw_create(int argc, char **argv)
{
        if (argc < 2)
                return 1;
        const char *v = argv[0];
        char parent[4096];
        const char *slash = strrchr(v, '/');
        if (!slash)
                snprintf(parent, sizeof parent, ".");
        else
                snprintf(parent, sizeof parent, "%.*s", (int)(slash - v + (slash == v)), v);
        struct wire_create msg = {.virtual_path = (char *)v, .backing_path = argv[1],
                                  .exception_count = (uint32_t)(argc - 2),
                                  .exception_paths = argv + 2};
        int32_t errors[256] = {0};
        msg.exception_errors = errors;
        msg.backing_named = getenv("HOSTILE_BACKING_NAMED");
        int fds[258];
        size_t n = 0;
        fds[n] = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fds[n] < 0)
                return fail(parent);
        n++;
        fds[n] = open(argv[1], O_PATH | O_CLOEXEC);
        if (fds[n] < 0)
                return fail(argv[1]);
        n++;
        for (int i = 2; i < argc && n < 258; i++) {
                fds[n] = open(argv[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fds[n] < 0)
                        return fail(argv[i]);
                n++;
        }
        struct wire_buf buf = {0};
        if (wire_put_create(&buf, &msg, (uint32_t)n) < 0)
                return fail("encode");
        int sock = connect_socket();
        if (sock < 0)
                return fail("connect");
        int r = client_send(sock, &buf, fds, n);
        wire_buf_free(&buf);
        if (r < 0) {
                errno = -r;
                return fail("send");
        }
        return read_reply(sock) == 0 ? 3 : 0;
}

static int raw_remove(const char *v)
{
        struct wire_remove msg = {.virtual_path = (char *)v};
        struct wire_buf buf = {0};
        if (wire_put_remove(&buf, &msg) < 0)
                return fail("encode");
        int sock = connect_socket();
        if (sock < 0)
                return fail("connect");
        if (client_send(sock, &buf, NULL, 0) < 0)
                return fail("send");
        wire_buf_free(&buf);
        return read_reply(sock) == 0 ? 3 : 0;
}

/* The create the library would send for v -> b, ready to go. */
static int prepare(const char *v, const char *b, struct wire_buf *ret_buf,
                   struct caller_fds *ret_fds)
{
        struct wire_create msg;
        bindlink_error e;
        int r = request_prepare_create(v, b, 0, 0, NULL, &msg, ret_fds, &e);
        if (r < 0) {
                fprintf(stderr, "hostile_client: %s\n", e.message);
                return r;
        }
        *ret_buf = (struct wire_buf){0};
        r = wire_put_create(ret_buf, &msg, (uint32_t)ret_fds->count);
        wire_create_free(&msg);
        return r;
}

/* Has process pid become (effective) root, i.e. exec'd the setuid program? */
static bool runs_as_root(pid_t pid)
{
        char path[64], text[4096];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, text, sizeof text - 1);
        close(fd);
        if (n <= 0)
                return false;
        text[n] = '\0';
        unsigned ruid, euid;
        const char *u = strstr(text, "\nUid:");
        return u && sscanf(u + 5, "%u %u", &ruid, &euid) == 2 && euid == 0;
}

static void pause_ms(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int fork_exec(const char *program, const char *v, const char *b)
{
        struct wire_buf buf;
        struct caller_fds fds;
        if (prepare(v, b, &buf, &fds) < 0)
                return 1;
        int sock = connect_socket();
        if (sock < 0)
                return fail("connect");
        pid_t parent = getpid();
        pid_t child = fork();
        if (child < 0)
                return fail("fork");
        if (child > 0) {
                /* The process that connected becomes the setuid program (sleep 2,
                 * which outlives the child's request). */
                execl(program, program, "2", (char *)NULL);
                return fail(program);
        }
        for (int i = 0; i < 200 && !runs_as_root(parent); i++)
                pause_ms(10);
        if (!runs_as_root(parent)) {
                fprintf(stderr, "hostile_client: %s never ran as root\n", program);
                _exit(1);
        }
        int r = client_send(sock, &buf, fds.fds, fds.count);
        wire_buf_free(&buf);
        caller_fds_close(&fds);
        if (r < 0)
                _exit(fail("send"));
        _exit(read_reply(sock) == 0 ? 3 : 0);
}

static int send_exec(const char *program, const char *v, const char *b)
{
        struct wire_buf buf;
        struct caller_fds fds;
        if (prepare(v, b, &buf, &fds) < 0)
                return 1;
        int sock = connect_socket();
        if (sock < 0)
                return fail("connect");
        int r = client_send(sock, &buf, fds.fds, fds.count);
        wire_buf_free(&buf);
        caller_fds_close(&fds);
        if (r < 0)
                return fail("send");
        /* The connection stays open across exec: the setuid program holds it. */
        int flags = fcntl(sock, F_GETFD);
        (void)fcntl(sock, F_SETFD, flags & ~FD_CLOEXEC);
        execl(program, program, "2", (char *)NULL);
        return fail(program);
}

static int two_senders(const char *v, const char *b)
{
        struct wire_buf buf;
        struct caller_fds fds;
        if (prepare(v, b, &buf, &fds) < 0)
                return 1;
        int sock = connect_socket();
        if (sock < 0)
                return fail("connect");
        struct wire_buf head = {.data = buf.data, .len = 8};
        int r = client_send(sock, &head, fds.fds, fds.count);
        caller_fds_close(&fds);
        if (r < 0) {
                wire_buf_free(&buf);
                return fail("send");
        }
        pid_t child = fork();
        if (child == 0) {
                /* Another sender: another process, and for root one that gave up
                 * being root. */
                if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
                                       setuid(65534) < 0))
                        _exit(1);
                struct wire_buf rest = {.data = buf.data + 8, .len = buf.len - 8};
                _exit(client_send(sock, &rest, NULL, 0) < 0 ? 1 : 0);
        }
        wire_buf_free(&buf);
        int status;
        (void)waitpid(child, &status, 0);
        return read_reply(sock) == 0 ? 3 : 0;
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
        (void)sig;
        stop = 1;
}

/* Make n connections with what each sends first; print how many the daemon kept. */
static int flood(long n, const char *kind)
{
        signal(SIGPIPE, SIG_IGN);
        signal(SIGTERM, on_term);
        int *socks = calloc((size_t)n, sizeof *socks);
        if (!socks)
                return fail("calloc");
        size_t big = WIRE_MAX_PAYLOAD - 1;
        uint8_t *payload = calloc(1, WIRE_HEADER_SIZE + big);
        if (!payload)
                return fail("calloc");
        struct wire_header h = {.magic = WIRE_MAGIC, .version = WIRE_VERSION,
                                .type = WIRE_CREATE, .length = (uint32_t)big};
        if (strcmp(kind, "fds") == 0)
                h.fd_count = 253;
        memcpy(payload, &h, sizeof h);
        int null_fds[253];
        for (int i = 0; i < 253; i++)
                null_fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        long made = 0;
        for (long i = 0; i < n && !stop; i++) {
                socks[i] = connect_socket();
                if (socks[i] < 0)
                        continue;
                made++;
                if (strcmp(kind, "big") == 0) {
                        struct wire_buf b = {.data = payload, .len = WIRE_HEADER_SIZE + big - 1};
                        (void)client_send(socks[i], &b, NULL, 0);
                } else if (strcmp(kind, "fds") == 0) {
                        struct wire_buf b = {.data = payload, .len = 1};
                        (void)client_send(socks[i], &b, null_fds, 253);
                }
        }
        printf("ready %ld\n", made);
        fflush(stdout);
        while (!stop)
                pause();
        free(payload);
        free(socks);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2)
                goto usage;
        const char *cmd = argv[1];
        if (strcmp(cmd, "raw-create") == 0 && argc >= 4)
                return raw_create(argc - 2, argv + 2);
        if (strcmp(cmd, "raw-remove") == 0 && argc == 3)
                return raw_remove(argv[2]);
        if (strcmp(cmd, "fork-exec") == 0 && argc == 5)
                return fork_exec(argv[2], argv[3], argv[4]);
        if (strcmp(cmd, "send-exec") == 0 && argc == 5)
                return send_exec(argv[2], argv[3], argv[4]);
        if (strcmp(cmd, "two-senders") == 0 && argc == 4)
                return two_senders(argv[2], argv[3]);
        if (strcmp(cmd, "flood-big") == 0 && argc == 3)
                return flood(strtol(argv[2], NULL, 10), "big");
        if (strcmp(cmd, "flood-fds") == 0 && argc == 3)
                return flood(strtol(argv[2], NULL, 10), "fds");
        if (strcmp(cmd, "idle") == 0 && argc == 3)
                return flood(strtol(argv[2], NULL, 10), "idle");
usage:
        fprintf(stderr, "usage: see the comment at the top of hostile_client.c\n");
        return 1;
}
