/* test_planner.c — unit tests of daemon/plan/planner.c against a fake, in-memory file tree:
 * resolution through links (S15, S18), how each link can be shown (S6, S8, S9, S12,
 * S14, S19), which links a change affects and the order they are shown in (S15, S18). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_table.h"
#include "planner.h"

#include "fake_tree.h"

/* The tree most tests use. */
static const struct node standard_nodes[] = {
        {"/", PROBE_DIRECTORY, NULL},
        {"/d1", PROBE_DIRECTORY, NULL},
        {"/d2", PROBE_DIRECTORY, NULL},
        {"/f1", PROBE_FILE, NULL},
        {"/f2", PROBE_FILE, NULL},
        {"/lnk", PROBE_SYMLINK, "/d1"},
        {"/dangling", PROBE_SYMLINK, "/nowhere"},
        {"/lnk-to-dir", PROBE_SYMLINK, "/d2"},
        {"/x", PROBE_DIRECTORY, NULL},
        {"/a", PROBE_DIRECTORY, NULL},
        {"/a/b", PROBE_DIRECTORY, NULL},
        {"/a/sub", PROBE_DIRECTORY, NULL},
        {"/foo", PROBE_DIRECTORY, NULL},
        {"/t", PROBE_DIRECTORY, NULL},
        {"/t/bar", PROBE_DIRECTORY, NULL},
        {"/t2", PROBE_DIRECTORY, NULL},
        {"/u", PROBE_DIRECTORY, NULL},
        {"/p", PROBE_DIRECTORY, NULL},
        {"/broken", -EIO, NULL},
};

static struct tree standard_tree(void)
{
        return (struct tree){standard_nodes, sizeof standard_nodes / sizeof standard_nodes[0], 0};
}

/* ---- tables ------------------------------------------------------------------------- */

/* Tables live in a pool emptied after every test, so a failed assertion leaks nothing. */
static struct link_table table_pool[64];
static size_t tables_used;

static struct link_table *new_table(void)
{
        assert_true(tables_used < sizeof table_pool / sizeof table_pool[0]);
        struct link_table *t = &table_pool[tables_used++];
        link_table_init(t);
        return t;
}

static int free_tables(void **state)
{
        (void)state;
        for (size_t i = 0; i < tables_used; i++)
                link_table_done(&table_pool[i]);
        tables_used = 0;
        return 0;
}

static struct link *add(struct link_table *t, uint64_t order, uint32_t flags, const char *v,
                        const char *b)
{
        struct link *l = link_new(order, flags, v, b, 0, NULL);
        assert_non_null(l);
        assert_int_equal(link_table_add(t, l), 0);
        return l;
}

static struct link *add_with_exceptions(struct link_table *t, uint64_t order, const char *v,
                                        const char *b, uint32_t n, char *const *e)
{
        struct link *l = link_new(order, 0, v, b, n, e);
        assert_non_null(l);
        assert_int_equal(link_table_add(t, l), 0);
        return l;
}

static void check_resolve(const struct link_table *t, const char *path,
                          const struct link *ignored, const char *want)
{
        char *out = NULL;
        int r = planner_resolve(t, path, ignored, &out);
        if (r != 0)
                fail_msg("planner_resolve(%s) = %d, want \"%s\"", path, r, want);
        char got[4096];
        (void)snprintf(got, sizeof got, "%s", out);
        free(out);
        assert_string_equal(got, want);
}

static void check_resolve_loops(const struct link_table *t, const char *path)
{
        char sentinel = 0;
        char *out = &sentinel;
        assert_int_equal(planner_resolve(t, path, NULL, &out), -ELOOP);
        assert_ptr_equal(out, &sentinel);
}

static struct placement place(const struct link_table *t, const struct link *l,
                              struct tree *tree)
{
        struct probe probe = {.type_of = fake_type_of, .ctx = tree};
        struct placement p;
        memset(&p, 0x5a, sizeof p);
        assert_int_equal(planner_place(t, l, &probe, &p), 0);
        return p;
}

/* Place a one-link table: V -> B with flags, in the standard tree. */
static struct placement place_one(uint32_t flags, const char *v, const char *b)
{
        struct link_table *t = new_table();
        struct link *l = add(t, 1, flags, v, b);
        struct tree tree = standard_tree();
        struct placement p = place(t, l, &tree);
        link_table_done(t);
        return p;
}

static const char *kind_name(enum placement_kind k)
{
        switch (k) {
        case PLACE_BIND:
                return "BIND";
        case PLACE_PARENT_MISSING:
                return "PARENT_MISSING";
        case PLACE_NEEDS_OVERLAY:
                return "NEEDS_OVERLAY";
        case PLACE_GRAFT:
                return "GRAFT";
        case PLACE_MERGE:
                return "MERGE";
        case PLACE_BACKING_MISSING:
                return "BACKING_MISSING";
        case PLACE_LOOP:
                return "LOOP";
        }
        return "?";
}

#define assert_kind(p, want) assert_string_equal(kind_name((p).kind), kind_name(want))

/* ---- planner_resolve ------------------------------------------------------------------ */

static void test_resolve_without_links_is_identity(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        check_resolve(t, "/a/b", NULL, "/a/b");
        check_resolve(t, "/", NULL, "/");
        add(t, 1, 0, "/other", "/t");
        check_resolve(t, "/a/b", NULL, "/a/b");
        check_resolve(t, "/", NULL, "/");
        link_table_done(t);
}

static void test_s5_covered_path_maps_into_backing(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, 0, "/foo", "/t");
        check_resolve(t, "/foo", NULL, "/t");
        check_resolve(t, "/foo/x", NULL, "/t/x");
        check_resolve(t, "/foo/x/y z", NULL, "/t/x/y z");
        /* not covered: a sibling with a common prefix, the parent, the backing path */
        check_resolve(t, "/foobar", NULL, "/foobar");
        check_resolve(t, "/foobar/x", NULL, "/foobar/x");
        check_resolve(t, "/", NULL, "/");
        check_resolve(t, "/t/x", NULL, "/t/x");
        link_table_done(t);
}

static void test_s5_backing_root(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, 0, "/r", "/");
        check_resolve(t, "/r", NULL, "/");
        check_resolve(t, "/r/etc", NULL, "/etc");
        link_table_done(t);
}

static void check_nested(bool nested_first)
{
        struct link_table *t = new_table();
        add(t, nested_first ? 2 : 1, 0, "/foo", "/t");
        add(t, nested_first ? 1 : 2, 0, "/foo/bar", "/t2");
        check_resolve(t, "/foo/bar", NULL, "/t2");
        check_resolve(t, "/foo/bar/z", NULL, "/t2/z");
        check_resolve(t, "/foo/baz", NULL, "/t/baz");
        check_resolve(t, "/foo/barx", NULL, "/t/barx");
        check_resolve(t, "/foo", NULL, "/t");
        link_table_done(t);
}

static void test_s15_deepest_link_wins_in_any_order(void **state)
{
        (void)state;
        check_nested(false);
        check_nested(true);
}

static void test_s18_chain_resolves_to_end(void **state)
{
        (void)state;
        for (int reversed = 0; reversed <= 1; reversed++) {
                struct link_table *t = new_table();
                add(t, reversed ? 2 : 1, 0, "/a", "/b");
                add(t, reversed ? 1 : 2, 0, "/b", "/c");
                check_resolve(t, "/a/x", NULL, "/c/x");
                check_resolve(t, "/a", NULL, "/c");
                check_resolve(t, "/b/x", NULL, "/c/x");
                link_table_done(t);
        }
}

static void test_s18_chain_through_subdirectory(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, 0, "/a", "/b/sub");
        add(t, 2, 0, "/b", "/c");
        add(t, 3, 0, "/c/sub/deeper", "/d");
        check_resolve(t, "/a/x", NULL, "/c/sub/x");
        check_resolve(t, "/a/deeper/y", NULL, "/d/y");
        link_table_done(t);
}

static void test_s18_cycle_is_eloop(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, 0, "/a", "/b");
        add(t, 2, 0, "/b", "/a");
        check_resolve_loops(t, "/a");
        check_resolve_loops(t, "/a/x");
        check_resolve_loops(t, "/b/x/y");
        check_resolve(t, "/c", NULL, "/c");
        link_table_done(t);

        /* three links */
        link_table_init(t);
        add(t, 1, 0, "/a", "/b");
        add(t, 2, 0, "/b", "/c");
        add(t, 3, 0, "/c", "/a");
        check_resolve_loops(t, "/a/x");
        link_table_done(t);

        /* one link whose backing path lies inside its own virtual path */
        link_table_init(t);
        add(t, 1, 0, "/a", "/a/sub");
        check_resolve_loops(t, "/a/x");
        link_table_done(t);
}

/* S18: a lookup fails with ELOOP only when it really loops. /x shows /y, and /y/sub
 * shows /x/other, which is /y/other: /x/sub -> /y/sub -> /x/other -> /y/other, where no
 * link applies any more. The lookup passes /x twice but ends. */
static void test_s18_chain_passing_a_link_twice_is_not_a_loop(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, 0, "/x", "/y");
        add(t, 2, 0, "/y/sub", "/x/other");
        check_resolve(t, "/y/sub", NULL, "/y/other");
        check_resolve(t, "/x/sub", NULL, "/y/other");
        check_resolve(t, "/x/sub/f", NULL, "/y/other/f");
        link_table_done(t);
}

static void test_resolve_ignored_link_is_skipped(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *outer = add(t, 1, 0, "/foo", "/t");
        struct link *inner = add(t, 2, 0, "/foo/bar", "/t2");
        check_resolve(t, "/foo/x", outer, "/foo/x");
        check_resolve(t, "/foo/bar/z", outer, "/t2/z");
        check_resolve(t, "/foo/bar/z", inner, "/t/bar/z");
        check_resolve(t, "/foo/bar", inner, "/t/bar");
        link_table_done(t);

        /* ignoring one link of a cycle breaks it */
        link_table_init(t);
        struct link *a = add(t, 1, 0, "/a", "/b");
        add(t, 2, 0, "/b", "/a");
        check_resolve(t, "/a/x", a, "/a/x");
        check_resolve(t, "/b/x", a, "/a/x");
        link_table_done(t);
}

/* What a judge of planner_covering_link was told, and what it answers. */
struct told {
        const struct link *links[8];
        enum cover_reason whys[8];
        size_t count;
        const struct link *pass_over; /* answered 0 even where it covers */
        int error;                    /* answered instead of anything else when not 0 */
};

static int judge(void *ctx, const struct link *link, enum cover_reason why)
{
        struct told *t = ctx;
        assert_true(t->count < 8);
        t->links[t->count] = link;
        t->whys[t->count++] = why;
        if (t->error)
                return t->error;
        return link != t->pass_over && why == COVER_COVERS;
}

/* The judge is told of every link on the way up, deepest first, with why the walk
 * would pass it over (S12: below a merged V; S14: in an exception), and decides. */
static void test_s12_s14_covering_link_tells_its_judge_why(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        char *holes[] = {"/a/b/m/x"};
        struct link *a = add(t, 1, 0, "/a", "/t");
        struct link *m = add(t, 2, CREATE_BIND_LINK_FLAG_MERGED, "/a/b/m", "/t2");
        struct link *ab = add_with_exceptions(t, 3, "/a/b", "/u", 1, holes);
        const struct link *got = NULL;

        struct told told = {0};
        assert_int_equal(planner_covering_link(t, "/a/b/m/x/y", NULL, judge, &told, &got), 0);
        assert_ptr_equal(got, a);
        assert_int_equal(told.count, 3);
        assert_ptr_equal(told.links[0], m);
        assert_int_equal(told.whys[0], COVER_BELOW_MERGED);
        assert_ptr_equal(told.links[1], ab);
        assert_int_equal(told.whys[1], COVER_EXCEPTED);
        assert_ptr_equal(told.links[2], a);
        assert_int_equal(told.whys[2], COVER_COVERS);

        /* without a judge, the same walk */
        assert_int_equal(planner_covering_link(t, "/a/b/m/x/y", NULL, NULL, NULL, &got), 0);
        assert_ptr_equal(got, a);
        assert_int_equal(planner_covering_link(t, "/a/b/m", NULL, NULL, NULL, &got), 0);
        assert_ptr_equal(got, m);

        /* the ignored link, and a judge passing over one that covers */
        told = (struct told){.pass_over = a};
        assert_int_equal(planner_covering_link(t, "/a/b/z", ab, judge, &told, &got), 0);
        assert_null(got);
        assert_int_equal(told.count, 2);
        assert_int_equal(told.whys[0], COVER_IGNORED);
        assert_int_equal(told.whys[1], COVER_COVERS);

        /* a judge's error stops the walk */
        told = (struct told){.error = -ENOMEM};
        assert_int_equal(planner_covering_link(t, "/a/b/m/q", NULL, judge, &told, &got), -ENOMEM);
        assert_int_equal(told.count, 1);
        assert_null(got);
        link_table_done(t);
}

/* ---- planner_place -------------------------------------------------------------------- */

static void test_s9_dir_over_dir_is_bind(void **state)
{
        (void)state;
        struct placement p = place_one(0, "/d1", "/d2");
        assert_kind(p, PLACE_BIND);
        assert_int_equal(p.place_type, PROBE_DIRECTORY);
        assert_int_equal(p.backing_type, PROBE_DIRECTORY);
}

static void test_s9_file_over_file_is_bind(void **state)
{
        (void)state;
        struct placement p = place_one(0, "/f1", "/f2");
        assert_kind(p, PLACE_BIND);
        assert_int_equal(p.place_type, PROBE_FILE);
        assert_int_equal(p.backing_type, PROBE_FILE);
}

static void test_s9_file_over_dir_needs_overlay(void **state)
{
        (void)state;
        struct placement p = place_one(0, "/d1", "/f1");
        assert_kind(p, PLACE_GRAFT);
        assert_non_null(p.reason);
        assert_int_equal(p.place_type, PROBE_DIRECTORY);
        assert_int_equal(p.backing_type, PROBE_FILE);
}

static void test_s9_dir_over_file_needs_overlay(void **state)
{
        (void)state;
        struct placement p = place_one(0, "/f1", "/d1");
        assert_kind(p, PLACE_GRAFT);
        assert_non_null(p.reason);
        assert_int_equal(p.place_type, PROBE_FILE);
        assert_int_equal(p.backing_type, PROBE_DIRECTORY);
}

static void test_s8_anchorless_needs_overlay(void **state)
{
        (void)state;
        struct placement p = place_one(0, "/x/new", "/d2");
        assert_kind(p, PLACE_GRAFT);
        assert_non_null(p.reason);
        assert_int_equal(p.place_type, PROBE_MISSING);
        assert_int_equal(p.backing_type, PROBE_DIRECTORY);
        /* a file too */
        p = place_one(0, "/x/new", "/f1");
        assert_kind(p, PLACE_GRAFT);
        assert_int_equal(p.backing_type, PROBE_FILE);
}

static void test_s6_missing_parent(void **state)
{
        (void)state;
        assert_kind(place_one(0, "/nope/new", "/d2"), PLACE_PARENT_MISSING);
        assert_kind(place_one(0, "/nope/deeper/new", "/d2"), PLACE_PARENT_MISSING);
        /* a file is not a directory to live in */
        assert_kind(place_one(0, "/f1/new", "/d2"), PLACE_PARENT_MISSING);
        /* a parent seen through a symlink is followed */
        assert_kind(place_one(0, "/lnk-to-dir/new", "/d1"), PLACE_GRAFT);
        assert_kind(place_one(0, "/dangling/new", "/d1"), PLACE_PARENT_MISSING);
}

static void test_s10_missing_backing(void **state)
{
        (void)state;
        struct placement p = place_one(0, "/d1", "/nope");
        assert_kind(p, PLACE_BACKING_MISSING);
        assert_int_equal(p.backing_type, PROBE_MISSING);
        /* a dangling symlink as B is missing too; a symlink to a directory is one */
        assert_kind(place_one(0, "/d1", "/dangling"), PLACE_BACKING_MISSING);
        p = place_one(0, "/d1", "/lnk-to-dir");
        assert_kind(p, PLACE_BIND);
        assert_int_equal(p.backing_type, PROBE_DIRECTORY);
}

static void test_s12_s13_merged_dirs_are_placed_as_merged_views(void **state)
{
        (void)state;
        struct placement p = place_one(CREATE_BIND_LINK_FLAG_MERGED, "/d1", "/d2");
        assert_kind(p, PLACE_MERGE);
        assert_int_equal(p.place_type, PROBE_DIRECTORY);
        assert_kind(place_one(CREATE_BIND_LINK_FLAG_MERGED | CREATE_BIND_LINK_FLAG_READ_ONLY,
                              "/d1", "/d2"),
                    PLACE_MERGE);
        /* MERGED has no effect unless both sides are directories. */
        assert_kind(place_one(CREATE_BIND_LINK_FLAG_MERGED, "/f1", "/f2"), PLACE_BIND);
        assert_kind(place_one(CREATE_BIND_LINK_FLAG_MERGED, "/d1", "/f1"), PLACE_GRAFT);
        assert_kind(place_one(CREATE_BIND_LINK_FLAG_MERGED, "/d1/new", "/d2"), PLACE_GRAFT);
}

/* S12: below a merged V a path shows B's or the original's object, so it resolves to
 * itself (the probe asks the merged view); V itself still resolves to B. */
static void test_s12_paths_below_a_merged_link_resolve_to_themselves(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, CREATE_BIND_LINK_FLAG_MERGED, "/d1", "/d2");
        add(t, 2, 0, "/x", "/d1/sub");
        check_resolve(t, "/d1/a/b", NULL, "/d1/a/b");
        check_resolve(t, "/d1", NULL, "/d2");
        check_resolve(t, "/x/y", NULL, "/d1/sub/y");
        /* The same table without MERGED maps into B. */
        struct link_table *plain = new_table();
        add(plain, 1, 0, "/d1", "/d2");
        check_resolve(plain, "/d1/a/b", NULL, "/d2/a/b");
}

/* S14 in a merged link: the merged view shows the exception's name whether or not B
 * has it or its parent, so the original is grafted right there; a plain link whose B
 * lacks the name needs an entry made up by the parent's overlay, and one whose B lacks
 * the exception's parent is shown by the view in shadow mode. */
static void test_s14_merged_exception_is_grafted_in_place(void **state)
{
        (void)state;
        struct tree tree = standard_tree();
        struct probe probe = {.type_of = fake_type_of, .ctx = &tree};
        char *lacking[] = {(char *)"/a/b"}, *deep[] = {(char *)"/a/b/c"};
        struct placement p;

        struct link_table *t = new_table();
        struct link *merged = link_new(1, CREATE_BIND_LINK_FLAG_MERGED, "/a", "/t", 1, lacking);
        assert_non_null(merged);
        assert_int_equal(link_table_add(t, merged), 0);
        assert_int_equal(planner_place_exception(t, merged, 0, &probe, &p), 0);
        assert_kind(p, PLACE_BIND);

        struct link_table *t2 = new_table();
        struct link *plain = link_new(1, 0, "/a", "/t", 1, lacking);
        assert_non_null(plain);
        assert_int_equal(link_table_add(t2, plain), 0);
        assert_int_equal(planner_place_exception(t2, plain, 0, &probe, &p), 0);
        assert_kind(p, PLACE_GRAFT);

        /* B lacks the exception's parent: only the merged view can show it. */
        static const struct node nodes[] = {
                {"/", PROBE_DIRECTORY, NULL},   {"/a", PROBE_DIRECTORY, NULL},
                {"/a/b", PROBE_DIRECTORY, NULL}, {"/a/b/c", PROBE_FILE, NULL},
                {"/t", PROBE_DIRECTORY, NULL},  {"/tf", PROBE_FILE, NULL},
        };
        struct tree small = {nodes, sizeof nodes / sizeof nodes[0], 0};
        probe.ctx = &small;
        struct link_table *t3 = new_table();
        struct link *m2 = link_new(1, CREATE_BIND_LINK_FLAG_MERGED, "/a", "/t", 1, deep);
        assert_non_null(m2);
        assert_int_equal(link_table_add(t3, m2), 0);
        assert_int_equal(planner_place_exception(t3, m2, 0, &probe, &p), 0);
        assert_kind(p, PLACE_BIND);
        /* A plain link of two directories is then shown by the view in shadow
         * mode, which shows the way to the exception: grafted in place too. */
        struct link_table *t4 = new_table();
        struct link *p2 = link_new(1, 0, "/a", "/t", 1, deep);
        assert_non_null(p2);
        assert_int_equal(link_table_add(t4, p2), 0);
        assert_int_equal(planner_place_exception(t4, p2, 0, &probe, &p), 0);
        assert_kind(p, PLACE_BIND);
        assert_int_equal(planner_place(t4, p2, &probe, &p), 0);
        assert_kind(p, PLACE_MERGE);
        /* A file over the directory has no way to show: the parent is missing. */
        struct link_table *t5 = new_table();
        struct link *p3 = link_new(1, 0, "/a", "/tf", 1, deep);
        assert_non_null(p3);
        assert_int_equal(link_table_add(t5, p3), 0);
        assert_int_equal(planner_place_exception(t5, p3, 0, &probe, &p), 0);
        assert_kind(p, PLACE_PARENT_MISSING);
}

/* S14 in a merged link where B has the other type at the exception's name: the view
 * is told its exceptions and shows the original's type there, so the original is
 * grafted in place (this was E_NOTIMPL). */
static void test_s14_merged_exception_over_the_other_type_is_grafted_in_place(void **state)
{
        (void)state;
        static const struct node nodes[] = {
                {"/", PROBE_DIRECTORY, NULL},     {"/a", PROBE_DIRECTORY, NULL},
                {"/a/d", PROBE_DIRECTORY, NULL},  {"/a/f", PROBE_FILE, NULL},
                {"/t", PROBE_DIRECTORY, NULL},    {"/t/d", PROBE_FILE, NULL},
                {"/t/f", PROBE_DIRECTORY, NULL},
        };
        struct tree tree = {nodes, sizeof nodes / sizeof nodes[0], 0};
        struct probe probe = {.type_of = fake_type_of, .ctx = &tree};
        char *exceptions[] = {(char *)"/a/d", (char *)"/a/f"};
        struct placement p;
        struct link_table *t = new_table();
        struct link *merged = link_new(1, CREATE_BIND_LINK_FLAG_MERGED, "/a", "/t", 2, exceptions);
        assert_non_null(merged);
        assert_int_equal(link_table_add(t, merged), 0);
        for (uint32_t i = 0; i < 2; i++) {
                assert_int_equal(planner_place_exception(t, merged, i, &probe, &p), 0);
                assert_kind(p, PLACE_BIND);
        }
}

static void test_s12_merged_has_no_effect_on_files(void **state)
{
        (void)state;
        assert_kind(place_one(CREATE_BIND_LINK_FLAG_MERGED, "/f1", "/f2"), PLACE_BIND);
        assert_kind(place_one(CREATE_BIND_LINK_FLAG_MERGED | CREATE_BIND_LINK_FLAG_READ_ONLY,
                              "/f1", "/f2"),
                    PLACE_BIND);
        /* with mixed types it is the types that need the overlay */
        assert_kind(place_one(CREATE_BIND_LINK_FLAG_MERGED, "/d1", "/f1"), PLACE_GRAFT);
}

/* S14: the link itself is a plain bind mount; its exceptions are placed apart, and
 * resolution goes through an exception to what the link covers. */
static void test_s14_exceptions_keep_the_link_a_bind_and_are_holes(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        char *e[] = {(char *)"/d1/e"};
        struct link *l = add_with_exceptions(t, 1, "/d1", "/d2", 1, e);
        struct tree tree = standard_tree();
        struct placement p = place(t, l, &tree);
        assert_kind(p, PLACE_BIND);
        char *out = NULL;
        assert_int_equal(planner_resolve(t, "/d1/e/x", NULL, &out), 0);
        assert_string_equal(out, "/d1/e/x"); /* the hole: the original */
        free(out);
        assert_int_equal(planner_resolve(t, "/d1/other", NULL, &out), 0);
        assert_string_equal(out, "/d2/other");
        free(out);
        assert_int_equal(planner_resolve(t, "/d1/ex", NULL, &out), 0);
        assert_string_equal(out, "/d2/ex"); /* a common prefix is not the exception */
        free(out);
        link_table_done(t);
}

static void test_s5_symlink_at_virtual_path_needs_overlay(void **state)
{
        (void)state;
        struct placement p = place_one(0, "/lnk", "/d2");
        assert_kind(p, PLACE_GRAFT);
        assert_int_equal(p.place_type, PROBE_SYMLINK); /* the symlink itself, not /d1 */
        assert_non_null(p.reason);
        p = place_one(0, "/dangling", "/f1");
        assert_kind(p, PLACE_GRAFT);
        assert_int_equal(p.place_type, PROBE_SYMLINK);
}

static void test_s18_backing_containing_or_inside_virtual_is_loop(void **state)
{
        (void)state;
        struct placement p = place_one(0, "/a/b", "/a");
        assert_kind(p, PLACE_LOOP);
        assert_non_null(p.reason);
        assert_kind(place_one(0, "/a", "/a/sub"), PLACE_LOOP);
        assert_kind(place_one(0, "/a", "/a"), PLACE_LOOP);
        /* a common prefix is not containment */
        assert_kind(place_one(0, "/a", "/ab"), PLACE_BACKING_MISSING);
}

/* /foo -> /t and /foo/bar -> /t: /foo/bar shows /t, whose bar is the original
 * /t/bar; the view ends, so it is no loop (S15, S18). */
static void test_s15_nested_link_to_the_outer_backing_is_not_a_loop(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, 0, "/foo", "/t");
        struct link *nested = add(t, 2, 0, "/foo/bar", "/t");
        struct tree tree = standard_tree();
        assert_kind(place(t, nested, &tree), PLACE_BIND);
        link_table_done(t);
}

static void test_s18_cycle_of_links_is_loop(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *a = add(t, 1, 0, "/d1", "/d2");
        struct link *b = add(t, 2, 0, "/d2", "/d1");
        struct tree tree = standard_tree();
        struct placement p = place(t, a, &tree);
        assert_kind(p, PLACE_LOOP);
        assert_non_null(p.reason);
        assert_kind(place(t, b, &tree), PLACE_LOOP);
        link_table_done(t);
}

static void test_s18_backing_through_another_link(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        /* /q does not exist on disk; the link /q -> /d2 shows it */
        add(t, 1, 0, "/q", "/d2");
        struct link *p_link = add(t, 2, 0, "/p", "/q");
        struct tree tree = standard_tree();
        struct placement p = place(t, p_link, &tree);
        assert_kind(p, PLACE_BIND);
        assert_int_equal(p.backing_type, PROBE_DIRECTORY);

        /* and through a file */
        link_table_done(t);
        link_table_init(t);
        add(t, 1, 0, "/q", "/f2");
        p_link = add(t, 2, 0, "/f1", "/q");
        p = place(t, p_link, &tree);
        assert_kind(p, PLACE_BIND);
        assert_int_equal(p.backing_type, PROBE_FILE);
        link_table_done(t);
}

static void test_s15_nested_bind_when_backing_has_the_name(void **state)
{
        (void)state;
        for (int nested_first = 0; nested_first <= 1; nested_first++) {
                struct link_table *t = new_table();
                add(t, nested_first ? 2 : 1, 0, "/foo", "/t");
                struct link *inner = add(t, nested_first ? 1 : 2, 0, "/foo/bar", "/t2");
                struct tree tree = standard_tree();
                struct placement p = place(t, inner, &tree);
                assert_kind(p, PLACE_BIND); /* over /t/bar, a directory */
                assert_int_equal(p.place_type, PROBE_DIRECTORY);
                link_table_done(t);
        }
}

static void test_s15_nested_without_name_in_backing_needs_overlay(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, 0, "/foo", "/u"); /* /u has no bar */
        struct link *inner = add(t, 2, 0, "/foo/bar", "/t2");
        struct tree tree = standard_tree();
        struct placement p = place(t, inner, &tree);
        assert_kind(p, PLACE_GRAFT);
        assert_int_equal(p.place_type, PROBE_MISSING);
        link_table_done(t);
}

static void test_s19_nested_anchorless_needs_visible_parent(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, 0, "/foo", "/u");
        struct link *deep = add(t, 2, 0, "/foo/bar/baz", "/t2");
        struct tree tree = standard_tree();
        assert_kind(place(t, deep, &tree), PLACE_PARENT_MISSING); /* /u/bar is missing */
        /* with the outer link to /t, the parent /t/bar is there */
        link_table_done(t);
        link_table_init(t);
        add(t, 1, 0, "/foo", "/t");
        deep = add(t, 2, 0, "/foo/bar/baz", "/t2");
        assert_kind(place(t, deep, &tree), PLACE_GRAFT);
        link_table_done(t);
}

static void test_s6_parent_is_an_earlier_links_virtual_path(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        add(t, 1, 0, "/newdir", "/t"); /* anchorless, shows /t */
        struct link *inner = add(t, 2, 0, "/newdir/bar", "/t2");
        struct tree tree = standard_tree();
        assert_kind(place(t, inner, &tree), PLACE_BIND);
        link_table_done(t);
}

static void test_s11_read_only_does_not_change_placement(void **state)
{
        (void)state;
        const struct {
                const char *v, *b;
        } cases[] = {{"/d1", "/d2"}, {"/f1", "/f2"}, {"/d1", "/f1"}, {"/x/new", "/d2"},
                     {"/nope/new", "/d2"}, {"/d1", "/nope"}, {"/a", "/a/sub"}};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct placement rw = place_one(0, cases[i].v, cases[i].b);
                struct placement ro =
                        place_one(CREATE_BIND_LINK_FLAG_READ_ONLY, cases[i].v, cases[i].b);
                assert_kind(ro, rw.kind);
                assert_int_equal(ro.place_type, rw.place_type);
                assert_int_equal(ro.backing_type, rw.backing_type);
        }
}

static void test_probe_error_is_returned(void **state)
{
        (void)state;
        struct tree tree = standard_tree();
        struct probe probe = {.type_of = fake_type_of, .ctx = &tree};
        struct placement p;
        struct link_table *t = new_table();
        struct link *l = add(t, 1, 0, "/broken", "/d2");
        assert_int_equal(planner_place(t, l, &probe, &p), -EIO);

        struct link_table *t2 = new_table();
        struct link *m = add(t2, 1, 0, "/d1", "/broken");
        assert_int_equal(planner_place(t2, m, &probe, &p), -EIO);
}

/* ---- planner_depends ------------------------------------------------------------------ */

static void test_depends(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *foo = add(t, 1, 0, "/foo", "/t");
        struct link *bar = add(t, 2, 0, "/foo/bar", "/t2");
        struct link *foobar = add(t, 3, 0, "/foobar", "/t3");
        struct link *a = add(t, 4, 0, "/a", "/b");
        struct link *b = add(t, 5, 0, "/b", "/c");
        struct link *under = add(t, 6, 0, "/m", "/b/x");
        struct link *nested_in_backing = add(t, 7, 0, "/t/x", "/u");

        assert_false(planner_depends(foo, foo));
        assert_true(planner_depends(bar, foo));  /* S15: inner after outer */
        assert_false(planner_depends(foo, bar));
        assert_false(planner_depends(foobar, foo));
        assert_false(planner_depends(foo, foobar));
        assert_true(planner_depends(a, b)); /* S18: /a shows /b, which is a link */
        assert_false(planner_depends(b, a));
        assert_true(planner_depends(under, b)); /* B lies under another link's V */
        assert_true(planner_depends(foo, nested_in_backing)); /* V lies under B */
        assert_false(planner_depends(a, foo));
        link_table_done(t);
}

/* ---- planner_affected ------------------------------------------------------------------ */

static bool in_set(struct link *const *set, size_t n, const struct link *l)
{
        for (size_t i = 0; i < n; i++)
                if (set[i] == l)
                        return true;
        return false;
}

static void test_s15_s18_affected_closure(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *foo = add(t, 1, 0, "/foo", "/t");
        struct link *bar = add(t, 2, 0, "/foo/bar", "/t2");
        struct link *baz = add(t, 3, 0, "/foo/bar/baz", "/t3");
        struct link *x = add(t, 4, 0, "/x", "/foo/sub");   /* B under /foo */
        struct link *y = add(t, 5, 0, "/y", "/x/q");       /* B under /x: transitive */
        struct link *xdeep = add(t, 6, 0, "/x/deep", "/d"); /* below /x: transitive */
        struct link *foobar = add(t, 7, 0, "/foobar", "/t4");
        struct link *z = add(t, 8, 0, "/z", "/w");
        struct link *fb2 = add(t, 9, 0, "/foobar/x", "/foob");

        struct link **set = NULL;
        size_t n = 0;
        assert_int_equal(planner_affected(t, &foo, 1, &set, &n), 0);
        assert_ptr_equal(set[0], foo); /* the given link first */
        assert_int_equal(n, 6);
        assert_true(in_set(set, n, bar));
        assert_true(in_set(set, n, baz));
        assert_true(in_set(set, n, x));
        assert_true(in_set(set, n, y));
        assert_true(in_set(set, n, xdeep));
        assert_false(in_set(set, n, foobar));
        assert_false(in_set(set, n, z));
        assert_false(in_set(set, n, fb2));
        /* no duplicates */
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        assert_ptr_not_equal(set[i], set[j]);
        free(set);

        /* a leaf affects only itself */
        assert_int_equal(planner_affected(t, &z, 1, &set, &n), 0);
        assert_int_equal(n, 1);
        assert_ptr_equal(set[0], z);
        free(set);
        link_table_done(t);
}

static void test_affected_roots_first_and_once(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *foo = add(t, 1, 0, "/foo", "/t");
        struct link *bar = add(t, 2, 0, "/foo/bar", "/t2");
        struct link *z = add(t, 3, 0, "/z", "/w");
        struct link *roots[] = {z, foo, z, bar};
        struct link **set = NULL;
        size_t n = 0;
        assert_int_equal(planner_affected(t, roots, 4, &set, &n), 0);
        assert_int_equal(n, 3);
        assert_ptr_equal(set[0], z);
        assert_ptr_equal(set[1], foo);
        assert_ptr_equal(set[2], bar);
        free(set);

        assert_int_equal(planner_affected(t, roots, 0, &set, &n), 0);
        assert_int_equal(n, 0);
        free(set);
        link_table_done(t);
}

static void test_affected_many_links(void **state)
{
        (void)state;
        /* more dependents than the first allocation holds */
        struct link_table *t = new_table();
        struct link *root = add(t, 1, 0, "/root", "/t");
        for (int i = 0; i < 100; i++) {
                char v[32];
                (void)snprintf(v, sizeof v, "/root/n%d", i);
                add(t, 2 + (uint64_t)i, 0, v, "/t2");
        }
        add(t, 200, 0, "/other", "/t3");
        struct link **set = NULL;
        size_t n = 0;
        assert_int_equal(planner_affected(t, &root, 1, &set, &n), 0);
        assert_int_equal(n, 101);
        free(set);
        link_table_done(t);
}

/* ---- planner_order ---------------------------------------------------------------------- */

/* No link is placed before one it depends on. */
static void assert_dependency_order(struct link *const *links, size_t n)
{
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (planner_depends(links[i], links[j]))
                                fail_msg("%s is ordered before %s, which it depends on",
                                         links[i]->virtual_path, links[j]->virtual_path);
}

static void test_s15_order_ancestors_first(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *baz = add(t, 1, 0, "/foo/bar/baz", "/t3");
        struct link *bar = add(t, 2, 0, "/foo/bar", "/t2");
        struct link *foo = add(t, 3, 0, "/foo", "/t");
        struct link *links[] = {baz, bar, foo};
        assert_int_equal(planner_order(links, 3), 0);
        assert_ptr_equal(links[0], foo);
        assert_ptr_equal(links[1], bar);
        assert_ptr_equal(links[2], baz);
        link_table_done(t);
}

static void test_s18_order_chain_target_first(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *a = add(t, 1, 0, "/a", "/b"); /* created first, same depth */
        struct link *b = add(t, 2, 0, "/b", "/c");
        struct link *links[] = {a, b};
        assert_int_equal(planner_order(links, 2), 0);
        assert_ptr_equal(links[0], b);
        assert_ptr_equal(links[1], a);

        /* the same when given the other way round */
        struct link *again[] = {b, a};
        assert_int_equal(planner_order(again, 2), 0);
        assert_ptr_equal(again[0], b);
        assert_ptr_equal(again[1], a);
        link_table_done(t);
}

static void test_s18_order_cycle_is_eloop(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *a = add(t, 1, 0, "/a", "/b");
        struct link *b = add(t, 2, 0, "/b", "/a");
        struct link *c = add(t, 3, 0, "/c", "/d");
        struct link *links[] = {c, a, b};
        assert_int_equal(planner_order(links, 3), -ELOOP);
        link_table_done(t);
}

static void test_order_ties_by_depth_then_creation(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *pq = add(t, 1, 0, "/p/q", "/t1");
        struct link *s = add(t, 2, 0, "/s", "/t2");
        struct link *r = add(t, 3, 0, "/r", "/t3");
        struct link *uv = add(t, 4, 0, "/u/v", "/t4");
        struct link *links[] = {uv, r, pq, s};
        assert_int_equal(planner_order(links, 4), 0);
        assert_ptr_equal(links[0], s);
        assert_ptr_equal(links[1], r);
        assert_ptr_equal(links[2], pq);
        assert_ptr_equal(links[3], uv);
        link_table_done(t);
}

static void test_order_mixed_nesting_and_chains(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *bar = add(t, 1, 0, "/foo/bar", "/t2");
        struct link *foo = add(t, 2, 0, "/foo", "/c/d");
        struct link *c = add(t, 3, 0, "/c", "/e");
        struct link *solo = add(t, 4, 0, "/solo", "/e2");
        struct link *links[] = {bar, solo, foo, c};
        assert_int_equal(planner_order(links, 4), 0);
        assert_dependency_order(links, 4);
        /* /c before /foo before /foo/bar */
        size_t ic = 0, ifoo = 0, ibar = 0;
        for (size_t i = 0; i < 4; i++) {
                if (links[i] == c)
                        ic = i;
                if (links[i] == foo)
                        ifoo = i;
                if (links[i] == bar)
                        ibar = i;
        }
        assert_true(ic < ifoo);
        assert_true(ifoo < ibar);
        link_table_done(t);
}

static void test_order_small_sets(void **state)
{
        (void)state;
        assert_int_equal(planner_order(NULL, 0), 0);
        struct link_table *t = new_table();
        struct link *a = add(t, 1, 0, "/a", "/b");
        struct link *links[] = {a};
        assert_int_equal(planner_order(links, 1), 0);
        assert_ptr_equal(links[0], a);
        link_table_done(t);
}

/* Removal's order: deeper links first (nested before what they are nested in), and of
 * one depth the last made first, whatever order they come in and whatever their
 * backing paths go through. */
static void test_s20_order_for_removal_deepest_then_last_made(void **state)
{
        (void)state;
        struct link_table *t = new_table();
        struct link *foo = add(t, 1, 0, "/foo", "/t");
        struct link *baz = add(t, 2, 0, "/foo/bar/baz", "/t3");
        struct link *s = add(t, 3, 0, "/s", "/foo"); /* through /foo: no matter */
        struct link *bar = add(t, 4, 0, "/foo/bar", "/t2");
        struct link *pq = add(t, 5, 0, "/p/q", "/t4");
        struct link *r = add(t, 6, 0, "/r", "/t5");
        struct link *links[] = {s, foo, pq, baz, r, bar};
        planner_order_for_removal(links, 6);
        struct link *want[] = {baz, pq, bar, r, s, foo};
        for (size_t i = 0; i < 6; i++)
                if (links[i] != want[i])
                        fail_msg("place %zu: %s, want %s", i, links[i]->virtual_path,
                                 want[i]->virtual_path);
        planner_order_for_removal(NULL, 0);
        planner_order_for_removal(links, 1);
        assert_ptr_equal(links[0], baz);
        link_table_done(t);
}

/* The same order for any element, by its rules' path and key alone. */
struct keyed {
        const char *path;
        uint64_t key;
};
static const char *keyed_path(const void *e)
{
        return ((const struct keyed *)e)->path;
}
static uint64_t keyed_key(const void *e)
{
        return ((const struct keyed *)e)->key;
}

static void test_order_deepest_first_by_rules(void **state)
{
        (void)state;
        struct keyed a = {"/a", 7}, ab = {"/a/b", 2}, c = {"/c", 9}, cd = {"/c/d", 4},
                     root = {"/", 1};
        void *elems[] = {&root, &a, &ab, &c, &cd};
        static const struct order_rules rules = {.path = keyed_path, .key = keyed_key};
        order_deepest_first(elems, 5, &rules);
        void *want[] = {&cd, &ab, &c, &a, &root};
        for (size_t i = 0; i < 5; i++)
                if (elems[i] != want[i])
                        fail_msg("place %zu: %s, want %s", i, keyed_path(elems[i]),
                                 keyed_path(want[i]));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_resolve_without_links_is_identity, free_tables),
                cmocka_unit_test_teardown(test_s5_covered_path_maps_into_backing, free_tables),
                cmocka_unit_test_teardown(test_s5_backing_root, free_tables),
                cmocka_unit_test_teardown(test_s15_deepest_link_wins_in_any_order, free_tables),
                cmocka_unit_test_teardown(test_s18_chain_resolves_to_end, free_tables),
                cmocka_unit_test_teardown(test_s18_chain_through_subdirectory, free_tables),
                cmocka_unit_test_teardown(test_s18_cycle_is_eloop, free_tables),
                cmocka_unit_test_teardown(test_s18_chain_passing_a_link_twice_is_not_a_loop, free_tables),
                cmocka_unit_test_teardown(test_resolve_ignored_link_is_skipped, free_tables),
                cmocka_unit_test_teardown(test_s12_s14_covering_link_tells_its_judge_why,
                                          free_tables),
                cmocka_unit_test_teardown(test_s9_dir_over_dir_is_bind, free_tables),
                cmocka_unit_test_teardown(test_s9_file_over_file_is_bind, free_tables),
                cmocka_unit_test_teardown(test_s9_file_over_dir_needs_overlay, free_tables),
                cmocka_unit_test_teardown(test_s9_dir_over_file_needs_overlay, free_tables),
                cmocka_unit_test_teardown(test_s8_anchorless_needs_overlay, free_tables),
                cmocka_unit_test_teardown(test_s6_missing_parent, free_tables),
                cmocka_unit_test_teardown(test_s10_missing_backing, free_tables),
                cmocka_unit_test_teardown(test_s12_s13_merged_dirs_are_placed_as_merged_views, free_tables),
                cmocka_unit_test_teardown(test_s12_paths_below_a_merged_link_resolve_to_themselves,
                                          free_tables),
                cmocka_unit_test_teardown(
                        test_s14_merged_exception_over_the_other_type_is_grafted_in_place,
                        free_tables),
                cmocka_unit_test_teardown(test_s14_merged_exception_is_grafted_in_place,
                                          free_tables),
                cmocka_unit_test_teardown(test_s12_merged_has_no_effect_on_files, free_tables),
                cmocka_unit_test_teardown(test_s14_exceptions_keep_the_link_a_bind_and_are_holes, free_tables),
                cmocka_unit_test_teardown(test_s5_symlink_at_virtual_path_needs_overlay, free_tables),
                cmocka_unit_test_teardown(test_s18_backing_containing_or_inside_virtual_is_loop, free_tables),
                cmocka_unit_test_teardown(test_s18_cycle_of_links_is_loop, free_tables),
                cmocka_unit_test_teardown(test_s15_nested_link_to_the_outer_backing_is_not_a_loop, free_tables),
                cmocka_unit_test_teardown(test_s18_backing_through_another_link, free_tables),
                cmocka_unit_test_teardown(test_s15_nested_bind_when_backing_has_the_name, free_tables),
                cmocka_unit_test_teardown(test_s15_nested_without_name_in_backing_needs_overlay, free_tables),
                cmocka_unit_test_teardown(test_s19_nested_anchorless_needs_visible_parent, free_tables),
                cmocka_unit_test_teardown(test_s6_parent_is_an_earlier_links_virtual_path, free_tables),
                cmocka_unit_test_teardown(test_s11_read_only_does_not_change_placement, free_tables),
                cmocka_unit_test_teardown(test_probe_error_is_returned, free_tables),
                cmocka_unit_test_teardown(test_depends, free_tables),
                cmocka_unit_test_teardown(test_s15_s18_affected_closure, free_tables),
                cmocka_unit_test_teardown(test_affected_roots_first_and_once, free_tables),
                cmocka_unit_test_teardown(test_affected_many_links, free_tables),
                cmocka_unit_test_teardown(test_s15_order_ancestors_first, free_tables),
                cmocka_unit_test_teardown(test_s18_order_chain_target_first, free_tables),
                cmocka_unit_test_teardown(test_s18_order_cycle_is_eloop, free_tables),
                cmocka_unit_test_teardown(test_order_ties_by_depth_then_creation, free_tables),
                cmocka_unit_test_teardown(test_order_mixed_nesting_and_chains, free_tables),
                cmocka_unit_test_teardown(test_order_small_sets, free_tables),
                cmocka_unit_test_teardown(test_s20_order_for_removal_deepest_then_last_made,
                                          free_tables),
                cmocka_unit_test_teardown(test_order_deepest_first_by_rules, free_tables),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
