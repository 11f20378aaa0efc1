/* mutate_json.c -- the mutator's JSON edits, token by token, in the
 * master's dialect (see mutate.c). */
#include "mutate_edit.h"

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
void jpm_mutate_json(mbuf *m, size_t start, size_t *end)
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
        jpm_mutate_bytes(m, start, end);
}

int jpm_looks_like_json(const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len && (json_ws(p[i]) || p[i] == 0xef || p[i] == 0xbb || p[i] == 0xbf))
        i++;
    return i < len && (p[i] == '{' || p[i] == '[' || p[i] == '"' || p[i] == '-' ||
                       (p[i] >= '0' && p[i] <= '9') || p[i] == 't' || p[i] == 'f' ||
                       p[i] == 'n');
}
