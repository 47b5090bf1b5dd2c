/* fuzz_wire.c — libFuzzer target for the wire decoder (common/wire.c), fed what a peer
 * could write into the socket: a stream of messages, each a header and then up to its
 * length of payload (the last one may be cut short, as when a client hangs up).
 *
 * For each message: wire_parse_header, then by its type wire_get_create / _remove /
 * _reply / _link on exactly the payload bytes (in an exactly sized buffer). What is
 * refused must be refused with the documented code and leave the output untouched;
 * what is accepted must re-encode with wire_put_* to the same bytes (only a reply's
 * message is cut at 511 bytes by design), decode again to equal fields, and no strict
 * prefix of it may decode. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "fuzz.h"
#include "util.h"
#include "wire.h"

/* Enough to reach every state of a connection, few enough to keep executions fast. */
#define MAX_MESSAGES 16
/* wire_put_reply cuts the message to fit a 512-byte buffer. */
#define REPLY_MESSAGE_KEPT 511

#define SENTINEL 0xa5

static bool untouched(const void *out, size_t n)
{
        const uint8_t *p = out;
        for (size_t i = 0; i < n; i++)
                if (p[i] != SENTINEL)
                        return false;
        return true;
}

static void check_string(const char *s)
{
        CHECK(s != NULL);
        CHECK(strlen(s) < PATH_MAX);
}

static void check_strv_equal(char **a, char **b, uint32_t n)
{
        for (uint32_t i = 0; i < n; i++)
                CHECK_STR_EQ(a[i], b[i]);
}

/* The header wire_put_* wrote, checked against the one we decoded from. */
static void check_encoded(const struct wire_buf *buf, uint16_t type, size_t len, uint32_t fd_count,
                          const uint8_t *payload, bool same_bytes)
{
        CHECK(buf->error == 0);
        struct wire_header h;
        CHECK(wire_parse_header(buf->data, buf->len, &h) == 0);
        CHECK(h.type == type && h.fd_count == fd_count);
        CHECK(h.length == buf->len - WIRE_HEADER_SIZE);
        if (same_bytes)
                CHECK(h.length == len && memcmp(buf->data + WIRE_HEADER_SIZE, payload, len) == 0);
}

/* ---- one codec per payload type -------------------------------------------------- */

/* The scoped messages (S23) carry a target first. */
struct scoped {
        struct wire_target target;
        struct wire_create create;
        struct wire_remove remove;
        struct wire_create *many; /* WIRE_CREATE_MANY_IN */
        uint32_t many_count;
        uint32_t want; /* WIRE_LIST_WANT(_IN) */
};

union decoded {
        struct wire_create create;
        struct wire_remove remove;
        struct wire_reply reply;
        struct wire_link link;
        struct scoped scoped;
        struct wire_explain explain;
        struct wire_step step;
};

struct codec {
        uint16_t type;
        int (*decode)(const uint8_t *payload, size_t len, union decoded *ret);
        int (*encode)(struct wire_buf *buf, const union decoded *m, uint32_t fd_count);
        void (*release)(union decoded *m);
        /* What a decoded message must satisfy. */
        void (*check)(const union decoded *m);
        /* Whether encoding m gives back the very bytes it came from (NULL: always). */
        bool (*same_bytes)(const union decoded *m);
        /* m was decoded from what `before` encoded to. */
        void (*check_again)(const union decoded *before, const union decoded *m);
};

static int decode_create(const uint8_t *p, size_t n, union decoded *m)
{
        return wire_get_create(p, n, &m->create);
}
static int encode_create(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        return wire_put_create(buf, &m->create, fd_count);
}
static void release_create(union decoded *m)
{
        wire_create_free(&m->create);
}
static void check_create(const union decoded *d)
{
        const struct wire_create *m = &d->create;
        check_string(m->virtual_path);
        check_string(m->backing_path);
        CHECK(m->exception_count <= 256);
        CHECK(m->parent_error >= 0 && m->backing_error >= 0);
        for (uint32_t i = 0; i < m->exception_count; i++) {
                check_string(m->exception_paths[i]);
                CHECK(m->exception_errors[i] >= 0);
        }
        if (m->backing_named)
                check_string(m->backing_named);
}
static void check_create_again(const union decoded *before, const union decoded *after)
{
        const struct wire_create *a = &before->create, *m = &after->create;
        CHECK(m->flags == a->flags && m->exception_count == a->exception_count);
        CHECK(m->parent_error == a->parent_error && m->backing_error == a->backing_error);
        CHECK_STR_EQ(m->virtual_path, a->virtual_path);
        CHECK_STR_EQ(m->backing_path, a->backing_path);
        CHECK((m->backing_named == NULL) == (a->backing_named == NULL));
        if (a->backing_named)
                CHECK_STR_EQ(m->backing_named, a->backing_named);
        check_strv_equal(m->exception_paths, a->exception_paths, a->exception_count);
        if (a->exception_count)
                CHECK(memcmp(m->exception_errors, a->exception_errors,
                             a->exception_count * sizeof(int32_t)) == 0);
}

static int decode_remove(const uint8_t *p, size_t n, union decoded *m)
{
        return wire_get_remove(p, n, &m->remove);
}
static int encode_remove(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        (void)fd_count;
        return wire_put_remove(buf, &m->remove);
}
/* A tree removal: the payload of a plain one, told apart by the message type. */
static int decode_remove_tree(const uint8_t *p, size_t n, union decoded *m)
{
        int r = wire_get_remove(p, n, &m->remove);
        if (r == 0)
                m->remove.tree = true;
        return r;
}
static void release_remove(union decoded *m)
{
        wire_remove_free(&m->remove);
}
static void check_remove(const union decoded *m)
{
        check_string(m->remove.virtual_path);
}
static void check_remove_again(const union decoded *before, const union decoded *after)
{
        CHECK_STR_EQ(after->remove.virtual_path, before->remove.virtual_path);
}

static int decode_explain(const uint8_t *p, size_t n, union decoded *m)
{
        return wire_get_explain(p, n, &m->explain);
}
static int encode_explain(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        (void)fd_count;
        return wire_put_explain(buf, &m->explain);
}
static void release_explain(union decoded *m)
{
        wire_explain_free(&m->explain);
}
static void check_explain(const union decoded *m)
{
        check_string(m->explain.path);
}
static void check_explain_again(const union decoded *before, const union decoded *after)
{
        CHECK_STR_EQ(after->explain.path, before->explain.path);
}

static int decode_step(const uint8_t *p, size_t n, union decoded *m)
{
        return wire_get_step(p, n, &m->step);
}
static int encode_step(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        (void)fd_count;
        return wire_put_step(buf, &m->step);
}
static void release_step(union decoded *m)
{
        wire_step_free(&m->step);
}
static void check_step(const union decoded *m)
{
        check_string(m->step.path);
        check_string(m->step.virtual_path);
        check_string(m->step.backing_path);
        check_string(m->step.detail);
}
static void check_step_again(const union decoded *before, const union decoded *after)
{
        CHECK(after->step.kind == before->step.kind && after->step.order == before->step.order &&
              after->step.flags == before->step.flags);
        CHECK_STR_EQ(after->step.path, before->step.path);
        CHECK_STR_EQ(after->step.virtual_path, before->step.virtual_path);
        CHECK_STR_EQ(after->step.backing_path, before->step.backing_path);
        CHECK_STR_EQ(after->step.detail, before->step.detail);
}

static int decode_reply(const uint8_t *p, size_t n, union decoded *m)
{
        return wire_get_reply(p, n, &m->reply);
}
static int encode_reply(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        (void)fd_count;
        return wire_put_reply(buf, &m->reply);
}
static void release_reply(union decoded *m)
{
        wire_reply_free(&m->reply);
}
static void check_reply(const union decoded *d)
{
        check_string(d->reply.path);
        check_string(d->reply.message);
        CHECK(d->reply.status <= 0 && d->reply.status >= -4095);
}
static bool reply_kept_whole(const union decoded *m)
{
        return strlen(m->reply.message) <= REPLY_MESSAGE_KEPT;
}
static void check_reply_again(const union decoded *before, const union decoded *after)
{
        const struct wire_reply *a = &before->reply, *m = &after->reply;
        CHECK(m->status == a->status && m->fault == a->fault &&
              m->exception_index == a->exception_index);
        CHECK_STR_EQ(m->path, a->path);
        if (reply_kept_whole(before))
                CHECK_STR_EQ(m->message, a->message);
        else
                CHECK(strlen(m->message) == REPLY_MESSAGE_KEPT &&
                      memcmp(m->message, a->message, REPLY_MESSAGE_KEPT) == 0);
}

static int decode_link(const uint8_t *p, size_t n, union decoded *m)
{
        return wire_get_link(p, n, &m->link);
}
static int encode_link(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        (void)fd_count;
        return wire_put_link(buf, &m->link);
}
static void release_link(union decoded *m)
{
        wire_link_free(&m->link);
}
static void check_link(const union decoded *d)
{
        const struct wire_link *m = &d->link;
        check_string(m->virtual_path);
        check_string(m->backing_path);
        CHECK(m->exception_count <= 256);
        for (uint32_t i = 0; i < m->exception_count; i++)
                check_string(m->exception_paths[i]);
}
static void check_link_again(const union decoded *before, const union decoded *after)
{
        const struct wire_link *a = &before->link, *m = &after->link;
        CHECK(m->order == a->order && m->flags == a->flags && m->realization == a->realization &&
              m->exception_count == a->exception_count);
        CHECK_STR_EQ(m->virtual_path, a->virtual_path);
        CHECK_STR_EQ(m->backing_path, a->backing_path);
        check_strv_equal(m->exception_paths, a->exception_paths, a->exception_count);
}

static void check_target(const struct wire_target *t)
{
        check_string(t->root);
        CHECK(t->kind >= WIRE_TARGET_PIDFD && t->kind <= WIRE_TARGET_ALL);
        CHECK(t->kind != WIRE_TARGET_PID || t->pid > 0);
}
static void check_target_again(const struct wire_target *a, const struct wire_target *m)
{
        CHECK(m->kind == a->kind && m->pid == a->pid);
        CHECK_STR_EQ(m->root, a->root);
}

static int decode_create_in(const uint8_t *p, size_t n, union decoded *m)
{
        struct wire_target t;
        struct wire_create c;
        int r = wire_get_create_in(p, n, &t, &c);
        if (r == 0)
                m->scoped = (struct scoped){.target = t, .create = c};
        return r;
}
static int encode_create_in(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        return wire_put_create_in(buf, &m->scoped.target, &m->scoped.create, fd_count);
}
static void release_create_in(union decoded *m)
{
        wire_target_free(&m->scoped.target);
        wire_create_free(&m->scoped.create);
}
static void check_create_in(const union decoded *d)
{
        check_target(&d->scoped.target);
        CHECK(d->scoped.target.kind != WIRE_TARGET_ALL);
        check_create((const union decoded *)&d->scoped.create);
}
static void check_create_in_again(const union decoded *before, const union decoded *after)
{
        check_target_again(&before->scoped.target, &after->scoped.target);
        check_create_again((const union decoded *)&before->scoped.create,
                           (const union decoded *)&after->scoped.create);
}

static int decode_create_many_in(const uint8_t *p, size_t n, union decoded *m)
{
        struct wire_target t;
        struct wire_create *c;
        uint32_t count;
        int r = wire_get_create_many_in(p, n, &t, &c, &count);
        if (r == 0)
                m->scoped = (struct scoped){.target = t, .many = c, .many_count = count};
        return r;
}
static int encode_create_many_in(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        return wire_put_create_many_in(buf, &m->scoped.target, m->scoped.many, m->scoped.many_count,
                                       fd_count);
}
static void release_create_many_in(union decoded *m)
{
        wire_target_free(&m->scoped.target);
        wire_create_many_free(m->scoped.many, m->scoped.many_count);
}
static void check_create_many_in(const union decoded *d)
{
        check_target(&d->scoped.target);
        CHECK(d->scoped.target.kind != WIRE_TARGET_ALL);
        CHECK(d->scoped.many_count >= 1 && d->scoped.many_count <= WIRE_MAX_BATCH);
        for (uint32_t i = 0; i < d->scoped.many_count; i++)
                check_create((const union decoded *)&d->scoped.many[i]);
}
static void check_create_many_in_again(const union decoded *before, const union decoded *after)
{
        check_target_again(&before->scoped.target, &after->scoped.target);
        CHECK(after->scoped.many_count == before->scoped.many_count);
        for (uint32_t i = 0; i < before->scoped.many_count; i++)
                check_create_again((const union decoded *)&before->scoped.many[i],
                                   (const union decoded *)&after->scoped.many[i]);
}

static int decode_remove_in(const uint8_t *p, size_t n, union decoded *m)
{
        struct wire_target t;
        struct wire_remove r_;
        int r = wire_get_remove_in(p, n, &t, &r_);
        if (r == 0)
                m->scoped = (struct scoped){.target = t, .remove = r_};
        return r;
}
static int encode_remove_in(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        return wire_put_remove_in(buf, &m->scoped.target, &m->scoped.remove, fd_count);
}
static int decode_remove_tree_in(const uint8_t *p, size_t n, union decoded *m)
{
        int r = decode_remove_in(p, n, m);
        if (r == 0)
                m->scoped.remove.tree = true;
        return r;
}
static void release_remove_in(union decoded *m)
{
        wire_target_free(&m->scoped.target);
        wire_remove_free(&m->scoped.remove);
}
static void check_remove_in(const union decoded *d)
{
        check_target(&d->scoped.target);
        check_string(d->scoped.remove.virtual_path);
}
static void check_remove_in_again(const union decoded *before, const union decoded *after)
{
        check_target_again(&before->scoped.target, &after->scoped.target);
        CHECK_STR_EQ(after->scoped.remove.virtual_path, before->scoped.remove.virtual_path);
}

static int decode_list_in(const uint8_t *p, size_t n, union decoded *m)
{
        struct wire_target t;
        int r = wire_get_list_in(p, n, &t);
        if (r == 0)
                m->scoped = (struct scoped){.target = t};
        return r;
}
static int encode_list_in(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        return wire_put_list_in(buf, &m->scoped.target, fd_count);
}
static void release_list_in(union decoded *m)
{
        wire_target_free(&m->scoped.target);
}
static void check_list_in(const union decoded *d)
{
        check_target(&d->scoped.target);
}
static void check_list_in_again(const union decoded *before, const union decoded *after)
{
        check_target_again(&before->scoped.target, &after->scoped.target);
}

static int decode_link_in(const uint8_t *p, size_t n, union decoded *m)
{
        return wire_get_link_in(p, n, &m->link);
}
static int encode_link_in(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        (void)fd_count;
        return wire_put_link_in(buf, &m->link);
}
static void check_link_in_again(const union decoded *before, const union decoded *after)
{
        CHECK(after->link.scope_id == before->link.scope_id &&
              after->link.scope_pid == before->link.scope_pid);
        check_link_again(before, after);
}

static int decode_list_want(const uint8_t *p, size_t n, union decoded *m)
{
        uint32_t want;
        int r = wire_get_list_want(p, n, &want);
        if (r == 0)
                m->scoped = (struct scoped){.want = want};
        return r;
}
static int encode_list_want(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        (void)fd_count;
        return wire_put_list_want(buf, m->scoped.want);
}
static void release_nothing(union decoded *m)
{
        (void)m;
}
static void check_list_want(const union decoded *d)
{
        CHECK(d->scoped.want != 0);
}
static void check_list_want_again(const union decoded *before, const union decoded *after)
{
        CHECK(after->scoped.want == before->scoped.want);
}

static int decode_list_want_in(const uint8_t *p, size_t n, union decoded *m)
{
        struct wire_target t;
        uint32_t want;
        int r = wire_get_list_want_in(p, n, &t, &want);
        if (r == 0)
                m->scoped = (struct scoped){.target = t, .want = want};
        return r;
}
static int encode_list_want_in(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        return wire_put_list_want_in(buf, &m->scoped.target, m->scoped.want, fd_count);
}
static void check_list_want_in(const union decoded *d)
{
        check_target(&d->scoped.target);
        check_list_want(d);
}
static void check_list_want_in_again(const union decoded *before, const union decoded *after)
{
        check_target_again(&before->scoped.target, &after->scoped.target);
        check_list_want_again(before, after);
}

static int decode_link_want(const uint8_t *p, size_t n, union decoded *m)
{
        return wire_get_link_want(p, n, &m->link);
}
static int encode_link_want(struct wire_buf *buf, const union decoded *m, uint32_t fd_count)
{
        (void)fd_count;
        return wire_put_link_want(buf, &m->link);
}
static void check_link_want_again(const union decoded *before, const union decoded *after)
{
        CHECK(after->link.watch_said && after->link.watch == before->link.watch);
        check_link_in_again(before, after);
}

static const struct codec codecs[] = {
        {WIRE_CREATE, decode_create, encode_create, release_create, check_create, NULL,
         check_create_again},
        {WIRE_REMOVE, decode_remove, encode_remove, release_remove, check_remove, NULL,
         check_remove_again},
        {WIRE_REPLY, decode_reply, encode_reply, release_reply, check_reply, reply_kept_whole,
         check_reply_again},
        {WIRE_LIST_ENTRY, decode_link, encode_link, release_link, check_link, NULL,
         check_link_again},
        {WIRE_CREATE_IN, decode_create_in, encode_create_in, release_create_in, check_create_in,
         NULL, check_create_in_again},
        {WIRE_REMOVE_IN, decode_remove_in, encode_remove_in, release_remove_in, check_remove_in,
         NULL, check_remove_in_again},
        {WIRE_REMOVE_TREE, decode_remove_tree, encode_remove, release_remove, check_remove, NULL,
         check_remove_again},
        {WIRE_REMOVE_TREE_IN, decode_remove_tree_in, encode_remove_in, release_remove_in,
         check_remove_in, NULL, check_remove_in_again},
        {WIRE_EXPLAIN, decode_explain, encode_explain, release_explain, check_explain, NULL,
         check_explain_again},
        {WIRE_EXPLAIN_STEP, decode_step, encode_step, release_step, check_step, NULL,
         check_step_again},
        {WIRE_LIST_IN, decode_list_in, encode_list_in, release_list_in, check_list_in, NULL,
         check_list_in_again},
        {WIRE_LIST_ENTRY_IN, decode_link_in, encode_link_in, release_link, check_link, NULL,
         check_link_in_again},
        {WIRE_CREATE_MANY_IN, decode_create_many_in, encode_create_many_in, release_create_many_in,
         check_create_many_in, NULL, check_create_many_in_again},
        {WIRE_LIST_WANT, decode_list_want, encode_list_want, release_nothing, check_list_want, NULL,
         check_list_want_again},
        {WIRE_LIST_WANT_IN, decode_list_want_in, encode_list_want_in, release_list_in,
         check_list_want_in, NULL, check_list_want_in_again},
        {WIRE_LIST_ENTRY_WANT, decode_link_want, encode_link_want, release_link, check_link, NULL,
         check_link_want_again},
};

/* True if the payload decoded into *ret; a refusal must be -EPROTO and leave *ret as
 * it was (filled with SENTINEL here). */
static bool decode_checked(const struct codec *c, const uint8_t *payload, size_t len,
                           union decoded *ret)
{
        memset(ret, SENTINEL, sizeof *ret);
        int r = c->decode(payload, len, ret);
        if (r == 0)
                return true;
        CHECK(r == -EPROTO);
        CHECK(untouched(ret, sizeof *ret));
        return false;
}

static void fuzz_payload(const struct codec *c, const uint8_t *payload, size_t len,
                         uint32_t fd_count)
{
        union decoded m, again;
        if (!decode_checked(c, payload, len, &m))
                return;
        c->check(&m);

        struct wire_buf buf = {0};
        CHECK(c->encode(&buf, &m, fd_count) == 0);
        check_encoded(&buf, c->type, len, fd_count, payload, !c->same_bytes || c->same_bytes(&m));
        CHECK(c->decode(buf.data + WIRE_HEADER_SIZE, buf.len - WIRE_HEADER_SIZE, &again) == 0);
        c->check_again(&m, &again);
        c->release(&again);
        c->release(&m);
        wire_buf_free(&buf);

        /* A payload that decoded is complete: one byte less must not decode. */
        if (len > 0) {
                uint8_t *shorter = fuzz_copy(payload, len - 1, 0);
                if (decode_checked(c, shorter, len - 1, &again)) {
                        c->release(&again);
                        CHECK(!"a strict prefix of a message decoded");
                }
                free(shorter);
        }
}

/* A LIST has no payload to decode: the daemon refuses any; the empty one re-encodes. */
static void fuzz_list(size_t len)
{
        if (len != 0)
                return;
        struct wire_buf buf = {0};
        CHECK(wire_put_list(&buf) == 0);
        check_encoded(&buf, WIRE_LIST, 0, 0, NULL, false);
        CHECK(buf.len == WIRE_HEADER_SIZE);
        wire_buf_free(&buf);
}

/* One header: refused with -EPROTO/-EMSGSIZE and nothing written, or accepted and
 * within every limit the server relies on. */
static int parse_header(const uint8_t *data, size_t size, struct wire_header *ret)
{
        uint8_t *exact = fuzz_copy(data, size, 0);
        struct wire_header h;
        memset(&h, SENTINEL, sizeof h);
        int r = wire_parse_header(exact, size, &h);
        free(exact);
        if (r < 0) {
                CHECK(r == -EPROTO || r == -EMSGSIZE);
                CHECK(untouched(&h, sizeof h));
                return r;
        }
        CHECK(size >= WIRE_HEADER_SIZE);
        CHECK(h.magic == WIRE_MAGIC && h.version == WIRE_VERSION);
        CHECK(h.length <= WIRE_MAX_PAYLOAD);
        CHECK(h.fd_count <= WIRE_MAX_FDS);
        CHECK(h.type == WIRE_CREATE || h.type == WIRE_CREATE_IN || h.type == WIRE_CREATE_MANY_IN ||
              h.fd_count <= 1);
        CHECK(h.fd_count == 0 || h.type == WIRE_CREATE || h.type == WIRE_CREATE_IN ||
              h.type == WIRE_CREATE_MANY_IN || h.type == WIRE_REMOVE_IN ||
              h.type == WIRE_REMOVE_TREE_IN || h.type == WIRE_LIST_IN ||
              h.type == WIRE_LIST_WANT_IN);
        *ret = h;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t at = 0;
        for (int i = 0; i < MAX_MESSAGES && at < size; i++) {
                size_t left = size - at;
                struct wire_header h;
                /* Only what the socket holds so far: the daemon parses 16 bytes, no more. */
                if (parse_header(data + at, left < WIRE_HEADER_SIZE ? left : WIRE_HEADER_SIZE, &h) <
                    0)
                        return 0;
                at += WIRE_HEADER_SIZE;
                left = size - at;
                size_t len = h.length <= left ? h.length : left;
                uint8_t *payload = fuzz_copy(data + at, len, 0);
                at += len;
                if (h.type == WIRE_LIST) {
                        fuzz_list(len);
                } else {
                        size_t k = 0;
                        while (k < ELEMENTSOF(codecs) && codecs[k].type != h.type)
                                k++;
                        CHECK(k < ELEMENTSOF(codecs)); /* wire_parse_header knows no other */
                        fuzz_payload(&codecs[k], payload, len, h.fd_count);
                }
                free(payload);
        }
        return 0;
}
