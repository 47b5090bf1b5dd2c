/* bindlink-oci-hook — an OCI runtime hook (createRuntime) that gives a container the
 * bind links its io.bindlink.links annotation lists, in its own mount namespace (S23),
 * before its first process runs. See bindlink-oci-hook(8).
 *
 * The runtime writes the container's state to stdin (pid, bundle, annotations). The
 * annotation's value is either
 *   - the short form, for command lines (podman's --annotation splits its value at
 *     commas and quotes, so JSON cannot pass there): BACKING:VIRTUAL[:OPTIONS] entries
 *     separated by ";", OPTIONS "ro" and "merged" joined by "+", as in
 *     "/srv/data:/data:ro;/srv/cache:/cache" (docker -v's order: host, container); or
 *   - a JSON array (first character "["), each link an object with "virtual" (a path
 *     in the container), "backing" (a path on the host) and optionally "flags" (an
 *     array of "read-only" and "merged") and "exceptions" (paths in the container),
 *     the shape `bindlinkctl list --json` prints: for paths with ":" or ";", and
 *     for exceptions.
 * All of them are made, or none: a link that
 * cannot be made removes the ones made before it, and the hook fails the container's
 * start with a message naming the entry. Exit: 0 ok (also: no annotation), 1 a link
 * could not be made, 2 bad input. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "bindlink.h"

#define ANNOTATION "io.bindlink.links"

static const char *program = "bindlink-oci-hook";

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s: ", program);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return 2;
}

static char *read_all(FILE *f)
{
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap);
        while (buf) {
                size_t n = fread(buf + len, 1, cap - len - 1, f);
                len += n;
                if (n == 0)
                        break;
                if (len + 1 == cap) {
                        char *grown = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
                        if (!grown) {
                                free(buf);
                                return NULL;
                        }
                        buf = grown;
                        cap *= 2;
                }
        }
        if (buf)
                buf[len] = '\0';
        return buf;
}

static const char *string_of(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

struct link_spec {
        const char *virtual_path, *backing_path;
        uint32_t flags;
        const char *exceptions[BINDLINK_MAX_EXCEPTIONS];
        uint32_t exception_count;
};

/* Entry i of the annotation into *ret: 0, or 2 with the reason said. */
static int parse_entry(json_object *e, size_t i, struct link_spec *ret)
{
        *ret = (struct link_spec){0};
        if (!json_object_is_type(e, json_type_object))
                return bad(ANNOTATION ": entry %zu is not an object", i + 1);
        json_object_object_foreach(e, key, value)
        {
                (void)value;
                if (strcmp(key, "too-many-fields") == 0)
                        return bad(ANNOTATION ": entry %zu has more than three fields "
                                              "(BACKING:VIRTUAL[:OPTIONS]; a path with \":\" "
                                              "needs the JSON form)",
                                   i + 1);
                if (strcmp(key, "virtual") && strcmp(key, "backing") && strcmp(key, "flags") &&
                    strcmp(key, "exceptions"))
                        return bad(ANNOTATION ": entry %zu has an unknown key \"%s\"", i + 1, key);
        }
        ret->virtual_path = string_of(e, "virtual");
        ret->backing_path = string_of(e, "backing");
        if (!ret->virtual_path || !*ret->virtual_path)
                return bad(ANNOTATION ": entry %zu has no \"virtual\" path", i + 1);
        if (!ret->backing_path || !*ret->backing_path)
                return bad(ANNOTATION ": entry %zu (%s) has no \"backing\" path", i + 1,
                           ret->virtual_path);
        json_object *list;
        if (json_object_object_get_ex(e, "flags", &list)) {
                if (!json_object_is_type(list, json_type_array))
                        return bad(ANNOTATION ": entry %zu (%s): \"flags\" is not an array", i + 1,
                                   ret->virtual_path);
                for (size_t j = 0; j < json_object_array_length(list); j++) {
                        const char *f = json_object_get_string(json_object_array_get_idx(list, j));
                        if (f && strcmp(f, "read-only") == 0)
                                ret->flags |= CREATE_BIND_LINK_FLAG_READ_ONLY;
                        else if (f && strcmp(f, "merged") == 0)
                                ret->flags |= CREATE_BIND_LINK_FLAG_MERGED;
                        else
                                return bad(ANNOTATION ": entry %zu (%s): unknown flag \"%s\" "
                                                      "(ro or read-only, merged)",
                                           i + 1, ret->virtual_path, f ? f : "");
                }
        }
        if (json_object_object_get_ex(e, "exceptions", &list)) {
                if (!json_object_is_type(list, json_type_array) ||
                    json_object_array_length(list) > BINDLINK_MAX_EXCEPTIONS)
                        return bad(ANNOTATION ": entry %zu (%s): \"exceptions\" is not an array "
                                              "of at most %d paths",
                                   i + 1, ret->virtual_path, BINDLINK_MAX_EXCEPTIONS);
                for (size_t j = 0; j < json_object_array_length(list); j++) {
                        json_object *x = json_object_array_get_idx(list, j);
                        if (!json_object_is_type(x, json_type_string))
                                return bad(ANNOTATION ": entry %zu (%s): exception %zu is not "
                                                      "a string",
                                           i + 1, ret->virtual_path, j + 1);
                        ret->exceptions[ret->exception_count++] = json_object_get_string(x);
                }
        }
        return 0;
}

/* The container's root as a path in its namespace before pivot_root: the bundle's
 * config.json root.path, relative to the bundle unless absolute. */
static int container_root(const char *bundle, char *ret, size_t size)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/config.json", bundle) >= (int)sizeof path)
                return bad("bundle path too long: %s", bundle);
        json_object *config = json_object_from_file(path);
        if (!config)
                return bad("cannot read %s: %s", path, json_util_get_last_err());
        json_object *root;
        const char *root_path =
                json_object_object_get_ex(config, "root", &root) ? string_of(root, "path") : NULL;
        int r = 0;
        if (!root_path || !*root_path)
                r = bad("%s has no root.path", path);
        else if ((root_path[0] == '/'
                          ? snprintf(ret, size, "%s", root_path)
                          : snprintf(ret, size, "%s/%s", bundle, root_path)) >= (int)size)
                r = bad("root path too long in %s", path);
        json_object_put(config);
        return r;
}

/* The short form: BACKING:VIRTUAL[:OPTIONS](;...)*, as a JSON array of the long form. */
static json_object *short_form(const char *value)
{
        json_object *links = json_object_new_array();
        char *copy = strdup(value);
        if (!links || !copy) {
                json_object_put(links);
                free(copy);
                return NULL;
        }
        char *save = NULL;
        for (char *entry = strtok_r(copy, ";", &save); entry; entry = strtok_r(NULL, ";", &save)) {
                json_object *e = json_object_new_object();
                char *fields[4] = {0};
                size_t n = 0;
                for (char *p = entry; n < 4;) {
                        fields[n++] = p;
                        char *colon = strchr(p, ':');
                        if (!colon)
                                break;
                        *colon = '\0';
                        p = colon + 1;
                }
                /* Fields are checked by parse_entry; what is not a known key or flag is
                 * passed on as such, so the message names it. */
                if (n >= 1 && *fields[0])
                        json_object_object_add(e, "backing", json_object_new_string(fields[0]));
                if (n >= 2 && *fields[1])
                        json_object_object_add(e, "virtual", json_object_new_string(fields[1]));
                if (n >= 3) {
                        json_object *flags = json_object_new_array();
                        char *fsave = NULL;
                        for (char *f = strtok_r(fields[2], "+", &fsave); f;
                             f = strtok_r(NULL, "+", &fsave))
                                json_object_array_add(
                                        flags, json_object_new_string(
                                                       strcmp(f, "ro") == 0 ? "read-only" : f));
                        json_object_object_add(e, "flags", flags);
                }
                if (n == 4)
                        json_object_object_add(e, "too-many-fields",
                                               json_object_new_string(fields[3]));
                json_object_array_add(links, e);
        }
        free(copy);
        return links;
}

static int create_links(pid_t pid, const char *root, json_object *links)
{
        int pidfd = pidfd_open(pid, 0);
        if (pidfd < 0) {
                fprintf(stderr, "%s: the container's process %d: %s\n", program, (int)pid,
                        strerror(errno));
                return 1;
        }
        bindlink_target target = {.kind = BINDLINK_TARGET_PIDFD, .fd = pidfd, .root = root};
        size_t n = json_object_array_length(links);
        int rc = 0;
        bindlink_connection *conn = NULL;
        bindlink_error ce;
        if (bindlink_connect(&conn, &ce) < 0) {
                fprintf(stderr, "%s: %s\n", program, ce.message);
                (void)close(pidfd);
                return 1;
        }
        struct link_spec *specs = calloc(n ? n : 1, sizeof *specs);
        bindlink_link_spec *batch = calloc(n ? n : 1, sizeof *batch);
        if (!specs || !batch)
                rc = bad("out of memory");
        for (size_t i = 0; rc == 0 && i < n; i++) {
                rc = parse_entry(json_object_array_get_idx(links, i), i, &specs[i]);
                batch[i] = (bindlink_link_spec){.virtual_path = specs[i].virtual_path,
                                                .backing_path = specs[i].backing_path,
                                                .flags = specs[i].flags,
                                                .exception_count = specs[i].exception_count,
                                                .exception_paths = specs[i].exceptions};
        }
        /* All in one request, all or none: the container must not start with part of
         * what it asked for (bindlinkd takes back those made when one fails). */
        bindlink_error e;
        if (rc == 0 && n > 0 &&
            bindlink_connection_target_create_many(conn, &target, n, batch, &e) < 0) {
                /* "link N of M (V): why" or "link N of M: why" (bindlink.h). */
                size_t index = 0, total = 0;
                int prefix = 0;
                const char *why = e.message[0] ? e.message : strerror(e.error);
                if (sscanf(e.message, "link %zu of %zu%n", &index, &total, &prefix) == 2 &&
                    index >= 1 && index <= n) {
                        const char *p = e.message + prefix;
                        const char *end = strncmp(p, " (", 2) == 0 ? strstr(p, "): ") : NULL;
                        why = end ? end + 3 : strncmp(p, ": ", 2) == 0 ? p + 2 : why;
                }
                const char *name = bindlink_errno_name(e.error);
                if (index >= 1 && index <= n)
                        fprintf(stderr,
                                "%s: " ANNOTATION " entry %zu (%s -> %s): %s (HRESULT 0x%08" PRIX32
                                ", %s)\n",
                                program, index, specs[index - 1].virtual_path,
                                specs[index - 1].backing_path, why, (uint32_t)e.hresult,
                                name ? name : "unknown errno");
                else
                        fprintf(stderr, "%s: " ANNOTATION ": %s (HRESULT 0x%08" PRIX32 ", %s)\n",
                                program, why, (uint32_t)e.hresult, name ? name : "unknown errno");
                rc = 1;
        }
        free(batch);
        free(specs);
        bindlink_disconnect(conn);
        (void)close(pidfd);
        return rc;
}

int main(int argc, char **argv)
{
        const char *stage = argc > 1 ? argv[1] : "createRuntime";
        if (strcmp(stage, "--help") == 0 || strcmp(stage, "-h") == 0) {
                printf("Usage: %s [createRuntime|poststop] < OCI-STATE\n"
                       "An OCI hook: gives a container the links of its " ANNOTATION
                       " annotation.\nSee bindlink-oci-hook(8).\n",
                       program);
                return 0;
        }
        if (strcmp(stage, "poststop") == 0)
                return 0; /* its links went with its namespace (bindlinkd forgot them) */
        if (strcmp(stage, "createRuntime") != 0)
                return bad("unknown stage %s (createRuntime, poststop)", stage);
        char *text = read_all(stdin);
        if (!text)
                return bad("cannot read the container's state from stdin");
        json_object *state = json_tokener_parse(text);
        free(text);
        if (!state)
                return bad("the container's state on stdin is not JSON");
        int rc = 0;
        json_object *annotations, *pid_obj;
        const char *value = json_object_object_get_ex(state, "annotations", &annotations)
                                    ? string_of(annotations, ANNOTATION)
                                    : NULL;
        const char *bundle = string_of(state, "bundle");
        json_object *links = NULL;
        char root[PATH_MAX];
        if (!value) {
                rc = 0; /* nothing asked */
        } else if (!json_object_object_get_ex(state, "pid", &pid_obj) ||
                   json_object_get_int(pid_obj) <= 0 || !bundle) {
                rc = bad("the container's state has no pid or bundle");
        } else if (!(links = value[0] == '[' ? json_tokener_parse(value) : short_form(value)) ||
                   !json_object_is_type(links, json_type_array)) {
                rc = bad(ANNOTATION " is neither BACKING:VIRTUAL[:ro] entries nor a JSON array "
                                    "of links: %s",
                         value);
        } else if ((rc = container_root(bundle, root, sizeof root)) == 0) {
                rc = create_links((pid_t)json_object_get_int(pid_obj), root, links);
        }
        if (links)
                json_object_put(links);
        json_object_put(state);
        return rc;
}
