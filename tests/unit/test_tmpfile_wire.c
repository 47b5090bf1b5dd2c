/* test_tmpfile_wire.c — unit tests of overlay/core/tmpfile_wire.c: a FUSE_TMPFILE
 * request (O_TMPFILE through a view, S5) is handed to libfuse 3.14 as a FUSE_CREATE of
 * the name "/", and nothing else is ever changed. Opcodes and offsets are the kernel's
 * ABI, written out by number: FUSE_CREATE is 35, FUSE_TMPFILE 51 (protocol 7.37); the
 * header is 40 bytes, opcode at 4; fuse_create_in is 16 bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tmpfile_wire.h"

#define HEADER 40
#define CREATE_IN 16
#define OPCODE_AT 4

static uint32_t opcode_of(const unsigned char *msg)
{
        uint32_t v;
        memcpy(&v, msg + OPCODE_AT, sizeof v);
        return v;
}

/* A request of opcode with the name (and its NUL) after a fuse_create_in; its length. */
static size_t request(unsigned char *msg, size_t size, uint32_t opcode, const char *name)
{
        size_t len = HEADER + CREATE_IN + strlen(name) + 1;
        assert_true(len <= size);
        memset(msg, 0xA5, size);
        uint32_t len32 = (uint32_t)len;
        memcpy(msg, &len32, sizeof len32);
        memcpy(msg + OPCODE_AT, &opcode, sizeof opcode);
        memcpy(msg + HEADER + CREATE_IN, name, strlen(name) + 1);
        return len;
}

static void test_s5_tmpfile_request_becomes_a_create_of_slash(void **state)
{
        (void)state;
        unsigned char msg[128], before[128];
        size_t len = request(msg, sizeof msg, 51, "/");
        memcpy(before, msg, sizeof msg);
        assert_true(ovl_tmpfile_request_as_create(msg, len));
        assert_int_equal(opcode_of(msg), 35);
        /* Only the opcode changed. */
        memcpy(msg + OPCODE_AT, before + OPCODE_AT, 4);
        assert_memory_equal(msg, before, sizeof msg);
}

static void test_s5_other_requests_are_left_alone(void **state)
{
        (void)state;
        unsigned char msg[128], before[128];
        static const uint32_t opcodes[] = {35 /* CREATE */, 1 /* LOOKUP */, 26 /* INIT */, 50};
        for (size_t i = 0; i < sizeof opcodes / sizeof opcodes[0]; i++) {
                size_t len = request(msg, sizeof msg, opcodes[i], "/");
                memcpy(before, msg, sizeof msg);
                assert_false(ovl_tmpfile_request_as_create(msg, len));
                assert_memory_equal(msg, before, sizeof msg);
        }
}

static void test_s5_malformed_tmpfile_requests_are_left_alone(void **state)
{
        (void)state;
        unsigned char msg[128], before[128];
        /* Another name than "/". */
        size_t len = request(msg, sizeof msg, 51, "x");
        memcpy(before, msg, sizeof msg);
        assert_false(ovl_tmpfile_request_as_create(msg, len));
        assert_memory_equal(msg, before, sizeof msg);
        /* "/" not ending the name. */
        len = request(msg, sizeof msg, 51, "/x");
        assert_false(ovl_tmpfile_request_as_create(msg, len));
        assert_int_equal(opcode_of(msg), 51);
        /* Received length not the header's, or too short for its arguments. */
        len = request(msg, sizeof msg, 51, "/");
        assert_false(ovl_tmpfile_request_as_create(msg, len - 1));
        assert_false(ovl_tmpfile_request_as_create(msg, HEADER - 1));
        uint32_t short_len = HEADER + CREATE_IN;
        memcpy(msg, &short_len, sizeof short_len);
        assert_false(ovl_tmpfile_request_as_create(msg, short_len));
        assert_int_equal(opcode_of(msg), 51);
}

static void test_s5_tmpfile_name_is_recognized(void **state)
{
        (void)state;
        assert_true(ovl_is_tmpfile_name("/"));
        assert_false(ovl_is_tmpfile_name(""));
        assert_false(ovl_is_tmpfile_name("//"));
        assert_false(ovl_is_tmpfile_name("a"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s5_tmpfile_request_becomes_a_create_of_slash),
                cmocka_unit_test(test_s5_other_requests_are_left_alone),
                cmocka_unit_test(test_s5_malformed_tmpfile_requests_are_left_alone),
                cmocka_unit_test(test_s5_tmpfile_name_is_recognized),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
