/*
 * bench: how close libnn's training comes to the hardware, as ratios measured in one run.
 *
 * For the reference MLP (784-128-10, batch 32, one epoch of 60,000 images = 1,875 steps) it prints:
 *   - seconds per training epoch (median of --repeats) for each activation x optimizer;
 *   - the GEMM-only time of the same epoch: the same five products per step (forward, weight
 *     gradients, the hidden layer's input gradient) through the same BLAS and thread count;
 *   - their ratio, the figure to compare between commits and machines;
 *   - each optimizer's rule alone (nn_optimizer_step() over the 101,770 parameters, once per step) and,
 *     on x86 with AVX2 or AVX-512, what Adam's and RMSprop's rules cost the hardware at least: their
 *     square roots and divisions alone, and their state's traffic alone, each against the bound;
 *   - evaluation throughput (images/s), and, with --grid BINARY, the wall time and peak memory of a
 *     full `nn-mnist grid` run, and its ratio to the GEMM-only bound of the MLP grid its --grid-args
 *     describe (every epoch's GEMMs and every evaluation's forward GEMMs, shared among its --jobs), so
 *     that the time spent outside the epochs shows.
 * One line per figure, "name value unit", easy to diff.
 *
 * For the default CNN (Keras' MNIST convnet: conv 32 3x3 relu, max-pool 2, conv 64 3x3 relu, max-pool 2,
 * flatten, dropout 0.5, dense 10; Adam), at batch 32 and 128:
 *   - seconds per training epoch (median of --repeats; --cnn-images N trains on the first N images of
 *     each shuffle, for a quicker run);
 *   - the GEMM-only time of the same epoch: the products an im2col formulation needs per step (each
 *     convolution's forward and kernel gradient, the second one's column gradient, the dense layer's
 *     three), on buffers of the same shapes, through the same BLAS and thread count;
 *   - their ratio, and evaluation throughput (images/s) of the whole test set in one call.
 *
 * Usage: bench [--data-dir DIR] [--repeats N] [--threads N] [--only mlp|cnn|OPT_ACT] [--cnn-images N]
 *              [--grid NN_MNIST [--grid-args "..."]]
 * Without MNIST (--data-dir or $NN_DATA_DIR/mnist) it uses random images of the same shape.
 */
#define _DEFAULT_SOURCE /* wait4 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nn/nn.h>

#include "timing.h"

enum { IN = 784, HIDDEN = 128, OUT = 10, BATCH = 32 };


/* The epoch's GEMMs alone, on the same shapes and buffers sizes as training. */
static double gemm_epoch(int64_t steps)
{
    float *x = calloc(BATCH * IN, sizeof(float)), *w1 = calloc(IN * HIDDEN, sizeof(float)),
          *h = calloc(BATCH * HIDDEN, sizeof(float)), *w2 = calloc(HIDDEN * OUT, sizeof(float)),
          *y = calloc(BATCH * OUT, sizeof(float)), *dw1 = calloc(IN * HIDDEN, sizeof(float)),
          *dw2 = calloc(HIDDEN * OUT, sizeof(float)), *dh = calloc(BATCH * HIDDEN, sizeof(float));
    for (int i = 0; i < BATCH * IN; i++) x[i] = (float)((i * 7919) % 255) / 255.0f;
    for (int i = 0; i < IN * HIDDEN; i++) w1[i] = (float)((i % 97) - 48) * 1e-3f;
    for (int i = 0; i < HIDDEN * OUT; i++) w2[i] = (float)((i % 13) - 6) * 1e-2f;
    double t0 = bench_now();
    for (int64_t s = 0; s < steps; s++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BATCH, HIDDEN, IN, 1, x, IN, w1, HIDDEN, 0, h, HIDDEN);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BATCH, OUT, HIDDEN, 1, h, HIDDEN, w2, OUT, 0, y, OUT);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, HIDDEN, OUT, BATCH, 1, h, HIDDEN, y, OUT, 0, dw2, OUT);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BATCH, HIDDEN, OUT, 1, y, OUT, w2, OUT, 0, dh, HIDDEN);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, IN, HIDDEN, BATCH, 1, x, IN, dh, HIDDEN, 0, dw1, HIDDEN);
    }
    double t = bench_now() - t0;
    free(x); free(w1); free(h); free(w2); free(y); free(dw1); free(dw2); free(dh);
    return t;
}

/* The GEMMs of evaluating n images at the training batch (as nn-mnist evaluates: forward only). */
static double gemm_forward(int64_t n)
{
    float *x = calloc(BATCH * IN, sizeof(float)), *w1 = calloc(IN * HIDDEN, sizeof(float)),
          *h = calloc(BATCH * HIDDEN, sizeof(float)), *w2 = calloc(HIDDEN * OUT, sizeof(float)),
          *y = calloc(BATCH * OUT, sizeof(float));
    for (int i = 0; i < BATCH * IN; i++) x[i] = (float)((i * 7919) % 255) / 255.0f;
    for (int i = 0; i < IN * HIDDEN; i++) w1[i] = (float)((i % 97) - 48) * 1e-3f;
    double t0 = bench_now();
    for (int64_t s = 0; s < n; s += BATCH) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BATCH, HIDDEN, IN, 1, x, IN, w1, HIDDEN, 0, h, HIDDEN);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BATCH, OUT, HIDDEN, 1, h, HIDDEN, w2, OUT, 0, y, OUT);
    }
    double t = bench_now() - t0;
    free(x); free(w1); free(h); free(w2); free(y);
    return t;
}

static nn_model *make_model(const char *act_name, const char *opt_name, uint64_t seed)
{
    nn_activation act;
    nn_optimizer *opt;
    nn_model *m;
    nn_rng *rng;
    if (nn_activation_from_name(&act, act_name) || nn_optimizer_create_from_name(&opt, opt_name, 0) ||
        nn_model_create(&m, IN) || nn_model_add_dense(m, HIDDEN, act) ||
        nn_model_add_dense(m, OUT, nn_activation_make(NN_ACT_LINEAR)) ||
        nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt) || nn_rng_create(&rng, seed) ||
        nn_model_init(m, rng) || nn_model_reserve(m, BATCH)) {
        fprintf(stderr, "bench: %s\n", nn_last_error());
        exit(1);
    }
    nn_rng_free(rng);
    return m;
}

/* One epoch as nn-mnist runs it: shuffle, then train on each batch of indices straight from the
 * dataset (nn_model_train_step_indexed; BENCH_GATHER=1 in the environment: gather each batch into
 * floats and nn_model_train_step it, as before 0.2's indexed step, to measure what that buys). */
static double train_epoch(nn_model *m, const nn_dataset *ds, nn_rng *rng, uint32_t *order, float *xb, float *yb)
{
    int64_t n = nn_dataset_count(ds);
    int gather = getenv("BENCH_GATHER") && strcmp(getenv("BENCH_GATHER"), "1") == 0;
    double t0 = bench_now();
    for (int64_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    nn_rng_shuffle(rng, order, (size_t)n);
    for (int64_t s = 0; s < n; s += BATCH) {
        int64_t b = n - s < BATCH ? n - s : BATCH;
        nn_tensor x, y;
        int64_t xs[2] = {BATCH, IN}, ys[1] = {BATCH};
        nn_tensor_view(&x, xb, 2, xs);
        nn_tensor_view(&y, yb, 1, ys);
        float loss;
        nn_status st = gather ? nn_dataset_gather(ds, order + s, b, &x, &y) : NN_OK;
        if (st == NN_OK)
            st = gather ? nn_model_train_step(m, &x, &y, &loss, NULL)
                        : nn_model_train_step_indexed(m, ds, order + s, b, &loss, NULL);
        if (st != NN_OK) {
            fprintf(stderr, "bench: %s\n", nn_last_error());
            exit(1);
        }
    }
    return bench_now() - t0;
}

static nn_dataset *load_or_fake(const char *dir, const char *prefix, int64_t fake_n)
{
    nn_dataset *ds = NULL;
    if (dir) {
        char img[4096], lab[4096];
        snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
        snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
        if (nn_dataset_load_idx(&ds, img, lab) == NN_OK) return ds;
        fprintf(stderr, "bench: %s; using random images\n", nn_last_error());
    }
    uint8_t *pix = malloc((size_t)fake_n * IN), *lab = malloc((size_t)fake_n);
    nn_rng *rng;
    nn_rng_create(&rng, 5);
    /* Like MNIST: mostly zeros, a fifth of the pixels lit. */
    for (int64_t i = 0; i < fake_n * IN; i++) pix[i] = nn_rng_below(rng, 5) == 0 ? (uint8_t)nn_rng_below(rng, 256) : 0;
    for (int64_t i = 0; i < fake_n; i++) lab[i] = (uint8_t)(i % 10);
    nn_dataset_create(&ds, fake_n, 28, 28, pix, lab);
    nn_rng_free(rng);
    free(pix);
    free(lab);
    return ds;
}

/* The value of option `name` in a grid's arguments ("--epochs 3" or "--epochs=3"), or NULL. */
static const char *grid_arg(const char *args, const char *name, char *buf, size_t cap)
{
    size_t len = strlen(name);
    for (const char *p = args ? strstr(args, name) : NULL; p; p = strstr(p + 1, name)) {
        if ((p != args && p[-1] != ' ') || (p[len] != ' ' && p[len] != '=')) continue;
        const char *v = p + len + 1;
        size_t n = strcspn(v, " ");
        snprintf(buf, cap, "%.*s", (int)n, v);
        return buf;
    }
    return NULL;
}

/* Items in a comma-separated list option, or dflt when the option is absent. */
static int grid_list_len(const char *args, const char *name, int dflt)
{
    char buf[512];
    if (!grid_arg(args, name, buf, sizeof buf)) return dflt;
    int n = 1;
    for (const char *p = buf; *p; p++) n += *p == ',';
    return n;
}

/* The GEMM-only bound of the MLP grid the arguments describe (its models, --epochs, --seeds, --jobs,
 * --validation; the reference MLP at batch 32): per model, every epoch's training GEMMs and the
 * held-out set's forward pass, then the final forward passes (below), divided among the jobs as if
 * perfectly balanced. */
static double grid_bound(const char *args, int64_t n_train, int64_t n_test, int repeats)
{
    char buf[64];
    int epochs = grid_arg(args, "--epochs", buf, sizeof buf) ? atoi(buf) : 10;
    int seeds = grid_arg(args, "--seeds", buf, sizeof buf) && !strchr(buf, ',') ? atoi(buf) : 1;
    double share = grid_arg(args, "--validation", buf, sizeof buf) ? atof(buf) : 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = grid_arg(args, "--jobs", buf, sizeof buf) ? atoi(buf) : (int)(cores > 0 ? cores : 1);
    int models = grid_list_len(args, "--optimizers", 3) * grid_list_len(args, "--activations", 3) * (seeds > 0 ? seeds : 1);
    if (epochs < 1 || jobs < 1 || share < 0 || share >= 1) return 0;
    int64_t n_val = (int64_t)(share * (double)n_train), n_fit = n_train - n_val;
    double *t = malloc((size_t)repeats * 4 * sizeof *t);
    for (int r = 0; r < repeats; r++) {
        t[r] = gemm_epoch((n_fit + BATCH - 1) / BATCH);
        t[repeats + r] = gemm_forward(n_test);
        t[2 * repeats + r] = gemm_forward(n_fit);
        t[3 * repeats + r] = n_val > 0 ? gemm_forward(n_val) : 0;
    }
    double epoch = bench_median(t, repeats), test = bench_median(t + repeats, repeats),
           fit = bench_median(t + 2 * repeats, repeats), val = bench_median(t + 3 * repeats, repeats);
    free(t);
    /* Without --validation the test set is the held-out set, and the last epoch's pass over it is
     * the final one; with it, the validation split after every epoch, then once more at the end
     * with the test set. */
    double per_model = n_val > 0 ? epochs * (epoch + val) + fit + val + test : epochs * (epoch + test) + fit;
    printf("grid_models %d\ngrid_epochs %d\ngrid_jobs %d\n", models, epochs, jobs);
    return per_model * models / (jobs < models ? jobs : models);
}

static void run_grid(const char *bin, const char *args, double bound)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "exec %s grid %s >/dev/null", bin, args ? args : "");
    fflush(stdout); /* or the child would inherit, and print, our buffered lines */
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
        perror("bench: grid");
        return;
    }
    double wall = bench_now() - t0;
    printf("grid_status %d exit\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    printf("grid_wall %.2f s\n", wall);
    printf("grid_peak_rss %.1f MB\n", ru.ru_maxrss / 1024.0);
    if (bound > 0) {
        printf("grid_gemm_bound %.2f s\n", bound);
        printf("grid_ratio %.2f x_gemm\n", wall / bound);
    }
}

/* ---- the default CNN */

enum { CNN_F1 = 32, CNN_F2 = 64, CNN_P1 = 26 * 26, CNN_P2 = 11 * 11, CNN_K1 = 9, CNN_K2 = 9 * CNN_F1,
       CNN_FLAT = 5 * 5 * CNN_F2 };

static void sgemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
                  int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda,
                b, ldb, 0.0f, c, ldc);
}

static float *filled(size_t n, int seed)
{
    float *v = malloc(n * sizeof *v);
    if (!v) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    /* Values of a trained network's size, never subnormal. */
    for (size_t i = 0; i < n; i++) v[i] = (float)((int)((i * 7919 + (size_t)seed) % 199) - 99) * 1e-2f;
    return v;
}

/* The GEMMs of one CNN epoch of `images` images at batch `batch`, in im2col form: conv1's columns
 * (B*676, 9) times its kernel (9, 32) and the kernel gradient cols^T dy; conv2's (B*121, 288) x (288, 64),
 * its kernel gradient and its column gradient dy K^T (B*121, 288); the dense layer's (B, 1600) x (1600, 10),
 * weight gradient and input gradient. The first layer's input gradient is never needed. */
static double cnn_gemm_epoch(int64_t images, int batch)
{
    size_t r1 = (size_t)batch * CNN_P1, r2 = (size_t)batch * CNN_P2;
    float *cols1 = filled(r1 * CNN_K1, 1), *k1 = filled(CNN_K1 * CNN_F1, 2), *y1 = filled(r1 * CNN_F1, 3),
          *dk1 = filled(CNN_K1 * CNN_F1, 4), *cols2 = filled(r2 * CNN_K2, 5), *k2 = filled(CNN_K2 * CNN_F2, 6),
          *y2 = filled(r2 * CNN_F2, 7), *dk2 = filled(CNN_K2 * CNN_F2, 8), *dcols2 = filled(r2 * CNN_K2, 9),
          *flat = filled((size_t)batch * CNN_FLAT, 10), *w = filled(CNN_FLAT * 10, 11),
          *out = filled((size_t)batch * 10, 12), *dw = filled(CNN_FLAT * 10, 13),
          *dflat = filled((size_t)batch * CNN_FLAT, 14);
    double t0 = bench_now();
    for (int64_t s = 0; s < images; s += batch) {
        int b = (int)(images - s < batch ? images - s : batch), m1 = b * CNN_P1, m2 = b * CNN_P2;
        sgemm(0, 0, m1, CNN_F1, CNN_K1, cols1, CNN_K1, k1, CNN_F1, y1, CNN_F1);
        sgemm(0, 0, m2, CNN_F2, CNN_K2, cols2, CNN_K2, k2, CNN_F2, y2, CNN_F2);
        sgemm(0, 0, b, 10, CNN_FLAT, flat, CNN_FLAT, w, 10, out, 10);
        sgemm(1, 0, CNN_FLAT, 10, b, flat, CNN_FLAT, out, 10, dw, 10);
        sgemm(0, 1, b, CNN_FLAT, 10, out, 10, w, 10, dflat, CNN_FLAT);
        sgemm(1, 0, CNN_K2, CNN_F2, m2, cols2, CNN_K2, y2, CNN_F2, dk2, CNN_F2);
        sgemm(0, 1, m2, CNN_K2, CNN_F2, y2, CNN_F2, k2, CNN_F2, dcols2, CNN_K2);
        sgemm(1, 0, CNN_K1, CNN_F1, m1, cols1, CNN_K1, y1, CNN_F1, dk1, CNN_F1);
    }
    double t = bench_now() - t0;
    float *all[] = {cols1, k1, y1, dk1, cols2, k2, y2, dk2, dcols2, flat, w, out, dw, dflat};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
    return t;
}

static nn_model *make_cnn(uint64_t seed)
{
    int64_t image[3] = {28, 28, 1};
    nn_activation relu = nn_activation_make(NN_ACT_RELU);
    nn_optimizer *opt;
    nn_model *m;
    nn_rng *rng;
    if (nn_optimizer_create_adam(&opt, NULL) || nn_model_create_shape(&m, 3, image) ||
        nn_model_add_conv2d(m, CNN_F1, relu, NULL) || nn_model_add_maxpool2d(m, NULL) ||
        nn_model_add_conv2d(m, CNN_F2, relu, NULL) || nn_model_add_maxpool2d(m, NULL) || nn_model_add_flatten(m) ||
        nn_model_add_dropout(m, 0.5f) || nn_model_add_dense(m, 10, nn_activation_make(NN_ACT_LINEAR)) ||
        nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt) || nn_rng_create(&rng, seed) ||
        nn_model_init(m, rng)) {
        fprintf(stderr, "bench: %s\n", nn_last_error());
        exit(1);
    }
    nn_rng_free(rng);
    return m;
}

/* One CNN epoch of the first `images` of each shuffle, as nn-mnist trains. */
static double cnn_train_epoch(nn_model *m, const nn_dataset *ds, int64_t images, int batch, nn_rng *rng,
                              uint32_t *order, float *xb, float *yb)
{
    int64_t n = nn_dataset_count(ds);
    double t0 = bench_now();
    for (int64_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    nn_rng_shuffle(rng, order, (size_t)n);
    for (int64_t s = 0; s < images; s += batch) {
        int64_t b = images - s < batch ? images - s : batch;
        nn_tensor x, y;
        int64_t xs[2] = {batch, IN}, ys[1] = {batch};
        nn_tensor_view(&x, xb, 2, xs);
        nn_tensor_view(&y, yb, 1, ys);
        float loss;
        if (nn_dataset_gather(ds, order + s, b, &x, &y) || nn_model_train_step(m, &x, &y, &loss, NULL)) {
            fprintf(stderr, "bench: %s\n", nn_last_error());
            exit(1);
        }
    }
    return bench_now() - t0;
}

/* Test-set throughput of a trained CNN: the whole set in one nn_model_evaluate call, which chunks it
 * by the model's reserved batch. */
static double cnn_eval(nn_model *m, const nn_dataset *test, int repeats)
{
    int64_t nt = nn_dataset_count(test), xs[2] = {nt, IN}, ys[1] = {nt};
    float *xe = malloc((size_t)(nt * IN) * sizeof(float)), *ye = malloc((size_t)nt * sizeof(float));
    double *t = malloc((size_t)repeats * sizeof *t);
    nn_tensor x, y;
    nn_tensor_view(&x, xe, 2, xs);
    nn_tensor_view(&y, ye, 1, ys);
    nn_dataset_slice(test, 0, nt, &x, &y);
    for (int r = 0; r < repeats; r++) {
        float loss, acc;
        double t0 = bench_now();
        if (nn_model_evaluate(m, &x, &y, &loss, &acc)) {
            fprintf(stderr, "bench: %s\n", nn_last_error());
            exit(1);
        }
        t[r] = bench_now() - t0;
    }
    double med = bench_median(t, repeats);
    free(xe);
    free(ye);
    free(t);
    return (double)nt / med;
}

/* Epochs alternate with their GEMM-only bound, so that a change in the machine's load hits both. */
static void run_cnn(const nn_dataset *train, const nn_dataset *test, int64_t images, int repeats)
{
    static const int batches[] = {32, 128};
    int64_t n = nn_dataset_count(train);
    if (images <= 0 || images > n) images = n;
    uint32_t *order = malloc((size_t)n * sizeof *order);
    float *xb = malloc(128 * IN * sizeof(float)), *yb = malloc(128 * sizeof(float));
    double *t = malloc((size_t)repeats * sizeof *t), *g = malloc((size_t)repeats * sizeof *g), worst = 0;
    printf("cnn_images %lld\n", (long long)images);
    for (size_t k = 0; k < sizeof batches / sizeof batches[0]; k++) {
        int batch = batches[k];
        nn_model *m = make_cnn(42);
        nn_rng *rng;
        nn_rng_create(&rng, 42);
        if (nn_model_reserve(m, batch)) {
            fprintf(stderr, "bench: %s\n", nn_last_error());
            exit(1);
        }
        for (int r = 0; r < repeats; r++) {
            t[r] = cnn_train_epoch(m, train, images, batch, rng, order, xb, yb);
            g[r] = cnn_gemm_epoch(images, batch);
        }
        double med = bench_median(t, repeats), gemm = bench_median(g, repeats);
        double flops = 2.0 * (double)images *
                       (2.0 * CNN_P1 * CNN_K1 * CNN_F1 + 3.0 * CNN_P2 * CNN_K2 * CNN_F2 + 3.0 * CNN_FLAT * 10);
        if (med / gemm > worst) worst = med / gemm;
        printf("cnn_epoch_b%d %.3f s\n", batch, med);
        printf("cnn_gemm_only_epoch_b%d %.3f s\n", batch, gemm);
        printf("cnn_gemm_gflops_b%d %.1f GFLOP/s\n", batch, flops / gemm * 1e-9);
        printf("cnn_ratio_b%d %.2f x_gemm\n", batch, med / gemm);
        if (k + 1 == sizeof batches / sizeof batches[0])
            printf("cnn_eval_throughput %.0f images/s\n", cnn_eval(m, test, repeats));
        nn_rng_free(rng);
        nn_model_free(m);
    }
    printf("cnn_ratio_worst %.2f x_gemm\n", worst);
    free(order);
    free(xb);
    free(yb);
    free(t);
    free(g);
}

/*
 * What Adam's rule costs this core at the least, per step over n floats held in cache (as the model's
 * 101,770 parameters and their two moments are between steps): the traffic of its state (w, m and v
 * read and written, with multiplies only) and its divider work (a square root and a division per
 * parameter, their operands in L1). IEEE square roots and divisions share one unit per core, which
 * wider registers do not speed up: an Adam or RMSprop that uses them spends at least the second on
 * the parameters it updates, which the rest of a step can at best overlap. Flush-to-zero on, as training runs. AVX-512 and AVX2 kernels chosen at run
 * time; nothing measured where the CPU or compiler has neither.
 */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define FLOOR_X86 1
__attribute__((target("avx512f"))) static void traffic_512(float *w, float *m, float *v, size_t n)
{
    const __m512 b1 = _mm512_set1_ps(0.9f), b2 = _mm512_set1_ps(0.999f), lr = _mm512_set1_ps(1e-3f);
    for (size_t i = 0; i + 16 <= n; i += 16) {
        __m512 M = _mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), V = _mm512_mul_ps(b2, _mm512_loadu_ps(v + i));
        _mm512_storeu_ps(m + i, M);
        _mm512_storeu_ps(v + i, V);
        _mm512_storeu_ps(w + i, _mm512_fnmadd_ps(lr, _mm512_mul_ps(M, V), _mm512_loadu_ps(w + i)));
    }
}
/* The square roots and divisions of n parameters, from moments kept in L1 (loads that cost nothing
 * beside the divider), summed so that none is skipped: the divider's throughput, not its latency. */
__attribute__((target("avx512f"))) static float divider_512(size_t n, const float *l1)
{
    const __m512 eps = _mm512_set1_ps(1e-7f);
    __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
    for (size_t i = 0; i + 32 <= n; i += 32) {
        const float *p = l1 + (i & 255);
        a = _mm512_add_ps(a, _mm512_div_ps(_mm512_loadu_ps(p),
                                           _mm512_add_ps(_mm512_sqrt_ps(_mm512_loadu_ps(p + 256)), eps)));
        b = _mm512_add_ps(b, _mm512_div_ps(_mm512_loadu_ps(p + 16),
                                           _mm512_add_ps(_mm512_sqrt_ps(_mm512_loadu_ps(p + 272)), eps)));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a, b));
}
__attribute__((target("avx2,fma"))) static void traffic_256(float *w, float *m, float *v, size_t n)
{
    const __m256 b1 = _mm256_set1_ps(0.9f), b2 = _mm256_set1_ps(0.999f), lr = _mm256_set1_ps(1e-3f);
    for (size_t i = 0; i + 8 <= n; i += 8) {
        __m256 M = _mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), V = _mm256_mul_ps(b2, _mm256_loadu_ps(v + i));
        _mm256_storeu_ps(m + i, M);
        _mm256_storeu_ps(v + i, V);
        _mm256_storeu_ps(w + i, _mm256_fnmadd_ps(lr, _mm256_mul_ps(M, V), _mm256_loadu_ps(w + i)));
    }
}
__attribute__((target("avx2,fma"))) static float divider_256(size_t n, const float *l1)
{
    const __m256 eps = _mm256_set1_ps(1e-7f);
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    for (size_t i = 0; i + 16 <= n; i += 16) {
        const float *p = l1 + (i & 255);
        a = _mm256_add_ps(a, _mm256_div_ps(_mm256_loadu_ps(p),
                                           _mm256_add_ps(_mm256_sqrt_ps(_mm256_loadu_ps(p + 256)), eps)));
        b = _mm256_add_ps(b, _mm256_div_ps(_mm256_loadu_ps(p + 8),
                                           _mm256_add_ps(_mm256_sqrt_ps(_mm256_loadu_ps(p + 264)), eps)));
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(a, b));
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

/* One floor measured with one kernel width: seconds per epoch (steps passes over n parameters) and the
 * median of its ratios to a GEMM-only epoch run just before each repeat, as the epochs are paired. */
typedef struct floor_time {
    double seconds, ratio;
} floor_time;

#ifdef FLOOR_X86
static floor_time time_floor(int wide, int divider, float *w, float *m, float *v, float *l1, size_t n,
                             int64_t steps, int repeats)
{
    double *t = malloc((size_t)repeats * sizeof *t), *q = malloc((size_t)repeats * sizeof *q);
    volatile float sink = 0;
    for (int r = 0; r < repeats; r++) {
        const double g = gemm_epoch(steps);
        const unsigned saved = _mm_getcsr();
        _mm_setcsr(saved | 0x8040u); /* flush-to-zero, as training runs */
        const double t0 = bench_now();
        for (int64_t s = 0; s < steps; s++) {
            if (!divider) {
                if (wide)
                    traffic_512(w, m, v, n);
                else
                    traffic_256(w, m, v, n);
                continue;
            }
            /* Each pass's result goes back into its operands, so that the compiler cannot compute
             * one pass and reuse it for every step. */
            const float x = wide ? divider_512(n, l1) : divider_256(n, l1);
            l1[s & 255] = 1e-3f + 1e-12f * x;
            sink = x;
        }
        t[r] = bench_now() - t0;
        _mm_setcsr(saved);
        q[r] = t[r] / g;
    }
    (void)sink;
    floor_time f = {bench_median(t, repeats), bench_median(q, repeats)};
    free(t);
    free(q);
    return f;
}
#endif

/* The state traffic's and the divider's floors, each with the faster of the kernel widths this CPU
 * runs (512-bit registers are not always the faster: on a Sapphire Rapids Xeon the divider took
 * 0.0805 s an epoch with them, 0.0696 s with 256-bit ones);
 * returns 0, or -1 where there is no kernel for this CPU or compiler. */
static int update_floors(size_t n, int64_t steps, int repeats, floor_time *traffic, floor_time *divider)
{
#ifdef FLOOR_X86
    __builtin_cpu_init();
    const int w512 = __builtin_cpu_supports("avx512f"),
              w256 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (!w512 && !w256) return -1;
    float *w = filled(n, 3), *m = filled(n, 4), *v = filled(n, 5);
    for (size_t i = 0; i < n; i++) v[i] = v[i] * v[i] + 1e-3f; /* never subnormal over an epoch */
    /* m and v for the divider, 256 of each, in L1. */
    _Alignas(64) float l1[512];
    for (int i = 0; i < 512; i++) l1[i] = 1e-3f * (float)(i % 97 + 1);
    *traffic = *divider = (floor_time){0, 0};
    for (int wide = 0; wide <= 1; wide++) {
        if (wide ? !w512 : !w256) continue;
        const floor_time a = time_floor(wide, 0, w, m, v, l1, n, steps, repeats);
        const floor_time b = time_floor(wide, 1, w, m, v, l1, n, steps, repeats);
        if (traffic->seconds == 0 || a.ratio < traffic->ratio) *traffic = a;
        if (divider->seconds == 0 || b.ratio < divider->ratio) *divider = b;
    }
    free(w);
    free(m);
    free(v);
    return 0;
#else
    (void)n;
    (void)steps;
    (void)repeats;
    (void)traffic;
    (void)divider;
    return -1;
#endif
}

/* The reference MLP: every activation x optimizer (or the one named by `only`), then evaluation. */
static void run_mlp(const nn_dataset *train, const nn_dataset *test, const char *only, int repeats)
{
    int64_t n = nn_dataset_count(train), steps = (n + BATCH - 1) / BATCH;
    double *g = malloc((size_t)repeats * sizeof *g);
    for (int r = 0; r < repeats; r++) g[r] = gemm_epoch(steps);
    double gemm = bench_median(g, repeats);
    printf("gemm_only_epoch %.4f s\n", gemm);
    printf("gemm_gflops %.1f GFLOP/s\n", 2.0 * steps * (2.0 * BATCH * IN * HIDDEN + 3.0 * BATCH * HIDDEN * OUT) / gemm * 1e-9);

    const char *acts[] = {"relu", "sigmoid", "tanh"}, *opts[] = {"sgd", "adam", "rmsprop"};
    uint32_t *order = malloc((size_t)n * sizeof *order);
    float *xb = malloc(BATCH * IN * sizeof(float)), *yb = malloc(BATCH * sizeof(float));
    double *t = malloc((size_t)repeats * sizeof *t), *ratio = malloc((size_t)repeats * sizeof *ratio), worst = 0;
    for (int o = 0; o < 3; o++)
        for (int a = 0; a < 3; a++) {
            char name[64];
            snprintf(name, sizeof name, "%s_%s", opts[o], acts[a]);
            if (only && strcmp(only, name) != 0) continue;
            nn_model *m = make_model(acts[a], opts[o], 42);
            nn_rng *rng;
            nn_rng_create(&rng, 42);
            /* Repeats continue training the same model, as epochs 1, 2, 3 of a real run do. Each epoch
             * is paired with a GEMM-only epoch run just before it, and the ratio is the median of the
             * pairs': on a shared machine whose speed drifts over a run (a VM beside others), a bound
             * measured once at the start moved the later models' ratios by up to 0.3. */
            for (int r = 0; r < repeats; r++) {
                g[r] = gemm_epoch(steps);
                t[r] = train_epoch(m, train, rng, order, xb, yb);
                ratio[r] = t[r] / g[r];
            }
            double med = bench_median(t, repeats), rmed = bench_median(ratio, repeats);
            if (rmed > worst) worst = rmed;
            printf("epoch_%s %.4f s\n", name, med);
            printf("ratio_%s %.2f x_gemm\n", name, rmed);
            nn_rng_free(rng);
            nn_model_free(m);
        }
    printf("ratio_worst %.2f x_gemm\n", worst);

    /* Each optimizer's rule alone, through nn_optimizer_step() over the model's 101,770 parameters
     * once per step, with a gradient in every entry. Training fuses the first layer's rule with its
     * weight gradient (no gradient array to read) and RMSprop skips its square roots on rows
     * without a gradient, so an epoch spends less on it than this (docs/performance.md, "The
     * optimizers' floor"). */
    const size_t np = (size_t)IN * HIDDEN + HIDDEN + (size_t)HIDDEN * OUT + OUT;
    float *params = filled(np, 1), *grads = filled(np, 2);
    for (size_t i = 0; i < np; i++) grads[i] *= 1e-3f;
    for (int o = 0; o < 3; o++) {
        if (only && strncmp(only, opts[o], strlen(opts[o])) != 0) continue;
        nn_optimizer *opt = NULL;
        if (nn_optimizer_create_from_name(&opt, opts[o], 0.001f) != NN_OK ||
            nn_optimizer_setup(opt, np) != NN_OK) {
            fprintf(stderr, "bench: %s: %s\n", opts[o], nn_last_error());
            nn_optimizer_free(opt);
            continue;
        }
        for (int r = 0; r < repeats; r++) {
            g[r] = gemm_epoch(steps);
            double t0 = bench_now();
            for (int64_t s = 0; s < steps; s++) nn_optimizer_step(opt, params, grads, np);
            t[r] = bench_now() - t0;
            ratio[r] = t[r] / g[r];
        }
        printf("update_pass_%s %.4f s\n", opts[o], bench_median(t, repeats));
        printf("update_ratio_%s %.2f x_gemm\n", opts[o], bench_median(ratio, repeats));
        nn_optimizer_free(opt);
    }
    free(params);
    free(grads);
    floor_time traffic, divider;
    if ((!only || strncmp(only, "adam", 4) == 0 || strncmp(only, "rmsprop", 7) == 0) &&
        update_floors(np, steps, repeats, &traffic, &divider) == 0) {
        printf("floor_state_traffic %.4f s\n", traffic.seconds);
        printf("floor_state_traffic_ratio %.2f x_gemm\n", traffic.ratio);
        printf("floor_sqrt_div %.4f s\n", divider.seconds);
        printf("floor_sqrt_div_ratio %.2f x_gemm\n", divider.ratio);
    }

    nn_model *m = make_model("relu", "adam", 42);
    int64_t nt = nn_dataset_count(test), chunk = 1000;
    float *xe = malloc((size_t)(chunk * IN) * sizeof(float)), *ye = malloc((size_t)chunk * sizeof(float));
    nn_model_reserve(m, chunk);
    for (int r = 0; r < repeats; r++) {
        double t0 = bench_now();
        for (int64_t s = 0; s < nt; s += chunk) {
            int64_t b = nt - s < chunk ? nt - s : chunk;
            nn_tensor x, y;
            int64_t xs[2] = {chunk, IN}, ys[1] = {chunk};
            nn_tensor_view(&x, xe, 2, xs);
            nn_tensor_view(&y, ye, 1, ys);
            float loss, acc;
            nn_dataset_slice(test, s, b, &x, &y);
            nn_model_evaluate(m, &x, &y, &loss, &acc);
        }
        t[r] = bench_now() - t0;
    }
    printf("eval_throughput %.0f images/s\n", (double)nt / bench_median(t, repeats));
    nn_model_free(m);
    /* As nn-mnist evaluates: the model reserved for its training batch, the set straight from the
     * dataset's bytes, the predicted classes from the same pass. */
    m = make_model("relu", "adam", 42);
    int32_t *classes = malloc((size_t)nt * sizeof(int32_t));
    for (int r = 0; r < repeats; r++) {
        float loss, acc;
        double t0 = bench_now();
        nn_model_evaluate_indexed(m, test, NULL, nt, &loss, &acc, classes);
        t[r] = bench_now() - t0;
    }
    printf("eval_indexed_throughput %.0f images/s\n", (double)nt / bench_median(t, repeats));
    free(classes);
    nn_model_free(m);
    free(g); free(t); free(ratio); free(order); free(xb); free(yb); free(xe); free(ye);
}

int main(int argc, char **argv)
{
    const char *data_dir = NULL, *grid_bin = NULL, *grid_args = NULL, *only = NULL;
    int repeats = 3, threads = 1;
    long long cnn_images = 0;
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"repeats", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 't'},  {"grid", required_argument, NULL, 'g'},
        {"grid-args", required_argument, NULL, 'a'}, {"only", required_argument, NULL, 'o'},
        {"cnn-images", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': data_dir = optarg; break;
        case 'r': repeats = atoi(optarg) > 0 ? atoi(optarg) : 3; break;
        case 't': threads = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
        case 'g': grid_bin = optarg; break;
        case 'a': grid_args = optarg; break;
        case 'o': only = optarg; break;
        case 'c': cnn_images = atoll(optarg); break;
        default:
            printf("Usage: bench [--data-dir DIR] [--repeats N] [--threads N] [--only mlp|cnn|OPT_ACT]\n"
                   "             [--cnn-images N] [--grid NN_MNIST [--grid-args \"...\"]]\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    char env_dir[4096];
    if (!data_dir && getenv("NN_DATA_DIR")) {
        snprintf(env_dir, sizeof env_dir, "%s/mnist", getenv("NN_DATA_DIR"));
        data_dir = env_dir;
    }
    nn_runtime_set_blas_threads(threads);
    nn_dataset *train = load_or_fake(data_dir, "train", 60000), *test = load_or_fake(data_dir, "t10k", 10000);
    int64_t n = nn_dataset_count(train), steps = (n + BATCH - 1) / BATCH;
    printf("libnn %s\nblas %s\nblas_threads %d\nimages %lld\nsteps_per_epoch %lld\n", nn_version(),
           nn_runtime_blas_name(), threads, (long long)n, (long long)steps);

    /* --only mlp or an OPT_ACT name runs the MLP alone, --only cnn the CNN alone. */
    int mlp_only = only && strcmp(only, "mlp") == 0, cnn_only = only && strcmp(only, "cnn") == 0;
    if (!cnn_only) run_mlp(train, test, mlp_only ? NULL : only, repeats);
    if (!only || cnn_only) run_cnn(train, test, cnn_images, repeats);
    if (grid_bin)
        run_grid(grid_bin, grid_args, grid_bound(grid_args, nn_dataset_count(train), nn_dataset_count(test), repeats));
    nn_dataset_free(train);
    nn_dataset_free(test);
    return 0;
}
