// File-system helpers.
#pragma once

#include "core/err.h"

// mkdir -p: create dir and its missing parents (ERR_USER naming the one that fails).
int fs_make_dirs(const char *dir, struct err *e);
