#!/usr/bin/env bash
# The CI fuzz smoke (well under 3 minutes on 2 cores):
#   1. build the C targets with gcc + ASan/UBSan (fuzz/build.sh replay) and
#      replay the seed corpus and every regression input through them;
#   2. run each Python harness (fuzz/fuzz_*.py) over its corpus (pack/, or
#      zip/ for extract) and the regressions, then SMOKE_RUNS (default 3500)
#      new inputs: with atheris when it is installed, else with the
#      pure-Python mutator (SMOKE_ENGINE=python|atheris forces one); either
#      way with jobpack.mutate, the structure-aware mutator, mixed in
#      (JOBPACK_FUZZ_MUTATOR=0 leaves it out).
# The mutate target replays every corpus through jp_mutate itself under
# ASan+UBSan: the mutator must be as safe as the readers it feeds.
# 3500 inputs with jobpack.mutate reach more Python edges and features in
# each harness than the 5000 without it that the smoke ran before, in less
# time (its mutants are validated further, so each costs more): 54 s
# against 61 s for the whole smoke on the shared machine, 2026-11-29.
# Needs gcc and the installed jobpack package (run it from the venv that has
# it; PYTHON overrides the interpreter).  Exits non-zero on the first crash,
# sanitizer report or property failure; the input is kept in $SMOKE_OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
RUNS="${SMOKE_RUNS:-3500}"
OUT="${SMOKE_OUT:-$(mktemp -d)}"
start=$SECONDS

echo "== C targets: gcc -fsanitize=address,undefined replay"
fuzz/build.sh replay
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
for target in header json zip mutate; do
    corpus="fuzz/corpus/${target}"
    [ "$target" = mutate ] && corpus=fuzz/corpus   # the mutator takes every kind of input
    "fuzz/build/${target}_replay" "$corpus" fuzz/regressions 2>"$OUT/${target}.log" \
        || { tail -n 40 "$OUT/${target}.log"; echo "FAIL: ${target} replay" >&2; exit 1; }
    echo "${target}: $(tail -n 1 "$OUT/${target}.log")"
done

case "${SMOKE_ENGINE:-auto}" in
atheris) engine=atheris ;;
python) engine="pure-Python mutator" ;;
*)  if "$PYTHON" -c "import atheris" 2>/dev/null; then
        engine=atheris
    else
        engine="pure-Python mutator (atheris is not installed)"
    fi ;;
esac
mutator="jobpack.mutate mixed in"
case "${JOBPACK_FUZZ_MUTATOR:-1}" in 0|off|no|false) mutator="jobpack.mutate off" ;; esac
echo "== Python harnesses, ${RUNS} inputs each after the corpus, with ${engine}, ${mutator}"
for harness in loads validate roundtrip extract; do
    log="$OUT/${harness}.log"
    corpus=fuzz/corpus/pack
    [ "$harness" = extract ] && corpus=fuzz/corpus/zip
    if [ "$engine" = atheris ]; then
        # atheris writes what it finds to its first corpus directory: a scratch one.
        scratch="$OUT/corpus-${harness}"
        mkdir -p "$scratch"
        runs=$((RUNS + $(ls "$corpus" fuzz/regressions | wc -l)))
        cmd=("$PYTHON" "fuzz/fuzz_${harness}.py" "$scratch" "$corpus" fuzz/regressions
             "-runs=${runs}" -seed=1 -timeout=30 "-artifact_prefix=$OUT/${harness}-")
    else
        cmd=("$PYTHON" "fuzz/fuzz_${harness}.py" --no-atheris "$corpus" fuzz/regressions
             "-runs=${RUNS}" -seed=1 "-artifact_prefix=$OUT/${harness}-")
    fi
    if ! "${cmd[@]}" >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "FAIL: fuzz_${harness}.py (input saved under $OUT)" >&2
        exit 1
    fi
    echo "${harness}: $(grep -E '^#[0-9]+.*DONE|pure-Python fuzz' "$log" | tail -n 1)"
done
echo "fuzz smoke passed in $((SECONDS - start))s (logs in $OUT)"
