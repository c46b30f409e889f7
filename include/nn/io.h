/**
 * @file io.h
 * @brief Saving and loading models in libnn's portable, checksummed file format.
 *
 * docs/model-format.md specifies the format. In short: little-endian, a magic and a format version
 * (separate from the library's), sections each with a type, a length and a CRC-32; the architecture,
 * the named float32 tensors, key/value metadata, and optional sections for the optimizer's state, the
 * random generator's state and the epoch reached, so that training resumes exactly.
 *
 * Saving is crash-safe: the file is written to a temporary file in the same folder, flushed with
 * fsync and renamed over the target, so a failure leaves any earlier file intact. Loading checks
 * every length, count and checksum before allocating, and reports the byte offset of a problem.
 * @code
 * const char *keys[] = {"dataset"}, *values[] = {"mnist"};
 * nn_save_options so = NN_SAVE_OPTIONS_INIT;
 * so.meta_keys = keys; so.meta_values = values; so.meta_count = 1;
 * if (nn_model_save(model, "models/adam_relu.nnm", &so) != NN_OK) ...
 * nn_model *copy;
 * if (nn_model_load(&copy, "models/adam_relu.nnm", NULL) != NN_OK) puts(nn_last_error());
 * @endcode
 */
#ifndef NN_IO_H
#define NN_IO_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "model.h"
#include "rng.h"
#include "status.h"

NN_BEGIN_DECLS

/** Version of the file format this library writes; it reads every file of the same major. */
#define NN_FORMAT_VERSION_MAJOR 2
#define NN_FORMAT_VERSION_MINOR 0

/** Conventional file name extension of libnn model files. */
#define NN_MODEL_FILE_EXT ".nnm"

/** Hard limits of the format (see docs/model-format.md). */
#define NN_FORMAT_MAX_META 256        /**< metadata entries */
#define NN_FORMAT_MAX_STRING 4096     /**< bytes in one key or value */
#define NN_FORMAT_MAX_FEATURES ((int64_t)1 << 24) /**< inputs of a model, units of one layer */
#define NN_FORMAT_MAX_PARAMS ((int64_t)1 << 30)   /**< parameters of a whole model */

/** Version of ::nn_save_options this header describes. */
#define NN_SAVE_OPTIONS_VERSION 1

/** What to write besides the architecture and the weights. Defaults: NN_SAVE_OPTIONS_INIT. */
typedef struct nn_save_options {
    unsigned version;                 /**< NN_SAVE_OPTIONS_VERSION */
    int with_optimizer;               /**< non-zero: the optimizer's kind, hyperparameters and state */
    const nn_rng *rng;                /**< non-NULL: the generator's state */
    int64_t epoch;                    /**< >= 0: the number of epochs completed */
    const char *const *meta_keys;     /**< meta_count keys: [A-Za-z0-9_.-], unique */
    const char *const *meta_values;   /**< meta_count UTF-8 values */
    size_t meta_count;
} nn_save_options;

/** Defaults: weights only (no optimizer, rng or epoch), no metadata. */
#define NN_SAVE_OPTIONS_INIT {NN_SAVE_OPTIONS_VERSION, 0, NULL, -1, NULL, NULL, 0}

/** @brief Fill @p opts with the defaults of options version @p version. @since 0.2 */
NN_API nn_status nn_save_options_init(nn_save_options *opts, unsigned version);

/** Version of ::nn_load_options this header describes. */
#define NN_LOAD_OPTIONS_VERSION 1

/** How to load. Defaults: NN_LOAD_OPTIONS_INIT. */
typedef struct nn_load_options {
    unsigned version;                 /**< NN_LOAD_OPTIONS_VERSION */
    nn_rng *rng;                      /**< non-NULL: receives the saved generator state, if any */
    int64_t *epoch;                   /**< non-NULL: receives the saved epoch, or -1 */
    int allow_nonfinite;              /**< non-zero: accept NaN or infinite weights */
} nn_load_options;

/** Defaults: refuse non-finite weights, restore nothing but the model. */
#define NN_LOAD_OPTIONS_INIT {NN_LOAD_OPTIONS_VERSION, NULL, NULL, 0}

/** @brief Fill @p opts with the defaults of options version @p version. @since 0.2 */
NN_API nn_status nn_load_options_init(nn_load_options *opts, unsigned version);

/**
 * @brief Save a compiled model to @p path, atomically (temporary file, fsync, rename, folder fsync).
 * What it writes, nn_model_load() with default options accepts: the same checks run on the encoded
 * file first, and a model they refuse is not written (docs/model-format.md, "One validation path").
 * The library version is always recorded in the metadata, and so is the creation time (UTC) unless
 * the caller gives its own "created" entry: an empty one keeps the time out, so that the same model
 * saved twice gives the same bytes.
 * The temporary file is named ".NAME.nntmp-XXXXXX" in the folder of @p path, NAME being the target's
 * file name (cut to its first 241 bytes) and XXXXXX six letters or digits. A failed save removes it;
 * a process killed mid-save leaves it behind, and a file of exactly that form that no running save
 * is writing is such an orphan, safe to delete.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_STATE (not compiled; optimizer asked for but
 *         absent), NN_ERR_UNSUPPORTED (past the format's limits: an input or a layer wider than
 *         NN_FORMAT_MAX_FEATURES, more than NN_FORMAT_MAX_PARAMS parameters), NN_ERR_NUMERIC (NaN or
 *         infinite weights or optimizer state), both with the message nn_model_load() would give,
 *         NN_ERR_NO_MEMORY, NN_ERR_IO (with errno's text; an earlier file at @p path is
 *         left intact, except when only flushing the folder after the rename failed: @p path then
 *         holds the complete new file, which a power cut may still undo).
 * @since 0.1
 */
NN_API nn_status nn_model_save(const nn_model *m, const char *path, const nn_save_options *opts);

/**
 * @brief Save into a new memory buffer; the caller frees *out with nn_buffer_free(). Refuses what
 *        nn_model_save() refuses.
 * @since 0.1
 */
NN_API nn_status nn_model_save_buffer(const nn_model *m, void **out, size_t *size, const nn_save_options *opts);

/** @brief Release a buffer from nn_model_save_buffer(); NULL is a no-op. @since 0.1 */
NN_API void nn_buffer_free(void *buf);

/**
 * @brief Load a model: compiled with its loss, with its optimizer and state when the file has them.
 * Only a regular file is opened (a FIFO, device or folder is refused without blocking); it is read a
 * section at a time, each checked against the file's size and the architecture before it is read.
 * @return NN_OK, NN_ERR_IO, NN_ERR_FORMAT (with the byte offset), NN_ERR_VERSION (newer major),
 *         NN_ERR_NUMERIC (non-finite weights), NN_ERR_NO_MEMORY, NN_ERR_INVALID_ARGUMENT.
 * @since 0.1
 */
NN_API nn_status nn_model_load(nn_model **out, const char *path, const nn_load_options *opts);

/** @brief As nn_model_load(), from @p size bytes in memory. @since 0.1 */
NN_API nn_status nn_model_load_buffer(nn_model **out, const void *data, size_t size, const nn_load_options *opts);

/** Opaque summary of a model file: header, architecture and metadata (the weights are not kept). */
typedef struct nn_file_info nn_file_info;

/**
 * @brief Read a file's header, architecture and metadata, after checking everything in it exactly
 *        as nn_model_load() with default options does: a file has info if and only if it loads,
 *        and a refusal has the same status and message. The model is built to check it, then
 *        dropped, so this takes about the memory of a load.
 * @since 0.1
 */
NN_API nn_status nn_file_info_read(nn_file_info **out, const char *path);
NN_API nn_status nn_file_info_read_buffer(nn_file_info **out, const void *data, size_t size);
/** @brief Release file info; NULL is a no-op. @since 0.1 */
NN_API void nn_file_info_free(nn_file_info *info);

/** @brief The file's format version. @since 0.1 */
NN_API void nn_file_info_format_version(const nn_file_info *info, unsigned *major, unsigned *minor);
/** @brief Number of layers, and the description of layer @p i (tensors left empty). @since 0.1 */
NN_API int nn_file_info_layer_count(const nn_file_info *info);
NN_API nn_status nn_file_info_layer(const nn_file_info *info, int i, nn_layer_info *out);
/** @brief Inputs per example, and the total parameter count. @since 0.1 */
NN_API int64_t nn_file_info_input_features(const nn_file_info *info);
/** @brief The per-example input shape into @p shape; returns its rank (0 for NULL). @since 0.2 */
NN_API int nn_file_info_input_shape(const nn_file_info *info, int64_t shape[NN_MAX_EXAMPLE_RANK]);
NN_API int64_t nn_file_info_param_count(const nn_file_info *info);
/** @brief The loss; and the optimizer kind, or -1 when the file holds no optimizer. @since 0.1 */
NN_API nn_loss_kind nn_file_info_loss(const nn_file_info *info);
NN_API int nn_file_info_optimizer(const nn_file_info *info);
/** @brief The epoch saved, or -1; non-zero when a generator state is saved. @since 0.1 */
NN_API int64_t nn_file_info_epoch(const nn_file_info *info);
NN_API int nn_file_info_has_rng(const nn_file_info *info);
/** @brief Metadata: count, entry @p i, or the value of @p key (NULL when absent). Borrowed strings. @since 0.1 */
NN_API size_t nn_file_info_meta_count(const nn_file_info *info);
NN_API nn_status nn_file_info_meta(const nn_file_info *info, size_t i, const char **key, const char **value);
NN_API const char *nn_file_info_meta_get(const nn_file_info *info, const char *key);

NN_END_DECLS

#endif /* NN_IO_H */
