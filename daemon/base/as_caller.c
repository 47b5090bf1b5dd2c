/* as_caller.c — lookups with a link creator's rights (see as_caller.h).
 *
 * bindlinkd is single-threaded: the filesystem ids, groups and effective
 * capabilities set here are this thread's for the few calls in between, and
 * restored before anything else runs. */
#include "as_caller.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct as_caller_saved {
        cap_t caps;
        gid_t *groups;
        int group_count;
};

/* The capabilities that decide lookups and access checks: off while acting as a
 * creator, but for the DAC ones the creator had. */
static const cap_value_t fs_caps[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE,   CAP_DAC_READ_SEARCH,
                                      CAP_FOWNER, CAP_FSETID,         CAP_LINUX_IMMUTABLE,
                                      CAP_MKNOD,  CAP_MAC_OVERRIDE};

static void saved_free(struct as_caller_saved *s)
{
        if (!s)
                return;
        if (s->caps)
                (void)cap_free(s->caps);
        free(s->groups);
        free(s);
}

int as_caller_enter(const struct creds *creds, struct as_caller_saved **ret_saved)
{
        *ret_saved = NULL;
        if (!creds || creds->privileged)
                return 0;
        struct as_caller_saved *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->caps = cap_get_proc();
        int n = getgroups(0, NULL);
        if (!s->caps || n < 0) {
                saved_free(s);
                return -ENOMEM;
        }
        s->groups = calloc((size_t)n + 1, sizeof(gid_t));
        if (!s->groups || (s->group_count = getgroups(n, s->groups)) < 0) {
                saved_free(s);
                return -ENOMEM;
        }
        cap_t acting = cap_dup(s->caps);
        int r = acting ? 0 : -ENOMEM;
        if (r == 0 &&
            cap_set_flag(acting, CAP_EFFECTIVE, (int)ELEMENTSOF(fs_caps), fs_caps, CAP_CLEAR) < 0)
                r = negative_errno();
        cap_value_t dac[2];
        int dac_count = 0;
        if (creds->dac_caps & CREDS_DAC_OVERRIDE)
                dac[dac_count++] = CAP_DAC_OVERRIDE;
        if (creds->dac_caps & CREDS_DAC_READ_SEARCH)
                dac[dac_count++] = CAP_DAC_READ_SEARCH;
        if (r == 0 && dac_count > 0 && cap_set_flag(acting, CAP_EFFECTIVE, dac_count, dac, CAP_SET) < 0)
                r = negative_errno();
        if (r == 0 && setgroups(creds->group_count, creds->groups) < 0)
                r = negative_errno();
        if (r == 0) {
                (void)setfsgid(creds->gid);
                (void)setfsuid(creds->uid);
                /* setfsuid/setfsgid report no error: ask again. */
                if ((uid_t)setfsuid((uid_t)-1) != creds->uid ||
                    (gid_t)setfsgid((gid_t)-1) != creds->gid)
                        r = -EPERM;
        }
        /* After the ids: setfsuid() changes the effective set itself. */
        if (r == 0 && cap_set_proc(acting) < 0)
                r = negative_errno();
        if (acting)
                (void)cap_free(acting);
        if (r < 0) {
                as_caller_leave(s);
                return r;
        }
        *ret_saved = s;
        return 0;
}

void as_caller_leave(struct as_caller_saved *s)
{
        if (!s)
                return;
        (void)setfsuid(geteuid());
        (void)setfsgid(getegid());
        if ((uid_t)setfsuid((uid_t)-1) != geteuid() || (gid_t)setfsgid((gid_t)-1) != getegid() ||
            setgroups((size_t)s->group_count, s->groups) < 0 || cap_set_proc(s->caps) < 0) {
                log_error_errno(errno, "stopping: cannot return to bindlinkd's own identity "
                                       "after a lookup as a link's creator");
                abort();
        }
        saved_free(s);
}

static int check_access(int fd)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* A symlink (an exception that is one) has no access of its own. */
        if (S_ISLNK(st.st_mode))
                return 0;
        int mode = S_ISDIR(st.st_mode) ? X_OK : R_OK;
        if (faccessat(fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0)
                return errno == EACCES || errno == EPERM ? -EACCES : negative_errno();
        return 0;
}

int as_caller_check(const struct creds *creds, int fd)
{
        struct as_caller_saved *saved;
        int r = as_caller_enter(creds, &saved);
        if (r < 0)
                return r;
        r = creds && creds->privileged ? 0 : check_access(fd);
        as_caller_leave(saved);
        return r;
}

int as_caller_open(const struct creds *creds, int dir_fd, const char *path, bool nofollow)
{
        struct as_caller_saved *saved;
        int r = as_caller_enter(creds, &saved);
        if (r < 0)
                return r;
        int fd = openat(dir_fd, path, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
        r = fd < 0 ? negative_errno() : 0;
        if (r == 0 && creds && !creds->privileged)
                r = check_access(fd);
        as_caller_leave(saved);
        if (r < 0) {
                if (fd >= 0)
                        (void)close(fd);
                return r;
        }
        return fd;
}

int place_open(const struct creds *creds, int dir_fd, const char *place, bool beneath)
{
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | (beneath ? RESOLVE_BENEATH : 0),
        };
        struct as_caller_saved *saved;
        int r = as_caller_enter(creds, &saved);
        if (r < 0)
                return r;
        int fd = (int)syscall(SYS_openat2, beneath ? dir_fd : AT_FDCWD, place, &how, sizeof how);
        r = fd < 0 ? negative_errno() : fd;
        as_caller_leave(saved);
        return r;
}
