/* Where a model file's bytes come from: memory, or a stream read front to back (nn_file_info reads
 * a file without holding its weights in memory). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "format.h"

uint32_t nnio_crc32(uint32_t crc, const void *p, size_t n)
{
    return (uint32_t)crc32_z(crc, (const Bytef *)p, (z_size_t)n);
}

void nnio_src_mem(nnio_src *s, const void *data, size_t size)
{
    memset(s, 0, sizeof *s);
    s->mem = data;
    s->size = size;
}

nn_status nnio_src_file(nnio_src *s, FILE *fp)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    if (fstat(fileno(fp), &st) != 0) return nn__fail(NN_ERR_IO, "model file: cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode)) return nn__fail(NN_ERR_IO, "model file: not a regular file");
    s->fp = fp;
    s->size = (uint64_t)st.st_size;
    return NN_OK;
}

static nn_status stream_read(nnio_src *s, uint8_t *dst, size_t n)
{
    if (n && fread(dst, 1, n, s->fp) != n) {
        if (ferror(s->fp))
            return nn__fail(NN_ERR_IO, "model file: read error at byte %llu: %s", (unsigned long long)s->pos,
                            strerror(errno));
        return nn__fail(NN_ERR_IO, "model file: file shrank while being read (at byte %llu)",
                        (unsigned long long)s->pos);
    }
    return NN_OK;
}

nn_status nnio_src_read(nnio_src *s, uint8_t *dst, size_t n)
{
    if (n > s->size - s->pos)
        return nn__fail(NN_ERR_FORMAT, "model file: truncated at byte %llu", (unsigned long long)s->size);
    if (s->mem) {
        memcpy(dst, s->mem + s->pos, n);
    } else {
        nn_status st = stream_read(s, dst, n);
        if (st != NN_OK) return st;
    }
    s->crc = nnio_crc32(s->crc, dst, n);
    s->pos += n;
    return NN_OK;
}

nn_status nnio_src_payload(nnio_src *s, uint64_t len, uint64_t want, const uint8_t **payload,
                           uint64_t *avail, uint8_t **owned, uint32_t *crc)
{
    *owned = NULL;
    *payload = NULL;
    *avail = 0;
    if (s->mem) {
        /* The caller checked len against the bytes left, and those fit in memory, hence in size_t. */
        *payload = s->mem + s->pos;
        *avail = len;
        *crc = nnio_crc32(0, *payload, (size_t)len);
        s->crc = (uint32_t)crc32_combine(s->crc, *crc, (z_off_t)len);
        s->pos += len;
        return NN_OK;
    }
    if (want > len) want = len;
    if (want > SIZE_MAX) return nn__fail(NN_ERR_NO_MEMORY, "model file: section too large for memory");
    uint32_t c = 0;
    if (want > 0) {
        *owned = malloc((size_t)want);
        if (!*owned) return nn__fail(NN_ERR_NO_MEMORY, "model file: out of memory for a %llu-byte section",
                                     (unsigned long long)want);
        nn_status st = stream_read(s, *owned, (size_t)want);
        if (st != NN_OK) {
            free(*owned);
            *owned = NULL;
            return st;
        }
        c = nnio_crc32(c, *owned, (size_t)want);
        *payload = *owned;
        *avail = want;
    }
    uint8_t chunk[16384];
    for (uint64_t left = len - want; left > 0;) {
        size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
        nn_status st = stream_read(s, chunk, n);
        if (st != NN_OK) {
            free(*owned);
            *owned = NULL;
            *payload = NULL;
            return st;
        }
        c = nnio_crc32(c, chunk, n);
        left -= n;
    }
    *crc = c;
    s->crc = (uint32_t)crc32_combine(s->crc, c, (z_off_t)len);
    s->pos += len;
    return NN_OK;
}

nn_status nnio_read_file(const char *path, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return nn__fail(NN_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    nnio_src s;
    nn_status st = nnio_src_file(&s, fp);
    if (st == NN_OK && s.size > SIZE_MAX)
        st = nn__fail(NN_ERR_NO_MEMORY, "'%s' is too large for memory", path);
    uint8_t *buf = NULL;
    if (st == NN_OK) {
        /* One extra byte, to notice a file that grew since fstat. */
        buf = malloc((size_t)s.size + 1);
        if (!buf) st = nn__fail(NN_ERR_NO_MEMORY, "out of memory reading '%s' (%llu bytes)", path,
                                (unsigned long long)s.size);
    }
    if (st == NN_OK) {
        size_t got = fread(buf, 1, (size_t)s.size + 1, fp);
        if (ferror(fp))
            st = nn__fail(NN_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        else if (got != s.size)
            st = nn__fail(NN_ERR_IO, "'%s' changed size while being read", path);
    }
    fclose(fp);
    if (st != NN_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = (size_t)s.size;
    return NN_OK;
}
