#include "le.h"

#include <stdlib.h>
#include <string.h>

uint16_t nnio_load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

uint32_t nnio_load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t nnio_load_u64(const uint8_t *p)
{
    return (uint64_t)nnio_load_u32(p) | ((uint64_t)nnio_load_u32(p + 4) << 32);
}

float nnio_load_f32(const uint8_t *p)
{
    /* Through the bit pattern, so NaN payloads and signed zeros survive exactly. */
    uint32_t bits = nnio_load_u32(p);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void nnio_store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void nnio_store_u64(uint8_t *p, uint64_t v)
{
    nnio_store_u32(p, (uint32_t)v);
    nnio_store_u32(p + 4, (uint32_t)(v >> 32));
}

void nnio_cur_init(nnio_cur *c, const uint8_t *p, size_t len, uint64_t base)
{
    c->p = p;
    c->len = len;
    c->pos = 0;
    c->base = base;
}

size_t nnio_cur_left(const nnio_cur *c) { return c->len - c->pos; }

uint64_t nnio_cur_offset(const nnio_cur *c) { return c->base + c->pos; }

int nnio_get_bytes(nnio_cur *c, size_t n, const uint8_t **out)
{
    if (n > nnio_cur_left(c)) return 0;
    *out = c->p + c->pos;
    c->pos += n;
    return 1;
}

int nnio_get_u16(nnio_cur *c, uint16_t *out)
{
    const uint8_t *p;
    if (!nnio_get_bytes(c, 2, &p)) return 0;
    *out = nnio_load_u16(p);
    return 1;
}

int nnio_get_u32(nnio_cur *c, uint32_t *out)
{
    const uint8_t *p;
    if (!nnio_get_bytes(c, 4, &p)) return 0;
    *out = nnio_load_u32(p);
    return 1;
}

int nnio_get_u64(nnio_cur *c, uint64_t *out)
{
    const uint8_t *p;
    if (!nnio_get_bytes(c, 8, &p)) return 0;
    *out = nnio_load_u64(p);
    return 1;
}

int nnio_get_i64(nnio_cur *c, int64_t *out)
{
    uint64_t u;
    if (!nnio_get_u64(c, &u)) return 0;
    /* Two's complement by definition of the format; the conversion is spelled out because casting
     * an out-of-range unsigned value to a signed type is implementation-defined in C11. */
    *out = u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
    return 1;
}

int nnio_get_f32(nnio_cur *c, float *out)
{
    const uint8_t *p;
    if (!nnio_get_bytes(c, 4, &p)) return 0;
    *out = nnio_load_f32(p);
    return 1;
}

void nnio_buf_free(nnio_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int grow(nnio_buf *b, size_t n)
{
    if (b->oom) return 0;
    if (n <= b->cap - b->len) return 1;
    if (n > SIZE_MAX - b->len) {
        b->oom = 1;
        return 0;
    }
    size_t need = b->len + n;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return 0;
    }
    b->data = d;
    b->cap = cap;
    return 1;
}

void nnio_put_bytes(nnio_buf *b, const void *p, size_t n)
{
    if (n == 0 || !grow(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void nnio_put_u16(nnio_buf *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    nnio_put_bytes(b, p, 2);
}

void nnio_put_u32(nnio_buf *b, uint32_t v)
{
    uint8_t p[4];
    nnio_store_u32(p, v);
    nnio_put_bytes(b, p, 4);
}

void nnio_put_u64(nnio_buf *b, uint64_t v)
{
    uint8_t p[8];
    nnio_store_u64(p, v);
    nnio_put_bytes(b, p, 8);
}

void nnio_put_i64(nnio_buf *b, int64_t v) { nnio_put_u64(b, (uint64_t)v); }

void nnio_put_f32(nnio_buf *b, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    nnio_put_u32(b, bits);
}

void nnio_put_str(nnio_buf *b, const char *s, size_t n)
{
    nnio_put_u32(b, (uint32_t)n);
    nnio_put_bytes(b, s, n);
}
