/* test_hresult.c — unit tests of common/hresult.c and bindlink.h's Windows macros: every
 * row of S2's errno -> HRESULT table, the flag values of S1, and the name helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "bindlink.h"

/* Compare HRESULTs as 32-bit patterns (cmocka widens signed values). */
#define assert_hr(hr, want) assert_int_equal((uint32_t)(hr), (uint32_t)(want))

static HRESULT create_hr(int error, bindlink_fault fault)
{
        return bindlink_hresult_from_errno(error, fault, 0);
}

static HRESULT remove_hr(int error, bindlink_fault fault)
{
        return bindlink_hresult_from_errno(error, fault, 1);
}

/* ---- the macros and flags ---------------------------------------------------------- */

static void test_s2_hresult_from_win32(void **state)
{
        (void)state;
        assert_hr(HRESULT_FROM_WIN32(2), 0x80070002u);
        assert_true(HRESULT_FROM_WIN32(2) == (HRESULT)0x80070002);
        assert_hr(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND), 0x80070003u);
        assert_hr(HRESULT_FROM_WIN32(ERROR_NOT_FOUND), 0x80070490u);
        assert_hr(HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE), 0x800706BAu);
        /* 0 and values that already are HRESULTs pass through */
        assert_hr(HRESULT_FROM_WIN32(0), 0);
        assert_hr(HRESULT_FROM_WIN32(E_ACCESSDENIED), E_ACCESSDENIED);
}

static void test_s2_constants(void **state)
{
        (void)state;
        assert_hr(S_OK, 0);
        assert_hr(E_ACCESSDENIED, 0x80070005u);
        assert_hr(E_INVALIDARG, 0x80070057u);
        assert_hr(E_NOTIMPL, 0x80004001u);
        assert_hr(E_OUTOFMEMORY, 0x8007000Eu);
        assert_hr(E_FAIL, 0x80004005u);
        assert_int_equal(sizeof(HRESULT), 4);
}

static void test_s2_succeeded_failed(void **state)
{
        (void)state;
        assert_true(SUCCEEDED(S_OK));
        assert_false(FAILED(S_OK));
        assert_true(SUCCEEDED((HRESULT)1)); /* S_FALSE */
        assert_true(FAILED(E_ACCESSDENIED));
        assert_false(SUCCEEDED(E_ACCESSDENIED));
        assert_true(FAILED(HRESULT_FROM_WIN32(2)));
        assert_true(FAILED(E_NOTIMPL));
        assert_true(FAILED((HRESULT)0x80000000));
}

static void test_s1_flag_values(void **state)
{
        (void)state;
        assert_int_equal(CREATE_BIND_LINK_FLAG_NONE, 0x0);
        assert_int_equal(CREATE_BIND_LINK_FLAG_READ_ONLY, 0x1);
        assert_int_equal(CREATE_BIND_LINK_FLAG_MERGED, 0x2);
        assert_int_equal(BINDLINK_MAX_EXCEPTIONS, 256);
}

/* ---- S2, row by row ------------------------------------------------------------------ */

static void test_s2_success_is_s_ok(void **state)
{
        (void)state;
        assert_hr(create_hr(0, BINDLINK_FAULT_NONE), S_OK);
        assert_hr(remove_hr(0, BINDLINK_FAULT_VIRTUAL), S_OK);
}

static void test_s2_eperm_is_access_denied(void **state)
{
        (void)state;
        assert_hr(create_hr(EPERM, BINDLINK_FAULT_CALLER), 0x80070005u);
        assert_hr(remove_hr(EPERM, BINDLINK_FAULT_CALLER), 0x80070005u);
}

static void test_s2_eacces_is_access_denied(void **state)
{
        (void)state;
        assert_hr(create_hr(EACCES, BINDLINK_FAULT_VIRTUAL_PARENT), 0x80070005u);
        assert_hr(create_hr(EACCES, BINDLINK_FAULT_BACKING), 0x80070005u);
        assert_hr(create_hr(EACCES, BINDLINK_FAULT_EXCEPTION), 0x80070005u);
}

static void test_s2_backing_missing_is_file_not_found(void **state)
{
        (void)state;
        assert_hr(create_hr(ENOENT, BINDLINK_FAULT_BACKING), 0x80070002u);
}

static void test_s2_exception_missing_is_file_not_found(void **state)
{
        (void)state;
        assert_hr(create_hr(ENOENT, BINDLINK_FAULT_EXCEPTION), 0x80070002u);
}

static void test_s6_parent_missing_is_path_not_found(void **state)
{
        (void)state;
        assert_hr(create_hr(ENOENT, BINDLINK_FAULT_VIRTUAL_PARENT), 0x80070003u);
}

static void test_s2_remove_of_no_link_is_not_found(void **state)
{
        (void)state;
        assert_hr(remove_hr(ENOENT, BINDLINK_FAULT_VIRTUAL), 0x80070490u);
        /* the same errno on a create is not ERROR_NOT_FOUND */
        assert_true((uint32_t)create_hr(ENOENT, BINDLINK_FAULT_VIRTUAL) != 0x80070490u);
}

static void test_s2_daemon_unreachable_is_server_unavailable(void **state)
{
        (void)state;
        assert_hr(create_hr(ENOENT, BINDLINK_FAULT_DAEMON), 0x800706BAu);
        assert_hr(remove_hr(ENOENT, BINDLINK_FAULT_DAEMON), 0x800706BAu);
        assert_hr(create_hr(ECONNREFUSED, BINDLINK_FAULT_DAEMON), 0x800706BAu);
        assert_hr(create_hr(ECONNREFUSED, BINDLINK_FAULT_NONE), 0x800706BAu);
        assert_hr(remove_hr(ECONNREFUSED, BINDLINK_FAULT_DAEMON), 0x800706BAu);
}

static void test_s2_eexist_is_invalid_arg(void **state)
{
        (void)state;
        assert_hr(create_hr(EEXIST, BINDLINK_FAULT_VIRTUAL), 0x80070057u);
}

static void test_s2_einval_is_invalid_arg(void **state)
{
        (void)state;
        assert_hr(create_hr(EINVAL, BINDLINK_FAULT_FLAGS), 0x80070057u);
        assert_hr(create_hr(EINVAL, BINDLINK_FAULT_EXCEPTION), 0x80070057u);
        assert_hr(create_hr(EINVAL, BINDLINK_FAULT_VIRTUAL), 0x80070057u);
        assert_hr(remove_hr(EINVAL, BINDLINK_FAULT_VIRTUAL), 0x80070057u);
}

static void test_s2_enotsup_is_notimpl(void **state)
{
        (void)state;
        assert_hr(create_hr(ENOTSUP, BINDLINK_FAULT_VIRTUAL), 0x80004001u);
}

static void test_s18_eloop_is_cant_resolve_filename(void **state)
{
        (void)state;
        assert_hr(create_hr(ELOOP, BINDLINK_FAULT_BACKING), 0x80070781u);
}

static void test_s2_internal_failure_is_never_s_ok(void **state)
{
        (void)state;
        /* errnos with no row of their own, and one no system has */
        const int errors[] = {EIO,    EBUSY, ENOMEM, EXDEV,  ESTALE, EOVERFLOW,
                              EAGAIN, EBADF, EISDIR, ENODEV, EDOM,   4095};
        for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
                HRESULT hr = create_hr(errors[i], BINDLINK_FAULT_NONE);
                assert_true(FAILED(hr));
                assert_true(hr != S_OK);
                hr = remove_hr(errors[i], BINDLINK_FAULT_NONE);
                assert_true(FAILED(hr));
        }
}

static void test_s2_negative_errno_same_as_positive(void **state)
{
        (void)state;
        const int errors[] = {EPERM,   EACCES, ENOENT, ECONNREFUSED, EEXIST,  EINVAL,
                              ENOTSUP, ELOOP,  EIO,    ENOMEM,       ENOTDIR, 4095};
        const bindlink_fault faults[] = {BINDLINK_FAULT_NONE,           BINDLINK_FAULT_VIRTUAL,
                                         BINDLINK_FAULT_VIRTUAL_PARENT, BINDLINK_FAULT_BACKING,
                                         BINDLINK_FAULT_EXCEPTION,      BINDLINK_FAULT_DAEMON};
        for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
                for (size_t f = 0; f < sizeof faults / sizeof faults[0]; f++)
                        for (int is_remove = 0; is_remove <= 1; is_remove++)
                                assert_hr(bindlink_hresult_from_errno(-errors[i], faults[f],
                                                                      is_remove),
                                          bindlink_hresult_from_errno(errors[i], faults[f],
                                                                      is_remove));
}

/* ---- messages ---------------------------------------------------------------------- */

/* Every HRESULT the library can return has its own sentence (a Windows program prints
 * FormatMessage's); any other is "Unknown error.". */
static void test_s2_every_hresult_returned_has_a_message(void **state)
{
        (void)state;
        assert_string_equal(bindlink_hresult_message(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)),
                            "The system cannot find the file specified.");
        assert_string_equal(bindlink_hresult_message(E_ACCESSDENIED), "Access is denied.");
        assert_string_equal(bindlink_hresult_message((HRESULT)0x80070001), "Unknown error.");
        const bindlink_fault faults[] = {BINDLINK_FAULT_NONE,           BINDLINK_FAULT_VIRTUAL,
                                         BINDLINK_FAULT_VIRTUAL_PARENT, BINDLINK_FAULT_BACKING,
                                         BINDLINK_FAULT_EXCEPTION,      BINDLINK_FAULT_DAEMON};
        const char *seen[64][2];
        size_t seen_count = 0;
        for (int error = 0; error < 4096; error++)
                for (size_t f = 0; f < sizeof faults / sizeof faults[0]; f++)
                        for (int is_remove = 0; is_remove <= 1; is_remove++) {
                                HRESULT hr =
                                        bindlink_hresult_from_errno(error, faults[f], is_remove);
                                const char *text = bindlink_hresult_message(hr);
                                assert_string_not_equal(text, "Unknown error.");
                                size_t i = 0;
                                while (i < seen_count && strcmp(seen[i][1], text) != 0)
                                        i++;
                                if (i == seen_count) {
                                        assert_true(seen_count < 64);
                                        seen[seen_count][0] = (const char *)(intptr_t)hr;
                                        seen[seen_count++][1] = text;
                                } else {
                                        /* One sentence, one HRESULT. */
                                        assert_true((HRESULT)(intptr_t)seen[i][0] == hr);
                                }
                        }
        assert_true(seen_count >= 15);
}

/* ---- names ------------------------------------------------------------------------- */

static void test_errno_name(void **state)
{
        (void)state;
        assert_string_equal(bindlink_errno_name(ENOENT), "ENOENT");
        assert_string_equal(bindlink_errno_name(EPERM), "EPERM");
        assert_string_equal(bindlink_errno_name(EACCES), "EACCES");
        assert_string_equal(bindlink_errno_name(ELOOP), "ELOOP");
        assert_string_equal(bindlink_errno_name(ECONNREFUSED), "ECONNREFUSED");
        assert_string_equal(bindlink_errno_name(-EEXIST), "EEXIST");
        assert_null(bindlink_errno_name(0));
        assert_null(bindlink_errno_name(4095));
        assert_null(bindlink_errno_name(-4095));
}

static void test_s21_realization_name(void **state)
{
        (void)state;
        assert_string_equal(bindlink_realization_name(BINDLINK_REALIZED_NONE), "none");
        assert_string_equal(bindlink_realization_name(BINDLINK_REALIZED_BIND), "bind");
        assert_string_equal(bindlink_realization_name(BINDLINK_REALIZED_OVERLAY), "overlay");
        assert_string_equal(bindlink_realization_name((bindlink_realization)42), "none");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s2_hresult_from_win32),
                cmocka_unit_test(test_s2_constants),
                cmocka_unit_test(test_s2_succeeded_failed),
                cmocka_unit_test(test_s1_flag_values),
                cmocka_unit_test(test_s2_success_is_s_ok),
                cmocka_unit_test(test_s2_eperm_is_access_denied),
                cmocka_unit_test(test_s2_eacces_is_access_denied),
                cmocka_unit_test(test_s2_backing_missing_is_file_not_found),
                cmocka_unit_test(test_s2_exception_missing_is_file_not_found),
                cmocka_unit_test(test_s6_parent_missing_is_path_not_found),
                cmocka_unit_test(test_s2_remove_of_no_link_is_not_found),
                cmocka_unit_test(test_s2_daemon_unreachable_is_server_unavailable),
                cmocka_unit_test(test_s2_eexist_is_invalid_arg),
                cmocka_unit_test(test_s2_einval_is_invalid_arg),
                cmocka_unit_test(test_s2_enotsup_is_notimpl),
                cmocka_unit_test(test_s18_eloop_is_cant_resolve_filename),
                cmocka_unit_test(test_s2_internal_failure_is_never_s_ok),
                cmocka_unit_test(test_s2_negative_errno_same_as_positive),
                cmocka_unit_test(test_s2_every_hresult_returned_has_a_message),
                cmocka_unit_test(test_errno_name),
                cmocka_unit_test(test_s21_realization_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
