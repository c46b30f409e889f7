/* Where a model file's bytes come from: memory, or a file read front to back section by section,
 * so that a file is judged by its header before anything sized by the file is allocated, and
 * unknown sections and trailing junk are never held in memory. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
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

nn_status nnio_src_open(nnio_src *s, const char *path)
{
    memset(s, 0, sizeof *s);
    FILE *fp;
    uint64_t size = 0;
    const nn__open_result r = nn__open_regular(path, &fp, &size);
    if (r.kind) return nn__fail(NN_ERR_IO, "model file: %s, not a regular file", r.kind);
    if (r.step) {
        if (!strcmp(r.step, "cannot open"))
            return nn__fail(NN_ERR_IO, "cannot open '%s': %s", path, strerror(r.err));
        return nn__fail(r.err == ENOMEM ? NN_ERR_NO_MEMORY : NN_ERR_IO, "model file: %s: %s", r.step,
                        strerror(r.err));
    }
    s->fp = fp;
    /* Every read is bounded by this size, never by a length the file declares. */
    s->size = size;
    return NN_OK;
}

void nnio_src_close(nnio_src *s)
{
    if (s->fp) fclose(s->fp);
    s->fp = NULL;
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
