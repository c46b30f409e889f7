/* Opening a file to read it through, refusing what is not a regular file: a length known in advance
 * bounds every read, and a FIFO opened for reading would wait for a writer, forever. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

nn__open_result nn__open_regular(const char *path, FILE **fp, uint64_t *size)
{
    nn__open_result r = {NULL, NULL, 0, 0};
    *fp = NULL;
    /* O_NONBLOCK: the open of a FIFO returns at once; the type is checked on the open descriptor,
     * so nothing can swap the file in between. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return (nn__open_result){"cannot open", NULL, errno, 0};
    struct stat st;
    if (fstat(fd, &st) != 0) {
        r = (nn__open_result){"cannot stat", NULL, errno, 0};
    } else if (!S_ISREG(st.st_mode)) {
        r = (nn__open_result){NULL, file_kind(st.st_mode), 0, S_ISDIR(st.st_mode)};
    } else {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
            r = (nn__open_result){"cannot clear O_NONBLOCK", NULL, errno, 0};
    }
    if (r.step || r.kind) {
        close(fd);
        return r;
    }
    *fp = fdopen(fd, "rb");
    if (!*fp) {
        r = (nn__open_result){"cannot open a stream", NULL, errno, 0};
        close(fd);
        return r;
    }
    *size = (uint64_t)st.st_size;
    return r;
}
