/* zipscan.c -- read the central directory of a job home ZIP archive.
 *
 * Pure pointer arithmetic over a caller-owned buffer: no allocation, no
 * globals, no printing.  Every read is preceded by a bounds check written as
 * a subtraction on uint64_t (off <= len && n <= len - off), so no sum can
 * wrap around and no byte outside [buf, buf + len) is ever touched.
 *
 * What is checked, so that a scan without an entries array is a full check:
 *   - the end-of-central-directory record (EOCD), found scanning backwards
 *     over at most 65535 + 22 bytes; a record whose comment ends exactly at
 *     the end of the buffer wins, else the last one whose comment fits;
 *   - the ZIP64 locator and record when the locator is present;
 *   - the directory lies inside the archive, before the (ZIP64) EOCD, and
 *     its entries fill it exactly (the count and the size agree, so readers
 *     that walk by count and readers that walk by size see the same entries);
 *   - each entry: signature, name/extra/comment inside the directory, ZIP64
 *     extra fields when a 32-bit field is 0xFFFFFFFF (or the disk 0xFFFF),
 *     local header signature, local name equal to the central name, and the
 *     local header, name, extra and compressed data inside the bytes before
 *     the central directory.
 * Not supported: archives with bytes prepended (self-extractors), whose
 * offsets are relative to a later start, and multi-disk archives.
 */
#include <string.h>

#include "jobpack.h"

#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_LOCAL 0x04034b50u

#define EOCD_SIZE 22u
#define EOCD64_SIZE 56u
#define LOC64_SIZE 20u
#define CENTRAL_SIZE 46u
#define LOCAL_SIZE 30u
#define MAX_COMMENT 65535u

#define UNSAFE_FLAGS (JP_ZIP_ABSOLUTE | JP_ZIP_DOTDOT | JP_ZIP_BACKSLASH | JP_ZIP_NUL)

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

/* True when [off, off + n) lies inside [0, limit). */
static int fits(uint64_t off, uint64_t n, uint64_t limit)
{
    return off <= limit && n <= limit - off;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* JP_ZIP_DOTDOT, JP_ZIP_BACKSLASH and JP_ZIP_NUL of a name, byte by byte. */
static uint32_t component_flags(const uint8_t *name, uint64_t n)
{
    uint32_t flags = 0;
    uint64_t comp_start = 0; /* start of the current path component */
    uint64_t i;

    for (i = 0; i <= n; i++) {
        uint8_t c = i < n ? name[i] : '/';
        if (c == '/' || c == '\\') {
            if (i - comp_start == 2 && name[comp_start] == '.' && name[comp_start + 1] == '.')
                flags |= JP_ZIP_DOTDOT;
            if (c == '\\' && i < n)
                flags |= JP_ZIP_BACKSLASH;
            comp_start = i + 1;
        } else if (c == 0) {
            flags |= JP_ZIP_NUL;
        }
    }
    return flags;
}

/* JP_ZIP_* bits that depend on the name alone.  The common name has no
 * backslash and no NUL: then only '/' splits components, and the dots,
 * found by memchr, are all a ".." component can start at (component_flags
 * costs about ten instructions a byte, a scan of a home's names most of it). */
static uint32_t name_flags(const uint8_t *name, uint64_t n)
{
    uint32_t flags = 0;
    const uint8_t *p, *dot, *end = name + n;

    if (n == 0)
        return 0;
    if (name[0] == '/' || name[0] == '\\')
        flags |= JP_ZIP_ABSOLUTE;
    if (n >= 2 && name[1] == ':' &&
        ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        flags |= JP_ZIP_ABSOLUTE;
    if (name[n - 1] == '/')
        flags |= JP_ZIP_DIRECTORY;
    if (memchr(name, '\\', n) != NULL || memchr(name, 0, n) != NULL)
        return flags | component_flags(name, n);
    for (p = name; (dot = memchr(p, '.', (size_t)(end - p))) != NULL; p = dot + 1) {
        /* dot < end; dot[1] only when dot + 1 < end, dot[2] when dot + 2 < end */
        if (end - dot >= 2 && dot[1] == '.' && (dot == name || dot[-1] == '/') &&
            (end - dot == 2 || dot[2] == '/'))
            return flags | JP_ZIP_DOTDOT;
    }
    return flags;
}

/* Find the EOCD record; returns its offset or -1. */
static int64_t find_eocd(const uint8_t *buf, uint64_t len)
{
    uint64_t lowest, pos;
    int64_t fallback = -1;

    if (len < EOCD_SIZE)
        return -1;
    lowest = len - EOCD_SIZE > MAX_COMMENT ? len - EOCD_SIZE - MAX_COMMENT : 0;
    pos = len - EOCD_SIZE;
    for (;;) {
        if (buf[pos] == 0x50 && rd32(buf + pos) == SIG_EOCD) {
            uint64_t comment = rd16(buf + pos + 20);
            uint64_t room = len - EOCD_SIZE - pos;
            if (comment == room)
                return (int64_t)pos;
            if (comment < room && fallback < 0)
                fallback = (int64_t)pos;
        }
        if (pos == lowest)
            break;
        pos--;
    }
    return fallback;
}

/* Look for the ZIP64 extended information extra field (id 0x0001) and
 * replace the fields that are saturated in the central header.  Returns 0 on
 * success, -1 when the extra data is malformed or a needed field is missing. */
static int read_zip64_extra(const uint8_t *extra, uint64_t extra_len,
                            uint64_t *usize, uint64_t *csize, uint64_t *lho,
                            int need_disk)
{
    uint64_t pos = 0;
    int need = *usize == 0xFFFFFFFFu || *csize == 0xFFFFFFFFu ||
               *lho == 0xFFFFFFFFu || need_disk;

    while (extra_len - pos >= 4) {
        uint16_t id = rd16(extra + pos);
        uint64_t size = rd16(extra + pos + 2);
        const uint8_t *data = extra + pos + 4;
        uint64_t used = 0;

        if (size > extra_len - pos - 4)
            return -1;
        if (id == 0x0001 && need) {
            if (*usize == 0xFFFFFFFFu) {
                if (size - used < 8)
                    return -1;
                *usize = rd64(data + used);
                used += 8;
            }
            if (*csize == 0xFFFFFFFFu) {
                if (size - used < 8)
                    return -1;
                *csize = rd64(data + used);
                used += 8;
            }
            if (*lho == 0xFFFFFFFFu) {
                if (size - used < 8)
                    return -1;
                *lho = rd64(data + used);
                used += 8;
            }
            if (need_disk) {
                if (size - used < 4 || rd32(data + used) != 0)
                    return -1;
            }
            return 0;
        }
        pos += 4 + size;
    }
    return need ? -1 : 0;
}

static jp_status fail(jp_zip_info *info, jp_status status, uint64_t offset)
{
    info->error_offset = offset;
    return status;
}

/* jp_zip_scan, and with name non-NULL the index of the first entry named
 * exactly name[0, name_len) in info->name_index (-1 when none). */
static jp_status scan(const uint8_t *buf, uint64_t len,
                      jp_zip_entry *entries, size_t max_entries,
                      const uint8_t *name, uint64_t want_len, jp_zip_info *info)
{
    uint64_t count, cd_offset, cd_size, cd_limit, pos, cd_end, i;
    int64_t eocd_at;
    uint64_t eocd;

    memset(info, 0, sizeof *info);
    info->first_flagged = -1;
    info->name_index = -1;
    if (len == 0)
        return JP_OK;

    eocd_at = find_eocd(buf, len);
    if (eocd_at < 0)
        return fail(info, JP_ERR_ZIP_NO_EOCD, len);
    eocd = (uint64_t)eocd_at;
    count = rd16(buf + eocd + 10);
    cd_size = rd32(buf + eocd + 12);
    cd_offset = rd32(buf + eocd + 16);
    cd_limit = eocd;

    /* ZIP64: a locator right before the EOCD points at the ZIP64 record. */
    if (eocd >= LOC64_SIZE && rd32(buf + eocd - LOC64_SIZE) == SIG_LOC64) {
        uint64_t loc = eocd - LOC64_SIZE;
        uint64_t rec = rd64(buf + loc + 8);
        if (rd32(buf + loc + 4) != 0 || rd32(buf + loc + 16) > 1)
            return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, loc);
        if (!fits(rec, EOCD64_SIZE, loc) || rd32(buf + rec) != SIG_EOCD64)
            return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, loc);
        /* the record's own size field (after its first 12 bytes) must fit */
        if (rd64(buf + rec + 4) < EOCD64_SIZE - 12 ||
            !fits(rec + 12, rd64(buf + rec + 4), loc))
            return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, rec);
        if (rd32(buf + rec + 16) != 0 || rd32(buf + rec + 20) != 0)
            return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, rec);
        count = rd64(buf + rec + 32);
        cd_size = rd64(buf + rec + 40);
        cd_offset = rd64(buf + rec + 48);
        cd_limit = rec;
    }

    info->cd_offset = cd_offset;
    info->cd_size = cd_size;
    if (!fits(cd_offset, cd_size, cd_limit))
        return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, eocd);
    /* every entry takes at least 46 bytes of the directory */
    if (count > cd_size / CENTRAL_SIZE)
        return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, eocd);
    info->entry_count = count;
    if (entries != NULL && max_entries < count)
        return JP_ERR_BUFFER_TOO_SMALL;

    pos = cd_offset;
    cd_end = cd_offset + cd_size;
    for (i = 0; i < count; i++) {
        const uint8_t *c;
        uint64_t name_len, extra_len, comment_len, usize, csize, lho, name_off;
        uint64_t lname_len, lextra_len, data_off;
        uint16_t made_by, disk;
        uint32_t flags, ext_attr;
        jp_zip_entry e;

        if (!fits(pos, CENTRAL_SIZE, cd_end))
            return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, pos);
        c = buf + pos;
        if (rd32(c) != SIG_CENTRAL)
            return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, pos);
        name_len = rd16(c + 28);
        extra_len = rd16(c + 30);
        comment_len = rd16(c + 32);
        if (!fits(pos + CENTRAL_SIZE, name_len + extra_len + comment_len, cd_end))
            return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, pos);
        made_by = rd16(c + 4);
        csize = rd32(c + 20);
        usize = rd32(c + 24);
        disk = rd16(c + 34);
        ext_attr = rd32(c + 38);
        lho = rd32(c + 42);
        name_off = pos + CENTRAL_SIZE;
        if (read_zip64_extra(buf + name_off + name_len, extra_len,
                             &usize, &csize, &lho, disk == 0xFFFFu) != 0)
            return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, pos);
        if (disk != 0 && disk != 0xFFFFu)
            return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, pos);

        /* local header, name, extra and data all precede the directory */
        if (!fits(lho, LOCAL_SIZE, cd_offset) || rd32(buf + lho) != SIG_LOCAL)
            return fail(info, JP_ERR_ZIP_BAD_ENTRY, pos);
        lname_len = rd16(buf + lho + 26);
        lextra_len = rd16(buf + lho + 28);
        data_off = lho + LOCAL_SIZE + lname_len + lextra_len;
        if (!fits(lho + LOCAL_SIZE, lname_len + lextra_len, cd_offset) ||
            !fits(data_off, csize, cd_offset))
            return fail(info, JP_ERR_ZIP_BAD_ENTRY, lho);
        if (lname_len != name_len ||
            (name_len != 0 && memcmp(buf + lho + LOCAL_SIZE, buf + name_off, name_len) != 0))
            return fail(info, JP_ERR_ZIP_BAD_ENTRY, lho);

        if (name != NULL && info->name_index < 0 && name_len == want_len &&
            (want_len == 0 || memcmp(buf + name_off, name, want_len) == 0))
            info->name_index = (int64_t)i;
        flags = name_flags(buf + name_off, name_len);
        if (rd16(c + 8) & 1u)
            flags |= JP_ZIP_ENCRYPTED;
        if ((made_by >> 8) == 3 && ((ext_attr >> 16) & 0170000u) == 0120000u)
            flags |= JP_ZIP_SYMLINK;

        info->total_uncompressed = sat_add(info->total_uncompressed, usize);
        info->total_compressed = sat_add(info->total_compressed, csize);
        info->flags_union |= flags;
        if ((flags & UNSAFE_FLAGS) && info->first_flagged < 0)
            info->first_flagged = (int64_t)i;

        if (entries != NULL) {
            e.name_offset = name_off;
            e.name_len = (uint32_t)name_len;
            e.flags = flags;
            e.compressed_size = csize;
            e.uncompressed_size = usize;
            e.local_header_offset = lho;
            e.data_offset = data_off;
            e.crc32 = rd32(c + 16);
            e.external_attr = ext_attr;
            e.method = rd16(c + 10);
            e.gp_flags = rd16(c + 8);
            e.mod_time = rd16(c + 12);
            e.mod_date = rd16(c + 14);
            e.version_made_by = made_by;
            entries[i] = e;
        }
        pos = name_off + name_len + extra_len + comment_len;
    }
    /* the count and the size must describe the same entries */
    if (pos != cd_end)
        return fail(info, JP_ERR_ZIP_BAD_DIRECTORY, pos);
    return JP_OK;
}

jp_status jp_zip_scan(const uint8_t *buf, size_t len,
                      jp_zip_entry *entries, size_t max_entries,
                      jp_zip_info *info)
{
    return scan(buf, (uint64_t)len, entries, max_entries, NULL, 0, info);
}

jp_status jp_zip_scan_named(const uint8_t *buf, size_t buf_len,
                            uint64_t offset, uint64_t len,
                            const uint8_t *name, size_t name_len,
                            jp_zip_info *info)
{
    if (!fits(offset, len, (uint64_t)buf_len)) {
        memset(info, 0, sizeof *info);
        info->first_flagged = -1;
        info->name_index = -1;
        return fail(info, JP_ERR_TRUNCATED, (uint64_t)buf_len);
    }
    return scan(buf + offset, len, NULL, 0, name, (uint64_t)name_len, info);
}

int64_t jp_zip_find(const uint8_t *buf, size_t len,
                    const jp_zip_entry *entries, size_t count,
                    const uint8_t *name, size_t name_len)
{
    size_t i;

    for (i = 0; i < count; i++) {
        const jp_zip_entry *e = &entries[i];
        if (e->name_len != name_len || !fits(e->name_offset, e->name_len, (uint64_t)len))
            continue;
        if (name_len == 0 || memcmp(buf + e->name_offset, name, name_len) == 0)
            return (int64_t)i;
    }
    return -1;
}
