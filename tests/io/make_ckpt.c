// Writes a small checkpoint (for the CLI tests of grpo inspect):
// make_ckpt PATH CONFIG.yaml
#include <stdio.h>
#include <stdlib.h>

#include "core/config.h"
#include "io/ckpt.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: make_ckpt PATH CONFIG.yaml\n");
        return 2;
    }
    struct err e;
    struct config cfg;
    struct ckpt_writer *w;
    float wte[4 * 3] = {0};
    uint16_t half[2] = {0x3f80, 0x4000};
    int64_t step = 7, s_wte[2] = {4, 3}, s_half[1] = {2}, s_step[1] = {1};
    if (config_load_file(&cfg, argv[2], NULL, 0, &e) != 0 ||
        ckpt_writer_begin(argv[1], &w, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    char *yaml = config_to_yaml(&cfg);
    struct h5file *f = ckpt_writer_file(w);
    int rc = h5_write(f, "/model/model.embed_tokens.weight", H5_F32, 2, s_wte, wte, &e);
    if (rc == 0) rc = h5_write(f, "/model/model.norm.weight", H5_BF16, 1, s_half, half, &e);
    if (rc == 0) rc = h5_write(f, "/state/step", H5_I64, 1, s_step, &step, &e);
    if (rc == 0) rc = h5_attr_set_str(f, "/", "config", yaml, &e);
    if (rc == 0)
        rc = ckpt_writer_commit(&w, &e);
    else
        ckpt_writer_abort(&w);
    free(yaml);
    config_destroy(&cfg);
    if (rc) fprintf(stderr, "%s\n", e.msg);
    return rc ? 1 : 0;
}
