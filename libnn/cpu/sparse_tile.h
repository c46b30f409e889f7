/* The sparse first layer's register-blocked kernels, written once and included by sparse.c once per
 * vector width (never elsewhere). GCC lowers a vector type wider than the target's registers through
 * the stack (measured: the AVX2 clone of a 16-float version ran about 100 instructions per non-zero
 * and tile where the AVX-512 one ran 15), so each target gets vectors of its own register width.
 * Before including, sparse.c defines:
 *   KVEC          a vector type of KLANES floats
 *   KACC          vectors per tile: KLANES * KACC outputs stay in registers; a last tile of half as
 *                 many takes what is left when it fits
 *   KNAME(name)   the name with the width's suffix
 *   KATTR         the target attribute (empty for the baseline)
 *   KMADD(a,v,w)  a + v * w: fused (one rounding) where the target has FMA, a product then an add
 *                 on the baseline
 * Every output is summed in the same order on every width (its bias, then each non-zero input in
 * turn). The widths with FMA fuse each product into its add: on an AVX-512 Xeon with one 512-bit FMA
 * port, a separate multiply and add were two of its issue slots per product, and the forward pass
 * was bound by them (measured 7.4 against 5.7 ns per non-zero for 128 outputs). So the baseline and
 * the wide widths differ in the last bits; each is bit-identical run to run, as libnn promises. */

#define KTILE (KLANES * KACC)

/* dst[0..KLANES * acc) = init + sum over p of val[p] * base[off[p] * stride + ...), in registers;
 * with relu_dst, also relu_dst = max(dst, 0) (NaN passes, as nn__act_forward's ReLU). acc is a
 * constant at every call (KACC or KACC / 2), and always_inline makes a copy for each with its loops
 * unrolled and a[] in registers. */
KATTR static inline __attribute__((always_inline)) void KNAME(tile_sum)(int acc, float *dst, float *relu_dst,
                                                                        const float *init, const float *base,
                                                                        int64_t stride, const int32_t *off,
                                                                        const float *val, int32_t n)
{
    /* Loads and stores of floats through a vector type that may alias them at any alignment: memcpy
     * to and from a[j] made GCC pass every accumulator through the stack in 16-byte pieces (the AVX2
     * weight gradient spent a sixth of its time there). */
    typedef float kfloats __attribute__((vector_size(sizeof(KVEC)), aligned(4), may_alias));
    KVEC a[KACC];
    for (int j = 0; j < acc; j++) {
        if (init)
            a[j] = *(const kfloats *)(init + j * KLANES);
        else
            a[j] = (KVEC){0};
    }
    for (int32_t p = 0; p < n; p++) {
        const float *src = base + (int64_t)off[p] * stride;
        float v = val[p];
        for (int j = 0; j < acc; j++) {
            KVEC w;
            memcpy(&w, src + j * KLANES, sizeof w);
            a[j] = KMADD(a[j], v, w);
        }
    }
    for (int j = 0; j < acc; j++) *(kfloats *)(dst + j * KLANES) = a[j];
    if (relu_dst) {
        for (int j = 0; j < acc; j++) {
            /* Zero where a < 0, by masking the bits: C has no vector select. */
            typedef int32_t kmask __attribute__((vector_size(sizeof(KVEC))));
            KVEC zero = {0}, r = (KVEC)((kmask)a[j] & ~(kmask)(a[j] < zero));
            *(kfloats *)(relu_dst + j * KLANES) = r;
        }
    }
}

/* pre (B, out) = x W + b; y = relu(pre) too when relu_y is non-NULL. */
KATTR static void KNAME(forward)(const nn__sparse_rows *x, int64_t out, const float *w, const float *b, float *pre,
                                 float *relu_y)
{
    for (int64_t r = 0; r < x->rows; r++) {
        int32_t first = x->start[r], n = x->start[r + 1] - first;
        float *pr = pre + r * out, *yr = relu_y ? relu_y + r * out : NULL;
        int64_t j0 = 0;
        for (; j0 + KTILE <= out; j0 += KTILE)
            KNAME(tile_sum)(KACC, pr + j0, yr ? yr + j0 : NULL, b + j0, w + j0, out, x->index + first,
                            x->value + first, n);
        if (j0 + KTILE / 2 <= out) {
            KNAME(tile_sum)(KACC / 2, pr + j0, yr ? yr + j0 : NULL, b + j0, w + j0, out, x->index + first,
                            x->value + first, n);
            j0 += KTILE / 2;
        }
        if (j0 < out) tile_sum_tail(pr + j0, yr ? yr + j0 : NULL, b + j0, w + j0, out, x->index + first,
                                    x->value + first, n, out - j0);
    }
}

/* Rows [k0, k1) of dw (cols, out) = x^T dpre, column by column of x, into dst (k1 - k0, out). */
KATTR static void KNAME(weight_grad)(const nn__sparse_rows *x, int64_t out, const float *dpre, float *dst, int64_t k0,
                                     int64_t k1)
{
    for (int64_t k = k0; k < k1; k++) {
        int32_t first = x->col_start[k], n = x->col_start[k + 1] - first;
        float *row = dst + (k - k0) * out;
        if (n == 0) {
            memset(row, 0, (size_t)out * sizeof(float));
            continue;
        }
        int64_t j0 = 0;
        for (; j0 + KTILE <= out; j0 += KTILE)
            KNAME(tile_sum)(KACC, row + j0, NULL, NULL, dpre + j0, out, x->col_row + first, x->col_value + first, n);
        if (j0 + KTILE / 2 <= out) {
            KNAME(tile_sum)(KACC / 2, row + j0, NULL, NULL, dpre + j0, out, x->col_row + first, x->col_value + first,
                            n);
            j0 += KTILE / 2;
        }
        if (j0 < out) tile_sum_tail(row + j0, NULL, NULL, dpre + j0, out, x->col_row + first, x->col_value + first, n,
                                    out - j0);
    }
}

#undef KTILE
