// Answer structures: splits a normalised answer into lists, sets, tuples and
// intervals, unions, matrices and equations down to expression or text
// leaves. Separators count only at the top level of brackets ( [ { \{ \langle
// and \begin...\end, in one left-to-right scan; so "(1,2)" is one tuple while
// "1, 2" is a list. Recursion is bounded by the options' max_depth.
#include <ctype.h>
#include <string.h>

#include "reward/equiv_internal.h"
#include "reward/normalize_internal.h"

enum sep { SEP_COMMA, SEP_CUP, SEP_EQ, SEP_ROW, SEP_CELL, SEP_PM, SEP_REL };

static const char *const relations[] = {
    "le",     "ge",       "lt",     "gt",    "ne",  "in",      "notin",      "approx", "to",
    "subset", "subseteq", "supset", "equiv", "sim", "implies", "Rightarrow", "iff",    NULL};

static bool name_is(const char *s, size_t len, const char *name) {
    return strlen(name) == len && memcmp(s, name, len) == 0;
}

// Index of the next top-level separator of kind sep in s[from..n), or n;
// *sep_len receives its length.
static size_t find_sep(const char *s, size_t n, size_t from, int sep, size_t *sep_len) {
    int depth = 0;
    *sep_len = 0;
    for (size_t i = from; i < n;) {
        char c = s[i];
        *sep_len = 1;
        if (c == '\\') {
            if (i + 1 < n && s[i + 1] == '\\') {
                if (depth == 0 && sep == SEP_ROW) {
                    *sep_len = 2;
                    return i;
                }
                i += 2;
                continue;
            }
            if (i + 1 < n && (s[i + 1] == '{' || s[i + 1] == '}')) {
                depth += s[i + 1] == '{' ? 1 : -1;
                i += 2;
                continue;
            }
            size_t len = 0;
            while (i + 1 + len < n && isalpha((unsigned char)s[i + 1 + len])) len++;
            const char *name = s + i + 1;
            if (name_is(name, len, "begin") || name_is(name, len, "langle")) depth++;
            if (name_is(name, len, "end") || name_is(name, len, "rangle")) depth--;
            if (depth == 0) {
                *sep_len = 1 + len;
                if (sep == SEP_CUP && name_is(name, len, "cup")) return i;
                if (sep == SEP_PM && (name_is(name, len, "pm") || name_is(name, len, "mp")))
                    return i;
                if (sep == SEP_REL)
                    for (const char *const *r = relations; *r; r++)
                        if (name_is(name, len, *r)) return i;
            }
            i += 1 + (len ? len : 1);
            continue;
        }
        if (c == '(' || c == '[' || c == '{') depth++;
        if (c == ')' || c == ']' || c == '}') depth--;
        if (depth == 0) {
            if (sep == SEP_COMMA && c == ',') return i;
            if (sep == SEP_CELL && c == '&') return i;
            bool is_rel_eq = i > from && (s[i - 1] == '<' || s[i - 1] == '>' || s[i - 1] == '!');
            if (sep == SEP_EQ && c == '=' && !is_rel_eq) return i;
            if (sep == SEP_REL && (c == '<' || c == '>')) return i;
        }
        i++;
    }
    return n;
}

static bool has_sep(const char *s, size_t n, int sep) {
    size_t len;
    return find_sep(s, n, 0, sep, &len) < n;
}

static bool is_blank(char c) {
    return c == ' ' || c == NORM_TEXT_OPEN || c == NORM_TEXT_CLOSE;
}

static void trim(const char **s, size_t *n) {
    while (*n > 0 && is_blank((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_blank((*s)[*n - 1])) (*n)--;
}

static int new_item(struct reward_equiv *q, int kind, const char *s, size_t n) {
    if (q->n_items >= EQUIV_MAX_ITEMS) {
        q->is_over_budget = true;
        return -1;
    }
    q->items[q->n_items] =
        (struct item){.kind = kind, .root = -1, .first = -1, .next = -1, .text = s, .len = n};
    return q->n_items++;
}

static int add_child(struct reward_equiv *q, int parent, int *last, int child) {
    if (child < 0) return -1;
    struct item *p = &q->items[parent];
    if (++p->n_children > EQUIV_MAX_CHILDREN) {
        q->is_over_budget = true;
        return -1;
    }
    if (*last < 0)
        p->first = child;
    else
        q->items[*last].next = child;
    *last = child;
    return 0;
}

// An item of kind whose children are the sep-separated parts of s[0..n).
static int split_item(struct reward_equiv *q, int kind, const char *whole, size_t n_whole,
                      const char *s, size_t n, int sep, int depth) {
    int k = new_item(q, kind, whole, n_whole), last = -1;
    if (k < 0) return -1;
    size_t start = 0, len;
    for (;;) {
        size_t at = find_sep(s, n, start, sep, &len);
        const char *part = s + start;
        size_t n_part = at - start;
        trim(&part, &n_part);
        if (n_part > 0 || at < n || start > 0) {
            int c = equiv_parse_item(q, part, n_part, depth + 1);
            if (c >= 0 && q->items[c].is_pm_list && (kind == IT_LIST || kind == IT_SET)) {
                for (int g = q->items[c].first, next; g >= 0; g = next) { // 1, 2 \pm 1: 1, 3, 1
                    next = q->items[g].next;
                    q->items[g].next = -1;
                    if (add_child(q, k, &last, g) < 0) return -1;
                }
            } else if (add_child(q, k, &last, c) < 0) {
                return -1;
            }
        }
        if (at >= n) break;
        start = at + len;
    }
    return k;
}

// Does the bracket opened at s[0] close exactly at the end of s?
static bool is_enclosed(const char *s, size_t n) {
    size_t len;
    // a top-level comma search from 0 passes the opening bracket; instead walk
    // with the same depth rules and look for the first return to depth 0
    int depth = 0;
    for (size_t i = 0; i < n;) {
        size_t step = 1;
        if (s[i] == '\\' && i + 1 < n) {
            if (s[i + 1] == '{')
                depth++;
            else if (s[i + 1] == '}')
                depth--;
            step = 2;
            if (isalpha((unsigned char)s[i + 1])) {
                len = 0;
                while (i + 1 + len < n && isalpha((unsigned char)s[i + 1 + len])) len++;
                if (name_is(s + i + 1, len, "langle") || name_is(s + i + 1, len, "begin")) depth++;
                if (name_is(s + i + 1, len, "rangle") || name_is(s + i + 1, len, "end")) depth--;
                step = 1 + len;
            }
        } else if (s[i] == '(' || s[i] == '[' || s[i] == '{') {
            depth++;
        } else if (s[i] == ')' || s[i] == ']' || s[i] == '}') {
            depth--;
        }
        i += step;
        if (depth <= 0) return i == n;
    }
    return false;
}

static bool starts_with(const char *s, size_t n, const char *p) {
    size_t m = strlen(p);
    return n >= m && memcmp(s, p, m) == 0;
}

static bool ends_with(const char *s, size_t n, const char *p) {
    size_t m = strlen(p);
    return n >= m && memcmp(s + n - m, p, m) == 0;
}

// \begin{pmatrix} a & b \\ c & d \end{pmatrix} (also bmatrix, Bmatrix, matrix,
// smallmatrix, array with its column spec).
static int parse_matrix(struct reward_equiv *q, const char *s, size_t n, int depth) {
    size_t i = 7, name_start = 7;
    while (i < n && isalpha((unsigned char)s[i])) i++;
    size_t name_len = i - name_start;
    if (i >= n || s[i] != '}') return -2;
    const char *name = s + name_start;
    if (!name_is(name, name_len, "pmatrix") && !name_is(name, name_len, "bmatrix") &&
        !name_is(name, name_len, "Bmatrix") && !name_is(name, name_len, "matrix") &&
        !name_is(name, name_len, "smallmatrix") && !name_is(name, name_len, "array"))
        return -2;
    char end[32];
    if (name_len > 20) return -2;
    memcpy(end, "\\end{", 5);
    memcpy(end + 5, name, name_len);
    memcpy(end + 5 + name_len, "}", 2);
    if (!ends_with(s, n, end)) return -2;
    for (size_t k = 1; k + 7 <= n; k++) // one environment, not a list of matrices
        if (memcmp(s + k, "\\begin{", 7) == 0) return -2;
    i++;
    if (name_is(name, name_len, "array") && i < n && s[i] == '{') // column spec
    {
        while (i < n && s[i] != '}') i++;
        i++;
    }
    const char *body = s + i;
    size_t n_body = n - i - strlen(end);
    int k = new_item(q, IT_MATRIX, s, n), last = -1;
    if (k < 0) return -1;
    size_t start = 0, len;
    int n_rows = 0, n_cols = -1;
    while (start <= n_body) {
        size_t at = find_sep(body, n_body, start, SEP_ROW, &len);
        const char *row = body + start;
        size_t n_row = at - start;
        trim(&row, &n_row);
        if (n_row > 0) {
            int cols = 0;
            size_t c0 = 0, clen;
            for (;;) {
                size_t cat = find_sep(row, n_row, c0, SEP_CELL, &clen);
                const char *cell = row + c0;
                size_t n_cell = cat - c0;
                trim(&cell, &n_cell);
                if (add_child(q, k, &last, equiv_parse_item(q, cell, n_cell, depth + 1)) < 0)
                    return -1;
                cols++;
                if (cat >= n_row) break;
                c0 = cat + clen;
            }
            if (n_cols >= 0 && cols != n_cols) return -2; // ragged: not a matrix
            n_cols = cols;
            n_rows++;
        }
        if (at >= n_body) break;
        start = at + len;
    }
    q->items[k].n_rows = n_rows;
    q->items[k].n_cols = n_cols < 0 ? 0 : n_cols;
    return k;
}

// Is s[i..] the command \pm or \mp (*is_mp)?
static bool is_pm_at(const char *s, size_t n, size_t i, bool *is_mp) {
    if (i + 3 > n || s[i] != '\\' || (memcmp(s + i + 1, "pm", 2) && memcmp(s + i + 1, "mp", 2)))
        return false;
    if (i + 3 < n && isalpha((unsigned char)s[i + 3])) return false;
    *is_mp = s[i + 1] == 'm';
    return true;
}

static bool has_pm(const char *s, size_t n) {
    bool is_mp;
    for (size_t i = 0; i + 3 <= n; i++)
        if (is_pm_at(s, n, i, &is_mp)) return true;
    return false;
}

// s with every \pm made sign and every \mp the other sign, in the arena.
static char *arena_copy_pm(struct reward_equiv *q, const char *s, size_t n, char sign,
                           size_t *out_len) {
    if (q->arena_used + n + 1 > q->arena_cap) {
        q->is_over_budget = true;
        return NULL;
    }
    char *out = q->arena + q->arena_used;
    size_t w = 0;
    bool is_mp;
    for (size_t i = 0; i < n;) {
        if (is_pm_at(s, n, i, &is_mp)) {
            out[w++] = is_mp ? (char)('+' + '-' - sign) : sign;
            i += 3;
        } else {
            out[w++] = s[i++];
        }
    }
    q->arena_used += w + 1;
    *out_len = w;
    return out;
}

// a \pm b is the list {a + b, a - b}, wherever the \pm is (\frac{3 \pm
// \sqrt{5}}{2}, x = 1 \pm 2); several \pm and \mp go together (a \pm b \mp c
// is {a + b - c, a - b + c}).
static int expand_pm(struct reward_equiv *q, const char *s, size_t n, int depth) {
    int k = new_item(q, IT_LIST, s, n), last = -1;
    if (k < 0) return -1;
    q->items[k].is_pm_list = true;
    for (int sign = 0; sign < 2; sign++) {
        size_t n_copy;
        char *copy = arena_copy_pm(q, s, n, sign ? '-' : '+', &n_copy);
        if (!copy) return -1;
        if (add_child(q, k, &last, equiv_parse_item(q, copy, n_copy, depth + 1)) < 0) return -1;
    }
    return k;
}

// ---- inequalities and set-builder notation ----

enum { INEQ_LESS = 1, INEQ_GREATER = 2, INEQ_STRICT = 4 };

// The inequality operator at s[i] (top level): its kind and length, or 0.
static int ineq_op(const char *s, size_t n, size_t i, size_t *len) {
    static const struct {
        const char *text;
        int kind;
    } ops[] = {
        {"<=", INEQ_LESS},
        {">=", INEQ_GREATER},
        {"<", INEQ_LESS | INEQ_STRICT},
        {">", INEQ_GREATER | INEQ_STRICT},
        {"\\le", INEQ_LESS},
        {"\\ge", INEQ_GREATER},
        {"\\lt", INEQ_LESS | INEQ_STRICT},
        {"\\gt", INEQ_GREATER | INEQ_STRICT},
    };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t m = strlen(ops[k].text);
        if (i + m <= n && memcmp(s + i, ops[k].text, m) == 0 &&
            (ops[k].text[0] != '\\' || i + m == n || !isalpha((unsigned char)s[i + m]))) {
            *len = m;
            return ops[k].kind;
        }
    }
    return 0;
}

// A bare name standing for the unknown: x, y_1, t' (a letter, then at most 5
// more bytes of letters, digits, '_', '{', '}', '\''; not e or i).
static bool is_unknown(const char *s, size_t n) {
    if (n == 0 || n > 6 || !isalpha((unsigned char)s[0])) return false;
    if (n == 1 && (s[0] == 'e' || s[0] == 'i')) return false;
    for (size_t k = 1; k < n; k++)
        if (!isalnum((unsigned char)s[k]) && !strchr("_{}'", s[k])) return false;
    return n <= 2 || s[1] == '_';
}

static int bound_item(struct reward_equiv *q, const char *s, size_t n, int depth) {
    return equiv_parse_item(q, s, n, depth + 1);
}

// x > 2, x \le 3, -1 \le x < 3, 5 > x as an interval: (2, \infty), (-\infty,
// 3], [-1, 3), (-\infty, 5). Returns -2 when s is not such an inequality.
static int parse_inequality(struct reward_equiv *q, const char *s, size_t n, int depth) {
    const char *part[3];
    size_t n_part[3], start = 0, len;
    int kinds[2], n_ops = 0;
    for (;;) {
        size_t at = find_sep(s, n, start, SEP_REL, &len);
        int kind = at < n ? ineq_op(s, n, at, &len) : 0;
        if (at < n && !kind) return -2; // \ne, \in, \approx, ...: not an inequality
        if (n_ops == 2 && at < n) return -2;
        part[n_ops] = s + start;
        n_part[n_ops] = at - start;
        trim(&part[n_ops], &n_part[n_ops]);
        if (n_part[n_ops] == 0) return -2;
        if (at >= n) break;
        kinds[n_ops++] = kind;
        start = at + len;
    }
    if (n_ops == 0) return -2;
    const char *lo = NULL, *hi = NULL; // NULL: infinite
    size_t n_lo = 0, n_hi = 0;
    bool is_lo_strict = true, is_hi_strict = true;
    if (n_ops == 1) {
        bool var_left = is_unknown(part[0], n_part[0]), var_right = is_unknown(part[1], n_part[1]);
        if (var_left == var_right) return -2;
        const char *b = var_left ? part[1] : part[0];
        size_t n_b = var_left ? n_part[1] : n_part[0];
        // x < b and b > x bound x from above
        bool is_upper = ((kinds[0] & INEQ_LESS) != 0) == var_left;
        if (is_upper)
            hi = b, n_hi = n_b, is_hi_strict = kinds[0] & INEQ_STRICT;
        else
            lo = b, n_lo = n_b, is_lo_strict = kinds[0] & INEQ_STRICT;
    } else {
        if (!is_unknown(part[1], n_part[1]) || (kinds[0] & 3) != (kinds[1] & 3)) return -2;
        bool is_less = kinds[0] & INEQ_LESS; // a < x < b, or b > x > a
        lo = part[is_less ? 0 : 2], n_lo = n_part[is_less ? 0 : 2];
        hi = part[is_less ? 2 : 0], n_hi = n_part[is_less ? 2 : 0];
        is_lo_strict = kinds[is_less ? 0 : 1] & INEQ_STRICT;
        is_hi_strict = kinds[is_less ? 1 : 0] & INEQ_STRICT;
    }
    int k = new_item(q, IT_TUPLE, s, n), last = -1;
    if (k < 0) return -1;
    q->items[k].open = lo && !is_lo_strict ? '[' : '(';
    q->items[k].close = hi && !is_hi_strict ? ']' : ')';
    q->items[k].is_interval = true;
    int c_lo = lo ? bound_item(q, lo, n_lo, depth) : bound_item(q, "-\\infty", 7, depth);
    if (add_child(q, k, &last, c_lo) < 0) return -1;
    int c_hi = hi ? bound_item(q, hi, n_hi, depth) : bound_item(q, "\\infty", 6, depth);
    if (add_child(q, k, &last, c_hi) < 0) return -1;
    return k;
}

// \{x \mid x > 2\}, \{x : x > 2\}, \{x \in R | x > 2\}: the condition, or
// -2 when the set is not written this way.
static int parse_set_builder(struct reward_equiv *q, const char *s, size_t n, int depth) {
    int level = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '(' || c == '[' || c == '{') level++;
        if (c == ')' || c == ']' || c == '}') level--;
        size_t m = c == ':' || c == '|'                             ? 1
                   : (i + 4 <= n && memcmp(s + i, "\\mid", 4) == 0) ? 4
                                                                    : 0;
        if (level != 0 || m == 0) continue;
        const char *name = s;
        size_t n_name = i;
        trim(&name, &n_name);
        size_t in = 0; // "x \in R" before the bar
        while (in + 3 <= n_name && memcmp(name + in, "\\in", 3) != 0) in++;
        if (in + 3 <= n_name) {
            n_name = in;
            trim(&name, &n_name);
        }
        if (!is_unknown(name, n_name)) return -2;
        return equiv_parse_item(q, s + i + m, n - i - m, depth + 1);
    }
    return -2;
}

static int expr_item(struct reward_equiv *q, const char *s, size_t n) {
    int root;
    int st = expr_parse(&q->pool, s, n, &root);
    if (st == EXPR_BUDGET) {
        q->is_over_budget = true;
        return -1;
    }
    int k = new_item(q, st == EXPR_OK ? IT_EXPR : IT_TEXT, s, n);
    if (k >= 0) q->items[k].root = st == EXPR_OK ? root : -1;
    return k;
}

int equiv_parse_item(struct reward_equiv *q, const char *s, size_t n, int depth) {
    trim(&s, &n);
    if (depth > q->o.max_depth) {
        q->is_over_budget = true;
        return -1;
    }
    if (n == 0) return new_item(q, IT_TEXT, s, n);
    if (n > 2 && (s[0] == '[' || s[0] == '(') && (s[n - 1] == ']' || s[n - 1] == ')') &&
        is_enclosed(s, n)) { // \left[\begin{array}...\end{array}\right]
        const char *inner = s + 1;
        size_t n_inner = n - 2;
        trim(&inner, &n_inner);
        if (starts_with(inner, n_inner, "\\begin{"))
            return equiv_parse_item(q, inner, n_inner, depth + 1);
    }
    if (starts_with(s, n, "\\begin{")) {
        int k = parse_matrix(q, s, n, depth);
        if (k != -2) return k;
    }
    if (has_sep(s, n, SEP_CUP)) return split_item(q, IT_UNION, s, n, s, n, SEP_CUP, depth);
    if (has_sep(s, n, SEP_COMMA)) return split_item(q, IT_LIST, s, n, s, n, SEP_COMMA, depth);
    bool is_set = starts_with(s, n, "\\{") && ends_with(s, n, "\\}") && is_enclosed(s, n);
    if (!is_set && has_pm(s, n)) return expand_pm(q, s, n, depth); // a set splices its own
    size_t len, eq = find_sep(s, n, 0, SEP_EQ, &len);
    if (eq < n) { // lhs = rhs; a = b = c: the first and the last side, then the middle ones
        size_t last_eq = eq, next;
        while ((next = find_sep(s, n, last_eq + 1, SEP_EQ, &len)) < n) last_eq = next;
        const char *lhs = s, *rhs = s + last_eq + 1;
        size_t n_lhs = eq, n_rhs = n - last_eq - 1;
        trim(&lhs, &n_lhs);
        trim(&rhs, &n_rhs);
        if (n_lhs == 0 || n_rhs == 0) return new_item(q, IT_TEXT, s, n);
        int k = new_item(q, IT_EQ, s, n), last = -1;
        if (k < 0) return -1;
        if (add_child(q, k, &last, equiv_parse_item(q, lhs, n_lhs, depth + 1)) < 0) return -1;
        if (add_child(q, k, &last, equiv_parse_item(q, rhs, n_rhs, depth + 1)) < 0) return -1;
        for (size_t at = eq; at < last_eq; at = next) {
            next = find_sep(s, n, at + 1, SEP_EQ, &len);
            const char *mid = s + at + 1;
            size_t n_mid = next - at - 1;
            trim(&mid, &n_mid);
            if (add_child(q, k, &last, equiv_parse_item(q, mid, n_mid, depth + 1)) < 0) return -1;
        }
        return k;
    }
    size_t rel = find_sep(s, n, 0, SEP_REL, &len);
    if (rel < n) { // x \in [0, 1) is [0, 1); other relations are text
        const char *lhs = s;
        size_t n_lhs = rel;
        trim(&lhs, &n_lhs);
        bool is_in = len == 3 && memcmp(s + rel, "\\in", 3) == 0;
        if (is_in && n_lhs >= 1 && n_lhs <= 2 && isalpha((unsigned char)lhs[0]))
            return equiv_parse_item(q, s + rel + 3, n - rel - 3, depth + 1);
        int k = parse_inequality(q, s, n, depth);
        return k != -2 ? k : new_item(q, IT_TEXT, s, n);
    }

    if (name_is(s, n, "\\emptyset")) return new_item(q, IT_SET, s, n);
    if (starts_with(s, n, "\\{") && ends_with(s, n, "\\}") && is_enclosed(s, n)) {
        if (n == 4) return new_item(q, IT_SET, s, n);
        int k = parse_set_builder(q, s + 2, n - 4, depth);
        if (k != -2) return k;
        return split_item(q, IT_SET, s, n, s + 2, n - 4, SEP_COMMA, depth);
    }
    if (starts_with(s, n, "\\langle") && ends_with(s, n, "\\rangle") && is_enclosed(s, n)) {
        int k = split_item(q, IT_TUPLE, s, n, s + 7, n - 14, SEP_COMMA, depth);
        if (k >= 0) {
            q->items[k].open = '<';
            q->items[k].close = '>';
        }
        return k;
    }
    if (n >= 2 && (s[0] == '(' || s[0] == '[') && (s[n - 1] == ')' || s[n - 1] == ']') &&
        is_enclosed(s, n) && has_sep(s + 1, n - 2, SEP_COMMA)) {
        int k = split_item(q, IT_TUPLE, s, n, s + 1, n - 2, SEP_COMMA, depth);
        if (k >= 0) {
            q->items[k].open = s[0];
            q->items[k].close = s[n - 1];
        }
        return k;
    }
    return expr_item(q, s, n);
}
