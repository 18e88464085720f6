/* pht_train_frame.h — the one message a train child sends its parent (internal to trains/). */
#ifndef PHT_TRAIN_FRAME_H
#define PHT_TRAIN_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct pht_buf;
struct pht_err;

#define PHT_TRAIN_FRAME_MAGIC 0x52544850u   /* "PHTR" */
#define PHT_TRAIN_FRAME_COLS_MAX 1024       /* columns text, with its NUL */
#define PHT_TRAIN_FRAME_ERR_MAX 1024        /* error text, with its NUL */
/* flags: the train was handed something computed from data values */
#define PHT_TRAIN_FRAME_DATA_TOUCHED 0x1u

/*
 * Layout, host byte order (both ends are this program, one fork apart):
 *   u32 magic, i32 code, u64 instructions, u64 peak_memory, u64 rows_read,
 *   u32 columns_len, u32 payload_len, u32 rowsets_len, u32 flags,
 *   columns bytes, payload bytes, rowsets bytes.
 * flags: PHT_TRAIN_FRAME_DATA_TOUCHED or 0; no other bit is defined.
 * The payload is the output as JSON text when code is PHT_OK, otherwise
 * the error text. The rowsets are the row sets behind the output
 * (pht_train_rowsets.h), at most PHT_TRAIN_ROWSETS_MAX_BYTES; the decoder
 * only bounds them, pht_train_rowsets_decode checks them.
 */
struct pht_train_frame {
	int code;
	uint64_t instructions;
	uint64_t peak_memory;
	uint64_t rows_read;
	int data_touched;                        /* PHT_TRAIN_FRAME_DATA_TOUCHED was set */
	char columns[PHT_TRAIN_FRAME_COLS_MAX];  /* printable, NUL-terminated */
	const uint8_t *payload;                  /* borrowed from the input */
	size_t payload_len;
	const uint8_t *rowsets;                  /* borrowed from the input */
	size_t rowsets_len;
};

/* Size of the fixed header. */
size_t pht_train_frame_header_size(void);

/*
 * Appends a frame to out. flags is PHT_TRAIN_FRAME_DATA_TOUCHED or 0;
 * columns is cut to fit; rowsets may be NULL (none). PHT_ERR_TOO_LARGE
 * if out cannot hold it.
 */
int pht_train_frame_encode(struct pht_buf *out, int code, uint64_t instructions,
    uint64_t peak_memory, uint64_t rows_read, uint32_t flags, const char *columns,
    const void *payload, size_t payload_len, const void *rowsets,
    size_t rowsets_len);

/*
 * The frame as pht_train_frame_encode() makes it, less the rowsets_len
 * bytes of row sets, which the caller sends right after (the large part
 * of a frame is not copied).
 */
int pht_train_frame_encode_head(struct pht_buf *out, int code, uint64_t instructions,
    uint64_t peak_memory, uint64_t rows_read, uint32_t flags, const char *columns,
    const void *payload, size_t payload_len, size_t rowsets_len);

/*
 * Decodes exactly len hostile bytes. Accepts only the magic, a code among
 * PHT_OK, PHT_ERR_LIMIT, PHT_ERR_TRAIN, PHT_ERR_DISCLOSURE,
 * PHT_ERR_INTERNAL and PHT_ERR_NOMEM, lengths that add up to len, a
 * flags field with no bit but PHT_TRAIN_FRAME_DATA_TOUCHED, rowsets of at
 * most PHT_TRAIN_ROWSETS_MAX_BYTES, a columns text shorter than
 * PHT_TRAIN_FRAME_COLS_MAX, an error payload
 * shorter than PHT_TRAIN_FRAME_ERR_MAX and an output payload of at most
 * max_output bytes. Control bytes in the columns text are replaced by '?'.
 * PHT_ERR_MALFORMED naming the first problem otherwise.
 */
int pht_train_frame_decode(const uint8_t *data, size_t len, size_t max_output,
    struct pht_train_frame *f, struct pht_err *err);

#endif
