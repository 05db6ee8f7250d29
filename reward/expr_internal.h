// Math expressions of the verifier (private to reward/): a LaTeX/plain-text
// arithmetic parser building a tree in a fixed node pool, and a complex
// evaluator. Equivalence of two expressions is decided by evaluating both at
// the same random points of their variables (reward/equiv.c).
#pragma once

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum enode_kind {
    EN_NUM, // num
    EN_VAR, // a = variable index
    EN_PI,
    EN_E,
    EN_I,
    EN_INF,
    EN_ADD,     // a + b
    EN_SUB,     // a - b
    EN_MUL,     // a * b
    EN_DIV,     // a / b
    EN_POW,     // a ^ b
    EN_NEG,     // -a
    EN_FUNC,    // func(a)
    EN_FACT,    // a!
    EN_ABS,     // |a|
    EN_ROOT,    // a-th root of b
    EN_LOGB,    // log base a of b
    EN_BINOM,   // binomial(a, b)
    EN_PERCENT, // a% = a / 100 (or a, in the percentage-lenient pass)
};

enum efunc {
    EF_SIN,
    EF_COS,
    EF_TAN,
    EF_COT,
    EF_SEC,
    EF_CSC,
    EF_ASIN,
    EF_ACOS,
    EF_ATAN,
    EF_SINH,
    EF_COSH,
    EF_TANH,
    EF_LN,
    EF_LOG10,
    EF_EXP,
    EF_SQRT,
    EF_FLOOR,
    EF_CEIL,
};

struct enode {
    uint8_t kind;   // enum enode_kind
    uint8_t func;   // enum efunc for EN_FUNC
    uint16_t depth; // height of the subtree (bounded, so evaluation recursion is bounded)
    int32_t a, b;   // children or variable index
    double num;     // EN_NUM value
};

#define EXPR_VAR_NAME_MAX 16
#define EXPR_MAX_VARS     16

// The node pool and variable table shared by the answer and the gold of one
// verdict (a variable name maps to the same index in both).
struct expr_pool {
    struct enode *nodes;
    int n_nodes, cap_nodes;
    int max_depth; // bound on tree height and on parser recursion
    char var_names[EXPR_MAX_VARS][EXPR_VAR_NAME_MAX];
    int n_vars;
};

void expr_pool_reset(struct expr_pool *p);

enum expr_status { EXPR_OK = 0, EXPR_SYNTAX = -1, EXPR_BUDGET = -2 };

// Parse s[0..n) as one expression; *root receives the node index.
// Returns EXPR_OK, EXPR_SYNTAX (not an expression: the caller compares text)
// or EXPR_BUDGET (too many nodes, variables or nesting levels).
int expr_parse(struct expr_pool *p, const char *s, size_t n, int *root);

// Evaluate the tree at root with variable values vars[0..n_vars). When
// percent_is_identity, a% evaluates to a (Qwen's lenient percentage rule).
// Non-finite results (poles, overflow) come back as they are.
double complex expr_eval(const struct expr_pool *p, int root, const double complex *vars,
                         bool percent_is_identity);

// Bit set of the variables used under root (bit k = variable k).
uint32_t expr_var_mask(const struct expr_pool *p, int root);

// True when the subtree contains a percent node.
bool expr_has_percent(const struct expr_pool *p, int root);
