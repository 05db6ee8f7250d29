// The final-statement fallback for worked solutions that state their answer
// without \boxed{} (OlympiadBench, AIME reference solutions): "... so the
// maximum perimeter is $\mathbf{3 2}$.", "$$ ... =\frac{7}{5} $$", "So the
// desired value of $n$ is 4096 .". Trailing parenthetical asides are dropped;
// one forward scan records the last math spans ($..$, $$..$$, \(..\), \[..\])
// in a ring and the last number outside math; then the answer is
//   1. the last span with a bold number (\mathbf{2 0}, \boldsymbol{}, \textbf{}:
//      how ARML solutions mark the answer; not in a text with bold letters,
//      which are vectors), else
//   2. the opening statement (extract_statement.c): a first sentence "The
//      required maximum is $2 n-2$." (a key word, then "is", "are" or
//      "namely" and the value), "$E(7,3)=3$.", or a first or second sentence
//      "We claim that $M=...$." (IMO shortlist solutions state the answer
//      first), else
//   3. the span right after the last "final answer is", else after the last
//      "answer is" ("the answer is therefore $12$"), else the value before
//      the last "is the answer" ("623 must be the only answer"), else
//   4. the closing statement: a last sentence that names its value as the
//      opening one does and ends with it, "79 is the largest ...", or "Thus,
//      8 of the positive divisors of 900 are perfect squares.", else
//   5. the later of the last span holding a value (a digit, \infty, \pi) and
//      the last number outside math (not part of a word: "x_1", "<img_12>";
//      not an ordinal "5 th" or an equation label "(1)"; numbers joined by
//      commas, "and", "or" are taken together); a span followed by a reason
//      clause that ends the sentence ("since $x>0$") gives way to the value
//      before the clause.
// The chosen span and the alike spans joined to it by commas, "and" or "or"
// are one answer ("$(1,1)$ and $(3,2)$"); a single span is cut to its last
// row and after its last top-level "=", "\approx", "\doteq" or "\in"
// ("$x=16+4=\mathbf{20}$" -> \mathbf{20}), after dropping a trailing domain
// clause (", x \in \mathbb{R}"); names set to one value ("a=b=-2") stay
// whole. docs/reward.md has the details.
#include <ctype.h>
#include <string.h>

#include "reward/extract.h"
#include "reward/extract_final_internal.h"

// End of the math opened at i (content start) by delim: the index of the
// closing delimiter, or n when it does not close.
size_t final_math_end(const char *t, size_t n, size_t i, const char *close) {
    for (; i < n; i++) {
        if (t[i] == '\\' && !final_has_at(t, n, i, close)) {
            i++; // \$ and other escapes
            continue;
        }
        if (final_has_at(t, n, i, close)) return i;
    }
    return n;
}

bool final_is_word_char(char c) {
    return isalnum((unsigned char)c) || c == '_' || c == '<' || c == '>';
}

// A comma or the word "and" / "or", with spaces, between two spans; not a
// blank line (separate displays are separate statements).
bool final_is_connector(const char *t, size_t a, size_t b) {
    bool has_link = false;
    for (size_t i = a; i < b;) {
        if (t[i] == '\n' && i + 1 < b && t[i + 1] == '\n') return false;
        if (t[i] == ' ' || t[i] == '\n') {
            i++;
        } else if (t[i] == ',') {
            has_link = true;
            i++;
        } else if (final_has_at(t, b, i, "and") &&
                   (i + 3 == b || !isalpha((unsigned char)t[i + 3]))) {
            i += 3;
            has_link = true;
        } else if (final_has_at(t, b, i, "or") &&
                   (i + 2 == b || !isalpha((unsigned char)t[i + 2]))) {
            i += 2;
            has_link = true;
        } else {
            return false;
        }
    }
    return has_link;
}

// "5 th", "2nd": an ordinal, not a value.
static bool is_ordinal(const char *t, size_t n, size_t b) {
    if (b < n && t[b] == ' ') b++;
    static const char *const ends[] = {"th", "st", "nd", "rd"};
    for (int k = 0; k < 4; k++)
        if (final_has_at(t, n, b, ends[k]) && (b + 2 == n || !isalpha((unsigned char)t[b + 2])))
            return true;
    return false;
}

void final_scan_text(const char *t, size_t n, struct scan *sc) {
    static const char *const opens[] = {"$$", "$", "\\[", "\\("};
    static const char *const closes[] = {"$$", "$", "\\]", "\\)"};
    for (size_t i = 0; i < n;) {
        int k = t[i] == '$' || t[i] == '\\' ? 0 : 4;
        for (; k < 4; k++)
            if (final_has_at(t, n, i, opens[k])) break;
        if (k < 4) {
            size_t a = i + strlen(opens[k]), b = final_math_end(t, n, a, closes[k]);
            if (b >= n) return; // unclosed: the rest is not read
            sc->ring[sc->n++ % FINAL_MAX_SPANS] =
                (struct span){.a = a, .b = b, .a0 = i, .b1 = b + strlen(closes[k])};
            i = b + strlen(closes[k]);
            continue;
        }
        if (t[i] == '\\') { // \$ and other escapes outside math
            i += 2;
            continue;
        }
        if (isdigit((unsigned char)t[i]) && (i == 0 || !final_is_word_char(t[i - 1]))) {
            size_t b = i;
            while (b < n &&
                   (isdigit((unsigned char)t[b]) || ((t[b] == '.' || t[b] == ',') && b + 1 < n &&
                                                     isdigit((unsigned char)t[b + 1]))))
                b++;
            bool is_label = i > 0 && t[i - 1] == '(' && b < n && t[b] == ')'; // equation (1)
            if ((b >= n || !final_is_word_char(t[b])) && !is_ordinal(t, n, b) && !is_label) {
                bool is_joined = sc->has_number && sc->n_at_number == sc->n &&
                                 final_is_connector(t, sc->num_b, i);
                sc->run_a = is_joined ? sc->run_a : i;
                sc->has_number = true;
                sc->num_a = i;
                sc->num_b = b;
                sc->n_at_number = sc->n;
            }
            i = b;
            continue;
        }
        if ((t[i] == '.' && i + 1 < n && isspace((unsigned char)t[i + 1])) ||
            (t[i] == '\n' && i + 1 < n && t[i + 1] == '\n')) { // a sentence ends
            size_t j = i + 1;
            while (j < n && isspace((unsigned char)t[j])) j++;
            sc->last_start = j < n ? j : sc->last_start;
            i = j;
            continue;
        }
        i++;
    }
}

static bool span_has(const char *t, const struct span *s, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = s->a; i + m <= s->b; i++)
        if (memcmp(t + i, needle, m) == 0) return true;
    return false;
}

bool final_span_has_digit(const char *t, size_t a, size_t b) {
    for (size_t i = a; i < b; i++)
        if (isdigit((unsigned char)t[i])) return true;
    return false;
}

// A bold group with a digit: \mathbf{2 0}, \boldsymbol{9}, \textbf{12}.
static bool span_has_bold_number(const char *t, const struct span *s) {
    static const char *const cmds[] = {"\\mathbf{", "\\boldsymbol{", "\\textbf{", "\\bf{"};
    for (size_t i = s->a; i < s->b; i++) {
        if (t[i] != '\\') continue;
        for (int k = 0; k < 4; k++) {
            if (!final_has_at(t, s->b, i, cmds[k])) continue;
            size_t j = i + strlen(cmds[k]);
            while (j < s->b && t[j] != '}') j++;
            if (final_span_has_digit(t, i, j)) return true;
        }
    }
    return false;
}

// A bold letter (\mathbf{v}, \boldsymbol{x}) anywhere: the text sets vectors
// in bold, so bold does not mark its answer (\mathbf{0} is the zero vector).
static bool has_bold_letter(const char *t, size_t n) {
    static const char *const cmds[] = {"\\mathbf{", "\\boldsymbol{", "\\bm{"};
    for (const char *p = t; (p = memchr(p, '\\', n - (size_t)(p - t))); p++)
        for (int k = 0; k < 3; k++) {
            size_t i = (size_t)(p - t), m = strlen(cmds[k]);
            if (final_has_at(t, n, i, cmds[k]) && i + m + 1 < n &&
                isalpha((unsigned char)t[i + m]) && t[i + m + 1] == '}')
                return true;
        }
    return false;
}

bool final_span_has_value(const char *t, const struct span *s) {
    return final_span_has_digit(t, s->a, s->b) || span_has(t, s, "\\infty") ||
           span_has(t, s, "\\pi");
}

// Length of the command name at t[i] = '\\' (0 for \{ and the like).
static size_t cmd_len(const char *t, size_t b, size_t i) {
    size_t m = 0;
    while (i + 1 + m < b && isalpha((unsigned char)t[i + 1 + m])) m++;
    return m;
}

static bool is_cmd(const char *t, size_t i, size_t m, const char *name) {
    return strlen(name) == m && memcmp(t + i + 1, name, m) == 0;
}

// Walk t[a..b) at bracket depth 0: calls back with each top-level relation
// ("=", "\approx", "\doteq", "\in": is_rel) or row break ("\\") and the index
// after it. Returns the index after the last one, or a.
static size_t last_cut(const char *t, size_t a, size_t b, bool rows_only) {
    int depth = 0;
    size_t cut = a;
    for (size_t i = a; i < b; i++) {
        char c = t[i];
        if (c == '\\') {
            if (i + 1 < b && (t[i + 1] == '{' || t[i + 1] == '}')) {
                depth += t[i + 1] == '{' ? 1 : -1;
                i++;
                continue;
            }
            if (i + 1 < b && t[i + 1] == '\\') {
                if (depth == 0) cut = i + 2;
                i++;
                continue;
            }
            size_t m = cmd_len(t, b, i);
            if (depth == 0 && !rows_only &&
                (is_cmd(t, i, m, "approx") || is_cmd(t, i, m, "doteq") || is_cmd(t, i, m, "in")))
                cut = i + 1 + m;
            i += m;
            continue;
        }
        if (c == '{' || c == '(' || c == '[') depth++;
        if ((c == '}' || c == ')' || c == ']') && depth > 0) depth--; // "n)=..": a span cut by $ $
        if (depth == 0 && !rows_only && c == '=' &&
            !(i > a && (t[i - 1] == '<' || t[i - 1] == '>' || t[i - 1] == '!')))
            cut = i + 1;
    }
    return cut;
}

// Start of the last statement of t[a..b): after its last top-level "\\text{
// hence }" (so, thus, therefore, i.e.), \\Rightarrow, \\Longrightarrow or
// \\implies ("... +1, \\text { hence } f(y)=y+1" is "f(y)=y+1"); a if none.
static size_t last_statement(const char *t, size_t a, size_t b) {
    static const char *const words[] = {"hence", "so", "thus", "therefore", "i.e."};
    int depth = 0;
    size_t start = a;
    for (size_t i = a; i < b; i++) {
        if (t[i] == '\\' && depth == 0) {
            size_t m = cmd_len(t, b, i), j = i + 1 + m;
            if (is_cmd(t, i, m, "Rightarrow") || is_cmd(t, i, m, "Longrightarrow") ||
                is_cmd(t, i, m, "implies"))
                start = j;
            if (is_cmd(t, i, m, "text")) {
                while (j < b && t[j] == ' ') j++;
                if (j < b && t[j] == '{') j++;
                while (j < b && t[j] == ' ') j++;
                for (int k = 0; k < 5; k++) {
                    size_t e = j + strlen(words[k]);
                    while (e < b && t[e] == ' ') e++;
                    if (final_has_at(t, b, j, words[k]) && e < b && t[e] == '}') start = e + 1;
                }
            }
            i += m;
            continue;
        }
        if (t[i] == '{' || t[i] == '(' || t[i] == '[') depth++;
        if ((t[i] == '}' || t[i] == ')' || t[i] == ']') && depth > 0) depth--;
    }
    return start;
}

// End of t[a..b) without a trailing domain clause ", x \in \mathbb{R}"
// ("$f(x)=x-1, x \in \mathbb{R}$": the function, not the set); b if none. The
// clause: a top-level comma, a name, \in, a \mathbb{} set with at most a
// short script ("\mathbb{Z}_{>0}", "\mathbb{R}^{+}").
static size_t drop_domain(const char *t, size_t a, size_t b) {
    size_t comma = b;
    int depth = 0;
    for (size_t i = a; i < b; i++) {
        if (t[i] == '{' || t[i] == '(' || t[i] == '[') depth++;
        if ((t[i] == '}' || t[i] == ')' || t[i] == ']') && depth > 0) depth--;
        if (t[i] == ',' && depth == 0) comma = i;
    }
    if (comma == b) return b;
    size_t i = comma + 1;
    for (;;) { // spaces, \quad, \qquad, \, and \;
        if (i < b && t[i] == ' ')
            i++;
        else if (final_has_at(t, b, i, "\\,") || final_has_at(t, b, i, "\\;"))
            i += 2;
        else if (final_has_at(t, b, i, "\\quad") || final_has_at(t, b, i, "\\qquad"))
            i += t[i + 1] == 'q' && t[i + 2] == 'q' ? 6 : 5;
        else
            break;
    }
    if (i >= b || !isalpha((unsigned char)t[i])) return b;
    i++;
    while (i < b && t[i] == ' ') i++;
    if (!final_has_at(t, b, i, "\\in ") && !final_has_at(t, b, i, "\\in\\")) return b;
    i += 3;
    while (i < b && t[i] == ' ') i++;
    if (!final_has_at(t, b, i, "\\mathbb{") || i + 10 > b || t[i + 9] != '}') return b;
    for (i += 10; i < b; i++) // the script, then spaces and a full stop
        if (!strchr("^_{}+-<>0* .", t[i]) || i - comma > 40) return b;
    return comma;
}

// A name: x, y_1, y_{1}, f(x), d(16) (a letter, then at most 7 bytes).
bool final_is_name(const char *p, size_t m) {
    if (m == 0 || m > 8 || !isalpha((unsigned char)p[0])) return false;
    if (m == 1) return true;
    if (p[1] == '_' || p[1] == '(') return true;
    return m == 2 && isalnum((unsigned char)p[1]);
}

// "a=b=-2": two or more names, each set to the last side (kept whole: it is
// the pair (-2, -2), where "-2" alone would be one value).
static bool is_names_chain(const char *t, size_t a, size_t b) {
    int n_names = 0, depth = 0;
    for (size_t i = a, from = a; i < b; i++) {
        if (t[i] == '{' || t[i] == '(' || t[i] == '[') depth++;
        if ((t[i] == '}' || t[i] == ')' || t[i] == ']') && depth > 0) depth--;
        if (t[i] != '=' || depth > 0) continue;
        while (from < i && t[from] == ' ') from++;
        size_t m = i - from;
        while (m > 0 && t[from + m - 1] == ' ') m--;
        if (!final_is_name(t + from, m) || memchr(t + from, '(', m)) return false; // not f(x)
        n_names++;
        from = i + 1;
    }
    return n_names >= 2;
}

// "f(y)=y+1": a function of one letter defined by one equation (kept whole:
// the letter is bound, and the gold may name it otherwise).
static bool is_function_definition(const char *t, size_t a, size_t b) {
    while (a < b && t[a] == ' ') a++;
    if (a + 4 > b || !isalpha((unsigned char)t[a]) || t[a + 1] != '(' ||
        !isalpha((unsigned char)t[a + 2]) || t[a + 3] != ')' || (a > 0 && t[a - 1] == '\\'))
        return false;
    size_t i = a + 4;
    while (i < b && t[i] == ' ') i++;
    return i < b && t[i] == '=' && last_cut(t, a, b, false) == i + 1;
}

// The span's last statement: inside \begin{aligned} ... \end{aligned} (any
// environment) the last row; then the part after the last relation ("a=b=-2",
// names set to one value, stays whole). Leading '&' and trailing " ." go.
void final_cut_value(const char *t, size_t *a, size_t *b) {
    while (*a < *b && isspace((unsigned char)t[*a])) (*a)++;
    while (*b > *a && isspace((unsigned char)t[*b - 1])) (*b)--;
    if (*b > *a && t[*b - 1] == '}') { // a trailing \end{name}
        size_t k = *b - 1;
        while (k > *a && t[k] != '{') k--;
        if (k >= *a + 4 && memcmp(t + k - 4, "\\end", 4) == 0) {
            *b = k - 4;
            if (final_has_at(t, *b, *a, "\\begin{")) { // and its \begin{name}
                size_t j = *a + 7;
                while (j < *b && t[j] != '}') j++;
                *a = j < *b ? j + 1 : *a;
            }
            *a = last_cut(t, *a, *b, true);
        }
    }
    *b = drop_domain(t, *a, *b);
    size_t s = last_statement(t, *a, *b);
    while (s < *b && isspace((unsigned char)t[s])) s++;
    *a = s < *b ? s : *a; // "x=4 \\text{ hence}": no statement after it
    if (!is_names_chain(t, *a, *b) && !is_function_definition(t, *a, *b))
        *a = last_cut(t, *a, *b, false);
    while (*a < *b && (isspace((unsigned char)t[*a]) || t[*a] == '&')) (*a)++;
    while (*b > *a && (isspace((unsigned char)t[*b - 1]) || t[*b - 1] == '.' || t[*b - 1] == ','))
        (*b)--;
}

// Length of the part before the span's first top-level relation (0: none).
size_t final_lhs_len(const char *t, const struct span *s) {
    size_t cut = last_cut(t, s->a, s->b, false);
    if (cut == s->a) return 0;
    // the first relation: cut the text at the first '=' or \in at depth 0
    int depth = 0;
    for (size_t i = s->a; i < s->b; i++) {
        char c = t[i];
        if (c == '{' || c == '(' || c == '[') depth++;
        if ((c == '}' || c == ')' || c == ']') && depth > 0) depth--;
        if (depth == 0 && (c == '=' || (c == '\\' && final_has_at(t, s->b, i, "\\in"))))
            return i - s->a;
    }
    return 0;
}

// Spans in a run are alike: values without relations, or relations with the
// same left side or with names on the left ("$n=5$ or $n=15$", "$p=3$ and
// $q=4$"; not "$n-2=9$, and $n=11$").

static bool are_alike(const char *t, const struct span *x, const struct span *y) {
    size_t lx = final_lhs_len(t, x), ly = final_lhs_len(t, y);
    if (lx == 0 || ly == 0) return lx == ly;
    const char *px = t + x->a, *py = t + y->a;
    while (lx > 0 && px[lx - 1] == ' ') lx--;
    while (ly > 0 && py[ly - 1] == ' ') ly--;
    return (lx == ly && memcmp(px, py, lx) == 0) ||
           (final_is_name(px, lx) && final_is_name(py, ly));
}

bool final_set_trimmed(const char *t, size_t a, size_t b, size_t *start, size_t *len) {
    while (a < b && isspace((unsigned char)t[a])) a++;
    while (b > a && isspace((unsigned char)t[b - 1])) b--;
    if (a == b) return false;
    *start = a;
    *len = b - a;
    return true;
}

const struct span *final_ring_at(const struct scan *sc, int k) {
    return &sc->ring[k % FINAL_MAX_SPANS];
}

// The answer of span `pick`: with the alike spans joined to it by connectors
// (backwards when forward is false), or its last value.
bool final_take_span(const char *t, const struct scan *sc, int first, int pick, bool forward,
                     bool use_run, size_t *start, size_t *len) {
    int lo = pick, hi = pick;
    while (use_run && !forward && lo - 1 >= first &&
           final_is_connector(t, final_ring_at(sc, lo - 1)->b1, final_ring_at(sc, lo)->a0) &&
           are_alike(t, final_ring_at(sc, lo - 1), final_ring_at(sc, pick)))
        lo--;
    while (use_run && forward && hi + 1 < sc->n &&
           final_is_connector(t, final_ring_at(sc, hi)->b1, final_ring_at(sc, hi + 1)->a0) &&
           are_alike(t, final_ring_at(sc, hi + 1), final_ring_at(sc, pick)))
        hi++;
    if (lo < hi)
        return final_set_trimmed(t, final_ring_at(sc, lo)->a, final_ring_at(sc, hi)->b, start, len);
    size_t a = final_ring_at(sc, pick)->a, b = final_ring_at(sc, pick)->b;
    final_cut_value(t, &a, &b);
    return final_set_trimmed(t, a, b, start, len);
}

// "the answer is [therefore] $...$": the span right after the last "answer
// is" (one word at most between them).
static int answer_is_span(const char *t, size_t n, const struct scan *sc, int first,
                          const char *phrase) {
    size_t at = n, m = strlen(phrase);
    for (size_t i = n >= m ? n - m + 1 : 0; i-- > 0;) {
        size_t k = 0;
        while (k < m && tolower((unsigned char)t[i + k]) == phrase[k]) k++;
        if (k == m) {
            at = i + m;
            break;
        }
    }
    if (at == n) return -1;
    for (int k = first; k < sc->n; k++) {
        const struct span *s = final_ring_at(sc, k);
        if (s->a0 < at) continue;
        int n_words = 0; // "the answer is [therefore] $...$"
        for (size_t i = at; i < s->a0; i++) {
            if (isalpha((unsigned char)t[i]) && !isalpha((unsigned char)t[i - 1])) n_words++;
            if (!isalpha((unsigned char)t[i]) && !strchr(" :,", t[i])) return -1;
        }
        return n_words <= 1 && final_span_has_value(t, s) ? k : -1;
    }
    return -1;
}

// Length of t without a trailing parenthetical remark: "... is 7. (We can
// check that $x=0$ fails.)", "... $5$ (and $r=2$ )." A final group in
// parentheses (then at most ". ") that starts with a word and holds a word of
// three letters is an aside, not the answer; "(1, 2)." and "(3, 4 and 5)" stay.
static size_t drop_aside(const char *t, size_t n) {
    size_t e = n;
    while (e > 0 && (isspace((unsigned char)t[e - 1]) || t[e - 1] == '.')) e--;
    if (e == 0 || t[e - 1] != ')') return n;
    int depth = 0;
    size_t k = e, run = 0;
    bool has_word = false;
    while (k-- > 0) {
        if (t[k] == ')') depth++;
        if (t[k] == '(' && --depth == 0) break;
        run = isalpha((unsigned char)t[k]) ? run + 1 : 0;
        has_word |= run >= 3 && (k == 0 || !isalpha((unsigned char)t[k - 1])) &&
                    (k == 0 || t[k - 1] != '\\');
    }
    if (k == (size_t)-1 || !has_word) return n;
    size_t w = k + 1; // an aside starts with a word: "(We can", "(and $r$"
    while (w < e && t[w] == ' ') w++;
    if (w + 1 >= e || !isalpha((unsigned char)t[w]) || !isalpha((unsigned char)t[w + 1])) return n;
    return k;
}

// Length of t without a trailing table (lines that start with '|': the data
// behind "So there are 10 solutions:") or a last paragraph that starts with
// "For example" or "For instance" (an illustration after the answer).
static size_t drop_table_or_example(const char *t, size_t n) {
    size_t e = n;
    while (e > 0 && isspace((unsigned char)t[e - 1])) e--;
    size_t line = e, cut = n;
    for (;;) { // trailing table lines
        while (line > 0 && t[line - 1] != '\n') line--;
        size_t i = line;
        while (i < e && t[i] == ' ') i++;
        if (i >= e || t[i] != '|') break;
        cut = line;
        if (line == 0) return n; // a table alone
        e = line - 1;
        while (e > 0 && isspace((unsigned char)t[e - 1])) e--;
        line = e;
    }
    if (cut < n) return cut;
    for (size_t i = e; i-- > 1;) { // the last paragraph
        if (t[i] != '\n' || t[i - 1] != '\n') continue;
        size_t p = i + 1;
        while (p < e && isspace((unsigned char)t[p])) p++;
        bool is_example =
            final_has_at(t, e, p, "For example") || final_has_at(t, e, p, "For instance");
        return is_example ? i - 1 : n;
    }
    return n;
}

// Length of t without its trailing remarks (up to four, of any kind above).
static size_t drop_remarks(const char *t, size_t n) {
    for (int n_remarks = 0; n_remarks < 4; n_remarks++) {
        size_t m = drop_aside(t, n);
        if (m == n) m = drop_table_or_example(t, n);
        if (m == n) return n;
        n = m;
    }
    return n;
}

// The last value of the sentence of span k that comes before a reason
// clause that ends the sentence ("so $\sin x=\frac{3}{4}$ since $\sin x>0$
// because $0<x<90$": the value, not the reasons); k when no "since" or
// "because" precedes it or a comma closes the clause ("since $B_1=2$, it
// follows that $B=2^{9}$").
static int before_reason(const char *t, const struct scan *sc, int first, int k) {
    int j = k - 1, reason = -1;               // spans from `reason` on are reasons
    bool has_comma = false, is_start = false; // a comma after the gap being read
    for (; j >= first && !is_start; j--) {    // back to the sentence's first span
        size_t a = final_ring_at(sc, j)->b1, b = final_ring_at(sc, j + 1)->a0, r = b;
        for (size_t i = a; i < b; i++) {
            if ((t[i] == '.' && i + 1 < b && isspace((unsigned char)t[i + 1])) ||
                (t[i] == '\n' && i + 1 < b && t[i + 1] == '\n'))
                is_start = true, r = b, a = i; // the gap's part in this sentence
            if (final_word_at(t, b, i, "since") || final_word_at(t, b, i, "because")) r = i;
        }
        bool is_closed = has_comma;
        for (size_t i = r; i < b; i++) is_closed |= t[i] == ',';
        if (r < b && is_closed) return k;
        if (r < b) reason = j + 1;
        for (size_t i = a; i < b; i++) has_comma |= t[i] == ',';
    }
    for (int m = reason - 1; reason >= 0 && m > j + is_start; m--)
        if (final_span_has_value(t, final_ring_at(sc, m))) return m;
    return k;
}

// Does span k count as the last value (rule 5)? A span holding a value but
// not a domain ("for all $x \in \mathbb{R}_{>0}$"); in the last sentence
// (from `last`) also a name defined without digits ("so $N=n$.", "the
// function $f(n)=n$ satisfies ...").
static bool is_last_value(const char *t, const struct span *s, size_t last) {
    size_t i = s->a;
    while (i < s->b && t[i] == ' ') i++;
    if (i < s->b && isalpha((unsigned char)t[i])) { // x \in \mathbb{R}
        size_t j = i + 1;
        while (j < s->b && t[j] == ' ') j++;
        if (final_has_at(t, s->b, j, "\\in ") || final_has_at(t, s->b, j, "\\in\\")) {
            j += 3;
            while (j < s->b && t[j] == ' ') j++;
            if (final_has_at(t, s->b, j, "\\mathbb{")) return false;
        }
    }
    if (final_span_has_value(t, s)) return true;
    size_t m = final_lhs_len(t, s);
    while (m > 0 && t[s->a + m - 1] == ' ') m--;
    return s->a0 >= last && m > 0 && final_is_name(t + s->a, m) && t[s->a + m] != '\\';
}

bool reward_extract_final_statement(const char *t, size_t n, size_t *start, size_t *len) {
    n = drop_remarks(t, n);
    struct scan sc = {0};
    final_scan_text(t, n, &sc);
    int first = sc.n > FINAL_MAX_SPANS ? sc.n - FINAL_MAX_SPANS : 0;
    for (int k = sc.n - 1; k >= first; k--) { // 1. a bold number (not a vector's)
        if (!span_has_bold_number(t, final_ring_at(&sc, k))) continue;
        if (has_bold_letter(t, n)) break;
        return final_take_span(t, &sc, first, k, false, false, start, len);
    }
    if (final_head_statement(t, n, start, len)) return true; // 2. the opening statement
    // 3. "the final answer is $...$", else the last "the answer is $...$"
    int k = answer_is_span(t, n, &sc, first, "final answer is");
    if (k < 0) k = answer_is_span(t, n, &sc, first, "answer is");
    if (k >= 0) return final_take_span(t, &sc, first, k, true, true, start, len);
    if (final_answer_reversed(t, n, &sc, start, len)) return true;
    if (final_closing_statement(t, n, sc.last_start, start, len))
        return true; // 4. the closing statement
    size_t last = sc.last_start;
    for (k = sc.n - 1; k >= first; k--) { // 5. the last value, in math or not
        if (!is_last_value(t, final_ring_at(&sc, k), last)) continue;
        if (sc.has_number && sc.num_a > final_ring_at(&sc, k)->b) break;
        return final_take_span(t, &sc, first, before_reason(t, &sc, first, k), false, true, start,
                               len);
    }
    if (!sc.has_number) return false;
    size_t a = sc.run_a, b = sc.num_b; // (3, 4) in plain text keeps its brackets
    if (a > 0 && b < n && (t[a - 1] == '(' || t[a - 1] == '[') && (t[b] == ')' || t[b] == ']'))
        a--, b++;
    return final_set_trimmed(t, a, b, start, len);
}
