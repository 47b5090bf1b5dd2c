/* main.c — bindlink-overlay: started by bindlinkd with an already mounted FUSE
 * connection and the lower directory as descriptors; serves until the mount goes.
 *
 *   bindlink-overlay --fuse-fd N --lower-fd M [--entry dir:NAME|file:NAME|hide:NAME]...
 *   bindlink-overlay --fuse-fd N --lower-fd M --upper-fd U --merged=rw|ro
 *                    [--shadow PATH... | --exception PATH...]
 *
 * The first form is the overlay on a link's parent directory (ops.c); the second is
 * the view of a MERGED link, B (U) over what V showed (M) (merged.c), or with
 * --shadow, the view of a link that is not merged but has exceptions whose parent
 * B lacks: B, and what V showed along the paths to the exceptions (relative to V);
 * with --exception, the view of a MERGED link with exceptions: the union, but the
 * original at the exceptions.
 *
 * It keeps only the capabilities a passthrough needs and runs until the kernel ends
 * the connection (the mount was detached and released). */
#include "parent.h"
#include "merged.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

static int parse_fd(const char *s)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        return errno || *end || v < 0 || v > 1 << 20 ? -1 : (int)v;
}

/* Keep what acting on others' files as root needs and drop the rest (CAP_SYS_ADMIN
 * above all) from the effective, permitted and inheritable sets. The bounding set is
 * narrowed too where that is allowed (it needs CAP_SETPCAP, which the shipped unit's
 * CapabilityBoundingSet does not grant); without it, nothing we dropped can come back
 * anyway: a process gains no capability it has not permitted but by exec, and this
 * one execs nothing. 0 or -errno. */
static int drop_capabilities(bool passthrough)
{
        static const cap_value_t wanted[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
                                             CAP_FOWNER, CAP_FSETID,       CAP_SETGID,
                                             CAP_SETUID, CAP_MKNOD,        CAP_SYS_ADMIN};
        /* The kernel registers passthrough backing files for CAP_SYS_ADMIN only. */
        size_t wanted_count = sizeof wanted / sizeof wanted[0] - (passthrough ? 0 : 1);
        cap_t now = cap_get_proc();
        if (!now)
                return -errno;
        /* Keep only what we have: asking for more would fail the whole change. */
        cap_value_t keep[sizeof wanted / sizeof wanted[0]];
        size_t n = 0;
        for (size_t i = 0; i < wanted_count; i++) {
                cap_flag_value_t v = CAP_CLEAR;
                if (cap_get_flag(now, wanted[i], CAP_PERMITTED, &v) == 0 && v == CAP_SET)
                        keep[n++] = wanted[i];
        }
        cap_flag_value_t setpcap = CAP_CLEAR;
        (void)cap_get_flag(now, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
        (void)cap_free(now);
        if (setpcap == CAP_SET)
                for (cap_value_t cap = 0; cap <= CAP_LAST_CAP; cap++) {
                        bool kept = false;
                        for (size_t i = 0; i < n && !kept; i++)
                                kept = keep[i] == cap;
                        if (!kept)
                                (void)cap_drop_bound(cap); /* best effort, see above */
                }
        cap_t caps = cap_init(); /* all clear */
        if (!caps)
                return -errno;
        int r = 0;
        if (n > 0 && (cap_set_flag(caps, CAP_EFFECTIVE, (int)n, keep, CAP_SET) < 0 ||
                      cap_set_flag(caps, CAP_PERMITTED, (int)n, keep, CAP_SET) < 0))
                r = -errno;
        if (r == 0 && cap_set_proc(caps) < 0)
                r = -errno;
        (void)cap_free(caps);
        return r;
}

/* A view holds an O_PATH descriptor per object the kernel knows, and a merged view
 * opened files too: as many as the system allows a process (fs.nr_open), raised
 * while CAP_SYS_RESOURCE is still ours. Otherwise the soft limit goes to the hard. */
static void raise_fd_limit(void)
{
        struct rlimit rl;
        unsigned long nr_open = 0;
        FILE *f = fopen("/proc/sys/fs/nr_open", "re");
        if (f) {
                if (fscanf(f, "%lu", &nr_open) != 1)
                        nr_open = 0;
                (void)fclose(f);
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        if (nr_open > rl.rlim_max) {
                struct rlimit wanted = {.rlim_cur = nr_open, .rlim_max = nr_open};
                if (setrlimit(RLIMIT_NOFILE, &wanted) == 0)
                        return;
        }
        if (rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

/* Threads serving requests at most (more wait in the kernel's queue), and waiting for
 * one at most (more end). */
#define MAX_THREADS 16
#define MAX_IDLE_THREADS 4
/* Descriptors the table has room for from the start, before any thread: each node the
 * kernel knows holds one (up to half the limit). 8,192 slots take 64 KiB; past them
 * the table grows as before, a stall per doubling. */
#define FD_TABLE_SLOTS 8192

/* Serve the mounted connection until the kernel ends it, with ops on userdata (mg
 * when it is a merged view, to give it the session); local_backing as
 * ovl_request_loop() takes it. Exit status. */
static int serve(int fuse_fd, const struct fuse_lowlevel_ops *ops, void *userdata,
                 struct merged *mg, struct overlay *o, int control_fd, bool local_backing,
                 bool passthrough, char *argv0)
{
        /* Both views watch their directories for changes made beside them (a
         * fanotify group needs CAP_SYS_ADMIN, given up below). */
        ovl_watch_init();
        int r = drop_capabilities(passthrough);
        if (r < 0)
                fprintf(stderr, "bindlink-overlay: cannot drop capabilities: %s\n", strerror(-r));

        char *fuse_argv[] = {argv0, NULL};
        struct fuse_args args = FUSE_ARGS_INIT(1, fuse_argv);
        struct fuse_session *se = fuse_session_new(&args, ops, sizeof *ops, userdata);
        /* The session keeps none of them; parsing them made a copy that is ours. */
        fuse_opt_free_args(&args);
        if (!se) {
                merged_free(mg);
                return 1;
        }
        if (mg)
                merged_set_session(mg, se);
        /* A parent overlay's entries change in place, through the control socket. */
        if (o) {
                o->se = se;
                ovl_parent_watch(o, se);
                if (control_fd >= 0 && (r = ovl_entries_serve_control(o, control_fd)) < 0)
                        fprintf(stderr, "bindlink-overlay: cannot serve the control socket: %s\n",
                                strerror(-r));
        }
        if (fuse_set_signal_handlers(se) < 0 ||
            ovl_passthrough_session(se, fuse_fd, passthrough) < 0) {
                ovl_watch_stop();
                fuse_session_destroy(se);
                merged_free(mg);
                return 1;
        }
        r = ovl_request_loop(se, MAX_THREADS, MAX_IDLE_THREADS, local_backing);
        if (r < 0)
                fprintf(stderr, "bindlink-overlay: serving requests: %s\n", strerror(-r));
        ovl_watch_stop(); /* it notifies the session */
        fuse_remove_signal_handlers(se);
        fuse_session_destroy(se);
        merged_free(mg);
        return r < 0 ? 1 : 0;
}

static int serve_merged(int fuse_fd, int upper_fd, int lower_fd, bool read_only, bool union_rest,
                        char *const *shadow, size_t shadow_count, char *argv0)
{
        struct merged *mg =
                merged_new(upper_fd, lower_fd, read_only, union_rest, shadow, shadow_count);
        if (!mg) {
                fprintf(stderr, "bindlink-overlay: the upper and lower descriptors must be "
                                "directories\n");
                return 1;
        }
        /* Passthrough: the kernel reads and writes the files itself (see
         * passthrough_backing in merged.c). */
        return serve(fuse_fd, &merged_ops, mg, mg, NULL, -1,
                     fs_is_local(upper_fd) && fs_is_local(lower_fd), true, argv0);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"fuse-fd", required_argument, NULL, 'f'},
                {"lower-fd", required_argument, NULL, 'l'},
                {"entry", required_argument, NULL, 'e'},
                {"upper-fd", required_argument, NULL, 'u'},
                {"merged", required_argument, NULL, 'm'},
                {"shadow", required_argument, NULL, 's'},
                {"exception", required_argument, NULL, 'x'},
                {"control-fd", required_argument, NULL, 'c'},
                {"keep-fd", required_argument, NULL, 'k'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        static struct overlay o;
        int fuse_fd = -1, upper_fd = -1, c;
        const char *merged_mode = NULL;
        char **shadow = NULL;
        size_t shadow_count = 0;
        int path_kinds = 0; /* 1: --shadow, 2: --exception */
        int control_fd = -1;
        if (ovl_entries_init(&o) < 0)
                return 1;
        o.root.fd = -1;
        while ((c = getopt_long(argc, argv, "f:l:e:u:m:s:x:c:k:h", options, NULL)) != -1) {
                switch (c) {
                case 'u':
                        upper_fd = parse_fd(optarg);
                        break;
                case 's':
                case 'x': {
                        if (!*optarg || optarg[0] == '/') {
                                fprintf(stderr, "bindlink-overlay: --%s takes a relative path\n",
                                        c == 's' ? "shadow" : "exception");
                                return 2;
                        }
                        path_kinds |= c == 's' ? 1 : 2;
                        char **grown = realloc(shadow, (shadow_count + 1) * sizeof *grown);
                        if (!grown)
                                return 1;
                        shadow = grown;
                        shadow[shadow_count++] = optarg;
                        break;
                }
                case 'm':
                        merged_mode = optarg;
                        if (strcmp(optarg, "rw") != 0 && strcmp(optarg, "ro") != 0) {
                                fprintf(stderr, "bindlink-overlay: --merged takes rw or ro\n");
                                return 2;
                        }
                        break;
                case 'f':
                        fuse_fd = parse_fd(optarg);
                        break;
                case 'l':
                        o.root.fd = parse_fd(optarg);
                        break;
                case 'e': {
                        bool hide = strncmp(optarg, "hide:", 5) == 0;
                        mode_t mode = strncmp(optarg, "dir:", 4) == 0    ? S_IFDIR
                                      : strncmp(optarg, "file:", 5) == 0 ? S_IFREG
                                                                         : 0;
                        const char *name = strchr(optarg, ':');
                        if ((!mode && !hide) || !name || !name[1] || strchr(name + 1, '/')) {
                                fprintf(stderr, "bindlink-overlay: bad --entry %s\n", optarg);
                                return 2;
                        }
                        if (ovl_entries_add(&o, name + 1, mode) < 0)
                                return 1;
                        break;
                }
                case 'c':
                        control_fd = parse_fd(optarg);
                        break;
                case 'k':
                        /* bindlinkd's end of the control socket: held, never used, so
                         * that a restarted daemon can take it back (pidfd_getfd). */
                        if (parse_fd(optarg) < 0)
                                return 2;
                        break;
                case 'h':
                        printf("Usage: bindlink-overlay --fuse-fd N --lower-fd M "
                               "[--control-fd C --keep-fd K] [--entry "
                               "dir:NAME|file:NAME|hide:NAME]...\n"
                               "       bindlink-overlay --fuse-fd N --lower-fd M --upper-fd U "
                               "--merged=rw|ro [--shadow PATH...|--exception PATH...]\n"
                               "Started by bindlinkd; not meant to be run by hand.\n");
                        return 0;
                default:
                        return 2;
                }
        }
        if (fuse_fd < 0 || o.root.fd < 0) {
                fprintf(stderr, "bindlink-overlay: --fuse-fd and --lower-fd are required\n");
                return 2;
        }
        if ((merged_mode != NULL) != (upper_fd >= 0) || (merged_mode && o.entry_count) ||
            (shadow_count && !merged_mode) || path_kinds == 3) {
                fprintf(stderr, "bindlink-overlay: --merged needs --upper-fd and no --entry; "
                                "--shadow and --exception need --merged and do not mix\n");
                return 2;
        }
        /* Modes arrive with the caller's umask applied by the kernel already. */
        umask(0);
        raise_fd_limit(); /* before the views size their caches by it */
        ovl_fd_table_reserve(FD_TABLE_SLOTS);
        if (merged_mode)
                return serve_merged(fuse_fd, upper_fd, o.root.fd, strcmp(merged_mode, "ro") == 0,
                                    path_kinds == 2, shadow, shadow_count, argv[0]);
        struct stat st;
        if (fstatat(o.root.fd, "", &st, AT_EMPTY_PATH) < 0 || !S_ISDIR(st.st_mode)) {
                fprintf(stderr, "bindlink-overlay: the lower descriptor is not a directory\n");
                return 1;
        }
        o.root.node.dev = st.st_dev;
        o.root.node.ino = st.st_ino;
        o.root.node.nlookup = 1;
        if (ovl_table_init(&o.table) < 0)
                return 1;
        int r = serve(fuse_fd, &ovl_ops, &o, NULL, &o, control_fd, fs_is_local(o.root.fd),
                      false, argv[0]);
        ovl_table_done(&o.table);
        return r;
}
