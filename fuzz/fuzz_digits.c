/* libFuzzer target for nn_digits_find(), nn_digits_pieces(), nn_digits_read() and
 * nn_digits_read_ensemble() (include/nn/digits.h) on arbitrary pixels.
 *
 * Input layout:
 *   bytes 0, 1   width - 1, little-endian, modulo 512
 *   bytes 2, 3   height - 1, little-endian, modulo 512
 *   byte 4       stride - width (0..255)
 *   byte 5       options: bits 0-1 polarity (3 is AUTO), bits 2-3 threshold (3 is AUTO), bit 4 no
 *                merging, bit 5 no splitting, bit 6 no stroke thickening, bit 7 min_size 1
 *   the rest     the pixels, row after row with the stride, repeated to fill the image (zeros when
 *                there are none), so that a small input makes a large image of repeating texture.
 * Every result's invariants are checked, and a second call must give the same bytes: abort() on
 * any violation. max_digits bounds what one call may allocate and how long it runs. nn_digits_read()
 * runs on the same pixels with a small fixed model, at 1 to 3 scales ((width + height) mod 3), the
 * model chosen by height mod 4: 10 outputs; 11 ("not one digit"); 12 (text), text left out; 12, text
 * kept. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(nn_digits *d, int64_t w, int64_t h)
{
    const int64_t n = nn_digits_count(d), lines = nn_digits_line_count(d);
    if (n < 0 || (n == 0) != (lines == 0) || lines > n) abort();
    if ((n > 0) != (nn_digits_images(d) != NULL)) abort();
    int64_t prev_line = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t x, y, bw, bh;
        if (nn_digits_box(d, i, &x, &y, &bw, &bh) != NN_OK) abort();
        if (x < 0 || y < 0 || bw < 1 || bh < 1 || x + bw > w || y + bh > h) abort();
        const int64_t line = nn_digits_line(d, i);
        if (line < prev_line || line >= lines) abort(); /* reading order: lines top to bottom */
        prev_line = line;
        const float *img = nn_digits_image(d, i);
        if (img != nn_digits_images(d) + i * NN_DIGITS_PIXELS) abort();
        float sum = 0;
        for (int k = 0; k < NN_DIGITS_PIXELS; k++) {
            if (!(img[k] >= 0.0f && img[k] <= 1.0f)) abort();
            sum += img[k];
        }
        if (!(sum > 0)) abort(); /* every digit holds ink */
    }
    if (nn_digits_image(d, n) || nn_digits_line(d, n) != -1 || nn_digits_box(d, n, NULL, NULL, NULL, NULL) == NN_OK)
        abort();
}

/* Fixed small classifiers for nn_digits_read(): its cut search and scoring run on whatever the
 * weights say, which is what a fuzzer needs (the answers need not be right, only consistent). Those of
 * 11 and 12 outputs have their weights scaled up, so that glyphs read surely as one class or another
 * (not one digit, text, a sure digit), a different one for different shapes, and the paths those
 * take (cuts tried however narrow, text and its words left out, runs of sure digits kept) are
 * reached. Built once each; leaked at exit, as
 * libFuzzer never returns. */
static nn_model *tiny_model(int outputs)
{
    static nn_model *models[3];
    nn_model **m = &models[outputs - 10];
    if (*m) return *m;
    nn_optimizer *opt = NULL;
    nn_rng *rng = NULL;
    float *w = NULL;
    size_t n = 0;
    if (nn_model_create(m, NN_DIGITS_PIXELS) != NN_OK ||
        nn_model_add_dense(*m, outputs, nn_activation_make(NN_ACT_LINEAR)) != NN_OK ||
        nn_optimizer_create_sgd(&opt, NULL) != NN_OK ||
        nn_model_compile(*m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt) != NN_OK ||
        nn_rng_create(&rng, outputs == 10 ? 1 : (uint64_t)outputs) != NN_OK || nn_model_init(*m, rng) != NN_OK ||
        nn_model_params(*m, &w, &n) != NN_OK)
        abort();
    /* Each output's weights made to sum to zero over the pixels (the kernel is 784 x outputs, row-major,
     * the biases after it): otherwise the output whose weights sum highest wins for any ink, and no
     * glyph would read as text. */
    for (int k = 0; outputs > 10 && k < outputs; k++) {
        double mean = 0;
        for (int i = 0; i < NN_DIGITS_PIXELS; i++) mean += w[i * outputs + k];
        mean /= NN_DIGITS_PIXELS;
        for (int i = 0; i < NN_DIGITS_PIXELS; i++) w[i * outputs + k] = 16.0f * (w[i * outputs + k] - (float)mean);
    }
    nn_rng_free(rng);
    return *m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6) return 0;
    const int64_t w = 1 + ((data[0] | data[1] << 8) % 512), h = 1 + ((data[2] | data[3] << 8) % 512);
    const int64_t stride = w + data[4];
    const int flags = data[5];
    data += 6;
    size -= 6;
    uint8_t *px = malloc((size_t)(stride * h));
    if (!px) return 0;
    for (int64_t i = 0; i < stride * h; i++) px[i] = size ? data[(size_t)i % size] : 0;

    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.polarity = (flags & 3) == 3 ? NN_DIGITS_POLARITY_AUTO : (nn_digits_polarity)(flags & 3);
    o.threshold = (flags >> 2 & 3) == 3 ? NN_DIGITS_THRESHOLD_AUTO : (nn_digits_threshold)(flags >> 2 & 3);
    o.merge = !(flags & 16);
    o.split = !(flags & 32);
    o.stroke_width = flags & 64 ? 0.0f : 2.0f;
    o.min_size = flags & 128 ? 1 : 4;
    /* Each digit costs up to about 1 ms to normalise (thick strokes' local thickness), ten times that
     * under the sanitizers and coverage, so a texture of hundreds of blobs would run past libFuzzer's
     * timeout without finding anything new: 50 keeps an input's work bounded, and the limit's own
     * path covered. */
    o.max_digits = 50;

    nn_digits *a = NULL, *b = NULL;
    nn_status sa = nn_digits_find(&a, px, w, h, stride, &o);
    nn_status sb = nn_digits_find(&b, px, w, h, stride, &o);
    if (sa != NN_OK) {
        /* The arguments are valid: only memory, or a texture of more specks than max_digits, fails. */
        if (a || !nn_last_error()[0]) abort();
        if (sa != NN_ERR_NO_MEMORY && !(sa == NN_ERR_INVALID_ARGUMENT && strstr(nn_last_error(), "max_digits")))
            abort();
    } else {
        check(a, w, h);
    }
    if (sa == NN_OK && sb == NN_OK) {
        const int64_t n = nn_digits_count(a);
        if (nn_digits_count(b) != n) abort();
        if (n && memcmp(nn_digits_images(a), nn_digits_images(b), (size_t)n * NN_DIGITS_PIXELS * sizeof(float)))
            abort();
    }
    /* Cutting blobs normalises up to 44 candidate pieces each: fewer digits keep the calls as short. */
    o.max_digits = 6;
    /* The pieces of wide blobs: the same invariants (ink, boxes inside the image). */
    nn_digits *pc = NULL;
    nn_status sp = nn_digits_pieces(&pc, px, w, h, stride, &o);
    if (sp != NN_OK) {
        if (pc || !nn_last_error()[0]) abort();
        if (sp != NN_ERR_NO_MEMORY && !(sp == NN_ERR_INVALID_ARGUMENT && strstr(nn_last_error(), "max_digits")))
            abort();
    } else {
        check(pc, w, h);
        if (nn_digits_probabilities(pc, 0)) abort();
    }
    nn_digits_free(pc);
    /* With a model: the same invariants, and each digit's probabilities a distribution (of 10
     * outputs; with 11 or 12, what is left of one after "not one digit" and text). */
    nn_digits *r = NULL;
    o.scales = 1 + (int)((w + h) % 3);
    const int kind = (int)(h % 4), outputs = kind < 2 ? 10 + kind : 12;
    o.skip_text = kind != 3;
    nn_model *const model = tiny_model(outputs);
    nn_status sr = nn_digits_read(&r, model, px, w, h, stride, &o);
    if (sr != NN_OK) {
        if (r || !nn_last_error()[0]) abort();
        if (sr != NN_ERR_NO_MEMORY && !(sr == NN_ERR_INVALID_ARGUMENT && strstr(nn_last_error(), "max_digits")))
            abort();
    } else {
        check(r, w, h);
        for (int64_t i = 0; i < nn_digits_count(r); i++) {
            const float *p = nn_digits_probabilities(r, i);
            double sum = 0;
            for (int k = 0; k < 10; k++) {
                if (!(p[k] >= 0.0f && p[k] <= 1.0f)) abort();
                sum += p[k];
            }
            if ((outputs == 10 ? fabs(sum - 1.0) : sum - 1.0) > 1e-3 || nn_digits_class(r, i) < 0 ||
                nn_digits_class(r, i) > 9)
                abort();
        }
        /* The same model twice, read together, is the model alone: the mean of equal probabilities
         * is exact. */
        nn_model *const twice[2] = {model, model};
        nn_digits *e = NULL;
        const nn_status se = nn_digits_read_ensemble(&e, twice, 2, px, w, h, stride, &o);
        if (se == NN_OK) {
            if (nn_digits_count(e) != nn_digits_count(r)) abort();
            for (int64_t i = 0; i < nn_digits_count(r); i++) {
                int64_t br[4], be[4];
                nn_digits_box(r, i, &br[0], &br[1], &br[2], &br[3]);
                nn_digits_box(e, i, &be[0], &be[1], &be[2], &be[3]);
                if (memcmp(br, be, sizeof br) ||
                    memcmp(nn_digits_probabilities(r, i), nn_digits_probabilities(e, i), 10 * sizeof(float)))
                    abort();
            }
        } else if (e || se != NN_ERR_NO_MEMORY || !nn_last_error()[0]) {
            abort(); /* what the model alone read, the pair reads too, memory allowing */
        }
        nn_digits_free(e);
    }
    nn_digits_free(r);
    nn_digits_free(a);
    nn_digits_free(b);
    free(px);
    return 0;
}
