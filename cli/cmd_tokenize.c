// grpo tokenize: JSON lines {"text": ...} -> {"ids": [...]} on stdin/stdout,
// or the reverse with --decode.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "tokenizer/tokenizer.h"

static const char usage[] =
    "usage: grpo tokenize --tokenizer PATH [--decode [--skip-special]] < IN.jsonl > OUT.jsonl\n"
    "\n"
    "Encodes JSON lines {\"text\": ...} into {\"ids\": [...]} (no BOS/EOS added; special\n"
    "tokens written in the text are encoded as special tokens), or with --decode\n"
    "{\"ids\": [...]} into {\"text\": ...} (bytes that are not UTF-8 become U+FFFD).\n"
    "Other keys of a line are not copied. Blank lines are skipped.\n"
    "\n"
    "  --tokenizer PATH  tokenizer.json, the directory holding it, or 'byte'\n"
    "  --decode          ids to text\n"
    "  --skip-special    with --decode, leave special tokens out of the text\n";

// cJSON strings end at a NUL, so a "\u0000" escape would cut the text short
// without a word: refuse it instead.
static int has_nul_escape(const char *line, size_t n) {
    for (size_t i = 0; i + 1 < n; i++) {
        if (line[i] != '\\') continue;
        if (line[i + 1] == 'u' && i + 5 < n && strncmp(line + i + 2, "0000", 4) == 0) return 1;
        i++; // skip the escaped character
    }
    return 0;
}

static int encode_line(const struct tokenizer *tok, const cJSON *obj, const char *line,
                       size_t n_line, struct token_ids *ids, struct err *e) {
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(obj, "text");
    if (!cJSON_IsString(text)) return err_user(e, "missing string key 'text'");
    if (has_nul_escape(line, n_line)) return err_user(e, "text holds a NUL character (\\u0000)");
    ids->n = 0;
    TRY(tokenizer_encode(tok, text->valuestring, strlen(text->valuestring), ids, e));
    fputs("{\"ids\":[", stdout);
    for (size_t i = 0; i < ids->n; i++) printf(i ? ",%d" : "%d", (int)ids->ids[i]);
    fputs("]}\n", stdout);
    return 0;
}

static int decode_line(const struct tokenizer *tok, const cJSON *obj, int skip_special,
                       struct token_ids *ids, struct text_buf *text, struct err *e) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "ids");
    if (!cJSON_IsArray(arr)) return err_user(e, "missing array key 'ids'");
    ids->n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int32_t)v->valuedouble)
            return err_user(e, "ids[%zu] is not an integer", ids->n);
        token_ids_push(ids, (int32_t)v->valuedouble);
    }
    text->n = 0;
    TRY(tokenizer_decode(tok, ids->ids, ids->n, skip_special, text, e));
    fputs("{\"text\":", stdout);
    tokenizer_write_json_string(stdout, text->s, text->n);
    fputs("}\n", stdout);
    return 0;
}

int cmd_tokenize(int argc, char **argv, struct err *e) {
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *path = NULL;
    int decode = 0, skip_special = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tokenizer") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--decode") == 0)
            decode = 1;
        else if (strcmp(argv[i], "--skip-special") == 0)
            skip_special = 1;
        else
            return err_user(e, "tokenize: unknown or incomplete option '%s' (see --help)", argv[i]);
    }
    if (!path) return err_user(e, "tokenize: --tokenizer PATH is required");
    struct tokenizer *tok = NULL;
    TRY(tokenizer_open(path, &tok, e));
    struct token_ids ids = {0};
    struct text_buf text = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long line_no = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        line_no++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (strspn(line, " \t") == len) continue;
        if (strlen(line) < len) {
            rc = err_user(e, "<stdin>:%ld: raw NUL byte in the line", line_no);
            break;
        }
        cJSON *obj = cJSON_ParseWithLength(line, len);
        if (!cJSON_IsObject(obj))
            rc = err_user(e, "not a JSON object");
        else if (decode)
            rc = decode_line(tok, obj, skip_special, &ids, &text, e);
        else
            rc = encode_line(tok, obj, line, len, &ids, e);
        cJSON_Delete(obj);
        if (rc < 0) {
            err_prefix(e, "<stdin>:%ld: ", line_no);
            break;
        }
    }
    if (rc == 0 && fflush(stdout) != 0) rc = err_user(e, "tokenize: cannot write the output");
    free(line);
    token_ids_free(&ids);
    text_buf_free(&text);
    tokenizer_destroy(&tok);
    return rc;
}
