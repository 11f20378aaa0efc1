/*
 * mochijson.c -- JSON exactly as the Disco master reads it.
 *
 * The master decodes the jobdict and jobenvs with mochijson2 (mochiweb
 * v2.9.2), which is not RFC 8259 JSON.  This scanner follows its grammar
 * token by token (see SPEC.md, "The master's JSON dialect"), reports the
 * first byte the master would fail on, and can rewrite what the master
 * accepts as standard JSON for Python's json module.
 *
 * It is iterative (nesting depth costs one bit of caller scratch, never C
 * stack) and reads each input byte only after checking it is in bounds.
 */
#include <string.h>
#include "jobpack.h"

/* Smallest decimal significand (times 10^308) that rounds to infinity as a
 * double: 2^1024 - 2^970, the halfway point above DBL_MAX.  Ties round to
 * even, and DBL_MAX's significand is odd, so the halfway point overflows. */
static const char overflow_digits[] =
    "17976931348623158079372897140530341507993413271003782693617377898044"
    "49682927647509466490179775872070963302864166928879109465555478519404"
    "02630657488671505820681908902000708383676273854845817711531764475730"
    "27006985557136695962284291481986083493647529271907416844436551070434"
    "2711559699508093042880177904174497792";

typedef struct {
    const uint8_t *in;
    size_t len;
    size_t pos;
    uint8_t *out;        /* NULL: check only */
    size_t cap;
    size_t olen;
    int overflow;        /* out was too small */
    uint8_t *stack;      /* one bit per open container: 1 object, 0 array */
    size_t stack_bits;
    size_t depth;
    jp_json_result *res;
} scanner;

static void put(scanner *s, const void *bytes, size_t n)
{
    if (s->out == NULL)
        return;
    if (n > s->cap - s->olen) {
        s->overflow = 1;
        return;
    }
    memcpy(s->out + s->olen, bytes, n);
    s->olen += n;
}

static void put_byte(scanner *s, uint8_t c)
{
    put(s, &c, 1);
}

static void put_u_escape(scanner *s, unsigned code)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t buf[6] = {'\\', 'u', (uint8_t)hex[(code >> 12) & 15],
                      (uint8_t)hex[(code >> 8) & 15], (uint8_t)hex[(code >> 4) & 15],
                      (uint8_t)hex[code & 15]};
    put(s, buf, sizeof buf);
}

static void feature(scanner *s, uint32_t bit, size_t at)
{
    if ((bit & JP_JSON_DIALECT_ONLY) && !(s->res->features & JP_JSON_DIALECT_ONLY))
        s->res->feature_offset = at;
    s->res->features |= bit;
}

static jp_status fail(scanner *s, jp_status status, size_t at)
{
    s->res->error_offset = at;
    return status;
}

/* Bytes a string copies as they are: printable ASCII but '"' and '\\'.
 * A table keeps the hot loop to one load and one branch per byte. */
static const uint8_t copies_as_is[256] = {
    /* 0x00-0x1f: no; 0x20-0x7f: yes but 0x22 and 0x5c; 0x80-0xff: no */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* mochijson2's whitespace: space, tab, CR, LF (not FF, VT or NBSP). */
static const uint8_t is_ws_byte[256] = {['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1};

static inline int is_ws(uint8_t c)
{
    return is_ws_byte[c];
}

static inline void skip_ws(scanner *s)
{
    while (s->pos < s->len && is_ws(s->in[s->pos]))
        s->pos++;
}

static int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int is_cont(uint8_t c)
{
    return c >= 0x80 && c <= 0xbf;
}

/* Emit one decoded character (from an escape) as standard JSON. */
static void put_char(scanner *s, unsigned code)
{
    uint8_t buf[4];

    if (code < 0x20) {
        put_u_escape(s, code);
    } else if (code == '"' || code == '\\') {
        buf[0] = '\\';
        buf[1] = (uint8_t)code;
        put(s, buf, 2);
    } else if (code < 0x80) {
        put_byte(s, (uint8_t)code);
    } else if (code < 0x800) {
        buf[0] = (uint8_t)(0xc0 | (code >> 6));
        buf[1] = (uint8_t)(0x80 | (code & 0x3f));
        put(s, buf, 2);
    } else if (code < 0x10000) {
        buf[0] = (uint8_t)(0xe0 | (code >> 12));
        buf[1] = (uint8_t)(0x80 | ((code >> 6) & 0x3f));
        buf[2] = (uint8_t)(0x80 | (code & 0x3f));
        put(s, buf, 3);
    } else {
        buf[0] = (uint8_t)(0xf0 | (code >> 18));
        buf[1] = (uint8_t)(0x80 | ((code >> 12) & 0x3f));
        buf[2] = (uint8_t)(0x80 | ((code >> 6) & 0x3f));
        buf[3] = (uint8_t)(0x80 | (code & 0x3f));
        put(s, buf, 4);
    }
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The four bytes after \u as Erlang's list_to_integer(_, 16) reads them:
 * an optional sign, then at least one hex digit.  Returns 0 on failure. */
static int erlang_hex4(const uint8_t *p, long *value, int *signed_out)
{
    int i = 0, negative = 0, v;
    long acc = 0;

    *signed_out = 0;
    if (p[0] == '+' || p[0] == '-') {
        negative = p[0] == '-';
        *signed_out = 1;
        i = 1;
    }
    if (i == 4)
        return 0;
    for (; i < 4; i++) {
        v = hex_value(p[i]);
        if (v < 0)
            return 0;
        acc = acc * 16 + v;
    }
    *value = negative ? -acc : acc;
    return 1;
}

/* A \u escape at s->pos of a lone surrogate, U+FFFE or U+FFFF, in four
 * plain hex digits: what Python's json.dumps writes for those characters.
 * The master fails at master_fails_at; Python reads the same escape. */
static jp_status python_escape(scanner *s, unsigned code, size_t master_fails_at)
{
    if (!(s->res->features & JP_JSON_PY_ESCAPE))
        s->res->escape_offset = master_fails_at;
    s->res->features |= JP_JSON_PY_ESCAPE;
    put_u_escape(s, code);
    s->pos += 6;
    return JP_OK;
}

/* A \u escape at s->pos (which holds the backslash).  mochijson2 needs
 * four bytes after "\u"; with fewer the backslash is a literal character. */
static jp_status scan_u_escape(scanner *s)
{
    const uint8_t *p = s->in + s->pos;
    size_t left = s->len - s->pos;
    long c, d;
    int signed_c, signed_d;

    if (left < 6) {
        feature(s, JP_JSON_ODD_ESCAPE, s->pos);
        put(s, "\\\\", 2);
        s->pos += 1;
        return JP_OK;
    }
    if (!erlang_hex4(p + 2, &c, &signed_c))
        return fail(s, JP_ERR_JSON_ESCAPE, s->pos);
    if (signed_c)
        feature(s, JP_JSON_ODD_ESCAPE, s->pos);
    if (c > 0xd7ff && c < 0xdc00) {
        /* A high surrogate must be followed by \u and a low surrogate;
         * the second unit is taken modulo 2^16, as <<D:16>> does. */
        unsigned lo;
        if (left < 12 || p[6] != '\\' || p[7] != 'u' ||
            !erlang_hex4(p + 8, &d, &signed_d))
            return python_escape(s, (unsigned)c, s->pos);
        lo = (unsigned)((unsigned long)d & 0xffffu);
        if (lo < 0xdc00 || lo > 0xdfff)
            return python_escape(s, (unsigned)c, s->pos + 6);
        if (signed_d)
            feature(s, JP_JSON_ODD_ESCAPE, s->pos + 6);
        put_char(s, (((unsigned)c & 0x3ff) << 10) + (lo & 0x3ff) + 0x10000);
        s->pos += 12;
        return JP_OK;
    }
    /* xmerl_ucs:to_utf8 refuses negatives, surrogates, U+FFFE and U+FFFF;
     * Python reads the last three (a sign never reaches this range). */
    if (c < 0)
        return fail(s, JP_ERR_JSON_ESCAPE, s->pos);
    if ((c >= 0xd800 && c <= 0xdfff) || c >= 0xfffe)
        return python_escape(s, (unsigned)c, s->pos);
    put_char(s, (unsigned)c);
    s->pos += 6;
    return JP_OK;
}

/* A string; s->pos is just after the opening quote. */
static jp_status scan_string(scanner *s)
{
    const uint8_t *in = s->in;
    size_t start;
    jp_status st;
    int i;

    put_byte(s, '"');
    for (;;) {
        /* Copy the run of bytes that need no rewriting in one go. */
        start = s->pos;
        /* Eight bytes a step while all copy as is: most strings are plain. */
        while (s->len - s->pos >= 8) {
            const uint8_t *p = in + s->pos;
            if (!(copies_as_is[p[0]] & copies_as_is[p[1]] & copies_as_is[p[2]] &
                  copies_as_is[p[3]] & copies_as_is[p[4]] & copies_as_is[p[5]] &
                  copies_as_is[p[6]] & copies_as_is[p[7]]))
                break;
            s->pos += 8;
        }
        while (s->pos < s->len && copies_as_is[in[s->pos]])
            s->pos++;
        put(s, in + start, s->pos - start);
        if (s->pos >= s->len)
            return fail(s, JP_ERR_JSON_UTF8, s->len); /* never closed */

        uint8_t c = in[s->pos];
        size_t left = s->len - s->pos;
        if (c == '"') {
            s->pos++;
            put_byte(s, '"');
            return JP_OK;
        }
        if (c == '\\') {
            uint8_t e = left >= 2 ? in[s->pos + 1] : 0;
            const char *simple = NULL;
            switch (e) {
            case '"': simple = "\\\""; break;
            case '\\': simple = "\\\\"; break;
            case '/': simple = "/"; break;
            case 'b': simple = "\\b"; break;
            case 'f': simple = "\\f"; break;
            case 'n': simple = "\\n"; break;
            case 'r': simple = "\\r"; break;
            case 't': simple = "\\t"; break;
            case 'u':
                st = scan_u_escape(s);
                if (st != JP_OK)
                    return st;
                continue;
            default:
                break;
            }
            if (simple != NULL) {
                put(s, simple, strlen(simple));
                s->pos += 2;
            } else {
                /* Unknown escape: mochijson2 keeps the backslash as text. */
                feature(s, JP_JSON_ODD_ESCAPE, s->pos);
                put(s, "\\\\", 2);
                s->pos += 1;
            }
            continue;
        }
        if (c < 0x20) {
            feature(s, JP_JSON_RAW_CONTROL, s->pos);
            put_u_escape(s, c);
            s->pos++;
            continue;
        }
        /* Multi-byte UTF-8, by mochijson2's (lax) byte ranges. */
        int n = 0, strict = 1;
        if (c >= 0xc2 && c <= 0xdf && left >= 2 && is_cont(in[s->pos + 1])) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef && left >= 3 &&
                   is_cont(in[s->pos + 1]) && is_cont(in[s->pos + 2])) {
            n = 3;
            /* Overlong forms and encoded surrogates pass the master. */
            if ((c == 0xe0 && in[s->pos + 1] < 0xa0) ||
                (c == 0xed && in[s->pos + 1] > 0x9f))
                strict = 0;
        } else if (c >= 0xf0 && c <= 0xf4 && left >= 4 &&
                   is_cont(in[s->pos + 1]) && is_cont(in[s->pos + 2]) &&
                   is_cont(in[s->pos + 3])) {
            n = 4;
            /* Overlong forms and code points above U+10FFFF pass too. */
            if ((c == 0xf0 && in[s->pos + 1] < 0x90) ||
                (c == 0xf4 && in[s->pos + 1] > 0x8f))
                strict = 0;
        }
        if (n == 0)
            return fail(s, JP_ERR_JSON_UTF8, s->pos);
        if (strict) {
            put(s, in + s->pos, (size_t)n);
        } else {
            /* Python's surrogateescape spelling: one \udcXX per byte. */
            feature(s, JP_JSON_LAX_UTF8, s->pos);
            for (i = 0; i < n; i++)
                put_u_escape(s, 0xdc00u | in[s->pos + (size_t)i]);
        }
        s->pos += (size_t)n;
    }
}

/* Where an exponent's value stops growing: past the digit count of any
 * buffer (sections are under 2^32 bytes), so the saturated value still
 * decides overflow exactly, and ten times it fits a long long. */
#define EXP10_CAP 1000000000000000LL

/* Does a float token overflow a double?  digits is the token's mantissa
 * digits (integer and fraction, without the dot), n_int of them before it. */
static int float_overflows(const uint8_t *tok, size_t n_int, size_t n_frac,
                           const uint8_t *frac, long long exp10)
{
    size_t i, first = (size_t)-1, total = n_int + n_frac;
    long long e;

#define DIGIT_AT(k) ((k) < n_int ? tok[(k)] : frac[(k) - n_int])
    for (i = 0; i < total; i++) {
        if (DIGIT_AT(i) != '0') {
            first = i;
            break;
        }
    }
    if (first == (size_t)-1)
        return 0; /* zero */
    e = (long long)n_int - 1 - (long long)first + exp10;
    if (e != 308)
        return e > 308;
    /* Same magnitude as DBL_MAX: compare significant digits. */
    for (i = 0; i < sizeof overflow_digits - 1; i++) {
        uint8_t have = first + i < total ? DIGIT_AT(first + i) : '0';
        if (have != (uint8_t)overflow_digits[i])
            return have > (uint8_t)overflow_digits[i];
    }
    return 1; /* exactly halfway, or more: rounds to infinity */
#undef DIGIT_AT
}

/* A number by mochijson2's grammar; s->pos is at '-' or a digit. */
static jp_status scan_number(scanner *s, int as_key)
{
    const uint8_t *in = s->in;
    size_t start = s->pos, int_start, n_int, frac_start = 0, n_frac = 0;
    int is_float = 0, exp_negative = 0;
    long long exp10 = 0;

    if (in[s->pos] == '-')
        s->pos++;
    int_start = s->pos;
    if (s->pos >= s->len || !is_digit(in[s->pos]))
        return fail(s, JP_ERR_JSON_SYNTAX, s->pos);
    if (in[s->pos] == '0') {
        s->pos++;
    } else {
        while (s->pos < s->len && is_digit(in[s->pos]))
            s->pos++;
    }
    n_int = s->pos - int_start;
    if (s->len - s->pos >= 2 && in[s->pos] == '.' && is_digit(in[s->pos + 1])) {
        is_float = 1;
        s->pos++;
        frac_start = s->pos;
        while (s->pos < s->len && is_digit(in[s->pos]))
            s->pos++;
        n_frac = s->pos - frac_start;
    }
    if (s->pos < s->len && (in[s->pos] == 'e' || in[s->pos] == 'E')) {
        is_float = 1;
        s->pos++;
        if (s->pos < s->len && (in[s->pos] == '+' || in[s->pos] == '-')) {
            exp_negative = in[s->pos] == '-';
            s->pos++;
        }
        if (s->pos >= s->len || !is_digit(in[s->pos]))
            return fail(s, JP_ERR_JSON_SYNTAX, s->pos);
        while (s->pos < s->len && is_digit(in[s->pos])) {
            if (exp10 < EXP10_CAP)
                exp10 = exp10 * 10 + (in[s->pos] - '0');
            s->pos++;
        }
        if (exp_negative)
            exp10 = -exp10;
    }
    if (is_float) {
        if (float_overflows(in + int_start, n_int, n_frac, in + frac_start, exp10))
            return fail(s, JP_ERR_JSON_NUMBER, start);
    } else {
        if (n_int > JP_JSON_BIG_INT_DIGITS)
            feature(s, JP_JSON_BIG_INT, start);
        /* A key becomes a string; only values go through int(). */
        if (!as_key && n_int > s->res->max_int_digits)
            s->res->max_int_digits = n_int;
    }
    if (as_key)
        put_byte(s, '"');
    put(s, in + start, s->pos - start);
    if (as_key)
        put_byte(s, '"');
    return JP_OK;
}

/* true, false or null (mochijson2 matches the bytes, then moves on). */
static int scan_literal(scanner *s, int as_key)
{
    static const char *const words[] = {"true", "false", "null"};
    size_t i, n;

    for (i = 0; i < 3; i++) {
        n = strlen(words[i]);
        if (s->len - s->pos >= n && memcmp(s->in + s->pos, words[i], n) == 0) {
            if (as_key)
                put_byte(s, '"');
            put(s, words[i], n);
            if (as_key)
                put_byte(s, '"');
            s->pos += n;
            return 1;
        }
    }
    return 0;
}

/* A constant: string, number or literal.  Returns JP_ERR_JSON_SYNTAX at
 * s->pos when the byte there starts none of them. */
static jp_status scan_const(scanner *s, int as_key)
{
    uint8_t c = s->in[s->pos];

    if (c == '"') {
        s->pos++;
        return scan_string(s);
    }
    if (as_key)
        feature(s, JP_JSON_NONSTRING_KEY, s->pos);
    if (c == '-' || is_digit(c))
        return scan_number(s, as_key);
    if (scan_literal(s, as_key))
        return JP_OK;
    return fail(s, JP_ERR_JSON_SYNTAX, s->pos);
}

static jp_status push(scanner *s, int is_object)
{
    size_t d = s->depth;

    if (d >= (size_t)JP_JSON_MAX_DEPTH)
        return fail(s, JP_ERR_JSON_TOO_DEEP, s->pos);
    if (d >= s->stack_bits)
        return fail(s, JP_ERR_BUFFER_TOO_SMALL, s->pos);
    if (is_object)
        s->stack[d / 8] |= (uint8_t)(1u << (d % 8));
    else
        s->stack[d / 8] &= (uint8_t)~(1u << (d % 8));
    s->depth++;
    if (s->depth > s->res->max_depth)
        s->res->max_depth = s->depth;
    if (s->depth == (size_t)JP_JSON_DEEP_LIMIT + 1)
        feature(s, JP_JSON_DEEP, s->pos);
    return JP_OK;
}

static int top_is_object(const scanner *s)
{
    size_t d = s->depth - 1;
    return (s->stack[d / 8] >> (d % 8)) & 1;
}

/* A digit run, then a fraction and an exponent if there are any, read from
 * in[*pos]; returns whether it is a float that could reach 1e309: its value
 * is below 10^(integer digits + exponent), and nothing below 1e308
 * overflows a double. */
static int float_may_overflow(const uint8_t *in, size_t len, size_t *pos)
{
    size_t i = *pos, n_int;
    uint64_t exp10 = 0;
    int is_float = 0, exp_negative = 0;

    while (i < len && is_digit(in[i]))
        i++;
    n_int = i - *pos;
    if (i < len && in[i] == '.') {
        is_float = 1;
        i++;
        while (i < len && is_digit(in[i]))
            i++;
    }
    if (i < len && (in[i] == 'e' || in[i] == 'E')) {
        is_float = 1;
        i++;
        if (i < len && (in[i] == '+' || in[i] == '-')) {
            exp_negative = in[i] == '-';
            i++;
        }
        for (; i < len && is_digit(in[i]); i++) {
            if (exp10 < (uint64_t)EXP10_CAP)
                exp10 = exp10 * 10 + (uint64_t)(in[i] - '0');
        }
    }
    *pos = i;
    if (!is_float)
        return 0;   /* an integer: Python reads any length exactly */
    /* exp10 saturates low: only ever an overestimate when negative. */
    return exp_negative ? n_int > 308 + exp10 : n_int + exp10 > 308;
}

/* Past the string whose opening quote is at in[at]: the index after its
 * closing quote, or len if it has none. */
static size_t string_end(const uint8_t *in, size_t len, size_t at)
{
    size_t i = at + 1, k;
    const uint8_t *quote;

    while (i < len && (quote = memchr(in + i, '"', len - i)) != NULL) {
        i = (size_t)(quote - in);
        for (k = i; k > at + 1 && in[k - 1] == '\\'; k--)
            ;
        if ((i - k) % 2 == 0)
            return i + 1;   /* not escaped: the end */
        i++;
    }
    return len;
}

jp_status jp_json_float_risk(const uint8_t *in, size_t len)
{
    size_t i = 0;

    while (i < len) {
        if (in[i] == '"') {
            /* Unterminated: the end (Python's json refuses the section). */
            i = string_end(in, len, i);
        } else if (is_digit(in[i])) {
            if (float_may_overflow(in, len, &i))
                return JP_ERR_JSON_NUMBER;
        } else {
            i++;
        }
    }
    return JP_OK;
}

size_t jp_json_out_bound(size_t len)
{
    /* Worst case: every byte becomes a six-byte \uXXXX escape. */
    if (len > (SIZE_MAX - 16) / 6)
        return SIZE_MAX;
    return 6 * len + 16;
}

/* Parser states, after mochijson2's decoder states. */
enum {
    ST_VALUE,       /* a value must start here (decode1) */
    ST_ARRAY_FIRST, /* just after '[' or a comma in an array: value or ']' */
    ST_KEY,         /* just after '{' or a comma in an object: key or '}' */
    ST_AFTER        /* after a value: ',' or the closing bracket */
};

static jp_status scan(const uint8_t *in, size_t len,
                      uint8_t *out, size_t out_cap,
                      uint8_t *scratch, size_t scratch_len,
                      jp_json_result *result)
{
    scanner s;
    jp_status st;
    int state = ST_VALUE, after_comma = 0;
    uint8_t c;

    memset(result, 0, sizeof *result);
    memset(&s, 0, sizeof s);
    s.in = in;
    s.len = len;
    s.out = out;
    s.cap = out_cap;
    s.stack = scratch;
    s.stack_bits = scratch_len > SIZE_MAX / 8 ? SIZE_MAX : scratch_len * 8;
    s.res = result;

    skip_ws(&s);
    if (s.pos >= len)
        return fail(&s, JP_ERR_JSON_EMPTY, s.pos);
    c = in[s.pos];
    result->top_type = c == '{' ? JP_JSON_OBJECT : c == '[' ? JP_JSON_ARRAY
                     : c == '"' ? JP_JSON_STRING
                     : (c == '-' || is_digit(c)) ? JP_JSON_NUMBER : JP_JSON_LITERAL;

    for (;;) {
        skip_ws(&s);
        if (s.pos >= len) {
            /* Only a complete top-level value may end the input. */
            if (state == ST_AFTER && s.depth == 0)
                break;
            return fail(&s, JP_ERR_JSON_SYNTAX, s.pos);
        }
        c = in[s.pos];
        if (state == ST_AFTER && s.depth == 0)
            return fail(&s, JP_ERR_JSON_TRAILING, s.pos);

        switch (state) {
        case ST_KEY:
            if (c == '}') {
                if (after_comma)
                    feature(&s, JP_JSON_TRAILING_COMMA, s.pos);
                goto close;
            }
            if (c == '{' || c == '[' || c == ',' || c == ':' || c == ']')
                return fail(&s, JP_ERR_JSON_SYNTAX, s.pos);
            if (after_comma)
                put_byte(&s, ',');
            st = scan_const(&s, 1);
            if (st != JP_OK)
                return st;
            skip_ws(&s);
            if (s.pos >= len || in[s.pos] != ':')
                return fail(&s, JP_ERR_JSON_SYNTAX, s.pos);
            put_byte(&s, ':');
            s.pos++;
            state = ST_VALUE;
            continue;
        case ST_AFTER:
            if (c == ',') {
                s.pos++;
                after_comma = 1;
                state = top_is_object(&s) ? ST_KEY : ST_ARRAY_FIRST;
                continue;
            }
            if (c == (top_is_object(&s) ? '}' : ']'))
                goto close;
            return fail(&s, JP_ERR_JSON_SYNTAX, s.pos);
        case ST_ARRAY_FIRST:
            if (c == ']') {
                if (after_comma)
                    feature(&s, JP_JSON_TRAILING_COMMA, s.pos);
                goto close;
            }
            if (c == ',')
                return fail(&s, JP_ERR_JSON_SYNTAX, s.pos);
            if (after_comma)
                put_byte(&s, ',');
            break; /* a value */
        default: /* ST_VALUE */
            break;
        }

        /* A value starts here. */
        after_comma = 0;
        if (c == '{' || c == '[') {
            st = push(&s, c == '{');
            if (st != JP_OK)
                return st;
            put_byte(&s, c);
            s.pos++;
            state = c == '{' ? ST_KEY : ST_ARRAY_FIRST;
            continue;
        }
        st = scan_const(&s, 0);
        if (st != JP_OK)
            return st;
        state = ST_AFTER;
        continue;

    close:
        put_byte(&s, c);
        s.pos++;
        s.depth--;
        after_comma = 0;
        state = ST_AFTER;
    }

    result->out_len = s.olen;
    if (s.overflow)
        return fail(&s, JP_ERR_BUFFER_TOO_SMALL, s.pos);
    return JP_OK;
}

jp_status jp_json_scan(const uint8_t *in, size_t len,
                       uint8_t *out, size_t out_cap,
                       uint8_t *scratch, size_t scratch_len,
                       jp_json_result *result)
{
    jp_status st = scan(in, len, out, out_cap, scratch, scratch_len, result);
    result->status = (int)st;
    return st;
}

jp_status jp_pack_scan(const uint8_t *buf, size_t len, jp_header *header,
                       jp_json_result *results,
                       uint8_t *scratch, size_t scratch_len)
{
    jp_status st;
    int i;

    memset(results, 0, 2 * sizeof *results);
    results[0].status = results[1].status = JP_ERR_JSON_EMPTY;
    st = jp_header_decode(buf, len, len, header);
    if (st != JP_OK)
        return st;
    for (i = 0; i < 2; i++) {
        /* The header check guarantees offsets[i] <= offsets[i+1] <= len. */
        const uint8_t *section = buf + header->offsets[i];
        size_t n = header->offsets[i + 1] - header->offsets[i];
        jp_json_scan(section, n, NULL, 0, scratch, scratch_len, &results[i]);
    }
    return JP_OK;
}
