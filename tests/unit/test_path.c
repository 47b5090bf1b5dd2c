/* test_path.c — unit tests of common/path.c: lexical folding of paths (S3) and the
 * relations between folded paths (descendant, same line, depth, parent, last, join). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "request.h"

/* Fold and compare; the result must be exactly want. */
static void check_fold(const char *base, const char *path, const char *want)
{
        char *out = NULL;
        int r = path_fold(base, path, &out);
        if (r != 0)
                fail_msg("path_fold(%s, %s) = %d, want \"%s\"", base ? base : "NULL",
                         path ? path : "NULL", r, want);
        assert_non_null(out);
        /* compare a copy, so that a failing assertion leaks nothing */
        char got[PATH_MAX + 1];
        (void)snprintf(got, sizeof got, "%s", out);
        free(out);
        assert_string_equal(got, want);
}

/* The fold must fail with want_error and leave the output untouched. */
static void check_fold_fails(const char *base, const char *path, int want_error)
{
        char sentinel = 0;
        char *out = &sentinel;
        int r = path_fold(base, path, &out);
        assert_int_equal(r, want_error);
        assert_ptr_equal(out, &sentinel);
}

static char *repeat(char c, size_t n)
{
        char *s = malloc(n + 1);
        assert_non_null(s);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

/* ---- path_fold -------------------------------------------------------------------- */

static void test_s3_relative_resolved_against_base(void **state)
{
        (void)state;
        check_fold("/home/u", "a/b", "/home/u/a/b");
        check_fold("/home/u", "a", "/home/u/a");
        check_fold("/", "a", "/a");
        check_fold("/home/u/", "a/", "/home/u/a");
        /* the base is folded as well */
        check_fold("/home//u/./x/..", "a", "/home/u/a");
}

static void test_s3_absolute_ignores_base(void **state)
{
        (void)state;
        check_fold("/home/u", "/x/y", "/x/y");
        check_fold(NULL, "/x/y", "/x/y");
        /* a relative (unusable) base does not matter when path is absolute */
        check_fold("not/absolute", "/x", "/x");
}

static void test_s3_dot_folded(void **state)
{
        (void)state;
        check_fold(NULL, "/a/./b/.", "/a/b");
        check_fold(NULL, "/.", "/");
        check_fold(NULL, "/./././a", "/a");
        check_fold("/base", ".", "/base");
        check_fold("/base", "./x/.", "/base/x");
}

static void test_s3_dotdot_folded(void **state)
{
        (void)state;
        check_fold(NULL, "/a/b/../c", "/a/c");
        check_fold(NULL, "/a/b/..", "/a");
        check_fold(NULL, "/a/..", "/");
        check_fold(NULL, "/a/b/c/../../d", "/a/d");
        check_fold("/a/b", "..", "/a");
        check_fold("/a/b", "../..", "/");
        check_fold("/a/b", "../c/../d", "/a/d");
        /* names that only look like dots are ordinary names */
        check_fold(NULL, "/a/.../b", "/a/.../b");
        check_fold(NULL, "/a/..b/.c/c..", "/a/..b/.c/c..");
}

static void test_s3_dotdot_above_root_is_root(void **state)
{
        (void)state;
        check_fold(NULL, "/..", "/");
        check_fold(NULL, "/../..", "/");
        check_fold(NULL, "/../../x", "/x");
        check_fold("/a", "../../../..", "/");
        check_fold("/", "..", "/");
}

static void test_s3_duplicate_and_trailing_slashes(void **state)
{
        (void)state;
        check_fold(NULL, "//a///b//", "/a/b");
        check_fold(NULL, "/a/", "/a");
        check_fold(NULL, "/", "/");
        check_fold(NULL, "///", "/");
        check_fold("/base", "x//y///", "/base/x/y");
        check_fold("/base//", "//", "/");
}

static void test_s2_empty_or_null_path_is_einval(void **state)
{
        (void)state;
        check_fold_fails("/base", "", -EINVAL);
        check_fold_fails(NULL, "", -EINVAL);
        check_fold_fails("/base", NULL, -EINVAL);
        check_fold_fails(NULL, NULL, -EINVAL);
}

static void test_s3_relative_without_base_is_einval(void **state)
{
        (void)state;
        check_fold_fails(NULL, "a/b", -EINVAL);
        check_fold_fails("", "a", -EINVAL);
        check_fold_fails("relative/base", "a", -EINVAL);
        check_fold_fails(NULL, ".", -EINVAL);
        check_fold_fails(NULL, "..", -EINVAL);
}

static void test_s2_result_of_path_max_is_einval(void **state)
{
        (void)state;
        /* "/" + 4094 bytes = PATH_MAX-1 bytes: the longest accepted result. */
        char *name = repeat('a', PATH_MAX - 2);
        char *path = NULL;
        assert_true(asprintf(&path, "/%s", name) > 0);
        assert_int_equal(strlen(path), PATH_MAX - 1);
        check_fold(NULL, path, path);
        free(path);
        free(name);

        /* one byte more is refused */
        name = repeat('a', PATH_MAX - 1);
        assert_true(asprintf(&path, "/%s", name) > 0);
        assert_int_equal(strlen(path), PATH_MAX);
        check_fold_fails(NULL, path, -EINVAL);
        free(path);

        /* the base counts towards the result */
        char *half = repeat('b', PATH_MAX / 2);
        char *base = NULL;
        assert_true(asprintf(&base, "/%s", half) > 0);
        check_fold_fails(base, half, -EINVAL);
        free(base);
        free(half);
        free(name);
}

static void test_s3_long_input_folding_short_is_fine(void **state)
{
        (void)state;
        /* The limit is on the folded result, not on what was written. */
        size_t reps = PATH_MAX; /* "x/../" * PATH_MAX is 5 * PATH_MAX bytes */
        char *path = malloc(5 * reps + 3);
        assert_non_null(path);
        char *p = path;
        *p++ = '/';
        for (size_t i = 0; i < reps; i++) {
                memcpy(p, "x/../", 5);
                p += 5;
        }
        *p++ = 'y';
        *p = '\0';
        check_fold(NULL, path, "/y");
        free(path);
}

static void test_s3_names_with_spaces_and_raw_bytes_kept(void **state)
{
        (void)state;
        check_fold(NULL, "/a b/ c /d  ", "/a b/ c /d  ");
        check_fold(NULL, "/x/\xff\xfe\x01/\x80z", "/x/\xff\xfe\x01/\x80z");
        check_fold("/dir with space", "f\tg\nh", "/dir with space/f\tg\nh");
        check_fold(NULL, "/a\\b/c", "/a\\b/c");
}

/* ---- relations ---------------------------------------------------------------------- */

static void test_strict_descendant(void **state)
{
        (void)state;
        assert_true(path_is_strict_descendant("/a", "/a/b"));
        assert_true(path_is_strict_descendant("/a", "/a/b/c"));
        assert_true(path_is_strict_descendant("/a/b", "/a/b/c"));
        assert_false(path_is_strict_descendant("/a", "/a"));
        assert_false(path_is_strict_descendant("/a/b", "/a"));
        assert_false(path_is_strict_descendant("/a", "/b/a"));
        assert_false(path_is_strict_descendant("/a/b", "/a/c/b"));
}

static void test_strict_descendant_is_by_component_not_prefix(void **state)
{
        (void)state;
        assert_false(path_is_strict_descendant("/a", "/ab"));
        assert_false(path_is_strict_descendant("/a", "/ab/c"));
        assert_false(path_is_strict_descendant("/foo", "/foobar"));
        assert_false(path_is_strict_descendant("/foo/b", "/foo/bar"));
        assert_true(path_is_strict_descendant("/foo", "/foo/bar"));
}

static void test_strict_descendant_of_root(void **state)
{
        (void)state;
        assert_true(path_is_strict_descendant("/", "/a"));
        assert_true(path_is_strict_descendant("/", "/a/b"));
        assert_false(path_is_strict_descendant("/", "/"));
        assert_false(path_is_strict_descendant("/a", "/"));
}

static void test_same_line(void **state)
{
        (void)state;
        assert_true(path_on_same_line("/a", "/a"));
        assert_true(path_on_same_line("/a", "/a/b"));
        assert_true(path_on_same_line("/a/b", "/a"));
        assert_true(path_on_same_line("/", "/x/y"));
        assert_true(path_on_same_line("/x/y", "/"));
        assert_true(path_on_same_line("/", "/"));
        assert_false(path_on_same_line("/a", "/ab"));
        assert_false(path_on_same_line("/ab", "/a"));
        assert_false(path_on_same_line("/a/b", "/a/c"));
        assert_false(path_on_same_line("/a/b/c", "/a/c"));
}

static void test_depth(void **state)
{
        (void)state;
        assert_int_equal(path_depth("/"), 0);
        assert_int_equal(path_depth("/a"), 1);
        assert_int_equal(path_depth("/a/b"), 2);
        assert_int_equal(path_depth("/a/b/c"), 3);
        assert_int_equal(path_depth("/long name/with spaces"), 2);
}

static void check_parent(const char *path, const char *want)
{
        char *parent = NULL;
        assert_int_equal(path_parent(path, &parent), 0);
        char got[PATH_MAX + 1];
        (void)snprintf(got, sizeof got, "%s", parent);
        free(parent);
        assert_string_equal(got, want);
}

static void test_parent(void **state)
{
        (void)state;
        check_parent("/a", "/");
        check_parent("/a/b", "/a");
        check_parent("/a/b/c", "/a/b");
        check_parent("/a b/c d", "/a b");

        char sentinel = 0;
        char *parent = &sentinel;
        assert_int_equal(path_parent("/", &parent), -EINVAL);
        assert_ptr_equal(parent, &sentinel);
        assert_int_equal(path_parent("relative", &parent), -EINVAL);
        assert_ptr_equal(parent, &sentinel);
}

static void test_last(void **state)
{
        (void)state;
        assert_string_equal(path_last("/a/b"), "b");
        assert_string_equal(path_last("/a"), "a");
        assert_string_equal(path_last("/"), "");
        assert_string_equal(path_last("/x/name with space"), "name with space");
        const char *p = "/dir/file";
        assert_ptr_equal(path_last(p), p + 5); /* points into its argument */
}

static void check_join(const char *dir, const char *name, const char *want)
{
        char *out = NULL;
        int r = path_join(dir, name, &out);
        if (r != 0)
                fail_msg("path_join(%s, %s) = %d, want \"%s\"", dir, name, r, want);
        char got[PATH_MAX + 1];
        (void)snprintf(got, sizeof got, "%s", out);
        free(out);
        assert_string_equal(got, want);
}

static void test_join(void **state)
{
        (void)state;
        check_join("/a", "b", "/a/b");
        check_join("/", "x", "/x");
        check_join("/a/", "b/", "/a/b");
        check_join("/a", "b/c", "/a/b/c");
        check_join("/a", "b/../c", "/a/c");
        check_join("/a/b", "..", "/a");
        check_join("/a", "x y", "/a/x y");
}

/* path.h promises dir + "/" + name, folded: a name with a leading slash still lies
 * below dir ("/a" + "/" + "/b" folds to "/a/b")... */
static void test_join_absolute_name_stays_below_dir(void **state)
{
        (void)state;
        check_join("/a", "/b", "/a/b");
        check_join("/", "/b/c", "/b/c");
}

/* ...and an empty name gives dir itself ("/a" + "/" + "" folds to "/a"). */
static void test_join_empty_name_is_dir(void **state)
{
        (void)state;
        check_join("/a", "", "/a");
}

static void test_s3_is_normalized(void **state)
{
        (void)state;
        static const char *const good[] = {"/", "/a", "/a/b", "/a b/\xff", "/a/..b/.c/c."};
        static const char *const bad[] = {"",     "a",      "a/b",   "./a",  "/a/",   "//a",
                                          "/a//b", "/a/./b", "/a/.",  "/a/..", "/..",  "/.",
                                          "/a/../b"};
        for (size_t i = 0; i < sizeof good / sizeof *good; i++)
                assert_true(path_is_normalized(good[i]));
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_false(path_is_normalized(bad[i]));
        assert_false(path_is_normalized(NULL));
        /* PATH_MAX - 1 bytes fold to themselves; PATH_MAX do not fit */
        char long_path[PATH_MAX + 1];
        memset(long_path, 'x', sizeof long_path);
        long_path[0] = '/';
        long_path[PATH_MAX - 1] = '\0';
        assert_true(path_is_normalized(long_path));
        long_path[PATH_MAX - 1] = 'x';
        long_path[PATH_MAX] = '\0';
        assert_false(path_is_normalized(long_path));
}

/* S23: a path in a target namespace is taken as written, lexically: absolute, with no
 * "." or ".." (the daemon resolves it inside the target's root), slashes folded. */
static void expect_target_path(const char *in, const char *out)
{
        char *got = NULL;
        int r = request_target_path(in, &got);
        if (!out) {
                assert_int_equal(r, -EINVAL);
                return;
        }
        assert_int_equal(r, 0);
        assert_string_equal(got, out);
        free(got);
}

static void test_s23_target_paths_are_absolute_and_lexical(void **state)
{
        (void)state;
        expect_target_path("/srv/data", "/srv/data");
        expect_target_path("//srv///data/", "/srv/data");
        expect_target_path("/", "/");
        expect_target_path("/a/.hidden/..x", "/a/.hidden/..x");
        expect_target_path("srv/data", NULL);
        expect_target_path("", NULL);
        expect_target_path("/srv/./data", NULL);
        expect_target_path("/srv/../etc", NULL);
        expect_target_path("/..", NULL);
        expect_target_path(NULL, NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s3_relative_resolved_against_base),
                cmocka_unit_test(test_s23_target_paths_are_absolute_and_lexical),
                cmocka_unit_test(test_s3_absolute_ignores_base),
                cmocka_unit_test(test_s3_dot_folded),
                cmocka_unit_test(test_s3_dotdot_folded),
                cmocka_unit_test(test_s3_dotdot_above_root_is_root),
                cmocka_unit_test(test_s3_duplicate_and_trailing_slashes),
                cmocka_unit_test(test_s2_empty_or_null_path_is_einval),
                cmocka_unit_test(test_s3_relative_without_base_is_einval),
                cmocka_unit_test(test_s2_result_of_path_max_is_einval),
                cmocka_unit_test(test_s3_long_input_folding_short_is_fine),
                cmocka_unit_test(test_s3_names_with_spaces_and_raw_bytes_kept),
                cmocka_unit_test(test_strict_descendant),
                cmocka_unit_test(test_strict_descendant_is_by_component_not_prefix),
                cmocka_unit_test(test_strict_descendant_of_root),
                cmocka_unit_test(test_same_line),
                cmocka_unit_test(test_depth),
                cmocka_unit_test(test_parent),
                cmocka_unit_test(test_last),
                cmocka_unit_test(test_join),
                cmocka_unit_test(test_join_absolute_name_stays_below_dir),
                cmocka_unit_test(test_join_empty_name_is_dir),
                cmocka_unit_test(test_s3_is_normalized),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
