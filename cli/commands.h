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

int cmd_verify(int argc, char **argv, struct err *e);  // cli/cmd_verify.c

// Shared argument helpers for the subcommands.
// True when argv holds --help or -h.
int cli_wants_help(int argc, char **argv);
