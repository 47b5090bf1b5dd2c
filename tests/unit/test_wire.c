/* test_wire.c — unit tests of common/wire.c: every message survives an encode/decode round
 * trip, and malformed input (truncated, overlong, lying lengths and counts, bad
 * headers, random corruption) is refused with -EPROTO/-EMSGSIZE without crashing. */
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

#include "bindlink.h"
#include "wire.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* A message split into its checked header and a private copy of its payload, sized
 * exactly, so that ASan sees any read past the end. */
struct decoded {
        struct wire_header header;
        uint8_t *payload;
        size_t len;
};

static struct decoded split_message(const struct wire_buf *buf, size_t at)
{
        struct decoded d = {0};
        assert_true(buf->len >= at + WIRE_HEADER_SIZE);
        assert_int_equal(wire_parse_header(buf->data + at, buf->len - at, &d.header), 0);
        assert_int_equal(d.header.magic, WIRE_MAGIC);
        assert_int_equal(d.header.version, WIRE_VERSION);
        d.len = d.header.length;
        assert_true(at + WIRE_HEADER_SIZE + d.len <= buf->len);
        d.payload = malloc(d.len ? d.len : 1);
        assert_non_null(d.payload);
        memcpy(d.payload, buf->data + at + WIRE_HEADER_SIZE, d.len);
        return d;
}

/* A private, exactly sized copy of the first n bytes. */
static uint8_t *copy_bytes(const uint8_t *data, size_t n)
{
        uint8_t *p = malloc(n ? n : 1);
        assert_non_null(p);
        if (n)
                memcpy(p, data, n);
        return p;
}

/* Raw payload builder for input the encoder would never produce. */
struct raw {
        uint8_t data[1 << 21];
        size_t len;
};

static struct raw *raw_new(void)
{
        struct raw *r = calloc(1, sizeof *r);
        assert_non_null(r);
        return r;
}

static void raw_bytes(struct raw *r, const void *p, size_t n)
{
        assert_true(r->len + n <= sizeof r->data);
        memcpy(r->data + r->len, p, n);
        r->len += n;
}

static void raw_u32(struct raw *r, uint32_t v)
{
        raw_bytes(r, &v, sizeof v);
}
static void raw_u64(struct raw *r, uint64_t v)
{
        raw_bytes(r, &v, sizeof v);
}

static void raw_str(struct raw *r, const char *s)
{
        raw_u32(r, (uint32_t)strlen(s));
        raw_bytes(r, s, strlen(s));
}

/* A string field of n bytes of 'a'. */
static void raw_long_str(struct raw *r, uint32_t n)
{
        raw_u32(r, n);
        assert_true(r->len + n <= sizeof r->data);
        memset(r->data + r->len, 'a', n);
        r->len += n;
}

static const char *const sample_exceptions[] = {"/v/path/e1", "/v/path/sub dir/e2",
                                                "/v/path/\xff\x01"};
static int32_t sample_errors[] = {0, ENOENT, EACCES};

static struct wire_create sample_create(uint32_t exception_count)
{
        return (struct wire_create){
                .flags = 3,
                .exception_count = exception_count,
                .virtual_path = (char *)"/v/path",
                .parent_error = 0,
                .backing_path = (char *)"/backing with space",
                .backing_error = EACCES,
                .exception_paths = (char **)sample_exceptions,
                .exception_errors = sample_errors,
        };
}

static const char *const sample_link_exceptions[] = {"/srv/x/a", "/srv/x/b"};

static struct wire_link sample_link(void)
{
        return (struct wire_link){
                .order = (1ull << 40) + 7,
                .flags = 1,
                .realization = 2,
                .virtual_path = (char *)"/srv/x",
                .backing_path = (char *)"/data/x",
                .exception_count = 2,
                .exception_paths = (char **)sample_link_exceptions,
        };
}

static struct wire_target sample_target(void)
{
        return (struct wire_target){
                .kind = WIRE_TARGET_PIDFD, .pid = 0, .root = (char *)"/bundle/rootfs"};
}

/* Encode a message of type `type` (the samples above) into a fresh buffer. */
static struct wire_buf encode_sample(enum wire_type type)
{
        struct wire_buf buf = {0};
        int r = -1;
        switch (type) {
        case WIRE_CREATE: {
                struct wire_create c = sample_create(3);
                r = wire_put_create(&buf, &c, 5);
                break;
        }
        case WIRE_REMOVE:
        case WIRE_REMOVE_TREE: {
                struct wire_remove m = {.virtual_path = (char *)"/v/path",
                                        .tree = type == WIRE_REMOVE_TREE};
                r = wire_put_remove(&buf, &m);
                break;
        }
        case WIRE_LIST:
                r = wire_put_list(&buf);
                break;
        case WIRE_EXPLAIN: {
                struct wire_explain m = {.path = (char *)"/v/path"};
                r = wire_put_explain(&buf, &m);
                break;
        }
        case WIRE_EXPLAIN_STEP: {
                struct wire_step m = {.kind = 3,
                                      .path = (char *)"/v/path/x",
                                      .order = 7,
                                      .flags = 2,
                                      .virtual_path = (char *)"/v/path",
                                      .backing_path = (char *)"/b",
                                      .detail = (char *)"why"};
                r = wire_put_step(&buf, &m);
                break;
        }
        case WIRE_REPLY: {
                struct wire_reply m = {.status = -ENOENT,
                                       .fault = 3,
                                       .exception_index = 1,
                                       .path = (char *)"/some/path",
                                       .message = (char *)"why"};
                r = wire_put_reply(&buf, &m);
                break;
        }
        case WIRE_LIST_ENTRY: {
                struct wire_link l = sample_link();
                r = wire_put_link(&buf, &l);
                break;
        }
        case WIRE_CREATE_IN: {
                struct wire_create c = sample_create(2);
                struct wire_target t = sample_target();
                r = wire_put_create_in(&buf, &t, &c, 4);
                break;
        }
        case WIRE_REMOVE_IN:
        case WIRE_REMOVE_TREE_IN: {
                struct wire_remove m = {.virtual_path = (char *)"/v/path",
                                        .tree = type == WIRE_REMOVE_TREE_IN};
                struct wire_target t = sample_target();
                r = wire_put_remove_in(&buf, &t, &m, 1);
                break;
        }
        case WIRE_LIST_IN: {
                struct wire_target t = {.kind = WIRE_TARGET_ALL, .root = (char *)""};
                r = wire_put_list_in(&buf, &t, 0);
                break;
        }
        case WIRE_LIST_ENTRY_IN: {
                struct wire_link l = sample_link();
                l.scope_id = (1ull << 33) + 5;
                l.scope_pid = 4242;
                r = wire_put_link_in(&buf, &l);
                break;
        }
        case WIRE_LIST_WANT:
                r = wire_put_list_want(&buf, WIRE_LIST_WANT_WATCH);
                break;
        case WIRE_LIST_WANT_IN: {
                struct wire_target t = sample_target();
                r = wire_put_list_want_in(&buf, &t, WIRE_LIST_WANT_WATCH, 1);
                break;
        }
        case WIRE_LIST_ENTRY_WANT: {
                struct wire_link l = sample_link();
                l.scope_id = 77;
                l.scope_pid = 4243;
                l.watch = BINDLINK_WATCH_BACKING_TIMEOUT | BINDLINK_WATCH_ORIGINAL_UNKNOWN;
                r = wire_put_link_want(&buf, &l);
                break;
        }
        case WIRE_CREATE_MANY_IN: {
                struct wire_create c[3] = {sample_create(0), sample_create(2), sample_create(1)};
                c[2].virtual_path = (char *)"/v/path/inner";
                struct wire_target t = sample_target();
                r = wire_put_create_many_in(&buf, &t, c, 3, 4);
                break;
        }
        }
        assert_int_equal(r, 0);
        return buf;
}

/* Decode payload as type; returns the decoder's result and frees what it made. */
static int decode_and_free(enum wire_type type, const uint8_t *payload, size_t len)
{
        int r;
        switch (type) {
        case WIRE_CREATE: {
                struct wire_create m;
                r = wire_get_create(payload, len, &m);
                if (r == 0)
                        wire_create_free(&m);
                return r;
        }
        case WIRE_REMOVE:
        case WIRE_REMOVE_TREE: {
                struct wire_remove m;
                r = wire_get_remove(payload, len, &m);
                if (r == 0)
                        wire_remove_free(&m);
                return r;
        }
        case WIRE_REPLY: {
                struct wire_reply m;
                r = wire_get_reply(payload, len, &m);
                if (r == 0)
                        wire_reply_free(&m);
                return r;
        }
        case WIRE_LIST_ENTRY: {
                struct wire_link m;
                r = wire_get_link(payload, len, &m);
                if (r == 0)
                        wire_link_free(&m);
                return r;
        }
        case WIRE_LIST:
                return len == 0 ? 0 : -EPROTO;
        case WIRE_EXPLAIN: {
                struct wire_explain m;
                r = wire_get_explain(payload, len, &m);
                if (r == 0)
                        wire_explain_free(&m);
                return r;
        }
        case WIRE_EXPLAIN_STEP: {
                struct wire_step m;
                r = wire_get_step(payload, len, &m);
                if (r == 0)
                        wire_step_free(&m);
                return r;
        }
        case WIRE_CREATE_MANY_IN: {
                struct wire_target t;
                struct wire_create *m;
                uint32_t count;
                r = wire_get_create_many_in(payload, len, &t, &m, &count);
                if (r == 0) {
                        wire_target_free(&t);
                        wire_create_many_free(m, count);
                }
                return r;
        }
        case WIRE_CREATE_IN: {
                struct wire_target t;
                struct wire_create m;
                r = wire_get_create_in(payload, len, &t, &m);
                if (r == 0) {
                        wire_target_free(&t);
                        wire_create_free(&m);
                }
                return r;
        }
        case WIRE_REMOVE_IN:
        case WIRE_REMOVE_TREE_IN: {
                struct wire_target t;
                struct wire_remove m;
                r = wire_get_remove_in(payload, len, &t, &m);
                if (r == 0) {
                        wire_target_free(&t);
                        wire_remove_free(&m);
                }
                return r;
        }
        case WIRE_LIST_IN: {
                struct wire_target t;
                r = wire_get_list_in(payload, len, &t);
                if (r == 0)
                        wire_target_free(&t);
                return r;
        }
        case WIRE_LIST_ENTRY_IN: {
                struct wire_link m;
                r = wire_get_link_in(payload, len, &m);
                if (r == 0)
                        wire_link_free(&m);
                return r;
        }
        case WIRE_LIST_WANT: {
                uint32_t want;
                return wire_get_list_want(payload, len, &want);
        }
        case WIRE_LIST_WANT_IN: {
                struct wire_target t;
                uint32_t want;
                r = wire_get_list_want_in(payload, len, &t, &want);
                if (r == 0)
                        wire_target_free(&t);
                return r;
        }
        case WIRE_LIST_ENTRY_WANT: {
                struct wire_link m;
                r = wire_get_link_want(payload, len, &m);
                if (r == 0)
                        wire_link_free(&m);
                return r;
        }
        }
        return -EINVAL;
}

/* ---- round trips -------------------------------------------------------------------- */

static void test_create_round_trip_no_exceptions(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_create in = sample_create(0);
        in.exception_paths = NULL;
        in.exception_errors = NULL;
        assert_int_equal(wire_put_create(&buf, &in, 2), 0);
        assert_int_equal(buf.error, 0);

        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_CREATE);
        assert_int_equal(d.header.fd_count, 2);
        assert_int_equal(buf.len, WIRE_HEADER_SIZE + d.len);

        struct wire_create out;
        assert_int_equal(wire_get_create(d.payload, d.len, &out), 0);
        assert_int_equal(out.flags, 3);
        assert_int_equal(out.exception_count, 0);
        assert_string_equal(out.virtual_path, "/v/path");
        assert_int_equal(out.parent_error, 0);
        assert_string_equal(out.backing_path, "/backing with space");
        assert_int_equal(out.backing_error, EACCES);
        wire_create_free(&out);
        assert_null(out.virtual_path);
        free(d.payload);
        wire_buf_free(&buf);
        assert_null(buf.data);
        assert_int_equal(buf.len, 0);
}

/* S10: B as named through a symlink travels after the body, only when there is one;
 * a create without it is what a library that predates it sends. */
static void test_s10_create_round_trip_backing_named(void **state)
{
        (void)state;
        struct wire_buf buf = {0}, plain = {0};
        struct wire_create in = sample_create(2);
        assert_int_equal(wire_put_create(&plain, &in, 4), 0);
        in.backing_named = "/srv/current/backing with space";
        assert_int_equal(wire_put_create(&buf, &in, 4), 0);
        struct decoded d = split_message(&buf, 0), p = split_message(&plain, 0);
        assert_int_equal(d.len, p.len + 4 + strlen(in.backing_named));

        struct wire_create out;
        assert_int_equal(wire_get_create(d.payload, d.len, &out), 0);
        assert_string_equal(out.backing_named, "/srv/current/backing with space");
        assert_string_equal(out.backing_path, "/backing with space");
        assert_int_equal(out.exception_count, 2);
        wire_create_free(&out);
        assert_int_equal(wire_get_create(p.payload, p.len, &out), 0);
        assert_null(out.backing_named);
        wire_create_free(&out);
        /* Cut inside the name, or with bytes after it: refused. */
        for (size_t cut = p.len + 1; cut < d.len; cut++)
                assert_int_equal(wire_get_create(d.payload, cut, &out), -EPROTO);
        uint8_t *longer = malloc(d.len + 1);
        assert_non_null(longer);
        memcpy(longer, d.payload, d.len);
        longer[d.len] = 'x';
        assert_int_equal(wire_get_create(longer, d.len + 1, &out), -EPROTO);
        free(longer);
        free(d.payload);
        free(p.payload);
        wire_buf_free(&buf);
        wire_buf_free(&plain);
}

static void test_create_round_trip_with_exceptions(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_create in = sample_create(3);
        in.parent_error = ENOTDIR;
        in.backing_error = 0;
        assert_int_equal(wire_put_create(&buf, &in, 5), 0);

        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_CREATE);
        assert_int_equal(d.header.fd_count, 5);

        struct wire_create out;
        assert_int_equal(wire_get_create(d.payload, d.len, &out), 0);
        assert_int_equal(out.exception_count, 3);
        assert_int_equal(out.parent_error, ENOTDIR);
        assert_int_equal(out.backing_error, 0);
        for (uint32_t i = 0; i < 3; i++) {
                assert_string_equal(out.exception_paths[i], sample_exceptions[i]);
                assert_int_equal(out.exception_errors[i], sample_errors[i]);
        }
        wire_create_free(&out);
        free(d.payload);
        wire_buf_free(&buf);
}

static void test_create_round_trip_max_exceptions(void **state)
{
        (void)state;
        enum { N = 256 };
        char *paths[N];
        int32_t errors[N];
        for (int i = 0; i < N; i++) {
                assert_true(asprintf(&paths[i], "/v/e%d", i) > 0);
                errors[i] = i % 3 == 0 ? ENOENT : 0;
        }
        struct wire_create in = {.flags = 0,
                                 .exception_count = N,
                                 .virtual_path = (char *)"/v",
                                 .backing_path = (char *)"/b",
                                 .exception_paths = paths,
                                 .exception_errors = errors};
        struct wire_buf buf = {0};
        assert_int_equal(wire_put_create(&buf, &in, WIRE_MAX_FDS), 0);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.fd_count, WIRE_MAX_FDS);
        struct wire_create out;
        assert_int_equal(wire_get_create(d.payload, d.len, &out), 0);
        assert_int_equal(out.exception_count, N);
        for (int i = 0; i < N; i++) {
                assert_string_equal(out.exception_paths[i], paths[i]);
                assert_int_equal(out.exception_errors[i], errors[i]);
                free(paths[i]);
        }
        wire_create_free(&out);
        free(d.payload);
        wire_buf_free(&buf);
}

static void test_remove_round_trip(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_remove in = {.virtual_path = (char *)"/a b/\xfe"};
        assert_int_equal(wire_put_remove(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_REMOVE);
        assert_int_equal(d.header.fd_count, 0);
        struct wire_remove out;
        assert_int_equal(wire_get_remove(d.payload, d.len, &out), 0);
        assert_string_equal(out.virtual_path, "/a b/\xfe");
        wire_remove_free(&out);
        assert_null(out.virtual_path);
        free(d.payload);
        wire_buf_free(&buf);
}

/* A tree removal is its own message type, with the payload of a plain one: a daemon
 * that does not know it refuses it instead of removing one link. */
static void test_remove_tree_round_trip(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_remove in = {.virtual_path = (char *)"/srv/app", .tree = true};
        assert_int_equal(wire_put_remove(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_REMOVE_TREE);
        struct wire_remove out;
        assert_int_equal(wire_get_remove(d.payload, d.len, &out), 0);
        assert_string_equal(out.virtual_path, "/srv/app");
        wire_remove_free(&out);
        free(d.payload);
        wire_buf_free(&buf);

        struct wire_buf scoped = {0};
        struct wire_target t = sample_target();
        assert_int_equal(wire_put_remove_in(&scoped, &t, &in, 1), 0);
        d = split_message(&scoped, 0);
        assert_int_equal(d.header.type, WIRE_REMOVE_TREE_IN);
        struct wire_target t_out;
        assert_int_equal(wire_get_remove_in(d.payload, d.len, &t_out, &out), 0);
        assert_string_equal(out.virtual_path, "/srv/app");
        assert_string_equal(t_out.root, "/bundle/rootfs");
        wire_target_free(&t_out);
        wire_remove_free(&out);
        free(d.payload);
        wire_buf_free(&scoped);
}

/* An explanation: the path asked about, and each step back with every field. */
static void test_explain_round_trip(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_explain in = {.path = (char *)"/srv/app/x"};
        assert_int_equal(wire_put_explain(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_EXPLAIN);
        struct wire_explain out;
        assert_int_equal(wire_get_explain(d.payload, d.len, &out), 0);
        assert_string_equal(out.path, "/srv/app/x");
        wire_explain_free(&out);
        free(d.payload);
        wire_buf_free(&buf);

        struct wire_buf steps = {0};
        struct wire_step s = {.kind = 2,
                              .path = (char *)"/a/e/x",
                              .order = (1ull << 40) + 3,
                              .flags = 3,
                              .virtual_path = (char *)"/a",
                              .backing_path = NULL,
                              .detail = (char *)"inside the exception"};
        assert_int_equal(wire_put_step(&steps, &s), 0);
        d = split_message(&steps, 0);
        assert_int_equal(d.header.type, WIRE_EXPLAIN_STEP);
        struct wire_step got;
        assert_int_equal(wire_get_step(d.payload, d.len, &got), 0);
        assert_int_equal(got.kind, 2);
        assert_string_equal(got.path, "/a/e/x");
        assert_true(got.order == (1ull << 40) + 3);
        assert_int_equal(got.flags, 3);
        assert_string_equal(got.virtual_path, "/a");
        assert_string_equal(got.backing_path, ""); /* none is sent as "" */
        assert_string_equal(got.detail, "inside the exception");
        wire_step_free(&got);
        free(d.payload);
        wire_buf_free(&steps);
}

static void test_list_round_trip(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        assert_int_equal(wire_put_list(&buf), 0);
        assert_int_equal(buf.len, WIRE_HEADER_SIZE);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_LIST);
        assert_int_equal(d.header.length, 0);
        assert_int_equal(d.header.fd_count, 0);
        free(d.payload);
        wire_buf_free(&buf);
}

static void test_reply_round_trip_negative_status(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_reply in = {.status = -ELOOP,
                                .fault = 4,
                                .exception_index = 17,
                                .path = (char *)"/x/y",
                                .message = (char *)"it loops"};
        assert_int_equal(wire_put_reply(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_REPLY);
        struct wire_reply out;
        assert_int_equal(wire_get_reply(d.payload, d.len, &out), 0);
        assert_int_equal(out.status, -ELOOP);
        assert_int_equal(out.fault, 4);
        assert_int_equal(out.exception_index, 17);
        assert_string_equal(out.path, "/x/y");
        assert_string_equal(out.message, "it loops");
        wire_reply_free(&out);
        free(d.payload);
        wire_buf_free(&buf);
}

static void test_reply_round_trip_success_and_empty_strings(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_reply in = {.status = 0, .path = (char *)"", .message = NULL};
        assert_int_equal(wire_put_reply(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        struct wire_reply out;
        assert_int_equal(wire_get_reply(d.payload, d.len, &out), 0);
        assert_int_equal(out.status, 0);
        assert_string_equal(out.path, "");
        assert_string_equal(out.message, "");
        wire_reply_free(&out);
        free(d.payload);
        wire_buf_free(&buf);
}

static void test_reply_long_message_is_cut(void **state)
{
        (void)state;
        char message[2000];
        memset(message, 'm', sizeof message - 1);
        message[sizeof message - 1] = '\0';
        struct wire_buf buf = {0};
        struct wire_reply in = {.status = -EIO, .path = (char *)"/p", .message = message};
        assert_int_equal(wire_put_reply(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        struct wire_reply out;
        assert_int_equal(wire_get_reply(d.payload, d.len, &out), 0);
        assert_int_equal(strlen(out.message), 511);
        assert_memory_equal(out.message, message, 511);
        wire_reply_free(&out);
        free(d.payload);
        wire_buf_free(&buf);
}

static void test_link_round_trip(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_link in = sample_link();
        assert_int_equal(wire_put_link(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_LIST_ENTRY);
        assert_int_equal(d.header.fd_count, 0);
        struct wire_link out;
        assert_int_equal(wire_get_link(d.payload, d.len, &out), 0);
        assert_true(out.order == (1ull << 40) + 7);
        assert_int_equal(out.flags, 1);
        assert_int_equal(out.realization, 2);
        assert_string_equal(out.virtual_path, "/srv/x");
        assert_string_equal(out.backing_path, "/data/x");
        assert_int_equal(out.exception_count, 2);
        assert_string_equal(out.exception_paths[0], "/srv/x/a");
        assert_string_equal(out.exception_paths[1], "/srv/x/b");
        wire_link_free(&out);
        assert_null(out.exception_paths);

        /* and without exceptions */
        wire_buf_free(&buf);
        in.exception_count = 0;
        in.exception_paths = NULL;
        free(d.payload);
        assert_int_equal(wire_put_link(&buf, &in), 0);
        d = split_message(&buf, 0);
        assert_int_equal(wire_get_link(d.payload, d.len, &out), 0);
        assert_int_equal(out.exception_count, 0);
        assert_null(out.exception_paths);
        wire_link_free(&out);
        free(d.payload);
        wire_buf_free(&buf);
}

/* Several messages appended to one buffer are framed one after another. */
static void test_messages_in_sequence(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_link l = sample_link();
        struct wire_reply rep = {.status = 0, .path = (char *)"", .message = (char *)""};
        assert_int_equal(wire_put_link(&buf, &l), 0);
        assert_int_equal(wire_put_link(&buf, &l), 0);
        assert_int_equal(wire_put_reply(&buf, &rep), 0);

        size_t at = 0;
        uint16_t types[3];
        for (int i = 0; i < 3; i++) {
                struct decoded d = split_message(&buf, at);
                types[i] = d.header.type;
                assert_int_equal(decode_and_free(d.header.type, d.payload, d.len), 0);
                at += WIRE_HEADER_SIZE + d.len;
                free(d.payload);
        }
        assert_int_equal(at, buf.len);
        assert_int_equal(types[0], WIRE_LIST_ENTRY);
        assert_int_equal(types[1], WIRE_LIST_ENTRY);
        assert_int_equal(types[2], WIRE_REPLY);
        wire_buf_free(&buf);
}

static void test_put_string_of_path_max_is_einval(void **state)
{
        (void)state;
        char *longpath = malloc(PATH_MAX + 1);
        assert_non_null(longpath);
        longpath[0] = '/';
        memset(longpath + 1, 'a', PATH_MAX - 1);
        longpath[PATH_MAX] = '\0'; /* strlen == PATH_MAX */
        struct wire_buf buf = {0};
        struct wire_remove m = {.virtual_path = longpath};
        assert_int_equal(wire_put_remove(&buf, &m), -EINVAL);
        /* the first failure sticks */
        assert_int_equal(wire_put_list(&buf), -EINVAL);
        wire_buf_free(&buf);

        longpath[PATH_MAX - 1] = '\0'; /* PATH_MAX-1 bytes: the longest allowed */
        assert_int_equal(wire_put_remove(&buf, &m), 0);
        struct decoded d = split_message(&buf, 0);
        struct wire_remove out;
        assert_int_equal(wire_get_remove(d.payload, d.len, &out), 0);
        assert_string_equal(out.virtual_path, longpath);
        wire_remove_free(&out);
        free(d.payload);
        wire_buf_free(&buf);
        free(longpath);
}

/* ---- malformed payloads -------------------------------------------------------------- */

/* Every proper prefix of a valid payload is refused, and the output is untouched. */
static void check_all_truncations(enum wire_type type)
{
        struct wire_buf buf = encode_sample(type);
        struct decoded d = split_message(&buf, 0);
        assert_true(d.len > 0);
        for (size_t n = 0; n < d.len; n++) {
                uint8_t *p = copy_bytes(d.payload, n);
                int r;
                if (type == WIRE_CREATE) {
                        struct wire_create m, before;
                        memset(&m, 0x5a, sizeof m);
                        before = m;
                        r = wire_get_create(p, n, &m);
                        assert_memory_equal(&m, &before, sizeof m);
                } else {
                        r = decode_and_free(type, p, n);
                }
                if (r != -EPROTO)
                        fail_msg("type %d cut to %zu of %zu bytes: %d, want -EPROTO", (int)type, n,
                                 d.len, r);
                free(p);
        }
        free(d.payload);
        wire_buf_free(&buf);
}

static void test_create_every_truncation_is_eproto(void **state)
{
        (void)state;
        check_all_truncations(WIRE_CREATE);
}

static void test_other_messages_every_truncation_is_eproto(void **state)
{
        (void)state;
        check_all_truncations(WIRE_REMOVE);
        check_all_truncations(WIRE_REPLY);
        check_all_truncations(WIRE_LIST_ENTRY);
        check_all_truncations(WIRE_CREATE_IN);
        check_all_truncations(WIRE_REMOVE_IN);
        check_all_truncations(WIRE_REMOVE_TREE);
        check_all_truncations(WIRE_REMOVE_TREE_IN);
        check_all_truncations(WIRE_EXPLAIN);
        check_all_truncations(WIRE_EXPLAIN_STEP);
        check_all_truncations(WIRE_LIST_IN);
        check_all_truncations(WIRE_LIST_ENTRY_IN);
        check_all_truncations(WIRE_CREATE_MANY_IN);
        check_all_truncations(WIRE_LIST_WANT);
        check_all_truncations(WIRE_LIST_WANT_IN);
        check_all_truncations(WIRE_LIST_ENTRY_WANT);
}

/* A list that asks which layers are watched: the question and each answer survive
 * the trip; a question that asks nothing (0) has its own spelling (WIRE_LIST) and is
 * refused; an answer carries its scope and its watch. */
static void test_list_want_round_trip(void **state)
{
        (void)state;
        struct wire_buf buf = encode_sample(WIRE_LIST_WANT_IN);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_LIST_WANT_IN);
        assert_int_equal(d.header.fd_count, 1);
        struct wire_target t;
        uint32_t want = 0;
        assert_int_equal(wire_get_list_want_in(d.payload, d.len, &t, &want), 0);
        assert_int_equal(want, WIRE_LIST_WANT_WATCH);
        assert_string_equal(t.root, "/bundle/rootfs");
        wire_target_free(&t);
        memset(d.payload + d.len - 4, 0, 4);
        assert_int_equal(wire_get_list_want_in(d.payload, d.len, &t, &want), -EPROTO);
        free(d.payload);
        wire_buf_free(&buf);

        buf = encode_sample(WIRE_LIST_WANT);
        d = split_message(&buf, 0);
        assert_int_equal(d.header.type, WIRE_LIST_WANT);
        assert_int_equal(wire_get_list_want(d.payload, d.len, &want), 0);
        assert_int_equal(want, WIRE_LIST_WANT_WATCH);
        free(d.payload);
        wire_buf_free(&buf);
        buf = (struct wire_buf){0};
        assert_int_equal(wire_put_list_want(&buf, 0), 0);
        d = split_message(&buf, 0);
        assert_int_equal(wire_get_list_want(d.payload, d.len, &want), -EPROTO);
        free(d.payload);
        wire_buf_free(&buf);

        buf = encode_sample(WIRE_LIST_ENTRY_WANT);
        d = split_message(&buf, 0);
        struct wire_link l;
        assert_int_equal(wire_get_link_want(d.payload, d.len, &l), 0);
        assert_true(l.watch_said);
        assert_int_equal(l.watch, BINDLINK_WATCH_BACKING_TIMEOUT | BINDLINK_WATCH_ORIGINAL_UNKNOWN);
        assert_true(l.scope_id == 77);
        assert_int_equal(l.scope_pid, 4243);
        assert_string_equal(l.virtual_path, "/srv/x");
        wire_link_free(&l);
        /* The entries of before say nothing of it. */
        assert_int_equal(wire_get_link_in(d.payload, d.len - 4, &l), 0);
        assert_false(l.watch_said);
        wire_link_free(&l);
        free(d.payload);
        wire_buf_free(&buf);
}

/* Several creates in one target (an OCI hook's): each survives the trip, in order; a
 * count of 0, over WIRE_MAX_BATCH, or more than the bytes can hold is refused (before
 * anything is allocated for it). */
static void test_create_many_in_round_trip_and_bad_counts_are_eproto(void **state)
{
        (void)state;
        struct wire_buf buf = encode_sample(WIRE_CREATE_MANY_IN);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(d.header.fd_count, 4);
        struct wire_target t;
        struct wire_create *c;
        uint32_t count;
        assert_int_equal(wire_get_create_many_in(d.payload, d.len, &t, &c, &count), 0);
        assert_int_equal(count, 3);
        assert_string_equal(t.root, "/bundle/rootfs");
        assert_int_equal(c[0].exception_count, 0);
        assert_int_equal(c[1].exception_count, 2);
        assert_string_equal(c[2].virtual_path, "/v/path/inner");
        wire_target_free(&t);
        wire_create_many_free(c, count);
        /* The count is the 4 bytes after the target (kind, pid, root). */
        size_t at = 4 + 4 + 4 + strlen("/bundle/rootfs");
        const uint32_t counts[] = {0, 2, 4, WIRE_MAX_BATCH + 1, UINT32_MAX};
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
                uint8_t *p = copy_bytes(d.payload, d.len);
                memcpy(p + at, &counts[i], 4);
                assert_int_equal(wire_get_create_many_in(p, d.len, &t, &c, &count), -EPROTO);
                free(p);
        }
        free(d.payload);
        wire_buf_free(&buf);
        struct wire_create none[1] = {sample_create(0)};
        struct wire_target target = sample_target();
        buf = (struct wire_buf){0};
        assert_int_equal(wire_put_create_many_in(&buf, &target, none, 0, 1), -EINVAL);
        assert_int_equal(wire_put_create_many_in(&buf, &target, none, WIRE_MAX_BATCH + 1, 1),
                         -EINVAL);
        wire_buf_free(&buf);
}

/* S23: a target's fields survive the trip; a target that names no namespace (host,
 * or "all" where one namespace is needed, or a pid of 0) is refused. */
static void test_scoped_messages_round_trip_and_bad_targets_are_eproto(void **state)
{
        (void)state;
        struct wire_buf buf = encode_sample(WIRE_CREATE_IN);
        struct decoded d = split_message(&buf, 0);
        struct wire_target t;
        struct wire_create c;
        assert_int_equal(wire_get_create_in(d.payload, d.len, &t, &c), 0);
        assert_int_equal(t.kind, WIRE_TARGET_PIDFD);
        assert_string_equal(t.root, "/bundle/rootfs");
        assert_string_equal(c.virtual_path, "/v/path");
        assert_int_equal(c.exception_count, 2);
        wire_target_free(&t);
        wire_create_free(&c);
        free(d.payload);
        wire_buf_free(&buf);

        buf = encode_sample(WIRE_LIST_ENTRY_IN);
        d = split_message(&buf, 0);
        struct wire_link l;
        assert_int_equal(wire_get_link_in(d.payload, d.len, &l), 0);
        assert_true(l.scope_id == (1ull << 33) + 5);
        assert_int_equal(l.scope_pid, 4242);
        assert_string_equal(l.virtual_path, "/srv/x");
        wire_link_free(&l);
        free(d.payload);
        wire_buf_free(&buf);

        const struct wire_target bad[] = {
                {.kind = WIRE_TARGET_HOST, .root = (char *)""},
                {.kind = WIRE_TARGET_ALL, .root = (char *)""},
                {.kind = WIRE_TARGET_PID, .pid = 0, .root = (char *)""},
                {.kind = 9, .root = (char *)""},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct wire_remove m = {.virtual_path = (char *)"/v"};
                buf = (struct wire_buf){0};
                assert_int_equal(wire_put_remove_in(&buf, &bad[i], &m, 0), 0);
                d = split_message(&buf, 0);
                struct wire_remove out;
                assert_int_equal(wire_get_remove_in(d.payload, d.len, &t, &out), -EPROTO);
                free(d.payload);
                wire_buf_free(&buf);
        }
}

/* One byte more than the message holds is refused too. */
static void test_trailing_byte_is_eproto(void **state)
{
        (void)state;
        const enum wire_type types[] = {WIRE_CREATE,     WIRE_REMOVE,        WIRE_REPLY,
                                        WIRE_LIST_ENTRY, WIRE_CREATE_IN,     WIRE_REMOVE_IN,
                                        WIRE_LIST_IN,    WIRE_LIST_ENTRY_IN, WIRE_CREATE_MANY_IN,
                                        WIRE_LIST_WANT,  WIRE_LIST_WANT_IN,  WIRE_LIST_ENTRY_WANT};
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
                struct wire_buf buf = encode_sample(types[t]);
                struct decoded d = split_message(&buf, 0);
                uint8_t *p = malloc(d.len + 1);
                assert_non_null(p);
                memcpy(p, d.payload, d.len);
                p[d.len] = 0;
                assert_int_equal(decode_and_free(types[t], p, d.len), 0);
                assert_int_equal(decode_and_free(types[t], p, d.len + 1), -EPROTO);
                free(p);
                free(d.payload);
                wire_buf_free(&buf);
        }
}

/* A create payload laid out by hand: flags, count, V, parent_error, B, backing_error. */
static void raw_create_head(struct raw *r, uint32_t count)
{
        raw_u32(r, 0);
        raw_u32(r, count);
        raw_str(r, "/v");
        raw_u32(r, 0);
        raw_str(r, "/b");
        raw_u32(r, 0);
}

static int raw_get_create(const struct raw *r)
{
        uint8_t *p = copy_bytes(r->data, r->len);
        int rc = decode_and_free(WIRE_CREATE, p, r->len);
        free(p);
        return rc;
}

static void test_hand_built_create_is_accepted(void **state)
{
        (void)state;
        /* the layout the malformed cases below start from */
        struct raw *r = raw_new();
        raw_create_head(r, 1);
        raw_str(r, "/v/e");
        raw_u32(r, ENOENT);
        assert_int_equal(raw_get_create(r), 0);
        free(r);
}

static void test_string_length_bigger_than_rest_is_eproto(void **state)
{
        (void)state;
        struct raw *r = raw_new();
        raw_u32(r, 0);
        raw_u32(r, 0);
        raw_u32(r, 100); /* V claims 100 bytes, 2 + 16 follow */
        raw_bytes(r, "/v", 2);
        raw_u32(r, 0);
        raw_str(r, "/b");
        raw_u32(r, 0);
        assert_int_equal(raw_get_create(r), -EPROTO);

        /* a length of 0xFFFFFFFF */
        r->len = 8;
        raw_u32(r, UINT32_MAX);
        raw_bytes(r, "/v", 2);
        assert_int_equal(raw_get_create(r), -EPROTO);

        /* the same in a remove */
        r->len = 0;
        raw_u32(r, 3);
        raw_bytes(r, "/v", 2);
        uint8_t *p = copy_bytes(r->data, r->len);
        assert_int_equal(decode_and_free(WIRE_REMOVE, p, r->len), -EPROTO);
        free(p);
        free(r);
}

static void test_string_of_path_max_bytes_is_eproto(void **state)
{
        (void)state;
        struct raw *r = raw_new();
        raw_long_str(r, PATH_MAX - 1); /* the longest allowed */
        uint8_t *p = copy_bytes(r->data, r->len);
        assert_int_equal(decode_and_free(WIRE_REMOVE, p, r->len), 0);
        free(p);

        r->len = 0;
        raw_long_str(r, PATH_MAX); /* present in full, but too long */
        p = copy_bytes(r->data, r->len);
        assert_int_equal(decode_and_free(WIRE_REMOVE, p, r->len), -EPROTO);
        free(p);

        r->len = 0;
        raw_u32(r, 0);
        raw_u32(r, 0);
        raw_long_str(r, PATH_MAX);
        raw_u32(r, 0);
        raw_str(r, "/b");
        raw_u32(r, 0);
        assert_int_equal(raw_get_create(r), -EPROTO);
        free(r);
}

static void test_string_with_nul_is_eproto(void **state)
{
        (void)state;
        struct raw *r = raw_new();
        raw_u32(r, 0);
        raw_u32(r, 0);
        raw_u32(r, 4);
        raw_bytes(r, "/v\0x", 4);
        raw_u32(r, 0);
        raw_str(r, "/b");
        raw_u32(r, 0);
        assert_int_equal(raw_get_create(r), -EPROTO);

        /* a NUL at the end of an exception path */
        r->len = 0;
        raw_create_head(r, 1);
        raw_u32(r, 5);
        raw_bytes(r, "/v/e\0", 5);
        raw_u32(r, 0);
        assert_int_equal(raw_get_create(r), -EPROTO);

        /* in a reply message */
        r->len = 0;
        raw_u32(r, (uint32_t)-EIO);
        raw_u32(r, 0);
        raw_u32(r, 0);
        raw_str(r, "/p");
        raw_u32(r, 3);
        raw_bytes(r, "a\0b", 3);
        uint8_t *p = copy_bytes(r->data, r->len);
        assert_int_equal(decode_and_free(WIRE_REPLY, p, r->len), -EPROTO);
        free(p);
        free(r);
}

static void test_exception_count_that_lies_is_eproto(void **state)
{
        (void)state;
        struct raw *r = raw_new();

        /* huge count, nothing follows */
        raw_create_head(r, UINT32_MAX);
        assert_int_equal(raw_get_create(r), -EPROTO);

        /* huge count, one exception follows */
        raw_str(r, "/v/e");
        raw_u32(r, 0);
        assert_int_equal(raw_get_create(r), -EPROTO);

        /* count 2, one exception present */
        r->len = 0;
        raw_create_head(r, 2);
        raw_str(r, "/v/e");
        raw_u32(r, 0);
        assert_int_equal(raw_get_create(r), -EPROTO);

        /* count 1, two exceptions present */
        r->len = 0;
        raw_create_head(r, 1);
        raw_str(r, "/v/e");
        raw_u32(r, 0);
        raw_str(r, "/v/f");
        raw_u32(r, 0);
        assert_int_equal(raw_get_create(r), -EPROTO);

        /* count 0, one exception present */
        r->len = 0;
        raw_create_head(r, 0);
        raw_str(r, "/v/e");
        raw_u32(r, 0);
        assert_int_equal(raw_get_create(r), -EPROTO);
        free(r);
}

/* BINDLINK_MAX_EXCEPTIONS (256) is the limit even when 257 are really there. */
static void test_257_exceptions_is_eproto(void **state)
{
        (void)state;
        struct raw *r = raw_new();
        raw_create_head(r, 256);
        for (int i = 0; i < 256; i++) {
                raw_str(r, "/v/e");
                raw_u32(r, 0);
        }
        assert_int_equal(raw_get_create(r), 0);

        r->len = 0;
        raw_create_head(r, 257);
        for (int i = 0; i < 257; i++) {
                raw_str(r, "/v/e");
                raw_u32(r, 0);
        }
        assert_int_equal(raw_get_create(r), -EPROTO);
        free(r);
}

static void test_link_exception_count_that_lies_is_eproto(void **state)
{
        (void)state;
        const uint32_t counts[] = {UINT32_MAX, 257, 3};
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
                struct raw *r = raw_new();
                raw_u64(r, 1);
                raw_u32(r, 0);
                raw_u32(r, 1);
                raw_str(r, "/v");
                raw_str(r, "/b");
                raw_u32(r, counts[i]);
                raw_str(r, "/v/a");
                raw_str(r, "/v/b");
                uint8_t *p = copy_bytes(r->data, r->len);
                assert_int_equal(decode_and_free(WIRE_LIST_ENTRY, p, r->len), -EPROTO);
                free(p);
                free(r);
        }
}

static void test_negative_errno_fields_are_eproto(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_create in = sample_create(3);
        int32_t errors[3] = {0, 0, 0};
        in.exception_errors = errors;

        in.parent_error = -ENOENT;
        in.backing_error = 0;
        assert_int_equal(wire_put_create(&buf, &in, 0), 0);
        struct decoded d = split_message(&buf, 0);
        assert_int_equal(decode_and_free(WIRE_CREATE, d.payload, d.len), -EPROTO);
        free(d.payload);
        wire_buf_free(&buf);

        in.parent_error = 0;
        in.backing_error = -1;
        assert_int_equal(wire_put_create(&buf, &in, 0), 0);
        d = split_message(&buf, 0);
        assert_int_equal(decode_and_free(WIRE_CREATE, d.payload, d.len), -EPROTO);
        free(d.payload);
        wire_buf_free(&buf);

        in.backing_error = 0;
        errors[2] = INT32_MIN;
        assert_int_equal(wire_put_create(&buf, &in, 0), 0);
        d = split_message(&buf, 0);
        assert_int_equal(decode_and_free(WIRE_CREATE, d.payload, d.len), -EPROTO);
        free(d.payload);
        wire_buf_free(&buf);

        errors[2] = 0; /* control: the same message with no negative field decodes */
        assert_int_equal(wire_put_create(&buf, &in, 0), 0);
        d = split_message(&buf, 0);
        assert_int_equal(decode_and_free(WIRE_CREATE, d.payload, d.len), 0);
        free(d.payload);
        wire_buf_free(&buf);
}

static void test_reply_positive_status_is_eproto(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_reply in = {.status = EPERM, .path = (char *)"/p", .message = (char *)"m"};
        assert_int_equal(wire_put_reply(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        struct wire_reply out = {.status = 12345};
        assert_int_equal(wire_get_reply(d.payload, d.len, &out), -EPROTO);
        assert_int_equal(out.status, 12345); /* untouched */
        assert_null(out.path);
        free(d.payload);
        wire_buf_free(&buf);
}

/* A reply's status is 0 or -errno (wire.h). INT32_MIN is neither, and a client that
 * negates it (request_fail: error = -error) overflows; the decoder must refuse it as it
 * refuses a positive status. */
static void test_reply_status_int32_min_is_eproto(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_reply in = {.status = INT32_MIN, .path = (char *)"/p", .message = (char *)"m"};
        assert_int_equal(wire_put_reply(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        int r = decode_and_free(WIRE_REPLY, d.payload, d.len);
        free(d.payload);
        wire_buf_free(&buf);
        assert_int_equal(r, -EPROTO);
}

/* ---- headers ------------------------------------------------------------------------- */

static void make_header(uint8_t *out, uint32_t magic, uint16_t version, uint16_t type,
                        uint32_t length, uint32_t fd_count)
{
        struct wire_header h = {.magic = magic,
                                .version = version,
                                .type = type,
                                .length = length,
                                .fd_count = fd_count};
        memcpy(out, &h, WIRE_HEADER_SIZE);
}

static int parse(uint32_t magic, uint16_t version, uint16_t type, uint32_t length,
                 uint32_t fd_count)
{
        uint8_t *bytes = malloc(WIRE_HEADER_SIZE);
        assert_non_null(bytes);
        make_header(bytes, magic, version, type, length, fd_count);
        struct wire_header h;
        memset(&h, 0x77, sizeof h);
        struct wire_header before = h;
        int r = wire_parse_header(bytes, WIRE_HEADER_SIZE, &h);
        if (r < 0)
                assert_memory_equal(&h, &before, sizeof h); /* untouched on failure */
        else
                assert_int_equal(h.length, length);
        free(bytes);
        return r;
}

static void test_header_size_is_16(void **state)
{
        (void)state;
        assert_int_equal(sizeof(struct wire_header), WIRE_HEADER_SIZE);
}

static void test_header_valid_types(void **state)
{
        (void)state;
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_CREATE, 10, 3), 0);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_REMOVE, 10, 0), 0);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_LIST, 0, 0), 0);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY, 10, 0), 0);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_LIST_ENTRY, 10, 0), 0);
        assert_int_equal(
                parse(WIRE_MAGIC, WIRE_VERSION, WIRE_CREATE, WIRE_MAX_PAYLOAD, WIRE_MAX_FDS), 0);
        /* A tree removal carries no descriptor on the host, one (the target) in it. */
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_REMOVE_TREE, 10, 0), 0);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_REMOVE_TREE, 10, 1), -EPROTO);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_REMOVE_TREE_IN, 10, 1), 0);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_REMOVE_TREE_IN, 10, 2), -EPROTO);
}

static void test_header_short_is_eproto(void **state)
{
        (void)state;
        uint8_t full[WIRE_HEADER_SIZE];
        make_header(full, WIRE_MAGIC, WIRE_VERSION, WIRE_LIST, 0, 0);
        for (size_t n = 0; n < WIRE_HEADER_SIZE; n++) {
                uint8_t *p = copy_bytes(full, n);
                struct wire_header h;
                assert_int_equal(wire_parse_header(p, n, &h), -EPROTO);
                free(p);
        }
}

static void test_header_bad_magic_is_eproto(void **state)
{
        (void)state;
        assert_int_equal(parse(0, WIRE_VERSION, WIRE_LIST, 0, 0), -EPROTO);
        assert_int_equal(parse(WIRE_MAGIC ^ 1, WIRE_VERSION, WIRE_LIST, 0, 0), -EPROTO);
        assert_int_equal(parse(__builtin_bswap32(WIRE_MAGIC), WIRE_VERSION, WIRE_LIST, 0, 0),
                         -EPROTO);
}

static void test_header_bad_version_is_eproto(void **state)
{
        (void)state;
        assert_int_equal(parse(WIRE_MAGIC, 0, WIRE_LIST, 0, 0), -EPROTO);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION + 1, WIRE_LIST, 0, 0), -EPROTO);
        assert_int_equal(parse(WIRE_MAGIC, 0xffff, WIRE_LIST, 0, 0), -EPROTO);
}

static void test_header_unknown_type_is_eproto(void **state)
{
        (void)state;
        const uint16_t types[] = {0, 13, 99, 105, 0xffff};
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
                assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, types[i], 0, 0), -EPROTO);
}

static void test_header_length_over_max_is_emsgsize(void **state)
{
        (void)state;
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_CREATE, WIRE_MAX_PAYLOAD + 1, 0),
                         -EMSGSIZE);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY, UINT32_MAX, 0), -EMSGSIZE);
}

static void test_header_fds_on_non_create_is_eproto(void **state)
{
        (void)state;
        const uint16_t types[] = {WIRE_REMOVE,         WIRE_LIST,          WIRE_REPLY,
                                  WIRE_LIST_ENTRY,     WIRE_LIST_ENTRY_IN, WIRE_LIST_WANT,
                                  WIRE_LIST_ENTRY_WANT};
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
                assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, types[i], 4, 1), -EPROTO);
        /* A scoped remove or list carries its target's descriptor, and no more. */
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_REMOVE_IN, 4, 1), 0);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_LIST_IN, 4, 2), -EPROTO);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_LIST_WANT_IN, 4, 1), 0);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_LIST_WANT_IN, 4, 2), -EPROTO);
}

static void test_header_too_many_fds_is_eproto(void **state)
{
        (void)state;
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_CREATE, 4, WIRE_MAX_FDS), 0);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_CREATE, 4, WIRE_MAX_FDS + 1),
                         -EPROTO);
        assert_int_equal(parse(WIRE_MAGIC, WIRE_VERSION, WIRE_CREATE, 4, UINT32_MAX), -EPROTO);
}

/* ---- deterministic fuzzing ------------------------------------------------------------ */

static void test_fuzz_flipped_bytes_never_crash(void **state)
{
        (void)state;
        const enum wire_type types[] = {WIRE_CREATE, WIRE_REMOVE, WIRE_REPLY, WIRE_LIST_ENTRY};
        struct decoded samples[4];
        struct wire_buf bufs[4];
        for (size_t t = 0; t < 4; t++) {
                bufs[t] = encode_sample(types[t]);
                samples[t] = split_message(&bufs[t], 0);
        }
        unsigned int seed = 20240601;
        size_t accepted = 0, refused = 0;
        for (int iter = 0; iter < 20000; iter++) {
                size_t t = (size_t)rand_r(&seed) % 4;
                const struct decoded *s = &samples[t];
                /* sometimes also cut the payload short or decode as another type */
                size_t len = s->len;
                if (rand_r(&seed) % 8 == 0)
                        len = (size_t)rand_r(&seed) % (s->len + 1);
                uint8_t *p = copy_bytes(s->payload, len);
                int flips = 1 + rand_r(&seed) % 4;
                for (int f = 0; f < flips && len > 0; f++) {
                        size_t at = (size_t)rand_r(&seed) % len;
                        p[at] ^= (uint8_t)(1 + rand_r(&seed) % 255);
                }
                enum wire_type as = types[t];
                if (rand_r(&seed) % 16 == 0)
                        as = types[(size_t)rand_r(&seed) % 4];
                int r = decode_and_free(as, p, len);
                if (r != 0 && r != -EPROTO)
                        fail_msg("iteration %d: decoder returned %d", iter, r);
                if (r == 0)
                        accepted++;
                else
                        refused++;
                free(p);

                /* headers too: whole header flipped */
                uint8_t *h = copy_bytes(bufs[t].data, WIRE_HEADER_SIZE);
                h[(size_t)rand_r(&seed) % WIRE_HEADER_SIZE] ^= (uint8_t)(1 + rand_r(&seed) % 255);
                struct wire_header out;
                r = wire_parse_header(h, WIRE_HEADER_SIZE, &out);
                if (r != 0 && r != -EPROTO && r != -EMSGSIZE)
                        fail_msg("iteration %d: header parser returned %d", iter, r);
                free(h);
        }
        /* the loop exercised both outcomes */
        assert_true(accepted > 0);
        assert_true(refused > 0);
        for (size_t t = 0; t < 4; t++) {
                free(samples[t].payload);
                wire_buf_free(&bufs[t]);
        }
}

/* put_str treats a NULL string as empty ("s ? strlen(s) : 0"); a reply without a path
 * must encode (and decode as "") — it must not hand NULL to memcpy. Last in the
 * list: UBSan stops the program here if it does. */
static void test_reply_null_path_encodes_empty(void **state)
{
        (void)state;
        struct wire_buf buf = {0};
        struct wire_reply in = {.status = -EINVAL, .path = NULL, .message = NULL};
        assert_int_equal(wire_put_reply(&buf, &in), 0);
        struct decoded d = split_message(&buf, 0);
        struct wire_reply out;
        assert_int_equal(wire_get_reply(d.payload, d.len, &out), 0);
        assert_string_equal(out.path, "");
        assert_string_equal(out.message, "");
        wire_reply_free(&out);
        free(d.payload);
        wire_buf_free(&buf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create_round_trip_no_exceptions),
                cmocka_unit_test(test_create_round_trip_with_exceptions),
                cmocka_unit_test(test_s10_create_round_trip_backing_named),
                cmocka_unit_test(test_create_round_trip_max_exceptions),
                cmocka_unit_test(test_remove_tree_round_trip),
                cmocka_unit_test(test_explain_round_trip),
                cmocka_unit_test(test_remove_round_trip),
                cmocka_unit_test(test_list_round_trip),
                cmocka_unit_test(test_list_want_round_trip),
                cmocka_unit_test(test_reply_round_trip_negative_status),
                cmocka_unit_test(test_reply_round_trip_success_and_empty_strings),
                cmocka_unit_test(test_reply_long_message_is_cut),
                cmocka_unit_test(test_link_round_trip),
                cmocka_unit_test(test_messages_in_sequence),
                cmocka_unit_test(test_put_string_of_path_max_is_einval),
                cmocka_unit_test(test_create_every_truncation_is_eproto),
                cmocka_unit_test(test_other_messages_every_truncation_is_eproto),
                cmocka_unit_test(test_create_many_in_round_trip_and_bad_counts_are_eproto),
                cmocka_unit_test(test_scoped_messages_round_trip_and_bad_targets_are_eproto),
                cmocka_unit_test(test_trailing_byte_is_eproto),
                cmocka_unit_test(test_hand_built_create_is_accepted),
                cmocka_unit_test(test_string_length_bigger_than_rest_is_eproto),
                cmocka_unit_test(test_string_of_path_max_bytes_is_eproto),
                cmocka_unit_test(test_string_with_nul_is_eproto),
                cmocka_unit_test(test_exception_count_that_lies_is_eproto),
                cmocka_unit_test(test_257_exceptions_is_eproto),
                cmocka_unit_test(test_link_exception_count_that_lies_is_eproto),
                cmocka_unit_test(test_negative_errno_fields_are_eproto),
                cmocka_unit_test(test_reply_positive_status_is_eproto),
                cmocka_unit_test(test_reply_status_int32_min_is_eproto),
                cmocka_unit_test(test_header_size_is_16),
                cmocka_unit_test(test_header_valid_types),
                cmocka_unit_test(test_header_short_is_eproto),
                cmocka_unit_test(test_header_bad_magic_is_eproto),
                cmocka_unit_test(test_header_bad_version_is_eproto),
                cmocka_unit_test(test_header_unknown_type_is_eproto),
                cmocka_unit_test(test_header_length_over_max_is_emsgsize),
                cmocka_unit_test(test_header_fds_on_non_create_is_eproto),
                cmocka_unit_test(test_header_too_many_fds_is_eproto),
                cmocka_unit_test(test_fuzz_flipped_bytes_never_crash),
                cmocka_unit_test(test_reply_null_path_encodes_empty),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
