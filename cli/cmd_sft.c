// grpo sft EXP.yaml: supervised fine-tuning (the warm start of GRPO).
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "trainer/grpo.h"
#include "trainer/sft.h"

static const char usage[] =
    "usage: grpo sft EXP.yaml [--set section.key=value ...] [--resume auto|PATH] [--print-config]\n"
    "\n"
    "Supervised fine-tuning on (prompt, response) JSON lines: the prompt under\n"
    "data.question_key, rendered with the chat template, the response under\n"
    "data.answer_key; the loss is the mean NLL of the response tokens (the prompt is\n"
    "masked). Writes RUN_DIR/metrics.jsonl and checkpoints that grpo train can start from\n"
    "(model.path). Run it under mpirun for data parallelism. Keys: docs/config.md.\n"
    "\n"
    "  --set section.key=value  override a config key (repeatable; the value is YAML)\n"
    "  --resume auto|PATH       continue from the latest checkpoint of the run, or from PATH\n"
    "  --print-config           print the effective config as YAML and exit\n";

// Set by SIGINT/SIGTERM; the run saves a checkpoint and stops at the next step.
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

int cli_run_experiment(int argc, char **argv, int mode, struct err *e) {
    struct run_args args;
    struct config cfg;
    struct comm_world *world = NULL;
    struct run *r = NULL;
    int rc = cli_parse_run_args(argc, argv, &args, e);
    if (rc == 0) rc = config_load_file(&cfg, args.config_path, args.sets, args.n_sets, e);
    cli_free_run_args(&args);
    TRY(rc);
    if (args.print_config) {
        config_write_yaml(&cfg, stdout);
        config_destroy(&cfg);
        return 0;
    }
    TRY_FAIL(rc, comm_init(&argc, &argv, e));
    TRY_FAIL(rc, comm_world_create(&cfg, &world, e));
    log_init(world->size > 1 ? world->rank : -1, (enum log_level)cfg.run.log_level);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    TRY_FAIL(rc, run_create(&cfg, (enum run_mode)mode, args.resume, world, &r, e));
    r->stop_requested = &stop_requested;
    rc = mode == RUN_SFT ? sft_train(r, e) : grpo_train(r, e);
fail:
    run_destroy(&r);
    config_destroy(&cfg);
    if (rc < 0 && world && world->size > 1) {
        // One rank's error would leave the others waiting in a collective.
        fprintf(stderr, "error: [rank %d] %s\n", world->rank, e->msg);
        comm_abort(err_exit_code(rc));
    }
    comm_world_destroy(&world);
    comm_finalize();
    return rc;
}

int cmd_sft(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    return cli_run_experiment(argc, argv, RUN_SFT, e);
}
