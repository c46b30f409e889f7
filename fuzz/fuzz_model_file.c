/* libFuzzer target for the path-based model reader (libnn/io/source.c and the walk over a file):
 * the input is written to a file, in a folder made once (in /dev/shm when there is one, so that
 * the writes stay in memory), and read back with nn_model_load() and nn_file_info_read(); then
 * again after its checksums were recomputed, so that mutations reach the parsers behind the CRCs.
 *
 * What a path gives must equal what the same bytes in memory give: load, info and the in-memory
 * load accept the same files, and refuse them with the same status and the same words (the path
 * version only adds the file's name). Any disagreement aborts: that is the one validation path
 * of docs/model-format.md, checked at every input. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <nn/nn.h>

#include "crc_fix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile float sink;
static char dir[256], path[300];


static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

/* The folder, made once; and, once, the paths that are not regular files. */
static int setup(void)
{
    if (dir[0]) return 0;
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                           ? "/dev/shm"
                           : getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/nn-fuzz-model-file-XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("fuzz_model_file: mkdtemp");
        abort();
    }
    snprintf(path, sizeof path, "%s/input.nnm", dir);
    atexit(cleanup);
    nn_model *m;
    nn_file_info *info;
    if (nn_model_load(&m, dir, NULL) != NN_ERR_IO || nn_file_info_read(&info, dir) != NN_ERR_IO) abort();
    if (nn_model_load(&m, path, NULL) != NN_ERR_IO) abort(); /* absent */
    /* A FIFO must be refused, not waited on (a hang here is a timeout: a finding). */
    char fifo[320];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    if (mkfifo(fifo, 0600) == 0) {
        if (nn_model_load(&m, fifo, NULL) != NN_ERR_IO || nn_file_info_read(&info, fifo) != NN_ERR_IO) abort();
        unlink(fifo);
    }
    if (nn_model_load(&m, "/dev/null", NULL) != NN_ERR_IO) abort();
    return 0;
}

static void write_input(const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) abort();
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) abort();
        done += (size_t)n;
    }
    if (close(fd) != 0) abort();
}

/* The message without its "who": "model file 'P': X" and "model file: X" both give X. */
static const char *detail(const char *msg)
{
    size_t prefix = strlen("model file '") + strlen(path) + strlen("': ");
    if (strncmp(msg, "model file '", 12) == 0 && strlen(msg) >= prefix) return msg + prefix;
    if (strncmp(msg, "model file: ", 12) == 0) return msg + 12;
    return msg;
}

static void use_model(nn_model *m)
{
    sink += forward_once(m);
}

static void use_info(const nn_file_info *info)
{
    float acc = (float)nn_file_info_param_count(info) + (float)nn_file_info_epoch(info);
    for (int i = 0; i < nn_file_info_layer_count(info); i++) {
        nn_layer_info li = NN_LAYER_INFO_INIT;
        if (nn_file_info_layer(info, i, &li) != NN_OK) abort();
        acc += (float)li.out_features;
    }
    for (size_t i = 0; i < nn_file_info_meta_count(info); i++) {
        const char *k, *v;
        if (nn_file_info_meta(info, i, &k, &v) != NN_OK) abort();
        acc += (float)(strlen(k) + strlen(v));
    }
    sink += acc + (float)nn_file_info_optimizer(info);
}

static void run(const uint8_t *data, size_t size)
{
    write_input(data, size);
    char msg[1024];

    nn_model *m;
    nn_status from_path = nn_model_load(&m, path, NULL);
    snprintf(msg, sizeof msg, "%s", detail(nn_last_error()));
    if (from_path == NN_OK) {
        use_model(m);
        nn_model_free(m);
    }

    nn_file_info *info;
    nn_status st = nn_file_info_read(&info, path);
    if (st != from_path || (st != NN_OK && strcmp(detail(nn_last_error()), msg) != 0)) {
        fprintf(stderr, "nn_model_load: %d %s\nnn_file_info_read: %d %s\n", from_path, msg, st, nn_last_error());
        abort();
    }
    if (st == NN_OK) {
        use_info(info);
        nn_file_info_free(info);
    }

    st = nn_model_load_buffer(&m, data, size, NULL);
    if (st != from_path || (st != NN_OK && strcmp(detail(nn_last_error()), msg) != 0)) {
        fprintf(stderr, "nn_model_load: %d %s\nnn_model_load_buffer: %d %s\n", from_path, msg, st, nn_last_error());
        abort();
    }
    if (st == NN_OK) nn_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (setup() != 0) return 0;
    run(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    fix_crcs(copy, size);
    run(copy, size);
    free(copy);
    return 0;
}
