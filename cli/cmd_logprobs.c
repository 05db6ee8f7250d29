// grpo logprobs --model DIR|CKPT.h5: per-token log-probabilities and entropies (JSONL).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "model/ckpt.h"
#include "model/device.h"
#include "model/logprobs.h"

static const char usage[] =
    "usage: grpo logprobs --model DIR|CKPT.h5 [--temperature T] [--threads N] [--device D] < "
    "IN.jsonl > OUT.jsonl\n"
    "\n"
    "Reads one JSON object {\"ids\": [...]} per line and writes {\"logprobs\": [...],\n"
    "\"entropy\": [...]} per line: logprobs[i] = log p(ids[i+1] | ids[0..i]) and entropy[i]\n"
    "the entropy (nats) of that next-token distribution, both one shorter than ids.\n"
    "\n"
    "  --model PATH       a Hugging Face directory (config.json + *.safetensors) or a grpo\n"
    "                     checkpoint (.h5)\n"
    "  --temperature T    log-probabilities of softmax(logits / T), as a sampler at\n"
    "                     temperature T draws them (default 1)\n"
    "  --threads N        CPU threads (default: OMP_NUM_THREADS, else all cores)\n"
    "  --device D         cpu | cuda (CUDA device 0; default cpu)\n";

int cmd_logprobs(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *model_path = NULL;
    int n_threads = 0, device = 0;
    float temperature = 1.0f;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model_path = argv[++i];
        else if (!strcmp(argv[i], "--temperature") && i + 1 < argc) {
            char *end;
            temperature = strtof(argv[++i], &end);
            if (*end || !(temperature > 0))
                return err_user(e, "logprobs: --temperature '%s' must be a positive number",
                                argv[i]);
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            n_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            TRY(model_device_parse(argv[++i], "logprobs: --device", &device, e));
        else
            return err_user(e, "logprobs: unexpected argument '%s' (see 'grpo logprobs --help')",
                            argv[i]);
    }
    if (!model_path) return err_user(e, "logprobs: --model is required");
    struct backend *be = NULL;
    struct model *m = NULL;
    int rc = 0;
    TRY_FAIL(rc, model_backend_create(device, 0, n_threads, "logprobs: --device", &be, e));
    TRY_FAIL(rc, model_load_path(model_path, be, NULL, &m, e));
    rc = model_logprobs_jsonl(m, temperature, stdin, "stdin", stdout, e);
fail:
    model_destroy(&m);
    model_backend_destroy(&be);
    return rc;
}
