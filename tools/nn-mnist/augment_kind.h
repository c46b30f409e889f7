/* The kinds of --augment, as nnm_config.augment and the run records hold them (0 is off). Apart from
 * augment.h so that the records, which do not link libnn, can check them. */
#ifndef NNM_AUGMENT_KIND_H
#define NNM_AUGMENT_KIND_H

enum { NNM_AUGMENT_LIGHT = 1, NNM_AUGMENT_HANDWRITING = 2, NNM_AUGMENT_SCAN = 3 };

#endif
