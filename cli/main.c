// grpo: the command-line entry point. Parses the subcommand and dispatches;
// the work lives in the modules.
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "grpo_build.h"
#if GRPO_HAVE_CUDA
#include "model/cuda/cuda_probe.h"
#endif

// One line per subcommand, in the order of design.md §4; ended by {0}.
static const struct command commands[] = {
    {"train", "train a policy with GRPO from an experiment config", cmd_train},
    {"sft", "supervised fine-tuning on (prompt, response) pairs", cmd_sft},
    {"logprobs", "per-token log-probabilities and entropies of token sequences", cmd_logprobs},
    {"convert", "Hugging Face model directory <-> grpo checkpoint", cmd_convert},
    {"eval", "accuracy, pass@k and maj@k of a model on held-out problems", cmd_eval},
    {"verify", "check answers against gold answers (JSON lines)", cmd_verify},
    {"tokenize", "text <-> token ids (JSON lines)", cmd_tokenize},
    {"generate", "sample responses with the rollout engine (JSON lines)", cmd_generate},
    {"inspect", "list what a checkpoint holds", cmd_inspect},
    {"data", "data set tools (synth-arith: synthetic arithmetic problems)", cmd_data},
    {"plot", "draw a run's metrics as an SVG", cmd_plot},
    {0},
};

static void print_usage(FILE *f) {
    fprintf(f, "usage: grpo <command> [options]\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(
        f,
        "\n'grpo <command> --help' describes a command; 'grpo --version' the build.\n"
        "exit status: 0 success, 1 user error (bad config, data, checkpoint), 2 internal error\n");
}

static void print_version(void) {
    printf("grpo %s\n", GRPO_VERSION);
#if GRPO_HAVE_CUDA
    struct cuda_info info;
    char msg[256] = "";
    if (cuda_probe(&info, msg, sizeof msg) < 0)
        printf("CUDA backend: built; runtime error: %s\n", msg);
    else if (info.n_devices == 0)
        printf("CUDA backend: built (runtime %d), no GPU visible\n", info.runtime_version);
    else
        printf("CUDA backend: built (runtime %d), %d GPU(s); device 0: %s, sm_%d%d, %.1f GiB, "
               "cuBLAS %s\n",
               info.runtime_version, info.n_devices, info.name, info.cc_major, info.cc_minor,
               (double)info.n_bytes_total / (1 << 30), info.has_cublas ? "ok" : "failed");
#else
    printf("CUDA backend: not built (CPU-only build)\n");
#endif
}

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

int main(int argc, char **argv) {
    log_init(-1, LOG_INFO);
    if (argc < 2) {
        print_usage(stderr);
        return 1;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        print_version();
        return 0;
    }
    for (const struct command *c = commands; c->name; c++) {
        if (strcmp(argv[1], c->name) != 0) continue;
        struct err e;
        err_clear(&e);
        int rc = c->run(argc - 1, argv + 1, &e);
        if (rc < 0) fprintf(stderr, "error: %s\n", e.msg[0] ? e.msg : "unknown error");
        return err_exit_code(rc);
    }
    fprintf(stderr, "error: unknown command '%s' (see 'grpo --help')\n", argv[1]);
    return 1;
}
