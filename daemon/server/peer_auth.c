/* peer_auth.c — the sender of one message, and the privilege check of S2's first row
 * (see peer_auth.h). */
#include "peer_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef PIDFS_IOCTL_MAGIC
#define PIDFS_IOCTL_MAGIC 0xFF
#endif
#ifndef PIDFD_GET_USER_NAMESPACE
#define PIDFD_GET_USER_NAMESPACE _IO(PIDFS_IOCTL_MAGIC, 9)
#endif
#ifndef AT_SECURE
#define AT_SECURE 23
#endif

/* ---- pure parts ------------------------------------------------------------------ */

static const char *status_line(const char *text, const char *key)
{
        size_t n = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, key, n) == 0)
                        return p + n;
        return NULL;
}

/* Four decimal ids after key (Uid:/Gid: lines). */
static int parse_ids(const char *text, const char *key, unsigned long ret[4])
{
        const char *p = status_line(text, key);
        if (!p)
                return -EINVAL;
        for (int i = 0; i < 4; i++) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                char *end;
                errno = 0;
                unsigned long v = strtoul(p, &end, 10);
                if (errno || v > UINT32_MAX)
                        return -EINVAL;
                ret[i] = v;
                p = end;
        }
        return 0;
}

int peer_status_parse(const char *text, struct peer_status *ret)
{
        unsigned long uids[4], gids[4];
        int r = parse_ids(text, "Uid:", uids);
        if (r >= 0)
                r = parse_ids(text, "Gid:", gids);
        const char *g = r >= 0 ? status_line(text, "Groups:") : NULL;
        if (r < 0 || !g)
                return -EINVAL;
        gid_t *groups = NULL;
        size_t count = 0;
        for (;;) {
                while (*g == ' ' || *g == '\t')
                        g++;
                if (*g == '\n' || *g == '\0')
                        break;
                if (*g < '0' || *g > '9') {
                        free(groups);
                        return -EINVAL;
                }
                char *end;
                errno = 0;
                unsigned long v = strtoul(g, &end, 10);
                if (errno || v > UINT32_MAX || count >= 65536) {
                        free(groups);
                        return -EINVAL;
                }
                gid_t *grown = realloc(groups, (count + 1) * sizeof *grown);
                if (!grown) {
                        free(groups);
                        return -ENOMEM;
                }
                groups = grown;
                groups[count++] = (gid_t)v;
                g = end;
        }
        for (int i = 0; i < 4; i++) {
                ret->uids[i] = (uid_t)uids[i];
                ret->gids[i] = (gid_t)gids[i];
        }
        ret->groups = groups;
        ret->group_count = count;
        return 0;
}

int peer_auxv_secure(const void *auxv, size_t len)
{
        const unsigned char *p = auxv;
        for (size_t off = 0; off + 2 * sizeof(uint64_t) <= len; off += 2 * sizeof(uint64_t)) {
                uint64_t type, value;
                memcpy(&type, p + off, sizeof type);
                memcpy(&value, p + off + sizeof type, sizeof value);
                if (type == 0) /* AT_NULL ends the vector */
                        break;
                if (type == AT_SECURE)
                        return value != 0;
        }
        return -1;
}

static bool all_equal(const unsigned *ids, unsigned to)
{
        for (int i = 0; i < 4; i++)
                if (ids[i] != to)
                        return false;
        return true;
}

static bool has_group(const struct peer_facts *f, gid_t group)
{
        if (f->sent_gid == group)
                return true;
        for (size_t i = 0; i < f->group_count; i++)
                if (f->groups[i] == group)
                        return true;
        return false;
}

int peer_decide(const struct peer_facts *f, gid_t allowed_group, struct caller *ret)
{
        ret->may_change_links = false;
        ret->why_not[0] = '\0';
        ret->creds = (struct creds){.uid = f->sent_uid, .gid = f->sent_gid};
        const char *why = NULL;
        unsigned uids[4], gids[4];
        for (int i = 0; i < 4; i++) {
                uids[i] = f->uids[i];
                gids[i] = f->gids[i];
        }
        /* The ids it sent with must be the ones it has through and through: a
         * setuid or setgid program (run after sending, or sending itself) has
         * others. */
        bool ids_consistent = f->known && all_equal(uids, f->sent_uid) &&
                              all_equal(gids, f->sent_gid);
        /* Privileges its program gave it by exec count only for root itself (a
         * program given capabilities by a file, run by a user after sending, would
         * otherwise lend them). Unknown counts as given. */
        bool exec_lends = f->secure_exec != 0;
        bool admin = f->known && ids_consistent && f->same_user_ns && f->sys_admin &&
                     (f->sent_uid == 0 || !exec_lends);
        bool member = f->known && ids_consistent && !exec_lends &&
                      allowed_group != (gid_t)-1 && has_group(f, allowed_group);
        if (!f->known)
                why = "it could not be identified (it ended, or runs outside bindlinkd's "
                      "pid namespace)";
        else if (!ids_consistent)
                why = "it runs with other user or group ids than it sent with (a setuid or "
                      "setgid program)";
        else if (f->sys_admin && !f->same_user_ns)
                why = "its CAP_SYS_ADMIN is in a user namespace of its own, not bindlinkd's";
        else if (f->sys_admin && exec_lends)
                why = "its CAP_SYS_ADMIN comes from the program it runs (file capabilities), "
                      "not from its user";
        else if (!admin && !member)
                why = allowed_group != (gid_t)-1
                              ? "it has neither CAP_SYS_ADMIN nor the group bindlinkd allows"
                              : "it has no CAP_SYS_ADMIN";
        ret->admin = false;
        if (admin || member) {
                ret->may_change_links = true;
                ret->admin = admin;
                ret->creds.privileged = admin && f->dac_caps == (CREDS_DAC_OVERRIDE |
                                                                 CREDS_DAC_READ_SEARCH);
                ret->creds.dac_caps = f->dac_caps;
                if (f->group_count > 0) {
                        ret->creds.groups = malloc(f->group_count * sizeof(gid_t));
                        if (!ret->creds.groups) {
                                ret->may_change_links = false;
                                ret->admin = false;
                                return -ENOMEM;
                        }
                        memcpy(ret->creds.groups, f->groups, f->group_count * sizeof(gid_t));
                        ret->creds.group_count = f->group_count;
                }
        } else {
                (void)snprintf(ret->why_not, sizeof ret->why_not, "%s", why);
        }
        return 0;
}

/* ---- reading the sender --------------------------------------------------------- */

static int read_all_at(int dir_fd, const char *name, char *buf, size_t size, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        size_t got = 0;
        while (got < size - 1) {
                ssize_t n = read(fd, buf + got, size - 1 - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        buf[got] = '\0';
        *ret_len = got;
        return 0;
}

static bool same_inode(int fd, const struct stat *ours)
{
        struct stat st;
        return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == ours->st_dev &&
               st.st_ino == ours->st_ino;
}

/* Is the process (pidfd, or its /proc directory) in our user namespace? */
static bool in_our_user_ns(int pidfd, int proc_dir)
{
        struct stat ours;
        if (stat("/proc/self/ns/user", &ours) < 0)
                return false;
        _cleanup_close_ int ns = (int)ioctl(pidfd, PIDFD_GET_USER_NAMESPACE, 0);
        if (ns < 0) /* before Linux 6.11 */
                ns = openat(proc_dir, "ns/user", O_RDONLY | O_CLOEXEC);
        return same_inode(ns, &ours);
}

static void read_caps(pid_t pid, struct peer_facts *f)
{
        cap_t caps = cap_get_pid(pid);
        if (!caps)
                return;
        cap_flag_value_t v;
        if (cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
                f->sys_admin = true;
        if (cap_get_flag(caps, CAP_DAC_OVERRIDE, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
                f->dac_caps |= CREDS_DAC_OVERRIDE;
        if (cap_get_flag(caps, CAP_DAC_READ_SEARCH, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
                f->dac_caps |= CREDS_DAC_READ_SEARCH;
        (void)cap_free(caps);
}

/* EPERM says it is there too: another user's process may be signalled only with
 * CAP_KILL, which the unit's bounding set does not give. */
static bool still_alive(int pidfd)
{
        return pidfd_send_signal(pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

int peer_identify_sender(pid_t pid, uid_t sent_uid, gid_t sent_gid, int pidfd,
                         gid_t allowed_group, struct caller *ret)
{
        struct peer_facts f = {.sent_uid = sent_uid, .sent_gid = sent_gid, .secure_exec = -1};
        struct peer_status status = {0};
        ret->pid = pid;
        /* Everything is read through /proc/PID while the pidfd proves PID is still
         * the sender: a directory opened then keeps naming that process (or fails)
         * even if the pid is reused afterwards. */
        char path[64];
        (void)snprintf(path, sizeof path, "/proc/%d", (int)pid);
        _cleanup_close_ int proc_dir = pid > 0 && pidfd >= 0
                                               ? open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)
                                               : -1;
        if (proc_dir >= 0 && still_alive(pidfd)) {
                char text[8192];
                size_t len;
                unsigned char auxv[4096];
                size_t auxv_len = 0;
                /* The capabilities first, then the ids, then the program: the sender
                 * may be exec'ing a setuid or file-capability program meanwhile, and
                 * privileges only come with that exec. Capabilities seen from after
                 * it are then always judged with the ids and AT_SECURE of after it
                 * (which give it away); read the other way round, the ids and
                 * AT_SECURE of before it with the capabilities of after it made an
                 * administrator of nobody (hostile.sh: 1 create in 24 got through). */
                read_caps(pid, &f);
                bool status_ok = read_all_at(proc_dir, "status", text, sizeof text, &len) >= 0 &&
                                 peer_status_parse(text, &status) >= 0;
                /* Needs ptrace access (root with CAP_SYS_PTRACE): unreadable counts as
                 * "privileges given by exec" (peer_decide). */
                if (read_all_at(proc_dir, "auxv", (char *)auxv, sizeof auxv, &auxv_len) >= 0)
                        f.secure_exec = peer_auxv_secure(auxv, auxv_len);
                f.same_user_ns = in_our_user_ns(pidfd, proc_dir);
                /* Read while it lived: then all of it was its. */
                f.known = status_ok && still_alive(pidfd);
        }
        for (int i = 0; i < 4; i++) {
                f.uids[i] = status.uids[i];
                f.gids[i] = status.gids[i];
        }
        f.groups = status.groups;
        f.group_count = status.group_count;
        int r = peer_decide(&f, allowed_group, ret);
        free(status.groups);
        return r;
}

void caller_done(struct caller *caller)
{
        creds_done(&caller->creds);
}
