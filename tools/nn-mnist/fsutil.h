/* Small file-system helpers: folders, crash-safe writes. */
#ifndef NNM_FSUTIL_H
#define NNM_FSUTIL_H

#include <stddef.h>

/* The size of every path buffer in the tool, terminating NUL included; longer paths are refused. */
#define NNM_PATH_MAX 4096

/* The folders one nnm_mkdirs_made call created, as the lengths of its path's prefixes, outermost
 * first. */
typedef struct nnm_made_dirs {
    size_t len[NNM_PATH_MAX / 2];
    int n;
} nnm_made_dirs;

/* mkdir -p; 0 or -1 with err (and errno). */
int nnm_mkdirs(const char *path, char *err, size_t errlen);

/* mkdir -p that, when made is not NULL, notes there the folders it created, and on failure removes
 * them again (nnm_unmake_dirs), so that a caller can leave the tree as it found it; 0 or -1 with err
 * (which may be NULL with errlen 0) and errno. */
int nnm_mkdirs_made(const char *path, nnm_made_dirs *made, char *err, size_t errlen);

/* Removes the folders made says nnm_mkdirs_made created for path, innermost first, each only while
 * empty: a user's file, or another process's, is never taken with them. */
void nnm_unmake_dirs(const char *path, const nnm_made_dirs *made);

/* Checks that a folder can take new files, by creating and removing one (root ignores modes, so
 * access(2) would lie; the probe is named as tmpname.h says); 0 or -1 with err. */
int nnm_check_writable(const char *dir, char *err, size_t errlen);

/* Replace path with data atomically: temporary file in the same folder (named as tmpname.h says),
 * fsync, rename, folder fsync.
 * On failure the earlier file is intact and the temporary removed; 0 or -1 with err. */
int nnm_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* write(2) until all n bytes are written, retrying after signals; 0 or -1 with errno. */
int nnm_write_all(int fd, const void *data, size_t n);

/* Puts a finished temporary (written through fd, named as tmpname.h says) in place as path: fsync,
 * mode 0644 (mkstemp's 0600 would hide the file from other users), close, rename. fd is closed in
 * every case; on failure tmp is left for the caller to unlink, and err says why. The folder is not
 * synced: see nnm_fsync_dir_of. 0 or -1 with err and errno. */
int nnm_publish_tmp(int fd, const char *tmp, const char *path, char *err, size_t errlen);

/* fsyncs the folder that holds path, which makes a rename into it durable; 0 or -1 with errno. */
int nnm_fsync_dir_of(const char *path);

/* Whole file into a NUL-terminated buffer (caller frees); NULL with err on failure. */
char *nnm_read_file(const char *path, size_t *len, char *err, size_t errlen);

int nnm_file_exists(const char *path);

/* Holds an exclusive lock on DIR/.nn-mnist.lock for the life of the process (two commands writing
 * one folder would overwrite each other's runs); 0, or -1 with err when another process holds it. */
int nnm_lock_folder(const char *dir, char *err, size_t errlen);

/* The lock of shard k of n (--shard): the folder's lock shared with the other shards, and one of
 * the shard's own, exclusive; 0 or -1 with err. */
int nnm_lock_folder_shard(const char *dir, int k, int n, char *err, size_t errlen);

/* Removes the temporaries (tmpname.h) a killed run left in dir, and nothing else; call it only
 * while holding dir's lock, so that no live process is writing them. */
void nnm_sweep_temporaries(const char *dir);

#endif
