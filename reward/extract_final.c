// The final-statement fallback for worked solutions that state their answer
// without \boxed{} (OlympiadBench, AIME reference solutions): "... so the
// maximum perimeter is $\mathbf{3 2}$.", "$$ ... =\frac{7}{5} $$", "So the
// desired value of $n$ is 4096 .". Trailing parenthetical asides are dropped;
// one forward scan records the last math spans ($..$, $$..$$, \(..\), \[..\])
// in a ring and the last number outside math; then the answer is
//   1. the last span with a bold number (\mathbf{2 0}, \boldsymbol{}, \textbf{}:
//      how ARML solutions mark the answer), else
//   2. the opening statement: a first sentence "The required maximum is
//      $2 n-2$." (a key word, then "is", "are" or "namely" and the value) or
//      "$E(7,3)=3$." (IMO shortlist solutions state the answer first), else
//   3. the span right after the last "final answer is", else after the last
//      "answer is" ("the answer is therefore $12$"), else
//   4. the later of the last span holding a value (a digit, \infty, \pi) and
//      the last number outside math (not part of a word: "x_1", "<img_12>";
//      not an ordinal "5 th" or an equation label "(1)"; numbers joined by
//      commas, "and", "or" are taken together).
// The chosen span (2, 3, 4) and the alike spans joined to it by commas, "and"
// or "or" are one answer ("$(1,1)$ and $(3,2)$"); a single span is cut to its
// last row and after its last top-level "=", "\approx", "\doteq" or "\in"
// ("$x=16+4=\mathbf{20}$" -> \mathbf{20}). docs/reward.md has the details.
#include <ctype.h>
#include <string.h>

#include "reward/extract.h"

#define FINAL_MAX_SPANS 64 // spans remembered (a ring): the answer is near the end

struct span {
    size_t a, b;   // content t[a..b)
    size_t a0, b1; // with delimiters t[a0..b1)
};

struct scan {
    struct span ring[FINAL_MAX_SPANS];
    int n; // spans seen (ring index n % FINAL_MAX_SPANS)
    bool has_number;
    size_t num_a, num_b; // the last number outside math
    size_t run_a;        // start of the numbers joined to it ("1, 3, 5, and 15")
    int n_at_number;     // spans seen when it was read
};

static bool has_at(const char *t, size_t n, size_t i, const char *s) {
    size_t m = strlen(s);
    return i + m <= n && memcmp(t + i, s, m) == 0;
}

// End of the math opened at i (content start) by delim: the index of the
// closing delimiter, or n when it does not close.
static size_t math_end(const char *t, size_t n, size_t i, const char *close) {
    for (; i < n; i++) {
        if (t[i] == '\\' && !has_at(t, n, i, close)) {
            i++; // \$ and other escapes
            continue;
        }
        if (has_at(t, n, i, close)) return i;
    }
    return n;
}

static bool is_word_char(char c) {
    return isalnum((unsigned char)c) || c == '_' || c == '<' || c == '>';
}

// A comma or the word "and" / "or", with spaces, between two spans; not a
// blank line (separate displays are separate statements).
static bool is_connector(const char *t, size_t a, size_t b) {
    bool has_link = false;
    for (size_t i = a; i < b;) {
        if (t[i] == '\n' && i + 1 < b && t[i + 1] == '\n') return false;
        if (t[i] == ' ' || t[i] == '\n') {
            i++;
        } else if (t[i] == ',') {
            has_link = true;
            i++;
        } else if (has_at(t, b, i, "and") && (i + 3 == b || !isalpha((unsigned char)t[i + 3]))) {
            i += 3;
            has_link = true;
        } else if (has_at(t, b, i, "or") && (i + 2 == b || !isalpha((unsigned char)t[i + 2]))) {
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
        if (has_at(t, n, b, ends[k]) && (b + 2 == n || !isalpha((unsigned char)t[b + 2])))
            return true;
    return false;
}

static void scan_text(const char *t, size_t n, struct scan *sc) {
    static const char *const opens[] = {"$$", "$", "\\[", "\\("};
    static const char *const closes[] = {"$$", "$", "\\]", "\\)"};
    for (size_t i = 0; i < n;) {
        int k = 0;
        for (; k < 4; k++)
            if (has_at(t, n, i, opens[k])) break;
        if (k < 4) {
            size_t a = i + strlen(opens[k]), b = math_end(t, n, a, closes[k]);
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
        if (isdigit((unsigned char)t[i]) && (i == 0 || !is_word_char(t[i - 1]))) {
            size_t b = i;
            while (b < n &&
                   (isdigit((unsigned char)t[b]) || ((t[b] == '.' || t[b] == ',') && b + 1 < n &&
                                                     isdigit((unsigned char)t[b + 1]))))
                b++;
            bool is_label = i > 0 && t[i - 1] == '(' && b < n && t[b] == ')'; // equation (1)
            if ((b >= n || !is_word_char(t[b])) && !is_ordinal(t, n, b) && !is_label) {
                bool is_joined =
                    sc->has_number && sc->n_at_number == sc->n && is_connector(t, sc->num_b, i);
                sc->run_a = is_joined ? sc->run_a : i;
                sc->has_number = true;
                sc->num_a = i;
                sc->num_b = b;
                sc->n_at_number = sc->n;
            }
            i = b;
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

static bool span_has_digit(const char *t, size_t a, size_t b) {
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
            if (!has_at(t, s->b, i, cmds[k])) continue;
            size_t j = i + strlen(cmds[k]);
            while (j < s->b && t[j] != '}') j++;
            if (span_has_digit(t, i, j)) return true;
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
            if (has_at(t, n, i, cmds[k]) && i + m + 1 < n && isalpha((unsigned char)t[i + m]) &&
                t[i + m + 1] == '}')
                return true;
        }
    return false;
}

static bool span_has_value(const char *t, const struct span *s) {
    return span_has_digit(t, s->a, s->b) || span_has(t, s, "\\infty") || span_has(t, s, "\\pi");
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
        else if (has_at(t, b, i, "\\,") || has_at(t, b, i, "\\;"))
            i += 2;
        else if (has_at(t, b, i, "\\quad") || has_at(t, b, i, "\\qquad"))
            i += t[i + 1] == 'q' && t[i + 2] == 'q' ? 6 : 5;
        else
            break;
    }
    if (i >= b || !isalpha((unsigned char)t[i])) return b;
    i++;
    while (i < b && t[i] == ' ') i++;
    if (!has_at(t, b, i, "\\in ") && !has_at(t, b, i, "\\in\\")) return b;
    i += 3;
    while (i < b && t[i] == ' ') i++;
    if (!has_at(t, b, i, "\\mathbb{") || i + 10 > b || t[i + 9] != '}') return b;
    for (i += 10; i < b; i++) // the script, then spaces and a full stop
        if (!strchr("^_{}+-<>0* .", t[i]) || i - comma > 40) return b;
    return comma;
}

// A name: x, y_1, y_{1}, f(x), d(16) (a letter, then at most 7 bytes).
static bool is_name(const char *p, size_t m) {
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
        if (!is_name(t + from, m) || memchr(t + from, '(', m)) return false; // not f(x)
        n_names++;
        from = i + 1;
    }
    return n_names >= 2;
}

// The span's last statement: inside \begin{aligned} ... \end{aligned} (any
// environment) the last row; then the part after the last relation ("a=b=-2",
// names set to one value, stays whole). Leading '&' and trailing " ." go.
static void cut_value(const char *t, size_t *a, size_t *b) {
    while (*a < *b && isspace((unsigned char)t[*a])) (*a)++;
    while (*b > *a && isspace((unsigned char)t[*b - 1])) (*b)--;
    if (*b > *a && t[*b - 1] == '}') { // a trailing \end{name}
        size_t k = *b - 1;
        while (k > *a && t[k] != '{') k--;
        if (k >= *a + 4 && memcmp(t + k - 4, "\\end", 4) == 0) {
            *b = k - 4;
            if (has_at(t, *b, *a, "\\begin{")) { // and its \begin{name}
                size_t j = *a + 7;
                while (j < *b && t[j] != '}') j++;
                *a = j < *b ? j + 1 : *a;
            }
            *a = last_cut(t, *a, *b, true);
        }
    }
    *b = drop_domain(t, *a, *b);
    if (!is_names_chain(t, *a, *b)) *a = last_cut(t, *a, *b, false);
    while (*a < *b && (isspace((unsigned char)t[*a]) || t[*a] == '&')) (*a)++;
    while (*b > *a && (isspace((unsigned char)t[*b - 1]) || t[*b - 1] == '.' || t[*b - 1] == ','))
        (*b)--;
}

// Length of the part before the span's first top-level relation (0: none).
static size_t lhs_len(const char *t, const struct span *s) {
    size_t cut = last_cut(t, s->a, s->b, false);
    if (cut == s->a) return 0;
    // the first relation: cut the text at the first '=' or \in at depth 0
    int depth = 0;
    for (size_t i = s->a; i < s->b; i++) {
        char c = t[i];
        if (c == '{' || c == '(' || c == '[') depth++;
        if ((c == '}' || c == ')' || c == ']') && depth > 0) depth--;
        if (depth == 0 && (c == '=' || (c == '\\' && has_at(t, s->b, i, "\\in")))) return i - s->a;
    }
    return 0;
}

// Spans in a run are alike: values without relations, or relations with the
// same left side or with names on the left ("$n=5$ or $n=15$", "$p=3$ and
// $q=4$"; not "$n-2=9$, and $n=11$").

static bool are_alike(const char *t, const struct span *x, const struct span *y) {
    size_t lx = lhs_len(t, x), ly = lhs_len(t, y);
    if (lx == 0 || ly == 0) return lx == ly;
    const char *px = t + x->a, *py = t + y->a;
    while (lx > 0 && px[lx - 1] == ' ') lx--;
    while (ly > 0 && py[ly - 1] == ' ') ly--;
    return (lx == ly && memcmp(px, py, lx) == 0) || (is_name(px, lx) && is_name(py, ly));
}

static bool set_trimmed(const char *t, size_t a, size_t b, size_t *start, size_t *len) {
    while (a < b && isspace((unsigned char)t[a])) a++;
    while (b > a && isspace((unsigned char)t[b - 1])) b--;
    if (a == b) return false;
    *start = a;
    *len = b - a;
    return true;
}

static const struct span *ring_at(const struct scan *sc, int k) {
    return &sc->ring[k % FINAL_MAX_SPANS];
}

// The answer of span `pick`: with the alike spans joined to it by connectors
// (backwards when forward is false), or its last value.
static bool take_span(const char *t, const struct scan *sc, int first, int pick, bool forward,
                      bool use_run, size_t *start, size_t *len) {
    int lo = pick, hi = pick;
    while (use_run && !forward && lo - 1 >= first &&
           is_connector(t, ring_at(sc, lo - 1)->b1, ring_at(sc, lo)->a0) &&
           are_alike(t, ring_at(sc, lo - 1), ring_at(sc, pick)))
        lo--;
    while (use_run && forward && hi + 1 < sc->n &&
           is_connector(t, ring_at(sc, hi)->b1, ring_at(sc, hi + 1)->a0) &&
           are_alike(t, ring_at(sc, hi + 1), ring_at(sc, pick)))
        hi++;
    if (lo < hi) return set_trimmed(t, ring_at(sc, lo)->a, ring_at(sc, hi)->b, start, len);
    size_t a = ring_at(sc, pick)->a, b = ring_at(sc, pick)->b;
    cut_value(t, &a, &b);
    return set_trimmed(t, a, b, start, len);
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
        const struct span *s = ring_at(sc, k);
        if (s->a0 < at) continue;
        int n_words = 0; // "the answer is [therefore] $...$"
        for (size_t i = at; i < s->a0; i++) {
            if (isalpha((unsigned char)t[i]) && !isalpha((unsigned char)t[i - 1])) n_words++;
            if (!isalpha((unsigned char)t[i]) && !strchr(" :,", t[i])) return -1;
        }
        return n_words <= 1 && span_has_value(t, s) ? k : -1;
    }
    return -1;
}

// Length of t without its trailing parenthetical remarks: "... is 7. (We can
// check that $x=0$ fails.)", "... $5$ (and $r=2$ )." A final group in
// parentheses (then at most ". ") that starts with a word and holds a word of
// three letters is an aside, not the answer; "(1, 2)." and "(3, 4 and 5)" stay.
static size_t drop_remarks(const char *t, size_t n) {
    for (int n_remarks = 0; n_remarks < 4; n_remarks++) {
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
        if (w + 1 >= e || !isalpha((unsigned char)t[w]) || !isalpha((unsigned char)t[w + 1]))
            return n;
        n = k;
    }
    return n;
}

// ---- the opening statement ------------------------------------------------
// IMO shortlist solutions state the answer first ("The required maximum is
// $2 n-2$.", "There is only one such integer, namely, $n=2$.", "$E(7,3)=3$.")
// and end with a proof; the data set dropped their "Answer:" line.

#define HEAD_MAX_BYTES 400 // the first sentence is short; a longer one is not read

// End of the first sentence: a '.' (outside math) followed by a space, a
// line break or the end; a blank line; or 0 when none within HEAD_MAX_BYTES.
static size_t head_end(const char *t, size_t n) {
    static const char *const opens[] = {"$$", "$", "\\[", "\\("};
    static const char *const closes[] = {"$$", "$", "\\]", "\\)"};
    size_t lim = n < HEAD_MAX_BYTES ? n : HEAD_MAX_BYTES;
    for (size_t i = 0; i < lim;) {
        int k = 0;
        for (; k < 4; k++)
            if (has_at(t, n, i, opens[k])) break;
        if (k < 4) {
            size_t b = math_end(t, n, i + strlen(opens[k]), closes[k]);
            if (b >= n) return 0;
            i = b + strlen(closes[k]);
            continue;
        }
        if (t[i] == '\\') {
            i += 2;
            continue;
        }
        if (t[i] == '.' && (i + 1 == n || isspace((unsigned char)t[i + 1]))) return i;
        if (t[i] == '\n' && i + 1 < n && t[i + 1] == '\n') return i;
        i++;
    }
    return lim == n ? n : 0;
}

// The whole word w (lower case) at t[i], case-insensitive.
static bool word_at(const char *t, size_t e, size_t i, const char *w) {
    size_t m = strlen(w);
    if (i + m > e || (i > 0 && isalpha((unsigned char)t[i - 1]))) return false;
    for (size_t k = 0; k < m; k++)
        if (tolower((unsigned char)t[i + k]) != w[k]) return false;
    return i + m == e || !isalpha((unsigned char)t[i + m]);
}

static bool is_head_key(const char *t, size_t e, size_t i) {
    static const char *const keys[] = {"answer",  "maximum",  "minimum",  "maximal", "minimal",
                                       "largest", "smallest", "greatest", "least",   "only"};
    if (i >= 3 && word_at(t, e, i - 3, "at")) return false; // "at least one", "at most"
    if (i == 4 && word_at(t, e, 0, "the") && // "The required number is": the sentence's subject
        (word_at(t, e, i, "required") || word_at(t, e, i, "desired")))
        return true;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (word_at(t, e, i, keys[k])) return true;
    return false;
}

// After the value: the end of the sentence, a comma or "and" ("... is $6 m$
// and is achieved by ...").
static bool is_value_end(const char *t, size_t e, size_t i) {
    while (i < e && t[i] == ' ') i++;
    return i == e || t[i] == ',' || word_at(t, e, i, "and");
}

// "The <... key word ...> is|are|namely <value>" in the first sentence
// t[0..e): the value right after the copula, a math span holding a value
// (with the alike spans joined to it) or a plain number.
static bool head_copula_value(const char *t, size_t e, const struct scan *sc, size_t *start,
                              size_t *len) {
    bool has_key = false;
    int next_span = 0; // the first span at or after i
    for (size_t i = 0; i < e; i++) {
        while (next_span < sc->n && ring_at(sc, next_span)->b1 <= i) next_span++;
        if (next_span < sc->n && ring_at(sc, next_span)->a0 <= i) { // inside math
            i = ring_at(sc, next_span)->b1 - 1;
            continue;
        }
        if (!isalpha((unsigned char)t[i]) || (i > 0 && isalpha((unsigned char)t[i - 1]))) continue;
        has_key |= is_head_key(t, e, i);
        size_t m = word_at(t, e, i, "is")       ? 2
                   : word_at(t, e, i, "are")    ? 3
                   : word_at(t, e, i, "namely") ? 6
                                                : 0;
        if (m == 0) continue;
        size_t v = i + m;
        while (v < e && (t[v] == ' ' || t[v] == ',' || t[v] == ':')) v++;
        bool is_value = (next_span < sc->n && ring_at(sc, next_span)->a0 == v) ||
                        (v < e && (isdigit((unsigned char)t[v]) || t[v] == '-'));
        if (!has_key) { // "The probability is $..$": not an answer statement
            if (is_value) return false;
            continue;
        }
        if (next_span < sc->n && ring_at(sc, next_span)->a0 == v) {
            const struct span *s = ring_at(sc, next_span);
            if (s->b == s->a) return false; // any math: "is $N=n$" names a value too
            int hi = next_span;
            while (hi + 1 < sc->n && is_connector(t, ring_at(sc, hi)->b1, ring_at(sc, hi + 1)->a0))
                hi++;
            if (!is_value_end(t, e, ring_at(sc, hi)->b1)) return false;
            return take_span(t, sc, 0, next_span, true, true, start, len);
        }
        size_t b = v + (v < e && t[v] == '-');
        if (b >= e || !isdigit((unsigned char)t[b])) return false;
        for (int k = next_span;;) { // numbers (and spans) joined by commas, "and", "or":
            while (k < sc->n && ring_at(sc, k)->a0 < b) k++; // "2 and 4", "27, $54$, and 78"
            if (k < sc->n && ring_at(sc, k)->a0 == b) b = ring_at(sc, k)->b1;
            while (b < e && (isdigit((unsigned char)t[b]) ||
                             (t[b] == '.' && b + 1 < e && isdigit((unsigned char)t[b + 1]))))
                b++;
            size_t c = b;
            while (c < e && !isdigit((unsigned char)t[c]) && t[c] != '$' && c - b < 8) c++;
            if (c >= e || !(isdigit((unsigned char)t[c]) || t[c] == '$') || !is_connector(t, b, c))
                break;
            b = c;
        }
        if (!is_value_end(t, e, b)) return false;
        return set_trimmed(t, v, b, start, len);
    }
    return false;
}

// A first sentence that is one equation, a function at given arguments on the
// left and a constant on the right: "$E(7,3)=3$."
static bool head_equation(const char *t, size_t e, const struct scan *sc, size_t *start,
                          size_t *len) {
    if (sc->n != 1) return false;
    const struct span *s = ring_at(sc, 0);
    size_t a = 0;
    while (a < s->a0 && isspace((unsigned char)t[a])) a++;
    if (a != s->a0 || !is_value_end(t, e, s->b1) || s->b1 < e) return false;
    size_t m = lhs_len(t, s);
    while (m > 0 && t[s->a + m - 1] == ' ') m--;
    const char *l = t + s->a; // a function of given arguments: E(2001,501)
    bool is_call = m >= 4 && isalpha((unsigned char)l[0]) && l[1] == '(' && l[m - 1] == ')';
    if (!is_call) return false; // "$x=2$." opens a computation as often as not
    size_t va = s->a, vb = s->b;
    cut_value(t, &va, &vb);
    for (size_t i = va; i < vb; i++) // a constant: digits, signs, fractions
        if (!isdigit((unsigned char)t[i]) && !strchr(" -./", t[i])) return false;
    return set_trimmed(t, va, vb, start, len);
}

// A sentence t[0..e) "We claim that $M=n(n+1) / 2$." (one equation that
// defines a name, nothing after it): the value claimed.
static bool head_claim(const char *t, size_t e, size_t *start, size_t *len) {
    static const char claim[] = "we claim that ";
    size_t v = 0, m = sizeof claim - 1;
    while (v < e && isspace((unsigned char)t[v])) v++;
    for (size_t k = 0; k < m; k++)
        if (v + k >= e || tolower((unsigned char)t[v + k]) != claim[k]) return false;
    v += m;
    struct scan sc = {0};
    scan_text(t + v, e - v, &sc);
    if (sc.n != 1) return false;
    const struct span *s = ring_at(&sc, 0);
    size_t l = lhs_len(t + v, s);
    while (l > 0 && t[v + s->a + l - 1] == ' ') l--;
    for (size_t i = v + s->b1; i < e; i++) // nothing after the span
        if (t[i] != ' ') return false;
    if (s->a0 != 0 || !is_name(t + v + s->a, l)) return false;
    size_t a = s->a, b = s->b;
    cut_value(t + v, &a, &b);
    return set_trimmed(t, v + a, v + b, start, len);
}

static bool head_statement(const char *t, size_t n, size_t *start, size_t *len) {
    size_t e = head_end(t, n);
    if (e == 0) return false;
    struct scan sc = {0};
    scan_text(t, e, &sc);
    if (sc.n > FINAL_MAX_SPANS) return false;
    if (head_copula_value(t, e, &sc, start, len) || head_equation(t, e, &sc, start, len))
        return true;
    if (head_claim(t, e, start, len)) return true;
    size_t s2 = e + 1, e2 = s2 < n ? head_end(t + s2, n - s2) : 0; // the second sentence
    if (e2 == 0 || !head_claim(t + s2, e2, start, len)) return false;
    *start += s2;
    return true;
}

// ---- the closing statement ----------------------------------------------
// A last sentence that names its value, as the opening one does, and ends
// with it: "The ten smallest elements are 27, $54, ..., 351$, and 378." (all
// ten, not 378); "thus 79 is the largest such integer $N$ for which ..." is
// 79; not "... is $\frac{1}{2 T}$, and with $T=20$, this is $\frac{1}{40}$".

// Start of the last sentence of t[0..n): after the last '.' (outside math)
// that a space or line break follows, or the last blank line.
static size_t last_sentence(const char *t, size_t n) {
    static const char *const opens[] = {"$$", "$", "\\[", "\\("};
    static const char *const closes[] = {"$$", "$", "\\]", "\\)"};
    size_t last = 0, prev = 0;
    for (size_t i = 0; i < n;) {
        int k = 0;
        for (; k < 4; k++)
            if (has_at(t, n, i, opens[k])) break;
        if (k < 4) {
            i = math_end(t, n, i + strlen(opens[k]), closes[k]) + strlen(closes[k]);
            continue;
        }
        if (t[i] == '\\') {
            i += 2;
            continue;
        }
        if ((t[i] == '.' && i + 1 < n && isspace((unsigned char)t[i + 1])) ||
            (t[i] == '\n' && i + 1 < n && t[i + 1] == '\n')) {
            size_t j = i + 1;
            while (j < n && isspace((unsigned char)t[j])) j++;
            if (j < n) prev = last, last = j;
            i = j;
            continue;
        }
        i++;
    }
    (void)prev;
    return last;
}

// The value that ends right before t[b] (then spaces): a span holding a value
// (its last statement) or a plain number.
static bool value_before(const char *t, size_t b, const struct scan *sc, size_t *start,
                         size_t *len) {
    while (b > 0 && t[b - 1] == ' ') b--;
    for (int k = sc->n > FINAL_MAX_SPANS ? sc->n - FINAL_MAX_SPANS : 0; k < sc->n; k++) {
        const struct span *s = ring_at(sc, k);
        if (s->b1 != b || !span_has_value(t, s)) continue;
        size_t va = s->a, vb = s->b;
        cut_value(t, &va, &vb);
        return set_trimmed(t, va, vb, start, len);
    }
    size_t a = b;
    while (a > 0 && (isdigit((unsigned char)t[a - 1]) || t[a - 1] == '.')) a--;
    return a < b && isdigit((unsigned char)t[a]) && (a == 0 || !is_word_char(t[a - 1])) &&
           set_trimmed(t, a, b, start, len);
}

// The index after "is the", "are the", "must be the", "is indeed the" at
// t[i] (a word start), or 0.
static size_t copula_the(const char *t, size_t e, size_t i) {
    size_t w = word_at(t, e, i, "is")     ? i + 3
               : word_at(t, e, i, "are")  ? i + 4
               : word_at(t, e, i, "must") ? i + 5
                                          : 0;
    if (w == 0) return 0;
    if (word_at(t, e, i, "must")) w = word_at(t, e, w, "be") ? w + 3 : 0;
    if (w && word_at(t, e, w, "indeed")) w += 7;
    return w && word_at(t, e, w, "the") ? w + 4 : 0;
}

// "<value> is the <key word>" in the last sentence t[0..e): a span or a
// number right before "is the", "are the" or "must be the" and a key word
// ("largest", "only", "answer").
static bool closing_reversed(const char *t, size_t e, const struct scan *sc, size_t *start,
                             size_t *len) {
    for (size_t i = 1; i < e; i++) {
        size_t w = t[i - 1] == ' ' ? copula_the(t, e, i) : 0;
        if (w && (is_head_key(t, e, w) || word_at(t, e, w, "answer")) &&
            value_before(t, i, sc, start, len))
            return true;
    }
    return false;
}

// "623 must be the only answer", "$N$ is indeed the answer" anywhere: the
// last such statement (as "the answer is $...$" is read anywhere).
static bool answer_reversed(const char *t, size_t n, const struct scan *sc, size_t *start,
                            size_t *len) {
    for (size_t i = n; i-- > 1;) {
        size_t w = t[i - 1] == ' ' ? copula_the(t, n, i) : 0;
        if (w && word_at(t, n, w, "only")) w += 5;
        if (w && word_at(t, n, w, "answer")) return value_before(t, i, sc, start, len);
    }
    return false;
}

static bool closing_statement(const char *t, size_t n, size_t *start, size_t *len) {
    size_t s = last_sentence(t, n), e = n;
    while (e > s && (isspace((unsigned char)t[e - 1]) || t[e - 1] == '.')) e--;
    struct scan sc = {0};
    scan_text(t + s, e - s, &sc);
    if (sc.n > FINAL_MAX_SPANS) return false;
    if (head_copula_value(t + s, e - s, &sc, start, len)) {
        *start += s; // no value after it: "..., and with $T=20$, this is $\frac{1}{40}$"
        return !span_has_digit(t, *start + *len, e);
    }
    if (!closing_reversed(t + s, e - s, &sc, start, len)) return false;
    *start += s; // what follows describes the value: "... for which $4 N$ is prime"
    return true;
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
        size_t a = ring_at(sc, j)->b1, b = ring_at(sc, j + 1)->a0, r = b;
        for (size_t i = a; i < b; i++) {
            if ((t[i] == '.' && i + 1 < b && isspace((unsigned char)t[i + 1])) ||
                (t[i] == '\n' && i + 1 < b && t[i + 1] == '\n'))
                is_start = true, r = b, a = i; // the gap's part in this sentence
            if (word_at(t, b, i, "since") || word_at(t, b, i, "because")) r = i;
        }
        bool is_closed = has_comma;
        for (size_t i = r; i < b; i++) is_closed |= t[i] == ',';
        if (r < b && is_closed) return k;
        if (r < b) reason = j + 1;
        for (size_t i = a; i < b; i++) has_comma |= t[i] == ',';
    }
    for (int m = reason - 1; reason >= 0 && m > j + is_start; m--)
        if (span_has_value(t, ring_at(sc, m))) return m;
    return k;
}

bool reward_extract_final_statement(const char *t, size_t n, size_t *start, size_t *len) {
    n = drop_remarks(t, n);
    struct scan sc = {0};
    scan_text(t, n, &sc);
    int first = sc.n > FINAL_MAX_SPANS ? sc.n - FINAL_MAX_SPANS : 0;
    bool is_bold_vector = has_bold_letter(t, n);
    for (int k = sc.n - 1; k >= first && !is_bold_vector; k--) // 1. a bold number
        if (span_has_bold_number(t, ring_at(&sc, k)))
            return take_span(t, &sc, first, k, false, false, start, len);
    if (head_statement(t, n, start, len)) return true; // 2. the opening statement
    // 3. "the final answer is $...$", else the last "the answer is $...$"
    int k = answer_is_span(t, n, &sc, first, "final answer is");
    if (k < 0) k = answer_is_span(t, n, &sc, first, "answer is");
    if (k >= 0) return take_span(t, &sc, first, k, true, true, start, len);
    if (answer_reversed(t, n, &sc, start, len)) return true;
    if (closing_statement(t, n, start, len)) return true; // 4. the closing statement
    for (k = sc.n - 1; k >= first; k--) {                 // 5. the last value, in math or not
        if (!span_has_value(t, ring_at(&sc, k))) continue;
        if (sc.has_number && sc.num_a > ring_at(&sc, k)->b) break;
        return take_span(t, &sc, first, before_reason(t, &sc, first, k), false, true, start, len);
    }
    if (!sc.has_number) return false;
    size_t a = sc.run_a, b = sc.num_b; // (3, 4) in plain text keeps its brackets
    if (a > 0 && b < n && (t[a - 1] == '(' || t[a - 1] == '[') && (t[b] == ')' || t[b] == ']'))
        a--, b++;
    return set_trimmed(t, a, b, start, len);
}
