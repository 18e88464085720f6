/* pht_train_lua.h — the sandboxed Lua state a train runs in (internal to trains/). */
#ifndef PHT_TRAIN_LUA_H
#define PHT_TRAIN_LUA_H

#include <jansson.h>
#include <lua.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct pht_buf;
struct pht_dataset;
struct pht_err;
struct pht_limits;
struct pht_train_rowsets;

/*
 * The instruction budget is enforced as CPU time at this rate: one
 * instruction is 10 ns of the train thread's CPU time (Lua and the C it
 * calls). Counting every instruction would need a count hook, which in
 * Lua 5.4 makes the interpreter trap on every instruction (1.8x slower).
 * Measured in stock lua5.4 on the benchmark machine (instructions from a
 * count hook, time without it): 0.34e8 (closures, string building) to
 * 4.3e8 (float arithmetic) instructions per CPU second, 0.9e8 to 2.1e8
 * for bench/trains/loop.lua; docs/train-api.md, "Limits".
 */
#define PHT_TRAIN_INSN_PER_SEC 100000000ULL
/* The CPU-time timer's period at most and at least, in nanoseconds. */
#define PHT_TRAIN_TICK_MAX_NS 10000000LL
#define PHT_TRAIN_TICK_MIN_NS 1000000LL
#define PHT_TRAIN_FATAL_MAX 256

/*
 * The state of one run, hung off the Lua state as the allocator's user
 * data (no globals; the CPU timer's signal carries a pointer to it).
 * Invariants: used <= cap at all times; once fatal is non-zero it never
 * goes back to zero, the count hook raises on every instruction of the
 * thread that saw it and every protected call in the sandbox (pcall,
 * xpcall, coroutine.resume/wrap/close) re-raises, so the run ends with
 * fatal as its result whatever the train does.
 */
struct pht_train_ctx {
	size_t used;            /* Lua heap bytes in use */
	size_t peak;            /* high-water mark of used */
	size_t cap;             /* memory cap */
	uint64_t budget;        /* instruction budget */
	uint64_t instructions;  /* instructions used: CPU time x PHT_TRAIN_INSN_PER_SEC */
	int64_t cpu_budget_ns;  /* the budget as CPU time of the run */
	int64_t cpu_start_ns;   /* thread CPU clock when the run started */
	int64_t k;              /* smallest usable subset */
	int row_access;         /* col:values() allowed (struct pht_limits.row_access) */
	const struct pht_resolution *res; /* the station's resolution policy (never NULL) */
	int fatal;              /* 0 or a PHT_ERR_* that ends the run */
	char fatal_msg[PHT_TRAIN_FATAL_MAX];
	/* the CPU-time timer (pht_train_lua_arm) and the threads its signal hooks */
	timer_t timer;
	volatile sig_atomic_t ticking;  /* the signal handler may touch the state */
	lua_State *main;                /* the state's main thread */
	lua_State *volatile running;    /* the coroutine running now, or main */
	/* data access accounting (pht_train_data.c) */
	const struct pht_dataset *ds;
	uint8_t *rows_touched;  /* bitmap over ds rows */
	uint8_t *cols_touched;  /* one byte per ds column */
	struct pht_train_rowsets *rowsets; /* distinct row sets behind the output */
	/* userdata of PHT_TRAIN_BIG_BLOCK bytes and more: mappings of their own (the allocator) */
	struct pht_train_big *big;
	size_t nbig, big_cap;
};

/*
 * A userdata of at least PHT_TRAIN_BIG_BLOCK bytes (selection vectors,
 * bitmaps, group bytes: written once, then streamed) is a fresh mapping
 * of its own, 2 MiB-aligned, its length rounded up to 2 MiB and offered
 * transparent huge pages: its first writes then take one page fault per
 * 2 MiB instead of one per 4 KiB (about 500 times fewer; a page fault is
 * dear on a paravirtualized guest), and it never reuses heap pages the
 * child shares with its parent (copied on write, 4 KiB at a time). The
 * cap counts the bytes Lua asked for, as for any block.
 */
#define PHT_TRAIN_BIG_BLOCK ((size_t)1 << 20)

struct pht_train_big {
	void *p;
	size_t len;
};

/* Fills ctx for a run under lim; ds may be NULL. PHT_ERR_NOMEM. */
int pht_train_ctx_init(struct pht_train_ctx *ctx, const struct pht_limits *lim,
    const struct pht_dataset *ds);

/* Frees what ctx holds; the Lua state must be closed first. */
void pht_train_ctx_clear(struct pht_train_ctx *ctx);

/* The context of a state made by pht_train_lua_new. */
struct pht_train_ctx *pht_train_ctx_of(lua_State *L);

/*
 * A new sandboxed state: capped allocator, the safe library set only,
 * math.random seeded with seed, and no hook (pht_train_lua_arm sets up
 * the budget). NULL if the state cannot be built within the cap.
 */
lua_State *pht_train_lua_new(struct pht_train_ctx *ctx, uint64_t seed);

/*
 * Arms the instruction budget of a state made by pht_train_lua_new, in
 * the child process that runs it, before the process sandbox is entered
 * (it needs system calls the sandbox refuses): a SIGPROF handler and a
 * timer on the thread CPU clock (timer_create, SIGEV_SIGNAL, the ctx in
 * the signal's value) firing every min(budget, 10 ms) of CPU time, at
 * least every 1 ms. The handler, async-signal-safe, only sets a count
 * hook of 1 on the running thread (and the main one); the hook reads the
 * CPU clock, removes itself if the budget is not spent and otherwise
 * makes the run fail with "instruction budget of N exceeded", raised
 * again on every instruction. Nothing is charged before
 * pht_train_lua_start. Installs a process-wide SIGPROF handler: call it
 * only in a process that runs one train. PHT_ERR_INTERNAL with the
 * failing step.
 */
int pht_train_lua_arm(lua_State *L, struct pht_err *err);

/*
 * Starts charging CPU time against the budget (after the sandbox is
 * entered: clock_gettime only). Without pht_train_lua_arm nothing stops
 * the run but the parent.
 */
void pht_train_lua_start(lua_State *L);

/*
 * Stops the budget: the timer's signal no longer touches the state, and
 * ctx->instructions gets the CPU time since pht_train_lua_start as
 * instructions. Call it before lua_close.
 */
void pht_train_lua_stop(lua_State *L);

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
