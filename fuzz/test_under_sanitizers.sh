#!/usr/bin/env bash
# Build the C core with AddressSanitizer + UndefinedBehaviorSanitizer and run
# the whole test suite against it.
#
#   fuzz/test_under_sanitizers.sh [pytest args...]
#
# The extension is built by pip from a copy of the source tree, with
# JOBPACK_SANITIZE=1 (csrc/jobpack_build.py adds -fsanitize=address,undefined
# -fno-sanitize-recover=undefined), into its own venv ($ASAN_VENV, default
# /tmp/jobpack-asan-venv), so the developer's install is untouched.  Python
# itself is not instrumented, so the ASan runtime is preloaded
# (LD_PRELOAD=$(gcc -print-file-name=libasan.so)); PYTHONMALLOC=malloc puts
# Python's own objects (the bytes the core reads) on ASan's heap too, so an
# over-read of a pack buffer is caught; leak checking is off because CPython
# never frees some memory at exit.  Any sanitizer report aborts the run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${ASAN_VENV:-/tmp/jobpack-asan-venv}"
CC="${CC:-gcc}"
export CC

libasan="$("$CC" -print-file-name=libasan.so)"
if [ ! -e "$libasan" ]; then
    echo "no ASan runtime: $CC -print-file-name=libasan.so gave '$libasan'" >&2
    exit 2
fi

src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
tar -C "$ROOT" --exclude=./build --exclude=./dist --exclude='*.so' --exclude='*.egg-info' \
    --exclude='./.venv*' --exclude=./fuzz/build --exclude=./fuzz/corpus \
    --exclude=__pycache__ --exclude=.hypothesis -cf - . | tar -C "$src" -xf -

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel "cffi>=1.15"
JOBPACK_SANITIZE=1 "$VENV/bin/python" -m pip install -q --no-cache-dir \
    --no-build-isolation --force-reinstall --no-deps "$src"
"$VENV/bin/python" -m pip install -q "pytest>=7" "hypothesis>=6.0"

export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:check_initialization_order=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export PYTHONMALLOC=malloc

so="$(cd / && "$VENV/bin/python" -c 'import jobpack._native as n; print(n.__file__)')"
echo "sanitized extension: $so"
if ! LD_PRELOAD= ldd "$so" | grep -q libasan; then
    echo "the extension is not linked against libasan: was JOBPACK_SANITIZE honoured?" >&2
    exit 2
fi

# From tests/ so the installed (sanitized) package is imported, not the tree.
cd "$ROOT/tests"
"$VENV/bin/python" -bb -m pytest -q -p no:cacheprovider "$@"
