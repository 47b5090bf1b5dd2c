/* bench_scope.c — S23: what a link in another mount namespace costs against one on
 * the host, through the C API (no process start in the figures): N rounds of create
 * + remove of a plain link, on the host and in a container given by pid (a pidfd
 * per call), the median and p90 of each, in µs. See bench/README.md.
 *
 *   bench_scope --dir DIR --container PID [--rounds N]
 * DIR holds v/ and b/ (made here); the container's mount namespace sees DIR. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "bench_common.h"
#include "bindlink.h"

static void must(int r, const bindlink_error *e, const char *what)
{
        if (r < 0)
                die("%s: %s", what, e->message[0] ? e->message : strerror(e->error));
}

int main(int argc, char **argv)
{
        const char *dir = NULL;
        long pid = 0, rounds = 200;
        static const struct option options[] = {{"dir", required_argument, NULL, 'd'},
                                                {"container", required_argument, NULL, 'c'},
                                                {"rounds", required_argument, NULL, 'n'},
                                                {0}};
        for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
                if (c == 'd')
                        dir = optarg;
                else if (c == 'c')
                        pid = strtol(optarg, NULL, 10);
                else if (c == 'n')
                        rounds = strtol(optarg, NULL, 10);
                else
                        return 2;
        }
        if (!dir || pid <= 0 || rounds < 1)
                die("usage: bench_scope --dir DIR --container PID [--rounds N]");
        char v[4096], b[4096];
        (void)snprintf(v, sizeof v, "%s/v", dir);
        (void)snprintf(b, sizeof b, "%s/b", dir);
        (void)mkdir(v, 0755);
        (void)mkdir(b, 0755);
        int pidfd = pidfd_open((pid_t)pid, 0);
        if (pidfd < 0)
                die("pidfd_open %ld: %s", pid, strerror(errno));
        bindlink_target target = {.kind = BINDLINK_TARGET_PIDFD, .fd = pidfd};
        double *t[4];
        for (int k = 0; k < 4; k++)
                if (!(t[k] = calloc((size_t)rounds, sizeof(double))))
                        die("out of memory");
        bindlink_error e;
        for (long i = 0; i < rounds; i++) {
                /* Alternating, so that a busy moment of the machine falls on both. */
                double t0 = now_us();
                must(bindlink_create(v, b, 0, 0, NULL, &e), &e, "host create");
                double t1 = now_us();
                must(bindlink_remove(v, &e), &e, "host remove");
                double t2 = now_us();
                must(bindlink_target_create(&target, v, b, 0, 0, NULL, &e), &e, "scoped create");
                double t3 = now_us();
                must(bindlink_target_remove(&target, v, &e), &e, "scoped remove");
                double t4 = now_us();
                t[0][i] = t1 - t0;
                t[1][i] = t2 - t1;
                t[2][i] = t3 - t2;
                t[3][i] = t4 - t3;
        }
        static const char *const names[] = {"host create", "host remove", "scoped create",
                                            "scoped remove"};
        double med[4];
        for (int k = 0; k < 4; k++) {
                med[k] = median(t[k], (size_t)rounds);
                printf("%s\t%.0f\t%.0f\n", names[k], med[k], percentile(t[k], (size_t)rounds, 0.9));
        }
        printf("ratio create\t%.2f\nratio remove\t%.2f\n", med[2] / med[0], med[3] / med[1]);
        for (int k = 0; k < 4; k++)
                free(t[k]);
        (void)close(pidfd);
        return 0;
}
