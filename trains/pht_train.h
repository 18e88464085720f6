/* pht_train.h — running a train's station and combine functions in the sandbox. */
#ifndef PHT_TRAIN_H
#define PHT_TRAIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pht_dataset;
struct pht_err;

/*
 * The station's resolution policy (docs/station-config.md, "Resolution"):
 * the finest grid on which kernels release times and values. A train can
 * ask for a coarser grid, never a finer one. grids[i].column names a
 * column whose histogram edges snap to multiples of grids[i].step (also
 * the KM resolution for that time column, in its own unit); other columns
 * snap edges to grid_digits significant digits. Borrowed: whoever fills
 * it keeps the strings and the array alive while runs use it.
 */
struct pht_resolution_grid {
	const char *column;
	double step;            /* > 0, finite */
};

struct pht_resolution {
	double time_days;       /* KM time resolution in days; default 30 */
	int64_t km_min_cell;    /* patients per released KM step at least; default 1 */
	int grid_digits;        /* significant digits of snapped edges; default 2 */
	const struct pht_resolution_grid *grids;
	size_t ngrids;
};

/* Fills res with the defaults above (no column grids). */
void pht_resolution_default(struct pht_resolution *res);

/*
 * Limits for one run. The station policy sets them; pht sim takes them on
 * the command line. Each is enforced where the train cannot evade it:
 * instructions as CPU time (N x 10 ns) by a CPU timer in the child whose
 * hook keeps firing once the budget is spent (trains/pht_train_lua.h),
 * memory by the Lua allocator, wall time by the parent process, which
 * kills the child at the deadline.
 */
struct pht_limits {
	uint64_t instructions;  /* budget, as CPU time at 1e8 per second; default 2e9 */
	size_t memory_bytes;    /* Lua heap cap; default 512 MiB */
	double wall_seconds;    /* default 60 */
	size_t output_bytes;    /* largest JSON output; default 1 MiB */
	size_t output_numbers;  /* most numeric values in an output; default 100000 */
	int64_t k;              /* smallest subset usable for an aggregate; default 5 */
	const struct pht_resolution *resolution; /* NULL (default): pht_resolution_default */
	/*
	 * Non-zero: col:values() hands the train row-level values (a data
	 * permit's row_access for this code hash; docs/train-api.md). Default
	 * 0, and nothing but a permit (or pht sim --row-access) may set it.
	 */
	int row_access;
	/*
	 * Polled by the parent about every 50 ms while the child runs (NULL,
	 * the default: never). A non-zero return kills the child at once and
	 * the run fails with PHT_ERR_DENIED ("run stopped by the station").
	 * The station's halt uses it.
	 */
	int (*cancel)(void *arg);
	void *cancel_arg;
};

/* Fills lim with the defaults above. */
void pht_limits_default(struct pht_limits *lim);

/* What one run used; filled on success and, as far as known, on failure. */
struct pht_run_stats {
	uint64_t instructions;  /* the train's CPU time x 1e8 per second (not a count) */
	size_t peak_memory;     /* Lua heap high-water mark, bytes */
	double wall_ms;
	double cpu_ms;          /* child user+system CPU */
	uint64_t rows_read;     /* rows touched through the data API */
	/*
	 * 1 if the train was handed anything computed from data values (rows
	 * read, a row set recorded, a disclosure guard tripped), and also when
	 * the run ended without the child saying (killed at the wall-clock
	 * limit, a signal): then it cannot be ruled out. 0 only when the
	 * child reported that nothing it did depended on data values.
	 */
	int data_touched;
	uint64_t seed;          /* math.random seed used (recorded for replay) */
	char columns_read[1024];/* comma-separated column names the train read */
};

/*
 * Reads the train's table without running station or combine: checks that
 * the chunk returns a table with a string name, string version and
 * functions station and combine. *meta gets {"name","version","params"}
 * (params as declared, {} if none) and "releases" when the train says
 * what it releases (a string); pht_train_decl_parse reads the params.
 * Runs in the sandbox like any other train code, never with data.
 * PHT_ERR_TRAIN with the reason otherwise.
 */
int pht_train_describe(const char *code, size_t code_len, const char *chunkname,
    const struct pht_limits *lim, json_t **meta, struct pht_err *err);

/*
 * Runs station(data, params, round) in a fresh sandboxed child process over
 * ds (read-only). params is a JSON object (NULL = {}); a train that
 * declares its params (pht_train_decl.h) has them checked against the
 * declaration and ds's dictionary first, before anything reads data
 * (PHT_ERR_TRAIN "params: ...", stats->data_touched 0). seed 0 picks a fresh
 * random seed (recorded in stats->seed); any other value reproduces a run.
 * On success *output is the returned value as JSON (plain data only: no
 * functions, userdata, cycles or non-finite numbers; within the limits'
 * output caps). Errors: PHT_ERR_LIMIT (detail names the limit: instruction
 * budget, memory cap, wall-clock limit), PHT_ERR_DISCLOSURE (subset smaller
 * than k, non-plain output or output over its caps, with the path of the
 * bad value), PHT_ERR_TRAIN (the train raised an error; the message is in
 * the detail), PHT_ERR_INTERNAL (the child died otherwise), PHT_ERR_INVALID
 * (bad limits or params). The run forks: call it from a single-threaded
 * process (or one whose other threads hold no locks the child needs).
 * docs/train-api.md describes what the train sees.
 */
int pht_train_run_station(const char *code, size_t code_len,
    const char *chunkname, const struct pht_dataset *ds, const json_t *params,
    int round, uint64_t seed, const struct pht_limits *lim, json_t **output,
    struct pht_run_stats *stats, struct pht_err *err);

/*
 * The one check of a dataset's size before any train runs on it: a
 * dataset of fewer than lim->k rows (after opt-outs) can release nothing
 * computed from data (every aggregate over it is a subset smaller than k),
 * so the station declines the run before the train sees a row. Returns
 * PHT_OK, or PHT_ERR_POLICY with the detail starting with
 * PHT_TRAIN_TOO_FEW_ROWS and naming the dataset and k, never the count.
 * The answer depends on the dataset and the station's k alone, not on the
 * train, its params or a value (docs/security.md, T15g).
 */
#define PHT_TRAIN_TOO_FEW_ROWS "too few rows"
int pht_train_check_rows(const struct pht_dataset *ds, const struct pht_limits *lim,
    struct pht_err *err);

struct pht_train_rowsets;

/*
 * pht_train_run_station that also hands back the distinct row sets behind
 * the output (every view the train aggregated, counted, read values of
 * or filtered; pht_train_rowsets.h): on success *rowsets is set (free it
 * with pht_train_rowsets_free), otherwise NULL. The station compares them
 * with earlier releases (differencing protection). The child's row sets
 * are hostile bytes: decoded strictly, a malformed set is PHT_ERR_INTERNAL.
 */
int pht_train_run_station_rows(const char *code, size_t code_len,
    const char *chunkname, const struct pht_dataset *ds, const json_t *params,
    int round, uint64_t seed, const struct pht_limits *lim, json_t **output,
    struct pht_run_stats *stats, struct pht_train_rowsets **rowsets,
    struct pht_err *err);

/*
 * Runs combine(results, params, round) in the sandbox. results is a JSON
 * array of {"station": ID, "output": VALUE}; the train sees a Lua sequence
 * of the outputs in that order, with results.stations[i] the station ids.
 * *output is the table combine returned: {"done": true, "result": ...} or
 * {"done": false, "params": {...}}; anything else is PHT_ERR_TRAIN.
 */
int pht_train_run_combine(const char *code, size_t code_len,
    const char *chunkname, const json_t *results, const json_t *params,
    int round, uint64_t seed, const struct pht_limits *lim, json_t **output,
    struct pht_run_stats *stats, struct pht_err *err);

#endif
