/* bench_links.c — how fast bindlinkd makes and removes links, and how it scales.
 *
 * A benchmark, not a test: it prints one table and judges nothing but its own
 * sanity (a link that does not show its backing content stops the run). Run it
 * through bench/run.sh (`make bench`), which gives it a private mount namespace, a
 * tmpfs to work in and a bindlinkd of its own.
 *
 *   A. latency of one create+remove of a plain directory link, N times, three ways
 *      in alternating blocks: libbindlink through bindlinkd, `mount --bind` +
 *      `umount`, and the raw open_tree/move_mount/umount2 syscalls in this process
 *      (the floor); plus, for reference, a bare Unix-socket round trip;
 *   B. scale: create LINKS links, time a few create+remove pairs with them in
 *      place, list them once, remove them all; wall time of each phase and the
 *      daemon's peak RSS. --time-limit (default 120 s) bounds the phase.
 *
 * Usage: bench_links --dir DIR --daemon-pid PID [--iterations N] [--links N]
 *                    [--time-limit SEC]
 * with BINDLINK_SOCKET naming the daemon's socket. DIR must be on a tmpfs in a
 * mount namespace the benchmark may litter (run.sh unmounts it afterwards). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <limits.h>
#include <linux/mount.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "bindlink.h"

extern char **environ;

#define WARMUP 50

/* ---- small helpers -------------------------------------------------------------- */

static void make_dir(const char *path)
{
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                die("mkdir %s: %s", path, strerror(errno));
}

static void make_file(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                die("create %s: %s", path, strerror(errno));
        (void)close(fd);
}

static char *joinf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *joinf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s;
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                die("out of memory");
        return s;
}

static bool exists(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0;
}

/* ---- the table ----------------------------------------------------------------- */

struct row {
        char measurement[96];
        char value[48];
        char target[24];
        const char *ok; /* "yes", "no" or "-" */
};

static struct row rows[40];
static size_t row_count;

__attribute__((format(printf, 4, 5))) static void add_row(const char *measurement,
                                                          const char *target, int ok,
                                                          const char *value_fmt, ...)
{
        if (row_count == sizeof rows / sizeof rows[0])
                return;
        struct row *r = &rows[row_count++];
        (void)snprintf(r->measurement, sizeof r->measurement, "%s", measurement);
        (void)snprintf(r->target, sizeof r->target, "%s", target ? target : "-");
        va_list ap;
        va_start(ap, value_fmt);
        (void)vsnprintf(r->value, sizeof r->value, value_fmt, ap);
        va_end(ap);
        r->ok = ok < 0 ? "-" : ok ? "yes" : "no";
}

static void print_header(int iterations, int links)
{
        char machine[512];
        describe_machine(machine, sizeof machine);
        printf("bindlink benchmark: %s\n", machine);
        printf("(A: %d iterations per method after %d warm-up; B: %d links; tmpfs; "
               "times are wall clock)\n\n",
               iterations, WARMUP, links);
}

static void print_table(void)
{
        int w[4] = {(int)strlen("measurement"), (int)strlen("value"), (int)strlen("target"),
                    (int)strlen("ok?")};
        for (size_t i = 0; i < row_count; i++) {
                int l0 = (int)strlen(rows[i].measurement), l1 = (int)strlen(rows[i].value),
                    l2 = (int)strlen(rows[i].target);
                w[0] = l0 > w[0] ? l0 : w[0];
                w[1] = l1 > w[1] ? l1 : w[1];
                w[2] = l2 > w[2] ? l2 : w[2];
        }
        printf("| %-*s | %*s | %-*s | %-*s |\n", w[0], "measurement", w[1], "value", w[2],
               "target", w[3], "ok?");
        printf("|");
        for (int c = 0; c < 4; c++) {
                for (int k = 0; k < w[c] + 2; k++)
                        putchar('-');
                putchar('|');
        }
        putchar('\n');
        for (size_t i = 0; i < row_count; i++)
                printf("| %-*s | %*s | %-*s | %-*s |\n", w[0], rows[i].measurement, w[1],
                       rows[i].value, w[2], rows[i].target, w[3], rows[i].ok);
        fflush(stdout);
}

/* ---- the three ways to make a link ----------------------------------------------- */

struct method {
        const char *name;
        int (*create)(const char *v, const char *b);
        int (*remove)(const char *v);
        const char *v, *b; /* its own pair of directories */
        double *create_us, *remove_us, *pair_us;
};

static int lib_create(const char *v, const char *b)
{
        bindlink_error e;
        int r = bindlink_create(v, b, 0, 0, NULL, &e);
        if (r < 0)
                fprintf(stderr, "bench_links: bindlink_create %s %s: %s\n", v, b, e.message);
        return r;
}

static int lib_remove(const char *v)
{
        bindlink_error e;
        int r = bindlink_remove(v, &e);
        if (r < 0)
                fprintf(stderr, "bench_links: bindlink_remove %s: %s\n", v, e.message);
        return r;
}

/* The same through one bindlink_connection, as a program making many calls would. */
static bindlink_connection *bench_connection;

static int conn_create(const char *v, const char *b)
{
        bindlink_error e;
        int r = bindlink_connection_create(bench_connection, v, b, 0, 0, NULL, &e);
        if (r < 0)
                fprintf(stderr, "bench_links: bindlink_connection_create %s %s: %s\n", v, b,
                        e.message);
        return r;
}

static int conn_remove(const char *v)
{
        bindlink_error e;
        int r = bindlink_connection_remove(bench_connection, v, &e);
        if (r < 0)
                fprintf(stderr, "bench_links: bindlink_connection_remove %s: %s\n", v, e.message);
        return r;
}

static int spawn_wait(char *const argv[])
{
        pid_t pid;
        int r = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
        if (r != 0) {
                fprintf(stderr, "bench_links: cannot run %s: %s\n", argv[0], strerror(r));
                return -r;
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench_links: %s %s failed (status 0x%x)\n", argv[0], argv[1],
                        status);
                return -EIO;
        }
        return 0;
}

static int cmd_create(const char *v, const char *b)
{
        char *argv[] = {"mount", "--bind", (char *)b, (char *)v, NULL};
        return spawn_wait(argv);
}

static int cmd_remove(const char *v)
{
        char *argv[] = {"umount", (char *)v, NULL};
        return spawn_wait(argv);
}

static int raw_create(const char *v, const char *b)
{
        int tree = (int)syscall(SYS_open_tree, AT_FDCWD, b,
                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0) {
                fprintf(stderr, "bench_links: open_tree %s: %s\n", b, strerror(errno));
                return -errno;
        }
        int r = (int)syscall(SYS_move_mount, tree, "", AT_FDCWD, v, MOVE_MOUNT_F_EMPTY_PATH);
        if (r < 0) {
                r = -errno;
                fprintf(stderr, "bench_links: move_mount onto %s: %s\n", v, strerror(-r));
        }
        (void)close(tree);
        return r;
}

static int raw_remove(const char *v)
{
        if (umount2(v, MNT_DETACH) < 0) {
                fprintf(stderr, "bench_links: umount2 %s: %s\n", v, strerror(errno));
                return -errno;
        }
        return 0;
}

/* One create+remove; records the times if slot >= 0. The first warm-up round also
 * checks that the link really shows B (and stops showing it). */
static void run_once(struct method *m, long slot, bool check)
{
        double t0 = now_us();
        if (m->create(m->v, m->b) < 0)
                die("%s: create failed", m->name);
        double t1 = now_us();
        if (check) {
                char *marker = joinf("%s/marker", m->v);
                if (!exists(marker))
                        die("%s: %s does not show %s after create", m->name, m->v, m->b);
                free(marker);
        }
        double t2 = now_us();
        if (m->remove(m->v) < 0)
                die("%s: remove failed", m->name);
        double t3 = now_us();
        if (check) {
                char *marker = joinf("%s/marker", m->v);
                if (exists(marker))
                        die("%s: %s still shows %s after remove", m->name, m->v, m->b);
                free(marker);
        }
        if (slot >= 0) {
                m->create_us[slot] = t1 - t0;
                m->remove_us[slot] = t3 - t2;
                m->pair_us[slot] = (t1 - t0) + (t3 - t2);
        }
}

enum { LIB, CONN, CMD, RAW, METHODS };
static struct method methods[METHODS] = {
        [LIB] = {.name = "libbindlink, a connection per call", .create = lib_create,
                 .remove = lib_remove},
        [CONN] = {.name = "libbindlink, one connection", .create = conn_create,
                  .remove = conn_remove},
        [CMD] = {.name = "mount --bind + umount", .create = cmd_create, .remove = cmd_remove},
        [RAW] = {.name = "raw syscalls", .create = raw_create, .remove = raw_remove},
};

/* Each method gets DIR/latency/{lib,cmd,raw}/{V,B}, B holding a file "marker". */
static void methods_setup(const char *dir, int iterations)
{
        const char *tags[METHODS] = {"lib", "conn", "cmd", "raw"};
        bindlink_error e;
        if (bindlink_connect(&bench_connection, &e) < 0)
                die("bindlink_connect: %s", e.message);
        char *top = joinf("%s/latency", dir);
        make_dir(top);
        for (size_t i = 0; i < METHODS; i++) {
                char *d = joinf("%s/%s", top, tags[i]);
                make_dir(d);
                char *v = joinf("%s/V", d), *b = joinf("%s/B", d), *marker = joinf("%s/marker", b);
                make_dir(v);
                make_dir(b);
                make_file(marker);
                free(marker);
                free(d);
                methods[i].v = v;
                methods[i].b = b;
                methods[i].create_us = calloc((size_t)iterations, sizeof(double));
                methods[i].remove_us = calloc((size_t)iterations, sizeof(double));
                methods[i].pair_us = calloc((size_t)iterations, sizeof(double));
                if (!methods[i].create_us || !methods[i].remove_us || !methods[i].pair_us)
                        die("out of memory");
        }
        free(top);
}

static void methods_done(void)
{
        bindlink_disconnect(bench_connection);
        for (size_t i = 0; i < METHODS; i++) {
                free(methods[i].create_us);
                free(methods[i].remove_us);
                free(methods[i].pair_us);
                free((char *)methods[i].v);
                free((char *)methods[i].b);
        }
}

#define ROUNDS 10
#define BLOCK_WARMUP 5

/* iterations create+remove pairs of each method given, as ROUNDS rounds of one
 * block per method (the first method of a round rotating). Back-to-back blocks
 * measure each way in its steady state, not just after another way has run (a
 * fork/exec of mount(8) between two daemon calls cools the caches and slows the
 * next call); the rounds spread slow drift over all methods alike. */
static void measure(const int *which, size_t count, int iterations)
{
        int rounds = iterations >= ROUNDS ? ROUNDS : 1;
        long slot[METHODS] = {0};
        for (int r = 0; r < rounds; r++) {
                int block = iterations / rounds + (r < iterations % rounds);
                for (size_t k = 0; k < count; k++) {
                        struct method *m = &methods[which[(k + (size_t)r) % count]];
                        for (int w = 0; w < BLOCK_WARMUP; w++)
                                run_once(m, -1, false);
                        for (int i = 0; i < block; i++)
                                run_once(m, slot[m - methods]++, false);
                }
        }
}

/* The floor of any request to a daemon over a fresh connection, as libbindlink
 * makes one per call: socket + connect + 1 byte there + 1 byte back + close,
 * against a forked child that accepts and answers (no daemon logic at all). */
static double ipc_floor_us(const char *dir, int iterations)
{
        char *path = joinf("%s/ipc-floor.sock", dir);
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof addr.sun_path)
                die("%s: path too long for a socket", path);
        memcpy(addr.sun_path, path, strlen(path) + 1);
        int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 ||
            listen(listener, 16) < 0)
                die("ipc floor: cannot listen on %s: %s", path, strerror(errno));
        int total = WARMUP + iterations;
        fflush(NULL);
        pid_t child = fork();
        if (child < 0)
                die("fork: %s", strerror(errno));
        if (child == 0) {
                for (int i = 0; i < total; i++) {
                        int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
                        char byte;
                        if (c < 0 || recv(c, &byte, 1, 0) != 1 || send(c, &byte, 1, 0) != 1)
                                _exit(1);
                        (void)close(c);
                }
                _exit(0);
        }
        (void)close(listener);
        double *us = calloc((size_t)iterations, sizeof *us);
        if (!us) {
                (void)kill(child, SIGKILL);
                (void)waitpid(child, NULL, 0);
                die("out of memory");
        }
        bool failed = false;
        for (int i = 0; i < total && !failed; i++) {
                double t0 = now_us();
                int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                char byte = 'x';
                failed = s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0 ||
                         send(s, &byte, 1, MSG_NOSIGNAL) != 1 || recv(s, &byte, 1, 0) != 1;
                if (s >= 0)
                        (void)close(s);
                if (i >= WARMUP)
                        us[i - WARMUP] = now_us() - t0;
        }
        int status = 0;
        if (failed)
                (void)kill(child, SIGKILL);
        (void)waitpid(child, &status, 0);
        (void)unlink(path);
        free(path);
        if (failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                free(us);
                return -1;
        }
        double m = median(us, (size_t)iterations);
        free(us);
        return m;
}

static void bench_latency(const char *dir, int iterations)
{
        for (int w = 0; w < WARMUP; w++)
                for (size_t i = 0; i < METHODS; i++)
                        run_once(&methods[i], -1, w == 0);
        static const int all[] = {LIB, CONN, CMD, RAW};
        measure(all, METHODS, iterations);

        double pair_median[METHODS];
        for (size_t i = 0; i < METHODS; i++) {
                struct method *m = &methods[i];
                char label[96];
                double cm = median(m->create_us, (size_t)iterations);
                double cp = percentile(m->create_us, (size_t)iterations, 0.99);
                double rm = median(m->remove_us, (size_t)iterations);
                double rp = percentile(m->remove_us, (size_t)iterations, 0.99);
                double pm = median(m->pair_us, (size_t)iterations);
                double pp = percentile(m->pair_us, (size_t)iterations, 0.99);
                pair_median[i] = pm;
                (void)snprintf(label, sizeof label, "A%zu %s: create+remove median (us)", i + 1,
                               m->name);
                add_row(label, NULL, -1, "%.1f", pm);
                (void)snprintf(label, sizeof label, "A%zu %s: create+remove p99 (us)", i + 1,
                               m->name);
                add_row(label, NULL, -1, "%.1f", pp);
                (void)snprintf(label, sizeof label, "A%zu %s: create median / p99 (us)", i + 1,
                               m->name);
                add_row(label, NULL, -1, "%.1f / %.1f", cm, cp);
                (void)snprintf(label, sizeof label, "A%zu %s: remove median / p99 (us)", i + 1,
                               m->name);
                add_row(label, NULL, -1, "%.1f / %.1f", rm, rp);
        }
        double ratio = pair_median[CONN] / pair_median[RAW];
        add_row("A ratio libbindlink (one connection) / raw syscalls (median)", "<= 3x",
                ratio <= 3.0, "%.2fx", ratio);
        ratio = pair_median[LIB] / pair_median[RAW];
        add_row("A ratio libbindlink (a connection per call) / raw syscalls (median)", "<= 3x",
                ratio <= 3.0, "%.2fx", ratio);
        add_row("A ratio mount+umount commands / raw syscalls (median)", NULL, -1, "%.2fx",
                pair_median[CMD] / pair_median[RAW]);
        double ipc = ipc_floor_us(dir, iterations);
        if (ipc >= 0)
                add_row("A5 reference: Unix socket connect + 1-byte request/reply, median (us)", NULL, -1,
                        "%.1f", ipc);
        else
                add_row("A5 reference: Unix socket connect + 1-byte request/reply, median (us)", NULL, -1,
                        "failed");
}

/* The same create+remove pair with many links in place (after B's creates). */
#define AT_SCALE_ITERATIONS 200

static void bench_at_scale(int links)
{
        static const int two[] = {CONN, RAW};
        measure(two, 2, AT_SCALE_ITERATIONS);
        double lib = median(methods[CONN].pair_us, AT_SCALE_ITERATIONS);
        double raw = median(methods[RAW].pair_us, AT_SCALE_ITERATIONS);
        char label[96];
        (void)snprintf(label, sizeof label, "B at %d links: libbindlink create+remove median (us)",
                       links);
        add_row(label, NULL, -1, "%.1f", lib);
        (void)snprintf(label, sizeof label, "B at %d links: raw syscalls create+remove median (us)",
                       links);
        add_row(label, NULL, -1, "%.1f", raw);
        (void)snprintf(label, sizeof label, "B at %d links: ratio libbindlink / raw", links);
        add_row(label, NULL, -1, "%.2fx", lib / raw);
}

/* ---- scale ------------------------------------------------------------------------ */

#define BACKING_DIRS 16

static void bench_scale(const char *dir, int links, double time_limit_s, long daemon_pid)
{
        char *top = joinf("%s/scale", dir), *vtop = joinf("%s/v", top),
             *btop = joinf("%s/b", top);
        make_dir(top);
        make_dir(vtop);
        make_dir(btop);
        char *backing[BACKING_DIRS];
        for (int i = 0; i < BACKING_DIRS; i++) {
                backing[i] = joinf("%s/B%02d", btop, i);
                make_dir(backing[i]);
                char *marker = joinf("%s/marker", backing[i]);
                make_file(marker);
                free(marker);
        }
        char **virt = calloc((size_t)links, sizeof *virt);
        double *op_us = calloc((size_t)links, sizeof *op_us);
        if (!virt || !op_us)
                die("out of memory");
        for (int i = 0; i < links; i++) {
                virt[i] = joinf("%s/V%05d", vtop, i);
                make_dir(virt[i]);
        }

        /* Create. The time limit is for the whole phase: creating stops when it is
         * used up, with the rate so far reported. */
        int created = 0;
        bool stopped = false;
        double phase_start = now_us(), start = phase_start;
        for (int i = 0; i < links; i++) {
                double t0 = now_us();
                if (lib_create(virt[i], backing[i % BACKING_DIRS]) < 0)
                        die("scale: create #%d failed", i + 1);
                double t1 = now_us();
                op_us[i] = t1 - t0;
                created++;
                if ((t1 - start) / 1e6 > time_limit_s && created < links) {
                        stopped = true;
                        break;
                }
        }
        double create_s = (now_us() - start) / 1e6;
        char *probe = joinf("%s/marker", virt[created - 1]);
        if (!exists(probe))
                die("scale: %s does not show its backing directory", virt[created - 1]);
        free(probe);

        char label[96], target[24];
        (void)snprintf(target, sizeof target, "%d", links);
        add_row("B links created", target, created == links, "%d%s", created,
                stopped ? " (stopped: time limit)" : "");
        (void)snprintf(label, sizeof label, "B create %d links, wall time (s)", created);
        add_row(label, "< 10 s", !stopped && create_s < 10.0, "%.3f", create_s);
        add_row("B create rate (links/s)", NULL, -1, "%.0f", created / create_s);
        int slice = created >= 2000 ? 1000 : created / 2 > 0 ? created / 2 : 1;
        double first = 0, last = 0;
        for (int i = 0; i < slice; i++) {
                first += op_us[i];
                last += op_us[created - slice + i];
        }
        (void)snprintf(label, sizeof label, "B create, mean of links 1-%d (us/link)", slice);
        add_row(label, NULL, -1, "%.1f", first / slice);
        (void)snprintf(label, sizeof label, "B create, mean of links %d-%d (us/link)",
                       created - slice + 1, created);
        add_row(label, NULL, -1, "%.1f", last / slice);

        bench_at_scale(created);

        /* List once. */
        bindlink_links *list = NULL;
        bindlink_error e;
        double t0 = now_us();
        int r = bindlink_list(&list, &e);
        double list_s = (now_us() - t0) / 1e6;
        if (r < 0)
                die("scale: bindlink_list: %s", e.message);
        size_t count = bindlink_links_count(list), shown = 0;
        for (size_t i = 0; i < count; i++)
                shown += bindlink_links_realization(list, i) == BINDLINK_REALIZED_BIND;
        bindlink_links_free(list);
        add_row("B list all once, wall time (s)", "< 0.2 s", list_s < 0.2, "%.4f", list_s);
        (void)snprintf(target, sizeof target, "%d", created);
        add_row("B links listed (all realized as bind mounts)", target,
                count == (size_t)created && shown == count, "%zu (%zu bind)", count, shown);

        /* Remove, in creation order, in what is left of the time limit (at least
         * 10 s); run.sh unmounts whatever is left. */
        double remove_budget_s = time_limit_s - (now_us() - phase_start) / 1e6;
        if (remove_budget_s < 10)
                remove_budget_s = 10;
        int removed = 0;
        stopped = false;
        start = now_us();
        for (int i = 0; i < created; i++) {
                if (lib_remove(virt[i]) < 0)
                        die("scale: remove #%d failed", i + 1);
                removed++;
                if ((now_us() - start) / 1e6 > remove_budget_s && removed < created) {
                        stopped = true;
                        break;
                }
        }
        double remove_s = (now_us() - start) / 1e6;
        (void)snprintf(label, sizeof label, "B remove %d links, wall time (s)", removed);
        add_row(label, NULL, -1, "%.3f%s", remove_s, stopped ? " (stopped: time limit)" : "");
        add_row("B remove rate (links/s)", NULL, -1, "%.0f", removed / remove_s);

        long hwm = proc_status_kib(daemon_pid, "VmHWM");
        long rss = proc_status_kib(daemon_pid, "VmRSS");
        if (hwm >= 0)
                add_row("daemon peak RSS, VmHWM after all (MiB)", "< 32 MiB", hwm < 32 * 1024,
                        "%.1f", hwm / 1024.0);
        else
                add_row("daemon peak RSS, VmHWM after all (MiB)", "< 32 MiB", 0, "unknown");
        if (rss >= 0)
                add_row("daemon RSS at the end (MiB)", NULL, -1, "%.1f", rss / 1024.0);

        for (int i = 0; i < links; i++)
                free(virt[i]);
        free(virt);
        free(op_us);
        for (int i = 0; i < BACKING_DIRS; i++)
                free(backing[i]);
        free(top);
        free(vtop);
        free(btop);
}

/* ---- main ------------------------------------------------------------------------- */

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
                {"dir", required_argument, NULL, 'd'},
                {"daemon-pid", required_argument, NULL, 'p'},
                {"iterations", required_argument, NULL, 'n'},
                {"links", required_argument, NULL, 'l'},
                {"time-limit", required_argument, NULL, 't'},
                {0},
        };
        const char *dir = NULL;
        long daemon_pid = 0, iterations = 2000, links = 10000, time_limit = 120;
        int c;
        while ((c = getopt_long(argc, argv, "d:p:n:l:t:", options, NULL)) != -1) {
                switch (c) {
                case 'd':
                        dir = optarg;
                        break;
                case 'p':
                        daemon_pid = parse_long(optarg, "daemon pid", 1, INT_MAX);
                        break;
                case 'n':
                        iterations = parse_long(optarg, "iteration count", 1, 10000000);
                        break;
                case 'l':
                        links = parse_long(optarg, "link count", 1, 90000);
                        break;
                case 't':
                        time_limit = parse_long(optarg, "time limit", 1, 86400);
                        break;
                default:
                        fprintf(stderr,
                                "Usage: bench_links --dir DIR --daemon-pid PID [--iterations N] "
                                "[--links N] [--time-limit SEC]\n");
                        return 2;
                }
        }
        if (!dir || !daemon_pid || optind < argc)
                die("--dir and --daemon-pid are required (see bench/run.sh)");
        if (geteuid() != 0)
                die("must run as root (in the namespace bench/run.sh makes)");

        long rss_before = proc_status_kib(daemon_pid, "VmRSS");
        if (rss_before < 0)
                die("cannot read /proc/%ld/status: is bindlinkd running?", daemon_pid);

        make_dir(dir);
        print_header((int)iterations, (int)links);
        add_row("daemon RSS before the run (MiB)", NULL, -1, "%.1f", rss_before / 1024.0);
        methods_setup(dir, iterations > AT_SCALE_ITERATIONS ? (int)iterations
                                                            : AT_SCALE_ITERATIONS);
        bench_latency(dir, (int)iterations);
        bench_scale(dir, (int)links, (double)time_limit, daemon_pid);
        methods_done();
        print_table();
        return 0;
}
