/* log.c — one formatted line, written whole, with its priority where journald reads
 * it. */
#include "log.h"

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

void log_line(int priority, const char *fmt, ...)
{
        const char *word = priority <= LOG_ERR       ? "error: "
                           : priority == LOG_WARNING ? "warning: "
                                                     : "";
        char line[1024];
        int n = stderr_is_journal()
                        ? snprintf(line, sizeof line, "<%d>bindlinkd: %s", priority, word)
                        : snprintf(line, sizeof line, "bindlinkd: %s", word);
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
        va_end(ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof line - 2)
                len = sizeof line - 2;
        line[len++] = '\n';
        (void)!write(STDERR_FILENO, line, len);
}
