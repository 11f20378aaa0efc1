/* custom_mutator.h -- jp_mutate (csrc/mutate.c) as libFuzzer's
 * LLVMFuzzerCustomMutator, for the targets built with
 * -DJOBPACK_CUSTOM_MUTATOR (fuzz/build.sh libfuzzer builds each target
 * with it, and a *_plain twin without it, to compare the two).
 *
 * One mutant in four still comes from libFuzzer's own mutators
 * (LLVMFuzzerMutate: dictionary, comparison operands, byte edits), which
 * a custom mutator otherwise replaces; the rest from jp_mutate, which edits
 * libFuzzer's buffer in place and never grows it past max_size. */
#ifndef FUZZ_CUSTOM_MUTATOR_H
#define FUZZ_CUSTOM_MUTATOR_H

#ifdef JOBPACK_CUSTOM_MUTATOR
#include <stddef.h>
#include <stdint.h>

#include "jobpack.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed)
{
    size_t out_len = 0;

    if (seed % 4 == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    jp_mutate(data, size, data, max_size, seed, &out_len);
    return out_len;
}
#endif

#endif
