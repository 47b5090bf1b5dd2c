/* fuzz_path.c — libFuzzer target for lexical path normalization (common/path.c), the
 * first thing done to every path a client names (S3).
 *
 * Input: a mode byte, then up to three strings separated by NUL bytes — a base, a
 * path and a second path. The mode says whether path_fold gets the base and how
 * many times the path is repeated (so that a small input reaches PATH_MAX). Checked:
 * path_fold against a plain component-stack reference, its invariants (absolute; no
 * "//", "/./", "/../", no trailing slash or "." or ".." but for "/"; shorter than
 * PATH_MAX; folding a folded path gives it back), and on folded paths path_parent,
 * path_last, path_depth, path_join and path_is_strict_descendant / path_on_same_line. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "fuzz.h"
#include "path.h"

/* Repetition stops here: well past PATH_MAX, small enough to stay fast. */
#define MAX_BUILT (3 * PATH_MAX)

/* The reference: S3's folding written another way than path.c — the components of
 * base and path gathered in an array (".." drops the last, "." and empty ones are
 * skipped), then joined. 0 and a malloc'd *ret, or -EINVAL for an empty path, a
 * relative one without an absolute base, or a result of PATH_MAX bytes or more. */
static int reference_fold(const char *base, const char *path, char **ret)
{
        if (!*path || (path[0] != '/' && (!base || base[0] != '/')))
                return -EINVAL;
        const char *inputs[2] = {path[0] == '/' ? "" : base, path};
        size_t most = strlen(inputs[0]) + strlen(path) + 1;
        struct component {
                const char *name;
                size_t len;
        } *parts = malloc(most * sizeof *parts);
        CHECK(parts != NULL);
        size_t depth = 0;
        for (int k = 0; k < 2; k++) {
                const char *s = inputs[k];
                for (size_t i = 0, len = strlen(s); i < len;) {
                        size_t j = i;
                        while (j < len && s[j] != '/')
                                j++;
                        size_t n = j - i;
                        if (n == 2 && s[i] == '.' && s[i + 1] == '.')
                                depth -= depth > 0;
                        else if (n > 0 && !(n == 1 && s[i] == '.'))
                                parts[depth++] = (struct component){s + i, n};
                        i = j + 1;
                }
        }
        size_t total = depth == 0 ? 1 : 0;
        for (size_t d = 0; d < depth; d++)
                total += 1 + parts[d].len;
        if (total >= PATH_MAX) {
                free(parts);
                return -EINVAL;
        }
        char *out = malloc(total + 1);
        CHECK(out != NULL);
        strcpy(out, "/");
        for (size_t d = 0, at = 0; d < depth; d++) {
                out[at++] = '/';
                memcpy(out + at, parts[d].name, parts[d].len);
                at += parts[d].len;
                out[at] = '\0';
        }
        free(parts);
        *ret = out;
        return 0;
}

static void check_folded(const char *p)
{
        size_t n = strlen(p);
        CHECK(p[0] == '/');
        CHECK(n < PATH_MAX);
        CHECK(!strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../"));
        if (n > 1) {
                CHECK(p[n - 1] != '/');
                CHECK(strcmp(p + n - 2, "/.") != 0);
                CHECK(n < 3 || strcmp(p + n - 3, "/..") != 0);
        }
        char *again = NULL;
        CHECK(path_fold(NULL, p, &again) == 0);
        CHECK_STR_EQ(again, p);
        free(again);
}

/* What path_is_strict_descendant must answer, from the definition. */
static bool reference_descendant(const char *a, const char *d)
{
        size_t n = strlen(a);
        if (strcmp(a, "/") == 0)
                return strcmp(d, "/") != 0;
        return strncmp(a, d, n) == 0 && d[n] == '/';
}

static void check_parent(const char *p)
{
        char *parent = NULL;
        int r = path_parent(p, &parent);
        if (strcmp(p, "/") == 0) {
                CHECK(r == -EINVAL);
                CHECK(path_depth(p) == 0);
                return;
        }
        CHECK(r == 0);
        check_folded(parent);
        CHECK(path_is_strict_descendant(parent, p));
        CHECK(path_depth(parent) + 1 == path_depth(p));
        const char *last = path_last(p);
        CHECK(*last && !strchr(last, '/'));
        char *rejoined = NULL;
        CHECK(path_join(parent, last, &rejoined) == 0);
        CHECK_STR_EQ(rejoined, p);
        free(rejoined);
        free(parent);
}

static void check_relations(const char *a, const char *b)
{
        bool ab = path_is_strict_descendant(a, b), ba = path_is_strict_descendant(b, a);
        CHECK(ab == reference_descendant(a, b));
        CHECK(ba == reference_descendant(b, a));
        CHECK(!(ab && ba));
        CHECK(!path_is_strict_descendant(a, a));
        CHECK(path_on_same_line(a, b) == (strcmp(a, b) == 0 || ab || ba));
        CHECK(path_on_same_line(a, b) == path_on_same_line(b, a));
        if (ab)
                CHECK(path_depth(b) > path_depth(a));
}

/* path_join(dir, name) is the fold of dir + "/" + name, leading slashes of name
 * dropped; without ".." in name it stays at or below dir. */
static void check_join(const char *dir, const char *name)
{
        char *joined = NULL, *ref = NULL, *expected = NULL;
        int r = path_join(dir, name, &joined);
        const char *rest = name + strspn(name, "/");
        CHECK(asprintf(&expected, *rest ? "%s/%s" : "%s", dir, rest) >= 0);
        CHECK(r == reference_fold(NULL, expected, &ref));
        if (r == 0) {
                CHECK_STR_EQ(joined, ref);
                check_folded(joined);
                bool climbs = strcmp(rest, "..") == 0 || strncmp(rest, "../", 3) == 0 ||
                              strstr(rest, "/../") ||
                              (strlen(rest) >= 3 && strcmp(rest + strlen(rest) - 3, "/..") == 0);
                if (!climbs)
                        CHECK(strcmp(joined, dir) == 0 || path_is_strict_descendant(dir, joined));
        }
        free(joined);
        free(expected);
        free(ref);
}

/* path repeated `times` times (capped at MAX_BUILT bytes); malloc'd. */
static char *repeat(const char *path, unsigned times)
{
        size_t n = strlen(path), total = 0;
        char *out = malloc(MAX_BUILT + 1);
        CHECK(out != NULL);
        for (unsigned i = 0; i < times && total + n <= MAX_BUILT; i++, total += n)
                memcpy(out + total, path, n);
        out[total] = '\0';
        return out;
}

static char *fold_checked(const char *base, const char *path)
{
        char *folded = NULL, *ref = NULL;
        int r = path_fold(base, path, &folded);
        CHECK(r == reference_fold(base, path, &ref));
        if (r < 0)
                return NULL;
        CHECK_STR_EQ(folded, ref);
        free(ref);
        check_folded(folded);
        if (path[0] == '/') {
                /* An absolute path ignores the base. */
                char *alone = NULL;
                CHECK(path_fold(NULL, path, &alone) == 0);
                CHECK_STR_EQ(alone, folded);
                free(alone);
        }
        return folded;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        uint8_t mode = data[0];
        size_t at = 1;
        char *base = fuzz_next_piece(data, size, &at, '\0');
        char *path = fuzz_next_piece(data, size, &at, '\0');
        char *other = fuzz_next_piece(data, size, &at, '\0');
        if (!path) {
                free(base);
                return 0;
        }
        bool with_base = mode & 1;
        unsigned times = 1u << ((mode >> 4) & 0xf);
        char *built = repeat(path, times);

        char *a = fold_checked(with_base ? base : NULL, built);
        char *b = other ? fold_checked(NULL, other) : NULL;
        if (a) {
                check_parent(a);
                if (other)
                        check_join(a, other);
                if (base)
                        check_join(a, base);
        }
        if (a && b)
                check_relations(a, b);
        if (b)
                check_parent(b);

        free(a);
        free(b);
        free(built);
        free(base);
        free(path);
        free(other);
        return 0;
}
