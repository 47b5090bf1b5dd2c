/* main.c — bindlink-overlay: started by bindlinkd with an already mounted FUSE
 * connection and the lower directory as descriptors; serves until the mount goes.
 *
 *   bindlink-overlay --fuse-fd N --lower-fd M [--entry dir:NAME|file:NAME|hide:NAME]...
 *
 * It keeps only the capabilities a passthrough needs and runs until the kernel ends
 * the connection (the mount was detached and released). */
#include "overlay.h"

#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int parse_fd(const char *s)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        return errno || *end || v < 0 || v > 1 << 20 ? -1 : (int)v;
}

/* Keep what acting on others' files as root needs; drop the rest (CAP_SYS_ADMIN
 * above all), from the effective, permitted and bounding sets. */
static int drop_capabilities(void)
{
        static const int keep[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
                                   CAP_FOWNER, CAP_FSETID,       CAP_SETGID,
                                   CAP_SETUID, CAP_MKNOD};
        uint64_t mask = 0;
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
                mask |= 1ull << keep[i];
        for (int cap = 0; cap <= 63; cap++)
                if (!(mask & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
                    errno != EINVAL)
                        return -errno;
        struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2] = {
                {.effective = (uint32_t)mask, .permitted = (uint32_t)mask},
                {.effective = (uint32_t)(mask >> 32), .permitted = (uint32_t)(mask >> 32)},
        };
        return syscall(SYS_capset, &header, data) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"fuse-fd", required_argument, NULL, 'f'},
                {"lower-fd", required_argument, NULL, 'l'},
                {"entry", required_argument, NULL, 'e'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        static struct overlay o = {.timeout = 1.0};
        int fuse_fd = -1, c;
        size_t cap = 0;
        o.root.fd = -1;
        while ((c = getopt_long(argc, argv, "f:l:e:h", options, NULL)) != -1) {
                switch (c) {
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
                        if (o.entry_count == cap) {
                                cap = cap ? cap * 2 : 8;
                                o.entries = realloc(o.entries, cap * sizeof *o.entries);
                                if (!o.entries)
                                        return 1;
                        }
                        struct ovl_entry_spec *s = &o.entries[o.entry_count++];
                        *s = (struct ovl_entry_spec){.name = strdup(name + 1), .mode = mode};
                        s->inode.fd = -1;
                        s->inode.synthesized_mode = mode;
                        if (!s->name)
                                return 1;
                        break;
                }
                case 'h':
                        printf("Usage: bindlink-overlay --fuse-fd N --lower-fd M "
                               "[--entry dir:NAME|file:NAME|hide:NAME]...\n"
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
        struct stat st;
        if (fstatat(o.root.fd, "", &st, AT_EMPTY_PATH) < 0 || !S_ISDIR(st.st_mode)) {
                fprintf(stderr, "bindlink-overlay: the lower descriptor is not a directory\n");
                return 1;
        }
        o.root.dev = st.st_dev;
        o.root.ino = st.st_ino;
        o.root.nlookup = 1;
        if (ovl_table_init(&o.table) < 0)
                return 1;
        int r = drop_capabilities();
        if (r < 0)
                fprintf(stderr, "bindlink-overlay: cannot drop capabilities: %s\n", strerror(-r));

        char *fuse_argv[] = {argv[0], NULL};
        struct fuse_args args = FUSE_ARGS_INIT(1, fuse_argv);
        struct fuse_session *se = fuse_session_new(&args, &ovl_ops, sizeof ovl_ops, &o);
        if (!se)
                return 1;
        char mountpoint[32];
        (void)snprintf(mountpoint, sizeof mountpoint, "/dev/fd/%d", fuse_fd);
        if (fuse_set_signal_handlers(se) < 0 || fuse_session_mount(se, mountpoint) < 0) {
                fuse_session_destroy(se);
                return 1;
        }
        struct fuse_loop_config *config = fuse_loop_cfg_create();
        if (!config)
                return 1;
        fuse_loop_cfg_set_max_threads(config, 16);
        fuse_loop_cfg_set_idle_threads(config, 4);
        r = fuse_session_loop_mt(se, config);
        fuse_loop_cfg_destroy(config);
        fuse_remove_signal_handlers(se);
        fuse_session_destroy(se);
        ovl_table_done(&o.table);
        return r < 0 ? 1 : 0;
}
