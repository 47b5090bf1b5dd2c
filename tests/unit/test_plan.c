/* test_plan.c — unit tests of daemon/plan/plan.c against a fake, in-memory file tree:
 * which items a change needs (links, exceptions, overlays), how each is placed, which
 * overlays are started, kept and changed in place, or taken down, what entries they
 * make up, and the order of it all (S5, S8, S10, S12, S14, S15, S18, S19). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_tree.h" /* after cmocka.h: it asserts */
#include "link_table.h"
#include "plan.h"

static const struct node nodes[] = {
        {"/", PROBE_DIRECTORY, NULL},    {"/x", PROBE_DIRECTORY, NULL},
        {"/d1", PROBE_DIRECTORY, NULL},  {"/d2", PROBE_DIRECTORY, NULL},
        {"/f1", PROBE_FILE, NULL},       {"/a", PROBE_DIRECTORY, NULL},
        {"/a/b", PROBE_DIRECTORY, NULL}, {"/t", PROBE_DIRECTORY, NULL},
};

struct fixture {
        struct link_table table;
        struct tree tree;
        struct probe probe;
        struct plan_running running[4];
        size_t running_count;
        struct plan plan;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);
        assert_non_null(f);
        link_table_init(&f->table);
        f->tree = (struct tree){nodes, sizeof nodes / sizeof nodes[0], 0};
        f->probe = (struct probe){.type_of = fake_type_of, .ctx = &f->tree};
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        plan_done(&f->plan);
        link_table_done(&f->table);
        free(f);
        return 0;
}

static struct link *add(struct fixture *f, uint32_t flags, const char *v, const char *b,
                        uint32_t exception_count, char *const *exceptions)
{
        struct link *l = link_new(f->table.next_order, flags, v, b, exception_count, exceptions);
        assert_non_null(l);
        assert_int_equal(link_table_add(&f->table, l), 0);
        return l;
}

static void running(struct fixture *f, const char *dir, bool merged, bool updatable, void *instance)
{
        f->running[f->running_count++] = (struct plan_running){
                .dir = dir, .merged = merged, .updatable = updatable, .instance = instance};
}

static int make(struct fixture *f, struct link *const *roots, size_t n)
{
        plan_done(&f->plan);
        struct plan_input in = {.table = &f->table,
                                .probe = &f->probe,
                                .running = f->running,
                                .running_count = f->running_count};
        return plan_make(&in, roots, n, &f->plan);
}

/* The items as one line: "L:/x/new:GRAFT O:/x E:/a/b:BIND", overlays kept with "=". */
static const char *describe(const struct plan_item *items, size_t count)
{
        static char out[1024];
        static const char *kinds[] = {"BIND",          "GRAFT",           "MERGE", "PARENT_MISSING",
                                      "NEEDS_OVERLAY", "BACKING_MISSING", "LOOP"};
        size_t len = 0;
        out[0] = 0;
        for (size_t i = 0; i < count; i++) {
                const struct plan_item *it = &items[i];
                int n = it->kind == PLAN_OVERLAY
                                ? snprintf(out + len, sizeof out - len, "%sO%s:%s", i ? " " : "",
                                           it->update_in_place ? "=" : "", it->path)
                                : snprintf(out + len, sizeof out - len, "%s%c:%s:%s", i ? " " : "",
                                           it->kind == PLAN_LINK ? 'L' : 'E', it->path,
                                           kinds[it->placement.kind]);
                assert_true(n > 0 && (size_t)n < sizeof out - len);
                len += (size_t)n;
        }
        return out;
}

#define assert_show(f, want)                                                                       \
        assert_string_equal(describe((f)->plan.show, (f)->plan.show_count), want)
#define assert_hide(f, want)                                                                       \
        assert_string_equal(describe((f)->plan.hide, (f)->plan.hide_count), want)

/* "name:kind ..." of plan_entries for dir. */
static const char *entries(const struct plan *plan, const char *dir)
{
        static char out[512];
        char **names, *kinds;
        size_t n, len = 0;
        assert_int_equal(plan_entries(plan, dir, &names, &kinds, &n), 0);
        out[0] = 0;
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(out + len, sizeof out - len, "%s%s:%c", i ? " " : "",
                                        names[i], kinds[i]);
        free(names);
        free(kinds);
        return out;
}

/* S5, S11: a directory over a directory is one bind mount; nothing else. */
static void test_s5_plain_link_is_one_bind_item(void **state)
{
        struct fixture *f = *state;
        struct link *l = add(f, CREATE_BIND_LINK_FLAG_READ_ONLY, "/d1", "/d2", 0, NULL);
        assert_int_equal(make(f, &l, 1), 0);
        assert_show(f, "L:/d1:BIND");
        assert_hide(f, "L:/d1:BIND");
        assert_int_equal(f->plan.dir_count, 0);
}

/* S8: an anchorless link needs the overlay on its parent, started before it, which
 * makes up its name with B's type. */
static void test_s8_anchorless_link_starts_an_overlay_on_its_parent(void **state)
{
        struct fixture *f = *state;
        struct link *dir = add(f, 0, "/x/new", "/d2", 0, NULL);
        struct link *file = add(f, 0, "/x/note", "/f1", 0, NULL);
        struct link *roots[] = {dir, file};
        assert_int_equal(make(f, roots, 2), 0);
        assert_show(f, "O:/x L:/x/new:GRAFT L:/x/note:GRAFT");
        assert_hide(f, "L:/x/new:GRAFT L:/x/note:GRAFT");
        assert_null(f->plan.show[0].overlay);
        assert_string_equal(entries(&f->plan, "/x"), "new:d note:f");
}

/* S10: a link whose B is gone hides V's name in V's parent (V answers ENOENT). */
static void test_s10_missing_backing_hides_the_name(void **state)
{
        struct fixture *f = *state;
        struct link *l = add(f, 0, "/x", "/gone", 0, NULL);
        assert_int_equal(make(f, &l, 1), 0);
        assert_show(f, "O:/ L:/x:BACKING_MISSING");
        assert_string_equal(entries(&f->plan, "/"), "x:h");
        /* A V that does not exist either needs no hiding, and no overlay. */
        struct link *nothing = add(f, 0, "/d1/none", "/gone", 0, NULL);
        assert_int_equal(make(f, &nothing, 1), 0);
        assert_show(f, "L:/d1/none:BACKING_MISSING");
}

/* S12, S13: a merged link is its own view, mounted on V; no parent overlay. */
static void test_s12_merged_link_is_one_merge_item(void **state)
{
        struct fixture *f = *state;
        struct link *l = add(f, CREATE_BIND_LINK_FLAG_MERGED, "/d1", "/d2", 0, NULL);
        assert_int_equal(make(f, &l, 1), 0);
        assert_show(f, "L:/d1:MERGE");
}

/* S14: an exception B lacks the name of is grafted on an entry the overlay on the
 * link's directory makes up: the link first, then that overlay, then the graft. */
static void test_s14_exception_missing_in_b_gets_an_entry_after_its_link(void **state)
{
        struct fixture *f = *state;
        char *exceptions[] = {(char *)"/a/b"};
        struct link *l = add(f, 0, "/a", "/t", 1, exceptions);
        assert_int_equal(make(f, &l, 1), 0);
        assert_show(f, "L:/a:BIND O:/a E:/a/b:GRAFT");
        assert_hide(f, "L:/a:BIND");
        assert_int_equal(f->plan.show[2].link, l);
        assert_int_equal(f->plan.show[2].exception_index, 0);
        assert_string_equal(entries(&f->plan, "/a"), "b:d");
}

/* S15: a link nested in another is shown after it, wherever it was made. */
static void test_s15_nested_link_comes_after_the_outer_one(void **state)
{
        struct fixture *f = *state;
        struct link *inner = add(f, 0, "/d1/in", "/x", 0, NULL);
        struct link *outer = add(f, 0, "/d1", "/d2", 0, NULL);
        assert_int_equal(make(f, &outer, 1), 0);
        (void)inner;
        assert_show(f, "L:/d1:BIND O:/d1 L:/d1/in:GRAFT");
}

/* S18: links that depend on each other in a loop cannot be planned. */
static void test_s18_dependency_loop_is_eloop(void **state)
{
        struct fixture *f = *state;
        struct link *one = add(f, 0, "/d1", "/d2/sub", 0, NULL);
        add(f, 0, "/d2", "/d1/sub", 0, NULL);
        assert_int_equal(make(f, &one, 1), -ELOOP);
        assert_int_equal(f->plan.show_count, 0);
}

/* S6, S19: a link whose parent is not there waits, with no overlay made for it. */
static void test_s19_missing_parent_waits_without_an_overlay(void **state)
{
        struct fixture *f = *state;
        struct link *l = add(f, 0, "/nope/new", "/d2", 0, NULL);
        assert_int_equal(make(f, &l, 1), 0);
        assert_show(f, "L:/nope/new:PARENT_MISSING");
}

/* S8: a running overlay that can be told stays: a new sibling changes its entries in
 * place, and the links it already carries are left alone. */
static void test_s8_running_overlay_stays_and_changes_in_place(void **state)
{
        struct fixture *f = *state;
        int instance;
        add(f, 0, "/x/old", "/d1", 0, NULL);
        struct link *l = add(f, 0, "/x/new", "/d2", 0, NULL);
        running(f, "/x", false, true, &instance);
        assert_int_equal(make(f, &l, 1), 0);
        assert_show(f, "O=:/x L:/x/new:GRAFT");
        assert_ptr_equal(f->plan.show[0].overlay, &instance);
        assert_hide(f, "L:/x/new:GRAFT");
        char *now_names[] = {(char *)"old"};
        char **names, *kinds;
        size_t n;
        assert_int_equal(
                plan_entries_updated(&f->plan, "/x", now_names, "d", 1, &names, &kinds, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(names[1], "new");
        assert_int_equal(kinds[1], 'd');
        free(names);
        free(kinds);
}

/* ... and one that cannot be told is remade: taken down, started again, and every
 * link below it shown again on the new one. */
static void test_s8_running_overlay_without_control_is_remade(void **state)
{
        struct fixture *f = *state;
        int instance;
        add(f, 0, "/x/old", "/d1", 0, NULL);
        struct link *l = add(f, 0, "/x/new", "/d2", 0, NULL);
        running(f, "/x", false, false, &instance);
        assert_int_equal(make(f, &l, 1), 0);
        assert_show(f, "O:/x L:/x/old:GRAFT L:/x/new:GRAFT");
        assert_null(f->plan.show[0].overlay);
        assert_hide(f, "O:/x L:/x/old:GRAFT L:/x/new:GRAFT");
        assert_ptr_equal(f->plan.hide[0].overlay, &instance);
        assert_string_equal(entries(&f->plan, "/x"), "old:d new:d");
}

/* A merged view running on a directory is not a parent overlay: a link made below
 * it gets one of its own. */
static void test_s12_running_merged_view_is_not_a_parent_overlay(void **state)
{
        struct fixture *f = *state;
        int instance;
        struct link *l = add(f, 0, "/d1/new", "/d2", 0, NULL);
        running(f, "/d1", true, true, &instance);
        assert_int_equal(make(f, &l, 1), 0);
        assert_show(f, "O:/d1 L:/d1/new:GRAFT");
        assert_null(f->plan.show[0].overlay);
        assert_hide(f, "L:/d1/new:GRAFT");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(test_s5_plain_link_is_one_bind_item),
                T(test_s8_anchorless_link_starts_an_overlay_on_its_parent),
                T(test_s10_missing_backing_hides_the_name),
                T(test_s12_merged_link_is_one_merge_item),
                T(test_s14_exception_missing_in_b_gets_an_entry_after_its_link),
                T(test_s15_nested_link_comes_after_the_outer_one),
                T(test_s18_dependency_loop_is_eloop),
                T(test_s19_missing_parent_waits_without_an_overlay),
                T(test_s8_running_overlay_stays_and_changes_in_place),
                T(test_s8_running_overlay_without_control_is_remade),
                T(test_s12_running_merged_view_is_not_a_parent_overlay),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
