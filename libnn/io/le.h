/* Little-endian encoding and decoding for the model file format, byte by byte with shifts, so the
 * file's layout never depends on the host's byte order, padding or alignment. */
#ifndef NN_IO_LE_H
#define NN_IO_LE_H

#include <stddef.h>
#include <stdint.h>

/* Raw decode/encode of fixed-width values at p (which needs 2, 4 or 8 bytes). */
uint16_t nnio_load_u16(const uint8_t *p);
uint32_t nnio_load_u32(const uint8_t *p);
uint64_t nnio_load_u64(const uint8_t *p);
float nnio_load_f32(const uint8_t *p);
void nnio_store_u32(uint8_t *p, uint32_t v);
void nnio_store_u64(uint8_t *p, uint64_t v);

/* A read cursor over len bytes. base is the absolute file offset of p[0], so that errors can name
 * the byte where a problem sits. Every getter returns 0, consuming nothing, when fewer bytes remain
 * than it needs. */
typedef struct nnio_cur {
    const uint8_t *p;
    size_t len;
    size_t pos;
    uint64_t base;
} nnio_cur;

void nnio_cur_init(nnio_cur *c, const uint8_t *p, size_t len, uint64_t base);
size_t nnio_cur_left(const nnio_cur *c);
uint64_t nnio_cur_offset(const nnio_cur *c);
int nnio_get_u16(nnio_cur *c, uint16_t *out);
int nnio_get_u32(nnio_cur *c, uint32_t *out);
int nnio_get_u64(nnio_cur *c, uint64_t *out);
int nnio_get_i64(nnio_cur *c, int64_t *out);
int nnio_get_f32(nnio_cur *c, float *out);
int nnio_get_bytes(nnio_cur *c, size_t n, const uint8_t **out);

/* A growable write buffer. After an allocation failure every put does nothing and oom stays set,
 * so an encoder checks once at the end instead of after every field. */
typedef struct nnio_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int oom;
} nnio_buf;

void nnio_buf_free(nnio_buf *b);
void nnio_put_bytes(nnio_buf *b, const void *p, size_t n);
void nnio_put_u16(nnio_buf *b, uint16_t v);
void nnio_put_u32(nnio_buf *b, uint32_t v);
void nnio_put_u64(nnio_buf *b, uint64_t v);
void nnio_put_i64(nnio_buf *b, int64_t v);
void nnio_put_f32(nnio_buf *b, float v);
/* A string field: u32 byte count, then the bytes (no terminator). */
void nnio_put_str(nnio_buf *b, const char *s, size_t n);

#endif /* NN_IO_LE_H */
