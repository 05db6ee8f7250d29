// Reading gold answers: raw strings and numbers, GSM8K "#### N", the last
// \boxed{} of a worked solution, the first element of a list.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

static const char *const mode_names[] = {
    [GOLD_RAW] = "raw",     [GOLD_GSM8K] = "gsm8k",   [GOLD_BOXED] = "boxed",
    [GOLD_FIRST] = "first", [GOLD_NUMBER] = "number",
};

int gold_mode_parse(const char *name, enum gold_mode *out, struct err *e) {
    for (int m = GOLD_RAW; m <= GOLD_NUMBER; m++) {
        if (strcmp(name, mode_names[m]) == 0) {
            *out = (enum gold_mode)m;
            return 0;
        }
    }
    return err_user(
        e, "unknown gold answer mode '%s' (expected raw, gsm8k, boxed, first or number)", name);
}

const char *gold_mode_name(enum gold_mode mode) {
    return mode >= GOLD_RAW && mode <= GOLD_NUMBER ? mode_names[mode] : "?";
}

// Like Qwen2.5-Math's last_boxed_only_string: the last "\boxed", else the
// last "\fbox"; braces are counted as written.
int data_find_last_boxed(const char *s, size_t *start, size_t *len) {
    const char *at = NULL;
    const char *names[] = {"\\boxed", "\\fbox"};
    for (int k = 0; k < 2 && !at; k++)
        for (const char *p = strstr(s, names[k]); p; p = strstr(p + 1, names[k])) at = p;
    if (!at) return -1;
    const char *p = at + (at[1] == 'b' ? 6 : 5);
    while (*p == ' ') p++;
    if (*p != '{') return -1;
    int depth = 0;
    for (const char *q = p; *q; q++) {
        if (*q == '{') depth++;
        if (*q == '}' && --depth == 0) {
            *start = (size_t)(p + 1 - s);
            *len = (size_t)(q - p - 1);
            return 0;
        }
    }
    return -1;
}

static void append_trimmed(struct text_buf *out, const char *s, size_t n) {
    while (n && strchr(" \t\r\n", s[0])) s++, n--;
    while (n && strchr(" \t\r\n", s[n - 1])) n--;
    text_buf_append(out, s, n);
}

static void append_number(struct text_buf *out, double x) {
    char buf[64];
    if (x == floor(x) && fabs(x) < 1e15)
        snprintf(buf, sizeof buf, "%.0f", x);
    else
        snprintf(buf, sizeof buf, "%.15g", x);
    text_buf_append(out, buf, strlen(buf));
}

int gold_read(enum gold_mode mode, const cJSON *v, struct text_buf *out, struct err *e) {
    if (mode == GOLD_FIRST) {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
            return err_user(e, "not a non-empty list");
        return gold_read(GOLD_RAW, cJSON_GetArrayItem(v, 0), out, e);
    }
    if (cJSON_IsNumber(v) && (mode == GOLD_RAW || mode == GOLD_NUMBER)) {
        if (!isfinite(v->valuedouble)) return err_user(e, "not a finite number");
        append_number(out, v->valuedouble);
        return 0;
    }
    if (!cJSON_IsString(v))
        return err_user(e, "not a string%s", mode == GOLD_RAW ? " or a number" : "");
    const char *s = v->valuestring;
    switch (mode) {
    case GOLD_RAW:
        append_trimmed(out, s, strlen(s));
        return 0;
    case GOLD_NUMBER: {
        char *end;
        double x = strtod(s, &end);
        while (*end == ' ') end++;
        if (end == s || *end || !isfinite(x)) return err_user(e, "'%.40s' is not a number", s);
        append_number(out, x);
        return 0;
    }
    case GOLD_GSM8K: {
        const char *at = NULL;
        for (const char *p = strstr(s, "####"); p; p = strstr(p + 1, "####")) at = p;
        if (!at) return err_user(e, "no '####' in the answer");
        size_t n0 = out->n;
        for (const char *p = at + 4; *p; p++)
            if (*p != ',') text_buf_append(out, p, 1);
        // Trim in place.
        size_t n = out->n - n0, lead = 0;
        while (lead < n && strchr(" \t\r\n", out->s[n0 + lead])) lead++;
        memmove(out->s + n0, out->s + n0 + lead, n - lead);
        out->n -= lead;
        while (out->n > n0 && strchr(" \t\r\n", out->s[out->n - 1])) out->n--;
        text_buf_append(out, "", 0);
        return 0;
    }
    case GOLD_BOXED: {
        size_t start, len;
        if (data_find_last_boxed(s, &start, &len) < 0)
            return err_user(e, "no \\boxed{...} in the answer");
        append_trimmed(out, s + start, len);
        return 0;
    }
    default:
        return err_internal(e, "bad gold mode %d", (int)mode);
    }
}
