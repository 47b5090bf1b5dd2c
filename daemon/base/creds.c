/* creds.c — copying and freeing struct creds (see creds.h). */
#include "creds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int creds_copy(const struct creds *from, struct creds *ret)
{
        struct creds c = *from;
        c.groups = NULL;
        if (from->group_count > 0) {
                c.groups = malloc(from->group_count * sizeof *c.groups);
                if (!c.groups)
                        return -ENOMEM;
                memcpy(c.groups, from->groups, from->group_count * sizeof *c.groups);
        }
        *ret = c;
        return 0;
}

void creds_done(struct creds *creds)
{
        free(creds->groups);
        creds->groups = NULL;
        creds->group_count = 0;
}
