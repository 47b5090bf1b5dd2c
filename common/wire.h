/* wire.h — the one definition of the client<->bindlinkd protocol.
 *
 * A message is a 16-byte header followed by `length` payload bytes. Integers are in
 * host byte order (both ends share a kernel). Strings are a u32 length followed by
 * that many bytes, no NUL, at most PATH_MAX-1 bytes. File descriptors travel as
 * SCM_RIGHTS with the first byte of the message that names them. Every length is
 * checked against what is left before it is used. */
#ifndef BINDLINK_WIRE_H
#define BINDLINK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC 0x424c4b31u /* "BLK1" */
#define WIRE_VERSION 1
#define WIRE_HEADER_SIZE 16
/* Large enough for a create with BINDLINK_MAX_EXCEPTIONS paths of PATH_MAX bytes. */
#define WIRE_MAX_PAYLOAD (2u * 1024 * 1024)
#define WIRE_MAX_FDS (2 + 256)
/* The most creates in one WIRE_CREATE_MANY_IN (each may carry B's descriptor). */
#define WIRE_MAX_BATCH 256

enum wire_type {
        WIRE_CREATE = 1, /* client -> daemon */
        WIRE_REMOVE = 2, /* client -> daemon */
        WIRE_LIST = 3,   /* client -> daemon */
        /* S23: the same in another mount namespace (a wire_target first; its pidfd or
         * namespace descriptor is the message's first descriptor). */
        WIRE_CREATE_IN = 4,
        WIRE_REMOVE_IN = 5,
        WIRE_LIST_IN = 6, /* a target of kind WIRE_TARGET_ALL: every scope's links */
        /* Several creates in one target, all or none (an OCI hook's): the target,
         * a count, the creates; descriptors: the target's, then each B's. */
        WIRE_CREATE_MANY_IN = 7,
        /* Beyond Windows: every link at or below a virtual path, deepest first (the
         * payloads of WIRE_REMOVE and WIRE_REMOVE_IN). */
        WIRE_REMOVE_TREE = 8,
        WIRE_REMOVE_TREE_IN = 9,
        /* What decides what a path shows (a wire_explain); answered by steps, then a
         * REPLY. */
        WIRE_EXPLAIN = 10,
        /* A list that asks for more than the entries of before (a u32 of
         * WIRE_LIST_WANT_* bits, not 0; after the target for _IN): answered with
         * WIRE_LIST_ENTRY_WANT entries. New types, so that a client that does not ask
         * is answered as before and a bindlinkd older than the question refuses it
         * (an unknown type) rather than answering something else. */
        WIRE_LIST_WANT = 11,
        WIRE_LIST_WANT_IN = 12,
        WIRE_REPLY = 100,         /* daemon -> client: status of a request */
        WIRE_LIST_ENTRY = 101,    /* daemon -> client: one link, before the REPLY */
        WIRE_LIST_ENTRY_IN = 102, /* the same, with its scope (answers WIRE_LIST_IN) */
        WIRE_EXPLAIN_STEP = 103,  /* daemon -> client: one step, before the REPLY */
        /* Answers WIRE_LIST_WANT(_IN): as WIRE_LIST_ENTRY_IN (scope 0 for the host's),
         * then a u32 watch (BINDLINK_WATCH_* bits). */
        WIRE_LIST_ENTRY_WANT = 104,
};

/* Which mount namespace a request is about (bindlink_target_kind, plus ALL). */
enum wire_target_kind {
        WIRE_TARGET_HOST = 0,
        WIRE_TARGET_PIDFD = 1, /* the descriptor is a pidfd */
        WIRE_TARGET_PID = 2,
        WIRE_TARGET_NSFD = 3, /* the descriptor is a mount namespace */
        WIRE_TARGET_ALL = 4,  /* WIRE_LIST_IN only: every scope */
};

struct wire_target {
        uint32_t kind;
        int32_t pid; /* WIRE_TARGET_PID */
        char *root;  /* "" or the directory, in the target, that paths are resolved in */
};

struct wire_header {
        uint32_t magic;
        uint16_t version;
        uint16_t type;
        uint32_t length;
        uint32_t fd_count; /* descriptors sent with this message */
};

/* What the client could open with its own credentials: 0 when the descriptor is
 * attached, else the positive errno the open failed with. */
struct wire_create {
        uint32_t flags;
        uint32_t exception_count;
        char *virtual_path;   /* ancestors canonical (S3) */
        int32_t parent_error; /* opening the parent of virtual_path */
        char *backing_path;
        int32_t backing_error;
        char **exception_paths;
        int32_t *exception_errors;
        /* B as the caller named it (folded, symlinks on the way not followed), when
         * that differs from backing_path: the daemon resolves it again when a
         * symlink on the way changes (S10). WIRE_CREATE only, sent after the body
         * and only when there is one, so a daemon that predates it still serves
         * every other create. NULL when absent. */
        char *backing_named;
};

struct wire_remove {
        char *virtual_path;
        bool tree; /* sent as the message type: WIRE_REMOVE_TREE(_IN) */
};

struct wire_explain {
        char *path; /* normalized (S3) */
};

/* One step of an explanation (bindlink_step); "" where it names no link. */
struct wire_step {
        uint32_t kind; /* bindlink_step_kind */
        char *path;
        uint64_t order;
        uint32_t flags;
        char *virtual_path;
        char *backing_path;
        char *detail;
};

struct wire_reply {
        int32_t status; /* 0 or -errno */
        uint32_t fault; /* bindlink_fault */
        uint32_t exception_index;
        char *path;
        char *message;
};

/* What WIRE_LIST_WANT asks for: which layers of each view are watched. */
#define WIRE_LIST_WANT_WATCH 1u

struct wire_link {
        uint64_t scope_id; /* WIRE_LIST_ENTRY_IN: the mount namespace's id (0: host) */
        int32_t scope_pid; /* and a process in it, as the daemon's pid namespace sees it */
        uint64_t order;
        uint32_t flags;
        uint32_t realization;
        char *virtual_path;
        char *backing_path;
        uint32_t exception_count;
        char **exception_paths;
        /* WIRE_LIST_ENTRY_WANT: which layers of its view are not watched. */
        bool watch_said;
        uint32_t watch;
};

/* A growable output buffer; the first failure sticks in `error`. */
struct wire_buf {
        uint8_t *data;
        size_t len, cap;
        int error;
};

void wire_buf_free(struct wire_buf *buf);

/* Append one whole message (header + payload) to buf. 0 or -errno. */
int wire_put_create(struct wire_buf *buf, const struct wire_create *msg, uint32_t fd_count);
int wire_put_remove(struct wire_buf *buf, const struct wire_remove *msg);
int wire_put_list(struct wire_buf *buf);
int wire_put_reply(struct wire_buf *buf, const struct wire_reply *msg);
int wire_put_link(struct wire_buf *buf, const struct wire_link *msg);
int wire_put_explain(struct wire_buf *buf, const struct wire_explain *msg);
int wire_put_step(struct wire_buf *buf, const struct wire_step *msg);
/* S23: target first; fd_count counts the target's descriptor (first) too. */
int wire_put_create_in(struct wire_buf *buf, const struct wire_target *target,
                       const struct wire_create *msg, uint32_t fd_count);
int wire_put_remove_in(struct wire_buf *buf, const struct wire_target *target,
                       const struct wire_remove *msg, uint32_t fd_count);
int wire_put_list_in(struct wire_buf *buf, const struct wire_target *target, uint32_t fd_count);
int wire_put_create_many_in(struct wire_buf *buf, const struct wire_target *target,
                            const struct wire_create *msgs, uint32_t count, uint32_t fd_count);
int wire_put_link_in(struct wire_buf *buf, const struct wire_link *msg);
/* want: WIRE_LIST_WANT_* (not 0). */
int wire_put_list_want(struct wire_buf *buf, uint32_t want);
int wire_put_list_want_in(struct wire_buf *buf, const struct wire_target *target, uint32_t want,
                          uint32_t fd_count);
int wire_put_link_want(struct wire_buf *buf, const struct wire_link *msg);

/* Parse and check a header: -EPROTO for bad magic/version/type/fd count,
 * -EMSGSIZE for a payload over WIRE_MAX_PAYLOAD. */
int wire_parse_header(const uint8_t *data, size_t len, struct wire_header *ret_header);

/* Decode a payload of the given type. -EPROTO when it is short, long, or lies
 * about a length; outputs are untouched on failure. */
int wire_get_create(const uint8_t *payload, size_t len, struct wire_create *ret);
int wire_get_remove(const uint8_t *payload, size_t len, struct wire_remove *ret);
int wire_get_reply(const uint8_t *payload, size_t len, struct wire_reply *ret);
int wire_get_link(const uint8_t *payload, size_t len, struct wire_link *ret);
int wire_get_create_in(const uint8_t *payload, size_t len, struct wire_target *ret_target,
                       struct wire_create *ret);
int wire_get_remove_in(const uint8_t *payload, size_t len, struct wire_target *ret_target,
                       struct wire_remove *ret);
int wire_get_list_in(const uint8_t *payload, size_t len, struct wire_target *ret_target);
int wire_get_explain(const uint8_t *payload, size_t len, struct wire_explain *ret);
int wire_get_step(const uint8_t *payload, size_t len, struct wire_step *ret);
/* *ret: an array of *ret_count creates (1..WIRE_MAX_BATCH), freed with
 * wire_create_many_free. */
int wire_get_create_many_in(const uint8_t *payload, size_t len, struct wire_target *ret_target,
                            struct wire_create **ret, uint32_t *ret_count);
void wire_create_many_free(struct wire_create *msgs, uint32_t count);
int wire_get_list_want(const uint8_t *payload, size_t len, uint32_t *ret_want);
int wire_get_list_want_in(const uint8_t *payload, size_t len, struct wire_target *ret_target,
                          uint32_t *ret_want);
/* Sets watch_said. */
int wire_get_link_want(const uint8_t *payload, size_t len, struct wire_link *ret);
int wire_get_link_in(const uint8_t *payload, size_t len, struct wire_link *ret);
/* How many descriptors a target carries (1 for a pidfd or a namespace, else 0). */
uint32_t wire_target_fds(const struct wire_target *target);
void wire_target_free(struct wire_target *target);

void wire_create_free(struct wire_create *msg);
void wire_remove_free(struct wire_remove *msg);
void wire_reply_free(struct wire_reply *msg);
void wire_link_free(struct wire_link *msg);
void wire_explain_free(struct wire_explain *msg);
void wire_step_free(struct wire_step *msg);

#endif
