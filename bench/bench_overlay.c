/* bench_overlay.c — file-system workloads on one directory, timed.
 *
 * Used by bench/overlay.sh to compare a directory as it is with the same directory
 * seen through a bindlink overlay (the FUSE mount bindlinkd puts on the parent of an
 * anchorless link), and a link's content seen through its graft with its backing
 * directory seen directly. Standalone: libc only, built by overlay.sh itself.
 *
 * Usage: bench_overlay [--runs N] [--warmup N] [--expect N] [--creates N]
 *                      [--opens N] DIR WORKLOAD...
 *
 * The regular files directly in DIR (not in its subdirectories) are "its files";
 * they are listed once, before any timing. Workloads:
 *
 *   readdir    opendir + readdir to the end + closedir of DIR; the entries other
 *              than . and .. are counted and must number --expect (if given);
 *   stat       stat(2) of every file, by its full path;
 *   statcold   the same, each run (and warm-up) preceded by an untimed 1.2 s pause,
 *              so that attributes and names cached for 1 s (bindlink-overlay's
 *              entry and attribute timeout) have expired;
 *   read       open + read(4096) + close of every file, by its full path (each
 *              read must return 4096 bytes);
 *   create     open(O_CREAT|O_EXCL) + write(4096) + close of --creates new files
 *              (default 1000) in DIR; they are unlinked afterwards, untimed;
 *   openclose  --opens (default 100000) open + close of DIR's first file.
 *
 * Each workload runs --warmup times untimed (default 1), then --runs times
 * (default 5). For each it prints one line on stdout:
 *
 *   WORKLOAD MEDIAN_US OPERATIONS RUN_US...
 *
 * elapsed wall-clock microseconds (CLOCK_MONOTONIC) of a whole run; OPERATIONS is
 * how many files (entries for readdir) one run handles. Any failed call stops the
 * program with a message on stderr and exit status 1. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_SIZE 4096
#define MAX_RUNS 100

static const char *dir;
static char **files; /* full paths of DIR's regular files, sorted */
static size_t file_count;
static long expect = -1, creates = 1000, opens = 100000;
static char buffer[FILE_SIZE];

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("bench_overlay: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
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

static int cmp_str(const void *pa, const void *pb)
{
        return strcmp(*(char *const *)pa, *(char *const *)pb);
}

static int cmp_double(const void *pa, const void *pb)
{
        double a = *(const double *)pa, b = *(const double *)pb;
        return (a > b) - (a < b);
}

static void list_files(void)
{
        DIR *d = opendir(dir);
        if (!d)
                die("opendir %s: %s", dir, strerror(errno));
        size_t cap = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
                        continue;
                char *path = join(dir, de->d_name);
                struct stat st;
                if (lstat(path, &st) < 0)
                        die("lstat %s: %s", path, strerror(errno));
                if (!S_ISREG(st.st_mode)) {
                        free(path);
                        continue;
                }
                if (file_count == cap) {
                        cap = cap ? cap * 2 : 1024;
                        files = realloc(files, cap * sizeof *files);
                        if (!files)
                                die("out of memory");
                }
                files[file_count++] = path;
                errno = 0;
        }
        if (errno)
                die("readdir %s: %s", dir, strerror(errno));
        (void)closedir(d);
        qsort(files, file_count, sizeof *files, cmp_str);
}

/* ---- the workloads: each returns how many operations one run did ----------------- */

static long w_readdir(void)
{
        DIR *d = opendir(dir);
        if (!d)
                die("opendir %s: %s", dir, strerror(errno));
        long n = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d)))
                if (!(de->d_name[0] == '.' &&
                      (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0'))))
                        n++;
        if (errno)
                die("readdir %s: %s", dir, strerror(errno));
        (void)closedir(d);
        if (expect >= 0 && n != expect)
                die("readdir %s: %ld entries, expected %ld", dir, n, expect);
        return n;
}

static long w_stat(void)
{
        struct stat st;
        for (size_t i = 0; i < file_count; i++)
                if (stat(files[i], &st) < 0)
                        die("stat %s: %s", files[i], strerror(errno));
        return (long)file_count;
}

static long w_read(void)
{
        for (size_t i = 0; i < file_count; i++) {
                int fd = open(files[i], O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        die("open %s: %s", files[i], strerror(errno));
                ssize_t n = read(fd, buffer, FILE_SIZE);
                if (n != FILE_SIZE)
                        die("read %s: %s", files[i],
                            n < 0 ? strerror(errno) : "short read (not a 4 KiB file?)");
                if (close(fd) < 0)
                        die("close %s: %s", files[i], strerror(errno));
        }
        return (long)file_count;
}

static char **new_names;

static long w_create(void)
{
        for (long i = 0; i < creates; i++) {
                int fd = open(new_names[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0)
                        die("create %s: %s", new_names[i], strerror(errno));
                if (write(fd, buffer, FILE_SIZE) != FILE_SIZE)
                        die("write %s: %s", new_names[i], strerror(errno));
                if (close(fd) < 0)
                        die("close %s: %s", new_names[i], strerror(errno));
        }
        return creates;
}

static void create_cleanup(void)
{
        for (long i = 0; i < creates; i++)
                if (unlink(new_names[i]) < 0)
                        die("unlink %s: %s", new_names[i], strerror(errno));
}

static long w_openclose(void)
{
        const char *path = files[0];
        for (long i = 0; i < opens; i++) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        die("open %s: %s", path, strerror(errno));
                if (close(fd) < 0)
                        die("close %s: %s", path, strerror(errno));
        }
        return opens;
}

static void pause_for_expiry(void)
{
        struct timespec ts = {.tv_sec = 1, .tv_nsec = 200000000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

struct workload {
        const char *name;
        long (*run)(void);
        void (*before)(void); /* untimed, before each run */
        void (*after)(void);  /* untimed, after each run */
        int needs_files;
};

static const struct workload workloads[] = {
        {"readdir", w_readdir, NULL, NULL, 0},
        {"stat", w_stat, NULL, NULL, 1},
        {"statcold", w_stat, pause_for_expiry, NULL, 1},
        {"read", w_read, NULL, NULL, 1},
        {"create", w_create, NULL, create_cleanup, 0},
        {"openclose", w_openclose, NULL, NULL, 1},
};

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
                {"runs", required_argument, NULL, 'r'},
                {"warmup", required_argument, NULL, 'w'},
                {"expect", required_argument, NULL, 'e'},
                {"creates", required_argument, NULL, 'c'},
                {"opens", required_argument, NULL, 'o'},
                {0},
        };
        long runs = 5, warmup = 1;
        int c;
        while ((c = getopt_long(argc, argv, "r:w:e:c:o:", options, NULL)) != -1) {
                switch (c) {
                case 'r':
                        runs = parse_long(optarg, "run count", 1, MAX_RUNS);
                        break;
                case 'w':
                        warmup = parse_long(optarg, "warm-up count", 0, MAX_RUNS);
                        break;
                case 'e':
                        expect = parse_long(optarg, "expected entry count", 0, LONG_MAX);
                        break;
                case 'c':
                        creates = parse_long(optarg, "create count", 1, 1000000);
                        break;
                case 'o':
                        opens = parse_long(optarg, "open count", 1, 100000000);
                        break;
                default:
                        fprintf(stderr, "Usage: bench_overlay [--runs N] [--warmup N] "
                                        "[--expect N] [--creates N] [--opens N] DIR "
                                        "readdir|stat|statcold|read|create|openclose...\n");
                        return 2;
                }
        }
        if (argc - optind < 2)
                die("a directory and at least one workload are required");
        dir = argv[optind++];
        for (int i = optind; i < argc; i++) {
                size_t k = 0;
                while (k < sizeof workloads / sizeof workloads[0] &&
                       strcmp(workloads[k].name, argv[i]) != 0)
                        k++;
                if (k == sizeof workloads / sizeof workloads[0])
                        die("unknown workload %s", argv[i]);
        }
        memset(buffer, 'b', sizeof buffer);
        list_files();
        new_names = calloc((size_t)creates, sizeof *new_names);
        if (!new_names)
                die("out of memory");
        for (long i = 0; i < creates; i++) {
                char name[64];
                (void)snprintf(name, sizeof name, ".bench-overlay-new-%06ld", i);
                new_names[i] = join(dir, name);
        }

        for (int i = optind; i < argc; i++) {
                const struct workload *w = workloads;
                while (strcmp(w->name, argv[i]) != 0)
                        w++;
                if (w->needs_files && file_count == 0)
                        die("%s: %s has no regular files", w->name, dir);
                double us[MAX_RUNS], sorted[MAX_RUNS];
                long ops = 0;
                for (long r = 0; r < warmup + runs; r++) {
                        if (w->before)
                                w->before();
                        double t0 = now_us();
                        ops = w->run();
                        double t1 = now_us();
                        if (r >= warmup)
                                us[r - warmup] = t1 - t0;
                        if (w->after)
                                w->after();
                }
                memcpy(sorted, us, (size_t)runs * sizeof *us);
                qsort(sorted, (size_t)runs, sizeof *sorted, cmp_double);
                double median = runs % 2 ? sorted[runs / 2]
                                         : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
                printf("%s %.1f %ld", w->name, median, ops);
                for (long r = 0; r < runs; r++)
                        printf(" %.1f", us[r]);
                putchar('\n');
                fflush(stdout);
        }
        return 0;
}
