/* mutate_edit.h -- what the three parts of the mutator share (private to
 * csrc/mutate*.c; the API is jp_mutate, declared in jobpack.h): the buffer
 * being edited, its random numbers, bounds-checked splices, and each
 * part's entry point.
 *
 *   mutate.c       jp_mutate, the pack's header and sections, byte edits
 *   mutate_json.c  JSON token by token, in the master's dialect
 *   mutate_zip.c   the job home's ZIP entries and central directory
 */
#ifndef JOBPACK_MUTATE_EDIT_H
#define JOBPACK_MUTATE_EDIT_H

#include <string.h>
#include "jobpack.h"

/* The buffer being edited: out[0, len) of out[0, cap), and the random state. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
    uint64_t rng;
} mbuf;

/* splitmix64: small, seedable, good enough to pick edits. */
static inline uint64_t rnd(mbuf *m)
{
    uint64_t z = (m->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A number in [0, n), 0 when n is 0. */
static inline size_t below(mbuf *m, size_t n)
{
    return n ? (size_t)(rnd(m) % n) : 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static inline uint32_t rd_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void wr_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t rd_le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    while (n-- > 0)
        v = (v << 8) | p[n];
    return v;
}

static inline void wr_le(uint8_t *p, int n, uint32_t v)
{
    int i;
    for (i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Replace [at, at + del) by ins_len bytes: copied from ins, or left for
 * the caller to fill when ins is NULL.  0 (nothing changed) if it does not
 * fit in the capacity or the range is outside the buffer. */
static inline int splice(mbuf *m, size_t at, size_t del, const void *ins, size_t ins_len)
{
    if (at > m->len || del > m->len - at)
        return 0;
    if (ins_len > del && ins_len - del > m->cap - m->len)
        return 0;
    memmove(m->p + at + ins_len, m->p + at + del, m->len - at - del);
    if (ins != NULL && ins_len)
        memcpy(m->p + at, ins, ins_len);
    m->len = m->len - del + ins_len;
    return 1;
}

static inline int splice_str(mbuf *m, size_t at, size_t del, const char *s)
{
    return splice(m, at, del, s, strlen(s));
}

/* Insert n copies of byte c at at. */
static inline int splice_run(mbuf *m, size_t at, size_t del, uint8_t c, size_t n)
{
    if (!splice(m, at, del, NULL, n))
        return 0;
    memset(m->p + at, c, n);
    return 1;
}

/* Insert a copy of [src, src + n) at at (the source may straddle at). */
static inline int copy_within(mbuf *m, size_t at, size_t src, size_t n)
{
    size_t first;

    if (src > m->len || n > m->len - src || !splice(m, at, 0, NULL, n))
        return 0;
    if (src + n <= at) {
        memmove(m->p + at, m->p + src, n);
    } else if (src >= at) {
        memmove(m->p + at, m->p + src + n, n);
    } else {            /* [src, at) stayed, [at, src + n) moved up by n */
        first = at - src;
        memmove(m->p + at, m->p + src, first);
        memmove(m->p + at + first, m->p + at + n, n - first);
    }
    return 1;
}

/* One edit of the region [start, *end) of m; *end follows the length
 * change.  The JSON and ZIP editors fall back on byte edits when they find
 * nothing to edit. */
void jpm_mutate_bytes(mbuf *m, size_t start, size_t *end);
void jpm_mutate_json(mbuf *m, size_t start, size_t *end);
void jpm_mutate_zip(mbuf *m, size_t start, size_t *end);

/* Does the text start (after whitespace) like a JSON value? */
int jpm_looks_like_json(const uint8_t *p, size_t len);

#endif
