/* test_peer_auth.c — unit tests of the pure parts of daemon/server/peer_auth.c: who may change
 * links (S2's first row), decided per message from the sender's facts, and the parsers
 * of /proc/PID/status and /proc/PID/auxv those facts come from. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_auth.h"

/* ---- peer_status_parse ---------------------------------------------------------- */

static const char status_text[] =
        "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1234\nPid:\t1234\n"
        "Uid:\t1000\t0\t0\t1000\nGid:\t100\t100\t100\t100\nFDSize:\t64\n"
        "Groups:\t4 24 27 4242 \nNStgid:\t1234\nCapEff:\t0000000000000000\n";

static void test_s2_status_gives_every_id_and_group(void **state)
{
        (void)state;
        struct peer_status st;
        assert_int_equal(peer_status_parse(status_text, &st), 0);
        assert_int_equal(st.uids[0], 1000);
        assert_int_equal(st.uids[1], 0);
        assert_int_equal(st.uids[2], 0);
        assert_int_equal(st.uids[3], 1000);
        for (int i = 0; i < 4; i++)
                assert_int_equal(st.gids[i], 100);
        assert_int_equal(st.group_count, 4);
        assert_int_equal(st.groups[3], 4242);
        free(st.groups);
}

static void test_s2_status_without_groups(void **state)
{
        (void)state;
        struct peer_status st;
        assert_int_equal(peer_status_parse("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n",
                                           &st),
                         0);
        assert_int_equal(st.group_count, 0);
        free(st.groups);
}

static void test_s2_status_garbled_is_refused(void **state)
{
        (void)state;
        struct peer_status st;
        /* a line missing, three ids instead of four, letters, an id past 32 bits, a key
         * that is not at the start of a line */
        assert_int_equal(peer_status_parse("Uid:\t0\t0\t0\t0\nGroups:\t\n", &st), -EINVAL);
        assert_int_equal(peer_status_parse("Uid:\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\n", &st),
                         -EINVAL);
        assert_int_equal(peer_status_parse("Uid:\tx\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\n", &st),
                         -EINVAL);
        assert_int_equal(peer_status_parse("Uid:\t4294967296\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
                                           "Groups:\n",
                                           &st),
                         -EINVAL);
        assert_int_equal(peer_status_parse("XUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\n", &st),
                         -EINVAL);
        assert_int_equal(peer_status_parse("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t1 z\n",
                                           &st),
                         -EINVAL);
        assert_int_equal(peer_status_parse("", &st), -EINVAL);
}

/* ---- peer_auxv_secure ------------------------------------------------------------- */

static size_t put_auxv(uint64_t *v, const uint64_t *pairs, size_t n)
{
        memcpy(v, pairs, n * 2 * sizeof *v);
        return n * 2 * sizeof *v;
}

static void test_s2_auxv_secure_flag(void **state)
{
        (void)state;
        uint64_t v[16];
        const uint64_t secure[][2] = {{AT_PAGESZ, 4096}, {AT_SECURE, 1}, {AT_NULL, 0}};
        const uint64_t plain[][2] = {{AT_UID, 0}, {AT_SECURE, 0}, {AT_NULL, 0}};
        const uint64_t absent[][2] = {{AT_UID, 0}, {AT_NULL, 0}, {AT_SECURE, 1}};
        assert_int_equal(peer_auxv_secure(v, put_auxv(v, secure[0], 3)), 1);
        assert_int_equal(peer_auxv_secure(v, put_auxv(v, plain[0], 3)), 0);
        /* after AT_NULL nothing counts */
        assert_int_equal(peer_auxv_secure(v, put_auxv(v, absent[0], 3)), -1);
        /* cut short in the middle of a pair */
        size_t len = put_auxv(v, secure[0], 2);
        assert_int_equal(peer_auxv_secure(v, len - 1), -1);
        assert_int_equal(peer_auxv_secure(v, 0), -1);
}

/* ---- peer_decide ------------------------------------------------------------------- */

static const gid_t member_groups[] = {24, 4242};

/* A sender as it is most of the time: uid/gid throughout, our user namespace, a
 * plain exec. */
static struct peer_facts facts(uid_t uid, gid_t gid, bool sys_admin)
{
        struct peer_facts f = {.sent_uid = uid, .sent_gid = gid, .known = true,
                               .sys_admin = sys_admin, .same_user_ns = true,
                               .secure_exec = 0};
        for (int i = 0; i < 4; i++) {
                f.uids[i] = uid;
                f.gids[i] = gid;
        }
        if (sys_admin)
                f.dac_caps = CREDS_DAC_OVERRIDE | CREDS_DAC_READ_SEARCH;
        return f;
}

static bool allowed(const struct peer_facts *f, gid_t group, struct caller *c)
{
        assert_int_equal(peer_decide(f, group, c), 0);
        bool may = c->may_change_links;
        if (!may)
                assert_true(c->why_not[0] != '\0');
        return may;
}

static void test_s2_root_with_caps_is_an_administrator(void **state)
{
        (void)state;
        struct peer_facts f = facts(0, 0, true);
        struct caller c;
        assert_true(allowed(&f, (gid_t)-1, &c));
        assert_true(c.creds.privileged);
        caller_done(&c);
        /* a setuid-root program run by root is still root through and through */
        f.secure_exec = 1;
        assert_true(allowed(&f, (gid_t)-1, &c));
        caller_done(&c);
}

static void test_s2_root_without_caps_is_refused(void **state)
{
        (void)state;
        /* setpriv --bounding-set=-all: uid 0, no capability in effect */
        struct peer_facts f = facts(0, 0, false);
        struct caller c;
        assert_false(allowed(&f, (gid_t)-1, &c));
        caller_done(&c);
}

static void test_s2_caps_in_a_user_namespace_of_its_own_do_not_count(void **state)
{
        (void)state;
        /* unshare -U -r: every capability, but over its own namespace */
        struct peer_facts f = facts(1235, 1235, true);
        f.same_user_ns = false;
        struct caller c;
        assert_false(allowed(&f, (gid_t)-1, &c));
        assert_non_null(strstr(c.why_not, "user namespace"));
        caller_done(&c);
        /* also as uid 0 inside it, seen as its own uid here */
        f = facts(0, 0, true);
        f.same_user_ns = false;
        assert_false(allowed(&f, (gid_t)-1, &c));
        caller_done(&c);
}

static void test_s2_setuid_program_after_sending_lends_nothing(void **state)
{
        (void)state;
        /* Sent as 1000, then exec'd a setuid-root program: euid and saved uid 0, full
         * capabilities now. */
        struct peer_facts f = facts(1000, 1000, true);
        f.uids[1] = f.uids[2] = 0;
        f.secure_exec = 1;
        struct caller c;
        assert_false(allowed(&f, (gid_t)-1, &c));
        assert_non_null(strstr(c.why_not, "setuid"));
        caller_done(&c);
        /* ... even once it set all its uids to 0 */
        for (int i = 0; i < 4; i++)
                f.uids[i] = 0;
        assert_false(allowed(&f, (gid_t)-1, &c));
        caller_done(&c);
        /* a setgid program */
        f = facts(1000, 1000, false);
        f.gids[1] = 42;
        assert_false(allowed(&f, 1000, &c));
        caller_done(&c);
}

static void test_s2_file_capabilities_lend_nothing(void **state)
{
        (void)state;
        /* A program with cap_sys_admin+ep run by 1000 after sending. */
        struct peer_facts f = facts(1000, 1000, true);
        f.secure_exec = 1;
        struct caller c;
        assert_false(allowed(&f, (gid_t)-1, &c));
        assert_non_null(strstr(c.why_not, "file capabilities"));
        caller_done(&c);
        /* What cannot be read counts as lent. */
        f.secure_exec = -1;
        assert_false(allowed(&f, (gid_t)-1, &c));
        caller_done(&c);
}

static void test_s2_ambient_sys_admin_of_a_user_counts(void **state)
{
        (void)state;
        /* A service run as 1000 with AmbientCapabilities=CAP_SYS_ADMIN. */
        struct peer_facts f = facts(1000, 1000, true);
        f.dac_caps = 0;
        struct caller c;
        assert_true(allowed(&f, (gid_t)-1, &c));
        /* its paths are looked up with its own rights */
        assert_false(c.creds.privileged);
        assert_int_equal(c.creds.uid, 1000);
        caller_done(&c);
}

static void test_s2_unknown_sender_is_refused(void **state)
{
        (void)state;
        struct peer_facts f = facts(0, 0, true);
        f.known = false;
        struct caller c;
        assert_false(allowed(&f, 0, &c));
        caller_done(&c);
}

static void test_s2_allowed_group_member(void **state)
{
        (void)state;
        struct peer_facts f = facts(65534, 65534, false);
        f.groups = member_groups;
        f.group_count = 2;
        struct caller c;
        assert_true(allowed(&f, 4242, &c));
        assert_false(c.creds.privileged);
        assert_int_equal(c.creds.group_count, 2);
        assert_int_equal(c.creds.groups[1], 4242);
        caller_done(&c);
        /* the primary group counts too */
        f = facts(65534, 4242, false);
        assert_true(allowed(&f, 4242, &c));
        caller_done(&c);
        /* not a member; no group configured */
        f = facts(65534, 65534, false);
        assert_false(allowed(&f, 4242, &c));
        caller_done(&c);
        f.groups = member_groups;
        f.group_count = 2;
        assert_false(allowed(&f, (gid_t)-1, &c));
        caller_done(&c);
        /* a member running a setgid program */
        f.secure_exec = 1;
        assert_false(allowed(&f, 4242, &c));
        caller_done(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_s2_status_gives_every_id_and_group),
                cmocka_unit_test(test_s2_status_without_groups),
                cmocka_unit_test(test_s2_status_garbled_is_refused),
                cmocka_unit_test(test_s2_auxv_secure_flag),
                cmocka_unit_test(test_s2_root_with_caps_is_an_administrator),
                cmocka_unit_test(test_s2_root_without_caps_is_refused),
                cmocka_unit_test(test_s2_caps_in_a_user_namespace_of_its_own_do_not_count),
                cmocka_unit_test(test_s2_setuid_program_after_sending_lends_nothing),
                cmocka_unit_test(test_s2_file_capabilities_lend_nothing),
                cmocka_unit_test(test_s2_ambient_sys_admin_of_a_user_counts),
                cmocka_unit_test(test_s2_unknown_sender_is_refused),
                cmocka_unit_test(test_s2_allowed_group_member),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
