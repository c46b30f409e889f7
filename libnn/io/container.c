/* The container layer of the model format: header, then sections each framed by a tag, flags, a
 * length and a CRC-32, up to the end section with the whole-file CRC. It knows which tags exist
 * but not what their payloads mean. */
#include <stdlib.h>
#include <string.h>

#include "format.h"

const char *nnio_tag_name(uint32_t tag, char buf[11])
{
    uint8_t b[4];
    nnio_store_u32(b, tag);
    int printable = 1;
    for (int i = 0; i < 4; i++)
        if (b[i] < 0x20 || b[i] > 0x7e) printable = 0;
    if (printable) {
        memcpy(buf, b, 4);
        buf[4] = '\0';
    } else {
        static const char hex[] = "0123456789abcdef";
        buf[0] = '0';
        buf[1] = 'x';
        for (int i = 0; i < 8; i++) buf[2 + i] = hex[(tag >> (28 - 4 * i)) & 0xf];
        buf[10] = '\0';
    }
    return buf;
}

static int known_index(uint32_t tag)
{
    static const uint32_t known[] = {NNIO_TAG_ARCH, NNIO_TAG_META, NNIO_TAG_TENS,
                                     NNIO_TAG_OPTM, NNIO_TAG_RNGS, NNIO_TAG_PROG, NNIO_TAG_TRNG};
    for (int i = 0; i < (int)(sizeof known / sizeof known[0]); i++)
        if (known[i] == tag) return i;
    return -1;
}

/* Damage that has a recognisable cause gets a message naming it. */
static nn_status bad_magic(const uint8_t *m)
{
    static const uint8_t magic[] = NNIO_MAGIC;
    uint8_t sw16[8], sw32[8];
    for (int i = 0; i < 8; i++) {
        sw16[i] = magic[i ^ 1];
        sw32[i] = magic[i ^ 3];
    }
    if (memcmp(m, sw16, 8) == 0 || memcmp(m, sw32, 8) == 0)
        return nn__fail(NN_ERR_FORMAT, "model file: magic at byte 0 is byte-swapped: the file went through a "
                                       "16- or 32-bit byte swap");
    if (memcmp(m + 1, magic + 1, 3) == 0) {
        if (m[0] == (magic[0] & 0x7f))
            return nn__fail(NN_ERR_FORMAT, "model file: magic at byte 0 lost its high bit: the file went "
                                           "through a 7-bit transfer");
        if (m[4] == '\n' || (m[4] == '\r' && m[5] == '\r'))
            return nn__fail(NN_ERR_FORMAT, "model file: magic at byte 4 has altered line endings: the file "
                                           "was transferred in text mode");
        return nn__fail(NN_ERR_FORMAT, "model file: damaged magic at byte 0");
    }
    return nn__fail(NN_ERR_FORMAT, "model file: not a libnn model (wrong magic at byte 0)");
}

static nn_status check_header(nnio_src *src, unsigned *major, unsigned *minor)
{
    uint8_t h[NNIO_HEADER_LEN];
    if (src->size < NNIO_HEADER_LEN)
        return nn__fail(NN_ERR_FORMAT, "model file: truncated: %llu bytes, the header alone needs %d",
                        (unsigned long long)src->size, NNIO_HEADER_LEN);
    nn_status st = nnio_src_read(src, h, sizeof h);
    if (st != NN_OK) return st;
    if (memcmp(h, NNIO_MAGIC, NNIO_MAGIC_LEN) != 0) return bad_magic(h);
    unsigned maj = nnio_load_u16(h + 8), min = nnio_load_u16(h + 10);
    unsigned swapped = ((maj & 0xff) << 8) | (maj >> 8);
    *major = maj;
    *minor = min;
    if (maj != NN_FORMAT_VERSION_MAJOR && swapped >= 1 && swapped <= NN_FORMAT_VERSION_MAJOR)
        return nn__fail(NN_ERR_FORMAT, "model file: version at byte 8 is byte-swapped (%u reads as %u): written "
                                       "big-endian by a non-conforming writer",
                        swapped, maj);
    if (maj > NN_FORMAT_VERSION_MAJOR)
        return nn__fail(NN_ERR_VERSION, "model file: format version %u.%u is newer than this library reads "
                                        "(%d.x); upgrade libnn",
                        maj, min, NN_FORMAT_VERSION_MAJOR);
    if (maj < 1) return nn__fail(NN_ERR_FORMAT, "model file: format version %u.%u at byte 8 does not exist", maj, min);
    return NN_OK;
}

static nn_status finish(nnio_src *src, uint64_t at, uint32_t file_crc, const uint8_t *payload, int seen_tens)
{
    uint32_t stored = nnio_load_u32(payload);
    if (stored != file_crc)
        return nn__fail(NN_ERR_FORMAT, "model file: whole-file checksum mismatch in the end section at byte %llu "
                                       "(stored 0x%08x, computed 0x%08x)",
                        (unsigned long long)at, stored, file_crc);
    if (src->pos != src->size)
        return nn__fail(NN_ERR_FORMAT, "model file: %llu unexpected bytes after the end section at byte %llu",
                        (unsigned long long)(src->size - src->pos), (unsigned long long)src->pos);
    if (!seen_tens) return nn__fail(NN_ERR_FORMAT, "model file: no tensor section (TENS)");
    return NN_OK;
}

nn_status nnio_walk(nnio_src *src, const nnio_visitor *v, unsigned *major, unsigned *minor)
{
    nn_status st = check_header(src, major, minor);
    if (st != NN_OK) return st;
    unsigned seen = 0;
    char name[11];
    for (;;) {
        uint64_t at = src->pos, left = src->size - src->pos;
        uint32_t file_crc = src->crc;
        if (left == 0)
            return nn__fail(NN_ERR_FORMAT, "model file: truncated at byte %llu: no end section",
                            (unsigned long long)at);
        if (left < NNIO_SECTION_HEADER_LEN)
            return nn__fail(NN_ERR_FORMAT, "model file: truncated section header at byte %llu (%llu of %d bytes)",
                            (unsigned long long)at, (unsigned long long)left, NNIO_SECTION_HEADER_LEN);
        uint8_t h[NNIO_SECTION_HEADER_LEN];
        if ((st = nnio_src_read(src, h, sizeof h)) != NN_OK) return st;
        uint32_t tag = nnio_load_u32(h), flags = nnio_load_u32(h + 4), crc = nnio_load_u32(h + 16);
        uint64_t len = nnio_load_u64(h + 8);
        left -= NNIO_SECTION_HEADER_LEN;
        nnio_tag_name(tag, name);
        if (len > left)
            return nn__fail(NN_ERR_FORMAT, "model file: section %s at byte %llu declares %llu bytes, but only %llu "
                                           "remain (truncated or corrupt)",
                            name, (unsigned long long)at, (unsigned long long)len, (unsigned long long)left);
        int k = known_index(tag);
        if (tag == NNIO_TAG_END) {
            /* The whole-file CRC stops at this header, so its fields are checked exactly instead. */
            if (len != 4 || flags != NNIO_FLAG_REQUIRED)
                return nn__fail(NN_ERR_FORMAT, "model file: end section at byte %llu has %llu bytes and flags 0x%x, "
                                               "expected 4 and 0x1",
                                (unsigned long long)at, (unsigned long long)len, flags);
        } else if (k < 0) {
            if (flags & NNIO_FLAG_REQUIRED) {
                if (*minor > NN_FORMAT_VERSION_MINOR)
                    return nn__fail(NN_ERR_VERSION, "model file: required section %s at byte %llu needs format "
                                                    "%u.%u; this library reads %d.%d",
                                    name, (unsigned long long)at, *major, *minor, NN_FORMAT_VERSION_MAJOR,
                                    NN_FORMAT_VERSION_MINOR);
                return nn__fail(NN_ERR_FORMAT, "model file: unknown required section %s at byte %llu", name,
                                (unsigned long long)at);
            }
        } else {
            if (seen & (1u << k))
                return nn__fail(NN_ERR_FORMAT, "model file: duplicate section %s at byte %llu", name,
                                (unsigned long long)at);
            if (tag != NNIO_TAG_ARCH && !(seen & 1u))
                return nn__fail(NN_ERR_FORMAT, "model file: section %s at byte %llu comes before the "
                                               "architecture (ARCH must be first)",
                                name, (unsigned long long)at);
            seen |= 1u << k;
            /* Before reading: a file cannot make the reader hold more than a valid file of the
             * same architecture needs, whatever its size. */
            uint64_t most = v->limit(v->ctx, tag);
            if (len > most)
                return nn__fail(NN_ERR_FORMAT, "model file: section %s at byte %llu declares %llu bytes; a valid one "
                                               "holds at most %llu here",
                                name, (unsigned long long)at, (unsigned long long)len, (unsigned long long)most);
        }
        /* Unknown sections are checksummed, never held. */
        uint64_t want = tag == NNIO_TAG_END ? 4 : k >= 0 ? len : 0;
        const uint8_t *payload;
        uint64_t avail;
        uint8_t *owned;
        uint32_t got;
        if ((st = nnio_src_payload(src, len, want, &payload, &avail, &owned, &got)) != NN_OK) return st;
        if (got != crc) {
            free(owned);
            return nn__fail(NN_ERR_FORMAT, "model file: section %s at byte %llu: checksum mismatch (stored 0x%08x, "
                                           "computed 0x%08x)",
                            name, (unsigned long long)at, crc, got);
        }
        if (tag == NNIO_TAG_END) {
            if (!(seen & 1u)) st = nn__fail(NN_ERR_FORMAT, "model file: no architecture section (ARCH)");
            else st = finish(src, at, file_crc, payload, (seen & (1u << 2)) != 0);
            free(owned);
            return st;
        }
        if (k >= 0) {
            nnio_section s = {tag, flags, at + NNIO_SECTION_HEADER_LEN, len, payload, owned, *major, *minor};
            st = v->visit(v->ctx, &s);
            owned = s.owned;
        }
        free(owned);
        if (st != NN_OK) return st;
    }
}
