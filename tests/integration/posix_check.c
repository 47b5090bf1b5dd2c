/* posix_check — runs a fixed, deterministic list of POSIX filesystem cases (the error
 * and success cases of open, creat, mkdir, rmdir, unlink, rename, link, symlink, chmod,
 * chown, truncate and utimensat that suites like pjdfstest check) inside one directory
 * and prints one line per case, so that a run directly in a backing directory and a run
 * through a link can be compared with diff (tests/integration/posix.sh).
 *
 *   posix_check --prepare DIR   as root, in an empty DIR: make the foreign/ fixtures
 *                               (objects owned by root and by other users)
 *   posix_check DIR             run the cases; DIR must hold nothing but foreign/ (as
 *                               root, an empty DIR is prepared first)
 *   posix_check --chain-trials N DIR
 *                               in an empty DIR, only the symlink chain cases, N times
 *                               each; one line per case with how often each answer came
 *                               (posix.sh runs them under load)
 *
 * A line is "case: OK [key=value...]", "case: ERRNO [key=value...]" or, for a relation,
 * "case: value". No line holds an inode number, device, time or anything else that
 * legitimately differs between two directories; only relations between them. The same
 * cases run whoever runs them; results differ between root and an unprivileged user,
 * and are compared per user. Exit status: 0 done, 1 some fixture could not be made
 * (reported as "setup ..." lines), 2 refused. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* renameat2, O_TMPFILE, O_NOATIME; the build passes -D_GNU_SOURCE */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The unprivileged user the fixtures name (nobody), and a third user who is neither
 * root nor that user (daemon). */
#define USER_UID 65534
#define USER_GID 65534
#define THIRD_UID 1
#define THIRD_GID 1

#define PAST 1000000000 /* a fixed time to set before checking that an operation moves it */

static int setup_failures;

/* ---- output -------------------------------------------------------------------------- */

/* The errno values a case can plausibly give, by name. */
#define ERRNO_NAME(e) [e] = #e
static const char *const errno_names[] = {
        ERRNO_NAME(EPERM),        ERRNO_NAME(ENOENT),   ERRNO_NAME(ESRCH),
        ERRNO_NAME(EINTR),        ERRNO_NAME(EIO),      ERRNO_NAME(ENXIO),
        ERRNO_NAME(E2BIG),        ERRNO_NAME(EBADF),    ERRNO_NAME(EAGAIN),
        ERRNO_NAME(ENOMEM),       ERRNO_NAME(EACCES),   ERRNO_NAME(EFAULT),
        ERRNO_NAME(EBUSY),        ERRNO_NAME(EEXIST),   ERRNO_NAME(EXDEV),
        ERRNO_NAME(ENODEV),       ERRNO_NAME(ENOTDIR),  ERRNO_NAME(EISDIR),
        ERRNO_NAME(EINVAL),       ERRNO_NAME(ENFILE),   ERRNO_NAME(EMFILE),
        ERRNO_NAME(ENOTTY),       ERRNO_NAME(ETXTBSY),  ERRNO_NAME(EFBIG),
        ERRNO_NAME(ENOSPC),       ERRNO_NAME(ESPIPE),   ERRNO_NAME(EROFS),
        ERRNO_NAME(EMLINK),       ERRNO_NAME(EPIPE),    ERRNO_NAME(ERANGE),
        ERRNO_NAME(ENAMETOOLONG), ERRNO_NAME(ENOSYS),   ERRNO_NAME(ENOTEMPTY),
        ERRNO_NAME(ELOOP),        ERRNO_NAME(ENODATA),  ERRNO_NAME(EOVERFLOW),
        ERRNO_NAME(EOPNOTSUPP),   ERRNO_NAME(ENOTCONN), ERRNO_NAME(ECONNABORTED),
        ERRNO_NAME(ESTALE),       ERRNO_NAME(EDQUOT),   ERRNO_NAME(EUCLEAN),
        ERRNO_NAME(EPROTO),
};

static const char *errno_name(int e)
{
        static char other[32];
        if (e >= 0 && (size_t)e < sizeof errno_names / sizeof *errno_names && errno_names[e])
                return errno_names[e];
        snprintf(other, sizeof other, "E#%d", e);
        return other;
}

/* Every case name is printed once; a duplicate is a bug in this program. */
static char **names_seen;
static size_t names_count;

static void claim_name(const char *name)
{
        for (size_t i = 0; i < names_count; i++)
                if (strcmp(names_seen[i], name) == 0) {
                        fprintf(stderr, "posix_check: duplicate case name %s\n", name);
                        exit(2);
                }
        names_seen = realloc(names_seen, (names_count + 1) * sizeof *names_seen);
        if (!names_seen || !(names_seen[names_count] = strdup(name))) {
                perror("posix_check");
                exit(2);
        }
        names_count++;
}

/* result NAME ERR [FMT...]: "NAME: OK" when ERR is 0, else "NAME: ERRNO", then extras. */
__attribute__((format(printf, 3, 4))) static void result(const char *name, int err, const char *fmt,
                                                         ...)
{
        claim_name(name);
        printf("%s: %s", name, err ? errno_name(err) : "OK");
        if (fmt) {
                va_list ap;
                va_start(ap, fmt);
                putchar(' ');
                vprintf(fmt, ap);
                va_end(ap);
        }
        putchar('\n');
}

/* fact NAME FMT...: "NAME: value", for relations (e.g. "hardlink-same-ino: yes"). */
__attribute__((format(printf, 2, 3))) static void fact(const char *name, const char *fmt, ...)
{
        claim_name(name);
        va_list ap;
        va_start(ap, fmt);
        printf("%s: ", name);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

/* E(rc): the errno of a call returning -1 on failure, 0 on success. */
static int E(long rc)
{
        return rc < 0 ? errno : 0;
}

static const char *yesno(bool b)
{
        return b ? "yes" : "no";
}

static const char *outcome(int err)
{
        return err ? errno_name(err) : "OK";
}

/* ---- facts about paths (rotating buffers, so several fit in one printf) ------------- */

static char *scratch(void)
{
        static char pool[24][640];
        static unsigned next;
        return pool[next++ % 24];
}

static const char *type_name(mode_t m)
{
        return S_ISREG(m)    ? "file"
               : S_ISDIR(m)  ? "dir"
               : S_ISLNK(m)  ? "symlink"
               : S_ISFIFO(m) ? "fifo"
               : S_ISSOCK(m) ? "socket"
               : S_ISCHR(m)  ? "chr"
               : S_ISBLK(m)  ? "blk"
                             : "unknown";
}

static const char *id_name(unsigned id, unsigned self)
{
        char *b = scratch();
        if (id == self)
                return "self";
        snprintf(b, 640, "%u", id);
        return b;
}

/* The lstat fields worth comparing, as one string ("type=file mode=0644 ..."), or the
 * errno name when lstat fails. Directory sizes are left out (filesystem-specific). */
static const char *desc(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno_name(errno);
        char *b = scratch();
        int n = snprintf(b, 640, "type=%s mode=%04o", type_name(st.st_mode),
                         (unsigned)(st.st_mode & 07777));
        if (!S_ISDIR(st.st_mode))
                n += snprintf(b + n, 640 - n, " size=%lld", (long long)st.st_size);
        snprintf(b + n, 640 - n, " nlink=%lu owner=%s group=%s", (unsigned long)st.st_nlink,
                 id_name(st.st_uid, geteuid()), id_name(st.st_gid, getegid()));
        return b;
}

static const char *mode_of(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno_name(errno);
        char *b = scratch();
        snprintf(b, 640, "%04o", (unsigned)(st.st_mode & 07777));
        return b;
}

static const char *type_of(const char *path)
{
        struct stat st;
        return lstat(path, &st) < 0 ? errno_name(errno) : type_name(st.st_mode);
}

static const char *size_of(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno_name(errno);
        char *b = scratch();
        snprintf(b, 640, "%lld", (long long)st.st_size);
        return b;
}

static const char *nlink_of(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno_name(errno);
        char *b = scratch();
        snprintf(b, 640, "%lu", (unsigned long)st.st_nlink);
        return b;
}

static const char *owner_of(const char *path)
{
        struct stat st;
        return lstat(path, &st) < 0 ? errno_name(errno) : id_name(st.st_uid, geteuid());
}

static const char *group_of(const char *path)
{
        struct stat st;
        return lstat(path, &st) < 0 ? errno_name(errno) : id_name(st.st_gid, getegid());
}

static const char *exists(const char *path)
{
        struct stat st;
        if (lstat(path, &st) == 0)
                return "yes";
        return errno == ENOENT ? "no" : errno_name(errno);
}

/* Bytes as printable text: [A-Za-z0-9._-] as is, the rest as \xNN; at most 48 bytes. */
static const char *escaped(const char *data, size_t len)
{
        char *b = scratch();
        size_t o = 0;
        for (size_t i = 0; i < len && i < 48; i++) {
                unsigned char c = (unsigned char)data[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-')
                        b[o++] = (char)c;
                else
                        o += (size_t)snprintf(b + o, 640 - o, "\\x%02x", c);
        }
        if (len > 48)
                o += (size_t)snprintf(b + o, 640 - o, "...");
        b[o] = '\0';
        return o ? b : "''";
}

static const char *content_of(const char *path)
{
        char data[64];
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return errno_name(errno);
        ssize_t n = read(fd, data, sizeof data);
        int err = errno;
        close(fd);
        return n < 0 ? errno_name(err) : escaped(data, (size_t)n);
}

static const char *fd_content(int fd)
{
        char data[64];
        ssize_t n = pread(fd, data, sizeof data, 0);
        return n < 0 ? errno_name(errno) : escaped(data, (size_t)n);
}

static const char *link_of(const char *path)
{
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target);
        return n < 0 ? errno_name(errno) : escaped(target, (size_t)n);
}

/* Whether two paths name one object (lstat: same device and inode). */
static const char *same_object(const char *a, const char *b)
{
        struct stat sa, sb;
        if (lstat(a, &sa) < 0 || lstat(b, &sb) < 0)
                return errno_name(errno);
        return yesno(sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

static const char *mtime_is_past(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno_name(errno);
        return yesno(st.st_mtim.tv_sec == PAST && st.st_mtim.tv_nsec == 0);
}

static const char *mtime_moved(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno_name(errno);
        return yesno(!(st.st_mtim.tv_sec == PAST && st.st_mtim.tv_nsec == 0));
}

/* ---- ctime: remember it, wait until the clock has passed it, compare afterwards ------ */

struct ctime_mark {
        int err;
        struct timespec ctime;
};

static bool ts_after(struct timespec a, struct timespec b)
{
        return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

/* mark_ctime PATH: record PATH's ctime and return once the coarse clock (the one file
 * times come from) is past it, so that any later change gives a later ctime. */
static struct ctime_mark mark_ctime(const char *path)
{
        struct ctime_mark m = {0};
        struct stat st;
        if (lstat(path, &st) < 0) {
                m.err = errno;
                return m;
        }
        m.ctime = st.st_ctim;
        for (int i = 0; i < 1000; i++) {
                struct timespec now;
                clock_gettime(CLOCK_REALTIME_COARSE, &now);
                if (ts_after(now, m.ctime))
                        break;
                nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        }
        return m;
}

static const char *ctime_changed(const char *path, struct ctime_mark m)
{
        struct stat st;
        if (m.err)
                return errno_name(m.err);
        if (lstat(path, &st) < 0)
                return errno_name(errno);
        return yesno(st.st_ctim.tv_sec != m.ctime.tv_sec || st.st_ctim.tv_nsec != m.ctime.tv_nsec);
}

/* ---- fixtures: a failure is printed as a "setup" line, so it shows in the diff ------- */

static void setup_failed(const char *op, const char *path)
{
        printf("setup %s %s: %s\n", op, path, errno_name(errno));
        setup_failures++;
}

static void su_chmod(const char *path, mode_t mode)
{
        if (fchmodat(AT_FDCWD, path, mode, 0) < 0)
                setup_failed("chmod", path);
}

static void su_dir(const char *path, mode_t mode)
{
        if (mkdir(path, 0700) < 0)
                setup_failed("mkdir", path);
        else
                su_chmod(path, mode);
}

static void su_file(const char *path, mode_t mode, const char *content)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
                setup_failed("create", path);
                return;
        }
        size_t len = strlen(content);
        if (write(fd, content, len) != (ssize_t)len)
                setup_failed("write", path);
        if (fchmod(fd, mode) < 0)
                setup_failed("fchmod", path);
        close(fd);
}

static void su_symlink(const char *target, const char *path)
{
        if (symlink(target, path) < 0)
                setup_failed("symlink", path);
}

static void su_fifo(const char *path, mode_t mode)
{
        if (mkfifo(path, 0600) < 0)
                setup_failed("mkfifo", path);
        else
                su_chmod(path, mode);
}

static void su_link(const char *old, const char *new)
{
        if (link(old, new) < 0)
                setup_failed("link", new);
}

static void su_past(const char *path)
{
        struct timespec t[2] = {{.tv_sec = PAST}, {.tv_sec = PAST}};
        if (utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW) < 0)
                setup_failed("utimensat", path);
}

/* ---- helpers for the cases ------------------------------------------------------------ */

static int open_err(const char *path, int flags, mode_t mode)
{
        int fd = open(path, flags | O_CLOEXEC, mode);
        if (fd < 0)
                return errno;
        close(fd);
        return 0;
}

static int write_err(const char *path, const char *data)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        ssize_t n = write(fd, data, strlen(data));
        int err = n < 0 ? errno : 0;
        close(fd);
        return err;
}

static long nlink_num(const char *path)
{
        struct stat st;
        return lstat(path, &st) < 0 ? -1 : (long)st.st_nlink;
}

static const char *nlink_delta(const char *path, long before)
{
        long after = nlink_num(path);
        char *b = scratch();
        if (after < 0 || before < 0)
                return "unknown";
        snprintf(b, 640, "%+ld", after - before);
        return b;
}

/* NAME_MAX-long (and longer) names. */
static const char *long_name(size_t len)
{
        char *b = scratch();
        memset(b, 'n', len);
        b[len] = '\0';
        return b;
}

static const char *in(const char *dir, const char *name)
{
        char *b = scratch();
        snprintf(b, 640, "%s/%s", dir, name);
        return b;
}

/* A relative path of exactly LEN bytes naming DIR/LEAF, padded with "./". */
static char *path_of_length(size_t len, const char *dir, const char *leaf)
{
        char *p = malloc(len + 1);
        if (!p) {
                perror("posix_check");
                exit(2);
        }
        size_t o = (size_t)sprintf(p, "%s/", dir);
        size_t tail = strlen(leaf);
        while (o + 2 + tail <= len) {
                memcpy(p + o, "./", 2);
                o += 2;
        }
        while (o + tail < len)
                p[o++] = '/';
        memcpy(p + o, leaf, tail + 1);
        return p;
}

static int set_times(const char *path, long as, long ans, long ms, long mns, int flags)
{
        struct timespec t[2] = {{.tv_sec = as, .tv_nsec = ans}, {.tv_sec = ms, .tv_nsec = mns}};
        return E(utimensat(AT_FDCWD, path, t, flags));
}

static const char *times_are(const char *path, long as, long ans, long ms, long mns)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno_name(errno);
        return yesno(st.st_atim.tv_sec == as && st.st_atim.tv_nsec == ans &&
                     st.st_mtim.tv_sec == ms && st.st_mtim.tv_nsec == mns);
}

/* ---- open, creat ------------------------------------------------------------------------ */

/* open/chain/c00 -> c01 -> ... -> c40 -> ../file: from c01, 40 symlinks (as many as
 * a path walk may follow), from c00, 41 (one too many: ELOOP). */
static void chain_setup(void)
{
        su_dir("open/chain", 0755);
        for (int i = 0; i <= 40; i++) {
                char target[32], path[32];
                if (i < 40)
                        snprintf(target, sizeof target, "c%02d", i + 1);
                else
                        snprintf(target, sizeof target, "../file");
                snprintf(path, sizeof path, "open/chain/c%02d", i);
                su_symlink(target, path);
        }
}

/* Open a path of a symlink chain: 0 or the errno. Linux counts the symlinks of one
 * open in the nameidata and does not reset the count when a walk in RCU mode fails
 * to leave it (a mount or unmount anywhere on the system meanwhile, in any
 * namespace) and the walk starts again in ref mode: that open then counts the links
 * of the abandoned walk too, and a chain of 40 (of 21, even) gives ELOOP. Directly on
 * tmpfs that happened to 16-131 of 20,000 opens of open/chain/c01 while another
 * process mounted and unmounted in a loop; through a FUSE view, never: the walk
 * leaves RCU mode at the first FUSE symlink, whose READLINK needs a request, so it
 * starts again at most once there, early. So an ELOOP is asked again: one that
 * comes from the chain's length comes every time. */
#define CHAIN_TRIES 5
static int chain_open_err(const char *path)
{
        int e = open_err(path, O_RDONLY, 0);
        for (int i = 1; e == ELOOP && i < CHAIN_TRIES; i++)
                e = open_err(path, O_RDONLY, 0);
        return e;
}

static void open_setup(void)
{
        su_dir("open", 0755);
        su_file("open/file", 0644, "hello");
        su_dir("open/dir", 0755);
        su_file("open/dir/inner", 0644, "inner");
        su_symlink("file", "open/sym-file");
        su_symlink("dir", "open/sym-dir");
        su_symlink("dangling-target", "open/sym-dangling");
        su_symlink("made-by-creat", "open/sym-dangling-creat");
        su_symlink("loop2", "open/loop1");
        su_symlink("loop1", "open/loop2");
        su_symlink("self-loop", "open/self-loop");
        su_file("open/ro", 0444, "ro");
        su_file("open/wo", 0222, "wo");
        su_file("open/none", 0000, "none");
        su_file("open/trunc", 0644, "truncate-me");
        su_file("open/trunc-rdonly", 0644, "truncate-me");
        su_file("open/trunc-ro", 0444, "truncate-me");
        su_file("open/creat-existing", 0644, "keep");
        su_file("open/creat-trunc", 0644, "creat-truncates");
        su_file("open/append", 0644, "ab");
        su_file("open/append-pwrite", 0644, "ab");
        su_file("open/excl-no-creat", 0644, "x");
        su_file("open/suid", 04755, "x");
        su_file("open/sgid-gx", 02775, "x");
        su_file("open/sgid-nogx", 02664, "x");
        su_dir("open/noperm", 0755);
        su_file("open/noperm/f", 0644, "f");
        su_chmod("open/noperm", 0000);
        su_dir("open/nosearch", 0755);
        su_file("open/nosearch/f", 0644, "f");
        su_chmod("open/nosearch", 0644);
        su_dir("open/nowrite", 0755);
        su_file("open/nowrite/f", 0644, "f");
        su_chmod("open/nowrite", 0555);
        chain_setup();
        su_fifo("open/fifo", 0644);
        su_dir("open/tmp", 0755);
}

static void open_cases(void)
{
        int e, fd;

        fd = open("open/file", O_RDONLY | O_CLOEXEC);
        e = E(fd);
        result("open-rdonly-file", e, "content=%s", fd < 0 ? "-" : fd_content(fd));
        if (fd >= 0)
                close(fd);
        result("open-missing", open_err("open/missing", O_RDONLY, 0), NULL);
        result("open-missing-component", open_err("open/missing/f", O_RDONLY, 0), NULL);
        result("open-creat-missing-parent", open_err("open/missing/f", O_CREAT | O_WRONLY, 0644),
               NULL);
        result("open-file-as-component", open_err("open/file/x", O_RDONLY, 0), NULL);
        result("open-creat-file-as-component", open_err("open/file/x", O_CREAT | O_WRONLY, 0644),
               NULL);
        result("open-file-trailing-slash", open_err("open/file/", O_RDONLY, 0), NULL);
        result("open-empty-path", open_err("", O_RDONLY, 0), NULL);

        e = open_err("open/new", O_CREAT | O_WRONLY, 0644);
        result("open-creat-new", e, "%s", desc("open/new"));
        e = open_err("open/creat-existing", O_CREAT | O_WRONLY, 0600);
        result("open-creat-existing-keeps-content-and-mode", e, "%s content=%s",
               desc("open/creat-existing"), content_of("open/creat-existing"));
        result("open-creat-excl-existing", open_err("open/file", O_CREAT | O_EXCL | O_WRONLY, 0644),
               NULL);
        e = open_err("open/excl-new", O_CREAT | O_EXCL | O_RDWR, 0640);
        result("open-creat-excl-new", e, "%s", desc("open/excl-new"));
        e = open_err("open/sym-dangling", O_CREAT | O_EXCL | O_WRONLY, 0644);
        result("open-creat-excl-dangling-symlink", e, "target-made=%s",
               exists("open/dangling-target"));
        result("open-creat-excl-symlink-to-file",
               open_err("open/sym-file", O_CREAT | O_EXCL | O_WRONLY, 0644), NULL);
        e = open_err("open/sym-dangling-creat", O_CREAT | O_WRONLY, 0644);
        result("open-creat-dangling-symlink-makes-target", e, "target=%s",
               desc("open/made-by-creat"));
        result("open-creat-dir", open_err("open/dir", O_CREAT | O_RDONLY, 0644), NULL);
        e = open_err("open/newdir/", O_CREAT | O_WRONLY, 0644);
        result("open-creat-trailing-slash", e, "made=%s", exists("open/newdir"));
        result("open-excl-without-creat", open_err("open/excl-no-creat", O_EXCL | O_RDONLY, 0),
               NULL);
        result("open-wronly-dir", open_err("open/dir", O_WRONLY, 0), NULL);
        result("open-rdwr-dir", open_err("open/dir", O_RDWR, 0), NULL);
        result("open-rdonly-dir", open_err("open/dir", O_RDONLY, 0), NULL);
        result("open-directory-on-file", open_err("open/file", O_RDONLY | O_DIRECTORY, 0), NULL);
        result("open-directory-on-dir", open_err("open/dir", O_RDONLY | O_DIRECTORY, 0), NULL);
        result("open-directory-on-symlink-to-dir",
               open_err("open/sym-dir", O_RDONLY | O_DIRECTORY, 0), NULL);
        result("open-through-symlink-to-dir", open_err("open/sym-dir/inner", O_RDONLY, 0), NULL);
        result("open-symlink-to-dir-trailing-slash", open_err("open/sym-dir/", O_RDONLY, 0), NULL);
        result("open-follows-symlink", open_err("open/sym-file", O_RDONLY, 0), NULL);
        result("open-nofollow-symlink", open_err("open/sym-file", O_RDONLY | O_NOFOLLOW, 0), NULL);
        fd = open("open/sym-file", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        e = E(fd);
        result("open-path-nofollow-symlink", e, "type=%s",
               fd < 0               ? "-"
               : fstat(fd, &st) < 0 ? errno_name(errno)
                                    : type_name(st.st_mode));
        if (fd >= 0)
                close(fd);
        result("open-nofollow-file", open_err("open/file", O_RDONLY | O_NOFOLLOW, 0), NULL);
        result("open-nofollow-symlink-in-middle",
               open_err("open/sym-dir/inner", O_RDONLY | O_NOFOLLOW, 0), NULL);
        result("open-symlink-loop", open_err("open/loop1", O_RDONLY, 0), NULL);
        result("open-symlink-self-loop", open_err("open/self-loop", O_RDONLY, 0), NULL);
        result("open-creat-symlink-loop", open_err("open/loop1", O_CREAT | O_WRONLY, 0644), NULL);
        result("open-symlink-loop-component", open_err("open/loop1/x", O_RDONLY, 0), NULL);
        result("open-symlink-chain-40", chain_open_err("open/chain/c01"), NULL);
        result("open-symlink-chain-41", chain_open_err("open/chain/c00"), NULL);

        e = open_err(in("open", long_name(NAME_MAX)), O_CREAT | O_WRONLY, 0644);
        result("open-creat-name-max", e, "type=%s", type_of(in("open", long_name(NAME_MAX))));
        result("open-creat-name-too-long",
               open_err(in("open", long_name(NAME_MAX + 1)), O_CREAT | O_WRONLY, 0644), NULL);
        result("open-name-too-long", open_err(in("open", long_name(NAME_MAX + 1)), O_RDONLY, 0),
               NULL);
        result("open-component-too-long", open_err(in(long_name(NAME_MAX + 1), "x"), O_RDONLY, 0),
               NULL);
        char *p = path_of_length(PATH_MAX - 1, "open", "file");
        result("open-path-length-path-max-minus-1", open_err(p, O_RDONLY, 0), NULL);
        free(p);
        p = path_of_length(PATH_MAX, "open", "file");
        result("open-path-length-path-max", open_err(p, O_RDONLY, 0), NULL);
        free(p);

        e = open_err("open/trunc", O_WRONLY | O_TRUNC, 0);
        result("open-trunc", e, "size=%s", size_of("open/trunc"));
        e = open_err("open/trunc-rdonly", O_RDONLY | O_TRUNC, 0);
        result("open-trunc-rdonly", e, "size=%s", size_of("open/trunc-rdonly"));
        e = open_err("open/trunc-ro", O_WRONLY | O_TRUNC, 0);
        result("open-trunc-readonly-file", e, "size=%s", size_of("open/trunc-ro"));
        e = E(fd = creat("open/creat-trunc", 0600));
        if (fd >= 0)
                close(fd);
        result("creat-existing-truncates", e, "%s", desc("open/creat-trunc"));

        fd = open("open/append", O_WRONLY | O_APPEND | O_CLOEXEC);
        e = E(fd);
        if (fd >= 0) {
                if (lseek(fd, 0, SEEK_SET) < 0 || write(fd, "cd", 2) != 2)
                        e = errno;
                close(fd);
        }
        result("open-append-writes-at-end", e, "content=%s", content_of("open/append"));
        fd = open("open/append-pwrite", O_WRONLY | O_APPEND | O_CLOEXEC);
        e = E(fd);
        if (fd >= 0) {
                if (pwrite(fd, "cd", 2, 0) != 2)
                        e = errno;
                close(fd);
        }
        result("open-append-pwrite-appends", e, "content=%s", content_of("open/append-pwrite"));

        result("open-rdwr-readonly-file", open_err("open/ro", O_RDWR, 0), NULL);
        result("open-rdonly-writeonly-file", open_err("open/wo", O_RDONLY, 0), NULL);
        result("open-wronly-writeonly-file", open_err("open/wo", O_WRONLY, 0), NULL);
        result("open-rdonly-mode-0000-file", open_err("open/none", O_RDONLY, 0), NULL);
        result("open-in-dir-mode-0000", open_err("open/noperm/f", O_RDONLY, 0), NULL);
        result("open-in-unsearchable-dir", open_err("open/nosearch/f", O_RDONLY, 0), NULL);
        result("open-unsearchable-dir-itself", open_err("open/nosearch", O_RDONLY, 0), NULL);
        e = open_err("open/nowrite/new", O_CREAT | O_WRONLY, 0644);
        result("open-creat-in-unwritable-dir", e, "made=%s", exists("open/nowrite/new"));
        result("open-existing-in-unwritable-dir", open_err("open/nowrite/f", O_RDWR, 0), NULL);
        result("open-foreign-readonly-for-write", open_err("foreign/open-ro", O_WRONLY, 0), NULL);
        result("open-in-foreign-private-dir", open_err("foreign/private/open", O_RDONLY, 0), NULL);
        result("open-noatime-own-file", open_err("open/file", O_RDONLY | O_NOATIME, 0), NULL);
        result("open-noatime-foreign-file", open_err("foreign/open-ro", O_RDONLY | O_NOATIME, 0),
               NULL);

        umask(022);
        e = open_err("open/umask-022", O_CREAT | O_WRONLY, 0777);
        result("open-creat-umask-022", e, "mode=%s", mode_of("open/umask-022"));
        umask(077);
        e = open_err("open/umask-077", O_CREAT | O_WRONLY, 0666);
        result("open-creat-umask-077", e, "mode=%s", mode_of("open/umask-077"));
        umask(0);
        e = open_err("open/umask-000", O_CREAT | O_WRONLY, 0777);
        result("open-creat-umask-000", e, "mode=%s", mode_of("open/umask-000"));
        umask(022);
        e = open_err("open/creat-setgid", O_CREAT | O_WRONLY, 02755);
        result("open-creat-setgid-mode", e, "mode=%s group=%s", mode_of("open/creat-setgid"),
               group_of("open/creat-setgid"));
        e = open_err("open/creat-setuid", O_CREAT | O_WRONLY, 04755);
        result("open-creat-setuid-mode", e, "mode=%s", mode_of("open/creat-setuid"));
        e = open_err("open/creat-sticky", O_CREAT | O_WRONLY, 01644);
        result("open-creat-sticky-mode", e, "mode=%s", mode_of("open/creat-sticky"));
        e = open_err("foreign/sgid-dir/f", O_CREAT | O_WRONLY, 02755);
        result("open-creat-in-foreign-setgid-dir", e, "mode=%s group=%s",
               mode_of("foreign/sgid-dir/f"), group_of("foreign/sgid-dir/f"));
        e = E(fd = creat("open/creat-new", 0640));
        if (fd >= 0)
                close(fd);
        result("creat-new", e, "%s", desc("open/creat-new"));
        e = E(fd = creat("open/dir", 0640));
        if (fd >= 0)
                close(fd);
        result("creat-dir", e, NULL);

        e = write_err("open/suid", "y");
        result("write-own-setuid-file", e, "mode=%s", mode_of("open/suid"));
        e = write_err("open/sgid-gx", "y");
        result("write-own-setgid-group-exec-file", e, "mode=%s", mode_of("open/sgid-gx"));
        e = write_err("open/sgid-nogx", "y");
        result("write-own-setgid-no-group-exec-file", e, "mode=%s", mode_of("open/sgid-nogx"));
        e = write_err("foreign/write-suid-ww", "y");
        result("write-foreign-world-writable-setuid-file", e, "mode=%s",
               mode_of("foreign/write-suid-ww"));

        result("open-fifo-nonblock-write-without-reader",
               open_err("open/fifo", O_WRONLY | O_NONBLOCK, 0), NULL);
        result("open-fifo-nonblock-read", open_err("open/fifo", O_RDONLY | O_NONBLOCK, 0), NULL);

        fd = open("open/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
        e = E(fd);
        const char *linked = "-";
        if (fd >= 0) {
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                linked =
                        write(fd, "tmp", 3) != 3 ? errno_name(errno)
                        : linkat(AT_FDCWD, proc, AT_FDCWD, "open/tmp/linked", AT_SYMLINK_FOLLOW) < 0
                                ? errno_name(errno)
                                : "OK";
                close(fd);
        }
        result("open-tmpfile", e, "link=%s linked=%s content=%s", linked, desc("open/tmp/linked"),
               content_of("open/tmp/linked"));
        fd = open("open/tmp", O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
        e = E(fd);
        linked = "-";
        if (fd >= 0) {
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                linked = linkat(AT_FDCWD, proc, AT_FDCWD, "open/tmp/excl", AT_SYMLINK_FOLLOW) < 0
                                 ? errno_name(errno)
                                 : "OK";
                close(fd);
        }
        result("open-tmpfile-excl", e, "link=%s", linked);
        result("open-tmpfile-on-file", open_err("open/file", O_TMPFILE | O_RDWR, 0600), NULL);
        result("open-tmpfile-missing-dir", open_err("open/missing", O_TMPFILE | O_RDWR, 0600),
               NULL);
}

/* ---- mkdir ------------------------------------------------------------------------------- */

static void mkdir_setup(void)
{
        su_dir("mkdir", 0755);
        su_file("mkdir/file", 0644, "f");
        su_symlink("dangling-target", "mkdir/dangling");
        su_symlink("loop", "mkdir/loop");
        su_dir("mkdir/target", 0755);
        su_symlink("target", "mkdir/sym-dir");
        su_dir("mkdir/sgid", 02755);
        su_dir("mkdir/nowrite", 0555);
        su_dir("mkdir/nosearch", 0644);
        su_dir("mkdir/parent", 0755);
        su_past("mkdir/parent");
}

static void mkdir_cases(void)
{
        int e;
        long before = nlink_num("mkdir/parent");
        e = E(mkdir("mkdir/parent/new", 0755));
        result("mkdir-new", e, "%s", desc("mkdir/parent/new"));
        fact("mkdir-parent-nlink-delta", "%s", nlink_delta("mkdir/parent", before));
        fact("mkdir-parent-mtime-changed", "%s", mtime_moved("mkdir/parent"));
        fact("mkdir-new-dotdot-is-parent", "%s",
             same_object("mkdir/parent/new/..", "mkdir/parent"));
        umask(027);
        e = E(mkdir("mkdir/umask-027", 0777));
        result("mkdir-umask-027", e, "mode=%s", mode_of("mkdir/umask-027"));
        umask(022);
        e = E(mkdir("mkdir/mode-0", 0));
        result("mkdir-mode-0000", e, "mode=%s", mode_of("mkdir/mode-0"));
        e = E(mkdir("mkdir/sticky", 01777));
        result("mkdir-mode-sticky", e, "mode=%s", mode_of("mkdir/sticky"));
        e = E(mkdir("mkdir/setuid", 04777));
        result("mkdir-mode-setuid-ignored", e, "mode=%s", mode_of("mkdir/setuid"));
        e = E(mkdir("mkdir/setgid", 02777));
        result("mkdir-mode-setgid-outside-setgid-dir", e, "mode=%s", mode_of("mkdir/setgid"));
        e = E(mkdir("mkdir/sgid/sub", 0755));
        result("mkdir-in-setgid-dir-inherits", e, "mode=%s group=%s", mode_of("mkdir/sgid/sub"),
               group_of("mkdir/sgid/sub"));
        e = E(mkdir("foreign/sgid-dir/sub", 0755));
        result("mkdir-in-foreign-setgid-dir", e, "mode=%s group=%s owner=%s",
               mode_of("foreign/sgid-dir/sub"), group_of("foreign/sgid-dir/sub"),
               owner_of("foreign/sgid-dir/sub"));
        result("mkdir-existing-dir", E(mkdir("mkdir/target", 0755)), NULL);
        result("mkdir-existing-file", E(mkdir("mkdir/file", 0755)), NULL);
        e = E(mkdir("mkdir/dangling", 0755));
        result("mkdir-existing-dangling-symlink", e, "target-made=%s",
               exists("mkdir/dangling-target"));
        result("mkdir-existing-symlink-loop", E(mkdir("mkdir/loop", 0755)), NULL);
        result("mkdir-missing-parent", E(mkdir("mkdir/missing/x", 0755)), NULL);
        result("mkdir-file-as-component", E(mkdir("mkdir/file/x", 0755)), NULL);
        e = E(mkdir("mkdir/trailing/", 0755));
        result("mkdir-trailing-slash", e, "type=%s", type_of("mkdir/trailing"));
        result("mkdir-existing-file-trailing-slash", E(mkdir("mkdir/file/", 0755)), NULL);
        e = E(mkdir(in("mkdir", long_name(NAME_MAX)), 0755));
        result("mkdir-name-max", e, "type=%s", type_of(in("mkdir", long_name(NAME_MAX))));
        result("mkdir-name-too-long", E(mkdir(in("mkdir", long_name(NAME_MAX + 1)), 0755)), NULL);
        result("mkdir-symlink-loop-component", E(mkdir("mkdir/loop/x", 0755)), NULL);
        e = E(mkdir("mkdir/sym-dir/x", 0755));
        result("mkdir-through-symlink-to-dir", e, "type=%s", type_of("mkdir/target/x"));
        result("mkdir-dot", E(mkdir("mkdir/.", 0755)), NULL);
        result("mkdir-dotdot", E(mkdir("mkdir/..", 0755)), NULL);
        result("mkdir-empty-path", E(mkdir("", 0755)), NULL);
        result("mkdir-in-unwritable-dir", E(mkdir("mkdir/nowrite/x", 0755)), NULL);
        result("mkdir-in-unsearchable-dir", E(mkdir("mkdir/nosearch/x", 0755)), NULL);
        result("mkdir-in-foreign-dir", E(mkdir("foreign/root-dir/x", 0755)), NULL);
        result("mkdir-in-foreign-private-dir", E(mkdir("foreign/private/x", 0755)), NULL);
        e = E(mkdir("foreign/sticky/mkdir", 0755));
        result("mkdir-in-sticky-dir", e, "owner=%s", owner_of("foreign/sticky/mkdir"));
}

/* ---- rmdir ------------------------------------------------------------------------------- */

static void rmdir_setup(void)
{
        su_dir("rmdir", 0755);
        su_dir("rmdir/parent", 0755);
        su_dir("rmdir/parent/empty", 0755);
        su_past("rmdir/parent");
        su_dir("rmdir/full", 0755);
        su_file("rmdir/full/x", 0644, "x");
        su_dir("rmdir/full-dir", 0755);
        su_dir("rmdir/full-dir/sub", 0755);
        su_file("rmdir/file", 0644, "f");
        su_symlink("full", "rmdir/sym-dir");
        su_symlink("loop", "rmdir/loop");
        su_dir("rmdir/d", 0755);
        su_dir("rmdir/trailing", 0755);
        su_dir("rmdir/mode-0", 0000);
        su_dir("rmdir/nowrite", 0755);
        su_dir("rmdir/nowrite/sub", 0755);
        su_chmod("rmdir/nowrite", 0555);
        su_dir("rmdir/removedir", 0755);
        su_file("rmdir/removedir-file", 0644, "f");
        su_dir(in("rmdir", long_name(NAME_MAX)), 0755);
}

static void rmdir_cases(void)
{
        int e;
        long before = nlink_num("rmdir/parent");
        e = E(rmdir("rmdir/parent/empty"));
        result("rmdir-empty", e, "exists=%s", exists("rmdir/parent/empty"));
        fact("rmdir-parent-nlink-delta", "%s", nlink_delta("rmdir/parent", before));
        fact("rmdir-parent-mtime-changed", "%s", mtime_moved("rmdir/parent"));
        e = E(rmdir("rmdir/full"));
        result("rmdir-not-empty", e, "still-there=%s", exists("rmdir/full"));
        result("rmdir-not-empty-subdir-only", E(rmdir("rmdir/full-dir")), NULL);
        result("rmdir-file", E(rmdir("rmdir/file")), NULL);
        result("rmdir-symlink-to-dir", E(rmdir("rmdir/sym-dir")), NULL);
        result("rmdir-symlink-to-dir-trailing-slash", E(rmdir("rmdir/sym-dir/")), NULL);
        result("rmdir-missing", E(rmdir("rmdir/missing")), NULL);
        result("rmdir-missing-component", E(rmdir("rmdir/missing/x")), NULL);
        result("rmdir-file-as-component", E(rmdir("rmdir/file/x")), NULL);
        result("rmdir-dot", E(rmdir("rmdir/d/.")), NULL);
        result("rmdir-dotdot", E(rmdir("rmdir/d/..")), NULL);
        result("rmdir-empty-path", E(rmdir("")), NULL);
        result("rmdir-name-too-long", E(rmdir(in("rmdir", long_name(NAME_MAX + 1)))), NULL);
        e = E(rmdir(in("rmdir", long_name(NAME_MAX))));
        result("rmdir-name-max", e, NULL);
        result("rmdir-symlink-loop-component", E(rmdir("rmdir/loop/x")), NULL);
        result("rmdir-trailing-slash", E(rmdir("rmdir/trailing/")), NULL);
        result("rmdir-dir-mode-0000", E(rmdir("rmdir/mode-0")), NULL);
        result("rmdir-in-unwritable-dir", E(rmdir("rmdir/nowrite/sub")), NULL);
        result("rmdir-in-foreign-private-dir", E(rmdir("foreign/private/dir")), NULL);
        result("rmdir-foreign-dir-in-sticky-dir", E(rmdir("foreign/sticky/root-dir")), NULL);
        e = E(mkdir("foreign/sticky/rmdir-own", 0755));
        if (e == 0)
                e = E(rmdir("foreign/sticky/rmdir-own"));
        result("rmdir-own-dir-in-sticky-dir", e, NULL);
        result("unlinkat-removedir-dir", E(unlinkat(AT_FDCWD, "rmdir/removedir", AT_REMOVEDIR)),
               NULL);
        result("unlinkat-removedir-file",
               E(unlinkat(AT_FDCWD, "rmdir/removedir-file", AT_REMOVEDIR)), NULL);
}

/* ---- unlink ------------------------------------------------------------------------------- */

static void unlink_setup(void)
{
        su_dir("unlink", 0755);
        su_dir("unlink/parent", 0755);
        su_file("unlink/parent/file", 0644, "f");
        su_past("unlink/parent");
        su_file("unlink/file", 0644, "f");
        su_dir("unlink/dir", 0755);
        su_file("unlink/target", 0644, "target");
        su_symlink("target", "unlink/sym");
        su_symlink("missing", "unlink/dangling");
        su_symlink("dir", "unlink/sym-dir");
        su_symlink("loop", "unlink/loop");
        su_file("unlink/hard1", 0644, "shared");
        su_link("unlink/hard1", "unlink/hard2");
        su_file("unlink/hard3", 0644, "ctime");
        su_link("unlink/hard3", "unlink/hard4");
        su_file("unlink/open", 0644, "still-readable");
        su_fifo("unlink/fifo", 0644);
        su_file("unlink/mode-0", 0000, "");
        su_dir("unlink/nowrite", 0755);
        su_file("unlink/nowrite/f", 0644, "f");
        su_chmod("unlink/nowrite", 0555);
        su_file(in("unlink", long_name(NAME_MAX)), 0644, "");
}

static void unlink_cases(void)
{
        int e;
        e = E(unlink("unlink/parent/file"));
        result("unlink-file", e, "exists=%s", exists("unlink/parent/file"));
        fact("unlink-parent-mtime-changed", "%s", mtime_moved("unlink/parent"));
        result("unlink-missing", E(unlink("unlink/missing")), NULL);
        result("unlink-missing-component", E(unlink("unlink/missing/x")), NULL);
        result("unlink-file-as-component", E(unlink("unlink/file/x")), NULL);
        result("unlink-file-trailing-slash", E(unlink("unlink/file/")), NULL);
        result("unlink-dir", E(unlink("unlink/dir")), NULL);
        result("unlink-empty-path", E(unlink("")), NULL);
        e = E(unlink("unlink/sym"));
        result("unlink-symlink-removes-link-only", e, "link=%s target=%s", exists("unlink/sym"),
               exists("unlink/target"));
        result("unlink-dangling-symlink", E(unlink("unlink/dangling")), NULL);
        e = E(unlink("unlink/sym-dir"));
        result("unlink-symlink-to-dir", e, "dir=%s", exists("unlink/dir"));
        result("unlink-symlink-loop-component", E(unlink("unlink/loop/x")), NULL);
        e = E(unlink("unlink/hard1"));
        result("unlink-one-hard-link", e, "other-nlink=%s other-content=%s",
               nlink_of("unlink/hard2"), content_of("unlink/hard2"));
        struct ctime_mark m = mark_ctime("unlink/hard4");
        e = E(unlink("unlink/hard3"));
        result("unlink-hard-link-other-ctime", e, "other-ctime-changed=%s",
               ctime_changed("unlink/hard4", m));
        int fd = open("unlink/open", O_RDONLY | O_CLOEXEC);
        e = fd < 0 ? errno : E(unlink("unlink/open"));
        struct stat st;
        result("unlink-open-file", e, "still-readable=%s fstat-nlink=%s",
               fd < 0 ? "-" : fd_content(fd),
               fd < 0               ? "-"
               : fstat(fd, &st) < 0 ? errno_name(errno)
               : st.st_nlink        ? "1+"
                                    : "0");
        if (fd >= 0)
                close(fd);
        result("unlink-fifo", E(unlink("unlink/fifo")), NULL);
        result("unlink-file-mode-0000", E(unlink("unlink/mode-0")), NULL);
        result("unlink-name-max", E(unlink(in("unlink", long_name(NAME_MAX)))), NULL);
        result("unlink-name-too-long", E(unlink(in("unlink", long_name(NAME_MAX + 1)))), NULL);
        result("unlink-in-unwritable-dir", E(unlink("unlink/nowrite/f")), NULL);
        result("unlink-in-foreign-dir", E(unlink("foreign/root-dir/f")), NULL);
        result("unlink-in-foreign-private-dir", E(unlink("foreign/private/unlink")), NULL);
        e = E(unlink("foreign/sticky/root-file"));
        result("unlink-root-file-in-sticky-dir", e, "still-there=%s",
               exists("foreign/sticky/root-file"));
        result("unlink-third-user-file-in-sticky-dir", E(unlink("foreign/sticky/third-file")),
               NULL);
        result("unlink-user-file-in-sticky-dir", E(unlink("foreign/sticky/user-file")), NULL);
        e = open_err("foreign/sticky/unlink-own", O_CREAT | O_WRONLY, 0644);
        if (e == 0)
                e = E(unlink("foreign/sticky/unlink-own"));
        result("unlink-own-file-in-sticky-dir", e, NULL);
}

/* ---- rename ------------------------------------------------------------------------------- */

static void rename_setup(void)
{
        su_dir("rename", 0755);
        su_dir("rename/src", 0755);
        su_dir("rename/dst", 0755);
        su_file("rename/src/moved", 0644, "moved");
        su_past("rename/src");
        su_past("rename/dst");
        su_file("rename/a", 0644, "A");
        su_file("rename/b", 0644, "B");
        su_link("rename/b", "rename/b-link");
        su_file("rename/over-sym", 0644, "O");
        su_file("rename/sym-target", 0644, "T");
        su_symlink("sym-target", "rename/sym");
        su_file("rename/file", 0644, "F");
        su_file("rename/file2", 0644, "F2");
        su_dir("rename/dir", 0755);
        su_dir("rename/dir-empty", 0755);
        su_dir("rename/dir-full", 0755);
        su_file("rename/dir-full/x", 0644, "x");
        su_dir("rename/d", 0755);
        su_dir("rename/d/sub", 0755);
        su_dir("rename/anc", 0755);
        su_dir("rename/anc/sub", 0755);
        su_file("rename/same", 0644, "same");
        su_file("rename/h1", 0644, "h");
        su_link("rename/h1", "rename/h2");
        su_symlink("sym-target", "rename/sym2");
        su_dir("rename/from", 0755);
        su_dir("rename/from/moving", 0755);
        su_dir("rename/to", 0755);
        su_file("rename/ino", 0644, "ino");
        su_file("rename/ctime", 0644, "ctime");
        su_dir("rename/ts-dir", 0755);
        su_file("rename/nr-a", 0644, "NA");
        su_file("rename/nr-b", 0644, "NB");
        su_file("rename/nr-new", 0644, "NN");
        su_file("rename/x-a", 0644, "XA");
        su_file("rename/x-b", 0644, "XB");
        su_file("rename/x-file", 0644, "XF");
        su_dir("rename/x-dir", 0755);
        su_file("rename/x-dir/inside", 0644, "in");
        su_dir("rename/x-d", 0755);
        su_dir("rename/x-d/sub", 0755);
        su_fifo("rename/fifo", 0644);
        su_symlink("loop", "rename/loop");
        su_file("rename/long", 0644, "l");
        su_dir("rename/nowrite", 0755);
        su_file("rename/nowrite/f", 0644, "f");
        su_file("rename/nowrite/f2", 0644, "f");
        su_chmod("rename/nowrite", 0555);
        su_file("rename/into-nowrite", 0644, "f");
        su_file("rename/to-sticky", 0644, "f");
}

static void rename_cases(void)
{
        int e;
        e = E(rename("rename/src/moved", "rename/dst/moved"));
        result("rename-file-other-dir", e, "old=%s new=%s", exists("rename/src/moved"),
               content_of("rename/dst/moved"));
        fact("rename-source-dir-mtime-changed", "%s", mtime_moved("rename/src"));
        fact("rename-dest-dir-mtime-changed", "%s", mtime_moved("rename/dst"));
        e = E(rename("rename/a", "rename/b"));
        result("rename-file-over-file", e, "a=%s b=%s replaced-other-link-nlink=%s",
               exists("rename/a"), content_of("rename/b"), nlink_of("rename/b-link"));
        e = E(rename("rename/over-sym", "rename/sym"));
        result("rename-file-over-symlink", e, "sym=%s target=%s", type_of("rename/sym"),
               content_of("rename/sym-target"));
        result("rename-file-over-dir", E(rename("rename/file", "rename/dir")), NULL);
        result("rename-dir-over-file", E(rename("rename/dir", "rename/file")), NULL);
        e = E(rename("rename/dir", "rename/dir-empty"));
        result("rename-dir-over-empty-dir", e, "old=%s new=%s", exists("rename/dir"),
               type_of("rename/dir-empty"));
        result("rename-dir-over-non-empty-dir", E(rename("rename/dir-empty", "rename/dir-full")),
               NULL);
        result("rename-dir-into-own-subdir", E(rename("rename/d", "rename/d/sub/d")), NULL);
        result("rename-dir-into-itself", E(rename("rename/d", "rename/d/new")), NULL);
        result("rename-dir-over-own-ancestor", E(rename("rename/anc/sub", "rename/anc")), NULL);
        result("rename-dot", E(rename("rename/d/.", "rename/dot")), NULL);
        result("rename-dotdot", E(rename("rename/d/sub/..", "rename/dotdot")), NULL);
        result("rename-to-dot", E(rename("rename/file", "rename/d/.")), NULL);
        result("rename-to-dotdot", E(rename("rename/file", "rename/d/sub/..")), NULL);
        e = E(rename("rename/same", "rename/same"));
        result("rename-to-itself", e, "content=%s", content_of("rename/same"));
        e = E(rename("rename/h1", "rename/h2"));
        result("rename-hard-link-over-same-inode", e, "h1=%s h2=%s nlink=%s", exists("rename/h1"),
               exists("rename/h2"), nlink_of("rename/h2"));
        e = E(rename("rename/sym2", "rename/sym3"));
        result("rename-symlink-renames-link", e, "type=%s readlink=%s target=%s",
               type_of("rename/sym3"), link_of("rename/sym3"), exists("rename/sym-target"));
        long from = nlink_num("rename/from"), to = nlink_num("rename/to");
        e = E(rename("rename/from/moving", "rename/to/moved"));
        result("rename-dir-other-parent", e, "from-nlink=%s to-nlink=%s",
               nlink_delta("rename/from", from), nlink_delta("rename/to", to));
        fact("rename-dir-dotdot-is-new-parent", "%s",
             same_object("rename/to/moved/..", "rename/to"));
        struct stat before, after;
        e = E(lstat("rename/ino", &before));
        if (e == 0)
                e = E(rename("rename/ino", "rename/ino2"));
        if (e == 0)
                e = E(lstat("rename/ino2", &after));
        fact("rename-ino-stable", "%s",
             e ? errno_name(e)
               : yesno(before.st_ino == after.st_ino && before.st_dev == after.st_dev));
        struct ctime_mark m = mark_ctime("rename/ctime");
        e = E(rename("rename/ctime", "rename/ctime2"));
        result("rename-file-ctime", e, "ctime-changed=%s", ctime_changed("rename/ctime2", m));
        result("rename-file-trailing-slash", E(rename("rename/file/", "rename/file3")), NULL);
        result("rename-file-to-trailing-slash", E(rename("rename/file", "rename/file3/")), NULL);
        e = E(rename("rename/ts-dir/", "rename/ts-dir2/"));
        result("rename-dir-trailing-slashes", e, "new=%s", type_of("rename/ts-dir2"));
        result("rename-missing-source", E(rename("rename/missing", "rename/x")), NULL);
        result("rename-dest-missing-parent", E(rename("rename/file", "rename/missing/x")), NULL);
        result("rename-source-file-as-component", E(rename("rename/file/x", "rename/x")), NULL);
        result("rename-dest-file-as-component", E(rename("rename/file", "rename/file2/x")), NULL);
        result("rename-empty-source", E(rename("", "rename/x")), NULL);
        result("rename-empty-dest", E(rename("rename/file", "")), NULL);
        result("rename-symlink-loop-component", E(rename("rename/loop/x", "rename/x")), NULL);
        e = E(rename("rename/long", in("rename", long_name(NAME_MAX))));
        result("rename-to-name-max", e, NULL);
        result("rename-to-name-too-long",
               E(rename(in("rename", long_name(NAME_MAX)), in("rename", long_name(NAME_MAX + 1)))),
               NULL);
        result("rename-from-name-too-long",
               E(rename(in("rename", long_name(NAME_MAX + 1)), "rename/x")), NULL);
        e = E(rename("rename/fifo", "rename/fifo2"));
        result("rename-fifo", e, "type=%s", type_of("rename/fifo2"));
        result("rename-in-unwritable-dir", E(rename("rename/nowrite/f", "rename/nowrite/g")), NULL);
        result("rename-out-of-unwritable-dir", E(rename("rename/nowrite/f2", "rename/out")), NULL);
        result("rename-into-unwritable-dir", E(rename("rename/into-nowrite", "rename/nowrite/g")),
               NULL);
        result("rename-out-of-foreign-private-dir",
               E(rename("foreign/private/rename", "rename/from-private")), NULL);
        result("rename-root-file-in-sticky-dir",
               E(rename("foreign/sticky/root-file2", "foreign/sticky/renamed")), NULL);
        result("rename-over-root-file-in-sticky-dir",
               E(rename("rename/to-sticky", "foreign/sticky/root-file3")), NULL);
        e = E(rename("foreign/sticky/user-file2", "foreign/sticky/user-file3"));
        result("rename-user-file-in-sticky-dir", e, NULL);
        e = E(rename("foreign/ww-dir/rdir", "foreign/ww-dir/rdir2"));
        result("rename-foreign-dir-same-parent", e, NULL);
        e = E(mkdir("foreign/ww-dir/sub", 0755));
        if (e == 0)
                e = E(rename("foreign/ww-dir/rdir2", "foreign/ww-dir/sub/rdir3"));
        result("rename-foreign-dir-other-parent", e, NULL);

        e = E(renameat2(AT_FDCWD, "rename/nr-a", AT_FDCWD, "rename/nr-b", RENAME_NOREPLACE));
        result("rename-noreplace-existing", e, "a=%s b=%s", content_of("rename/nr-a"),
               content_of("rename/nr-b"));
        e = E(renameat2(AT_FDCWD, "rename/nr-new", AT_FDCWD, "rename/nr-c", RENAME_NOREPLACE));
        result("rename-noreplace-new", e, "c=%s", content_of("rename/nr-c"));
        e = E(renameat2(AT_FDCWD, "rename/x-a", AT_FDCWD, "rename/x-b", RENAME_EXCHANGE));
        result("rename-exchange-files", e, "a=%s b=%s", content_of("rename/x-a"),
               content_of("rename/x-b"));
        e = E(renameat2(AT_FDCWD, "rename/x-file", AT_FDCWD, "rename/x-dir", RENAME_EXCHANGE));
        result("rename-exchange-file-and-dir", e, "x-file=%s x-dir=%s inside=%s",
               type_of("rename/x-file"), type_of("rename/x-dir"),
               content_of("rename/x-file/inside"));
        result("rename-exchange-missing-dest",
               E(renameat2(AT_FDCWD, "rename/x-a", AT_FDCWD, "rename/x-missing", RENAME_EXCHANGE)),
               NULL);
        result("rename-exchange-with-itself",
               E(renameat2(AT_FDCWD, "rename/x-a", AT_FDCWD, "rename/x-a", RENAME_EXCHANGE)), NULL);
        result("rename-exchange-dir-with-own-subdir",
               E(renameat2(AT_FDCWD, "rename/x-d", AT_FDCWD, "rename/x-d/sub", RENAME_EXCHANGE)),
               NULL);
        result("rename-exchange-and-noreplace",
               E(renameat2(AT_FDCWD, "rename/x-a", AT_FDCWD, "rename/x-b",
                           RENAME_EXCHANGE | RENAME_NOREPLACE)),
               NULL);
}

/* ---- link ------------------------------------------------------------------------------- */

static void link_setup(void)
{
        su_dir("link", 0755);
        su_file("link/file", 0644, "shared");
        su_file("link/ctime", 0644, "c");
        su_file("link/count", 0644, "c");
        su_file("link/existing", 0644, "e");
        su_symlink("missing", "link/dangling");
        su_symlink("file", "link/sym");
        su_symlink("loop", "link/loop");
        su_dir("link/dir", 0755);
        su_dir("link/other", 0755);
        su_fifo("link/fifo", 0644);
        su_file("link/ro", 0444, "ro");
        su_dir("link/nowrite", 0555);
}

static void link_cases(void)
{
        int e;
        e = E(link("link/file", "link/file2"));
        result("link-file", e, "nlink=%s same-object=%s", nlink_of("link/file"),
               same_object("link/file", "link/file2"));
        e = write_err("link/file2", "SHARED");
        fact("link-shares-content", "%s", e ? errno_name(e) : content_of("link/file"));
        struct ctime_mark m = mark_ctime("link/ctime");
        e = E(link("link/ctime", "link/ctime2"));
        result("link-ctime", e, "ctime-changed=%s", ctime_changed("link/ctime", m));
        e = E(link("link/count", "link/count2"));
        if (e == 0)
                e = E(link("link/count", "link/count3"));
        if (e == 0)
                e = E(unlink("link/count2"));
        result("link-link-unlink-count", e, "nlink=%s", nlink_of("link/count"));
        e = E(link("link/file", "link/other/file"));
        result("link-into-other-dir", e, "same-object=%s",
               same_object("link/file", "link/other/file"));
        result("link-missing-source", E(link("link/missing", "link/x")), NULL);
        result("link-existing-dest", E(link("link/file", "link/existing")), NULL);
        result("link-dest-dangling-symlink", E(link("link/file", "link/dangling")), NULL);
        result("link-dest-missing-parent", E(link("link/file", "link/missing/x")), NULL);
        result("link-source-file-as-component", E(link("link/file/x", "link/x")), NULL);
        result("link-dest-file-as-component", E(link("link/file", "link/file/x")), NULL);
        result("link-source-trailing-slash", E(link("link/file/", "link/x")), NULL);
        result("link-dest-trailing-slash", E(link("link/file", "link/x/")), NULL);
        result("link-dir", E(link("link/dir", "link/dir2")), NULL);
        e = E(linkat(AT_FDCWD, "link/sym", AT_FDCWD, "link/sym-hard", 0));
        result("linkat-symlink-nofollow", e, "type=%s same-object=%s", type_of("link/sym-hard"),
               same_object("link/sym", "link/sym-hard"));
        e = E(linkat(AT_FDCWD, "link/sym", AT_FDCWD, "link/sym-follow", AT_SYMLINK_FOLLOW));
        result("linkat-symlink-follow", e, "type=%s same-object-as-target=%s",
               type_of("link/sym-follow"), same_object("link/file", "link/sym-follow"));
        result("linkat-dangling-symlink-follow",
               E(linkat(AT_FDCWD, "link/dangling", AT_FDCWD, "link/x", AT_SYMLINK_FOLLOW)), NULL);
        result("linkat-symlink-loop-follow",
               E(linkat(AT_FDCWD, "link/loop", AT_FDCWD, "link/x", AT_SYMLINK_FOLLOW)), NULL);
        result("link-name-too-long", E(link("link/file", in("link", long_name(NAME_MAX + 1)))),
               NULL);
        e = E(link("link/file", in("link", long_name(NAME_MAX))));
        result("link-name-max", e, NULL);
        result("link-empty-source", E(link("", "link/x")), NULL);
        e = E(link("link/fifo", "link/fifo2"));
        result("link-fifo", e, "type=%s", type_of("link/fifo2"));
        e = E(link("link/ro", "link/ro2"));
        result("link-own-readonly-file", e, NULL);
        result("link-in-unwritable-dir", E(link("link/file", "link/nowrite/x")), NULL);
        result("link-foreign-readonly-file", E(link("foreign/link-ro", "link/foreign-ro")), NULL);
        result("link-foreign-world-writable-file", E(link("foreign/link-ww", "link/foreign-ww")),
               NULL);
        result("link-from-foreign-private-dir", E(link("foreign/private/link", "link/private")),
               NULL);
}

/* ---- symlink, readlink --------------------------------------------------------------- */

static void symlink_setup(void)
{
        su_dir("symlink", 0755);
        su_file("symlink/file", 0644, "file");
        su_symlink("missing", "symlink/dangling");
        su_symlink("loop", "symlink/loop");
        su_dir("symlink/dir", 0755);
        su_file("symlink/dir/inner", 0644, "inner");
        su_dir("symlink/sub", 0755);
        su_dir("symlink/nowrite", 0555);
}

static void symlink_cases(void)
{
        int e;
        e = E(symlink("target-text", "symlink/new"));
        result("symlink-new", e, "%s readlink=%s", desc("symlink/new"), link_of("symlink/new"));
        result("symlink-existing-file", E(symlink("x", "symlink/file")), NULL);
        result("symlink-existing-dangling", E(symlink("x", "symlink/dangling")), NULL);
        result("symlink-existing-dir", E(symlink("x", "symlink/dir")), NULL);
        result("symlink-missing-parent", E(symlink("x", "symlink/missing/s")), NULL);
        result("symlink-file-as-component", E(symlink("x", "symlink/file/s")), NULL);
        result("symlink-loop-component", E(symlink("x", "symlink/loop/s")), NULL);
        result("symlink-empty-target", E(symlink("", "symlink/empty")), NULL);
        result("symlink-empty-name", E(symlink("x", "")), NULL);
        result("symlink-trailing-slash-name", E(symlink("x", "symlink/ts/")), NULL);
        e = E(symlink("x", in("symlink", long_name(NAME_MAX))));
        result("symlink-name-max", e, NULL);
        result("symlink-name-too-long", E(symlink("x", in("symlink", long_name(NAME_MAX + 1)))),
               NULL);
        char *target = malloc(PATH_MAX + 1);
        if (!target) {
                perror("posix_check");
                exit(2);
        }
        memset(target, 't', PATH_MAX);
        target[PATH_MAX - 1] = '\0';
        e = E(symlink(target, "symlink/long-target"));
        char back[PATH_MAX + 1];
        ssize_t n = readlink("symlink/long-target", back, sizeof back);
        result("symlink-target-path-max-minus-1", e, "readlink-length=%zd exact=%s", n,
               yesno(n == PATH_MAX - 1 && memcmp(back, target, (size_t)n) == 0));
        target[PATH_MAX - 1] = 't';
        target[PATH_MAX] = '\0';
        result("symlink-target-path-max", E(symlink(target, "symlink/too-long-target")), NULL);
        free(target);
        e = E(symlink("../file", "symlink/sub/rel"));
        result("symlink-relative-to-its-dir", e, "content=%s", content_of("symlink/sub/rel"));
        e = E(symlink("/posix-check-absolute/target", "symlink/abs"));
        result("symlink-absolute-target", e, "readlink=%s", link_of("symlink/abs"));
        e = E(symlink("dir", "symlink/to-dir"));
        result("symlink-to-dir-trailing-slash-follows", e, "stat=%s", type_of("symlink/to-dir/"));
        result("symlink-in-unwritable-dir", E(symlink("x", "symlink/nowrite/s")), NULL);
        result("symlink-in-foreign-dir", E(symlink("x", "foreign/root-dir/s")), NULL);

        result("readlink-not-symlink", E(readlink("symlink/file", back, sizeof back)), NULL);
        result("readlink-dir", E(readlink("symlink/dir", back, sizeof back)), NULL);
        result("readlink-missing", E(readlink("symlink/missing", back, sizeof back)), NULL);
        result("readlink-file-as-component", E(readlink("symlink/file/x", back, sizeof back)),
               NULL);
        result("readlink-symlink-trailing-slash", E(readlink("symlink/to-dir/", back, sizeof back)),
               NULL);
        n = readlink("symlink/new", back, 3);
        e = E(n);
        result("readlink-short-buffer", e, "returned=%zd bytes=%s", n,
               n < 0 ? "-" : escaped(back, (size_t)n));
        result("readlink-zero-buffer", E(readlink("symlink/new", back, 0)), NULL);
}

/* ---- chmod ---------------------------------------------------------------------------- */

static void chmod_setup(void)
{
        su_dir("chmod", 0755);
        su_file("chmod/file", 0644, "f");
        su_file("chmod/all-bits", 0644, "f");
        su_dir("chmod/dir", 0755);
        su_dir("chmod/dir-suid", 0755);
        su_file("chmod/target", 0644, "t");
        su_symlink("target", "chmod/sym");
        su_symlink("loop", "chmod/loop");
        su_file("chmod/ctime", 0644, "c");
        su_file("chmod/fd", 0644, "f");
        su_file("chmod/opath", 0644, "f");
        su_file("chmod/locked", 0644, "locked");
        su_fifo("chmod/fifo", 0644);
}

static void chmod_cases(void)
{
        int e;
        e = E(chmod("chmod/file", 0600));
        result("chmod-file-0600", e, "mode=%s", mode_of("chmod/file"));
        e = E(chmod("chmod/all-bits", 07777));
        result("chmod-file-07777", e, "mode=%s", mode_of("chmod/all-bits"));
        e = E(chmod("chmod/dir", 01777));
        result("chmod-dir-01777", e, "mode=%s", mode_of("chmod/dir"));
        e = E(chmod("chmod/dir-suid", 06755));
        result("chmod-dir-06755", e, "mode=%s", mode_of("chmod/dir-suid"));
        e = E(chmod("chmod/fifo", 0600));
        result("chmod-fifo", e, "mode=%s", mode_of("chmod/fifo"));
        e = E(chmod("chmod/sym", 0640));
        result("chmod-follows-symlink", e, "target=%s link=%s", mode_of("chmod/target"),
               mode_of("chmod/sym"));
        e = E(fchmodat(AT_FDCWD, "chmod/sym", 0600, AT_SYMLINK_NOFOLLOW));
        result("fchmodat-nofollow-symlink", e, "target=%s link=%s", mode_of("chmod/target"),
               mode_of("chmod/sym"));
        e = E(fchmodat(AT_FDCWD, "chmod/file", 0604, AT_SYMLINK_NOFOLLOW));
        result("fchmodat-nofollow-file", e, "mode=%s", mode_of("chmod/file"));
        result("chmod-missing", E(chmod("chmod/missing", 0644)), NULL);
        result("chmod-file-as-component", E(chmod("chmod/file/x", 0644)), NULL);
        result("chmod-file-trailing-slash", E(chmod("chmod/file/", 0644)), NULL);
        result("chmod-name-too-long", E(chmod(in("chmod", long_name(NAME_MAX + 1)), 0644)), NULL);
        result("chmod-symlink-loop", E(chmod("chmod/loop", 0644)), NULL);
        result("chmod-empty-path", E(chmod("", 0644)), NULL);
        struct ctime_mark m = mark_ctime("chmod/ctime");
        e = E(chmod("chmod/ctime", 0640));
        result("chmod-ctime", e, "ctime-changed=%s", ctime_changed("chmod/ctime", m));
        int fd = open("chmod/fd", O_RDONLY | O_CLOEXEC);
        e = fd < 0 ? errno : E(fchmod(fd, 0611));
        if (fd >= 0)
                close(fd);
        result("fchmod", e, "mode=%s", mode_of("chmod/fd"));
        fd = open("chmod/opath", O_PATH | O_CLOEXEC);
        e = fd < 0 ? errno : E(fchmod(fd, 0600));
        if (fd >= 0)
                close(fd);
        result("fchmod-opath-fd", e, "mode=%s", mode_of("chmod/opath"));
        e = E(chmod("chmod/locked", 0));
        result("chmod-0000-then-read", e, "open=%s",
               outcome(open_err("chmod/locked", O_RDONLY, 0)));
        e = E(chmod("foreign/chmod-ro", 0600));
        result("chmod-foreign-file", e, "mode=%s", mode_of("foreign/chmod-ro"));
        result("chmod-in-foreign-private-dir", E(chmod("foreign/private/chmod", 0600)), NULL);
        e = E(chmod("foreign/chmod-user-rootgroup", 02755));
        result("chmod-setgid-file-of-group-not-held", e, "mode=%s",
               mode_of("foreign/chmod-user-rootgroup"));
        e = E(chmod("foreign/chmod-user-rootgroup-dir", 02755));
        result("chmod-setgid-dir-of-group-not-held", e, "mode=%s",
               mode_of("foreign/chmod-user-rootgroup-dir"));
}

/* ---- chown ---------------------------------------------------------------------------- */

static void chown_setup(void)
{
        su_dir("chown", 0755);
        static const char *const files[] = {"self",      "minus-one",     "uid-other",
                                            "gid-other", "gid-own",       "ctime",
                                            "fd",        "fd-empty-path", "target"};
        for (size_t i = 0; i < sizeof files / sizeof *files; i++)
                su_file(in("chown", files[i]), 0644, "c");
        su_file("chown/suid-self", 04755, "s");
        su_file("chown/suid-minus-one", 04755, "s");
        su_file("chown/suid-other", 04755, "s");
        su_file("chown/sgid-gx", 02755, "s");
        su_file("chown/sgid-nogx", 02644, "s");
        su_dir("chown/dir-suid-sgid", 06755);
        su_symlink("target", "chown/sym");
        su_file("chown/target2", 0644, "t");
        su_symlink("target2", "chown/sym2");
        su_symlink("target2", "chown/sym3");
        su_symlink("loop", "chown/loop");
}

static void chown_cases(void)
{
        int e;
        uid_t u = geteuid();
        gid_t g = getegid();
        e = E(chown("chown/self", u, g));
        result("chown-to-self", e, "owner=%s group=%s", owner_of("chown/self"),
               group_of("chown/self"));
        e = E(chown("chown/minus-one", (uid_t)-1, (gid_t)-1));
        result("chown-minus-one", e, "owner=%s group=%s", owner_of("chown/minus-one"),
               group_of("chown/minus-one"));
        e = E(chown("chown/uid-other", THIRD_UID, (gid_t)-1));
        result("chown-uid-to-other-user", e, "owner=%s", owner_of("chown/uid-other"));
        e = E(chown("chown/gid-other", (uid_t)-1, THIRD_GID));
        result("chown-gid-to-group-not-held", e, "group=%s", group_of("chown/gid-other"));
        e = E(chown("chown/gid-own", (uid_t)-1, g));
        result("chown-gid-to-own-group", e, "group=%s", group_of("chown/gid-own"));
        e = E(chown("chown/suid-self", u, g));
        result("chown-setuid-file-to-self", e, "mode=%s", mode_of("chown/suid-self"));
        e = E(chown("chown/suid-minus-one", (uid_t)-1, (gid_t)-1));
        result("chown-setuid-file-minus-one", e, "mode=%s", mode_of("chown/suid-minus-one"));
        e = E(chown("chown/suid-other", THIRD_UID, (gid_t)-1));
        result("chown-setuid-file-to-other-user", e, "mode=%s owner=%s",
               mode_of("chown/suid-other"), owner_of("chown/suid-other"));
        e = E(chown("chown/sgid-gx", (uid_t)-1, g));
        result("chown-setgid-group-exec-file", e, "mode=%s", mode_of("chown/sgid-gx"));
        e = E(chown("chown/sgid-nogx", (uid_t)-1, g));
        result("chown-setgid-no-group-exec-file", e, "mode=%s", mode_of("chown/sgid-nogx"));
        e = E(chown("chown/dir-suid-sgid", u, g));
        result("chown-dir-keeps-setuid-setgid", e, "mode=%s", mode_of("chown/dir-suid-sgid"));
        e = E(lchown("chown/sym", u, g));
        result("lchown-symlink-to-self", e, "link-owner=%s target-owner=%s", owner_of("chown/sym"),
               owner_of("chown/target"));
        e = E(lchown("chown/sym2", THIRD_UID, THIRD_GID));
        result("lchown-symlink-to-other-user", e, "link-owner=%s target-owner=%s",
               owner_of("chown/sym2"), owner_of("chown/target2"));
        e = E(chown("chown/sym3", THIRD_UID, (gid_t)-1));
        result("chown-follows-symlink", e, "link-owner=%s target-owner=%s", owner_of("chown/sym3"),
               owner_of("chown/target2"));
        result("chown-missing", E(chown("chown/missing", u, g)), NULL);
        result("chown-file-as-component", E(chown("chown/self/x", u, g)), NULL);
        result("chown-name-too-long", E(chown(in("chown", long_name(NAME_MAX + 1)), u, g)), NULL);
        result("chown-symlink-loop", E(chown("chown/loop", u, g)), NULL);
        result("chown-empty-path", E(chown("", u, g)), NULL);
        struct ctime_mark m = mark_ctime("chown/ctime");
        e = E(chown("chown/ctime", u, g));
        result("chown-ctime", e, "ctime-changed=%s", ctime_changed("chown/ctime", m));
        int fd = open("chown/fd", O_RDONLY | O_CLOEXEC);
        e = fd < 0 ? errno : E(fchown(fd, u, g));
        if (fd >= 0)
                close(fd);
        result("fchown", e, "owner=%s", owner_of("chown/fd"));
        fd = open("chown/fd-empty-path", O_PATH | O_CLOEXEC);
        e = fd < 0 ? errno : E(fchownat(fd, "", u, g, AT_EMPTY_PATH));
        if (fd >= 0)
                close(fd);
        result("fchownat-empty-path", e, NULL);
        e = E(chown("foreign/chown-noop", (uid_t)-1, (gid_t)-1));
        result("chown-foreign-file-minus-one", e, "owner=%s", owner_of("foreign/chown-noop"));
        e = E(chown("foreign/chown-ro", u, g));
        result("chown-foreign-file-to-self", e, "owner=%s", owner_of("foreign/chown-ro"));
        e = E(chown("foreign/chown-user-file", (uid_t)-1, 0));
        result("chown-gid-to-root-group", e, "group=%s", group_of("foreign/chown-user-file"));
        result("chown-in-foreign-private-dir", E(chown("foreign/private/chown", u, g)), NULL);
}

/* ---- truncate ------------------------------------------------------------------------- */

static void truncate_setup(void)
{
        su_dir("truncate", 0755);
        static const char *const files[] = {
                "grow",      "shrink",           "zero",   "same", "negative",
                "ftruncate", "ftruncate-rdonly", "target", "ro"};
        for (size_t i = 0; i < sizeof files / sizeof *files; i++)
                su_file(in("truncate", files[i]), 0644, "hello");
        su_chmod("truncate/ro", 0444);
        su_past("truncate/grow");
        su_past("truncate/same");
        su_dir("truncate/dir", 0755);
        su_symlink("target", "truncate/sym");
        su_symlink("loop", "truncate/loop");
        su_fifo("truncate/fifo", 0644);
        su_file("truncate/suid", 04755, "hello");
        su_file("truncate/suid-fd", 04755, "hello");
}

static const char *zeros_after(const char *path, off_t from)
{
        char data[256];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno_name(errno);
        ssize_t n = pread(fd, data, sizeof data, from);
        int err = errno;
        close(fd);
        if (n < 0)
                return errno_name(err);
        for (ssize_t i = 0; i < n; i++)
                if (data[i])
                        return "no";
        return "yes";
}

static void truncate_cases(void)
{
        int e;
        e = E(truncate("truncate/grow", 100));
        result("truncate-grow", e, "size=%s zero-filled=%s mtime-changed=%s",
               size_of("truncate/grow"), zeros_after("truncate/grow", 5),
               mtime_moved("truncate/grow"));
        e = E(truncate("truncate/shrink", 2));
        result("truncate-shrink", e, "size=%s content=%s", size_of("truncate/shrink"),
               content_of("truncate/shrink"));
        e = E(truncate("truncate/zero", 0));
        result("truncate-to-zero", e, "size=%s", size_of("truncate/zero"));
        e = E(truncate("truncate/same", 5));
        result("truncate-same-size", e, "size=%s mtime-unchanged=%s", size_of("truncate/same"),
               mtime_is_past("truncate/same"));
        result("truncate-negative", E(truncate("truncate/negative", -1)), NULL);
        result("truncate-dir", E(truncate("truncate/dir", 0)), NULL);
        result("truncate-fifo", E(truncate("truncate/fifo", 0)), NULL);
        result("truncate-missing", E(truncate("truncate/missing", 0)), NULL);
        result("truncate-file-as-component", E(truncate("truncate/grow/x", 0)), NULL);
        result("truncate-file-trailing-slash", E(truncate("truncate/grow/", 0)), NULL);
        result("truncate-name-too-long", E(truncate(in("truncate", long_name(NAME_MAX + 1)), 0)),
               NULL);
        result("truncate-symlink-loop", E(truncate("truncate/loop", 0)), NULL);
        result("truncate-empty-path", E(truncate("", 0)), NULL);
        e = E(truncate("truncate/sym", 1));
        result("truncate-follows-symlink", e, "target-size=%s", size_of("truncate/target"));
        e = E(truncate("truncate/ro", 1));
        result("truncate-own-readonly-file", e, "size=%s", size_of("truncate/ro"));
        e = E(truncate("foreign/truncate-ro", 1));
        result("truncate-foreign-readonly-file", e, "size=%s", size_of("foreign/truncate-ro"));
        e = E(truncate("foreign/truncate-ww", 1));
        result("truncate-foreign-world-writable-file", e, "size=%s",
               size_of("foreign/truncate-ww"));
        result("truncate-in-foreign-private-dir", E(truncate("foreign/private/truncate", 0)), NULL);
        e = E(truncate("truncate/suid", 1));
        result("truncate-own-setuid-file", e, "mode=%s", mode_of("truncate/suid"));
        int fd = open("truncate/suid-fd", O_WRONLY | O_CLOEXEC);
        e = fd < 0 ? errno : E(ftruncate(fd, 1));
        if (fd >= 0)
                close(fd);
        result("ftruncate-own-setuid-file", e, "mode=%s", mode_of("truncate/suid-fd"));
        fd = open("truncate/ftruncate", O_RDWR | O_CLOEXEC);
        e = fd < 0 ? errno : E(ftruncate(fd, 10));
        result("ftruncate-grow", e, "size=%s", size_of("truncate/ftruncate"));
        result("ftruncate-negative", fd < 0 ? errno : E(ftruncate(fd, -1)), NULL);
        if (fd >= 0)
                close(fd);
        fd = open("truncate/ftruncate-rdonly", O_RDONLY | O_CLOEXEC);
        e = fd < 0 ? errno : E(ftruncate(fd, 1));
        if (fd >= 0)
                close(fd);
        result("ftruncate-read-only-fd", e, "size=%s", size_of("truncate/ftruncate-rdonly"));
        /* pjdfstest ftruncate/00.t: the right to write was checked when the file was
         * opened for writing, so its open descriptor truncates whatever the mode says
         * since: a file made with mode 0 by that open, one chmod'ed to 0 after it. */
        fd = open("truncate/made-mode-0", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0);
        e = fd < 0 ? errno : E(ftruncate(fd, 3));
        if (!e)
                e = E(ftruncate(fd, 0));
        if (fd >= 0)
                close(fd);
        result("ftruncate-file-made-with-mode-0", e, "size=%s mode=%s", size_of("truncate/made-mode-0"),
               mode_of("truncate/made-mode-0"));
        fd = open("truncate/chmod-0-after-open", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
        e = fd < 0 ? errno : E(fchmod(fd, 0));
        int write_e = fd < 0 || e ? e : write(fd, "hello", 5) == 5 ? 0 : errno;
        if (!e)
                e = E(ftruncate(fd, 2));
        if (fd >= 0)
                close(fd);
        result("ftruncate-after-fchmod-0", e, "write=%s size=%s mode=%s", outcome(write_e),
               size_of("truncate/chmod-0-after-open"), mode_of("truncate/chmod-0-after-open"));
}

/* ---- utimensat ------------------------------------------------------------------------ */

static void utime_setup(void)
{
        su_dir("utime", 0755);
        static const char *const files[] = {"explicit",   "now",      "null",      "omit-both",
                                            "omit-atime", "bad-nsec", "pre-epoch", "far-future",
                                            "target",     "fd",       "ctime"};
        for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
                su_file(in("utime", files[i]), 0644, "u");
                su_past(in("utime", files[i]));
        }
        su_dir("utime/dir", 0755);
        su_symlink("target", "utime/sym");
        su_symlink("target", "utime/sym-follow");
        su_symlink("loop", "utime/loop");
        su_file("utime/ro", 0444, "u");
}

static void utime_cases(void)
{
        int e;
        e = set_times("utime/explicit", PAST, 123456789, PAST + 1, 987654321, 0);
        result("utimensat-explicit", e, "exact=%s",
               times_are("utime/explicit", PAST, 123456789, PAST + 1, 987654321));
        e = set_times("utime/dir", PAST, 5, PAST + 2, 6, 0);
        result("utimensat-dir", e, "exact=%s", times_are("utime/dir", PAST, 5, PAST + 2, 6));
        e = set_times("utime/now", 0, UTIME_NOW, 0, UTIME_NOW, 0);
        struct stat st;
        const char *same = lstat("utime/now", &st) < 0
                                   ? errno_name(errno)
                                   : yesno(st.st_atim.tv_sec == st.st_mtim.tv_sec &&
                                           st.st_atim.tv_nsec == st.st_mtim.tv_nsec);
        result("utimensat-now", e, "mtime-changed=%s atime-equals-mtime=%s",
               mtime_moved("utime/now"), same);
        e = E(utimensat(AT_FDCWD, "utime/null", NULL, 0));
        result("utimensat-null-times", e, "mtime-changed=%s", mtime_moved("utime/null"));
        struct ctime_mark m = mark_ctime("utime/omit-both");
        e = set_times("utime/omit-both", 0, UTIME_OMIT, 0, UTIME_OMIT, 0);
        result("utimensat-omit-both", e, "times-unchanged=%s ctime-changed=%s",
               times_are("utime/omit-both", PAST, 0, PAST, 0), ctime_changed("utime/omit-both", m));
        e = set_times("utime/omit-atime", 0, UTIME_OMIT, PAST + 7, 7, 0);
        result("utimensat-omit-atime", e, "exact=%s",
               times_are("utime/omit-atime", PAST, 0, PAST + 7, 7));
        result("utimensat-nsec-one-billion",
               set_times("utime/bad-nsec", PAST, 1000000000, PAST, 0, 0), NULL);
        result("utimensat-nsec-negative", set_times("utime/bad-nsec", PAST, -2, PAST, 0, 0), NULL);
        e = set_times("utime/pre-epoch", -1, 0, -100000, 500, 0);
        result("utimensat-before-epoch", e, "exact=%s",
               times_are("utime/pre-epoch", -1, 0, -100000, 500));
        e = set_times("utime/far-future", 8589934592L, 0, 8589934592L, 1, 0);
        result("utimensat-year-2242", e, "exact=%s",
               times_are("utime/far-future", 8589934592L, 0, 8589934592L, 1));
        e = set_times("utime/sym", PAST + 3, 0, PAST + 3, 0, AT_SYMLINK_NOFOLLOW);
        result("utimensat-symlink-nofollow", e, "link-exact=%s target-unchanged=%s",
               times_are("utime/sym", PAST + 3, 0, PAST + 3, 0),
               times_are("utime/target", PAST, 0, PAST, 0));
        e = set_times("utime/sym-follow", PAST + 4, 0, PAST + 4, 0, 0);
        result("utimensat-follows-symlink", e, "target-exact=%s",
               times_are("utime/target", PAST + 4, 0, PAST + 4, 0));
        result("utimensat-missing", set_times("utime/missing", PAST, 0, PAST, 0, 0), NULL);
        result("utimensat-file-as-component", set_times("utime/now/x", PAST, 0, PAST, 0, 0), NULL);
        result("utimensat-name-too-long",
               set_times(in("utime", long_name(NAME_MAX + 1)), PAST, 0, PAST, 0, 0), NULL);
        result("utimensat-symlink-loop", set_times("utime/loop", PAST, 0, PAST, 0, 0), NULL);
        m = mark_ctime("utime/ctime");
        e = set_times("utime/ctime", PAST + 5, 0, PAST + 5, 0, 0);
        result("utimensat-ctime", e, "ctime-changed=%s", ctime_changed("utime/ctime", m));
        int fd = open("utime/fd", O_RDONLY | O_CLOEXEC);
        struct timespec t[2] = {{.tv_sec = PAST + 6}, {.tv_sec = PAST + 6}};
        e = fd < 0 ? errno : E(futimens(fd, t));
        if (fd >= 0)
                close(fd);
        result("futimens", e, "exact=%s", times_are("utime/fd", PAST + 6, 0, PAST + 6, 0));
        result("utimensat-own-readonly-file-now",
               set_times("utime/ro", 0, UTIME_NOW, 0, UTIME_NOW, 0), NULL);
        result("utimensat-foreign-readonly-file-now",
               set_times("foreign/utime-ro", 0, UTIME_NOW, 0, UTIME_NOW, 0), NULL);
        result("utimensat-foreign-readonly-file-null",
               E(utimensat(AT_FDCWD, "foreign/utime-ro", NULL, 0)), NULL);
        result("utimensat-foreign-writable-file-now",
               set_times("foreign/utime-ww", 0, UTIME_NOW, 0, UTIME_NOW, 0), NULL);
        result("utimensat-foreign-writable-file-explicit",
               set_times("foreign/utime-ww", PAST, 0, PAST, 0, 0), NULL);
        result("utimensat-foreign-writable-file-now-and-omit",
               set_times("foreign/utime-ww", 0, UTIME_NOW, 0, UTIME_OMIT, 0), NULL);
        result("utimensat-foreign-file-omit-both",
               set_times("foreign/utime-ro", 0, UTIME_OMIT, 0, UTIME_OMIT, 0), NULL);
        result("utimensat-in-foreign-private-dir",
               set_times("foreign/private/utime", PAST, 0, PAST, 0, 0), NULL);
}

/* ---- stat, readdir ------------------------------------------------------------------ */

static void stat_setup(void)
{
        su_dir("stat", 0755);
        su_file("stat/file", 0644, "file");
        su_dir("stat/dir", 0755);
        su_symlink("dir", "stat/sym");
        su_fifo("stat/fifo", 0644);
        su_file("stat/file-2", 0600, "2");
}

static const char *dtype_name(unsigned char t)
{
        return t == DT_REG    ? "file"
               : t == DT_DIR  ? "dir"
               : t == DT_LNK  ? "symlink"
               : t == DT_FIFO ? "fifo"
                              : "unknown";
}

static int by_name(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void readdir_case(void)
{
        DIR *d = opendir("stat");
        if (!d) {
                result("readdir", errno, NULL);
                return;
        }
        char *entries[32];
        size_t n = 0;
        bool dot = false, dotdot = false, inos_match = true;
        struct dirent *de;
        while ((de = readdir(d)) && n < 32) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
                        *(de->d_name[1] ? &dotdot : &dot) = true;
                        continue;
                }
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    st.st_ino != de->d_ino)
                        inos_match = false;
                char *b = scratch();
                snprintf(b, 640, "%s=%s", de->d_name, dtype_name(de->d_type));
                entries[n++] = b;
        }
        closedir(d);
        qsort(entries, n, sizeof *entries, by_name);
        char *list = scratch();
        list[0] = '\0';
        for (size_t i = 0; i < n; i++)
                snprintf(list + strlen(list), 640 - strlen(list), "%s%s", i ? "," : "", entries[i]);
        result("readdir", 0, "entries=%s dot=%s dotdot=%s d_ino-matches-stat=%s", list, yesno(dot),
               yesno(dotdot), yesno(inos_match));
}

static void stat_cases(void)
{
        struct stat a, b;
        readdir_case();
        result("stat-file", 0, "%s", desc("stat/file"));
        result("stat-dir", 0, "%s", desc("stat/dir"));
        result("stat-symlink", 0, "%s", desc("stat/sym"));
        result("stat-fifo", 0, "%s", desc("stat/fifo"));
        int e = E(stat("stat/sym", &a));
        result("stat-symlink-to-dir-follows", e, "type=%s", e ? "-" : type_name(a.st_mode));
        result("stat-dir-trailing-slash", E(stat("stat/dir/", &a)), NULL);
        result("stat-file-trailing-slash", E(stat("stat/file/", &a)), NULL);
        result("stat-missing", E(stat("stat/missing", &a)), NULL);
        result("stat-file-as-component", E(stat("stat/file/x", &a)), NULL);
        result("stat-name-too-long", E(stat(in("stat", long_name(NAME_MAX + 1)), &a)), NULL);
        fact("stat-dir-dot-is-dir", "%s", same_object("stat/dir/.", "stat/dir"));
        fact("stat-dir-dotdot-is-parent", "%s", same_object("stat/dir/..", "stat"));
        fact("stat-distinct-files-distinct-inodes", "%s",
             strcmp(same_object("stat/file", "stat/file-2"), "no") == 0 ? "yes" : "no");
        int fd = open("stat/file", O_RDONLY | O_CLOEXEC);
        e = fd < 0 ? errno : E(fstat(fd, &a));
        if (fd >= 0)
                close(fd);
        if (e == 0)
                e = E(stat("stat/file", &b));
        fact("fstat-matches-stat", "%s",
             e ? errno_name(e)
               : yesno(a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_mode == b.st_mode &&
                       a.st_size == b.st_size && a.st_nlink == b.st_nlink && a.st_uid == b.st_uid &&
                       a.st_gid == b.st_gid));
}

/* ---- fixtures owned by others (made by --prepare, as root) -------------------------- */

struct fixture {
        const char *path;
        char type; /* 'd' directory, 'f' file */
        mode_t mode;
        uid_t uid;
        gid_t gid;
};

static const struct fixture fixtures[] = {
        {"foreign", 'd', 0755, 0, 0},
        {"foreign/open-ro", 'f', 0644, 0, 0},
        {"foreign/write-suid-ww", 'f', 04777, 0, 0},
        {"foreign/chmod-ro", 'f', 0644, 0, 0},
        {"foreign/chmod-user-rootgroup", 'f', 0644, USER_UID, 0},
        {"foreign/chmod-user-rootgroup-dir", 'd', 0755, USER_UID, 0},
        {"foreign/chown-ro", 'f', 0644, 0, 0},
        {"foreign/chown-noop", 'f', 0644, 0, 0},
        {"foreign/chown-user-file", 'f', 0644, USER_UID, USER_GID},
        {"foreign/truncate-ro", 'f', 0644, 0, 0},
        {"foreign/truncate-ww", 'f', 0666, 0, 0},
        {"foreign/utime-ro", 'f', 0644, 0, 0},
        {"foreign/utime-ww", 'f', 0666, 0, 0},
        {"foreign/link-ro", 'f', 0644, 0, 0},
        {"foreign/link-ww", 'f', 0666, 0, 0},
        {"foreign/root-dir", 'd', 0755, 0, 0},
        {"foreign/root-dir/f", 'f', 0644, 0, 0},
        {"foreign/private", 'd', 0700, 0, 0},
        {"foreign/private/open", 'f', 0644, 0, 0},
        {"foreign/private/unlink", 'f', 0644, 0, 0},
        {"foreign/private/rename", 'f', 0644, 0, 0},
        {"foreign/private/link", 'f', 0644, 0, 0},
        {"foreign/private/chmod", 'f', 0644, 0, 0},
        {"foreign/private/chown", 'f', 0644, 0, 0},
        {"foreign/private/truncate", 'f', 0644, 0, 0},
        {"foreign/private/utime", 'f', 0644, 0, 0},
        {"foreign/private/dir", 'd', 0755, 0, 0},
        {"foreign/sticky", 'd', 01777, 0, 0},
        {"foreign/sticky/root-file", 'f', 0644, 0, 0},
        {"foreign/sticky/root-file2", 'f', 0644, 0, 0},
        {"foreign/sticky/root-file3", 'f', 0644, 0, 0},
        {"foreign/sticky/root-dir", 'd', 0755, 0, 0},
        {"foreign/sticky/third-file", 'f', 0644, THIRD_UID, THIRD_GID},
        {"foreign/sticky/user-file", 'f', 0644, USER_UID, USER_GID},
        {"foreign/sticky/user-file2", 'f', 0644, USER_UID, USER_GID},
        {"foreign/sgid-dir", 'd', 02777, 0, 0},
        {"foreign/ww-dir", 'd', 0777, 0, 0},
        {"foreign/ww-dir/rdir", 'd', 0755, 0, 0},
};

#define FIXTURE_COUNT (sizeof fixtures / sizeof *fixtures)

static int make_fixture(const struct fixture *f)
{
        if (f->type == 'd')
                return mkdir(f->path, 0700) < 0 ? errno : 0;
        int fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return errno;
        int err = write(fd, "data", 4) != 4 ? errno : 0;
        close(fd);
        return err;
}

/* Make the fixtures in the current directory; 0 or the errno of the first failure.
 * Everything is made first, then owners and modes are set, deepest first (so that no
 * directory is locked before what is inside it is done) and mode after owner (chown
 * clears setuid bits). */
static int prepare_fixtures(void)
{
        for (size_t i = 0; i < FIXTURE_COUNT; i++) {
                int err = make_fixture(&fixtures[i]);
                if (err) {
                        fprintf(stderr, "posix_check: make %s: %s\n", fixtures[i].path,
                                strerror(err));
                        return err;
                }
        }
        for (size_t i = FIXTURE_COUNT; i-- > 0;) {
                const struct fixture *f = &fixtures[i];
                if (lchown(f->path, f->uid, f->gid) < 0 || chmod(f->path, f->mode) < 0) {
                        int err = errno;
                        fprintf(stderr, "posix_check: own %s: %s\n", f->path, strerror(err));
                        return err;
                }
        }
        return 0;
}

/* Check what the caller can see of the fixtures; one line, so both runs agree on it. */
static void verify_fixtures(void)
{
        size_t checked = 0, unreachable = 0;
        for (size_t i = 0; i < FIXTURE_COUNT; i++) {
                const struct fixture *f = &fixtures[i];
                struct stat st;
                if (lstat(f->path, &st) < 0) {
                        if (errno != EACCES) {
                                printf("setup fixture %s: %s\n", f->path, errno_name(errno));
                                setup_failures++;
                        }
                        unreachable++;
                        continue;
                }
                checked++;
                if ((f->type == 'd') != !!S_ISDIR(st.st_mode) || (st.st_mode & 07777) != f->mode ||
                    st.st_uid != f->uid || st.st_gid != f->gid) {
                        printf("setup fixture %s: type/mode/owner %s %04o %u:%u\n", f->path,
                               type_name(st.st_mode), (unsigned)(st.st_mode & 07777),
                               (unsigned)st.st_uid, (unsigned)st.st_gid);
                        setup_failures++;
                }
        }
        fact("fixtures", "checked=%zu unreachable=%zu", checked, unreachable);
}

/* ---- main ----------------------------------------------------------------------------- */

/* The names in the current directory other than . and ..: 0 none, 1 only foreign, -1
 * anything else (reported). */
static int dir_state(const char *dir)
{
        DIR *d = opendir(".");
        if (!d) {
                fprintf(stderr, "posix_check: cannot list %s: %s\n", dir, strerror(errno));
                return -1;
        }
        int state = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (strcmp(de->d_name, "foreign") == 0 && state == 0) {
                        state = 1;
                        continue;
                }
                fprintf(stderr,
                        "posix_check: %s is not empty (it holds '%s'); give it an empty "
                        "directory\n",
                        dir, de->d_name);
                state = -1;
                break;
        }
        closedir(d);
        return state;
}

/* The chain cases, trials times each: "case: ANSWER COUNT..." per case. */
static int chain_trials(long trials)
{
        su_dir("open", 0755);
        su_file("open/file", 0644, "hello");
        chain_setup();
        if (setup_failures)
                return 1;
        static const struct {
                const char *name, *path;
        } cases[] = {{"open-symlink-chain-40", "open/chain/c01"},
                     {"open-symlink-chain-41", "open/chain/c00"}};
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
                long ok = 0, eloop = 0, other = 0;
                for (long i = 0; i < trials; i++) {
                        int e = chain_open_err(cases[c].path);
                        if (e == 0)
                                ok++;
                        else if (e == ELOOP)
                                eloop++;
                        else
                                other++;
                }
                printf("%s: OK %ld ELOOP %ld other %ld\n", cases[c].name, ok, eloop, other);
        }
        return fflush(stdout) == 0 ? 0 : 1;
}

static void usage(void)
{
        fprintf(stderr, "usage: posix_check [--prepare] DIR\n"
                        "       posix_check --chain-trials N DIR\n"
                        "  --prepare  as root, make DIR/foreign (objects owned by others) in "
                        "an empty DIR\n"
                        "  without it, run the cases in DIR, which holds nothing but foreign/\n");
        exit(2);
}

int main(int argc, char **argv)
{
        if (argc == 4 && strcmp(argv[1], "--chain-trials") == 0) {
                char *end;
                long trials = strtol(argv[2], &end, 10);
                if (*end || trials <= 0)
                        usage();
                if (chdir(argv[3]) < 0) {
                        fprintf(stderr, "posix_check: %s: %s\n", argv[3], strerror(errno));
                        return 2;
                }
                umask(022);
                return dir_state(argv[3]) == 0 ? chain_trials(trials) : 2;
        }
        bool prepare = argc == 3 && strcmp(argv[1], "--prepare") == 0;
        if (argc != 2 + prepare || argv[argc - 1][0] == '-')
                usage();
        const char *dir = argv[argc - 1];
        if (chdir(dir) < 0) {
                fprintf(stderr, "posix_check: %s: %s\n", dir, strerror(errno));
                return 2;
        }
        umask(022);
        int state = dir_state(dir);
        if (state < 0)
                return 2;
        if (prepare || state == 0) {
                if (state != 0) {
                        fprintf(stderr, "posix_check: %s is already prepared\n", dir);
                        return 2;
                }
                if (geteuid() != 0) {
                        fprintf(stderr,
                                "posix_check: %s: the fixtures must be made by root "
                                "(posix_check --prepare %s)\n",
                                dir, dir);
                        return 2;
                }
                if (prepare_fixtures() != 0)
                        return 1;
                if (prepare)
                        return 0;
        }
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
        verify_fixtures();
        struct stat st;
        fact("dir-owned-by-caller", "%s",
             stat(".", &st) < 0 ? errno_name(errno) : yesno(st.st_uid == geteuid()));
        open_setup();
        mkdir_setup();
        rmdir_setup();
        unlink_setup();
        rename_setup();
        link_setup();
        symlink_setup();
        chmod_setup();
        chown_setup();
        truncate_setup();
        utime_setup();
        stat_setup();

        open_cases();
        mkdir_cases();
        rmdir_cases();
        unlink_cases();
        rename_cases();
        link_cases();
        symlink_cases();
        chmod_cases();
        chown_cases();
        truncate_cases();
        utime_cases();
        stat_cases();
        /* Every line but the two above the cases ("fixtures", "dir-owned-by-caller"). */
        size_t cases = names_count - 2;
        fact("cases", "%zu", cases);
        return fflush(stdout) == 0 && setup_failures == 0 ? 0 : 1;
}
