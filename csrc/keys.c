/*
 * keys.c -- does a JSON object repeat a key?
 *
 * Strict validation reports a jobdict object that names a key twice (the
 * master keeps the last value; other readers may not).  Python's json can
 * only tell through an object_pairs_hook, a Python call per object; this
 * pass answers for the whole section in C, so the decode runs without one.
 *
 * A light tokenizer, not a validator: it trusts the caller to decode the
 * same text with Python's json (which refuses what is not JSON) and only
 * needs strings, brackets and commas to find each object's keys.  Keys
 * compare by what they decode to ("a" and "\u0061" are one key).  An
 * object's keys are slots on one stack; at its '}' they are sorted in place
 * (by hash, then by decoded text: no quadratic case, whatever the keys) and
 * neighbours compared, then popped.  Reads each byte only after checking it
 * is in bounds; never allocates.
 */
#include <string.h>
#include "jobpack.h"

enum { SLOT_KEY = 0, SLOT_OBJECT = 1, SLOT_ARRAY = 2, SLOT_ESCAPED = 4 };

/* Bytes that end a run of plain string bytes: the quote and the backslash.
 * (One table load a byte: most of a jobdict is short strings, where a
 * memchr call costs more than the bytes it skips.) */
static const uint8_t string_stop[256] = {['"'] = 1, ['\\'] = 1};

/* The bytes a key decodes to (UTF-8; a lone surrogate escape as its 3-byte
 * form), read one at a time from its text between the quotes. */
typedef struct {
    const uint8_t *p;
    size_t pos, end;
    uint8_t pending[4];
    int next, count;
} key_reader;

static int hex4(const uint8_t *p, size_t pos, size_t end, unsigned *out)
{
    unsigned v = 0;
    if (end - pos < 4)
        return 0;
    for (size_t i = 0; i < 4; i++) {
        uint8_t c = p[pos + i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (unsigned)((c | 0x20) - 'a' + 10);
        else
            return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

static void queue_utf8(key_reader *r, unsigned cp)
{
    uint8_t *o = r->pending;
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        r->count = 1;
    } else if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        r->count = 2;
    } else if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        r->count = 3;
    } else {
        o[0] = (uint8_t)(0xF0 | cp >> 18);
        o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (uint8_t)(0x80 | (cp & 0x3F));
        r->count = 4;
    }
    r->next = 0;
}

/* The next decoded byte, or -1 at the end.  Escapes as Python's json reads
 * them: a high surrogate escape directly followed by a low one is one code
 * point; an escape json refuses (never seen here) stands for its letter. */
static int key_byte(key_reader *r)
{
    if (r->next < r->count)
        return r->pending[r->next++];
    if (r->pos >= r->end)
        return -1;
    uint8_t c = r->p[r->pos++];
    if (c != '\\' || r->pos >= r->end)
        return c;
    c = r->p[r->pos++];
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': break;
    default: return c;
    }
    unsigned cp, low;
    if (!hex4(r->p, r->pos, r->end, &cp))
        return 'u';
    r->pos += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && r->end - r->pos >= 6 && r->p[r->pos] == '\\'
            && r->p[r->pos + 1] == 'u' && hex4(r->p, r->pos + 2, r->end, &low)
            && low >= 0xDC00 && low <= 0xDFFF) {
        r->pos += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    queue_utf8(r, cp);
    return r->pending[r->next++];
}

static void reader_init(key_reader *r, const uint8_t *in, const jp_key_slot *k)
{
    r->p = in;
    r->pos = k->start;
    r->end = (size_t)k->start + k->len;
    r->next = r->count = 0;
}

static uint32_t key_hash(const uint8_t *in, const jp_key_slot *k)
{
    uint32_t h = 2166136261u;  /* FNV-1a */
    if (!(k->kind & SLOT_ESCAPED)) {
        for (size_t i = k->start; i < (size_t)k->start + k->len; i++)
            h = (h ^ in[i]) * 16777619u;
        return h;
    }
    key_reader r;
    reader_init(&r, in, k);
    for (int c; (c = key_byte(&r)) >= 0;)
        h = (h ^ (uint32_t)c) * 16777619u;
    return h;
}

/* Order of two keys: by hash, then by decoded bytes. */
static int key_cmp(const uint8_t *in, const jp_key_slot *a, const jp_key_slot *b)
{
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    if (!((a->kind | b->kind) & SLOT_ESCAPED)) {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = memcmp(in + a->start, in + b->start, n);
        if (c)
            return c;
        return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
    }
    key_reader ra, rb;
    reader_init(&ra, in, a);
    reader_init(&rb, in, b);
    for (;;) {
        int ca = key_byte(&ra), cb = key_byte(&rb);
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (ca < 0)
            return 0;
    }
}

static void sift_down(const uint8_t *in, jp_key_slot *k, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && key_cmp(in, &k[child], &k[child + 1]) < 0)
            child++;
        if (key_cmp(in, &k[root], &k[child]) >= 0)
            return;
        jp_key_slot t = k[root];
        k[root] = k[child];
        k[child] = t;
        root = child;
    }
}

/* Any two equal keys among k[0, n)?  Sorts them (heapsort: in place,
 * O(n log n) comparisons). */
static int has_repeat(const uint8_t *in, jp_key_slot *k, size_t n)
{
    if (n < 2)
        return 0;
    if (n <= 32) {  /* the common small object: no sort */
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (k[i].hash == k[j].hash && key_cmp(in, &k[i], &k[j]) == 0)
                    return 1;
        return 0;
    }
    for (size_t i = n / 2; i-- > 0;)
        sift_down(in, k, i, n);
    for (size_t end = n - 1; end > 0; end--) {
        jp_key_slot t = k[0];
        k[0] = k[end];
        k[end] = t;
        sift_down(in, k, 0, end);
    }
    for (size_t i = 1; i < n; i++)
        if (k[i].hash == k[i - 1].hash && key_cmp(in, &k[i], &k[i - 1]) == 0)
            return 1;
    return 0;
}

int jp_json_repeated_key(const uint8_t *in, size_t len,
                         jp_key_slot *slots, size_t slot_count)
{
    if (len > UINT32_MAX)
        return JP_KEYS_UNKNOWN;
    size_t top = 0;            /* slots in use */
    size_t open = SIZE_MAX;    /* slot of the innermost open container */
    int expect_key = 0;
    for (size_t pos = 0; pos < len; pos++) {
        uint8_t c = in[pos];
        switch (c) {
        case '{':
        case '[':
            if (top == slot_count || top > UINT32_MAX)
                return JP_KEYS_UNKNOWN;
            slots[top].kind = c == '{' ? SLOT_OBJECT : SLOT_ARRAY;
            slots[top].start = open == SIZE_MAX ? UINT32_MAX : (uint32_t)open;
            open = top++;
            expect_key = c == '{';
            break;
        case '}':
        case ']':
            if (open == SIZE_MAX || (slots[open].kind == SLOT_OBJECT) != (c == '}'))
                return JP_KEYS_UNKNOWN;
            if (c == '}' && has_repeat(in, slots + open + 1, top - open - 1))
                return JP_KEYS_REPEATED;
            top = open;
            open = slots[open].start == UINT32_MAX ? SIZE_MAX : slots[open].start;
            expect_key = 0;
            break;
        case ',':
            expect_key = open != SIZE_MAX && slots[open].kind == SLOT_OBJECT;
            break;
        case '"': {
            size_t start = ++pos;
            int escaped = 0;
            /* To the closing quote; a backslash on the way means the
             * walk escape by escape. */
            while (pos < len && !string_stop[in[pos]])
                pos++;
            if (pos < len && in[pos] == '\\') {
                escaped = 1;
                while (pos < len && in[pos] != '"')
                    pos += in[pos] == '\\' ? 2 : 1;  /* the escaped byte, whatever it is */
            }
            if (pos >= len)
                return JP_KEYS_UNKNOWN;  /* unterminated */
            if (expect_key) {
                if (top == slot_count)
                    return JP_KEYS_UNKNOWN;
                jp_key_slot *k = &slots[top++];
                k->start = (uint32_t)start;
                k->len = (uint32_t)(pos - start);
                k->kind = escaped ? SLOT_KEY | SLOT_ESCAPED : SLOT_KEY;
                k->hash = key_hash(in, k);
                expect_key = 0;
            }
            break;
        }
        default:
            break;
        }
    }
    return open == SIZE_MAX ? JP_KEYS_UNIQUE : JP_KEYS_UNKNOWN;
}

jp_status jp_pack_key_check(const uint8_t *buf, size_t len, jp_pack_keys *out,
                            jp_key_slot *slots, size_t slot_count)
{
    jp_status st = jp_header_decode(buf, len, len, &out->header);
    out->repeated_key = JP_KEYS_UNKNOWN;
    if (st != JP_OK)
        return st;
    /* The header check guarantees offsets[0] <= offsets[1] <= len. */
    out->repeated_key = (int32_t)jp_json_repeated_key(
        buf + out->header.offsets[0], out->header.offsets[1] - out->header.offsets[0],
        slots, slot_count);
    return JP_OK;
}
