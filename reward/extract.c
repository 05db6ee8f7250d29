// Answer extraction: the last balanced \boxed{}/\fbox{}, then the fallbacks of
// reward/extract.h. Every scan is linear and bounded: at most
// MAX_BOXED_TRIES candidate boxes are tried, each over at most
// max_answer_bytes, so 100 KB of unclosed "\boxed{" costs O(n).
#include "reward/extract.h"

#include <ctype.h>
#include <string.h>

#define MAX_BOXED_TRIES 16

void reward_extract_opts_default(struct reward_extract_opts *o, enum reward_mode mode) {
    *o = (struct reward_extract_opts){
        .use_boxed = true,
        .use_hashes = true,
        .use_answer_is = true,
        .use_chinese = true,
        .use_last_number = mode == REWARD_MODE_GSM8K,
        .use_final_statement = mode == REWARD_MODE_SOLUTION,
        .max_response_bytes = REWARD_MAX_RESPONSE_BYTES_DEFAULT,
        .max_answer_bytes = REWARD_MAX_ANSWER_BYTES_DEFAULT,
    };
}

bool reward_mode_parse(const char *name, enum reward_mode *mode) {
    if (strcmp(name, "boxed") == 0)
        *mode = REWARD_MODE_BOXED;
    else if (strcmp(name, "gsm8k") == 0)
        *mode = REWARD_MODE_GSM8K;
    else if (strcmp(name, "solution") == 0)
        *mode = REWARD_MODE_SOLUTION;
    else
        return false;
    return true;
}

const char *reward_mode_name(enum reward_mode mode) {
    return mode == REWARD_MODE_GSM8K      ? "gsm8k"
           : mode == REWARD_MODE_SOLUTION ? "solution"
                                          : "boxed";
}

const char *reward_answer_source_name(enum reward_answer_source source) {
    static const char *const names[] = {"none",    "boxed",       "hashes", "answer_is",
                                        "chinese", "last_number", "final"};
    return (unsigned)source < sizeof names / sizeof names[0] ? names[source] : "none";
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Trim spaces (and a '$' pair's loose ends are left to normalisation).
static bool set_span(const char *t, size_t a, size_t b, size_t *start, size_t *len) {
    while (a < b && is_space(t[a])) a++;
    while (b > a && is_space(t[b - 1])) b--;
    if (a == b) return false;
    *start = a;
    *len = b - a;
    return true;
}

// Is t[i..] the command \name (not a longer command)?
static bool is_command_at(const char *t, size_t n, size_t i, const char *name) {
    size_t m = strlen(name);
    return i + m <= n && memcmp(t + i, name, m) == 0 &&
           (i + m == n || !isalpha((unsigned char)t[i + m]));
}

// Content of the box whose command ends at i; false if unbalanced. A box
// longer than max_len comes back cut to max_len + 1 bytes, for the verdict
// "budget exceeded".
static bool box_content(const char *t, size_t n, size_t i, size_t max_len, size_t *start,
                        size_t *len) {
    while (i < n && is_space(t[i])) i++;
    if (i >= n) return false;
    if (t[i] != '{') { // \boxed 5: one token
        size_t b = i;
        while (b < n && b - i <= max_len && !is_space(t[b]) && t[b] != '$') b++;
        return b - i <= max_len && set_span(t, i, b, start, len);
    }
    size_t open = i + 1;
    int depth = 1;
    if (n - open > max_len + 1) { // a box that does not close within the bound is too long:
        size_t k = open;          // its first max_len + 1 bytes make the verdict "budget exceeded"
        for (; k < open + max_len + 1; k++) {
            if (t[k] == '\\') {
                k++;
                continue;
            }
            if (t[k] == '{') depth++;
            if (t[k] == '}' && --depth == 0) return set_span(t, open, k, start, len);
        }
        *start = open;
        *len = max_len + 1;
        return true;
    }
    for (size_t k = open; k < n; k++) {
        if (t[k] == '\\') { // \{ \} \\ do not count
            k++;
            continue;
        }
        if (t[k] == '{') depth++;
        if (t[k] == '}' && --depth == 0) return set_span(t, open, k, start, len);
    }
    return false;
}

static bool find_boxed(const char *t, size_t n, size_t max_len, size_t *start, size_t *len) {
    int n_tries = 0;
    for (size_t i = n; i-- > 0 && n_tries < MAX_BOXED_TRIES;) {
        if (t[i] != '\\') continue;
        size_t end;
        if (is_command_at(t, n, i, "\\boxed"))
            end = i + 6;
        else if (is_command_at(t, n, i, "\\fbox"))
            end = i + 5;
        else
            continue;
        n_tries++;
        if (box_content(t, n, end, max_len, start, len)) return true;
    }
    return false;
}

// Last occurrence of needle (ASCII case-insensitive when fold).
static bool find_last(const char *t, size_t n, const char *needle, bool fold, size_t *at) {
    size_t m = strlen(needle);
    for (size_t i = n >= m ? n - m + 1 : 0; i-- > 0;) {
        size_t k = 0;
        while (k < m &&
               (fold ? tolower((unsigned char)t[i + k]) == needle[k] : t[i + k] == needle[k]))
            k++;
        if (k == m) {
            *at = i;
            return true;
        }
    }
    return false;
}

static size_t line_end(const char *t, size_t n, size_t i) {
    while (i < n && t[i] != '\n') i++;
    return i;
}

static bool find_hashes(const char *t, size_t n, size_t *start, size_t *len) {
    size_t at;
    if (!find_last(t, n, "####", false, &at)) return false;
    return set_span(t, at + 4, line_end(t, n, at + 4), start, len);
}

// "The answer is 42." -> "42": up to the end of the line or of the sentence
// (a period followed by a space).
static bool find_answer_is(const char *t, size_t n, size_t *start, size_t *len) {
    size_t at;
    if (!find_last(t, n, "answer is", true, &at)) return false;
    size_t a = at + 9, e = line_end(t, n, a);
    while (a < e && (is_space(t[a]) || t[a] == ':')) a++;
    for (size_t k = a; k + 1 < e; k++)
        if (t[k] == '.' && is_space(t[k + 1])) {
            e = k;
            break;
        }
    return set_span(t, a, e, start, len);
}

static bool find_chinese(const char *t, size_t n, size_t *start, size_t *len) {
    static const char *const keys[] = {"答案是", "答案为", "故答案"};
    size_t best = 0, best_end = 0;
    bool found = false;
    for (int k = 0; k < 3; k++) {
        size_t at;
        if (find_last(t, n, keys[k], false, &at) && (!found || at > best)) {
            best = at;
            best_end = at + strlen(keys[k]);
            found = true;
        }
    }
    if (!found) return false;
    size_t a = best_end, e = line_end(t, n, a);
    static const char *const skip[] = {"为", "是", "：", ":", " ", "$"};
    for (bool moved = true; moved;) {
        moved = false;
        for (int k = 0; k < 6; k++) {
            size_t m = strlen(skip[k]);
            if (a + m <= e && memcmp(t + a, skip[k], m) == 0) {
                a += m;
                moved = true;
            }
        }
    }
    for (size_t k = a; k + 3 <= e; k++)
        if (memcmp(t + k, "。", 3) == 0) {
            e = k;
            break;
        }
    return set_span(t, a, e, start, len);
}

// The last number: -?digits with ',' separators and a decimal part, or a/b.
static bool find_last_number(const char *t, size_t n, size_t *start, size_t *len) {
    size_t e = n;
    while (e > 0 && !isdigit((unsigned char)t[e - 1])) e--;
    if (e == 0) return false;
    size_t a = e;
    while (a > 0 && (isdigit((unsigned char)t[a - 1]) ||
                     ((t[a - 1] == '.' || t[a - 1] == ',' || t[a - 1] == '/') && a > 1 &&
                      isdigit((unsigned char)t[a - 2]))))
        a--;
    if (a > 0 && t[a - 1] == '-') a--;
    *start = a;
    *len = e - a;
    return true;
}

enum reward_answer_source reward_extract_answer(const char *text, size_t n,
                                                const struct reward_extract_opts *o, size_t *start,
                                                size_t *len) {
    size_t offset = 0;
    if (n > o->max_response_bytes) { // the answer is at the end: read the tail only
        offset = n - o->max_response_bytes;
        text += offset;
        n -= offset;
    }
    enum reward_answer_source src = REWARD_SOURCE_NONE;
    if (o->use_boxed && find_boxed(text, n, o->max_answer_bytes, start, len))
        src = REWARD_SOURCE_BOXED;
    else if (o->use_hashes && find_hashes(text, n, start, len))
        src = REWARD_SOURCE_HASHES;
    else if (o->use_final_statement && reward_extract_final_statement(text, n, start, len))
        src = REWARD_SOURCE_FINAL; // bold, "answer is $..$", the last value: before "answer is"
    else if (o->use_answer_is && find_answer_is(text, n, start, len))
        src = REWARD_SOURCE_ANSWER_IS;
    else if (o->use_chinese && find_chinese(text, n, start, len))
        src = REWARD_SOURCE_CHINESE;
    else if (o->use_last_number && find_last_number(text, n, start, len))
        src = REWARD_SOURCE_LAST_NUMBER;
    if (src != REWARD_SOURCE_NONE) *start += offset;
    return src;
}
