/*
 * xor.c: the smallest complete libnn program. It builds a network, trains it on the four rows of
 * XOR, and prints what it predicts.
 *
 * Build it against an installed libnn:
 *     cc xor.c $(pkg-config --cflags --libs nn) -o xor && ./xor
 *
 * XOR is the classic problem a single layer cannot solve (no straight line separates {01, 10} from
 * {00, 11}), so it needs a hidden layer, which makes it the "hello world" of neural networks.
 */
#include <stdio.h>

#include <nn/nn.h>

/* Every libnn call returns a status; on failure nn_last_error() says what went wrong. */
#define CHECK(call)                                                                                \
    do {                                                                                           \
        nn_status st_ = (call);                                                                    \
        if (st_ != NN_OK) {                                                                        \
            fprintf(stderr, "%s failed: %s\n", #call, nn_last_error());                            \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    /* 1. The data: four examples of two inputs each, and their classes (0 or 1). Tensors are
     *    float32, row-major; a view describes memory we own without copying it. */
    float inputs[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    float labels[4] = {0, 1, 1, 0};
    nn_tensor x, y;
    int64_t x_shape[2] = {4, 2}, y_shape[1] = {4};
    CHECK(nn_tensor_view(&x, &inputs[0][0], 2, x_shape));
    CHECK(nn_tensor_view(&y, labels, 1, y_shape));

    /* 2. The network: 2 inputs -> 8 tanh units -> 2 outputs (one score per class). The last layer is
     *    linear because the loss applies the softmax itself, in a numerically stable way. */
    nn_model *model;
    CHECK(nn_model_create(&model, 2));
    CHECK(nn_model_add_dense(model, 8, nn_activation_make(NN_ACT_TANH)));
    CHECK(nn_model_add_dense(model, 2, nn_activation_make(NN_ACT_LINEAR)));

    /* 3. Compile: choose the loss and the optimizer. The model takes ownership of the optimizer. */
    nn_adam_options adam = NN_ADAM_OPTIONS_INIT; /* Keras' defaults ... */
    adam.lr = 0.05f;                          /* ... with a larger step for this tiny problem */
    nn_optimizer *opt;
    CHECK(nn_optimizer_create_adam(&opt, &adam));
    CHECK(nn_model_compile(model, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt));

    /* 4. Initialise the weights from a seeded generator: the same seed gives the same network. */
    nn_rng *rng;
    CHECK(nn_rng_create(&rng, 1));
    CHECK(nn_model_init(model, rng));

    /* 5. Train: each step runs forward, computes the loss, back-propagates and updates. */
    float loss = 0.0f;
    for (int step = 1; step <= 300; step++) {
        CHECK(nn_model_train_step(model, &x, &y, &loss, NULL));
        if (step % 100 == 0) printf("step %3d  loss %.4f\n", step, loss);
    }

    /* 6. Predict: class probabilities for each row. */
    float probs[4][2];
    nn_tensor p;
    int64_t p_shape[2] = {4, 2};
    CHECK(nn_tensor_view(&p, &probs[0][0], 2, p_shape));
    CHECK(nn_model_predict(model, &p, &x));
    int correct = 0;
    for (int i = 0; i < 4; i++) {
        int predicted = probs[i][1] > probs[i][0];
        correct += predicted == (int)labels[i];
        printf("%g xor %g -> %d  (p = %.3f)\n", inputs[i][0], inputs[i][1], predicted, probs[i][predicted]);
    }

    /* 7. Every create has a free. */
    nn_model_free(model);
    nn_rng_free(rng);
    return correct == 4 ? 0 : 1;
}
