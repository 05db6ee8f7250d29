// Hugging Face config.json of the Qwen2 family: the fields grpo reads and writes back.
// Missing keys take Hugging Face's Qwen2Config defaults; features grpo does not implement
// (sliding-window attention, rope scaling, an activation other than silu) are errors.
#pragma once

#include <stdbool.h>

#include "core/err.h"

struct hf_config {
    char model_type[32];   // "qwen2"
    char architecture[64]; // architectures[0], e.g. "Qwen2ForCausalLM"
    int hidden_size, intermediate_size, num_hidden_layers, num_attention_heads;
    int num_key_value_heads, vocab_size, max_position_embeddings;
    double rope_theta, rms_norm_eps;
    bool tie_word_embeddings;
    int bos_token_id, eos_token_id; // -1 when absent
    char torch_dtype[16];
};

// Reads path (a config.json); errors name the file and key.
int hf_config_read(const char *path, struct hf_config *out, struct err *e);
// Parses config.json text; path names it in errors.
int hf_config_parse(const char *text, const char *path, struct hf_config *out, struct err *e);
// The config as JSON text (malloc'd; the caller frees it).
char *hf_config_to_json(const struct hf_config *c);
// Writes path (via path.tmp + rename).
int hf_config_write(const char *path, const struct hf_config *c, struct err *e);
