/* replica_replay.c -- replay packs through the C half of our replica of the
 * master (header checks and the mochijson2 scanner), calling the core the
 * way jobpack/validate.py does, and print one line of results per pack.
 *
 *     replica_replay RECORDS_FILE
 *
 * RECORDS_FILE holds packs as records: a 4-byte little-endian length, then
 * the pack.  fuzz/generator_coverage.py writes it from the seeded draw,
 * builds this driver with gcc --coverage to measure branch coverage, and
 * fuzz/generator_mutation.py builds it against mutants of the core and
 * compares the lines.  Each pack is copied into a buffer of exactly its
 * size, so a sanitizer build sees any out-of-bounds read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobpack.h"

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* As jobpack._json.decode_section: jp_json_float_risk first (may Python's
 * json read the section without checking each float?); then as
 * jobpack._core.scan_json: scratch of len / 8 + 1 bytes (at least 4096), a
 * check-only scan, then, if it passed, a converting scan into a buffer of
 * jp_json_out_bound(len) bytes. */
static void scan_section(const uint8_t *in, size_t len)
{
    size_t bits = len / 8 + 1 < 4096 ? 4096 : len / 8 + 1;
    uint8_t *scratch = malloc(bits);
    uint8_t *section = malloc(len ? len : 1);
    jp_json_result r, conv;
    jp_status st;

    if (scratch == NULL || section == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memcpy(section, in, len);
    printf(" [r%d", (int)jp_json_float_risk(section, len));
    st = jp_json_scan(section, len, NULL, 0, scratch, bits, &r);
    printf(" %d %d", (int)st, r.top_type);
    /* Where the master fails on an escape only Python reads (jobpack._core
     * reports it whatever the status). */
    if (r.features & JP_JSON_PY_ESCAPE)
        printf(" esc@%llu", (unsigned long long)r.escape_offset);
    if (st != JP_OK) {
        printf(" err@%llu]", (unsigned long long)r.error_offset);
    } else {
        size_t cap = jp_json_out_bound(len);
        uint8_t *out = malloc(cap);
        if (out == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        st = jp_json_scan(section, len, out, cap, scratch, bits, &conv);
        printf(" f%u@%llu d%llu i%llu conv%d %016llx]", r.features,
               (unsigned long long)(r.features & JP_JSON_DIALECT_ONLY ? r.feature_offset : 0),
               (unsigned long long)r.max_depth, (unsigned long long)r.max_int_digits, (int)st,
               (unsigned long long)fnv1a(out, (size_t)conv.out_len));
        free(out);
    }
    free(section);
    free(scratch);
}

static void replay(const uint8_t *pack, size_t len)
{
    uint8_t *buf = malloc(len ? len : 1);
    uint8_t scratch[4096];
    jp_header h;
    jp_json_result results[2];
    jp_status st;
    int i;

    if (buf == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memcpy(buf, pack, len);
    st = jp_header_decode(buf, len, len, &h);
    printf("h%d@%llu r%lld m%08x o%u,%u,%u,%u", (int)st, (unsigned long long)h.error_offset,
           (long long)h.reserved_nonzero, h.magic_word, h.offsets[0], h.offsets[1],
           h.offsets[2], h.offsets[3]);
    if (st == JP_OK) {
        for (i = 0; i < 2; i++)
            scan_section(buf + h.offsets[i], h.offsets[i + 1] - h.offsets[i]);
    }
    /* JobPack.loads(master_only=True)'s single crossing. */
    st = jp_pack_scan(buf, len, &h, results, scratch, sizeof scratch);
    printf(" p%d %d %d\n", (int)st, results[0].status, results[1].status);
    free(buf);
}

int main(int argc, char **argv)
{
    FILE *f;
    uint8_t lenbuf[4], *pack;
    size_t n;

    if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
        fprintf(stderr, "usage: %s RECORDS_FILE\n", argv[0]);
        return 2;
    }
    while (fread(lenbuf, 1, 4, f) == 4) {
        n = (size_t)lenbuf[0] | (size_t)lenbuf[1] << 8 | (size_t)lenbuf[2] << 16 |
            (size_t)lenbuf[3] << 24;
        pack = malloc(n ? n : 1);
        if (pack == NULL || fread(pack, 1, n, f) != n) {
            fprintf(stderr, "%s: truncated record\n", argv[1]);
            return 2;
        }
        replay(pack, n);
        free(pack);
    }
    fclose(f);
    return 0;
}
