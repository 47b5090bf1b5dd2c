/* list_table.c — `bindlinkctl list` output, as util-linux's tools print theirs: a
 * header and aligned columns chosen with -o, raw cells with unsafe bytes escaped
 * (libsmartcols does both, as for findmnt), or JSON. JSON is written here rather than
 * by libsmartcols: paths are bytes, and libsmartcols copies bytes that are not UTF-8
 * into its JSON as they are, which is not JSON; here they become \udcXX, which
 * Python's os.fsencode turns back into the same bytes. */
#include <errno.h>
#include <inttypes.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "list_table.h"
#include "path.h"

static const struct column_info {
        const char *name;
        const char *json_key;
        double width_hint; /* libsmartcols: < 1 a share of the terminal, else characters */
        int flags;
        const char *help;
} columns[LIST_COLUMN_COUNT] = {
        [LIST_ORDER] = {"ORDER", "order", 5, SCOLS_FL_RIGHT,
                        "creation order (of two links that disagree, the later wins)"},
        [LIST_REALIZATION] = {"REALIZATION", "realization", 11, 0,
                              "bind, overlay, or none (registered, not shown now)"},
        [LIST_FLAGS] = {"FLAGS", "flags", 9, 0, "read-only, merged"},
        [LIST_VIRTUAL] = {"VIRTUAL", "virtual", 0.3, SCOLS_FL_NOEXTREMES,
                          "the virtual path, where the link shows"},
        [LIST_BACKING] = {"BACKING", "backing", 0.3, SCOLS_FL_NOEXTREMES,
                          "the backing path, what it shows"},
        [LIST_EXCEPTIONS] = {"EXCEPTIONS", "exceptions", 0.2, SCOLS_FL_NOEXTREMES,
                             "exception paths, comma-separated"},
        [LIST_SCOPE] = {"SCOPE", "scope", 10, 0,
                        "host, or the mount namespace and a process in it"},
        [LIST_WATCH] = {"WATCH", "watch", 9, 0,
                        "whether changes made directly in the view's layers show at once\n"
                        "               (watched) or within 1 s (timeout:V,B: V's original, B;\n"
                        "               unknown:V in a container); - for a bind mount"},
};

static const enum list_column default_columns[] = {LIST_ORDER,   LIST_REALIZATION, LIST_FLAGS,
                                                   LIST_VIRTUAL, LIST_BACKING,     LIST_EXCEPTIONS};

void list_default_columns(struct list_options *o)
{
        o->column_count = 0;
        for (size_t i = 0; i < sizeof default_columns / sizeof default_columns[0]; i++)
                o->columns[o->column_count++] = default_columns[i];
        if (o->scoped)
                o->columns[o->column_count++] = LIST_SCOPE;
}

int list_parse_columns(struct list_options *o, const char *arg, const char **ret_bad)
{
        static char bad[32];
        bool add = arg[0] == '+';
        if (add)
                arg++;
        else
                o->column_count = 0;
        for (const char *p = arg;;) {
                const char *end = strchrnul(p, ',');
                size_t len = (size_t)(end - p), i;
                for (i = 0; i < LIST_COLUMN_COUNT; i++)
                        if (strlen(columns[i].name) == len &&
                            strncasecmp(columns[i].name, p, len) == 0)
                                break;
                if (i == LIST_COLUMN_COUNT ||
                    o->column_count == sizeof o->columns / sizeof o->columns[0]) {
                        (void)snprintf(bad, sizeof bad, "%.*s", (int)len, p);
                        *ret_bad = bad;
                        return -EINVAL;
                }
                o->columns[o->column_count++] = (enum list_column)i;
                if (!*end)
                        return 0;
                p = end + 1;
        }
}

bool list_wants_watch(const struct list_options *o)
{
        for (size_t i = 0; i < o->column_count; i++)
                if (o->columns[i] == LIST_WATCH)
                        return true;
        return false;
}

/* The WATCH text of link i (bindlink_links_watch); NULL where bindlinkd did not say. */
static const char *watch_words(const bindlink_links *links, size_t i)
{
        int w = bindlink_links_watch(links, i);
        if (w < 0)
                return NULL;
        if (w & BINDLINK_WATCH_NO_VIEW)
                return "-";
        static const char *const words[] = {
                "watched",   "timeout:V", "timeout:B",           "timeout:V,B",
                "unknown:V", "timeout:V", "timeout:B;unknown:V", "timeout:V,B"};
        unsigned bits = (w & BINDLINK_WATCH_ORIGINAL_TIMEOUT ? 1u : 0) |
                        (w & BINDLINK_WATCH_BACKING_TIMEOUT ? 2u : 0) |
                        (w & BINDLINK_WATCH_ORIGINAL_UNKNOWN ? 4u : 0);
        return words[bits];
}

void list_print_column_help(FILE *out)
{
        for (size_t i = 0; i < LIST_COLUMN_COUNT; i++)
                fprintf(out, "  %-12s %s\n", columns[i].name, columns[i].help);
}

static bool selected(const bindlink_links *links, size_t i, const char *filter)
{
        const char *v = bindlink_links_virtual(links, i);
        return !filter || strcmp(v, filter) == 0 || path_is_strict_descendant(filter, v);
}

static const char *flag_words(uint32_t flags)
{
        return (flags & 3) == 3                          ? "read-only,merged"
               : flags & CREATE_BIND_LINK_FLAG_READ_ONLY ? "read-only"
               : flags & CREATE_BIND_LINK_FLAG_MERGED    ? "merged"
                                                         : "";
}

/* The text of one cell (a table or raw one); a malloc'd string or NULL. */
static char *cell_text(const bindlink_links *links, size_t i, enum list_column c)
{
        char *s = NULL;
        switch (c) {
        case LIST_ORDER:
                if (asprintf(&s, "%" PRIu64, bindlink_links_order(links, i)) < 0)
                        s = NULL;
                return s;
        case LIST_REALIZATION:
                return strdup(bindlink_realization_name(bindlink_links_realization(links, i)));
        case LIST_FLAGS:
                return strdup(flag_words(bindlink_links_flags(links, i)));
        case LIST_VIRTUAL:
                return strdup(bindlink_links_virtual(links, i));
        case LIST_BACKING:
                return strdup(bindlink_links_backing(links, i));
        case LIST_EXCEPTIONS: {
                size_t size = 0;
                FILE *f = open_memstream(&s, &size);
                if (!f)
                        return NULL;
                uint32_t n = bindlink_links_exception_count(links, i);
                for (uint32_t j = 0; j < n; j++)
                        fprintf(f, "%s%s", j ? "," : "", bindlink_links_exception(links, i, j));
                return fclose(f) == 0 ? s : (free(s), NULL);
        }
        case LIST_SCOPE: {
                uint64_t id = bindlink_links_scope_id(links, i);
                if (!id)
                        return strdup("host");
                if (asprintf(&s, "mntns:%" PRIu64 " pid:%d", id,
                             (int)bindlink_links_scope_pid(links, i)) < 0)
                        s = NULL;
                return s;
        }
        case LIST_WATCH: {
                const char *w = watch_words(links, i);
                return strdup(w ? w : "?");
        }
        case LIST_COLUMN_COUNT:
                break;
        }
        return NULL;
}

static int print_table(const bindlink_links *links, const struct list_options *o)
{
        struct libscols_table *tb = scols_new_table();
        if (!tb)
                return -ENOMEM;
        int r = 0;
        if (o->format == LIST_RAW)
                r = scols_table_enable_raw(tb, 1);
        if (r == 0 && o->noheadings)
                r = scols_table_enable_noheadings(tb, 1);
        for (size_t c = 0; r == 0 && c < o->column_count; c++) {
                const struct column_info *ci = &columns[o->columns[c]];
                if (!scols_table_new_column(tb, ci->name, ci->width_hint, ci->flags))
                        r = -ENOMEM;
        }
        int printed = 0;
        size_t n = bindlink_links_count(links);
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (!selected(links, i, o->filter))
                        continue;
                struct libscols_line *line = scols_table_new_line(tb, NULL);
                if (!line) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t c = 0; r == 0 && c < o->column_count; c++) {
                        char *text = cell_text(links, i, o->columns[c]);
                        /* The line takes the text (freed with the table). */
                        r = text ? scols_line_refer_data(line, c, text) : -ENOMEM;
                        if (r < 0)
                                free(text);
                }
                printed++;
        }
        /* Nothing selected, nothing printed (no lone header): as findmnt. */
        if (r == 0 && printed > 0)
                r = scols_print_table(tb);
        scols_unref_table(tb);
        return r < 0 ? (r == -1 ? -EIO : r) : printed;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *p)
{
        if (p[0] < 0x80)
                return 1;
        size_t len = p[0] >= 0xC2 && p[0] <= 0xDF   ? 2
                     : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
                     : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
                                                    : 0;
        for (size_t i = 1; i < len; i++)
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
        if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
            (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
                return 0;
        return len;
}

/* A path as a JSON string; a byte that is not part of well-formed UTF-8 is written as
 * the lone surrogate \udcXX (Python's "surrogateescape"), so every path comes out
 * distinct and can be turned back into its bytes. */
void list_json_string(const char *s)
{
        putchar('"');
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t len = utf8_length(p);
                if (len == 0)
                        printf("\\udc%02x", *p++);
                else if (*p == '"' || *p == '\\')
                        printf("\\%c", *p++);
                else if (*p < 0x20 || *p == 0x7f)
                        printf("\\u%04x", *p++);
                else {
                        (void)fwrite(p, 1, len, stdout);
                        p += len;
                }
        }
        putchar('"');
}

static void json_value(const bindlink_links *links, size_t i, enum list_column c)
{
        switch (c) {
        case LIST_ORDER:
                printf("%" PRIu64, bindlink_links_order(links, i));
                break;
        case LIST_REALIZATION:
                list_json_string(bindlink_realization_name(bindlink_links_realization(links, i)));
                break;
        case LIST_FLAGS: {
                uint32_t flags = bindlink_links_flags(links, i);
                bool ro = flags & CREATE_BIND_LINK_FLAG_READ_ONLY;
                printf("[%s%s%s]", ro ? "\"read-only\"" : "",
                       ro && (flags & CREATE_BIND_LINK_FLAG_MERGED) ? ", " : "",
                       flags & CREATE_BIND_LINK_FLAG_MERGED ? "\"merged\"" : "");
                break;
        }
        case LIST_VIRTUAL:
                list_json_string(bindlink_links_virtual(links, i));
                break;
        case LIST_BACKING:
                list_json_string(bindlink_links_backing(links, i));
                break;
        case LIST_EXCEPTIONS: {
                uint32_t n = bindlink_links_exception_count(links, i);
                putchar('[');
                for (uint32_t j = 0; j < n; j++) {
                        printf("%s", j ? ", " : "");
                        list_json_string(bindlink_links_exception(links, i, j));
                }
                putchar(']');
                break;
        }
        case LIST_SCOPE: {
                uint64_t id = bindlink_links_scope_id(links, i);
                if (id)
                        printf("{\"mntns\": %" PRIu64 ", \"pid\": %d}", id,
                               (int)bindlink_links_scope_pid(links, i));
                else
                        printf("null");
                break;
        }
        case LIST_WATCH: {
                const char *w = watch_words(links, i);
                if (w)
                        list_json_string(w);
                else
                        printf("null");
                break;
        }
        case LIST_COLUMN_COUNT:
                break;
        }
}

static int print_json(const bindlink_links *links, const struct list_options *o)
{
        int printed = 0;
        size_t n = bindlink_links_count(links);
        printf("{\"bindlinks\": [");
        for (size_t i = 0; i < n; i++) {
                if (!selected(links, i, o->filter))
                        continue;
                printf("%s\n  {", printed ? "," : "");
                for (size_t c = 0; c < o->column_count; c++) {
                        printf("%s\"%s\": ", c ? ", " : "", columns[o->columns[c]].json_key);
                        json_value(links, i, o->columns[c]);
                }
                putchar('}');
                printed++;
        }
        printf("%s]}\n", printed ? "\n" : "");
        return printed;
}

int list_print(const bindlink_links *links, const struct list_options *o)
{
        return o->format == LIST_JSON ? print_json(links, o) : print_table(links, o);
}
