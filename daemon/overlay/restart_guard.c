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
        g->dirs[g->count] = (struct quick_ends){.dir = copy};
        return &g->dirs[g->count++];
}

bool restart_guard_should_replace(struct restart_guard *g, const char *dir, uint64_t lived_ms,
                                  uint64_t now_ms, unsigned *quick_ends)
{
        struct quick_ends *e = find(g, dir);
        if (lived_ms >= RESTART_GUARD_QUICK_MS) {
                if (e) {
                        e->count = 0;
                        e->retries = 0;
                        e->retry_at_ms = 0;
                }
                *quick_ends = 0;
                return true;
        }
        if (!e && !(e = add(g, dir))) {
                *quick_ends = 1;
                return true;
        }
        e->count++;
        *quick_ends = e->count;
        if (e->count < RESTART_GUARD_LIMIT)
                return true;
        unsigned doublings = e->retries < RESTART_GUARD_MAX_DOUBLINGS ? e->retries
                                                                      : RESTART_GUARD_MAX_DOUBLINGS;
        e->retry_at_ms = g->retry_ms ? now_ms + (g->retry_ms << doublings) : 0;
        e->retries++;
        return false;
}

const char *restart_guard_due(struct restart_guard *g, uint64_t now_ms)
{
        for (size_t i = 0; i < g->count; i++)
                if (g->dirs[i].retry_at_ms && now_ms >= g->dirs[i].retry_at_ms) {
                        g->dirs[i].retry_at_ms = 0;
                        return g->dirs[i].dir;
                }
        return NULL;
}

void restart_guard_done(struct restart_guard *g)
{
        for (size_t i = 0; i < g->count; i++)
                free(g->dirs[i].dir);
        free(g->dirs);
        g->dirs = NULL;
        g->count = 0;
}
