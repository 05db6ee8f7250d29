// grpo verify: JSON lines {"response": ..., "gold": ..., "mode"?: ...} on
// stdin -> {"correct": bool, "extracted": ..., "reason": ...} on stdout, one
// line per input line, in order. The rules live in reward/.
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "reward/reward.h"

static const char usage[] =
    "usage: grpo verify [--mode boxed|gsm8k|solution] [--tolerance X] < IN.jsonl > OUT.jsonl\n"
    "\n"
    "Checks each response's final answer against its gold answer.\n"
    "input lines:  {\"response\": str, \"gold\": str|number, \"mode\": "
    "\"boxed\"|\"gsm8k\"|\"solution\" "
    "(optional)}\n"
    "output lines: {\"correct\": bool, \"extracted\": str, \"reason\": str}\n"
    "\n"
    "  --mode M        default extraction style: boxed (default; \\boxed{}, \"the answer is\",\n"
    "                  \"####\", 答案是), gsm8k (the same, then the last number) or\n"
    "                  solution (the same, then a worked solution's final statement)\n"
    "  --tolerance X   relative tolerance for non-integer values (default 1e-4)\n"
    "See docs/reward.md for the rules.\n";

static int parse_args(int argc, char **argv, struct reward_verifier_opts *o, struct err *e) {
    enum reward_mode mode = REWARD_MODE_BOXED;
    double tol = 0;
    bool has_tol = false;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) return err_user(e, "verify: option '%s' needs a value", argv[i]);
        if (strcmp(argv[i], "--mode") == 0) {
            if (!reward_mode_parse(argv[i + 1], &mode))
                return err_user(e, "verify: unknown mode '%s' (boxed, gsm8k or solution)",
                                argv[i + 1]);
        } else if (strcmp(argv[i], "--tolerance") == 0) {
            char *end;
            tol = strtod(argv[i + 1], &end);
            has_tol = true;
            if (*end || end == argv[i + 1])
                return err_user(e, "verify: bad tolerance '%s'", argv[i + 1]);
        } else {
            return err_user(e, "verify: unknown option '%s' (see 'grpo verify --help')", argv[i]);
        }
        i++;
    }
    reward_verifier_opts_default(o, mode);
    if (has_tol) o->equiv.rel_tol = tol;
    return 0;
}

// One input line -> one output line; ERR_USER with the line number on bad input.
static int verify_line(struct reward_verifier *v, const struct reward_verifier_opts *o,
                       const char *line, long line_no, struct err *e) {
    cJSON *in = cJSON_Parse(line);
    if (!in || !cJSON_IsObject(in)) {
        cJSON_Delete(in);
        return err_user(e, "<stdin>:%ld: not a JSON object", line_no);
    }
    int rc = 0;
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(in, "response");
    const cJSON *gold = cJSON_GetObjectItemCaseSensitive(in, "gold");
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(in, "mode");
    char num[64];
    const char *gold_s = NULL;
    struct reward_extract_opts ex = o->extract;
    if (!cJSON_IsString(resp)) {
        rc = err_user(e, "<stdin>:%ld: key 'response' missing or not a string", line_no);
        goto fail;
    }
    if (cJSON_IsString(gold)) {
        gold_s = gold->valuestring;
    } else if (cJSON_IsNumber(gold)) {
        snprintf(num, sizeof num, "%.17g", gold->valuedouble);
        gold_s = num;
    } else {
        rc = err_user(e, "<stdin>:%ld: key 'gold' missing or not a string or number", line_no);
        goto fail;
    }
    if (mode) {
        enum reward_mode m;
        if (!cJSON_IsString(mode) || !reward_mode_parse(mode->valuestring, &m)) {
            rc = err_user(e, "<stdin>:%ld: key 'mode' must be \"boxed\", \"gsm8k\" or \"solution\"",
                          line_no);
            goto fail;
        }
        reward_extract_opts_default(&ex, m);
        ex.max_response_bytes = o->extract.max_response_bytes;
        ex.max_answer_bytes = o->extract.max_answer_bytes;
    }
    struct reward_verdict vd;
    reward_verify(v, resp->valuestring, strlen(resp->valuestring), gold_s, strlen(gold_s), &ex,
                  &vd);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddBoolToObject(out, "correct", vd.is_correct);
    cJSON_AddStringToObject(out, "extracted", vd.extracted);
    cJSON_AddStringToObject(out, "reason", vd.reason);
    char *text = cJSON_PrintUnformatted(out);
    if (!text) {
        cJSON_Delete(out);
        rc = err_internal(e, "<stdin>:%ld: cannot format the output line", line_no);
        goto fail;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
    cJSON_Delete(out);
fail:
    cJSON_Delete(in);
    return rc;
}

int cmd_verify(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    struct reward_verifier_opts o;
    TRY(parse_args(argc, argv, &o, e));
    struct reward_verifier *v;
    TRY(reward_verifier_create(&o, &v, e));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long line_no = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        line_no++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) continue;
        if (strlen(line) != (size_t)n) {
            rc = err_user(e, "<stdin>:%ld: NUL byte in line", line_no);
            break;
        }
        if ((rc = verify_line(v, &o, line, line_no, e)) < 0) break;
    }
    fflush(stdout);
    free(line);
    reward_verifier_destroy(&v);
    return rc;
}
