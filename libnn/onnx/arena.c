/* The arena of an export, and the guarded protobuf decoder of an import. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

void *nn__arena_alloc(nn__arena *a, size_t n)
{
    if (a->oom) return NULL;
    /* The block's link comes first; max_align_t keeps the payload aligned for any type. */
    size_t head = sizeof(max_align_t);
    if (n > SIZE_MAX - head) {
        a->oom = 1;
        return NULL;
    }
    void **b = calloc(1, head + n);
    if (!b) {
        a->oom = 1;
        return NULL;
    }
    b[0] = a->head;
    a->head = b;
    return (char *)b + head;
}

char *nn__arena_printf(nn__arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        a->oom = 1;
        return NULL;
    }
    char *s = nn__arena_alloc(a, (size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void nn__arena_free(nn__arena *a)
{
    void **b = a->head;
    while (b) {
        void **next = b[0];
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* Nesting deeper than this is refused before protobuf-c, whose decoder recurses once per level: a
 * hostile file of nested empty messages would otherwise exhaust the stack. Real models nest about 8
 * deep (model, graph, node, attribute, graph, ...: subgraphs, which libnn never reads, add levels). */
#define MAX_DEPTH 24

static int varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*i >= len) return 0;
        uint8_t b = p[(*i)++];
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

/* Walks the wire format of message type d (NULL: unknown field, bytes skipped) to check that every
 * length stays inside its parent and that messages nest at most MAX_DEPTH deep. Iterative over the
 * fields, recursive over the nesting, which the depth bounds. */
static int wire_ok(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len, int depth)
{
    if (depth > MAX_DEPTH) return 0;
    size_t i = 0;
    while (i < len) {
        uint64_t key, v;
        if (!varint(p, len, &i, &key)) return 0;
        uint64_t number = key >> 3;
        if (number == 0 || number > 0x1fffffff) return 0;
        switch (key & 7) {
        case 0:
            if (!varint(p, len, &i, &v)) return 0;
            break;
        case 1:
            if (len - i < 8) return 0;
            i += 8;
            break;
        case 5:
            if (len - i < 4) return 0;
            i += 4;
            break;
        case 2: {
            if (!varint(p, len, &i, &v) || v > len - i) return 0;
            const ProtobufCFieldDescriptor *f = d ? protobuf_c_message_descriptor_get_field(d, (unsigned)number) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !wire_ok((const ProtobufCMessageDescriptor *)f->descriptor, p + i, (size_t)v, depth + 1))
                return 0;
            i += (size_t)v;
            break;
        }
        default: return 0; /* groups (3, 4) are not in ONNX; 6 and 7 do not exist */
        }
    }
    return 1;
}

/* protobuf-c allocates per message and per repeated field; its total is bounded by a multiple of the
 * input (an empty message costs 2 bytes on the wire and at most a few hundred in memory), and the
 * budget turns a hostile amplification into a clean refusal. */
typedef struct budget {
    size_t left;
    int exceeded, failed;
} budget;

static void *budget_alloc(void *data, size_t size)
{
    budget *b = data;
    if (size > b->left) {
        b->exceeded = 1;
        return NULL;
    }
    void *p = malloc(size);
    if (p) b->left -= size;
    else b->failed = 1;
    return p;
}

static void budget_free(void *data, void *p)
{
    (void)data;
    free(p);
}

nn_status nn__onnx_unpack(Onnx__ModelProto **out, const uint8_t *data, size_t size)
{
    *out = NULL;
    if (!wire_ok(&onnx__model_proto__descriptor, data, size, 0))
        return nn__fail(NN_ERR_FORMAT, "not an ONNX model: the protobuf encoding is broken (a length past its "
                                       "message, a bad field key, or messages nested over %d deep)",
                        MAX_DEPTH);
    budget b = {size > (SIZE_MAX - ((size_t)1 << 20)) / 256 ? SIZE_MAX : ((size_t)1 << 20) + 256 * size, 0, 0};
    ProtobufCAllocator alloc = {budget_alloc, budget_free, &b};
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&alloc, size, data);
    if (!mp) {
        if (b.failed) return nn__fail(NN_ERR_NO_MEMORY, "ONNX model: out of memory decoding %zu bytes", size);
        if (b.exceeded)
            return nn__fail(NN_ERR_FORMAT, "ONNX model: decoding it needs more memory than a file of %zu bytes may ask",
                            size);
        return nn__fail(NN_ERR_FORMAT, "not an ONNX model: protobuf-c cannot decode it (a field of the wrong type "
                                       "or a required field missing)");
    }
    *out = mp;
    return NN_OK;
}

void nn__onnx_model_free(Onnx__ModelProto *mp)
{
    /* protobuf-c frees with the allocator's free, which is free() either way. */
    if (mp) onnx__model_proto__free_unpacked(mp, NULL);
}
