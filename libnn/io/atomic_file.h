/* Crash-safe replacement of a file's contents. */
#ifndef NN_IO_ATOMIC_FILE_H
#define NN_IO_ATOMIC_FILE_H

#include <stddef.h>

#include "nn/status.h"

/* Write size bytes to a temporary file in path's folder, fsync it, rename it over path and fsync the
 * folder. Readers see either the earlier file or the complete new one, also after a power cut; on
 * any failure the temporary file is removed and an earlier file at path is left untouched, except
 * when only the folder's open or fsync after the rename fails: path then holds the new file.
 * Returns NN_OK, NN_ERR_IO (message with errno's text) or NN_ERR_NO_MEMORY. */
nn_status nnio_write_atomic(const char *path, const void *data, size_t size);

#endif /* NN_IO_ATOMIC_FILE_H */
