/* header_fuzzer.c -- libFuzzer target for the header code (csrc/header.c).
 *
 * Properties, for any input:
 *   - jp_header_decode never reads outside the buffer it is given, whatever
 *     pack length is claimed, and a pass means the master's rules hold;
 *   - decoding the first 128 bytes with the file size gives the same verdict
 *     as decoding the whole pack (how JobPack.offsets reads a file);
 *   - jp_header_write then jp_header_decode gives the fields back;
 *   - jp_layout with any four lengths either refuses (JP_ERR_TOO_LARGE,
 *     exactly when a 32-bit offset would overflow) or writes a header that
 *     decodes, with JP_OK, to the same offsets;
 *   - jp_pack_scan (header and both JSON sections in one call) agrees with
 *     jp_header_decode and a jp_json_scan of each section, and with a
 *     scratch stack too small it reports JP_ERR_BUFFER_TOO_SMALL per
 *     section instead of overflowing it;
 *   - jp_pack_float_check (header and both sections' float checks) agrees
 *     with jp_header_decode and jp_json_float_risk of each section.
 */
#include <stdint.h>
#include <string.h>

#include "jobpack.h"
#include "fuzz_check.h"
#include "custom_mutator.h"

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void check_verdict(const jp_header *h, jp_status st, uint64_t pack_len)
{
    CHECK(st >= 0 && st < JP_STATUS_COUNT);
    CHECK(jp_status_message(st) != NULL && jp_status_name(st) != NULL);
    CHECK(h->length == pack_len);
    CHECK(h->reserved_nonzero == -1 ||
          (h->reserved_nonzero >= 20 && h->reserved_nonzero < 128));
    if (st == JP_OK) {
        CHECK(h->magic == 0xd5c0);
        CHECK(h->offsets[0] == 128);
        CHECK(h->offsets[1] > h->offsets[0]);
        CHECK(h->offsets[2] >= h->offsets[1]);
        CHECK(h->offsets[3] >= h->offsets[2]);
        CHECK((uint64_t)h->offsets[3] <= pack_len);
    } else {
        CHECK(st >= JP_ERR_HEADER_SHORT && st <= JP_ERR_TRUNCATED);
    }
}

static void check_pack_scan(const uint8_t *buf, size_t size)
{
    jp_header h, h2;
    jp_json_result res[2], one;
    size_t scratch_len = size / 8 + 1, small = 1;
    uint8_t *scratch = (uint8_t *)malloc(scratch_len);
    jp_status st, st2;
    int i;

    CHECK(scratch != NULL);
    st = jp_pack_scan(buf, size, &h, res, scratch, scratch_len);
    st2 = jp_header_decode(buf, size, size, &h2);
    CHECK(st == st2);
    CHECK(memcmp(h.offsets, h2.offsets, sizeof h.offsets) == 0);
    if (st == JP_OK) {
        for (i = 0; i < 2; i++) {
            const uint8_t *sec = buf + h.offsets[i];
            size_t n = h.offsets[i + 1] - h.offsets[i];
            uint8_t *copy = fuzz_dup(sec, n);
            uint8_t *scratch2 = (uint8_t *)malloc(n / 8 + 1);
            CHECK(scratch2 != NULL);
            st2 = jp_json_scan(copy, n, NULL, 0, scratch2, n / 8 + 1, &one);
            CHECK(res[i].status == (int)st2);
            CHECK(res[i].features == one.features && res[i].top_type == one.top_type);
            CHECK(res[i].error_offset == one.error_offset);
            CHECK(res[i].max_depth == one.max_depth);
            free(scratch2);
            free(copy);
        }
        /* One byte of scratch: deep sections fail cleanly. */
        free(scratch);
        scratch = (uint8_t *)malloc(small);
        CHECK(scratch != NULL);
        st2 = jp_pack_scan(buf, size, &h2, res, scratch, small);
        CHECK(st2 == JP_OK);
        for (i = 0; i < 2; i++)
            CHECK(res[i].status >= 0 && res[i].status < JP_STATUS_COUNT);
    } else {
        CHECK(res[0].status == JP_ERR_JSON_EMPTY && res[1].status == JP_ERR_JSON_EMPTY);
    }
    free(scratch);
}

static void check_pack_float_check(const uint8_t *buf, size_t size)
{
    jp_pack_floats f;
    jp_header h;
    jp_status st = jp_pack_float_check(buf, size, &f);
    int i;

    CHECK(st == jp_header_decode(buf, size, size, &h));
    CHECK(memcmp(&f.header, &h, sizeof h) == 0);
    for (i = 0; i < 2; i++) {
        if (st != JP_OK) {
            CHECK(f.float_risk[i] == JP_OK);
        } else {
            size_t n = h.offsets[i + 1] - h.offsets[i];
            uint8_t *copy = fuzz_dup(buf + h.offsets[i], n);
            CHECK(f.float_risk[i] == (int32_t)jp_json_float_risk(copy, n));
            free(copy);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jp_header whole, head, part, back;
    jp_status st, st2;
    uint8_t *buf = fuzz_dup(data, size);
    uint8_t out[128];
    size_t head_len = size < 128 ? size : 128;

    /* The whole pack. */
    st = jp_header_decode(buf, size, size, &whole);
    check_verdict(&whole, st, size);
    check_pack_float_check(buf, size);

    /* The first 128 bytes and the file size: same verdict. */
    st2 = jp_header_decode(buf, head_len, size, &head);
    check_verdict(&head, st2, size);
    CHECK(st2 == st);
    CHECK(memcmp(head.offsets, whole.offsets, sizeof whole.offsets) == 0);

    /* A claimed length shorter than the buffer: never read past it. */
    st2 = jp_header_decode(buf, size, size / 2, &part);
    check_verdict(&part, st2, size / 2);

    /* A claimed length far beyond the buffer: only the buffer is read. */
    st2 = jp_header_decode(buf, head_len, UINT64_MAX, &part);
    check_verdict(&part, st2, UINT64_MAX);

    if (size >= 20) {
        /* write -> decode gives the same fields back. */
        uint32_t offsets[4];
        memcpy(offsets, whole.offsets, sizeof offsets);
        jp_header_write(whole.magic_word, offsets, out);
        CHECK(memcmp(out, buf, 20) == 0);
        st2 = jp_header_decode(out, sizeof out, size, &back);
        CHECK(back.magic_word == whole.magic_word);
        CHECK(memcmp(back.offsets, whole.offsets, sizeof offsets) == 0);
        CHECK(back.reserved_nonzero == -1);
        CHECK(st2 == st || st == JP_ERR_HEADER_SHORT);
    }

    if (size >= 34) {
        /* jp_layout with four lengths taken from the input. */
        uint64_t lens[4];
        uint64_t at = 128;
        int i, too_large = 0;
        jp_header laid, dec;
        uint16_t version = (uint16_t)((data[0] << 8) | data[1]);

        for (i = 0; i < 4; i++) {
            lens[i] = rd64(data + 2 + 8 * i);
            /* small lengths most of the time, so both outcomes are common */
            if (!(data[33] & (1u << i)))
                lens[i] &= 0xffffffu;
        }
        for (i = 0; i < 4; i++) {
            if (lens[i] > UINT32_MAX || at > UINT32_MAX - lens[i]) {
                too_large = 1;
                break;
            }
            at += lens[i];
        }
        memset(out, 0xaa, sizeof out);
        st = jp_layout(version, lens[0], lens[1], lens[2], lens[3], out, &laid);
        if (too_large) {
            CHECK(st == JP_ERR_TOO_LARGE);
        } else {
            CHECK(st == JP_OK);
            CHECK(laid.length == at);
            CHECK(laid.version == version && laid.magic == 0xd5c0);
            st2 = jp_header_decode(out, sizeof out, laid.length, &dec);
            if (lens[0] == 0) {
                CHECK(st2 == JP_ERR_HEADER_ENVS_OFFSET);
            } else {
                CHECK(st2 == JP_OK);
            }
            CHECK(memcmp(dec.offsets, laid.offsets, sizeof dec.offsets) == 0);
            CHECK(dec.reserved_nonzero == -1);
            CHECK(dec.version == version);
        }
    }

    check_pack_scan(buf, size);
    free(buf);
    return 0;
}
