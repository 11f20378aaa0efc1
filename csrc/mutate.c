/* mutate.c -- a structure-aware mutator for fuzzing readers of job packs:
 * jp_mutate, the pack level and byte edits (JSON: mutate_json.c, ZIP:
 * mutate_zip.c, what they share: mutate_edit.h).
 *
 * jp_mutate edits a pack at the format's own level, so a fuzzer's mutants
 * get past the first check instead of dying on it:
 *   - header: sections edited, resized, emptied, swapped or duplicated with
 *     the offsets rewritten to match, or one offset set at a boundary (equal
 *     to its neighbour, one off, past the end), the pack cut at a boundary;
 *   - JSON sections, token by token in the master's dialect (trailing
 *     commas, literals, number forms, raw control bytes and odd UTF-8 in
 *     strings, near-whitespace, keys duplicated, dropped, renamed, added,
 *     the values of known keys given another type);
 *   - the job home ZIP, entry by entry (name and extra lengths, names,
 *     modes, methods, sizes, local offsets, the central directory's counts,
 *     size and offset), consistently or not.
 * Inputs that are not a pack are recognised as a ZIP archive or a JSON text
 * (the inputs of the zip and json fuzz targets) and edited as such; anything
 * unparseable gets byte-level edits.
 *
 * Everything happens inside the caller's output buffer: no allocation, no
 * global state, and every edit checks that it fits.  The same (input, seed,
 * capacity) always gives the same output.
 */
#include "mutate_edit.h"

enum { HEADER_FIELDS = 20, MAGIC_HI = 0xd5, MAGIC_LO = 0xc0 };

static void reverse(uint8_t *p, size_t n)
{
    size_t i;
    uint8_t t;

    for (i = 0; i < n / 2; i++) {
        t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

/* ------------------------------------------------------------------ */
/* Byte level: what any input gets, and what the fallback does.         */

static const char *const interesting_bytes[] = {
    "\x00", "\xff", "\x7f", "\x80", "\x01", "{", "}", "[", "]", "\"", ",", ":", "\\",
    "PK\x05\x06", "PK\x01\x02", "PK\x03\x04", "\xd5\xc0\x00\x02", "\xd5\xc0\x00\x01",
};

static const uint32_t interesting_u32[] = {
    0, 1, 20, 127, 128, 129, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu,
    0xffffu, 0x10000u,
};

/* One byte-level edit of [start, *end); *end follows the length change. */
void jpm_mutate_bytes(mbuf *m, size_t start, size_t *end)
{
    size_t n = *end - start, before = m->len, at, k;
    const char *s;

    at = start + below(m, n + 1);
    switch (below(m, 8)) {
    case 0:     /* flip a bit */
        if (n)
            m->p[start + below(m, n)] ^= (uint8_t)(1u << below(m, 8));
        break;
    case 1:     /* a random byte */
        if (n)
            m->p[start + below(m, n)] = (uint8_t)rnd(m);
        break;
    case 2:     /* delete a run */
        k = 1 + below(m, 16);
        if (at < *end)
            splice(m, at, k < *end - at ? k : *end - at, NULL, 0);
        break;
    case 3:     /* insert a token of some format */
        s = interesting_bytes[below(m, COUNT(interesting_bytes))];
        splice(m, at, 0, s, s[0] ? strlen(s) : 1);
        break;
    case 4:     /* an interesting 32-bit value, either byte order */
        if (n >= 4) {
            uint32_t v = interesting_u32[below(m, COUNT(interesting_u32))];
            at = start + below(m, n - 3);
            if (below(m, 2))
                wr_be32(m->p + at, v);
            else
                wr_le(m->p + at, 4, v);
        }
        break;
    case 5:     /* duplicate a run */
        k = 1 + below(m, 32);
        if (at < *end)
            copy_within(m, at, at, k < *end - at ? k : *end - at);
        break;
    case 6:     /* cut the region short */
        if (at < *end)
            splice(m, at, *end - at, NULL, 0);
        break;
    default:    /* insert random bytes */
        k = 1 + below(m, 8);
        if (splice(m, at, 0, NULL, k))
            while (k-- > 0)
                m->p[at + k] = (uint8_t)rnd(m);
        break;
    }
    *end = *end + m->len - before;
}

/* ------------------------------------------------------------------ */
/* The pack: header and sections.                                      */

/* Offsets that delimit sections inside the buffer, in order. */
static int read_layout(const mbuf *m, size_t off[4])
{
    int i;

    if (m->len < HEADER_FIELDS || m->p[0] != MAGIC_HI || m->p[1] != MAGIC_LO)
        return 0;
    for (i = 0; i < 4; i++) {
        off[i] = rd_be32(m->p + 4 + 4 * i);
        if (off[i] < (i ? off[i - 1] : HEADER_FIELDS) || off[i] > m->len)
            return 0;
    }
    return 1;
}

static void write_layout(mbuf *m, const size_t off[4])
{
    int i;

    for (i = 0; i < 4; i++)
        wr_be32(m->p + 4 + 4 * i, (uint32_t)off[i]);
}

static void mutate_section(mbuf *m, int which, size_t start, size_t *end)
{
    if (which < 2 && jpm_looks_like_json(m->p + start, *end - start) && below(m, 8))
        jpm_mutate_json(m, start, end);
    else if (which == 2 && below(m, 8))
        jpm_mutate_zip(m, start, end);
    else
        jpm_mutate_bytes(m, start, end);
}

/* One pack-level edit of a pack whose offsets are in order. */
static void mutate_pack(mbuf *m, size_t off[4])
{
    size_t bounds[5], k, v, start, end, i, r;

    bounds[4] = m->len;
    memcpy(bounds, off, 4 * sizeof *off);
    r = below(m, 100);
    if (r < 55) {           /* edit a section, offsets rewritten to match */
        static const int weights[] = {0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 3};
        int which = weights[below(m, COUNT(weights))];
        start = bounds[which];
        end = bounds[which + 1];
        mutate_section(m, which, start, &end);
        for (i = (size_t)which + 1; i < 4; i++)
            off[i] = off[i] + end - bounds[which + 1];
        write_layout(m, off);
    } else if (r < 75) {    /* one offset at a boundary */
        k = below(m, 4);
        switch (below(m, 7)) {
        case 0: v = k ? off[k - 1] : 128; break;              /* equal to the previous */
        case 1: v = (k ? off[k - 1] : 128) - 1; break;        /* one below it */
        case 2: v = (k ? off[k - 1] : 128) + 1; break;
        case 3: v = k < 3 ? off[k + 1] : m->len; break;       /* equal to the next */
        case 4: v = (k < 3 ? off[k + 1] : m->len) + 1; break; /* one past it */
        case 5: v = m->len + below(m, 2); break;              /* at or past the end */
        default: v = below(m, 2) ? 0xffffffffu : 0;
        }
        wr_be32(m->p + 4 + 4 * k, (uint32_t)v);
    } else if (r < 83) {    /* magic, version, reserved bytes */
        static const uint16_t versions[] = {0, 1, 2, 3, 0xffff, 0x0100, 0x0200};
        uint16_t version = versions[below(m, COUNT(versions))];
        switch (below(m, 3)) {
        case 0:
            m->p[2] = (uint8_t)(version >> 8);
            m->p[3] = (uint8_t)version;
            break;
        case 1:
            m->p[below(m, 2)] ^= (uint8_t)(1u << below(m, 8));
            break;
        default:
            if (off[0] > HEADER_FIELDS)     /* a reserved byte, never zero */
                m->p[HEADER_FIELDS + below(m, off[0] - HEADER_FIELDS)] =
                    (uint8_t)(1 + below(m, 255));
        }
    } else if (r < 93) {    /* resize, swap or repeat whole sections */
        k = below(m, 4);
        start = bounds[k];
        end = bounds[k + 1];
        switch (below(m, 4)) {
        case 0:             /* empty it */
            splice(m, start, end - start, NULL, 0);
            break;
        case 1:             /* keep a prefix of it */
            i = start + below(m, end - start + 1);
            splice(m, i, end - i, NULL, 0);
            break;
        case 2:             /* swap it with the next one */
            if (k < 3) {
                size_t next = bounds[k + 2];
                reverse(m->p + start, end - start);
                reverse(m->p + end, next - end);
                reverse(m->p + start, next - start);
                off[k + 1] = start + (next - end);
            }
            break;
        default:            /* repeat it */
            copy_within(m, end, start, end - start);
        }
        /* the sections after k moved by the length change (unsigned
         * arithmetic wraps, so a shrink works out too) */
        for (i = k + 1; i < 4; i++)
            off[i] = off[i] + m->len - bounds[4];
        write_layout(m, off);
    } else {                /* cut the pack at a boundary, or one off it */
        v = bounds[below(m, 4)] + below(m, 3);
        v = v ? v - 1 : 0;
        if (v < m->len)
            m->len = v;
    }
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    while (n-- > 0)
        h = (h ^ *p++) * 0x100000001b3ULL;
    return h;
}

jp_status jp_mutate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                    uint64_t seed, size_t *out_len)
{
    mbuf m;
    size_t off[4], end, edits, i;
    uint64_t before;

    m.p = out;
    m.cap = out_cap;
    m.len = in_len < out_cap ? in_len : out_cap;
    m.rng = seed ^ 0x6a6f627061636b00ULL;   /* "jobpack" */
    if (m.len && in != out)
        memmove(out, in, m.len);
    before = fnv1a(m.p, m.len);
    edits = 1 + (below(&m, 4) == 0) + (below(&m, 8) == 0);
    for (i = 0; i < edits && m.cap; i++) {
        end = m.len;
        if (read_layout(&m, off) && below(&m, 16))
            mutate_pack(&m, off);
        else if (m.len >= 4 && memcmp(m.p, "PK", 2) == 0 && below(&m, 8))
            jpm_mutate_zip(&m, 0, &end);
        else if (jpm_looks_like_json(m.p, m.len) && below(&m, 8))
            jpm_mutate_json(&m, 0, &end);
        else
            jpm_mutate_bytes(&m, 0, &end);
    }
    /* An edit can come to nothing (a value replaced by itself, an offset
     * set to what it was): a fuzzer gains nothing from running it again. */
    for (i = 0; i < 4 && m.len == in_len && fnv1a(m.p, m.len) == before; i++) {
        end = m.len;
        jpm_mutate_bytes(&m, 0, &end);
    }
    *out_len = m.len;
    return JP_OK;
}
