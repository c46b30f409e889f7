#define _POSIX_C_SOURCE 200809L
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errfmt.h"
#include "tmpname.h"

int nnm_mkdirs(const char *path, char *err, size_t errlen)
{
    return nnm_mkdirs_made(path, NULL, err, errlen);
}

int nnm_mkdirs_made(const char *path, nnm_made_dirs *made, char *err, size_t errlen)
{
    char buf[NNM_PATH_MAX];
    if (made) made->n = 0;
    if (!*path) {
        nnm_errorf(err, errlen, "an empty folder name");
        errno = ENOENT;
        return -1;
    }
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        nnm_errorf(err, errlen, "%s: path too long", path);
        errno = ENAMETOOLONG;
        return -1;
    }
    /* From buf + 1, so that "/a" does not try mkdir(""). */
    for (char *p = buf + (buf[0] != '\0');; p++) {
        char c = *p;
        if (c != '/' && c != '\0') continue;
        *p = '\0';
        if (mkdir(buf, 0777) == 0) {
            if (made) made->len[made->n++] = (size_t)(p - buf);
        } else if (errno != EEXIST) {
            nnm_errorf(err, errlen, "cannot create folder %s: %s", buf, strerror(errno));
            goto fail;
        }
        struct stat st;
        if (stat(buf, &st) != 0) {
            const int e = errno;
            if (lstat(buf, &st) == 0 && S_ISLNK(st.st_mode))
                nnm_errorf(err, errlen, "%s is a link to nothing or to a loop of links (%s)", buf, strerror(e));
            else
                nnm_errorf(err, errlen, "cannot create folder %s: %s", buf, strerror(e));
            errno = e;
            goto fail;
        }
        if (!S_ISDIR(st.st_mode)) {
            nnm_errorf(err, errlen, "%s exists and is not a folder", buf);
            errno = ENOTDIR;
            goto fail;
        }
        *p = c;
        if (c == '\0') break;
    }
    return 0;
fail:
    if (made) {
        int e = errno;
        nnm_unmake_dirs(path, made);
        errno = e;
    }
    return -1;
}

void nnm_unmake_dirs(const char *path, const nnm_made_dirs *made)
{
    char buf[NNM_PATH_MAX];
    for (int i = made->n - 1; i >= 0; i--) {
        snprintf(buf, sizeof buf, "%.*s", (int)made->len[i], path);
        if (rmdir(buf) != 0) break;
    }
}

int nnm_check_writable(const char *dir, char *err, size_t errlen)
{
    char name[NNM_PATH_MAX], probe[NNM_PATH_MAX + NNM_TMP_EXTRA];
    if (snprintf(name, sizeof name, "%s/nn-mnist-probe", dir) >= (int)sizeof name ||
        nnm_tmp_template(probe, sizeof probe, name) != 0) {
        nnm_errorf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    int fd = mkstemp(probe);
    if (fd < 0) {
        nnm_errorf(err, errlen, "folder %s is not writable: %s", dir, strerror(errno));
        return -1;
    }
    int ok = write(fd, "x", 1) == 1 && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    unlink(probe);
    if (!ok) {
        nnm_errorf(err, errlen, "folder %s is not writable: %s", dir, strerror(saved));
        return -1;
    }
    return 0;
}

int nnm_fsync_dir_of(const char *path)
{
    char buf[NNM_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int nnm_write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int nnm_publish_tmp(int fd, const char *tmp, const char *path, char *err, size_t errlen)
{
    int bad = fsync(fd) != 0 || fchmod(fd, 0644) != 0;
    int e = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (!bad) return 0;
    if (!e) e = EIO;
    nnm_errorf(err, errlen, "cannot write %s: %s", path, strerror(e));
    errno = e;
    return -1;
}

int nnm_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char tmp[NNM_PATH_MAX];
    if (nnm_tmp_template(tmp, sizeof tmp, path) != 0) {
        nnm_errorf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        nnm_errorf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    if (nnm_write_all(fd, data, len) != 0) {
        nnm_errorf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (nnm_publish_tmp(fd, tmp, path, err, errlen) != 0) {
        unlink(tmp);
        return -1;
    }
    /* The rename is durable only once the folder is synced. */
    if (nnm_fsync_dir_of(path) != 0) {
        nnm_errorf(err, errlen, "cannot sync the folder of %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

char *nnm_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        nnm_errorf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *bigger = cap < (1u << 30) ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        nnm_errorf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int nnm_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Holds an exclusive lock on DIR/.nn-mnist.lock for the life of the process: two grids in one folder
 * would overwrite each other's runs, and the sweep below must not remove a live grid's files. */
int nnm_lock_folder(const char *dir, char *err, size_t errlen)
{
    char path[NNM_PATH_MAX];
    snprintf(path, sizeof path, "%s/.nn-mnist.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        nnm_errorf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        nnm_errorf(err, errlen, "another nn-mnist is using %s; wait for it or choose other folders", dir);
        close(fd);
        return -1;
    }
    return 0; /* the descriptor stays open, and locked, until exit */
}

int nnm_lock_folder_shard(const char *dir, int k, int n, char *err, size_t errlen)
{
    char path[NNM_PATH_MAX], shard[NNM_PATH_MAX];
    snprintf(path, sizeof path, "%s/.nn-mnist.lock", dir);
    snprintf(shard, sizeof shard, "%s/.nn-mnist.shard-%d-of-%d.lock", dir, k, n);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), fs = open(shard, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || fs < 0) {
        nnm_errorf(err, errlen, "cannot create %s: %s", fd < 0 ? path : shard, strerror(errno));
        if (fd >= 0) close(fd);
        if (fs >= 0) close(fs);
        return -1;
    }
    /* Shared: the other shards may hold it too, an unsharded grid (exclusive) may not. */
    if (flock(fd, LOCK_SH | LOCK_NB) != 0 || flock(fs, LOCK_EX | LOCK_NB) != 0) {
        nnm_errorf(err, errlen, "another nn-mnist is using %s as shard %d of %d, or as a whole grid; wait for it", dir, k,
                 n);
        close(fd);
        close(fs);
        return -1;
    }
    return 0;
}

/* Removes the temporary files a killed grid can leave half-written (atomic writes, figures, probes,
 * nn_model_save's), and only those: the folders may hold the user's own files, so a name must have
 * the exact shape only this program and libnn make (tmpname.h), and the entry must be a regular
 * file, as mkstemp makes. The folder lock, held by now, means no live grid is writing them. */
void nnm_sweep_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!nnm_is_tmp_name(e->d_name)) continue;
        char path[NNM_PATH_MAX + 256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) unlink(path);
    }
    closedir(d);
}
