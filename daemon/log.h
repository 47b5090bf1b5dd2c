/* log.h — the daemon logs to stderr, one line per event (journald adds the rest). */
#ifndef BINDLINKD_LOG_H
#define BINDLINKD_LOG_H

#include <stdio.h>

#define log_info(...) ((void)fprintf(stderr, "bindlinkd: " __VA_ARGS__), (void)fputc('\n', stderr))
#define log_warning(...) ((void)fprintf(stderr, "bindlinkd: warning: " __VA_ARGS__), (void)fputc('\n', stderr))
#define log_error(...) ((void)fprintf(stderr, "bindlinkd: error: " __VA_ARGS__), (void)fputc('\n', stderr))

#endif
