/* The first layer on sparse inputs: products that skip the zero pixels.
 *
 * Both kernels (sparse_tile.h) keep a tile of 32, 64 or 128 outputs (by vector width) in registers
 * while they run over the non-zero inputs that feed it, so each output is loaded and stored once
 * rather than once per non-zero. The weight gradient runs column by column of x (each input's non-zero
 * rows), which is what makes that possible for it: the backward pass turns the row lists into column
 * lists first, from the ranks a training batch's compression gave each entry (or by a counting sort
 * for rows compressed from floats). */
#include <string.h>

#include "compute.h"
#include "internal.h"

/* Starts a compression of batch rows of cols values; returns the most non-zeros it may hold before
 * the dense product is the better choice. */
static int64_t begin_rows(nn__sparse_rows *s, int64_t batch, int64_t cols)
{
    s->rows = batch;
    s->cols = cols;
    s->has_columns = 0;
    s->has_ranks = 0;
    s->start[0] = 0;
    return (int64_t)(NN_SPARSE_MAX_DENSITY * (double)(batch * cols));
}

NN_HOT static int compress(nn__sparse_rows *s, const float *x, int64_t batch, int64_t cols)
{
    /* Local restrict copies: stores through int32 arrays could otherwise alias the offsets, and the
     * compiler would reload them on every entry. */
    int32_t *restrict index = s->index, *restrict start = s->start;
    float *restrict value = s->value;
    int64_t limit = begin_rows(s, batch, cols), nnz = 0;
    for (int64_t r = 0; r < batch; r++) {
        const float *restrict row = x + r * cols;
        int64_t k = 0;
        /* Most of an image is blank: skip 16 zeros at a time (one OR of their bits), and compact the
         * rest without branches (write every entry, advance past the non-zero ones). */
        for (; k + 16 <= cols; k += 16) {
            uint64_t bits[8], any = 0;
            memcpy(bits, row + k, sizeof bits);
            for (int j = 0; j < 8; j++) any |= bits[j];
            if ((any & 0x7fffffff7fffffffULL) == 0) continue;
            for (int j = 0; j < 16; j++) {
                float v = row[k + j];
                index[nnz] = (int32_t)(k + j);
                value[nnz] = v;
                nnz += v != 0.0f;
            }
        }
        for (; k < cols; k++) {
            float v = row[k];
            index[nnz] = (int32_t)k;
            value[nnz] = v;
            nnz += v != 0.0f;
        }
        start[r + 1] = (int32_t)nnz;
        if (nnz > limit) return 0; /* dense enough that BLAS wins: stop early */
    }
    return 1;
}

/* The same entries by column (a counting sort), which only the weight gradient needs: evaluation
 * never pays for it. */
NN_HOT static void columns(nn__sparse_rows *s)
{
    const int32_t *restrict start = s->start, *restrict index = s->index;
    const float *restrict value = s->value;
    int32_t *restrict col_start = s->col_start, *restrict fill = s->col_fill, *restrict col_row = s->col_row;
    float *restrict col_value = s->col_value;
    int64_t cols = s->cols, nnz = start[s->rows];
    if (s->has_ranks) {
        /* The compression counted the columns and ranked each entry in its column: every entry goes
         * straight to its place, with no count to read, increment and write back per entry (which
         * took 4 ns an entry, a tenth of the MLP grid). */
        const int32_t *restrict rank = s->rank;
        col_start[0] = 0;
        for (int64_t k = 0; k < cols; k++) col_start[k + 1] = col_start[k] + fill[k]; /* fill holds the counts */
        for (int64_t r = 0; r < s->rows; r++) {
            int32_t end = start[r + 1];
            for (int32_t p = start[r]; p < end; p++) {
                int32_t q = col_start[index[p]] + rank[p];
                col_row[q] = (int32_t)r;
                col_value[q] = value[p];
            }
        }
        s->has_columns = 1;
        return;
    }
    memset(col_start, 0, (size_t)(cols + 1) * sizeof(int32_t));
    for (int64_t p = 0; p < nnz; p++) col_start[index[p] + 1]++;
    for (int64_t k = 0; k < cols; k++) col_start[k + 1] += col_start[k];
    memcpy(fill, col_start, (size_t)cols * sizeof(int32_t));
    for (int64_t r = 0; r < s->rows; r++) {
        int32_t end = start[r + 1];
        for (int32_t p = start[r]; p < end; p++) {
            int32_t q = fill[index[p]]++;
            col_row[q] = (int32_t)r;
            col_value[q] = value[p];
        }
    }
    s->has_columns = 1;
}

/* The kernels' tile_sum for a last tile narrower than theirs, one output at a time (a product then an
 * add: the tail may round differently from the fused tiles beside it). */
static void tile_sum_tail(float *dst, float *relu_dst, const float *init, const float *base, int64_t stride,
                          const int32_t *off, const float *val, int32_t n, int64_t width)
{
    for (int64_t j = 0; j < width; j++) dst[j] = init ? init[j] : 0.0f;
    for (int32_t p = 0; p < n; p++)
        for (int64_t j = 0; j < width; j++) dst[j] += val[p] * base[(int64_t)off[p] * stride + j];
    if (relu_dst)
        for (int64_t j = 0; j < width; j++) relu_dst[j] = dst[j] < 0.0f ? 0.0f : dst[j];
}

/* The kernels at each register width: 4 floats (SSE2, NEON: the baseline), and on x86-64 with GCC
 * also 8 (AVX2) and 16 (AVX-512), picked at run time. Not target_clones: a clone compiles one source
 * for every target, and one vector width cannot suit them all (see sparse_tile.h). */
#define KATTR
#define KLANES 4
#define KACC 8
#define KNAME(name) name##_4
typedef float vec4 __attribute__((vector_size(4 * sizeof(float))));
#define KVEC vec4
#define KMADD(a, v, w) ((a) + (v) * (w))
#include "sparse_tile.h"
#undef KATTR
#undef KLANES
#undef KACC
#undef KNAME
#undef KVEC
#undef KMADD

#ifdef NN__WIDE_KERNELS
#define WIDE_KERNELS 1
#include <immintrin.h>

#include "pack_lut.h"
typedef float vec8 __attribute__((vector_size(8 * sizeof(float))));
typedef float vec16 __attribute__((vector_size(16 * sizeof(float))));

#define KATTR __attribute__((target("arch=x86-64-v3")))
#define KLANES 8
#define KACC 8
#define KNAME(name) name##_8
#define KVEC vec8
#define KMADD(a, v, w) ((vec8)_mm256_fmadd_ps(_mm256_set1_ps(v), (__m256)(w), (__m256)(a)))
#include "sparse_tile.h"
#undef KATTR
#undef KLANES
#undef KACC
#undef KNAME
#undef KVEC
#undef KMADD

#define KATTR __attribute__((target("arch=x86-64-v4")))
#define KLANES 16
/* A 128-unit layer's whole row in 8 of the 32 registers: one pass over each row's non-zeros instead of
 * two (both with FMA, 6.8 ns per non-zero with 4 registers, 6.3 with 8, on a Sapphire Rapids Xeon). */
#define KACC 8
#define KNAME(name) name##_16
#define KVEC vec16
#define KMADD(a, v, w) ((vec16)_mm512_fmadd_ps(_mm512_set1_ps(v), (__m512)(w), (__m512)(a)))
#include "sparse_tile.h"
#undef KATTR
#undef KLANES
#undef KACC
#undef KNAME
#undef KVEC
#undef KMADD
#endif

int nn__vector_lanes(void)
{
#ifdef WIDE_KERNELS
    if (__builtin_cpu_supports("x86-64-v4")) return 16;
    if (__builtin_cpu_supports("x86-64-v3")) return 8;
#endif
    return 4;
}

/* The kernels of one width: 16 and 8 only where this processor runs them (callers check
 * nn__vector_lanes), anything else the baseline. */
void nn__sparse_forward_lanes(int lanes, const nn__sparse_rows *x, int64_t out, const float *w, const float *b,
                              float *pre, float *relu_y)
{
    switch (lanes) {
#ifdef WIDE_KERNELS
    case 16: forward_16(x, out, w, b, pre, relu_y); return;
    case 8: forward_8(x, out, w, b, pre, relu_y); return;
#endif
    default: forward_4(x, out, w, b, pre, relu_y); return;
    }
}

static void weight_grad_rows(int lanes, const nn__sparse_rows *x, int64_t out, const float *dpre, float *dst, int64_t k0,
                             int64_t k1)
{
    switch (lanes) {
#ifdef WIDE_KERNELS
    case 16: weight_grad_16(x, out, dpre, dst, k0, k1); return;
    case 8: weight_grad_8(x, out, dpre, dst, k0, k1); return;
#endif
    default: weight_grad_4(x, out, dpre, dst, k0, k1); return;
    }
}

void nn__sparse_weight_grad_lanes(int lanes, nn__sparse_rows *x, int64_t out, const float *dpre, float *dw)
{
    if (!x->has_columns) columns(x);
    weight_grad_rows(lanes, x, out, dpre, dw, 0, x->cols);
}

int64_t nn__sparse_update_block(int64_t out) { return out >= NN_SPARSE_UPDATE_FLOATS ? 1 : NN_SPARSE_UPDATE_FLOATS / out; }

void nn__sparse_weight_grad_update(nn__sparse_rows *x, int64_t out, const float *dpre, float *w, float *scratch,
                                   const nn__step *step, size_t first)
{
    if (!x->has_columns) columns(x);
    int lanes = nn__vector_lanes();
    int64_t block = nn__sparse_update_block(out);
    /* Rows no image touches (42% of a batch of 32 MNIST images: the margins) have a zero gradient,
     * which the optimizer may apply without it (nn__optimizer_idle); runs of touched rows, and idle
     * ones it cannot apply so, are computed a block at a time. */
    for (int64_t k0 = 0; k0 < x->cols;) {
        int64_t k1 = k0 + 1;
        int idle = x->col_start[k0] == x->col_start[k0 + 1];
        while (k1 < x->cols && k1 - k0 < block && (x->col_start[k1] == x->col_start[k1 + 1]) == idle) k1++;
        size_t at = first + (size_t)(k0 * out), n = (size_t)((k1 - k0) * out);
        if (!idle || !nn__optimizer_idle(step, at, n, w + k0 * out)) {
            weight_grad_rows(lanes, x, out, dpre, scratch, k0, k1);
            nn__optimizer_part(step, at, n, w + k0 * out, scratch);
        }
        k0 = k1;
    }
}

/* The cloned kernels stay static: GCC exports the clones and resolvers of non-static functions even
 * under -fvisibility=hidden, which would leak them from libnn.so. */
#ifdef WIDE_KERNELS
/* One 8-lane group of a row whose non-zero lanes are the set bits of mask: stores those lanes of v,
 * packed, at value + nnz and their columns (first + lane) at index + nnz, and returns how many. It
 * writes all 8 lanes of both arrays (and of rank, given one): the callers leave room (nnz never exceeds
 * the entries already scanned, so the 8 fit in the batch x cols the arrays hold). With rank, also each
 * kept lane's rank in its column, from the counts at count + first, which it then advances. */
__attribute__((target("arch=x86-64-v3"))) static inline int pack8(float *value, int32_t *index, __m256 v,
                                                                unsigned mask, int32_t first, int32_t *rank,
                                                                int32_t *count)
{
    __m256i perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)nn__pack_lut[mask]));
    _mm256_storeu_ps(value, _mm256_permutevar8x32_ps(v, perm));
    _mm256_storeu_si256((__m256i *)(void *)index, _mm256_add_epi32(perm, _mm256_set1_epi32(first)));
    if (rank) {
        /* Each kept lane's rank is its column's count so far; then the kept columns count one more. */
        const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
        __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(count + first));
        __m256i kept = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)mask), bit), bit);
        _mm256_storeu_si256((__m256i *)(void *)rank, _mm256_permutevar8x32_epi32(c, perm));
        _mm256_storeu_si256((__m256i *)(void *)(count + first), _mm256_sub_epi32(c, kept));
    }
    return __builtin_popcount(mask);
}

/* compress() with AVX2: one compare and one movemask per 8 values, and their non-zeros packed with
 * one permutation (no branch per value). The same entries in the same order; != is unordered, as
 * C's (NaN is kept, -0 not). */
__attribute__((target("arch=x86-64-v3"))) static int compress_avx2(nn__sparse_rows *s, const float *x, int64_t batch,
                                                                 int64_t cols)
{
    int32_t *restrict index = s->index, *restrict start = s->start;
    float *restrict value = s->value;
    int64_t limit = begin_rows(s, batch, cols), nnz = 0;
    const __m256 zero = _mm256_setzero_ps();
    for (int64_t r = 0; r < batch; r++) {
        const float *restrict row = x + r * cols;
        int64_t k = 0;
        for (; k + 8 <= cols; k += 8) {
            __m256 v = _mm256_loadu_ps(row + k);
            unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ));
            if (m) nnz += pack8(value + nnz, index + nnz, v, m, (int32_t)k, NULL, NULL);
        }
        for (; k < cols; k++) {
            float v = row[k];
            index[nnz] = (int32_t)k;
            value[nnz] = v;
            nnz += v != 0.0f;
        }
        start[r + 1] = (int32_t)nnz;
        if (nnz > limit) return 0;
    }
    return 1;
}
#endif

/* Rows ahead whose bytes compress_u8_rows asks the memory for. */
#define PREFETCH_AHEAD 2

/* Image idx[r], or r when idx is NULL. */
static inline const uint8_t *row_at(const uint8_t *images, const uint32_t *idx, int64_t r, int64_t cols)
{
    return images + (size_t)(idx ? (int64_t)idx[r] : r) * (size_t)cols;
}

/* Without asking for the next rows early, most of the compression's time went to waiting for
 * memory: in a shuffled epoch the rows are scattered over the dataset, and even consecutive ones
 * (evaluation) lose the hardware prefetcher's lead while the layers run between two batches. */
static inline void prefetch_ahead(const uint8_t *images, const uint32_t *idx, int64_t r, int64_t batch, int64_t cols)
{
    if (r + PREFETCH_AHEAD >= batch) return;
    const uint8_t *next = row_at(images, idx, r + PREFETCH_AHEAD, cols);
    for (int64_t c = 0; c < cols; c += 64) __builtin_prefetch(next + c, 0, 0);
}

/* Pixels [k, end) of a row one at a time, without branches; returns the new count. */
static inline int64_t tail_u8(const uint8_t *row, int64_t k, int64_t end, int32_t *index, float *value,
                              int32_t *rank, int32_t *count, int64_t nnz)
{
    for (; k < end; k++) {
        uint8_t v = row[k];
        index[nnz] = (int32_t)k;
        value[nnz] = (float)v / 255.0f;
        if (rank) {
            rank[nnz] = count[k];
            count[k] += v != 0;
        }
        nnz += v != 0;
    }
    return nnz;
}

/* Packs one row's non-zero pixels at index/value + nnz (and their ranks, given rank), returning the
 * new count: the part of a compression that differs between widths. */
typedef int64_t (*row_packer)(const uint8_t *row, int64_t cols, int32_t *index, float *value, int32_t *rank,
                              int32_t *count, int64_t nnz);

/* Compresses rows idx[0..batch) with pack, one call per row (a few ns against hundreds for the row). */
static int compress_u8_rows(nn__sparse_rows *s, const uint8_t *images, const uint32_t *idx, int64_t batch,
                            int64_t cols, int ranks, row_packer pack)
{
    int64_t limit = begin_rows(s, batch, cols), nnz = 0;
    int32_t *count = ranks ? s->col_fill : NULL, *rank = ranks ? s->rank : NULL;
    if (ranks) memset(count, 0, (size_t)cols * sizeof(int32_t));
    for (int64_t r = 0; r < batch; r++) {
        prefetch_ahead(images, idx, r, batch, cols);
        nnz = pack(row_at(images, idx, r, cols), cols, s->index, s->value, rank, count, nnz);
        s->start[r + 1] = (int32_t)nnz;
        if (nnz > limit) return 0;
    }
    s->has_ranks = ranks;
    return 1;
}

/* Blank runs of 16 pixels in one test; the rest compacted without branches, as compress(). */
NN_HOT static int64_t pack_row(const uint8_t *row, int64_t cols, int32_t *index, float *value, int32_t *rank,
                               int32_t *count, int64_t nnz)
{
    int64_t k = 0;
    for (; k + 16 <= cols; k += 16) {
        uint64_t bits[2];
        memcpy(bits, row + k, sizeof bits);
        if ((bits[0] | bits[1]) == 0) continue;
        nnz = tail_u8(row, k, k + 16, index, value, rank, count, nnz);
    }
    return tail_u8(row, k, cols, index, value, rank, count, nnz);
}

#ifdef WIDE_KERNELS
/* Pixels p[0..8) as floats p / 255.0f (a vector division rounds as the scalar one; a product by
 * 1/255 corrected by its FMA residual also does, but measured no faster). */
__attribute__((target("arch=x86-64-v3"))) static inline __m256 bytes_to_unit(const uint8_t *p)
{
    __m128i eight = _mm_loadl_epi64((const __m128i *)(const void *)p);
    return _mm256_div_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(eight)), _mm256_set1_ps(255.0f));
}

/* pack_row() with AVX2: one compare and movemask per 32 pixels; where they hold ink, each 8 of them
 * converted and divided at once and packed as in compress_avx2(), their ranks with them. The same
 * entries and bits as pack_row(). */
__attribute__((target("arch=x86-64-v3"))) static int64_t pack_row_avx2(const uint8_t *row, int64_t cols, int32_t *index,
                                                                     float *value, int32_t *rank, int32_t *count,
                                                                     int64_t nnz)
{
    const __m256i zero = _mm256_setzero_si256();
    int64_t k = 0;
    for (; k + 32 <= cols; k += 32) {
        __m256i px = _mm256_loadu_si256((const __m256i *)(const void *)(row + k));
        unsigned ink = ~(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(px, zero));
        if (!ink) continue;
        for (int g = 0; g < 32; g += 8) {
            unsigned m = (ink >> g) & 0xffu;
            if (m)
                nnz += pack8(value + nnz, index + nnz, bytes_to_unit(row + k + g), m, (int32_t)(k + g),
                             rank ? rank + nnz : NULL, count);
        }
    }
    for (; k + 8 <= cols; k += 8) {
        __m128i eight = _mm_loadl_epi64((const __m128i *)(const void *)(row + k));
        unsigned m = 0xffu & ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(eight, _mm_setzero_si128()));
        if (m)
            nnz += pack8(value + nnz, index + nnz, bytes_to_unit(row + k), m, (int32_t)k, rank ? rank + nnz : NULL,
                         count);
    }
    return tail_u8(row, k, cols, index, value, rank, count, nnz);
}

#define CATTR __attribute__((target("arch=x86-64-v4")))
/* bytes_to_unit() for 16 pixels. */
CATTR static inline __m512 bytes16_to_unit(const uint8_t *p)
{
    __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)p)));
    return _mm512_div_ps(v, _mm512_set1_ps(255.0f));
}

/* pack8() for 16 lanes, with AVX-512's compress in place of the table's permutation. */
CATTR static inline int pack16(float *value, int32_t *index, __m512 v, __mmask16 mask, int32_t first, int32_t *rank,
                               int32_t *count)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    _mm512_storeu_ps(value, _mm512_maskz_compress_ps(mask, v));
    _mm512_storeu_si512(index, _mm512_maskz_compress_epi32(mask, _mm512_add_epi32(lane, _mm512_set1_epi32(first))));
    if (rank) {
        __m512i c = _mm512_loadu_si512(count + first);
        _mm512_storeu_si512(rank, _mm512_maskz_compress_epi32(mask, c));
        _mm512_storeu_si512(count + first, _mm512_mask_add_epi32(c, mask, c, _mm512_set1_epi32(1)));
    }
    return __builtin_popcount(mask);
}

/* pack_row() with AVX-512: one test per 64 pixels, and each 16 holding ink converted and packed
 * at once. With ranks, on a Sapphire Rapids Xeon, a shuffled epoch's rows in batches of 32: 305 to
 * 355 ns a row, against 350 to 425 with AVX2 (the same in L1). The same entries and bits as
 * pack_row(). */
CATTR static int64_t pack_row_avx512(const uint8_t *row, int64_t cols, int32_t *index, float *value, int32_t *rank,
                                     int32_t *count, int64_t nnz)
{
    int64_t k = 0;
    for (; k + 64 <= cols; k += 64) {
        __m512i px = _mm512_loadu_si512(row + k);
        uint64_t ink = _mm512_test_epi8_mask(px, px);
        if (!ink) continue;
        for (int g = 0; g < 64; g += 16) {
            __mmask16 m = (__mmask16)(ink >> g);
            if (m)
                nnz += pack16(value + nnz, index + nnz, bytes16_to_unit(row + k + g), m, (int32_t)(k + g),
                              rank ? rank + nnz : NULL, count);
        }
    }
    for (; k + 16 <= cols; k += 16) {
        __m128i px = _mm_loadu_si128((const __m128i *)(const void *)(row + k));
        __mmask16 m = _mm_test_epi8_mask(px, px);
        if (m)
            nnz += pack16(value + nnz, index + nnz, bytes16_to_unit(row + k), m, (int32_t)k, rank ? rank + nnz : NULL,
                          count);
    }
    return tail_u8(row, k, cols, index, value, rank, count, nnz);
}
#undef CATTR
#endif

/* A static clone set, as compress(): target_clones on an extern function would export its resolver. */
int nn__sparse_compress_u8_lanes(int lanes, nn__sparse_rows *s, const uint8_t *images, const uint32_t *idx,
                                 int64_t batch, int64_t cols, int ranks)
{
    row_packer pack = pack_row;
    if (lanes > nn__vector_lanes()) lanes = nn__vector_lanes(); /* never an instruction this processor lacks */
#ifdef WIDE_KERNELS
    if (lanes >= 16) pack = pack_row_avx512;
    else if (lanes >= 8) pack = pack_row_avx2;
#endif
    return compress_u8_rows(s, images, idx, batch, cols, ranks, pack);
}

int nn__sparse_compress_u8(nn__sparse_rows *s, const uint8_t *images, const uint32_t *idx, int64_t batch,
                           int64_t cols, int ranks)
{
    return nn__sparse_compress_u8_lanes(nn__vector_lanes(), s, images, idx, batch, cols, ranks);
}

int nn__sparse_compress(nn__sparse_rows *s, const float *x, int64_t batch, int64_t cols)
{
#ifdef WIDE_KERNELS
    if (nn__vector_lanes() >= 8) return compress_avx2(s, x, batch, cols);
#endif
    return compress(s, x, batch, cols);
}

void nn__dense_forward_sparse(const nn__sparse_rows *x, int64_t out, const float *w, const float *b, nn_activation act,
                              float *pre, float *y)
{
    /* ReLU is applied while the tile is still in registers; other activations in a pass of their own.
     * (By columns of x, each weight row read once per batch, the outputs' loads and stores cost more:
     * SGD's epoch 0.58 to 0.61 of its bound by rows, 0.61 to 0.65 by columns, on a Sapphire Rapids.) */
    if (act.kind == NN_ACT_RELU && y != pre) {
        nn__sparse_forward_lanes(nn__vector_lanes(), x, out, w, b, pre, y);
        return;
    }
    nn__sparse_forward_lanes(nn__vector_lanes(), x, out, w, b, pre, NULL);
    if (act.kind != NN_ACT_LINEAR || y != pre) nn__act_forward(act, y, pre, (size_t)(x->rows * out));
}

void nn__dense_weight_grad_sparse(nn__sparse_rows *x, int64_t out, const float *dpre, float *dw)
{
    nn__sparse_weight_grad_lanes(nn__vector_lanes(), x, out, dpre, dw);
}
