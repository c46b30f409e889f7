#include "internal.h"

const char *nn_version(void) { return NN_VERSION_STRING; }
