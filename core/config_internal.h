// The config schema table, shared by the loader, the printer and the tests.
#pragma once

#include <stddef.h>

#include "core/config.h"

enum cfg_type { CFG_BOOL, CFG_INT, CFG_FLOAT, CFG_STRING, CFG_ENUM, CFG_STR_LIST };

struct cfg_field {
    const char *section;
    const char *key;
    enum cfg_type type;
    size_t offset;              // into struct config
    const char *def;            // default as YAML text; NULL = required
    double min, max;            // inclusive range (CFG_INT, CFG_FLOAT)
    const char *const *choices; // CFG_ENUM: NULL-terminated names
    const char *doc;            // one line for the reference
};

extern const struct cfg_field config_fields[];
extern const int config_n_fields;
extern const char *const config_sections[]; // NULL-terminated, in file order

// Index of "section.key" or of (section, key); -1 when unknown.
int config_field_index(const char *section, const char *key);
