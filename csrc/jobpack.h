/*
 * jobpack.h -- the one declaration of the jobpack C core.
 *
 * The cffi build script (jobpack_build.py) reads the text between the
 * JOBPACK_CDEF_BEGIN and JOBPACK_CDEF_END markers into ffi.cdef(), so that
 * section holds plain declarations only: no preprocessor lines, no macros.
 *
 * Rules every function follows: C never allocates, prints, aborts or keeps
 * global state.  Python owns memory; C reads and writes only the buffers it
 * is handed, with their lengths, and returns a jp_status.  The one system
 * call, jp_preallocate, acts on a file descriptor Python opened.
 */
#ifndef JOBPACK_H
#define JOBPACK_H

#include <stddef.h>
#include <stdint.h>

/* JOBPACK_CDEF_BEGIN */

/* Every status the core can return.  Messages live in one table in
 * status.c (jp_status_message); Python maps each code to an exception. */
typedef enum {
    JP_OK = 0,
    /* header and layout */
    JP_ERR_HEADER_SHORT = 1,       /* fewer than the 20 bytes of magic + offsets */
    JP_ERR_HEADER_MAGIC = 2,       /* top 16 bits are not 0xd5c0 */
    JP_ERR_HEADER_DICT_OFFSET = 3, /* jobdict offset is not 128 */
    JP_ERR_HEADER_ENVS_OFFSET = 4, /* jobenvs offset <= jobdict offset */
    JP_ERR_HEADER_HOME_OFFSET = 5, /* jobhome offset < jobenvs offset */
    JP_ERR_HEADER_DATA_OFFSET = 6, /* jobdata offset < jobhome offset */
    JP_ERR_TRUNCATED = 7,          /* pack shorter than its jobdata offset */
    JP_ERR_TOO_LARGE = 8,          /* layout needs an offset >= 4 GiB */
    JP_ERR_BUFFER_TOO_SMALL = 9,   /* caller's output/scratch buffer too small */
    /* JSON in the master's dialect (mochijson2) */
    JP_ERR_JSON_EMPTY = 10,        /* no JSON value in the section */
    JP_ERR_JSON_SYNTAX = 11,       /* a byte the grammar does not allow here */
    JP_ERR_JSON_UTF8 = 12,         /* invalid UTF-8 or unterminated string */
    JP_ERR_JSON_ESCAPE = 13,       /* \u escape the master cannot decode */
    JP_ERR_JSON_NUMBER = 14,       /* number the master cannot read (1e400) */
    JP_ERR_JSON_TRAILING = 15,     /* bytes after the JSON value */
    /* ZIP central directory of the job home */
    JP_ERR_ZIP_NO_EOCD = 16,       /* no end-of-central-directory record */
    JP_ERR_ZIP_BAD_DIRECTORY = 17, /* central directory out of bounds or corrupt */
    JP_ERR_ZIP_BAD_ENTRY = 18,     /* an entry's local header or data out of bounds */
    JP_ERR_JSON_TOO_DEEP = 19,     /* nesting deeper than JP_JSON_MAX_DEPTH */
    JP_STATUS_COUNT = 20
} jp_status;

/* Message and stable name ("JP_ERR_TRUNCATED") for a status. */
const char *jp_status_message(int status);
const char *jp_status_name(int status);

/* ------------------------------------------------------------------ */
/* Header (header.c)                                                   */

/* A decoded header.  Fields are filled as far as the buffer allows, even
 * when decoding fails, so tools can show what a broken header says. */
typedef struct {
    uint32_t magic_word;      /* bytes 0-3: magic << 16 | version */
    uint16_t magic;
    uint16_t version;
    uint32_t offsets[4];      /* jobdict, jobenvs, jobhome, jobdata */
    uint64_t length;          /* pack length the offsets were checked against */
    uint64_t error_offset;    /* byte offset of the field a failure is about */
    int64_t reserved_nonzero; /* offset of the first non-zero reserved byte, or -1 */
} jp_header;

/* Decode and check a header against the master's rules (SPEC.md, "What the
 * master accepts"), in the master's order.  buf holds the first buf_len
 * bytes of a pack that is pack_len bytes long (buf_len <= pack_len): a
 * caller with the whole pack passes its length twice; one reading a file
 * passes the first 128 bytes and the file size. */
jp_status jp_header_decode(const uint8_t *buf, size_t buf_len,
                           uint64_t pack_len, jp_header *out);

/* Lay out a pack from its four section lengths: computes the offsets with
 * overflow checks (every offset must fit in 32 bits) and writes the
 * 128-byte header to header_out.  The total length goes to out->length. */
jp_status jp_layout(uint16_t version, uint64_t dict_len, uint64_t envs_len,
                    uint64_t home_len, uint64_t data_len,
                    uint8_t *header_out, jp_header *out);

/* Write any header, valid or not (JobPack.header()): magic_word, the four
 * offsets big-endian, zero padding to 128 bytes. */
void jp_header_write(uint32_t magic_word, const uint32_t *offsets,
                     uint8_t *header_out);

/* ------------------------------------------------------------------ */
/* JSON in the master's dialect (mochijson.c)                          */

/* Bits of jp_json_result.features: what the section used that standard
 * JSON (RFC 8259, Python's json) does not allow or reads differently. */
enum {
    JP_JSON_TRAILING_COMMA = 1,    /* {"a":1,} or [1,] */
    JP_JSON_RAW_CONTROL = 2,       /* raw byte < 0x20 inside a string */
    JP_JSON_ODD_ESCAPE = 4,        /* \x kept literally, \u+041, short \u at end */
    JP_JSON_NONSTRING_KEY = 8,     /* {1: 2}, {null: 1} */
    JP_JSON_LAX_UTF8 = 16,         /* surrogates, > U+10FFFF or overlong UTF-8 */
    JP_JSON_BIG_INT = 32,          /* integer too long for Python's int() limit */
    JP_JSON_DEEP = 64,             /* nesting deeper than JP_JSON_DEEP_LIMIT */
    JP_JSON_PY_ESCAPE = 128,       /* \u escape only Python reads: a lone surrogate,
                                      U+FFFE or U+FFFF (what json.dumps writes
                                      for them); the master fails at escape_offset */
    /* The bits above that only the master's dialect reads (the first five;
     * BIG_INT and DEEP are standard JSON that Python finds hard). */
    JP_JSON_DIALECT_ONLY = 31
};

/* DEEP_LIMIT: past it Python's json recurses too deep (JP_JSON_DEEP).
 * MAX_DEPTH: past it a section is refused (JP_ERR_JSON_TOO_DEEP): every
 * level costs a Python object of ~100 bytes for 2 bytes of input, and no
 * honest jobdict comes near it. */
enum { JP_JSON_DEEP_LIMIT = 400, JP_JSON_BIG_INT_DIGITS = 4000,
       JP_JSON_MAX_DEPTH = 100000 };

/* Type of the top-level value. */
enum {
    JP_JSON_OBJECT = 1, JP_JSON_ARRAY = 2, JP_JSON_STRING = 3,
    JP_JSON_NUMBER = 4, JP_JSON_LITERAL = 5
};

typedef struct {
    uint64_t error_offset;    /* offset in the section of the first error */
    uint64_t feature_offset;  /* offset of the first JP_JSON_DIALECT_ONLY feature */
    uint64_t out_len;         /* bytes written to out */
    uint64_t max_depth;       /* deepest nesting seen */
    uint64_t escape_offset;   /* where the master fails on the first
                                 JP_JSON_PY_ESCAPE escape */
    uint64_t max_int_digits;  /* digits of the longest integer value */
    uint32_t features;        /* JP_JSON_* bits */
    int top_type;             /* JP_JSON_OBJECT, ...; 0 before the first token */
    int status;               /* the jp_status the scan returned */
} jp_json_result;

/* Scan a section with mochijson2's grammar (SPEC.md, "The master's JSON
 * dialect"), widened by one thing: the \u escapes that Python's json reads
 * and the master refuses are accepted and flagged JP_JSON_PY_ESCAPE, so one
 * pass serves both readers.  The master's verdict is the status, except
 * that with JP_JSON_PY_ESCAPE it is JP_ERR_JSON_ESCAPE at escape_offset
 * (the first such escape comes before any later error).  Without out
 * (NULL), only checks.  With out, also writes the
 * same value as standard JSON that Python's json module reads: strings
 * re-escaped, invalid-but-accepted UTF-8 bytes as \udcXX (Python's
 * surrogateescape), JP_JSON_PY_ESCAPE escapes as they are, non-string
 * keys as strings of their source text,
 * trailing commas dropped.  out_cap >= jp_json_out_bound(len) always
 * suffices.  scratch is a bit stack of scratch_len bytes; at least
 * len / 8 + 1 bytes always suffices (nesting is at most len deep). */
jp_status jp_json_scan(const uint8_t *in, size_t len,
                       uint8_t *out, size_t out_cap,
                       uint8_t *scratch, size_t scratch_len,
                       jp_json_result *result);
size_t jp_json_out_bound(size_t len);

/* Could a float in this section overflow a double (1e400)?  JP_OK: no
 * number in it can (every float is below 1e308), so a reader that turns
 * floats into doubles without checking each one gets no infinity.
 * JP_ERR_JSON_NUMBER: one might; read the section with a per-float check.
 * Conservative: skips strings as JSON delimits them (memchr to each quote;
 * a section Python's json reads is valid JSON, so its strings are where this
 * pass sees them).  Reads ASCII digits only, as Python's C json scanner
 * does.  One pass, bounds-checked. */
jp_status jp_json_float_risk(const uint8_t *in, size_t len);

/* The same answer as jp_json_float_risk, sooner (floatcheck.c): a first
 * pass (SSE2 where the compiler targets it) looks only at each '.', 'e' and
 * 'E' right after a digit, strings included, and hands the section to
 * jp_json_float_risk only if one of them might start an overflow. */
jp_status jp_json_float_check(const uint8_t *in, size_t len);

/* What JobPack.loads needs before Python's json reads a pack, in one
 * crossing: the header decoded and checked (as jp_header_decode with
 * pack_len == len), then, if it passed, jp_json_float_check of the jobdict
 * and the jobenvs into float_risk[0] and [1] (JP_OK when the header
 * failed).  Returns the header's status. */
typedef struct {
    jp_header header;
    int32_t float_risk[2];
} jp_pack_floats;

jp_status jp_pack_float_check(const uint8_t *buf, size_t len, jp_pack_floats *out);

/* Everything loading a pack needs, in one crossing: decode and check the
 * header, then scan the jobdict and jobenvs (check only) into results[0]
 * and results[1], each with its own status.  Returns the header's status
 * if it fails (sections not scanned), else JP_OK.  A section nested deeper
 * than scratch allows gets JP_ERR_BUFFER_TOO_SMALL in its result. */
jp_status jp_pack_scan(const uint8_t *buf, size_t len, jp_header *header,
                       jp_json_result *results,
                       uint8_t *scratch, size_t scratch_len);

/* ------------------------------------------------------------------ */
/* Repeated object keys (keys.c)                                        */

/* Scratch for jp_json_repeated_key: one slot per open container and per
 * key of each open object (what a slot holds is the function's own). */
typedef struct {
    uint32_t start;
    uint32_t len;
    uint32_t hash;
    uint32_t kind;
} jp_key_slot;

enum { JP_KEYS_UNIQUE = 0, JP_KEYS_REPEATED = 1, JP_KEYS_UNKNOWN = 2 };

/* Does any object in the JSON text in[0, len) name a key twice?  Keys
 * compare by what Python's json decodes them to ("a" == "\u0061").
 * JP_KEYS_UNIQUE or JP_KEYS_REPEATED: the answer, exact for any text that
 * Python's json module reads; the caller decodes the same text with it
 * (on other text the answer means nothing, but the pass stays in bounds).
 * JP_KEYS_UNKNOWN: the open containers and their keys need more than
 * slot_count slots, the brackets do not match, or a string never ends.
 * O(n log n) in the keys of one object, whatever they are. */
int jp_json_repeated_key(const uint8_t *in, size_t len,
                         jp_key_slot *slots, size_t slot_count);

/* What strict validation needs first, in one crossing: the header decoded
 * and checked (as jp_header_decode with pack_len == len), then, if it
 * passed, jp_json_repeated_key of the jobdict into repeated_key
 * (JP_KEYS_UNKNOWN when the header failed).  Returns the header's status. */
typedef struct {
    jp_header header;
    int32_t repeated_key;
} jp_pack_keys;

jp_status jp_pack_key_check(const uint8_t *buf, size_t len, jp_pack_keys *out,
                            jp_key_slot *slots, size_t slot_count);

/* ------------------------------------------------------------------ */
/* ZIP central directory of the job home (zipscan.c)                  */

/* Bits of jp_zip_entry.flags: what a careful check must reject. */
enum {
    JP_ZIP_ABSOLUTE = 1,     /* name starts with / or \ or a drive letter */
    JP_ZIP_DOTDOT = 2,       /* a .. path component */
    JP_ZIP_BACKSLASH = 4,    /* a \ in the name */
    JP_ZIP_NUL = 8,          /* a NUL byte in the name */
    JP_ZIP_ENCRYPTED = 16,   /* general purpose flag bit 0 */
    JP_ZIP_DIRECTORY = 32,   /* name ends with / */
    JP_ZIP_SYMLINK = 64      /* Unix mode says symbolic link */
};

typedef struct {
    uint64_t name_offset;        /* offset of the name in the zip buffer */
    uint32_t name_len;
    uint32_t flags;              /* JP_ZIP_* bits */
    uint64_t compressed_size;
    uint64_t uncompressed_size;
    uint64_t local_header_offset;
    uint64_t data_offset;        /* start of the entry's compressed data */
    uint32_t crc32;
    uint32_t external_attr;      /* high 16 bits: Unix mode */
    uint16_t method;
    uint16_t gp_flags;
    uint16_t mod_time;
    uint16_t mod_date;
    uint16_t version_made_by;    /* high byte: host system, 3 = Unix */
} jp_zip_entry;

typedef struct {
    uint64_t entry_count;        /* entries in the central directory */
    uint64_t cd_offset;
    uint64_t cd_size;
    uint64_t total_uncompressed; /* sum of uncompressed sizes */
    uint64_t total_compressed;
    uint64_t error_offset;       /* where a failure was found */
    uint32_t flags_union;        /* OR of every entry's flags */
    int64_t first_flagged;       /* index of the first entry with
                                    ABSOLUTE|DOTDOT|BACKSLASH|NUL, or -1 */
    int64_t name_index;          /* jp_zip_scan_named: index of the first
                                    entry with the name asked for, or -1 */
} jp_zip_info;

/* Read the ZIP central directory of buf.  With entries NULL, fills info
 * only (entry_count tells how many entries to allocate).  Every offset and
 * size is checked against len. An empty buffer is an empty archive. */
jp_status jp_zip_scan(const uint8_t *buf, size_t len,
                      jp_zip_entry *entries, size_t max_entries,
                      jp_zip_info *info);

/* jp_zip_scan without entries of the archive buf[offset, offset + len)
 * (the job home inside a whole pack, not copied out), which also looks up
 * the first entry named exactly name[0, name_len) (name NULL: none) in the
 * same pass: its index, or -1, goes to info->name_index.  Offsets in info
 * are relative to buf + offset.  JP_ERR_TRUNCATED when the range does not
 * lie inside buf. */
jp_status jp_zip_scan_named(const uint8_t *buf, size_t buf_len,
                            uint64_t offset, uint64_t len,
                            const uint8_t *name, size_t name_len,
                            jp_zip_info *info);

/* Index of the entry named exactly name, or -1. */
int64_t jp_zip_find(const uint8_t *buf, size_t len,
                    const jp_zip_entry *entries, size_t count,
                    const uint8_t *name, size_t name_len);

/* ------------------------------------------------------------------ */
/* Writing a pack (prealloc.c)                                          */

/* Reserve the first length bytes of the file fd (fallocate(2), mode 0: the
 * size becomes length, the blocks are allocated, nothing is written).
 * Returns 0, or the errno it failed with (ENOSPC, EDQUOT, EFBIG: the pack
 * cannot be written; EOPNOTSUPP and others: the file system cannot reserve,
 * write as usual), or -1 where the platform has no fallocate.  On tmpfs it
 * reserves nothing (EOPNOTSUPP): memory has no blocks to lay out. */
int jp_preallocate(int fd, uint64_t length);

/* ------------------------------------------------------------------ */
/* Structure-aware mutation, for fuzzers (mutate*.c)                   */

/* Write to out a mutant of in[0, in_len): edits at the format's own level
 * (a pack's header and sections, with offsets rewritten to match or set at
 * a boundary; JSON tokens in the master's dialect; ZIP entries and the
 * central directory), byte-level edits for anything it cannot parse.  Out
 * holds out_cap bytes, and the mutant never exceeds them: an input longer
 * is cut first, an edit that would not fit is skipped.  in may be out (in
 * place, as libFuzzer's LLVMFuzzerCustomMutator works); otherwise the two
 * must not overlap.  The same (in, seed, out_cap) gives the same mutant.
 * Always JP_OK; *out_len gets the mutant's length. */
jp_status jp_mutate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                    uint64_t seed, size_t *out_len);

/* JOBPACK_CDEF_END */

#endif /* JOBPACK_H */
