/* Constants and internal interfaces of the model file format (docs/model-format.md is the
 * specification; the numbers here must agree with it). */
#ifndef NN_IO_FORMAT_H
#define NN_IO_FORMAT_H

#include <stdint.h>
#include <stdio.h>

#include "model_internal.h"
#include "le.h"

/* PNG-style magic: the high-bit byte catches 7-bit transfers, CR LF and LF catch line-ending
 * conversion, and 0x1a stops `type` on DOS. */
#define NNIO_MAGIC "\x89NNM\r\n\x1a\n"
#define NNIO_MAGIC_LEN 8
#define NNIO_HEADER_LEN 16        /* magic, u16 major, u16 minor, u32 reserved */
#define NNIO_SECTION_HEADER_LEN 20 /* tag, u32 flags, u64 length, u32 crc */

/* Section tags: four ASCII bytes, read as a little-endian u32, so hex dumps show them. */
#define NNIO_TAG(a, b, c, d)                                                                       \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define NNIO_TAG_ARCH NNIO_TAG('A', 'R', 'C', 'H')
#define NNIO_TAG_META NNIO_TAG('M', 'E', 'T', 'A')
#define NNIO_TAG_TENS NNIO_TAG('T', 'E', 'N', 'S')
#define NNIO_TAG_OPTM NNIO_TAG('O', 'P', 'T', 'M')
#define NNIO_TAG_RNGS NNIO_TAG('R', 'N', 'G', 'S')
#define NNIO_TAG_PROG NNIO_TAG('P', 'R', 'O', 'G')
#define NNIO_TAG_TRNG NNIO_TAG('T', 'R', 'N', 'G') /* the model's training generator (format 2) */
#define NNIO_TAG_END NNIO_TAG('E', 'N', 'D', '!')

#define NNIO_FLAG_REQUIRED 1u

#define NNIO_DTYPE_F32 1u

/* Hard limits beyond those in io.h; every count read from a file is checked against these and
 * against the bytes left before anything is allocated for it. */
#define NNIO_MAX_FEATURES NN_FORMAT_MAX_FEATURES
#define NNIO_MAX_PARAMS NN_FORMAT_MAX_PARAMS
#define NNIO_MAX_TENSORS (NN_MODEL_MAX_LAYERS * NN__MAX_LAYER_TENSORS)
#define NNIO_MAX_SETTINGS 4096               /* bytes of one layer's own settings */
#define NNIO_MAX_NAME 64                     /* tensor, activation, hyperparameter, state names */
#define NNIO_MAX_HPARAMS 16
#define NNIO_MAX_STATES 8

/* Metadata keys the library writes itself. */
#define NNIO_KEY_VERSION "libnn.version"
#define NNIO_KEY_CREATED "created"

/* ---- where the bytes come from ---- */

/* Memory (mem non-NULL) or a regular file (fp), read front to back. size is the memory's size or
 * the file's from fstat: no read goes past it, whatever lengths the file declares. crc runs over
 * every byte consumed, for the end section's whole-file checksum. */
typedef struct nnio_src {
    const uint8_t *mem;
    FILE *fp;
    uint64_t size;
    uint64_t pos;
    uint32_t crc;
} nnio_src;

void nnio_src_mem(nnio_src *s, const void *data, size_t size);
/* Open path: a regular file only (a FIFO, device or folder is refused without waiting on it).
 * Release with nnio_src_close(). */
nn_status nnio_src_open(nnio_src *s, const char *path);
void nnio_src_close(nnio_src *s);
/* Exactly n bytes into dst. */
nn_status nnio_src_read(nnio_src *s, uint8_t *dst, size_t n);
/* A section payload of len bytes (the caller checked len <= bytes left): from memory the whole of it
 * in place; from a stream the first `want` bytes into *owned (free it), the rest only checksummed.
 * *avail says how many bytes *payload holds; *crc is the payload's CRC-32. */
nn_status nnio_src_payload(nnio_src *s, uint64_t len, uint64_t want, const uint8_t **payload,
                           uint64_t *avail, uint8_t **owned, uint32_t *crc);
/* zlib's crc32 over any size_t length. */
uint32_t nnio_crc32(uint32_t crc, const void *p, size_t n);

/* ---- the container: header and sections ---- */

typedef struct nnio_section {
    uint32_t tag;
    uint32_t flags;
    uint64_t offset;   /* absolute offset of the payload */
    uint64_t length;   /* payload bytes in the file */
    const uint8_t *payload; /* all length bytes */
    uint8_t *owned;         /* payload's buffer when read from a file; a visitor may keep it (and set
                               this to NULL), else the walk frees it after the visit */
    unsigned major, minor;  /* the file's format version: the major decides the layout of ARCH */
} nnio_section;

typedef struct nnio_visitor {
    /* The most payload bytes a valid known section can have, given what was visited before (ARCH
     * always comes first). A longer section is refused before any of it is read. */
    uint64_t (*limit)(void *ctx, uint32_t tag);
    /* Called for each known section after its checksum was verified. */
    nn_status (*visit)(void *ctx, nnio_section *s);
    void *ctx;
} nnio_visitor;

/* Check the header, walk every section to the end section, verify every checksum and the section
 * rules (ARCH first, known sections at most once, TENS present, nothing after the end). Known
 * sections are read whole; unknown ones are only checksummed. */
nn_status nnio_walk(nnio_src *src, const nnio_visitor *v, unsigned *major, unsigned *minor);

/* Tag as text for messages ("TENS", or "0x00ab12ff" when not printable); buf holds 11 bytes. */
const char *nnio_tag_name(uint32_t tag, char buf[11]);

/* ---- section payloads shared by the loader and nn_file_info ---- */

/* The architecture: every layer set up through its kind (shapes, tensors), nothing allocated. */
typedef struct nnio_arch {
    nn__shape input;
    nn_loss_kind loss;
    int count;
    nn__layer layer[NN_MODEL_MAX_LAYERS];
    int64_t params;  /* trainable values */
    int64_t buffers; /* untrained state */
} nnio_arch;

nn_status nnio_parse_arch(nnio_arch *out, const nnio_section *s);

typedef struct nnio_meta_entry {
    const uint8_t *key;
    uint32_t key_len;
    const uint8_t *value;
    uint32_t value_len;
} nnio_meta_entry;

typedef struct nnio_meta {
    size_t count;
    nnio_meta_entry e[NN_FORMAT_MAX_META];
} nnio_meta;

/* Entries point into the section's payload. */
nn_status nnio_parse_meta(nnio_meta *out, const nnio_section *s);
nn_status nnio_parse_rng(uint64_t state[NN_RNG_STATE_WORDS], const nnio_section *s);
nn_status nnio_parse_progress(int64_t *epoch, const nnio_section *s);
/* The optimizer kind alone: the first field of OPTM. */
nn_status nnio_parse_optimizer_kind(nn_optimizer_kind *out, const nnio_section *s);

/* Validation shared by the writer and the reader. */
int nnio_valid_key(const uint8_t *s, size_t n);
int nnio_valid_name(const uint8_t *s, size_t n);
int nnio_valid_utf8(const uint8_t *s, size_t n);
/* Read a name field (u32 length, 1..NNIO_MAX_NAME bytes of [A-Za-z0-9_./-]) into buf. */
nn_status nnio_get_name(nnio_cur *c, char buf[NNIO_MAX_NAME + 1], const char *what);
/* "model file: truncated <what> at byte N" */
nn_status nnio_truncated(const nnio_cur *c, const char *what);


/* ---- the one validation path: nn_model_load, nn_file_info_read and nn_model_save ---- */

/* Walk src and check everything in it, then build the model it describes (which checks what only
 * the model and optimizer know: hyperparameter values, the optimizer's state layout). out NULL:
 * the model is built, checked and freed. extra, when non-NULL, also visits each known section
 * after the loader accepted it (it never takes ownership). major and minor may be NULL. */
nn_status nnio_load(nn_model **out, nnio_src *src, const nn_load_options *o, const nnio_visitor *extra,
                    unsigned *major, unsigned *minor);
/* nnio_load from a path: the failure message names the file ("model file 'a.nnm': ..."). */
nn_status nnio_load_path(nn_model **out, const char *path, const nn_load_options *o, const nnio_visitor *extra,
                         unsigned *major, unsigned *minor);
/* The checks of nnio_load short of building the model, with the default options (non-finite
 * values refused), on bytes the writer encoded: what the writer produces, the reader accepts. */
nn_status nnio_check_encoded(const uint8_t *data, size_t size);
/* The byte offset of the ARCH payload in every file the writer makes. */
#define NNIO_ARCH_OFFSET (NNIO_HEADER_LEN + NNIO_SECTION_HEADER_LEN)

/* The caller's load options of any known version, as this version's struct. */
nn_status nnio_load_options(nn_load_options *o, const nn_load_options *opts);

#endif /* NN_IO_FORMAT_H */
