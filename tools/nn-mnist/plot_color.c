/* Colour maps, palettes and the text contrast rule. */
#include <math.h>

#include "plot_internal.h"

/* viridis (Stefan van der Walt and Nathaniel Smith, 2015, released under CC0): every 16th entry of the
 * published 256-entry table, plus the last, at positions index / 255. Linear interpolation between these
 * stays within about 1/255 of the full table. */
static const double viridis_pos[] = {0.0 / 255,   16.0 / 255,  32.0 / 255,  48.0 / 255,  64.0 / 255,
                                     80.0 / 255,  96.0 / 255,  112.0 / 255, 128.0 / 255, 144.0 / 255,
                                     160.0 / 255, 176.0 / 255, 192.0 / 255, 208.0 / 255, 224.0 / 255,
                                     240.0 / 255, 255.0 / 255};
static const double viridis_rgb[][3] = {
    {0.267004, 0.004874, 0.329415}, {0.282327, 0.094955, 0.417331}, {0.278826, 0.175490, 0.483397},
    {0.258965, 0.251537, 0.524736}, {0.229739, 0.322361, 0.545706}, {0.199430, 0.387607, 0.554642},
    {0.172719, 0.448791, 0.557885}, {0.149039, 0.508051, 0.557250}, {0.127568, 0.566949, 0.550556},
    {0.120638, 0.625828, 0.533488}, {0.157851, 0.683765, 0.501686}, {0.246070, 0.738910, 0.452024},
    {0.369214, 0.788888, 0.382914}, {0.515992, 0.831158, 0.294279}, {0.678489, 0.863742, 0.189503},
    {0.845561, 0.887322, 0.099702}, {0.993248, 0.906157, 0.143936},
};

/* ColorBrewer 9-class sequential Blues (Cynthia Brewer, colorbrewer2.org), evenly spaced as matplotlib's
 * "Blues" segmented map. */
static const double blues_rgb[][3] = {
    {0xf7 / 255.0, 0xfb / 255.0, 0xff / 255.0}, {0xde / 255.0, 0xeb / 255.0, 0xf7 / 255.0},
    {0xc6 / 255.0, 0xdb / 255.0, 0xef / 255.0}, {0x9e / 255.0, 0xca / 255.0, 0xe1 / 255.0},
    {0x6b / 255.0, 0xae / 255.0, 0xd6 / 255.0}, {0x42 / 255.0, 0x92 / 255.0, 0xc6 / 255.0},
    {0x21 / 255.0, 0x71 / 255.0, 0xb5 / 255.0}, {0x08 / 255.0, 0x51 / 255.0, 0x9c / 255.0},
    {0x08 / 255.0, 0x30 / 255.0, 0x6b / 255.0},
};

/* clang-format off */
#define HEX(c) {((c) >> 16 & 0xff) / 255.0, ((c) >> 8 & 0xff) / 255.0, ((c) & 0xff) / 255.0}
/* clang-format on */

/* seaborn's "deep" palette: the bar colours of the design. */
static const double deep_rgb[][3] = {HEX(0x4c72b0), HEX(0xdd8452), HEX(0x55a868), HEX(0xc44e52),
                                     HEX(0x8172b3), HEX(0x937860), HEX(0xda8bc3), HEX(0x8c8c8c),
                                     HEX(0xccb974), HEX(0x64b5cd)};

/* matplotlib's default line colours ("tab10"), the curves of the design. */
static const double tab10_rgb[][3] = {HEX(0x1f77b4), HEX(0xff7f0e), HEX(0x2ca02c), HEX(0xd62728),
                                      HEX(0x9467bd), HEX(0x8c564b), HEX(0xe377c2), HEX(0x7f7f7f),
                                      HEX(0xbcbd22), HEX(0x17becf)};

const double nnm_plot__text_rgb[3] = {0.15, 0.15, 0.15};
const double nnm_plot__grid_rgb[3] = {0.88, 0.88, 0.88};
const double nnm_plot__nan_rgb[3] = {0.80, 0.80, 0.80};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void lerp_rgb(const double a[3], const double b[3], double f, double rgb[3])
{
    for (int k = 0; k < 3; k++) rgb[k] = a[k] + (b[k] - a[k]) * f;
}

void nnm_colormap(int cmap, double t, double rgb[3])
{
    if (!(t > 0.0)) /* also catches NaN */
        t = 0.0;
    if (t > 1.0) t = 1.0;
    if (cmap == NNM_CMAP_BLUES) {
        int last = COUNT(blues_rgb) - 1;
        double s = t * last;
        int i = (int)s;
        if (i >= last) i = last - 1;
        lerp_rgb(blues_rgb[i], blues_rgb[i + 1], s - i, rgb);
        return;
    }
    int i = 0;
    while (i < COUNT(viridis_pos) - 2 && t > viridis_pos[i + 1]) i++;
    double f = (t - viridis_pos[i]) / (viridis_pos[i + 1] - viridis_pos[i]);
    lerp_rgb(viridis_rgb[i], viridis_rgb[i + 1], f, rgb);
}

/* WCAG 2: an sRGB channel, linearised. */
static double linear_channel(double c) { return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4); }

int nnm_text_is_dark(const double rgb[3])
{
    double lum =
        0.2126 * linear_channel(rgb[0]) + 0.7152 * linear_channel(rgb[1]) + 0.0722 * linear_channel(rgb[2]);
    return lum > 0.408;
}

void nnm_plot__palette_deep(int i, double rgb[3])
{
    const double *c = deep_rgb[(i < 0 ? -i : i) % COUNT(deep_rgb)];
    rgb[0] = c[0], rgb[1] = c[1], rgb[2] = c[2];
}

void nnm_plot__palette_tab10(int i, double rgb[3])
{
    const double *c = tab10_rgb[(i < 0 ? -i : i) % COUNT(tab10_rgb)];
    rgb[0] = c[0], rgb[1] = c[1], rgb[2] = c[2];
}

void nnm_plot__set_rgb(cairo_t *cr, const double rgb[3]) { cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]); }
