// libFuzzer harness of the Hugging Face parsers: safetensors headers (and the fp32 widening of
// every tensor they describe) and config.json. Built with -Dfuzz=true (clang):
//   ninja -C build-fuzz tests/model/fuzz_safetensors && build-fuzz/tests/model/fuzz_safetensors
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/hf_config.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct err e;
    struct st_file *f = NULL;
    if (safetensors_open_buffer(data, size, "fuzz", &f, &e) == 0) {
        for (int i = 0; i < f->n_tensors; i++) {
            const struct st_tensor *t = &f->tensors[i];
            if (t->n_elems > (1u << 20)) continue;
            float *x = malloc(sizeof(float) * (t->n_elems + 1));
            safetensors_read_f32(t, x, t->n_elems, &e);
            free(x);
        }
        safetensors_close(&f);
    }
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    struct hf_config c;
    hf_config_parse(text, "fuzz", &c, &e);
    free(text);
    return 0;
}
