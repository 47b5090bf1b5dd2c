/* link_table.c — the ordered link table. Lookups are linear: at 10,000 links a scan
 * costs microseconds, far below the mount syscalls each change makes. */
#include "link_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "util.h"

struct link *link_new(uint64_t order, uint32_t flags, const char *virtual_path,
                      const char *backing_path, uint32_t exception_count,
                      char *const *exception_paths)
{
        struct link *link = calloc(1, sizeof *link);
        if (!link)
                return NULL;
        link->order = order;
        link->flags = flags;
        link->virtual_path = strdup(virtual_path);
        link->backing_path = strdup(backing_path);
        if (exception_count > 0)
                link->exception_paths = calloc(exception_count, sizeof(char *));
        if (!link->virtual_path || !link->backing_path ||
            (exception_count > 0 && !link->exception_paths)) {
                link_free(link);
                return NULL;
        }
        for (uint32_t i = 0; i < exception_count; i++) {
                link->exception_paths[i] = strdup(exception_paths[i]);
                if (!link->exception_paths[i]) {
                        link->exception_count = i;
                        link_free(link);
                        return NULL;
                }
        }
        link->exception_count = exception_count;
        return link;
}

void link_free(struct link *link)
{
        if (!link)
                return;
        free(link->virtual_path);
        free(link->backing_path);
        for (uint32_t i = 0; i < link->exception_count; i++)
                free(link->exception_paths[i]);
        free(link->exception_paths);
        free(link);
}

void link_table_init(struct link_table *table)
{
        *table = (struct link_table){.next_order = 1};
}

void link_table_done(struct link_table *table)
{
        for (size_t i = 0; i < table->count; i++)
                link_free(table->links[i]);
        free(table->links);
        link_table_init(table);
}

int link_table_add(struct link_table *table, struct link *link)
{
        if (table->count == table->cap) {
                size_t cap = table->cap ? table->cap * 2 : 64;
                struct link **grown = realloc(table->links, cap * sizeof *grown);
                if (!grown)
                        return -ENOMEM;
                table->links = grown;
                table->cap = cap;
        }
        /* Keep creation order even when a journal replays links out of order. */
        size_t at = table->count;
        while (at > 0 && table->links[at - 1]->order > link->order)
                at--;
        memmove(&table->links[at + 1], &table->links[at],
                (table->count - at) * sizeof *table->links);
        table->links[at] = link;
        table->count++;
        if (link->order >= table->next_order)
                table->next_order = link->order + 1;
        return 0;
}

ssize_t link_table_index(const struct link_table *table, const struct link *link)
{
        for (size_t i = 0; i < table->count; i++)
                if (table->links[i] == link)
                        return (ssize_t)i;
        return -1;
}

struct link *link_table_find(const struct link_table *table, const char *virtual_path)
{
        for (size_t i = 0; i < table->count; i++)
                if (strcmp(table->links[i]->virtual_path, virtual_path) == 0)
                        return table->links[i];
        return NULL;
}

struct link *link_table_find_order(const struct link_table *table, uint64_t order)
{
        for (size_t i = 0; i < table->count; i++)
                if (table->links[i]->order == order)
                        return table->links[i];
        return NULL;
}

struct link *link_table_take(struct link_table *table, const char *virtual_path)
{
        struct link *link = link_table_find(table, virtual_path);
        if (!link)
                return NULL;
        size_t i = (size_t)link_table_index(table, link);
        memmove(&table->links[i], &table->links[i + 1],
                (table->count - i - 1) * sizeof *table->links);
        table->count--;
        return link;
}
