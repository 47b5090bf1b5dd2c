/* log.h — the daemon logs to stderr, one line per event, one write(2) per line (so
 * lines from several processes never interleave; journald adds the rest). */
#ifndef BINDLINKD_LOG_H
#define BINDLINKD_LOG_H

__attribute__((format(printf, 2, 3))) void log_line(const char *level, const char *fmt, ...);

#define log_info(...) log_line("", __VA_ARGS__)
#define log_warning(...) log_line("warning: ", __VA_ARGS__)
#define log_error(...) log_line("error: ", __VA_ARGS__)

#endif
