/**
 * @file optimizer.h
 * @brief Optimizers behind one interface: SGD, Adam, AdamW, RMSprop, Adagrad.
 *
 * Each optimizer has an options struct whose defaults, from NN_<NAME>_OPTIONS_INIT, match Keras 3.
 * An optimizer updates one flat float array of parameters from a flat array of gradients of the same
 * length, in one pass. Its state (moments, velocities, the step count) is sized once by
 * nn_optimizer_setup() and is reachable through nn_optimizer_state() so that training can be saved
 * and resumed exactly.
 * @code
 * nn_adam_options o = NN_ADAM_OPTIONS_INIT;
 * o.lr = 3e-4f;
 * nn_optimizer *opt;
 * if (nn_optimizer_create_adam(&opt, &o) != NN_OK) ...
 * @endcode
 *
 * Update rules (g: gradient, w: parameter, t: step number starting at 1):
 * - SGD: without momentum w -= lr g. With momentum, as Keras: v = momentum v - lr g; then
 *   w += v, or with Nesterov w += momentum v - lr g.
 * - Adam (Kingma & Ba 2015, Alg. 1, in Keras' form): m += (1-b1)(g - m); v += (1-b2)(g^2 - v);
 *   w -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps). Epsilon is outside the square root and
 *   is not bias-corrected, as in Keras.
 * - AdamW (Loshchilov & Hutter 2019): w -= lr wd w first (decoupled weight decay), then Adam.
 * - RMSprop (Hinton 2012, Keras' form): s = rho s + (1-rho) g^2; centered also keeps
 *   a = rho a + (1-rho) g and uses s - a^2; inc = lr g / sqrt(s + eps) (epsilon inside the square
 *   root, as Keras); with momentum mo = momentum mo + inc, w -= mo; else w -= inc.
 * - Adagrad (Duchi et al. 2011, Keras' form): acc += g^2 (acc starts at initial_accumulator);
 *   w -= lr g / sqrt(acc + eps).
 */
#ifndef NN_OPTIMIZER_H
#define NN_OPTIMIZER_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

NN_BEGIN_DECLS

/** Optimizer kinds; values are stable (they are stored in model files). */
typedef enum nn_optimizer_kind {
    NN_OPT_SGD = 0,
    NN_OPT_ADAM = 1,
    NN_OPT_RMSPROP = 2,
    NN_OPT_ADAMW = 3,
    NN_OPT_ADAGRAD = 4
} nn_optimizer_kind;

/* Each options struct carries its own version first (NN_<KIND>_OPTIONS_VERSION, set by its _INIT
 * macro or its _options_init() function); fields are only ever appended, and the library accepts any
 * version from 1 up to its own, so a program built against an older minor keeps working. */
#define NN_SGD_OPTIONS_VERSION 1
#define NN_ADAM_OPTIONS_VERSION 1
#define NN_ADAMW_OPTIONS_VERSION 1
#define NN_RMSPROP_OPTIONS_VERSION 1
#define NN_ADAGRAD_OPTIONS_VERSION 1

/** SGD options. Defaults: lr 0.01, momentum 0, nesterov off. */
typedef struct nn_sgd_options {
    unsigned version; /**< NN_SGD_OPTIONS_VERSION */
    float lr;
    float momentum;   /**< in [0, 1) */
    int nesterov;     /**< non-zero: Nesterov momentum */
} nn_sgd_options;

/** Adam options. Defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7. */
typedef struct nn_adam_options {
    unsigned version;
    float lr;
    float beta1;
    float beta2;
    float eps;
} nn_adam_options;

/** AdamW options. Defaults: those of Adam, and weight_decay 0.004 (Keras 3). */
typedef struct nn_adamw_options {
    unsigned version;
    float lr;
    float beta1;
    float beta2;
    float eps;
    float weight_decay;
} nn_adamw_options;

/** RMSprop options. Defaults: lr 1e-3, rho 0.9, momentum 0, eps 1e-7, centered off. */
typedef struct nn_rmsprop_options {
    unsigned version;
    float lr;
    float rho;
    float momentum;
    float eps;
    int centered;
} nn_rmsprop_options;

/** Adagrad options. Defaults: lr 1e-3, initial_accumulator 0.1, eps 1e-7. */
typedef struct nn_adagrad_options {
    unsigned version;
    float lr;
    float initial_accumulator;
    float eps;
} nn_adagrad_options;

/** Initialisers with the defaults: `nn_adam_options o = NN_ADAM_OPTIONS_INIT; o.lr = 3e-4f;` */
#define NN_SGD_OPTIONS_INIT {NN_SGD_OPTIONS_VERSION, 0.01f, 0.0f, 0}
#define NN_ADAM_OPTIONS_INIT {NN_ADAM_OPTIONS_VERSION, 1e-3f, 0.9f, 0.999f, 1e-7f}
#define NN_ADAMW_OPTIONS_INIT {NN_ADAMW_OPTIONS_VERSION, 1e-3f, 0.9f, 0.999f, 1e-7f, 0.004f}
#define NN_RMSPROP_OPTIONS_INIT {NN_RMSPROP_OPTIONS_VERSION, 1e-3f, 0.9f, 0.0f, 1e-7f, 0}
#define NN_ADAGRAD_OPTIONS_INIT {NN_ADAGRAD_OPTIONS_VERSION, 1e-3f, 0.1f, 1e-7f}

/**
 * @brief Fill @p opts with the defaults of options version @p version, as the _INIT macros do (for
 *        callers that cannot use a macro, e.g. bindings from other languages).
 * @return NN_OK, or NN_ERR_INVALID_ARGUMENT for NULL or a version this library does not know.
 * @since 0.2
 */
NN_API nn_status nn_sgd_options_init(nn_sgd_options *opts, unsigned version);
NN_API nn_status nn_adam_options_init(nn_adam_options *opts, unsigned version);
NN_API nn_status nn_adamw_options_init(nn_adamw_options *opts, unsigned version);
NN_API nn_status nn_rmsprop_options_init(nn_rmsprop_options *opts, unsigned version);
NN_API nn_status nn_adagrad_options_init(nn_adagrad_options *opts, unsigned version);

/** Opaque optimizer. One thread at a time. */
typedef struct nn_optimizer nn_optimizer;

/**
 * @brief Create an optimizer; @p opts NULL means the defaults.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (bad version, lr <= 0, betas outside [0,1), ...),
 *         NN_ERR_NO_MEMORY.
 * @since 0.1
 */
NN_API nn_status nn_optimizer_create_sgd(nn_optimizer **out, const nn_sgd_options *opts);
NN_API nn_status nn_optimizer_create_adam(nn_optimizer **out, const nn_adam_options *opts);
NN_API nn_status nn_optimizer_create_adamw(nn_optimizer **out, const nn_adamw_options *opts);
NN_API nn_status nn_optimizer_create_rmsprop(nn_optimizer **out, const nn_rmsprop_options *opts);
NN_API nn_status nn_optimizer_create_adagrad(nn_optimizer **out, const nn_adagrad_options *opts);

/**
 * @brief Create an optimizer by name ("sgd", "adam", "adamw", "rmsprop", "adagrad") with its
 *        defaults, and learning rate @p lr when lr > 0.
 * @return NN_OK, or NN_ERR_INVALID_ARGUMENT with a message listing the accepted names.
 * @since 0.1
 */
NN_API nn_status nn_optimizer_create_from_name(nn_optimizer **out, const char *name, float lr);

/**
 * @brief Release an optimizer; NULL is a no-op.
 * An optimizer that belongs to a model (after nn_model_compile() or nn_model_set_optimizer()
 * succeeded) is freed by nn_model_free(); called on one, this does nothing and sets nn_last_error().
 * @since 0.1
 */
NN_API void nn_optimizer_free(nn_optimizer *opt);

/** @brief The optimizer's kind. @since 0.1 */
NN_API nn_optimizer_kind nn_optimizer_get_kind(const nn_optimizer *opt);

/** @brief Stable lowercase name of a kind ("adam"); NULL if unknown. @since 0.1 */
NN_API const char *nn_optimizer_kind_name(nn_optimizer_kind kind);

/** @brief Current learning rate. @since 0.1 */
NN_API float nn_optimizer_get_lr(const nn_optimizer *opt);

/** @brief Change the learning rate (e.g. for a schedule). @return NN_OK or NN_ERR_INVALID_ARGUMENT. @since 0.1 */
NN_API nn_status nn_optimizer_set_lr(nn_optimizer *opt, float lr);

/**
 * @brief Size the state for @p n parameters and reset it (step count 0, moments at their start
 *        values). The only call that allocates; nn_optimizer_step() never does.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_NO_MEMORY.
 * @since 0.1
 */
NN_API nn_status nn_optimizer_setup(nn_optimizer *opt, size_t n);

/**
 * @brief One update: params -= rule(grads). Both arrays hold the @p n values given to setup.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, or NN_ERR_STATE when n differs from the setup size.
 * @since 0.1
 */
NN_API nn_status nn_optimizer_step(nn_optimizer *opt, float *params, const float *grads, size_t n);

/** @brief Number of updates made since setup (t in the rules above). @since 0.1 */
NN_API uint64_t nn_optimizer_get_iterations(const nn_optimizer *opt);

/** @brief Set the step count, when restoring saved state. @since 0.1 */
NN_API void nn_optimizer_set_iterations(nn_optimizer *opt, uint64_t iterations);

/** @brief Number of state arrays (0 for plain SGD, 1 for RMSprop, 2 for Adam, ...). @since 0.1 */
NN_API int nn_optimizer_state_count(const nn_optimizer *opt);

/**
 * @brief Borrow state array @p i: its name ("m", "v", "velocity", "mean_grad", "momentum",
 *        "accumulator"), its data and length (the setup size).
 * The pointer stays valid until the next nn_optimizer_setup() or nn_optimizer_free(); writing
 * through it is how saved state is restored.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (i out of range), NN_ERR_STATE (not set up).
 * @since 0.1
 */
NN_API nn_status nn_optimizer_state(nn_optimizer *opt, int i, const char **name, float **data, size_t *n);

/**
 * @brief The hyperparameters as name/value pairs, for saving and reports ("lr", "beta1", ...).
 * @param i  0 <= i < nn_optimizer_hparam_count(opt)
 * @since 0.1
 */
NN_API int nn_optimizer_hparam_count(const nn_optimizer *opt);
NN_API nn_status nn_optimizer_hparam(const nn_optimizer *opt, int i, const char **name, float *value);

/**
 * @brief Set a hyperparameter by name (as read back from a file), validated as the constructors do.
 * @return NN_OK; NN_ERR_INVALID_ARGUMENT for a name the kind lacks or a value out of range;
 *         NN_ERR_STATE when, after setup, the change would add or remove a state array (momentum
 *         between 0 and non-zero, centered): call nn_optimizer_setup() again to change those.
 * @since 0.1
 */
NN_API nn_status nn_optimizer_set_hparam(nn_optimizer *opt, const char *name, float value);

NN_END_DECLS

#endif /* NN_OPTIMIZER_H */
