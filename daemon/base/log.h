/* log.h — the daemon logs to stderr, one line per event, one write(2) per line (so
 * lines from several processes never interleave). When stderr is the journal (systemd
 * says so in $JOURNAL_STREAM), each line starts with its syslog priority ("<3>"), so
 * `journalctl -p err` shows errors such as a bad links.conf line; journald adds the
 * rest. */
#ifndef BINDLINKD_LOG_H
#define BINDLINKD_LOG_H

#include <syslog.h>

__attribute__((format(printf, 2, 3))) void log_line(int priority, const char *fmt, ...);

#define log_info(...) log_line(LOG_INFO, __VA_ARGS__)
#define log_warning(...) log_line(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_line(LOG_ERR, __VA_ARGS__)

#endif
