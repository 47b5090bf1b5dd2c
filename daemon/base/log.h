/* log.h — the daemon logs to stderr, one line per event, one write(2) per line (so
 * lines from several processes never interleave). When stderr is the journal (systemd
 * says so in $JOURNAL_STREAM), each line starts with its syslog priority ("<3>"), so
 * `journalctl -p err` shows errors such as a bad links.conf line; journald adds the
 * rest.
 *
 * Errors inside the daemon are negative errno values (-EACCES). A failure is logged
 * once, where its path and cause are known, with the *_errno forms: they append
 * ": <strerror>" to the line and return the negative errno, so a function that logs
 * and fails is one statement: `return log_error_errno(r, "cannot read %s", path);`.
 * The error may be given negative or positive (errno itself); 0 is taken for EIO,
 * as negative_errno() does. Logging leaves errno as it was. */
#ifndef BINDLINKD_LOG_H
#define BINDLINKD_LOG_H

#include <syslog.h>

__attribute__((format(printf, 2, 3))) void log_line(int priority, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) int log_errno(int priority, int error, const char *fmt,
                                                    ...);

#define log_info(...) log_line(LOG_INFO, __VA_ARGS__)
#define log_warning(...) log_line(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_line(LOG_ERR, __VA_ARGS__)

#define log_info_errno(error, ...) log_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_errno(LOG_ERR, (error), __VA_ARGS__)

#endif
