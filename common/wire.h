/* wire.h — the one definition of the client<->bindlinkd protocol.
 *
 * A message is a 16-byte header followed by `length` payload bytes. Integers are in
 * host byte order (both ends share a kernel). Strings are a u32 length followed by
 * that many bytes, no NUL, at most PATH_MAX-1 bytes. File descriptors travel as
 * SCM_RIGHTS with the first byte of the message that names them. Every length is
 * checked against what is left before it is used. */
#ifndef BINDLINK_WIRE_H
#define BINDLINK_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC 0x424c4b31u /* "BLK1" */
#define WIRE_VERSION 1
#define WIRE_HEADER_SIZE 16
/* Large enough for a create with BINDLINK_MAX_EXCEPTIONS paths of PATH_MAX bytes. */
#define WIRE_MAX_PAYLOAD (2u * 1024 * 1024)
#define WIRE_MAX_FDS (2 + 256)

enum wire_type {
        WIRE_CREATE = 1,     /* client -> daemon */
        WIRE_REMOVE = 2,     /* client -> daemon */
        WIRE_LIST = 3,       /* client -> daemon */
        WIRE_REPLY = 100,    /* daemon -> client: status of a request */
        WIRE_LIST_ENTRY = 101, /* daemon -> client: one link, before the REPLY */
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
        char *virtual_path;  /* ancestors canonical (S3) */
        int32_t parent_error; /* opening the parent of virtual_path */
        char *backing_path;
        int32_t backing_error;
        char **exception_paths;
        int32_t *exception_errors;
};

struct wire_remove {
        char *virtual_path;
};

struct wire_reply {
        int32_t status; /* 0 or -errno */
        uint32_t fault; /* bindlink_fault */
        uint32_t exception_index;
        char *path;
        char *message;
};

struct wire_link {
        uint64_t order;
        uint32_t flags;
        uint32_t realization;
        char *virtual_path;
        char *backing_path;
        uint32_t exception_count;
        char **exception_paths;
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

/* Parse and check a header: -EPROTO for bad magic/version/type/fd count,
 * -EMSGSIZE for a payload over WIRE_MAX_PAYLOAD. */
int wire_parse_header(const uint8_t *data, size_t len, struct wire_header *ret_header);

/* Decode a payload of the given type. -EPROTO when it is short, long, or lies
 * about a length; outputs are untouched on failure. */
int wire_get_create(const uint8_t *payload, size_t len, struct wire_create *ret);
int wire_get_remove(const uint8_t *payload, size_t len, struct wire_remove *ret);
int wire_get_reply(const uint8_t *payload, size_t len, struct wire_reply *ret);
int wire_get_link(const uint8_t *payload, size_t len, struct wire_link *ret);

void wire_create_free(struct wire_create *msg);
void wire_remove_free(struct wire_remove *msg);
void wire_reply_free(struct wire_reply *msg);
void wire_link_free(struct wire_link *msg);

#endif
