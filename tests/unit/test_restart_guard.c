/* test_restart_guard.c — unit tests of daemon/overlay/restart_guard.c: when bindlinkd stops
 * replacing an overlay whose server keeps ending right after it starts, and when it
 * tries again (S4). */
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
                assert_true(restart_guard_should_replace(&g, "/v", RESTART_GUARD_QUICK_MS, 1000,
                                                         &n));
                assert_int_equal(n, 0);
        }
        assert_true(restart_guard_should_replace(&g, "/v", UINT64_MAX, 1000, &n));
        restart_guard_done(&g);
}

static void test_s4_quick_ends_in_a_row_stop_the_replacing(void **state)
{
        (void)state;
        struct restart_guard g = {0};
        unsigned n;
        for (unsigned i = 1; i < RESTART_GUARD_LIMIT; i++) {
                assert_true(restart_guard_should_replace(&g, "/v", 10, 1000, &n));
                assert_int_equal(n, i);
        }
        assert_false(
                restart_guard_should_replace(&g, "/v", RESTART_GUARD_QUICK_MS - 1, 1000, &n));
        assert_int_equal(n, RESTART_GUARD_LIMIT);
        /* And stays stopped while it keeps ending quickly (a new create tried it). */
        assert_false(restart_guard_should_replace(&g, "/v", 0, 1000, &n));
        assert_int_equal(n, RESTART_GUARD_LIMIT + 1);
        restart_guard_done(&g);
}

static void test_s4_a_long_life_between_quick_ends_starts_the_count_afresh(void **state)
{
        (void)state;
        struct restart_guard g = {0};
        unsigned n;
        for (unsigned i = 1; i < RESTART_GUARD_LIMIT; i++)
                assert_true(restart_guard_should_replace(&g, "/v", 5, 1000, &n));
        assert_true(restart_guard_should_replace(&g, "/v", 60000, 1000, &n));
        assert_int_equal(n, 0);
        assert_true(restart_guard_should_replace(&g, "/v", 5, 1000, &n));
        assert_int_equal(n, 1);
        restart_guard_done(&g);
}

static void test_s4_directories_are_counted_apart(void **state)
{
        (void)state;
        struct restart_guard g = {0};
        unsigned n;
        for (unsigned i = 1; i < RESTART_GUARD_LIMIT; i++)
                assert_true(restart_guard_should_replace(&g, "/a", 5, 1000, &n));
        assert_true(restart_guard_should_replace(&g, "/b", 5, 1000, &n));
        assert_int_equal(n, 1);
        /* "/a" is a prefix of "/ab", not the same directory. */
        assert_true(restart_guard_should_replace(&g, "/ab", 5, 1000, &n));
        assert_int_equal(n, 1);
        assert_false(restart_guard_should_replace(&g, "/a", 5, 1000, &n));
        restart_guard_done(&g);
        assert_int_equal(g.count, 0);
}

/* Given up: tried again after retry_ms, then after twice as long each time, up to
 * 2^RESTART_GUARD_MAX_DOUBLINGS times; each due directory is returned once. */
static void test_s4_a_given_up_overlay_is_tried_again_later_and_later(void **state)
{
        (void)state;
        struct restart_guard g = {.retry_ms = 1000};
        unsigned n;
        uint64_t now = 5000;
        for (unsigned i = 1; i < RESTART_GUARD_LIMIT; i++)
                assert_true(restart_guard_should_replace(&g, "/v", 5, now, &n));
        assert_false(restart_guard_should_replace(&g, "/v", 5, now, &n));
        assert_null(restart_guard_due(&g, now + 999));
        assert_string_equal(restart_guard_due(&g, now + 1000), "/v");
        assert_null(restart_guard_due(&g, now + 1000)); /* once */
        uint64_t wait = 1000;
        for (unsigned i = 1; i <= RESTART_GUARD_MAX_DOUBLINGS + 2; i++) {
                now += 60000000;
                /* The one try ends quickly too: given up again at once. */
                assert_false(restart_guard_should_replace(&g, "/v", 5, now, &n));
                if (i <= RESTART_GUARD_MAX_DOUBLINGS)
                        wait *= 2;
                assert_null(restart_guard_due(&g, now + wait - 1));
                assert_string_equal(restart_guard_due(&g, now + wait), "/v");
        }
        /* A long life forgets it all: three quick ends again before giving up. */
        assert_true(restart_guard_should_replace(&g, "/v", 3600000, now, &n));
        for (unsigned i = 1; i < RESTART_GUARD_LIMIT; i++)
                assert_true(restart_guard_should_replace(&g, "/v", 5, now, &n));
        assert_false(restart_guard_should_replace(&g, "/v", 5, now, &n));
        assert_string_equal(restart_guard_due(&g, now + 1000), "/v");
        restart_guard_done(&g);
}

static void test_s4_without_a_retry_time_a_given_up_overlay_waits_for_a_create(void **state)
{
        (void)state;
        struct restart_guard g = {0};
        unsigned n;
        for (unsigned i = 0; i < RESTART_GUARD_LIMIT; i++)
                (void)restart_guard_should_replace(&g, "/v", 5, 1000, &n);
        assert_null(restart_guard_due(&g, UINT64_MAX));
        restart_guard_done(&g);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s4_a_crash_after_a_long_life_is_always_replaced),
                cmocka_unit_test(test_s4_quick_ends_in_a_row_stop_the_replacing),
                cmocka_unit_test(test_s4_a_long_life_between_quick_ends_starts_the_count_afresh),
                cmocka_unit_test(test_s4_directories_are_counted_apart),
                cmocka_unit_test(test_s4_a_given_up_overlay_is_tried_again_later_and_later),
                cmocka_unit_test(test_s4_without_a_retry_time_a_given_up_overlay_waits_for_a_create),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
