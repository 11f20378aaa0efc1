/* mutate.c -- a structure-aware mutator for fuzzing readers of job packs.
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
#include <string.h>
#include "jobpack.h"

enum { HEADER_FIELDS = 20, MAGIC_HI = 0xd5, MAGIC_LO = 0xc0 };

/* The buffer being edited: out[0, len) of out[0, cap), and the random state. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
    uint64_t rng;
} mbuf;

/* splitmix64: small, seedable, good enough to pick edits. */
static uint64_t rnd(mbuf *m)
{
    uint64_t z = (m->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A number in [0, n), 0 when n is 0. */
static size_t below(mbuf *m, size_t n)
{
    return n ? (size_t)(rnd(m) % n) : 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t rd_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void wr_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t rd_le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    while (n-- > 0)
        v = (v << 8) | p[n];
    return v;
}

static void wr_le(uint8_t *p, int n, uint32_t v)
{
    int i;
    for (i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Replace [at, at + del) by ins_len bytes: copied from ins, or left for
 * the caller to fill when ins is NULL.  0 (nothing changed) if it does not
 * fit in the capacity or the range is outside the buffer. */
static int splice(mbuf *m, size_t at, size_t del, const void *ins, size_t ins_len)
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

static int splice_str(mbuf *m, size_t at, size_t del, const char *s)
{
    return splice(m, at, del, s, strlen(s));
}

/* Insert n copies of byte c at at. */
static int splice_run(mbuf *m, size_t at, size_t del, uint8_t c, size_t n)
{
    if (!splice(m, at, del, NULL, n))
        return 0;
    memset(m->p + at, c, n);
    return 1;
}

/* Insert a copy of [src, src + n) at at (the source may straddle at). */
static int copy_within(mbuf *m, size_t at, size_t src, size_t n)
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
static void mutate_bytes(mbuf *m, size_t start, size_t *end)
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
/* JSON, token by token.                                               */

enum {
    T_OPEN = 1, T_CLOSE = 2, T_COLON = 4, T_COMMA = 8, T_STRING = 16,
    T_KEY = 32, T_NUMBER = 64, T_WORD = 128, T_OTHER = 256,
    T_SCALAR = T_STRING | T_NUMBER | T_WORD
};

typedef struct {
    unsigned type;
    size_t start, end;
} token;

static int json_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int word_byte(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

static int number_byte(uint8_t c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
           c == 'E';
}

/* The token at or after pos (whitespace skipped); 0 at the end. */
static int lex_raw(const uint8_t *p, size_t pos, size_t end, token *t)
{
    uint8_t c;

    while (pos < end && json_ws(p[pos]))
        pos++;
    if (pos >= end)
        return 0;
    t->start = pos;
    c = p[pos++];
    if (c == '{' || c == '[') {
        t->type = T_OPEN;
    } else if (c == '}' || c == ']') {
        t->type = T_CLOSE;
    } else if (c == ':') {
        t->type = T_COLON;
    } else if (c == ',') {
        t->type = T_COMMA;
    } else if (c == '"') {
        while (pos < end && p[pos] != '"')
            pos += p[pos] == '\\' && pos + 1 < end ? 2 : 1;
        if (pos < end)
            pos++;
        t->type = T_STRING;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        while (pos < end && number_byte(p[pos]))
            pos++;
        t->type = T_NUMBER;
    } else if (word_byte(c)) {
        while (pos < end && word_byte(p[pos]))
            pos++;
        t->type = T_WORD;
    } else {
        t->type = T_OTHER;
    }
    t->end = pos;
    return 1;
}

/* lex_raw, with keys told from other strings by the colon after them. */
static int lex(const uint8_t *p, size_t pos, size_t end, token *t)
{
    token next;

    if (!lex_raw(p, pos, end, t))
        return 0;
    if (t->type == T_STRING && lex_raw(p, t->end, end, &next) && next.type == T_COLON)
        t->type = T_KEY;
    return 1;
}

/* Count the tokens of [start, end) whose type is in mask (want == SIZE_MAX),
 * or find the want-th of them.  Returns the count, or 1 when found. */
static size_t nth_token(const uint8_t *p, size_t start, size_t end, unsigned mask,
                        size_t want, token *out)
{
    size_t pos = start, count = 0;
    token t;

    while (lex(p, pos, end, &t)) {
        if (t.type & mask) {
            if (count == want) {
                *out = t;
                return 1;
            }
            count++;
        }
        pos = t.end;
    }
    return want == SIZE_MAX ? count : 0;
}

/* A random token of [start, end) whose type is in mask. */
static int pick_token(mbuf *m, size_t start, size_t end, unsigned mask, token *out)
{
    size_t n = nth_token(m->p, start, end, mask, SIZE_MAX, out);
    return n && nth_token(m->p, start, end, mask, below(m, n), out);
}

/* The value after a key: [*vstart, *vend), and the token that ends the
 * member (a comma or a close at the key's depth, type 0 at the end). */
static int member_value(const uint8_t *p, size_t key_end, size_t end,
                        size_t *vstart, size_t *vend, token *stop)
{
    token t;
    size_t pos = key_end, depth = 0;
    int first = 1;

    if (!lex(p, pos, end, &t) || t.type != T_COLON)
        return 0;
    pos = t.end;
    *vstart = *vend = pos;
    stop->type = 0;
    stop->start = stop->end = end;
    while (lex(p, pos, end, &t)) {
        if (depth == 0 && (t.type & (T_COMMA | T_CLOSE))) {
            *stop = t;
            break;
        }
        if (t.type == T_OPEN)
            depth++;
        else if (t.type == T_CLOSE)
            depth--;
        if (first)
            *vstart = t.start;
        first = 0;
        *vend = t.end;
        pos = t.end;
    }
    return 1;
}

/* The end of the container that opens at open (the end of the text if it
 * is never closed). */
static size_t container_end(const uint8_t *p, size_t open, size_t end)
{
    token t;
    size_t pos = open, depth = 0;

    while (lex_raw(p, pos, end, &t)) {
        pos = t.end;
        if (t.type == T_OPEN)
            depth++;
        else if (t.type == T_CLOSE && --depth == 0)
            break;
    }
    return pos;
}

static const char *const known_keys[] = {
    "prefix", "worker", "owner", "save_results", "save_info", "scheduler",
    "nr_reduces", "map?", "reduce?", "reduce_shuffle?", "input", "inputs",
    "pipeline", "max_cores", "force_local", "force_remote", "PYTHONPATH",
};

/* Values of every type the master's rules tell apart. */
static const char *const values[] = {
    "0", "1", "-1", "2", "1.5", "1e400", "2147483648", "true", "false", "null",
    "\"\"", "\"x\"", "\"a/b\"", "\"a.b\"", "\"ddfs\"", "\"hdfs\"", "\"ddf\"",
    "\"hdfs://n/p\"", "\"job/worker.py\"", "\"../w\"", "\"/w\"", "\"\\u00e9\"",
    "[]", "{}", "[1]", "[\"x\"]", "[195,169]", "[233]", "[104,100,102,115]",
    "[\"http://a/b\"]", "[[\"http://a\",\"http://b\"]]", "[1,\"x\"]",
    "[[0,0,[\"http://a\"]]]", "[[0,0,[]]]", "[[0,0]]", "[[\"0\",0,[]]]",
    "[[\"a\",\"split\",false]]", "[[\"a\",\"split\"]]", "[[\"a\",\"bogus\",false]]",
    "[[\"a\",\"group_label\",true],[\"b\",\"group_node_label\",false]]",
    "[[\"a\",\"split\",false],[\"a\",\"group_all\",true]]", "[[1,\"split\",false]]",
    "[[\"a\",\"split\",1]]", "{\"max_cores\":1}", "{\"force_local\":true}",
    "\"scheduler\"", "{\"max_cores\":null,\"force_remote\":false}",
};

static const char *const literals[] = {
    "true", "false", "null", "True", "nul", "NaN", "Infinity", "-Infinity",
    "tru", "nulll", "undefined",
};

static const char *const numbers[] = {
    "0", "-0", "0.0", "1e400", "1e-400", "-1e400", "1e308", "2e308", "01", "+1",
    ".5", "5.", "1E2", "1.0e+2", "-", "2147483648", "4294967296",
    "18446744073709551616", "0x10", "1e", "1.e5", "-01", "00",
};

/* Inside strings: raw control bytes, odd UTF-8, every escape form. */
static const struct {
    const char *bytes;
    size_t len;
} string_bits[] = {
    {"\x00", 1}, {"\x01", 1}, {"\x1f", 1}, {"\x7f", 1}, {"\t", 1}, {"\n", 1},
    {"\xed\xa0\x80", 3}, {"\xed\xbf\xbf", 3}, {"\xf4\x90\x80\x80", 4},
    {"\xe0\x80\x80", 3}, {"\xc0\x80", 2}, {"\xc1\xbf", 2}, {"\xf0\x80\x80\x80", 4},
    {"\xff", 1}, {"\x80", 1}, {"\xc3", 1}, {"\xe2\x82", 2}, {"\xf0\x9f\x98", 3},
    {"\xf0\x9f\x98\x80", 4}, {"\xc3\xa9", 2}, {"\xef\xbf\xbe", 3}, {"\xf8\x88\x80\x80\x80", 5},
    {"\\ud800", 6}, {"\\udc00", 6}, {"\\ud800\\udc00", 12}, {"\\ufffe", 6},
    {"\\uffff", 6}, {"\\u00e9", 6}, {"\\u0000", 6}, {"\\u12", 4}, {"\\u+041", 6},
    {"\\x", 2}, {"\\'", 2}, {"\\/", 2}, {"\\\\", 2}, {"\\\"", 2}, {"\\b\\f\\n\\r\\t", 10},
    {"/", 1}, {".", 1}, {"\\", 1},
};

static const char *const spaces[] = {
    " ", "\t", "\r\n", "\f", "\v", "\xc2\xa0", "\xef\xbb\xbf", "\x00", "\x1c",
};

/* Does key token t spell one of the known keys? */
static int is_known_key(const uint8_t *p, const token *t)
{
    size_t i, n = t->end - t->start;

    for (i = 0; i < COUNT(known_keys); i++)
        if (n == strlen(known_keys[i]) + 2 &&
            memcmp(p + t->start + 1, known_keys[i], n - 2) == 0)
            return 1;
    return 0;
}

/* Pick a key, a known one when there is one (three times in four). */
static int pick_key(mbuf *m, size_t start, size_t end, token *out)
{
    size_t pos = start, known = 0, k;
    token t;

    if (below(m, 4)) {
        while (lex(m->p, pos, end, &t)) {
            known += t.type == T_KEY && is_known_key(m->p, &t);
            pos = t.end;
        }
        if (known) {
            k = below(m, known);
            for (pos = start; lex(m->p, pos, end, &t); pos = t.end)
                if (t.type == T_KEY && is_known_key(m->p, &t) && k-- == 0) {
                    *out = t;
                    return 1;
                }
        }
    }
    return pick_token(m, start, end, T_KEY, out);
}

static void quoted(char *buf, size_t cap, const char *word)
{
    size_t n = strlen(word);

    if (n + 3 > cap)
        n = cap - 3;
    buf[0] = '"';
    memcpy(buf + 1, word, n);
    buf[n + 1] = '"';
    buf[n + 2] = 0;
}

/* One token-level edit of the JSON text in [start, *end). */
static void mutate_json(mbuf *m, size_t start, size_t *end)
{
    size_t before = m->len, vstart, vend, at, k;
    token t, stop;
    char key[32];
    int done = 0;

    switch (below(m, 14)) {
    case 0:     /* a trailing comma, or a comma more or less */
        if (pick_token(m, start, *end, T_CLOSE | T_COMMA, &t)) {
            if (t.type == T_CLOSE)
                done = splice_str(m, t.start, 0, ",");
            else
                done = splice_str(m, t.start, 1, below(m, 2) ? "" : ",,");
        }
        break;
    case 1:     /* another literal */
        if (pick_token(m, start, *end, T_WORD, &t))
            done = splice_str(m, t.start, t.end - t.start,
                              literals[below(m, COUNT(literals))]);
        break;
    case 2:     /* a number in another form */
        if (pick_token(m, start, *end, T_NUMBER, &t)) {
            switch (below(m, 4)) {
            case 0:
                done = splice_str(m, t.end, 0, below(m, 2) ? ".0" : "e0");
                break;
            case 1:
                done = splice_str(m, t.start, 0, below(m, 2) ? "-" : "0");
                break;
            case 2:     /* long integers: past 4000 digits Python's int() balks */
                k = below(m, 3);
                done = splice_run(m, t.start, t.end - t.start, '9',
                                  k == 0 ? 20 : k == 1 ? 400 : 4001);
                break;
            default:
                done = splice_str(m, t.start, t.end - t.start,
                                  numbers[below(m, COUNT(numbers))]);
            }
        }
        break;
    case 3:     /* a raw control byte, odd UTF-8 or an escape in a string */
    case 4:
        if (pick_token(m, start, *end, T_STRING | T_KEY, &t) && t.end - t.start >= 2) {
            k = below(m, COUNT(string_bits));
            at = t.start + 1 + below(m, t.end - t.start - 1);
            done = splice(m, at, 0, string_bits[k].bytes, string_bits[k].len);
        }
        break;
    case 5:     /* whitespace and near-whitespace between tokens */
        if (pick_token(m, start, *end, ~0u, &t)) {
            const char *s = spaces[below(m, COUNT(spaces))];
            at = below(m, 2) ? t.start : t.end;
            done = splice(m, at, 0, s, s[0] ? strlen(s) : 1);
        }
        break;
    case 6:     /* duplicate a key (the last one wins in the jobdict) */
        if (pick_key(m, start, *end, &t) &&
            member_value(m->p, t.end, *end, &vstart, &vend, &stop) &&
            copy_within(m, t.start, t.start, vend - t.start))
            done = splice_str(m, t.start + (vend - t.start), 0, ", ");
        break;
    case 7:     /* drop a key */
        if (pick_key(m, start, *end, &t) &&
            member_value(m->p, t.end, *end, &vstart, &vend, &stop))
            done = splice(m, t.start, (stop.type == T_COMMA ? stop.end : vend) - t.start,
                          NULL, 0);
        break;
    case 8:     /* give a key's value another type */
    case 9:
        if (pick_key(m, start, *end, &t) &&
            member_value(m->p, t.end, *end, &vstart, &vend, &stop))
            done = splice_str(m, vstart, vend - vstart, values[below(m, COUNT(values))]);
        break;
    case 10:    /* add a known key to the first object */
        if (nth_token(m->p, start, *end, T_OPEN, 0, &t) && m->p[t.start] == '{') {
            const char *v = values[below(m, COUNT(values))];
            quoted(key, sizeof key, known_keys[below(m, COUNT(known_keys))]);
            at = t.end;
            done = splice_str(m, at, 0, ", ") && splice_str(m, at, 0, v) &&
                   splice_str(m, at, 0, ": ") && splice_str(m, at, 0, key);
        }
        break;
    case 11:    /* rename a key */
        if (pick_token(m, start, *end, T_KEY, &t)) {
            quoted(key, sizeof key, known_keys[below(m, COUNT(known_keys))]);
            done = splice_str(m, t.start, t.end - t.start,
                              below(m, 4) ? key : values[below(m, COUNT(values))]);
        }
        break;
    case 12:    /* nest a value: a level or two, or past Python's recursion */
        if (pick_token(m, start, *end, T_SCALAR | T_OPEN, &t)) {
            k = below(m, 3);
            k = k == 0 ? 1 : k == 1 ? 3 : 450;
            if (t.type == T_OPEN)
                t.end = container_end(m->p, t.start, *end);
            if (k * 2 <= m->cap - m->len)
                done = splice_run(m, t.end, 0, ']', k) && splice_run(m, t.start, 0, '[', k);
        }
        break;
    default:    /* drop or repeat a token */
        if (pick_token(m, start, *end, ~0u, &t))
            done = below(m, 2) ? splice(m, t.start, t.end - t.start, NULL, 0)
                               : copy_within(m, t.end, t.start, t.end - t.start);
        break;
    }
    *end = *end + m->len - before;
    if (!done)
        mutate_bytes(m, start, end);
}

/* ------------------------------------------------------------------ */
/* ZIP, entry by entry.                                                */

enum {
    EOCD_SIZE = 22, CDH_SIZE = 46, LFH_SIZE = 30,
    EOCD_DISK_COUNT = 8, EOCD_COUNT = 10, EOCD_CD_SIZE = 12, EOCD_CD_OFFSET = 16,
    EOCD_COMMENT = 20,
    CDH_FLAGS = 8, CDH_METHOD = 10, CDH_CRC = 16, CDH_CSIZE = 20, CDH_USIZE = 24,
    CDH_NAME_LEN = 28, CDH_EXTRA_LEN = 30, CDH_COMMENT_LEN = 32, CDH_MADE_BY = 4,
    CDH_EXTERNAL = 38, CDH_LOCAL = 42,
    LFH_NAME_LEN = 26, LFH_EXTRA_LEN = 28
};

/* The end-of-central-directory record of [start, end): its offset, or 0
 * with *found = 0. */
static size_t find_eocd(const uint8_t *p, size_t start, size_t end, int *found)
{
    size_t at, lowest;

    *found = 0;
    if (end - start < EOCD_SIZE)
        return 0;
    lowest = end - start > EOCD_SIZE + 0xffff ? end - EOCD_SIZE - 0xffff : start;
    for (at = end - EOCD_SIZE + 1; at-- > lowest;)
        if (memcmp(p + at, "PK\x05\x06", 4) == 0) {
            *found = 1;
            return at;
        }
    return 0;
}

/* The k-th central directory entry of the archive at start whose EOCD is at
 * eocd: its offset and size, walking only through entries that fit. */
static int central_entry(const uint8_t *p, size_t start, size_t eocd, size_t k,
                         size_t *at, size_t *size, size_t *count)
{
    size_t pos = start + rd_le(p + eocd + EOCD_CD_OFFSET, 4), i, n;

    *count = 0;
    if (pos < start || pos > eocd)
        return 0;
    for (i = 0; eocd - pos >= CDH_SIZE && memcmp(p + pos, "PK\x01\x02", 4) == 0; i++) {
        n = CDH_SIZE + rd_le(p + pos + CDH_NAME_LEN, 2) + rd_le(p + pos + CDH_EXTRA_LEN, 2) +
            rd_le(p + pos + CDH_COMMENT_LEN, 2);
        if (n > eocd - pos)
            break;
        if (i == k) {
            *at = pos;
            *size = n;
        }
        pos += n;
    }
    *count = i;
    return k < i;
}

/* Add delta to a little-endian field (wrapping, as a careless writer would). */
static void bump_le(uint8_t *p, int n, long delta)
{
    wr_le(p, n, (uint32_t)(rd_le(p, n) + (uint32_t)delta));
}

static const char *const zip_names[] = {
    "../evil", "/abs", "a\\b", "C:/x", "dir/", ".disco/x", "job/worker.py", "worker",
    "a/../../b", "", "\xc3\xa9", "./w",
};

/* An off-by-one or extreme value for a field that held v. */
static uint32_t near(mbuf *m, uint32_t v, uint32_t edge, uint32_t max)
{
    switch (below(m, 6)) {
    case 0: return v + 1;
    case 1: return v - 1;
    case 2: return 0;
    case 3: return max;
    case 4: return edge;
    default: return edge + 1;
    }
}

/* Rename entry cd in the directory, its length and the directory's size
 * kept consistent. */
static int rename_central(mbuf *m, size_t eocd, size_t cd, const char *name, size_t n)
{
    size_t old = rd_le(m->p + cd + CDH_NAME_LEN, 2);

    if (!splice(m, cd + CDH_SIZE, old, name, n))
        return 0;
    wr_le(m->p + cd + CDH_NAME_LEN, 2, (uint32_t)n);
    eocd = eocd + n - old;    /* it moved with the name */
    bump_le(m->p + eocd + EOCD_CD_SIZE, 4, (long)n - (long)old);
    return 1;
}

/* Rename the local header of entry cd, moving what follows it: the later
 * entries' local offsets and the directory's offset follow. */
static void rename_local(mbuf *m, size_t start, size_t *eocd, size_t *cd,
                         const char *name, size_t n)
{
    size_t local = start + rd_le(m->p + *cd + CDH_LOCAL, 4), old, k, at, size, count;
    long delta;
    uint32_t rel;

    /* the local header and its name lie wholly before the entry */
    if (local < start || local >= *cd || *cd - local < LFH_SIZE ||
        memcmp(m->p + local, "PK\x03\x04", 4) != 0)
        return;
    old = rd_le(m->p + local + LFH_NAME_LEN, 2);
    if (old > *cd - local - LFH_SIZE || !splice(m, local + LFH_SIZE, old, name, n))
        return;
    wr_le(m->p + local + LFH_NAME_LEN, 2, (uint32_t)n);
    delta = (long)n - (long)old;
    *eocd += (size_t)delta;
    *cd += (size_t)delta;
    if (rd_le(m->p + *eocd + EOCD_CD_OFFSET, 4) > local - start)
        bump_le(m->p + *eocd + EOCD_CD_OFFSET, 4, delta);
    for (k = 0; central_entry(m->p, start, *eocd, k, &at, &size, &count); k++) {
        rel = rd_le(m->p + at + CDH_LOCAL, 4);
        if (rel > local - start)
            bump_le(m->p + at + CDH_LOCAL, 4, delta);
    }
}

/* One entry-level edit of the ZIP archive in [start, *end). */
static void mutate_zip(mbuf *m, size_t start, size_t *end)
{
    size_t before = m->len, eocd, cd = 0, cdn = 0, count = 0, remaining;
    uint8_t *e, *c;
    int found, done = 1, op;

    eocd = find_eocd(m->p, start, *end, &found);
    if (!found) {       /* make it an (empty) archive, or edit bytes */
        if (below(m, 3) == 0)
            splice(m, *end, 0, "PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", EOCD_SIZE);
        *end = *end + m->len - before;
        if (m->len == before)
            mutate_bytes(m, start, end);
        return;
    }
    e = m->p + eocd;
    central_entry(m->p, start, eocd, SIZE_MAX, &cd, &cdn, &count);
    remaining = *end - eocd - EOCD_SIZE;
    op = (int)below(m, 10);
    if (op >= 4 && !central_entry(m->p, start, eocd, below(m, count), &cd, &cdn, &count))
        op = (int)below(m, 4);
    c = m->p + cd;
    switch (op) {
    case 0:     /* entry counts */
        if (below(m, 2))
            wr_le(e + EOCD_COUNT, 2, near(m, rd_le(e + EOCD_COUNT, 2), (uint32_t)count, 0xffff));
        else
            wr_le(e + EOCD_DISK_COUNT, 2,
                  near(m, rd_le(e + EOCD_DISK_COUNT, 2), (uint32_t)count, 0xffff));
        break;
    case 1:     /* central directory offset and size */
        if (below(m, 2))
            wr_le(e + EOCD_CD_OFFSET, 4, near(m, rd_le(e + EOCD_CD_OFFSET, 4),
                                             (uint32_t)(eocd - start), 0xffffffffu));
        else
            wr_le(e + EOCD_CD_SIZE, 4, near(m, rd_le(e + EOCD_CD_SIZE, 4),
                                           (uint32_t)(eocd - start), 0xffffffffu));
        break;
    case 2:     /* the archive comment */
        if (below(m, 2))
            wr_le(e + EOCD_COMMENT, 2,
                  near(m, rd_le(e + EOCD_COMMENT, 2), (uint32_t)remaining, 0xffff));
        else
            done = splice_str(m, *end, 0, "PK\x05\x06 trailing");
        break;
    case 3:     /* cut the archive, or junk before it */
        if (below(m, 2)) {
            size_t cut = eocd + below(m, EOCD_SIZE);
            done = splice(m, cut, *end - cut, NULL, 0);
        } else
            done = splice_str(m, start, 0, "junk");
        break;
    case 4:     /* name or extra length field, alone */
        if (below(m, 2))
            wr_le(c + CDH_NAME_LEN, 2, near(m, rd_le(c + CDH_NAME_LEN, 2), 0, 0xffff));
        else
            wr_le(c + CDH_EXTRA_LEN, 2, near(m, rd_le(c + CDH_EXTRA_LEN, 2), 0, 0xffff));
        break;
    case 5: {   /* another name: in both headers, or in the directory only */
        const char *name = zip_names[below(m, COUNT(zip_names))];
        size_t n = strlen(name) + (below(m, 4) == 0);     /* the NUL too */
        if (below(m, 3))
            rename_local(m, start, &eocd, &cd, name, n);
        done = rename_central(m, eocd, cd, name, n);
        break;
    }
    case 6: {   /* an extra field, lengths kept consistent (or not) */
        static const uint8_t extras[][12] = {
            {0x55, 0x54, 5, 0, 1, 0, 0, 0, 0},                  /* extended time */
            {0x01, 0x00, 8, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, /* zip64 sizes */
            {0x75, 0x78, 0xff, 0xff, 1, 4, 0, 0, 0},            /* too long */
        };
        size_t x = below(m, COUNT(extras)), n = x == 1 ? 12 : 9;
        size_t at = cd + CDH_SIZE + rd_le(c + CDH_NAME_LEN, 2);
        if ((done = splice(m, at, 0, extras[x], n)) && below(m, 4)) {
            bump_le(m->p + cd + CDH_EXTRA_LEN, 2, (long)n);
            bump_le(m->p + eocd + n + EOCD_CD_SIZE, 4, (long)n);
        }
        break;
    }
    case 7:     /* mode, flags, method */
        switch (below(m, 4)) {
        case 0:     /* a symbolic link, or a directory, made on Unix */
            wr_le(c + CDH_EXTERNAL, 4, below(m, 2) ? 0xa1ff0000u : 0x41ed0010u);
            wr_le(c + CDH_MADE_BY, 2, 0x031e);
            break;
        case 1:
            c[CDH_FLAGS] ^= below(m, 2) ? 1 : 8;    /* encrypted; data descriptor */
            break;
        case 2: {
            static const uint16_t methods[] = {0, 8, 12, 14, 99, 0xffff};
            wr_le(c + CDH_METHOD, 2, methods[below(m, COUNT(methods))]);
            break;
        }
        default:
            c[CDH_CRC + below(m, 4)] ^= 0xff;
        }
        break;
    case 8:     /* sizes and the local header offset */
        switch (below(m, 4)) {
        case 0:
            wr_le(c + CDH_CSIZE, 4, near(m, rd_le(c + CDH_CSIZE, 4),
                                       (uint32_t)(eocd - start), 0xffffffffu));
            break;
        case 1:     /* a bomb: a small entry that claims to be huge */
            wr_le(c + CDH_USIZE, 4, below(m, 2) ? 0x7fffffffu : 0xffffffffu);
            break;
        case 2:
            wr_le(c + CDH_LOCAL, 4, near(m, rd_le(c + CDH_LOCAL, 4),
                                       rd_le(e + EOCD_CD_OFFSET, 4), 0xffffffffu));
            break;
        default: {  /* the local header's own lengths */
            size_t local = start + rd_le(c + CDH_LOCAL, 4);
            if (local >= start && local < eocd && eocd - local >= LFH_SIZE &&
                memcmp(m->p + local, "PK\x03\x04", 4) == 0) {
                uint8_t *l = m->p + local + (below(m, 2) ? LFH_NAME_LEN : LFH_EXTRA_LEN);
                wr_le(l, 2, near(m, rd_le(l, 2), 0, 0xffff));
            } else {
                done = 0;
            }
        }
        }
        break;
    default:    /* repeat or drop an entry, the directory kept consistent */
        if (below(m, 2)) {
            if ((done = copy_within(m, cd + cdn, cd, cdn))) {
                eocd += cdn;
                e = m->p + eocd;
                bump_le(e + EOCD_COUNT, 2, 1);
                bump_le(e + EOCD_DISK_COUNT, 2, 1);
                bump_le(e + EOCD_CD_SIZE, 4, (long)cdn);
            }
        } else if ((done = splice(m, cd, cdn, NULL, 0))) {
            eocd -= cdn;
            e = m->p + eocd;
            bump_le(e + EOCD_COUNT, 2, -1);
            bump_le(e + EOCD_DISK_COUNT, 2, -1);
            bump_le(e + EOCD_CD_SIZE, 4, -(long)cdn);
        }
    }
    *end = *end + m->len - before;
    if (!done)
        mutate_bytes(m, start, end);
}

/* ------------------------------------------------------------------ */
/* The pack: header and sections.                                      */

static int looks_like_json(const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len && (json_ws(p[i]) || p[i] == 0xef || p[i] == 0xbb || p[i] == 0xbf))
        i++;
    return i < len && (p[i] == '{' || p[i] == '[' || p[i] == '"' || p[i] == '-' ||
                       (p[i] >= '0' && p[i] <= '9') || p[i] == 't' || p[i] == 'f' ||
                       p[i] == 'n');
}

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
    if (which < 2 && looks_like_json(m->p + start, *end - start) && below(m, 8))
        mutate_json(m, start, end);
    else if (which == 2 && below(m, 8))
        mutate_zip(m, start, end);
    else
        mutate_bytes(m, start, end);
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
            mutate_zip(&m, 0, &end);
        else if (looks_like_json(m.p, m.len) && below(&m, 8))
            mutate_json(&m, 0, &end);
        else
            mutate_bytes(&m, 0, &end);
    }
    /* An edit can come to nothing (a value replaced by itself, an offset
     * set to what it was): a fuzzer gains nothing from running it again. */
    for (i = 0; i < 4 && m.len == in_len && fnv1a(m.p, m.len) == before; i++) {
        end = m.len;
        mutate_bytes(&m, 0, &end);
    }
    *out_len = m.len;
    return JP_OK;
}
