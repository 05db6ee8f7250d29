// libFuzzer harness for the experiment-config loader: any bytes must give a
// config or a one-line error, never a crash, a leak or undefined behaviour.
// Run with scripts/fuzz SECONDS (seed corpus: configs/).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct config cfg;
    struct err e;
    // Also exercise overrides: the first line, if it looks like one, is a --set.
    const char *nl = memchr(data, '\n', size);
    char set[256];
    const char *sets[1] = {set};
    int n_sets = 0;
    if (nl && (size_t)(nl - (const char *)data) < sizeof set &&
        memchr(data, '=', (size_t)(nl - (const char *)data)) &&
        !memchr(data, '\0', (size_t)(nl - (const char *)data))) {
        memcpy(set, data, (size_t)(nl - (const char *)data));
        set[nl - (const char *)data] = '\0';
        n_sets = 1;
    }
    if (config_load_string(&cfg, "fuzz.yaml", (const char *)data, size, sets, n_sets, &e) == 0) {
        char *yaml = config_to_yaml(&cfg);
        struct config again;
        // The printed form must load back (its own fuzz oracle).
        if (config_load_string(&again, "printed", yaml, strlen(yaml), NULL, 0, &e) != 0)
            __builtin_trap();
        config_destroy(&again);
        free(yaml);
        config_destroy(&cfg);
    } else if (strchr(e.msg, '\n')) {
        __builtin_trap(); // errors are one line
    }
    return 0;
}
