/* main.c — bindlinkd: parse options, adopt the journal, create the configured links
 * (S22), tell systemd it is ready, serve the socket; SIGHUP reads the configuration
 * again. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "bindlink.h"
#include "boot_config.h"
#include "link_manager.h"
#include "log.h"
#include "overlay_instance.h"
#include "request.h"
#include "server.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: bindlinkd [OPTION]...\n"
                "Serve the bind link API: realize links created with CreateBindLink or\n"
                "bindlinkctl as mounts, system-wide. Runs in the foreground, logs to stderr.\n"
                "\n"
                "  -s, --socket PATH       listen on PATH (default %s)\n"
                "  -d, --state-dir DIR     keep the link journal in DIR (default /run/bindlinkd)\n"
                "  -c, --config PATH       create the links declared in PATH at start\n"
                "  -g, --allow-group GROUP also accept requests from members of GROUP\n"
                "  -r, --overlay-retry SECONDS\n"
                "                          try an overlay given up on (its server kept ending\n"
                "                          as it started) again after SECONDS, then after\n"
                "                          twice as long each time; 0: never (default 30)\n"
                "  -h, --help              show this help and exit\n"
                "  -V, --version           show the version and exit\n"
                "\n"
                "See bindlinkd(8), bindlink.conf(5).\n",
                BINDLINK_DEFAULT_SOCKET);
}

/* What SIGHUP (systemctl reload) works on. */
struct reload_context {
        struct link_manager *manager;
        struct boot_config *config;
};

static uint64_t monotonic_usec(void)
{
        struct timespec now;
        if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
                return 0;
        return (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
}

/* Tell systemd (Type=notify); outside systemd there is nobody to tell. */
__attribute__((format(printf, 1, 2))) static void notify_systemd(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *state = NULL;
        int r = vasprintf(&state, fmt, ap) < 0 ? -ENOMEM : sd_notify(0, state);
        va_end(ap);
        if (r < 0)
                log_warning_errno(r, "cannot notify systemd");
}

/* Read links.conf again and make the links match it (S22). systemd's convention for
 * a Type=notify service: RELOADING=1 first, with the time (systemd 253 and later use
 * it to tell this reload from an earlier one; 252 ignores it), then READY=1 once done,
 * with the outcome as STATUS=. */
static void reload_config(void *ctx)
{
        struct reload_context *rc = ctx;
        const char *path = rc->config->path;
        notify_systemd("RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=reloading %s",
                       monotonic_usec(), path ? path : "nothing");
        if (!path) {
                log_info("SIGHUP: there is no configuration file to read again (no --config)");
                notify_systemd("READY=1\nSTATUS=reloaded nothing: started without --config");
                return;
        }
        log_info("SIGHUP: reading %s again", path);
        struct boot_counts counts;
        int r = boot_config_apply(rc->config, rc->manager, &counts);
        if (r < 0) {
                notify_systemd("READY=1\nSTATUS=cannot read %s (%s): links left as they were; "
                               "serving %zu link(s)",
                               path, strerror(-r), rc->manager->table.count);
                return;
        }
        log_info("reloaded %s: %u created, %u removed, %u failed, %u unchanged", path,
                 counts.created, counts.removed, counts.failed, counts.unchanged);
        notify_systemd("READY=1\nSTATUS=reloaded %s: %u created, %u removed, %u failed", path,
                       counts.created, counts.removed, counts.failed);
}

/* Enough descriptors to hold a request with every exception, many clients, and
 * the journal; raise the soft limit to the hard one. */
static void raise_fd_limit(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"socket", required_argument, NULL, 's'},
                {"state-dir", required_argument, NULL, 'd'},
                {"config", required_argument, NULL, 'c'},
                {"allow-group", required_argument, NULL, 'g'},
                {"overlay-retry", required_argument, NULL, 'r'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {0},
        };
        const char *socket_path = BINDLINK_DEFAULT_SOCKET, *state_dir = "/run/bindlinkd";
        const char *config_path = NULL;
        gid_t allowed_group = (gid_t)-1;
        uint64_t retry_ms = RESTART_GUARD_DEFAULT_RETRY_MS;
        int c;
        while ((c = getopt_long(argc, argv, "s:d:c:g:r:hV", options, NULL)) != -1) {
                switch (c) {
                case 's':
                        socket_path = optarg;
                        break;
                case 'd':
                        state_dir = optarg;
                        break;
                case 'c':
                        config_path = optarg;
                        break;
                case 'g': {
                        struct group *g = getgrnam(optarg);
                        char *end;
                        unsigned long gid = strtoul(optarg, &end, 10);
                        if (g)
                                allowed_group = g->gr_gid;
                        else if (*optarg && !*end)
                                allowed_group = (gid_t)gid;
                        else {
                                fprintf(stderr, "bindlinkd: no such group: %s\n", optarg);
                                return 2;
                        }
                        break;
                }
                case 'r': {
                        char *end;
                        errno = 0;
                        unsigned long seconds = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || errno || optarg[0] == '-' ||
                            seconds > 7 * 24 * 3600) {
                                fprintf(stderr, "bindlinkd: --overlay-retry: not a number of "
                                                "seconds from 0 to 604800: %s\n", optarg);
                                return 2;
                        }
                        retry_ms = (uint64_t)seconds * 1000;
                        break;
                }
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("bindlinkd %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "bindlinkd: unexpected argument: %s\n", argv[optind]);
                usage(stderr);
                return 2;
        }
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
                return 1;
        /* A SIGHUP (reload) that comes while the daemon starts waits for the loop,
         * which reads it from a signalfd, instead of ending the daemon. */
        sigset_t hangup;
        sigemptyset(&hangup);
        sigaddset(&hangup, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &hangup, NULL) < 0)
                return 1;
        raise_fd_limit();
        /* Its own files (the journal, the state directory) are root's alone, as the unit
         * says (UMask=); the socket is made 0666 on purpose. */
        umask(0077);
        /* Said once at start, not first at the first merged link an admin makes. */
        if (access(overlay_program(), X_OK) < 0)
                log_warning("the overlay server %s cannot be run (%s): links that need an "
                            "overlay (merged links, exceptions, anchorless links, a file over "
                            "a directory) will fail until it can",
                            overlay_program(), strerror(errno));

        struct link_manager manager;
        int r = link_manager_start(&manager, state_dir);
        if (r < 0) {
                log_error_errno(r, "cannot load the link journal in %s", state_dir);
                return 1;
        }
        manager.restarts.retry_ms = retry_ms;
        int listen_fd = server_listen(socket_path);
        if (listen_fd < 0) {
                log_error_errno(listen_fd, "cannot listen on %s", socket_path);
                link_manager_stop(&manager);
                return 1;
        }
        struct boot_config config;
        boot_config_init(&config, config_path);
        struct boot_counts counts;
        if (config_path)
                (void)boot_config_apply(&config, &manager, &counts);
        log_info("ready on %s with %zu link(s)", socket_path, manager.table.count);
        /* Type=notify: the links are in place. Nothing happens outside systemd. */
        notify_systemd("READY=1\nSTATUS=serving %zu link(s) on %s", manager.table.count,
                       socket_path);

        struct reload_context reload = {.manager = &manager, .config = &config};
        r = server_run(listen_fd, &manager, state_dir, allowed_group,
                       &(struct server_reload){reload_config, &reload});
        boot_config_done(&config);
        (void)sd_notify(0, "STOPPING=1");
        (void)close(listen_fd);
        (void)unlink(socket_path);
        link_manager_stop(&manager);
        if (r < 0) {
                log_error_errno(r, "event loop failed");
                return 1;
        }
        return 0;
}
