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
#include "list_table.h"
#include "normalize.h"
#include "request.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

static const char *program = "bindlinkctl";

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: bindlinkctl [--socket PATH] COMMAND [ARG]...\n"
                "Create, remove, list and explain bind links (served by bindlinkd).\n"
                "\n"
                "Commands:\n"
                "  create [-r|--read-only] [-m|--merged] [-e|--exception PATH]... [TARGET]\n"
                "         VIRTUAL BACKING\n"
                "                 make VIRTUAL show BACKING, system-wide (or in TARGET)\n"
                "  remove [-r|--recursive] [TARGET] VIRTUAL\n"
                "                 remove the link whose virtual path is VIRTUAL (a link\n"
                "                 with links nested in it: remove those first, deepest\n"
                "                 first, or give -r to remove every link at or below\n"
                "                 VIRTUAL in one request)\n"
                "  list [-o COLUMNS] [-n] [-r | -J] [TARGET | --all-scopes] [PATH]\n"
                "                 list the links in creation order (of TARGET, or of every\n"
                "                 mount namespace with their scope); with PATH, only the\n"
                "                 links at or below it (exit 1 when there is none)\n"
                "  explain [-J] PATH\n"
                "                 which link decides what PATH shows, through which links,\n"
                "                 from which layer, and why: one line a step\n"
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
                "list's options (as findmnt's):\n"
                "  -o, --output COLUMNS  the columns to show, comma-separated (+COLUMNS:\n"
                "                        add to the default ones)\n"
                "  -n, --noheadings      no header line\n"
                "  -r, --raw             one space between cells; unsafe bytes as \\xHH\n"
                "  -J, --json            JSON: {\"bindlinks\": [...]}, keys in lower case\n"
                "  -a, --all-scopes      the links of every mount namespace\n"
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
        fprintf(out, "\nColumns of list (default: all but SCOPE and WATCH, and SCOPE for other "
                     "namespaces):\n");
        list_print_column_help(out);
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

/* The path a list is filtered by, spelled as link paths are: folded against the
 * working directory with its ancestors' symlinks resolved (S3), or, in a target
 * namespace, absolute without . or .. (resolved there). */
static int filter_path(const char *arg, bool in_target, char **ret)
{
        if (in_target)
                return request_target_path(arg, ret);
        int ignored;
        return normalize_path(arg, ret, &ignored, NULL);
}

/* Are these list's short options (-rn, -rno COLUMNS, -oCOLUMNS)? */
static bool list_short_options(const char *f)
{
        for (; *f; f++) {
                if (*f == 'o')
                        return true;
                if (!strchr("Jjrna", *f))
                        return false;
        }
        return true;
}

static int cmd_list(int argc, char **argv)
{
        bool all_scopes = false, columns_given = false;
        struct list_options o = {.format = LIST_TABLE};
        const char *path = NULL, *output = NULL;
        struct target_option t = {.ns_fd = -1};
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                int taken = parse_target("list", argc, argv, &i, &t);
                if (taken == 2)
                        return 2;
                if (taken)
                        continue;
                if (strcmp(a, "--json") == 0)
                        o.format = LIST_JSON;
                else if (strcmp(a, "--raw") == 0)
                        o.format = LIST_RAW;
                else if (strcmp(a, "--noheadings") == 0)
                        o.noheadings = true;
                else if (strcmp(a, "--all-scopes") == 0)
                        all_scopes = true;
                else if (strncmp(a, "--output=", 9) == 0)
                        output = a + 9;
                else if (strcmp(a, "--output") == 0) {
                        if (++i == argc)
                                return usage_error("list: %s needs a list of columns", a);
                        output = argv[i];
                } else if (a[0] == '-' && a[1] && a[1] != '-' && list_short_options(a + 1)) {
                        /* Short options, alone or together (-rn, -rno VIRTUAL). */
                        for (const char *f = a + 1; *f; f++) {
                                if (*f == 'J' || *f == 'j')
                                        o.format = LIST_JSON;
                                else if (*f == 'r')
                                        o.format = LIST_RAW;
                                else if (*f == 'n')
                                        o.noheadings = true;
                                else if (*f == 'a')
                                        all_scopes = true;
                                else if (f[1]) /* -oCOLUMNS */
                                        output = f + 1;
                                else if (++i == argc)
                                        return usage_error("list: %s needs a list of columns",
                                                           a);
                                else
                                        output = argv[i];
                                if (output)
                                        break;
                        }
                } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                        usage(stdout);
                        return 0;
                } else if (a[0] == '-' && a[1])
                        return usage_error("list: unknown option %s", a);
                else if (path)
                        return usage_error("list: unexpected argument %s", a);
                else
                        path = a;
                if (output) {
                        const char *bad;
                        if (!columns_given && output[0] == '+')
                                list_default_columns(&o);
                        if (list_parse_columns(&o, output, &bad) < 0)
                                return usage_error("list: unknown column %s (see --help)", bad);
                        columns_given = true;
                        output = NULL;
                }
        }
        if (all_scopes && t.given)
                return usage_error("%s", "list: --all-scopes and --target exclude each other");
        o.scoped = all_scopes || t.given;
        if (!columns_given)
                list_default_columns(&o);
        _cleanup_free_ char *filter = NULL;
        if (path) {
                int r = filter_path(path, t.given, &filter);
                if (r < 0) {
                        fprintf(stderr, "%s: list %s: %s\n", program, path, strerror(-r));
                        return 1;
                }
                o.filter = filter;
        }
        bindlink_links *links;
        bindlink_error e;
        /* Asked for only when shown: a bindlinkd older than the question refuses it. */
        uint32_t what = list_wants_watch(&o) ? BINDLINK_LIST_WATCH : 0;
        int r = o.scoped ? bindlink_target_list_what(t.given ? &t.target : NULL, what, &links, &e)
                         : bindlink_list_what(what, &links, &e);
        if (r < 0)
                return report("list", "", &e);
        int printed = list_print(links, &o);
        bindlink_links_free(links);
        if (printed < 0 || fflush(stdout) != 0) {
                fprintf(stderr, "%s: list: cannot write: %s\n", program,
                        strerror(printed < 0 ? -printed : errno));
                return 1;
        }
        /* As findmnt: a path that no link is at or below is a failure. */
        return path && printed == 0 ? 1 : 0;
}

static const char *step_kind_name(bindlink_step_kind kind)
{
        switch (kind) {
        case BINDLINK_STEP_LINK:
                return "link";
        case BINDLINK_STEP_EXCEPTION:
                return "exception";
        case BINDLINK_STEP_LAYER_BACKING:
                return "layer-backing";
        case BINDLINK_STEP_LAYER_ORIGINAL:
                return "layer-original";
        case BINDLINK_STEP_NOT_SHOWN:
                return "not-shown";
        case BINDLINK_STEP_FOUND:
                return "found";
        case BINDLINK_STEP_MISSING:
                return "missing";
        }
        return "unknown";
}

static void print_explanation_json(const char *path, const bindlink_explanation *e)
{
        printf("{\"path\": ");
        list_json_string(path);
        printf(", \"steps\": [");
        for (size_t i = 0; i < bindlink_explanation_count(e); i++) {
                const bindlink_step *st = bindlink_explanation_step(e, i);
                printf("%s\n  {\"kind\": \"%s\", \"path\": ", i ? "," : "",
                       step_kind_name(st->kind));
                list_json_string(st->path);
                printf(", \"link\": ");
                if (st->virtual_path) {
                        printf("{\"virtual\": ");
                        list_json_string(st->virtual_path);
                        printf(", \"backing\": ");
                        list_json_string(st->backing_path ? st->backing_path : "");
                        printf(", \"order\": %" PRIu64 ", \"flags\": [%s%s%s]}", st->order,
                               st->flags & CREATE_BIND_LINK_FLAG_READ_ONLY ? "\"read-only\"" : "",
                               (st->flags & 3) == 3 ? ", " : "",
                               st->flags & CREATE_BIND_LINK_FLAG_MERGED ? "\"merged\"" : "");
                } else {
                        printf("null");
                }
                printf(", \"detail\": ");
                list_json_string(st->detail);
                putchar('}');
        }
        printf("%s]}\n", bindlink_explanation_count(e) ? "\n" : "");
}

/* explain [-J] PATH: which link decides what PATH shows, step by step. */
static int cmd_explain(int argc, char **argv)
{
        bool json = false, options_done = false;
        const char *path = NULL;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!options_done && strcmp(a, "--") == 0)
                        options_done = true;
                else if (!options_done && (strcmp(a, "--json") == 0 || strcmp(a, "-J") == 0))
                        json = true;
                else if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
                        usage(stdout);
                        return 0;
                } else if (!options_done && a[0] == '-' && a[1])
                        return usage_error("explain: unknown option %s", a);
                else if (path)
                        return usage_error("explain: unexpected argument %s", a);
                else
                        path = a;
        }
        if (!path)
                return usage_error("%s", "explain needs a PATH");
        bindlink_explanation *e;
        bindlink_error err;
        if (bindlink_explain(path, &e, &err) < 0)
                return report("explain", path, &err);
        if (json)
                print_explanation_json(path, e);
        else
                for (size_t i = 0; i < bindlink_explanation_count(e); i++) {
                        const bindlink_step *st = bindlink_explanation_step(e, i);
                        printf("%s: %s\n", st->path, st->detail);
                }
        bindlink_explanation_free(e);
        if (fflush(stdout) != 0) {
                fprintf(stderr, "%s: explain: cannot write: %s\n", program, strerror(errno));
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
        if (strcasecmp(command, "explain") == 0)
                return cmd_explain(sub_argc, sub_argv);
        return usage_error("unknown command: %s", command);
}
