// grpo generate --model DIR|CKPT.h5: the rollout engine on JSON lines (rollout/jsonl.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "model/ckpt.h"
#include "model/device.h"
#include "rollout/jsonl.h"

static const char usage[] =
    "usage: grpo generate --model DIR|CKPT.h5 [options] < IN.jsonl > OUT.jsonl\n"
    "\n"
    "Samples --n responses per query. Input lines: {\"id\": ..., \"prompt\": \"...\"} (chat\n"
    "template applied) or {\"id\": ..., \"ids\": [...]} (prompt ids as they are). Output lines:\n"
    "{\"id\": ..., \"samples\": [{\"ids\": [...], \"text\": \"...\", \"logprobs\": [...],\n"
    "\"sample_logprobs\": [...], \"finish\": \"stop\"|\"length\"}]}. A sample depends only on\n"
    "(seed, step, id, sample index), never on batching. logprobs: under the model at\n"
    "temperature 1; sample_logprobs: under the distribution sampled from.\n"
    "\n"
    "  --model PATH           Hugging Face directory or grpo checkpoint (.h5)\n"
    "  --n G                  samples per query (default 32)\n"
    "  --temperature T        0 = greedy (default 1)\n"
    "  --top-p P              nucleus mass, 1 = off (default 1)\n"
    "  --top-k K              0 = off (default 0)\n"
    "  --min-p P              0 = off (default 0)\n"
    "  --max-new-tokens N     longest response (default 1024)\n"
    "  --stop STR             a stop string (repeatable; needs a tokenizer)\n"
    "  --seed S               (default 0)\n"
    "  --step N               the GRPO step keying the random streams (default 0)\n"
    "  --tokenizer PATH       tokenizer.json, its directory, or 'bytes' (default: the model\n"
    "                         directory's tokenizer.json if any; without one only \"ids\" work)\n"
    "  --chat-template NAME   chatml | raw (default chatml)\n"
    "  --system-prompt S      cot | tir | none | the text itself (default cot with chatml)\n"
    "  --kv-cache-mb MB       KV-cache budget (default 1024)\n"
    "  --max-batch-seqs N     most sequences decoded per step (default 256)\n"
    "  --batch-queries N      queries read before generating (default 64)\n"
    "  --threads N            CPU threads (default: OMP_NUM_THREADS, else all cores)\n"
    "  --device D             cpu | cuda (CUDA device 0; default cpu)\n"
    "  --plan                 print the memory plan and statistics to stderr\n";

struct gen_args {
    const char *model, *tokenizer, *chat, *system;
    const char *stop[ROLLOUT_MAX_STOP];
    struct rollout_cfg cfg;
    struct rollout_jsonl_opts o;
    int threads, is_plan, device;
};

static int parse_int(const char *flag, const char *v, long long lo, long long hi, long long *out,
                     struct err *e) {
    char *end;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || x < lo || x > hi)
        return err_user(e, "generate: %s '%s' must be an integer in %lld..%lld", flag, v, lo, hi);
    *out = x;
    return 0;
}

static int parse_real(const char *flag, const char *v, float *out, struct err *e) {
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end) return err_user(e, "generate: %s '%s' is not a number", flag, v);
    *out = (float)x;
    return 0;
}

static int parse_args(int argc, char **argv, struct gen_args *a, struct err *e) {
    rollout_cfg_defaults(&a->cfg);
    a->cfg.stop = a->stop;
    a->o = (struct rollout_jsonl_opts){.G = 32, .batch_queries = 64};
    a->chat = "chatml";
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long x = 0;
        if (!strcmp(f, "--plan")) {
            a->is_plan = 1;
            continue;
        }
        if (!v || strncmp(f, "--", 2))
            return err_user(e, "generate: unexpected argument '%s' (see 'grpo generate --help')",
                            f);
        i++;
        if (!strcmp(f, "--model"))
            a->model = v;
        else if (!strcmp(f, "--tokenizer"))
            a->tokenizer = v;
        else if (!strcmp(f, "--chat-template"))
            a->chat = v;
        else if (!strcmp(f, "--system-prompt"))
            a->system = v;
        else if (!strcmp(f, "--device"))
            TRY(model_device_parse(v, "generate: --device", &a->device, e));
        else if (!strcmp(f, "--temperature"))
            TRY(parse_real(f, v, &a->cfg.sampling.temperature, e));
        else if (!strcmp(f, "--top-p"))
            TRY(parse_real(f, v, &a->cfg.sampling.top_p, e));
        else if (!strcmp(f, "--min-p"))
            TRY(parse_real(f, v, &a->cfg.sampling.min_p, e));
        else if (!strcmp(f, "--stop")) {
            if (a->cfg.n_stop == ROLLOUT_MAX_STOP)
                return err_user(e, "generate: at most %d --stop strings", ROLLOUT_MAX_STOP);
            a->stop[a->cfg.n_stop++] = v;
        } else {
            static const struct {
                const char *flag;
                long long lo, hi;
            } ints[] = {{"--n", 1, 65536},
                        {"--top-k", 0, 1 << 24},
                        {"--max-new-tokens", 1, 1 << 24},
                        {"--seed", 0, INT64_MAX},
                        {"--step", 0, INT64_MAX},
                        {"--kv-cache-mb", 1, 1 << 24},
                        {"--max-batch-seqs", 1, 1 << 20},
                        {"--batch-queries", 1, 1 << 20},
                        {"--threads", 1, 1024},
                        {0}};
            int k = 0;
            while (ints[k].flag && strcmp(ints[k].flag, f)) k++;
            if (!ints[k].flag)
                return err_user(e, "generate: unknown option '%s' (see 'grpo generate --help')", f);
            TRY(parse_int(f, v, ints[k].lo, ints[k].hi, &x, e));
            switch (k) {
            case 0:
                a->o.G = (int)x;
                break;
            case 1:
                a->cfg.sampling.top_k = (int)x;
                break;
            case 2:
                a->cfg.max_new_tokens = (int)x;
                break;
            case 3:
                a->o.seed = (uint64_t)x;
                break;
            case 4:
                a->o.step = x;
                break;
            case 5:
                a->cfg.kv_cache_mb = x;
                break;
            case 6:
                a->cfg.max_batch_seqs = (int)x;
                break;
            case 7:
                a->o.batch_queries = (int)x;
                break;
            default:
                a->threads = (int)x;
                break;
            }
        }
    }
    if (!a->model) return err_user(e, "generate: --model is required");
    a->cfg.plan_group_size = a->o.G;
    if (!a->system && !strcmp(a->chat, "chatml")) a->system = "cot";
    return 0;
}

// The tokenizer: --tokenizer, else MODEL/tokenizer.json when MODEL is a directory holding one.
static int open_tokenizer(const struct gen_args *a, struct tokenizer **tok, struct err *e) {
    *tok = NULL;
    if (a->tokenizer) return tokenizer_open(a->tokenizer, tok, e);
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/tokenizer.json", a->model);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return tokenizer_load(path, tok, e);
    return 0;
}

int cmd_generate(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    struct gen_args a = {0};
    TRY(parse_args(argc, argv, &a, e));
    struct backend *be = NULL;
    struct model *m = NULL;
    struct tokenizer *tok = NULL;
    struct chat_template *chat = NULL;
    struct rollout_engine *g = NULL;
    int rc = 0;
    TRY_FAIL(rc, model_backend_create(a.device, 0, a.threads, "generate: --device", &be, e));
    TRY_FAIL(rc, model_load_path(a.model, be, NULL, &m, e));
    TRY_FAIL(rc, open_tokenizer(&a, &tok, e));
    if (tok) {
        const char *sys = a.system && strcmp(a.system, "none") ? a.system : NULL;
        TRY_FAIL(rc, chat_template_create(tok, a.chat, sys, &chat, e));
    }
    TRY_FAIL(rc, rollout_engine_create(m, tok, chat, &a.cfg, NULL, &g, e));
    if (a.is_plan) rollout_plan_print(rollout_engine_plan(g), &a.cfg, stderr);
    rc = rollout_generate_jsonl(g, tok, &a.o, stdin, "stdin", stdout, e);
    if (a.is_plan) {
        const struct rollout_stats *s = rollout_engine_stats(g);
        fprintf(stderr,
                "rollout: %lld samples, %lld prefill and %lld decode tokens in %lld steps, "
                "%.2f s (prefill %.2f, decode %.2f, sampling %.2f); peak %d sequences, %d KV "
                "blocks used, %d reserved\n",
                (long long)s->n_samples, (long long)s->n_prefill_tokens,
                (long long)s->n_decode_tokens, (long long)s->n_decode_steps, s->total_s,
                s->prefill_s, s->decode_s, s->sample_s, s->peak_seqs, s->peak_blocks,
                s->peak_reserved);
    }
fail:
    rollout_engine_destroy(&g);
    chat_template_destroy(&chat);
    tokenizer_destroy(&tok);
    model_destroy(&m);
    model_backend_destroy(&be);
    return rc;
}
