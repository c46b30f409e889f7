/* Fault injection in SQLite's manner. For each operation of the library (building, compiling,
 * reserving, training, evaluating, saving, loading, reading file information, loading datasets), the
 * N-th call to an allocator fails, and in a second loop the N-th call to the file system, for
 * N = 1, 2, ... until the operation completes without reaching an N-th call: once with only that
 * call failing, once with every later one failing too. Each failing run must return NN_ERR_NO_MEMORY
 * (or NN_ERR_IO) with a message, leak no memory and no file descriptor, leave what it was given
 * usable and as it was, and, for a save, leave the previous file byte-identical with no temporary
 * file beside it. Each operation prints how many failure points it covered.
 *
 * The failures come from wrappers linked in with GNU ld's --wrap (tests/meson.build): every call to
 * one of the functions below from an object of this program, libnn's static library included,
 * reaches __wrap_<name> here, and __real_<name> is the C library's function (ASan's interceptor in
 * a sanitizer build, so ASan still sees every block). Calls made inside shared libraries (OpenBLAS,
 * zlib, the C library itself) are not wrapped: the failure points are libnn's own calls. */
#define _GNU_SOURCE /* struct stat64, O_TMPFILE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "internal.h" /* nn__fail, NN_PRINTF */
#include "nn/nn.h"
#include "testutil.h"

#define OK(call) assert_int_equal((call), NN_OK)

/* ---------------------------------------------------------------- the injector */

enum { FI_ALLOC, FI_IO, FI_CLASSES };
static const char *const class_name[FI_CLASSES] = {"allocation", "I/O"};

static struct {
    int armed, cls, persist;
    long fail_at;            /* 1-based number of the call of class cls that fails */
    long calls[FI_CLASSES];  /* calls seen since armed */
    long injected;           /* failures handed out since armed */
    const char *first;       /* the function that failed first */
    int first_errno;         /* and its errno */
    long live;               /* blocks allocated minus blocks freed through the wrappers, ever */
    size_t short_writes;     /* non-zero: write() writes at most this many bytes ... */
    long writes;             /* ... and every third call is interrupted (EINTR) first */
} fi;

static void arm(int cls, long fail_at, int persist)
{
    fi.armed = 1;
    fi.cls = cls;
    fi.fail_at = fail_at;
    fi.persist = persist;
    fi.calls[FI_ALLOC] = fi.calls[FI_IO] = 0;
    fi.injected = 0;
    fi.first = NULL;
    fi.first_errno = 0;
}

static void disarm(void) { fi.armed = 0; }

static int fail_now(int cls, const char *fn)
{
    if (!fi.armed) return 0;
    long n = ++fi.calls[cls];
    if (cls != fi.cls || n < fi.fail_at || (n > fi.fail_at && !fi.persist)) return 0;
    if (fi.injected++ == 0) fi.first = fn;
    return 1;
}

static int fail_int(int err)
{
    if (fi.injected == 1) fi.first_errno = err;
    errno = err;
    return -1;
}

static void *fail_ptr(int err)
{
    if (fi.injected == 1) fi.first_errno = err;
    errno = err;
    return NULL;
}

/* Prototypes: the wrapped functions as the linker knows them. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);

int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);
int __real_mkstemp(char *tmpl);
int __real_mkstemp64(char *tmpl);
ssize_t __real_write(int fd, const void *p, size_t n);
ssize_t __real_read(int fd, void *p, size_t n);
int __real_fsync(int fd);
int __real_fdatasync(int fd);
int __real_close(int fd);
int __real_fchmod(int fd, mode_t mode);
int __real_fcntl(int fd, int cmd, ...);
int __real_fcntl64(int fd, int cmd, ...);
int __real_fseek(FILE *fp, long off, int whence);
int __real_rename(const char *from, const char *to);
int __real_lstat(const char *path, struct stat *st);
int __real_lstat64(const char *path, struct stat64 *st);
int __real_fstat(int fd, struct stat *st);
int __real_fstat64(int fd, struct stat64 *st);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__real_fopen64(const char *path, const char *mode);
FILE *__real_fdopen(int fd, const char *mode);
size_t __real_fread(void *p, size_t size, size_t n, FILE *fp);
int __real_inflateInit2_(z_streamp zs, int bits, const char *version, int size);
int __real_inflate(z_streamp zs, int flush);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
int __wrap_mkstemp(char *tmpl);
int __wrap_mkstemp64(char *tmpl);
ssize_t __wrap_write(int fd, const void *p, size_t n);
ssize_t __wrap_read(int fd, void *p, size_t n);
int __wrap_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_close(int fd);
int __wrap_fchmod(int fd, mode_t mode);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_fcntl64(int fd, int cmd, ...);
int __wrap_fseek(FILE *fp, long off, int whence);
int __wrap_rename(const char *from, const char *to);
int __wrap_lstat(const char *path, struct stat *st);
int __wrap_lstat64(const char *path, struct stat64 *st);
int __wrap_fstat(int fd, struct stat *st);
int __wrap_fstat64(int fd, struct stat64 *st);
FILE *__wrap_fopen(const char *path, const char *mode);
FILE *__wrap_fopen64(const char *path, const char *mode);
FILE *__wrap_fdopen(int fd, const char *mode);
size_t __wrap_fread(void *p, size_t size, size_t n, FILE *fp);
int __wrap_inflateInit2_(z_streamp zs, int bits, const char *version, int size);
int __wrap_inflate(z_streamp zs, int flush);

/* Allocation. */

void *__wrap_malloc(size_t n)
{
    if (fail_now(FI_ALLOC, "malloc")) return fail_ptr(ENOMEM);
    void *p = __real_malloc(n);
    if (p) fi.live++;
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (fail_now(FI_ALLOC, "calloc")) return fail_ptr(ENOMEM);
    void *p = __real_calloc(n, size);
    if (p) fi.live++;
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (fail_now(FI_ALLOC, "realloc")) return fail_ptr(ENOMEM);
    void *q = __real_realloc(p, n);
    if (q && !p) fi.live++;
    if (!q && p && n == 0) fi.live--; /* glibc frees p */
    return q;
}

int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    if (fail_now(FI_ALLOC, "posix_memalign")) return fail_int(ENOMEM), ENOMEM;
    int r = __real_posix_memalign(p, align, n);
    if (r == 0) fi.live++;
    return r;
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    if (fail_now(FI_ALLOC, "aligned_alloc")) return fail_ptr(ENOMEM);
    void *p = __real_aligned_alloc(align, n);
    if (p) fi.live++;
    return p;
}

char *__wrap_strdup(const char *s)
{
    if (fail_now(FI_ALLOC, "strdup")) return fail_ptr(ENOMEM);
    char *p = __real_strdup(s);
    if (p) fi.live++;
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    if (fail_now(FI_ALLOC, "strndup")) return fail_ptr(ENOMEM);
    char *p = __real_strndup(s, n);
    if (p) fi.live++;
    return p;
}

void __wrap_free(void *p)
{
    if (p) fi.live--;
    __real_free(p);
}

/* The file system: each failure has the errno a real one would have. */

static int open_mode(int flags, va_list ap) { return flags & (O_CREAT | O_TMPFILE) ? va_arg(ap, int) : 0; }

int __wrap_open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int mode = open_mode(flags, ap);
    va_end(ap);
    if (fail_now(FI_IO, "open")) return fail_int(EMFILE);
    return __real_open(path, flags, mode);
}

int __wrap_open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int mode = open_mode(flags, ap);
    va_end(ap);
    if (fail_now(FI_IO, "open")) return fail_int(EMFILE);
    return __real_open64(path, flags, mode);
}

int __wrap_mkstemp(char *tmpl)
{
    if (fail_now(FI_IO, "mkstemp")) return fail_int(ENOSPC);
    return __real_mkstemp(tmpl);
}

int __wrap_mkstemp64(char *tmpl)
{
    if (fail_now(FI_IO, "mkstemp")) return fail_int(ENOSPC);
    return __real_mkstemp64(tmpl);
}

ssize_t __wrap_write(int fd, const void *p, size_t n)
{
    if (fail_now(FI_IO, "write")) return fail_int(ENOSPC);
    if (fi.short_writes) {
        if (++fi.writes % 3 == 0) return fail_int(EINTR);
        if (n > fi.short_writes) n = fi.short_writes;
    }
    return __real_write(fd, p, n);
}

ssize_t __wrap_read(int fd, void *p, size_t n)
{
    if (fail_now(FI_IO, "read")) return fail_int(EIO);
    return __real_read(fd, p, n);
}

int __wrap_fsync(int fd)
{
    if (fail_now(FI_IO, "fsync")) return fail_int(EIO);
    return __real_fsync(fd);
}

int __wrap_fdatasync(int fd)
{
    if (fail_now(FI_IO, "fdatasync")) return fail_int(EIO);
    return __real_fdatasync(fd);
}

/* Linux releases the descriptor even when close reports an error: so does this one. */
int __wrap_close(int fd)
{
    int r = __real_close(fd);
    if (fail_now(FI_IO, "close")) return fail_int(EIO);
    return r;
}

int __wrap_fchmod(int fd, mode_t mode)
{
    if (fail_now(FI_IO, "fchmod")) return fail_int(EPERM);
    return __real_fchmod(fd, mode);
}

/* The third argument is an int or a pointer; glibc itself reads it as a pointer. */
int __wrap_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (fail_now(FI_IO, "fcntl")) return fail_int(EIO);
    return __real_fcntl(fd, cmd, arg);
}

int __wrap_fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (fail_now(FI_IO, "fcntl")) return fail_int(EIO);
    return __real_fcntl64(fd, cmd, arg);
}

int __wrap_fseek(FILE *fp, long off, int whence)
{
    if (fail_now(FI_IO, "fseek")) return fail_int(EIO);
    return __real_fseek(fp, off, whence);
}

int __wrap_rename(const char *from, const char *to)
{
    if (fail_now(FI_IO, "rename")) return fail_int(EIO);
    return __real_rename(from, to);
}

int __wrap_lstat(const char *path, struct stat *st)
{
    if (fail_now(FI_IO, "lstat")) return fail_int(EIO);
    return __real_lstat(path, st);
}

int __wrap_lstat64(const char *path, struct stat64 *st)
{
    if (fail_now(FI_IO, "lstat")) return fail_int(EIO);
    return __real_lstat64(path, st);
}

int __wrap_fstat(int fd, struct stat *st)
{
    if (fail_now(FI_IO, "fstat")) return fail_int(EIO);
    return __real_fstat(fd, st);
}

int __wrap_fstat64(int fd, struct stat64 *st)
{
    if (fail_now(FI_IO, "fstat")) return fail_int(EIO);
    return __real_fstat64(fd, st);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
    if (fail_now(FI_IO, "fopen")) return fail_ptr(EMFILE);
    return __real_fopen(path, mode);
}

FILE *__wrap_fopen64(const char *path, const char *mode)
{
    if (fail_now(FI_IO, "fopen")) return fail_ptr(EMFILE);
    return __real_fopen64(path, mode);
}

FILE *__wrap_fdopen(int fd, const char *mode)
{
    if (fail_now(FI_IO, "fdopen")) return fail_ptr(ENOMEM);
    return __real_fdopen(fd, mode);
}

/* A read error as stdio reports one: nothing read, and the stream's error indicator set. */
size_t __wrap_fread(void *p, size_t size, size_t n, FILE *fp)
{
    if (fail_now(FI_IO, "fread")) {
        fail_int(EIO);
#ifdef _IO_ERR_SEEN
        fp->_flags |= _IO_ERR_SEEN; /* glibc's ferror() flag; without it a short read looks like EOF */
#endif
        return 0;
    }
    return __real_fread(p, size, n, fp);
}

/* zlib allocates inside itself, out of reach of the wrappers: its set-up, and inflate (which
 * allocates its window on first use), failing for want of memory are the nearest. */
int __wrap_inflateInit2_(z_streamp zs, int bits, const char *version, int size)
{
    if (fail_now(FI_ALLOC, "inflateInit2")) return fail_int(ENOMEM), Z_MEM_ERROR;
    return __real_inflateInit2_(zs, bits, version, size);
}

int __wrap_inflate(z_streamp zs, int flush)
{
    if (fail_now(FI_ALLOC, "inflate")) return fail_int(ENOMEM), Z_MEM_ERROR;
    return __real_inflate(zs, flush);
}

/* ---------------------------------------------------------------- problems and tallies */

static char where[160];   /* the run being checked, for messages */
static char message[512]; /* nn_last_error() right after the run */
static int problems;

static void problem(const char *fmt, ...) NN_PRINTF(1, 2);
static void problem(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("faults: PROBLEM in %s: %s\n", where, msg);
    fflush(stdout);
    problems++;
}

typedef struct tally {
    long points[FI_CLASSES];    /* failure points of each class (calls made by a complete run) */
    long tolerated[FI_CLASSES]; /* points where the operation still succeeded (single failure) */
    long leaks, damaged, new_after_error;
    const char *fn[16];         /* I/O points by function */
    long fn_count[16];
    char tolerated_fn[128];     /* the functions whose failure did not fail the operation */
} tally;

static struct {
    long points[FI_CLASSES], leaks, damaged, runs;
    int ops;
} total;

static void count_fn(tally *t, const char *fn)
{
    int i;
    for (i = 0; i < 16 && t->fn[i] && strcmp(t->fn[i], fn) != 0; i++) {}
    if (i == 16) return;
    t->fn[i] = fn;
    t->fn_count[i]++;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

/* ---------------------------------------------------------------- models and files */

enum { N_IN = 4, N_HIDDEN = 6, N_OUT = 3, BATCH = 8, N_IMAGES = 5 };
#define CREATED "2026-12-01T00:00:00Z"

/* Shared by every run: a trained model with its optimizer, the files and bytes the save and load
 * runs use, and a folder for them. */
static struct {
    char *dir;                   /* the IDX files, and save/ */
    char save_dir[512], path[600]; /* dir/save, dir/save/model.nnm */
    nn_model *trained;
    nn_rng *rng;                 /* saved with the model */
    void *old_bytes, *new_bytes; /* a different model's file; what saving `trained` writes */
    size_t old_size, new_size;
    char images[512], labels[512], images_gz[512];
} g;

static nn_save_options save_options(void)
{
    static const char *const keys[] = {"created", "purpose"};
    static const char *const values[] = {CREATED, "fault injection"};
    nn_save_options o = NN_SAVE_OPTIONS_INIT;
    o.with_optimizer = 1;
    o.rng = g.rng;
    o.epoch = 3;
    o.meta_keys = keys;
    o.meta_values = values;
    o.meta_count = 2;
    return o;
}

static void make_batch(float x[BATCH * N_IN], float y[BATCH])
{
    nn_rng *r;
    OK(nn_rng_create(&r, 11));
    tu_fill_uniform(x, BATCH * N_IN, -1.0f, 1.0f, r);
    for (int i = 0; i < BATCH; i++) y[i] = (float)nn_rng_below(r, N_OUT);
    nn_rng_free(r);
}

/* 4 -> dense 6 relu -> tanh -> dense 3 linear, softmax cross-entropy, Adam. */
static nn_status build_layers(nn_model **out)
{
    nn_status st = nn_model_create(out, N_IN);
    if (st == NN_OK) st = nn_model_add_dense(*out, N_HIDDEN, nn_activation_make(NN_ACT_RELU));
    if (st == NN_OK) st = nn_model_add_activation(*out, nn_activation_make(NN_ACT_TANH));
    if (st == NN_OK) st = nn_model_add_dense(*out, N_OUT, nn_activation_make(NN_ACT_LINEAR));
    return st;
}

static nn_model *make_model(int compiled, int reserved, int steps)
{
    nn_model *m;
    OK(build_layers(&m));
    if (!compiled) return m;
    nn_optimizer *opt;
    OK(nn_optimizer_create_adam(&opt, NULL));
    OK(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt));
    nn_rng *rng;
    OK(nn_rng_create(&rng, 5));
    OK(nn_model_init(m, rng));
    nn_rng_free(rng);
    if (reserved) OK(nn_model_reserve(m, BATCH));
    float xb[BATCH * N_IN], yb[BATCH];
    nn_tensor x, y;
    int64_t xs[2] = {BATCH, N_IN}, ys[1] = {BATCH};
    make_batch(xb, yb);
    OK(nn_tensor_view(&x, xb, 2, xs));
    OK(nn_tensor_view(&y, yb, 1, ys));
    for (int s = 0; s < steps; s++) OK(nn_model_train_step(m, &x, &y, NULL, NULL));
    return m;
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

/* The whole file at path in a new buffer, or NULL when there is none. */
static void *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    *size = 0;
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            buf = realloc(buf, cap *= 2);
            assert_non_null(buf);
        }
    }
    fclose(f);
    *size = n;
    return buf;
}

static int same_bytes(const void *a, size_t na, const void *b, size_t nb)
{
    return na == nb && memcmp(a, b, na) == 0;
}

/* The names in the model's folder other than model.nnm, into buf, and removed, so that the next
 * run is judged on its own; how many there were. */
static int strangers(char *buf, size_t cap)
{
    DIR *d = opendir(g.save_dir);
    assert_non_null(d);
    int n = 0;
    buf[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "model.nnm")) continue;
        n++;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", g.save_dir, e->d_name);
        unlink(path);
        size_t len = strlen(buf), k = strlen(e->d_name);
        if (len + k + 2 <= cap) {
            buf[len] = ' ';
            memcpy(buf + len + 1, e->d_name, k + 1);
        }
    }
    closedir(d);
    return n;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void write_idx_files(void)
{
    unsigned char im[16 + N_IMAGES * 4], lb[8 + N_IMAGES];
    put_be32(im, 0x803);
    put_be32(im + 4, N_IMAGES);
    put_be32(im + 8, 2);
    put_be32(im + 12, 2);
    for (int i = 0; i < N_IMAGES * 4; i++) im[16 + i] = (unsigned char)(i * 37);
    put_be32(lb, 0x801);
    put_be32(lb + 4, N_IMAGES);
    for (int i = 0; i < N_IMAGES; i++) lb[8 + i] = (unsigned char)(i % 2);
    snprintf(g.images, sizeof g.images, "%s/images-idx3-ubyte", g.dir);
    snprintf(g.labels, sizeof g.labels, "%s/labels-idx1-ubyte", g.dir);
    snprintf(g.images_gz, sizeof g.images_gz, "%s/images-idx3-ubyte.gz", g.dir);
    write_file(g.images, im, sizeof im);
    write_file(g.labels, lb, sizeof lb);
    gzFile z = gzopen(g.images_gz, "wb");
    assert_non_null(z);
    assert_int_equal(gzwrite(z, im, sizeof im), (int)sizeof im);
    assert_int_equal(gzclose(z), Z_OK);
}

static int setup_all(void **state)
{
    (void)state;
    g.dir = tu_tmpdir();
    if (!g.dir) return -1;
    snprintf(g.save_dir, sizeof g.save_dir, "%s/save", g.dir);
    snprintf(g.path, sizeof g.path, "%s/model.nnm", g.save_dir);
    if (mkdir(g.save_dir, 0755) != 0) return -1;
    if (nn_rng_create(&g.rng, 77) != NN_OK) return -1;
    nn_model *old = make_model(1, 1, 1);
    g.trained = make_model(1, 1, 3);
    nn_save_options o = save_options();
    if (nn_model_save_buffer(old, &g.old_bytes, &g.old_size, &o) != NN_OK) return -1;
    if (nn_model_save_buffer(g.trained, &g.new_bytes, &g.new_size, &o) != NN_OK) return -1;
    nn_model_free(old);
    write_idx_files();
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    printf("faults: total: %ld allocation points and %ld I/O points in %d operations, each failed once and "
           "with every later call failing (%ld runs): %ld leaks, %ld damaged files, %d problems\n",
           total.points[FI_ALLOC], total.points[FI_IO], total.ops, total.runs, total.leaks, total.damaged, problems);
    nn_model_free(g.trained);
    nn_rng_free(g.rng);
    nn_buffer_free(g.old_bytes);
    nn_buffer_free(g.new_bytes);
    tu_rmtree(g.dir);
    free(g.dir);
    return 0;
}

/* ---------------------------------------------------------------- operations */

/* What one run works on; everything non-NULL is freed after the run. */
typedef struct fx {
    nn_model *m, *out;
    nn_optimizer *opt, *opt2; /* the caller's until a model takes them */
    nn_rng *rng;
    nn_file_info *info;
    nn_dataset *ds, *ds2;
    nn_tensor *t;
    void *buf;
    size_t size;
    float x[BATCH * N_IN], y[BATCH];
    nn_tensor tx, ty;
    float *snap;            /* the parameters before the run */
    size_t nsnap;
    uint64_t iterations;    /* the optimizer's step count before the run */
    uint64_t rng_state[NN_RNG_STATE_WORDS];
    int64_t epoch;
    float loss, accuracy;
    nn_digits *digits;
    uint8_t *page; /* PAGE_W x PAGE_H grey pixels */
} fx;

static void fx_batch(fx *f)
{
    int64_t xs[2] = {BATCH, N_IN}, ys[1] = {BATCH};
    make_batch(f->x, f->y);
    OK(nn_tensor_view(&f->tx, f->x, 2, xs));
    OK(nn_tensor_view(&f->ty, f->y, 1, ys));
}

static void fx_free(fx *f)
{
    nn_model_free(f->m);
    nn_model_free(f->out);
    nn_optimizer_free(f->opt);
    nn_optimizer_free(f->opt2);
    nn_rng_free(f->rng);
    nn_file_info_free(f->info);
    nn_dataset_free(f->ds);
    nn_dataset_free(f->ds2);
    nn_tensor_free(f->t);
    nn_buffer_free(f->buf);
    free(f->snap);
    nn_digits_free(f->digits);
    free(f->page);
}

/* Remember the model's parameters and step count, to check that a failed call left them alone. */
static void snapshot(fx *f)
{
    float *p;
    OK(nn_model_params(f->m, &p, &f->nsnap));
    f->snap = malloc(f->nsnap * sizeof *p);
    assert_non_null(f->snap);
    memcpy(f->snap, p, f->nsnap * sizeof *p);
    nn_optimizer *opt = nn_model_get_optimizer(f->m);
    f->iterations = opt ? nn_optimizer_get_iterations(opt) : 0;
}

static void expect_unchanged(fx *f)
{
    float *p;
    size_t n;
    if (nn_model_params(f->m, &p, &n) != NN_OK) {
        problem("the model no longer answers nn_model_params: %s", nn_last_error());
        return;
    }
    if (n != f->nsnap || memcmp(p, f->snap, n * sizeof *p) != 0) problem("the parameters changed");
    nn_optimizer *opt = nn_model_get_optimizer(f->m);
    if (opt && nn_optimizer_get_iterations(opt) != f->iterations) problem("the optimizer's step count changed");
}

/* The model still trains: after any failure it must be usable, not only freeable. */
static void expect_trains(fx *f)
{
    nn_status st = nn_model_train_step(f->m, &f->tx, &f->ty, &f->loss, NULL);
    if (st != NN_OK) problem("a training step afterwards fails: %s", nn_last_error());
}

typedef struct op {
    const char *name;
    void (*setup)(fx *);
    nn_status (*run)(fx *);
    void (*verify)(fx *, nn_status); /* after the run, with nothing failing */
    int io;                          /* also loop over file-system failures */
    int no_alloc;                    /* the library promises that it allocates nothing here */
} op;

/* create: a generator, an optimizer, a model and its layers. */
static nn_status run_create(fx *f)
{
    nn_status st = nn_rng_create(&f->rng, 1);
    if (st == NN_OK) st = nn_optimizer_create_adam(&f->opt, NULL);
    if (st == NN_OK) st = build_layers(&f->m);
    return st;
}

static void verify_create(fx *f, nn_status st)
{
    if (st != NN_OK) {
        /* Whatever failed handed back NULL; nothing half-built. */
        if (f->m && nn_model_layer_count(f->m) == 3) problem("a complete model, yet a failure");
        return;
    }
    if (!f->rng || !f->opt || nn_model_layer_count(f->m) != 3) problem("incomplete objects after success");
}

/* compile: the parameters, gradients and optimizer state. */
static void setup_compile(fx *f)
{
    f->m = make_model(0, 0, 0);
    OK(nn_optimizer_create_adam(&f->opt, NULL));
    OK(nn_rng_create(&f->rng, 2));
    fx_batch(f);
}

static nn_status run_compile(fx *f)
{
    nn_status st = nn_model_compile(f->m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, f->opt);
    if (st == NN_OK) f->opt = NULL; /* the model's now */
    return st;
}

static void verify_compile(fx *f, nn_status st)
{
    if (st != NN_OK) {
        if (nn_model_params(f->m, NULL, NULL) == NN_OK) problem("the model counts as compiled after a failure");
        if (nn_model_get_optimizer(f->m)) problem("the model holds the optimizer after a failure");
        /* The caller still owns the optimizer and may compile again with it. */
        if (run_compile(f) != NN_OK) {
            problem("compiling again fails: %s", nn_last_error());
            return;
        }
    }
    OK(nn_model_init(f->m, f->rng));
    expect_trains(f);
}

/* set_optimizer: replacing a compiled model's optimizer. */
static void setup_set_optimizer(fx *f)
{
    f->m = make_model(1, 1, 1);
    nn_sgd_options o = NN_SGD_OPTIONS_INIT;
    o.momentum = 0.9f; /* a velocity array to allocate */
    OK(nn_optimizer_create_sgd(&f->opt, &o));
    fx_batch(f);
    snapshot(f);
}

static nn_status run_set_optimizer(fx *f)
{
    nn_status st = nn_model_set_optimizer(f->m, f->opt);
    if (st == NN_OK) f->opt = NULL;
    return st;
}

static void verify_set_optimizer(fx *f, nn_status st)
{
    nn_optimizer *opt = nn_model_get_optimizer(f->m);
    nn_optimizer_kind want = st == NN_OK ? NN_OPT_SGD : NN_OPT_ADAM;
    if (!opt || nn_optimizer_get_kind(opt) != want) problem("the model's optimizer is not the expected one");
    if (st != NN_OK) expect_unchanged(f);
    expect_trains(f);
}

/* init: Glorot weights; allocates nothing. */
static void setup_init(fx *f)
{
    f->m = make_model(1, 0, 0);
    OK(nn_rng_create(&f->rng, 3));
    fx_batch(f);
}

static nn_status run_init(fx *f) { return nn_model_init(f->m, f->rng); }

static void verify_trains(fx *f, nn_status st)
{
    (void)st;
    expect_trains(f);
}

/* reserve: the workspace. */
static void setup_reserve(fx *f)
{
    f->m = make_model(1, 0, 0);
    fx_batch(f);
    snapshot(f);
}

static nn_status run_reserve(fx *f) { return nn_model_reserve(f->m, BATCH); }

static void verify_unchanged_then_trains(fx *f, nn_status st)
{
    if (st != NN_OK) expect_unchanged(f);
    expect_trains(f);
}

/* train step: the first (which sizes the workspace when nothing was reserved) and a later one. */
static void setup_first_step(fx *f) { setup_reserve(f); }

static void setup_later_step(fx *f)
{
    f->m = make_model(1, 1, 1);
    fx_batch(f);
    snapshot(f);
}

static nn_status run_step(fx *f) { return nn_model_train_step(f->m, &f->tx, &f->ty, &f->loss, NULL); }

/* evaluate, with and without a reserved workspace. */
static void setup_evaluate_unreserved(fx *f) { setup_reserve(f); }

static void setup_evaluate_reserved(fx *f) { setup_later_step(f); }

static nn_status run_evaluate(fx *f) { return nn_model_evaluate(f->m, &f->tx, &f->ty, &f->loss, &f->accuracy); }

static void verify_evaluate(fx *f, nn_status st)
{
    if (st != NN_OK) expect_unchanged(f);
    if (nn_model_evaluate(f->m, &f->tx, &f->ty, &f->loss, &f->accuracy) != NN_OK)
        problem("evaluating again fails: %s", nn_last_error());
    expect_trains(f);
}

/* tensor create. */
static nn_status run_tensor(fx *f)
{
    int64_t shape[2] = {BATCH, N_IN};
    return nn_tensor_create(&f->t, 2, shape);
}

static void verify_tensor(fx *f, nn_status st)
{
    if (st != NN_OK && f->t) problem("a tensor handed back after a failure");
    if (st == NN_OK && (!f->t || !f->t->data)) problem("no tensor after success");
}

/* save to memory. */
static nn_status run_save_buffer(fx *f)
{
    nn_save_options o = save_options();
    f->size = 12345;
    return nn_model_save_buffer(g.trained, &f->buf, &f->size, &o);
}

static void verify_save_buffer(fx *f, nn_status st)
{
    if (st != NN_OK && (f->buf || f->size)) problem("a buffer handed back after a failure");
    if (st == NN_OK && !same_bytes(f->buf, f->size, g.new_bytes, g.new_size)) problem("the bytes differ");
}

/* save to a file, over an earlier file or where there is none. */
static int save_over_old = 1;
static tally *save_tally;

static void setup_save(fx *f)
{
    (void)f;
    if (save_over_old)
        write_file(g.path, g.old_bytes, g.old_size);
    else if (unlink(g.path) != 0 && errno != ENOENT)
        fail_msg("cannot remove %s", g.path);
}

static nn_status run_save(fx *f)
{
    (void)f;
    nn_save_options o = save_options();
    return nn_model_save(g.trained, g.path, &o);
}

static void verify_save(fx *f, nn_status st)
{
    (void)f;
    char extra[256];
    if (strangers(extra, sizeof extra)) {
        problem("left behind:%s", extra);
        save_tally->damaged++;
    }
    size_t n;
    void *now = read_all(g.path, &n);
    int is_old = save_over_old ? now && same_bytes(now, n, g.old_bytes, g.old_size) : !now;
    int is_new = now && same_bytes(now, n, g.new_bytes, g.new_size);
    free(now);
    if (st == NN_OK && !is_new) {
        problem("success, but the file does not hold the model");
        save_tally->damaged++;
    } else if (st != NN_OK && !is_old) {
        if (is_new && (strstr(message, "open the folder '") || strstr(message, "flush the folder '"))) {
            /* Only a failure after the rename (the folder's fsync) may leave the new file (nn/io.h):
             * it is complete, but the caller cannot rely on it surviving a power cut. */
            save_tally->new_after_error++;
        } else {
            problem("the file at the path is %s", now ? "damaged" : "gone");
            save_tally->damaged++;
        }
    }
}

/* load, from memory and from a file, with the generator state and the epoch. */
static void setup_load(fx *f)
{
    OK(nn_rng_create(&f->rng, 123));
    nn_rng_get_state(f->rng, f->rng_state);
    f->epoch = -7;
    write_file(g.path, g.new_bytes, g.new_size);
}

static nn_load_options load_options(fx *f)
{
    nn_load_options o = NN_LOAD_OPTIONS_INIT;
    o.rng = f->rng;
    o.epoch = &f->epoch;
    return o;
}

static nn_status run_load_buffer(fx *f)
{
    nn_load_options o = load_options(f);
    return nn_model_load_buffer(&f->out, g.new_bytes, g.new_size, &o);
}

static nn_status run_load(fx *f)
{
    nn_load_options o = load_options(f);
    return nn_model_load(&f->out, g.path, &o);
}

static void verify_load(fx *f, nn_status st)
{
    uint64_t s[NN_RNG_STATE_WORDS];
    nn_rng_get_state(f->rng, s);
    if (st != NN_OK) {
        if (f->out) problem("a model handed back after a failure");
        if (memcmp(s, f->rng_state, sizeof s) != 0) problem("the generator changed");
        if (f->epoch != -7) problem("the epoch was written");
        return;
    }
    nn_save_options o = save_options();
    void *buf;
    size_t n;
    OK(nn_model_save_buffer(f->out, &buf, &n, &o));
    if (!same_bytes(buf, n, g.new_bytes, g.new_size)) problem("the loaded model saves differently");
    nn_buffer_free(buf);
    if (f->epoch != 3) problem("epoch %lld, saved 3", (long long)f->epoch);
}

/* file information, from memory and from a file. */
static void setup_info(fx *f)
{
    (void)f;
    write_file(g.path, g.new_bytes, g.new_size);
}

static nn_status run_info_buffer(fx *f) { return nn_file_info_read_buffer(&f->info, g.new_bytes, g.new_size); }

static nn_status run_info(fx *f) { return nn_file_info_read(&f->info, g.path); }

static void verify_info(fx *f, nn_status st)
{
    if (st != NN_OK) {
        if (f->info) problem("information handed back after a failure");
        return;
    }
    const char *v = nn_file_info_meta_get(f->info, "purpose");
    if (!v || strcmp(v, "fault injection") != 0 || nn_file_info_layer_count(f->info) != 3)
        problem("the information is incomplete");
}

/* datasets: from memory, a subset, and from IDX files (raw and gzip). */
static nn_status run_dataset(fx *f)
{
    uint8_t im[N_IMAGES * 4], lb[N_IMAGES];
    for (int i = 0; i < N_IMAGES * 4; i++) im[i] = (uint8_t)i;
    for (int i = 0; i < N_IMAGES; i++) lb[i] = (uint8_t)(i % 3);
    nn_status st = nn_dataset_create(&f->ds, N_IMAGES, 2, 2, im, lb);
    if (st == NN_OK) st = nn_dataset_subset(&f->ds2, f->ds, 1, 3);
    return st;
}

static nn_status run_idx(fx *f) { return nn_dataset_load_idx(&f->ds, g.images, g.labels); }

static nn_status run_idx_gz(fx *f) { return nn_dataset_load_idx(&f->ds, g.images_gz, g.labels); }

static void verify_dataset(fx *f, nn_status st)
{
    if (st != NN_OK) {
        if (f->ds2 || (f->ds && nn_dataset_count(f->ds) != N_IMAGES)) problem("a dataset handed back after a failure");
        return;
    }
    if (nn_dataset_count(f->ds) != N_IMAGES || nn_dataset_features(f->ds) != 4) problem("the dataset is wrong");
}

/* digits_read at three scales: three rings apart on a small page (touching ones would be cut into
 * tens of pieces, each normalised: thousands of failure points), read with a model of 10 classes,
 * so that the readings at each scale, the joins tried and the combination all run. */
enum { PAGE_W = 96, PAGE_H = 40 };

/* n rings 15 x 24 on the page, their left edges from 8 every step pixels. */
static void ring_page(fx *f, int n, int step)
{
    f->page = malloc(PAGE_W * PAGE_H);
    assert_non_null(f->page);
    for (int y = 0; y < PAGE_H; y++)
        for (int x = 0; x < PAGE_W; x++) {
            int ink = 0;
            for (int k = 0; k < n; k++) {
                const double cx = 8 + step * k + 7.5, cy = 20, dx = (x + 0.5 - cx) / 7.5,
                             dy = (y + 0.5 - cy) / 12, r = dx * dx + dy * dy;
                ink |= r <= 1 && r >= 0.45;
            }
            f->page[y * PAGE_W + x] = ink ? 30 : 220;
        }
}

/* A one-layer reader of 28 x 28 digits into f->m; its parameters to *p (n of them). */
static void digits_model(fx *f, float **p, size_t *n)
{
    OK(nn_model_create(&f->m, NN_DIGITS_PIXELS));
    OK(nn_model_add_dense(f->m, 10, nn_activation_make(NN_ACT_LINEAR)));
    OK(nn_model_compile(f->m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, NULL));
    OK(nn_model_params(f->m, p, n));
    OK(nn_model_reserve(f->m, 64));
}

static void setup_digits(fx *f)
{
    ring_page(f, 3, 30);
    float *p;
    size_t n;
    digits_model(f, &p, &n);
    for (size_t i = 0; i < n; i++) p[i] = (float)((int)(i % 7) - 3) * 0.01f;
}

static nn_status run_digits(fx *f)
{
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.scales = 3;
    return nn_digits_read(&f->digits, f->m, f->page, PAGE_W, PAGE_H, PAGE_W, &o);
}

/* A reading's result after its run, then the same reading again, which must succeed. */
static void verify_reading(fx *f, nn_status st, nn_status (*again)(fx *))
{
    if (st != NN_OK && f->digits) problem("a result handed back after a failure");
    if (st == NN_OK && nn_digits_count(f->digits) < 1) problem("no digits read");
    nn_digits_free(f->digits);
    f->digits = NULL;
    if (again(f) != NN_OK) problem("reading again fails: %s", nn_last_error());
}

static void verify_digits(fx *f, nn_status st)
{
    verify_reading(f, st, run_digits);
}

/* digits_read_ensemble: the same page read by two models at once (the same one twice: what is
 * allocated does not depend on the weights). */
static nn_status run_ensemble(fx *f)
{
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.scales = 3;
    nn_model *const two[2] = {f->m, f->m};
    return nn_digits_read_ensemble(&f->digits, two, 2, f->page, PAGE_W, PAGE_H, PAGE_W, &o);
}

static void verify_ensemble(fx *f, nn_status st)
{
    verify_reading(f, st, run_ensemble);
}

/* digits_pieces: two rings touching on the same page, cut into their pieces. */
static void setup_pieces(fx *f)
{
    ring_page(f, 2, 14);
}

static nn_status run_pieces(fx *f)
{
    return nn_digits_pieces(&f->digits, f->page, PAGE_W, PAGE_H, PAGE_W, NULL);
}

static void verify_pieces(fx *f, nn_status st)
{
    if (st != NN_OK && f->digits) problem("a result handed back after a failure");
    if (st == NN_OK && nn_digits_count(f->digits) < 2) problem("fewer than two pieces");
    nn_digits_free(f->digits);
    f->digits = NULL;
    if (run_pieces(f) != NN_OK) problem("cutting again fails: %s", nn_last_error());
}

/* Two large rings over two lines of three small ones (a title over a form's digits): the small lines
 * are read on their own, a second reading joined to the first. The model reads every glyph as a 0,
 * surely, so that the second reading is kept. */
enum { SMALL_W = 150, SMALL_H = 120 };

static void setup_small_lines(fx *f)
{
    f->page = malloc(SMALL_W * SMALL_H);
    assert_non_null(f->page);
    const double ring[8][4] = {{30, 25, 15, 24}, {75, 25, 15, 24}, {16, 70, 6, 9},  {36, 70, 6, 9},
                               {56, 70, 6, 9},   {16, 100, 6, 9},  {36, 100, 6, 9}, {56, 100, 6, 9}};
    for (int y = 0; y < SMALL_H; y++)
        for (int x = 0; x < SMALL_W; x++) {
            int ink = 0;
            for (int k = 0; k < 8; k++) {
                const double dx = (x + 0.5 - ring[k][0]) / ring[k][2], dy = (y + 0.5 - ring[k][1]) / ring[k][3],
                             r = dx * dx + dy * dy;
                ink |= r <= 1 && r >= 0.45;
            }
            f->page[y * SMALL_W + x] = ink ? 30 : 220;
        }
    float *p;
    size_t n;
    digits_model(f, &p, &n);
    memset(p, 0, n * sizeof *p);
    p[NN_DIGITS_PIXELS * 10] = 10.0f;
}

static nn_status run_small_lines_read(fx *f)
{
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.scales = 3;
    return nn_digits_read(&f->digits, f->m, f->page, SMALL_W, SMALL_H, SMALL_W, &o);
}

static nn_status run_small_lines_find(fx *f)
{
    return nn_digits_find(&f->digits, f->page, SMALL_W, SMALL_H, SMALL_W, NULL);
}

/* Every ring found when nothing failed, and again after. */
static void verify_small_lines(fx *f, nn_status st, nn_status (*again)(fx *))
{
    if (st != NN_OK && f->digits) problem("a result handed back after a failure");
    if (st == NN_OK && nn_digits_count(f->digits) != 8)
        problem("%lld digits, not 8", (long long)nn_digits_count(f->digits));
    nn_digits_free(f->digits);
    f->digits = NULL;
    if (again(f) != NN_OK) problem("reading again fails: %s", nn_last_error());
    if (nn_digits_count(f->digits) != 8) problem("again, %lld digits, not 8", (long long)nn_digits_count(f->digits));
}

static void verify_small_lines_read(fx *f, nn_status st) { verify_small_lines(f, st, run_small_lines_read); }
static void verify_small_lines_find(fx *f, nn_status st) { verify_small_lines(f, st, run_small_lines_find); }

/* ---------------------------------------------------------------- the loops */

/* Runs the operation with the n-th call of class cls failing (and every later one with persist),
 * for n = 1, 2, ... until a run makes fewer than n calls. Returns the number of failure points. */
static long loop(const op *o, int cls, int persist, tally *t)
{
    enum { MAX_POINTS = 10000 };
    for (long n = 1; n <= MAX_POINTS; n++) {
        snprintf(where, sizeof where, "%s, %s call %ld failing%s", o->name, class_name[cls], n,
                 persist ? " with all after it" : "");
        long live = fi.live;
        int fds = open_fds();
        fx f;
        memset(&f, 0, sizeof f);
        if (o->setup) o->setup(&f);
        nn_clear_error();
        arm(cls, n, persist);
        nn_status st = o->run(&f);
        disarm();
        total.runs++;
        int hit = fi.injected > 0;
        const char *first = fi.first;
        int first_errno = fi.first_errno;
        snprintf(message, sizeof message, "%s", nn_last_error());
        if (!hit && st != NN_OK) problem("fails with nothing failing: %s", nn_last_error());
        if (hit && st == NN_OK) {
            if (!persist) {
                t->tolerated[cls]++;
                size_t len = strlen(t->tolerated_fn);
                snprintf(t->tolerated_fn + len, sizeof t->tolerated_fn - len, "%s%s", len ? ", " : "", first);
            }
        } else if (hit) {
            /* A file-system call that fails for want of memory (fdopen) may say so. */
            nn_status want = cls == FI_ALLOC || first_errno == ENOMEM ? NN_ERR_NO_MEMORY : NN_ERR_IO;
            if (st != want && !(cls == FI_IO && st == NN_ERR_IO && first_errno == ENOMEM))
                problem("%s failed; returns \"%s\", expected \"%s\" (%s)", first, nn_status_string(st),
                        nn_status_string(want), nn_last_error());
            if (!nn_last_error()[0]) problem("%s failed; no message", first);
        }
        if (hit && !persist && cls == FI_IO) count_fn(t, first);
        if (o->verify) o->verify(&f, st);
        fx_free(&f);
        if (fi.live != live) {
            problem("%s failed; %ld blocks leaked", first ? first : "nothing", fi.live - live);
            t->leaks++;
        }
        if (open_fds() != fds) {
            problem("%s failed; %d file descriptors leaked", first ? first : "nothing", open_fds() - fds);
            t->leaks++;
        }
        if (!hit) return n - 1;
    }
    problem("more than %d failure points", MAX_POINTS);
    return MAX_POINTS;
}

static void run_op(const op *o)
{
    tally t;
    memset(&t, 0, sizeof t);
    if (strncmp(o->name, "save", 4) == 0) save_tally = &t;
    int before = problems;
    for (int cls = 0; cls < FI_CLASSES; cls++) {
        if (cls == FI_IO && !o->io) continue;
        long once = loop(o, cls, 0, &t), persist = loop(o, cls, 1, &t);
        if (once != persist) {
            snprintf(where, sizeof where, "%s", o->name);
            problem("%ld %s points failing once, %ld failing persistently", once, class_name[cls], persist);
        }
        t.points[cls] = once;
    }
    char io[256] = "";
    if (o->io) {
        size_t len = (size_t)snprintf(io, sizeof io, ", %ld I/O points (", t.points[FI_IO]);
        for (int i = 0; i < 16 && t.fn[i] && len < sizeof io; i++)
            len += (size_t)snprintf(io + len, sizeof io - len, "%s%s %ld", i ? ", " : "", t.fn[i], t.fn_count[i]);
        if (len < sizeof io) snprintf(io + len, sizeof io - len, ")");
    }
    char extra[320] = "";
    if (t.tolerated[FI_ALLOC] || t.tolerated[FI_IO])
        snprintf(extra, sizeof extra, "; a failing %s did not fail it", t.tolerated_fn);
    if (t.new_after_error)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                 "; %ld failures after the rename left the complete new file", t.new_after_error);
    printf("faults: %-30s %3ld allocation points%s: %ld leaks, %ld damaged files%s\n", o->name, t.points[FI_ALLOC],
           io, t.leaks, t.damaged, extra);
    fflush(stdout);
    total.points[FI_ALLOC] += t.points[FI_ALLOC];
    total.points[FI_IO] += t.points[FI_IO];
    total.leaks += t.leaks;
    total.damaged += t.damaged;
    total.ops++;
    save_tally = NULL;
    if (o->no_alloc && t.points[FI_ALLOC]) {
        snprintf(where, sizeof where, "%s", o->name);
        problem("allocates %ld times, where the library promises no allocation", t.points[FI_ALLOC]);
    }
    /* Every operation here allocates or reads something, except those promised not to. */
    if (!o->no_alloc && !t.points[FI_ALLOC] && !t.points[FI_IO]) {
        snprintf(where, sizeof where, "%s", o->name);
        problem("no failure point reached: are the wrappers linked in?");
    }
    assert_int_equal(problems, before);
}

#define OP_TEST(fn, ...)                                                                                              \
    static void fn(void **state)                                                                                      \
    {                                                                                                                 \
        (void)state;                                                                                                  \
        static const op o = {__VA_ARGS__};                                                                            \
        run_op(&o);                                                                                                   \
    }

OP_TEST(test_faults__create, "create", NULL, run_create, verify_create, 0, 0)
OP_TEST(test_faults__compile, "compile", setup_compile, run_compile, verify_compile, 0, 0)
OP_TEST(test_faults__set_optimizer, "set_optimizer", setup_set_optimizer, run_set_optimizer, verify_set_optimizer, 0,
        0)
OP_TEST(test_faults__init, "init", setup_init, run_init, verify_trains, 0, 1)
OP_TEST(test_faults__reserve, "reserve", setup_reserve, run_reserve, verify_unchanged_then_trains, 0, 0)
OP_TEST(test_faults__train_step_first, "train_step (first, unreserved)", setup_first_step, run_step,
        verify_unchanged_then_trains, 0, 0)
OP_TEST(test_faults__train_step_later, "train_step (later)", setup_later_step, run_step, verify_trains, 0, 1)
OP_TEST(test_faults__evaluate_unreserved, "evaluate (unreserved)", setup_evaluate_unreserved, run_evaluate,
        verify_evaluate, 0, 0)
OP_TEST(test_faults__evaluate_reserved, "evaluate (reserved)", setup_evaluate_reserved, run_evaluate, verify_evaluate,
        0, 1)
OP_TEST(test_faults__tensor_create, "tensor_create", NULL, run_tensor, verify_tensor, 0, 0)
OP_TEST(test_faults__save_buffer, "save_buffer", NULL, run_save_buffer, verify_save_buffer, 0, 0)
OP_TEST(test_faults__load_buffer, "load_buffer", setup_load, run_load_buffer, verify_load, 0, 0)
OP_TEST(test_faults__load, "load", setup_load, run_load, verify_load, 1, 0)
OP_TEST(test_faults__info_buffer, "file_info_read_buffer", setup_info, run_info_buffer, verify_info, 0, 0)
OP_TEST(test_faults__info, "file_info_read", setup_info, run_info, verify_info, 1, 0)
OP_TEST(test_faults__dataset, "dataset_create, subset", NULL, run_dataset, verify_dataset, 0, 0)
OP_TEST(test_faults__idx, "dataset_load_idx", NULL, run_idx, verify_dataset, 1, 0)
OP_TEST(test_faults__idx_gz, "dataset_load_idx (gzip)", NULL, run_idx_gz, verify_dataset, 1, 0)
OP_TEST(test_faults__digits_read, "digits_read (3 scales)", setup_digits, run_digits, verify_digits, 0, 0)
OP_TEST(test_faults__digits_ensemble, "digits_read_ensemble (2 models, 3 scales)", setup_digits, run_ensemble,
        verify_ensemble, 0, 0)
OP_TEST(test_faults__digits_pieces, "digits_pieces", setup_pieces, run_pieces, verify_pieces, 0, 0)
OP_TEST(test_faults__small_lines_find, "digits_find (small lines)", setup_small_lines, run_small_lines_find,
        verify_small_lines_find, 0, 0)
OP_TEST(test_faults__small_lines_read, "digits_read (small lines, 3 scales)", setup_small_lines,
        run_small_lines_read, verify_small_lines_read, 0, 0)

static void test_faults__save_replacing(void **state)
{
    (void)state;
    static const op o = {"save (replacing a file)", setup_save, run_save, verify_save, 1, 0};
    save_over_old = 1;
    run_op(&o);
}

static void test_faults__save_new(void **state)
{
    (void)state;
    static const op o = {"save (new file)", setup_save, run_save, verify_save, 1, 0};
    save_over_old = 0;
    run_op(&o);
    save_over_old = 1;
}

/* Writes cut short and interrupted by signals are not failures: write() may do both, and the save
 * must carry on until every byte is written. */
static void test_faults__save_short_writes(void **state)
{
    (void)state;
    tally t;
    memset(&t, 0, sizeof t);
    save_tally = &t;
    snprintf(where, sizeof where, "save with writes of at most 7 bytes, every third one interrupted");
    int before = problems;
    fx f;
    memset(&f, 0, sizeof f);
    setup_save(&f);
    fi.short_writes = 7;
    fi.writes = 0;
    nn_status st = run_save(&f);
    snprintf(message, sizeof message, "%s", nn_last_error());
    fi.short_writes = 0;
    if (st != NN_OK) problem("fails: %s", message);
    verify_save(&f, st);
    save_tally = NULL;
    printf("faults: save with short writes: %ld writes for %zu bytes, %ld damaged files\n", fi.writes, g.new_size,
           t.damaged);
    assert_true(fi.writes > 3);
    assert_int_equal(problems, before);
}

/* ---------------------------------------------------------------- the checks can fail */

/* A deliberately faulty operation: when its second allocation fails it leaks the first, reports
 * the wrong status, and damages the file at the path. The loop must see all three. */
static void *faulty_leak;

static nn_status run_faulty(fx *f)
{
    (void)f;
    char *a = malloc(8);
    if (!a) return nn__fail(NN_ERR_NO_MEMORY, "faulty: out of memory");
    char *b = malloc(8);
    if (!b) {
        FILE *fp = fopen(g.path, "wb");
        if (fp) fclose(fp); /* truncates the earlier file */
        faulty_leak = a;
        return nn__fail(NN_ERR_IO, "faulty: wrong status");
    }
    free(b);
    free(a);
    return NN_OK;
}

static void verify_faulty(fx *f, nn_status st)
{
    if (st != NN_OK) verify_save(f, st); /* it saves nothing when it succeeds */
}

static void test_faults__checks_can_fail(void **state)
{
    (void)state;
    static const op o = {"a faulty operation", setup_save, run_faulty, verify_faulty, 0, 0};
    tally t;
    memset(&t, 0, sizeof t);
    save_tally = &t;
    int before = problems;
    printf("faults: the next 3 problems are made on purpose, to show that the checks can fail\n");
    assert_int_equal(loop(&o, FI_ALLOC, 0, &t), 2);
    save_tally = NULL;
    assert_int_equal(t.leaks, 1);
    assert_int_equal(t.damaged, 1);
    assert_int_equal(problems - before, 3); /* leak, wrong status, damaged file */
    problems = before;
    /* Freed here, so that the sanitizer's own leak check stays clean. */
    free(faulty_leak);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults__create),
        cmocka_unit_test(test_faults__compile),
        cmocka_unit_test(test_faults__set_optimizer),
        cmocka_unit_test(test_faults__init),
        cmocka_unit_test(test_faults__reserve),
        cmocka_unit_test(test_faults__train_step_first),
        cmocka_unit_test(test_faults__train_step_later),
        cmocka_unit_test(test_faults__evaluate_unreserved),
        cmocka_unit_test(test_faults__evaluate_reserved),
        cmocka_unit_test(test_faults__tensor_create),
        cmocka_unit_test(test_faults__save_buffer),
        cmocka_unit_test(test_faults__save_replacing),
        cmocka_unit_test(test_faults__save_new),
        cmocka_unit_test(test_faults__save_short_writes),
        cmocka_unit_test(test_faults__load_buffer),
        cmocka_unit_test(test_faults__load),
        cmocka_unit_test(test_faults__info_buffer),
        cmocka_unit_test(test_faults__info),
        cmocka_unit_test(test_faults__dataset),
        cmocka_unit_test(test_faults__idx),
        cmocka_unit_test(test_faults__idx_gz),
        cmocka_unit_test(test_faults__digits_read),
        cmocka_unit_test(test_faults__small_lines_find),
        cmocka_unit_test(test_faults__small_lines_read),
        cmocka_unit_test(test_faults__digits_ensemble),
        cmocka_unit_test(test_faults__digits_pieces),
        cmocka_unit_test(test_faults__checks_can_fail),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
