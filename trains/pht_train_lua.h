/* pht_train_lua.h — the sandboxed Lua state a train runs in (internal to trains/). */
#ifndef PHT_TRAIN_LUA_H
#define PHT_TRAIN_LUA_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>
#include <stdint.h>

struct pht_buf;
struct pht_dataset;
struct pht_err;
struct pht_limits;
struct pht_train_rowsets;

#define PHT_TRAIN_HOOK_STEP 1000
#define PHT_TRAIN_FATAL_MAX 256

/*
 * The state of one run, hung off the Lua state as the allocator's user
 * data (no globals). Invariants: used <= cap at all times; once fatal is
 * non-zero it never goes back to zero, the count hook raises on every
 * instruction of the thread that saw it and every protected call in the
 * sandbox (pcall, xpcall, coroutine.resume/wrap/close) re-raises, so the
 * run ends with fatal as its result whatever the train does.
 */
struct pht_train_ctx {
	size_t used;            /* Lua heap bytes in use */
	size_t peak;            /* high-water mark of used */
	size_t cap;             /* memory cap */
	uint64_t budget;        /* instruction budget */
	uint64_t instructions;  /* instructions counted by the hook */
	int64_t k;              /* smallest usable subset */
	int fatal;              /* 0 or a PHT_ERR_* that ends the run */
	char fatal_msg[PHT_TRAIN_FATAL_MAX];
	/* data access accounting (pht_train_data.c) */
	const struct pht_dataset *ds;
	uint8_t *rows_touched;  /* bitmap over ds rows */
	uint8_t *cols_touched;  /* one byte per ds column */
	struct pht_train_rowsets *rowsets; /* distinct row sets behind the output */
};

/* Fills ctx for a run under lim; ds may be NULL. PHT_ERR_NOMEM. */
int pht_train_ctx_init(struct pht_train_ctx *ctx, const struct pht_limits *lim,
    const struct pht_dataset *ds);

/* Frees what ctx holds; the Lua state must be closed first. */
void pht_train_ctx_clear(struct pht_train_ctx *ctx);

/* The context of a state made by pht_train_lua_new. */
struct pht_train_ctx *pht_train_ctx_of(lua_State *L);

/*
 * A new sandboxed state: capped allocator, count hook, the safe library
 * set only, math.random seeded with seed. NULL if the state cannot be
 * built within the cap.
 */
lua_State *pht_train_lua_new(struct pht_train_ctx *ctx, uint64_t seed);

/*
 * Marks the run as failed with code (PHT_ERR_LIMIT, PHT_ERR_DISCLOSURE)
 * and raises a Lua error carrying msg. Does not return. The first fatal
 * condition wins.
 */
int pht_train_lua_fatal(lua_State *L, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Pushes a JSON value as Lua (null -> nil). Raises on memory errors. */
void pht_train_lua_push_json(lua_State *L, const json_t *v);

/*
 * Writes the Lua value at idx as JSON text into out (whose maximum is the
 * output byte cap), refusing anything that is not plain data with a
 * fatal PHT_ERR_DISCLOSURE naming the path ("output.groups[3].f: function
 * is not plain data"). what is the root of the path. Raises (does not
 * return) on failure.
 */
void pht_train_lua_to_json(lua_State *L, int idx, const char *what,
    size_t max_numbers, struct pht_buf *out);

#endif
