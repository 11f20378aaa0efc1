/* json_fuzzer.c -- libFuzzer target for the mochijson2 dialect scanner
 * (csrc/mochijson.c).
 *
 * Properties, for any input (every buffer is allocated to its exact size, so
 * AddressSanitizer sees any read or write one byte out):
 *   - the scan without output and the scan with output agree on the status,
 *     the error offset, the features and the top-level type;
 *   - with output, out_len <= jp_json_out_bound(len) and the output is
 *     standard JSON: rescanned, it passes with no dialect-only feature
 *     (unless the input had lax UTF-8, which becomes \udcXX escapes that the
 *     master itself refuses), and converting it again gives the same bytes,
 *     the same escapes only Python reads (JP_JSON_PY_ESCAPE) and the same
 *     longest integer;
 *   - an output buffer or a scratch stack that is too small gives
 *     JP_ERR_BUFFER_TOO_SMALL (or the input's own error), never an overflow;
 *   - offsets stay inside the input, and result.status is the status;
 *   - a top-level float is refused as out of range (JP_ERR_JSON_NUMBER)
 *     exactly when the C library's correctly rounded strtod overflows;
 *   - jp_json_float_risk reads any input within its bounds and answers
 *     JP_OK or JP_ERR_JSON_NUMBER, and jp_json_float_check (its fast first
 *     pass in front) answers the same;
 *   - jp_json_repeated_key (csrc/keys.c) reads and writes in bounds, always
 *     answers a section the scanner accepts, and answers the same or
 *     JP_KEYS_UNKNOWN with fewer slots.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "jobpack.h"
#include "fuzz_check.h"
#include "custom_mutator.h"

enum { DIALECT = JP_JSON_DIALECT_ONLY };
/* The mask must be exactly the five dialect-only bits (checked at compile time). */
typedef char dialect_mask_is_the_five_bits[
    DIALECT == (JP_JSON_TRAILING_COMMA | JP_JSON_RAW_CONTROL | JP_JSON_ODD_ESCAPE |
                JP_JSON_NONSTRING_KEY | JP_JSON_LAX_UTF8) ? 1 : -1];

static jp_status scan(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                      size_t scratch_len, jp_json_result *r)
{
    uint8_t *scratch = (uint8_t *)malloc(scratch_len ? scratch_len : 1);
    jp_status st;

    CHECK(scratch != NULL);
    memset(r, 0x5a, sizeof *r);
    st = jp_json_scan(in, len, out, cap, scratch_len ? scratch : NULL,
                      scratch_len, r);
    free(scratch);
    CHECK(st >= 0 && st < JP_STATUS_COUNT);
    CHECK(r->status == (int)st);
    return st;
}

static int digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* The JSON number token at in[at..] (-? int frac? exp?, as the scanner
 * reads it): does strtod overflow on it?  Returns -1 when the token is an
 * integer (no fraction, no exponent: not a float) or malformed. */
static int strtod_overflows(const uint8_t *in, size_t len, size_t at)
{
    size_t end = at;
    int is_float = 0;
    char *copy;
    double v;

    if (end < len && in[end] == '-')
        end++;
    if (end >= len || !digit(in[end]))
        return -1;
    if (in[end] == '0')
        end++;
    else
        while (end < len && digit(in[end]))
            end++;
    if (len - end >= 2 && in[end] == '.' && digit(in[end + 1])) {
        is_float = 1;
        end++;
        while (end < len && digit(in[end]))
            end++;
    }
    if (end < len && (in[end] == 'e' || in[end] == 'E')) {
        size_t e = end + 1;
        if (e < len && (in[e] == '+' || in[e] == '-'))
            e++;
        if (e >= len || !digit(in[e]))
            return -1;
        while (e < len && digit(in[e]))
            e++;
        end = e;
        is_float = 1;
    }
    if (!is_float)
        return -1;
    copy = (char *)malloc(end - at + 1);
    CHECK(copy != NULL);
    memcpy(copy, in + at, end - at);
    copy[end - at] = 0;
    v = strtod(copy, NULL);
    free(copy);
    return isinf(v) ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = fuzz_dup(data, size);
    size_t scratch_len = size / 8 + 1;
    size_t bound = jp_json_out_bound(size);
    uint8_t *out, *out2;
    jp_json_result r1, r2, r3, r4;
    jp_status s1, s2, s3;

    CHECK(bound >= size);
    s1 = jp_json_float_risk(in, size);
    CHECK(s1 == JP_OK || s1 == JP_ERR_JSON_NUMBER);
    CHECK(jp_json_float_check(in, size) == s1);
    s1 = scan(in, size, NULL, 0, scratch_len, &r1);
    CHECK(s1 != JP_ERR_BUFFER_TOO_SMALL);
    CHECK(r1.out_len == 0);
    CHECK(r1.max_depth <= size);
    if (s1 == JP_OK) {
        CHECK(r1.top_type >= JP_JSON_OBJECT && r1.top_type <= JP_JSON_LITERAL);
        CHECK(!(r1.features & DIALECT) || r1.feature_offset < size);
        CHECK(!(r1.features & JP_JSON_DEEP) || r1.max_depth > JP_JSON_DEEP_LIMIT);
        CHECK(!(r1.features & JP_JSON_PY_ESCAPE) || r1.escape_offset < size);
        CHECK(r1.max_int_digits <= size);
        CHECK(!(r1.features & JP_JSON_BIG_INT) || r1.max_int_digits > JP_JSON_BIG_INT_DIGITS ||
              (r1.features & JP_JSON_NONSTRING_KEY));
    } else {
        CHECK((s1 >= JP_ERR_JSON_EMPTY && s1 <= JP_ERR_JSON_TRAILING) ||
              s1 == JP_ERR_JSON_TOO_DEEP);
        CHECK(r1.error_offset <= size);
    }

    /* A top-level number: the overflow check agrees with strtod. */
    {
        size_t at = 0;
        while (at < size && strchr(" \t\r\n", in[at]) != NULL && in[at] != 0)
            at++;
        if (at < size && (in[at] == '-' || (in[at] >= '0' && in[at] <= '9'))) {
            int over = strtod_overflows(in, size, at);
            if (s1 == JP_ERR_JSON_NUMBER && r1.error_offset == at)
                CHECK(over == 1);
            if (s1 == JP_OK || (s1 == JP_ERR_JSON_TRAILING && r1.error_offset > at))
                CHECK(over != 1);
        }
    }

    out = (uint8_t *)malloc(bound);
    CHECK(out != NULL);
    s2 = scan(in, size, out, bound, scratch_len, &r2);
    CHECK(s2 == s1);
    CHECK(r2.out_len <= bound);
    if (s1 == JP_OK) {
        CHECK(r2.features == r1.features);
        CHECK(r2.top_type == r1.top_type);
        CHECK(r2.max_depth == r1.max_depth);
        CHECK(r2.feature_offset == r1.feature_offset);
        CHECK(r2.escape_offset == r1.escape_offset);
        CHECK(r2.max_int_digits == r1.max_int_digits);
    } else {
        CHECK(r2.error_offset == r1.error_offset);
    }

    if (s1 == JP_OK) {
        size_t n = (size_t)r2.out_len;
        uint8_t *std_json = fuzz_dup(out, n);
        size_t bound2 = jp_json_out_bound(n);

        /* The output is standard JSON, and converting it is idempotent. */
        out2 = (uint8_t *)malloc(bound2);
        CHECK(out2 != NULL);
        s3 = scan(std_json, n, out2, bound2, n / 8 + 1, &r3);
        if (!(r1.features & JP_JSON_LAX_UTF8)) {
            CHECK(s3 == JP_OK);
            CHECK((r3.features & DIALECT) == 0);
            CHECK(r3.top_type == r1.top_type);
            CHECK(r3.max_depth == r1.max_depth);
            CHECK(r3.max_int_digits == r1.max_int_digits);
            CHECK((r3.features & JP_JSON_PY_ESCAPE) == (r1.features & JP_JSON_PY_ESCAPE));
            CHECK(r3.out_len == n && memcmp(out2, std_json, n) == 0);
        }
        free(out2);
        free(std_json);

        /* An output buffer one byte short of what was needed. */
        if (n > 0) {
            uint8_t *small = (uint8_t *)malloc(n - 1 ? n - 1 : 1);
            CHECK(small != NULL);
            s3 = scan(in, size, small, n - 1, scratch_len, &r4);
            CHECK(s3 == JP_ERR_BUFFER_TOO_SMALL);
            CHECK(r4.out_len <= n - 1);
            free(small);
        }

        /* A scratch stack one bit short of the nesting depth. */
        if (r1.max_depth > 0) {
            size_t short_len = (size_t)((r1.max_depth - 1) / 8);
            s3 = scan(in, size, NULL, 0, short_len, &r4);
            if (short_len * 8 < r1.max_depth)
                CHECK(s3 == JP_ERR_BUFFER_TOO_SMALL);
        }
    } else if (r1.max_depth > 8) {
        /* A small scratch stack on a failing input: either error, no overflow. */
        s3 = scan(in, size, NULL, 0, 1, &r4);
        CHECK(s3 == s1 || s3 == JP_ERR_BUFFER_TOO_SMALL);
    }

    /* Repeated keys (csrc/keys.c): any input read in bounds, slots written
     * in bounds; a section the scanner accepts always gets an answer with a
     * slot per byte, and fewer slots give that answer or JP_KEYS_UNKNOWN. */
    {
        size_t n_slots = size + 1, few = size / 4;
        jp_key_slot *slots = (jp_key_slot *)malloc(n_slots * sizeof *slots);
        int k1, k2;

        CHECK(slots != NULL);
        k1 = jp_json_repeated_key(in, size, slots, n_slots);
        CHECK(k1 == JP_KEYS_UNIQUE || k1 == JP_KEYS_REPEATED || k1 == JP_KEYS_UNKNOWN);
        if (s1 == JP_OK)
            CHECK(k1 != JP_KEYS_UNKNOWN);
        free(slots);
        slots = (jp_key_slot *)malloc((few ? few : 1) * sizeof *slots);
        CHECK(slots != NULL);
        k2 = jp_json_repeated_key(in, size, slots, few);
        CHECK(k2 == k1 || k2 == JP_KEYS_UNKNOWN);
        free(slots);
    }

    free(out);
    free(in);
    return 0;
}
