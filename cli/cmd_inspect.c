// grpo inspect CKPT.h5: what a checkpoint (or any HDF5 tensor file) holds.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "io/ckpt.h"

static const char usage[] =
    "usage: grpo inspect CKPT.h5\n"
    "\n"
    "List a checkpoint's groups, tensors (name, dtype, shape) and attributes, then the\n"
    "experiment config stored in it. Exit status 1 when the file is not a readable grpo\n"
    "checkpoint.\n";

int cmd_inspect(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') return err_user(e, "usage: grpo inspect CKPT.h5");
    struct h5file *f;
    TRY(ckpt_open(argv[1], &f, e));
    int rc = h5_describe(f, stdout, 60, e);
    if (rc == 0 && h5_attr_exists(f, "/", "config")) {
        char *config = NULL;
        rc = h5_attr_get_str(f, "/", "config", &config, e);
        if (rc == 0) printf("config:\n%s", config);
        free(config);
    }
    struct err close_err;
    h5_close(&f, &close_err);
    return rc;
}
