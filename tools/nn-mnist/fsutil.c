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

#include "tmpname.h"

int nnm_mkdirs(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create folder %s: %s", buf, strerror(errno));
                return -1;
            }
            struct stat st;
            if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
                snprintf(err, errlen, "%s exists and is not a folder", buf);
                return -1;
            }
            *p = c;
            if (c == '\0') break;
        }
    }
    return 0;
}

int nnm_check_writable(const char *dir, char *err, size_t errlen)
{
    char name[4096], probe[4096 + NNM_TMP_EXTRA];
    if (snprintf(name, sizeof name, "%s/nn-mnist-probe", dir) >= (int)sizeof name ||
        nnm_tmp_template(probe, sizeof probe, name) != 0) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    int fd = mkstemp(probe);
    if (fd < 0) {
        snprintf(err, errlen, "folder %s is not writable: %s", dir, strerror(errno));
        return -1;
    }
    int ok = write(fd, "x", 1) == 1 && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    unlink(probe);
    if (!ok) {
        snprintf(err, errlen, "folder %s is not writable: %s", dir, strerror(saved));
        return -1;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int nnm_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char tmp[4096];
    if (nnm_tmp_template(tmp, sizeof tmp, path) != 0) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto fail;
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0) goto fail;
    if (fchmod(fd, 0644) != 0) goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) goto fail;
    /* The rename is durable only once the folder is synced. */
    if (fsync_dir_of(path) != 0) {
        snprintf(err, errlen, "cannot sync the folder of %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
fail:
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
    if (fd >= 0) close(fd);
    unlink(tmp);
    return -1;
}

char *nnm_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
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
        snprintf(err, errlen, "cannot read %s", path);
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
    char path[4096];
    snprintf(path, sizeof path, "%s/.nn-mnist.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "another nn-mnist is using %s; wait for it or choose other folders", dir);
        close(fd);
        return -1;
    }
    return 0; /* the descriptor stays open, and locked, until exit */
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
        char path[4096 + 256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) unlink(path);
    }
    closedir(d);
}
