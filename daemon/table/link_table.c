/* link_table.c — the ordered link table and its path indexes. */
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
        link->creator = creds_daemon();
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
        free(link->backing_named);
        for (size_t i = 0; i < link->backing_symlink_count; i++)
                free(link->backing_symlinks[i]);
        free(link->backing_symlinks);
        creds_done(&link->creator);
        free(link);
}

int link_set_backing_named(struct link *link, const char *named, char **symlinks,
                           size_t symlink_count)
{
        char *copy = named ? strdup(named) : NULL;
        if (named && !copy) {
                for (size_t i = 0; i < symlink_count; i++)
                        free(symlinks[i]);
                free(symlinks);
                return -ENOMEM;
        }
        free(link->backing_named);
        for (size_t i = 0; i < link->backing_symlink_count; i++)
                free(link->backing_symlinks[i]);
        free(link->backing_symlinks);
        link->backing_named = copy;
        link->backing_symlinks = symlinks;
        link->backing_symlink_count = symlink_count;
        return 0;
}

bool link_excepts(const struct link *link, const char *path)
{
        for (uint32_t i = 0; i < link->exception_count; i++) {
                const char *e = link->exception_paths[i];
                size_t n = strlen(e);
                if (strncmp(e, path, n) == 0 && (path[n] == '\0' || path[n] == '/'))
                        return true;
        }
        return false;
}

void link_table_init(struct link_table *table)
{
        *table = (struct link_table){.next_order = 1};
        path_index_init(&table->virtual_paths);
        path_index_init(&table->virtual_ancestors);
        path_index_init(&table->backing_paths);
        path_index_init(&table->backing_ancestors);
}

int link_table_note_removed(struct link_table *table, const struct link *link)
{
        if (link->mount_id == 0 || link->realization == BINDLINK_REALIZED_NONE)
                return 0;
        struct removed_mount *grown =
                realloc(table->removed, (table->removed_count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        table->removed = grown;
        char *v = strdup(link->virtual_path);
        if (!v)
                return -ENOMEM;
        table->removed[table->removed_count++] =
                (struct removed_mount){.virtual_path = v, .mount_id = link->mount_id};
        return 0;
}

void link_table_forget_removed(struct link_table *table)
{
        for (size_t i = 0; i < table->removed_count; i++)
                free(table->removed[i].virtual_path);
        free(table->removed);
        table->removed = NULL;
        table->removed_count = 0;
}

void link_table_done(struct link_table *table)
{
        link_table_forget_removed(table);
        for (size_t i = 0; i < table->count; i++)
                link_free(table->links[i]);
        free(table->links);
        path_index_done(&table->virtual_paths);
        path_index_done(&table->virtual_ancestors);
        path_index_done(&table->backing_paths);
        path_index_done(&table->backing_ancestors);
        link_table_init(table);
}

struct index_step {
        struct path_index *index;
        bool add;
};

static int index_ancestor(void *ctx, const char *p, size_t len)
{
        struct index_step *step = ctx;
        if (step->add)
                return path_index_add(step->index, p, len, NULL);
        path_index_remove(step->index, p, len);
        return 0;
}

static void unindex(struct link_table *t, const struct link *link)
{
        struct index_step v = {&t->virtual_ancestors, false}, b = {&t->backing_ancestors, false};
        path_index_remove(&t->virtual_paths, link->virtual_path, strlen(link->virtual_path));
        path_index_remove(&t->backing_paths, link->backing_path, strlen(link->backing_path));
        (void)path_for_each_ancestor(link->virtual_path, index_ancestor, &v);
        (void)path_for_each_ancestor(link->backing_path, index_ancestor, &b);
}

static int index_link(struct link_table *t, struct link *link)
{
        struct index_step v = {&t->virtual_ancestors, true}, b = {&t->backing_ancestors, true};
        int r = path_index_add(&t->virtual_paths, link->virtual_path,
                               strlen(link->virtual_path), link);
        if (r >= 0)
                r = path_index_add(&t->backing_paths, link->backing_path,
                                   strlen(link->backing_path), NULL);
        if (r >= 0)
                r = path_for_each_ancestor(link->virtual_path, index_ancestor, &v);
        if (r >= 0)
                r = path_for_each_ancestor(link->backing_path, index_ancestor, &b);
        if (r < 0) {
                /* Rebuild the indexes from the links without this one. */
                path_index_done(&t->virtual_paths);
                path_index_done(&t->virtual_ancestors);
                path_index_done(&t->backing_paths);
                path_index_done(&t->backing_ancestors);
                for (size_t i = 0; i < t->count; i++)
                        if (t->links[i] != link)
                                (void)index_link(t, t->links[i]);
        }
        return r;
}

bool link_table_has_virtual_below(const struct link_table *t, const char *path)
{
        return path_index_get(&t->virtual_ancestors, path, strlen(path)) != NULL;
}

static int backing_is(void *ctx, const char *p, size_t len)
{
        const struct link_table *t = ctx;
        return path_index_get(&t->backing_paths, p, len) != NULL;
}

bool link_table_has_backing_on_line(const struct link_table *t, const char *path)
{
        size_t len = strlen(path);
        return path_index_get(&t->backing_paths, path, len) ||
               path_index_get(&t->backing_ancestors, path, len) ||
               path_for_each_ancestor(path, backing_is, (void *)t) != 0;
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
        /* The next order number must stay above every order, without wrapping. */
        if (link->order == UINT64_MAX)
                return -EOVERFLOW;
        size_t at = table->count;
        while (at > 0 && table->links[at - 1]->order > link->order)
                at--;
        int r = index_link(table, link);
        if (r < 0)
                return r;
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
        const struct path_index_entry *e =
                path_index_get(&table->virtual_paths, virtual_path, strlen(virtual_path));
        return e ? e->link : NULL;
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
        unindex(table, link);
        memmove(&table->links[i], &table->links[i + 1],
                (table->count - i - 1) * sizeof *table->links);
        table->count--;
        return link;
}

int link_table_set_backing(struct link_table *table, struct link *link, const char *backing_path)
{
        char *copy = strdup(backing_path);
        if (!copy)
                return -ENOMEM;
        unindex(table, link);
        char *old = link->backing_path;
        link->backing_path = copy;
        int r = index_link(table, link);
        if (r < 0) {
                /* index_link rebuilt the indexes without this link: add it back. */
                link->backing_path = old;
                free(copy);
                (void)index_link(table, link);
                return r;
        }
        free(old);
        return 0;
}

int link_list_push(struct link ***list, size_t *count, struct link *l)
{
        struct link **grown = realloc(*list, (*count + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        *list = grown;
        (*list)[(*count)++] = l;
        return 0;
}

bool link_list_contains(struct link *const *list, size_t count, const struct link *l)
{
        for (size_t i = 0; i < count; i++)
                if (list[i] == l)
                        return true;
        return false;
}
