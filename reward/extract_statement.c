// Statements that name their value in a worked solution (the final-statement
// extraction, extract_final.c, tries them): the opening sentence ("The
// required maximum is $2 n-2$."), "<value> is the answer" anywhere, and the
// closing sentence ("The ten smallest are 27, $54, ...$, and 378.", "Thus, 8
// of the positive divisors of 900 are perfect squares.").
#include <ctype.h>
#include <string.h>

#include "reward/extract_final_internal.h"

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
            if (final_has_at(t, n, i, opens[k])) break;
        if (k < 4) {
            size_t b = final_math_end(t, n, i + strlen(opens[k]), closes[k]);
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

static bool is_head_key(const char *t, size_t e, size_t i) {
    static const char *const keys[] = {"answer",  "maximum",  "minimum",  "maximal", "minimal",
                                       "largest", "smallest", "greatest", "least",   "only"};
    if (i >= 3 && final_word_at(t, e, i - 3, "at")) return false; // "at least one", "at most"
    if (i == 4 &&
        final_word_at(t, e, 0, "the") && // "The required number is": the sentence's subject
        (final_word_at(t, e, i, "required") || final_word_at(t, e, i, "desired")))
        return true;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (final_word_at(t, e, i, keys[k])) return true;
    return false;
}

// After the value: the end of the sentence, a comma or "and" ("... is $6 m$
// and is achieved by ...").
static bool is_value_end(const char *t, size_t e, size_t i) {
    while (i < e && t[i] == ' ') i++;
    return i == e || t[i] == ',' || final_word_at(t, e, i, "and");
}

// "The <... key word ...> is|are|namely <value>" in the first sentence
// t[0..e): the value right after the copula, a math span holding a value
// (with the alike spans joined to it) or a plain number.
static bool head_copula_value(const char *t, size_t e, const struct scan *sc, size_t *start,
                              size_t *len) {
    bool has_key = false;
    int next_span = 0; // the first span at or after i
    for (size_t i = 0; i < e; i++) {
        while (next_span < sc->n && final_ring_at(sc, next_span)->b1 <= i) next_span++;
        if (next_span < sc->n && final_ring_at(sc, next_span)->a0 <= i) { // inside math
            i = final_ring_at(sc, next_span)->b1 - 1;
            continue;
        }
        if (!isalpha((unsigned char)t[i]) || (i > 0 && isalpha((unsigned char)t[i - 1]))) continue;
        has_key |= is_head_key(t, e, i);
        size_t m = final_word_at(t, e, i, "is")       ? 2
                   : final_word_at(t, e, i, "are")    ? 3
                   : final_word_at(t, e, i, "namely") ? 6
                                                      : 0;
        if (m == 0) continue;
        size_t v = i + m;
        while (v < e && (t[v] == ' ' || t[v] == ',' || t[v] == ':')) v++;
        bool is_value = (next_span < sc->n && final_ring_at(sc, next_span)->a0 == v) ||
                        (v < e && (isdigit((unsigned char)t[v]) || t[v] == '-'));
        if (!has_key) { // "The probability is $..$": not an answer statement
            if (is_value) return false;
            continue;
        }
        if (next_span < sc->n && final_ring_at(sc, next_span)->a0 == v) {
            const struct span *s = final_ring_at(sc, next_span);
            if (s->b == s->a) return false; // any math: "is $N=n$" names a value too
            int hi = next_span;
            while (hi + 1 < sc->n &&
                   final_is_connector(t, final_ring_at(sc, hi)->b1, final_ring_at(sc, hi + 1)->a0))
                hi++;
            if (!is_value_end(t, e, final_ring_at(sc, hi)->b1)) return false;
            return final_take_span(t, sc, 0, next_span, true, true, start, len);
        }
        size_t b = v + (v < e && t[v] == '-');
        if (b >= e || !isdigit((unsigned char)t[b])) return false;
        for (int k = next_span;;) { // numbers (and spans) joined by commas, "and", "or":
            while (k < sc->n && final_ring_at(sc, k)->a0 < b) k++; // "2 and 4", "27, $54$, and 78"
            if (k < sc->n && final_ring_at(sc, k)->a0 == b) b = final_ring_at(sc, k)->b1;
            while (b < e && (isdigit((unsigned char)t[b]) ||
                             (t[b] == '.' && b + 1 < e && isdigit((unsigned char)t[b + 1]))))
                b++;
            size_t c = b;
            while (c < e && !isdigit((unsigned char)t[c]) && t[c] != '$' && c - b < 8) c++;
            if (c >= e || !(isdigit((unsigned char)t[c]) || t[c] == '$') ||
                !final_is_connector(t, b, c))
                break;
            b = c;
        }
        if (!is_value_end(t, e, b)) return false;
        return final_set_trimmed(t, v, b, start, len);
    }
    return false;
}

// A first sentence that is one equation, a function at given arguments on the
// left and a constant on the right: "$E(7,3)=3$."
static bool head_equation(const char *t, size_t e, const struct scan *sc, size_t *start,
                          size_t *len) {
    if (sc->n != 1) return false;
    const struct span *s = final_ring_at(sc, 0);
    size_t a = 0;
    while (a < s->a0 && isspace((unsigned char)t[a])) a++;
    if (a != s->a0 || !is_value_end(t, e, s->b1) || s->b1 < e) return false;
    size_t m = final_lhs_len(t, s);
    while (m > 0 && t[s->a + m - 1] == ' ') m--;
    const char *l = t + s->a; // a function of given arguments: E(2001,501)
    bool is_call = m >= 4 && isalpha((unsigned char)l[0]) && l[1] == '(' && l[m - 1] == ')';
    if (!is_call) return false; // "$x=2$." opens a computation as often as not
    size_t va = s->a, vb = s->b;
    final_cut_value(t, &va, &vb);
    for (size_t i = va; i < vb; i++) // a constant: digits, signs, fractions
        if (!isdigit((unsigned char)t[i]) && !strchr(" -./", t[i])) return false;
    return final_set_trimmed(t, va, vb, start, len);
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
    final_scan_text(t + v, e - v, &sc);
    if (sc.n != 1) return false;
    const struct span *s = final_ring_at(&sc, 0);
    size_t l = final_lhs_len(t + v, s);
    while (l > 0 && t[v + s->a + l - 1] == ' ') l--;
    for (size_t i = v + s->b1; i < e; i++) // nothing after the span
        if (t[i] != ' ') return false;
    if (s->a0 != 0 || !final_is_name(t + v + s->a, l)) return false;
    size_t a = s->a, b = s->b;
    final_cut_value(t + v, &a, &b);
    return final_set_trimmed(t, v + a, v + b, start, len);
}

bool final_head_statement(const char *t, size_t n, size_t *start, size_t *len) {
    size_t e = head_end(t, n);
    if (e == 0) return false;
    struct scan sc = {0};
    final_scan_text(t, e, &sc);
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

// The value that ends right before t[b] (then spaces): a span holding a value
// (its last statement) or a plain number.
static bool value_before(const char *t, size_t b, const struct scan *sc, size_t *start,
                         size_t *len) {
    while (b > 0 && t[b - 1] == ' ') b--;
    for (int k = sc->n > FINAL_MAX_SPANS ? sc->n - FINAL_MAX_SPANS : 0; k < sc->n; k++) {
        const struct span *s = final_ring_at(sc, k);
        if (s->b1 != b || !final_span_has_value(t, s)) continue;
        size_t va = s->a, vb = s->b;
        final_cut_value(t, &va, &vb);
        return final_set_trimmed(t, va, vb, start, len);
    }
    size_t a = b;
    while (a > 0 && (isdigit((unsigned char)t[a - 1]) || t[a - 1] == '.')) a--;
    return a < b && isdigit((unsigned char)t[a]) && (a == 0 || !final_is_word_char(t[a - 1])) &&
           final_set_trimmed(t, a, b, start, len);
}

// The index after "is the", "are the", "must be the", "is indeed the" at
// t[i] (a word start), or 0.
static size_t copula_the(const char *t, size_t e, size_t i) {
    size_t w = final_word_at(t, e, i, "is")     ? i + 3
               : final_word_at(t, e, i, "are")  ? i + 4
               : final_word_at(t, e, i, "must") ? i + 5
                                                : 0;
    if (w == 0) return 0;
    if (final_word_at(t, e, i, "must")) w = final_word_at(t, e, w, "be") ? w + 3 : 0;
    if (w && final_word_at(t, e, w, "indeed")) w += 7;
    return w && final_word_at(t, e, w, "the") ? w + 4 : 0;
}

// "<value> is the <key word>" in the last sentence t[0..e): a span or a
// number right before "is the", "are the" or "must be the" and a key word
// ("largest", "only", "answer").
static bool closing_reversed(const char *t, size_t e, const struct scan *sc, size_t *start,
                             size_t *len) {
    for (size_t i = 1; i < e; i++) {
        size_t w = t[i - 1] == ' ' ? copula_the(t, e, i) : 0;
        if (w && (is_head_key(t, e, w) || final_word_at(t, e, w, "answer")) &&
            value_before(t, i, sc, start, len))
            return true;
    }
    return false;
}

// "623 must be the only answer", "$N$ is indeed the answer" anywhere: the
// last such statement (as "the answer is $...$" is read anywhere).
bool final_answer_reversed(const char *t, size_t n, const struct scan *sc, size_t *start,
                           size_t *len) {
    for (size_t p = n; p-- > 0;) { // each "answer", from the end
        if (t[p] != 'a' || !final_word_at(t, n, p, "answer")) continue;
        size_t w = p >= 5 && final_word_at(t, n, p - 5, "only") ? p - 5 : p; // "the only answer"
        if (w < 4 || !final_word_at(t, n, w - 4, "the")) continue;
        static const size_t back[] = {3, 4, 8, 10}; // "is ", "are ", "must be ", "is indeed "
        for (int k = 0; k < 4; k++) {
            size_t i = w - 4 >= back[k] ? w - 4 - back[k] : 0;
            if (i >= 1 && t[i - 1] == ' ' && copula_the(t, n, i) == w)
                return value_before(t, i, sc, start, len);
        }
    }
    return false;
}

// "Thus, 8 of the positive divisors of 900 are perfect squares.": a count
// that is the subject of the last sentence t[0..e) (after at most three
// opening words such as "Thus," or "In total,"), when no copula with a value
// or equation follows ("3 of the 5 balls are red, so the probability is
// $3/5$" is not 3).
static bool closing_count(const char *t, size_t e, const struct scan *sc, size_t *start,
                          size_t *len) {
    size_t i = 0;
    for (int n_words = 0; i < e && !isdigit((unsigned char)t[i]); n_words++) {
        if (n_words == 3 || !isalpha((unsigned char)t[i])) return false;
        while (i < e && isalpha((unsigned char)t[i])) i++;
        if (i < e && t[i] == ',') i++;
        while (i < e && t[i] == ' ') i++;
    }
    size_t a = i;
    while (i < e && isdigit((unsigned char)t[i])) i++;
    if (i == a || i + 8 > e || memcmp(t + i, " of the ", 8) != 0) return false;
    for (size_t j = i; j < e; j++) { // no "is <value>" nor an equation after it
        size_t m = final_word_at(t, e, j, "is") ? 2 : final_word_at(t, e, j, "are") ? 3 : 0;
        size_t v = j + m;
        while (m && v < e && t[v] == ' ') v++;
        if (m && v < e && (isdigit((unsigned char)t[v]) || t[v] == '$')) return false;
    }
    for (int k = 0; k < sc->n; k++)
        if (memchr(t + final_ring_at(sc, k)->a, '=',
                   final_ring_at(sc, k)->b - final_ring_at(sc, k)->a))
            return false;
    return final_set_trimmed(t, a, i, start, len);
}

bool final_closing_statement(const char *t, size_t n, size_t last, size_t *start, size_t *len) {
    size_t s = last, e = n;
    while (e > s && (isspace((unsigned char)t[e - 1]) || t[e - 1] == '.')) e--;
    struct scan sc = {0};
    final_scan_text(t + s, e - s, &sc);
    if (sc.n > FINAL_MAX_SPANS) return false;
    if (head_copula_value(t + s, e - s, &sc, start, len)) {
        *start += s; // no value after it: "..., and with $T=20$, this is $\frac{1}{40}$"
        return !final_span_has_digit(t, *start + *len, e);
    }
    if (!closing_reversed(t + s, e - s, &sc, start, len) &&
        !closing_count(t + s, e - s, &sc, start, len))
        return false;
    *start += s; // what follows describes the value: "... for which $4 N$ is prime"
    return true;
}
