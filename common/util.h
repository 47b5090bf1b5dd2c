/* util.h — scoped cleanup and small helpers shared by the library, daemon and tools. */
#ifndef BINDLINK_UTIL_H
#define BINDLINK_UTIL_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void)close(*fd);
                errno = saved;
        }
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership on: returns the value and leaves the variable empty. */
#define TAKE_FD(fd)                                                            \
        ({                                                                     \
                int _take_fd = (fd);                                           \
                (fd) = -1;                                                     \
                _take_fd;                                                      \
        })
#define TAKE_PTR(ptr)                                                          \
        ({                                                                     \
                __typeof__(ptr) _take_ptr = (ptr);                             \
                (ptr) = NULL;                                                  \
                _take_ptr;                                                     \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* errno as a negative value, never 0 (a failed call that forgot errno is EIO). */
static inline int negative_errno(void) { return errno > 0 ? -errno : -EIO; }

#endif
