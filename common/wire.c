/* wire.c — encoding and bounds-checked decoding of protocol messages (see wire.h). */
#include "wire.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- writing ---------------------------------------------------------------- */

static void buf_put(struct wire_buf *buf, const void *data, size_t n)
{
        if (buf->error)
                return;
        if (buf->len + n > buf->cap) {
                size_t cap = buf->cap ? buf->cap : 256;
                while (cap < buf->len + n)
                        cap *= 2;
                uint8_t *grown = realloc(buf->data, cap);
                if (!grown) {
                        buf->error = -ENOMEM;
                        return;
                }
                buf->data = grown;
                buf->cap = cap;
        }
        memcpy(buf->data + buf->len, data, n);
        buf->len += n;
}

static void put_u32(struct wire_buf *buf, uint32_t v)
{
        buf_put(buf, &v, sizeof v);
}
static void put_u64(struct wire_buf *buf, uint64_t v)
{
        buf_put(buf, &v, sizeof v);
}

static void put_str(struct wire_buf *buf, const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n >= PATH_MAX) {
                if (!buf->error)
                        buf->error = -EINVAL;
                return;
        }
        put_u32(buf, (uint32_t)n);
        if (n > 0)
                buf_put(buf, s, n);
}

/* Reserve the header, let fill() write the payload, then patch the length. */
static size_t begin(struct wire_buf *buf, enum wire_type type, uint32_t fd_count)
{
        struct wire_header h = {
                .magic = WIRE_MAGIC,
                .version = WIRE_VERSION,
                .type = (uint16_t)type,
                .length = 0,
                .fd_count = fd_count,
        };
        size_t at = buf->len;
        buf_put(buf, &h, sizeof h);
        return at;
}

static int finish(struct wire_buf *buf, size_t at)
{
        if (buf->error)
                return buf->error;
        size_t length = buf->len - at - WIRE_HEADER_SIZE;
        if (length > WIRE_MAX_PAYLOAD) {
                buf->len = at;
                return -EMSGSIZE;
        }
        uint32_t l32 = (uint32_t)length;
        memcpy(buf->data + at + offsetof(struct wire_header, length), &l32, sizeof l32);
        return 0;
}

void wire_buf_free(struct wire_buf *buf)
{
        free(buf->data);
        *buf = (struct wire_buf){0};
}

static void put_create_body(struct wire_buf *buf, const struct wire_create *msg)
{
        put_u32(buf, msg->flags);
        put_u32(buf, msg->exception_count);
        put_str(buf, msg->virtual_path);
        put_u32(buf, (uint32_t)msg->parent_error);
        put_str(buf, msg->backing_path);
        put_u32(buf, (uint32_t)msg->backing_error);
        for (uint32_t i = 0; i < msg->exception_count; i++) {
                put_str(buf, msg->exception_paths[i]);
                put_u32(buf, (uint32_t)msg->exception_errors[i]);
        }
}

int wire_put_create(struct wire_buf *buf, const struct wire_create *msg, uint32_t fd_count)
{
        size_t at = begin(buf, WIRE_CREATE, fd_count);
        put_create_body(buf, msg);
        if (msg->backing_named)
                put_str(buf, msg->backing_named);
        return finish(buf, at);
}

static void put_target(struct wire_buf *buf, const struct wire_target *t)
{
        put_u32(buf, t->kind);
        put_u32(buf, (uint32_t)t->pid);
        put_str(buf, t->root);
}

uint32_t wire_target_fds(const struct wire_target *t)
{
        return t->kind == WIRE_TARGET_PIDFD || t->kind == WIRE_TARGET_NSFD;
}

int wire_put_create_in(struct wire_buf *buf, const struct wire_target *target,
                       const struct wire_create *msg, uint32_t fd_count)
{
        size_t at = begin(buf, WIRE_CREATE_IN, fd_count);
        put_target(buf, target);
        put_create_body(buf, msg);
        return finish(buf, at);
}

int wire_put_remove_in(struct wire_buf *buf, const struct wire_target *target,
                       const struct wire_remove *msg, uint32_t fd_count)
{
        size_t at = begin(buf, msg->tree ? WIRE_REMOVE_TREE_IN : WIRE_REMOVE_IN, fd_count);
        put_target(buf, target);
        put_str(buf, msg->virtual_path);
        return finish(buf, at);
}

int wire_put_create_many_in(struct wire_buf *buf, const struct wire_target *target,
                            const struct wire_create *msgs, uint32_t count, uint32_t fd_count)
{
        if (count == 0 || count > WIRE_MAX_BATCH)
                return -EINVAL;
        size_t at = begin(buf, WIRE_CREATE_MANY_IN, fd_count);
        put_target(buf, target);
        put_u32(buf, count);
        for (uint32_t i = 0; i < count; i++)
                put_create_body(buf, &msgs[i]);
        return finish(buf, at);
}

int wire_put_list_in(struct wire_buf *buf, const struct wire_target *target, uint32_t fd_count)
{
        size_t at = begin(buf, WIRE_LIST_IN, fd_count);
        put_target(buf, target);
        return finish(buf, at);
}

int wire_put_remove(struct wire_buf *buf, const struct wire_remove *msg)
{
        size_t at = begin(buf, msg->tree ? WIRE_REMOVE_TREE : WIRE_REMOVE, 0);
        put_str(buf, msg->virtual_path);
        return finish(buf, at);
}

int wire_put_list(struct wire_buf *buf)
{
        size_t at = begin(buf, WIRE_LIST, 0);
        return finish(buf, at);
}

int wire_put_list_want(struct wire_buf *buf, uint32_t want)
{
        size_t at = begin(buf, WIRE_LIST_WANT, 0);
        put_u32(buf, want);
        return finish(buf, at);
}

int wire_put_list_want_in(struct wire_buf *buf, const struct wire_target *target, uint32_t want,
                          uint32_t fd_count)
{
        size_t at = begin(buf, WIRE_LIST_WANT_IN, fd_count);
        put_target(buf, target);
        put_u32(buf, want);
        return finish(buf, at);
}

int wire_put_reply(struct wire_buf *buf, const struct wire_reply *msg)
{
        size_t at = begin(buf, WIRE_REPLY, 0);
        put_u32(buf, (uint32_t)msg->status);
        put_u32(buf, msg->fault);
        put_u32(buf, msg->exception_index);
        put_str(buf, msg->path);
        /* Messages are built by the daemon; cut rather than fail on a long one. */
        char message[512];
        (void)snprintf(message, sizeof message, "%s", msg->message ? msg->message : "");
        put_str(buf, message);
        return finish(buf, at);
}

static void put_link_body(struct wire_buf *buf, const struct wire_link *msg)
{
        put_u64(buf, msg->order);
        put_u32(buf, msg->flags);
        put_u32(buf, msg->realization);
        put_str(buf, msg->virtual_path);
        put_str(buf, msg->backing_path);
        put_u32(buf, msg->exception_count);
        for (uint32_t i = 0; i < msg->exception_count; i++)
                put_str(buf, msg->exception_paths[i]);
}

int wire_put_link(struct wire_buf *buf, const struct wire_link *msg)
{
        size_t at = begin(buf, WIRE_LIST_ENTRY, 0);
        put_link_body(buf, msg);
        return finish(buf, at);
}

int wire_put_link_in(struct wire_buf *buf, const struct wire_link *msg)
{
        size_t at = begin(buf, WIRE_LIST_ENTRY_IN, 0);
        put_u64(buf, msg->scope_id);
        put_u32(buf, (uint32_t)msg->scope_pid);
        put_link_body(buf, msg);
        return finish(buf, at);
}

int wire_put_link_want(struct wire_buf *buf, const struct wire_link *msg)
{
        size_t at = begin(buf, WIRE_LIST_ENTRY_WANT, 0);
        put_u64(buf, msg->scope_id);
        put_u32(buf, (uint32_t)msg->scope_pid);
        put_link_body(buf, msg);
        put_u32(buf, msg->watch);
        return finish(buf, at);
}

int wire_put_explain(struct wire_buf *buf, const struct wire_explain *msg)
{
        size_t at = begin(buf, WIRE_EXPLAIN, 0);
        put_str(buf, msg->path);
        return finish(buf, at);
}

int wire_put_step(struct wire_buf *buf, const struct wire_step *msg)
{
        size_t at = begin(buf, WIRE_EXPLAIN_STEP, 0);
        put_u32(buf, msg->kind);
        put_str(buf, msg->path);
        put_u64(buf, msg->order);
        put_u32(buf, msg->flags);
        put_str(buf, msg->virtual_path ? msg->virtual_path : "");
        put_str(buf, msg->backing_path ? msg->backing_path : "");
        /* Built by the daemon from paths: cut rather than fail on a long one. */
        char detail[PATH_MAX];
        (void)snprintf(detail, sizeof detail, "%s", msg->detail ? msg->detail : "");
        put_str(buf, detail);
        return finish(buf, at);
}

/* ---- reading ---------------------------------------------------------------- */

struct reader {
        const uint8_t *p;
        size_t left;
        bool bad;
};

static void get_bytes(struct reader *r, void *out, size_t n)
{
        if (r->bad || r->left < n) {
                r->bad = true;
                memset(out, 0, n);
                return;
        }
        memcpy(out, r->p, n);
        r->p += n;
        r->left -= n;
}

static uint32_t get_u32(struct reader *r)
{
        uint32_t v;
        get_bytes(r, &v, sizeof v);
        return v;
}

static uint64_t get_u64(struct reader *r)
{
        uint64_t v;
        get_bytes(r, &v, sizeof v);
        return v;
}

/* A string is refused if its length lies, exceeds PATH_MAX-1 or it holds a NUL. */
static char *get_str(struct reader *r)
{
        uint32_t n = get_u32(r);
        if (r->bad || n >= PATH_MAX || n > r->left) {
                r->bad = true;
                return NULL;
        }
        if (memchr(r->p, '\0', n)) {
                r->bad = true;
                return NULL;
        }
        char *s = strndup((const char *)r->p, n);
        if (!s) {
                r->bad = true;
                return NULL;
        }
        r->p += n;
        r->left -= n;
        return s;
}

static int reader_end(const struct reader *r)
{
        return r->bad || r->left != 0 ? -EPROTO : 0;
}

int wire_parse_header(const uint8_t *data, size_t len, struct wire_header *ret_header)
{
        struct wire_header h;
        if (len < WIRE_HEADER_SIZE)
                return -EPROTO;
        memcpy(&h, data, sizeof h);
        if (h.magic != WIRE_MAGIC || h.version != WIRE_VERSION)
                return -EPROTO;
        switch (h.type) {
        case WIRE_CREATE:
        case WIRE_REMOVE:
        case WIRE_LIST:
        case WIRE_CREATE_IN:
        case WIRE_REMOVE_IN:
        case WIRE_LIST_IN:
        case WIRE_CREATE_MANY_IN:
        case WIRE_REMOVE_TREE:
        case WIRE_REMOVE_TREE_IN:
        case WIRE_EXPLAIN:
        case WIRE_REPLY:
        case WIRE_LIST_ENTRY:
        case WIRE_LIST_ENTRY_IN:
        case WIRE_EXPLAIN_STEP:
        case WIRE_LIST_WANT:
        case WIRE_LIST_WANT_IN:
        case WIRE_LIST_ENTRY_WANT:
                break;
        default:
                return -EPROTO;
        }
        if (h.length > WIRE_MAX_PAYLOAD)
                return -EMSGSIZE;
        /* Descriptors: a create's paths, a target's pidfd or namespace. */
        uint32_t most =
                h.type == WIRE_CREATE || h.type == WIRE_CREATE_IN || h.type == WIRE_CREATE_MANY_IN
                        ? WIRE_MAX_FDS
                : h.type == WIRE_REMOVE_IN || h.type == WIRE_REMOVE_TREE_IN ||
                                h.type == WIRE_LIST_IN || h.type == WIRE_LIST_WANT_IN
                        ? 1
                        : 0;
        if (h.fd_count > most)
                return -EPROTO;
        *ret_header = h;
        return 0;
}

static void free_strv(char **v, uint32_t n)
{
        if (!v)
                return;
        for (uint32_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void wire_create_free(struct wire_create *msg)
{
        free(msg->virtual_path);
        free(msg->backing_path);
        free_strv(msg->exception_paths, msg->exception_count);
        free(msg->exception_errors);
        free(msg->backing_named);
        *msg = (struct wire_create){0};
}

void wire_explain_free(struct wire_explain *msg)
{
        free(msg->path);
        msg->path = NULL;
}

void wire_step_free(struct wire_step *msg)
{
        free(msg->path);
        free(msg->virtual_path);
        free(msg->backing_path);
        free(msg->detail);
        *msg = (struct wire_step){0};
}

void wire_remove_free(struct wire_remove *msg)
{
        free(msg->virtual_path);
        msg->virtual_path = NULL;
}

void wire_reply_free(struct wire_reply *msg)
{
        free(msg->path);
        free(msg->message);
        *msg = (struct wire_reply){0};
}

void wire_link_free(struct wire_link *msg)
{
        free(msg->virtual_path);
        free(msg->backing_path);
        free_strv(msg->exception_paths, msg->exception_count);
        *msg = (struct wire_link){0};
}

/* The exception count is checked against the bytes left before allocating, so a
 * lying count cannot make us allocate more than the message could hold. */
static bool count_fits(const struct reader *r, uint32_t count, size_t min_each)
{
        return count <= 256 && (size_t)count * min_each <= r->left;
}

static void get_create_body(struct reader *r, struct wire_create *ret)
{
        struct wire_create m = {0};
        m.flags = get_u32(r);
        uint32_t count = get_u32(r);
        m.virtual_path = get_str(r);
        m.parent_error = (int32_t)get_u32(r);
        m.backing_path = get_str(r);
        m.backing_error = (int32_t)get_u32(r);
        if (!r->bad && !count_fits(r, count, 8))
                r->bad = true;
        if (!r->bad && count > 0) {
                m.exception_paths = calloc(count, sizeof(char *));
                m.exception_errors = calloc(count, sizeof(int32_t));
                if (!m.exception_paths || !m.exception_errors)
                        r->bad = true;
                else
                        m.exception_count = count;
                for (uint32_t i = 0; i < m.exception_count && !r->bad; i++) {
                        m.exception_paths[i] = get_str(r);
                        m.exception_errors[i] = (int32_t)get_u32(r);
                }
        }
        if (!r->bad && (m.parent_error < 0 || m.backing_error < 0))
                r->bad = true;
        for (uint32_t i = 0; i < m.exception_count && !r->bad; i++)
                if (m.exception_errors[i] < 0)
                        r->bad = true;
        *ret = m;
}

int wire_get_create(const uint8_t *payload, size_t len, struct wire_create *ret)
{
        struct reader r = {payload, len, false};
        struct wire_create m;
        get_create_body(&r, &m);
        if (!r.bad && r.left > 0)
                m.backing_named = get_str(&r);
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_create_free(&m);
                return rc;
        }
        *ret = m;
        return 0;
}

static void get_target(struct reader *r, struct wire_target *ret)
{
        struct wire_target t = {0};
        t.kind = get_u32(r);
        t.pid = (int32_t)get_u32(r);
        t.root = get_str(r);
        if (!r->bad && (t.kind > WIRE_TARGET_ALL || t.kind == WIRE_TARGET_HOST))
                r->bad = true;
        if (!r->bad && t.kind == WIRE_TARGET_PID && t.pid <= 0)
                r->bad = true;
        *ret = t;
}

void wire_target_free(struct wire_target *target)
{
        free(target->root);
        *target = (struct wire_target){0};
}

int wire_get_create_in(const uint8_t *payload, size_t len, struct wire_target *ret_target,
                       struct wire_create *ret)
{
        struct reader r = {payload, len, false};
        struct wire_target t;
        struct wire_create m;
        get_target(&r, &t);
        get_create_body(&r, &m);
        int rc = reader_end(&r);
        if (rc == 0 && t.kind == WIRE_TARGET_ALL)
                rc = -EPROTO;
        if (rc < 0) {
                wire_target_free(&t);
                wire_create_free(&m);
                return rc;
        }
        *ret_target = t;
        *ret = m;
        return 0;
}

void wire_create_many_free(struct wire_create *msgs, uint32_t count)
{
        for (uint32_t i = 0; msgs && i < count; i++)
                wire_create_free(&msgs[i]);
        free(msgs);
}

int wire_get_create_many_in(const uint8_t *payload, size_t len, struct wire_target *ret_target,
                            struct wire_create **ret, uint32_t *ret_count)
{
        struct reader r = {payload, len, false};
        struct wire_target t;
        get_target(&r, &t);
        uint32_t count = get_u32(&r);
        /* A body is 24 bytes at least: a lying count allocates no more than that. */
        if (!r.bad && (count == 0 || count > WIRE_MAX_BATCH || (size_t)count * 24 > r.left))
                r.bad = true;
        struct wire_create *msgs = r.bad ? NULL : calloc(count, sizeof *msgs);
        if (!r.bad && !msgs)
                r.bad = true;
        uint32_t got = 0;
        while (!r.bad && got < count)
                get_create_body(&r, &msgs[got++]);
        int rc = reader_end(&r);
        if (rc == 0 && t.kind == WIRE_TARGET_ALL)
                rc = -EPROTO;
        if (rc < 0) {
                wire_target_free(&t);
                wire_create_many_free(msgs, got);
                return rc;
        }
        *ret_target = t;
        *ret = msgs;
        *ret_count = count;
        return 0;
}

int wire_get_remove_in(const uint8_t *payload, size_t len, struct wire_target *ret_target,
                       struct wire_remove *ret)
{
        struct reader r = {payload, len, false};
        struct wire_target t;
        get_target(&r, &t);
        struct wire_remove m = {.virtual_path = get_str(&r)};
        int rc = reader_end(&r);
        if (rc == 0 && t.kind == WIRE_TARGET_ALL)
                rc = -EPROTO;
        if (rc < 0) {
                wire_target_free(&t);
                wire_remove_free(&m);
                return rc;
        }
        *ret_target = t;
        *ret = m;
        return 0;
}

int wire_get_list_in(const uint8_t *payload, size_t len, struct wire_target *ret_target)
{
        struct reader r = {payload, len, false};
        struct wire_target t;
        get_target(&r, &t);
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_target_free(&t);
                return rc;
        }
        *ret_target = t;
        return 0;
}

int wire_get_remove(const uint8_t *payload, size_t len, struct wire_remove *ret)
{
        struct reader r = {payload, len, false};
        struct wire_remove m = {0};
        m.virtual_path = get_str(&r);
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_remove_free(&m);
                return rc;
        }
        *ret = m;
        return 0;
}

int wire_get_reply(const uint8_t *payload, size_t len, struct wire_reply *ret)
{
        struct reader r = {payload, len, false};
        struct wire_reply m = {0};
        m.status = (int32_t)get_u32(&r);
        m.fault = get_u32(&r);
        m.exception_index = get_u32(&r);
        m.path = get_str(&r);
        m.message = get_str(&r);
        /* 0 or -errno: anything else could not be negated safely. */
        if (!r.bad && (m.status > 0 || m.status < -4095))
                r.bad = true;
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_reply_free(&m);
                return rc;
        }
        *ret = m;
        return 0;
}

static void get_link_body(struct reader *r, struct wire_link *m)
{
        m->order = get_u64(r);
        m->flags = get_u32(r);
        m->realization = get_u32(r);
        m->virtual_path = get_str(r);
        m->backing_path = get_str(r);
        uint32_t count = get_u32(r);
        if (!r->bad && !count_fits(r, count, 4))
                r->bad = true;
        if (!r->bad && count > 0) {
                m->exception_paths = calloc(count, sizeof(char *));
                if (!m->exception_paths)
                        r->bad = true;
                else
                        m->exception_count = count;
                for (uint32_t i = 0; i < m->exception_count && !r->bad; i++)
                        m->exception_paths[i] = get_str(r);
        }
}

int wire_get_explain(const uint8_t *payload, size_t len, struct wire_explain *ret)
{
        struct reader r = {payload, len, false};
        struct wire_explain m = {.path = get_str(&r)};
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_explain_free(&m);
                return rc;
        }
        *ret = m;
        return 0;
}

int wire_get_step(const uint8_t *payload, size_t len, struct wire_step *ret)
{
        struct reader r = {payload, len, false};
        struct wire_step m = {0};
        m.kind = get_u32(&r);
        m.path = get_str(&r);
        m.order = get_u64(&r);
        m.flags = get_u32(&r);
        m.virtual_path = get_str(&r);
        m.backing_path = get_str(&r);
        m.detail = get_str(&r);
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_step_free(&m);
                return rc;
        }
        *ret = m;
        return 0;
}

int wire_get_link(const uint8_t *payload, size_t len, struct wire_link *ret)
{
        struct reader r = {payload, len, false};
        struct wire_link m = {0};
        get_link_body(&r, &m);
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_link_free(&m);
                return rc;
        }
        *ret = m;
        return 0;
}

int wire_get_link_in(const uint8_t *payload, size_t len, struct wire_link *ret)
{
        struct reader r = {payload, len, false};
        struct wire_link m = {0};
        m.scope_id = get_u64(&r);
        m.scope_pid = (int32_t)get_u32(&r);
        get_link_body(&r, &m);
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_link_free(&m);
                return rc;
        }
        *ret = m;
        return 0;
}

/* What a list asks for beyond the entries: not 0 (one spelling of each request). */
static uint32_t get_want(struct reader *r)
{
        uint32_t want = get_u32(r);
        if (!r->bad && want == 0)
                r->bad = true;
        return want;
}

int wire_get_list_want(const uint8_t *payload, size_t len, uint32_t *ret_want)
{
        struct reader r = {payload, len, false};
        uint32_t want = get_want(&r);
        int rc = reader_end(&r);
        if (rc < 0)
                return rc;
        *ret_want = want;
        return 0;
}

int wire_get_list_want_in(const uint8_t *payload, size_t len, struct wire_target *ret_target,
                          uint32_t *ret_want)
{
        struct reader r = {payload, len, false};
        struct wire_target t;
        get_target(&r, &t);
        uint32_t want = get_want(&r);
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_target_free(&t);
                return rc;
        }
        *ret_target = t;
        *ret_want = want;
        return 0;
}

int wire_get_link_want(const uint8_t *payload, size_t len, struct wire_link *ret)
{
        struct reader r = {payload, len, false};
        struct wire_link m = {0};
        m.scope_id = get_u64(&r);
        m.scope_pid = (int32_t)get_u32(&r);
        get_link_body(&r, &m);
        m.watch = get_u32(&r);
        m.watch_said = true;
        int rc = reader_end(&r);
        if (rc < 0) {
                wire_link_free(&m);
                return rc;
        }
        *ret = m;
        return 0;
}
