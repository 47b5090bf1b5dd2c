/* test_passthrough_wire.c — unit tests of overlay/core/passthrough_wire.c: the
 * FUSE passthrough fields that bindlink-overlay reads from the kernel's INIT request
 * and writes into libfuse 3.14's INIT and open replies (read-only merged views, S13),
 * and FUSE_HANDLE_KILLPRIV_V2, taken in the INIT reply of every view (S5).
 * Offsets are the kernel's ABI (protocol 7.40), written out here by number so that a
 * layout mistake in the code cannot hide behind the same mistake in the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>

#include "passthrough_wire.h"

#define FLAGS2_PASSTHROUGH (1u << 5) /* FUSE_PASSTHROUGH is bit 37 of the 64-bit flags */
#define FOPEN_PASSTHROUGH_BIT (1u << 7)
/* fuse_init_out: flags at 12, flags2 at 32, max_stack_depth at 36 (7.40). */
#define INIT_OUT_FLAGS 12
#define INIT_OUT_FLAGS2 32
#define INIT_OUT_MAX_STACK_DEPTH 36
/* fuse_open_out: open_flags at 8, backing_id at 12 (7.40). */
#define OPEN_OUT_FLAGS 8
#define OPEN_OUT_BACKING_ID 12

static uint32_t u32_at(const void *base, size_t off)
{
        uint32_t v;
        memcpy(&v, (const char *)base + off, sizeof v);
        return v;
}

static void init_request(unsigned char *msg, uint32_t opcode, uint32_t flags, uint32_t flags2)
{
        struct fuse_in_header in = {.len = sizeof in + sizeof(struct fuse_init_in),
                                    .opcode = opcode,
                                    .unique = 42};
        struct fuse_init_in init = {.major = 7, .minor = 40, .flags = flags, .flags2 = flags2};
        memcpy(msg, &in, sizeof in);
        memcpy(msg + sizeof in, &init, sizeof init);
}

/* ---- the INIT request -------------------------------------------------------------- */

static void test_s13_init_request_offering_passthrough_is_seen(void **state)
{
        (void)state;
        unsigned char msg[sizeof(struct fuse_in_header) + sizeof(struct fuse_init_in)];
        init_request(msg, FUSE_INIT, FUSE_INIT_EXT | FUSE_ASYNC_READ, FLAGS2_PASSTHROUGH);
        uint64_t unique = 0;
        bool offered = false;
        assert_true(pt_parse_init_request(msg, sizeof msg, &unique, &offered));
        assert_int_equal(unique, 42);
        assert_true(offered);
}

static void test_s13_init_request_without_passthrough_or_ext_offers_nothing(void **state)
{
        (void)state;
        unsigned char msg[sizeof(struct fuse_in_header) + sizeof(struct fuse_init_in)];
        uint64_t unique;
        bool offered = true;
        init_request(msg, FUSE_INIT, FUSE_INIT_EXT, 0);
        assert_true(pt_parse_init_request(msg, sizeof msg, &unique, &offered));
        assert_false(offered);
        /* flags2 means nothing without FUSE_INIT_EXT (an older kernel's garbage). */
        offered = true;
        init_request(msg, FUSE_INIT, 0, FLAGS2_PASSTHROUGH);
        assert_true(pt_parse_init_request(msg, sizeof msg, &unique, &offered));
        assert_false(offered);
}

static void test_s13_other_requests_and_short_reads_are_not_init(void **state)
{
        (void)state;
        unsigned char msg[sizeof(struct fuse_in_header) + sizeof(struct fuse_init_in)];
        uint64_t unique = 7;
        bool offered = false;
        init_request(msg, FUSE_LOOKUP, FUSE_INIT_EXT, FLAGS2_PASSTHROUGH);
        assert_false(pt_parse_init_request(msg, sizeof msg, &unique, &offered));
        init_request(msg, FUSE_INIT, FUSE_INIT_EXT, FLAGS2_PASSTHROUGH);
        assert_false(pt_parse_init_request(msg, sizeof msg - 1, &unique, &offered));
        assert_int_equal(unique, 7);
}

/* ---- the INIT reply ---------------------------------------------------------------- */

struct reply {
        struct fuse_out_header out;
        unsigned char body[sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out)];
        struct iovec iov[2];
};

static void reply_init(struct reply *r, int32_t error, size_t body_len)
{
        memset(r, 0, sizeof *r);
        r->out.error = error;
        r->out.unique = 42;
        r->iov[0] = (struct iovec){.iov_base = &r->out, .iov_len = sizeof r->out};
        r->iov[1] = (struct iovec){.iov_base = r->body, .iov_len = body_len};
}

static void test_s13_init_reply_asks_for_passthrough_with_stack_depth_1(void **state)
{
        (void)state;
        struct reply r;
        reply_init(&r, 0, sizeof(struct fuse_init_out));
        uint32_t flags = FUSE_ASYNC_READ | FUSE_SPLICE_WRITE;
        memcpy(r.body + INIT_OUT_FLAGS, &flags, sizeof flags);
        assert_true(pt_patch_init_reply(r.iov, 2));
        assert_int_equal(u32_at(r.body, INIT_OUT_FLAGS), flags | FUSE_INIT_EXT);
        assert_int_equal(u32_at(r.body, INIT_OUT_FLAGS2), FLAGS2_PASSTHROUGH);
        assert_int_equal(u32_at(r.body, INIT_OUT_MAX_STACK_DEPTH), 1);
}

static void test_s13_init_reply_with_writeback_cache_or_error_is_left_alone(void **state)
{
        (void)state;
        struct reply r, before;
        reply_init(&r, 0, sizeof(struct fuse_init_out));
        uint32_t flags = FUSE_WRITEBACK_CACHE;
        memcpy(r.body + INIT_OUT_FLAGS, &flags, sizeof flags);
        memcpy(&before.body, r.body, sizeof r.body);
        assert_false(pt_patch_init_reply(r.iov, 2));
        assert_memory_equal(r.body, before.body, sizeof r.body);

        reply_init(&r, -EPROTO, sizeof(struct fuse_init_out));
        assert_false(pt_patch_init_reply(r.iov, 2));
        assert_int_equal(u32_at(r.body, INIT_OUT_FLAGS2), 0);

        /* An old protocol's short reply has no flags2 to set. */
        reply_init(&r, 0, 24);
        assert_false(pt_patch_init_reply(r.iov, 2));
        assert_false(pt_patch_init_reply(r.iov, 1));
}

/* ---- killpriv v2: no security.capability request before every write (S5) ------------ */

#define KILLPRIV_V1 (1u << 19)
#define KILLPRIV_V2 (1u << 28)

static void test_s5_init_request_offering_killpriv_v2_is_seen(void **state)
{
        (void)state;
        unsigned char msg[sizeof(struct fuse_in_header) + sizeof(struct fuse_init_in)];
        init_request(msg, FUSE_INIT, FUSE_ASYNC_READ | KILLPRIV_V2, 0);
        assert_true(pt_init_offers_killpriv_v2(msg, sizeof msg));
        init_request(msg, FUSE_INIT, FUSE_ASYNC_READ | KILLPRIV_V1, 0);
        assert_false(pt_init_offers_killpriv_v2(msg, sizeof msg));
        init_request(msg, FUSE_LOOKUP, KILLPRIV_V2, 0);
        assert_false(pt_init_offers_killpriv_v2(msg, sizeof msg));
        init_request(msg, FUSE_INIT, KILLPRIV_V2, 0);
        assert_false(pt_init_offers_killpriv_v2(msg, sizeof msg - 1));
}

static void test_s5_init_reply_takes_killpriv_v2_instead_of_v1(void **state)
{
        (void)state;
        struct reply r;
        reply_init(&r, 0, sizeof(struct fuse_init_out));
        uint32_t flags = FUSE_ASYNC_READ | KILLPRIV_V1;
        memcpy(r.body + INIT_OUT_FLAGS, &flags, sizeof flags);
        assert_true(pt_patch_init_reply_killpriv_v2(r.iov, 2));
        assert_int_equal(u32_at(r.body, INIT_OUT_FLAGS), FUSE_ASYNC_READ | KILLPRIV_V2);
        assert_int_equal(u32_at(r.body, INIT_OUT_FLAGS2), 0);

        reply_init(&r, -EPROTO, sizeof(struct fuse_init_out));
        assert_false(pt_patch_init_reply_killpriv_v2(r.iov, 2));
        assert_int_equal(u32_at(r.body, INIT_OUT_FLAGS), 0);
        reply_init(&r, 0, 24);
        assert_false(pt_patch_init_reply_killpriv_v2(r.iov, 2));
        assert_int_equal(u32_at(r.body, INIT_OUT_FLAGS), 0);
}

/* ---- open and create replies ------------------------------------------------------- */

static void test_s13_open_reply_is_marked_passthrough_with_its_backing_id(void **state)
{
        (void)state;
        struct reply r;
        reply_init(&r, 0, sizeof(struct fuse_open_out));
        uint32_t flags = FOPEN_NOFLUSH;
        uint64_t fh = 0x1122334455667788ull;
        memcpy(r.body, &fh, sizeof fh);
        memcpy(r.body + OPEN_OUT_FLAGS, &flags, sizeof flags);
        assert_true(pt_patch_open_reply(r.iov, 2, 5));
        assert_int_equal(u32_at(r.body, OPEN_OUT_FLAGS), FOPEN_NOFLUSH | FOPEN_PASSTHROUGH_BIT);
        assert_int_equal((int32_t)u32_at(r.body, OPEN_OUT_BACKING_ID), 5);
        uint64_t fh_after;
        memcpy(&fh_after, r.body, sizeof fh_after);
        assert_true(fh_after == fh);
}

static void test_s13_create_reply_marks_the_open_part_after_the_entry(void **state)
{
        (void)state;
        struct reply r;
        size_t entry = sizeof(struct fuse_entry_out);
        reply_init(&r, 0, entry + sizeof(struct fuse_open_out));
        memset(r.body, 0xab, entry);
        assert_true(pt_patch_open_reply(r.iov, 2, 9));
        for (size_t i = 0; i < entry; i++)
                assert_int_equal(r.body[i], 0xab);
        assert_int_equal(u32_at(r.body, entry + OPEN_OUT_FLAGS), FOPEN_PASSTHROUGH_BIT);
        assert_int_equal((int32_t)u32_at(r.body, entry + OPEN_OUT_BACKING_ID), 9);
}

static void test_s13_other_replies_are_not_marked(void **state)
{
        (void)state;
        struct reply r;
        /* An error reply to the open. */
        reply_init(&r, -EACCES, sizeof(struct fuse_open_out));
        assert_false(pt_patch_open_reply(r.iov, 2, 5));
        /* A reply of another size (an attr reply, say). */
        reply_init(&r, 0, sizeof(struct fuse_attr_out));
        assert_false(pt_patch_open_reply(r.iov, 2, 5));
        for (size_t i = 0; i < sizeof r.body; i++)
                assert_int_equal(r.body[i], 0);
        /* Header only. */
        reply_init(&r, 0, 0);
        assert_false(pt_patch_open_reply(r.iov, 1, 5));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s13_init_request_offering_passthrough_is_seen),
                cmocka_unit_test(test_s13_init_request_without_passthrough_or_ext_offers_nothing),
                cmocka_unit_test(test_s13_other_requests_and_short_reads_are_not_init),
                cmocka_unit_test(test_s13_init_reply_asks_for_passthrough_with_stack_depth_1),
                cmocka_unit_test(test_s13_init_reply_with_writeback_cache_or_error_is_left_alone),
                cmocka_unit_test(test_s13_open_reply_is_marked_passthrough_with_its_backing_id),
                cmocka_unit_test(test_s13_create_reply_marks_the_open_part_after_the_entry),
                cmocka_unit_test(test_s13_other_replies_are_not_marked),
                cmocka_unit_test(test_s5_init_request_offering_killpriv_v2_is_seen),
                cmocka_unit_test(test_s5_init_reply_takes_killpriv_v2_instead_of_v1),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
