// Helpers shared by the files of data/.
#pragma once

#include <cjson/cJSON.h>

#include "data/dataset.h"
#include "tokenizer/tokenizer.h"

// Appends the gold answer read from v by mode to out (NUL-terminated).
// Errors (ERR_USER) say what is wrong with the value, without a prefix.
int gold_read(enum gold_mode mode, const cJSON *v, struct text_buf *out, struct err *e);
