/**
 * @file status.h
 * @brief Error codes and the per-thread last-error message.
 *
 * Every fallible libnn call returns an ::nn_status. On failure, nn_last_error() holds a
 * human-readable detail for the calling thread, e.g.
 * "dense: input has 780 features, layer expects 784". libnn never prints and never exits.
 * @code
 * nn_status st = nn_model_train_step(model, &x, &y, &loss, NULL);
 * if (st != NN_OK) {
 *     fprintf(stderr, "training failed: %s (%s)\n", nn_last_error(), nn_status_string(st));
 *     return 1;
 * }
 * @endcode
 */
#ifndef NN_STATUS_H
#define NN_STATUS_H

#include "export.h"

NN_BEGIN_DECLS

/** Result of a libnn call. Values are stable and only ever appended. */
typedef enum nn_status {
    NN_OK = 0,                  /**< success */
    NN_ERR_INVALID_ARGUMENT = 1,/**< a NULL pointer, a value out of range, an unknown name */
    NN_ERR_SHAPE = 2,           /**< tensor shapes do not agree */
    NN_ERR_NO_MEMORY = 3,       /**< an allocation failed */
    NN_ERR_IO = 4,              /**< reading or writing a file failed (see the message for errno) */
    NN_ERR_FORMAT = 5,          /**< a file's contents are malformed, truncated or corrupt */
    NN_ERR_VERSION = 6,         /**< a file was written by a newer, incompatible format version */
    NN_ERR_STATE = 7,           /**< the call is not valid in the object's current state */
    NN_ERR_NUMERIC = 8,         /**< NaN or infinity where finite numbers are required: weights in a
                                     file, or a training step's loss or gradients (the step is refused
                                     and changes nothing; the run has diverged) */
    NN_ERR_UNSUPPORTED = 9,     /**< valid, but not supported by this build */
    NN_ERR_INTERRUPTED = 10     /**< the caller asked the operation to stop */
} nn_status;

/**
 * @brief Short constant description of a status code ("invalid argument", ...).
 * @return a static string; never NULL, also for unknown codes. Thread-safe.
 * @since 0.1
 */
NN_API const char *nn_status_string(nn_status status);

/**
 * @brief Detail of the last failure on the calling thread.
 * @return a thread-local string, never NULL ("" when no failure happened yet). It stays valid
 *         until the next failing libnn call on the same thread.
 * @since 0.1
 */
NN_API const char *nn_last_error(void);

/**
 * @brief Forget the calling thread's last error message.
 * @since 0.1
 */
NN_API void nn_clear_error(void);

NN_END_DECLS

#endif /* NN_STATUS_H */
