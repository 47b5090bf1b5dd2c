/* log.c — one formatted line, written whole, with its priority where journald reads
 * it, and the cause of an error at its end. */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Is stderr the stream systemd connected to the journal ($JOURNAL_STREAM is its
 * "device:inode")? Asked once: stderr does not change under a running daemon. */
static bool stderr_is_journal(void)
{
        static int known = -1;
        if (known >= 0)
                return known;
        const char *env = getenv("JOURNAL_STREAM");
        uintmax_t dev, ino;
        struct stat st;
        known = env && sscanf(env, "%ju:%ju", &dev, &ino) == 2 &&
                fstat(STDERR_FILENO, &st) == 0 && (uintmax_t)st.st_dev == dev &&
                (uintmax_t)st.st_ino == ino;
        return known;
}

/* The line, with ": " and the text of error (positive) at its end unless it is 0.
 * A message too long for the line is cut, never the cause. */
static void log_write(int priority, int error, const char *fmt, va_list ap)
{
        int saved_errno = errno;
        const char *word = priority <= LOG_ERR       ? "error: "
                           : priority == LOG_WARNING ? "warning: "
                                                     : "";
        char line[1024];
        int n = stderr_is_journal()
                        ? snprintf(line, sizeof line, "<%d>bindlinkd: %s", priority, word)
                        : snprintf(line, sizeof line, "bindlinkd: %s", word);
        /* strerror_r (GNU: the text, in buf or static), not strerror's shared buffer. */
        char buf[128];
        const char *cause = error > 0 ? strerror_r(error, buf, sizeof buf) : NULL;
        size_t cause_len = cause ? strnlen(cause, sizeof buf - 1) : 0;
        /* Room for the message and its NUL: the line less the prefix, ": cause" and
         * the newline. */
        size_t room = sizeof line - (size_t)n - (cause ? 2 + cause_len : 0) - 1;
        int m = vsnprintf(line + n, room, fmt, ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > (size_t)n + room - 1)
                len = (size_t)n + room - 1;
        if (cause) {
                line[len++] = ':';
                line[len++] = ' ';
                memcpy(line + len, cause, cause_len);
                len += cause_len;
        }
        line[len++] = '\n';
        (void)!write(STDERR_FILENO, line, len);
        errno = saved_errno;
}

void log_line(int priority, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_write(priority, 0, fmt, ap);
        va_end(ap);
}

int log_errno(int priority, int error, const char *fmt, ...)
{
        int e = error < 0 ? -error : error;
        if (e == 0)
                e = EIO;
        va_list ap;
        va_start(ap, fmt);
        log_write(priority, e, fmt, ap);
        va_end(ap);
        return -e;
}
