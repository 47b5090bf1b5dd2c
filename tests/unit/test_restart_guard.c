/* test_restart_guard.c — unit tests of daemon/restart_guard.c: when bindlinkd stops
 * replacing an overlay whose server keeps ending right after it starts (S4). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "restart_guard.h"

static void test_s4_a_crash_after_a_long_life_is_always_replaced(void **state)
{
        (void)state;
        struct restart_guard g = {0};
        unsigned n = 99;
        for (int i = 0; i < 10; i++) {
                assert_true(restart_guard_should_replace(&g, "/v", RESTART_GUARD_QUICK_MS, &n));
                assert_int_equal(n, 0);
        }
        assert_true(restart_guard_should_replace(&g, "/v", UINT64_MAX, &n));
        restart_guard_done(&g);
}

static void test_s4_quick_ends_in_a_row_stop_the_replacing(void **state)
{
        (void)state;
        struct restart_guard g = {0};
        unsigned n;
        for (unsigned i = 1; i < RESTART_GUARD_LIMIT; i++) {
                assert_true(restart_guard_should_replace(&g, "/v", 10, &n));
                assert_int_equal(n, i);
        }
        assert_false(restart_guard_should_replace(&g, "/v", RESTART_GUARD_QUICK_MS - 1, &n));
        assert_int_equal(n, RESTART_GUARD_LIMIT);
        /* And stays stopped while it keeps ending quickly (a new create tried it). */
        assert_false(restart_guard_should_replace(&g, "/v", 0, &n));
        assert_int_equal(n, RESTART_GUARD_LIMIT + 1);
        restart_guard_done(&g);
}

static void test_s4_a_long_life_between_quick_ends_starts_the_count_afresh(void **state)
{
        (void)state;
        struct restart_guard g = {0};
        unsigned n;
        for (unsigned i = 1; i < RESTART_GUARD_LIMIT; i++)
                assert_true(restart_guard_should_replace(&g, "/v", 5, &n));
        assert_true(restart_guard_should_replace(&g, "/v", 60000, &n));
        assert_int_equal(n, 0);
        assert_true(restart_guard_should_replace(&g, "/v", 5, &n));
        assert_int_equal(n, 1);
        restart_guard_done(&g);
}

static void test_s4_directories_are_counted_apart(void **state)
{
        (void)state;
        struct restart_guard g = {0};
        unsigned n;
        for (unsigned i = 1; i < RESTART_GUARD_LIMIT; i++)
                assert_true(restart_guard_should_replace(&g, "/a", 5, &n));
        assert_true(restart_guard_should_replace(&g, "/b", 5, &n));
        assert_int_equal(n, 1);
        /* "/a" is a prefix of "/ab", not the same directory. */
        assert_true(restart_guard_should_replace(&g, "/ab", 5, &n));
        assert_int_equal(n, 1);
        assert_false(restart_guard_should_replace(&g, "/a", 5, &n));
        restart_guard_done(&g);
        assert_int_equal(g.count, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s4_a_crash_after_a_long_life_is_always_replaced),
                cmocka_unit_test(test_s4_quick_ends_in_a_row_stop_the_replacing),
                cmocka_unit_test(test_s4_a_long_life_between_quick_ends_starts_the_count_afresh),
                cmocka_unit_test(test_s4_directories_are_counted_apart),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
