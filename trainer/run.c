// Setting up a run from its config, saving and restoring its state.
#include "trainer/run.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fs.h"
#include "core/log.h"
#include "io/ckpt.h"
#include "model/ckpt.h"
#include "comm/nccl.h"
#include "model/cpu/cpu.h"
#include "model/device.h"
#include "trainer/setup.h"

// Threads per rank: run.threads, else OMP_NUM_THREADS, else the cores of the
// node divided among the ranks on it (no oversubscription).
static int threads_per_rank(const struct run *r) {
    if (r->cfg.run.threads > 0) return (int)r->cfg.run.threads;
    const char *omp = getenv("OMP_NUM_THREADS");
    if (omp && atoi(omp) > 0) return atoi(omp);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int local = comm_local_size(r->world);
    int n = (int)(cores / (local > 0 ? local : 1));
    return n > 0 ? n : 1;
}

static int open_tokenizer(struct run *r, struct err *e) {
    return trainer_open_tokenizer(&r->cfg, &r->tok, &r->chat, e);
}

static int open_dataset(struct run *r, struct err *e) {
    const struct data_section *d = &r->cfg.data;
    if (d->train_path[0] == '\0') {
        char where[600];
        config_where(&r->cfg, "data.train_path", where, sizeof where);
        return err_user(e, "%sdata.train_path is required for training", where);
    }
    struct dataset_cfg dc = {.path = d->train_path, .answer_key = d->answer_key};
    TRY(gold_mode_parse(config_enum_name("data", "answer_format", d->answer_format), &dc.gold_mode,
                        e));
    if (d->question_key.n > DATASET_MAX_QUESTION_KEYS)
        return err_user(e, "data.question_key: at most %d keys", DATASET_MAX_QUESTION_KEYS);
    for (int i = 0; i < d->question_key.n; i++) dc.question_keys[i] = d->question_key.items[i];
    dc.n_question_keys = d->question_key.n;
    TRY(dataset_load(&dc, &r->train, e));
    size_t n = r->train->n_rows;
    if (r->mode == RUN_GRPO) {
        TRY(prompt_set_build(r->train, d->train_path, r->tok, r->chat, d->max_prompt_tokens,
                             &r->prompts, e));
        n = r->prompts->n_prompts;
    }
    return data_sampler_create(n, (uint64_t)r->cfg.run.seed, d->shuffle, &r->sampler, e);
}

static int create_policy(struct run *r, struct err *e) {
    const struct model_section *m = &r->cfg.model;
    if (m->path[0]) return model_load_path(m->path, r->be, &r->ledger, &r->policy, e);
    int64_t kv = m->num_kv_heads ? m->num_kv_heads : m->num_heads;
    struct model_shape s = {.C = (int)m->hidden_size,
                            .L = (int)m->num_layers,
                            .H = (int)m->num_heads,
                            .Hkv = (int)kv,
                            .D = (int)(m->hidden_size / m->num_heads),
                            .F = (int)m->intermediate_size,
                            .V = m->vocab_size ? (int)m->vocab_size : tokenizer_vocab_size(r->tok),
                            .max_pos = (int)m->max_seq_len,
                            .rope_theta = (float)m->rope_theta,
                            .rms_eps = (float)m->rms_norm_eps,
                            .is_tied = m->tie_embeddings,
                            .head = MODEL_HEAD_LM};
    if (s.V < tokenizer_vocab_size(r->tok)) {
        char where[600];
        config_where(&r->cfg, "model.vocab_size", where, sizeof where);
        return err_user(e, "%smodel.vocab_size %d is smaller than the tokenizer's %d", where, s.V,
                        tokenizer_vocab_size(r->tok));
    }
    TRY(model_create(&s, r->be, &r->ledger, &r->policy, e));
    model_init_params(r->policy, (uint64_t)r->cfg.run.seed, (float)m->init_std);
    return 0;
}

// The frozen reference of the KL term: model.reference_path, else a copy of
// the initial policy (taken before any checkpoint is restored).
static int create_reference(struct run *r, struct err *e) {
    if (r->mode != RUN_GRPO || r->cfg.grpo.kl_coef == 0.0) return 0;
    const char *path = r->cfg.model.reference_path;
    if (path[0]) {
        TRY(model_load_path(path, r->be, &r->ledger, &r->ref, e));
        if (r->ref->n_params != r->policy->n_params || r->ref->shape.V != r->policy->shape.V)
            return err_user(e, "%s: the reference model's shape differs from the policy's", path);
    } else {
        TRY(model_create(&r->policy->shape, r->be, &r->ledger, &r->ref, e));
        backend_copy_d2d(r->be, r->ref->params, r->policy->params,
                         r->policy->n_params * sizeof(float));
    }
    float *h = model_host_get(r->ref, r->ref->params, true); // the params on a host backend
    r->ref_hash = comm_hash_bytes(h, r->ref->n_params * sizeof(float));
    model_host_put(r->ref, r->ref->params, &h, false);
    return 0;
}

static int create_optimizer(struct run *r, struct err *e) {
    const struct optim_section *o = &r->cfg.optim;
    struct adamw_cfg ac = {.b1 = (float)o->beta1,
                           .b2 = (float)o->beta2,
                           .eps = (float)o->eps,
                           .weight_decay = (float)o->weight_decay,
                           .clip_norm = (float)o->grad_clip};
    static const enum lr_kind kinds[] = {LR_CONSTANT, LR_LINEAR, LR_COSINE};
    r->sched = (struct lr_schedule){.kind = kinds[o->schedule],
                                    .lr = (float)o->lr,
                                    .min_lr = (float)(o->lr * o->min_lr_ratio),
                                    .warmup_steps = o->warmup_steps,
                                    .total_steps = r->cfg.trainer.max_steps};
    TRY(model_alloc_grads(r->policy, e));
    return adamw_create(r->policy, &ac, &r->opt, e);
}

static const char *mode_name(enum run_mode m) {
    return m == RUN_SFT ? "sft" : "grpo";
}

static int restore(struct run *r, const char *path, struct err *e) {
    struct h5file *f;
    TRY(ckpt_open(path, &f, e));
    int rc;
    char *mode = NULL;
    int64_t step, epoch, position, nonfinite;
    TRY_FAIL(rc, h5_attr_get_str(f, "/", "mode", &mode, e));
    if (strcmp(mode, mode_name(r->mode)) != 0) {
        rc = err_user(e,
                      "%s: a grpo %s checkpoint cannot resume a grpo %s run (start from it with "
                      "model.path instead)",
                      path, mode, mode_name(r->mode));
        goto fail;
    }
    TRY_FAIL(rc, model_read_h5(r->policy, f, e));
    TRY_FAIL(rc, adamw_read_h5(r->opt, r->policy, f, e));
    TRY_FAIL(rc, h5_attr_get_i64(f, "/state", "step", &step, e));
    TRY_FAIL(rc, h5_attr_get_i64(f, "/state", "data_epoch", &epoch, e));
    TRY_FAIL(rc, h5_attr_get_i64(f, "/state", "data_position", &position, e));
    TRY_FAIL(rc, h5_attr_get_i64(f, "/state", "nonfinite_steps", &nonfinite, e));
    if (r->ref) {
        int64_t want;
        TRY_FAIL(rc, h5_attr_get_i64(f, "/state", "reference_hash", &want, e));
        if ((uint64_t)want != r->ref_hash) {
            rc = err_user(e,
                          "%s: the reference model differs from the one this run started with "
                          "(model.path or model.reference_path changed?)",
                          path);
            goto fail;
        }
    }
    if (step < 0 || epoch < 0 || position < 0 || (uint64_t)position >= r->sampler->n_rows) {
        rc = err_user(e, "%s: /state holds an impossible step or data cursor", path);
        goto fail;
    }
    r->step = step;
    r->cursor = (struct data_cursor){.epoch = (uint64_t)epoch, .position = (uint64_t)position};
    r->n_nonfinite = nonfinite;
    LOG_INFO("resumed from %s at step %lld", path, (long long)step);
fail:
    free(mode);
    struct err ignored;
    h5_close(&f, &ignored);
    return rc;
}

static int resume_or_start(struct run *r, const char *resume, struct err *e) {
    char path[2048];
    int64_t step;
    if (!resume) {
        int64_t *steps;
        int n;
        TRY(ckpt_list(r->ckpt_dir, &steps, &n, e));
        free(steps);
        if (n > 0)
            return err_user(e,
                            "%s already holds checkpoints: pass --resume auto to continue the run, "
                            "or choose another run.name",
                            r->ckpt_dir);
        return 0;
    }
    if (strcmp(resume, "auto") != 0) return restore(r, resume, e);
    int found = ckpt_latest(r->ckpt_dir, path, sizeof path, &step, e);
    TRY(found);
    if (found == 0) {
        LOG_INFO("--resume auto: no checkpoint in %s, starting fresh", r->ckpt_dir);
        return 0;
    }
    return restore(r, path, e);
}

// run.device: the CPU backend, or CUDA on the device comm_device_bind picks for this rank (a
// collective: every rank learns alike whether some rank has none).
static int create_backend(struct run *r, struct err *e) {
    int index = 0;
    if (r->cfg.run.device == DEVICE_CUDA) {
        struct comm_device dev;
        TRY(comm_device_bind(r->world, &dev, e));
        if (dev.min_devices == 0) return err_user(e, "run.device 'cuda': %s", dev.why);
        index = dev.device;
    }
    return model_backend_create((int)r->cfg.run.device, index, threads_per_rank(r), "run.device",
                                &r->be, e);
}

static void log_memory_plan(const struct run *r) {
    if (r->world->rank != 0) return;
    const struct mem_ledger *l = &r->ledger;
    LOG_INFO("memory: params %.1f MiB, grads %.1f MiB, AdamW %.1f MiB, activations %.1f MiB",
             l->n_bytes[MEM_PARAMS] / 1048576.0, l->n_bytes[MEM_GRADS] / 1048576.0,
             l->n_bytes[MEM_MOMENTS] / 1048576.0, l->n_bytes[MEM_ACTS] / 1048576.0);
}

int run_create(const struct config *cfg, enum run_mode mode, const char *resume,
               struct comm_world *world, struct run **out, struct err *e) {
    *out = NULL;
    struct run *r = xcalloc(1, sizeof *r);
    config_copy(&r->cfg, cfg);
    r->mode = mode;
    r->world = world;
    int rc;
    int n1 = snprintf(r->run_dir, sizeof r->run_dir, "%s/%s", cfg->run.out_dir, cfg->run.name);
    int n2 = cfg->trainer.checkpoint_dir[0]
                 ? snprintf(r->ckpt_dir, sizeof r->ckpt_dir, "%s", cfg->trainer.checkpoint_dir)
                 : snprintf(r->ckpt_dir, sizeof r->ckpt_dir, "%s/checkpoints", r->run_dir);
    if (n1 >= (int)sizeof r->run_dir || n2 >= (int)sizeof r->ckpt_dir) {
        rc = err_user(e, "run directory path too long: '%s/%s'", cfg->run.out_dir, cfg->run.name);
        goto fail;
    }
    TRY_FAIL(rc, create_backend(r, e));
    TRY_FAIL(rc, open_tokenizer(r, e));
    TRY_FAIL(rc, open_dataset(r, e));
    TRY_FAIL(rc, create_policy(r, e));
    TRY_FAIL(rc, create_reference(r, e));
    TRY_FAIL(rc, create_optimizer(r, e));
    TRY_FAIL(rc, resume_or_start(r, resume, e));
    const char *fault = getenv("GRPO_FAULT_NONFINITE_STEPS");
    if (fault &&
        sscanf(fault, "%lld-%lld", (long long *)&r->fault_lo, (long long *)&r->fault_hi) != 2)
        r->fault_lo = r->fault_hi = 0;
    r->comm_scratch = alloc_aligned(&r->ledger, MEM_COMM, r->policy->n_params * sizeof(float));
    if (!r->comm_scratch) {
        rc = err_user(e, "out of memory for the gradient allreduce buffer");
        goto fail;
    }
    if (world->rank == 0) {
        TRY_FAIL(rc, fs_make_dirs(r->run_dir, e));
        char path[2100];
        snprintf(path, sizeof path, "%s/config.yaml", r->run_dir);
        FILE *f = fopen(path, "w");
        if (!f || config_write_yaml(&r->cfg, f) != 0 || fclose(f) != 0) {
            rc = err_user(e, "%s: cannot write", path);
            goto fail;
        }
        snprintf(path, sizeof path, "%s/metrics.jsonl", r->run_dir);
        r->metrics = fopen(path, r->step > 0 ? "a" : "w");
        if (!r->metrics) {
            rc = err_user(e, "%s: cannot open: %s", path, strerror(errno));
            goto fail;
        }
    }
    log_memory_plan(r);
    *out = r;
    return 0;
fail:
    run_destroy(&r);
    return rc;
}

void run_destroy(struct run **rp) {
    struct run *r = *rp;
    if (!r) return;
    if (r->metrics) fclose(r->metrics);
    run_eval_destroy(&r->eval);
    if (r->policy)
        alloc_free(&r->ledger, MEM_COMM, r->policy->n_params * sizeof(float),
                   (void **)&r->comm_scratch);
    adamw_destroy(&r->opt);
    model_destroy(&r->ref);
    model_destroy(&r->policy);
    prompt_set_destroy(&r->prompts);
    data_sampler_destroy(&r->sampler);
    dataset_destroy(&r->train);
    chat_template_destroy(&r->chat);
    tokenizer_destroy(&r->tok);
    model_backend_destroy(&r->be);
    config_destroy(&r->cfg);
    free(r);
    *rp = NULL;
}

static int write_checkpoint(struct run *r, const char *path, struct err *e) {
    struct ckpt_writer *w;
    TRY(ckpt_writer_begin(path, &w, e));
    struct h5file *f = ckpt_writer_file(w);
    int rc;
    char *yaml = config_to_yaml(&r->cfg);
    TRY_FAIL(rc, h5_attr_set_str(f, "/", "config", yaml, e));
    TRY_FAIL(rc, h5_attr_set_str(f, "/", "mode", mode_name(r->mode), e));
    TRY_FAIL(rc, h5_attr_set_i64(f, "/", "complete", r->step >= r->cfg.trainer.max_steps, e));
    TRY_FAIL(rc, model_write_h5(r->policy, f, e));
    TRY_FAIL(rc, adamw_write_h5(r->opt, r->policy, f, e));
    TRY_FAIL(rc, h5_create_group(f, "/state", e));
    TRY_FAIL(rc, h5_attr_set_i64(f, "/state", "step", r->step, e));
    TRY_FAIL(rc, h5_attr_set_i64(f, "/state", "max_steps", r->cfg.trainer.max_steps, e));
    TRY_FAIL(rc, h5_attr_set_i64(f, "/state", "data_epoch", (int64_t)r->cursor.epoch, e));
    TRY_FAIL(rc, h5_attr_set_i64(f, "/state", "data_position", (int64_t)r->cursor.position, e));
    TRY_FAIL(rc, h5_attr_set_i64(f, "/state", "nonfinite_steps", r->n_nonfinite, e));
    TRY_FAIL(rc, h5_attr_set_i64(f, "/state", "seed", r->cfg.run.seed, e));
    if (r->ref)
        TRY_FAIL(rc, h5_attr_set_i64(f, "/state", "reference_hash", (int64_t)r->ref_hash, e));
    free(yaml);
    return ckpt_writer_commit(&w, e);
fail:
    free(yaml);
    ckpt_writer_abort(&w);
    return rc;
}

int run_save_checkpoint(struct run *r, struct err *e) {
    int rc = 0;
    // Never replace a good checkpoint by a broken one: non-finite weights stop the run.
    float *p = model_host_get(r->policy, r->policy->params, true);
    size_t bad = r->policy->n_params;
    for (size_t i = 0; i < r->policy->n_params && bad == r->policy->n_params; i++)
        if (!isfinite(p[i])) bad = i;
    model_host_put(r->policy, r->policy->params, &p, false);
    if (bad < r->policy->n_params)
        return err_user(e,
                        "step %lld: the weights hold NaN/Inf (parameter %zu); not saving over "
                        "the last good checkpoint",
                        (long long)r->step, bad);
    if (r->world->rank == 0) {
        char path[2100];
        ckpt_path(path, sizeof path, r->ckpt_dir, r->step);
        rc = write_checkpoint(r, path, e);
        if (rc == 0) rc = ckpt_prune(r->ckpt_dir, (int)r->cfg.trainer.keep_checkpoints, e);
        if (rc == 0) LOG_INFO("saved %s", path);
    }
    // Every rank learns whether the save worked, so none runs on alone.
    double ok = rc == 0;
    TRY(comm_allreduce_sum_f64(&r->world->world, &ok, 1, e));
    if (rc == 0 && ok != r->world->size) return err_user(e, "checkpoint save failed on rank 0");
    return rc;
}

int run_allreduce_grads(struct run *r, struct err *e) {
    // MPI on host memory: on a device backend the gradients are staged through the host (NCCL
    // on device buffers, comm/nccl.h, is the next step; docs/cuda.md).
    struct model *m = r->policy;
    bool is_fault = r->step + 1 >= r->fault_lo && r->step + 1 <= r->fault_hi;
    float *g = model_host_get(m, m->grads, true);
    int rc = comm_allreduce_sum_f32(&r->world->learners, g, m->n_params, r->comm_scratch, e);
    if (rc == 0 && is_fault) g[0] = NAN;
    model_host_put(m, m->grads, &g, rc == 0);
    return rc;
}

int run_bcast_params(struct run *r, const struct comm_group *g, int root, struct err *e) {
    struct model *m = r->policy;
    float *p = model_host_get(m, m->params, g->rank == root);
    int rc = comm_bcast_f32(g, p, m->n_params, root, e);
    model_host_put(m, m->params, &p, rc == 0 && g->rank != root);
    return rc;
}

double run_optimizer_step(struct run *r) {
    double gnorm = adamw_step(r->opt, r->policy, lr_at(&r->sched, r->step));
    if (isfinite(gnorm)) {
        r->n_nonfinite = 0;
    } else {
        r->n_nonfinite++;
        LOG_WARN("step %lld: non-finite gradient norm, update skipped (%lld in a row)",
                 (long long)r->step + 1, (long long)r->n_nonfinite);
    }
    return gnorm;
}

// Every learner must hold bitwise the same weights (deterministic allreduce,
// same AdamW steps); a difference means a broken replica, never to be saved.
static int check_replicas(struct run *r, struct err *e) {
    const struct comm_group *g = &r->world->learners;
    if (g->size <= 1) return 0;
    float *p = model_host_get(r->policy, r->policy->params, true);
    uint64_t h = comm_hash_bytes(p, r->policy->n_params * sizeof(float));
    model_host_put(r->policy, r->policy->params, &p, false);
    double lo[2] = {(double)(h >> 32), (double)(h & 0xffffffffu)}, hi[2] = {-lo[0], -lo[1]};
    TRY(comm_allreduce_max_f64(g, lo, 2, e));
    TRY(comm_allreduce_max_f64(g, hi, 2, e));
    if (lo[0] != -hi[0] || lo[1] != -hi[1])
        return err_internal(e, "step %lld: the learners' weights differ (replica hash check)",
                            (long long)r->step);
    return 0;
}

int run_end_step(struct run *r, bool *stop, struct err *e) {
    double flag = r->stop_requested && *r->stop_requested;
    TRY(comm_allreduce_sum_f64(&r->world->world, &flag, 1, e));
    *stop = flag > 0;
    int64_t every = r->cfg.trainer.checkpoint_every;
    bool last = r->step == r->cfg.trainer.max_steps;
    if (*stop || last || (every > 0 && r->step % every == 0)) {
        if (r->world->is_learner) TRY(check_replicas(r, e));
        TRY(run_save_checkpoint(r, e));
    }
    if (*stop) LOG_WARN("stopped by a signal at step %lld (checkpoint saved)", (long long)r->step);
    return 0;
}

void run_log_metrics(struct run *r, const char *first_key, ...) {
    if (!r->metrics) return;
    fprintf(r->metrics, "{\"step\": %lld", (long long)r->step);
    va_list ap;
    va_start(ap, first_key);
    for (const char *k = first_key; k; k = va_arg(ap, const char *)) {
        double v = va_arg(ap, double);
        if (isfinite(v))
            fprintf(r->metrics, ", \"%s\": %.9g", k, v);
        else
            fprintf(r->metrics, ", \"%s\": null", k);
    }
    va_end(ap);
    fputs("}\n", r->metrics);
    fflush(r->metrics);
}
