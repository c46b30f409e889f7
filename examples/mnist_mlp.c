/*
 * mnist_mlp.c: train one MLP on MNIST with libnn and print its test accuracy.
 *
 * Build and run against an installed libnn:
 *     cc mnist_mlp.c $(pkg-config --cflags --libs nn) -o mnist_mlp
 *     ./mnist_mlp path/to/mnist [epochs]
 * The folder must hold the four IDX files (train-images-idx3-ubyte.gz, ...); `nn-mnist grid`
 * downloads them into ./data/mnist on first use.
 *
 * This is the study's best model in about a hundred lines: 784 inputs -> 128 ReLU units -> 10 classes,
 * Adam with Keras' defaults, mini-batches of 32, a new shuffle each epoch.
 */
#include <stdio.h>
#include <stdlib.h>

#include <nn/nn.h>

#define CHECK(call)                                                                                \
    do {                                                                                           \
        if ((call) != NN_OK) {                                                                     \
            fprintf(stderr, "%s: %s\n", #call, nn_last_error());                                   \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

enum { BATCH = 32, HIDDEN = 128 };

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MNIST_DIR [EPOCHS]\n", argv[0]);
        return 2;
    }
    int epochs = argc > 2 ? atoi(argv[2]) : 5;
    if (epochs < 1) epochs = 1;

    /* 1. Load the data. Images stay uint8 in memory; batches are converted to floats in [0, 1]. */
    char img[4096], lab[4096];
    nn_dataset *train, *test;
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", argv[1]);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", argv[1]);
    CHECK(nn_dataset_load_idx(&train, img, lab));
    snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte.gz", argv[1]);
    snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte.gz", argv[1]);
    CHECK(nn_dataset_load_idx(&test, img, lab));
    int64_t n = nn_dataset_count(train), features = nn_dataset_features(train);

    /* 2. The model: a hidden ReLU layer and a linear output that the loss turns into probabilities. */
    nn_model *model;
    nn_optimizer *adam;
    CHECK(nn_model_create(&model, features));
    CHECK(nn_model_add_dense(model, HIDDEN, nn_activation_make(NN_ACT_RELU)));
    CHECK(nn_model_add_dense(model, nn_dataset_classes(train), nn_activation_make(NN_ACT_LINEAR)));
    CHECK(nn_optimizer_create_adam(&adam, NULL)); /* NULL: Keras' defaults (lr 1e-3, ...) */
    CHECK(nn_model_compile(model, NN_LOSS_SOFTMAX_CROSS_ENTROPY, adam));

    /* 3. One seed drives the initial weights and every epoch's shuffle: reruns are identical. */
    nn_rng *rng;
    CHECK(nn_rng_create(&rng, 42));
    CHECK(nn_model_init(model, rng));
    CHECK(nn_model_reserve(model, BATCH)); /* from here on, training allocates nothing */

    /* 4. Train. The batch buffers are ours; views describe them, and a partial last batch simply
     *    has fewer rows. */
    float *xb = malloc(sizeof(float) * BATCH * features), *yb = malloc(sizeof(float) * BATCH);
    uint32_t *order = malloc(sizeof(uint32_t) * n);
    if (!xb || !yb || !order) return 1;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        for (int64_t i = 0; i < n; i++) order[i] = (uint32_t)i;
        CHECK(nn_rng_shuffle(rng, order, (size_t)n));
        double loss_sum = 0;
        for (int64_t start = 0; start < n; start += BATCH) {
            int64_t b = n - start < BATCH ? n - start : BATCH;
            nn_tensor x, y;
            int64_t xs[2] = {BATCH, features}, ys[1] = {BATCH};
            CHECK(nn_tensor_view(&x, xb, 2, xs));
            CHECK(nn_tensor_view(&y, yb, 1, ys));
            CHECK(nn_dataset_gather(train, order + start, b, &x, &y));
            float loss;
            CHECK(nn_model_train_step(model, &x, &y, &loss, NULL));
            loss_sum += loss * (double)b;
        }
        printf("epoch %d: mean training loss %.4f\n", epoch, loss_sum / (double)n);
    }

    /* 5. Evaluate on the whole test set, straight from the dataset (NULL: its first n examples, in
     *    order). The model works through it a reserved batch at a time; no float copy is made. The
     *    last argument could take every image's predicted class, for a confusion matrix. */
    float acc;
    CHECK(nn_model_evaluate_indexed(model, test, NULL, nn_dataset_count(test), NULL, &acc, NULL));
    printf("test accuracy %.4f\n", (double)acc);

    free(xb); free(yb); free(order);
    nn_rng_free(rng);
    nn_model_free(model);
    nn_dataset_free(train);
    nn_dataset_free(test);
    return 0;
}
