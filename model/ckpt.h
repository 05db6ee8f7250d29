// The model side of HDF5 checkpoints (io/ckpt.h, docs/checkpoints.md): parameters as
// /model/<Hugging Face name> fp32 datasets, the architecture as the root attribute
// "architecture" (config.json text), AdamW moments as /optim/m/<name>, /optim/v/<name> and
// the attribute /optim step.
#pragma once

#include "core/err.h"
#include "io/h5.h"
#include "model/model.h"
#include "model/optim.h"

int model_write_h5(const struct model *m, struct h5file *f, struct err *e);
// Reads /model/<name> of every tensor of m (shapes checked by io/h5).
int model_read_h5(struct model *m, struct h5file *f, struct err *e);
// A new model from a checkpoint: its architecture attribute, then its tensors.
int model_load_ckpt(const char *path, const struct backend *be, struct mem_ledger *ledger,
                    struct model **out, struct err *e);
// Writes a checkpoint holding only the model (grpo convert), atomically.
int model_save_ckpt(const struct model *m, const char *path, struct err *e);
// A Hugging Face directory or a .h5 checkpoint, by what path is.
int model_load_path(const char *path, const struct backend *be, struct mem_ledger *ledger,
                    struct model **out, struct err *e);

int adamw_write_h5(const struct adamw *o, const struct model *m, struct h5file *f, struct err *e);
int adamw_read_h5(struct adamw *o, const struct model *m, struct h5file *f, struct err *e);
