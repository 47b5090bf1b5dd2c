/* log.c — one formatted line, written whole. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void log_line(const char *level, const char *fmt, ...)
{
        char line[1024];
        int n = snprintf(line, sizeof line, "bindlinkd: %s", level);
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
