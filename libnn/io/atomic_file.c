/* Temporary file, write, fsync, rename, folder fsync: the sequence that makes a replacement atomic
 * and durable on POSIX file systems. */
#define _POSIX_C_SOURCE 200809L
#include "atomic_file.h"

#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static nn_status io_fail(const char *what, const char *path, int err)
{
    return nn__fail(NN_ERR_IO, "nn_model_save: cannot %s '%s': %s", what, path, strerror(err));
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The temporary's name is part of the API (nn/io.h): ".NAME.nntmp-XXXXXX" beside the target, so that
 * a caller can recognise, and safely delete, what a killed save left without ever matching a file of
 * its own. NAME is cut to keep the whole within NAME_MAX. */
#define TMP_MARK ".nntmp-"
#define TMP_NAME_MAX (255 - (sizeof("." TMP_MARK "XXXXXX") - 1))

static char *temp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t namelen = strlen(path + dirlen);
    if (namelen > TMP_NAME_MAX) namelen = TMP_NAME_MAX;
    char *tmp = malloc(dirlen + namelen + sizeof("." TMP_MARK "XXXXXX"));
    if (!tmp) return NULL;
    memcpy(tmp, path, dirlen);
    tmp[dirlen] = '.';
    memcpy(tmp + dirlen + 1, path + dirlen, namelen);
    memcpy(tmp + dirlen + 1 + namelen, TMP_MARK "XXXXXX", sizeof(TMP_MARK "XXXXXX"));
    return tmp;
}

/* The folder holding path ("." for a bare name), in a new string. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir) return NULL;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return dir;
}

nn_status nnio_write_atomic(const char *path, const void *data, size_t size)
{
    struct stat st;
    mode_t mode = 0644;
    /* rename() would replace whatever sits at path; as root that includes device nodes such as
     * /dev/full, so only regular files (or nothing) may be replaced. A symbolic link is refused
     * rather than silently replaced by a file. */
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return nn__fail(NN_ERR_IO, "nn_model_save: '%s' exists and is not a regular file", path);
        mode = st.st_mode & 0777;
    } else if (errno != ENOENT) {
        return io_fail("examine", path, errno);
    }
    char *tmp = temp_template(path);
    char *dir = folder_of(path);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        return nn__fail(NN_ERR_NO_MEMORY, "nn_model_save: out of memory");
    }

    nn_status status = NN_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        status = io_fail("create a temporary file in the folder of", path, errno);
        goto done;
    }
    /* mkstemp makes the file 0600; give it the mode of the file it replaces, or 0644. */
    if (fchmod(fd, mode) != 0 || write_all(fd, data, size) != 0 || fsync(fd) != 0) {
        int err = errno;
        close(fd);
        unlink(tmp);
        status = io_fail("write", tmp, err);
        goto done;
    }
    if (close(fd) != 0) {
        int err = errno;
        unlink(tmp);
        status = io_fail("close", tmp, err);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        status = io_fail("rename the temporary file to", path, err);
        goto done;
    }
    /* The rename is durable only once the folder's entry is on disk. Some file systems cannot
     * fsync a folder (EINVAL); the data itself is then as safe as that file system allows. */
    int dfd = open(dir, O_RDONLY);
    if (dfd < 0) {
        status = io_fail("open the folder", dir, errno);
        goto done;
    }
    if (fsync(dfd) != 0 && errno != EINVAL && errno != EROFS) status = io_fail("flush the folder", dir, errno);
    close(dfd);
done:
    free(tmp);
    free(dir);
    return status;
}
