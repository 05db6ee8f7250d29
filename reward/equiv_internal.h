// Scratch and answer structures of the equivalence checker (private to
// reward/). An answer is a tree of items: structures whose children are
// items, and leaves that are expressions (in the expr_pool) or text spans.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "reward/equiv.h"
#include "reward/expr_internal.h"

enum item_kind {
    IT_EXPR,   // root: an expression
    IT_TEXT,   // words or notation we do not evaluate; compared as text
    IT_LIST,   // a, b, c at top level: unordered answers
    IT_SET,    // \{a, b\}: unordered
    IT_TUPLE,  // (a, b), [a, b), <a, b>: ordered, brackets kept (intervals too)
    IT_UNION,  // I \cup J: unordered
    IT_MATRIX, // n_rows x n_cols children, row-major
    IT_EQ,     // lhs = rhs: the first and the last side, then a chain's middle sides
};

struct item {
    int kind;
    char open, close; // IT_TUPLE brackets
    int root;         // IT_EXPR
    int first;        // first child (items are linked by next)
    int next;         // next sibling, -1 at the end
    int n_children;
    int n_rows, n_cols; // IT_MATRIX
    bool is_interval;   // IT_TUPLE read from an inequality (x > 2 is (2, \infty))
    bool is_pm_list;    // IT_LIST read from a \pm (spliced into an enclosing list)
    const char *text;   // the item's normalised text
    size_t len;
};

#define EQUIV_MAX_ITEMS    1024
#define EQUIV_MAX_CHILDREN 64   // unordered matching is quadratic in this
#define EQUIV_MAX_COMPARES 4096 // item comparisons per check

struct reward_equiv {
    struct reward_equiv_opts o;
    struct expr_pool pool;
    struct item *items;
    int n_items;
    char *arena; // normalised answers and rewritten copies (\pm expansion)
    size_t arena_used, arena_cap;
    int n_compares;
    bool is_over_budget; // set by any bound hit during this check
};

// Parse s[0..n) (normalised) into an item tree; returns the root item index,
// or -1 when a bound was hit (q->is_over_budget is then set).
int equiv_parse_item(struct reward_equiv *q, const char *s, size_t n, int depth);

// reward_equiv_check(); without use_shortcuts the "equal after normalisation"
// text shortcut is skipped, so that tests exercise the parsers on real golds.
enum reward_equiv_result equiv_check(struct reward_equiv *q, const char *answer, size_t n_answer,
                                     const char *gold, size_t n_gold, bool use_shortcuts,
                                     const char **reason);
