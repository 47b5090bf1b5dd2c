/* test_api.c — the C API against a real bindlinkd (started by run-api.sh in a private
 * namespace, socket in BINDLINK_SOCKET, scratch area in BL_AREA): every S2 row as
 * an HRESULT, the native API, threads, an unprivileged caller, and hostile clients
 * that must never crash or stall the daemon. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bindlink.h"
#include "wire.h"

static char area[PATH_MAX];

/* A fresh directory for one test: AREA/name, with optional subdirectories. */
static void scratch(const char *name, char *ret, size_t size)
{
        snprintf(ret, size, "%s/%s", area, name);
        assert_int_equal(mkdir(ret, 0755), 0);
}

static void make_dir(const char *base, const char *sub)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", base, sub);
        assert_int_equal(mkdir(p, 0755), 0);
}

/* AREA/name holding empty directories v and b, and their paths: the usual fixture. */
static void scratch_pair(const char *name, char t[PATH_MAX], char v[PATH_MAX + 8],
                         char b[PATH_MAX + 8])
{
        scratch(name, t, PATH_MAX);
        make_dir(t, "v");
        make_dir(t, "b");
        snprintf(v, PATH_MAX + 8, "%s/v", t);
        snprintf(b, PATH_MAX + 8, "%s/b", t);
}

static void write_file(const char *base, const char *sub, const char *content)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", base, sub);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

static void read_file(const char *base, const char *sub, char *ret, size_t size)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", base, sub);
        FILE *f = fopen(p, "r");
        ret[0] = '\0';
        if (!f)
                return;
        size_t n = fread(ret, 1, size - 1, f);
        ret[n] = '\0';
        fclose(f);
}

static size_t link_count(void)
{
        bindlink_links *links;
        assert_int_equal(bindlink_list(&links, NULL), 0);
        size_t n = bindlink_links_count(links);
        bindlink_links_free(links);
        return n;
}

/* ---- S1 / S5 / S7 ------------------------------------------------------------------ */

static void test_s1_create_and_remove_return_s_ok(void **state)
{
        (void)state;
        char t[PATH_MAX], v[PATH_MAX + 8], b[PATH_MAX + 8], got[64];
        scratch_pair("s1", t, v, b);
        write_file(t, "b/x", "backing");
        HRESULT hr = CreateBindLink(v, b, CREATE_BIND_LINK_FLAG_NONE, 0, NULL);
        assert_int_equal(hr, S_OK);
        assert_true(SUCCEEDED(hr));
        read_file(t, "v/x", got, sizeof got);
        assert_string_equal(got, "backing");
        assert_int_equal(RemoveBindLink(v), S_OK);
        read_file(t, "v/x", got, sizeof got);
        assert_string_equal(got, "");
}

static void test_s11_read_only_through_api(void **state)
{
        (void)state;
        char t[PATH_MAX], v[PATH_MAX + 8], b[PATH_MAX + 8], p[PATH_MAX + 16];
        scratch_pair("s11", t, v, b);
        write_file(t, "b/x", "keep");
        assert_int_equal(CreateBindLink(v, b, CREATE_BIND_LINK_FLAG_READ_ONLY, 0, NULL), S_OK);
        snprintf(p, sizeof p, "%s/x", v);
        int fd = open(p, O_WRONLY | O_TRUNC);
        assert_int_equal(fd, -1);
        assert_int_equal(errno, EROFS);
        assert_int_equal(RemoveBindLink(v), S_OK);
}

/* ---- S2: each row's HRESULT ------------------------------------------------------- */

static void test_s2_invalid_arguments_are_invalidarg(void **state)
{
        (void)state;
        char t[PATH_MAX], v[PATH_MAX + 8], b[PATH_MAX + 8];
        scratch_pair("s2inval", t, v, b);
        assert_int_equal(CreateBindLink(NULL, b, 0, 0, NULL), E_INVALIDARG);
        assert_int_equal(CreateBindLink(v, NULL, 0, 0, NULL), E_INVALIDARG);
        assert_int_equal(CreateBindLink("", b, 0, 0, NULL), E_INVALIDARG);
        assert_int_equal(CreateBindLink(v, "", 0, 0, NULL), E_INVALIDARG);
        assert_int_equal(CreateBindLink(v, b, (CREATE_BIND_LINK_FLAGS)0x4, 0, NULL), E_INVALIDARG);
        assert_int_equal(CreateBindLink(v, b, 0, 1, NULL), E_INVALIDARG);
        const char *null_exception[] = {NULL};
        assert_int_equal(CreateBindLink(v, b, 0, 1, null_exception), E_INVALIDARG);
        assert_int_equal(CreateBindLink(v, b, 0, BINDLINK_MAX_EXCEPTIONS + 1,
                                        null_exception),
                         E_INVALIDARG);
        char *huge = malloc(PATH_MAX + 10);
        memset(huge, 'a', PATH_MAX + 9);
        huge[0] = '/';
        huge[PATH_MAX + 9] = '\0';
        assert_int_equal(CreateBindLink(huge, b, 0, 0, NULL), E_INVALIDARG);
        assert_int_equal(CreateBindLink(v, huge, 0, 0, NULL), E_INVALIDARG);
        free(huge);
        assert_int_equal(RemoveBindLink(NULL), E_INVALIDARG);
        assert_int_equal(RemoveBindLink(""), E_INVALIDARG);
        assert_int_equal(CreateBindLink("/", b, 0, 0, NULL), E_INVALIDARG);
        assert_int_equal(link_count(), 0);
}

/* S12 and S13 through the API: the union, where changes land, and V as it was after. */
static void test_s12_s13_merged_through_api(void **state)
{
        (void)state;
        char t[PATH_MAX], v[PATH_MAX + 8], b[PATH_MAX + 8], got[64];
        scratch_pair("s12api", t, v, b);
        write_file(t, "v/only-v", "from v");
        write_file(t, "v/both", "v's");
        write_file(t, "b/both", "b's");
        write_file(t, "b/only-b", "from b");

        assert_int_equal(CreateBindLink(v, b, CREATE_BIND_LINK_FLAG_MERGED, 0, NULL), S_OK);
        read_file(t, "v/only-v", got, sizeof got);
        assert_string_equal(got, "from v");
        read_file(t, "v/only-b", got, sizeof got);
        assert_string_equal(got, "from b");
        read_file(t, "v/both", got, sizeof got);
        assert_string_equal(got, "b's"); /* B wins a collision */
        write_file(t, "v/new", "new");   /* new names go to B */
        read_file(t, "b/new", got, sizeof got);
        assert_string_equal(got, "new");
        assert_int_equal(RemoveBindLink(v), S_OK);
        char p[PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/new", v);
        assert_int_equal(access(p, F_OK), -1); /* V never had it */
        read_file(t, "v/both", got, sizeof got);
        assert_string_equal(got, "v's");

        /* S13: B read-only, new names go to V. */
        assert_int_equal(CreateBindLink(v, b, CREATE_BIND_LINK_FLAG_MERGED |
                                                       CREATE_BIND_LINK_FLAG_READ_ONLY,
                                        0, NULL),
                         S_OK);
        snprintf(p, sizeof p, "%s/only-b", v);
        assert_int_equal(open(p, O_WRONLY), -1);
        assert_int_equal(errno, EROFS);
        write_file(t, "v/made-in-v", "v");
        assert_int_equal(RemoveBindLink(v), S_OK);
        read_file(t, "v/made-in-v", got, sizeof got);
        assert_string_equal(got, "v");
        snprintf(p, sizeof p, "%s/made-in-v", b);
        assert_int_equal(access(p, F_OK), -1);
        assert_int_equal(link_count(), 0);
}

static void test_s2_rows_map_to_windows_hresults(void **state)
{
        (void)state;
        char t[PATH_MAX], v[PATH_MAX + 8], b[PATH_MAX + 8], p[PATH_MAX + 32], e[PATH_MAX + 32];
        scratch_pair("s2rows", t, v, b);
        make_dir(t, "v/e");

        snprintf(p, sizeof p, "%s/missing", t);
        assert_int_equal(CreateBindLink(v, p, 0, 0, NULL), (HRESULT)0x80070002);
        snprintf(p, sizeof p, "%s/no/parent", t);
        assert_int_equal(CreateBindLink(p, b, 0, 0, NULL), (HRESULT)0x80070003);
        snprintf(p, sizeof p, "%s/anchorless", t);
        snprintf(e, sizeof e, "%s/anchorless/x", t);
        const char *exc[] = {e};
        assert_int_equal(CreateBindLink(p, b, 0, 1, exc), E_INVALIDARG);
        snprintf(e, sizeof e, "%s/b", t);
        assert_int_equal(CreateBindLink(v, b, 0, 1, exc), E_INVALIDARG);
        snprintf(e, sizeof e, "%s/v/nope", t);
        assert_int_equal(CreateBindLink(v, b, 0, 1, exc), (HRESULT)0x80070002);
        /* An exception whose parent the backing path lacks: a shadow view (S14). */
        make_dir(t, "v/e/inner");
        snprintf(e, sizeof e, "%s/v/e/inner", t);
        assert_int_equal(CreateBindLink(v, b, 0, 1, exc), S_OK);
        assert_int_equal(access(e, F_OK), 0);
        assert_int_equal(RemoveBindLink(v), S_OK);
        assert_int_equal(RemoveBindLink(v), (HRESULT)0x80070490);

        assert_int_equal(CreateBindLink(v, b, 0, 0, NULL), S_OK);
        assert_int_equal(CreateBindLink(v, b, 0, 0, NULL), E_INVALIDARG);
        snprintf(p, sizeof p, "%s/v/../v/", t);
        assert_int_equal(CreateBindLink(p, b, 0, 0, NULL), E_INVALIDARG);
        assert_int_equal(RemoveBindLink(p), S_OK);
        assert_int_equal(link_count(), 0);
}

static void test_s2_native_api_returns_errno_and_error_details(void **state)
{
        (void)state;
        char t[PATH_MAX], v[PATH_MAX + 8], p[PATH_MAX + 16];
        scratch("native", t, sizeof t);
        make_dir(t, "v");
        snprintf(v, sizeof v, "%s/v", t);
        snprintf(p, sizeof p, "%s/nothing", t);
        bindlink_error err;
        assert_int_equal(bindlink_create(v, p, 0, 0, NULL, &err), -ENOENT);
        assert_int_equal(err.error, ENOENT);
        assert_int_equal(err.fault, BINDLINK_FAULT_BACKING);
        assert_int_equal(err.hresult, (HRESULT)0x80070002);
        assert_string_equal(err.path, p);
        assert_non_null(strstr(err.message, p));
        assert_int_equal(bindlink_remove(v, &err), -ENOENT);
        assert_int_equal(err.hresult, (HRESULT)0x80070490);
        assert_int_equal(bindlink_create(v, p, 0, 0, NULL, NULL), -ENOENT);
}

static void test_s2_daemon_unreachable_is_rpc_server_unavailable(void **state)
{
        (void)state;
        char t[PATH_MAX], v[PATH_MAX + 8], sock[PATH_MAX + 16];
        scratch("nodaemon", t, sizeof t);
        make_dir(t, "v");
        snprintf(v, sizeof v, "%s/v", t);
        snprintf(sock, sizeof sock, "%s/none.sock", t);
        char *saved = strdup(getenv("BINDLINK_SOCKET"));
        setenv("BINDLINK_SOCKET", sock, 1);
        assert_int_equal(CreateBindLink(v, v, 0, 0, NULL), (HRESULT)0x800706BA);
        assert_int_equal(RemoveBindLink(v), (HRESULT)0x800706BA);
        bindlink_links *links;
        bindlink_error err;
        assert_int_equal(bindlink_list(&links, &err), -ENOENT);
        assert_int_equal(err.fault, BINDLINK_FAULT_DAEMON);
        /* It names the socket and says how to start the daemon. */
        assert_non_null(strstr(err.message, sock));
        assert_non_null(strstr(err.message, "systemctl start bindlinkd"));
        setenv("BINDLINK_SOCKET", saved, 1);
        free(saved);
}

/* S2 row 1: a caller that is not an administrator, as a real unprivileged process. */
static void test_s2_unprivileged_caller_is_access_denied(void **state)
{
        (void)state;
        char t[PATH_MAX], v[PATH_MAX + 8], b[PATH_MAX + 8];
        scratch_pair("nobody", t, v, b);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(10);
                if (CreateBindLink(v, b, 0, 0, NULL) != E_ACCESSDENIED)
                        _exit(11);
                bindlink_error err;
                if (bindlink_create(v, b, 0, 0, NULL, &err) != -EPERM ||
                    err.fault != BINDLINK_FAULT_CALLER)
                        _exit(12);
                if (RemoveBindLink(v) != E_ACCESSDENIED)
                        _exit(13);
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(link_count(), 0);
}

/* ---- S3 -------------------------------------------------------------------------------- */

static void test_s3_relative_paths_resolve_against_cwd(void **state)
{
        (void)state;
        char t[PATH_MAX], cwd[PATH_MAX], expect[PATH_MAX + 8];
        scratch("s3rel", t, sizeof t);
        make_dir(t, "v");
        make_dir(t, "b");
        assert_non_null(getcwd(cwd, sizeof cwd));
        assert_int_equal(chdir(t), 0);
        assert_int_equal(CreateBindLink("v/", "./b", 0, 0, NULL), S_OK);
        bindlink_links *links;
        assert_int_equal(bindlink_list(&links, NULL), 0);
        assert_int_equal(bindlink_links_count(links), 1);
        snprintf(expect, sizeof expect, "%s/v", t);
        assert_string_equal(bindlink_links_virtual(links, 0), expect);
        snprintf(expect, sizeof expect, "%s/b", t);
        assert_string_equal(bindlink_links_backing(links, 0), expect);
        assert_int_equal(bindlink_links_realization(links, 0), BINDLINK_REALIZED_BIND);
        assert_int_equal(bindlink_links_flags(links, 0), 0);
        assert_null(bindlink_links_virtual(links, 1));
        bindlink_links_free(links);
        assert_int_equal(RemoveBindLink("b/../v"), S_OK);
        assert_int_equal(chdir(cwd), 0);
}

/* ---- S21 -------------------------------------------------------------------------------- */

static void test_s21_list_orders_and_describes_links(void **state)
{
        (void)state;
        char t[PATH_MAX], v1[PATH_MAX + 8], v2[PATH_MAX + 8], b[PATH_MAX + 8];
        scratch("s21", t, sizeof t);
        make_dir(t, "v1");
        make_dir(t, "v2");
        make_dir(t, "b");
        snprintf(v1, sizeof v1, "%s/v1", t);
        snprintf(v2, sizeof v2, "%s/v2", t);
        snprintf(b, sizeof b, "%s/b", t);
        assert_int_equal(CreateBindLink(v2, b, 0, 0, NULL), S_OK);
        assert_int_equal(CreateBindLink(v1, b, CREATE_BIND_LINK_FLAG_READ_ONLY, 0, NULL), S_OK);
        bindlink_links *links;
        assert_int_equal(bindlink_list(&links, NULL), 0);
        assert_int_equal(bindlink_links_count(links), 2);
        assert_string_equal(bindlink_links_virtual(links, 0), v2);
        assert_string_equal(bindlink_links_virtual(links, 1), v1);
        assert_true(bindlink_links_order(links, 0) < bindlink_links_order(links, 1));
        assert_int_equal(bindlink_links_flags(links, 1), CREATE_BIND_LINK_FLAG_READ_ONLY);
        assert_int_equal(bindlink_links_exception_count(links, 0), 0);
        assert_null(bindlink_links_exception(links, 0, 0));
        bindlink_links_free(links);
        assert_int_equal(RemoveBindLink(v1), S_OK);
        assert_int_equal(RemoveBindLink(v2), S_OK);
}

/* ---- one connection for many calls -------------------------------------------------- */

static void test_connection_serves_many_calls(void **state)
{
        (void)state;
        char t[PATH_MAX], v[PATH_MAX + 8], b[PATH_MAX + 8];
        scratch_pair("connection", t, v, b);
        bindlink_connection *c;
        bindlink_error err;
        assert_int_equal(bindlink_connect(&c, &err), 0);
        for (int i = 0; i < 20; i++) {
                assert_int_equal(bindlink_connection_create(c, v, b, 0, 0, NULL, &err), 0);
                bindlink_links *links;
                assert_int_equal(bindlink_connection_list(c, &links, &err), 0);
                assert_int_equal(bindlink_links_count(links), 1);
                bindlink_links_free(links);
                /* An error does not spoil the connection. */
                assert_int_equal(bindlink_connection_create(c, v, b, 0, 0, NULL, &err), -EEXIST);
                assert_int_equal(err.hresult, E_INVALIDARG);
                assert_int_equal(bindlink_connection_remove(c, v, &err), 0);
        }
        bindlink_disconnect(c);
        assert_int_equal(bindlink_connection_remove(NULL, v, &err), -EINVAL);
        assert_int_equal(bindlink_connect(NULL, &err), -EINVAL);
        assert_int_equal(link_count(), 0);
}

/* ---- thread safety ----------------------------------------------------------------------- */

struct worker {
        char base[PATH_MAX];
        int failures;
};

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        char v[PATH_MAX + 8], b[PATH_MAX + 8];
        snprintf(v, sizeof v, "%s/v", w->base);
        snprintf(b, sizeof b, "%s/b", w->base);
        for (int i = 0; i < 40; i++) {
                if (CreateBindLink(v, b, 0, 0, NULL) != S_OK)
                        w->failures++;
                if (RemoveBindLink(v) != S_OK)
                        w->failures++;
        }
        return NULL;
}

static void test_api_is_thread_safe(void **state)
{
        (void)state;
        enum { N = 4 };
        struct worker workers[N];
        pthread_t threads[N];
        char t[PATH_MAX];
        scratch("threads", t, sizeof t);
        for (int i = 0; i < N; i++) {
                snprintf(workers[i].base, sizeof workers[i].base, "%s/w%d", t, i);
                assert_int_equal(mkdir(workers[i].base, 0755), 0);
                make_dir(workers[i].base, "v");
                make_dir(workers[i].base, "b");
                workers[i].failures = 0;
        }
        for (int i = 0; i < N; i++)
                assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
        for (int i = 0; i < N; i++) {
                assert_int_equal(pthread_join(threads[i], NULL), 0);
                assert_int_equal(workers[i].failures, 0);
        }
        assert_int_equal(link_count(), 0);
}

/* ---- hostile clients: the daemon drops them and serves the next ---------------------- */

static int raw_connect(void)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        snprintf(addr.sun_path, sizeof addr.sun_path, "%s", getenv("BINDLINK_SOCKET"));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
        return fd;
}

/* True when the daemon closed the connection (within 5 s) without answering. */
static bool dropped(int fd)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) != 1)
                return false;
        char c;
        return recv(fd, &c, 1, 0) <= 0;
}

static void daemon_still_serves(void)
{
        bindlink_links *links;
        assert_int_equal(bindlink_list(&links, NULL), 0);
        bindlink_links_free(links);
}

static void send_header(int fd, uint32_t magic, uint16_t type, uint32_t length, uint32_t fds)
{
        struct wire_header h = {.magic = magic, .version = WIRE_VERSION, .type = type,
                                .length = length, .fd_count = fds};
        assert_int_equal(send(fd, &h, sizeof h, MSG_NOSIGNAL), (ssize_t)sizeof h);
}

static void test_protocol_malformed_messages_drop_only_that_client(void **state)
{
        (void)state;
        int fd;
        /* bad magic */
        fd = raw_connect();
        send_header(fd, 0xdeadbeef, WIRE_LIST, 0, 0);
        assert_true(dropped(fd));
        close(fd);
        daemon_still_serves();
        /* unknown opcode */
        fd = raw_connect();
        send_header(fd, WIRE_MAGIC, 77, 0, 0);
        assert_true(dropped(fd));
        close(fd);
        daemon_still_serves();
        /* a reply sent as a request */
        fd = raw_connect();
        send_header(fd, WIRE_MAGIC, WIRE_REPLY, 0, 0);
        assert_true(dropped(fd));
        close(fd);
        /* oversized */
        fd = raw_connect();
        send_header(fd, WIRE_MAGIC, WIRE_CREATE, WIRE_MAX_PAYLOAD + 1, 0);
        assert_true(dropped(fd));
        close(fd);
        daemon_still_serves();
        /* a length that lies: more promised than sent, then the client goes away */
        fd = raw_connect();
        send_header(fd, WIRE_MAGIC, WIRE_REMOVE, 1000, 0);
        assert_int_equal(send(fd, "abc", 3, MSG_NOSIGNAL), 3);
        close(fd);
        daemon_still_serves();
        /* a payload whose inner string length lies */
        fd = raw_connect();
        uint32_t lying[2] = {5000, 0};
        send_header(fd, WIRE_MAGIC, WIRE_REMOVE, sizeof lying, 0);
        assert_int_equal(send(fd, lying, sizeof lying, MSG_NOSIGNAL), (ssize_t)sizeof lying);
        assert_true(dropped(fd));
        close(fd);
        /* a create that announces descriptors it does not send */
        fd = raw_connect();
        struct wire_buf buf = {0};
        struct wire_create msg = {.virtual_path = "/x", .backing_path = "/y"};
        assert_int_equal(wire_put_create(&buf, &msg, 2), 0);
        assert_int_equal(send(fd, buf.data, buf.len, MSG_NOSIGNAL), (ssize_t)buf.len);
        wire_buf_free(&buf);
        assert_true(dropped(fd));
        close(fd);
        /* truncated header, then close */
        fd = raw_connect();
        assert_int_equal(send(fd, "BLK", 3, MSG_NOSIGNAL), 3);
        close(fd);
        /* random garbage */
        fd = raw_connect();
        unsigned char junk[4096];
        unsigned seed = 1;
        for (size_t i = 0; i < sizeof junk; i++)
                junk[i] = (unsigned char)rand_r(&seed);
        (void)send(fd, junk, sizeof junk, MSG_NOSIGNAL);
        assert_true(dropped(fd));
        close(fd);
        daemon_still_serves();
        assert_int_equal(link_count(), 0);
}

static void test_protocol_silent_clients_do_not_block_others(void **state)
{
        (void)state;
        int idle[50];
        for (size_t i = 0; i < 50; i++)
                idle[i] = raw_connect();
        int half = raw_connect();
        assert_int_equal(send(half, "BL", 2, MSG_NOSIGNAL), 2);
        /* With 51 silent clients connected, requests are still answered. */
        char t[PATH_MAX], v[PATH_MAX + 8], b[PATH_MAX + 8];
        scratch_pair("silent", t, v, b);
        assert_int_equal(CreateBindLink(v, b, 0, 0, NULL), S_OK);
        assert_int_equal(RemoveBindLink(v), S_OK);
        /* And the silent ones are dropped after the idle timeout (10 s). */
        struct pollfd p = {.fd = half, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 15000), 1);
        char c;
        assert_true(recv(half, &c, 1, 0) <= 0);
        close(half);
        for (size_t i = 0; i < 50; i++)
                close(idle[i]);
        daemon_still_serves();
}

int main(void)
{
        const char *a = getenv("BL_AREA");
        if (!a || !getenv("BINDLINK_SOCKET")) {
                fprintf(stderr, "test_api: run me through run-api.sh\n");
                return 1;
        }
        snprintf(area, sizeof area, "%s", a);
        /* A daemon that hangs must fail the run, not stall it. */
        alarm(120);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s1_create_and_remove_return_s_ok),
                cmocka_unit_test(test_s11_read_only_through_api),
                cmocka_unit_test(test_s12_s13_merged_through_api),
                cmocka_unit_test(test_s2_invalid_arguments_are_invalidarg),
                cmocka_unit_test(test_s2_rows_map_to_windows_hresults),
                cmocka_unit_test(test_s2_native_api_returns_errno_and_error_details),
                cmocka_unit_test(test_s2_daemon_unreachable_is_rpc_server_unavailable),
                cmocka_unit_test(test_s2_unprivileged_caller_is_access_denied),
                cmocka_unit_test(test_s3_relative_paths_resolve_against_cwd),
                cmocka_unit_test(test_s21_list_orders_and_describes_links),
                cmocka_unit_test(test_connection_serves_many_calls),
                cmocka_unit_test(test_api_is_thread_safe),
                cmocka_unit_test(test_protocol_malformed_messages_drop_only_that_client),
                cmocka_unit_test(test_protocol_silent_clients_do_not_block_others),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
