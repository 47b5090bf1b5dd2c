/* list_table.h — what `bindlinkctl list` prints: the columns an admin picks with -o,
 * as a table (libsmartcols, as findmnt), raw, or JSON. */
#ifndef BINDLINK_LIST_TABLE_H
#define BINDLINK_LIST_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "bindlink.h"

enum list_column {
        LIST_ORDER,
        LIST_REALIZATION,
        LIST_FLAGS,
        LIST_VIRTUAL,
        LIST_BACKING,
        LIST_EXCEPTIONS,
        LIST_SCOPE,
        LIST_WATCH,
        LIST_COLUMN_COUNT,
};

enum list_format {
        LIST_TABLE, /* aligned, with a header unless noheadings */
        LIST_RAW,   /* one space between cells, unsafe bytes as \xHH */
        LIST_JSON,  /* {"bindlinks": [...]} */
};

struct list_options {
        enum list_column columns[LIST_COLUMN_COUNT * 2]; /* a column may be named twice */
        size_t column_count;
        enum list_format format;
        bool noheadings;
        bool scoped;        /* the links carry their mount namespace (SCOPE) */
        const char *filter; /* only links whose virtual path is this or below it */
};

/* Does o show a column whose value the daemon says only when asked (WATCH)? */
bool list_wants_watch(const struct list_options *o);
/* Parse -o's argument into o->columns: "COL,COL" replaces the defaults, "+COL,COL"
 * adds to them. 0, or -EINVAL with *ret_bad the name that is not a column. */
int list_parse_columns(struct list_options *o, const char *arg, const char **ret_bad);
/* The default columns (SCOPE too when scoped), unless -o named some. */
void list_default_columns(struct list_options *o);
/* The columns and what each shows, for --help. */
void list_print_column_help(FILE *out);
/* s as a JSON string: bytes that are not UTF-8 as \udcXX (surrogateescape). */
void list_json_string(const char *s);
/* Print the links o selects. The number printed (0 or more), or a negative errno. */
int list_print(const bindlink_links *links, const struct list_options *o);

#endif
