/* bench_common.h — what the benchmark programs share: a monotonic clock in µs,
 * medians and percentiles, numbers from /proc/PID files, die(), and the line that
 * says on what machine and when a table was measured. Header-only: each benchmark is one
 * program built from one file. */
#ifndef BINDLINK_BENCH_COMMON_H
#define BINDLINK_BENCH_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static inline double now_us(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *pa, const void *pb)
{
        double a = *(const double *)pa, b = *(const double *)pb;
        return (a > b) - (a < b);
}

/* Percentile q (0..1) of v[0..n), nearest rank; sorts v. */
static inline double percentile(double *v, size_t n, double q)
{
        qsort(v, n, sizeof *v, cmp_double);
        size_t rank = (size_t)(q * (double)n + 0.999999);
        if (rank < 1)
                rank = 1;
        if (rank > n)
                rank = n;
        return v[rank - 1];
}

static inline double median(double *v, size_t n)
{
        qsort(v, n, sizeof *v, cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The number after `key` on the line of /proc/PID/FILE that starts with it, or -1. */
static inline long proc_number(long pid, const char *file, const char *key)
{
        char path[64];
        (void)snprintf(path, sizeof path, "/proc/%ld/%s", pid, file);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        char line[256];
        size_t len = strlen(key);
        long value = -1;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, key, len) == 0) {
                        value = strtol(line + len, NULL, 10);
                        break;
                }
        (void)fclose(f);
        return value;
}

/* A field of /proc/PID/status in KiB ("VmHWM"), or -1. */
static inline long proc_status_kib(long pid, const char *field)
{
        char key[64];
        (void)snprintf(key, sizeof key, "%s:", field);
        return proc_number(pid, "status", key);
}

/* Print "PROGRAM: message" on stderr and exit 1. */
__attribute__((noreturn, format(printf, 1, 2))) static inline void die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s: ", program_invocation_short_name);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

/* "kernel R, N CPU(s), MODEL, DATE, load average A B C" into buf. */
static inline void describe_machine(char *buf, size_t size)
{
        struct utsname u;
        char cpu[128] = "unknown";
        FILE *f = fopen("/proc/cpuinfo", "re");
        if (f) {
                char line[256];
                while (fgets(line, sizeof line, f))
                        if (strncmp(line, "model name", 10) == 0) {
                                const char *colon = strchr(line, ':');
                                if (colon) {
                                        colon++;
                                        while (*colon == ' ' || *colon == '\t')
                                                colon++;
                                        (void)snprintf(cpu, sizeof cpu, "%s", colon);
                                        cpu[strcspn(cpu, "\n")] = '\0';
                                }
                                break;
                        }
                (void)fclose(f);
        }
        char date[64] = "";
        time_t t = time(NULL);
        struct tm tm;
        if (localtime_r(&t, &tm))
                (void)strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %z", &tm);
        char load[64] = "?";
        f = fopen("/proc/loadavg", "re");
        if (f) {
                double l1, l5, l15;
                if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
                        (void)snprintf(load, sizeof load, "%.2f %.2f %.2f", l1, l5, l15);
                (void)fclose(f);
        }
        (void)snprintf(buf, size, "kernel %s, %ld CPU(s), %s, %s, load average %s",
                       uname(&u) == 0 ? u.release : "?", sysconf(_SC_NPROCESSORS_ONLN), cpu, date,
                       load);
}

#endif
