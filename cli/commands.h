// The grpo subcommands (design.md §4). Each takes the arguments after its
// name (argv[0] is the subcommand) and returns 0 or a negative error code with
// a one-line message in e; main prints it and exits with err_exit_code().
#pragma once

#include "core/err.h"

struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv, struct err *e);
};

int cmd_train(int argc, char **argv, struct err *e);
int cmd_sft(int argc, char **argv, struct err *e);
int cmd_inspect(int argc, char **argv, struct err *e);
int cmd_logprobs(int argc, char **argv, struct err *e);
int cmd_convert(int argc, char **argv, struct err *e);
int cmd_verify(int argc, char **argv, struct err *e);
int cmd_tokenize(int argc, char **argv, struct err *e);
int cmd_data(int argc, char **argv, struct err *e);
int cmd_generate(int argc, char **argv, struct err *e);
int cmd_eval(int argc, char **argv, struct err *e);
int cmd_plot(int argc, char **argv, struct err *e);

// Shared argument helpers for the subcommands.

// Arguments of the commands that run an experiment (train, sft).
struct run_args {
    const char *config_path;
    const char **sets; // the --set values, borrowed from argv
    int n_sets;
    const char *resume; // NULL, "auto" or a checkpoint path
    int print_config;
};
int cli_parse_run_args(int argc, char **argv, struct run_args *out, struct err *e);
void cli_free_run_args(struct run_args *a);
// Load the config (or print it), set up MPI and the run, train (mode: enum
// run_mode), finalize. One rank's error aborts the whole job.
int cli_run_experiment(int argc, char **argv, int mode, struct err *e);

// True when argv holds --help or -h.
int cli_wants_help(int argc, char **argv);
