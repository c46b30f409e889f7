/* Max pooling's forward pass over channels-last images, written once and included by conv.c once per
 * vector width (never elsewhere), as sparse_tile.h and for the same reason. For each output pixel,
 * PLANES channels at a time, the running maximum and its index stay in registers over the window and
 * are stored once; the loop that kept them in the output arrays read and wrote both at every window
 * position and ran at half the speed of the 8-float version and a third of the 16-float one.
 * Comparisons run in the same order as nn__pool_forward_ref's ("v > best", rows then columns): the
 * same maxima and the same indices, and a NaN never wins. Before including, conv.c defines:
 *   PLANES       floats per vector
 *   PNAME(name)  the name with the width's suffix
 *   PATTR        the target attribute (empty for the baseline) */

PATTR static void PNAME(max_pool)(const nn__conv_geom *g, int64_t batch, const float *x, float *y,
                                  int32_t *argmax)
{
    typedef float vf __attribute__((vector_size(PLANES * sizeof(float))));
    typedef int32_t vi __attribute__((vector_size(PLANES * sizeof(float))));
    typedef float vf_u __attribute__((vector_size(PLANES * sizeof(float)), aligned(4), may_alias));
    typedef int32_t vi_u __attribute__((vector_size(PLANES * sizeof(float)), aligned(4), may_alias));
    const int64_t C = g->c;
    vi iota;
    for (int i = 0; i < PLANES; i++) iota[i] = i;
    for (int64_t b = 0; b < batch; b++) {
        const float *img = x + b * g->h * g->w * C;
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t o = ((b * g->oh + oy) * g->ow + ox) * C;
                int64_t ya, yb, xa, xb;
                pool_window(g, oy, ox, &ya, &yb, &xa, &xb);
                float *out = y + o;
                int32_t *at = argmax + o, first = (int32_t)((ya * g->w + xa) * C);
                int64_t c0 = 0;
                for (; c0 + PLANES <= C; c0 += PLANES) {
                    vf best = (vf){0} - FLT_MAX;
                    vi idx = iota + (first + (int32_t)c0);
                    for (int64_t iy = ya; iy < yb; iy++)
                        for (int64_t ix = xa; ix < xb; ix++) {
                            int32_t base = (int32_t)((iy * g->w + ix) * C + c0);
                            vf v = *(const vf_u *)(const void *)(img + base);
                            vi gt = v > best;
                            best = (vf)(((vi)v & gt) | ((vi)best & ~gt));
                            idx = ((iota + base) & gt) | (idx & ~gt);
                        }
                    *(vf_u *)(void *)(out + c0) = best;
                    *(vi_u *)(void *)(at + c0) = idx;
                }
                for (; c0 < C; c0++) {
                    float best = -FLT_MAX;
                    int32_t i0 = first + (int32_t)c0;
                    for (int64_t iy = ya; iy < yb; iy++)
                        for (int64_t ix = xa; ix < xb; ix++) {
                            int32_t i = (int32_t)((iy * g->w + ix) * C + c0);
                            if (img[i] > best) best = img[i], i0 = i;
                        }
                    out[c0] = best;
                    at[c0] = i0;
                }
            }
    }
}
