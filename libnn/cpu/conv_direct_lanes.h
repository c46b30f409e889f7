/* The direct convolution's kernels, written once and included by conv_direct.c once per vector width
 * (never elsewhere), as sparse_tile.h and for the same reason: GCC lowers a vector wider than the
 * target's registers through the stack, and the AVX2 clone of the former 16-float version ran at 144
 * us per MNIST image where the AVX-512 one ran at 10 (one machine, each compiled for its target).
 * Every width adds the same products in the same order, so all give the same bits. Before including,
 * conv_direct.c defines:
 *   DLANES       floats per vector: filters per group
 *   DNAME(name)  the name with the width's suffix
 *   DATTR        the target attribute (empty for the baseline) */

typedef float DNAME(vf) __attribute__((vector_size(DLANES * sizeof(float))));
typedef float DNAME(vf_u) __attribute__((vector_size(DLANES * sizeof(float)), aligned(4), may_alias));
typedef int32_t DNAME(vi) __attribute__((vector_size(DLANES * sizeof(float))));
#define VF          DNAME(vf)
#define VI          DNAME(vi)
#define LOAD(p)     (*(const DNAME(vf_u) *)(const void *)(p))
#define STORE(p, v) (*(DNAME(vf_u) *)(void *)(p) = (v))

/* One group of DLANES filters at one output pixel: out = act(b + sum_t v[t] kv[t]), v read through off[] from
 * `in` (or directly when off is NULL). The products are added in tap order after the bias, one
 * rounding each, as in the scalar remainder below: every filter's output has the same bits whichever
 * loop computes it. */
DATTR static inline __attribute__((always_inline)) void DNAME(group_pixel)(const float *in,
                                                                           const int64_t *off, int64_t taps,
                                                                           const VF *kv, const VF *bias,
                                                                           int relu, float *out)
{
    VF acc = *bias;
    for (int64_t t = 0; t < taps; t++) acc += (off ? in[off[t]] : in[t]) * kv[t];
    /* As nn__act_forward's ReLU: "x < 0" so that NaN passes through. */
    if (relu) acc = (VF)((VI)acc & ~(acc < 0.0f));
    STORE(out, acc);
}

/* Per image, filters outer and pixels inner: a group's kernel rows and bias are loaded into registers
 * (9 taps and the bias fill 10 of AVX-512's 32) and stay there over the image's pixels, where the
 * pixel-outer loop reloaded them for every pixel and ran at less than half this speed. An image's
 * output (86 KB for 26 x 26 x 32) is still in L2 when the next group fills the rest of its lines. */
DATTR static inline __attribute__((always_inline)) void
DNAME(forward_body)(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x, const float *k,
                    const float *b, int relu, float *restrict y, int64_t taps, const int64_t *off)
{
    int64_t ylo, yhi, xlo, xhi;
    interior(g->oh, g->sh, g->pt, g->kh, g->h, &ylo, &yhi);
    interior(g->ow, g->sw, g->pl, g->kw, g->w, &xlo, &xhi);
    const int64_t in_img = g->h * g->w * g->c;
    float v[NN__CONV_DIRECT_MAX_PATCH];
    for (int64_t n = 0; n < batch; n++) {
        const float *img = x + n * in_img;
        for (int64_t f0 = 0; f0 + DLANES <= f; f0 += DLANES) {
            VF kv[NN__CONV_DIRECT_MAX_PATCH], bias = {0};
            for (int64_t t = 0; t < taps; t++) kv[t] = LOAD(k + t * f + f0);
            if (b) bias = LOAD(b + f0);
            for (int64_t oy = 0; oy < g->oh; oy++) {
                float *row = y + (n * g->oh + oy) * g->ow * f + f0;
                if (oy < ylo || oy >= yhi) {
                    for (int64_t ox = 0; ox < g->ow; ox++) {
                        gather_window(g, img, oy, ox, v);
                        DNAME(group_pixel)(v, NULL, taps, kv, &bias, relu, row + ox * f);
                    }
                    continue;
                }
                for (int64_t ox = 0; ox < xlo; ox++) {
                    gather_window(g, img, oy, ox, v);
                    DNAME(group_pixel)(v, NULL, taps, kv, &bias, relu, row + ox * f);
                }
                for (int64_t ox = xlo; ox < xhi; ox++) {
                    const float *in = img + ((oy * g->sh - g->pt) * g->w + ox * g->sw - g->pl) * g->c;
                    DNAME(group_pixel)(in, off, taps, kv, &bias, relu, row + ox * f);
                }
                for (int64_t ox = xhi; ox < g->ow; ox++) {
                    gather_window(g, img, oy, ox, v);
                    DNAME(group_pixel)(v, NULL, taps, kv, &bias, relu, row + ox * f);
                }
            }
        }
    }
    /* Filters beyond the last whole group of DLANES, one at a time. */
    for (int64_t f0 = f - f % DLANES; f0 < f; f0++)
        for (int64_t n = 0; n < batch; n++) {
            const float *img = x + n * in_img;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++) {
                    gather_window(g, img, oy, ox, v);
                    float acc = b ? b[f0] : 0.0f;
                    for (int64_t t = 0; t < taps; t++) acc += v[t] * k[t * f + f0];
                    y[((n * g->oh + oy) * g->ow + ox) * f + f0] = relu && acc < 0.0f ? 0.0f : acc;
                }
        }
}

DATTR static void DNAME(direct_forward)(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x,
                                        const float *k, const float *b, int relu, float *y)
{
    int64_t off[NN__CONV_DIRECT_MAX_PATCH], taps = tap_offsets(g, off);
    /* The common first layer (3x3, one channel) with its tap count known to the compiler. */
    if (taps == 9)
        DNAME(forward_body)(g, batch, f, x, k, b, relu, y, 9, off);
    else
        DNAME(forward_body)(g, batch, f, x, k, b, relu, y, taps, off);
}

/* acc[t][:] += v[t] * d (DLANES filters), v read through off[] from `in` (or directly). */
DATTR static inline __attribute__((always_inline)) void
DNAME(pixel_grad)(const float *in, const int64_t *off, int64_t taps, const float *d, VF *acc)
{
    VF dv = LOAD(d);
    for (int64_t t = 0; t < taps; t++) acc[t] += (off ? in[off[t]] : in[t]) * dv;
}

DATTR static inline __attribute__((always_inline)) void
DNAME(grad_body)(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x, const float *dy, float *dk,
                 int64_t taps, const int64_t *off)
{
    int64_t ylo, yhi, xlo, xhi;
    interior(g->oh, g->sh, g->pt, g->kh, g->h, &ylo, &yhi);
    interior(g->ow, g->sw, g->pl, g->kw, g->w, &xlo, &xhi);
    float v[NN__CONV_DIRECT_MAX_PATCH];
    const int64_t groups = f - f % DLANES;
    /* Images outer, so that an image's output gradient (86 KB for 26 x 26 x 32) is read from memory
     * once and from L2 by the other groups. dk holds the running sums between images: stored and
     * reloaded exactly, they add every pixel's term in the same order as one register sum over the
     * batch would. */
    memset(dk, 0, (size_t)(taps * f) * sizeof *dk);
    for (int64_t n = 0; n < batch; n++) {
        const float *img = x + n * g->h * g->w * g->c;
        for (int64_t f0 = 0; f0 < groups; f0 += DLANES) {
            VF acc[NN__CONV_DIRECT_MAX_PATCH];
            for (int64_t t = 0; t < taps; t++) acc[t] = LOAD(dk + t * f + f0);
            for (int64_t oy = 0; oy < g->oh; oy++) {
                const float *drow = dy + (n * g->oh + oy) * g->ow * f + f0;
                int inside_y = oy >= ylo && oy < yhi;
                for (int64_t ox = 0; ox < g->ow; ox++) {
                    if (inside_y && ox >= xlo && ox < xhi) {
                        const float *in = img + ((oy * g->sh - g->pt) * g->w + ox * g->sw - g->pl) * g->c;
                        DNAME(pixel_grad)(in, off, taps, drow + ox * f, acc);
                    } else {
                        gather_window(g, img, oy, ox, v);
                        DNAME(pixel_grad)(v, NULL, taps, drow + ox * f, acc);
                    }
                }
            }
            for (int64_t t = 0; t < taps; t++) STORE(dk + t * f + f0, acc[t]);
        }
    }
    /* Filters beyond the last whole group of DLANES, one at a time. */
    for (int64_t f0 = groups; f0 < f; f0++) {
        float acc[NN__CONV_DIRECT_MAX_PATCH] = {0};
        for (int64_t n = 0; n < batch; n++) {
            const float *img = x + n * g->h * g->w * g->c;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++) {
                    float d = dy[((n * g->oh + oy) * g->ow + ox) * f + f0];
                    gather_window(g, img, oy, ox, v);
                    for (int64_t t = 0; t < taps; t++) acc[t] += v[t] * d;
                }
        }
        for (int64_t t = 0; t < taps; t++) dk[t * f + f0] = acc[t];
    }
}

DATTR static void DNAME(direct_kernel_grad)(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x,
                                            const float *dy, float *dk)
{
    int64_t off[NN__CONV_DIRECT_MAX_PATCH], taps = tap_offsets(g, off);
    if (taps == 9)
        DNAME(grad_body)(g, batch, f, x, dy, dk, 9, off);
    else
        DNAME(grad_body)(g, batch, f, x, dy, dk, taps, off);
}

#undef VF
#undef VI
#undef LOAD
#undef STORE
