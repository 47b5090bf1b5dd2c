/* test_journal.c — unit tests of daemon/journal/journal.c: path escaping, applying records to a
 * link table, and the journal file itself (re-adoption after a restart, S4; records cut
 * short by a crash; compaction). Files live in a private directory under /tmp. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "link_table.h"
#include "planner.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* Everything a table holds, as one comparable string. */
static void fingerprint(const struct link_table *t, char *out, size_t size)
{
        size_t at = 0;
        out[0] = '\0';
        for (size_t i = 0; i < t->count; i++) {
                const struct link *l = t->links[i];
                at += (size_t)snprintf(out + at, size - at, "[%llu %u <%s> <%s> %u",
                                       (unsigned long long)l->order, l->flags, l->virtual_path,
                                       l->backing_path, l->exception_count);
                assert_true(at < size);
                for (uint32_t j = 0; j < l->exception_count; j++) {
                        at += (size_t)snprintf(out + at, size - at, " <%s>",
                                               l->exception_paths[j]);
                        assert_true(at < size);
                }
                at += (size_t)snprintf(out + at, size - at, " r%d m%llu c%d by %d/%u/%u/%u",
                                       (int)l->realization, (unsigned long long)l->mount_id,
                                       l->covered_type, l->creator.privileged,
                                       (unsigned)l->creator.uid, (unsigned)l->creator.gid,
                                       l->creator.dac_caps);
                for (size_t g = 0; g < l->creator.group_count; g++)
                        at += (size_t)snprintf(out + at, size - at, ",%u",
                                               (unsigned)l->creator.groups[g]);
                at += (size_t)snprintf(out + at, size - at, "]");
                assert_true(at < size);
        }
}

static void check_escape(const char *in, const char *want)
{
        char *out = NULL;
        assert_int_equal(journal_escape(in, &out), 0);
        char got[PATH_MAX * 4 + 1];
        (void)snprintf(got, sizeof got, "%s", out);
        free(out);
        assert_string_equal(got, want);
}

static void check_round_trip(const char *in)
{
        char *escaped = NULL, *back = NULL;
        assert_int_equal(journal_escape(in, &escaped), 0);
        /* the escaped form is one journal field: no byte <= ' ', no DEL */
        for (const unsigned char *p = (const unsigned char *)escaped; *p; p++)
                assert_true(*p > ' ' && *p != 0x7f);
        int r = journal_unescape(escaped, &back);
        free(escaped);
        assert_int_equal(r, 0);
        char got[PATH_MAX + 1];
        (void)snprintf(got, sizeof got, "%s", back);
        free(back);
        assert_string_equal(got, in);
}

static void check_unescape_fails(const char *in)
{
        char sentinel = 0;
        char *out = &sentinel;
        int r = journal_unescape(in, &out);
        if (r != -EINVAL)
                fail_msg("journal_unescape(\"%s\") = %d, want -EINVAL", in, r);
        assert_ptr_equal(out, &sentinel);
}

static void apply_ok(struct link_table *t, const char *line)
{
        int r = journal_apply_line(t, line);
        if (r != 0)
                fail_msg("journal_apply_line(\"%s\") = %d, want 0", line, r);
}

/* ---- escaping ----------------------------------------------------------------------- */

static void test_s4_escape_exact_form(void **state)
{
        (void)state;
        check_escape("/plain/path", "/plain/path");
        check_escape("/a b", "/a\\040b");
        check_escape("/t\tab", "/t\\011ab");
        check_escape("/n\nl", "/n\\012l");
        check_escape("/back\\slash", "/back\\134slash");
        check_escape("/\x01", "/\\001");
        check_escape("/del\x7f", "/del\\177");
        check_escape("/\xff\xfe", "/\xff\xfe"); /* high bytes travel as they are */
        check_escape("", "");
}

static void test_s4_escape_round_trip(void **state)
{
        (void)state;
        const char *paths[] = {
                "/a b/c  d ",         "/tab\there",       "/new\nline\n",
                "/back\\slash\\\\",    "/\x01\x02\x1f",    "/\xff\xfe\x80",
                "/mixed \t\n\\\x01\xff", "/del\x7f",        "/\\134 looks escaped",
                "/only/ordinary/ones",
        };
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
                check_round_trip(paths[i]);

        /* every byte from 1 to 255 */
        char all[256];
        for (int b = 1; b < 256; b++)
                all[b - 1] = (char)b;
        all[255] = '\0';
        check_round_trip(all);
}

static void test_s4_unescape_accepts_octal(void **state)
{
        (void)state;
        char *out = NULL;
        assert_int_equal(journal_unescape("\\101\\040\\377x", &out), 0);
        assert_string_equal(out, "A \xffx");
        free(out);
}

static void test_s4_unescape_rejects_bad_escapes(void **state)
{
        (void)state;
        check_unescape_fails("\\");
        check_unescape_fails("/a\\");
        check_unescape_fails("/a\\0");
        check_unescape_fails("/a\\04");
        check_unescape_fails("/a\\400"); /* above 0377 */
        check_unescape_fails("/a\\08x");
        check_unescape_fails("/a\\x41");
        check_unescape_fails("/a\\\\");
        check_unescape_fails("/a\\ 40");
}

static void test_s4_unescape_rejects_nul(void **state)
{
        (void)state;
        check_unescape_fails("\\000");
        check_unescape_fails("/a\\000b");
}

/* ---- records --------------------------------------------------------------------------- */

static void test_s4_link_record_builds_link(void **state)
{
        (void)state;
        struct link_table t;
        link_table_init(&t);
        apply_ok(&t, "L 1 0 /v /b 0");
        apply_ok(&t, "L 2 3 /v\\040x /b\\011y 2 /v\\040x/e1 /v\\040x/e\\1342");
        assert_int_equal(t.count, 2);

        struct link *l = t.links[0];
        assert_int_equal(l->order, 1);
        assert_int_equal(l->flags, 0);
        assert_string_equal(l->virtual_path, "/v");
        assert_string_equal(l->backing_path, "/b");
        assert_int_equal(l->exception_count, 0);
        assert_int_equal(l->realization, BINDLINK_REALIZED_NONE);

        l = t.links[1];
        assert_int_equal(l->order, 2);
        assert_int_equal(l->flags, CREATE_BIND_LINK_FLAG_READ_ONLY | CREATE_BIND_LINK_FLAG_MERGED);
        assert_string_equal(l->virtual_path, "/v x");
        assert_string_equal(l->backing_path, "/b\ty");
        assert_int_equal(l->exception_count, 2);
        assert_string_equal(l->exception_paths[0], "/v x/e1");
        assert_string_equal(l->exception_paths[1], "/v x/e\\2");
        assert_true(t.next_order == 3);
        link_table_done(&t);
}

static void test_s2_creator_record_sets_whose_rights_count(void **state)
{
        (void)state;
        struct link_table t;
        link_table_init(&t);
        apply_ok(&t, "L 1 0 /v /b 0");
        apply_ok(&t, "L 2 0 /w /b 0");
        /* a link without a C record was made by the daemon */
        assert_true(t.links[0]->creator.privileged);
        apply_ok(&t, "C 2 0 65534 65534 0 2 4242 24");
        const struct creds *c = &t.links[1]->creator;
        assert_false(c->privileged);
        assert_int_equal(c->uid, 65534);
        assert_int_equal(c->gid, 65534);
        assert_int_equal(c->dac_caps, 0);
        assert_int_equal(c->group_count, 2);
        assert_int_equal(c->groups[0], 4242);
        assert_int_equal(c->groups[1], 24);
        /* the last record wins; no groups */
        apply_ok(&t, "C 2 1 0 0 3 0");
        assert_true(t.links[1]->creator.privileged);
        assert_int_equal(t.links[1]->creator.group_count, 0);
        static const char *const bad[] = {
                "C 9 0 1 1 0 0",         /* no such link */
                "C 2 2 1 1 0 0",         /* privileged is 0 or 1 */
                "C 2 0 4294967296 1 0 0", /* past 32 bits */
                "C 2 0 1 1 4 0",         /* unknown capability bit */
                "C 2 0 1 1 0 2 5",       /* fewer groups than said */
                "C 2 0 1 1 0 1 5 6",     /* more */
                "C 2 0 1 1 0 1 x",
                "C 2 0 1 1",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_int_equal(journal_apply_line(&t, bad[i]), -EINVAL);
        assert_true(t.links[1]->creator.privileged);
        link_table_done(&t);
}

/* S10: N keeps B as named through a symlink, B points the link where it leads now
 * (indexes too). */
static void test_s10_named_and_repointed_backing_records(void **state)
{
        (void)state;
        struct link_table t;
        link_table_init(&t);
        apply_ok(&t, "L 1 0 /v /r/v1/data 0");
        assert_null(t.links[0]->backing_named);
        apply_ok(&t, "N 1 /r/cur\\040x/data");
        assert_string_equal(t.links[0]->backing_named, "/r/cur x/data");
        apply_ok(&t, "B 1 /r/v2/data");
        assert_string_equal(t.links[0]->backing_path, "/r/v2/data");
        assert_true(link_table_has_backing_on_line(&t, "/r/v2"));
        assert_false(link_table_has_backing_on_line(&t, "/r/v1"));
        static const char *const bad[] = {
                "N 9 /x",     /* no such link */
                "B 1 relative",
                "N 1",
                "B 1 /a /b",
                "N x /a",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_int_equal(journal_apply_line(&t, bad[i]), -EINVAL);
        assert_string_equal(t.links[0]->backing_path, "/r/v2/data");
        link_table_done(&t);
}

static void test_s16_link_records_kept_in_creation_order(void **state)
{
        (void)state;
        struct link_table t;
        link_table_init(&t);
        apply_ok(&t, "L 5 0 /five /b 0");
        apply_ok(&t, "L 3 0 /three /b 0");
        apply_ok(&t, "L 9 0 /nine /b 0");
        apply_ok(&t, "L 4 0 /four /b 0");
        assert_int_equal(t.count, 4);
        assert_string_equal(t.links[0]->virtual_path, "/three");
        assert_string_equal(t.links[1]->virtual_path, "/four");
        assert_string_equal(t.links[2]->virtual_path, "/five");
        assert_string_equal(t.links[3]->virtual_path, "/nine");
        assert_true(t.next_order == 10);
        link_table_done(&t);
}

static void test_s4_shown_record_sets_realization(void **state)
{
        (void)state;
        struct link_table t;
        link_table_init(&t);
        apply_ok(&t, "L 1 0 /v /b 0");
        apply_ok(&t, "L 2 0 /w /b 0");
        apply_ok(&t, "M 2 1 18446744073709551615 2");
        assert_int_equal(t.links[1]->realization, BINDLINK_REALIZED_BIND);
        assert_true(t.links[1]->mount_id == UINT64_MAX);
        assert_int_equal(t.links[1]->covered_type, PROBE_FILE);
        assert_int_equal(t.links[0]->realization, BINDLINK_REALIZED_NONE);
        assert_true(t.links[0]->mount_id == 0);

        /* the last record wins */
        apply_ok(&t, "M 2 0 0 0");
        assert_int_equal(t.links[1]->realization, BINDLINK_REALIZED_NONE);
        assert_true(t.links[1]->mount_id == 0);
        assert_int_equal(t.links[1]->covered_type, PROBE_MISSING);
        apply_ok(&t, "M 1 2 5 3");
        assert_int_equal(t.links[0]->realization, BINDLINK_REALIZED_OVERLAY);
        assert_int_equal(t.links[0]->covered_type, PROBE_SYMLINK);
        link_table_done(&t);
}

static void test_s4_remove_record_removes(void **state)
{
        (void)state;
        struct link_table t;
        link_table_init(&t);
        apply_ok(&t, "L 1 0 /v /b 0");
        apply_ok(&t, "L 2 0 /w /b 0");
        apply_ok(&t, "L 3 0 /x /b 0");
        apply_ok(&t, "R 2");
        assert_int_equal(t.count, 2);
        assert_string_equal(t.links[0]->virtual_path, "/v");
        assert_string_equal(t.links[1]->virtual_path, "/x");
        assert_null(link_table_find(&t, "/w"));
        /* the virtual path is free again */
        apply_ok(&t, "L 4 0 /w /c 0");
        assert_string_equal(link_table_find(&t, "/w")->backing_path, "/c");
        link_table_done(&t);
}

static void test_s4_malformed_records_change_nothing(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "",
                " ",
                "X 1 0 /n /b 0",
                "LL 7 0 /n /b 0",
                "l 7 0 /n /b 0",
                "L",
                "L 18446744073709551615 0 /a /b 0", /* would wrap the next order */
                "L 7 0 /n /b",
                "L 7 0 /n",
                "L 7 0 /n /b 0 /n/extra",
                "L 7 0 /n /b 1",
                "L 7 0 /n /b 2 /n/e",
                "L 7 0 /n /b 1 /n/e /n/f",
                "L 7 4 /n /b 0",
                "L 7 99 /n /b 0",
                "L 7 -1 /n /b 0",
                "L 0 0 /n /b 0",
                "L -7 0 /n /b 0",
                "L x 0 /n /b 0",
                "L 7x 0 /n /b 0",
                "L 18446744073709551616 0 /n /b 0",
                "L 7 0 /n /b 257",
                "L 7 0 /n /b -1",
                "L 1 0 /n /b 0",      /* order 1 is taken */
                "L 7 0 /v /other 0",  /* /v is already a link's virtual path */
                "L 7 0 /n\\0 /b 0",   /* bad escape */
                "L 7 0 /n /b\\000 0", /* NUL */
                "L 7 0 /n /b 1 /n/\\9",
                "M 99 1 1 1",         /* no such link */
                "M 1 3 1 1",          /* realization > OVERLAY */
                "M 1 1 1 4",          /* covered type > SYMLINK */
                "M 1 1 1",
                "M 1 1 1 1 1",
                "M 1 x 1 1",
                "M 1 1 -1 1",
                "R 99",
                "R",
                "R 1 2",
                "R x",
        };
        struct link_table t;
        link_table_init(&t);
        apply_ok(&t, "L 1 1 /v /b 1 /v/e");
        apply_ok(&t, "L 2 2 /w /c 0");
        apply_ok(&t, "M 1 1 42 1");
        char before[4096], after[4096];
        fingerprint(&t, before, sizeof before);
        uint64_t next_order = t.next_order;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                int r = journal_apply_line(&t, bad[i]);
                if (r != -EINVAL)
                        fail_msg("journal_apply_line(\"%s\") = %d, want -EINVAL", bad[i], r);
                fingerprint(&t, after, sizeof after);
                if (strcmp(before, after) != 0)
                        fail_msg("\"%s\" changed the table: %s -> %s", bad[i], before, after);
                assert_true(t.next_order == next_order);
        }
        link_table_done(&t);
}

static void test_s4_exception_count_limits(void **state)
{
        (void)state;
        /* 256 exceptions are fine, 257 are not, however many fields follow */
        size_t size = 64 + 257 * 16;
        char *line = malloc(size);
        assert_non_null(line);
        size_t at = (size_t)snprintf(line, size, "L 1 0 /v /b 256");
        for (int i = 0; i < 256; i++)
                at += (size_t)snprintf(line + at, size - at, " /v/e%d", i);
        struct link_table t;
        link_table_init(&t);
        apply_ok(&t, line);
        assert_int_equal(t.links[0]->exception_count, 256);
        assert_string_equal(t.links[0]->exception_paths[255], "/v/e255");

        at = (size_t)snprintf(line, size, "L 2 0 /w /b 257");
        for (int i = 0; i < 257; i++)
                at += (size_t)snprintf(line + at, size - at, " /w/e%d", i);
        assert_int_equal(journal_apply_line(&t, line), -EINVAL);
        /* 256 claimed, 257 given */
        at = (size_t)snprintf(line, size, "L 2 0 /w /b 256");
        for (int i = 0; i < 257; i++)
                at += (size_t)snprintf(line + at, size - at, " /w/e%d", i);
        assert_int_equal(journal_apply_line(&t, line), -EINVAL);
        assert_int_equal(t.count, 1);
        link_table_done(&t);
        free(line);
}

/* ---- files ---------------------------------------------------------------------------- */

struct fixture {
        char dir[64];
        char state_dir[96]; /* dir/state: created by journal_open */
        char file[128];
};

static int setup_dir(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);
        if (!f)
                return -1;
        (void)snprintf(f->dir, sizeof f->dir, "/tmp/bindlink-test-journal.XXXXXX");
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        (void)snprintf(f->state_dir, sizeof f->state_dir, "%s/state", f->dir);
        (void)snprintf(f->file, sizeof f->file, "%s/links.journal", f->state_dir);
        *state = f;
        return 0;
}

static void remove_tree(const char *path)
{
        DIR *d = opendir(path);
        if (d) {
                struct dirent *e;
                while ((e = readdir(d))) {
                        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                                continue;
                        char child[PATH_MAX];
                        (void)snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                        if (e->d_type == DT_DIR)
                                remove_tree(child);
                        else
                                (void)unlink(child);
                }
                (void)closedir(d);
        }
        (void)rmdir(path);
}

static int teardown_dir(void **state)
{
        struct fixture *f = *state;
        /* A test that made the disk "full" (RLIMIT_FSIZE) and failed leaves room. */
        struct rlimit rl = {.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
        (void)setrlimit(RLIMIT_FSIZE, &rl);
        signal(SIGXFSZ, SIG_DFL);
        remove_tree(f->dir);
        free(f);
        return 0;
}

static char *read_file(const char *path)
{
        FILE *fp = fopen(path, "re");
        assert_non_null(fp);
        char *data = NULL;
        size_t size = 0;
        FILE *mem = open_memstream(&data, &size);
        assert_non_null(mem);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
                assert_int_equal(fwrite(chunk, 1, n, mem), n);
        (void)fclose(fp);
        (void)fclose(mem);
        return data;
}

static size_t count_lines(const char *path)
{
        char *data = read_file(path);
        size_t n = 0;
        for (const char *p = data; *p; p++)
                n += *p == '\n';
        free(data);
        return n;
}

static void append_raw(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        (void)close(fd);
}

/* Create a link the way the daemon does: table first, then the journal. */
static struct link *add_link(struct journal *j, struct link_table *t, uint32_t flags,
                             const char *v, const char *b, uint32_t n, char *const *e)
{
        struct link *l = link_new(t->next_order, flags, v, b, n, e);
        assert_non_null(l);
        assert_int_equal(link_table_add(t, l), 0);
        assert_int_equal(journal_link_added(j, l), 0);
        return l;
}

/* add_link, made by creator (creds.h). */
static struct link *add_link_by(struct journal *j, struct link_table *t,
                                const struct creds *creator, uint32_t flags, const char *v,
                                const char *b, uint32_t n, char *const *e)
{
        struct link *l = link_new(t->next_order, flags, v, b, n, e);
        assert_non_null(l);
        creds_done(&l->creator);
        assert_int_equal(creds_copy(creator, &l->creator), 0);
        assert_int_equal(link_table_add(t, l), 0);
        assert_int_equal(journal_link_added(j, l), 0);
        return l;
}

static void show_link(struct journal *j, struct link *l, bindlink_realization how,
                      uint64_t mount_id, int covered)
{
        l->realization = how;
        l->mount_id = mount_id;
        l->covered_type = covered;
        assert_int_equal(journal_link_shown(j, l), 0);
}

/* Remove a link the way the daemon does: the journal's record, then out of the
 * table, then compaction if it is due. */
static void remove_link(struct journal *j, struct link_table *t, const char *v)
{
        struct link *l = link_table_find(t, v);
        assert_non_null(l);
        assert_int_equal(journal_link_removed(j, l), 0);
        assert_ptr_equal(link_table_take(t, v), l);
        journal_maybe_compact(j, t);
        link_free(l);
}

static void test_s4_open_empty_dir(void **state)
{
        struct fixture *f = *state;
        struct journal j;
        struct link_table t;
        link_table_init(&t);

        /* an existing, empty directory */
        char in_dir[128];
        (void)snprintf(in_dir, sizeof in_dir, "%s/links.journal", f->dir);
        assert_int_equal(journal_open(&j, f->dir, &t), 0);
        assert_int_equal(t.count, 0);
        assert_true(j.fd >= 0);
        assert_string_equal(j.path, in_dir);
        assert_int_equal(access(in_dir, F_OK), 0);
        journal_close(&j);

        /* a directory that does not exist yet is made */
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        assert_int_equal(t.count, 0);
        assert_true(j.fd >= 0);
        struct stat st;
        assert_int_equal(stat(f->file, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 0);
        journal_close(&j);
        assert_int_equal(j.fd, -1);
        assert_null(j.path);

        /* a second open of the same (existing) directory works too */
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        assert_int_equal(t.count, 0);
        journal_close(&j);
        link_table_done(&t);
}

/* Fill a journal with links of every kind; returns the table's fingerprint. */
static void write_sample_journal(const struct fixture *f, char *print, size_t size)
{
        struct journal j;
        struct link_table t;
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);

        char *exceptions[] = {(char *)"/srv/with space/e 1", (char *)"/srv/with space/\\x"};
        struct link *a = add_link(&j, &t, 0, "/srv/a", "/data/a", 0, NULL);
        show_link(&j, a, BINDLINK_REALIZED_BIND, 1001, PROBE_DIRECTORY);
        struct link *b = add_link(&j, &t, CREATE_BIND_LINK_FLAG_READ_ONLY, "/srv/gone",
                                  "/data/gone", 0, NULL);
        show_link(&j, b, BINDLINK_REALIZED_BIND, 1002, PROBE_DIRECTORY);
        static gid_t groups[] = {4242, 100};
        struct creds member = {.uid = 1000, .gid = 1000, .groups = groups, .group_count = 2};
        struct link *c = add_link_by(&j, &t, &member, CREATE_BIND_LINK_FLAG_MERGED,
                                     "/srv/with space", "/data/\ttab\n", 2, exceptions);
        show_link(&j, c, BINDLINK_REALIZED_NONE, 0, PROBE_MISSING);
        struct link *d = add_link(&j, &t, 3, "/srv/a/nested\xff", "/data/file", 0, NULL);
        show_link(&j, d, BINDLINK_REALIZED_BIND, 1004, PROBE_FILE);
        remove_link(&j, &t, "/srv/gone");
        /* a link shown again later: the last M record counts */
        show_link(&j, a, BINDLINK_REALIZED_BIND, 2001, PROBE_DIRECTORY);

        assert_int_equal(t.count, 3);
        fingerprint(&t, print, size);
        journal_close(&j);
        link_table_done(&t);
}

static void test_s4_links_reload_in_order(void **state)
{
        struct fixture *f = *state;
        char want[4096], got[4096];
        write_sample_journal(f, want, sizeof want);

        struct journal j;
        struct link_table t;
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        fingerprint(&t, got, sizeof got);
        assert_string_equal(got, want);
        assert_int_equal(t.count, 3);
        assert_string_equal(t.links[0]->virtual_path, "/srv/a");
        assert_true(t.links[0]->mount_id == 2001);
        assert_string_equal(t.links[1]->virtual_path, "/srv/with space");
        assert_string_equal(t.links[1]->backing_path, "/data/\ttab\n");
        assert_string_equal(t.links[1]->exception_paths[1], "/srv/with space/\\x");
        assert_string_equal(t.links[2]->virtual_path, "/srv/a/nested\xff");
        assert_int_equal(t.links[2]->flags, 3);
        assert_null(link_table_find(&t, "/srv/gone"));
        /* new links get fresh order numbers, also above the removed one's */
        assert_true(t.next_order == 5);
        journal_close(&j);

        /* opening compacted the file: reopening once more gives the same again */
        link_table_done(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        fingerprint(&t, got, sizeof got);
        assert_string_equal(got, want);
        journal_close(&j);
        link_table_done(&t);
}

static void check_record_without_newline_ignored(const struct fixture *f, const char *partial)
{
        char want[4096], got[4096];
        write_sample_journal(f, want, sizeof want);
        append_raw(f->file, partial);

        struct journal j;
        struct link_table t;
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        fingerprint(&t, got, sizeof got);
        assert_string_equal(got, want);
        assert_null(link_table_find_order(&t, 99));
        assert_null(link_table_find(&t, "/x"));

        /* records written after the cut one are read back whole */
        struct link *l = add_link(&j, &t, 0, "/after", "/b", 0, NULL);
        show_link(&j, l, BINDLINK_REALIZED_BIND, 7, PROBE_DIRECTORY);
        fingerprint(&t, want, sizeof want);
        journal_close(&j);
        link_table_done(&t);

        char *text = read_file(f->file);
        assert_null(strstr(text, "L 99"));
        free(text);

        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        fingerprint(&t, got, sizeof got);
        assert_string_equal(got, want);
        journal_close(&j);
        link_table_done(&t);
}

static void test_s4_record_without_newline_ignored(void **state)
{
        check_record_without_newline_ignored(*state, "L 99 0 /x");
}

/* A cut record that happens to be complete but for its newline is ignored too. */
static void test_s4_whole_record_without_newline_ignored(void **state)
{
        check_record_without_newline_ignored(*state, "L 99 0 /x /y 0");
}

static void test_s4_malformed_line_skipped_is_ebadmsg(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(mkdir(f->state_dir, 0700), 0);
        int fd = open(f->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        (void)close(fd);
        append_raw(f->file, "L 1 0 /one /b 0\n"
                            "garbage here\n"
                            "L 2 0 /two /b 0\n"
                            "M 2 1 5 1\n"
                            "R 77\n");
        struct journal j;
        struct link_table t;
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), -EBADMSG);
        assert_int_equal(t.count, 2);
        assert_string_equal(t.links[0]->virtual_path, "/one");
        assert_string_equal(t.links[1]->virtual_path, "/two");
        assert_int_equal(t.links[1]->realization, BINDLINK_REALIZED_BIND);
        journal_close(&j);
        link_table_done(&t);

        /* the bad records were compacted away */
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        assert_int_equal(t.count, 2);
        journal_close(&j);
        link_table_done(&t);
}

static void test_s4_compaction_keeps_file_small(void **state)
{
        struct fixture *f = *state;
        struct journal j;
        struct link_table t;
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);

        struct link *keep[3];
        keep[0] = add_link(&j, &t, 0, "/keep/one", "/b1", 0, NULL);
        keep[1] = add_link(&j, &t, 1, "/keep/two", "/b2", 0, NULL);
        char *e[] = {(char *)"/keep/three/e"};
        keep[2] = add_link(&j, &t, 2, "/keep/three", "/b3", 1, e);
        for (int i = 0; i < 3; i++)
                show_link(&j, keep[i], BINDLINK_REALIZED_BIND, 100 + (uint64_t)i, PROBE_DIRECTORY);

        size_t most_lines = 0;
        for (int i = 0; i < 2000; i++) {
                char v[64];
                (void)snprintf(v, sizeof v, "/churn/%d", i);
                struct link *l = add_link(&j, &t, 0, v, "/b", 0, NULL);
                show_link(&j, l, BINDLINK_REALIZED_BIND, 5000 + (uint64_t)i, PROBE_DIRECTORY);
                remove_link(&j, &t, v);
                size_t lines = count_lines(f->file);
                assert_int_equal(lines, j.records);
                if (lines > most_lines)
                        most_lines = lines;
        }
        /* 6009 records were written; after each removal the file holds at most
         * 4 * live + JOURNAL_COMPACT_SLACK records, and the bound was reached
         * (compaction ran). */
        assert_true(most_lines <= 4 * 3 + JOURNAL_COMPACT_SLACK);
        assert_true(most_lines + 4 > 4 * 3 + JOURNAL_COMPACT_SLACK); /* 4 records a cycle */
        struct stat st;
        assert_int_equal(stat(f->file, &st), 0);
        assert_true(st.st_size < (4 * 3 + JOURNAL_COMPACT_SLACK) * 64);
        char tmp[160];
        (void)snprintf(tmp, sizeof tmp, "%s.tmp", f->file);
        assert_int_equal(access(tmp, F_OK), -1);

        char want[4096], got[4096];
        fingerprint(&t, want, sizeof want);
        uint64_t next_order = t.next_order;
        journal_close(&j);
        link_table_done(&t);

        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        fingerprint(&t, got, sizeof got);
        assert_string_equal(got, want);
        assert_int_equal(t.count, 3);
        /* a new link's order lies above every live link's */
        for (size_t i = 0; i < t.count; i++)
                assert_true(t.next_order > t.links[i]->order);
        assert_true(t.next_order <= next_order);
        journal_close(&j);
        link_table_done(&t);
}

/* A full disk, made with RLIMIT_FSIZE: writes past the limit are cut short or fail
 * (EFBIG), as on a filesystem with no room left. */
static void limit_file_size(rlim_t bytes)
{
        struct rlimit rl = {.rlim_cur = bytes, .rlim_max = RLIM_INFINITY};
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static void test_s4_record_that_does_not_fit_is_taken_back(void **state)
{
        struct fixture *f = *state;
        struct journal j;
        struct link_table t;
        link_table_init(&t);
        signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        struct link *a = add_link(&j, &t, 0, "/a", "/b", 0, NULL);
        show_link(&j, a, BINDLINK_REALIZED_BIND, 7, PROBE_DIRECTORY);
        char before[4096];
        fingerprint(&t, before, sizeof before);
        struct stat st;
        assert_int_equal(stat(f->file, &st), 0);

        /* Room for part of the next record only (and less than any record). */
        limit_file_size((rlim_t)st.st_size + 2);
        char long_v[300];
        memset(long_v, 'v', sizeof long_v - 1);
        long_v[0] = '/';
        long_v[sizeof long_v - 1] = '\0';
        struct link *l = link_new(t.next_order, 0, long_v, "/b", 0, NULL);
        assert_non_null(l);
        assert_true(journal_link_added(&j, l) < 0);
        assert_true(j.stale);
        assert_false(j.broken);
        assert_true(journal_link_removed(&j, a) < 0);
        link_free(l);
        /* Nothing of either is in the file: it holds whole records only. */
        struct stat after;
        assert_int_equal(stat(f->file, &after), 0);
        assert_int_equal(after.st_size, st.st_size);

        /* Room again: the journal catches up with the table (here: as it was). */
        limit_file_size(RLIM_INFINITY);
        assert_int_equal(journal_catch_up(&j, &t), 0);
        assert_false(j.stale);
        journal_close(&j);
        link_table_done(&t);
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        char got[4096];
        fingerprint(&t, got, sizeof got);
        assert_string_equal(got, before);
        journal_close(&j);
        link_table_done(&t);
        signal(SIGXFSZ, SIG_DFL);
}

static void test_s4_journal_opens_on_a_full_disk(void **state)
{
        struct fixture *f = *state;
        char want[4096], got[4096];
        write_sample_journal(f, want, sizeof want);
        /* A record cut short by a crash at the end, and no room to compact. */
        append_raw(f->file, "L 99 0 /x");
        struct stat st;
        assert_int_equal(stat(f->file, &st), 0);
        signal(SIGXFSZ, SIG_IGN);
        limit_file_size(16);

        struct journal j;
        struct link_table t;
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        assert_true(j.compact_error < 0);
        assert_true(j.stale);
        fingerprint(&t, got, sizeof got);
        assert_string_equal(got, want);
        /* The cut record is gone from the file, so a later one starts a line. */
        struct stat opened;
        assert_int_equal(stat(f->file, &opened), 0);
        assert_int_equal(opened.st_size, st.st_size - (off_t)strlen("L 99 0 /x"));
        limit_file_size(RLIM_INFINITY);
        struct link *l = add_link(&j, &t, 0, "/later", "/b", 0, NULL);
        show_link(&j, l, BINDLINK_REALIZED_BIND, 9, PROBE_DIRECTORY);
        fingerprint(&t, want, sizeof want);
        journal_close(&j);
        link_table_done(&t);
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), 0);
        fingerprint(&t, got, sizeof got);
        assert_string_equal(got, want);
        journal_close(&j);
        link_table_done(&t);
        signal(SIGXFSZ, SIG_DFL);
}

/* ---- overlay records (overlay_record.c) ---------------------------------------- */

/* S4: an overlay's record, written and read back, is the same overlay: every field,
 * names that need escaping, a merged or shadow view, grafts. */
static void test_s4_overlay_record_round_trip(void **state)
{
        (void)state;
        char *names[] = {(char *)"plain", (char *)"with space", (char *)"new\nline"};
        char kinds[] = {'d', 'f', 'h'};
        uint64_t grafts[] = {41, 42};
        struct overlay_record views[] = {
                {.dir = (char *)"/srv/p q", .pid = 123, .start_time = 456, .mount_id = 789,
                 .count = 3, .names = names, .kinds = kinds, .graft_ids = grafts,
                 .graft_count = 2},
                {.dir = (char *)"/srv/v", .pid = 1, .start_time = 2, .mount_id = 3,
                 .view = RECORD_MERGED_RO},
                {.dir = (char *)"/srv/s", .pid = 1, .start_time = 2, .mount_id = 4,
                 .view = RECORD_MERGED_RW, .shadow = 1, .graft_ids = grafts, .graft_count = 1},
        };
        for (size_t v = 0; v < sizeof views / sizeof views[0]; v++) {
                const struct overlay_record *want = &views[v];
                char *line = NULL;
                assert_int_equal(overlay_record_format(want, &line), 0);
                size_t len = strlen(line);
                assert_true(len > 0 && line[len - 1] == '\n');
                assert_null(memchr(line, '\n', len - 1)); /* one line */
                line[len - 1] = '\0';
                struct overlay_record got;
                assert_int_equal(overlay_record_parse(line, &got), 0);
                assert_string_equal(got.dir, want->dir);
                assert_int_equal(got.pid, want->pid);
                assert_int_equal(got.start_time, want->start_time);
                assert_int_equal(got.mount_id, want->mount_id);
                assert_int_equal(got.view, want->view);
                assert_int_equal(got.shadow, want->shadow);
                assert_int_equal(got.count, want->count);
                for (size_t i = 0; i < want->count; i++) {
                        assert_string_equal(got.names[i], want->names[i]);
                        assert_int_equal(got.kinds[i], want->kinds[i]);
                }
                assert_int_equal(got.graft_count, want->graft_count);
                for (size_t i = 0; i < want->graft_count; i++)
                        assert_int_equal(got.graft_ids[i], want->graft_ids[i]);
                overlay_record_done(&got);
                free(line);
        }
        char *stop = NULL, *dir = NULL;
        uint64_t mount_id = 0;
        assert_int_equal(overlay_record_format_stop("/srv/p q", 789, &stop), 0);
        assert_string_equal(stop, "X /srv/p\\040q 789\n");
        stop[strlen(stop) - 1] = '\0';
        assert_int_equal(overlay_record_parse_stop(stop, &dir, &mount_id), 0);
        assert_string_equal(dir, "/srv/p q");
        assert_int_equal(mount_id, 789);
        free(dir);
        free(stop);
}

/* S4: a record with any field wrong is refused whole (the old reader took numbers
 * with strtoul and skipped what it did not know). */
static void test_s4_overlay_record_malformed_refused(void **state)
{
        (void)state;
        static const char *bad[] = {
                "",
                "O",
                "O /d 1 2 3",                  /* no count */
                "O /d x 2 3 0",                /* pid not a number */
                "O /d 1 2 3x 0",               /* mount id with junk */
                "O /d 1 2 3 2 dname",          /* fewer entries than counted */
                "O /d 1 2 3 1 xname",          /* a kind that is not d, f or h */
                "O /d 1 2 3 0 merged=maybe",   /* a view that is not rw or ro */
                "O /d 1 2 3 0 g=1,x",          /* a graft id that is not a number */
                "O /d 1 2 3 0 g=1 merged=rw",  /* the view after the grafts */
                "O /d 1 2 3 0 extra",          /* anything else after the entries */
                "O /d\\999 1 2 3 0",           /* a bad escape */
                "O /d 99999999999 2 3 0",      /* a pid past int */
                "X /d 1",                      /* an X is no O */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct overlay_record r;
                if (overlay_record_parse(bad[i], &r) != -EINVAL)
                        fail_msg("accepted: \"%s\"", bad[i]);
        }
        char *dir;
        uint64_t id;
        assert_int_equal(overlay_record_parse_stop("X /d", &dir, &id), -EINVAL);
        assert_int_equal(overlay_record_parse_stop("X /d 1 2", &dir, &id), -EINVAL);
        assert_int_equal(overlay_record_parse_stop("X /d -1", &dir, &id), -EINVAL);
        assert_int_equal(overlay_record_parse_stop("O /d 1", &dir, &id), -EINVAL);
}

/* S4: the journal keeps the overlays in force: a later record of the same directory
 * and mount replaces the earlier one, an X ends it; a malformed one is skipped (and
 * said: EBADMSG), the others kept. */
static void test_s4_journal_keeps_the_overlays_in_force(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(mkdir(f->state_dir, 0755), 0);
        FILE *out = fopen(f->file, "w");
        assert_non_null(out);
        fputs("O /a 10 1 100 1 dold\n"
              "O /a 10 1 100 1 dnew\n" /* its entries changed in place */
              "O /b 11 1 200 0 merged=rw\n"
              "O /c 12 1 300 0\n"
              "X /c 300\n"
              "X /b 999\n" /* another mount of /b: nothing */
              "O /d 13 1 400 1 q\n", /* malformed */
              out);
        assert_int_equal(fclose(out), 0);
        struct journal j;
        struct link_table t;
        link_table_init(&t);
        assert_int_equal(journal_open(&j, f->state_dir, &t), -EBADMSG);
        struct overlay_record *recs;
        size_t n;
        journal_take_overlays(&j, &recs, &n);
        assert_int_equal(n, 2);
        assert_string_equal(recs[0].dir, "/a");
        assert_int_equal(recs[0].count, 1);
        assert_string_equal(recs[0].names[0], "new");
        assert_string_equal(recs[1].dir, "/b");
        assert_int_equal(recs[1].view, RECORD_MERGED_RW);
        for (size_t i = 0; i < n; i++)
                overlay_record_done(&recs[i]);
        free(recs);
        journal_take_overlays(&j, &recs, &n);
        assert_int_equal(n, 0);
        journal_close(&j);
        link_table_done(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s10_named_and_repointed_backing_records),
                cmocka_unit_test(test_s4_escape_exact_form),
                cmocka_unit_test(test_s4_escape_round_trip),
                cmocka_unit_test(test_s4_unescape_accepts_octal),
                cmocka_unit_test(test_s4_unescape_rejects_bad_escapes),
                cmocka_unit_test(test_s4_unescape_rejects_nul),
                cmocka_unit_test(test_s4_link_record_builds_link),
                cmocka_unit_test(test_s2_creator_record_sets_whose_rights_count),
                cmocka_unit_test(test_s16_link_records_kept_in_creation_order),
                cmocka_unit_test(test_s4_shown_record_sets_realization),
                cmocka_unit_test(test_s4_remove_record_removes),
                cmocka_unit_test(test_s4_malformed_records_change_nothing),
                cmocka_unit_test(test_s4_exception_count_limits),
                cmocka_unit_test(test_s4_overlay_record_round_trip),
                cmocka_unit_test(test_s4_overlay_record_malformed_refused),
                cmocka_unit_test_setup_teardown(test_s4_journal_keeps_the_overlays_in_force,
                                                setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_s4_open_empty_dir, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_s4_links_reload_in_order, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_s4_record_without_newline_ignored, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_s4_whole_record_without_newline_ignored,
                                                setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_s4_malformed_line_skipped_is_ebadmsg,
                                                setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_s4_compaction_keeps_file_small, setup_dir,
                                                teardown_dir),
                cmocka_unit_test_setup_teardown(test_s4_record_that_does_not_fit_is_taken_back,
                                                setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_s4_journal_opens_on_a_full_disk, setup_dir,
                                                teardown_dir),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
