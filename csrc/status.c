/* status.c -- the one table of messages for jp_status codes. */
#include "jobpack.h"

static const struct {
    const char *name;
    const char *message;
} status_table[JP_STATUS_COUNT] = {
    [JP_OK] = {"JP_OK", "ok"},
    [JP_ERR_HEADER_SHORT] = {"JP_ERR_HEADER_SHORT",
        "pack is shorter than the 20 bytes that hold the magic and the four offsets"},
    [JP_ERR_HEADER_MAGIC] = {"JP_ERR_HEADER_MAGIC",
        "bad magic: the first two bytes must be d5 c0"},
    [JP_ERR_HEADER_DICT_OFFSET] = {"JP_ERR_HEADER_DICT_OFFSET",
        "jobdict offset must be 128, the header size"},
    [JP_ERR_HEADER_ENVS_OFFSET] = {"JP_ERR_HEADER_ENVS_OFFSET",
        "jobenvs offset must be greater than the jobdict offset (the jobdict is never empty)"},
    [JP_ERR_HEADER_HOME_OFFSET] = {"JP_ERR_HEADER_HOME_OFFSET",
        "jobhome offset must not be less than the jobenvs offset"},
    [JP_ERR_HEADER_DATA_OFFSET] = {"JP_ERR_HEADER_DATA_OFFSET",
        "jobdata offset must not be less than the jobhome offset"},
    [JP_ERR_TRUNCATED] = {"JP_ERR_TRUNCATED",
        "pack is truncated: it ends before its jobdata offset"},
    [JP_ERR_TOO_LARGE] = {"JP_ERR_TOO_LARGE",
        "pack would be 4 GiB or larger; its offsets are 32-bit"},
    [JP_ERR_BUFFER_TOO_SMALL] = {"JP_ERR_BUFFER_TOO_SMALL",
        "output buffer too small (a bug in the caller)"},
    [JP_ERR_JSON_EMPTY] = {"JP_ERR_JSON_EMPTY",
        "no JSON value: the section is empty or only whitespace"},
    [JP_ERR_JSON_SYNTAX] = {"JP_ERR_JSON_SYNTAX",
        "JSON syntax error: the master's decoder does not accept this byte here"},
    [JP_ERR_JSON_UTF8] = {"JP_ERR_JSON_UTF8",
        "invalid UTF-8 in a JSON string, or a string that is never closed"},
    [JP_ERR_JSON_ESCAPE] = {"JP_ERR_JSON_ESCAPE",
        "\\u escape the master cannot decode (not hex, a lone surrogate, U+FFFE or U+FFFF)"},
    [JP_ERR_JSON_NUMBER] = {"JP_ERR_JSON_NUMBER",
        "number out of the master's range (a float that overflows a double)"},
    [JP_ERR_JSON_TRAILING] = {"JP_ERR_JSON_TRAILING",
        "bytes after the JSON value"},
    [JP_ERR_ZIP_NO_EOCD] = {"JP_ERR_ZIP_NO_EOCD",
        "not a ZIP archive: no end-of-central-directory record"},
    [JP_ERR_ZIP_BAD_DIRECTORY] = {"JP_ERR_ZIP_BAD_DIRECTORY",
        "ZIP central directory is out of bounds or corrupt"},
    [JP_ERR_ZIP_BAD_ENTRY] = {"JP_ERR_ZIP_BAD_ENTRY",
        "ZIP entry's local header or data lies outside the archive"},
    [JP_ERR_JSON_TOO_DEEP] = {"JP_ERR_JSON_TOO_DEEP",
        "JSON nested deeper than 100000 levels (JP_JSON_MAX_DEPTH), jobpack's bound"},
};

const char *jp_status_message(int status)
{
    if (status < 0 || status >= JP_STATUS_COUNT)
        return "unknown status";
    return status_table[status].message;
}

const char *jp_status_name(int status)
{
    if (status < 0 || status >= JP_STATUS_COUNT)
        return "JP_ERR_UNKNOWN";
    return status_table[status].name;
}
