// Answer normalisation: one pass over the answer that rewrites LaTeX and
// Unicode notation into the canonical form reward/expr.c and reward/equiv.c
// read, then string-level rules (unit words, thousands separators, trailing
// punctuation). Rules follow Qwen2.5-Math's strip_string where they overlap.
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "reward/normalize_internal.h"

struct out {
    char *p;
    size_t n, cap;
    bool is_full;
};

static void put(struct out *o, const char *s, size_t n) {
    if (o->n + n + 1 > o->cap) {
        o->is_full = true;
        return;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

static void put_c(struct out *o, char c) {
    if (c == ' ' && (o->n == 0 || o->p[o->n - 1] == ' ')) return; // collapse runs
    put(o, &c, 1);
}

static void put_s(struct out *o, const char *s) {
    put(o, s, strlen(s));
}

enum { CLOSE_BRACE = 0, CLOSE_TEXT = 1, CLOSE_BOLD = 2 };

struct cmd_rule {
    const char *name;
    const char *replace; // NULL: drop the command
    int kind;            // 0 plain, 1 wrapper keeping content as text, 2 wrapper keeping a group,
                         // 3 \left/\right (also drops a following '.'), 4 bold: the
                         // content without braces or spaces (ARML's \mathbf{1 0 9} is 109)
};

static const struct cmd_rule rules[] = {
    {"left", NULL, 3},
    {"right", NULL, 3},
    {"bigl", NULL, 3},
    {"bigr", NULL, 3},
    {"Bigl", NULL, 3},
    {"Bigr", NULL, 3},
    {"big", NULL, 3},
    {"Big", NULL, 3},
    {"bigg", NULL, 3},
    {"Bigg", NULL, 3},
    {"biggl", NULL, 3},
    {"biggr", NULL, 3},
    {"displaystyle", NULL, 0},
    {"textstyle", NULL, 0},
    {"scriptstyle", NULL, 0},
    {"limits", NULL, 0},
    {"nolimits", NULL, 0},
    {"mathstrut", NULL, 0},
    {"quad", " ", 0},
    {"qquad", " ", 0},
    {"dfrac", "\\frac", 0},
    {"tfrac", "\\frac", 0},
    {"cfrac", "\\frac", 0},
    {"leq", "\\le", 0},
    {"leqslant", "\\le", 0},
    {"geq", "\\ge", 0},
    {"geqslant", "\\ge", 0},
    {"neq", "\\ne", 0},
    {"cdot", "*", 0},
    {"times", "*", 0},
    {"ast", "*", 0},
    {"div", "/", 0},
    {"circ", NULL, 0},
    {"degree", NULL, 0},
    {"lbrace", "\\{", 0},
    {"rbrace", "\\}", 0},
    {"varnothing", "\\emptyset", 0},
    {"dots", "\\dots", 0},
    {"text", NULL, 1},
    {"textbf", NULL, 1},
    {"textit", NULL, 1},
    {"textrm", NULL, 1},
    {"textsf", NULL, 1},
    {"texttt", NULL, 1},
    {"textnormal", NULL, 1},
    {"mathrm", NULL, 1},
    {"mbox", NULL, 1},
    {"hbox", NULL, 1},
    {"mathbf", NULL, 4},
    {"mathit", NULL, 2},
    {"mathsf", NULL, 2},
    {"boldsymbol", NULL, 4},
    {"bm", NULL, 4},
    {"operatorname", NULL, 2},
    {"mathbb", NULL, 2},
    {"mathcal", NULL, 2},
    {NULL, NULL, 0},
};

// Unicode characters with an ASCII or LaTeX meaning.
static const struct {
    const char *utf8, *ascii;
} unicode_map[] = {
    {"\xe2\x88\x92", "-"},      {"\xc3\x97", "*"},
    {"\xc3\xb7", "/"},          {"\xc2\xb7", "*"},
    {"\xe2\x8b\x85", "*"},      {"\xcf\x80", "\\pi "},
    {"\xe2\x88\x9a", "\\sqrt"}, {"\xe2\x88\x9e", "\\infty "},
    {"\xe2\x88\xaa", "\\cup "}, {"\xe2\x89\xa4", "\\le "},
    {"\xe2\x89\xa5", "\\ge "},  {"\xc2\xb0", ""},
    {"\xef\xbc\x8c", ","},      {"\xef\xbc\x9a", ":"},
    {"\xe3\x80\x82", "."},      {"\xef\xbc\x88", "("},
    {"\xef\xbc\x89", ")"},      {"\xe2\x80\x93", "-"},
    {"\xc2\xa0", " "},          {NULL, NULL},
};

static size_t skip_spaces(const char *s, size_t n, size_t i) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

// After '^' at i-1: if a degree sign "\circ" or "{\circ}" follows, return the
// index after it, else 0.
static size_t degree_end(const char *s, size_t n, size_t i) {
    i = skip_spaces(s, n, i);
    bool is_braced = i < n && s[i] == '{';
    if (is_braced) i = skip_spaces(s, n, i + 1);
    if (i + 5 > n || memcmp(s + i, "\\circ", 5) != 0) return 0;
    i += 5;
    if (!is_braced) return i;
    i = skip_spaces(s, n, i);
    return i < n && s[i] == '}' ? i + 1 : 0;
}

// The main pass; returns -1 on overflow or too deep nesting.
static int rewrite(const char *s, size_t n, struct out *o) {
    uint8_t close_kind[NORM_MAX_NESTING];
    int depth = 0, n_bold = 0; // open bold groups
    for (size_t i = 0; i < n && !o->is_full;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '$' || c == NORM_TEXT_OPEN || c == NORM_TEXT_CLOSE) {
            i++;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '~') {
            if (n_bold == 0) put_c(o, ' '); // \mathbf{1 0 9 . 5} is 109.5
            i++;
        } else if (c == '{') {
            if (i + 2 < n && s[i + 1] == ',' && s[i + 2] == '}') { // 1{,}000
                put_c(o, ',');
                i += 3;
                continue;
            }
            if (depth >= NORM_MAX_NESTING) return -1;
            close_kind[depth++] = CLOSE_BRACE;
            put_c(o, '{');
            i++;
        } else if (c == '}') {
            int kind = depth > 0 ? close_kind[--depth] : CLOSE_BRACE;
            n_bold -= kind == CLOSE_BOLD;
            if (kind != CLOSE_BOLD) put_c(o, kind == CLOSE_TEXT ? NORM_TEXT_CLOSE : '}');
            i++;
        } else if (c == '^' && degree_end(s, n, i + 1)) {
            i = degree_end(s, n, i + 1);
        } else if (c == '\\' && i + 1 < n && !isalpha((unsigned char)s[i + 1])) {
            char d = s[i + 1];
            if (d == ',' || d == ';' || d == ':' || d == ' ' || d == '\n')
                put_c(o, ' ');
            else if (d == '%')
                put_c(o, '%');
            else if (d == '!' || d == '$' || d == '(' || d == ')' || d == '[' || d == ']') {
            } else
                put(o, s + i, 2);
            i += 2;
        } else if (c == '\\') {
            size_t len = 1;
            while (i + len < n && isalpha((unsigned char)s[i + len])) len++;
            const char *name = s + i + 1;
            size_t name_len = len - 1;
            const struct cmd_rule *r = rules;
            for (; r->name; r++)
                if (strlen(r->name) == name_len && memcmp(r->name, name, name_len) == 0) break;
            i += len;
            if (!r->name) {
                put(o, s + i - len, len);
                continue;
            }
            if (r->replace) put_s(o, r->replace);
            if (r->kind == 3) {
                if (i < n && s[i] == '.') i++;
            } else if (r->kind == 1 || r->kind == 2 || r->kind == 4) {
                size_t j = skip_spaces(s, n, i);
                if (j < n && s[j] == '{') {
                    if (depth >= NORM_MAX_NESTING) return -1;
                    close_kind[depth++] = r->kind == 1   ? CLOSE_TEXT
                                          : r->kind == 4 ? CLOSE_BOLD
                                                         : CLOSE_BRACE;
                    n_bold += r->kind == 4;
                    if (r->kind != 4) put_c(o, r->kind == 1 ? NORM_TEXT_OPEN : '{');
                    i = j + 1;
                }
            }
        } else if (c >= 0x80) {
            size_t k = 0;
            for (; unicode_map[k].utf8; k++) {
                size_t m = strlen(unicode_map[k].utf8);
                if (i + m <= n && memcmp(s + i, unicode_map[k].utf8, m) == 0) break;
            }
            if (unicode_map[k].utf8) {
                put_s(o, unicode_map[k].ascii);
                i += strlen(unicode_map[k].utf8);
            } else {
                put_c(o, (char)c);
                i++;
            }
        } else {
            put_c(o, (char)c);
            i++;
        }
    }
    return o->is_full ? -1 : 0;
}

static bool is_space_or_marker(char c) {
    return c == ' ' || c == NORM_TEXT_OPEN || c == NORM_TEXT_CLOSE;
}

static size_t trim_end(const char *s, size_t n) {
    while (n > 0 && s[n - 1] == ' ') n--;
    return n;
}

// Start of the text group that ends s[0..n) (at its NORM_TEXT_OPEN marker).
static size_t text_open(const char *s, size_t n) {
    size_t k = n - 1;
    while (k > 0 && s[k] != NORM_TEXT_OPEN) k--;
    return k;
}

// Is the text group ending s[0..n) only punctuation and spaces ("\text{. }")?
static bool is_punct_text(const char *s, size_t n) {
    size_t k = text_open(s, n);
    if (s[k] != NORM_TEXT_OPEN) return false;
    for (size_t i = k + 1; i + 1 < n; i++)
        if (!strchr(" .,;:", s[i])) return false;
    return true;
}

// Trailing punctuation and row breaks: "5." "x=1;" "3 \\".
static size_t strip_trailing_punct(const char *s, size_t n) {
    for (;;) {
        n = trim_end(s, n);
        if (n > 0 && (s[n - 1] == '.' || s[n - 1] == ',' || s[n - 1] == ';' || s[n - 1] == ':'))
            n--;
        else if (n >= 3 && s[n - 1] == NORM_TEXT_CLOSE && is_punct_text(s, n))
            n = text_open(s, n); // \text{. }
        else if (n >= 2 && s[n - 1] == '\\' && s[n - 2] == '\\')
            n -= 2;
        else
            return n;
    }
}

// The words "and" and "or" between answers are list separators.
static size_t replace_and(char *s, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        size_t m = i + 3 <= n && memcmp(s + i, "and", 3) == 0  ? 3
                   : i + 2 <= n && memcmp(s + i, "or", 2) == 0 ? 2
                                                               : 0;
        bool is_word = m > 0 && (i == 0 || !isalpha((unsigned char)s[i - 1])) &&
                       (i + m == n || !isalpha((unsigned char)s[i + m]));
        if (is_word) { // "1, 2, and 3": one comma
            size_t k = w;
            while (k > 0 && s[k - 1] == ' ') k--;
            if (k == 0 || s[k - 1] != ',') s[w++] = ',';
            i += m;
        } else {
            s[w++] = s[i++];
        }
    }
    return w;
}

static bool has_letter(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (isalpha((unsigned char)s[i])) return true;
    return false;
}

// Is s[0..n) a plain number (sign, digits, separators, decimal point)?
static bool is_plain_number(const char *s, size_t n) {
    size_t i = 0, n_digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    for (; i < n; i++) {
        if (isdigit((unsigned char)s[i]))
            n_digits++;
        else if (s[i] != '.' && s[i] != ',' && s[i] != '%')
            return false;
    }
    return n_digits > 0;
}

// Unit words after a value: trailing \text{}/\mathrm{} groups with letters
// (and the '/', '*', '^2' joining them), or plain words of two or more letters
// after a plain number ("18 dollars", "1.6 cm").
static size_t strip_units(const char *s, size_t n) {
    for (;;) {
        n = trim_end(s, n);
        size_t m = n;
        // cm^2, \text{m}^{2}
        if (m > 0 && s[m - 1] == '}') {
            size_t k = m - 1;
            while (k > 0 && isdigit((unsigned char)s[k - 1])) k--;
            if (k > 1 && s[k - 1] == '{' && s[k - 2] == '^') m = k - 2;
        } else if (m > 1 && isdigit((unsigned char)s[m - 1]) && s[m - 2] == '^') {
            m -= 2;
        }
        m = trim_end(s, m);
        if (m == 0 || s[m - 1] != NORM_TEXT_CLOSE) break;
        size_t open = m - 1;
        int level = 0;
        while (open > 0) {
            open--;
            if (s[open] == NORM_TEXT_CLOSE) level++;
            if (s[open] == NORM_TEXT_OPEN && level-- == 0) break;
        }
        if (s[open] != NORM_TEXT_OPEN || !has_letter(s + open, m - open)) break;
        size_t prefix = open;
        while (prefix > 0 && (s[prefix - 1] == ' ' || s[prefix - 1] == '/' || s[prefix - 1] == '*'))
            prefix--;
        size_t k = 0;
        while (k < prefix && is_space_or_marker(s[k])) k++;
        if (k == prefix) break; // nothing but the text: an answer in words
        n = prefix;
    }
    // plain unit words after a plain number
    size_t i = 0;
    while (i < n && (isdigit((unsigned char)s[i]) || strchr("+-.,%", s[i]))) i++;
    if (i == 0 || i == n || s[i] != ' ' || !is_plain_number(s, i)) return n;
    bool has_long_word = false;
    for (size_t k = i, run = 0; k <= n; k++) {
        if (k < n && isalpha((unsigned char)s[k])) {
            if (++run >= 2) has_long_word = true;
        } else if (k < n && s[k] != ' ' && s[k] != '/' && s[k] != '.') {
            return n;
        } else {
            run = 0;
        }
    }
    return has_long_word ? i : n;
}

// 1,000,000 and 1 000 000 (a bare number with separators) lose the separators.
static size_t strip_thousands(char *s, size_t n) {
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    size_t lead = 0;
    while (i + lead < n && isdigit((unsigned char)s[i + lead])) lead++;
    if (lead < 1 || lead > 3) return n;
    size_t k = i + lead, n_groups = 0;
    char sep = 0;
    while (k < n && (s[k] == ',' || s[k] == ' ')) {
        if (sep && s[k] != sep) return n;
        sep = s[k];
        for (int d = 1; d <= 3; d++)
            if (k + d >= n || !isdigit((unsigned char)s[k + d])) return n;
        if (k + 4 < n && isdigit((unsigned char)s[k + 4])) return n;
        k += 4;
        n_groups++;
    }
    if (n_groups == 0) return n;
    if (k < n && s[k] == '.') {
        k++;
        while (k < n && isdigit((unsigned char)s[k])) k++;
    }
    if (k != n) return n;
    size_t w = 0;
    for (size_t r = 0; r < n; r++)
        if (s[r] != sep) s[w++] = s[r];
    return w;
}

int norm_answer(const char *s, size_t n, char *out, size_t cap, size_t *out_len) {
    struct out o = {.p = out, .cap = cap};
    if (cap == 0 || rewrite(s, n, &o) < 0) return -1;
    size_t m = o.n;
    size_t start = 0;
    while (start < m && out[start] == ' ') start++;
    memmove(out, out + start, m - start);
    m -= start;
    m = replace_and(out, m);
    m = strip_trailing_punct(out, m);
    m = strip_units(out, m);
    m = strip_trailing_punct(out, m);
    m = strip_thousands(out, m);
    out[m] = 0;
    *out_len = m;
    return 0;
}

bool norm_choice_letter(const char *s, size_t n, char *letter) {
    size_t i = 0;
    while (i < n && is_space_or_marker(s[i])) i++;
    bool has_paren = i < n && s[i] == '(';
    if (has_paren) i++;
    if (i >= n) return false;
    char c = (char)toupper((unsigned char)s[i]);
    if (c < 'A' || c > 'E') return false;
    i++;
    if (has_paren) {
        if (i >= n || s[i] != ')') return false;
        i++;
    } else if (i < n && s[i] == ')') {
        i++;
    }
    size_t rest = i;
    while (i < n && is_space_or_marker(s[i])) i++;
    // "B", "(B)": the letter alone; "(B) 12", "B: 12": a letter with its text
    bool is_alone = i == n;
    bool is_labelled = (has_paren || (rest > 0 && s[rest - 1] == ')') ||
                        (rest < n && (s[rest] == ':' || s[rest] == '.'))) &&
                       rest < n;
    if (!is_alone && !is_labelled) return false;
    *letter = c;
    return true;
}

bool norm_text_equal(const char *a, size_t na, const char *b, size_t nb) {
    size_t i = 0, j = 0;
    for (;;) {
        while (i < na && is_space_or_marker(a[i])) i++;
        while (j < nb && is_space_or_marker(b[j])) j++;
        if (i == na || j == nb) return i == na && j == nb;
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[j])) return false;
        i++;
        j++;
    }
}
