/* scope_ns.c — finding the mount namespace of a scoped request (S23). */
#include "scope_ns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* <linux/nsfs.h> and <linux/pidfd.h> of this distribution predate these. */
#define NSIO 0xb7
#ifndef NS_GET_USERNS
#define NS_GET_USERNS _IO(NSIO, 0x1)
#endif
#ifndef NS_GET_PARENT
#define NS_GET_PARENT _IO(NSIO, 0x2)
#endif
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(NSIO, 0x3)
#endif
#ifndef NS_GET_MNTNS_ID
#define NS_GET_MNTNS_ID _IOR(NSIO, 0x5, uint64_t)
#endif
#ifndef PIDFD_GET_MNT_NAMESPACE
#define PIDFD_GET_MNT_NAMESPACE _IO(0xFF, 3)
#endif

static int fail(char *why, size_t n, int r, const char *fmt, const char *arg)
{
        (void)snprintf(why, n, fmt, arg);
        return r;
}

int scope_ns_id(int nsfd, uint64_t *ret_id)
{
        uint64_t id;
        if (ioctl(nsfd, NS_GET_MNTNS_ID, &id) < 0)
                return negative_errno();
        *ret_id = id;
        return 0;
}

/* The pid behind a pidfd ("Pid:" in its fdinfo): > 0, or -ESRCH once it ended. */
static pid_t pidfd_pid(int pidfd)
{
        char path[64], buf[4096];
        (void)snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        const char *p = strstr(buf, "\nPid:");
        long pid = p ? strtol(p + 5, NULL, 10) : 0;
        return pid > 0 ? (pid_t)pid : -ESRCH;
}

int scope_ns_of_pidfd(int pidfd)
{
        int fd = ioctl(pidfd, PIDFD_GET_MNT_NAMESPACE, 0);
        return fd < 0 ? negative_errno() : fd;
}

/* ns from a pidfd: the kernel's own ioctl, so no pid can be reused in between. */
static int from_pidfd(int pidfd, struct scope_ns *ns, char *why, size_t n)
{
        ns->pid = pidfd_pid(pidfd);
        if (ns->pid < 0)
                return fail(why, n, -ESRCH, "%s", "the target process has ended");
        ns->nsfd = ioctl(pidfd, PIDFD_GET_MNT_NAMESPACE, 0);
        if (ns->nsfd < 0) {
                int r = negative_errno();
                return fail(why, n, r == -ESRCH ? -ESRCH : r,
                            "cannot find the target process's mount namespace: %s", strerror(-r));
        }
        ns->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
        return ns->pidfd < 0 ? negative_errno() : 0;
}

int scope_ns_find_process(uint64_t id, pid_t *ret_pid)
{
        DIR *proc = opendir("/proc");
        if (!proc)
                return negative_errno();
        int found = -ESRCH;
        for (struct dirent *de; found < 0 && (de = readdir(proc));) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end || pid <= 0)
                        continue;
                int pidfd = pidfd_open((pid_t)pid, 0);
                if (pidfd < 0)
                        continue;
                int nsfd = ioctl(pidfd, PIDFD_GET_MNT_NAMESPACE, 0);
                uint64_t its;
                bool same = nsfd >= 0 && scope_ns_id(nsfd, &its) == 0 && its == id;
                if (nsfd >= 0)
                        (void)close(nsfd);
                if (same) {
                        *ret_pid = (pid_t)pid;
                        found = pidfd;
                } else {
                        (void)close(pidfd);
                }
        }
        (void)closedir(proc);
        return found;
}

int scope_ns_open(const struct wire_target *target, int fd, struct scope_ns *ret, char *why,
                  size_t why_size)
{
        struct scope_ns ns = {.nsfd = -1, .pidfd = -1};
        int r;
        switch (target->kind) {
        case WIRE_TARGET_PIDFD:
                r = from_pidfd(fd, &ns, why, why_size);
                break;
        case WIRE_TARGET_PID: {
                _cleanup_close_ int pidfd = pidfd_open(target->pid, 0);
                if (pidfd < 0) {
                        r = negative_errno();
                        (void)snprintf(why, why_size, "no process %d: %s", (int)target->pid,
                                       strerror(-r));
                        break;
                }
                r = from_pidfd(pidfd, &ns, why, why_size);
                break;
        }
        case WIRE_TARGET_NSFD: {
                int type = ioctl(fd, NS_GET_NSTYPE);
                if (type != CLONE_NEWNS) {
                        r = fail(why, why_size, -EINVAL, "%s",
                                 "the target descriptor is not a mount namespace");
                        break;
                }
                ns.nsfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (ns.nsfd < 0) {
                        r = negative_errno();
                        break;
                }
                /* A namespace lives while a process is in it: the link lives as long
                 * (held by nothing else, so its filesystems are never kept busy). */
                uint64_t id;
                r = scope_ns_id(ns.nsfd, &id);
                if (r >= 0 && (r = scope_ns_find_process(id, &ns.pid)) >= 0) {
                        ns.pidfd = r;
                        r = 0;
                } else if (r == -ESRCH) {
                        (void)snprintf(why, why_size,
                                       "no process lives in the target mount namespace");
                }
                break;
        }
        default:
                r = fail(why, why_size, -EINVAL, "%s", "the request names no namespace");
                break;
        }
        if (r >= 0 && (r = scope_ns_id(ns.nsfd, &ns.id)) < 0)
                (void)snprintf(why, why_size, "cannot read the mount namespace's id: %s",
                               strerror(-r));
        if (r < 0) {
                scope_ns_done(&ns);
                if (!why[0])
                        (void)snprintf(why, why_size, "%s", strerror(-r));
                return r;
        }
        *ret = ns;
        return 0;
}

void scope_ns_done(struct scope_ns *ns)
{
        if (ns->nsfd >= 0)
                (void)close(ns->nsfd);
        if (ns->pidfd >= 0)
                (void)close(ns->pidfd);
        ns->nsfd = ns->pidfd = -1;
}

int scope_ns_authorize(const struct scope_ns *ns, bool *ret_own_userns, char *why, size_t why_size)
{
        struct stat ours;
        if (stat("/proc/self/ns/user", &ours) < 0)
                return negative_errno();
        /* Walk up from the user namespace that owns the target: the kernel refuses to
         * go above the caller's own (EPERM), so reaching ours is the only success. */
        int cur = ioctl(ns->nsfd, NS_GET_USERNS);
        if (cur < 0)
                return negative_errno();
        for (int depth = 0; depth < 64; depth++) {
                struct stat st;
                if (fstat(cur, &st) < 0) {
                        int r = negative_errno();
                        (void)close(cur);
                        return r;
                }
                if (st.st_dev == ours.st_dev && st.st_ino == ours.st_ino) {
                        (void)close(cur);
                        *ret_own_userns = depth == 0;
                        return 0;
                }
                int parent = ioctl(cur, NS_GET_PARENT);
                (void)close(cur);
                if (parent < 0)
                        break;
                cur = parent;
        }
        (void)snprintf(why, why_size,
                       "the target mount namespace belongs to a user namespace "
                       "outside bindlinkd's");
        return -EPERM;
}
