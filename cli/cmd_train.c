// grpo train EXP.yaml [--set section.key=value ...] [--resume auto|PATH] [--print-config]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/check.h"
#include "core/config.h"
#include "trainer/run.h"

static const char usage[] =
    "usage: grpo train EXP.yaml [--set section.key=value ...] [--resume auto|PATH] "
    "[--print-config]\n"
    "\n"
    "Train a policy with GRPO as the experiment config says; run it under mpirun for more\n"
    "than one rank. Keys of EXP.yaml are documented in docs/config.md.\n"
    "\n"
    "  --set section.key=value  override a config key (repeatable; the value is YAML)\n"
    "  --resume auto|PATH       continue from the latest checkpoint of the run, or from PATH\n"
    "  --print-config           print the effective config as YAML and exit\n";

int cli_parse_run_args(int argc, char **argv, struct run_args *out, struct err *e) {
    memset(out, 0, sizeof *out);
    out->sets = xcalloc((size_t)argc, sizeof *out->sets);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--set") == 0 || strcmp(a, "--resume") == 0) {
            if (i + 1 >= argc) return err_user(e, "%s needs a value", a);
            if (a[2] == 's')
                out->sets[out->n_sets++] = argv[++i];
            else
                out->resume = argv[++i];
        } else if (strncmp(a, "--set=", 6) == 0) {
            out->sets[out->n_sets++] = a + 6;
        } else if (strncmp(a, "--resume=", 9) == 0) {
            out->resume = a + 9;
        } else if (strcmp(a, "--print-config") == 0) {
            out->print_config = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return err_user(e, "unknown option '%s'", a);
        } else if (!out->config_path) {
            out->config_path = a;
        } else {
            return err_user(e, "unexpected argument '%s' (one config file only)", a);
        }
    }
    if (!out->config_path) return err_user(e, "missing the experiment config EXP.yaml");
    return 0;
}

void cli_free_run_args(struct run_args *a) {
    free(a->sets);
    a->sets = NULL;
}

int cmd_train(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    return cli_run_experiment(argc, argv, RUN_GRPO, e);
}
