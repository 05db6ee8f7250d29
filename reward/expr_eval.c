// Evaluation of expression trees (reward/expr_internal.h) in complex double
// arithmetic. Real arguments take the real functions where the result is real
// (exact powers of 2, sqrt of non-negatives), complex ones the principal
// branches; poles give inf or NaN, which the caller treats as "no value".
#include <math.h>

#include "reward/expr_internal.h"

static bool is_real(double complex z) {
    return cimag(z) == 0;
}

// -0 imaginary parts (from negating a real) would select the other side of a
// branch cut in csqrt/clog/cpow: a real number is real.
static double complex real_if_real(double complex z) {
    if (cimag(z) != 0) return z;
    double complex r = creal(z); // a real converted to complex has a +0 imaginary part
    return r;
}

static double complex eval_func(int func, double complex z) {
    z = real_if_real(z);
    double x = creal(z);
    if (is_real(z)) {
        switch (func) {
        case EF_SIN:
            return sin(x);
        case EF_COS:
            return cos(x);
        case EF_TAN:
            return tan(x);
        case EF_COT:
            return 1 / tan(x);
        case EF_SEC:
            return 1 / cos(x);
        case EF_CSC:
            return 1 / sin(x);
        case EF_ATAN:
            return atan(x);
        case EF_SINH:
            return sinh(x);
        case EF_COSH:
            return cosh(x);
        case EF_TANH:
            return tanh(x);
        case EF_EXP:
            return exp(x);
        default:
            break;
        }
        if (x > 0 && func == EF_LN) return log(x);
        if (x > 0 && func == EF_LOG10) return log10(x);
        if (x >= 0 && func == EF_SQRT) return sqrt(x);
        if (fabs(x) <= 1 && func == EF_ASIN) return asin(x);
        if (fabs(x) <= 1 && func == EF_ACOS) return acos(x);
        if (func == EF_FLOOR) return floor(x);
        if (func == EF_CEIL) return ceil(x);
    }
    switch (func) {
    case EF_SIN:
        return csin(z);
    case EF_COS:
        return ccos(z);
    case EF_TAN:
        return ctan(z);
    case EF_COT:
        return 1 / ctan(z);
    case EF_SEC:
        return 1 / ccos(z);
    case EF_CSC:
        return 1 / csin(z);
    case EF_ASIN:
        return casin(z);
    case EF_ACOS:
        return cacos(z);
    case EF_ATAN:
        return catan(z);
    case EF_SINH:
        return csinh(z);
    case EF_COSH:
        return ccosh(z);
    case EF_TANH:
        return ctanh(z);
    case EF_LN:
        return z == 0 ? -INFINITY : clog(z);
    case EF_LOG10:
        return z == 0 ? -INFINITY : clog(z) / log(10.0);
    case EF_EXP:
        return cexp(z);
    case EF_SQRT:
        return csqrt(z);
    default:
        return NAN; // floor, ceil of a non-real
    }
}

static double complex eval_pow(double complex b, double complex x) {
    b = real_if_real(b);
    x = real_if_real(x);
    if (is_real(b) && is_real(x)) {
        double rb = creal(b), rx = creal(x);
        if (rb >= 0 || rx == floor(rx)) return pow(rb, rx);
    }
    if (b == 0) return creal(x) > 0 ? 0 : INFINITY;
    return cpow(b, x);
}

static double complex eval_fact(double complex z) {
    if (!is_real(z)) return NAN;
    double x = creal(z);
    if (x > 170) return INFINITY; // 171! overflows a double
    if (x == floor(x)) {
        if (x < 0) return NAN;
        double f = 1;
        for (int k = 2; k <= (int)x; k++) f *= k;
        return f;
    }
    return tgamma(x + 1);
}

static double complex eval_binom(double complex nz, double complex kz) {
    if (!is_real(nz) || !is_real(kz)) return NAN;
    double n = creal(nz), k = creal(kz);
    if (n == floor(n) && k == floor(k) && n >= 0 && n < 1e9) {
        if (k < 0 || k > n) return 0;
        if (k > n - k) k = n - k;
        double r = 1;
        for (int j = 1; j <= (int)k && isfinite(r); j++) r = r * (n - k + j) / j;
        return r;
    }
    return exp(lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1));
}

static double complex eval_root(double complex idx, double complex x) {
    if (is_real(idx) && is_real(x)) {
        double n = creal(idx), v = creal(x);
        if (v < 0 && n == floor(n) && fmod(n, 2) != 0) return -pow(-v, 1 / n); // odd root
        if (v >= 0) return pow(v, 1 / n);
    }
    return eval_pow(x, 1 / idx);
}

double complex expr_eval(const struct expr_pool *p, int k, const double complex *vars,
                         bool percent_is_identity) {
    const struct enode *e = &p->nodes[k];
    switch (e->kind) {
    case EN_NUM:
        return e->num;
    case EN_VAR:
        return vars[e->a];
    case EN_PI:
        return M_PI;
    case EN_E:
        return M_E;
    case EN_I:
        return I;
    case EN_INF:
        return INFINITY;
    case EN_NEG:
        return -expr_eval(p, e->a, vars, percent_is_identity);
    case EN_FUNC:
        return eval_func(e->func, expr_eval(p, e->a, vars, percent_is_identity));
    case EN_FACT:
        return eval_fact(expr_eval(p, e->a, vars, percent_is_identity));
    case EN_ABS:
        return cabs(expr_eval(p, e->a, vars, percent_is_identity));
    case EN_PERCENT: {
        double complex a = expr_eval(p, e->a, vars, percent_is_identity);
        return percent_is_identity ? a : a / 100;
    }
    default:
        break;
    }
    double complex a = expr_eval(p, e->a, vars, percent_is_identity);
    double complex b = expr_eval(p, e->b, vars, percent_is_identity);
    switch (e->kind) {
    case EN_ADD:
        return a + b;
    case EN_SUB:
        return a - b;
    case EN_MUL:
        return a * b;
    case EN_DIV:
        return b == 0 ? (a == 0 ? NAN : INFINITY) : a / b;
    case EN_POW:
        return eval_pow(a, b);
    case EN_ROOT:
        return eval_root(a, b);
    case EN_LOGB:
        return eval_func(EF_LN, b) / eval_func(EF_LN, a);
    case EN_BINOM:
        return eval_binom(a, b);
    default:
        return NAN;
    }
}

uint32_t expr_var_mask(const struct expr_pool *p, int k) {
    const struct enode *e = &p->nodes[k];
    if (e->kind == EN_VAR) return 1u << e->a;
    if (e->kind < EN_ADD) return 0;
    uint32_t m = e->a >= 0 ? expr_var_mask(p, e->a) : 0;
    return e->b >= 0 ? m | expr_var_mask(p, e->b) : m;
}

bool expr_has_percent(const struct expr_pool *p, int k) {
    const struct enode *e = &p->nodes[k];
    if (e->kind == EN_PERCENT) return true;
    if (e->kind < EN_ADD) return false;
    return (e->a >= 0 && expr_has_percent(p, e->a)) || (e->b >= 0 && expr_has_percent(p, e->b));
}
