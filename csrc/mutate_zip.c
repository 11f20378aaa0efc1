/* mutate_zip.c -- the mutator's edits of a ZIP archive (the job home),
 * entry by entry (see mutate.c). */
#include "mutate_edit.h"


enum {
    EOCD_SIZE = 22, CDH_SIZE = 46, LFH_SIZE = 30,
    EOCD_DISK_COUNT = 8, EOCD_COUNT = 10, EOCD_CD_SIZE = 12, EOCD_CD_OFFSET = 16,
    EOCD_COMMENT = 20,
    CDH_FLAGS = 8, CDH_METHOD = 10, CDH_CRC = 16, CDH_CSIZE = 20, CDH_USIZE = 24,
    CDH_NAME_LEN = 28, CDH_EXTRA_LEN = 30, CDH_COMMENT_LEN = 32, CDH_MADE_BY = 4,
    CDH_EXTERNAL = 38, CDH_LOCAL = 42,
    LFH_NAME_LEN = 26, LFH_EXTRA_LEN = 28
};

/* The end-of-central-directory record of [start, end): its offset, or 0
 * with *found = 0. */
static size_t find_eocd(const uint8_t *p, size_t start, size_t end, int *found)
{
    size_t at, lowest;

    *found = 0;
    if (end - start < EOCD_SIZE)
        return 0;
    lowest = end - start > EOCD_SIZE + 0xffff ? end - EOCD_SIZE - 0xffff : start;
    for (at = end - EOCD_SIZE + 1; at-- > lowest;)
        if (memcmp(p + at, "PK\x05\x06", 4) == 0) {
            *found = 1;
            return at;
        }
    return 0;
}

/* The k-th central directory entry of the archive at start whose EOCD is at
 * eocd: its offset and size, walking only through entries that fit. */
static int central_entry(const uint8_t *p, size_t start, size_t eocd, size_t k,
                         size_t *at, size_t *size, size_t *count)
{
    size_t pos = start + rd_le(p + eocd + EOCD_CD_OFFSET, 4), i, n;

    *count = 0;
    if (pos < start || pos > eocd)
        return 0;
    for (i = 0; eocd - pos >= CDH_SIZE && memcmp(p + pos, "PK\x01\x02", 4) == 0; i++) {
        n = CDH_SIZE + rd_le(p + pos + CDH_NAME_LEN, 2) + rd_le(p + pos + CDH_EXTRA_LEN, 2) +
            rd_le(p + pos + CDH_COMMENT_LEN, 2);
        if (n > eocd - pos)
            break;
        if (i == k) {
            *at = pos;
            *size = n;
        }
        pos += n;
    }
    *count = i;
    return k < i;
}

/* Add delta to a little-endian field (wrapping, as a careless writer would). */
static void bump_le(uint8_t *p, int n, long delta)
{
    wr_le(p, n, (uint32_t)(rd_le(p, n) + (uint32_t)delta));
}

static const char *const zip_names[] = {
    "../evil", "/abs", "a\\b", "C:/x", "dir/", ".disco/x", "job/worker.py", "worker",
    "a/../../b", "", "\xc3\xa9", "./w",
};

/* An off-by-one or extreme value for a field that held v. */
static uint32_t near(mbuf *m, uint32_t v, uint32_t edge, uint32_t max)
{
    switch (below(m, 6)) {
    case 0: return v + 1;
    case 1: return v - 1;
    case 2: return 0;
    case 3: return max;
    case 4: return edge;
    default: return edge + 1;
    }
}

/* Rename entry cd in the directory, its length and the directory's size
 * kept consistent. */
static int rename_central(mbuf *m, size_t eocd, size_t cd, const char *name, size_t n)
{
    size_t old = rd_le(m->p + cd + CDH_NAME_LEN, 2);

    if (!splice(m, cd + CDH_SIZE, old, name, n))
        return 0;
    wr_le(m->p + cd + CDH_NAME_LEN, 2, (uint32_t)n);
    eocd = eocd + n - old;    /* it moved with the name */
    bump_le(m->p + eocd + EOCD_CD_SIZE, 4, (long)n - (long)old);
    return 1;
}

/* Rename the local header of entry cd, moving what follows it: the later
 * entries' local offsets and the directory's offset follow. */
static void rename_local(mbuf *m, size_t start, size_t *eocd, size_t *cd,
                         const char *name, size_t n)
{
    size_t local = start + rd_le(m->p + *cd + CDH_LOCAL, 4), old, k, at, size, count;
    long delta;
    uint32_t rel;

    /* the local header and its name lie wholly before the entry */
    if (local < start || local >= *cd || *cd - local < LFH_SIZE ||
        memcmp(m->p + local, "PK\x03\x04", 4) != 0)
        return;
    old = rd_le(m->p + local + LFH_NAME_LEN, 2);
    if (old > *cd - local - LFH_SIZE || !splice(m, local + LFH_SIZE, old, name, n))
        return;
    wr_le(m->p + local + LFH_NAME_LEN, 2, (uint32_t)n);
    delta = (long)n - (long)old;
    *eocd += (size_t)delta;
    *cd += (size_t)delta;
    if (rd_le(m->p + *eocd + EOCD_CD_OFFSET, 4) > local - start)
        bump_le(m->p + *eocd + EOCD_CD_OFFSET, 4, delta);
    for (k = 0; central_entry(m->p, start, *eocd, k, &at, &size, &count); k++) {
        rel = rd_le(m->p + at + CDH_LOCAL, 4);
        if (rel > local - start)
            bump_le(m->p + at + CDH_LOCAL, 4, delta);
    }
}

/* One entry-level edit of the ZIP archive in [start, *end). */
void jpm_mutate_zip(mbuf *m, size_t start, size_t *end)
{
    size_t before = m->len, eocd, cd = 0, cdn = 0, count = 0, remaining;
    uint8_t *e, *c;
    int found, done = 1, op;

    eocd = find_eocd(m->p, start, *end, &found);
    if (!found) {       /* make it an (empty) archive, or edit bytes */
        if (below(m, 3) == 0)
            splice(m, *end, 0, "PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", EOCD_SIZE);
        *end = *end + m->len - before;
        if (m->len == before)
            jpm_mutate_bytes(m, start, end);
        return;
    }
    e = m->p + eocd;
    central_entry(m->p, start, eocd, SIZE_MAX, &cd, &cdn, &count);
    remaining = *end - eocd - EOCD_SIZE;
    op = (int)below(m, 10);
    if (op >= 4 && !central_entry(m->p, start, eocd, below(m, count), &cd, &cdn, &count))
        op = (int)below(m, 4);
    c = m->p + cd;
    switch (op) {
    case 0:     /* entry counts */
        if (below(m, 2))
            wr_le(e + EOCD_COUNT, 2, near(m, rd_le(e + EOCD_COUNT, 2), (uint32_t)count, 0xffff));
        else
            wr_le(e + EOCD_DISK_COUNT, 2,
                  near(m, rd_le(e + EOCD_DISK_COUNT, 2), (uint32_t)count, 0xffff));
        break;
    case 1:     /* central directory offset and size */
        if (below(m, 2))
            wr_le(e + EOCD_CD_OFFSET, 4, near(m, rd_le(e + EOCD_CD_OFFSET, 4),
                                             (uint32_t)(eocd - start), 0xffffffffu));
        else
            wr_le(e + EOCD_CD_SIZE, 4, near(m, rd_le(e + EOCD_CD_SIZE, 4),
                                           (uint32_t)(eocd - start), 0xffffffffu));
        break;
    case 2:     /* the archive comment */
        if (below(m, 2))
            wr_le(e + EOCD_COMMENT, 2,
                  near(m, rd_le(e + EOCD_COMMENT, 2), (uint32_t)remaining, 0xffff));
        else
            done = splice_str(m, *end, 0, "PK\x05\x06 trailing");
        break;
    case 3:     /* cut the archive, or junk before it */
        if (below(m, 2)) {
            size_t cut = eocd + below(m, EOCD_SIZE);
            done = splice(m, cut, *end - cut, NULL, 0);
        } else
            done = splice_str(m, start, 0, "junk");
        break;
    case 4:     /* name or extra length field, alone */
        if (below(m, 2))
            wr_le(c + CDH_NAME_LEN, 2, near(m, rd_le(c + CDH_NAME_LEN, 2), 0, 0xffff));
        else
            wr_le(c + CDH_EXTRA_LEN, 2, near(m, rd_le(c + CDH_EXTRA_LEN, 2), 0, 0xffff));
        break;
    case 5: {   /* another name: in both headers, or in the directory only */
        const char *name = zip_names[below(m, COUNT(zip_names))];
        size_t n = strlen(name) + (below(m, 4) == 0);     /* the NUL too */
        if (below(m, 3))
            rename_local(m, start, &eocd, &cd, name, n);
        done = rename_central(m, eocd, cd, name, n);
        break;
    }
    case 6: {   /* an extra field, lengths kept consistent (or not) */
        static const uint8_t extras[][12] = {
            {0x55, 0x54, 5, 0, 1, 0, 0, 0, 0},                  /* extended time */
            {0x01, 0x00, 8, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, /* zip64 sizes */
            {0x75, 0x78, 0xff, 0xff, 1, 4, 0, 0, 0},            /* too long */
        };
        size_t x = below(m, COUNT(extras)), n = x == 1 ? 12 : 9;
        size_t at = cd + CDH_SIZE + rd_le(c + CDH_NAME_LEN, 2);
        if ((done = splice(m, at, 0, extras[x], n)) && below(m, 4)) {
            bump_le(m->p + cd + CDH_EXTRA_LEN, 2, (long)n);
            bump_le(m->p + eocd + n + EOCD_CD_SIZE, 4, (long)n);
        }
        break;
    }
    case 7:     /* mode, flags, method */
        switch (below(m, 4)) {
        case 0:     /* a symbolic link, or a directory, made on Unix */
            wr_le(c + CDH_EXTERNAL, 4, below(m, 2) ? 0xa1ff0000u : 0x41ed0010u);
            wr_le(c + CDH_MADE_BY, 2, 0x031e);
            break;
        case 1:
            c[CDH_FLAGS] ^= below(m, 2) ? 1 : 8;    /* encrypted; data descriptor */
            break;
        case 2: {
            static const uint16_t methods[] = {0, 8, 12, 14, 99, 0xffff};
            wr_le(c + CDH_METHOD, 2, methods[below(m, COUNT(methods))]);
            break;
        }
        default:
            c[CDH_CRC + below(m, 4)] ^= 0xff;
        }
        break;
    case 8:     /* sizes and the local header offset */
        switch (below(m, 4)) {
        case 0:
            wr_le(c + CDH_CSIZE, 4, near(m, rd_le(c + CDH_CSIZE, 4),
                                       (uint32_t)(eocd - start), 0xffffffffu));
            break;
        case 1:     /* a bomb: a small entry that claims to be huge */
            wr_le(c + CDH_USIZE, 4, below(m, 2) ? 0x7fffffffu : 0xffffffffu);
            break;
        case 2:
            wr_le(c + CDH_LOCAL, 4, near(m, rd_le(c + CDH_LOCAL, 4),
                                       rd_le(e + EOCD_CD_OFFSET, 4), 0xffffffffu));
            break;
        default: {  /* the local header's own lengths */
            size_t local = start + rd_le(c + CDH_LOCAL, 4);
            if (local >= start && local < eocd && eocd - local >= LFH_SIZE &&
                memcmp(m->p + local, "PK\x03\x04", 4) == 0) {
                uint8_t *l = m->p + local + (below(m, 2) ? LFH_NAME_LEN : LFH_EXTRA_LEN);
                wr_le(l, 2, near(m, rd_le(l, 2), 0, 0xffff));
            } else {
                done = 0;
            }
        }
        }
        break;
    default:    /* repeat or drop an entry, the directory kept consistent */
        if (below(m, 2)) {
            if ((done = copy_within(m, cd + cdn, cd, cdn))) {
                eocd += cdn;
                e = m->p + eocd;
                bump_le(e + EOCD_COUNT, 2, 1);
                bump_le(e + EOCD_DISK_COUNT, 2, 1);
                bump_le(e + EOCD_CD_SIZE, 4, (long)cdn);
            }
        } else if ((done = splice(m, cd, cdn, NULL, 0))) {
            eocd -= cdn;
            e = m->p + eocd;
            bump_le(e + EOCD_COUNT, 2, -1);
            bump_le(e + EOCD_DISK_COUNT, 2, -1);
            bump_le(e + EOCD_CD_SIZE, 4, -(long)cdn);
        }
    }
    *end = *end + m->len - before;
    if (!done)
        jpm_mutate_bytes(m, start, end);
}
