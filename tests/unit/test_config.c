/* test_config.c — unit tests of daemon/config/config.c (parsing links.conf lines for the boot
 * configuration, S22; format in bindlink.conf(5)). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* The entry a test parsed, freed after every test so a failed assertion leaks nothing. */
static struct config_entry parsed;

static int free_parsed(void **state)
{
        (void)state;
        config_entry_free(&parsed);
        return 0;
}

static void parse_ok(const char *line)
{
        config_entry_free(&parsed);
        const char *reason = NULL;
        int r = config_parse_line(line, &parsed, &reason);
        if (r != 1)
                fail_msg("config_parse_line(\"%s\") = %d (%s), want 1", line, r,
                         reason ? reason : "no reason");
}

static void check_ignored(const char *line)
{
        struct config_entry e;
        memset(&e, 0x5a, sizeof e);
        struct config_entry before = e;
        const char *reason = NULL;
        int r = config_parse_line(line, &e, &reason);
        if (r != 0)
                fail_msg("config_parse_line(\"%s\") = %d, want 0 (ignored)", line, r);
        assert_memory_equal(&e, &before, sizeof e);
}

/* The line is refused with -EINVAL, a reason containing want_word, and no output. */
static void check_refused(const char *line, const char *want_word)
{
        struct config_entry e;
        memset(&e, 0x5a, sizeof e);
        struct config_entry before = e;
        const char *reason = NULL;
        int r = config_parse_line(line, &e, &reason);
        if (r != -EINVAL)
                fail_msg("config_parse_line(\"%s\") = %d, want -EINVAL", line, r);
        assert_non_null(reason);
        if (!strstr(reason, want_word))
                fail_msg("reason for \"%s\" is \"%s\", which does not mention \"%s\"", line,
                         reason, want_word);
        assert_memory_equal(&e, &before, sizeof e);
}

/* ---- lines that hold no link --------------------------------------------------------- */

static void test_s22_blank_and_comment_lines_ignored(void **state)
{
        (void)state;
        check_ignored("");
        check_ignored("\n");
        check_ignored("   ");
        check_ignored(" \t \t\r\n");
        check_ignored("# a comment");
        check_ignored("#/v /b");
        check_ignored("   # indented comment");
        check_ignored("\t#");
}

/* ---- links ------------------------------------------------------------------------- */

static void test_s22_two_paths_make_a_link(void **state)
{
        (void)state;
        parse_ok("/v /b");
        assert_string_equal(parsed.virtual_path, "/v");
        assert_string_equal(parsed.backing_path, "/b");
        assert_int_equal(parsed.flags, CREATE_BIND_LINK_FLAG_NONE);
        assert_int_equal(parsed.exception_count, 0);

        parse_ok("  /usr/share/app/defaults      /etc/app/defaults  \n");
        assert_string_equal(parsed.virtual_path, "/usr/share/app/defaults");
        assert_string_equal(parsed.backing_path, "/etc/app/defaults");
        assert_int_equal(parsed.flags, 0);
}

static void test_s11_read_only_option(void **state)
{
        (void)state;
        parse_ok("/v /b read-only");
        assert_int_equal(parsed.flags, CREATE_BIND_LINK_FLAG_READ_ONLY);
}

static void test_s12_merged_option(void **state)
{
        (void)state;
        parse_ok("/v /b merged");
        assert_int_equal(parsed.flags, CREATE_BIND_LINK_FLAG_MERGED);
}

static void test_s13_both_options_in_any_order(void **state)
{
        (void)state;
        parse_ok("/v /b read-only merged");
        assert_int_equal(parsed.flags,
                         CREATE_BIND_LINK_FLAG_READ_ONLY | CREATE_BIND_LINK_FLAG_MERGED);
        parse_ok("/v /b merged read-only");
        assert_int_equal(parsed.flags,
                         CREATE_BIND_LINK_FLAG_READ_ONLY | CREATE_BIND_LINK_FLAG_MERGED);
}

static void test_s14_exceptions(void **state)
{
        (void)state;
        parse_ok("/v /b exception=/v/e1 read-only exception=/v/sub/e2 exception=/v/e3");
        assert_int_equal(parsed.flags, CREATE_BIND_LINK_FLAG_READ_ONLY);
        assert_int_equal(parsed.exception_count, 3);
        assert_string_equal(parsed.exception_paths[0], "/v/e1");
        assert_string_equal(parsed.exception_paths[1], "/v/sub/e2");
        assert_string_equal(parsed.exception_paths[2], "/v/e3");
}

static void test_s22_octal_escapes_in_paths(void **state)
{
        (void)state;
        parse_ok("/srv/My\\040Files /data/a\\011b\\134c exception=/srv/My\\040Files/x\\043y");
        assert_string_equal(parsed.virtual_path, "/srv/My Files");
        assert_string_equal(parsed.backing_path, "/data/a\tb\\c");
        assert_int_equal(parsed.exception_count, 1);
        assert_string_equal(parsed.exception_paths[0], "/srv/My Files/x#y");
        parse_ok("/\\377\\001 /b");
        assert_string_equal(parsed.virtual_path, "/\xff\x01");
}

static void test_s22_tabs_separate_fields(void **state)
{
        (void)state;
        parse_ok("/v\t/b\tread-only\texception=/v/e");
        assert_string_equal(parsed.virtual_path, "/v");
        assert_string_equal(parsed.backing_path, "/b");
        assert_int_equal(parsed.flags, CREATE_BIND_LINK_FLAG_READ_ONLY);
        assert_int_equal(parsed.exception_count, 1);
        parse_ok("\t/v \t /b\r\n");
        assert_string_equal(parsed.backing_path, "/b");
}

static void test_s22_max_exceptions(void **state)
{
        (void)state;
        size_t size = 32 + 257 * 24;
        char *line = malloc(size);
        assert_non_null(line);
        size_t at = (size_t)snprintf(line, size, "/v /b");
        for (int i = 0; i < BINDLINK_MAX_EXCEPTIONS; i++)
                at += (size_t)snprintf(line + at, size - at, " exception=/v/e%d", i);
        parse_ok(line);
        assert_int_equal(parsed.exception_count, BINDLINK_MAX_EXCEPTIONS);
        assert_string_equal(parsed.exception_paths[255], "/v/e255");

        /* one more is refused */
        at += (size_t)snprintf(line + at, size - at, " exception=/v/e256");
        check_refused(line, "too many");
        free(line);
}

/* ---- malformed lines ------------------------------------------------------------------- */

static void test_s22_relative_paths_refused(void **state)
{
        (void)state;
        check_refused("v /b", "absolute");
        check_refused("/v b", "absolute");
        check_refused("./v /b", "absolute");
        check_refused("/v /b exception=e", "absolute");
        check_refused("/v /b exception=", "absolute");
        check_refused("/v /b exception=/v/ok exception=v/e", "absolute");
}

static void test_s22_unknown_option_refused(void **state)
{
        (void)state;
        check_refused("/v /b readonly", "unknown");
        check_refused("/v /b READ-ONLY", "unknown"); /* option names are lower case */
        check_refused("/v /b Merged", "unknown");
        check_refused("/v /b exception", "unknown");
        check_refused("/v /b read-only /c", "unknown");
        /* no comments at the end of a line */
        check_refused("/v /b # note", "unknown");
}

static void test_s22_one_path_refused(void **state)
{
        (void)state;
        check_refused("/v", "backing");
        check_refused("  /v  \t", "backing");
}

static void test_s22_bad_escape_refused(void **state)
{
        (void)state;
        check_refused("/v\\9 /b", "escape");
        check_refused("/v\\04 /b", "escape");
        check_refused("/v /b\\", "escape");
        check_refused("/v /b\\x20", "escape");
        check_refused("/v\\000 /b", "escape");
        check_refused("/v\\400 /b", "escape");
        check_refused("/v /b exception=/v/\\09", "escape");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_s22_blank_and_comment_lines_ignored, free_parsed),
                cmocka_unit_test_teardown(test_s22_two_paths_make_a_link, free_parsed),
                cmocka_unit_test_teardown(test_s11_read_only_option, free_parsed),
                cmocka_unit_test_teardown(test_s12_merged_option, free_parsed),
                cmocka_unit_test_teardown(test_s13_both_options_in_any_order, free_parsed),
                cmocka_unit_test_teardown(test_s14_exceptions, free_parsed),
                cmocka_unit_test_teardown(test_s22_octal_escapes_in_paths, free_parsed),
                cmocka_unit_test_teardown(test_s22_tabs_separate_fields, free_parsed),
                cmocka_unit_test_teardown(test_s22_max_exceptions, free_parsed),
                cmocka_unit_test_teardown(test_s22_relative_paths_refused, free_parsed),
                cmocka_unit_test_teardown(test_s22_unknown_option_refused, free_parsed),
                cmocka_unit_test_teardown(test_s22_one_path_refused, free_parsed),
                cmocka_unit_test_teardown(test_s22_bad_escape_refused, free_parsed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
