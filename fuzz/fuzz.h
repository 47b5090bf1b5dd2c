/* fuzz.h — what the libFuzzer targets in fuzz/ share: a CHECK that stops the run
 * (libFuzzer then saves the input as a reproducer) and exactly sized copies of the
 * input, so that AddressSanitizer sees a read one byte past what a parser was given. */
#ifndef BINDLINK_FUZZ_H
#define BINDLINK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding like a crash: abort so libFuzzer keeps the input. */
#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
                                #cond);                                                            \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                if (strcmp(_a, _b) != 0) {                                                         \
                        fprintf(stderr,                                                            \
                                "%s:%d: invariant broken: %s == %s\n  \"%s\"\n  "                  \
                                "\"%s\"\n",                                                        \
                                __FILE__, __LINE__, #a, #b, _a, _b);                               \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* A malloc'd copy of n bytes with no slack after them (and a NUL past the end when
 * as_string, for parsers that take C strings). */
static inline uint8_t *fuzz_copy(const uint8_t *data, size_t n, int as_string)
{
        size_t size = as_string ? n + 1 : n;
        uint8_t *p = malloc(size ? size : 1);
        if (!p)
                abort();
        if (n)
                memcpy(p, data, n);
        if (as_string)
                p[n] = '\0';
        return p;
}

/* The next piece of data[*at..size) up to (not including) sep, as a malloc'd C string
 * (a NUL inside ends the string early, as it would for a C parser); NULL at the end. */
static inline char *fuzz_next_piece(const uint8_t *data, size_t size, size_t *at, uint8_t sep)
{
        if (*at >= size)
                return NULL;
        const uint8_t *start = data + *at;
        const uint8_t *end = memchr(start, sep, size - *at);
        size_t n = end ? (size_t)(end - start) : size - *at;
        *at += n + 1;
        return (char *)fuzz_copy(start, n, 1);
}

#endif
