"""Types of the cffi extension built from csrc/jobpack.h (API mode).

Written by hand from the header's CDEF section: update it with jobpack.h.
C structs, arrays and pointers are cffi cdata objects, typed ``CData``.
"""
from typing import Any, Union, overload

from typing_extensions import Buffer

CData = Any  # a cffi cdata object: its fields are the C struct's


class _CBuffer(Buffer):
    """What ffi.buffer() returns: the bytes of a cdata object, in place."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: slice) -> bytes: ...
    def __buffer__(self, flags: int) -> memoryview: ...


class _FFI:
    NULL: CData

    def new(self, cdecl: str, init: Any = ...) -> CData: ...
    def buffer(self, cdata: CData, size: int = ...) -> _CBuffer: ...
    @overload
    def from_buffer(self, python_buffer: Buffer, require_writable: bool = ...) -> CData: ...
    @overload
    def from_buffer(self, cdecl: str, python_buffer: Buffer,
                    require_writable: bool = ...) -> CData: ...
    def string(self, cdata: CData, maxlen: int = ...) -> bytes: ...
    def sizeof(self, cdecl: Union[str, CData]) -> int: ...
    def offsetof(self, cdecl: str, *fields: str) -> int: ...
    def addressof(self, cdata: CData, *fields: str) -> CData: ...


class _Lib:
    JP_OK: int
    JP_ERR_HEADER_SHORT: int
    JP_ERR_HEADER_MAGIC: int
    JP_ERR_HEADER_DICT_OFFSET: int
    JP_ERR_HEADER_ENVS_OFFSET: int
    JP_ERR_HEADER_HOME_OFFSET: int
    JP_ERR_HEADER_DATA_OFFSET: int
    JP_ERR_TRUNCATED: int
    JP_ERR_TOO_LARGE: int
    JP_ERR_BUFFER_TOO_SMALL: int
    JP_ERR_JSON_EMPTY: int
    JP_ERR_JSON_SYNTAX: int
    JP_ERR_JSON_UTF8: int
    JP_ERR_JSON_ESCAPE: int
    JP_ERR_JSON_NUMBER: int
    JP_ERR_JSON_TRAILING: int
    JP_ERR_ZIP_NO_EOCD: int
    JP_ERR_ZIP_BAD_DIRECTORY: int
    JP_ERR_ZIP_BAD_ENTRY: int
    JP_ERR_JSON_TOO_DEEP: int
    JP_STATUS_COUNT: int
    JP_JSON_TRAILING_COMMA: int
    JP_JSON_RAW_CONTROL: int
    JP_JSON_ODD_ESCAPE: int
    JP_JSON_NONSTRING_KEY: int
    JP_JSON_LAX_UTF8: int
    JP_JSON_BIG_INT: int
    JP_JSON_DEEP: int
    JP_JSON_PY_ESCAPE: int
    JP_JSON_DIALECT_ONLY: int
    JP_JSON_DEEP_LIMIT: int
    JP_JSON_BIG_INT_DIGITS: int
    JP_JSON_MAX_DEPTH: int
    JP_JSON_OBJECT: int
    JP_KEYS_UNIQUE: int
    JP_KEYS_REPEATED: int
    JP_KEYS_UNKNOWN: int
    JP_JSON_ARRAY: int
    JP_JSON_STRING: int
    JP_JSON_NUMBER: int
    JP_JSON_LITERAL: int
    JP_ZIP_ABSOLUTE: int
    JP_ZIP_DOTDOT: int
    JP_ZIP_BACKSLASH: int
    JP_ZIP_NUL: int
    JP_ZIP_ENCRYPTED: int
    JP_ZIP_DIRECTORY: int
    JP_ZIP_SYMLINK: int

    def jp_status_message(self, status: int) -> CData: ...
    def jp_status_name(self, status: int) -> CData: ...
    def jp_json_float_risk(self, in_: Union[bytes, CData], len_: int) -> int: ...
    def jp_json_float_check(self, in_: Union[bytes, CData], len_: int) -> int: ...
    def jp_pack_float_check(self, buf: Union[bytes, CData], len_: int, out: CData) -> int: ...
    def jp_header_decode(self, buf: Union[bytes, CData], buf_len: int, pack_len: int,
                         out: CData) -> int: ...
    def jp_layout(self, version: int, dict_len: int, envs_len: int, home_len: int,
                  data_len: int, header_out: CData, out: CData) -> int: ...
    def jp_header_write(self, magic_word: int, offsets: Any, header_out: CData) -> None: ...
    def jp_json_scan(self, in_: Union[bytes, CData], len: int, out: CData, out_cap: int,
                     scratch: CData, scratch_len: int, result: CData) -> int: ...
    def jp_json_out_bound(self, len: int) -> int: ...
    def jp_pack_scan(self, buf: Union[bytes, CData], len: int, header: CData, results: CData,
                     scratch: CData, scratch_len: int) -> int: ...
    def jp_zip_scan(self, buf: Union[bytes, CData], len: int, entries: CData, max_entries: int,
                    info: CData) -> int: ...
    def jp_zip_scan_named(self, buf: Union[bytes, CData], buf_len: int, offset: int, len: int,
                          name: Union[bytes, CData], name_len: int, info: CData) -> int: ...
    def jp_zip_find(self, buf: Union[bytes, CData], len: int, entries: CData, count: int,
                    name: Union[bytes, CData], name_len: int) -> int: ...
    def jp_json_repeated_key(self, in_: Union[bytes, CData], len_: int, slots: CData,
                             slot_count: int) -> int: ...
    def jp_pack_key_check(self, buf: Union[bytes, CData], len_: int, out: CData, slots: CData,
                          slot_count: int) -> int: ...
    def jp_preallocate(self, fd: int, length: int) -> int: ...
    def jp_mutate(self, in_: Union[bytes, CData], in_len: int, out: CData, out_cap: int,
                  seed: int, out_len: CData) -> int: ...


ffi: _FFI
lib: _Lib
