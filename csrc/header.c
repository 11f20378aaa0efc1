/* header.c -- the 128-byte header: layout, encoding, decoding and the
 * master's header checks, each in one call so Python crosses once. */
#include <string.h>
#include "jobpack.h"

enum { HEADER_SIZE = 128, HEADER_FIELDS_SIZE = 20, MAGIC = 0xd5c0 };

static uint32_t read_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void write_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

jp_status jp_header_decode(const uint8_t *buf, size_t buf_len,
                           uint64_t pack_len, jp_header *out)
{
    size_t i, fields, len;

    memset(out, 0, sizeof *out);
    /* Never read past buf_len, whatever pack_len claims. */
    len = (uint64_t)buf_len < pack_len ? buf_len : (size_t)pack_len;
    out->length = pack_len;
    out->reserved_nonzero = -1;

    /* Fill in whatever whole fields the buffer holds, for tools. */
    fields = len / 4 < 5 ? len / 4 : 5;
    if (fields >= 1) {
        out->magic_word = read_be32(buf);
        out->magic = (uint16_t)(out->magic_word >> 16);
        out->version = (uint16_t)(out->magic_word & 0xffff);
    }
    for (i = 1; i < fields; i++)
        out->offsets[i - 1] = read_be32(buf + 4 * i);
    /* Reserved bytes: one memcmp (vectorised) for the common all-zero case,
     * a byte loop only to locate the first non-zero one. */
    if (len > HEADER_FIELDS_SIZE) {
        static const uint8_t zeros[HEADER_SIZE - HEADER_FIELDS_SIZE];
        size_t n = (len < HEADER_SIZE ? len : HEADER_SIZE) - HEADER_FIELDS_SIZE;
        if (memcmp(buf + HEADER_FIELDS_SIZE, zeros, n) != 0) {
            for (i = HEADER_FIELDS_SIZE; buf[i] == 0; i++)
                ;
            out->reserved_nonzero = (int64_t)i;
        }
    }

    /* The master's checks, in its order (jobpack:valid/1). */
    if (len < HEADER_FIELDS_SIZE) {
        out->error_offset = pack_len;
        return JP_ERR_HEADER_SHORT;
    }
    if (out->magic != MAGIC) {
        out->error_offset = 0;
        return JP_ERR_HEADER_MAGIC;
    }
    if (out->offsets[0] != HEADER_SIZE) {
        out->error_offset = 4;
        return JP_ERR_HEADER_DICT_OFFSET;
    }
    if (out->offsets[1] <= out->offsets[0]) {
        out->error_offset = 8;
        return JP_ERR_HEADER_ENVS_OFFSET;
    }
    if (out->offsets[2] < out->offsets[1]) {
        out->error_offset = 12;
        return JP_ERR_HEADER_HOME_OFFSET;
    }
    if (out->offsets[3] < out->offsets[2]) {
        out->error_offset = 16;
        return JP_ERR_HEADER_DATA_OFFSET;
    }
    if (pack_len < (uint64_t)out->offsets[3]) {
        out->error_offset = pack_len;
        return JP_ERR_TRUNCATED;
    }
    return JP_OK;
}

void jp_header_write(uint32_t magic_word, const uint32_t *offsets,
                     uint8_t *header_out)
{
    int i;

    memset(header_out, 0, HEADER_SIZE);
    write_be32(header_out, magic_word);
    for (i = 0; i < 4; i++)
        write_be32(header_out + 4 + 4 * i, offsets[i]);
}

jp_status jp_layout(uint16_t version, uint64_t dict_len, uint64_t envs_len,
                    uint64_t home_len, uint64_t data_len,
                    uint8_t *header_out, jp_header *out)
{
    const uint64_t lens[4] = {dict_len, envs_len, home_len, data_len};
    const uint64_t limit = UINT32_MAX;
    uint64_t at = HEADER_SIZE;
    int i;

    memset(out, 0, sizeof *out);
    out->reserved_nonzero = -1;
    out->magic = MAGIC;
    out->version = version;
    out->magic_word = ((uint32_t)MAGIC << 16) | version;
    for (i = 0; i < 4; i++) {
        /* Each offset must fit in 32 bits, and so must the end of the pack
         * (a pack of 4 GiB or more has no valid jobdata length). */
        if (lens[i] > limit || at > limit - lens[i]) {
            out->error_offset = at;
            return JP_ERR_TOO_LARGE;
        }
        out->offsets[i] = (uint32_t)at;
        at += lens[i];
    }
    out->length = at;
    jp_header_write(out->magic_word, out->offsets, header_out);
    return JP_OK;
}
