/* creds.h — who made a request, as the daemon keeps it: the identity whose rights count
 * when the request is checked (S2's EACCES rows) and whenever the daemon resolves the
 * link's paths again later (S10: B made again, a re-plan after a change). A link never
 * shows its creator more than the creator could reach. Pure data, no syscalls. */
#ifndef BINDLINKD_CREDS_H
#define BINDLINKD_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The capabilities that change what a path lookup or access check allows. */
#define CREDS_DAC_OVERRIDE 0x1u
#define CREDS_DAC_READ_SEARCH 0x2u

struct creds {
        /* An administrator by CAP_SYS_ADMIN with both DAC capabilities (root, as a
         * rule): paths are resolved with the daemon's own rights, as before. */
        bool privileged;
        uid_t uid;
        gid_t gid;
        unsigned dac_caps; /* CREDS_DAC_* the creator had in effect */
        gid_t *groups;     /* supplementary groups; malloc'd, may be NULL */
        size_t group_count;
};

/* Links made by the daemon itself (links.conf, journals from before creators were
 * recorded). */
static inline struct creds creds_daemon(void)
{
        return (struct creds){.privileged = true, .dac_caps = CREDS_DAC_OVERRIDE |
                                                             CREDS_DAC_READ_SEARCH};
}

/* Deep copy into *ret (owned by the caller). 0 or -ENOMEM. */
int creds_copy(const struct creds *from, struct creds *ret);
void creds_done(struct creds *creds);

#endif
