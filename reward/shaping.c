// Reward shaping (reward/reward.h): combines r_v and r_m by mode, DAPO's soft
// overlong penalty, and the running metrics of the reward service.
#include <math.h>
#include <string.h>

#include "reward/reward.h"

void reward_shaping_opts_default(struct reward_shaping_opts *o) {
    *o = (struct reward_shaping_opts){
        .mode = REWARD_SHAPING_QWEN,
        .alpha = 0.5,
        .w_v = 1,
        .w_m = 1,
        .has_overlong_penalty = false,
        .overlong_max_tokens = 0,
        .overlong_buffer_tokens = 0,
        .overlong_factor = 1,
    };
}

static const char *const shaping_names[] = {"rule", "rm", "qwen", "weighted"};

bool reward_shaping_mode_parse(const char *name, enum reward_shaping_mode *mode) {
    for (int k = 0; k < 4; k++)
        if (strcmp(name, shaping_names[k]) == 0) {
            *mode = (enum reward_shaping_mode)k;
            return true;
        }
    return false;
}

const char *reward_shaping_mode_name(enum reward_shaping_mode mode) {
    return (unsigned)mode < 4 ? shaping_names[mode] : "?";
}

int reward_shaping_opts_check(const struct reward_shaping_opts *o, struct err *e) {
    if ((unsigned)o->mode >= 4) return err_user(e, "reward.shaping: unknown mode %d", (int)o->mode);
    if (!(o->alpha >= 0) || !isfinite(o->alpha))
        return err_user(e, "reward.rm_alpha '%g' must be a number >= 0", o->alpha);
    if (!isfinite(o->w_v) || !isfinite(o->w_m))
        return err_user(e, "reward weights '%g', '%g' must be finite", o->w_v, o->w_m);
    if (o->has_overlong_penalty) {
        if (o->overlong_buffer_tokens <= 0 || o->overlong_max_tokens <= o->overlong_buffer_tokens)
            return err_user(e, "reward.overlong_buffer_tokens '%d' must be in (0, max_tokens '%d')",
                            o->overlong_buffer_tokens, o->overlong_max_tokens);
        if (!(o->overlong_factor >= 0) || !isfinite(o->overlong_factor))
            return err_user(e, "reward.overlong_factor '%g' must be >= 0", o->overlong_factor);
    }
    return 0;
}

// 1 / (1 + e^-x) without overflow for large |x|.
static double sigmoid(double x) {
    if (x >= 0) return 1 / (1 + exp(-x));
    double z = exp(x);
    return z / (1 + z);
}

// Past |x| = 700, sigmoid(-x) would underflow to 0 and a correct answer with
// a very bad score would tie a wrong one with a very good score.
#define SIGMOID_ARG_MAX 700.0

double reward_shape(const struct reward_shaping_opts *o, double r_v, const double *r_m) {
    if (!r_m) return r_v;
    double m = isnan(*r_m) ? 0 : *r_m; // a broken score must not poison its group
    switch (o->mode) {
    case REWARD_SHAPING_RM:
        return m;
    case REWARD_SHAPING_QWEN: {
        double x = fmax(-SIGMOID_ARG_MAX, fmin(SIGMOID_ARG_MAX, o->alpha * m));
        // sigmoid(x) + (r_v - 1), with sigmoid(x) - 1 written -sigmoid(-x) so that
        // a wrong answer stays < 0 < any correct one in floating point
        return r_v >= 1 ? sigmoid(x) + (r_v - 1) : -sigmoid(-x) + r_v;
    }
    case REWARD_SHAPING_WEIGHTED:
        return o->w_v * r_v + o->w_m * m;
    default:
        return r_v;
    }
}

double reward_overlong_penalty(const struct reward_shaping_opts *o, int n_tokens) {
    if (!o->has_overlong_penalty) return 0;
    int expected = o->overlong_max_tokens - o->overlong_buffer_tokens;
    if (n_tokens <= expected) return 0;
    if (n_tokens > o->overlong_max_tokens) return -o->overlong_factor;
    return o->overlong_factor * (double)(expected - n_tokens) / o->overlong_buffer_tokens;
}

void reward_score(struct reward_verifier *v, const struct reward_shaping_opts *shaping,
                  const struct reward_request *req, const double *r_m,
                  struct reward_verdict *verdict, struct reward_components *out) {
    reward_verify(v, req->response, req->n_response, req->gold, req->n_gold, NULL, verdict);
    *out = (struct reward_components){.r_v = verdict->is_correct ? 1 : 0};
    out->has_rm = r_m != NULL;
    out->r_m = r_m ? *r_m : 0;
    out->r_overlong = reward_overlong_penalty(shaping, req->n_tokens);
    out->r = reward_shape(shaping, out->r_v, r_m) + out->r_overlong;
}

void reward_stats_add(struct reward_stats *s, const struct reward_verdict *v,
                      const struct reward_components *c) {
    s->n++;
    s->n_correct += v->is_correct;
    s->n_no_answer += v->is_no_answer;
    s->n_budget_exceeded += v->is_budget_exceeded;
    s->n_rm += c->has_rm;
    s->sum_r += c->r;
    s->sum_r2 += c->r * c->r;
    s->sum_r_v += c->r_v;
    s->sum_r_m += c->r_m;
    s->sum_overlong += c->r_overlong;
}

void reward_stats_merge(struct reward_stats *a, const struct reward_stats *b) {
    a->n += b->n;
    a->n_correct += b->n_correct;
    a->n_no_answer += b->n_no_answer;
    a->n_budget_exceeded += b->n_budget_exceeded;
    a->n_rm += b->n_rm;
    a->sum_r += b->sum_r;
    a->sum_r2 += b->sum_r2;
    a->sum_r_v += b->sum_r_v;
    a->sum_r_m += b->sum_r_m;
    a->sum_overlong += b->sum_overlong;
}
