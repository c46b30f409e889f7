/* libFuzzer target for the IDX reader through the public API: nn_dataset_load_idx() and
 * nn_dataset_load_idx_expect() on an images file and a labels file cut from the input.
 *
 * The reader takes paths, so the two files live in memory files (memfd, opened by the reader through
 * /proc/self/fd; an ordinary temporary file where memfd is missing). Input layout:
 *   byte 0     bit 0: gzip-compress the images part first; bit 1: the same for the labels part;
 *              bit 2: load with the expectations below (else nn_dataset_load_idx)
 *   byte 1     expected classes (0: any)
 *   byte 2, 3  expected image rows and cols (0: any)
 *   byte 4, 5  length of the images part, big-endian (cut to what is there)
 *   the rest   the images part, then the labels part
 * Parts given as they are reach the gzip reader too when they start with 1f 8b (the seed corpus has
 * such files), so damaged gzip headers and streams are fuzzed as well as IDX content behind a valid
 * stream. What loads is used, and its invariants are checked: abort() on any violation. */
#define _GNU_SOURCE

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <nn/nn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile float sink;

typedef struct memfile {
    int fd;
    char path[64];
} memfile;

/* A file the reader can open by name, made once per process. */
static int memfile_open(memfile *m, const char *name)
{
#ifdef MFD_CLOEXEC
    m->fd = memfd_create(name, MFD_CLOEXEC);
    if (m->fd >= 0) {
        snprintf(m->path, sizeof m->path, "/proc/self/fd/%d", m->fd);
        return 0;
    }
#endif
    snprintf(m->path, sizeof m->path, "/tmp/fuzz_idx_%s_%ld", name, (long)getpid());
    m->fd = open(m->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return m->fd >= 0 ? 0 : -1;
}

static void memfile_set(const memfile *m, const uint8_t *p, size_t n)
{
    if (ftruncate(m->fd, 0) != 0) abort();
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(m->fd, p + done, n - done, (off_t)done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
}

/* One gzip member of p[0..n); NULL when zlib cannot (out of memory). */
static uint8_t *gzip(const uint8_t *p, size_t n, int level, size_t *out_n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&zs, (uLong)n) + 32;
    uint8_t *out = malloc(cap);
    if (!out) {
        deflateEnd(&zs);
        return NULL;
    }
    zs.next_in = (Bytef *)p;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) abort(); /* deflateBound is a promise */
    *out_n = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static void set_part(const memfile *m, const uint8_t *p, size_t n, int compress, int level)
{
    if (!compress) {
        memfile_set(m, p, n);
        return;
    }
    size_t zn = 0;
    uint8_t *z = gzip(p, n, level, &zn);
    if (!z) {
        memfile_set(m, p, n);
        return;
    }
    memfile_set(m, z, zn);
    free(z);
}

/* Every property a loaded dataset must have; abort() on any violation. */
static void use_dataset(const nn_dataset *ds, int classes, int rows, int cols)
{
    const int64_t n = nn_dataset_count(ds), features = nn_dataset_features(ds);
    int64_t r = 0, c = 0;
    nn_dataset_image_size(ds, &r, &c);
    if (n < 1 || r < 1 || c < 1 || features != r * c) abort();
    if ((rows && r != rows) || (cols && c != cols)) abort();
    const uint8_t *labels = nn_dataset_labels(ds), *images = nn_dataset_images(ds);
    int max = 0;
    for (int64_t i = 0; i < n; i++)
        if (labels[i] > max) max = labels[i];
    const int k = nn_dataset_classes(ds);
    if (classes ? k != classes || max >= classes : k != max + 1) abort();
    unsigned sum = 0;
    for (int64_t i = 0; i < n * features; i++) sum += images[i]; /* every byte is readable */
    sink += (float)sum;

    /* A batch of the last rows, as training would gather it. */
    const int64_t b = n < 4 ? n : 4;
    if (features > 1 << 16) return;
    float *x = malloc((size_t)(b * features) * sizeof *x), y[4];
    nn_tensor tx, ty;
    if (x && nn_tensor_view(&tx, x, 2, (int64_t[]){b, features}) == NN_OK &&
        nn_tensor_view(&ty, y, 1, (int64_t[]){b}) == NN_OK) {
        if (nn_dataset_slice(ds, n - b, b, &tx, &ty) != NN_OK) abort();
        for (int64_t i = 0; i < b; i++)
            if (y[i] != (float)labels[n - b + i] ||
                x[i * features] != (float)images[(n - b + i) * features] / 255.0f)
                abort();
        sink += x[0] + y[0];
    }
    free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static memfile images, labels;
    static int ready;
    if (!ready) {
        if (memfile_open(&images, "images") != 0 || memfile_open(&labels, "labels") != 0) abort();
        ready = 1;
    }
    if (size < 6) return 0;
    const int mode = data[0], classes = data[1], rows = data[2], cols = data[3];
    size_t image_len = (size_t)data[4] << 8 | data[5];
    data += 6;
    const size_t rest = size - 6;
    if (image_len > rest) image_len = rest;
    /* The compression level comes from spare mode bits, so stored, fast and best streams all occur. */
    const int level = (mode >> 3) % 10;
    set_part(&images, data, image_len, mode & 1, level);
    set_part(&labels, data + image_len, rest - image_len, mode & 2, level);

    nn_dataset *ds = NULL;
    const int expect = mode & 4;
    nn_status st = expect ? nn_dataset_load_idx_expect(&ds, images.path, labels.path, classes, rows, cols)
                          : nn_dataset_load_idx(&ds, images.path, labels.path);
    if (st == NN_OK) {
        if (!ds) abort();
        use_dataset(ds, expect ? classes : 0, expect ? rows : 0, expect ? cols : 0);
        nn_dataset_free(ds);
    } else {
        if (ds) abort();                            /* a failure leaves nothing behind */
        if (!nn_last_error()[0]) abort();           /* and says why */
        if (st == NN_ERR_INVALID_ARGUMENT) abort(); /* the arguments above are always valid */
    }
    return 0;
}
