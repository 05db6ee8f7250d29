// Text as JSON strings: escapes, and invalid UTF-8 replaced so the output is valid JSON.
#include <stdint.h>
#include <stdio.h>

#include "tokenizer/tokenizer.h"

// Writes s[0, n) as a JSON string; invalid UTF-8 bytes become U+FFFD.
void tokenizer_write_json_string(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    size_t i = 0;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f), fputc(c, f), i++;
        } else if (c == '\n') {
            fputs("\\n", f), i++;
        } else if (c == '\t') {
            fputs("\\t", f), i++;
        } else if (c == '\r') {
            fputs("\\r", f), i++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c), i++;
        } else if (c < 0x80) {
            fputc(c, f), i++;
        } else {
            // Length of the valid UTF-8 character at i, 0 if invalid.
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            int ok = c >= 0xC2 && c <= 0xF4 && i + len <= n;
            if (ok) ok = tokenizer_utf8_check(s + i, len) == len;
            if (ok) {
                fwrite(s + i, 1, len, f);
                i += len;
            } else {
                fputs("\xEF\xBF\xBD", f);
                i++;
            }
        }
    }
    fputc('"', f);
}
