/* Finding MNIST or Fashion-MNIST on disk, or downloading it (see datasets.h for the order). */
#define _POSIX_C_SOURCE 200809L

#include "datasets.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "fsutil.h"

typedef struct dataset_info {
    const char *name;
    const char *files[NNM_N_FILES];  /* IDX names without ".gz" */
    const char *sha256[NNM_N_FILES]; /* of the uncompressed files */
    const char *mirrors[3];          /* base URLs, NULL-terminated */
    const char *system_dir;          /* a distribution's packaged copy, or NULL */
    const char *system_package;      /* the package that installs it there */
    const char *mirror_env;          /* environment variable naming the only mirror, or NULL */
    const char *title;               /* the name in messages */
    int classes, rows, cols;         /* what every file of the dataset must hold */
} dataset_info;

static const dataset_info known[] = {
    {
        "mnist",
        {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
        /* The published values (also in shared/data/mnist/SHA256SUMS.txt). */
        {"ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
         "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
         "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
         "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
        {"https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/", NULL},
        NULL,
        NULL,
        "NN_MNIST_MIRROR",
        "MNIST",
        10, 28, 28,
    },
    {
        "fashion-mnist",
        {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
        /* Zalando publishes only MD5s of the .gz files; these hash the content of Debian's
         * dataset-fashion-mnist, whose files decompress to the same bytes as the published ones. */
        {"c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
         "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
         "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
         "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
        {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", NULL, NULL},
        "/usr/share/datasets/fashion-mnist",
        "dataset-fashion-mnist",
        NULL,
        "Fashion-MNIST",
        10, 28, 28,
    },
};

/* A growing message in the caller's buffer; what does not fit is cut. */
typedef struct report {
    char *buf;
    size_t cap;
    size_t len;
} report;

static void say(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(report *r, const char *fmt, ...)
{
    if (!r->buf || r->cap == 0 || r->len + 1 >= r->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (n > 0) r->len = (size_t)n >= r->cap - r->len ? r->cap - 1 : r->len + (size_t)n;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Looks for one file under the names it is known by: with or without ".gz", and with the dot that
 * some copies (Kaggle's) have before "idx" ("train-images.idx3-ubyte"). */
static int find_one(const char *dir, const char *base, char *path, size_t len)
{
    char dotted[64];
    snprintf(dotted, sizeof dotted, "%s", base);
    char *dash = strstr(dotted, "-idx");
    if (dash) *dash = '.';
    const char *names[2] = {base, dotted};
    for (int n = 0; n < 2; n++)
        for (int gz = 1; gz >= 0; gz--) {
            if ((size_t)snprintf(path, len, "%s/%s%s", dir, names[n], gz ? ".gz" : "") >= len) continue;
            if (is_file(path)) return 1;
        }
    path[0] = '\0';
    return 0;
}

/* The files a request needs, a bit per file: all four, or the test set's two. */
static unsigned needed(const nnm_data_request *req)
{
    return req->test_only ? (1u << NNM_TEST_IMAGES) | (1u << NNM_TEST_LABELS) : (1u << NNM_N_FILES) - 1;
}

static int count_bits(unsigned v)
{
    int n = 0;
    for (; v; v &= v - 1) n++;
    return n;
}

/* Fills the paths of the needed files for dir (the others stay empty); returns how many of them it
 * holds and sets lacks (a bit per file). */
static int scan(const dataset_info *ds, const char *dir, unsigned need, char paths[NNM_N_FILES][NNM_PATH_MAX],
                unsigned *lacks)
{
    int found = 0;
    *lacks = 0;
    for (int i = 0; i < NNM_N_FILES; i++) {
        paths[i][0] = '\0';
        if (!(need & (1u << i))) continue;
        if (find_one(dir, ds->files[i], paths[i], NNM_PATH_MAX))
            found++;
        else
            *lacks |= 1u << i;
    }
    return found;
}

/* Checks dir; on a full set fills out and returns 1, otherwise notes in r what is wrong with it. */
static int try_dir(const dataset_info *ds, const char *dir, const char *origin, unsigned need, nnm_dataset_paths *out,
                   report *r)
{
    char paths[NNM_N_FILES][NNM_PATH_MAX];
    unsigned lacks;
    struct stat st;
    if (stat(dir, &st) != 0) {
        say(r, "  %s (%s): %s\n", dir, origin, errno == ENOENT ? "no such folder" : strerror(errno));
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        say(r, "  %s (%s): not a folder\n", dir, origin);
        return 0;
    }
    int found = scan(ds, dir, need, paths, &lacks);
    if (found == count_bits(need)) {
        snprintf(out->dir, sizeof out->dir, "%s", dir);
        memcpy(out->train_images, paths[NNM_TRAIN_IMAGES], NNM_PATH_MAX);
        memcpy(out->train_labels, paths[NNM_TRAIN_LABELS], NNM_PATH_MAX);
        memcpy(out->test_images, paths[NNM_TEST_IMAGES], NNM_PATH_MAX);
        memcpy(out->test_labels, paths[NNM_TEST_LABELS], NNM_PATH_MAX);
        return 1;
    }
    say(r, "  %s (%s): has %d of the %d files, lacks", dir, origin, found, count_bits(need));
    for (int i = 0; i < NNM_N_FILES; i++)
        if (lacks & (1u << i)) say(r, " %s[.gz]", ds->files[i]);
    say(r, "\n");
    return 0;
}

static void hint(report *r, const dataset_info *ds, const char *const *mirrors)
{
    say(r, "Provide the files with --data-dir DIR, NN_DATA_DIR=DIR (holding %s/), or ./data/%s/", ds->name,
        ds->name);
    if (ds->system_package) say(r, ", apt-get install %s", ds->system_package);
    say(r, ", or allow network access to %s", mirrors[0]);
}

/* Downloads what target lacks; 0, or -1 with the URLs tried and why each failed in r. */
static int download(const dataset_info *ds, const char *target, unsigned need, const char *const *mirrors,
                    const char *const *sums, int quiet, int *downloaded, report *r)
{
    char paths[NNM_N_FILES][NNM_PATH_MAX];
    unsigned lacks;
    scan(ds, target, need, paths, &lacks);
    for (int i = 0; i < NNM_N_FILES; i++) {
        if (!(lacks & (1u << i))) continue;
        char name[96], tried[1536] = "";
        report t = {tried, sizeof tried, 0};
        snprintf(name, sizeof name, "%s.gz", ds->files[i]);
        int ok = 0;
        for (int m = 0; mirrors[m] && !ok; m++) {
            char url[2048], why[512];
            size_t blen = strlen(mirrors[m]);
            const char *slash = blen > 0 && mirrors[m][blen - 1] == '/' ? "" : "/";
            if ((size_t)snprintf(url, sizeof url, "%s%s%s", mirrors[m], slash, name) >= sizeof url) {
                say(&t, "  %s...: URL too long\n", mirrors[m]);
                continue;
            }
            if (nnm_fetch_verified(url, target, name, sums[i], quiet, why, sizeof why) == 0) {
                ok = 1;
                (*downloaded)++;
            } else {
                say(&t, "  %s: %s\n", url, why);
            }
        }
        if (!ok) {
            say(r, "Downloading %s into %s failed; tried:\n%s", name, target, tried);
            return -1;
        }
    }
    return 0;
}

static const dataset_info *lookup(const char *name)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].name, name) == 0) return &known[i];
    return NULL;
}

int nnm_find_dataset(const nnm_data_request *req, nnm_dataset_paths *out, char *err, size_t errlen)
{
    report r = {err, errlen, 0};
    if (err && errlen) err[0] = '\0';
    if (!req || !out) {
        say(&r, "nnm_find_dataset: request or output is NULL");
        return -1;
    }
    memset(out, 0, sizeof *out);
    const char *name = req->dataset ? req->dataset : "mnist";
    const dataset_info *ds = lookup(name);
    if (!ds) {
        say(&r, "unknown dataset '%s' (known: mnist, fashion-mnist)", name);
        return -1;
    }

    /* Where the files are looked for, in order; the first folder holding all four wins. */
    char places[4][NNM_PATH_MAX];
    const char *origins[4];
    int n_places = 0;
    if (req->data_dir && *req->data_dir) {
        snprintf(places[n_places], NNM_PATH_MAX, "%s", req->data_dir);
        origins[n_places++] = "--data-dir";
        snprintf(places[n_places], NNM_PATH_MAX, "%s/%s", req->data_dir, ds->name);
        origins[n_places++] = "--data-dir";
    } else {
        const char *env = getenv("NN_DATA_DIR");
        if (env && *env) {
            snprintf(places[n_places], NNM_PATH_MAX, "%s/%s", env, ds->name);
            origins[n_places++] = "NN_DATA_DIR";
        }
        snprintf(places[n_places], NNM_PATH_MAX, "./data/%s", ds->name);
        origins[n_places++] = "the working folder";
        if (ds->system_dir) {
            snprintf(places[n_places], NNM_PATH_MAX, "%s", ds->system_dir);
            origins[n_places++] = "Debian's package";
        }
    }
    char looked[2048] = "";
    report lr = {looked, sizeof looked, 0};
    for (int i = 0; i < n_places; i++)
        if (try_dir(ds, places[i], origins[i], needed(req), out, &lr)) return 0;

    /* Mirrors: --mirror alone, else the environment's alone, else the list. */
    const char *only[2] = {NULL, NULL};
    const char *const *mirrors = req->mirrors ? req->mirrors : ds->mirrors;
    const char *env_mirror = ds->mirror_env ? getenv(ds->mirror_env) : NULL;
    if (req->mirror && *req->mirror)
        only[0] = req->mirror;
    else if (env_mirror && *env_mirror)
        only[0] = env_mirror;
    if (only[0]) mirrors = only;
    if (!mirrors[0]) mirrors = ds->mirrors;
    const char *const *sums = req->sha256 ? req->sha256 : ds->sha256;

    say(&r, "%s: no folder holds its %s IDX files. Looked in:\n%s", ds->name, req->test_only ? "two test" : "four",
        looked);
    if (!req->allow_download) {
        say(&r, "Downloading is off (--no-download). ");
        hint(&r, ds, mirrors);
        return -1;
    }
    char target[NNM_PATH_MAX];
    if (req->data_dir && *req->data_dir)
        snprintf(target, sizeof target, "%s", req->data_dir);
    else
        snprintf(target, sizeof target, "./data/%s", ds->name);
    nnm_made_dirs made;
    if (nnm_mkdirs_made(target, &made, NULL, 0) != 0) { /* errno says why */
        say(&r, "Cannot create %s for the download: %s. ", target, strerror(errno));
        hint(&r, ds, mirrors);
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        nnm_unmake_dirs(target, &made);
        say(&r, "Cannot initialise libcurl. ");
        hint(&r, ds, mirrors);
        return -1;
    }
    int rc = download(ds, target, needed(req), mirrors, sums, req->quiet, &out->downloaded, &r);
    curl_global_cleanup();
    if (rc != 0) {
        nnm_unmake_dirs(target, &made); /* leave no trace of a failed download (docs/study.md) */
        hint(&r, ds, mirrors);
        return -1;
    }
    report ignored = {NULL, 0, 0};
    if (!try_dir(ds, target, "download", needed(req), out, &ignored)) {
        say(&r, "The download into %s finished, yet the files are not there.", target);
        return -1;
    }
    if (err && errlen) err[0] = '\0';
    return 0;
}

/* The SHA-256 of the IDX file a dataset was loaded from, as lowercase hex. The reader refuses any
 * byte beyond the header and the body, so header + body is the uncompressed file exactly, whether
 * it was found gzipped or not: the published sums apply without decompressing a second time. */
static int content_sha256(const nn_dataset *d, int labels, char hex[65])
{
    const int64_t n = nn_dataset_count(d);
    int64_t rows = 0, cols = 0;
    nn_dataset_image_size(d, &rows, &cols);
    const uint32_t dims[3] = {(uint32_t)n, (uint32_t)rows, (uint32_t)cols};
    const int rank = labels ? 1 : 3;
    unsigned char head[16] = {0, 0, 0x08, (unsigned char)rank};
    for (int i = 0; i < rank; i++)
        for (int b = 0; b < 4; b++) head[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    const void *body = labels ? (const void *)nn_dataset_labels(d) : (const void *)nn_dataset_images(d);
    const size_t body_len = (size_t)n * (labels ? 1 : (size_t)nn_dataset_features(d));
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, head, 4 + 4 * (size_t)rank) == 1 && EVP_DigestUpdate(md, body, body_len) == 1 &&
             EVP_DigestFinal_ex(md, digest, &len) == 1 && len == 32;
    EVP_MD_CTX_free(md);
    if (!ok) return -1;
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

/* The known dataset and role whose published content has this SHA-256; 0 when none has. The named
 * dataset's sums are the request's when it replaces them (tests). */
static int identify(const char *hex, const dataset_info *named, const char *const *named_sums,
                    const dataset_info **owner, int *file)
{
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        const char *const *sums = &known[k] == named && named_sums ? named_sums : known[k].sha256;
        for (int i = 0; i < NNM_N_FILES; i++)
            if (strcmp(hex, sums[i]) == 0) {
                *owner = &known[k];
                *file = i;
                return 1;
            }
    }
    return 0;
}

/* Refuses a file that is, by its content, a known dataset's file other than the one its place
 * calls for: MNIST found under --dataset fashion-mnist (the results would carry the wrong name), or
 * MNIST's training images where its test images belong. A file no known dataset has is taken as
 * given: the user's own data in the IDX layout, which the shape and class checks still cover.
 * hex holds each needed file's SHA-256 (load_set computed them). */
static int check_identity(const dataset_info *ds, const nnm_data_request *req, const nnm_dataset_paths *paths,
                          char hex[NNM_N_FILES][65], char *err, size_t errlen)
{
    const char *path[NNM_N_FILES] = {paths->train_images, paths->train_labels, paths->test_images,
                                     paths->test_labels};
    for (int i = 0; i < NNM_N_FILES; i++) {
        if (!(needed(req) & (1u << i))) continue;
        const dataset_info *owner;
        int file;
        if (!identify(hex[i], ds, req->sha256, &owner, &file) || (owner == ds && file == i)) continue;
        if (owner != ds)
            snprintf(err, errlen,
                     "%s is %s's %s (by its SHA-256), not %s's. Use --dataset %s, or point --data-dir at %s's "
                     "files",
                     path[i], owner->title, owner->files[file], ds->title, owner->name, ds->title);
        else
            snprintf(err, errlen, "%s is %s's %s (by its SHA-256), not its %s: the files are mixed up", path[i],
                     ds->title, ds->files[file], ds->files[i]);
        return -1;
    }
    return 0;
}

/* Loading one set (training or test) and hashing its two files. The test set loads on a thread of
 * its own while the caller's thread loads the training set: inflating and hashing 55 MB is a tenth
 * of a 1-epoch grid on two cores, and the second core has nothing else to do then. */
typedef struct load_job {
    const dataset_info *ds;
    const char *images, *labels;
    nn_dataset *set;
    char hex[2][65];
    char err[NNM_PATH_MAX]; /* empty when it succeeded */
} load_job;

static void *load_set(void *arg)
{
    load_job *j = arg;
    j->err[0] = '\0';
    if (nn_dataset_load_idx_expect(&j->set, j->images, j->labels, j->ds->classes, j->ds->rows, j->ds->cols) != NN_OK) {
        /* libnn's message is per thread: copied here, before the thread ends. */
        snprintf(j->err, sizeof j->err, "%s", nn_last_error());
        return NULL;
    }
    for (int f = 0; f < 2; f++)
        if (content_sha256(j->set, f, j->hex[f]) != 0) {
            snprintf(j->err, sizeof j->err, "%s: cannot compute its SHA-256", f ? j->labels : j->images);
            return NULL;
        }
    return NULL;
}

int nnm_load_dataset(const nnm_data_request *req, const nnm_dataset_paths *paths, nn_dataset **train,
                     nn_dataset **test, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (train) *train = NULL;
    if (test) *test = NULL;
    if (!req || !paths || !err || errlen == 0 || !test || (!train && !req->test_only)) return -1;
    const char *name = req->dataset ? req->dataset : "mnist";
    const dataset_info *ds = lookup(name);
    if (!ds) {
        snprintf(err, errlen, "unknown dataset '%s' (known: mnist, fashion-mnist)", name);
        return -1;
    }
    load_job jobs[2] = {{ds, paths->train_images, paths->train_labels, NULL, {""}, ""},
                        {ds, paths->test_images, paths->test_labels, NULL, {""}, ""}};
    pthread_t th;
    int threaded = !req->test_only && pthread_create(&th, NULL, load_set, &jobs[1]) == 0;
    if (!req->test_only) load_set(&jobs[0]);
    if (threaded)
        pthread_join(th, NULL);
    else
        load_set(&jobs[1]);
    const char *failed = jobs[0].err[0] ? jobs[0].err : jobs[1].err[0] ? jobs[1].err : NULL;
    char hex[NNM_N_FILES][65];
    for (int i = 0; i < NNM_N_FILES; i++) memcpy(hex[i], jobs[i / 2].hex[i % 2], sizeof hex[i]);
    if (failed || check_identity(ds, req, paths, hex, err, errlen) != 0) {
        if (failed) snprintf(err, errlen, "%s", failed);
        nn_dataset_free(jobs[0].set);
        nn_dataset_free(jobs[1].set);
        return -1;
    }
    nn_dataset *sets[2] = {jobs[0].set, jobs[1].set};
    if (train) *train = sets[0];
    *test = sets[1];
    return 0;
}
