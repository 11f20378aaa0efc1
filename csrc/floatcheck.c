/* floatcheck.c -- a fast first pass in front of jp_json_float_risk.
 *
 * Every JSON float has a '.' or an 'e'/'E' right after a digit, and only
 * two shapes can reach 1e309: an exponent, or more than 308 integer digits
 * before the '.'.  So one pass over the bytes looking for those three
 * (16 at a time with SSE2), with a short look around each one found after a
 * digit, clears most sections without walking every digit and without
 * telling strings from numbers.  Whatever it cannot clear goes to the exact
 * pass, jp_json_float_risk (mochijson.c), whose answer it returns: the two
 * answer the same for every input (fuzz/json_fuzzer.c checks it).
 *
 * Why it never clears what the exact pass flags: the exact pass flags a
 * number D1 [. D2] [eE [+-] D3] (a maximal digit run D1) by the digits of
 * D1 and the exponent D3.  Its 'e' follows a digit (of D2 or D1), so it is
 * a hit here, judged with the longer of the digit runs before it and before
 * a '.' in front of that (the exact pass may have started at either), and
 * the same exponent rule.  A '.' after D1 is a hit judged by D1 alone,
 * unless an 'e' follows it at once ("1.e400", which the exact pass reads as
 * an exponent and this pass sees no digit before): that goes to the exact
 * pass. */
#include <string.h>
#include "jobpack.h"

#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <emmintrin.h>
#define JP_FLOATCHECK_SSE2 1
#endif

enum { MAX_INT_DIGITS = 308 };   /* any more, or an exponent: maybe 1e309 */

static int is_digit_byte(uint8_t c)
{
    return (uint8_t)(c - '0') < 10;
}

static int is_mark(uint8_t c)
{
    return c == '.' || c == 'e' || c == 'E';
}

/* Digits in the run ending just before in[end], counting at most limit. */
static size_t digits_before(const uint8_t *in, size_t end, size_t limit)
{
    size_t n = 0;

    while (n < limit && n < end && is_digit_byte(in[end - 1 - n]))
        n++;
    return n;
}

/* A mark at in[at] right after a digit: could the number it belongs to
 * overflow?  Conservative (see the top of the file); reads only in[0..len). */
static int mark_may_overflow(const uint8_t *in, size_t len, size_t at)
{
    size_t n_int = digits_before(in, at, MAX_INT_DIGITS + 1), i = at + 1, exp10 = 0;

    if (in[at] == '.')
        return n_int > MAX_INT_DIGITS || (i < len && (in[i] == 'e' || in[i] == 'E'));
    if (n_int <= MAX_INT_DIGITS && n_int < at && in[at - n_int - 1] == '.') {
        size_t before = digits_before(in, at - n_int - 1, MAX_INT_DIGITS + 1);
        if (before > n_int)
            n_int = before;
    }
    if (n_int > MAX_INT_DIGITS)
        return 1;
    if (i < len && in[i] == '-')
        return 0;   /* at most 308 digits times a negative power of ten */
    if (i < len && in[i] == '+')
        i++;
    /* The exact pass's rule, n_int + exponent > 308, decided as soon as
     * it holds (so exp10 stays below 3100, whatever the exact pass's cap). */
    for (; i < len && is_digit_byte(in[i]); i++) {
        exp10 = exp10 * 10 + (size_t)(in[i] - '0');
        if (n_int + exp10 > MAX_INT_DIGITS)
            return 1;
    }
    return 0;
}

/* The marks after a digit in in[from..len), one byte at a time. */
static int tail_may_overflow(const uint8_t *in, size_t len, size_t from)
{
    size_t i;

    for (i = from ? from : 1; i < len; i++) {
        if (is_mark(in[i]) && is_digit_byte(in[i - 1]) && mark_may_overflow(in, len, i))
            return 1;
    }
    return 0;
}

#ifdef JP_FLOATCHECK_SSE2
/* 16 bytes at a time: a bit mask of the digits and one of the marks, then
 * the marks whose previous byte is a digit.  Returns the first index not
 * examined (the tail, under 16 bytes), or len + 1 when a mark may overflow. */
static size_t blocks_may_overflow(const uint8_t *in, size_t len)
{
    const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
    const __m128i dot = _mm_set1_epi8('.'), e = _mm_set1_epi8('e');
    const __m128i lower = _mm_set1_epi8(0x20);   /* 'E' | 0x20 == 'e' */
    unsigned carry = 0;   /* was the byte before this block a digit? */
    size_t i;

    for (i = 0; len - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
        __m128i d = _mm_sub_epi8(v, zero);
        unsigned digits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, nine), d));
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, dot),
                                 _mm_cmpeq_epi8(_mm_or_si128(v, lower), e));
        unsigned marks = (unsigned)_mm_movemask_epi8(m) & ((digits << 1) | carry);

        carry = (digits >> 15) & 1u;
        while (marks) {
            unsigned k = (unsigned)__builtin_ctz(marks);
            size_t at = i + k;

            marks &= marks - 1;
            /* A '.' with a non-digit in this block before it has fewer
             * than 16 digits: only an 'e' right after it matters. */
            if (in[at] == '.' && (digits & ((1u << k) - 1)) != (1u << k) - 1) {
                if (at + 1 < len && (in[at + 1] == 'e' || in[at + 1] == 'E'))
                    return len + 1;
            } else if (mark_may_overflow(in, len, at)) {
                return len + 1;
            }
        }
    }
    return i;
}
#endif

jp_status jp_json_float_check(const uint8_t *in, size_t len)
{
    size_t from = 0;

#ifdef JP_FLOATCHECK_SSE2
    from = blocks_may_overflow(in, len);
    if (from > len)
        return jp_json_float_risk(in, len);
#endif
    if (tail_may_overflow(in, len, from))
        return jp_json_float_risk(in, len);
    return JP_OK;
}

jp_status jp_pack_float_check(const uint8_t *buf, size_t len, jp_pack_floats *out)
{
    jp_status st = jp_header_decode(buf, len, len, &out->header);
    int i;

    out->float_risk[0] = out->float_risk[1] = JP_OK;
    if (st != JP_OK)
        return st;
    for (i = 0; i < 2; i++) {
        /* The header check guarantees offsets[i] <= offsets[i+1] <= len. */
        const uint8_t *section = buf + out->header.offsets[i];
        size_t n = out->header.offsets[i + 1] - out->header.offsets[i];
        out->float_risk[i] = (int32_t)jp_json_float_check(section, n);
    }
    return JP_OK;
}
