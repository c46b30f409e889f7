/* Writes the seed corpus of the fuzzer into a folder: small valid files covering every section and
 * every optimizer. Built with the fuzz targets, run by hand after a format change:
 *   ./build/fuzz/make_corpus fuzz/corpus */
#include <stdio.h>

#include <nn/nn.h>

static int save(nn_model *m, const char *dir, const char *name, const nn_save_options *o)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (nn_model_save(m, path, o) != NN_OK) {
        fprintf(stderr, "%s: %s\n", path, nn_last_error());
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FOLDER\n", argv[0]);
        return 2;
    }
    static const char *names[] = {"sgd", "adam", "rmsprop", "adamw", "adagrad"};
    const char *keys[] = {"created", "note"}, *values[] = {"", "seed"};
    int failures = 0;
    for (int k = -1; k < 5; k++) {
        nn_model *m;
        nn_rng *rng;
        nn_optimizer *opt = NULL;
        if (nn_model_create(&m, 3) || nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_ELU)) ||
            nn_model_add_activation(m, nn_activation_make(NN_ACT_TANH)) ||
            nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_LINEAR)) ||
            (k >= 0 && nn_optimizer_create_from_name(&opt, names[k], 0.0f)) ||
            nn_model_compile(m, k == 2 ? NN_LOSS_MSE : NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt) ||
            nn_rng_create(&rng, (uint64_t)k + 10) || nn_model_init(m, rng)) {
            fprintf(stderr, "model: %s\n", nn_last_error());
            return 1;
        }
        nn_save_options so = NN_SAVE_OPTIONS_INIT;
        so.with_optimizer = k >= 0;
        so.rng = k >= 0 ? rng : NULL;
        so.epoch = k;
        so.meta_keys = keys;
        so.meta_values = values;
        so.meta_count = 2;
        char name[64];
        snprintf(name, sizeof name, "%s.nnm", k < 0 ? "weights-only" : names[k]);
        failures += save(m, argv[1], name, &so);
        nn_rng_free(rng);
        nn_model_free(m);
    }
    return failures ? 1 : 0;
}
