#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

void nnm_config_defaults(nnm_config *c)
{
    memset(c, 0, sizeof *c);
    const char *acts[] = {"relu", "sigmoid", "tanh"}, *opts[] = {"sgd", "adam", "rmsprop"};
    for (int i = 0; i < 3; i++) {
        snprintf(c->activations[i], NNM_MAX_NAME, "%s", acts[i]);
        snprintf(c->optimizers[i], NNM_MAX_NAME, "%s", opts[i]);
    }
    c->n_activations = c->n_optimizers = 3;
    c->hidden[0] = 128;
    c->n_hidden = 1;
    c->epochs = 10;
    c->batch_size = 32;
    c->seed = 42;
    c->dataset = "mnist";
    c->out_dir = "results";
    c->models_dir = "models";
    c->threads = 1;
    c->jobs = 0; /* the number of cores, decided at run time */
}

int nnm_parse_names(const char *arg, char out[][NNM_MAX_NAME], int *n, const char *what, char *err, size_t errlen)
{
    *n = 0;
    const char *p = arg;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= NNM_MAX_NAME) {
            snprintf(err, errlen, "%s: '%s' is not a comma-separated list of names", what, arg);
            return -1;
        }
        if (*n >= NNM_MAX_LIST) {
            snprintf(err, errlen, "%s: at most %d names", what, NNM_MAX_LIST);
            return -1;
        }
        memcpy(out[*n], p, len);
        out[*n][len] = '\0';
        for (int i = 0; i < *n; i++)
            if (strcmp(out[i], out[*n]) == 0) {
                snprintf(err, errlen, "%s: '%s' is listed twice", what, out[*n]);
                return -1;
            }
        (*n)++;
        if (!comma) return 0;
        p = comma + 1;
    }
}

int nnm_parse_int(const char *arg, int64_t lo, int64_t hi, int64_t *out, const char *what, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        snprintf(err, errlen, "%s must be a whole number from %" PRId64 " to %" PRId64 ", got '%s'", what, lo, hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}

int nnm_parse_sizes(const char *arg, int64_t *out, int *n, char *err, size_t errlen)
{
    char names[NNM_MAX_LIST][NNM_MAX_NAME];
    int count;
    if (nnm_parse_names(arg, names, &count, "--hidden", err, errlen) != 0) return -1;
    if (count > NNM_MAX_HIDDEN) {
        snprintf(err, errlen, "--hidden: at most %d hidden layers", NNM_MAX_HIDDEN);
        return -1;
    }
    for (int i = 0; i < count; i++)
        if (nnm_parse_int(names[i], 1, 65536, &out[i], "--hidden sizes", err, errlen) != 0) return -1;
    *n = count;
    return 0;
}

int nnm_config_validate(const nnm_config *c, char *err, size_t errlen)
{
    for (int i = 0; i < c->n_activations; i++) {
        nn_activation a;
        if (nn_activation_from_name(&a, c->activations[i]) != NN_OK) {
            snprintf(err, errlen, "--activations: %s", nn_last_error());
            return -1;
        }
    }
    for (int i = 0; i < c->n_optimizers; i++) {
        nn_optimizer *o;
        if (nn_optimizer_create_from_name(&o, c->optimizers[i], c->lr) != NN_OK) {
            snprintf(err, errlen, "--optimizers: %s", nn_last_error());
            return -1;
        }
        nn_optimizer_free(o);
    }
    if (strcmp(c->dataset, "mnist") != 0 && strcmp(c->dataset, "fashion-mnist") != 0) {
        snprintf(err, errlen, "--dataset: unknown dataset '%s' (accepted: mnist, fashion-mnist)", c->dataset);
        return -1;
    }
    if (c->epochs < 1 || c->batch_size < 1 || c->threads < 1 || c->jobs < 0) {
        snprintf(err, errlen, "epochs, batch size, threads and jobs must be positive");
        return -1;
    }
    return 0;
}

void nnm_config_settings_line(const nnm_config *c, const char *optimizer, const char *activation, int64_t n_train,
                              int64_t n_test, char *buf, size_t len)
{
    char hidden[128] = "";
    size_t used = 0;
    for (int i = 0; i < c->n_hidden && used < sizeof hidden; i++)
        used += (size_t)snprintf(hidden + used, sizeof hidden - used, "%s%" PRId64, i ? "," : "", c->hidden[i]);
    /* lr is printed with %.9g so that every float has one spelling. */
    snprintf(buf, len,
             "dataset=%s optimizer=%s activation=%s hidden=%s epochs=%d batch=%" PRId64 " lr=%.9g seed=%" PRIu64
             " train=%" PRId64 " test=%" PRId64 " blas_threads=%d libnn=%s",
             c->dataset, optimizer, activation, hidden, c->epochs, c->batch_size, (double)c->lr, c->seed, n_train,
             n_test, c->threads, nn_version());
}
