#include "match.h"

#include <stdlib.h>

static long area(const bd_box *b) { return (long)b->w * b->h; }

static long inter(const bd_box *a, const bd_box *b)
{
    long x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
    long x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
    long y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
    return x1 > x0 && y1 > y0 ? (x1 - x0) * (y1 - y0) : 0;
}

/* Whether at least half of box a lies inside box b (an empty box lies nowhere). */
static int half_inside(const bd_box *a, const bd_box *b) { return area(a) > 0 && 2 * inter(a, b) >= area(a); }

int bd_near(const bd_box *truth, int n, int i)
{
    const bd_box *b = &truth[i];
    for (int o = 0; o < n; o++) {
        if (o == i) continue;
        const bd_box *c = &truth[o];
        if (c->y >= b->y + b->h || b->y >= c->y + c->h) continue;
        const long gap = c->x >= b->x ? (long)c->x - (b->x + b->w) : (long)b->x - (c->x + c->w);
        const long taller = b->h > c->h ? b->h : c->h;
        if (gap <= 2 || 20 * gap <= taller) return 1;
    }
    return 0;
}

int bd_overlapping(const bd_box *truth, int n, int i)
{
    const bd_box *b = &truth[i];
    for (int o = 0; o < n; o++) {
        if (o == i) continue;
        const bd_box *c = &truth[o];
        if (c->y >= b->y + b->h || b->y >= c->y + c->h) continue;
        const long left = b->x > c->x ? b->x : c->x;
        const long right = b->x + b->w < c->x + c->w ? (long)b->x + b->w : (long)c->x + c->w;
        const long narrower = b->w < c->w ? b->w : c->w;
        if (right > left && 10 * (right - left) >= narrower) return 1;
    }
    return 0;
}

/*
 * Pairs are made greedily by IoU (of the boxes grown by max(1, h / 20) pixels), best first, down to
 * 0.5. A found box left unpaired is spurious when less than half of it lies in true boxes; otherwise
 * it belongs to the true digit holding most of it (the first listed on a tie). A true digit is right
 * when its pair is read as it and no unpaired box belongs to it: a piece of it read as one more
 * digit puts a digit in the output that is not there, whichever piece the IoU paired. Such a digit
 * is split. Of the digits left unpaired, one is merged when a found box covers at least half of it
 * and half of another true digit, split when two or more found boxes lie at least half inside it
 * (not counting pieces that belong to a paired digit), missed when no found box covers a fifth of
 * it, and cut wrong otherwise.
 */
int bd_match(bd_tally *t, const bd_box *truth, int n, const bd_box *f, const int *cls,
             const unsigned char *sure, int nf, FILE *errors, const char *where)
{
    if (n < 0 || n > BD_MAX_LEN || nf < 0) return -1;
    int tm[BD_MAX_LEN], extra[BD_MAX_LEN] = {0}, *fm = calloc((size_t)(nf ? nf : 1), sizeof *fm);
    int *owner = calloc((size_t)(nf ? nf : 1), sizeof *owner); /* the paired digit an unpaired box belongs to */
    if (!fm || !owner) {
        free(fm);
        free(owner);
        return -1;
    }
    for (int i = 0; i < n; i++) tm[i] = -1;
    for (int j = 0; j < nf; j++) fm[j] = -1, owner[j] = -1;
    for (;;) {
        double best = 0.5;
        int bi = -1, bj = -1;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < nf; j++) {
                if (tm[i] >= 0 || fm[j] >= 0) continue;
                /* Both boxes grown by a pixel or 5% of the height, so that a "1" one pixel wide
                 * whose box differs by its anti-aliased edge still matches. */
                int g = truth[i].h / 20 > 1 ? truth[i].h / 20 : 1;
                bd_box tb = {truth[i].x - g, truth[i].y - g, truth[i].w + 2 * g, truth[i].h + 2 * g, 0};
                bd_box fb = {f[j].x - g, f[j].y - g, f[j].w + 2 * g, f[j].h + 2 * g, 0};
                long in = inter(&tb, &fb);
                double iou = (double)in / (double)(area(&tb) + area(&fb) - in);
                if (iou >= best) {
                    best = iou;
                    bi = i;
                    bj = j;
                }
            }
        if (bi < 0) break;
        tm[bi] = bj;
        fm[bj] = bi;
    }
    t->digits += n;
    t->found += nf;
    for (int j = 0; sure && j < nf; j++) t->sure += sure[j] != 0;
    for (int j = 0; j < nf; j++) {
        if (fm[j] >= 0) continue;
        long in = 0, most = 0;
        int host = -1;
        for (int i = 0; i < n; i++) {
            const long v = inter(&f[j], &truth[i]);
            in += v;
            if (v > most) most = v, host = i;
        }
        if (2 * in < area(&f[j]) || area(&f[j]) == 0) {
            t->spurious++;
            if (errors) fprintf(errors, "%s\t-\t-\t%d\tspurious at %d,%d\n", where, f[j].h, f[j].x, f[j].y);
        } else if (host >= 0 && tm[host] >= 0) {
            extra[host]++;
            owner[j] = host;
        }
    }
    for (int i = 0; i < n; i++) {
        const bd_box *b = &truth[i];
        const int near = bd_near(truth, n, i), over = bd_overlapping(truth, n, i);
        t->touching += near;
        t->overlapping += over;
        if (tm[i] >= 0 && !extra[i]) {
            t->matched++;
            if (cls && cls[tm[i]] == b->label) {
                t->right++;
                t->touching_right += near;
                t->overlapping_right += over;
                t->sure_right += sure && sure[tm[i]];
            } else if (cls && errors)
                fprintf(errors, "%s\t%d\t%d\t%d\tread as %d\n", where, i, b->label, b->h, cls[tm[i]]);
            continue;
        }
        int merged = 0, inside = 0;
        long most = 0;
        for (int j = 0; j < nf && tm[i] < 0; j++) {
            if (owner[j] >= 0) continue;
            long in = inter(b, &f[j]);
            if (in > most) most = in;
            if (half_inside(&f[j], b)) inside++;
            if (2 * in < area(b)) continue;
            for (int o = 0; o < n; o++)
                if (o != i && 2 * inter(&truth[o], &f[j]) >= area(&truth[o])) merged = 1;
        }
        const char *kind = tm[i] >= 0 || (!merged && inside >= 2) ? "split"
                           : merged                                ? "merged"
                           : 5 * most < area(b)                    ? "missed"
                                                                   : "cut wrong";
        if (kind[0] == 's') t->split++;
        else if (merged) t->merged++;
        else if (5 * most < area(b)) t->missed++;
        else t->cut++;
        if (errors) fprintf(errors, "%s\t%d\t%d\t%d\t%s\n", where, i, b->label, b->h, kind);
    }
    free(fm);
    free(owner);
    return 0;
}
