"""cffi build script (API mode, out of line) for jobpack._native.

setup.py names this file in ``cffi_modules``; ``pip install .`` compiles the
extension.  The C API is declared once, in jobpack.h: the cdef is the part of
that header between its CDEF markers.  This script must not import jobpack.
"""
import os
import re

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ["status.c", "header.c", "mochijson.c", "floatcheck.c", "zipscan.c", "mutate.c", "mutate_json.c",
           "mutate_zip.c", "prealloc.c",
           "keys.c"]


def read_cdef(header_path):
    with open(header_path, encoding="utf-8") as f:
        text = f.read()
    match = re.search(r"/\* JOBPACK_CDEF_BEGIN \*/(.*)/\* JOBPACK_CDEF_END \*/", text, re.S)
    if match is None:
        raise RuntimeError("jobpack.h lost its JOBPACK_CDEF markers")
    return match.group(1)


def extra_compile_args():
    # JOBPACK_SANITIZE=1 builds the core with ASan+UBSan for the test suite.
    args = ["-std=c99", "-Wall", "-Wextra", "-O2"]
    if os.environ.get("JOBPACK_SANITIZE"):
        args += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                 "-fno-sanitize-recover=undefined", "-O1", "-g"]
    return args


ffibuilder = FFI()
ffibuilder.cdef(read_cdef(os.path.join(HERE, "jobpack.h")))
ffibuilder.set_source(
    "jobpack._native",
    '#include "jobpack.h"',
    sources=[os.path.join("csrc", name) for name in SOURCES],
    include_dirs=["csrc"],
    extra_compile_args=extra_compile_args(),
    extra_link_args=(["-fsanitize=address,undefined"]
                     if os.environ.get("JOBPACK_SANITIZE") else []),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
