/* main.c — bindlinkd: parse options, adopt the journal, create the configured links
 * (S22), tell systemd it is ready, serve the socket. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "bindlink.h"
#include "config.h"
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

static bool same_strings(char *const *a, char *const *b, uint32_t n)
{
        for (uint32_t i = 0; i < n; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

/* Create one configured link as root would through the API. */
static void apply_entry(struct link_manager *m, const char *config_path, unsigned line_no,
                        const struct config_entry *e)
{
        struct wire_create msg;
        struct caller_fds fds;
        bindlink_error error;
        if (request_prepare_create(e->virtual_path, e->backing_path, e->flags,
                                   e->exception_count,
                                   (const char *const *)e->exception_paths, &msg, &fds,
                                   &error) < 0) {
                log_error("%s:%u: %s", config_path, line_no, error.message);
                return;
        }
        const struct link *existing = link_manager_find(m, msg.virtual_path);
        if (existing && strcmp(existing->backing_path, msg.backing_path) == 0 &&
            existing->flags == msg.flags && existing->exception_count == msg.exception_count &&
            same_strings(existing->exception_paths, msg.exception_paths, msg.exception_count)) {
                caller_fds_close(&fds);
                wire_create_free(&msg);
                return; /* already in place (re-adopted after a restart) */
        }
        int exception_fds[WIRE_MAX_FDS];
        size_t next = 0;
        struct creds daemon = creds_daemon();
        struct create_request req = {.msg = &msg, .exception_fds = exception_fds,
                                     .creator = &daemon};
        req.parent_fd = msg.parent_error == 0 ? fds.fds[next++] : -1;
        req.backing_fd = msg.backing_error == 0 ? fds.fds[next++] : -1;
        for (uint32_t i = 0; i < msg.exception_count; i++)
                exception_fds[i] = msg.exception_errors[i] == 0 ? fds.fds[next++] : -1;
        struct outcome *o = calloc(1, sizeof *o);
        if (o) {
                link_manager_create(m, &req, o);
                if (o->status < 0)
                        log_error("%s:%u: %s (%s)", config_path, line_no, o->message,
                                  bindlink_errno_name(-o->status) ? bindlink_errno_name(-o->status)
                                                                  : strerror(-o->status));
                free(o);
        } else {
                log_error("%s:%u: out of memory", config_path, line_no);
        }
        caller_fds_close(&fds);
        wire_create_free(&msg);
}

static int apply_config(struct link_manager *m, const char *config_path)
{
        FILE *f = fopen(config_path, "re");
        if (!f)
                return log_error_errno(errno, "cannot read %s", config_path);
        char *line = NULL;
        size_t cap = 0;
        unsigned line_no = 0;
        while (getline(&line, &cap, f) >= 0) {
                line_no++;
                struct config_entry e;
                const char *reason = NULL;
                int r = config_parse_line(line, &e, &reason);
                if (r < 0) {
                        log_error("%s:%u: %s", config_path, line_no, reason);
                        continue;
                }
                if (r == 0)
                        continue;
                apply_entry(m, config_path, line_no, &e);
                config_entry_free(&e);
        }
        free(line);
        (void)fclose(f);
        return 0;
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
        raise_fd_limit();
        umask(0022);
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
        if (config_path)
                (void)apply_config(&manager, config_path);
        log_info("ready on %s with %zu link(s)", socket_path, manager.table.count);
        /* Type=notify: the links are in place. Nothing happens outside systemd. */
        r = sd_notifyf(0, "READY=1\nSTATUS=serving %zu link(s) on %s", manager.table.count,
                       socket_path);
        if (r < 0)
                log_warning_errno(r, "cannot notify systemd");

        r = server_run(listen_fd, &manager, state_dir, allowed_group);
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
