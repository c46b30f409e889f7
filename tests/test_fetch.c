/* Tests for nn-mnist's data discovery and download (tools/nn-mnist/datasets.c, fetch.c), against a
 * local `python3 -m http.server` serving small gzipped IDX files this test writes. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "datasets.h"
#include "nn/nn.h"
#include "testutil.h"

static const char *const names[NNM_N_FILES] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

static char *tmp;                      /* everything this run writes */
static char start_cwd[PATH_MAX];
static pid_t server = -1;
static int port, dead_port;            /* the server's, and one where nothing listens */
static char sums[NNM_N_FILES][65];     /* SHA-256 of the synthetic files' content */
static const char *sum_table[NNM_N_FILES];
static char real_mnist[PATH_MAX];      /* $NN_DATA_DIR/mnist when it holds the real files */
static char real_mnist_test[PATH_MAX]; /* $NN_DATA_DIR/mnist when it holds the real test files */
static int fresh_counter;

/* ---- files ---- */

static void path_join(char *out, size_t len, const char *a, const char *b)
{
    assert_true((size_t)snprintf(out, len, "%s/%s", a, b) < len);
}

static void make_dir(const char *path) { assert_true(mkdir(path, 0755) == 0 || errno == EEXIST); }

/* A new empty folder under tmp; returns its path (static storage, rotating). */
static const char *fresh_dir(const char *stem)
{
    static char slots[8][PATH_MAX];
    char *p = slots[fresh_counter % 8];
    snprintf(p, PATH_MAX, "%s/%s-%d", tmp, stem, fresh_counter++);
    make_dir(p);
    return p;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(g), Z_OK);
}

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            unsigned char *nb = realloc(buf, cap);
            assert_non_null(nb);
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    *n = len;
    return buf;
}

/* Entries in a folder, hidden ones included (a leftover temporary file counts). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* One IDX file of the synthetic set: 3 images of 2x2 (or 3 labels), different per file and per
 * variant so that a "bad" mirror serves well-formed files with the wrong content. */
static size_t synthetic(int file, int variant, unsigned char *buf)
{
    int images = file == NNM_TRAIN_IMAGES || file == NNM_TEST_IMAGES;
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = 8;
    buf[n++] = images ? 3 : 1;
    const unsigned dims[3] = {3, 2, 2};
    for (int d = 0; d < (images ? 3 : 1); d++) {
        buf[n++] = 0;
        buf[n++] = 0;
        buf[n++] = 0;
        buf[n++] = (unsigned char)dims[d];
    }
    for (int i = 0; i < (images ? 12 : 3); i++) buf[n++] = (unsigned char)(images ? 20 * i + file + variant : (i + file + variant) % 10);
    return n;
}

static void sha256_hex(const unsigned char *p, size_t n, char *hex)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    assert_int_equal(EVP_Digest(p, n, d, &len, EVP_sha256(), NULL), 1);
    for (unsigned i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* A folder with the four names present (content irrelevant to discovery). */
static void fake_set(const char *dir, int gz, int dotted, int count)
{
    make_dir(dir);
    for (int i = 0; i < count; i++) {
        char name[96], path[PATH_MAX];
        snprintf(name, sizeof name, "%s%s", names[i], gz ? ".gz" : "");
        if (dotted) *strstr(name, "-idx") = '.';
        path_join(path, sizeof path, dir, name);
        write_file(path, "x", 1);
    }
}

/* ---- the server ---- */

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int p = -1;
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
        p = ntohs(a.sin_port);
    close(s);
    return p;
}

static int can_connect(int p)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)p);
    int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

/* Starts python3 -m http.server on a free port serving dir; 0, or -1 when it cannot. */
static int start_server(const char *dir)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        port = free_port();
        if (port < 0) return -1;
        char port_s[16];
        snprintf(port_s, sizeof port_s, "%d", port);
        pid_t pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
            }
            execlp("python3", "python3", "-m", "http.server", port_s, "--bind", "127.0.0.1", "--directory", dir,
                   (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 200; i++) { /* up to 10 s */
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid) break; /* died: port taken or no python */
            if (can_connect(port)) {
                server = pid;
                return 0;
            }
            nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return -1;
}

static void url(char *out, size_t len, const char *folder)
{
    snprintf(out, len, "http://127.0.0.1:%d/%s/", port, folder);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
    (void)state;
    if (!getcwd(start_cwd, sizeof start_cwd)) return -1;
    tmp = tu_tmpdir();
    if (!tmp) return -1;
    char srv[PATH_MAX], dir[PATH_MAX], path[PATH_MAX];
    path_join(srv, sizeof srv, tmp, "srv");
    make_dir(srv);
    /* good/: the set whose checksums the tests pass in; bad/: same names, other content;
     * html/: what a captive portal serves; cut/: gzip streams cut in half. */
    const char *folders[] = {"good", "bad", "html", "cut"};
    for (int f = 0; f < 4; f++) {
        path_join(dir, sizeof dir, srv, folders[f]);
        make_dir(dir);
        for (int i = 0; i < NNM_N_FILES; i++) {
            unsigned char buf[64];
            size_t n = synthetic(i, f == 1, buf);
            char name[96];
            snprintf(name, sizeof name, "%s.gz", names[i]);
            path_join(path, sizeof path, dir, name);
            if (f == 0) {
                sha256_hex(buf, n, sums[i]);
                sum_table[i] = sums[i];
            }
            if (f == 2) {
                write_file(path, "<html>not here</html>", 21);
            } else {
                write_gz(path, buf, n);
                if (f == 3) {
                    size_t zn;
                    unsigned char *z = read_all(path, &zn);
                    write_file(path, z, zn / 2);
                    free(z);
                }
            }
        }
    }
    const char *root = getenv("NN_DATA_DIR");
    if (root && *root) {
        char test_probe[PATH_MAX + 64];
        snprintf(real_mnist_test, sizeof real_mnist_test, "%s/mnist", root);
        snprintf(test_probe, sizeof test_probe, "%s/t10k-images-idx3-ubyte.gz", real_mnist_test);
        if (access(test_probe, R_OK) != 0) real_mnist_test[0] = '\0';
        snprintf(real_mnist, sizeof real_mnist, "%s/mnist", root);
        char probe[PATH_MAX + 64];
        snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", real_mnist);
        if (access(probe, R_OK) == 0) {
            path_join(path, sizeof path, srv, "real");
            if (symlink(real_mnist, path) != 0) real_mnist[0] = '\0';
        } else {
            real_mnist[0] = '\0';
        }
    }
    dead_port = free_port();
    if (start_server(srv) != 0) {
        print_message("cannot start python3 -m http.server: download tests will be skipped\n");
        server = -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    if (chdir(start_cwd) != 0) return -1;
    tu_rmtree(tmp);
    free(tmp);
    return 0;
}

/* Each test starts in an empty working folder with neither variable set. */
static int test_setup(void **state)
{
    (void)state;
    unsetenv("NN_DATA_DIR");
    unsetenv("NN_MNIST_MIRROR");
    return chdir(fresh_dir("cwd"));
}

static int test_teardown(void **state)
{
    (void)state;
    return chdir(start_cwd);
}

static void need_server(void)
{
    if (server <= 0) skip();
}

static nnm_data_request request(const char *data_dir, const char *mirror)
{
    nnm_data_request r;
    memset(&r, 0, sizeof r);
    r.dataset = "mnist";
    r.data_dir = data_dir;
    r.mirror = mirror;
    r.allow_download = 1;
    r.quiet = 1;
    r.sha256 = sum_table;
    return r;
}

static void expect_text(const char *msg, const char *want)
{
    if (!strstr(msg, want)) fail_msg("error \"%s\" does not contain \"%s\"", msg, want);
}

static void expect_no_text(const char *msg, const char *unwanted)
{
    if (strstr(msg, unwanted)) fail_msg("error \"%s\" should not contain \"%s\"", msg, unwanted);
}

/* ---- downloads ---- */

static void test_fetch__downloads_into_empty_dir(void **state)
{
    (void)state;
    need_server();
    char target[PATH_MAX], mirror[256], err[2048], want[PATH_MAX + 64];
    snprintf(target, sizeof target, "%s/nested/mnist", fresh_dir("dl")); /* created on the way */
    url(mirror, sizeof mirror, "good");
    nnm_data_request req = request(target, mirror);
    nnm_dataset_paths p;
    if (nnm_find_dataset(&req, &p, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(p.downloaded, 4);
    assert_string_equal(p.dir, target);
    snprintf(want, sizeof want, "%s/train-images-idx3-ubyte.gz", target);
    assert_string_equal(p.train_images, want);
    assert_int_equal(count_entries(target), 4); /* no temporary file left */

    /* Byte for byte what the server holds, and readable by libnn. */
    for (int i = 0; i < NNM_N_FILES; i++) {
        const char *got_path = i == 0 ? p.train_images : i == 1 ? p.train_labels : i == 2 ? p.test_images : p.test_labels;
        char served[PATH_MAX + 128];
        snprintf(served, sizeof served, "%s/srv/good/%s.gz", tmp, names[i]);
        size_t a, b;
        unsigned char *x = read_all(got_path, &a), *y = read_all(served, &b);
        assert_non_null(x);
        assert_non_null(y);
        assert_int_equal(a, b);
        assert_memory_equal(x, y, a);
        free(x);
        free(y);
    }
    nn_dataset *ds = NULL;
    if (nn_dataset_load_idx(&ds, p.train_images, p.train_labels) != NN_OK) fail_msg("%s", nn_last_error());
    assert_int_equal(nn_dataset_count(ds), 3);
    nn_dataset_free(ds);

    /* Found the second time: nothing downloaded, even with the server unreachable. */
    char dead[256];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d/", dead_port);
    req.mirror = dead;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), 0);
    assert_int_equal(p.downloaded, 0);
}

static void test_fetch__wrong_checksum_refused_and_nothing_left(void **state)
{
    (void)state;
    need_server();
    char mirror[256], err[2048];
    const char *target = fresh_dir("dl-bad");
    url(mirror, sizeof mirror, "bad");
    nnm_data_request req = request(target, mirror);
    nnm_dataset_paths p;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, "SHA-256 mismatch");
    expect_text(err, "bad/train-images-idx3-ubyte.gz");
    expect_text(err, sums[NNM_TRAIN_IMAGES]);
    assert_int_equal(count_entries(target), 0);

    url(mirror, sizeof mirror, "html");
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, "not valid gzip data");
    assert_int_equal(count_entries(target), 0);

    url(mirror, sizeof mirror, "cut");
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, "gzip stream stops early");
    assert_int_equal(count_entries(target), 0);
}

static void test_fetch__404_mirror_then_good_mirror(void **state)
{
    (void)state;
    need_server();
    char missing[256], good[256], err[2048];
    url(missing, sizeof missing, "missing");
    snprintf(good, sizeof good, "http://127.0.0.1:%d/good", port); /* no trailing slash */
    const char *const mirrors[] = {missing, good, NULL};
    const char *target = fresh_dir("dl-404");
    nnm_data_request req = request(target, NULL);
    req.mirrors = mirrors;
    nnm_dataset_paths p;
    if (nnm_find_dataset(&req, &p, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(p.downloaded, 4);
    assert_int_equal(count_entries(target), 4);

    const char *const only_missing[] = {missing, NULL};
    req.mirrors = only_missing;
    req.data_dir = fresh_dir("dl-404-only");
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, "missing/train-images-idx3-ubyte.gz: HTTP 404");
    assert_int_equal(count_entries(req.data_dir), 0);
}

static void test_fetch__server_down_gives_clear_error(void **state)
{
    (void)state;
    char dead[256], err[2048], where[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d/", dead_port);
    snprintf(where, sizeof where, "127.0.0.1:%d/train-images-idx3-ubyte.gz", dead_port);
    const char *target = fresh_dir("dl-down");
    nnm_data_request req = request(target, dead);
    nnm_dataset_paths p;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, where);
    expect_text(err, "onnect"); /* "Couldn't connect to server" in the words of libcurl */
    expect_text(err, "Looked in:");
    expect_text(err, target);
    expect_text(err, "--data-dir");
    expect_text(err, "NN_DATA_DIR");
    assert_int_equal(count_entries(target), 0);

    /* A failed first download into ./data/mnist leaves no empty folder behind, ./data included
     * (docs/study.md: it leaves nothing). */
    req.data_dir = NULL;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, "./data/mnist");
    assert_int_equal(access("data/mnist", F_OK), -1);
    assert_int_equal(access("data", F_OK), -1);
    assert_int_equal(count_entries("."), 0);

    /* Likewise every folder it made on the way to --data-dir, and only those. */
    char nested[PATH_MAX], made[PATH_MAX];
    const char *base = fresh_dir("dl-down-nested");
    snprintf(nested, sizeof nested, "%s/new/deeper/mnist", base);
    snprintf(made, sizeof made, "%s/new", base);
    req.data_dir = nested;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    assert_int_equal(access(made, F_OK), -1);
    assert_int_equal(count_entries(base), 0);

    /* A folder that was there stays, with what it holds; the ones made under it go. */
    char keep[PATH_MAX + 16], deeper[PATH_MAX + 16];
    make_dir(made);
    snprintf(keep, sizeof keep, "%s/keep.txt", made);
    snprintf(deeper, sizeof deeper, "%s/deeper", made);
    write_file(keep, "x", 1);
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    assert_int_equal(access(keep, F_OK), 0);
    assert_int_equal(access(deeper, F_OK), -1);
}

/* eval's request: only the two test files are looked for and downloaded. */
static void test_fetch__test_only_finds_and_downloads_the_test_files(void **state)
{
    (void)state;
    need_server();
    char mirror[256], err[2048], path[PATH_MAX + 64];
    const char *dir = fresh_dir("test-only");
    for (int i = NNM_TEST_IMAGES; i <= NNM_TEST_LABELS; i++) {
        snprintf(path, sizeof path, "%s/%s.gz", dir, names[i]);
        write_file(path, "x", 1);
    }
    nnm_data_request req = request(dir, NULL);
    req.allow_download = 0;
    nnm_dataset_paths p;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1); /* a grid needs all four */
    expect_text(err, "has 2 of the 4 files");
    req.test_only = 1;
    if (nnm_find_dataset(&req, &p, err, sizeof err) != 0) fail_msg("%s", err);
    assert_string_equal(p.dir, dir);
    assert_string_equal(p.train_images, "");
    assert_string_equal(p.train_labels, "");
    snprintf(path, sizeof path, "%s/%s.gz", dir, names[NNM_TEST_LABELS]);
    assert_string_equal(p.test_labels, path);

    /* Into an empty folder: the two test files, not the 47 MB of training files. */
    url(mirror, sizeof mirror, "good");
    req = request(fresh_dir("test-only-dl"), mirror);
    req.test_only = 1;
    if (nnm_find_dataset(&req, &p, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(p.downloaded, 2);
    assert_int_equal(count_entries(req.data_dir), 2);
    snprintf(path, sizeof path, "%s/%s.gz", req.data_dir, names[NNM_TEST_IMAGES]);
    assert_string_equal(p.test_images, path);
}

static void test_fetch__environment_mirror_is_the_only_one(void **state)
{
    (void)state;
    need_server();
    char good[256], bad[256], missing[256], err[2048];
    url(good, sizeof good, "good");
    url(bad, sizeof bad, "bad");
    url(missing, sizeof missing, "missing");
    const char *const list_bad[] = {bad, NULL};
    const char *const list_good[] = {good, NULL};
    nnm_dataset_paths p;

    setenv("NN_MNIST_MIRROR", good, 1);
    nnm_data_request req = request(fresh_dir("env-1"), NULL);
    req.mirrors = list_bad;
    if (nnm_find_dataset(&req, &p, err, sizeof err) != 0) fail_msg("%s", err);

    setenv("NN_MNIST_MIRROR", missing, 1);
    req = request(fresh_dir("env-2"), NULL);
    req.mirrors = list_good; /* not tried: the variable names the only mirror */
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, "HTTP 404");
    expect_no_text(err, "/good/");

    req = request(fresh_dir("env-3"), good); /* --mirror beats the variable */
    if (nnm_find_dataset(&req, &p, err, sizeof err) != 0) fail_msg("%s", err);
}

static void test_fetch__default_target_is_data_folder_in_working_dir(void **state)
{
    (void)state;
    need_server();
    char good[256], err[2048];
    url(good, sizeof good, "good");
    nnm_data_request req = request(NULL, good);
    nnm_dataset_paths p;
    if (nnm_find_dataset(&req, &p, err, sizeof err) != 0) fail_msg("%s", err);
    assert_string_equal(p.dir, "./data/mnist");
    assert_int_equal(count_entries("data/mnist"), 4);
}

/* ---- where files are looked for ---- */

static void test_fetch__search_order(void **state)
{
    (void)state;
    char a[PATH_MAX], root[PATH_MAX], sub[PATH_MAX], partial[PATH_MAX], empty[PATH_MAX], err[2048], want[PATH_MAX + 64];
    snprintf(a, sizeof a, "%s", fresh_dir("ord-a"));
    fake_set(a, 0, 1, 4); /* uncompressed, with the dotted names some copies use */
    snprintf(root, sizeof root, "%s", fresh_dir("ord-root"));
    path_join(sub, sizeof sub, root, "mnist");
    fake_set(sub, 1, 0, 4);
    snprintf(partial, sizeof partial, "%s", fresh_dir("ord-partial"));
    path_join(want, sizeof want, partial, "mnist");
    fake_set(want, 1, 0, 3); /* one file short: does not count */
    snprintf(empty, sizeof empty, "%s", fresh_dir("ord-empty"));
    make_dir("data");
    fake_set("data/mnist", 1, 0, 4);
    nnm_dataset_paths p;

    /* 1. --data-dir first, and then only it. */
    setenv("NN_DATA_DIR", root, 1);
    nnm_data_request req = request(a, NULL);
    req.allow_download = 0;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), 0);
    assert_string_equal(p.dir, a);
    snprintf(want, sizeof want, "%s/train-images.idx3-ubyte", a);
    assert_string_equal(p.train_images, want);
    assert_int_equal(p.downloaded, 0);
    req.data_dir = empty;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, empty);
    expect_text(err, "has 0 of the 4 files");
    expect_text(err, "Downloading is off");
    expect_no_text(err, root);
    req.data_dir = root; /* a folder holding mnist/ is accepted too */
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), 0);
    assert_string_equal(p.dir, sub);

    /* 2. Then $NN_DATA_DIR/mnist. */
    req.data_dir = NULL;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), 0);
    assert_string_equal(p.dir, sub);
    snprintf(want, sizeof want, "%s/t10k-labels-idx1-ubyte.gz", sub);
    assert_string_equal(p.test_labels, want);

    /* 3. Then ./data/mnist, also when NN_DATA_DIR's folder is incomplete. */
    setenv("NN_DATA_DIR", partial, 1);
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), 0);
    assert_string_equal(p.dir, "./data/mnist");
    unsetenv("NN_DATA_DIR");
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), 0);
    assert_string_equal(p.dir, "./data/mnist");
}

static void test_fetch__nothing_found_says_where_and_how(void **state)
{
    (void)state;
    char err[2048];
    setenv("NN_DATA_DIR", tmp, 1); /* holds no mnist/ */
    nnm_data_request req = request(NULL, NULL);
    req.allow_download = 0;
    nnm_dataset_paths p;
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, "./data/mnist (the working folder): no such folder");
    expect_text(err, "(NN_DATA_DIR): no such folder");
    expect_text(err, "--data-dir DIR");
    expect_text(err, "https://ossci-datasets.s3.amazonaws.com/mnist/");
    assert_int_equal(count_entries("."), 0); /* nothing created without a download */

    req.dataset = "cifar";
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), -1);
    expect_text(err, "unknown dataset 'cifar'");
    assert_int_equal(nnm_find_dataset(NULL, &p, err, sizeof err), -1);
}

static void test_fetch__fashion_from_debian_package(void **state)
{
    (void)state;
    const char *deb = "/usr/share/datasets/fashion-mnist";
    char probe[256];
    snprintf(probe, sizeof probe, "%s/t10k-labels-idx1-ubyte.gz", deb);
    if (access(probe, R_OK) != 0) {
        print_message("dataset-fashion-mnist not installed: skipping\n");
        skip();
    }
    char err[2048];
    nnm_data_request req = request(NULL, NULL);
    req.dataset = "fashion-mnist";
    req.allow_download = 0;
    nnm_dataset_paths p;
    if (nnm_find_dataset(&req, &p, err, sizeof err) != 0) fail_msg("%s", err);
    assert_string_equal(p.dir, deb);
    /* ./data/fashion-mnist comes first when it is complete. */
    make_dir("data");
    fake_set("data/fashion-mnist", 1, 0, 4);
    assert_int_equal(nnm_find_dataset(&req, &p, err, sizeof err), 0);
    assert_string_equal(p.dir, "./data/fashion-mnist");
}

/* ---- loading what was found ---- */

/* Writes one file of an MNIST-shaped set (n images of rows x cols, or n labels) into dir, raw or
 * gzipped; label_at_1 replaces the second label. Returns the SHA-256 of its content in hex. */
static void write_idx(const char *dir, int file, int gz, uint32_t n, uint32_t rows, uint32_t cols, int label_at_1,
                      char *hex)
{
    const int images = file == NNM_TRAIN_IMAGES || file == NNM_TEST_IMAGES;
    const size_t body = images ? (size_t)n * rows * cols : n;
    unsigned char *buf = malloc(16 + body);
    assert_non_null(buf);
    const uint32_t dims[3] = {n, rows, cols};
    size_t h = 0;
    buf[h++] = 0, buf[h++] = 0, buf[h++] = 8, buf[h++] = images ? 3 : 1;
    for (int d = 0; d < (images ? 3 : 1); d++)
        for (int b = 0; b < 4; b++) buf[h++] = (unsigned char)(dims[d] >> (24 - 8 * b));
    for (size_t i = 0; i < body; i++)
        buf[h + i] = (unsigned char)(images ? (i * 7 + (size_t)file) & 255 : (i + (size_t)file) % 10);
    if (!images && n > 1 && label_at_1 >= 0) buf[h + 1] = (unsigned char)label_at_1;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s%s", dir, names[file], gz ? ".gz" : "");
    if (gz)
        write_gz(path, buf, h + body);
    else
        write_file(path, buf, h + body);
    if (hex) sha256_hex(buf, h + body, hex);
    free(buf);
}

/* Finds the set in dir as dataset, then loads it; returns nnm_load_dataset's result. */
static int find_and_load(const char *dataset, const char *dir, const char *const *sha256, char *err, size_t errlen)
{
    nnm_data_request req = request(dir, NULL);
    req.dataset = dataset;
    req.allow_download = 0;
    req.sha256 = sha256;
    nnm_dataset_paths p;
    if (nnm_find_dataset(&req, &p, err, errlen) != 0) fail_msg("%s", err);
    nn_dataset *train = (nn_dataset *)&train, *test = (nn_dataset *)&test;
    int rc = nnm_load_dataset(&req, &p, &train, &test, err, errlen);
    if (rc == 0) {
        assert_int_equal(nn_dataset_features(train), 784);
        assert_int_equal(nn_dataset_classes(train), 10);
        assert_int_equal(nn_dataset_classes(test), 10); /* declared, though labels stop below 9 here */
    } else {
        assert_null(train);
        assert_null(test);
    }
    nn_dataset_free(train);
    nn_dataset_free(test);
    return rc;
}

static void test_fetch__load_checks_classes_and_image_size(void **state)
{
    (void)state;
    char err[2048];
    const char *dir = fresh_dir("shape");
    for (int i = 0; i < NNM_N_FILES; i++) write_idx(dir, i, i % 2, 5, 28, 28, -1, NULL);
    if (find_and_load("mnist", dir, NULL, err, sizeof err) != 0) fail_msg("%s", err);
    /* A test label of 10 would make an 11-class model; 255 a 256-class one. */
    write_idx(dir, NNM_TEST_LABELS, 1, 5, 0, 0, 10, NULL);
    assert_int_equal(find_and_load("mnist", dir, NULL, err, sizeof err), -1);
    expect_text(err, "t10k-labels-idx1-ubyte.gz: label 10 at index 1 is outside 0..9");
    write_idx(dir, NNM_TEST_LABELS, 1, 5, 0, 0, 255, NULL);
    assert_int_equal(find_and_load("fashion-mnist", dir, NULL, err, sizeof err), -1);
    expect_text(err, "label 255 at index 1 is outside 0..9");
    write_idx(dir, NNM_TEST_LABELS, 1, 5, 0, 0, -1, NULL);
    /* 14 x 56 images have MNIST's 784 pixels, and are still not MNIST. */
    write_idx(dir, NNM_TEST_IMAGES, 0, 5, 14, 56, -1, NULL);
    assert_int_equal(find_and_load("mnist", dir, NULL, err, sizeof err), -1);
    expect_text(err, "t10k-images-idx3-ubyte: images are 14x56 (height x width), expected 28x28");
}

static void test_fetch__load_refuses_a_known_file_in_the_wrong_place(void **state)
{
    (void)state;
    char err[2048], hex[NNM_N_FILES][65];
    const char *table[NNM_N_FILES];
    const char *dir = fresh_dir("roles");
    for (int i = 0; i < NNM_N_FILES; i++) {
        write_idx(dir, i, 1, i < 2 ? 6 : 4, 28, 28, -1, hex[i]);
        table[i] = hex[i];
    }
    /* As published (these sums stand for MNIST's), and unknown files, both load. */
    if (find_and_load("mnist", dir, table, err, sizeof err) != 0) fail_msg("%s", err);
    if (find_and_load("mnist", dir, NULL, err, sizeof err) != 0) fail_msg("%s", err);
    /* Training and test sets swapped: each pair is consistent, so only the checksums tell. */
    const char *swap[NNM_N_FILES] = {hex[NNM_TEST_IMAGES], hex[NNM_TEST_LABELS], hex[NNM_TRAIN_IMAGES],
                                     hex[NNM_TRAIN_LABELS]};
    assert_int_equal(find_and_load("mnist", dir, swap, err, sizeof err), -1);
    expect_text(err, "train-images-idx3-ubyte.gz is MNIST's t10k-images-idx3-ubyte (by its SHA-256), not its "
                     "train-images-idx3-ubyte");
}

/* --dataset fashion-mnist with MNIST's files trained on MNIST under the other name. Needs MNIST's
 * real test files (NN_DATA_DIR/mnist; CI has them). */
static void test_fetch__load_refuses_another_datasets_files(void **state)
{
    (void)state;
    const char *src = real_mnist_test;
    if (!src[0]) {
        print_message("NN_DATA_DIR/mnist/t10k-*.gz not found: skipping\n");
        skip();
    }
    char err[2048];
    const char *dir = fresh_dir("cross");
    /* Training files of no known dataset, MNIST's real test files. */
    write_idx(dir, NNM_TRAIN_IMAGES, 1, 5, 28, 28, -1, NULL);
    write_idx(dir, NNM_TRAIN_LABELS, 1, 5, 0, 0, -1, NULL);
    for (int i = NNM_TEST_IMAGES; i <= NNM_TEST_LABELS; i++) {
        char from[PATH_MAX + 64], to[PATH_MAX + 64];
        snprintf(from, sizeof from, "%s/%s.gz", src, names[i]);
        snprintf(to, sizeof to, "%s/%s.gz", dir, names[i]);
        assert_int_equal(symlink(from, to), 0);
    }
    assert_int_equal(find_and_load("fashion-mnist", dir, NULL, err, sizeof err), -1);
    expect_text(err, "t10k-images-idx3-ubyte.gz is MNIST's t10k-images-idx3-ubyte (by its SHA-256), not "
                     "Fashion-MNIST's");
    expect_text(err, "--dataset mnist");
    if (find_and_load("mnist", dir, NULL, err, sizeof err) != 0) fail_msg("%s", err);
}

/* The quick start: the real MNIST, through HTTP, checked against the published checksums. */
static void test_fetch__real_mnist_with_builtin_checksums(void **state)
{
    (void)state;
    need_server();
    if (!real_mnist[0]) {
        print_message("NN_DATA_DIR/mnist with the real files not found: skipping\n");
        skip();
    }
    char mirror[256], err[2048];
    url(mirror, sizeof mirror, "real");
    nnm_data_request req = request(NULL, mirror);
    req.sha256 = NULL;
    nnm_dataset_paths p;
    if (nnm_find_dataset(&req, &p, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(p.downloaded, 4);
    nn_dataset *train = NULL, *test = NULL;
    if (nn_dataset_load_idx(&train, p.train_images, p.train_labels) != NN_OK) fail_msg("%s", nn_last_error());
    if (nn_dataset_load_idx(&test, p.test_images, p.test_labels) != NN_OK) fail_msg("%s", nn_last_error());
    assert_int_equal(nn_dataset_count(train), 60000);
    assert_int_equal(nn_dataset_count(test), 10000);
    nn_dataset_free(train);
    nn_dataset_free(test);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
    const struct CMUnitTest tests[] = {
        T(test_fetch__downloads_into_empty_dir),
        T(test_fetch__wrong_checksum_refused_and_nothing_left),
        T(test_fetch__404_mirror_then_good_mirror),
        T(test_fetch__server_down_gives_clear_error),
        T(test_fetch__test_only_finds_and_downloads_the_test_files),
        T(test_fetch__environment_mirror_is_the_only_one),
        T(test_fetch__default_target_is_data_folder_in_working_dir),
        T(test_fetch__search_order),
        T(test_fetch__nothing_found_says_where_and_how),
        T(test_fetch__fashion_from_debian_package),
        T(test_fetch__real_mnist_with_builtin_checksums),
        T(test_fetch__load_checks_classes_and_image_size),
        T(test_fetch__load_refuses_a_known_file_in_the_wrong_place),
        T(test_fetch__load_refuses_another_datasets_files),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
