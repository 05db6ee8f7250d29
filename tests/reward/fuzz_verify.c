// libFuzzer harness for the verifier (extraction, normalisation, structures,
// expression parsing and evaluation): any bytes must give a verdict, never a
// crash, a hang, a leak or undefined behaviour. Input: response, a newline,
// gold. Run: tests/reward/fuzz.sh SECONDS; the corpus in tests/reward/corpus/
// (with any crash reproducers) is replayed by the unit test test_reward_corpus.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "reward/reward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct reward_verifier *v; // made once: creation is not what is fuzzed
    if (!v) {
        struct reward_verifier_opts o;
        reward_verifier_opts_default(&o, REWARD_MODE_BOXED);
        struct err e;
        if (reward_verifier_create(&o, &v, &e) < 0) return 0;
    }
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t n_response = nl ? (size_t)(nl - s) : size;
    const char *gold = nl ? nl + 1 : "";
    size_t n_gold = nl ? size - n_response - 1 : 0;
    struct reward_verdict vd;
    for (int mode = 0; mode < 3; mode++) { // boxed, gsm8k, solution
        struct reward_extract_opts ex;
        reward_extract_opts_default(&ex, (enum reward_mode)mode);
        reward_verify(v, s, n_response, gold, n_gold, &ex, &vd);
        // the answer against itself, and the response taken whole as an answer
        reward_verify(v, gold, n_gold, gold, n_gold, &ex, &vd);
    }
    // a worked solution spans lines: the whole input in the solution mode
    struct reward_extract_opts sol;
    reward_extract_opts_default(&sol, REWARD_MODE_SOLUTION);
    reward_verify(v, s, size, gold, n_gold, &sol, &vd);
    return 0;
}
