/* bench_merged.c — file-system workloads on a merged directory, timed.
 *
 * Used by bench/merged.sh to compare a merged bindlink (a directory V showing the
 * union of B and V's own content) with union file systems (mergerfs, unionfs-fuse,
 * fuse-overlayfs), with bindfs, with a plain bind link and with B itself. Standalone:
 * libc only, built by merged.sh itself.
 *
 * Usage: bench_merged --names FILE [--land DIR] [--hot NAME] [--big NAME]
 *                     [--creates N] [--opens N] [--drop-caches] DIR WORKLOAD...
 *
 * The files the workloads use are not listed from DIR (a readdir would fill the
 * caches that "statfirst" must find empty): FILE holds their paths relative to DIR,
 * one a line (merged.sh writes it from the branches before anything is mounted).
 * Workloads, run in the order given, each one time per call:
 *
 *   statfirst  stat(2) of every file of FILE by its full path; meant to be the first
 *              thing done on a freshly mounted DIR;
 *   stat       the same again (the caches are warm now);
 *   readdircold  opendir + readdir to the end + closedir of DIR, nothing before it:
 *              meant to be the first thing done on a freshly mounted DIR (then no
 *              other workload in the same call);
 *   readdir    opendir + readdir to the end + closedir of DIR, after one untimed
 *              warm-up pass; the count of entries other than . and .. is printed;
 *   read       open + read(4096) + close of every file, after one untimed warm-up
 *              pass. Each read must return 4096 bytes. The first byte tells which
 *              branch a file comes from (merged.sh writes 'B' into B's files, 'V'
 *              into V's): a file whose name starts with 'v' (only in V) must show
 *              'V', every other file 'B' (B wins where names collide);
 *   create     open(O_CREAT|O_EXCL) + write(4096) + close of --creates new files
 *              (default 5000) in DIR. Untimed afterwards: every one must be in
 *              --land DIR (the branch where creates are meant to land), then they
 *              are unlinked through DIR and must be gone from --land;
 *   openclose  --opens (default 100000) open + close of DIR/--hot (default: the
 *              first file of FILE);
 *   readcold   sequential read of DIR/--big to its end in 128 KiB read(2) calls (as
 *              cat(1) and cp(1) make them); with --drop-caches, "3" is written to
 *              /proc/sys/vm/drop_caches first (untimed);
 *   readwarm   the same without dropping caches (right after readcold: warm).
 *
 * For each workload it prints one line on stdout:
 *
 *   WORKLOAD MICROSECONDS OPERATIONS
 *
 * elapsed wall-clock time (CLOCK_MONOTONIC) of the timed pass; OPERATIONS is the
 * number of files (entries for readdir, bytes for readcold/readwarm). A workload
 * that fails prints instead
 *
 *   WORKLOAD error MESSAGE
 *
 * and the next one runs. The exit status is 0 unless the arguments are wrong or
 * FILE cannot be read (then 2 or 1). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_SIZE 4096
#define BIG_CHUNK (128 * 1024) /* what cat(1) and cp(1) read at a time */

static const char *dir, *land, *hot, *big = "big";
static char **paths; /* DIR/name for every name of FILE */
static char **names; /* the names themselves */
static size_t path_count;
static long creates = 5000, opens = 100000;
static int drop_caches;
static char buffer[FILE_SIZE];
static char *big_buffer;
static char errmsg[1024];
static double own_us = -1; /* set by a workload that times only part of its work */

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("bench_merged: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

/* Records why the workload failed; returns -1 for "return fail(...)". */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(errmsg, sizeof errmsg, fmt, ap);
        va_end(ap);
        return -1;
}

static double now_us(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static char *join(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        char *s = malloc(la + lb + 2);
        if (!s)
                die("out of memory");
        memcpy(s, a, la);
        s[la] = '/';
        memcpy(s + la + 1, b, lb + 1);
        return s;
}

static void read_names(const char *file)
{
        FILE *f = fopen(file, "r");
        if (!f)
                die("%s: %s", file, strerror(errno));
        size_t cap = 0;
        char line[4096];
        while (fgets(line, sizeof line, f)) {
                size_t n = strlen(line);
                while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                        line[--n] = '\0';
                if (!n)
                        continue;
                if (path_count == cap) {
                        cap = cap ? cap * 2 : 1024;
                        paths = realloc(paths, cap * sizeof *paths);
                        names = realloc(names, cap * sizeof *names);
                        if (!paths || !names)
                                die("out of memory");
                }
                names[path_count] = strdup(line);
                if (!names[path_count])
                        die("out of memory");
                paths[path_count++] = join(dir, line);
        }
        if (ferror(f))
                die("%s: read error", file);
        (void)fclose(f);
        if (path_count == 0)
                die("%s names no file", file);
}

/* ---- the workloads: each sets *ops and returns 0, or returns fail(...) ------------ */

static int w_stat(long *ops)
{
        struct stat st;
        for (size_t i = 0; i < path_count; i++)
                if (stat(paths[i], &st) < 0)
                        return fail("stat %s: %s", paths[i], strerror(errno));
        *ops = (long)path_count;
        return 0;
}

static int readdir_once(long *ops)
{
        DIR *d = opendir(dir);
        if (!d)
                return fail("opendir %s: %s", dir, strerror(errno));
        long n = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d)))
                if (!(de->d_name[0] == '.' &&
                      (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0'))))
                        n++;
        int e = errno;
        (void)closedir(d);
        if (e)
                return fail("readdir %s: %s", dir, strerror(e));
        *ops = n;
        return 0;
}

static int read_once(long *ops)
{
        long wrong = 0;
        const char *first_wrong = NULL;
        char first_byte = 0;
        for (size_t i = 0; i < path_count; i++) {
                int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return fail("open %s: %s", paths[i], strerror(errno));
                ssize_t n = read(fd, buffer, FILE_SIZE);
                int e = errno;
                if (close(fd) < 0)
                        return fail("close %s: %s", paths[i], strerror(errno));
                if (n != FILE_SIZE)
                        return fail("read %s: %s", paths[i],
                                    n < 0 ? strerror(e) : "short read (not a 4 KiB file?)");
                const char *base = strrchr(names[i], '/');
                base = base ? base + 1 : names[i];
                char want = base[0] == 'v' ? 'V' : 'B';
                if (buffer[0] != want) {
                        if (!wrong++) {
                                first_wrong = names[i];
                                first_byte = buffer[0];
                        }
                }
        }
        if (wrong)
                return fail("%ld of %zu files show the wrong branch (first: %s starts with '%c'; "
                            "B must win where names collide)",
                            wrong, path_count, first_wrong, first_byte);
        *ops = (long)path_count;
        return 0;
}

static char **new_paths, **new_names;

static void unlink_new(long count)
{
        for (long i = 0; i < count; i++)
                (void)unlink(new_paths[i]);
}

static int w_create(long *ops)
{
        double t0 = now_us();
        for (long i = 0; i < creates; i++) {
                int fd = open(new_paths[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0) {
                        int e = errno;
                        unlink_new(i);
                        return fail("create %s: %s", new_paths[i], strerror(e));
                }
                ssize_t n = write(fd, buffer, FILE_SIZE);
                int e = errno;
                if (close(fd) < 0 || n != FILE_SIZE) {
                        if (n == FILE_SIZE)
                                e = errno;
                        unlink_new(i + 1);
                        return fail("write/close %s: %s", new_paths[i],
                                    n >= 0 && n != FILE_SIZE ? "short write" : strerror(e));
                }
        }
        own_us = now_us() - t0;
        *ops = creates;
        /* Untimed: where did they land, and do they go away? */
        int rc = 0;
        if (land) {
                int lfd = open(land, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (lfd < 0) {
                        unlink_new(creates);
                        return fail("open %s: %s", land, strerror(errno));
                }
                long there = 0;
                struct stat st;
                for (long i = 0; i < creates; i++)
                        if (fstatat(lfd, new_names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                            S_ISREG(st.st_mode) && st.st_size == FILE_SIZE)
                                there++;
                if (there != creates)
                        rc = fail("only %ld of %ld created files landed in %s", there, creates,
                                  land);
                for (long i = 0; i < creates; i++)
                        if (unlink(new_paths[i]) < 0 && rc == 0)
                                rc = fail("unlink %s: %s", new_paths[i], strerror(errno));
                long left = 0;
                for (long i = 0; i < creates; i++)
                        if (fstatat(lfd, new_names[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
                                left++;
                if (left && rc == 0)
                        rc = fail("%ld created files are still in %s after unlink", left, land);
                (void)close(lfd);
        } else {
                for (long i = 0; i < creates; i++)
                        if (unlink(new_paths[i]) < 0 && rc == 0)
                                rc = fail("unlink %s: %s", new_paths[i], strerror(errno));
        }
        return rc;
}

static int w_openclose(long *ops)
{
        for (long i = 0; i < opens; i++) {
                int fd = open(hot, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return fail("open %s: %s", hot, strerror(errno));
                if (close(fd) < 0)
                        return fail("close %s: %s", hot, strerror(errno));
        }
        *ops = opens;
        return 0;
}

static int read_big(long *ops)
{
        int fd = open(big, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return fail("open %s: %s", big, strerror(errno));
        long long total = 0;
        for (;;) {
                ssize_t n = read(fd, big_buffer, BIG_CHUNK);
                if (n < 0) {
                        int e = errno;
                        (void)close(fd);
                        return fail("read %s: %s", big, strerror(e));
                }
                if (n == 0)
                        break;
                total += n;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                (void)close(fd);
                return fail("fstat %s: %s", big, strerror(e));
        }
        (void)close(fd);
        if (total != (long long)st.st_size)
                return fail("read %lld bytes of %s, its size is %lld", total, big,
                            (long long)st.st_size);
        *ops = (long)total;
        return 0;
}

static int drop_all_caches(void)
{
        int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return fail("open /proc/sys/vm/drop_caches: %s", strerror(errno));
        if (write(fd, "3\n", 2) != 2) {
                int e = errno;
                (void)close(fd);
                return fail("write /proc/sys/vm/drop_caches: %s", strerror(e));
        }
        (void)close(fd);
        return 0;
}

struct workload {
        const char *name;
        int (*run)(long *ops);
        int warmups; /* untimed passes first */
        int drop;    /* drop the caches first (if --drop-caches) */
};

static const struct workload workloads[] = {
        {"statfirst", w_stat, 0, 0},
        {"stat", w_stat, 0, 0},
        {"readdircold", readdir_once, 0, 0},
        {"readdir", readdir_once, 1, 0},
        {"read", read_once, 1, 0},
        {"create", w_create, 0, 0},
        {"openclose", w_openclose, 0, 0},
        {"readcold", read_big, 0, 1},
        {"readwarm", read_big, 0, 0},
};
#define N_WORKLOADS (sizeof workloads / sizeof workloads[0])

static long parse_long(const char *s, const char *what, long min, long max)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                die("bad %s: %s", what, s);
        return v;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"names", required_argument, NULL, 'n'},
                {"land", required_argument, NULL, 'l'},
                {"hot", required_argument, NULL, 'h'},
                {"big", required_argument, NULL, 'b'},
                {"creates", required_argument, NULL, 'c'},
                {"opens", required_argument, NULL, 'o'},
                {"drop-caches", no_argument, NULL, 'd'},
                {0},
        };
        const char *names_file = NULL, *hot_name = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "n:l:h:b:c:o:d", options, NULL)) != -1) {
                switch (c) {
                case 'n':
                        names_file = optarg;
                        break;
                case 'l':
                        land = optarg;
                        break;
                case 'h':
                        hot_name = optarg;
                        break;
                case 'b':
                        big = optarg;
                        break;
                case 'c':
                        creates = parse_long(optarg, "create count", 1, 1000000);
                        break;
                case 'o':
                        opens = parse_long(optarg, "open count", 1, 100000000);
                        break;
                case 'd':
                        drop_caches = 1;
                        break;
                default:
                        fprintf(stderr,
                                "Usage: bench_merged --names FILE [--land DIR] [--hot NAME] "
                                "[--big NAME] [--creates N] [--opens N] [--drop-caches] DIR "
                                "statfirst|stat|readdircold|readdir|read|create|openclose|readcold|"
                                "readwarm...\n");
                        return 2;
                }
        }
        if (!names_file)
                die("--names FILE is required");
        if (argc - optind < 2)
                die("a directory and at least one workload are required");
        dir = argv[optind++];
        for (int i = optind; i < argc; i++) {
                size_t k = 0;
                while (k < N_WORKLOADS && strcmp(workloads[k].name, argv[i]) != 0)
                        k++;
                if (k == N_WORKLOADS)
                        die("unknown workload %s", argv[i]);
        }
        read_names(names_file);
        hot = join(dir, hot_name ? hot_name : names[0]);
        big = join(dir, big);
        memset(buffer, 'n', sizeof buffer);
        big_buffer = malloc(BIG_CHUNK);
        new_paths = calloc((size_t)creates, sizeof *new_paths);
        new_names = calloc((size_t)creates, sizeof *new_names);
        if (!big_buffer || !new_paths || !new_names)
                die("out of memory");
        memset(big_buffer, 0, BIG_CHUNK);
        for (long i = 0; i < creates; i++) {
                char name[64];
                (void)snprintf(name, sizeof name, "new%06ld", i);
                new_names[i] = strdup(name);
                if (!new_names[i])
                        die("out of memory");
                new_paths[i] = join(dir, name);
        }

        for (int i = optind; i < argc; i++) {
                const struct workload *w = workloads;
                while (strcmp(w->name, argv[i]) != 0)
                        w++;
                long ops = 0;
                int rc = 0;
                errmsg[0] = '\0';
                for (int k = 0; k < w->warmups && rc == 0; k++)
                        rc = w->run(&ops);
                if (rc == 0 && w->drop && drop_caches)
                        rc = drop_all_caches();
                double t0 = 0, t1 = 0;
                if (rc == 0) {
                        own_us = -1;
                        t0 = now_us();
                        rc = w->run(&ops);
                        t1 = now_us();
                }
                if (rc < 0)
                        printf("%s error %s\n", w->name, errmsg);
                else
                        printf("%s %.1f %ld\n", w->name, own_us >= 0 ? own_us : t1 - t0, ops);
                fflush(stdout);
        }
        return 0;
}
