/* test_log.c — unit tests of daemon/base/log.c: the *_errno helpers return the
 * negative errno whichever sign it was given, and write one line that ends in its
 * cause, with the priority prefix only where stderr is the journal. Each case logs
 * in a child (log.c decides once per process whether stderr is the journal), whose
 * stderr is a SOCK_SEQPACKET socket: one write(2) is one packet, so the test sees
 * how many writes a line took. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "log.h"

enum call { CALL_LINE, CALL_ERROR, CALL_WARNING, CALL_INFO, CALL_LONG };

struct logged {
        char packets[4][2048];
        size_t sizes[4];
        int count;     /* writes seen (packets) */
        int returned;  /* what the helper returned (0 for log_line) */
        bool errno_kept;
};

/* What the call wrote and returned, made in a child with stderr on a packet socket,
 * which $JOURNAL_STREAM names when journal is true. */
static struct logged run(enum call call, int error, bool journal)
{
        struct logged out = {0};
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        int status_pipe[2];
        assert_int_equal(pipe(status_pipe), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (dup2(sv[1], STDERR_FILENO) < 0)
                        _exit(1);
                struct stat st;
                char stream[64];
                if (fstat(STDERR_FILENO, &st) < 0)
                        _exit(1);
                snprintf(stream, sizeof stream, "%ju:%ju", (uintmax_t)st.st_dev,
                         (uintmax_t)(journal ? st.st_ino : st.st_ino + 1));
                if (setenv("JOURNAL_STREAM", stream, 1) < 0)
                        _exit(1);
                char long_path[1500];
                memset(long_path, 'x', sizeof long_path - 1);
                long_path[sizeof long_path - 1] = '\0';
                errno = ENOSPC;
                int r = 0;
                switch (call) {
                case CALL_LINE:
                        log_warning("plain %s", "/p");
                        break;
                case CALL_ERROR:
                        r = log_error_errno(error, "cannot open %s", "/p");
                        break;
                case CALL_WARNING:
                        r = log_warning_errno(error, "cannot open %s", "/p");
                        break;
                case CALL_INFO:
                        r = log_info_errno(error, "cannot open %s", "/p");
                        break;
                case CALL_LONG:
                        r = log_error_errno(error, "cannot open %s", long_path);
                        break;
                }
                int report[2] = {r, errno == ENOSPC};
                _exit(write(status_pipe[1], report, sizeof report) == sizeof report ? 0 : 1);
        }
        (void)close(sv[1]);
        (void)close(status_pipe[1]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        int report[2];
        assert_int_equal(read(status_pipe[0], report, sizeof report), (ssize_t)sizeof report);
        out.returned = report[0];
        out.errno_kept = report[1];
        /* Every packet (the child has ended: all are queued), the first 4 kept. */
        for (;;) {
                char *p = out.packets[out.count < 4 ? out.count : 3];
                ssize_t got = recv(sv[0], p, sizeof out.packets[0] - 1, MSG_DONTWAIT);
                if (got <= 0)
                        break;
                p[got] = '\0';
                if (out.count < 4)
                        out.sizes[out.count] = (size_t)got;
                out.count++;
        }
        (void)close(sv[0]);
        (void)close(status_pipe[0]);
        return out;
}

static void test_the_error_is_returned_negative_whichever_sign_it_was_given(void **state)
{
        (void)state;
        assert_int_equal(run(CALL_ERROR, EACCES, false).returned, -EACCES);
        assert_int_equal(run(CALL_ERROR, -EACCES, false).returned, -EACCES);
        assert_int_equal(run(CALL_WARNING, ENOENT, false).returned, -ENOENT);
        assert_int_equal(run(CALL_INFO, -ENOENT, false).returned, -ENOENT);
        /* A failure that forgot its errno is EIO, as negative_errno() says. */
        assert_int_equal(run(CALL_ERROR, 0, false).returned, -EIO);
}

static void test_one_write_of_one_line_that_ends_in_the_cause(void **state)
{
        (void)state;
        struct logged l = run(CALL_ERROR, -EACCES, false);
        assert_int_equal(l.count, 1);
        assert_string_equal(l.packets[0],
                            "bindlinkd: error: cannot open /p: Permission denied\n");
        l = run(CALL_ERROR, EACCES, false);
        assert_int_equal(l.count, 1);
        assert_string_equal(l.packets[0],
                            "bindlinkd: error: cannot open /p: Permission denied\n");
        l = run(CALL_WARNING, -ENOENT, false);
        assert_int_equal(l.count, 1);
        assert_string_equal(l.packets[0],
                            "bindlinkd: warning: cannot open /p: No such file or directory\n");
        l = run(CALL_INFO, -ENOENT, false);
        assert_string_equal(l.packets[0], "bindlinkd: cannot open /p: No such file or directory\n");
        l = run(CALL_ERROR, 0, false);
        assert_string_equal(l.packets[0], "bindlinkd: error: cannot open /p: Input/output error\n");
}

static void test_the_priority_prefix_only_where_stderr_is_the_journal(void **state)
{
        (void)state;
        struct logged l = run(CALL_ERROR, -EACCES, true);
        assert_int_equal(l.count, 1);
        assert_string_equal(l.packets[0],
                            "<3>bindlinkd: error: cannot open /p: Permission denied\n");
        l = run(CALL_WARNING, EACCES, true);
        assert_string_equal(l.packets[0],
                            "<4>bindlinkd: warning: cannot open /p: Permission denied\n");
        l = run(CALL_INFO, EACCES, true);
        assert_string_equal(l.packets[0], "<6>bindlinkd: cannot open /p: Permission denied\n");
        /* $JOURNAL_STREAM naming another stream: no prefix. */
        l = run(CALL_ERROR, EACCES, false);
        assert_int_equal(l.packets[0][0], 'b');
}

static void test_a_plain_line_has_no_cause(void **state)
{
        (void)state;
        struct logged l = run(CALL_LINE, 0, false);
        assert_int_equal(l.count, 1);
        assert_string_equal(l.packets[0], "bindlinkd: warning: plain /p\n");
        l = run(CALL_LINE, 0, true);
        assert_string_equal(l.packets[0], "<4>bindlinkd: warning: plain /p\n");
}

static void test_a_message_too_long_is_cut_but_keeps_its_cause(void **state)
{
        (void)state;
        struct logged l = run(CALL_LONG, EACCES, true);
        assert_int_equal(l.count, 1);
        assert_int_equal(l.sizes[0], 1023);
        assert_true(strncmp(l.packets[0], "<3>bindlinkd: error: cannot open xxx", 36) == 0);
        const char *end = ": Permission denied\n";
        assert_string_equal(l.packets[0] + l.sizes[0] - strlen(end), end);
        assert_ptr_equal(strchr(l.packets[0], '\n'), l.packets[0] + l.sizes[0] - 1);
}

static void test_logging_leaves_errno_as_it_was(void **state)
{
        (void)state;
        assert_true(run(CALL_ERROR, EACCES, true).errno_kept);
        assert_true(run(CALL_LINE, 0, false).errno_kept);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_the_error_is_returned_negative_whichever_sign_it_was_given),
                cmocka_unit_test(test_one_write_of_one_line_that_ends_in_the_cause),
                cmocka_unit_test(test_the_priority_prefix_only_where_stderr_is_the_journal),
                cmocka_unit_test(test_a_plain_line_has_no_cause),
                cmocka_unit_test(test_a_message_too_long_is_cut_but_keeps_its_cause),
                cmocka_unit_test(test_logging_leaves_errno_as_it_was),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
