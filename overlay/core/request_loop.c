/* request_loop.c — the server's request loop: leader/followers over /dev/fuse, the
 * leader spinning briefly before it sleeps.
 *
 * Why not fuse_session_loop_mt: there every request wakes a worker asleep in read(2)
 * on /dev/fuse, and on a virtual machine a wake-up across CPUs costs as much as the
 * rest of the round trip (measured on the 2-vCPU VM of bench/: a first stat through a
 * merged view 36 us with libfuse's loop, 26 us with this one; a create+write+close
 * 170 us, 120 us). A program stat()ing or creating files one after another sends its
 * next request some microseconds after our reply, so the thread that answered goes
 * on reading, without blocking, for SPIN_US; only when nothing came does it sleep in
 * poll(2). Idle, the server sleeps.
 *
 * One thread at a time receives (the leader); the others wait on a condition
 * variable, never on the device, so that a request wakes nobody while the leader
 * spins. The leader serves what it received itself, except when the request may take
 * long (request_may_wait) or, on machines of 4 CPUs or more, when clients queue up
 * (the request was waiting the moment it looked, and it comes from another thread
 * than the last one): then it first hands the leadership on, so a slow request never
 * stalls the view and busy clients get more threads. "Waiting the moment it looked"
 * alone says nothing on a VM: a program issuing requests back to back has its next
 * one queued before the server is back from its reply, and handing on there cost a
 * create 150 -> 200 us. On 2 vCPUs a second serving thread only took CPU from the
 * clients (4 parallel clients: 107 us per lookup with it, 88 without), so there a
 * single thread serves and only the watchman adds one. A thread that becomes leader
 * by a hand-off sleeps at once instead of spinning: two spinning threads on a small
 * machine take the CPU the client needs.
 *
 * A request served by the leader itself may need another request answered first:
 * when B holds a way back into the view (the view bind-mounted inside B, say), the
 * leader's own lookup there asks this server — and nobody receives. A watchman
 * thread breaks such a wait: while the server is busy it looks every WATCH_MS, and
 * if the leader's place has stayed empty with no request received meanwhile, it
 * hands the leadership on. While the leader sleeps in poll(2), so does the watchman:
 * a burst costs it one wake-up, idleness none. */
#include "core.h"
#include "tmpfile_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long the leader reads without blocking before it sleeps: longer than the gap
 * between two requests of a program issuing them back to back (10-20 us measured on
 * the VM), short enough that the end of a burst costs little CPU. */
#define SPIN_US 30
/* Asleep in poll(2), wake this often to notice a session ended by a signal. */
#define POLL_TIMEOUT_MS 1000
/* How long the leader's place may stay empty, no request received, before the
 * watchman fills it. */
#define WATCH_MS 10

struct request_loop {
        struct fuse_session *se;
        int fd;
        bool local_backing;
        pthread_mutex_t lock;
        pthread_cond_t follow;   /* followers wait here for the leader's place */
        pthread_cond_t finished; /* the first thread waits here for the others */
        pthread_cond_t watch;    /* the watchman waits here */
        bool watch_asleep;       /* ... without a timeout, until signalled */
        bool leader_asleep;      /* the leader sleeps in poll(2) */
        unsigned long received;  /* requests received so far */
        bool leader;             /* a thread is receiving */
        bool done;               /* the session ended (or failed): every thread ends */
        unsigned threads, idle, max_threads, max_idle;
        unsigned busy;         /* threads serving a request */
        unsigned backlog_busy; /* hand on for a backlog only while fewer are busy */
        uint32_t last_pid;     /* the thread that sent the last request */
        int error; /* the first receive error, negative errno */
};

static long elapsed_ns(const struct timespec *since)
{
        struct timespec now;
        (void)clock_gettime(CLOCK_MONOTONIC, &now);
        return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

/* The next request into buf; spin first if spin. *queued: it was there at the first
 * look; *slept: poll(2) was called. > 0 its size, 0 when the session ended, negative
 * errno if receiving failed. */
static int receive(struct request_loop *loop, struct fuse_buf *buf, bool spin, bool *queued,
                   bool *slept)
{
        struct timespec start;
        (void)clock_gettime(CLOCK_MONOTONIC, &start);
        *queued = true;
        *slept = false;
        for (;;) {
                if (fuse_session_exited(loop->se))
                        return 0;
                int r = fuse_session_receive_buf(loop->se, buf);
                /* ENOENT: the request was interrupted while we took it, and the
                 * kernel dropped it (libfuse retries this itself only without
                 * splice). */
                bool again = r == -EINTR || r == -ENOENT;
                if (r != -EAGAIN && !again)
                        return r;
                *queued = false;
                if (again || (spin && elapsed_ns(&start) < SPIN_US * 1000L))
                        continue;
                struct pollfd pfd = {.fd = loop->fd, .events = POLLIN};
                if (!*slept) {
                        *slept = true;
                        __atomic_store_n(&loop->leader_asleep, true, __ATOMIC_RELAXED);
                }
                int p = poll(&pfd, 1, POLL_TIMEOUT_MS);
                if (p < 0 && errno != EINTR)
                        return -errno;
                spin = false;
        }
}

/* Whether serving this request may keep its thread long. On the local filesystems
 * only a sync may (it waits for a disk). Elsewhere (NFS, FUSE, ...) anything but
 * what is answered from the inodes we hold or the kernel's caches. */
static bool request_may_wait(const struct request_loop *loop, const struct fuse_buf *buf)
{
        if ((buf->flags & FUSE_BUF_IS_FD) || buf->size < sizeof(struct fuse_in_header))
                return !loop->local_backing; /* a large write, still in the splice pipe */
        const struct fuse_in_header *in = buf->mem;
        switch (in->opcode) {
        case FUSE_FSYNC:
        case FUSE_FSYNCDIR:
                return true;
        case FUSE_FORGET:
        case FUSE_BATCH_FORGET:
        case FUSE_INTERRUPT:
        case FUSE_GETATTR:
        case FUSE_RELEASEDIR:
        case FUSE_READDIR:
        case FUSE_READDIRPLUS:
                return false;
        default:
                return !loop->local_backing;
        }
}

static void *worker(void *arg);

/* With loop->lock held: let another thread receive while this one serves a request.
 * A follower is woken, or a thread started while under the limit. */
static void hand_on_leadership(struct request_loop *loop)
{
        if (loop->idle > 0) {
                (void)pthread_cond_signal(&loop->follow);
                return;
        }
        if (loop->threads >= loop->max_threads)
                return;
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) != 0)
                return;
        pthread_t thread;
        (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int e = pthread_create(&thread, &attr, worker, loop);
        if (e == 0)
                loop->threads++;
        else
                fprintf(stderr, "bindlink-overlay: cannot start a thread (%s); serving on\n",
                        strerror(e));
        (void)pthread_attr_destroy(&attr);
}

/* Serve until the session ends (the first thread) or until enough others wait.
 * Counts this thread out of loop->threads when it returns. */
static void serve_requests(struct request_loop *loop, bool first)
{
        struct fuse_buf buf = {.mem = NULL};
        bool hot = false; /* this thread served the last request */
        (void)pthread_mutex_lock(&loop->lock);
        for (;;) {
                while (loop->leader && !loop->done) {
                        if (!first && loop->idle >= loop->max_idle)
                                goto out;
                        loop->idle++;
                        (void)pthread_cond_wait(&loop->follow, &loop->lock);
                        loop->idle--;
                        hot = false;
                }
                if (loop->done)
                        break;
                loop->leader = true;
                (void)pthread_mutex_unlock(&loop->lock);

                bool queued, slept;
                int r = receive(loop, &buf, hot, &queued, &slept);

                (void)pthread_mutex_lock(&loop->lock);
                loop->leader = false;
                loop->received++;
                if (slept) {
                        __atomic_store_n(&loop->leader_asleep, false, __ATOMIC_RELAXED);
                        if (loop->watch_asleep)
                                (void)pthread_cond_signal(&loop->watch);
                }
                if (r <= 0) {
                        if (r < 0 && loop->error == 0)
                                loop->error = r;
                        loop->done = true;
                        (void)pthread_cond_broadcast(&loop->follow);
                        break;
                }
                bool other_client = false;
                if (!(buf.flags & FUSE_BUF_IS_FD)) {
                        const struct fuse_in_header *in = buf.mem;
                        other_client = in->pid != loop->last_pid;
                        loop->last_pid = in->pid;
                        /* O_TMPFILE: an opcode libfuse 3.14 does not know. */
                        (void)ovl_tmpfile_request_as_create(buf.mem, buf.size);
                }
                if ((hot && queued && other_client && loop->busy < loop->backlog_busy) ||
                    request_may_wait(loop, &buf))
                        hand_on_leadership(loop);
                loop->busy++;
                (void)pthread_mutex_unlock(&loop->lock);
                fuse_session_process_buf(loop->se, &buf);
                hot = true;
                (void)pthread_mutex_lock(&loop->lock);
                loop->busy--;
        }
out:
        loop->threads--;
        (void)pthread_cond_broadcast(&loop->finished);
        (void)pthread_mutex_unlock(&loop->lock);
        free(buf.mem);
}

static void *worker(void *arg)
{
        serve_requests(arg, false);
        return NULL;
}

/* The watchman (see the top of the file). */
static void *watchman(void *arg)
{
        struct request_loop *loop = arg;
        (void)pthread_mutex_lock(&loop->lock);
        while (!loop->done) {
                if (__atomic_load_n(&loop->leader_asleep, __ATOMIC_RELAXED)) {
                        loop->watch_asleep = true;
                        (void)pthread_cond_wait(&loop->watch, &loop->lock);
                        loop->watch_asleep = false;
                        continue;
                }
                unsigned long received = loop->received;
                struct timespec until;
                (void)clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_nsec += WATCH_MS * 1000000L;
                if (until.tv_nsec >= 1000000000L) {
                        until.tv_sec++;
                        until.tv_nsec -= 1000000000L;
                }
                (void)pthread_cond_timedwait(&loop->watch, &loop->lock, &until);
                if (!loop->done && !loop->leader && loop->busy > 0 && loop->received == received)
                        hand_on_leadership(loop);
        }
        (void)pthread_mutex_unlock(&loop->lock);
        return NULL;
}

/* The loop's lock and condition variables; the watchman's runs on the monotonic
 * clock. 0, or a positive error number (with nothing left to destroy). */
static int init_sync(struct request_loop *loop)
{
        pthread_condattr_t monotonic;
        int e = pthread_condattr_init(&monotonic);
        if (e != 0)
                return e;
        if ((e = pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC)) != 0)
                goto no_lock;
        if ((e = pthread_mutex_init(&loop->lock, NULL)) != 0)
                goto no_lock;
        if ((e = pthread_cond_init(&loop->follow, NULL)) != 0)
                goto no_follow;
        if ((e = pthread_cond_init(&loop->finished, NULL)) != 0)
                goto no_finished;
        if ((e = pthread_cond_init(&loop->watch, &monotonic)) == 0)
                goto done;
        (void)pthread_cond_destroy(&loop->finished);
no_finished:
        (void)pthread_cond_destroy(&loop->follow);
no_follow:
        (void)pthread_mutex_destroy(&loop->lock);
no_lock:
done:
        (void)pthread_condattr_destroy(&monotonic);
        return e;
}

static void destroy_sync(struct request_loop *loop)
{
        (void)pthread_cond_destroy(&loop->watch);
        (void)pthread_cond_destroy(&loop->finished);
        (void)pthread_cond_destroy(&loop->follow);
        (void)pthread_mutex_destroy(&loop->lock);
}

int ovl_request_loop(struct fuse_session *se, unsigned max_threads, unsigned max_idle,
                     bool local_backing)
{
        struct request_loop loop = {
                .se = se,
                .fd = fuse_session_fd(se),
                .local_backing = local_backing,
                .threads = 1,
                .max_threads = max_threads ? max_threads : 1,
                .max_idle = max_idle,
        };
        /* Clients need CPUs too: clients queuing up get up to half as many threads
         * serving them as there are CPUs, none on a machine of 2 or 3. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        loop.backlog_busy = cpus >= 4 ? (unsigned)(cpus / 2) : 0;
        int flags = fcntl(loop.fd, F_GETFL);
        if (flags < 0 || fcntl(loop.fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        int e = init_sync(&loop);
        if (e != 0)
                return -e;
        pthread_t watch_thread;
        e = pthread_create(&watch_thread, NULL, watchman, &loop);
        if (e != 0) {
                destroy_sync(&loop);
                return -e;
        }
        serve_requests(&loop, true);
        /* The session is over (done): the others end once they finish what they
         * serve, and they use loop until then. */
        (void)pthread_mutex_lock(&loop.lock);
        (void)pthread_cond_signal(&loop.watch);
        while (loop.threads > 0)
                (void)pthread_cond_wait(&loop.finished, &loop.lock);
        (void)pthread_mutex_unlock(&loop.lock);
        (void)pthread_join(watch_thread, NULL);
        destroy_sync(&loop);
        return loop.error;
}
