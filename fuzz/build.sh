#!/usr/bin/env bash
# Build the C fuzz targets.
#
#   fuzz/build.sh replay      gcc + ASan/UBSan: fuzz/build/{header,json,zip,mutate}_replay
#                             (replay files/directories: no clang needed; CI)
#   fuzz/build.sh libfuzzer   clang -fsanitize=fuzzer,address,undefined:
#                             fuzz/build/{header,json,zip,mutate}_fuzzer, which mutate
#                             with jp_mutate (LLVMFuzzerCustomMutator, custom_mutator.h),
#                             and fuzz/build/*_fuzzer_plain, with libFuzzer's own
#                             mutators only
#   fuzz/build.sh coverage    clang source-based coverage replay binaries,
#                             fuzz/build/{header,json,zip}_cov; then e.g.
#       LLVM_PROFILE_FILE=json.profraw fuzz/build/json_cov fuzz/corpus/json
#       llvm-profdata merge -o json.profdata json.profraw
#       llvm-cov report fuzz/build/json_cov -instr-profile=json.profdata csrc/mochijson.c
#
# CC overrides the compiler of either mode.  Every UBSan report aborts
# (-fno-sanitize-recover=all), so a replay or fuzz run cannot pass over one.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-replay}"
targets=(header json zip mutate)
core=(csrc/status.c csrc/header.c csrc/mochijson.c csrc/floatcheck.c csrc/zipscan.c csrc/mutate.c
      csrc/mutate_json.c csrc/mutate_zip.c csrc/keys.c)
flags=(-std=c99 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Icsrc -Ifuzz
       -fno-sanitize-recover=all)
mkdir -p fuzz/build

case "$mode" in
replay)
    cc="${CC:-gcc}"
    for t in "${targets[@]}"; do
        "$cc" "${flags[@]}" -fsanitize=address,undefined \
            "fuzz/${t}_fuzzer.c" fuzz/replay_main.c "${core[@]}" \
            -o "fuzz/build/${t}_replay"
    done
    ;;
libfuzzer)
    cc="${CC:-clang}"
    for t in "${targets[@]}"; do
        "$cc" "${flags[@]}" -fsanitize=fuzzer,address,undefined -DJOBPACK_CUSTOM_MUTATOR \
            "fuzz/${t}_fuzzer.c" "${core[@]}" -o "fuzz/build/${t}_fuzzer"
        "$cc" "${flags[@]}" -fsanitize=fuzzer,address,undefined \
            "fuzz/${t}_fuzzer.c" "${core[@]}" -o "fuzz/build/${t}_fuzzer_plain"
    done
    ;;
coverage)
    cc="${CC:-clang}"
    for t in "${targets[@]}"; do
        "$cc" -std=c99 -g -O0 -Icsrc -Ifuzz -fprofile-instr-generate -fcoverage-mapping \
            "fuzz/${t}_fuzzer.c" fuzz/replay_main.c "${core[@]}" -o "fuzz/build/${t}_cov"
    done
    ;;
*)
    echo "usage: $0 [replay|libfuzzer|coverage]" >&2
    exit 2
    ;;
esac
suffix="${mode/libfuzzer/fuzzer}"
echo "built: $(cd fuzz/build && ls -1 *_"${suffix/coverage/cov}" | tr '\n' ' ')"
