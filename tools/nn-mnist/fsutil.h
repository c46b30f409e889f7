/* Small file-system helpers: folders, crash-safe writes. */
#ifndef NNM_FSUTIL_H
#define NNM_FSUTIL_H

#include <stddef.h>

/* mkdir -p; 0 or -1 with err. */
int nnm_mkdirs(const char *path, char *err, size_t errlen);

/* Checks that a folder can take new files, by creating and removing one (root ignores modes, so
 * access(2) would lie; the probe is named as tmpname.h says); 0 or -1 with err. */
int nnm_check_writable(const char *dir, char *err, size_t errlen);

/* Replace path with data atomically: temporary file in the same folder (named as tmpname.h says),
 * fsync, rename, folder fsync.
 * On failure the earlier file is intact and the temporary removed; 0 or -1 with err. */
int nnm_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Whole file into a NUL-terminated buffer (caller frees); NULL with err on failure. */
char *nnm_read_file(const char *path, size_t *len, char *err, size_t errlen);

int nnm_file_exists(const char *path);

/* Holds an exclusive lock on DIR/.nn-mnist.lock for the life of the process (two commands writing
 * one folder would overwrite each other's runs); 0, or -1 with err when another process holds it. */
int nnm_lock_folder(const char *dir, char *err, size_t errlen);

/* Removes the temporaries (tmpname.h) a killed run left in dir, and nothing else; call it only
 * while holding dir's lock, so that no live process is writing them. */
void nnm_sweep_temporaries(const char *dir);

#endif
