// Expression parser and evaluator of the verifier. Input is an answer already
// normalised by reward/normalize.c (math delimiters, \left/\right, spacing and
// \text{} removed; \cdot, \times as '*'; \div as '/'). Grammar, loosest first:
//   expr := term (('+'|'-') term)*        term := unary (('*'|'/'|juxtaposition) unary)*
//   unary := ('-'|'+') unary | power      power := postfix ('^' sup)?
//   postfix := atom ('!' | '%')*          atom := number | (expr) | {expr} | |expr| | \frac a b
//            | \sqrt[n] a | \binom a b | function arg | constant | variable
// LaTeX single-token arguments are honoured (\frac12, \sqrt2, x^a b); a digit
// run after '^' is read whole (2^10 is 1024, as every model means it).
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reward/expr_internal.h"

struct parser {
    struct expr_pool *p;
    const char *s;
    size_t n, i;
    int depth;      // recursion depth of the parser itself
    int status;     // first error, EXPR_OK while none
    int abs_depth;  // inside |...|: a '|' closes instead of opening
};

void expr_pool_reset(struct expr_pool *p) {
    p->n_nodes = 0;
    p->n_vars = 0;
}

static int fail(struct parser *ps, int status) {
    if (ps->status == EXPR_OK) ps->status = status;
    return -1;
}

static int node(struct parser *ps, int kind, int a, int b) {
    struct expr_pool *p = ps->p;
    if (ps->status != EXPR_OK) return -1;
    if (p->n_nodes >= p->cap_nodes) return fail(ps, EXPR_BUDGET);
    int d = 0;
    if (kind >= EN_ADD && a >= 0) d = p->nodes[a].depth;
    if (kind >= EN_ADD && b >= 0 && p->nodes[b].depth > d) d = p->nodes[b].depth;
    if (d + 1 > p->max_depth) return fail(ps, EXPR_BUDGET);
    struct enode *e = &p->nodes[p->n_nodes];
    *e = (struct enode){.kind = (uint8_t)kind, .depth = (uint16_t)(d + 1), .a = a, .b = b};
    return p->n_nodes++;
}

static int num_node(struct parser *ps, double v) {
    int k = node(ps, EN_NUM, -1, -1);
    if (k >= 0) ps->p->nodes[k].num = v;
    return k;
}

static int peek(const struct parser *ps) { return ps->i < ps->n ? (unsigned char)ps->s[ps->i] : 0; }
static int peek_at(const struct parser *ps, size_t k) {
    return ps->i + k < ps->n ? (unsigned char)ps->s[ps->i + k] : 0;
}

static void skip_ws(struct parser *ps) {
    while (ps->i < ps->n) {
        char c = ps->s[ps->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\x01' && c != '\x02') break;
        ps->i++;
    }
}

// Length of the command name at i (which holds '\'); 0 if none.
static size_t cmd_len(const struct parser *ps) {
    if (peek(ps) != '\\') return 0;
    size_t k = 1;
    while (ps->i + k < ps->n && isalpha((unsigned char)ps->s[ps->i + k])) k++;
    return k - 1;
}

static bool is_cmd(const struct parser *ps, const char *name) {
    size_t len = cmd_len(ps);
    return len == strlen(name) && memcmp(ps->s + ps->i + 1, name, len) == 0;
}

struct named { const char *name; int func; };

// Functions, with backslash or written plainly.
static const struct named funcs[] = {
    {"sin", EF_SIN},     {"cos", EF_COS},     {"tan", EF_TAN},       {"cot", EF_COT},
    {"sec", EF_SEC},     {"csc", EF_CSC},     {"arcsin", EF_ASIN},   {"arccos", EF_ACOS},
    {"arctan", EF_ATAN}, {"sinh", EF_SINH},   {"cosh", EF_COSH},     {"tanh", EF_TANH},
    {"ln", EF_LN},       {"log", EF_LOG10},   {"exp", EF_EXP},       {"sqrt", EF_SQRT},
    {"tg", EF_TAN},      {"ctg", EF_COT},     {"lg", EF_LOG10},      {NULL, 0},
};

static const char *const greek[] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon",
    "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi",
    "Sigma", "Phi", "Psi", "Omega", NULL,
};

static int lookup_func(const char *s, size_t len) {
    for (const struct named *f = funcs; f->name; f++)
        if (strlen(f->name) == len && memcmp(f->name, s, len) == 0) return f->func;
    return -1;
}

static bool is_greek(const char *s, size_t len) {
    for (const char *const *g = greek; *g; g++)
        if (strlen(*g) == len && memcmp(*g, s, len) == 0) return true;
    return false;
}

static int var_node(struct parser *ps, const char *name, size_t len) {
    struct expr_pool *p = ps->p;
    if (len == 0 || len >= EXPR_VAR_NAME_MAX) return fail(ps, EXPR_SYNTAX);
    int k = 0;
    for (; k < p->n_vars; k++)
        if (strlen(p->var_names[k]) == len && memcmp(p->var_names[k], name, len) == 0) break;
    if (k == p->n_vars) {
        if (p->n_vars >= EXPR_MAX_VARS) return fail(ps, EXPR_BUDGET);
        memcpy(p->var_names[k], name, len);
        p->var_names[k][len] = 0;
        p->n_vars++;
    }
    return node(ps, EN_VAR, k, -1);
}

static int parse_expr(struct parser *ps);
static int parse_unary(struct parser *ps);
static int parse_power(struct parser *ps);
static int parse_atom(struct parser *ps);

static bool enter(struct parser *ps) {
    if (++ps->depth > ps->p->max_depth) {
        fail(ps, EXPR_BUDGET);
        return false;
    }
    return true;
}

// A bracketed group: open already checked at i.
static int parse_group(struct parser *ps, char close) {
    ps->i++;
    int saved_abs = ps->abs_depth;
    ps->abs_depth = 0;
    int e = parse_expr(ps);
    ps->abs_depth = saved_abs;
    skip_ws(ps);
    if (e < 0) return -1;
    if (peek(ps) != close) return fail(ps, EXPR_SYNTAX);
    ps->i++;
    return e;
}

// A number literal: digits [. digits] [e[+-]digits].
static int parse_number(struct parser *ps, bool *is_integer) {
    size_t start = ps->i;
    while (isdigit(peek(ps))) ps->i++;
    *is_integer = true;
    if (peek(ps) == '.' && isdigit(peek_at(ps, 1))) {
        *is_integer = false;
        ps->i++;
        while (isdigit(peek(ps))) ps->i++;
    }
    int c = peek(ps);
    if (c == 'e' || c == 'E') {
        size_t k = 1;
        if (peek_at(ps, 1) == '+' || peek_at(ps, 1) == '-') k = 2;
        if (isdigit(peek_at(ps, k)) && !isalpha(peek_at(ps, 1))) {
            *is_integer = false;
            ps->i += k;
            while (isdigit(peek(ps))) ps->i++;
        }
    }
    size_t len = ps->i - start;
    if (len > 400) return fail(ps, EXPR_BUDGET);
    char buf[408];
    memcpy(buf, ps->s + start, len);
    buf[len] = 0;
    return num_node(ps, strtod(buf, NULL));
}

// A single-token or braced argument, as LaTeX reads \frac, \sqrt and _ args.
static int parse_arg(struct parser *ps) {
    skip_ws(ps);
    int c = peek(ps);
    if (c == '{') return parse_group(ps, '}');
    if (isdigit(c)) {
        ps->i++;
        return num_node(ps, c - '0');
    }
    if (isalpha(c) || c == '\\') return parse_atom(ps);
    return fail(ps, EXPR_SYNTAX);
}

// A superscript: braced group, a whole digit run, a signed one, a letter or a command.
static int parse_sup(struct parser *ps) {
    skip_ws(ps);
    int c = peek(ps);
    if (c == '{') return parse_group(ps, '}');
    if (c == '(') return parse_group(ps, ')');
    if (c == '-') {
        ps->i++;
        return node(ps, EN_NEG, parse_sup(ps), -1);
    }
    if (isdigit(c)) {
        bool is_int;
        return parse_number(ps, &is_int);
    }
    if (isalpha(c)) {
        // one letter only: x^ab is x^a b
        struct parser one = *ps;
        one.n = ps->i + 1;
        int e = parse_atom(&one);
        ps->i = one.i;
        ps->status = one.status;
        ps->p = one.p;
        return e;
    }
    if (c == '\\') return parse_atom(ps);
    return fail(ps, EXPR_SYNTAX);
}

// Does an atom (implicit multiplication's right factor) start at i?
static bool starts_atom(const struct parser *ps) {
    int c = peek(ps);
    if (isalnum(c) || c == '(' || c == '{' || c == '.') return c != '.' || isdigit(peek_at(ps, 1));
    if (c == '|') return ps->abs_depth == 0;
    if (c != '\\') return false;
    size_t len = cmd_len(ps);
    const char *name = ps->s + ps->i + 1;
    static const char *const atoms[] = {"frac", "sqrt", "pi", "infty", "binom", "dbinom",
                                        "tbinom", "lvert", "vert", NULL};
    for (const char *const *a = atoms; *a; a++)
        if (strlen(*a) == len && memcmp(*a, name, len) == 0) return true;
    return lookup_func(name, len) >= 0 || is_greek(name, len);
}

static bool starts_function(const struct parser *ps) {
    if (peek(ps) == '\\') return lookup_func(ps->s + ps->i + 1, cmd_len(ps)) >= 0;
    return false;
}

static int parse_function(struct parser *ps, int func) {
    skip_ws(ps);
    int power = -1, base = -1;
    if (peek(ps) == '^') {
        ps->i++;
        power = parse_sup(ps);
        if (power < 0) return -1;
        const struct enode *pw = &ps->p->nodes[power];
        bool is_minus_one = pw->kind == EN_NEG && ps->p->nodes[pw->a].kind == EN_NUM &&
                            ps->p->nodes[pw->a].num == 1;
        if (is_minus_one && func <= EF_TAN) {  // sin^{-1} is arcsin
            func = func == EF_SIN ? EF_ASIN : func == EF_COS ? EF_ACOS : EF_ATAN;
            power = -1;
        }
        skip_ws(ps);
    }
    if (func == EF_LOG10 && peek(ps) == '_') {
        ps->i++;
        base = parse_arg(ps);
        if (base < 0) return -1;
        skip_ws(ps);
    }
    int arg;
    if (peek(ps) == '(') {
        arg = parse_group(ps, ')');
    } else if (peek(ps) == '{') {
        arg = parse_group(ps, '}');
    } else {  // \sin 2x: the product of the following factors, up to the next function
        arg = parse_power(ps);
        for (skip_ws(ps); arg >= 0 && starts_atom(ps) && !starts_function(ps); skip_ws(ps))
            arg = node(ps, EN_MUL, arg, parse_power(ps));
    }
    if (arg < 0) return -1;
    int f = base >= 0 ? node(ps, EN_LOGB, base, arg) : node(ps, EN_FUNC, arg, -1);
    if (f >= 0 && base < 0) ps->p->nodes[f].func = (uint8_t)func;
    return power >= 0 ? node(ps, EN_POW, f, power) : f;
}

// \frac{int}{int} right after an integer is a mixed number (2\frac12 = 2.5).
static bool simple_frac_follows(const struct parser *ps) {
    struct parser t = *ps;
    skip_ws(&t);
    if (!is_cmd(&t, "frac")) return false;
    t.i += 5;
    for (int k = 0; k < 2; k++) {
        skip_ws(&t);
        if (isdigit(peek(&t))) {
            t.i++;
            continue;
        }
        if (peek(&t) != '{') return false;
        t.i++;
        skip_ws(&t);
        if (!isdigit(peek(&t))) return false;
        while (isdigit(peek(&t))) t.i++;
        skip_ws(&t);
        if (peek(&t) != '}') return false;
        t.i++;
    }
    return true;
}

static int parse_command(struct parser *ps) {
    size_t len = cmd_len(ps);
    const char *name = ps->s + ps->i + 1;
    if (len == 0) return fail(ps, EXPR_SYNTAX);  // \{ \\ \, ...: not arithmetic
    ps->i += 1 + len;
    if (len == 4 && memcmp(name, "frac", 4) == 0) {
        int a = parse_arg(ps);
        int b = a >= 0 ? parse_arg(ps) : -1;
        return node(ps, EN_DIV, a, b);
    }
    if ((len == 5 && memcmp(name, "binom", 5) == 0) ||
        (len == 6 && (memcmp(name, "dbinom", 6) == 0 || memcmp(name, "tbinom", 6) == 0))) {
        int a = parse_arg(ps);
        int b = a >= 0 ? parse_arg(ps) : -1;
        return node(ps, EN_BINOM, a, b);
    }
    if (len == 4 && memcmp(name, "sqrt", 4) == 0) {
        skip_ws(ps);
        if (peek(ps) == '[') {
            int idx = parse_group(ps, ']');
            int a = idx >= 0 ? parse_arg(ps) : -1;
            return node(ps, EN_ROOT, idx, a);
        }
        int a = parse_arg(ps);
        int f = node(ps, EN_FUNC, a, -1);
        if (f >= 0) ps->p->nodes[f].func = EF_SQRT;
        return f;
    }
    if (len == 2 && memcmp(name, "pi", 2) == 0) return node(ps, EN_PI, -1, -1);
    if (len == 5 && memcmp(name, "infty", 5) == 0) return node(ps, EN_INF, -1, -1);
    if ((len == 5 && memcmp(name, "lvert", 5) == 0) || (len == 4 && memcmp(name, "vert", 4) == 0)) {
        int e = parse_expr(ps);
        skip_ws(ps);
        if (e < 0) return -1;
        if (!is_cmd(ps, "rvert") && !is_cmd(ps, "vert")) return fail(ps, EXPR_SYNTAX);
        ps->i += 1 + cmd_len(ps);
        return node(ps, EN_ABS, e, -1);
    }
    int func = lookup_func(name, len);
    if (func >= 0) return parse_function(ps, func);
    if (is_greek(name, len)) return var_node(ps, name, len);
    return fail(ps, EXPR_SYNTAX);
}

// A letter: a plain function name, a constant, or a one-letter variable with
// an optional subscript and primes. Runs of four or more letters are words.
static int parse_letters(struct parser *ps) {
    size_t run = 0;
    while (isalpha(peek_at(ps, run))) run++;
    for (size_t len = run < 6 ? run : 6; len >= 2; len--) {
        int func = lookup_func(ps->s + ps->i, len);
        if (func >= 0) {
            ps->i += len;
            return parse_function(ps, func);
        }
        if (len == 2 && memcmp(ps->s + ps->i, "pi", 2) == 0) {
            ps->i += 2;
            return node(ps, EN_PI, -1, -1);
        }
    }
    if (run >= 4) return fail(ps, EXPR_SYNTAX);
    char name[EXPR_VAR_NAME_MAX];
    size_t len = 0;
    name[len++] = ps->s[ps->i++];
    bool has_sub = false;
    if (peek(ps) == '_') {  // x_1, x_{12}: the subscript is part of the name
        has_sub = true;
        ps->i++;
        name[len++] = '_';
        if (peek(ps) == '{') {
            ps->i++;
            while (ps->i < ps->n && peek(ps) != '}') {
                int c = peek(ps);
                if (c == '{' || len >= EXPR_VAR_NAME_MAX - 2) return fail(ps, EXPR_SYNTAX);
                if (c != ' ') name[len++] = (char)c;
                ps->i++;
            }
            if (peek(ps) != '}') return fail(ps, EXPR_SYNTAX);
            ps->i++;
        } else if (isalnum(peek(ps))) {
            name[len++] = ps->s[ps->i++];
        } else {
            return fail(ps, EXPR_SYNTAX);
        }
    }
    while (peek(ps) == '\'' && len < EXPR_VAR_NAME_MAX - 1) name[len++] = ps->s[ps->i++];
    if (len == 1 && !has_sub && name[0] == 'e') return node(ps, EN_E, -1, -1);
    if (len == 1 && !has_sub && name[0] == 'i') return node(ps, EN_I, -1, -1);
    return var_node(ps, name, len);
}

static int parse_atom(struct parser *ps) {
    if (!enter(ps)) return -1;
    skip_ws(ps);
    int c = peek(ps), e;
    if (isdigit(c) || (c == '.' && isdigit(peek_at(ps, 1)))) {
        bool is_int;
        e = parse_number(ps, &is_int);
        if (e >= 0 && is_int && simple_frac_follows(ps)) {
            skip_ws(ps);
            e = node(ps, EN_ADD, e, parse_command(ps));
        }
    } else if (c == '(') {
        e = parse_group(ps, ')');
    } else if (c == '{') {
        e = parse_group(ps, '}');
    } else if (c == '|' && ps->abs_depth == 0) {
        ps->i++;
        ps->abs_depth++;
        e = parse_expr(ps);
        ps->abs_depth--;
        skip_ws(ps);
        if (e >= 0 && peek(ps) != '|') e = fail(ps, EXPR_SYNTAX);
        if (e >= 0) {
            ps->i++;
            e = node(ps, EN_ABS, e, -1);
        }
    } else if (c == '\\') {
        e = parse_command(ps);
    } else if (isalpha(c)) {
        e = parse_letters(ps);
    } else {
        e = fail(ps, EXPR_SYNTAX);
    }
    ps->depth--;
    return e;
}

static int parse_postfix(struct parser *ps) {
    int e = parse_atom(ps);
    for (;;) {
        skip_ws(ps);
        int c = peek(ps);
        if (c == '!' && peek_at(ps, 1) != '=') {
            ps->i++;
            e = node(ps, EN_FACT, e, -1);
        } else if (c == '%') {
            ps->i++;
            e = node(ps, EN_PERCENT, e, -1);
        } else {
            return e;
        }
    }
}

static int parse_power(struct parser *ps) {
    if (!enter(ps)) return -1;
    int e = parse_postfix(ps);
    skip_ws(ps);
    if (e >= 0 && peek(ps) == '^') {
        ps->i++;
        e = node(ps, EN_POW, e, parse_sup(ps));
        for (skip_ws(ps); e >= 0 && peek(ps) == '!'; skip_ws(ps)) {
            ps->i++;
            e = node(ps, EN_FACT, e, -1);
        }
    }
    ps->depth--;
    return e;
}

static int parse_unary(struct parser *ps) {
    if (!enter(ps)) return -1;
    skip_ws(ps);
    int e;
    if (peek(ps) == '-') {
        ps->i++;
        e = node(ps, EN_NEG, parse_unary(ps), -1);
    } else if (peek(ps) == '+') {
        ps->i++;
        e = parse_unary(ps);
    } else {
        e = parse_power(ps);
    }
    ps->depth--;
    return e;
}

static int parse_term(struct parser *ps) {
    int e = parse_unary(ps);
    for (;;) {
        if (e < 0) return -1;
        skip_ws(ps);
        int c = peek(ps);
        if (c == '*' || c == '/') {
            ps->i++;
            e = node(ps, c == '*' ? EN_MUL : EN_DIV, e, parse_unary(ps));
        } else if (starts_atom(ps)) {
            e = node(ps, EN_MUL, e, parse_power(ps));
        } else {
            return e;
        }
    }
}

static int parse_expr(struct parser *ps) {
    if (!enter(ps)) return -1;
    int e = parse_term(ps);
    for (;;) {
        if (e < 0) break;
        skip_ws(ps);
        int c = peek(ps);
        if (c != '+' && c != '-') break;
        ps->i++;
        e = node(ps, c == '+' ? EN_ADD : EN_SUB, e, parse_term(ps));
    }
    ps->depth--;
    return e;
}

int expr_parse(struct expr_pool *p, const char *s, size_t n, int *root) {
    struct parser ps = {.p = p, .s = s, .n = n};
    int e = parse_expr(&ps);
    skip_ws(&ps);
    if (ps.status == EXPR_OK && ps.i != ps.n) ps.status = EXPR_SYNTAX;
    if (ps.status != EXPR_OK) return ps.status;
    *root = e;
    return EXPR_OK;
}

// ---- evaluation ----

static bool is_real(double complex z) { return cimag(z) == 0; }

// -0 imaginary parts (from negating a real) would select the other side of a
// branch cut in csqrt/clog/cpow: a real number is real.
static double complex real_if_real(double complex z) { return cimag(z) == 0 ? CMPLX(creal(z), 0.0) : z; }

static double complex eval_func(int func, double complex z) {
    z = real_if_real(z);
    double x = creal(z);
    if (is_real(z)) {
        switch (func) {
        case EF_SIN: return sin(x);
        case EF_COS: return cos(x);
        case EF_TAN: return tan(x);
        case EF_COT: return 1 / tan(x);
        case EF_SEC: return 1 / cos(x);
        case EF_CSC: return 1 / sin(x);
        case EF_ATAN: return atan(x);
        case EF_SINH: return sinh(x);
        case EF_COSH: return cosh(x);
        case EF_TANH: return tanh(x);
        case EF_EXP: return exp(x);
        default: break;
        }
        if (x > 0 && func == EF_LN) return log(x);
        if (x > 0 && func == EF_LOG10) return log10(x);
        if (x >= 0 && func == EF_SQRT) return sqrt(x);
        if (fabs(x) <= 1 && func == EF_ASIN) return asin(x);
        if (fabs(x) <= 1 && func == EF_ACOS) return acos(x);
    }
    switch (func) {
    case EF_SIN: return csin(z);
    case EF_COS: return ccos(z);
    case EF_TAN: return ctan(z);
    case EF_COT: return 1 / ctan(z);
    case EF_SEC: return 1 / ccos(z);
    case EF_CSC: return 1 / csin(z);
    case EF_ASIN: return casin(z);
    case EF_ACOS: return cacos(z);
    case EF_ATAN: return catan(z);
    case EF_SINH: return csinh(z);
    case EF_COSH: return ccosh(z);
    case EF_TANH: return ctanh(z);
    case EF_LN: return z == 0 ? -INFINITY : clog(z);
    case EF_LOG10: return z == 0 ? -INFINITY : clog(z) / log(10.0);
    case EF_EXP: return cexp(z);
    case EF_SQRT: return csqrt(z);
    default: return NAN;
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
    if (x > 170) return INFINITY;  // 171! overflows a double
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
        if (v < 0 && n == floor(n) && fmod(n, 2) != 0) return -pow(-v, 1 / n);  // odd root
        if (v >= 0) return pow(v, 1 / n);
    }
    return eval_pow(x, 1 / idx);
}

double complex expr_eval(const struct expr_pool *p, int k, const double complex *vars,
                         bool percent_is_identity) {
    const struct enode *e = &p->nodes[k];
    switch (e->kind) {
    case EN_NUM: return e->num;
    case EN_VAR: return vars[e->a];
    case EN_PI: return M_PI;
    case EN_E: return M_E;
    case EN_I: return I;
    case EN_INF: return INFINITY;
    case EN_NEG: return -expr_eval(p, e->a, vars, percent_is_identity);
    case EN_FUNC: return eval_func(e->func, expr_eval(p, e->a, vars, percent_is_identity));
    case EN_FACT: return eval_fact(expr_eval(p, e->a, vars, percent_is_identity));
    case EN_ABS: return cabs(expr_eval(p, e->a, vars, percent_is_identity));
    case EN_PERCENT: {
        double complex a = expr_eval(p, e->a, vars, percent_is_identity);
        return percent_is_identity ? a : a / 100;
    }
    default: break;
    }
    double complex a = expr_eval(p, e->a, vars, percent_is_identity);
    double complex b = expr_eval(p, e->b, vars, percent_is_identity);
    switch (e->kind) {
    case EN_ADD: return a + b;
    case EN_SUB: return a - b;
    case EN_MUL: return a * b;
    case EN_DIV: return b == 0 ? (a == 0 ? NAN : INFINITY) : a / b;
    case EN_POW: return eval_pow(a, b);
    case EN_ROOT: return eval_root(a, b);
    case EN_LOGB: return eval_func(EF_LN, b) / eval_func(EF_LN, a);
    case EN_BINOM: return eval_binom(a, b);
    default: return NAN;
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
