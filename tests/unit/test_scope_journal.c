/* test_scope_journal.c — unit tests of daemon/scope/scope_journal.c (S23, S4): the
 * scoped links a restarted bindlinkd reads back, with paths that need escaping, a
 * view's server and the anchor of a propagated link; lines of earlier releases (no
 * anchor, no server) read as such; malformed lines skipped and counted; a file of
 * another boot ignored. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scope_journal.h"

static char dir[] = "/tmp/test_scope_journal.XXXXXX";
static char path[sizeof dir + 16];

static int setup(void **state)
{
        (void)state;
        if (!mkdtemp(dir))
                return -1;
        (void)snprintf(path, sizeof path, "%s/scopes", dir);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        (void)unlink(path);
        return rmdir(dir);
}

static void write_text(const char *text)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static void free_links(struct scoped_link *links, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                free(links[i].virtual_path);
                free(links[i].backing_path);
        }
        free(links);
}

static void test_s23_s4_scoped_links_round_trip_with_views_and_anchors(void **state)
{
        (void)state;
        struct scoped_link written[2] = {
                {.order = 3,
                 .scope_id = 4026531841ULL,
                 .flags = 3,
                 .virtual_path = "/v w",
                 .backing_path = "/b\\n",
                 .mount_id = 2147483650ULL,
                 .anchor_id = 2147483649ULL,
                 .server_pid = 4242,
                 .server_start = 987654321ULL,
                 .parent_id = 2147483651ULL},
                {.order = 7,
                 .scope_id = 12,
                 .flags = 0,
                 .virtual_path = "/plain",
                 .backing_path = "/b2",
                 .mount_id = 99},
        };
        struct scope_links sl = {.links = written, .count = 2};
        assert_int_equal(scope_journal_write(path, &sl), 0);
        struct scoped_link *read;
        size_t count, bad;
        bool other_boot;
        assert_int_equal(scope_journal_read(path, &read, &count, &bad, &other_boot), 0);
        assert_false(other_boot);
        assert_int_equal(count, 2);
        assert_int_equal(bad, 0);
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(read[i].order, written[i].order);
                assert_int_equal(read[i].scope_id, written[i].scope_id);
                assert_int_equal(read[i].flags, written[i].flags);
                assert_string_equal(read[i].virtual_path, written[i].virtual_path);
                assert_string_equal(read[i].backing_path, written[i].backing_path);
                assert_int_equal(read[i].mount_id, written[i].mount_id);
                assert_int_equal(read[i].anchor_id, written[i].anchor_id);
                assert_int_equal(read[i].server_pid, written[i].server_pid);
                assert_int_equal(read[i].server_start, written[i].server_start);
                assert_int_equal(read[i].parent_id, written[i].parent_id);
                assert_int_equal(read[i].server_pidfd, -1); /* known again by adoption */
        }
        free_links(read, count);
}

static void test_s23_s4_lines_of_earlier_releases_and_malformed_ones(void **state)
{
        (void)state;
        write_text("S 5 6 1 2 /v /b\n"                 /* no anchor, no server */
                   "S 5 8 0 3 /w /b 77\n"              /* an anchor, no server */
                   "S 5 9 0 4 /x /b 0 12\n"            /* a server without its start */
                   "S 5 9 4 4 /y /b\n"                 /* flags out of range */
                   "S 5 9 0 4 relative /b\n"           /* not absolute */
                   "S 5 9 0 4 /z /b 0 99999999999 1\n" /* no such pid */
                   "X 5 9 0 4 /z /b\n");
        struct scoped_link *read;
        size_t count, bad;
        bool other_boot;
        assert_int_equal(scope_journal_read(path, &read, &count, &bad, &other_boot), 0);
        assert_false(other_boot);
        assert_int_equal(count, 2);
        assert_int_equal(bad, 5);
        assert_string_equal(read[0].virtual_path, "/v");
        assert_int_equal(read[0].anchor_id, 0);
        assert_int_equal(read[0].server_pid, 0);
        assert_string_equal(read[1].virtual_path, "/w");
        assert_int_equal(read[1].anchor_id, 77);
        assert_int_equal(read[1].server_pid, 0);
        free_links(read, count);
}

/* Namespace and mount ids start again after a reboot: a file of another boot (a state
 * directory on a disk) names nothing of this one. The file names its boot. */
static void test_s23_s4_a_file_of_another_boot_gives_no_links(void **state)
{
        (void)state;
        struct scoped_link one = {.order = 1,
                                  .scope_id = 5,
                                  .virtual_path = "/v",
                                  .backing_path = "/b",
                                  .mount_id = 6};
        struct scope_links sl = {.links = &one, .count = 1};
        assert_int_equal(scope_journal_write(path, &sl), 0);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char first[64] = "";
        assert_non_null(fgets(first, sizeof first, f));
        (void)fclose(f);
        assert_int_equal(strncmp(first, "B ", 2), 0);
        assert_int_equal(strlen(first), 2 + 36 + 1); /* this boot's id */

        write_text("B 00000000-0000-0000-0000-000000000000\nS 5 6 0 1 /v /b\n");
        struct scoped_link *read;
        size_t count, bad;
        bool other_boot;
        assert_int_equal(scope_journal_read(path, &read, &count, &bad, &other_boot), 0);
        assert_true(other_boot);
        assert_int_equal(count, 0);
        assert_null(read);
}

/* Between rewrites each change is one appended line: S adds, R removes the last link
 * of that namespace and path; an R naming none is a bad line. */
static void test_s23_s4_appended_changes_replay_in_order(void **state)
{
        (void)state;
        struct scoped_link a = {.order = 1,
                                .scope_id = 5,
                                .virtual_path = "/a",
                                .backing_path = "/b",
                                .mount_id = 6};
        struct scoped_link b = {.order = 2,
                                .scope_id = 5,
                                .virtual_path = "/a b",
                                .backing_path = "/b",
                                .mount_id = 7,
                                .server_pid = 12,
                                .server_start = 34};
        struct scope_links sl = {.links = &a, .count = 1};
        assert_int_equal(scope_journal_write(path, &sl), 0);
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(scope_journal_append(fd, &b, false), 0);
        assert_int_equal(scope_journal_append(fd, &a, true), 0);
        assert_int_equal(scope_journal_append(fd, &a, false), 0); /* made again */
        assert_int_equal(scope_journal_append(fd, &b, true), 0);
        assert_int_equal(scope_journal_append(fd, &b, true), 0); /* names none now */
        assert_int_equal(close(fd), 0);
        struct scoped_link *read;
        size_t count, bad;
        bool other_boot;
        assert_int_equal(scope_journal_read(path, &read, &count, &bad, &other_boot), 0);
        assert_int_equal(count, 1);
        assert_int_equal(bad, 1);
        assert_string_equal(read[0].virtual_path, "/a");
        assert_int_equal(read[0].mount_id, 6);
        free_links(read, count);
}

static void test_s4_no_file_is_no_scoped_links(void **state)
{
        (void)state;
        (void)unlink(path);
        struct scoped_link *read;
        size_t count = 1, bad = 1;
        bool other_boot = true;
        assert_int_equal(scope_journal_read(path, &read, &count, &bad, &other_boot), 0);
        assert_false(other_boot);
        assert_int_equal(count, 0);
        assert_int_equal(bad, 0);
        free(read);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s23_s4_scoped_links_round_trip_with_views_and_anchors),
                cmocka_unit_test(test_s23_s4_lines_of_earlier_releases_and_malformed_ones),
                cmocka_unit_test(test_s23_s4_a_file_of_another_boot_gives_no_links),
                cmocka_unit_test(test_s23_s4_appended_changes_replay_in_order),
                cmocka_unit_test(test_s4_no_file_is_no_scoped_links),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
