/* fuzz_config.c — libFuzzer target for the boot configuration parser
 * (daemon/config/config.c: /etc/bindlink/links.conf, S22).
 *
 * Input: configuration text; each line (newline kept, as getline gives it to the
 * daemon) goes to config_parse_line. Checked: 0 exactly for blank and comment lines;
 * a refusal says why; an accepted entry has absolute paths, known flags and at most
 * BINDLINK_MAX_EXCEPTIONS exceptions, and written back as a line (paths escaped, the
 * options spelled out) it parses to the same entry. config_entry_free releases it all
 * (LeakSanitizer watches). */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>

#include "config.h"
#include "fuzz.h"
#include "journal.h"

#define MAX_LINES 32

static bool blank_or_comment(const char *line)
{
        while (isspace((unsigned char)*line))
                line++;
        return *line == '\0' || *line == '#';
}

static void append(char **out, size_t *len, size_t *cap, const char *s)
{
        size_t n = strlen(s);
        if (*len + n + 1 > *cap) {
                *cap = (*len + n + 1) * 2;
                *out = realloc(*out, *cap);
                CHECK(*out != NULL);
        }
        memcpy(*out + *len, s, n + 1);
        *len += n;
}

static void append_path(char **out, size_t *len, size_t *cap, const char *prefix, const char *path)
{
        char *e = NULL;
        CHECK(journal_escape(path, &e) == 0);
        append(out, len, cap, prefix);
        append(out, len, cap, e);
        free(e);
}

/* The entry as a links.conf line, with the separators and options varied a little. */
static char *format_entry(const struct config_entry *e)
{
        char *out = NULL;
        size_t len = 0, cap = 0;
        append_path(&out, &len, &cap, "  ", e->virtual_path);
        append_path(&out, &len, &cap, "\t", e->backing_path);
        if (e->flags & CREATE_BIND_LINK_FLAG_MERGED)
                append(&out, &len, &cap, " merged");
        if (e->flags & CREATE_BIND_LINK_FLAG_READ_ONLY)
                append(&out, &len, &cap, " read-only");
        for (uint32_t i = 0; i < e->exception_count; i++)
                append_path(&out, &len, &cap, " exception=", e->exception_paths[i]);
        append(&out, &len, &cap, "\n");
        return out;
}

static void check_entry(const struct config_entry *e)
{
        CHECK(e->virtual_path && e->virtual_path[0] == '/');
        CHECK(e->backing_path && e->backing_path[0] == '/');
        CHECK((e->flags &
               ~(uint32_t)(CREATE_BIND_LINK_FLAG_READ_ONLY | CREATE_BIND_LINK_FLAG_MERGED)) == 0);
        CHECK(e->exception_count <= BINDLINK_MAX_EXCEPTIONS);
        for (uint32_t i = 0; i < e->exception_count; i++)
                CHECK(e->exception_paths[i] && e->exception_paths[i][0] == '/');
}

static void check_same(const struct config_entry *a, const struct config_entry *b)
{
        CHECK_STR_EQ(a->virtual_path, b->virtual_path);
        CHECK_STR_EQ(a->backing_path, b->backing_path);
        CHECK(a->flags == b->flags && a->exception_count == b->exception_count);
        for (uint32_t i = 0; i < a->exception_count; i++)
                CHECK_STR_EQ(a->exception_paths[i], b->exception_paths[i]);
}

static void fuzz_line(const char *line)
{
        struct config_entry e;
        const char *reason = NULL;
        int r = config_parse_line(line, &e, &reason);
        CHECK(r == 1 || r == 0 || r == -EINVAL);
        CHECK((r == 0) == blank_or_comment(line));
        if (r < 0) {
                CHECK(reason && *reason);
                return;
        }
        if (r == 0)
                return;
        check_entry(&e);
        char *again_line = format_entry(&e);
        struct config_entry again;
        CHECK(config_parse_line(again_line, &again, &reason) == 1);
        check_same(&e, &again);
        config_entry_free(&again);
        free(again_line);
        config_entry_free(&e);
        /* Freed entries are empty: a second free is harmless. */
        CHECK(e.virtual_path == NULL && e.exception_count == 0);
        config_entry_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t at = 0;
        char *piece;
        for (int n = 0; n < MAX_LINES && (piece = fuzz_next_piece(data, size, &at, '\n')); n++) {
                /* getline hands the daemon each line with its newline. */
                size_t len = strlen(piece);
                char *line = malloc(len + 2);
                CHECK(line != NULL);
                memcpy(line, piece, len);
                line[len] = at <= size ? '\n' : '\0'; /* the last line may lack one */
                line[len + 1] = '\0';
                fuzz_line(line);
                free(line);
                free(piece);
        }
        return 0;
}
