/*
 * mnist_cnn.c: train a small convolutional network on MNIST, save it, load it back, and read one digit.
 *
 * Build and run against an installed libnn:
 *     cc mnist_cnn.c $(pkg-config --cflags --libs nn) -o mnist_cnn
 *     ./mnist_cnn path/to/mnist [epochs] [training images]
 * The folder must hold the four IDX files (train-images-idx3-ubyte.gz, ...); `nn-mnist grid`
 * downloads them into ./data/mnist on first use.
 *
 * The network is Keras' MNIST convnet: 28x28x1 -> conv 32 3x3 relu -> max-pool 2 -> conv 64 3x3 relu
 * -> max-pool 2 -> flatten -> dropout 0.5 -> dense 10, trained with Adam on batches of 128. Twelve
 * epochs reach about 99.2% on the test set.
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

enum { BATCH = 128 };

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MNIST_DIR [EPOCHS] [TRAINING_IMAGES]\n", argv[0]);
        return 2;
    }
    int epochs = argc > 2 ? atoi(argv[2]) : 3;
    long limit = argc > 3 ? atol(argv[3]) : 0;
    if (epochs < 1) epochs = 1;

    /* 1. The data, checked to be 28x28 images of 10 classes. */
    char img[4096], lab[4096];
    nn_dataset *train, *test;
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", argv[1]);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", argv[1]);
    CHECK(nn_dataset_load_idx_expect(&train, img, lab, 10, 28, 28));
    snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte.gz", argv[1]);
    snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte.gz", argv[1]);
    CHECK(nn_dataset_load_idx_expect(&test, img, lab, 10, 28, 28));
    int64_t n = nn_dataset_count(train);
    if (limit > 0 && limit < n) n = limit;

    /* 2. The model. Its input is an image, (height, width, channels), channels last: a batch of
     *    them is the same memory as the flat (batch, 784) rows the dataset gathers. */
    nn_model *model;
    nn_optimizer *adam;
    int64_t image[3] = {28, 28, 1};
    nn_activation relu = nn_activation_make(NN_ACT_RELU);
    CHECK(nn_model_create_shape(&model, 3, image));
    CHECK(nn_model_add_conv2d(model, 32, relu, NULL));   /* NULL: 3x3, stride 1, valid, as Keras */
    CHECK(nn_model_add_maxpool2d(model, NULL));          /* NULL: 2x2, stride 2 */
    CHECK(nn_model_add_conv2d(model, 64, relu, NULL));
    CHECK(nn_model_add_maxpool2d(model, NULL));
    CHECK(nn_model_add_flatten(model));
    CHECK(nn_model_add_dropout(model, 0.5f));            /* active only in nn_model_train_step */
    CHECK(nn_model_add_dense(model, 10, nn_activation_make(NN_ACT_LINEAR)));
    CHECK(nn_optimizer_create_adam(&adam, NULL));
    CHECK(nn_model_compile(model, NN_LOSS_SOFTMAX_CROSS_ENTROPY, adam));

    char summary[4096];
    CHECK(nn_model_summary(model, summary, sizeof summary, NULL));
    fputs(summary, stdout);

    /* 3. One seed: initial weights, dropout masks (the model's own generator, seeded from this one by
     *    nn_model_init) and every shuffle. */
    nn_rng *rng;
    CHECK(nn_rng_create(&rng, 42));
    CHECK(nn_model_init(model, rng));
    CHECK(nn_model_reserve(model, BATCH));

    /* 4. Train. */
    float *xb = malloc(sizeof(float) * BATCH * 784), *yb = malloc(sizeof(float) * BATCH);
    uint32_t *order = malloc(sizeof(uint32_t) * (size_t)nn_dataset_count(train));
    if (!xb || !yb || !order) return 1;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        for (int64_t i = 0; i < nn_dataset_count(train); i++) order[i] = (uint32_t)i;
        CHECK(nn_rng_shuffle(rng, order, (size_t)nn_dataset_count(train)));
        double loss_sum = 0;
        for (int64_t start = 0; start < n; start += BATCH) {
            int64_t b = n - start < BATCH ? n - start : BATCH;
            nn_tensor x, y;
            int64_t xs[2] = {BATCH, 784}, ys[1] = {BATCH};
            CHECK(nn_tensor_view(&x, xb, 2, xs));
            CHECK(nn_tensor_view(&y, yb, 1, ys));
            CHECK(nn_dataset_gather(train, order + start, b, &x, &y));
            float loss;
            CHECK(nn_model_train_step(model, &x, &y, &loss, NULL));
            loss_sum += loss * (double)b;
        }
        printf("epoch %d: mean training loss %.4f\n", epoch, loss_sum / (double)n);
    }

    /* 5. Save, and load into a new model: what a program that only predicts would do. */
    CHECK(nn_model_save(model, "mnist_cnn.nnm", NULL));
    nn_model *loaded;
    CHECK(nn_model_load(&loaded, "mnist_cnn.nnm", NULL));

    /* 6. Test accuracy of the loaded model (inference mode: no dropout), 500 images at a time. */
    int64_t nt = nn_dataset_count(test), chunk = 500, correct = 0;
    float *xt = malloc(sizeof(float) * chunk * 784), *yt = malloc(sizeof(float) * chunk);
    if (!xt || !yt) return 1;
    for (int64_t start = 0; start < nt; start += chunk) {
        int64_t b = nt - start < chunk ? nt - start : chunk;
        nn_tensor x, y;
        int64_t xs[2] = {b, 784}, ys[1] = {b};
        CHECK(nn_tensor_view(&x, xt, 2, xs));
        CHECK(nn_tensor_view(&y, yt, 1, ys));
        CHECK(nn_dataset_slice(test, start, b, &x, &y));
        float acc;
        CHECK(nn_model_evaluate(loaded, &x, &y, NULL, &acc));
        correct += (int64_t)(acc * (float)b + 0.5f);
    }
    printf("test accuracy %.4f\n", (double)correct / (double)nt);

    /* 7. One digit: probabilities for the first test image. */
    float probs[10];
    nn_tensor flat, x, y, p;
    int64_t row[2] = {1, 784}, one[4] = {1, 28, 28, 1}, lone[1] = {1}, pone[2] = {1, 10};
    CHECK(nn_tensor_view(&flat, xt, 2, row));
    CHECK(nn_tensor_view(&y, yt, 1, lone));
    CHECK(nn_dataset_slice(test, 0, 1, &flat, &y));
    CHECK(nn_tensor_view(&x, xt, 4, one)); /* the same pixels, seen as one 28x28x1 image */
    CHECK(nn_tensor_view(&p, probs, 2, pone));
    CHECK(nn_model_predict(loaded, &p, &x));
    int best = 0;
    for (int k = 1; k < 10; k++)
        if (probs[k] > probs[best]) best = k;
    printf("first test image: label %d, predicted %d (probability %.3f)\n", (int)yt[0], best, (double)probs[best]);

    free(xb); free(yb); free(order); free(xt); free(yt);
    nn_rng_free(rng);
    nn_model_free(model);
    nn_model_free(loaded);
    nn_dataset_free(train);
    nn_dataset_free(test);
    return 0;
}
