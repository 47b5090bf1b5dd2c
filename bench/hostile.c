/* hostile.c — how a legitimate root client fares while unprivileged clients attack
 * bindlinkd's socket, and what the attacks cost the daemon.
 *
 * A benchmark, not a test: it prints one table and its exit status says only whether
 * it could run. Run it through bench/hostile.sh (`make bench-hostile`), which gives it
 * a private mount and PID namespace, a tmpfs and a bindlinkd of its own.
 *
 * Phase by phase, attacker processes running as nobody (uid 65534) do one thing —
 *   random     random framed messages: valid magic and version, random type, length
 *              up to the 2 MiB limit and payload, sometimes cut short;
 *   fd-flood   connections whose first message carries 253 descriptors (SCM_RIGHTS'
 *              maximum) and is never finished;
 *   slow       connections that send a header, then one payload byte a second;
 *   idle       hundreds of connections that send nothing;
 *   big        500 connections, each announcing a 2 MiB payload and sending all of
 *              it but the last byte (2 MiB - 1), then waiting
 * — while a root process creates, lists and removes a plain link in a loop through
 * libbindlink. Per phase: the root calls' median and longest wait and how many failed,
 * the daemon's peak RSS (VmRSS sampled every 50 ms; VmHWM is the run's) and peak open
 * descriptors (entries of /proc/PID/fd, sampled) against its RLIMIT_NOFILE.
 *
 * Usage: hostile --dir DIR --daemon-pid PID [--phase-seconds N]
 * with BINDLINK_SOCKET naming the daemon's socket and, optionally, BINDLINK_BENCH_LOG
 * its log (summarized under the table). DIR is on a tmpfs the benchmark may litter. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "bindlink.h"
#include "wire.h"

#define NOBODY 65534
/* SCM_MAX_FD: the most descriptors one sendmsg may carry. */
#define MAX_PASSED_FDS 253
#define SAMPLE_MS 50
#define RAMP_SEC 1.0       /* attackers start this long before the root client */
#define STOP_GRACE_SEC 5.0 /* a root call still waiting then is cut off and failed */
#define MAX_CALLS 200000
/* A legitimate client pauses between iterations: it is not a load generator. */
#define ROOT_PAUSE_US 5000

/* Targets of issue 12. */
#define TARGET_WAIT_MS 50.0
#define TARGET_RSS_MIB 64.0
#define TARGET_FD_SHARE 0.5

enum attack_kind {
        ATTACK_NONE,
        ATTACK_RANDOM,
        ATTACK_FD_FLOOD,
        ATTACK_SLOW,
        ATTACK_IDLE,
        ATTACK_BIG
};

struct attack {
        const char *name;
        enum attack_kind kind;
        int processes;
        int connections; /* per process, for the kinds that hold connections */
};

static const struct attack attacks[] = {
        {"none (baseline)", ATTACK_NONE, 0, 0},
        {"random framed messages (2 procs)", ATTACK_RANDOM, 2, 0},
        {"descriptor flood, 253 per message (600 conns)", ATTACK_FD_FLOOD, 2, 300},
        {"slow clients, 1 byte/s (600 conns)", ATTACK_SLOW, 1, 600},
        {"idle connections (500)", ATTACK_IDLE, 1, 500},
        {"500 conns x 2 MiB-1 bytes, held", ATTACK_BIG, 2, 250},
};

/* Shared between this process, the attackers and the root client (MAP_SHARED). */
struct shared {
        /* The attackers' connections, and those that failed or the daemon closed. */
        uint64_t connects, lost;
        int stop_root;
        uint64_t call_started_us; /* when the root call in flight began, or 0 */
        size_t call_count;
        float call_ms[MAX_CALLS];
        uint16_t call_errno[MAX_CALLS]; /* 0, or the errno a failed call returned */
};

static struct shared *shared;
static const char *socket_path;
static uint8_t *noise; /* random bytes that payloads are cut from */
#define NOISE_SIZE (WIRE_MAX_PAYLOAD + 65536)

static void count(uint64_t *counter)
{
        __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/* xorshift64*: fast, and each attacker gets its own sequence. */
static uint64_t rng_next(uint64_t *state)
{
        uint64_t x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * 0x2545f4914f6cdd1dull;
}

static struct wire_header header(uint16_t type, uint32_t length, uint32_t fd_count)
{
        return (struct wire_header){.magic = WIRE_MAGIC,
                                    .version = WIRE_VERSION,
                                    .type = type,
                                    .length = length,
                                    .fd_count = fd_count};
}

/* ---- the daemon, seen from /proc -------------------------------------------------- */

static long count_fds(long pid)
{
        char path[64];
        (void)snprintf(path, sizeof path, "/proc/%ld/fd", pid);
        DIR *d = opendir(path);
        if (!d)
                return -1;
        long n = 0;
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.')
                        n++;
        (void)closedir(d);
        return n;
}

static bool alive(long pid)
{
        char path[64], buf[512];
        (void)snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        bool running = fgets(buf, sizeof buf, f) && strstr(buf, ") Z") == NULL;
        (void)fclose(f);
        return running;
}

struct peaks {
        long rss_kib, fds;
};

static void sample(long pid, struct peaks *p)
{
        long rss = proc_status_kib(pid, "VmRSS"), fds = count_fds(pid);
        if (rss > p->rss_kib)
                p->rss_kib = rss;
        if (fds > p->fds)
                p->fds = fds;
}

/* Sample the daemon every SAMPLE_MS for sec seconds. */
static void sample_for(long pid, double sec, struct peaks *p)
{
        double end = now_us() + sec * 1e6;
        while (now_us() < end) {
                sample(pid, p);
                (void)usleep(SAMPLE_MS * 1000);
        }
}

/* ---- attackers ------------------------------------------------------------------- */

static void become_nobody(void)
{
        if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
            setresuid(NOBODY, NOBODY, NOBODY) < 0)
                die("cannot become uid %d: %s", NOBODY, strerror(errno));
        /* After the change of credentials, which clears it: die with the benchmark. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                die("prctl: %s", strerror(errno));
}

/* A connected socket, or -1 (the backlog is full, or the daemon is gone). */
static int connect_to_daemon(bool nonblocking)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        (void)snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
        if (fd < 0)
                return -1;
        /* A blocking attacker gives up on a daemon that does not read within 200 ms. */
        struct timeval tv = {.tv_usec = 200000};
        if (!nonblocking && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
                (void)close(fd);
                return -1;
        }
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
                (void)close(fd);
                return -1;
        }
        count(&shared->connects);
        return fd;
}

/* Send what the socket takes now; returns bytes sent, or -1 when it is closed. */
static ssize_t send_some(int fd, const void *data, size_t len)
{
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
        return n;
}

/* (i) Random framed messages, one connection each, back to back. */
static void attack_random(uint64_t seed)
{
        static const uint16_t types[] = {WIRE_CREATE, WIRE_REMOVE, WIRE_LIST, WIRE_REPLY,
                                         WIRE_LIST_ENTRY};
        for (;;) {
                int fd = connect_to_daemon(false);
                if (fd < 0) {
                        count(&shared->lost);
                        (void)usleep(1000);
                        continue;
                }
                uint64_t r = rng_next(&seed);
                uint16_t type = r & 1 ? types[(r >> 1) % 5] : (uint16_t)(r >> 8);
                /* Mostly small, some large, a few up to the limit. */
                uint32_t length;
                switch ((r >> 24) % 20) {
                case 0:
                        length = (uint32_t)(rng_next(&seed) % (WIRE_MAX_PAYLOAD + 1));
                        break;
                case 1:
                case 2:
                case 3:
                case 4:
                        length = (uint32_t)(rng_next(&seed) % (256 * 1024));
                        break;
                default:
                        length = (uint32_t)(rng_next(&seed) % 4096);
                        break;
                }
                uint32_t fd_count =
                        (r >> 32) % 5 == 0 ? (uint32_t)((r >> 40) % (WIRE_MAX_FDS + 1)) : 0;
                struct wire_header h = header(type, length, fd_count);
                /* A quarter are cut short: the client hangs up mid-message. */
                size_t goal =
                        (r >> 48) % 4 == 0 ? (size_t)(rng_next(&seed) % (length + 1)) : length;
                size_t offset = (size_t)(rng_next(&seed) % (NOISE_SIZE - WIRE_MAX_PAYLOAD));
                if (send(fd, &h, sizeof h, MSG_NOSIGNAL) == (ssize_t)sizeof h) {
                        for (size_t sent = 0; sent < goal;) {
                                ssize_t n =
                                        send(fd, noise + offset + sent, goal - sent, MSG_NOSIGNAL);
                                if (n <= 0)
                                        break;
                                sent += (size_t)n;
                        }
                }
                (void)close(fd);
        }
}

/* A held connection of the fd-flood, slow, idle and big attacks. */
struct held {
        int fd;
        size_t sent, goal; /* bytes of header + payload */
        struct wire_header header;
        double next_us; /* when to reconnect, or to send the next slow byte */
};

/* Close a held connection the daemon hung up on (or that failed); open another soon. */
static void drop_held(struct held *c)
{
        (void)close(c->fd);
        c->fd = -1;
        count(&shared->lost);
        c->next_us = now_us() + 100000;
}

/* The first message of a held connection, and how much of it to send. */
static void open_held(enum attack_kind kind, struct held *c, int passed_fd)
{
        c->fd = connect_to_daemon(true);
        c->sent = 0;
        if (c->fd < 0) {
                count(&shared->lost);
                c->next_us = now_us() + 100000;
                return;
        }
        switch (kind) {
        case ATTACK_FD_FLOOD:
                c->header = header(WIRE_CREATE, 4096, MAX_PASSED_FDS);
                c->goal = WIRE_HEADER_SIZE + 64;
                break;
        case ATTACK_SLOW:
                c->header = header(WIRE_CREATE, 4096, 0);
                c->goal = WIRE_HEADER_SIZE + 4096 - 1;
                break;
        case ATTACK_BIG:
                c->header = header(WIRE_REMOVE, WIRE_MAX_PAYLOAD, 0);
                c->goal = WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD - 1;
                break;
        default:
                c->goal = 0;
                return;
        }
        /* The header (and for the flood its descriptors) goes at once. */
        char data[WIRE_HEADER_SIZE + 64];
        memcpy(data, &c->header, WIRE_HEADER_SIZE);
        memcpy(data + WIRE_HEADER_SIZE, noise, 64);
        size_t first = kind == ATTACK_FD_FLOOD ? WIRE_HEADER_SIZE + 64 : WIRE_HEADER_SIZE;
        struct iovec iov = {.iov_base = data, .iov_len = first};
        union {
                char buf[CMSG_SPACE(MAX_PASSED_FDS * sizeof(int))];
                struct cmsghdr align;
        } control;
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (kind == ATTACK_FD_FLOOD) {
                msg.msg_control = control.buf;
                msg.msg_controllen = sizeof control.buf;
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(MAX_PASSED_FDS * sizeof(int));
                int *fds = (int *)CMSG_DATA(cm);
                for (int i = 0; i < MAX_PASSED_FDS; i++)
                        fds[i] = passed_fd;
        }
        c->next_us = now_us() + 1e6;
        /* ETOOMANYREFS, once nobody's descriptors in flight reach its RLIMIT_NOFILE. */
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
                drop_held(c);
        else
                c->sent = (size_t)n;
}

/* Send more of a held connection's message, as its kind allows. */
static void push_held(enum attack_kind kind, struct held *c)
{
        if (c->sent >= c->goal)
                return;
        size_t want = c->goal - c->sent;
        if (kind == ATTACK_SLOW) {
                if (now_us() < c->next_us)
                        return;
                want = 1;
                c->next_us = now_us() + 1e6;
        }
        size_t at = c->sent < WIRE_HEADER_SIZE ? 0 : c->sent - WIRE_HEADER_SIZE;
        const uint8_t *data =
                c->sent < WIRE_HEADER_SIZE ? (const uint8_t *)&c->header + c->sent : noise + at;
        if (c->sent < WIRE_HEADER_SIZE && want > WIRE_HEADER_SIZE - c->sent)
                want = WIRE_HEADER_SIZE - c->sent;
        ssize_t n = send_some(c->fd, data, want);
        if (n < 0)
                drop_held(c);
        else
                c->sent += (size_t)n;
}

/* (ii)-(v): hold `connections` connections open, each sending its kind's message, and
 * open a new one for each the daemon closes. */
static void attack_held(enum attack_kind kind, int connections)
{
        int passed_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (passed_fd < 0)
                die("open /dev/null: %s", strerror(errno));
        struct held *conns = calloc((size_t)connections, sizeof *conns);
        struct pollfd *pfds = calloc((size_t)connections, sizeof *pfds);
        if (!conns || !pfds)
                die("out of memory");
        for (int i = 0; i < connections; i++)
                conns[i].fd = -1;
        for (;;) {
                double t = now_us();
                for (int i = 0; i < connections; i++) {
                        if (conns[i].fd < 0 && t >= conns[i].next_us)
                                open_held(kind, &conns[i], passed_fd);
                        if (conns[i].fd >= 0)
                                push_held(kind, &conns[i]);
                        bool writing = conns[i].fd >= 0 && kind == ATTACK_BIG &&
                                       conns[i].sent < conns[i].goal;
                        pfds[i] = (struct pollfd){.fd = conns[i].fd,
                                                  .events = POLLIN | (writing ? POLLOUT : 0)};
                }
                if (poll(pfds, (nfds_t)connections, 50) < 0 && errno != EINTR)
                        die("poll: %s", strerror(errno));
                for (int i = 0; i < connections; i++)
                        if (conns[i].fd >= 0 && (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                drop_held(&conns[i]); /* the daemon hung up (it never answers these)
                                                       */
        }
}

static pid_t start_attacker(const struct attack *a, int index)
{
        pid_t pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid > 0)
                return pid;
        become_nobody();
        if (a->kind == ATTACK_RANDOM)
                attack_random(0x9e3779b97f4a7c15ull * (uint64_t)(index + 1));
        else
                attack_held(a->kind, a->connections);
        _exit(0);
}

/* ---- the legitimate root client --------------------------------------------------- */

static void timed_call(int call(const char *v, const char *b), const char *v, const char *b)
{
        if (shared->call_count == MAX_CALLS)
                return;
        double start = now_us();
        __atomic_store_n(&shared->call_started_us, (uint64_t)start, __ATOMIC_RELEASE);
        int r = call(v, b);
        double ms = (now_us() - start) / 1e3;
        __atomic_store_n(&shared->call_started_us, 0, __ATOMIC_RELEASE);
        size_t i = shared->call_count;
        shared->call_ms[i] = (float)ms;
        shared->call_errno[i] = r < 0 ? (uint16_t)(-r < 4096 ? -r : EIO) : 0;
        __atomic_store_n(&shared->call_count, i + 1, __ATOMIC_RELEASE);
}

static int do_create(const char *v, const char *b)
{
        return bindlink_create(v, b, 0, 0, NULL, NULL);
}
static int do_remove(const char *v, const char *b)
{
        (void)b;
        return bindlink_remove(v, NULL);
}
static int do_list(const char *v, const char *b)
{
        (void)v, (void)b;
        bindlink_links *links = NULL;
        int r = bindlink_list(&links, NULL);
        if (r >= 0)
                bindlink_links_free(links);
        return r;
}

static pid_t start_root_client(const char *v, const char *b)
{
        pid_t pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid > 0)
                return pid;
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        while (!__atomic_load_n(&shared->stop_root, __ATOMIC_ACQUIRE)) {
                timed_call(do_create, v, b);
                timed_call(do_list, v, b);
                timed_call(do_remove, v, b);
                (void)usleep(ROOT_PAUSE_US);
        }
        _exit(0);
}

/* ---- one phase --------------------------------------------------------------------- */

struct result {
        size_t calls, failed;
        int common_errno; /* the most frequent among the failed calls */
        double median_ms, longest_ms;
        bool cut_off; /* a call was still waiting when the phase ended */
        struct peaks peaks;
        uint64_t connects, lost;
        bool daemon_gone; /* after this phase */
        bool skipped;     /* it was gone before it */
};

static void kill_and_reap(pid_t pid)
{
        (void)kill(pid, SIGKILL);
        (void)waitpid(pid, NULL, 0);
}

/* Wait (sampling nothing) until the daemon is back to its resting descriptor count. */
static void settle(long daemon_pid, long resting_fds)
{
        double end = now_us() + 10e6;
        while (now_us() < end && count_fds(daemon_pid) > resting_fds + 2)
                (void)usleep(100000);
}

static void run_phase(const struct attack *a, long daemon_pid, double seconds, const char *v,
                      const char *b, struct result *res)
{
        memset(shared, 0, offsetof(struct shared, call_ms));
        *res = (struct result){0};
        pid_t attackers[8];
        int n = a->processes;
        for (int i = 0; i < n; i++)
                attackers[i] = start_attacker(a, i);
        if (n > 0)
                sample_for(daemon_pid, RAMP_SEC, &res->peaks);

        pid_t root = start_root_client(v, b);
        sample_for(daemon_pid, seconds, &res->peaks);
        __atomic_store_n(&shared->stop_root, 1, __ATOMIC_RELEASE);
        /* The attack ends with the phase; a root call it held up may finish now. */
        for (int i = 0; i < n; i++)
                kill_and_reap(attackers[i]);
        double stop = now_us();
        int status;
        while (waitpid(root, &status, WNOHANG) == 0) {
                if (now_us() - stop > STOP_GRACE_SEC * 1e6) {
                        uint64_t started =
                                __atomic_load_n(&shared->call_started_us, __ATOMIC_ACQUIRE);
                        kill_and_reap(root);
                        if (started > 0 && shared->call_count < MAX_CALLS) {
                                shared->call_ms[shared->call_count] =
                                        (float)((now_us() - (double)started) / 1e3);
                                shared->call_errno[shared->call_count++] = ETIMEDOUT;
                                res->cut_off = true;
                        }
                        break;
                }
                sample(daemon_pid, &res->peaks);
                (void)usleep(SAMPLE_MS * 1000);
        }

        res->calls = shared->call_count;
        double *ms = malloc((res->calls ? res->calls : 1) * sizeof *ms);
        if (!ms)
                die("out of memory");
        static size_t by_errno[4096];
        memset(by_errno, 0, sizeof by_errno);
        for (size_t i = 0; i < res->calls; i++) {
                ms[i] = shared->call_ms[i];
                if (shared->call_errno[i]) {
                        res->failed++;
                        if (++by_errno[shared->call_errno[i]] > by_errno[res->common_errno])
                                res->common_errno = shared->call_errno[i];
                }
                if (ms[i] > res->longest_ms)
                        res->longest_ms = ms[i];
        }
        res->median_ms = res->calls ? median(ms, res->calls) : 0;
        free(ms);
        res->connects = shared->connects;
        res->lost = shared->lost;
        res->daemon_gone = !alive(daemon_pid);
        /* Leave no link behind for the next phase (a remove cut off by the attack). */
        (void)bindlink_remove(v, NULL);
}

/* ---- the table ---------------------------------------------------------------------- */

#define COLUMNS 11
#define CELL 64

static const char *const column_names[COLUMNS] = {
        "attack",       "root calls",           "failed (mostly)",
        "median ms",    "longest ms",           "<= 50 ms?",
        "peak RSS MiB", "<= 64 MiB?",           "peak fds (of limit)",
        "<= 50 %?",     "hostile conns (lost)",
};

static const char *verdict(bool ok)
{
        return ok ? "yes" : "no";
}

static void result_cells(const struct attack *a, const struct result *r, long limit,
                         char cells[COLUMNS][CELL])
{
        (void)snprintf(cells[0], CELL, "%s", a->name);
        if (r->skipped) {
                (void)snprintf(cells[1], CELL, "skipped: bindlinkd was gone");
                for (int c = 2; c < COLUMNS; c++)
                        (void)snprintf(cells[c], CELL, "-");
                return;
        }
        double rss_mib = (double)r->peaks.rss_kib / 1024;
        (void)snprintf(cells[1], CELL, "%zu", r->calls);
        const char *name = bindlink_errno_name(r->common_errno);
        if (r->failed)
                (void)snprintf(cells[2], CELL, "%zu (%s)", r->failed, name ? name : "?");
        else
                (void)snprintf(cells[2], CELL, "0");
        (void)snprintf(cells[3], CELL, "%.2f", r->median_ms);
        (void)snprintf(cells[4], CELL, "%s%.1f", r->cut_off ? ">" : "", r->longest_ms);
        (void)snprintf(cells[5], CELL, "%s",
                       verdict(!r->cut_off && r->failed == 0 && r->longest_ms <= TARGET_WAIT_MS));
        (void)snprintf(cells[6], CELL, "%.1f", rss_mib);
        (void)snprintf(cells[7], CELL, "%s", verdict(rss_mib <= TARGET_RSS_MIB));
        (void)snprintf(cells[8], CELL, "%ld (%.1f %%)", r->peaks.fds,
                       limit > 0 ? 100.0 * (double)r->peaks.fds / (double)limit : 0.0);
        (void)snprintf(
                cells[9], CELL, "%s",
                verdict(limit > 0 && (double)r->peaks.fds <= TARGET_FD_SHARE * (double)limit));
        (void)snprintf(cells[10], CELL, "%llu (%llu)", (unsigned long long)r->connects,
                       (unsigned long long)r->lost);
        if (r->daemon_gone)
                (void)snprintf(cells[0], CELL, "%s [bindlinkd died]", a->name);
}

static void print_row(char cells[COLUMNS][CELL], const int *width)
{
        for (int c = 0; c < COLUMNS; c++)
                printf(c == 0 ? "| %-*s |" : " %*s |", width[c], cells[c]);
        printf("\n");
}

static void print_results(const struct result *res, size_t n, long limit, long hwm_kib,
                          double seconds)
{
        char machine[512];
        describe_machine(machine, sizeof machine);
        printf("bindlink hostile-client benchmark: %s\n", machine);
        printf("(%.0f s per attack after %.0f s of ramp-up; attackers run as uid %d; the root "
               "client loops create+list+remove of one plain link; daemon RLIMIT_NOFILE %ld)\n\n",
               seconds, RAMP_SEC, NOBODY, limit);
        char(*cells)[COLUMNS][CELL] = calloc(n + 1, sizeof *cells);
        if (!cells)
                die("out of memory");
        int width[COLUMNS];
        for (int c = 0; c < COLUMNS; c++) {
                (void)snprintf(cells[0][c], CELL, "%s", column_names[c]);
                width[c] = (int)strlen(column_names[c]);
        }
        for (size_t i = 0; i < n; i++) {
                result_cells(&attacks[i], &res[i], limit, cells[i + 1]);
                for (int c = 0; c < COLUMNS; c++)
                        if ((int)strlen(cells[i + 1][c]) > width[c])
                                width[c] = (int)strlen(cells[i + 1][c]);
        }
        print_row(cells[0], width);
        for (int c = 0; c < COLUMNS; c++) {
                if (c == 0)
                        putchar('|');
                for (int k = 0; k < width[c] + 2; k++)
                        putchar('-');
                putchar('|');
        }
        printf("\n");
        for (size_t i = 0; i < n; i++)
                print_row(cells[i + 1], width);
        free(cells);
        printf("\nTargets: a root call waits <= %.0f ms and none fails; the daemon's RSS <= %.0f "
               "MiB; its open descriptors <= %.0f %% of RLIMIT_NOFILE. '>' marks a root call "
               "still waiting %.0f s after the attack ended (then cut off, counted as failed: "
               "ETIMEDOUT). 'hostile conns': the attackers' connections, and how many of them "
               "could not connect or were closed by the daemon. Daemon VmHWM over the whole "
               "run: %.1f MiB.\n",
               TARGET_WAIT_MS, TARGET_RSS_MIB, TARGET_FD_SHARE * 100, STOP_GRACE_SEC,
               (double)hwm_kib / 1024);
}

/* ---- what the daemon logged --------------------------------------------------------- */

#define LOG_KINDS 64

struct log_kind {
        char pattern[120];
        unsigned long count;
};

static int by_count(const void *pa, const void *pb)
{
        const struct log_kind *a = pa, *b = pb;
        return (a->count < b->count) - (a->count > b->count);
}

/* The daemon's log, lines told apart by their words (numbers masked): a flood of one
 * message says what the daemon spent the attack on. */
static void summarize_log(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                printf("\n(cannot read the daemon's log %s: %s)\n", path, strerror(errno));
                return;
        }
        static struct log_kind kinds[LOG_KINDS];
        size_t n = 0;
        unsigned long lines = 0, other = 0;
        char line[512];
        while (fgets(line, sizeof line, f)) {
                lines++;
                char pattern[120];
                size_t k = 0;
                for (const char *p = line; *p && *p != '\n' && k + 1 < sizeof pattern; p++)
                        if (*p < '0' || *p > '9')
                                pattern[k++] = *p;
                        else if (k == 0 || pattern[k - 1] != '#')
                                pattern[k++] = '#';
                pattern[k] = '\0';
                size_t i = 0;
                while (i < n && strcmp(kinds[i].pattern, pattern) != 0)
                        i++;
                if (i == n && n < LOG_KINDS)
                        (void)snprintf(kinds[n++].pattern, sizeof kinds[0].pattern, "%s", pattern);
                if (i < n)
                        kinds[i].count++;
                else
                        other++;
        }
        long size = ftell(f);
        (void)fclose(f);
        qsort(kinds, n, sizeof *kinds, by_count);
        printf("\nThe daemon logged %lu lines (%.1f MiB) in all; the most frequent:\n", lines,
               (double)size / (1024 * 1024));
        for (size_t i = 0; i < n && i < 8; i++)
                printf("  %9lu  %s\n", kinds[i].count, kinds[i].pattern);
        if (other)
                printf("  %9lu  (of other kinds)\n", other);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"dir", required_argument, NULL, 'd'},
                {"daemon-pid", required_argument, NULL, 'p'},
                {"phase-seconds", required_argument, NULL, 't'},
                {0},
        };
        const char *dir = NULL;
        long daemon_pid = 0;
        double seconds = 7;
        for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
                switch (c) {
                case 'd':
                        dir = optarg;
                        break;
                case 'p':
                        daemon_pid = strtol(optarg, NULL, 10);
                        break;
                case 't':
                        seconds = strtod(optarg, NULL);
                        break;
                default:
                        die("usage: hostile --dir DIR --daemon-pid PID [--phase-seconds N]");
                }
        }
        socket_path = getenv("BINDLINK_SOCKET");
        if (!dir || daemon_pid <= 0 || seconds <= 0 || seconds > 600)
                die("usage: hostile --dir DIR --daemon-pid PID [--phase-seconds N]");
        if (!socket_path || !*socket_path)
                die("BINDLINK_SOCKET must name the daemon's socket");
        if (geteuid() != 0)
                die("must run as root (the attackers become uid %d)", NOBODY);
        if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                die("socket path too long: %s", socket_path);

        shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                      0);
        noise = malloc(NOISE_SIZE);
        if (shared == MAP_FAILED || !noise)
                die("out of memory");
        uint64_t seed = 0x243f6a8885a308d3ull;
        for (size_t i = 0; i + 8 <= NOISE_SIZE; i += 8) {
                uint64_t r = rng_next(&seed);
                memcpy(noise + i, &r, 8);
        }

        char v[PATH_MAX], b[PATH_MAX], marker[PATH_MAX];
        (void)snprintf(v, sizeof v, "%s/v", dir);
        (void)snprintf(b, sizeof b, "%s/b", dir);
        (void)snprintf(marker, sizeof marker, "%s/b/marker", dir);
        if ((mkdir(v, 0755) < 0 && errno != EEXIST) || (mkdir(b, 0755) < 0 && errno != EEXIST))
                die("mkdir under %s: %s", dir, strerror(errno));
        int m = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (m < 0)
                die("create %s: %s", marker, strerror(errno));
        (void)close(m);
        /* Sanity: the legitimate client works before anything attacks. */
        bindlink_error err;
        if (bindlink_create(v, b, 0, 0, NULL, &err) < 0)
                die("a plain create fails before any attack: %s", err.message);
        char shown[PATH_MAX + 8];
        (void)snprintf(shown, sizeof shown, "%s/marker", v);
        if (access(shown, F_OK) < 0)
                die("%s does not show %s", v, b);
        if (bindlink_remove(v, &err) < 0)
                die("a plain remove fails before any attack: %s", err.message);

        long limit = proc_number(daemon_pid, "limits", "Max open files");
        long resting_fds = count_fds(daemon_pid);
        size_t n = sizeof attacks / sizeof attacks[0];
        struct result results[sizeof attacks / sizeof attacks[0]];
        for (size_t i = 0; i < n; i++) {
                fprintf(stderr, "hostile: %s ...\n", attacks[i].name);
                if (i > 0 && (results[i - 1].daemon_gone || results[i - 1].skipped)) {
                        results[i] = (struct result){.skipped = true};
                        continue;
                }
                settle(daemon_pid, resting_fds);
                run_phase(&attacks[i], daemon_pid, seconds, v, b, &results[i]);
        }
        print_results(results, n, limit, proc_status_kib(daemon_pid, "VmHWM"), seconds);
        const char *log = getenv("BINDLINK_BENCH_LOG");
        if (log && *log)
                summarize_log(log);
        return 0;
}
