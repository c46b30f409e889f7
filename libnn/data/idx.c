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
    /* The current member's header, filled by inflate as it parses it (done = 1 once complete, os
     * still -1 while the fixed 10 bytes are incomplete), and its flags byte (FLG) as read from the
     * file: together they say what a stream that ends inside its header lacked. */
    gz_header head;
    int flags;
    unsigned char in[1 << 16];
} reader;

/* The gzip header's optional fields (RFC 1952, 2.3.1). */
enum { GZ_FHCRC = 0x02, GZ_FEXTRA = 0x04, GZ_FNAME = 0x08, GZ_FCOMMENT = 0x10 };
enum { GZ_FIXED_HEADER = 10 };

/* Record "path: message" as the error. */
static nn_status fail_file(const char *path, nn_status status, const char *fmt, ...) NN_PRINTF(3, 4);
static nn_status fail_file(const char *path, nn_status status, const char *fmt, ...)
{
    char msg[512];
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

/* Called at the start of each gzip member, with its first bytes in zs.next_in. */
static void watch_member_header(reader *r)
{
    memset(&r->head, 0, sizeof r->head);
    r->head.os = -1;              /* inflate sets it from the header's last fixed byte */
    r->head.extra_len = UINT_MAX; /* and this once it has read an extra field's length */
    r->flags = r->zs.avail_in >= 4 ? r->zs.next_in[3] : 0;
    inflateGetHeader(&r->zs, &r->head); /* cannot fail on a stream set up for gzip */
}

/* "an extra field of N bytes, a file name and a comment": the optional fields the current member's
 * flags byte announces (RFC 1952, 2.3.1), or "" when none. */
static void announced_fields(const reader *r, char *buf, size_t len)
{
    const char *name[4];
    int count = 0;
    char extra[48] = "an extra field";
    if (r->flags & GZ_FEXTRA) {
        if (r->head.extra_len != UINT_MAX)
            snprintf(extra, sizeof extra, "an extra field of %u bytes", r->head.extra_len);
        name[count++] = extra;
    }
    if (r->flags & GZ_FNAME) name[count++] = "a file name";
    if (r->flags & GZ_FCOMMENT) name[count++] = "a comment";
    if (r->flags & GZ_FHCRC) name[count++] = "a header CRC";
    buf[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < count && used < len; i++) {
        const char *sep = i == 0 ? "" : i == count - 1 ? " and " : ", ";
        int n = snprintf(buf + used, len - used, "%s%s", sep, name[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
}

/* What was wrong when a gzip stream ran out of bytes: when the end came inside a member's header,
 * the header is named, since "cut short after 0 bytes" hides a damaged flags byte that made
 * inflate take the whole file for an extra field or a name. Empty when the header was complete. */
static void describe_cut_header(const reader *r, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!r->gz || !r->gz_cut || r->head.done) return;
    if (r->head.os < 0) {
        snprintf(buf, len, "the file ends inside the %d-byte gzip header", GZ_FIXED_HEADER);
        return;
    }
    char fields[128];
    announced_fields(r, fields, sizeof fields);
    snprintf(buf, len,
             "the gzip header does not end: its flags byte (0x%02x) announces %s, but the file ends first (a "
             "damaged flags byte, or a file cut short inside its header)",
             r->flags, fields[0] ? fields : "no optional fields");
}

/* " (why the gzip stream ended early)" to append to a truncation message, or "". */
static void cut_note(const reader *r, char *buf, size_t len)
{
    char header[320];
    describe_cut_header(r, header, sizeof header);
    if (header[0])
        snprintf(buf, len, " (%s)", header);
    else
        snprintf(buf, len, "%s", r->gz_cut ? " (the gzip stream is cut short)" : "");
}

static nn_status reader_open(reader *r, const char *path)
{
    r->path = path;
    /* The size checks below need a length known in advance, which pipes and devices lack. */
    const nn__open_result o = nn__open_regular(path, &r->f, &r->file_size);
    if (o.folder) return fail_file(path, NN_ERR_IO, "is a directory, not an IDX file");
    if (o.kind) return fail_file(path, NN_ERR_IO, "%s, not a regular file", o.kind);
    if (o.step) return fail_errno(path, o.step, o.err);

    size_t n = fread(r->in, 1, GZ_FIXED_HEADER, r->f);
    if (ferror(r->f)) return fail_errno(path, "cannot read", errno);
    r->gz = n >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b;
    if (r->gz) {
        /* 16 + MAX_WBITS: a gzip wrapper only, with its CRC-32 and length checked at the end. */
        if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
            return fail_file(path, NN_ERR_NO_MEMORY, "cannot set up gzip decompression");
        r->zs_ready = 1;
        r->zs.next_in = r->in;
        r->zs.avail_in = (uInt)n;
        watch_member_header(r);
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
    while (r->zs.avail_in < GZ_FIXED_HEADER && !eof) {
        nn_status st = refill(r, &eof);
        if (st != NN_OK) return st;
    }
    if (r->zs.avail_in == 0) {
        r->gz_ended = 1;
        return NN_OK;
    }
    if (r->zs.avail_in >= 2 && r->zs.next_in[0] == 0x1f && r->zs.next_in[1] == 0x8b) {
        if (inflateReset(&r->zs) != Z_OK) return fail_file(r->path, NN_ERR_FORMAT, "cannot restart gzip decoder");
        watch_member_header(r); /* inflateReset forgets the header it was given */
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
            /* Z_DATA_ERROR: a bad block, a bad header or a CRC-32 that does not match the content.
             * A false FEXTRA flag makes inflate skip real data as an "extra field" and then fail
             * on whatever follows: gzip(1) never writes the field, so it is worth naming. */
            char hint[256] = "";
            if (r->head.done == 1 && r->zs.total_out == 0 && (r->flags & GZ_FEXTRA)) {
                char fields[128];
                announced_fields(r, fields, sizeof fields);
                snprintf(hint, sizeof hint, "; its header's flags byte (0x%02x) announces %s: if the file has no "
                         "extra field, that byte is damaged", r->flags, fields);
            }
            return fail_file(r->path, NN_ERR_FORMAT, "corrupt gzip data (zlib: %s)%s",
                             r->zs.msg ? r->zs.msg : "stream error", hint);
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
    char cut[340];
    cut_note(r, cut, sizeof cut);
    if (rank == RANK_LABELS)
        return fail_file(r->path, NN_ERR_FORMAT, "truncated: header promises %lu labels, file holds %llu%s",
                         (unsigned long)dim[0], (unsigned long long)got, cut);
    return fail_file(r->path, NN_ERR_FORMAT,
                     "truncated: header promises %llu bytes (%lu images of %lux%lu), file holds %llu%s",
                     (unsigned long long)(header_bytes + body_bytes), (unsigned long)dim[0],
                     (unsigned long)dim[1], (unsigned long)dim[2], (unsigned long long)(header_bytes + got), cut);
}

/* Validates the header and the size it implies, and for images the caller's expected size (rows
 * and cols, 0: any). On success *body_bytes is the content length. */
static nn_status read_header(reader *r, int want_rank, int64_t rows, int64_t cols, uint32_t *dim,
                             uint64_t *header_bytes, uint64_t *body_bytes)
{
    const char *kind = want_rank == RANK_IMAGES ? "images" : "labels";
    const char *inner = r->gz ? " after gzip decompression" : "";
    unsigned char head[4 + 4 * RANK_IMAGES];
    size_t got;
    nn_status st = reader_read(r, head, 4, &got);
    if (st != NN_OK) return st;
    if (got < 4 && r->gz_cut) {
        char header[320];
        describe_cut_header(r, header, sizeof header);
        if (header[0]) return fail_file(r->path, NN_ERR_FORMAT, "%s", header);
        return fail_file(r->path, NN_ERR_FORMAT, "truncated: the gzip stream is cut short after %zu bytes", got);
    }
    if (got == 0) return fail_file(r->path, NN_ERR_FORMAT, "empty file%s, expected an IDX %s file", inner, kind);
    char cut[340];
    cut_note(r, cut, sizeof cut);
    if (got < 4)
        return fail_file(r->path, NN_ERR_FORMAT, "truncated header: %zu of 4 magic bytes%s%s", got, inner, cut);
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
        return fail_file(r->path, NN_ERR_FORMAT, "IDX rank %d%s, %s %s file has rank %d", head[3], hint,
                         want_rank == RANK_IMAGES ? "an" : "a", kind, want_rank);
    }
    const size_t dims_bytes = 4 * (size_t)want_rank;
    st = reader_read(r, head + 4, dims_bytes, &got);
    if (st != NN_OK) return st;
    if (got < dims_bytes) {
        cut_note(r, cut, sizeof cut);
        return fail_file(r->path, NN_ERR_FORMAT, "truncated header: %zu of %zu bytes%s", 4 + got, 4 + dims_bytes,
                         cut);
    }

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
    /* Before the body is read: a 14x56 image has MNIST's 784 pixels, and only its shape says so. */
    if (want_rank == RANK_IMAGES && ((rows && dim[1] != rows) || (cols && dim[2] != cols))) {
        char want[48];
        snprintf(want, sizeof want, "%lldx%lld", (long long)rows, (long long)cols);
        if (!rows) snprintf(want, sizeof want, "%lld wide", (long long)cols);
        if (!cols) snprintf(want, sizeof want, "%lld high", (long long)rows);
        return fail_file(r->path, NN_ERR_FORMAT, "images are %lux%lu (height x width), expected %s",
                         (unsigned long)dim[1], (unsigned long)dim[2], want);
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

/* Reads one whole IDX file of rank want_rank (images of rows x cols when those are not 0); on
 * success *data (malloc'd) holds dim[0] x ... bytes. */
static nn_status load_file(const char *path, int want_rank, int64_t rows, int64_t cols, uint32_t *dim, uint8_t **data)
{
    *data = NULL;
    reader *r = calloc(1, sizeof *r);
    if (!r) return fail_file(path, NN_ERR_NO_MEMORY, "cannot allocate a read buffer");
    uint64_t header_bytes = 0, body = 0;
    uint8_t *buf = NULL;
    nn_status st = reader_open(r, path);
    if (st == NN_OK) st = read_header(r, want_rank, rows, cols, dim, &header_bytes, &body);
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
    return nn_dataset_load_idx_expect(out, images_path, labels_path, 0, 0, 0);
}

nn_status nn_dataset_load_idx_expect(nn_dataset **out, const char *images_path, const char *labels_path, int classes,
                                     int64_t rows, int64_t cols)
{
    static const char who[] = "nn_dataset_load_idx";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    if (!images_path || !labels_path)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s path is NULL", who, images_path ? "labels" : "images");
    if (classes < 0 || classes > 256)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %d classes, expects 1..256 (labels are bytes), or 0 for any",
                        who, classes);
    if (rows < 0 || rows > NN_IDX_MAX_DIM || cols < 0 || cols > NN_IDX_MAX_DIM)
        return nn__fail(NN_ERR_INVALID_ARGUMENT,
                        "%s: expected image size %lldx%lld, each side must be 1..%lld, or 0 for any", who,
                        (long long)rows, (long long)cols, NN_IDX_MAX_DIM);
    uint32_t idim[RANK_IMAGES], ldim[RANK_LABELS];
    uint8_t *images, *labels;
    nn_status st = load_file(images_path, RANK_IMAGES, rows, cols, idim, &images);
    if (st != NN_OK) return st;
    st = load_file(labels_path, RANK_LABELS, 0, 0, ldim, &labels);
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
    /* A label past the declared classes would silently widen the model's output (a label of 10
     * makes an 11-class MNIST model), so it is refused rather than counted. */
    if (classes > 0)
        for (uint32_t i = 0; i < ldim[0]; i++)
            if (labels[i] >= classes) {
                st = fail_file(labels_path, NN_ERR_FORMAT, "label %d at index %lu is outside 0..%d", labels[i],
                               (unsigned long)i, classes - 1);
                free(images);
                free(labels);
                return st;
            }
    st = nn_dataset__adopt(out, idim[0], idim[1], idim[2], images, labels);
    /* Declared classes stand even when a set lacks the last ones (a small test split). */
    if (st == NN_OK && classes > 0) (*out)->classes = classes;
    return st;
}
