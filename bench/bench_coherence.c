/* bench_coherence.c — how long a change made directly in a layer takes to show through
 * a view of it (a merged link, a union filesystem), timed.
 *
 * Used by bench/merged.sh. libc only (and bench_common.h's clock).
 *
 * Usage: bench_coherence --layer DIR [--samples N] [--deadline-ms MS] VIEW CHANGE...
 *
 * Each CHANGE is made SAMPLES times (default 20) in DIR (the layer: B), on a name the
 * view has just been asked about, so that whatever the view and the kernel cache is
 * warm; then the view is polled (every 20 us) until it shows the change:
 *
 *   create  a new file (the view had answered "no such file");
 *   delete  a file the view showed is unlinked; until stat says ENOENT;
 *   rename  a file the view showed is renamed; until the new name is there and the
 *           old one gone;
 *   write   a 4-byte file the view showed is rewritten with 8 other bytes; until
 *           stat shows 8 bytes and a read through the view returns them.
 *
 * For every sample it prints one line on stdout, the time from the change's last
 * system call to the view showing it:
 *
 *   coh-CHANGE MICROSECONDS 1
 *
 * capped at the deadline (default 3000 ms); a sample that reached it also prints
 * "coh-CHANGE-late 1 1". A change that cannot be made prints "coh-CHANGE error
 * MESSAGE". */
#include "bench_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *layer, *view;
static long samples = 20;
static double deadline_us = 3000000;
static char errmsg[512];

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(errmsg, sizeof errmsg, fmt, ap);
        va_end(ap);
        return -1;
}

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
        (void)snprintf(buf, size, "%s/%s", dir, name);
}

static bool exists(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0;
}

static bool missing(const char *path)
{
        struct stat st;
        return stat(path, &st) < 0 && errno == ENOENT;
}

/* Does path hold exactly want (stat's size and a read agree)? */
static bool holds(const char *path, const char *want)
{
        struct stat st;
        size_t len = strlen(want);
        if (stat(path, &st) < 0 || (size_t)st.st_size != len)
                return false;
        char buf[64];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof buf);
        (void)close(fd);
        return n == (ssize_t)len && memcmp(buf, want, len) == 0;
}

static int write_file(const char *path, const char *content, int flags)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0644);
        if (fd < 0)
                return fail("open %s: %s", path, strerror(errno));
        size_t len = strlen(content);
        if (write(fd, content, len) != (ssize_t)len) {
                int e = errno;
                (void)close(fd);
                return fail("write %s: %s", path, strerror(e));
        }
        if (close(fd) < 0)
                return fail("close %s: %s", path, strerror(errno));
        return 0;
}

/* Poll until done() says the view shows the change, from t0: the time taken, capped
 * at the deadline (*late then). */
struct check {
        bool (*fn)(const struct check *c);
        const char *a, *b, *want;
};

static bool c_exists(const struct check *c)
{
        return exists(c->a);
}
static bool c_missing(const struct check *c)
{
        return missing(c->a);
}
static bool c_renamed(const struct check *c)
{
        return exists(c->b) && missing(c->a);
}
static bool c_holds(const struct check *c)
{
        return holds(c->a, c->want);
}

static double wait_for(const struct check *c, double t0, bool *late)
{
        const struct timespec pause = {0, 20000};
        for (;;) {
                if (c->fn(c)) {
                        *late = false;
                        return now_us() - t0;
                }
                double t = now_us() - t0;
                if (t >= deadline_us) {
                        *late = true;
                        return deadline_us;
                }
                (void)nanosleep(&pause, NULL);
        }
}

/* Untimed: wait until the view shows what the layer has (the setup of a sample). */
static int settle(const struct check *c, const char *what)
{
        bool late;
        (void)wait_for(c, now_us(), &late);
        return late ? fail("the view did not show %s within the deadline", what) : 0;
}

static int sample(const char *change, long i, double *us, bool *late)
{
        char name[64], name2[80], in_layer[4096], in_layer2[4096], in_view[4096], in_view2[4096];
        (void)snprintf(name, sizeof name, "coh-%s-%d-%ld", change, (int)getpid(), i);
        (void)snprintf(name2, sizeof name2, "%s-renamed", name);
        path_in(in_layer, sizeof in_layer, layer, name);
        path_in(in_layer2, sizeof in_layer2, layer, name2);
        path_in(in_view, sizeof in_view, view, name);
        path_in(in_view2, sizeof in_view2, view, name2);
        struct check there = {c_exists, in_view, NULL, NULL};
        struct check gone = {c_missing, in_view, NULL, NULL};
        int r = 0;
        double t0;
        if (strcmp(change, "create") == 0) {
                if (!missing(in_view) || !missing(in_view))
                        return fail("%s is there before it is made", in_view);
                if (write_file(in_layer, "x", O_CREAT | O_EXCL) < 0)
                        return -1;
                t0 = now_us();
                *us = wait_for(&there, t0, late);
                if (unlink(in_layer) < 0)
                        return fail("unlink %s: %s", in_layer, strerror(errno));
                return settle(&gone, "a removal");
        }
        if (strcmp(change, "delete") == 0) {
                if (write_file(in_layer, "x", O_CREAT | O_EXCL) < 0 || settle(&there, "a new file"))
                        return -1;
                (void)exists(in_view);
                if (unlink(in_layer) < 0)
                        return fail("unlink %s: %s", in_layer, strerror(errno));
                t0 = now_us();
                *us = wait_for(&gone, t0, late);
                return 0;
        }
        if (strcmp(change, "rename") == 0) {
                struct check renamed = {c_renamed, in_view, in_view2, NULL};
                struct check gone2 = {c_missing, in_view2, NULL, NULL};
                if (write_file(in_layer, "x", O_CREAT | O_EXCL) < 0 || settle(&there, "a new file"))
                        return -1;
                if (!missing(in_view2))
                        return fail("%s is there before the rename", in_view2);
                if (rename(in_layer, in_layer2) < 0)
                        return fail("rename %s: %s", in_layer, strerror(errno));
                t0 = now_us();
                *us = wait_for(&renamed, t0, late);
                if (unlink(in_layer2) < 0)
                        return fail("unlink %s: %s", in_layer2, strerror(errno));
                return settle(&gone2, "a removal");
        }
        /* write */
        struct check old = {c_holds, in_view, NULL, "aaaa"};
        struct check changed = {c_holds, in_view, NULL, "bbbbbbbb"};
        if (write_file(in_layer, "aaaa", O_CREAT | O_EXCL) < 0 || settle(&old, "a new file"))
                return -1;
        if (write_file(in_layer, "bbbbbbbb", O_TRUNC) < 0)
                return -1;
        t0 = now_us();
        *us = wait_for(&changed, t0, late);
        if (unlink(in_layer) < 0)
                r = fail("unlink %s: %s", in_layer, strerror(errno));
        if (r == 0)
                r = settle(&gone, "a removal");
        return r;
}

static long parse_long(const char *s, const char *what, long min, long max)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max) {
                fprintf(stderr, "bench_coherence: bad %s: %s\n", what, s);
                exit(2);
        }
        return v;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"layer", required_argument, NULL, 'l'},
                {"samples", required_argument, NULL, 's'},
                {"deadline-ms", required_argument, NULL, 'd'},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "l:s:d:", options, NULL)) != -1) {
                switch (c) {
                case 'l':
                        layer = optarg;
                        break;
                case 's':
                        samples = parse_long(optarg, "sample count", 1, 100000);
                        break;
                case 'd':
                        deadline_us = 1000.0 * (double)parse_long(optarg, "deadline", 1, 600000);
                        break;
                default:
                        fprintf(stderr, "Usage: bench_coherence --layer DIR [--samples N] "
                                        "[--deadline-ms MS] VIEW create|delete|rename|write...\n");
                        return 2;
                }
        }
        if (!layer || argc - optind < 2) {
                fprintf(stderr, "bench_coherence: --layer DIR, a view and a change are required\n");
                return 2;
        }
        view = argv[optind++];
        for (int i = optind; i < argc; i++)
                if (strcmp(argv[i], "create") != 0 && strcmp(argv[i], "delete") != 0 &&
                    strcmp(argv[i], "rename") != 0 && strcmp(argv[i], "write") != 0) {
                        fprintf(stderr, "bench_coherence: unknown change %s\n", argv[i]);
                        return 2;
                }
        for (int i = optind; i < argc; i++) {
                for (long k = 0; k < samples; k++) {
                        double us = 0;
                        bool late = false;
                        errmsg[0] = '\0';
                        if (sample(argv[i], k, &us, &late) < 0) {
                                printf("coh-%s error %s\n", argv[i], errmsg);
                                break;
                        }
                        printf("coh-%s %.1f 1\n", argv[i], us);
                        if (late)
                                printf("coh-%s-late 1 1\n", argv[i]);
                }
                fflush(stdout);
        }
        return 0;
}
