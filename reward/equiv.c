// Equivalence of answer and gold: normalise both, parse them into item trees
// (reward/structure.c) and compare the trees. Leaves that are expressions are
// compared by value; constants with rel_tol (exactly, 1e-9, when the gold is
// an integer), expressions with variables at random points, all positive,
// then also at negative points where both sides are real.
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "reward/equiv_internal.h"
#include "reward/normalize_internal.h"

// A gold that is an integer must be matched exactly; 1e-9 only absorbs the
// rounding of evaluating an exact expression (\sqrt{16}, 2^{10}) in doubles.
#define EXACT_REL_TOL 1e-9
// Against an exact zero, values below this are rounding (sin(\pi) vs 0).
#define ABS_TOL 1e-12
// Ranges of the random evaluation points: away from 0 and 1's special values
// scaled enough to separate x^2 from x^3, small enough not to overflow.
#define POINT_LO 0.3
#define POINT_HI 2.7

enum { CMP_DIFFERENT = 0, CMP_EQUAL = 1, CMP_UNDECIDED = 2 };

void reward_equiv_opts_default(struct reward_equiv_opts *o) {
    *o = (struct reward_equiv_opts){
        .rel_tol = 1e-4,
        .seed = 0,
        .n_points = 6,
        .max_nodes = 4096,
        .max_depth = 128,
        .max_answer_bytes = 4096,
    };
}

int reward_equiv_create(const struct reward_equiv_opts *opts, struct reward_equiv **out,
                        struct err *e) {
    *out = NULL;
    if (!(opts->rel_tol >= 0 && opts->rel_tol < 1))
        return err_user(e, "reward tolerance '%g' out of range [0, 1)", opts->rel_tol);
    if (opts->n_points < 1 || opts->n_points > 64)
        return err_user(e, "reward n_points '%d' out of range [1, 64]", opts->n_points);
    if (opts->max_nodes < 16 || opts->max_nodes > (1 << 20))
        return err_user(e, "reward max_nodes '%d' out of range [16, 1048576]", opts->max_nodes);
    if (opts->max_depth < 4 || opts->max_depth > 1000)
        return err_user(e, "reward max_depth '%d' out of range [4, 1000]", opts->max_depth);
    if (opts->max_answer_bytes < 16 || opts->max_answer_bytes > ((size_t)1 << 24))
        return err_user(e, "reward max_answer_bytes '%zu' out of range [16, 16777216]",
                        opts->max_answer_bytes);
    struct reward_equiv *q = xcalloc(1, sizeof *q);
    q->o = *opts;
    q->pool.cap_nodes = opts->max_nodes;
    q->pool.max_depth = opts->max_depth;
    q->pool.nodes = xcalloc((size_t)opts->max_nodes, sizeof *q->pool.nodes);
    q->items = xcalloc(EQUIV_MAX_ITEMS, sizeof *q->items);
    // two normalised answers (normalisation at most doubles a string) and the
    // \pm copies
    q->arena_cap = 8 * opts->max_answer_bytes + 256;
    q->arena = xmalloc(q->arena_cap);
    *out = q;
    return 0;
}

void reward_equiv_destroy(struct reward_equiv **q) {
    if (!*q) return;
    free((*q)->pool.nodes);
    free((*q)->items);
    free((*q)->arena);
    free(*q);
    *q = NULL;
}

static bool is_finite_c(double complex z) {
    return isfinite(creal(z)) && isfinite(cimag(z));
}

// Relative closeness; against an exact 0 (sin(pi) vs 0) the other side must
// be below ABS_TOL. No absolute floor otherwise: 2.88e-19 is not 1.3e-27.
static bool is_close(double complex a, double complex b, double tol) {
    double d = cabs(a - b);
    if (a == 0 || b == 0) return d <= ABS_TOL;
    return d <= tol * fmax(cabs(a), cabs(b));
}

static bool is_real_c(double complex z) {
    return fabs(cimag(z)) <= 1e-12 * fmax(1, cabs(z));
}

static int cmp_constants(struct reward_equiv *q, int ra, int rg, bool pct) {
    double complex a = expr_eval(&q->pool, ra, NULL, pct);
    double complex g = expr_eval(&q->pool, rg, NULL, pct);
    bool a_inf = isinf(creal(a)) && cimag(a) == 0, g_inf = isinf(creal(g)) && cimag(g) == 0;
    if (a_inf || g_inf) return a_inf && g_inf && creal(a) == creal(g) ? CMP_EQUAL : CMP_DIFFERENT;
    if (!is_finite_c(a) || !is_finite_c(g)) return CMP_UNDECIDED;
    bool is_int_gold = cimag(g) == 0 && creal(g) == floor(creal(g)) && fabs(creal(g)) < 1e15;
    return is_close(a, g, is_int_gold ? EXACT_REL_TOL : q->o.rel_tol) ? CMP_EQUAL : CMP_DIFFERENT;
}

// Variable values for point `index`: all in [POINT_LO, POINT_HI], negated
// when is_negative. Counter-based, so every check uses the same points.
static void draw_point(const struct reward_equiv *q, uint32_t mask, uint64_t index,
                       bool is_negative, double complex *vars) {
    uint64_t stream = rng_stream_id(RNG_VERIFY, is_negative, 0, 0);
    for (int k = 0; k < EXPR_MAX_VARS; k++) {
        if (!(mask & (1u << k))) continue;
        uint32_t w[4];
        rng(w, q->o.seed, stream, index * EXPR_MAX_VARS + (uint64_t)k);
        double u = rng_u64_to_unit_f64(w[0], w[1]);
        double x = POINT_LO + (POINT_HI - POINT_LO) * u;
        vars[k] = is_negative ? -x : x;
    }
}

// f_a = c * f_g at every point, for one constant c (c != 0 when is_ratio;
// c = 1 otherwise).
static int cmp_at_points(struct reward_equiv *q, int a1, int a2, int g1, int g2, uint32_t mask,
                         bool pct, bool is_ratio) {
    double complex vars[EXPR_MAX_VARS] = {0};
    double complex ratio = 0;
    bool has_ratio = false;
    int n_ok = 0, n_tries = 0;
    for (uint64_t idx = 0; n_ok < q->o.n_points && n_tries < 8 * q->o.n_points; idx++, n_tries++) {
        draw_point(q, mask, idx, false, vars);
        double complex a = expr_eval(&q->pool, a1, vars, pct);
        double complex g = expr_eval(&q->pool, g1, vars, pct);
        if (a2 >= 0) a -= expr_eval(&q->pool, a2, vars, pct);
        if (g2 >= 0) g -= expr_eval(&q->pool, g2, vars, pct);
        if (!is_finite_c(a) || !is_finite_c(g)) continue; // a pole: draw another point
        if (is_ratio) {
            if (cabs(g) <= ABS_TOL || cabs(a) <= ABS_TOL) {
                if ((cabs(g) <= ABS_TOL) != (cabs(a) <= ABS_TOL)) return CMP_DIFFERENT;
                continue;
            }
            if (!has_ratio) ratio = a / g, has_ratio = true;
            if (!is_close(a / g, ratio, q->o.rel_tol)) return CMP_DIFFERENT;
        } else if (!is_close(a, g, q->o.rel_tol)) {
            return CMP_DIFFERENT;
        }
        n_ok++;
    }
    if (n_ok < (q->o.n_points < 3 ? q->o.n_points : 3)) return CMP_UNDECIDED;
    if (is_ratio) return has_ratio ? CMP_EQUAL : CMP_UNDECIDED;
    // Negative points tell x from |x| and sqrt(x^2); only where both sides are
    // real, since principal branches differ there (2 ln x vs ln x^2).
    for (uint64_t idx = 0; idx < 4; idx++) {
        draw_point(q, mask, idx, true, vars);
        double complex a = expr_eval(&q->pool, a1, vars, pct);
        double complex g = expr_eval(&q->pool, g1, vars, pct);
        if (is_finite_c(a) && is_finite_c(g) && is_real_c(a) && is_real_c(g) &&
            !is_close(a, g, q->o.rel_tol))
            return CMP_DIFFERENT;
    }
    return CMP_EQUAL;
}

static int cmp_expr(struct reward_equiv *q, int ra, int rg) {
    uint32_t mask = expr_var_mask(&q->pool, ra) | expr_var_mask(&q->pool, rg);
    bool has_pct = expr_has_percent(&q->pool, ra) || expr_has_percent(&q->pool, rg);
    for (int pass = 0; pass < 1 + has_pct; pass++) { // pass 1: 50% may equal 50 (Qwen)
        int r = mask ? cmp_at_points(q, ra, -1, rg, -1, mask, pass, false)
                     : cmp_constants(q, ra, rg, pass);
        if (r != CMP_DIFFERENT || pass == has_pct) return r;
    }
    return CMP_DIFFERENT;
}

static int cmp_items(struct reward_equiv *q, int ia, int ig);

static bool text_equal(const struct item *a, const struct item *g) {
    return norm_text_equal(a->text, a->len, g->text, g->len);
}

static int child(const struct reward_equiv *q, int k, int n) {
    int c = q->items[k].first;
    while (n-- > 0 && c >= 0) c = q->items[c].next;
    return c;
}

// "x = 5" stands for 5 when the left side is a bare name: x, y_1, f(x) (not
// "2x = 4").
static bool is_short_lhs(const struct reward_equiv *q, int k) {
    const struct item *it = &q->items[k];
    if (it->len <= 2 && isalpha((unsigned char)it->text[0])) return true; // x, y', f1
    if (it->kind == IT_EXPR && q->pool.nodes[it->root].kind == EN_VAR) return true;
    return it->len >= 4 && it->len <= 8 &&
           ((it->text[0] | 32) >= 'a' && (it->text[0] | 32) <= 'z') && it->text[1] == '(' &&
           it->text[it->len - 1] == ')';
}

// "(x, y) = (1, 2)" stands for (1, 2) too: a tuple of bare names.
static bool is_names_tuple(const struct reward_equiv *q, int k) {
    const struct item *it = &q->items[k];
    if (it->kind != IT_TUPLE || it->open != '(' || it->close != ')') return false;
    for (int c = it->first; c >= 0; c = q->items[c].next)
        if (q->items[c].kind != IT_EXPR || q->pool.nodes[q->items[c].root].kind != EN_VAR)
            return false;
    return true;
}

// Is the left side of an equation a name the equation defines?
static bool is_defined_name(const struct reward_equiv *q, int k) {
    return is_short_lhs(q, k) || is_names_tuple(q, k);
}

static bool is_constant(const struct reward_equiv *q, int k) {
    return q->items[k].kind == IT_EXPR && !expr_var_mask(&q->pool, q->items[k].root);
}

// "\sqrt{324-68} = \sqrt{256} = 16": a computation whose sides are constants
// of the same value stands for its last side; so does a chain whose first
// side is not constant, "5+4 d = 5+4(-\frac{5}{2}) = -5" (the value of the
// first side, computed). A constant side of another value ("2+2 = 5 = 5")
// makes it stand for nothing.
static bool is_computation(struct reward_equiv *q, int k) {
    int r = child(q, k, 1);
    if (!is_constant(q, r) || (q->items[k].n_children < 3 && !is_constant(q, child(q, k, 0))))
        return false;
    for (int c = q->items[k].first; c >= 0; c = q->items[c].next) {
        if (c == r || (c == q->items[k].first && !is_constant(q, c))) continue;
        if (!is_constant(q, c) ||
            cmp_constants(q, q->items[c].root, q->items[r].root, false) != CMP_EQUAL)
            return false;
    }
    return true;
}

// "a = b = -2" against a gold list of two values: the pair (a, b) is
// (-2, -2). Every side but the last is a name, one per gold element.
static int cmp_names_chain(struct reward_equiv *q, int ia, int ig) {
    const struct item *a = &q->items[ia], *g = &q->items[ig];
    if (a->n_children < 3 || g->kind != IT_LIST || g->n_children != a->n_children - 1)
        return CMP_DIFFERENT;
    int r = child(q, ia, 1);
    for (int c = a->first; c >= 0; c = q->items[c].next)
        if (c != r && !is_short_lhs(q, c)) return CMP_DIFFERENT;
    for (int e = g->first; e >= 0; e = q->items[e].next)
        if (cmp_items(q, r, e) != CMP_EQUAL) return CMP_DIFFERENT;
    return CMP_EQUAL;
}

// A list of answers that are all the same value ("$\frac{4}{10}$ or
// $\frac{2}{5}$") against a single gold: each must equal the gold.
static int cmp_repeats(struct reward_equiv *q, int ia, int ig) {
    if (q->items[ia].kind != IT_LIST || q->items[ia].n_children < 2) return CMP_DIFFERENT;
    for (int a = q->items[ia].first; a >= 0; a = q->items[a].next)
        if (cmp_items(q, a, ig) != CMP_EQUAL) return CMP_DIFFERENT;
    return CMP_EQUAL;
}

// "x < 0 or x > 1": a list of intervals read from inequalities, which is the
// union (-\infty, 0) \cup (1, \infty).
static bool is_interval_list(const struct reward_equiv *q, int k) {
    if (q->items[k].kind != IT_LIST) return false;
    for (int c = q->items[k].first; c >= 0; c = q->items[c].next)
        if (!q->items[c].is_interval) return false;
    return true;
}

// A tuple in parentheses of three or more elements (no interval) against a
// bare list: the same answer when the elements agree in order.
static bool is_long_tuple_vs_list(const struct item *t, const struct item *l) {
    return t->kind == IT_TUPLE && t->open == '(' && t->close == ')' && t->n_children >= 3 &&
           l->kind == IT_LIST;
}

static int cmp_ordered(struct reward_equiv *q, int ia, int ig) {
    if (q->items[ia].n_children != q->items[ig].n_children) return CMP_DIFFERENT;
    for (int a = q->items[ia].first, g = q->items[ig].first; a >= 0 && g >= 0;
         a = q->items[a].next, g = q->items[g].next)
        if (cmp_items(q, a, g) != CMP_EQUAL) return CMP_DIFFERENT;
    return CMP_EQUAL;
}

static int cmp_unordered(struct reward_equiv *q, int ia, int ig) {
    if (q->items[ia].n_children != q->items[ig].n_children) return CMP_DIFFERENT;
    uint64_t used = 0;
    for (int g = q->items[ig].first; g >= 0; g = q->items[g].next) {
        int found = 0, bit = 0;
        for (int a = q->items[ia].first; a >= 0 && !found; a = q->items[a].next, bit++)
            if (!(used >> bit & 1) && cmp_items(q, a, g) == CMP_EQUAL) {
                used |= (uint64_t)1 << bit;
                found = 1;
            }
        if (!found || q->is_over_budget) return CMP_DIFFERENT;
    }
    return CMP_EQUAL;
}

static int cmp_equations(struct reward_equiv *q, int ia, int ig) {
    int la = child(q, ia, 0), ra = child(q, ia, 1), lg = child(q, ig, 0), rg = child(q, ig, 1);
    if (cmp_items(q, la, lg) == CMP_EQUAL && cmp_items(q, ra, rg) == CMP_EQUAL) return CMP_EQUAL;
    if (cmp_items(q, la, rg) == CMP_EQUAL && cmp_items(q, ra, lg) == CMP_EQUAL) return CMP_EQUAL;
    const struct item *it[4] = {&q->items[la], &q->items[ra], &q->items[lg], &q->items[rg]};
    for (int k = 0; k < 4; k++)
        if (it[k]->kind != IT_EXPR) return CMP_DIFFERENT;
    uint32_t mask = 0;
    for (int k = 0; k < 4; k++) mask |= expr_var_mask(&q->pool, it[k]->root);
    if (!mask) return CMP_DIFFERENT;
    // lhs_a - rhs_a = c (lhs_g - rhs_g): y = 2x + 1 is 2x - y + 1 = 0
    int r = cmp_at_points(q, it[0]->root, it[1]->root, it[2]->root, it[3]->root, mask, false, true);
    return r == CMP_EQUAL ? CMP_EQUAL : CMP_DIFFERENT;
}

static int cmp_items(struct reward_equiv *q, int ia, int ig) {
    if (++q->n_compares > EQUIV_MAX_COMPARES) {
        q->is_over_budget = true;
        return CMP_DIFFERENT;
    }
    const struct item *a = &q->items[ia], *g = &q->items[ig];
    if (g->kind == IT_EQ && a->kind != IT_EQ && is_defined_name(q, child(q, ig, 0)))
        return cmp_items(q, ia, child(q, ig, 1));
    if (a->kind == IT_EQ && g->kind == IT_LIST && cmp_names_chain(q, ia, ig) == CMP_EQUAL)
        return CMP_EQUAL;
    if (a->kind == IT_EQ && g->kind != IT_EQ &&
        (is_defined_name(q, child(q, ia, 0)) || is_computation(q, ia)))
        return cmp_items(q, child(q, ia, 1), ig);
    bool a_coll = a->kind == IT_LIST || a->kind == IT_SET;
    bool g_coll = g->kind == IT_LIST || g->kind == IT_SET;
    if (a_coll && g_coll) return cmp_unordered(q, ia, ig);
    if (is_long_tuple_vs_list(a, g) || is_long_tuple_vs_list(g, a))
        return cmp_ordered(q, ia, ig); // (1, 2, 3) is the list 1, 2, 3 in this order
    if ((a->kind == IT_UNION && is_interval_list(q, ig)) ||
        (g->kind == IT_UNION && is_interval_list(q, ia)))
        return cmp_unordered(q, ia, ig);
    if (a->kind == IT_LIST && !g_coll && cmp_repeats(q, ia, ig) == CMP_EQUAL) return CMP_EQUAL;
    if (a->kind != g->kind)
        return (a->kind == IT_TEXT || g->kind == IT_TEXT) && text_equal(a, g) ? CMP_EQUAL
                                                                              : CMP_DIFFERENT;
    switch (g->kind) {
    case IT_EXPR: {
        int r = cmp_expr(q, a->root, g->root);
        if (r == CMP_UNDECIDED) r = text_equal(a, g) ? CMP_EQUAL : CMP_DIFFERENT;
        return r;
    }
    case IT_TUPLE:
        if (a->open != g->open || a->close != g->close) return CMP_DIFFERENT;
        return cmp_ordered(q, ia, ig);
    case IT_UNION:
        return cmp_unordered(q, ia, ig);
    case IT_MATRIX:
        if (a->n_rows != g->n_rows || a->n_cols != g->n_cols) return CMP_DIFFERENT;
        return cmp_ordered(q, ia, ig);
    case IT_EQ:
        return cmp_equations(q, ia, ig);
    default:
        return text_equal(a, g) ? CMP_EQUAL : CMP_DIFFERENT;
    }
}

static const char *reason_for(const struct reward_equiv *q, int ig, bool is_equal) {
    static const char *const names[2][8] = {
        {"different expressions", "different text", "different lists", "different sets",
         "different tuples", "different unions", "different matrices", "different equations"},
        {"equal expressions", "equal text", "equal lists", "equal sets", "equal tuples",
         "equal unions", "equal matrices", "equal equations"},
    };
    const struct item *g = &q->items[ig];
    if (g->kind == IT_EXPR && expr_var_mask(&q->pool, g->root) == 0)
        return is_equal ? "equal numbers" : "different numbers";
    return names[is_equal][g->kind];
}

static char *normalise_into_arena(struct reward_equiv *q, const char *s, size_t n,
                                  size_t *out_len) {
    size_t cap = 2 * q->o.max_answer_bytes + 64;
    if (q->arena_used + cap > q->arena_cap) return NULL;
    char *out = q->arena + q->arena_used;
    if (norm_answer(s, n, out, cap, out_len) < 0) return NULL;
    q->arena_used += *out_len + 1;
    return out;
}

// Answer notations rewritten before parsing: against a gold without ':', a
// ratio of two numbers "2: 3" is the number 2/3 and a label of names
// "(x, y): (0,2), (0,-2)" goes; and (rewrite_identity, both sides)
// "f(x) \equiv 1" (identically equal) is "f(x) = 1" when the text holds no
// "mod" (a congruence stays a congruence).
static bool is_number_text(const char *s, size_t n) {
    while (n > 0 && s[n - 1] == ' ') n--;
    while (n > 0 && *s == ' ') s++, n--;
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] == '.' && i > 0 && i + 1 < n)) return false;
    return true;
}

static bool has_text(const char *s, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(s + i, needle, m) == 0) return true;
    return false;
}

static const char *rewrite_notation(struct reward_equiv *q, const char *a, size_t *na,
                                    const char *g, size_t ng) {
    const char *colon = memchr(a, ':', *na);
    if (colon && !memchr(g, ':', ng) && !memchr(colon + 1, ':', *na - (size_t)(colon + 1 - a))) {
        size_t l = (size_t)(colon - a), r = *na - l - 1;
        if (is_number_text(a, l) && is_number_text(colon + 1, r) &&
            q->arena_used + *na + 16 <= q->arena_cap) { // "2: 3" -> \frac{2}{3}
            char *out = q->arena + q->arena_used;
            int m = snprintf(out, *na + 16, "\\frac{%.*s}{%.*s}", (int)l, a, (int)r, colon + 1);
            q->arena_used += (size_t)m + 1;
            *na = (size_t)m;
            return out;
        }
        size_t i = 0; // "(x, y):" before the answer
        while (i < l && a[i] == ' ') i++;
        bool is_label = i < l && a[i] == '(' && l - i >= 3;
        size_t j = i + 1, n_names = 0;
        for (; is_label && j < l && a[j] != ')'; j++) {
            if (isalpha((unsigned char)a[j]) && !isalpha((unsigned char)a[j + 1]) &&
                !isalpha((unsigned char)a[j - 1]))
                n_names++;
            else if (a[j] != ',' && a[j] != ' ')
                is_label = false;
        }
        is_label = is_label && j < l && a[j] == ')';
        while (++j < l && is_label)
            if (a[j] != ' ') is_label = false;
        if (is_label && n_names >= 2) {
            *na = r;
            return colon + 1;
        }
    }
    return a;
}

static const char *rewrite_identity(struct reward_equiv *q, const char *a, size_t *na) {
    if (has_text(a, *na, "\\equiv") && !has_text(a, *na, "mod") &&
        q->arena_used + *na + 1 <= q->arena_cap) {
        char *out = q->arena + q->arena_used;
        size_t m = 0;
        for (size_t i = 0; i < *na;) {
            if (i + 6 <= *na && memcmp(a + i, "\\equiv", 6) == 0 &&
                (i + 6 == *na || !isalpha((unsigned char)a[i + 6]))) {
                out[m++] = '=';
                i += 6;
            } else {
                out[m++] = a[i++];
            }
        }
        out[m] = 0;
        q->arena_used += m + 1;
        *na = m;
        return out;
    }
    return a;
}

// "\left(\begin{array}{c} 2 n \\ n \end{array}\right)", a binomial
// coefficient as OCR writes it, is \binom{2 n}{n} when the other side holds a
// \binom (without one it stays a column vector). Each such group is rewritten;
// the output is shorter than the input.
struct binom_rows {
    size_t top, top_end, bot, bot_end, end; // the rows' text; end: after the group
};

static bool binom_group(const char *s, size_t n, size_t i, struct binom_rows *r) {
    static const char open[] = "(\\begin{array}{c}", close[] = "\\end{array}";
    size_t m = sizeof open - 1, mc = sizeof close - 1, row = 0, j = i + m;
    if (i + m > n || memcmp(s + i, open, m) != 0) return false;
    int depth = 0;
    for (; j < n; j++) {
        if (s[j] == '{') depth++;
        if (s[j] == '}') depth--;
        if (depth < 0 || s[j] == '&') return false;
        if (depth == 0 && j + mc <= n && memcmp(s + j, close, mc) == 0) break;
        if (depth == 0 && j + 1 < n && s[j] == '\\' && s[j + 1] == '\\') {
            if (row) return false; // two rows exactly
            row = j++;
        }
    }
    size_t e = j + mc;
    while (e < n && s[e] == ' ') e++;
    if (!row || j >= n || e >= n || s[e] != ')') return false;
    *r = (struct binom_rows){
        .top = i + m, .top_end = row, .bot = row + 2, .bot_end = j, .end = e + 1};
    return true;
}

static const char *rewrite_binomial(struct reward_equiv *q, const char *a, size_t *na) {
    if (!has_text(a, *na, "(\\begin{array}{c}") || q->arena_used + *na + 1 > q->arena_cap) return a;
    char *out = q->arena + q->arena_used;
    size_t m = 0;
    for (size_t i = 0; i < *na;) {
        struct binom_rows r;
        if (!binom_group(a, *na, i, &r)) {
            out[m++] = a[i++];
            continue;
        }
        m += (size_t)sprintf(out + m, "\\binom{%.*s}{%.*s}", (int)(r.top_end - r.top), a + r.top,
                             (int)(r.bot_end - r.bot), a + r.bot);
        i = r.end;
    }
    out[m] = 0;
    q->arena_used += m + 1;
    *na = m;
    return out;
}

// "f(y) = y+1" against a gold "f(x) = x+1": the same function of another
// variable. When both start with a function of one letter (the same name)
// and the answer does not use the gold's letter, the answer's letter is
// renamed (each standalone occurrence).
static char fn_var(const char *s, size_t n, char *name) {
    size_t i = 0;
    while (i < n && s[i] == ' ') i++;
    if (i + 4 > n || !isalpha((unsigned char)s[i]) || s[i + 1] != '(' ||
        !isalpha((unsigned char)s[i + 2]) || s[i + 3] != ')' || (i > 0 && s[i - 1] == '\\'))
        return 0;
    size_t j = i + 4;
    while (j < n && s[j] == ' ') j++;
    *name = s[i];
    return j < n && s[j] == '=' ? s[i + 2] : 0;
}

static bool is_standalone(const char *s, size_t n, size_t i) {
    return (i == 0 || (!isalpha((unsigned char)s[i - 1]) && s[i - 1] != '\\')) &&
           (i + 1 == n || !isalpha((unsigned char)s[i + 1]));
}

static const char *rename_variable(struct reward_equiv *q, const char *a, size_t *na, const char *g,
                                   size_t ng) {
    char fa, fg, v = fn_var(a, *na, &fa), w = fn_var(g, ng, &fg);
    if (!v || !w || v == w || fa != fg || q->arena_used + *na + 1 > q->arena_cap) return a;
    for (size_t i = 0; i < *na; i++)
        if (a[i] == w && is_standalone(a, *na, i)) return a; // the letter is taken
    char *out = q->arena + q->arena_used;
    for (size_t i = 0; i < *na; i++) out[i] = a[i] == v && is_standalone(a, *na, i) ? w : a[i];
    out[*na] = 0;
    q->arena_used += *na + 1;
    return out;
}

// "1, 7, 103, 105 and 3, 5, 101, 107" against a gold list of k tuples of m
// elements "(1,7,103,105), (3,5,101,107)": tuples written as bare lists, one
// group per "and". The answer must split at its top-level "and"s into exactly
// k groups of exactly m elements each (so "1, 2, 3 and 4" is no pair of
// pairs); each group is then the tuple, in its order.
static bool is_and_at(const char *s, size_t n, size_t i) {
    return i > 0 && i + 4 <= n && s[i - 1] == ' ' && memcmp(s + i, "and", 3) == 0 &&
           s[i + 3] == ' ';
}

static int cmp_grouped(struct reward_equiv *q, const char *answer, size_t n_answer, int ig) {
    const struct item *g = &q->items[ig];
    int k = g->n_children, m = k ? q->items[g->first].n_children : 0;
    if (g->kind != IT_LIST || k < 2 || m < 2) return CMP_DIFFERENT;
    for (int c = g->first; c >= 0; c = q->items[c].next)
        if (q->items[c].kind != IT_TUPLE || q->items[c].open != '(' || q->items[c].n_children != m)
            return CMP_DIFFERENT;
    size_t cap = 2 * n_answer + 4 * (size_t)k + 8;
    if (q->arena_used + cap > q->arena_cap) return CMP_DIFFERENT;
    char *out = q->arena + q->arena_used;
    size_t w = 0, from = 0;
    int n_groups = 0;
    for (size_t i = 0; i <= n_answer; i++) {
        if (i < n_answer && strchr("()[]{}\\", answer[i])) return CMP_DIFFERENT; // bare only
        if (i < n_answer && !is_and_at(answer, n_answer, i)) continue;
        size_t e = i; // a group answer[from..e), without a trailing ", " and '$'
        while (e > from && strchr(" ,$", answer[e - 1])) e--;
        size_t b = from;
        while (b < e && strchr(" $", answer[b])) b++;
        int n_commas = 0;
        for (size_t j = b; j < e; j++) n_commas += answer[j] == ',';
        if (n_commas != m - 1 || ++n_groups > k) return CMP_DIFFERENT;
        w += (size_t)sprintf(out + w, "%s(%.*s)", n_groups > 1 ? ", " : "", (int)(e - b),
                             answer + b);
        from = i + 3;
    }
    if (n_groups != k) return CMP_DIFFERENT;
    q->arena_used += w + 1;
    int ia = equiv_parse_item(q, out, w, 0);
    return ia >= 0 ? cmp_items(q, ia, ig) : CMP_DIFFERENT;
}

enum reward_equiv_result equiv_check(struct reward_equiv *q, const char *answer, size_t n_answer,
                                     const char *gold, size_t n_gold, bool use_shortcuts,
                                     const char **reason) {
    const char *why_unused;
    if (!reason) reason = &why_unused;
    expr_pool_reset(&q->pool);
    q->n_items = 0;
    q->arena_used = 0;
    q->n_compares = 0;
    q->is_over_budget = false;
    if (n_answer > q->o.max_answer_bytes || n_gold > q->o.max_answer_bytes) {
        *reason = "budget exceeded: answer longer than max_answer_bytes";
        return REWARD_EQUIV_BUDGET;
    }
    size_t na, ng;
    const char *a = normalise_into_arena(q, answer, n_answer, &na);
    const char *g = a ? normalise_into_arena(q, gold, n_gold, &ng) : NULL;
    if (!a || !g) {
        *reason = "budget exceeded: braces nested too deeply";
        return REWARD_EQUIV_BUDGET;
    }
    if (na == 0) {
        *reason = "empty answer";
        return REWARD_EQUIV_DIFFERENT;
    }
    if (use_shortcuts && norm_text_equal(a, na, g, ng)) {
        *reason = "equal after normalisation";
        return REWARD_EQUIV_EQUAL;
    }
    char gold_letter, answer_letter;
    size_t first = 0;
    while (first < ng && (g[first] == '(' || g[first] == ' ' || g[first] == NORM_TEXT_OPEN))
        first++;
    if (norm_choice_letter(g, ng, &gold_letter) && first < ng && g[first] == gold_letter) {
        bool is_equal = norm_choice_letter(a, na, &answer_letter) && answer_letter == gold_letter;
        *reason = is_equal ? "equal choice" : "different choice";
        return is_equal ? REWARD_EQUIV_EQUAL : REWARD_EQUIV_DIFFERENT;
    }
    a = rewrite_notation(q, a, &na, g, ng);
    a = rewrite_identity(q, a, &na);
    g = rewrite_identity(q, g, &ng);
    if (has_text(g, ng, "binom")) a = rewrite_binomial(q, a, &na);
    if (has_text(a, na, "binom")) g = rewrite_binomial(q, g, &ng);
    a = rename_variable(q, a, &na, g, ng);
    int ig = equiv_parse_item(q, g, ng, 0);
    int ia = ig >= 0 ? equiv_parse_item(q, a, na, 0) : -1;
    if (ig < 0 || ia < 0 || q->is_over_budget) {
        *reason = "budget exceeded: answer too large or too deeply nested";
        return REWARD_EQUIV_BUDGET;
    }
    bool is_equal = cmp_items(q, ia, ig) == CMP_EQUAL;
    if (!is_equal && !q->is_over_budget)
        is_equal = cmp_grouped(q, answer, n_answer, ig) == CMP_EQUAL;
    if (q->is_over_budget) {
        *reason = "budget exceeded: too many comparisons";
        return REWARD_EQUIV_BUDGET;
    }
    *reason = reason_for(q, ig, is_equal);
    return is_equal ? REWARD_EQUIV_EQUAL : REWARD_EQUIV_DIFFERENT;
}

enum reward_equiv_result reward_equiv_check(struct reward_equiv *q, const char *answer,
                                            size_t n_answer, const char *gold, size_t n_gold,
                                            const char **reason) {
    return equiv_check(q, answer, n_answer, gold, n_gold, true, reason);
}
