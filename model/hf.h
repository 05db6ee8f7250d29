// Hugging Face model directories (config.json + *.safetensors) to and from a struct model.
#pragma once

#include "core/err.h"
#include "io/hf_config.h"
#include "model/model.h"

// Shape from a config.json; the architecture picks the head (Qwen2ForCausalLM: LM,
// Qwen2ForRewardModel: RM, Qwen2ForSequenceClassification: SCORE); others are errors.
int model_shape_from_hf(const struct hf_config *c, struct model_shape *out, struct err *e);
void model_shape_to_hf(const struct model_shape *s, struct hf_config *out);
// Reads DIR/config.json and DIR/model.safetensors (or its sharded index) into a new model.
// Missing tensors, wrong shapes and unsupported dtypes are errors naming the tensor and file.
int model_load_hf(const char *dir, const struct backend *be, struct mem_ledger *ledger,
                  struct model **out, struct err *e);
// Fills an existing model's parameters from an opened directory (used by model_load_hf).
int model_read_safetensors(struct model *m, const char *dir, struct err *e);
// Writes DIR/config.json and DIR/model.safetensors (fp32); creates DIR if needed.
int model_save_hf(const struct model *m, const char *dir, struct err *e);
