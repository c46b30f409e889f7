/* Shared by the model-file fuzz targets: a mutated file with its checksums made right again, so that
 * the fuzzer reaches the parsers behind the CRC checks instead of stopping at them; and one forward
 * pass of whatever loaded, so that its layers are used, not only parsed. */
#ifndef NN_FUZZ_CRC_FIX_H
#define NN_FUZZ_CRC_FIX_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include <nn/nn.h>

static inline uint32_t rd32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24); }

/* Recompute every section CRC and the end section's whole-file CRC (docs/model-format.md). */
static inline void fix_crcs(uint8_t *f, size_t n)
{
    size_t pos = 16;
    while (pos + 20 <= n) {
        uint64_t len = rd32(f + pos + 8) | (uint64_t)rd32(f + pos + 12) << 32;
        if (len > n - pos - 20) return;
        if (rd32(f + pos) == 0x21444e45u /* "END!" */ && len >= 4) wr32(f + pos + 20, (uint32_t)crc32(0, f, (uInt)pos));
        wr32(f + pos + 16, (uint32_t)crc32(0, f + pos + 20, (uInt)len));
        pos += 20 + (size_t)len;
    }
}

/* One forward pass on an all-zero example (models of up to 4096 inputs and outputs); its first output. */
static inline float forward_once(nn_model *m)
{
    float r = 0.0f;
    int64_t in = nn_model_input_features(m), out = nn_model_output_features(m);
    if (in > 0 && in <= 4096 && out > 0 && out <= 4096) {
        float *x = calloc((size_t)in, sizeof *x), *y = calloc((size_t)out, sizeof *y);
        nn_tensor tx, ty;
        int64_t xs[2] = {1, in}, ys[2] = {1, out};
        if (x && y && nn_tensor_view(&tx, x, 2, xs) == NN_OK && nn_tensor_view(&ty, y, 2, ys) == NN_OK &&
            nn_model_forward(m, &ty, &tx) == NN_OK)
            r = y[0];
        free(x);
        free(y);
    }
    return r;
}

#endif
