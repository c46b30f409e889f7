/* Connected components of the ink, 8-connected, as horizontal runs: memory follows the ink's runs
 * rather than the pixels, and each component's runs stay listed for the later steps (splitting,
 * normalising) to walk. docs/predict.md, step 3. */
#include <stdlib.h>
#include <string.h>

#include "vision.h"

static int32_t find(nn__run *r, int32_t i)
{
    int32_t root = i;
    while (r[root].comp != root) root = r[root].comp;
    while (r[i].comp != root) { /* path compression */
        int32_t next = r[i].comp;
        r[i].comp = root;
        i = next;
    }
    return root;
}

/* The root is always the smaller run number, so labels come out the same whatever the union order. */
static void unite(nn__run *r, int32_t a, int32_t b)
{
    a = find(r, a);
    b = find(r, b);
    if (a < b) r[b].comp = a;
    else if (b < a) r[a].comp = b;
}

/* The runs of pixels at or above `level`, in image order, each united (union-find on .comp) with
 * the runs of the row above it touches. NULL with *count 0 when there are none; NN_ERR_NO_MEMORY
 * when out of memory (nothing to free). */
static nn_status label_runs(nn__run **out, int64_t *count, const uint8_t *ink, int64_t w, int64_t h, uint8_t level)
{
    int64_t cap = 1024, n = 0, prev_start = 0, prev_end = 0;
    nn__run *runs = malloc((size_t)cap * sizeof *runs);
    *out = NULL;
    *count = 0;
    if (!runs) return NN_ERR_NO_MEMORY;
    for (int64_t y = 0; y < h; y++) {
        const uint8_t *p = ink + y * w;
        const int64_t row_start = n;
        int64_t k = prev_start; /* first run of the row above that may still touch */
        for (int64_t x = 0; x < w;) {
            if (p[x] < level) {
                x++;
                continue;
            }
            int64_t x0 = x;
            while (x < w && p[x] >= level) x++;
            if (n == cap) {
                /* At most one run per two pixels of a row, rounded up: within the image's size. */
                nn__run *grown = realloc(runs, (size_t)(cap * 2) * sizeof *runs);
                if (!grown) {
                    free(runs);
                    return NN_ERR_NO_MEMORY;
                }
                runs = grown;
                cap *= 2;
            }
            runs[n] = (nn__run){(int32_t)x0, (int32_t)x, (int32_t)y, (int32_t)n};
            /* Runs above touching [x0 - 1, x]: 8-connectivity reaches one column either side. */
            while (k < prev_end && runs[k].x1 < x0) k++;
            for (int64_t j = k; j < prev_end && runs[j].x0 <= x; j++) unite(runs, (int32_t)j, (int32_t)n);
            n++;
        }
        prev_start = row_start;
        prev_end = n;
    }
    *out = runs;
    *count = n;
    return NN_OK;
}

/* Pieces of ink joined by fainter ink (at least `weak`) become one component: a faint stretch of a
 * stroke (a hairline, a pen running dry, blur on a small digit) no longer breaks a digit in two.
 * Only the ink's own pixels stay in the component; the faint ones only link. The faint runs are
 * labelled as the ink's are, then every run of ink is united with the first run of ink found in
 * the same faint component. */
static nn_status link_through_weak(nn__run *runs, int64_t n, const nn__ink *ink, int64_t w, int64_t h)
{
    nn__run *wr;
    int64_t m, r = 0;
    if (label_runs(&wr, &m, ink->ink, w, h, (uint8_t)ink->weak) != NN_OK) return NN_ERR_NO_MEMORY;
    int32_t *first = malloc((size_t)(m ? m : 1) * sizeof *first); /* per faint run: -1, or a run of ink */
    if (!first) {
        free(wr);
        return NN_ERR_NO_MEMORY;
    }
    for (int64_t j = 0; j < m; j++) first[j] = -1;
    /* Runs of ink and faint runs are both in image order, and each run of ink lies inside one faint
     * run of its row (ink is faint ink too). */
    for (int64_t j = 0; j < m && r < n; j++)
        while (r < n && (runs[r].y < wr[j].y || (runs[r].y == wr[j].y && runs[r].x0 < wr[j].x1))) {
            const int32_t root = find(wr, (int32_t)j);
            if (first[root] < 0) first[root] = (int32_t)r;
            else unite(runs, first[root], (int32_t)r);
            r++;
        }
    free(first);
    free(wr);
    return NN_OK;
}

void nn__vision_components_free(nn__components *c)
{
    free(c->runs);
    free(c->order);
    free(c->comps);
    free(c->bridges);
    memset(c, 0, sizeof *c);
}

nn_status nn__vision_components(nn__components *out, const nn__ink *ink, int64_t w, int64_t h)
{
    const char *who = "nn_digits_find";
    memset(out, 0, sizeof *out);
    if (ink->level > 255) return NN_OK;
    nn__run *runs;
    int64_t n;
    if (label_runs(&runs, &n, ink->ink, w, h, (uint8_t)ink->level) != NN_OK) goto oom;
    /* weak 0 (unset) or at the level: no faint ink to link through. */
    if (ink->weak > 0 && ink->weak < ink->level && n > 1 && link_through_weak(runs, n, ink, w, h) != NN_OK)
        goto oom;

    /* Number the components in order of their first run (top to bottom, left to right). A root is
     * the smallest run of its component, so it is numbered before the runs that point to it. */
    for (int64_t i = 0; i < n; i++) runs[i].comp = find(runs, (int32_t)i);
    int64_t ncomps = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t root = runs[i].comp;
        runs[i].comp = root == i ? (int32_t)-(++ncomps) : runs[root].comp; /* -(number + 1) */
    }
    for (int64_t i = 0; i < n; i++) runs[i].comp = -runs[i].comp - 1;

    nn__comp *comps = calloc((size_t)(ncomps ? ncomps : 1), sizeof *comps);
    int32_t *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!comps || !order) {
        free(comps);
        free(order);
        goto oom;
    }
    for (int64_t c = 0; c < ncomps; c++)
        comps[c] = (nn__comp){INT32_MAX, INT32_MAX, -1, -1, 0, 0, 0, (int32_t)c, -1};
    for (int64_t i = 0; i < n; i++) {
        nn__comp *cp = &comps[runs[i].comp];
        const nn__run *r = &runs[i];
        if (r->x0 < cp->x0) cp->x0 = r->x0;
        if (r->x1 > cp->x1) cp->x1 = r->x1;
        if (r->y < cp->y0) cp->y0 = r->y;
        if (r->y + 1 > cp->y1) cp->y1 = r->y + 1;
        cp->area += r->x1 - r->x0;
        cp->count++;
    }
    int32_t acc = 0;
    for (int64_t c = 0; c < ncomps; c++) {
        comps[c].first = acc;
        acc += comps[c].count;
        comps[c].count = 0;
    }
    for (int64_t i = 0; i < n; i++) {
        nn__comp *cp = &comps[runs[i].comp];
        order[cp->first + cp->count++] = (int32_t)i;
    }
    out->runs = runs;
    out->nruns = n;
    out->order = order;
    out->norder = n;
    out->comps = comps;
    out->ncomps = ncomps;
    return NN_OK;
oom:
    free(runs);
    return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory labelling a %lld x %lld image", who, (long long)w,
                    (long long)h);
}
