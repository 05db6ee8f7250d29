// grpo data: data set tools. synth-arith writes synthetic verifiable
// arithmetic problems as JSON lines.
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "data/synth.h"

static const char usage[] =
    "usage: grpo data synth-arith [--n N] [--seed S] [--digits D] [--ops OPS] > FILE.jsonl\n"
    "\n"
    "Writes N synthetic arithmetic problems, one JSON object a line:\n"
    "  {\"id\": 0, \"question\": \"882+164=\", \"prompt\": \"882+164=\", \"answer\": \"1046\",\n"
    "   \"solution\": \"60 41 01\\\\boxed{1046}\"}\n"
    "Problem i depends only on (seed, i, digits, ops), so --n 10 gives the first 10\n"
    "problems of --n 1000. Load it with question_key question, answer_key answer, gold raw.\n"
    "\n"
    "  --n N       number of problems (default 1000)\n"
    "  --seed S    seed (default 0)\n"
    "  --digits D  digits of each operand, 1-9 (default 3: operands 100-999)\n"
    "  --ops OPS   operators drawn uniformly from OPS, a subset of '+-*' (default '+');\n"
    "              + and - show one 'digit carry|borrow' pair per column, right to left,\n"
    "              then \\boxed{result}; * gives the boxed result only\n";

static int parse_u64(const char *s, const char *name, uint64_t *out, struct err *e) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-')
        return err_user(e, "data: %s '%s' is not a non-negative integer", name, s);
    *out = v;
    return 0;
}

static int synth_arith(int argc, char **argv, struct err *e) {
    uint64_t n = 1000, digits = 3;
    struct synth_arith_cfg cfg = {.seed = 0, .ops = "+"};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!val)
            return err_user(e, "data synth-arith: option '%s' needs a value (see --help)", arg);
        if (strcmp(arg, "--n") == 0)
            TRY(parse_u64(val, "--n", &n, e));
        else if (strcmp(arg, "--seed") == 0)
            TRY(parse_u64(val, "--seed", &cfg.seed, e));
        else if (strcmp(arg, "--digits") == 0)
            TRY(parse_u64(val, "--digits", &digits, e));
        else if (strcmp(arg, "--ops") == 0)
            cfg.ops = val;
        else
            return err_user(e, "data synth-arith: unknown option '%s' (see --help)", arg);
        i++;
    }
    if (digits > SYNTH_MAX_DIGITS)
        return err_user(e, "data synth-arith: digits %" PRIu64 " out of range [1, %d]", digits,
                        SYNTH_MAX_DIGITS);
    cfg.n_digits = (int)digits;
    if (synth_arith_check(&cfg, e) < 0) return err_prefix(e, "data synth-arith: ");
    for (uint64_t i = 0; i < n; i++) {
        struct synth_problem p;
        synth_arith_problem(&cfg, i, &p);
        // Only the solution holds a character JSON escapes: the backslash of \boxed.
        printf("{\"id\":%" PRIu64
               ",\"question\":\"%s\",\"prompt\":\"%s\",\"answer\":\"%s\",\"solution\":\"",
               i, p.question, p.question, p.answer);
        for (const char *c = p.solution; *c; c++) {
            if (*c == '\\') putchar('\\');
            putchar(*c);
        }
        fputs("\"}\n", stdout);
    }
    if (fflush(stdout) != 0) return err_user(e, "data synth-arith: cannot write the output");
    return 0;
}

int cmd_data(int argc, char **argv, struct err *e) {
    if (argc >= 2 && strcmp(argv[1], "synth-arith") == 0) {
        if (cli_wants_help(argc - 1, argv + 1)) {
            fputs(usage, stdout);
            return 0;
        }
        return synth_arith(argc - 1, argv + 1, e);
    }
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    return err_user(e, "data: unknown or missing tool%s%s%s (available: synth-arith)",
                    argc >= 2 ? " '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
}
