/* mutate_fuzzer.c -- libFuzzer target for the structure-aware mutator
 * (csrc/mutate.c), which must be as safe as the readers it feeds.
 *
 * Properties, for any input and each of several capacities (0, one short of
 * the input, exactly it, a little and a lot more), with buffers allocated to
 * their exact size so AddressSanitizer sees any access one byte out:
 *   - jp_mutate returns JP_OK and a length within the capacity;
 *   - the same (input, seed, capacity) gives the same mutant;
 *   - mutating in place (libFuzzer's way) gives the same mutant as
 *     mutating into a separate buffer;
 *   - mutating a mutant again (a fuzzer's stacked edits) is just as safe.
 */
#include <stdint.h>
#include <string.h>

#include "jobpack.h"
#include "fuzz_check.h"
#include "custom_mutator.h"

static uint8_t *mutant(const uint8_t *in, size_t len, size_t cap, uint64_t seed,
                       size_t *out_len)
{
    uint8_t *out = (uint8_t *)malloc(cap ? cap : 1);

    CHECK(out != NULL);
    *out_len = (size_t)-1;
    CHECK(jp_mutate(in, len, cap ? out : NULL, cap, seed, out_len) == JP_OK);
    CHECK(*out_len <= cap);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = fuzz_dup(data, size);
    size_t caps[5], i, n1, n2, n3, n4;
    uint64_t seed = size;

    caps[0] = 0;
    caps[1] = size ? size - 1 : 0;
    caps[2] = size;
    caps[3] = size + 64;
    caps[4] = size + 5000;
    for (i = 0; i < size && i < 8; i++)
        seed = seed * 131 + data[i];
    for (i = 0; i < 5; i++) {
        uint8_t *a = mutant(in, size, caps[i], seed + i, &n1);
        uint8_t *b = mutant(in, size, caps[i], seed + i, &n2);
        uint8_t *c, *d;

        CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
        /* in place: the input at the start of a buffer of the capacity */
        if (caps[i] >= size) {
            c = (uint8_t *)malloc(caps[i] ? caps[i] : 1);
            CHECK(c != NULL);
            if (size)
                memcpy(c, in, size);
            CHECK(jp_mutate(c, size, c, caps[i], seed + i, &n3) == JP_OK);
            CHECK(n3 == n1 && memcmp(c, a, n1) == 0);
            free(c);
        }
        /* and again, on the mutant */
        d = mutant(a, n1, caps[i], seed * 7 + i, &n4);
        free(d);
        free(a);
        free(b);
    }
    free(in);
    return 0;
}
