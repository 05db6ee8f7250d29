// Expression parser of the verifier (evaluation: reward/expr_eval.c). Input is an answer already
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
    int depth;     // recursion depth of the parser itself
    int status;    // first error, EXPR_OK while none
    int abs_depth; // inside |...|: a '|' closes instead of opening
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

static int peek(const struct parser *ps) {
    return ps->i < ps->n ? (unsigned char)ps->s[ps->i] : 0;
}
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

struct named {
    const char *name;
    int func;
};

// Functions, with backslash or written plainly.
static const struct named funcs[] = {
    {"sin", EF_SIN},     {"cos", EF_COS},   {"tan", EF_TAN},     {"cot", EF_COT},
    {"sec", EF_SEC},     {"csc", EF_CSC},   {"arcsin", EF_ASIN}, {"arccos", EF_ACOS},
    {"arctan", EF_ATAN}, {"sinh", EF_SINH}, {"cosh", EF_COSH},   {"tanh", EF_TANH},
    {"ln", EF_LN},       {"log", EF_LOG10}, {"exp", EF_EXP},     {"sqrt", EF_SQRT},
    {"tg", EF_TAN},      {"ctg", EF_COT},   {"lg", EF_LOG10},    {NULL, 0},
};

static const char *const greek[] = {
    "alpha",    "beta",    "gamma", "delta",  "epsilon", "varepsilon", "zeta",  "eta",   "theta",
    "vartheta", "iota",    "kappa", "lambda", "mu",      "nu",         "xi",    "rho",   "sigma",
    "tau",      "upsilon", "phi",   "varphi", "chi",     "psi",        "omega", "Gamma", "Delta",
    "Theta",    "Lambda",  "Xi",    "Sigma",  "Phi",     "Psi",        "Omega", NULL,
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
static bool read_name_suffix(struct parser *ps, char *name, size_t *len);

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
    } else if (peek(ps) == '.' && !isalnum(peek_at(ps, 1)) && peek_at(ps, 1) != '.') {
        ps->i++; // "1./3": a number written with its decimal point
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
    if (isalnum(c) || c == '(' || c == '[' || c == '{' || c == '.')
        return c != '.' || isdigit(peek_at(ps, 1));
    if (c == '|') return ps->abs_depth == 0;
    if (c != '\\') return false;
    size_t len = cmd_len(ps);
    const char *name = ps->s + ps->i + 1;
    static const char *const atoms[] = {"frac",   "sqrt",  "pi",   "infty",  "binom", "dbinom",
                                        "tbinom", "lvert", "vert", "lfloor", "lceil", NULL};
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
        if (is_minus_one && func <= EF_TAN) { // sin^{-1} is arcsin
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
    } else { // \sin 2x: the product of the following factors, up to the next function
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
    if (len == 0) return fail(ps, EXPR_SYNTAX); // \{ \\ \, ...: not arithmetic
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
    if (is_greek(name, len)) {
        char var[EXPR_VAR_NAME_MAX];
        if (len >= EXPR_VAR_NAME_MAX) return fail(ps, EXPR_SYNTAX);
        memcpy(var, name, len);
        if (!read_name_suffix(ps, var, &len)) return fail(ps, EXPR_SYNTAX);
        return var_node(ps, var, len);
    }
    bool is_floor = len == 6 && memcmp(name, "lfloor", 6) == 0;
    if (is_floor || (len == 5 && memcmp(name, "lceil", 5) == 0)) {
        int e = parse_expr(ps);
        skip_ws(ps);
        if (e < 0) return -1;
        if (!is_cmd(ps, is_floor ? "rfloor" : "rceil")) return fail(ps, EXPR_SYNTAX);
        ps->i += is_floor ? 7 : 6;
        int f = node(ps, EN_FUNC, e, -1);
        if (f >= 0) ps->p->nodes[f].func = is_floor ? EF_FLOOR : EF_CEIL;
        return f;
    }
    return fail(ps, EXPR_SYNTAX);
}

// The rest of a variable's name after its letter or Greek command: a
// subscript (x_1, x_{12}, \rho_{0}) and primes (y', y^{\prime}), all part
// of the name. Returns false on a malformed or too long name.
static bool read_name_suffix(struct parser *ps, char *name, size_t *len) {
    size_t n = *len;
    if (peek(ps) == '_') {
        ps->i++;
        name[n++] = '_';
        if (peek(ps) == '{') {
            ps->i++;
            while (ps->i < ps->n && peek(ps) != '}') {
                int c = peek(ps);
                if (c == '{' || n >= EXPR_VAR_NAME_MAX - 2) return false;
                if (c != ' ' && c != '\x01' && c != '\x02') name[n++] = (char)c;
                ps->i++;
            }
            if (peek(ps) != '}') return false;
            ps->i++;
        } else if (isalnum(peek(ps))) {
            name[n++] = ps->s[ps->i++];
        } else {
            return false;
        }
    }
    for (;;) {
        if (peek(ps) == '\'' && n < EXPR_VAR_NAME_MAX - 1) {
            name[n++] = ps->s[ps->i++];
            continue;
        }
        // ^{\prime}, ^{\prime\prime}, ^\prime
        struct parser t = *ps;
        if (peek(&t) != '^') break;
        t.i++;
        skip_ws(&t);
        bool is_braced = peek(&t) == '{';
        if (is_braced) t.i++;
        int n_primes = 0;
        for (skip_ws(&t); is_cmd(&t, "prime"); skip_ws(&t)) {
            t.i += 6;
            n_primes++;
            if (!is_braced) break;
        }
        if (n_primes == 0 || (is_braced && peek(&t) != '}')) break;
        if (is_braced) t.i++;
        if (n + (size_t)n_primes >= EXPR_VAR_NAME_MAX) return false;
        while (n_primes-- > 0) name[n++] = '\'';
        ps->i = t.i;
    }
    *len = n;
    return true;
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
    if (!read_name_suffix(ps, name, &len)) return fail(ps, EXPR_SYNTAX);
    if (len == 1 && name[0] == 'e') return node(ps, EN_E, -1, -1);
    if (len == 1 && name[0] == 'i') return node(ps, EN_I, -1, -1);
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
    } else if (c == '[') {
        e = parse_group(ps, ']');
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
