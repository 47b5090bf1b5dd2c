/* fake_tree.h — an in-memory file tree for the planner's probe (planner.h), shared by
 * the unit tests of daemon/plan/: paths with a type, symlinks with a target, and a
 * count of the questions asked. */
#ifndef BINDLINK_TEST_FAKE_TREE_H
#define BINDLINK_TEST_FAKE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "planner.h"

struct node {
        const char *path;
        int type;           /* a probe_type, or -errno to make the probe fail */
        const char *target; /* for PROBE_SYMLINK */
};

struct tree {
        const struct node *nodes;
        size_t count;
        size_t calls;
};

static inline const struct node *find_node(const struct tree *tree, const char *path)
{
        for (size_t i = 0; i < tree->count; i++)
                if (strcmp(tree->nodes[i].path, path) == 0)
                        return &tree->nodes[i];
        return NULL;
}

static inline int fake_type_of(void *ctx, const char *path, bool follow, const struct creds *as)
{
        (void)as;
        struct tree *tree = ctx;
        tree->calls++;
        assert_true(path[0] == '/');
        for (int hops = 0; hops < 8; hops++) {
                const struct node *n = find_node(tree, path);
                if (!n)
                        return PROBE_MISSING;
                if (n->type != PROBE_SYMLINK || !follow)
                        return n->type;
                path = n->target;
        }
        return PROBE_MISSING; /* a symlink loop is ELOOP, which the daemon calls missing */
}

#endif
