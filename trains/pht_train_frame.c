/* pht_train_frame.c — encoding and strict decoding of the child-to-parent frame. */
#include "pht_train_frame.h"
#include "pht_train_rowsets.h"
#include "pht_buf.h"
#include "pht_err.h"

#include <string.h>

struct frame_head {
	uint32_t magic;
	int32_t code;
	uint64_t instructions;
	uint64_t peak_memory;
	uint64_t rows_read;
	uint32_t columns_len;
	uint32_t payload_len;
	uint32_t rowsets_len;
	uint32_t flags;
};

size_t
pht_train_frame_header_size(void)
{
	return sizeof(struct frame_head);
}

int
pht_train_frame_encode_head(struct pht_buf *out, int code, uint64_t instructions,
    uint64_t peak_memory, uint64_t rows_read, uint32_t flags, const char *columns,
    const void *payload, size_t payload_len, size_t rowsets_len)
{
	struct frame_head h;
	size_t clen = columns != NULL ? strlen(columns) : 0;
	int r;

	if (clen >= PHT_TRAIN_FRAME_COLS_MAX)
		clen = PHT_TRAIN_FRAME_COLS_MAX - 1;
	if (payload_len > UINT32_MAX || rowsets_len > PHT_TRAIN_ROWSETS_MAX_BYTES)
		return PHT_ERR_TOO_LARGE;
	memset(&h, 0, sizeof(h));
	h.magic = PHT_TRAIN_FRAME_MAGIC;
	h.code = code;
	h.instructions = instructions;
	h.peak_memory = peak_memory;
	h.rows_read = rows_read;
	h.flags = flags;
	h.columns_len = (uint32_t)clen;
	h.payload_len = (uint32_t)payload_len;
	h.rowsets_len = (uint32_t)rowsets_len;
	if ((r = pht_buf_put(out, &h, sizeof(h))) != PHT_OK ||
	    (r = pht_buf_put(out, columns, clen)) != PHT_OK ||
	    (r = pht_buf_put(out, payload, payload_len)) != PHT_OK)
		return r;
	return PHT_OK;
}

int
pht_train_frame_encode(struct pht_buf *out, int code, uint64_t instructions,
    uint64_t peak_memory, uint64_t rows_read, uint32_t flags, const char *columns,
    const void *payload, size_t payload_len, const void *rowsets,
    size_t rowsets_len)
{
	int r;

	if ((r = pht_train_frame_encode_head(out, code, instructions, peak_memory, rows_read,
	    flags, columns, payload, payload_len, rowsets_len)) != PHT_OK ||
	    (rowsets_len > 0 && (r = pht_buf_put(out, rowsets, rowsets_len)) != PHT_OK))
		return r;
	return PHT_OK;
}

static int
code_allowed(int code)
{
	switch (code) {
	case PHT_OK:
	case PHT_ERR_LIMIT:
	case PHT_ERR_TRAIN:
	case PHT_ERR_DISCLOSURE:
	case PHT_ERR_INTERNAL:
	case PHT_ERR_NOMEM:
		return 1;
	default:
		return 0;
	}
}

int
pht_train_frame_decode(const uint8_t *data, size_t len, size_t max_output,
    struct pht_train_frame *f, struct pht_err *err)
{
	struct frame_head h;
	size_t i;

	memset(f, 0, sizeof(*f));
	if (len < sizeof(h))
		return pht_errf(err, PHT_ERR_MALFORMED, "train frame: %zu bytes, "
		    "shorter than its header", len);
	memcpy(&h, data, sizeof(h));
	if (h.magic != PHT_TRAIN_FRAME_MAGIC)
		return pht_errf(err, PHT_ERR_MALFORMED, "train frame: bad magic");
	if (!code_allowed(h.code))
		return pht_errf(err, PHT_ERR_MALFORMED, "train frame: code %d not allowed",
		    (int)h.code);
	if (h.columns_len >= PHT_TRAIN_FRAME_COLS_MAX)
		return pht_errf(err, PHT_ERR_MALFORMED, "train frame: columns text too long");
	if ((h.flags & ~PHT_TRAIN_FRAME_DATA_TOUCHED) != 0)
		return pht_errf(err, PHT_ERR_MALFORMED, "train frame: unknown flags 0x%x",
		    (unsigned)h.flags);
	if (h.rowsets_len > PHT_TRAIN_ROWSETS_MAX_BYTES)
		return pht_errf(err, PHT_ERR_MALFORMED, "train frame: row sets of %u bytes "
		    "too long", (unsigned)h.rowsets_len);
	if ((uint64_t)h.columns_len + h.payload_len + h.rowsets_len != len - sizeof(h))
		return pht_errf(err, PHT_ERR_MALFORMED, "train frame: lengths do not add "
		    "up to %zu bytes", len);
	if (h.code == PHT_OK ? h.payload_len > max_output :
	    h.payload_len >= PHT_TRAIN_FRAME_ERR_MAX)
		return pht_errf(err, PHT_ERR_MALFORMED, "train frame: payload of %u "
		    "bytes too long", (unsigned)h.payload_len);
	f->code = h.code;
	f->instructions = h.instructions;
	f->peak_memory = h.peak_memory;
	f->rows_read = h.rows_read;
	f->data_touched = (h.flags & PHT_TRAIN_FRAME_DATA_TOUCHED) != 0;
	for (i = 0; i < h.columns_len; i++) {
		uint8_t c = data[sizeof(h) + i];

		f->columns[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	f->columns[h.columns_len] = 0;
	f->payload = data + sizeof(h) + h.columns_len;
	f->payload_len = h.payload_len;
	f->rowsets = h.rowsets_len > 0 ? f->payload + h.payload_len : NULL;
	f->rowsets_len = h.rowsets_len;
	return PHT_OK;
}
