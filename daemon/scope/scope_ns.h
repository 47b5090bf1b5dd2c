/* scope_ns.h — S23: the mount namespace a scoped request names, found without
 * holding anything of it for longer than the request: a pidfd of a process in it
 * (which keeps no namespace or filesystem alive) and its 64-bit id. */
#ifndef BINDLINKD_SCOPE_NS_H
#define BINDLINKD_SCOPE_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h"

struct scope_ns {
        uint64_t id; /* NS_GET_MNTNS_ID: never reused while the kernel runs */
        int nsfd;    /* the namespace, for this request only */
        int pidfd;   /* a process in it, for its lifetime */
        pid_t pid;   /* that process, as bindlinkd's pid namespace sees it */
};

/* The namespace target names (fd: the request's descriptor for a pidfd or namespace
 * target, -1 otherwise). 0, or -errno with the cause in why. */
int scope_ns_open(const struct wire_target *target, int fd, struct scope_ns *ret, char *why,
                  size_t why_size);
void scope_ns_done(struct scope_ns *ns);

/* Is ns owned by bindlinkd's user namespace or one below it (so that CAP_SYS_ADMIN
 * in bindlinkd's gives CAP_SYS_ADMIN over it)? 0 with *ret_own_userns (owned by
 * bindlinkd's own), or -EPERM with why. */
int scope_ns_authorize(const struct scope_ns *ns, bool *ret_own_userns, char *why, size_t why_size);

/* A live process whose mount namespace is id: its pidfd and pid, or -ESRCH. */
int scope_ns_find_process(uint64_t id, pid_t *ret_pid);

/* The mount namespace of the process pidfd: its descriptor, or -errno. */
int scope_ns_of_pidfd(int pidfd);

/* The id of the mount namespace nsfd: 0 or -errno. */
int scope_ns_id(int nsfd, uint64_t *ret_id);

#endif
