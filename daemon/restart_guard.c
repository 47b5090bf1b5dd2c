/* restart_guard.c — see restart_guard.h. A handful of directories at most ever end
 * quickly, so a plain array searched in order serves. */
#include "restart_guard.h"

#include <stdlib.h>
#include <string.h>

static struct quick_ends *find(struct restart_guard *g, const char *dir)
{
        for (size_t i = 0; i < g->count; i++)
                if (strcmp(g->dirs[i].dir, dir) == 0)
                        return &g->dirs[i];
        return NULL;
}

static struct quick_ends *add(struct restart_guard *g, const char *dir)
{
        char *copy = strdup(dir);
        struct quick_ends *grown = copy ? realloc(g->dirs, (g->count + 1) * sizeof *grown) : NULL;
        if (!grown) {
                free(copy);
                return NULL;
        }
        g->dirs = grown;
        g->dirs[g->count] = (struct quick_ends){.dir = copy, .count = 0};
        return &g->dirs[g->count++];
}

bool restart_guard_should_replace(struct restart_guard *g, const char *dir, uint64_t lived_ms,
                                  unsigned *quick_ends)
{
        struct quick_ends *e = find(g, dir);
        if (lived_ms >= RESTART_GUARD_QUICK_MS) {
                if (e)
                        e->count = 0;
                *quick_ends = 0;
                return true;
        }
        if (!e && !(e = add(g, dir))) {
                *quick_ends = 1;
                return true;
        }
        e->count++;
        *quick_ends = e->count;
        return e->count < RESTART_GUARD_LIMIT;
}

void restart_guard_done(struct restart_guard *g)
{
        for (size_t i = 0; i < g->count; i++)
                free(g->dirs[i].dir);
        free(g->dirs);
        g->dirs = NULL;
        g->count = 0;
}
