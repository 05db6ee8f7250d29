// grpo convert: Hugging Face directory <-> grpo checkpoint (fp32, bit-exact both ways).
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "model/ckpt.h"
#include "model/cpu/cpu.h"
#include "model/hf.h"

static const char usage[] =
    "usage: grpo convert --from hf DIR --to CKPT.h5\n"
    "       grpo convert --from CKPT.h5 --to-hf DIR\n"
    "\n"
    "Converts a Hugging Face Qwen2 model directory (config.json + model.safetensors or a\n"
    "sharded index; F32, BF16 or F16 tensors) into a grpo checkpoint holding /model and the\n"
    "architecture, or a checkpoint's model back into a directory (config.json +\n"
    "model.safetensors, fp32). fp32 round trips are bit-exact.\n";

int cmd_convert(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *hf_dir = NULL, *from_ckpt = NULL, *to_ckpt = NULL, *to_hf = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 2 < argc && !strcmp(argv[i + 1], "hf")) {
            hf_dir = argv[i + 2];
            i += 2;
        } else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
            from_ckpt = argv[++i];
        } else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            to_ckpt = argv[++i];
        } else if (!strcmp(argv[i], "--to-hf") && i + 1 < argc) {
            to_hf = argv[++i];
        } else {
            return err_user(e, "convert: unexpected argument '%s' (see 'grpo convert --help')",
                            argv[i]);
        }
    }
    if (!((hf_dir && to_ckpt && !from_ckpt && !to_hf) ||
          (from_ckpt && to_hf && !hf_dir && !to_ckpt)))
        return err_user(e,
                        "convert: use --from hf DIR --to CKPT.h5, or --from CKPT.h5 --to-hf DIR");
    struct backend *be = NULL;
    struct model *m = NULL;
    int rc = 0;
    TRY_FAIL(rc, backend_cpu_create(1, &be, e));
    if (hf_dir) {
        TRY_FAIL(rc, model_load_hf(hf_dir, be, NULL, &m, e));
        TRY_FAIL(rc, model_save_ckpt(m, to_ckpt, e));
    } else {
        TRY_FAIL(rc, model_load_ckpt(from_ckpt, be, NULL, &m, e));
        TRY_FAIL(rc, model_save_hf(m, to_hf, e));
    }
fail:
    model_destroy(&m);
    backend_cpu_destroy(&be);
    return rc;
}
