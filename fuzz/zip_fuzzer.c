/* zip_fuzzer.c -- libFuzzer target for the ZIP central directory scanner
 * (csrc/zipscan.c).
 *
 * Properties, for any input (buffers allocated to their exact size):
 *   - jp_zip_scan without entries (the count pass) and with an array of
 *     exactly entry_count entries agree on the status and the summary;
 *   - a pass means every entry's name, local header and data lie inside the
 *     buffer and before the central directory, and the summary is the sum of
 *     the entries;
 *   - an array one entry short gives JP_ERR_BUFFER_TOO_SMALL;
 *   - jp_zip_find finds each entry's name (at that index or an earlier entry
 *     with the same name) and never finds a name longer than any entry;
 *   - jp_zip_scan_named of the input inside a larger buffer gives jp_zip_scan's
 *     status and summary, and as name_index jp_zip_find's answer.
 */
#include <stdint.h>
#include <string.h>

#include "jobpack.h"
#include "fuzz_check.h"
#include "custom_mutator.h"

enum { UNSAFE = JP_ZIP_ABSOLUTE | JP_ZIP_DOTDOT | JP_ZIP_BACKSLASH | JP_ZIP_NUL };

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* jp_zip_scan_named of data[0, size) placed 3 bytes into a buffer with 5
 * more after it: jp_zip_scan's status (want_status) and summary (want), and
 * want_index as the name's index.  A range past the buffer's end is refused. */
static void check_named(const uint8_t *data, size_t size, jp_status want_status,
                        const jp_zip_info *want, const uint8_t *name, size_t name_len,
                        int64_t want_index)
{
    uint8_t *outer = (uint8_t *)malloc(size + 8);
    jp_zip_info got;

    CHECK(outer != NULL);
    memset(outer, 0x50, 3);
    memcpy(outer + 3, data, size);
    memset(outer + 3 + size, 0x50, 5);
    memset(&got, 0x5a, sizeof got);
    CHECK(jp_zip_scan_named(outer, size + 8, 3, size, name, name_len, &got) == want_status);
    if (want_status != JP_OK) {
        CHECK(got.error_offset == want->error_offset);
        free(outer);
        return;
    }
    CHECK(got.entry_count == want->entry_count && got.cd_offset == want->cd_offset &&
          got.cd_size == want->cd_size &&
          got.total_uncompressed == want->total_uncompressed &&
          got.total_compressed == want->total_compressed &&
          got.flags_union == want->flags_union && got.first_flagged == want->first_flagged);
    CHECK(got.name_index == want_index);
    CHECK(jp_zip_scan_named(outer, size + 8, 4, size + 5, name, name_len, &got) ==
          JP_ERR_TRUNCATED);
    free(outer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fuzz_dup(data, size);
    jp_zip_info info, info2;
    jp_zip_entry *entries;
    jp_status st, st2;
    uint64_t i, count, usum = 0, csum = 0;
    uint32_t flags_union = 0;
    int64_t first = -1;

    memset(&info, 0x5a, sizeof info);
    st = jp_zip_scan(buf, size, NULL, 0, &info);
    CHECK(st == JP_OK || st == JP_ERR_ZIP_NO_EOCD ||
          st == JP_ERR_ZIP_BAD_DIRECTORY || st == JP_ERR_ZIP_BAD_ENTRY);
    CHECK(jp_status_message(st) != NULL);
    if (st != JP_OK) {
        CHECK(info.error_offset <= size);
        check_named(data, size, st, &info, data, size < 8 ? size : 8, -1);
        /* An entries array does not change a failing verdict. */
        entries = (jp_zip_entry *)malloc(sizeof *entries);
        CHECK(entries != NULL);
        st2 = jp_zip_scan(buf, size, entries, 1, &info2);
        CHECK(st2 == st || st2 == JP_ERR_BUFFER_TOO_SMALL);
        free(entries);
        free(buf);
        return 0;
    }

    count = info.entry_count;
    CHECK(count <= size / 46);
    CHECK(info.cd_offset <= size && info.cd_size <= size - info.cd_offset);
    entries = (jp_zip_entry *)malloc((size_t)(count ? count : 1) * sizeof *entries);
    CHECK(entries != NULL);

    if (count > 0) {
        st2 = jp_zip_scan(buf, size, entries, (size_t)count - 1, &info2);
        CHECK(st2 == JP_ERR_BUFFER_TOO_SMALL);
    }
    memset(&info2, 0x5a, sizeof info2);
    st2 = jp_zip_scan(buf, size, count ? entries : NULL, (size_t)count, &info2);
    CHECK(st2 == JP_OK);
    CHECK(memcmp(&info, &info2, sizeof info) == 0);

    for (i = 0; i < count; i++) {
        const jp_zip_entry *e = &entries[i];
        int64_t found;

        CHECK(e->name_offset <= size && e->name_len <= size - e->name_offset);
        CHECK(e->name_offset >= info.cd_offset + 46);
        CHECK(e->local_header_offset + 30 <= info.cd_offset);
        CHECK(e->data_offset <= info.cd_offset);
        CHECK(e->compressed_size <= info.cd_offset - e->data_offset);
        CHECK(e->data_offset >= e->local_header_offset + 30 + e->name_len);
        CHECK(!(e->flags & JP_ZIP_DIRECTORY) ||
              (e->name_len > 0 && buf[e->name_offset + e->name_len - 1] == '/'));
        CHECK(!(e->flags & JP_ZIP_NUL) ||
              memchr(buf + e->name_offset, 0, e->name_len) != NULL);
        usum = sat_add(usum, e->uncompressed_size);
        csum = sat_add(csum, e->compressed_size);
        flags_union |= e->flags;
        if ((e->flags & UNSAFE) && first < 0)
            first = (int64_t)i;

        found = jp_zip_find(buf, size, entries, (size_t)count,
                            buf + e->name_offset, e->name_len);
        CHECK(found >= 0 && (uint64_t)found <= i);
        CHECK(entries[found].name_len == e->name_len);
        CHECK(e->name_len == 0 ||
              memcmp(buf + entries[found].name_offset, buf + e->name_offset,
                     e->name_len) == 0);
    }
    CHECK(usum == info.total_uncompressed);
    CHECK(csum == info.total_compressed);
    CHECK(flags_union == info.flags_union);
    CHECK(first == info.first_flagged);

    /* A name one byte longer than the whole buffer matches nothing. */
    {
        uint8_t *name = (uint8_t *)malloc(size + 1);
        CHECK(name != NULL);
        memset(name, 'a', size + 1);
        CHECK(jp_zip_find(buf, size, entries, (size_t)count, name, size + 1) == -1);
        /* The name given in the first bytes of the input, as the worker. */
        if (size > 0) {
            size_t n = data[0] % 32 < size ? data[0] % 32 : size;
            int64_t k = jp_zip_find(buf, size, entries, (size_t)count, data, n);
            CHECK(k >= -1 && k < (int64_t)count);
            if (k >= 0)
                CHECK(entries[k].name_len == n &&
                      (n == 0 || memcmp(buf + entries[k].name_offset, data, n) == 0));
            check_named(data, size, JP_OK, &info, data, n, k);
        }
        check_named(data, size, JP_OK, &info, NULL, 0, -1);
        free(name);
    }

    free(entries);
    free(buf);
    return 0;
}
