/* fuzz_check.h -- the one assertion macro of the C fuzz targets.
 * A failed CHECK prints where and why, then aborts, so libFuzzer and the
 * gcc replay both record it as a crash with the input that caused it. */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,          \
                    __LINE__, #cond);                                       \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* A copy of [p, p + n) in a block of exactly n bytes (at least 1), so that
 * AddressSanitizer catches a read one byte past the end. */
static inline unsigned char *fuzz_dup(const unsigned char *p, size_t n)
{
    unsigned char *q = (unsigned char *)malloc(n ? n : 1);
    size_t i;

    CHECK(q != NULL);
    for (i = 0; i < n; i++)
        q[i] = p[i];
    return q;
}

#endif
