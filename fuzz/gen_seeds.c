/* gen_seeds.c — writes the binary seed inputs of fuzz/corpus/wire and fuzz/corpus/path:
 * well-formed messages made by wire_put_* (so the seeds follow the encoder, never a
 * hand-made copy of it) and path inputs in fuzz_path's format. The files are committed;
 * `fuzz/run.sh --seeds` runs this again after a change of the wire format.
 *
 * Usage: gen_seeds CORPUS_DIR   (writes the files of CORPUS_DIR/wire and CORPUS_DIR/path) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "wire.h"

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return negative_errno();
        for (const char *p = data; len > 0;) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* buf's bytes into dir/name; buf is emptied for the next seed. */
static int write_buf(const char *dir, const char *name, struct wire_buf *buf)
{
        int r = buf->error ? buf->error : write_file(dir, name, buf->data, buf->len);
        wire_buf_free(buf);
        if (r < 0)
                fprintf(stderr, "gen_seeds: %s/%s: %s\n", dir, name, strerror(-r));
        return r;
}

/* Messages at the decoder's limits, which random bytes seldom reach: a string of
 * PATH_MAX-1 bytes, 256 exceptions, a NUL inside a string (patched in after encoding:
 * the encoder cannot write one). */
static int limit_seeds(const char *dir)
{
        struct wire_buf b = {0};
        int r = 0;
        char longest[PATH_MAX];
        memset(longest, 'a', sizeof longest - 1);
        longest[0] = '/';
        longest[sizeof longest - 1] = '\0';
        struct wire_create at_path_max = {.virtual_path = longest, .backing_path = "/b"};
        (void)wire_put_create(&b, &at_path_max, 2);
        r |= write_buf(dir, "create-path-max", &b);

        static char names[256][8];
        char *exceptions[256];
        int32_t errors[256] = {0};
        for (int i = 0; i < 256; i++) {
                (void)snprintf(names[i], sizeof names[i], "/v/%d", i);
                exceptions[i] = names[i];
        }
        struct wire_create most = {.exception_count = 256,
                                   .virtual_path = "/v",
                                   .backing_path = "/b",
                                   .exception_paths = exceptions,
                                   .exception_errors = errors};
        (void)wire_put_create(&b, &most, 2 + 256);
        r |= write_buf(dir, "create-256-exceptions", &b);

        struct wire_remove with_nul = {.virtual_path = "/a_b"};
        (void)wire_put_remove(&b, &with_nul);
        if (!b.error)
                b.data[b.len - 2] = '\0';
        r |= write_buf(dir, "remove-nul-inside", &b);
        return r;
}

static int wire_seeds(const char *dir)
{
        struct wire_buf b = {0};
        int r = 0;
        char *three[] = {"/srv/app/config/a", "/srv/app/config/b c", "/srv/app/config/d"};
        int32_t three_errors[] = {0, 2, 13};

        struct wire_create plain = {.virtual_path = "/srv/app/config",
                                    .backing_path = "/srv/patched-config"};
        (void)wire_put_create(&b, &plain, 2);
        r |= write_buf(dir, "create-plain", &b);

        struct wire_create named = {.virtual_path = "/srv/app/config",
                                    .backing_path = "/srv/releases/7/config",
                                    .backing_named = "/srv/current/config"};
        (void)wire_put_create(&b, &named, 2);
        r |= write_buf(dir, "create-backing-named", &b);

        struct wire_create with_exceptions = {.flags = 3,
                                              .exception_count = 3,
                                              .virtual_path = "/srv/app/config",
                                              .backing_path = "/srv/patched-config",
                                              .exception_paths = three,
                                              .exception_errors = three_errors};
        (void)wire_put_create(&b, &with_exceptions, 3);
        r |= write_buf(dir, "create-exceptions", &b);

        struct wire_create refused_opens = {.flags = 1,
                                            .virtual_path = "/no/such/v",
                                            .parent_error = 2,
                                            .backing_path = "/b",
                                            .backing_error = 13};
        (void)wire_put_create(&b, &refused_opens, 0);
        r |= write_buf(dir, "create-open-errors", &b);

        struct wire_remove remove = {.virtual_path = "/srv/app/config"};
        (void)wire_put_remove(&b, &remove);
        r |= write_buf(dir, "remove", &b);

        (void)wire_put_list(&b);
        r |= write_buf(dir, "list", &b);

        struct wire_reply ok = {.path = "", .message = ""};
        (void)wire_put_reply(&b, &ok);
        r |= write_buf(dir, "reply-ok", &b);

        struct wire_reply failed = {.status = -2,
                                    .fault = 3,
                                    .exception_index = 1,
                                    .path = "/srv/patched-config",
                                    .message = "backing path /srv/patched-config does not exist"};
        (void)wire_put_reply(&b, &failed);
        r |= write_buf(dir, "reply-error", &b);

        struct wire_link entry = {.order = 7,
                                  .flags = 2,
                                  .realization = 2,
                                  .virtual_path = "/srv/app/config",
                                  .backing_path = "/srv/patched-config",
                                  .exception_count = 3,
                                  .exception_paths = three};
        (void)wire_put_link(&b, &entry);
        r |= write_buf(dir, "list-entry", &b);

        /* S23: a create in a container (a pidfd target below the bundle's root), and
         * an OCI hook's several creates in one message. */
        struct wire_target pidfd_target = {.kind = WIRE_TARGET_PIDFD, .root = "/run/b/rootfs"};
        struct wire_create scoped = {.virtual_path = "/data", .backing_path = "/srv/data"};
        (void)wire_put_create_in(&b, &pidfd_target, &scoped, 2);
        r |= write_buf(dir, "create-in", &b);
        struct wire_create batch[2] = {scoped, with_exceptions};
        batch[1].exception_errors = (int32_t[]){0, 0, 0};
        (void)wire_put_create_many_in(&b, &pidfd_target, batch, 2, 3);
        r |= write_buf(dir, "create-many-in", &b);

        /* A list that asks which layers of each view are watched, and an answer. */
        (void)wire_put_list_want(&b, WIRE_LIST_WANT_WATCH);
        r |= write_buf(dir, "list-want", &b);
        (void)wire_put_list_want_in(&b, &pidfd_target, WIRE_LIST_WANT_WATCH, 1);
        r |= write_buf(dir, "list-want-in", &b);
        struct wire_link watched = entry;
        watched.scope_id = 4026532300u;
        watched.scope_pid = 77;
        watched.watch = 4;
        (void)wire_put_link_want(&b, &watched);
        r |= write_buf(dir, "list-entry-want", &b);

        /* A connection's life: list, then create and remove, then a request cut short. */
        (void)wire_put_list(&b);
        (void)wire_put_create(&b, &plain, 2);
        (void)wire_put_remove(&b, &remove);
        size_t whole = b.len;
        (void)wire_put_remove(&b, &remove);
        b.len = whole + WIRE_HEADER_SIZE + 3;
        r |= write_buf(dir, "stream-cut-short", &b);

        /* The daemon's answer to a list: entries, then the reply. */
        (void)wire_put_link(&b, &entry);
        entry.order = 8;
        entry.exception_count = 0;
        (void)wire_put_link(&b, &entry);
        (void)wire_put_reply(&b, &ok);
        r |= write_buf(dir, "stream-list-answer", &b);
        return r | limit_seeds(dir);
}

struct path_seed {
        const char *name;
        unsigned char mode; /* bit 0: fold against the base; bits 4-7: log2 repetitions */
        const char *base, *path, *other;
};

static int path_seeds(const char *dir)
{
        static const struct path_seed seeds[] = {
                {"absolute", 0x00, "/", "/srv//app/./config/", "/srv/app"},
                {"relative", 0x01, "/home/user/../user", "a/./b/../c//", "/home/user/a"},
                {"dotdot-above-root", 0x01, "/", "../../..", "/../x/.."},
                {"join-escapes", 0x00, "../../etc", "/srv/v", "/srv/v/../../etc/passwd"},
                {"long", 0x81, "/base", "component/", "/base/component"},
                {"too-long", 0xa1, "/base", "component/", "/base/component"},
                {"root", 0x00, "//", "/", "/"},
        };
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(seeds); i++) {
                const struct path_seed *s = &seeds[i];
                char buf[512];
                size_t len = 0;
                buf[len++] = (char)s->mode;
                const char *parts[] = {s->base, s->path, s->other};
                for (size_t k = 0; k < ELEMENTSOF(parts); k++) {
                        size_t n = strlen(parts[k]);
                        memcpy(buf + len, parts[k], n);
                        len += n;
                        if (k + 1 < ELEMENTSOF(parts))
                                buf[len++] = '\0';
                }
                int w = write_file(dir, s->name, buf, len);
                if (w < 0) {
                        fprintf(stderr, "gen_seeds: %s/%s: %s\n", dir, s->name, strerror(-w));
                        r = w;
                }
        }
        return r;
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
                return 2;
        }
        _cleanup_free_ char *wire = NULL, *path = NULL;
        if (asprintf(&wire, "%s/wire", argv[1]) < 0 || asprintf(&path, "%s/path", argv[1]) < 0)
                return 1;
        if ((mkdir(wire, 0755) < 0 && errno != EEXIST) ||
            (mkdir(path, 0755) < 0 && errno != EEXIST)) {
                fprintf(stderr, "gen_seeds: mkdir: %s\n", strerror(errno));
                return 1;
        }
        return wire_seeds(wire) < 0 || path_seeds(path) < 0 ? 1 : 0;
}
