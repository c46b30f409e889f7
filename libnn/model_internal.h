/* What the model file format (libnn/io/) sees of a model beyond the public API: its layers through
 * the layer interface, so that each kind reads and writes its own settings. */
#ifndef NN_MODEL_INTERNAL_H
#define NN_MODEL_INTERNAL_H

#include "layers/layer.h"

/* Layer i (0 <= i < nn_model_layer_count(m)); borrowed. */
const nn__layer *nn__model_layer(const nn_model *m, int i);
const nn__shape *nn__model_input(const nn_model *m);
/* nn_layer_info of a layer, honouring out->size. */
void nn__layer_describe_info(const nn__layer *l, nn_layer_info *out);

/* The dense kind's settings, for nn_model_add_dense and for files of format 1, which knew nothing else. */
void nn__dense_configure(nn__layer *l, int64_t units, nn_init weight_init, nn_init bias_init);
extern const nn__layer_ops nn__dense_ops;
extern const nn__layer_ops nn__activation_ops;

#endif /* NN_MODEL_INTERNAL_H */
