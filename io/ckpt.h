// Checkpoint files: atomic saves, format identification, retention and
// `--resume auto` resolution (design.md §5).
//
// A checkpoint is one HDF5 file RUN_DIR/checkpoints/ckpt-<step>.h5 (io/h5.h):
// groups /model, /optim, /state written by the trainer, and root attributes
// format = "grpo-checkpoint" and format_version. It is written under a
// temporary name (ckpt-<step>.h5.tmp.<pid>), flushed, fsync'ed and renamed,
// so a crash or a kill never leaves a half-written file under the real name
// and never touches the previous checkpoint.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "io/h5.h"

#define CKPT_FORMAT         "grpo-checkpoint"
#define CKPT_FORMAT_VERSION 1

struct ckpt_writer;

// Start writing the checkpoint that will be called final_path; its directory
// is created if needed. The returned writer's file (ckpt_writer_file) takes
// tensors and attributes; nothing appears under final_path before commit.
int ckpt_writer_begin(const char *final_path, struct ckpt_writer **out, struct err *e);
struct h5file *ckpt_writer_file(struct ckpt_writer *w);
// Flush, fsync, close and rename into place (then fsync the directory).
// *w becomes NULL whether or not it succeeds; on failure the temporary file
// is removed and the previous checkpoint is untouched.
int ckpt_writer_commit(struct ckpt_writer **w, struct err *e);
// Give up: close and remove the temporary file. *w becomes NULL.
void ckpt_writer_abort(struct ckpt_writer **w);

// Open a checkpoint read-only and check it is one (format attributes);
// a foreign or newer-format file is an ERR_USER naming it.
int ckpt_open(const char *path, struct h5file **out, struct err *e);

// "dir/ckpt-<step>.h5" into buf.
void ckpt_path(char *buf, size_t n, const char *dir, int64_t step);

// Steps of the checkpoints in dir, ascending (temporary files and other
// names are ignored). *steps is malloc'd; an absent dir gives n = 0.
int ckpt_list(const char *dir, int64_t **steps, int *n, struct err *e);

// The latest checkpoint of dir for --resume auto: returns 1 and fills path
// and step, or 0 when there is none. A latest file that is not a valid
// checkpoint is an error (never silently skipped: resuming from an older
// one must be asked for with --resume PATH).
int ckpt_latest(const char *dir, char *path, size_t n, int64_t *step, struct err *e);

// Keep the `keep` newest checkpoints of dir (0 = keep all) and remove the
// temporary files of writers that no longer run.
int ckpt_prune(const char *dir, int keep, struct err *e);
