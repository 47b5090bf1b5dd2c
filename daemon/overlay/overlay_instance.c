/* overlay_instance.c — mounting FUSE by descriptor and running bindlink-overlay. */
#include "overlay_instance.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmount.h>

#include "as_caller.h"
#include "log.h"
#include "planner.h"
#include "mount_ops.h"
#include "util.h"

#ifndef OVERLAY_PROGRAM
#define OVERLAY_PROGRAM "/usr/local/libexec/bindlink/bindlink-overlay"
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const char *overlay_program(void)
{
        const char *env = getenv("BINDLINK_OVERLAY_PROGRAM");
        return env && *env ? env : OVERLAY_PROGRAM;
}

struct overlay_instance *overlay_new(const char *dir, char *const *names, const char *kinds,
                                     size_t count)
{
        struct overlay_instance *o = calloc(1, sizeof *o);
        if (!o)
                return NULL;
        o->pidfd = -1;
        o->lower_fd = -1;
        o->upper_fd = -1;
        o->control_fd = -1;
        o->dir = strdup(dir);
        o->names = calloc(count + 1, sizeof *o->names);
        o->kinds = calloc(count + 1, sizeof *o->kinds);
        if (!o->dir || !o->names || !o->kinds) {
                overlay_free(o);
                return NULL;
        }
        for (size_t i = 0; i < count; i++) {
                o->names[i] = strdup(names[i]);
                o->kinds[i] = kinds[i];
                if (!o->names[i]) {
                        o->count = i;
                        overlay_free(o);
                        return NULL;
                }
        }
        o->count = count;
        return o;
}

void overlay_free(struct overlay_instance *o)
{
        if (!o)
                return;
        if (o->pidfd >= 0)
                (void)close(o->pidfd);
        if (o->lower_fd >= 0)
                (void)close(o->lower_fd);
        if (o->upper_fd >= 0)
                (void)close(o->upper_fd);
        if (o->control_fd >= 0)
                (void)close(o->control_fd);
        free(o->graft_ids);
        for (size_t i = 0; i < o->foreign_count; i++)
                free(o->foreign_targets[i]);
        free(o->foreign_targets);
        for (size_t i = 0; i < o->shadow_count; i++)
                free(o->shadow_paths[i]);
        free(o->shadow_paths);
        for (size_t i = 0; i < o->count; i++)
                free(o->names[i]);
        free(o->names);
        free(o->kinds);
        free(o->dir);
        free(o);
}

bool overlay_is_ours(const char *source, const char *owner)
{
        return source && strncmp(source, "bindlink:", 9) == 0 && strcmp(source + 9, owner) == 0;
}

uint64_t overlay_clock_ms(void)
{
        struct timespec now;
        (void)clock_gettime(CLOCK_BOOTTIME, &now);
        return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

uint64_t overlay_process_start_time(pid_t pid)
{
        char path[64], buf[1024];
        (void)snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* Field 3 is the state, field 22 the start time, counted after the ")" that
         * ends the command name. A killed server whose main thread is a zombie while
         * its other threads still close its descriptors (a fanotify group's take a
         * while) is ending: adopting it would leave its dead view in place. */
        const char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
                return 0;
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        return p ? strtoull(p + 1, NULL, 10) : 0;
}

static int fs_set(int fsfd, const char *key, const char *value)
{
        unsigned cmd = value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG;
        return fsconfig(fsfd, cmd, key, value, 0) < 0 ? negative_errno() : 0;
}

/* attrs plus the restrictions (nosuid, nodev, noexec) of the mount fd is on. The
 * view's mount takes those of every mount it shows objects from, so nothing B's or
 * V's own mount forbids is allowed through V (a bind mount keeps them the same way). */
static uint64_t add_mount_restrictions(uint64_t attrs, int fd)
{
        struct statvfs sv;
        if (fd < 0 || fstatvfs(fd, &sv) < 0)
                return attrs;
        if (sv.f_flag & ST_NOSUID)
                attrs |= MOUNT_ATTR_NOSUID;
        if (sv.f_flag & ST_NODEV)
                attrs |= MOUNT_ATTR_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                attrs |= MOUNT_ATTR_NOEXEC;
        return attrs;
}

/* A FUSE superblock for fuse_fd, configured by descriptor; returns a mount fd with
 * the given MOUNT_ATTR_* flags. */
static int make_fuse_mount(int fuse_fd, mode_t root_type, uint64_t attrs, const char *owner)
{
        _cleanup_close_ int fsfd = fsopen("fuse", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return negative_errno();
        char fd_text[16], mode_text[16];
        (void)snprintf(fd_text, sizeof fd_text, "%d", fuse_fd);
        (void)snprintf(mode_text, sizeof mode_text, "%o", (unsigned)root_type);
        int r;
        /* The source names the daemon that made it (its journal): a restarted daemon
         * knows its own strays from another daemon's mounts (overlay_is_ours). */
        _cleanup_free_ char *source = NULL;
        if (asprintf(&source, "bindlink:%s", owner) < 0)
                return -ENOMEM;
        if ((r = fs_set(fsfd, "source", source)) < 0 ||
            (r = fs_set(fsfd, "subtype", "bindlink")) < 0 ||
            (r = fs_set(fsfd, "fd", fd_text)) < 0 ||
            (r = fs_set(fsfd, "rootmode", mode_text)) < 0 ||
            (r = fs_set(fsfd, "user_id", "0")) < 0 || (r = fs_set(fsfd, "group_id", "0")) < 0 ||
            (r = fs_set(fsfd, "allow_other", NULL)) < 0 ||
            (r = fs_set(fsfd, "default_permissions", NULL)) < 0)
                return r;
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        int mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned)attrs);
        return mnt < 0 ? negative_errno() : mnt;
}

/* fork+exec the server with the connection as fd 3, the lower directory as fd 4 and
 * a merged view's upper directory as fd 5 — or, for a parent overlay, its end of the
 * control socket as fd 5 and ours as fd 6 (held, never used, so that a restarted
 * daemon can take it back: overlay_adopt). A server that cannot be executed (not
 * installed, not executable) fails here, with *ret_path the program, and not as a
 * server that ends at once: the child reports exec's errno through a close-on-exec
 * pipe, which stays empty when exec succeeds. */
static int spawn_server(struct overlay_instance *o, int fuse_fd, int lower_fd, int upper_fd,
                        const char **ret_path)
{
        /* The control socket: one packet a message (overlay_update_entries). */
        int control[2] = {-1, -1};
        if (!o->merged && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) < 0)
                return negative_errno();
        int fd5 = o->merged ? upper_fd : control[1], fd6 = o->merged ? -1 : control[0];
        size_t argc = 7 + o->count + o->shadow_count;
        char **argv = calloc(argc + 1, sizeof *argv);
        if (!argv)
                return -ENOMEM;
        argv[0] = (char *)"bindlink-overlay";
        argv[1] = (char *)"--fuse-fd=3";
        argv[2] = (char *)"--lower-fd=4";
        size_t n = 3;
        int r = 0;
        if (o->merged) {
                argv[n++] = (char *)"--upper-fd=5";
                argv[n++] = (char *)(o->merged == MERGED_RO ? "--merged=ro" : "--merged=rw");
        } else {
                argv[n++] = (char *)"--control-fd=5";
                argv[n++] = (char *)"--keep-fd=6";
        }
        size_t first_allocated = n;
        for (size_t i = 0; i < o->shadow_count && r == 0; i++)
                if (asprintf(&argv[n++], "--%s=%s", o->merged_exceptions ? "exception" : "shadow",
                             o->shadow_paths[i]) < 0) {
                        argv[--n] = NULL;
                        r = -ENOMEM;
                }
        for (size_t i = 0; i < o->count && r == 0; i++)
                if (asprintf(&argv[n++], "--entry=%s:%s",
                             o->kinds[i] == 'd'   ? "dir"
                             : o->kinds[i] == 'f' ? "file"
                                                  : "hide",
                             o->names[i]) < 0) {
                        argv[--n] = NULL;
                        r = -ENOMEM;
                }
        const char *program = overlay_program();
        int exec_error[2] = {-1, -1};
        if (r == 0 && pipe2(exec_error, O_CLOEXEC) < 0)
                r = negative_errno();
        pid_t pid = r < 0 ? -1 : fork();
        if (pid == 0) {
                /* Child: only async-signal-safe calls until exec. The error pipe goes
                 * right after the descriptors the server gets, still close-on-exec. */
                int f = fcntl(fuse_fd, F_DUPFD, 10), l = fcntl(lower_fd, F_DUPFD, 10);
                int a = fd5 >= 0 ? fcntl(fd5, F_DUPFD, 10) : -1;
                int b = fd6 >= 0 ? fcntl(fd6, F_DUPFD, 10) : -1;
                int e = fcntl(exec_error[1], F_DUPFD_CLOEXEC, 10);
                int report = fd6 >= 0 ? 7 : fd5 >= 0 ? 6 : 5;
                sigset_t none;
                sigemptyset(&none);
                if (e < 0 || dup3(e, report, O_CLOEXEC) < 0)
                        _exit(127);
                if (f >= 0 && l >= 0 && (fd5 < 0 || a >= 0) && (fd6 < 0 || b >= 0) &&
                    dup2(f, 3) >= 0 && dup2(l, 4) >= 0 && (a < 0 || dup2(a, 5) >= 0) &&
                    (b < 0 || dup2(b, 6) >= 0) && close_range(report + 1, ~0U, 0) >= 0 &&
                    sigprocmask(SIG_SETMASK, &none, NULL) >= 0 && setsid() >= 0)
                        execv(program, argv);
                int why = errno;
                (void)!write(report, &why, sizeof why);
                _exit(127);
        }
        if (pid < 0 && r == 0)
                r = negative_errno();
        for (size_t i = first_allocated; i < n; i++)
                free(argv[i]);
        free(argv);
        if (control[1] >= 0)
                (void)close(control[1]);
        if (pid > 0 && r == 0) {
                o->control_fd = control[0];
                control[0] = -1;
        }
        if (control[0] >= 0)
                (void)close(control[0]);
        if (exec_error[1] >= 0)
                (void)close(exec_error[1]);
        if (pid > 0) {
                int why = 0;
                ssize_t got;
                do
                        got = read(exec_error[0], &why, sizeof why);
                while (got < 0 && errno == EINTR);
                if (got != 0) {
                        /* Exec failed (or the child ended before it could say why).
                         * Not logged here: the caller reports it with the path. */
                        r = got == (ssize_t)sizeof why && why > 0 ? -why : -ENOEXEC;
                        *ret_path = program;
                        /* (Killed too in case the pipe itself failed after an exec.) */
                        (void)kill(pid, SIGKILL);
                        (void)waitpid(pid, NULL, 0);
                }
        }
        if (exec_error[0] >= 0)
                (void)close(exec_error[0]);
        if (r < 0)
                return r;
        o->pid = pid;
        o->pidfd = pidfd_open(pid, 0);
        if (o->pidfd < 0) {
                r = negative_errno();
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                return r;
        }
        o->start_time = overlay_process_start_time(pid);
        o->spawned_ms = overlay_clock_ms();
        return 0;
}

void overlay_kill(int pidfd)
{
        if (pidfd < 0)
                return;
        (void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
        siginfo_t info;
        (void)waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED);
}

static void stop_process(struct overlay_instance *o)
{
        overlay_kill(o->pidfd);
}

/* A FUSE mount for o over lower (borrowed), detached, with its server started: the
 * mount in *ret_mount. On a failure that is not about lower, *ret_path names what it
 * is about. */
static int serve(struct overlay_instance *o, int lower, int upper_fd, const char *owner,
                 int *ret_mount, const char **ret_path)
{
        struct stat st;
        int r = fstat(lower, &st) < 0 ? negative_errno() : 0;
        if (r == 0 && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        /* No FUSE here (a container without /dev/fuse, no fuse module): say where. */
        _cleanup_close_ int fuse_fd = r < 0 ? -1 : open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (r == 0 && fuse_fd < 0) {
                r = negative_errno();
                *ret_path = "/dev/fuse";
        }
        uint64_t attrs = add_mount_restrictions(add_mount_restrictions(0, lower), upper_fd);
        _cleanup_close_ int mnt =
                r < 0 ? -1 : make_fuse_mount(fuse_fd, st.st_mode & S_IFMT, attrs, owner);
        if (r == 0 && mnt < 0) {
                r = mnt;
                *ret_path = "/dev/fuse";
        }
        if (r == 0)
                r = spawn_server(o, fuse_fd, lower, upper_fd, ret_path);
        if (r == 0)
                *ret_mount = TAKE_FD(mnt);
        return r;
}

/* Capture dir, mount FUSE on it by descriptor and start the server for o. On a
 * failure that is not about dir, *ret_path names what it is about. */
static int start(struct overlay_instance *o, int upper_fd, const char *owner, const char **ret_path)
{
        /* What dir shows now is what the overlay will pass through, reached with no
         * symlink on the way (as_caller.h). */
        _cleanup_close_ int lower = place_open(NULL, AT_FDCWD, o->dir, false);
        _cleanup_close_ int mnt = -1;
        int r = lower < 0 ? lower : serve(o, lower, upper_fd, owner, &mnt, ret_path);
        if (r == 0 &&
            move_mount(mnt, "", lower, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
                r = negative_errno();
                stop_process(o);
        }
        if (r == 0 && ((r = mount_id_of_fd(mnt, &o->mount_id)) < 0 ||
                       (r = mount_legacy_id_of_fd(mnt, &o->legacy_mount_id)) < 0)) {
                char proc[64];
                (void)snprintf(proc, sizeof proc, "/proc/self/fd/%d", mnt);
                (void)umount2(proc, MNT_DETACH);
                stop_process(o);
        }
        if (r == 0)
                o->lower_fd = TAKE_FD(lower);
        return r;
}

int overlay_start(const char *owner, const char *dir, char *const *names, const char *kinds,
                  size_t count, struct overlay_instance **ret, const char **ret_path)
{
        struct overlay_instance *o = overlay_new(dir, names, kinds, count);
        if (!o)
                return -ENOMEM;
        int r = start(o, -1, owner, ret_path);
        if (r < 0) {
                overlay_free(o);
                return r;
        }
        *ret = o;
        return 0;
}

int overlay_start_detached(const char *owner, int lower, const char *dir, char *const *names,
                           const char *kinds, size_t count, struct overlay_instance **ret,
                           int *ret_mount, const char **ret_path)
{
        struct overlay_instance *o = overlay_new(dir, names, kinds, count);
        if (!o)
                return -ENOMEM;
        int r = serve(o, lower, -1, owner, ret_mount, ret_path);
        if (r < 0) {
                overlay_free(o);
                return r;
        }
        *ret = o;
        return 0;
}

/* A merged (or shadow) instance over dir, with its exceptions made relative to dir,
 * holding upper (taken, closed on failure). NULL on ENOMEM. */
static struct overlay_instance *merged_instance(const char *dir, int upper, bool read_only,
                                                char *const *shadow, size_t shadow_count)
{
        struct overlay_instance *o = overlay_new(dir, NULL, NULL, 0);
        if (!o) {
                (void)close(upper);
                return NULL;
        }
        o->upper_fd = upper;
        o->merged = read_only ? MERGED_RO : MERGED_RW;
        if (shadow_count > 0) {
                o->shadow = true;
                o->shadow_paths = calloc(shadow_count, sizeof *o->shadow_paths);
                size_t skip = strcmp(dir, "/") == 0 ? 1 : strlen(dir) + 1;
                for (size_t i = 0; o->shadow_paths && i < shadow_count; i++)
                        if (strlen(shadow[i]) > skip &&
                            (o->shadow_paths[o->shadow_count] = strdup(shadow[i] + skip)))
                                o->shadow_count++;
                if (o->shadow_count != shadow_count) {
                        overlay_free(o);
                        return NULL;
                }
        }
        return o;
}

int overlay_start_merged(const char *owner, const struct creds *creator, const char *dir,
                         const char *backing, bool read_only, bool merged_exceptions,
                         char *const *shadow, size_t shadow_count, struct overlay_instance **ret,
                         const char **ret_path)
{
        /* B as the daemon sees it (through the links it lies under: S18), reached as
         * the link's creator would. */
        int upper = as_caller_open(creator, AT_FDCWD, backing, false);
        struct stat st;
        if (upper >= 0 && (fstat(upper, &st) < 0 || !S_ISDIR(st.st_mode))) {
                (void)close(upper);
                upper = -ENOTDIR;
        }
        if (upper < 0) {
                *ret_path = backing;
                return upper;
        }
        struct overlay_instance *o = merged_instance(dir, upper, read_only, shadow, shadow_count);
        if (!o)
                return -ENOMEM;
        if (merged_exceptions && shadow_count > 0) {
                o->merged_exceptions = true;
                o->shadow = false;
        }
        int r = start(o, o->upper_fd, owner, ret_path);
        if (r < 0) {
                overlay_free(o);
                return r;
        }
        *ret = o;
        return 0;
}

int overlay_start_merged_detached(const char *owner, int lower, const char *dir, int upper,
                                  bool read_only, bool merged_exceptions, char *const *shadow,
                                  size_t shadow_count, struct overlay_instance **ret,
                                  int *ret_mount, const char **ret_path)
{
        int own = fcntl(upper, F_DUPFD_CLOEXEC, 3);
        if (own < 0)
                return negative_errno();
        struct overlay_instance *o = merged_instance(dir, own, read_only, shadow, shadow_count);
        if (!o)
                return -ENOMEM;
        o->merged_exceptions = merged_exceptions;
        if (merged_exceptions)
                o->shadow = false;
        int r = serve(o, lower, o->upper_fd, owner, ret_mount, ret_path);
        if (r < 0) {
                overlay_free(o);
                return r;
        }
        *ret = o;
        return 0;
}

int overlay_lower_type(const struct overlay_instance *o, const char *relative_path, bool follow)
{
        if (o->lower_fd < 0)
                return -EBADF;
        struct stat st;
        int flags = (follow ? 0 : AT_SYMLINK_NOFOLLOW) | (*relative_path ? 0 : AT_EMPTY_PATH);
        /* A merged view shows B's object where B has one (S12). This asks B's path as
         * a whole: a name below one of V's directories that B lacks is V's. */
        if (o->merged && o->upper_fd >= 0 && fstatat(o->upper_fd, relative_path, &st, flags) == 0)
                return S_ISDIR(st.st_mode)   ? PROBE_DIRECTORY
                       : S_ISLNK(st.st_mode) ? PROBE_SYMLINK
                                             : PROBE_FILE;
        if (fstatat(o->lower_fd, relative_path, &st, flags) < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? PROBE_MISSING
                                                                             : negative_errno();
        return S_ISDIR(st.st_mode)   ? PROBE_DIRECTORY
               : S_ISLNK(st.st_mode) ? PROBE_SYMLINK
                                     : PROBE_FILE;
}

/* How long a server may take to say it changed its entries. */
#define CONTROL_TIMEOUT_MS 2000

/* Wait until fd is ready for events (the deadline on CLOCK_MONOTONIC, ms). */
static int wait_ready(int fd, short events, uint64_t deadline_ms)
{
        for (;;) {
                struct timespec now;
                (void)clock_gettime(CLOCK_MONOTONIC, &now);
                uint64_t ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
                if (ms >= deadline_ms)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = events};
                int n = poll(&p, 1, (int)(deadline_ms - ms));
                if (n < 0 && errno != EINTR)
                        return negative_errno();
                if (n > 0)
                        return p.revents & (POLLERR | POLLHUP) && !(p.revents & events) ? -EPIPE
                                                                                        : 0;
        }
}

/* One control packet: a kind ('d', 'f', 'h', or '-' for no entry) and a name; "." ends
 * a change (the server then answers "ok"). */
static int send_packet(int fd, char kind, const char *name, uint64_t deadline_ms)
{
        char packet[1 + NAME_MAX + 1];
        size_t len = name ? strlen(name) : 0;
        if (len > NAME_MAX)
                return -ENAMETOOLONG;
        packet[0] = kind;
        memcpy(packet + 1, name ? name : "", len);
        for (;;) {
                ssize_t n = send(fd, packet, 1 + len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n == (ssize_t)(1 + len))
                        return 0;
                if (n >= 0)
                        return -EIO;
                if (errno != EAGAIN && errno != EINTR)
                        return negative_errno();
                int r = wait_ready(fd, POLLOUT, deadline_ms);
                if (r < 0)
                        return r;
        }
}

static char kind_of(const struct overlay_instance *o, const char *name)
{
        for (size_t i = 0; i < o->count; i++)
                if (strcmp(o->names[i], name) == 0)
                        return o->kinds[i];
        return '-';
}

int overlay_update_entries(struct overlay_instance *o, char *const *names, const char *kinds,
                           size_t count)
{
        if (o->control_fd < 0)
                return -ENOTCONN;
        struct overlay_instance *want = overlay_new(o->dir, names, kinds, count);
        if (!want)
                return -ENOMEM;
        struct timespec now;
        (void)clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t deadline =
                (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000 + CONTROL_TIMEOUT_MS;
        /* An answer left over from a change that timed out is not this one's. */
        char stale[16];
        while (recv(o->control_fd, stale, sizeof stale, MSG_DONTWAIT) > 0)
                ;
        int r = 0;
        size_t changes = 0;
        for (size_t i = 0; i < o->count && r >= 0; i++)
                if (kind_of(want, o->names[i]) == '-') {
                        r = send_packet(o->control_fd, '-', o->names[i], deadline);
                        changes++;
                }
        for (size_t i = 0; i < count && r >= 0; i++)
                if (kind_of(o, names[i]) != kinds[i]) {
                        r = send_packet(o->control_fd, kinds[i], names[i], deadline);
                        changes++;
                }
        if (r >= 0 && changes == 0) {
                overlay_free(want);
                return 0;
        }
        if (r >= 0)
                r = send_packet(o->control_fd, '.', NULL, deadline);
        char answer[16];
        while (r >= 0) {
                r = wait_ready(o->control_fd, POLLIN, deadline);
                if (r < 0)
                        break;
                ssize_t n = recv(o->control_fd, answer, sizeof answer, MSG_DONTWAIT);
                if (n == 0)
                        r = -EPIPE;
                else if (n < 0 && errno != EAGAIN && errno != EINTR)
                        r = negative_errno();
                else if (n == 2 && memcmp(answer, "ok", 2) == 0)
                        break;
                else if (n > 0)
                        r = -EPROTO;
        }
        if (r >= 0) {
                /* The instance takes the new entries. */
                char **old_names = o->names, *old_kinds = o->kinds;
                size_t old_count = o->count;
                o->names = want->names;
                o->kinds = want->kinds;
                o->count = want->count;
                want->names = old_names;
                want->kinds = old_kinds;
                want->count = old_count;
        }
        overlay_free(want);
        return r;
}

int overlay_add_graft(struct overlay_instance *o, uint64_t legacy_id)
{
        uint64_t *grown = realloc(o->graft_ids, (o->graft_count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        o->graft_ids = grown;
        o->graft_ids[o->graft_count++] = legacy_id;
        return 0;
}

bool overlay_hosts_foreign_mounts(struct overlay_instance *o)
{
        for (size_t i = 0; i < o->foreign_count; i++)
                free(o->foreign_targets[i]);
        o->foreign_count = 0;
        if (o->merged || o->legacy_mount_id == 0)
                return false;
        struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
        struct libmnt_iter *it = tb ? mnt_new_iter(MNT_ITER_FORWARD) : NULL;
        struct libmnt_fs *fs;
        while (it && mnt_table_next_fs(tb, it, &fs) == 0) {
                if ((uint64_t)mnt_fs_get_parent_id(fs) != o->legacy_mount_id)
                        continue;
                uint64_t id = (uint64_t)mnt_fs_get_id(fs);
                bool graft = false;
                for (size_t i = 0; i < o->graft_count && !graft; i++)
                        graft = o->graft_ids[i] == id;
                const char *target = mnt_fs_get_target(fs);
                if (graft || !target)
                        continue;
                char **grown = realloc(o->foreign_targets, (o->foreign_count + 1) * sizeof *grown);
                char *copy = strdup(target);
                if (!grown || !copy) {
                        free(copy);
                        if (grown)
                                o->foreign_targets = grown;
                        break;
                }
                o->foreign_targets = grown;
                o->foreign_targets[o->foreign_count++] = copy;
        }
        mnt_free_iter(it);
        mnt_unref_table(tb);
        return o->foreign_count > 0;
}

bool overlay_serves_sockets(struct overlay_instance *o)
{
        if (o->control_fd < 0)
                return false;
        struct timespec now;
        (void)clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t deadline =
                (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000 + CONTROL_TIMEOUT_MS;
        char answer[16];
        while (recv(o->control_fd, answer, sizeof answer, MSG_DONTWAIT) > 0)
                ;
        if (send_packet(o->control_fd, '?', NULL, deadline) < 0)
                return false;
        for (;;) {
                if (wait_ready(o->control_fd, POLLIN, deadline) < 0)
                        return false;
                ssize_t n = recv(o->control_fd, answer, sizeof answer, MSG_DONTWAIT);
                if (n == 4)
                        return memcmp(answer, "busy", 4) == 0;
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                        return false;
        }
}

int overlay_stop(struct overlay_instance *o)
{
        o->retiring = true;
        int r = mount_detach_link(o->dir, o->mount_id);
        (void)overlay_reap(o);
        return r;
}

bool overlay_reap(struct overlay_instance *o)
{
        if (o->pidfd < 0)
                return true;
        siginfo_t info = {0};
        if (waitid((idtype_t)P_PIDFD, (id_t)o->pidfd, &info, WEXITED | WNOHANG) < 0)
                return errno == ECHILD; /* not our child (adopted): pidfd readable = gone */
        return info.si_pid != 0;
}

bool overlay_adopt(struct overlay_instance *o, uint64_t beneath)
{
        uint64_t top;
        if (mount_id_at(o->dir, &top) < 0 || (top != o->mount_id && beneath != o->mount_id))
                return false;
        int pidfd = pidfd_open(o->pid, 0);
        if (pidfd < 0)
                return false;
        if (overlay_process_start_time(o->pid) != o->start_time) {
                (void)close(pidfd);
                return false;
        }
        o->pidfd = pidfd;
        _cleanup_close_ int at = place_open(NULL, AT_FDCWD, o->dir, false);
        if (top == o->mount_id && at >= 0)
                (void)mount_legacy_id_of_fd(at, &o->legacy_mount_id);
        /* The server holds the lower directory as its fd 4, and a merged view's upper
         * one as fd 5 — or a parent overlay our end of its control socket as fd 6. */
        o->lower_fd = pidfd_getfd(pidfd, 4, 0);
        if (o->merged)
                o->upper_fd = pidfd_getfd(pidfd, 5, 0);
        else
                o->control_fd = pidfd_getfd(pidfd, 6, 0);
        return true;
}
