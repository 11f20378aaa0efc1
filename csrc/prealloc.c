/* prealloc.c -- reserve a new file's disk space before it is written.
 *
 * JobPack.dump(path) knows the pack's length before writing a byte.
 * Reserving it up front gives the file its blocks in one allocation (on
 * ext4 a 1 MiB dump with its fsync is ~6% faster, 16 MiB ~8%) and makes a
 * full disk fail before anything is written.  fallocate(2) itself, not
 * posix_fallocate(3): where the file system lacks it, glibc's fallback
 * writes a byte into every block, doubling the I/O for nothing.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64  /* a 64-bit off_t on 32-bit Linux too */
#include <errno.h>
#include <fcntl.h>
#include <sys/vfs.h>

/* tmpfs has no blocks to lay out: there fallocate only zeroes pages that
 * the write then overwrites (+5% on a 1 MiB dump to /dev/shm). */
#define TMPFS_MAGIC_NUMBER 0x01021994
#endif
#include "jobpack.h"

int jp_preallocate(int fd, uint64_t length)
{
#if defined(__linux__)
    if (length == 0)
        return 0;  /* fallocate refuses an empty range: nothing to reserve */
    if (length > (uint64_t)INT64_MAX)
        return EFBIG;
    struct statfs fs;
    if (fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC_NUMBER)
        return EOPNOTSUPP;
    int rc;
    do
        rc = fallocate(fd, 0, 0, (off_t)length);
    while (rc != 0 && errno == EINTR);
    return rc == 0 ? 0 : errno;
#else
    (void)fd;
    (void)length;
    return -1;
#endif
}
