/* bindlinkctl — create, remove and list bind links from the shell. Its interface is
 * fixed (scripts depend on it); see bindlinkctl(8). Exit: 0 ok, 1 the operation
 * failed, 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bindlink.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

static const char *program = "bindlinkctl";

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: bindlinkctl [--socket PATH] COMMAND [ARG]...\n"
                "Create, remove and list bind links (served by bindlinkd).\n"
                "\n"
                "Commands:\n"
                "  create [--read-only] [--merged] [--exception PATH]... [TARGET] VIRTUAL BACKING\n"
                "                 make VIRTUAL show BACKING, system-wide (or in TARGET)\n"
                "  remove [-r|--recursive] [TARGET] VIRTUAL\n"
                "                 remove the link whose virtual path is VIRTUAL (a link\n"
                "                 with links nested in it: remove those first, deepest\n"
                "                 first, or give -r to remove every link at or below\n"
                "                 VIRTUAL in one request)\n"
                "  list [--json] [TARGET | --all-scopes]\n"
                "                 list the links in creation order (of TARGET, or of every\n"
                "                 mount namespace with their scope)\n"
                "\n"
                "TARGET, another mount namespace (a container's), where VIRTUAL lives:\n"
                "  -t, --target pid:N|pidfd:N|ns:PATH\n"
                "                 the namespace of process N, of the pidfd open as\n"
                "                 descriptor N, or the namespace file PATH\n"
                "  --root DIR     resolve VIRTUAL below DIR of the target (an OCI hook before\n"
                "                 the container's pivot_root: bundle/rootfs)\n"
                "\n"
                "The Windows sample's spelling works too (command words in any case):\n"
                "  CREATE VIRTUAL BACKING [/read-only] [/merge] [/exception:PATH]...\n"
                "  REMOVE VIRTUAL\n"
                "\n"
                "Options:\n"
                "  -s, --socket PATH  talk to bindlinkd at PATH (default: $BINDLINK_SOCKET,\n"
                "                     else %s)\n"
                "  -h, --help         show this help and exit\n"
                "  -V, --version      show the version and exit\n"
                "\n"
                "Exit status: 0 success, 1 the operation failed, 2 usage error.\n"
                "See bindlinkctl(8).\n",
                BINDLINK_DEFAULT_SOCKET);
}

static int usage_error(const char *fmt, const char *arg)
{
        fprintf(stderr, "%s: ", program);
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\nTry '%s --help'.\n", program);
        return 2;
}

static int report(const char *operation, const char *virtual_path, const bindlink_error *e)
{
        const char *name = bindlink_errno_name(e->error);
        /* The daemon's sentence names the path and the cause; without one, what
         * Windows would say of the HRESULT. */
        fprintf(stderr, "%s: %s %s: %s (HRESULT 0x%08" PRIX32 ", %s)\n", program, operation,
                virtual_path, e->message[0] ? e->message : bindlink_hresult_message(e->hresult),
                (uint32_t)e->hresult, name ? name : "unknown errno");
        return 1;
}

/* A --target or --root option at argv[*i] (its value after it, or after "="): 1 if
 * taken, 0 if argv[*i] is not one, 2 (usage error said) if it is wrong. */
struct target_option {
        bool given;
        bindlink_target target;
        const char *root;
        int ns_fd; /* opened for ns:PATH */
};

static int parse_target(const char *command, int argc, char **argv, int *i, struct target_option *t)
{
        const char *a = argv[*i], *value;
        bool root;
        if (strcmp(a, "--target") == 0 || strcmp(a, "-t") == 0 || strcmp(a, "--root") == 0) {
                root = strcmp(a, "--root") == 0;
                if (++*i == argc) {
                        fprintf(stderr, "%s: %s: %s needs a value\nTry '%s --help'.\n", program,
                                command, a, program);
                        return 2;
                }
                value = argv[*i];
        } else if (strncmp(a, "--target=", 9) == 0 || strncmp(a, "--root=", 7) == 0) {
                root = a[2] == 'r';
                value = a + (root ? 7 : 9);
        } else {
                return 0;
        }
        if (root) {
                t->root = value;
                t->target.root = value;
                return 1;
        }
        char *end = NULL;
        long n = 0;
        t->given = true;
        if (strncmp(value, "pid:", 4) == 0) {
                n = strtol(value + 4, &end, 10);
                t->target.kind = BINDLINK_TARGET_PID;
                t->target.pid = (pid_t)n;
        } else if (strncmp(value, "pidfd:", 6) == 0) {
                n = strtol(value + 6, &end, 10);
                t->target.kind = BINDLINK_TARGET_PIDFD;
                t->target.fd = (int)n;
        } else if (strncmp(value, "ns:", 3) == 0 && value[3]) {
                t->ns_fd = open(value + 3, O_RDONLY | O_CLOEXEC);
                if (t->ns_fd < 0) {
                        fprintf(stderr, "%s: %s: cannot open namespace %s: %s\n", program, command,
                                value + 3, strerror(errno));
                        return 2;
                }
                t->target.kind = BINDLINK_TARGET_NSFD;
                t->target.fd = t->ns_fd;
                return 1;
        }
        if (!end || *end || n <= 0 || n > INT32_MAX) {
                fprintf(stderr,
                        "%s: %s: bad target %s (pid:N, pidfd:N or ns:PATH)\nTry '%s "
                        "--help'.\n",
                        program, command, value, program);
                return 2;
        }
        return 1;
}

static int do_create(uint32_t flags, const char **exceptions, uint32_t exception_count,
                     const char *virtual_path, const char *backing_path,
                     const struct target_option *t)
{
        bindlink_error e;
        int r = t->given ? bindlink_target_create(&t->target, virtual_path, backing_path, flags,
                                                  exception_count, exceptions, &e)
                         : bindlink_create(virtual_path, backing_path, flags, exception_count,
                                           exceptions, &e);
        if (r < 0)
                return report("create", virtual_path, &e);
        return 0;
}

/* Is a an option of the Windows sample's spelling? Only looked for after both paths,
 * so a path that happens to be named "/merge" is still a path. */
static bool windows_flag(const char *a, uint32_t *flags, const char **exception)
{
        if (strcasecmp(a, "/read-only") == 0 || strcasecmp(a, "/readonly") == 0)
                *flags |= CREATE_BIND_LINK_FLAG_READ_ONLY;
        else if (strcasecmp(a, "/merge") == 0 || strcasecmp(a, "/merged") == 0)
                *flags |= CREATE_BIND_LINK_FLAG_MERGED;
        else if (strncasecmp(a, "/exception:", 11) == 0 && a[11])
                *exception = a + 11;
        else
                return false;
        return true;
}

static int cmd_create(int argc, char **argv)
{
        uint32_t flags = 0, count = 0;
        const char *exceptions[BINDLINK_MAX_EXCEPTIONS];
        const char *paths[2];
        int npaths = 0;
        bool options_done = false;
        struct target_option t = {.ns_fd = -1};
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *exception = NULL;
                int taken = options_done ? 0 : parse_target("create", argc, argv, &i, &t);
                if (taken == 2)
                        return 2;
                if (taken)
                        continue;
                if (!options_done && strcmp(a, "--") == 0)
                        options_done = true;
                else if (!options_done && (strcmp(a, "--read-only") == 0 || strcmp(a, "-r") == 0))
                        flags |= CREATE_BIND_LINK_FLAG_READ_ONLY;
                else if (!options_done && (strcmp(a, "--merged") == 0 || strcmp(a, "-m") == 0))
                        flags |= CREATE_BIND_LINK_FLAG_MERGED;
                else if (!options_done && strncmp(a, "--exception=", 12) == 0)
                        exception = a + 12;
                else if (!options_done && (strcmp(a, "--exception") == 0 || strcmp(a, "-e") == 0)) {
                        if (++i == argc)
                                return usage_error("create: %s needs a PATH", a);
                        exception = argv[i];
                } else if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
                        usage(stdout);
                        return 0;
                } else if (!options_done && a[0] == '-' && a[1])
                        return usage_error("create: unknown option %s", a);
                else if (npaths == 2 && windows_flag(a, &flags, &exception))
                        ;
                else if (npaths < 2)
                        paths[npaths++] = a;
                else
                        return usage_error("create: unexpected argument %s", a);
                if (exception && *exception == '\0')
                        return usage_error("%s", "create: an exception path is empty");
                if (exception) {
                        if (count == BINDLINK_MAX_EXCEPTIONS)
                                return usage_error("create: too many exceptions (at most %s)",
                                                   "256");
                        exceptions[count++] = exception;
                }
        }
        if (npaths != 2)
                return usage_error("%s", "create needs VIRTUAL and BACKING");
        if (t.root && !t.given)
                return usage_error("%s", "create: --root needs --target");
        return do_create(flags, exceptions, count, paths[0], paths[1], &t);
}

static int cmd_remove(int argc, char **argv)
{
        struct target_option t = {.ns_fd = -1};
        const char *path = NULL;
        bool tree = false, options_done = false;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                int taken = options_done ? 0 : parse_target("remove", argc, argv, &i, &t);
                if (taken == 2)
                        return 2;
                if (taken)
                        continue;
                if (!options_done && strcmp(a, "--") == 0)
                        options_done = true;
                else if (!options_done && (strcmp(a, "--recursive") == 0 || strcmp(a, "-r") == 0 ||
                                           strcmp(a, "-R") == 0))
                        tree = true;
                else if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
                        usage(stdout);
                        return 0;
                } else if (!options_done && a[0] == '-' && a[1])
                        return usage_error("remove: unknown option %s", a);
                else if (path)
                        return usage_error("%s", "remove needs exactly one VIRTUAL path");
                else
                        path = a;
        }
        if (!path)
                return usage_error("%s", "remove needs exactly one VIRTUAL path");
        if (t.root && !t.given)
                return usage_error("%s", "remove: --root needs --target");
        bindlink_error e;
        int r;
        if (t.given)
                r = tree ? bindlink_target_remove_tree(&t.target, path, &e)
                         : bindlink_target_remove(&t.target, path, &e);
        else
                r = tree ? bindlink_remove_tree(path, &e) : bindlink_remove(path, &e);
        if (r < 0)
                return report("remove", path, &e);
        return 0;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *p)
{
        if (p[0] < 0x80)
                return 1;
        size_t len = p[0] >= 0xC2 && p[0] <= 0xDF   ? 2
                     : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
                     : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
                                                    : 0;
        for (size_t i = 1; i < len; i++)
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
        if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
            (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
                return 0;
        return len;
}

/* A path as a JSON string. Paths are bytes and JSON text is UTF-8: a byte that is
 * not part of well-formed UTF-8 is written as the lone surrogate \udcXX (Python's
 * "surrogateescape"), so every path comes out distinct and can be turned back into
 * its bytes (os.fsencode in Python). */
static void json_string(const char *s)
{
        putchar('"');
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t len = utf8_length(p);
                if (len == 0)
                        printf("\\udc%02x", *p++);
                else if (*p == '"' || *p == '\\')
                        printf("\\%c", *p++);
                else if (*p < 0x20 || *p == 0x7f)
                        printf("\\u%04x", *p++);
                else {
                        (void)fwrite(p, 1, len, stdout);
                        p += len;
                }
        }
        putchar('"');
}

static void print_json(const bindlink_links *links, bool scoped)
{
        size_t n = bindlink_links_count(links);
        printf("[");
        for (size_t i = 0; i < n; i++) {
                uint32_t flags = bindlink_links_flags(links, i);
                printf("%s\n  {\"virtual\": ", i ? "," : "");
                json_string(bindlink_links_virtual(links, i));
                printf(", \"backing\": ");
                json_string(bindlink_links_backing(links, i));
                printf(", \"flags\": [");
                bool first = true;
                if (flags & CREATE_BIND_LINK_FLAG_READ_ONLY) {
                        printf("\"read-only\"");
                        first = false;
                }
                if (flags & CREATE_BIND_LINK_FLAG_MERGED)
                        printf("%s\"merged\"", first ? "" : ", ");
                printf("], \"exceptions\": [");
                uint32_t ne = bindlink_links_exception_count(links, i);
                for (uint32_t j = 0; j < ne; j++) {
                        printf("%s", j ? ", " : "");
                        json_string(bindlink_links_exception(links, i, j));
                }
                printf("], \"order\": %" PRIu64 ", \"realization\": ",
                       bindlink_links_order(links, i));
                json_string(bindlink_realization_name(bindlink_links_realization(links, i)));
                if (scoped) {
                        uint64_t id = bindlink_links_scope_id(links, i);
                        if (id)
                                printf(", \"scope\": {\"mntns\": %" PRIu64 ", \"pid\": %d}", id,
                                       (int)bindlink_links_scope_pid(links, i));
                        else
                                printf(", \"scope\": null");
                }
                printf("}");
        }
        printf("%s]\n", n ? "\n" : "");
}

static void print_text(const bindlink_links *links, bool scoped)
{
        size_t n = bindlink_links_count(links);
        for (size_t i = 0; i < n; i++) {
                uint32_t flags = bindlink_links_flags(links, i);
                const char *flag_words = (flags & 3) == 3 ? "read-only,merged"
                                         : flags & CREATE_BIND_LINK_FLAG_READ_ONLY ? "read-only"
                                         : flags & CREATE_BIND_LINK_FLAG_MERGED    ? "merged"
                                                                                   : "-";
                printf("%-6" PRIu64 " %-8s %-17s %s -> %s", bindlink_links_order(links, i),
                       bindlink_realization_name(bindlink_links_realization(links, i)), flag_words,
                       bindlink_links_virtual(links, i), bindlink_links_backing(links, i));
                uint32_t ne = bindlink_links_exception_count(links, i);
                for (uint32_t j = 0; j < ne; j++)
                        printf("%s%s",
                               j ? " " : "  except: ", bindlink_links_exception(links, i, j));
                uint64_t id = bindlink_links_scope_id(links, i);
                if (scoped && id)
                        printf("  scope: mntns:%" PRIu64 " pid:%d", id,
                               (int)bindlink_links_scope_pid(links, i));
                else if (scoped)
                        printf("  scope: host");
                putchar('\n');
        }
}

static int cmd_list(int argc, char **argv)
{
        bool json = false, all_scopes = false;
        struct target_option t = {.ns_fd = -1};
        for (int i = 1; i < argc; i++) {
                int taken = parse_target("list", argc, argv, &i, &t);
                if (taken == 2)
                        return 2;
                if (taken)
                        continue;
                if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
                        json = true;
                else if (strcmp(argv[i], "--all-scopes") == 0 || strcmp(argv[i], "-a") == 0)
                        all_scopes = true;
                else
                        return usage_error("list: unexpected argument %s", argv[i]);
        }
        if (all_scopes && t.given)
                return usage_error("%s", "list: --all-scopes and --target exclude each other");
        bool scoped = all_scopes || t.given;
        bindlink_links *links;
        bindlink_error e;
        int r = scoped ? bindlink_target_list(t.given ? &t.target : NULL, &links, &e)
                       : bindlink_list(&links, &e);
        if (r < 0)
                return report("list", "", &e);
        if (json)
                print_json(links, scoped);
        else
                print_text(links, scoped);
        bindlink_links_free(links);
        if (fflush(stdout) != 0) {
                perror("bindlinkctl: list");
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"socket", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {0},
        };
        int c;
        /* '+': stop at the command word; its own options follow it. */
        while ((c = getopt_long(argc, argv, "+s:hV", options, NULL)) != -1) {
                switch (c) {
                case 's':
                        if (setenv("BINDLINK_SOCKET", optarg, 1) < 0) {
                                perror("bindlinkctl: setenv");
                                return 1;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("bindlinkctl %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return 2;
        }
        char *command = argv[optind];
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        if (strcasecmp(command, "create") == 0)
                return cmd_create(sub_argc, sub_argv);
        if (strcasecmp(command, "remove") == 0)
                return cmd_remove(sub_argc, sub_argv);
        if (strcasecmp(command, "list") == 0)
                return cmd_list(sub_argc, sub_argv);
        return usage_error("unknown command: %s", command);
}
