/* The IDX reader (LeCun's MNIST format), raw or gzip-compressed.
 *
 * An IDX file is a 4-byte magic (0, 0, data type, rank), rank big-endian uint32 dimensions, then
 * the product of the dimensions in elements. Only unsigned bytes (type 0x08) of rank 3 (images) and
 * rank 1 (labels) are read. Files are hostile input: every field is checked, sizes are bounded
 * before anything is allocated, and the content must be exactly as long as the header says.
 *
 * zlib's inflate is driven directly rather than through gzread: gzread reports a truncated stream
 * as an ordinary end of file and silently skips garbage after the stream, and both must be errors. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "dataset_internal.h"

/* Deflate expands data at most 1032:1 (zlib's FAQ), so a gzip file of S bytes cannot hold more
 * than about S * 1032 bytes: a header promising more is refused before allocating that much. */
#define GZIP_MAX_RATIO 1032u

enum { RANK_LABELS = 1, RANK_IMAGES = 3 };

typedef struct reader {
    FILE *f;
    const char *path;
    uint64_t file_size;
    int gz;         /* the file starts with the gzip magic 1f 8b */
    int gz_ended;   /* inflate reached the end of the last gzip member and nothing follows */
    int gz_cut;     /* the compressed file ended before the gzip stream did */
    int zs_ready;
    z_stream zs;
    unsigned char in[1 << 16];
} reader;

/* Record "path: message" as the error. */
static nn_status fail_file(const char *path, nn_status status, const char *fmt, ...) NN_PRINTF(3, 4);
static nn_status fail_file(const char *path, nn_status status, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nn__fail(status, "%s: %s", path, msg);
}

static nn_status fail_errno(const char *path, const char *what, int err)
{
    char buf[128];
    if (strerror_r(err, buf, sizeof buf) != 0) snprintf(buf, sizeof buf, "error %d", err);
    return fail_file(path, NN_ERR_IO, "%s: %s", what, buf);
}

static nn_status reader_open(reader *r, const char *path)
{
    r->path = path;
    r->f = fopen(path, "rb");
    if (!r->f) return fail_errno(path, "cannot open", errno);
    struct stat st;
    if (fstat(fileno(r->f), &st) != 0) return fail_errno(path, "cannot stat", errno);
    if (S_ISDIR(st.st_mode)) return fail_file(path, NN_ERR_IO, "is a directory, not an IDX file");
    /* The size checks below need a length known in advance, which pipes and devices lack. */
    if (!S_ISREG(st.st_mode)) return fail_file(path, NN_ERR_IO, "not a regular file");
    r->file_size = (uint64_t)st.st_size;

    size_t n = fread(r->in, 1, 2, r->f);
    if (ferror(r->f)) return fail_errno(path, "cannot read", errno);
    r->gz = n == 2 && r->in[0] == 0x1f && r->in[1] == 0x8b;
    if (r->gz) {
        /* 16 + MAX_WBITS: a gzip wrapper only, with its CRC-32 and length checked at the end. */
        if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
            return fail_file(path, NN_ERR_NO_MEMORY, "cannot set up gzip decompression");
        r->zs_ready = 1;
        r->zs.next_in = r->in;
        r->zs.avail_in = (uInt)n;
    } else if (fseek(r->f, 0, SEEK_SET) != 0) {
        return fail_errno(path, "cannot seek", errno);
    }
    return NN_OK;
}

static void reader_close(reader *r)
{
    if (r->zs_ready) inflateEnd(&r->zs);
    if (r->f) fclose(r->f);
}

/* Refill the compressed input; *eof is set when the file has no more bytes. */
static nn_status refill(reader *r, int *eof)
{
    *eof = 0;
    if (r->zs.avail_in > 0 && r->zs.next_in != r->in) memmove(r->in, r->zs.next_in, r->zs.avail_in);
    size_t have = r->zs.avail_in;
    size_t n = fread(r->in + have, 1, sizeof r->in - have, r->f);
    if (ferror(r->f)) return fail_errno(r->path, "cannot read", errno);
    r->zs.next_in = r->in;
    r->zs.avail_in = (uInt)(have + n);
    *eof = n == 0;
    return NN_OK;
}

/* After a gzip member ends, the file may hold another member (gzip allows concatenation) or must
 * end; anything else is garbage that gzip(1) would only warn about and that we refuse. */
static nn_status after_member(reader *r)
{
    int eof = 0;
    while (r->zs.avail_in < 2 && !eof) {
        nn_status st = refill(r, &eof);
        if (st != NN_OK) return st;
    }
    if (r->zs.avail_in == 0) {
        r->gz_ended = 1;
        return NN_OK;
    }
    if (r->zs.avail_in >= 2 && r->zs.next_in[0] == 0x1f && r->zs.next_in[1] == 0x8b) {
        if (inflateReset(&r->zs) != Z_OK) return fail_file(r->path, NN_ERR_FORMAT, "cannot restart gzip decoder");
        return NN_OK;
    }
    return fail_file(r->path, NN_ERR_FORMAT, "garbage after the end of the gzip stream");
}

/* Read up to len content bytes into buf; *got < len only at the end of the content. */
static nn_status reader_read(reader *r, unsigned char *buf, size_t len, size_t *got)
{
    *got = 0;
    if (!r->gz) {
        *got = fread(buf, 1, len, r->f);
        if (*got < len && ferror(r->f)) return fail_errno(r->path, "cannot read", errno);
        return NN_OK;
    }
    while (*got < len && !r->gz_ended && !r->gz_cut) {
        if (r->zs.avail_in == 0) {
            int eof = 0;
            nn_status st = refill(r, &eof);
            if (st != NN_OK) return st;
            if (eof) {
                r->gz_cut = 1;
                break;
            }
        }
        size_t want = len - *got;
        r->zs.next_out = buf + *got;
        r->zs.avail_out = want > UINT_MAX ? UINT_MAX : (uInt)want;
        uInt before = r->zs.avail_out;
        int ret = inflate(&r->zs, Z_NO_FLUSH);
        *got += before - r->zs.avail_out;
        if (ret == Z_STREAM_END) {
            nn_status st = after_member(r);
            if (st != NN_OK) return st;
        } else if (ret == Z_MEM_ERROR) {
            return fail_file(r->path, NN_ERR_NO_MEMORY, "out of memory while decompressing");
        } else if (ret != Z_OK && !(ret == Z_BUF_ERROR && r->zs.avail_in == 0)) {
            /* Z_DATA_ERROR: a bad block, a bad header or a CRC-32 that does not match the content. */
            return fail_file(r->path, NN_ERR_FORMAT, "corrupt gzip data (zlib: %s)",
                             r->zs.msg ? r->zs.msg : "stream error");
        }
    }
    return NN_OK;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* "header promises ..., file holds ..." in the units a reader of the message thinks in: labels for
 * a labels file (one byte each), bytes including the header for an images file. */
static nn_status fail_truncated(const reader *r, int rank, const uint32_t *dim, uint64_t header_bytes,
                                uint64_t body_bytes, uint64_t got)
{
    const char *cut = r->gz_cut ? " (the gzip stream is cut short)" : "";
    if (rank == RANK_LABELS)
        return fail_file(r->path, NN_ERR_FORMAT, "truncated: header promises %lu labels, file holds %llu%s",
                         (unsigned long)dim[0], (unsigned long long)got, cut);
    return fail_file(r->path, NN_ERR_FORMAT,
                     "truncated: header promises %llu bytes (%lu images of %lux%lu), file holds %llu%s",
                     (unsigned long long)(header_bytes + body_bytes), (unsigned long)dim[0],
                     (unsigned long)dim[1], (unsigned long)dim[2], (unsigned long long)(header_bytes + got), cut);
}

/* Validates the header and the size it implies. On success *body_bytes is the content length. */
static nn_status read_header(reader *r, int want_rank, uint32_t *dim, uint64_t *header_bytes, uint64_t *body_bytes)
{
    const char *kind = want_rank == RANK_IMAGES ? "images" : "labels";
    const char *inner = r->gz ? " after gzip decompression" : "";
    unsigned char head[4 + 4 * RANK_IMAGES];
    size_t got;
    nn_status st = reader_read(r, head, 4, &got);
    if (st != NN_OK) return st;
    if (got < 4 && r->gz_cut)
        return fail_file(r->path, NN_ERR_FORMAT, "truncated: the gzip stream is cut short after %zu bytes", got);
    if (got == 0) return fail_file(r->path, NN_ERR_FORMAT, "empty file%s, expected an IDX %s file", inner, kind);
    if (got < 4) return fail_file(r->path, NN_ERR_FORMAT, "truncated header: %zu of 4 magic bytes%s", got, inner);
    if (head[0] != 0 || head[1] != 0)
        return fail_file(r->path, NN_ERR_FORMAT, "not an IDX file: wrong magic %02x %02x %02x %02x%s", head[0],
                         head[1], head[2], head[3], inner);
    if (head[2] != 0x08)
        return fail_file(r->path, NN_ERR_FORMAT, "IDX data type 0x%02x is not supported (only 0x08, unsigned bytes)",
                         head[2]);
    if (head[3] != want_rank) {
        const char *hint = head[3] == RANK_IMAGES ? " (an images file?)"
                           : head[3] == RANK_LABELS ? " (a labels file?)"
                                                    : "";
        return fail_file(r->path, NN_ERR_FORMAT, "IDX rank %d%s, an %s file has rank %d", head[3], hint, kind,
                         want_rank);
    }
    const size_t dims_bytes = 4 * (size_t)want_rank;
    st = reader_read(r, head + 4, dims_bytes, &got);
    if (st != NN_OK) return st;
    if (got < dims_bytes)
        return fail_file(r->path, NN_ERR_FORMAT, "truncated header: %zu of %zu bytes", 4 + got, 4 + dims_bytes);

    uint64_t body = 1;
    for (int i = 0; i < want_rank; i++) {
        dim[i] = be32(head + 4 + 4 * i);
        const long long limit = i == 0 ? NN_IDX_MAX_ITEMS : NN_IDX_MAX_DIM;
        const char *what = i == 0 ? (want_rank == RANK_IMAGES ? "image count" : "label count")
                           : i == 1 ? "image height" : "image width";
        if (dim[i] == 0) return fail_file(r->path, NN_ERR_FORMAT, "%s (dimension %d) is 0", what, i);
        if (dim[i] > (uint64_t)limit)
            return fail_file(r->path, NN_ERR_FORMAT, "%s (dimension %d) is %lu, the limit is %lld", what, i,
                             (unsigned long)dim[i], limit);
        body *= dim[i]; /* at most 1e8 * 65536^2 < 2^59: no overflow in 64 bits */
    }
    *header_bytes = 4 + dims_bytes;
    *body_bytes = body;
    if (body > SIZE_MAX)
        return fail_file(r->path, NN_ERR_NO_MEMORY, "%llu bytes of %s do not fit in this machine's memory",
                         (unsigned long long)body, kind);

    /* The file's own length settles most truncations before the big allocation. */
    if (!r->gz) {
        const uint64_t total = *header_bytes + body;
        if (r->file_size < total)
            return fail_truncated(r, want_rank, dim, *header_bytes, body, r->file_size - *header_bytes);
        if (r->file_size > total)
            return fail_file(r->path, NN_ERR_FORMAT, "%llu extra bytes after the %llu the header promises",
                             (unsigned long long)(r->file_size - total), (unsigned long long)total);
    } else if (body / GZIP_MAX_RATIO > r->file_size) {
        return fail_file(r->path, NN_ERR_FORMAT,
                         "truncated: header promises %llu bytes, a gzip file of %llu bytes cannot hold them",
                         (unsigned long long)(*header_bytes + body), (unsigned long long)r->file_size);
    }
    return NN_OK;
}

/* Reads one whole IDX file of rank want_rank; on success *data (malloc'd) holds dim[0] x ... bytes. */
static nn_status load_file(const char *path, int want_rank, uint32_t *dim, uint8_t **data)
{
    *data = NULL;
    reader *r = calloc(1, sizeof *r);
    if (!r) return fail_file(path, NN_ERR_NO_MEMORY, "cannot allocate a read buffer");
    uint64_t header_bytes = 0, body = 0;
    uint8_t *buf = NULL;
    nn_status st = reader_open(r, path);
    if (st == NN_OK) st = read_header(r, want_rank, dim, &header_bytes, &body);
    if (st == NN_OK) {
        buf = malloc((size_t)body);
        if (!buf)
            st = fail_file(path, NN_ERR_NO_MEMORY, "cannot allocate %llu bytes", (unsigned long long)body);
    }
    if (st == NN_OK) {
        size_t got;
        st = reader_read(r, buf, (size_t)body, &got);
        if (st == NN_OK && got < body) st = fail_truncated(r, want_rank, dim, header_bytes, body, got);
    }
    if (st == NN_OK) {
        /* The content must end exactly here, and a gzip stream must also end (its CRC-32 and length
         * are checked only then). */
        unsigned char extra[4096];
        uint64_t n_extra = 0;
        size_t got;
        do {
            st = reader_read(r, extra, sizeof extra, &got);
            n_extra += got;
        } while (st == NN_OK && got == sizeof extra);
        if (st == NN_OK && n_extra > 0)
            st = fail_file(path, NN_ERR_FORMAT, "%llu extra bytes after the %llu the header promises%s",
                           (unsigned long long)n_extra, (unsigned long long)(header_bytes + body),
                           r->gz ? " (after gzip decompression)" : "");
        else if (st == NN_OK && r->gz_cut)
            st = fail_file(path, NN_ERR_FORMAT, "truncated: the gzip stream ends without its trailer "
                                                "(CRC-32 and length)");
    }
    reader_close(r);
    free(r);
    if (st != NN_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    return NN_OK;
}

nn_status nn_dataset_load_idx(nn_dataset **out, const char *images_path, const char *labels_path)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_load_idx: out is NULL");
    *out = NULL;
    if (!images_path || !labels_path)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_load_idx: %s path is NULL",
                        images_path ? "labels" : "images");
    uint32_t idim[RANK_IMAGES], ldim[RANK_LABELS];
    uint8_t *images, *labels;
    nn_status st = load_file(images_path, RANK_IMAGES, idim, &images);
    if (st != NN_OK) return st;
    st = load_file(labels_path, RANK_LABELS, ldim, &labels);
    if (st != NN_OK) {
        free(images);
        return st;
    }
    if (idim[0] != ldim[0]) {
        free(images);
        free(labels);
        return nn__fail(NN_ERR_FORMAT, "%s holds %lu images but %s holds %lu labels", images_path,
                        (unsigned long)idim[0], labels_path, (unsigned long)ldim[0]);
    }
    /* Labels are bytes, so they are below 256 by construction; classes = largest + 1. */
    return nn_dataset__adopt(out, idim[0], idim[1], idim[2], images, labels);
}
