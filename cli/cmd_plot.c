// grpo plot RUN_DIR [--out FILE.svg] [--metrics KEY,...]: a run's metrics as an SVG.
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "report/plot.h"

static const char usage[] =
    "usage: grpo plot RUN_DIR|METRICS.jsonl [--out FILE.svg] [--metrics KEY,KEY,...]\n"
    "\n"
    "Draw a run's metrics (RUN_DIR/metrics.jsonl) against the step into one self-contained\n"
    "SVG that a browser shows: one panel per metric among reward_mean, accuracy, kl, entropy\n"
    "and resp_len_mean (loss for an SFT run). A step logged twice (a resumed run) keeps its\n"
    "last line; null values leave gaps. See docs/plot.md.\n"
    "\n"
    "  --out FILE.svg       where to write (default RUN_DIR/metrics.svg)\n"
    "  --metrics KEY,...    plot these keys instead of the default choice\n";

int cmd_plot(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    struct plot_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--out") == 0 || strcmp(a, "--metrics") == 0) {
            if (i + 1 >= argc) return err_user(e, "%s needs a value", a);
            *(a[2] == 'o' ? &o.out_path : &o.metrics) = argv[++i];
        } else if (strncmp(a, "--out=", 6) == 0) {
            o.out_path = a + 6;
        } else if (strncmp(a, "--metrics=", 10) == 0) {
            o.metrics = a + 10;
        } else if (a[0] == '-' && a[1] != '\0') {
            return err_user(e, "unknown option '%s' (see 'grpo plot --help')", a);
        } else if (!o.input) {
            o.input = a;
        } else {
            return err_user(e, "unexpected argument '%s' (one run directory only)", a);
        }
    }
    if (!o.input) return err_user(e, "missing RUN_DIR (see 'grpo plot --help')");
    char out[4096];
    TRY(plot_run(&o, out, sizeof out, e));
    fprintf(stderr, "wrote %s\n", out);
    return 0;
}
