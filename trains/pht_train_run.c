/* pht_train_run.c — running train code in a sandboxed child process, with the parent as the backstop. */
#include "pht_train.h"
#include "pht_dataset.h"
#include "pht_train_decl.h"
#include "pht_train_data.h"
#include "pht_train_frame.h"
#include "pht_train_lua.h"
#include "pht_train_open.h"
#include "pht_train_rowsets.h"
#include "pht_sandbox.h"
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_json.h"
#include "pht_time.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FRAME_ERR_MAX PHT_TRAIN_FRAME_ERR_MAX
#define FRAME_COLS_MAX PHT_TRAIN_FRAME_COLS_MAX

enum job_kind { JOB_DESCRIBE, JOB_STATION, JOB_COMBINE };

struct job {
	enum job_kind kind;
	const char *code;
	size_t code_len;
	const char *chunkname;
	const struct pht_dataset *ds;
	const json_t *params;
	const json_t *results;
	int round;
	uint64_t seed;
	const struct pht_limits *lim;
	struct pht_train_rowsets **rowsets;  /* parent: where to hand the row sets, or NULL */
};

void
pht_limits_default(struct pht_limits *lim)
{
	lim->instructions = 2000000000ULL;
	lim->memory_bytes = (size_t)512 << 20;
	lim->wall_seconds = 60;
	lim->output_bytes = (size_t)1 << 20;
	lim->output_numbers = 100000;
	lim->k = 5;
	lim->row_access = 0;
	lim->resolution = NULL;
	lim->cancel = NULL;
	lim->cancel_arg = NULL;
}

void
pht_resolution_default(struct pht_resolution *res)
{
	res->time_days = 30;
	res->km_min_cell = 1;
	res->grid_digits = 2;
	res->grids = NULL;
	res->ngrids = 0;
}

/* ---- the child ---- */

/*
 * A train that declares its params (pht_train_decl.h) has them checked
 * against the declaration and the dataset's dictionary before station()
 * is called: an unknown or missing param, a wrong type, a column that is
 * not in the dictionary or not of a declared type raise "params: ...".
 * Nothing here reads data, so the station tells the message as it is.
 * The train's table is at index 1; out is scratch (left empty).
 */
static void
check_declared(lua_State *L, const struct job *job, struct pht_buf *out)
{
	struct pht_train_decl *d = NULL;
	struct pht_err err;
	json_t *decl = NULL, *meta = NULL;
	char msg[PHT_ERR_DETAIL_MAX + 16];
	int r;

	if (lua_getfield(L, 1, "params") != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	pht_train_lua_to_json(L, -1, "train.params", job->lim->output_numbers, out);
	lua_pop(L, 1);
	pht_err_clear(&err);
	r = pht_json_parse(pht_buf_str(out), pht_buf_len(out), "train.params", &decl,
	    &err);
	pht_buf_reset(out);
	if (r == PHT_OK && (meta = json_pack("{s:O}", "params", decl)) == NULL)
		r = pht_errf(&err, PHT_ERR_NOMEM, "out of memory");
	if (r == PHT_OK && lua_getfield(L, 1, "name") == LUA_TSTRING)
		json_object_set_new(meta, "name", json_string(lua_tostring(L, -1)));
	if (r == PHT_OK) {
		lua_pop(L, 1);
		r = pht_train_decl_parse(meta, &d, &err);
	}
	if (r == PHT_OK)
		r = pht_train_decl_check_params(d, job->params, 0, &err);
	if (r == PHT_OK)
		r = pht_train_decl_check_columns(d, job->params,
		    pht_dataset_dict(job->ds), NULL, 0, &err);
	snprintf(msg, sizeof(msg), "params: %s", err.msg);
	pht_train_decl_free(d);
	json_decref(meta);
	json_decref(decl);
	if (r != PHT_OK) {
		lua_pushstring(L, msg);
		lua_error(L);
	}
}

static int
job_main(lua_State *L)
{
	const struct job *job = lua_touserdata(L, 2);
	struct pht_buf *out = lua_touserdata(L, 3);
	const char *fn = job->kind == JOB_COMBINE ? "combine" : "station";
	const json_t *o;
	size_t i;

	lua_settop(L, 1);
	lua_call(L, 0, 1);
	if (lua_type(L, 1) != LUA_TTABLE)
		return luaL_error(L, "the train must return a table, not a %s value",
		    luaL_typename(L, 1));
	if (job->kind == JOB_DESCRIBE) {
		lua_createtable(L, 0, 3);
		if (lua_getfield(L, 1, "name") != LUA_TSTRING)
			return luaL_error(L, "train field 'name' must be a string");
		lua_setfield(L, 2, "name");
		if (lua_getfield(L, 1, "version") != LUA_TSTRING)
			return luaL_error(L, "train field 'version' must be a string");
		lua_setfield(L, 2, "version");
		if (lua_getfield(L, 1, "station") != LUA_TFUNCTION)
			return luaL_error(L, "train field 'station' must be a function");
		if (lua_getfield(L, 1, "combine") != LUA_TFUNCTION)
			return luaL_error(L, "train field 'combine' must be a function");
		lua_pop(L, 2);
		switch (lua_getfield(L, 1, "params")) {
		case LUA_TNIL:
			lua_pop(L, 1);
			lua_newtable(L);
			break;
		case LUA_TTABLE:
			break;
		default:
			return luaL_error(L, "train field 'params' must be a table");
		}
		lua_setfield(L, 2, "params");
		switch (lua_getfield(L, 1, "releases")) {
		case LUA_TNIL:
			lua_pop(L, 1);
			break;
		case LUA_TSTRING:
			lua_setfield(L, 2, "releases");
			break;
		default:
			return luaL_error(L, "train field 'releases' must be a string");
		}
		pht_train_lua_to_json(L, 2, "train", job->lim->output_numbers, out);
		return 0;
	}
	if (lua_getfield(L, 1, fn) != LUA_TFUNCTION)
		return luaL_error(L, "train field '%s' must be a function", fn);
	if (job->kind == JOB_STATION) {
		check_declared(L, job, out);
		pht_train_open_data(L, job->ds);
	}
	else {
		lua_createtable(L, (int)json_array_size(job->results), 1);
		lua_createtable(L, (int)json_array_size(job->results), 0);
		json_array_foreach(job->results, i, o) {
			pht_train_lua_push_json(L, json_object_get(o, "output"));
			lua_rawseti(L, -3, (lua_Integer)i + 1);
			pht_train_lua_push_json(L, json_object_get(o, "station"));
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		lua_setfield(L, -2, "stations");
	}
	if (job->params != NULL)
		pht_train_lua_push_json(L, job->params);
	else
		lua_newtable(L);
	lua_pushinteger(L, job->round);
	lua_call(L, 3, 1);
	pht_train_lua_to_json(L, -1, "output", job->lim->output_numbers, out);
	return 0;
}

/*
 * fd 0 and 1 on /dev/null, the pipe on PHT_SANDBOX_FD (3), everything else
 * closed (fd 2 stays: sanitizers report there). The pipe
 * is first moved out of the way: a daemon with closed stdio may have got
 * it as fd 0 or 1.
 */
static int
child_fds(int wfd)
{
	int hi, nul, fd;

	if ((hi = fcntl(wfd, F_DUPFD_CLOEXEC, 10)) < 0)
		return -1;
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
	    dup2(hi, PHT_SANDBOX_FD) < 0)
		return -1;
	if (close_range(PHT_SANDBOX_FD + 1, ~0U, 0) != 0) {
		for (fd = PHT_SANDBOX_FD + 1; fd < 1024; fd++)
			close(fd);
	}
	return PHT_SANDBOX_FD;
}

static void
child_send(int fd, int code, const struct pht_train_ctx *ctx, const char *payload,
    size_t payload_len)
{
	char cols[FRAME_COLS_MAX];
	struct pht_buf *b;
	const uint8_t *rows = NULL;
	size_t rows_len = 0;
	uint64_t nread = pht_train_data_rows_read(ctx);
	uint32_t flags = 0;

	cols[0] = 0;
	/* anything computed from values reached the train (pht_run_stats) */
	if (nread > 0 || code == PHT_ERR_DISCLOSURE || (ctx->rowsets != NULL &&
	    pht_train_rowsets_count(ctx->rowsets) > 0))
		flags |= PHT_TRAIN_FRAME_DATA_TOUCHED;
	pht_train_data_columns_read(ctx, cols, sizeof(cols));
	if (code == PHT_OK && ctx->rowsets != NULL)
		rows = pht_train_rowsets_bytes(ctx->rowsets, &rows_len);
	/* the row sets (megabytes for a large view) go out from where they are */
	b = pht_buf_new(pht_train_frame_header_size() + sizeof(cols) + payload_len);
	if (b == NULL || pht_train_frame_encode_head(b, code, ctx->instructions, ctx->peak,
	    nread, flags, cols, payload, payload_len, rows_len) != PHT_OK)
		_exit(5);
	if (pht_file_write_all(fd, pht_buf_data(b), pht_buf_len(b), NULL) != 0 ||
	    (rows_len > 0 && pht_file_write_all(fd, rows, rows_len, NULL) != 0))
		_exit(3);
	pht_buf_free(b);
}

/*
 * The child: runs the job and sends one frame. Everything it holds is
 * released before _exit so that memory checkers see a clean child too.
 */
static void __attribute__((noreturn))
child_main(const struct job *job, int wfd)
{
	struct pht_train_ctx ctx;
	struct pht_buf *out = NULL;
	struct pht_err err;
	char chunkname[256], msg[FRAME_ERR_MAX];
	const char *s;
	lua_State *L = NULL;
	int fd, status, code;

	memset(&ctx, 0, sizeof(ctx));
	msg[0] = 0;
	/*
	 * Blocks of 128 KiB and more from fresh mappings of their own when
	 * the heap has no free chunk for them: glibc's adaptive threshold may
	 * have grown in the parent, and a block carved from the heap the
	 * child shares with the parent (copy on write) is copied page by page
	 * on its first write. (glibc still reuses a large free chunk the
	 * parent left, so the Lua allocator maps the big userdata itself:
	 * PHT_TRAIN_BIG_BLOCK in pht_train_lua.h.)
	 */
#ifdef M_MMAP_THRESHOLD
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	if ((fd = child_fds(wfd)) < 0)
		_exit(4);
	if (pht_train_ctx_init(&ctx, job->lim, job->ds) != PHT_OK ||
	    (out = pht_buf_new(job->lim->output_bytes)) == NULL) {
		code = PHT_ERR_NOMEM;
		snprintf(msg, sizeof(msg), "out of memory");
		goto done;
	}
	if ((L = pht_train_lua_new(&ctx, job->seed)) == NULL) {
		code = PHT_ERR_LIMIT;
		snprintf(msg, sizeof(msg), "memory cap of %zu bytes exceeded",
		    job->lim->memory_bytes);
		goto done;
	}
	snprintf(chunkname, sizeof(chunkname), "%s%s",
	    job->chunkname[0] == '@' || job->chunkname[0] == '=' ? "" : "@",
	    job->chunkname);
	status = luaL_loadbufferx(L, job->code, job->code_len, chunkname, "t");
	if (status != LUA_OK) {
		code = status == LUA_ERRMEM ? PHT_ERR_LIMIT : PHT_ERR_TRAIN;
		if (status == LUA_ERRMEM)
			snprintf(msg, sizeof(msg), "memory cap of %zu bytes exceeded", ctx.cap);
		else
			snprintf(msg, sizeof(msg), "%s", lua_tostring(L, -1));
		goto done;
	}
	pht_err_clear(&err);
	if (pht_train_lua_arm(L, &err) != PHT_OK ||
	    pht_sandbox_child_enter(job->lim, &err) != PHT_OK) {
		code = PHT_ERR_INTERNAL;
		snprintf(msg, sizeof(msg), "%s", err.msg);
		goto done;
	}
	lua_pushcfunction(L, job_main);
	lua_insert(L, -2);
	lua_pushlightuserdata(L, (void *)job);
	lua_pushlightuserdata(L, out);
	pht_train_lua_start(L);
	status = lua_pcall(L, 3, 0, 0);
	pht_train_lua_stop(L);
	if (ctx.fatal != 0) {
		code = ctx.fatal;
		snprintf(msg, sizeof(msg), "%s", ctx.fatal_msg);
	} else if (status == LUA_ERRMEM) {
		code = PHT_ERR_LIMIT;
		snprintf(msg, sizeof(msg), "memory cap of %zu bytes exceeded", ctx.cap);
	} else if (status != LUA_OK) {
		code = PHT_ERR_TRAIN;
		s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		if (s != NULL)
			snprintf(msg, sizeof(msg), "%s", s);
		else
			snprintf(msg, sizeof(msg), "(error object is a %s value)",
			    luaL_typename(L, -1));
	} else
		code = PHT_OK;
	if (job->kind == JOB_DESCRIBE && code == PHT_ERR_DISCLOSURE)
		code = PHT_ERR_TRAIN;
done:
	if (code == PHT_OK)
		child_send(fd, code, &ctx, pht_buf_str(out), pht_buf_len(out));
	else
		child_send(fd, code, &ctx, msg, strlen(msg));
	close(fd);
	if (L != NULL)
		lua_close(L);
	pht_buf_free(out);
	pht_train_ctx_clear(&ctx);
	_exit(0);
}

/* ---- the parent ---- */

/* Copies hostile text into dst, printable bytes only. */
static void
sanitize(char *dst, size_t dstlen, const uint8_t *src, size_t n)
{
	size_t i;

	if (dstlen == 0)
		return;
	if (n > dstlen - 1)
		n = dstlen - 1;
	for (i = 0; i < n; i++)
		dst[i] = (src[i] < 0x20 || src[i] == 0x7f) ? '?' : (char)src[i];
	dst[n] = 0;
}

static uint64_t
fresh_seed(void)
{
	uint64_t s = 0;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s) || s == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		s = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
	}
	return s != 0 ? s : 1;
}

static double
tv_ms(struct timeval tv)
{
	return (double)tv.tv_sec * 1000.0 + (double)tv.tv_usec / 1000.0;
}

/*
 * Reads the child's frame until EOF, the byte bound, the deadline or a
 * cancel request of lim (then *cancelled is set).
 */
static int
read_frame(int fd, struct pht_buf *buf, int64_t deadline, int *timed_out,
    const struct pht_limits *lim, int *cancelled)
{
	uint8_t chunk[65536];
	struct pollfd pfd;
	int64_t left;
	ssize_t n;
	int r;

	for (;;) {
		left = deadline - pht_time_mono_ms();
		if (left <= 0) {
			*timed_out = 1;
			return PHT_OK;
		}
		if (lim->cancel != NULL && lim->cancel(lim->cancel_arg)) {
			*cancelled = 1;
			return PHT_OK;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, lim->cancel != NULL ? (left > 50 ? 50 : (int)left) :
		    (left > 1000 ? 1000 : (int)left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return PHT_ERR_IO;
		if (r == 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return PHT_OK;
		if (pht_buf_put(buf, chunk, (size_t)n) != PHT_OK)
			return PHT_ERR_TOO_LARGE;
	}
}

/*
 * Waits for the child, killing it if it outlives the deadline. The child
 * has sent its frame and is exiting: a pidfd (Linux 5.3) wakes the parent
 * the moment it is gone; without one, wait4 is polled every 2 ms.
 */
static void
reap(pid_t pid, int64_t deadline, int *status, struct rusage *ru, int *timed_out)
{
	struct timespec ts = {0, 2000000};
	struct pollfd pfd;
	int64_t left;
	int pidfd;
	pid_t r;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		r = wait4(pid, status, WNOHANG, ru);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			break;
		left = deadline - pht_time_mono_ms();
		if (left <= 0) {
			*timed_out = 1;
			kill(pid, SIGKILL);
			while (wait4(pid, status, 0, ru) < 0 && errno == EINTR)
				;
			break;
		}
		if (pidfd >= 0) {
			pfd.fd = pidfd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			(void)poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		} else
			nanosleep(&ts, NULL);
	}
	if (pidfd >= 0)
		close(pidfd);
}

static int
run_job(const struct job *job, json_t **output, struct pht_run_stats *stats,
    struct pht_err *err)
{
	const struct pht_limits *lim = job->lim;
	struct pht_buf *buf = NULL;
	struct pht_train_frame f;
	struct rusage ru;
	int fds[2] = {-1, -1}, status = 0, timed_out = 0, cancelled = 0, r, ret;
	int64_t t0, deadline;
	size_t max;
	pid_t pid;
	char detail[FRAME_ERR_MAX], scname[64];
	int nr;

	memset(&ru, 0, sizeof(ru));
	/* unknown until the child's frame says: assume it was (pht_run_stats) */
	stats->data_touched = job->kind == JOB_STATION;
	max = pht_train_frame_header_size() + FRAME_COLS_MAX +
	    (lim->output_bytes > FRAME_ERR_MAX ? lim->output_bytes : FRAME_ERR_MAX) +
	    (job->kind == JOB_STATION ? PHT_TRAIN_ROWSETS_MAX_BYTES : 0);
	if ((buf = pht_buf_new(max)) == NULL)
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	if (pipe2(fds, O_CLOEXEC) != 0) {
		ret = pht_errf(err, PHT_ERR_IO, "pipe: %s", strerror(errno));
		goto out;
	}
#ifdef F_SETPIPE_SZ
	/*
	 * Room for a megabyte in the pipe (a hint; the system's bound may be
	 * lower): a station run's row sets can take megabytes, sent in 16 times
	 * fewer rounds of the child filling the pipe and the parent draining it.
	 */
	if (job->kind == JOB_STATION)
		(void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
#endif
	t0 = pht_time_mono_ms();
	deadline = t0 + (int64_t)ceil(lim->wall_seconds * 1000.0);
	pid = fork();
	if (pid < 0) {
		ret = pht_errf(err, PHT_ERR_INTERNAL, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(job, fds[1]);
	}
	close(fds[1]);
	fds[1] = -1;
	r = read_frame(fds[0], buf, deadline, &timed_out, lim, &cancelled);
	if (timed_out || cancelled || r != PHT_OK)
		kill(pid, SIGKILL);
	reap(pid, deadline, &status, &ru, &timed_out);
	stats->wall_ms = (double)(pht_time_mono_ms() - t0);
	stats->cpu_ms = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);

	if (cancelled) {
		ret = pht_errf(err, PHT_ERR_DENIED, "run stopped by the station");
		goto out;
	}

	if (timed_out) {
		ret = pht_errf(err, PHT_ERR_LIMIT, "wall-clock limit of %g s exceeded",
		    lim->wall_seconds);
		goto out;
	}
	if (r == PHT_ERR_TOO_LARGE) {
		ret = pht_errf(err, PHT_ERR_INTERNAL,
		    "train process sent more than %zu bytes", max);
		goto out;
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		if (sig == SIGXCPU || (sig == SIGKILL &&
		    stats->cpu_ms >= 1000.0 * ceil(lim->wall_seconds)))
			ret = pht_errf(err, PHT_ERR_LIMIT, "CPU time limit of %g s exceeded",
			    ceil(lim->wall_seconds) + 1);
		else if (sig == SIGSYS && pht_sandbox_report_decode(pht_buf_data(buf),
		    pht_buf_len(buf), &nr)) {
			pht_sandbox_syscall_name(nr, scname, sizeof(scname));
			ret = pht_errf(err, PHT_ERR_LIMIT,
			    "sandbox violation: system call %d (%s) refused", nr, scname);
		} else if (sig == SIGSYS)
			ret = pht_errf(err, PHT_ERR_LIMIT, "sandbox violation: a system "
			    "call outside the sandbox's allow-list was refused (SIGSYS)");
		else
			ret = pht_errf(err, PHT_ERR_INTERNAL,
			    "train process died of signal %d (%s)", sig, strsignal(sig));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ret = pht_errf(err, PHT_ERR_INTERNAL,
		    "train process exited with status %d without a result",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto out;
	}
	if (pht_train_frame_decode(pht_buf_data(buf), pht_buf_len(buf), lim->output_bytes,
	    &f, err) != PHT_OK) {
		ret = pht_errf(err, PHT_ERR_INTERNAL, "train process: %s", pht_err_msg(err));
		goto out;
	}
	stats->instructions = f.instructions;
	stats->peak_memory = (size_t)f.peak_memory;
	stats->rows_read = f.rows_read;
	stats->data_touched = job->kind == JOB_STATION && f.data_touched;
	snprintf(stats->columns_read, sizeof(stats->columns_read), "%s", f.columns);
	if (f.code != PHT_OK) {
		sanitize(detail, sizeof(detail), f.payload, f.payload_len);
		ret = pht_errf(err, f.code, "%s", detail);
		goto out;
	}
	ret = pht_json_parse((const char *)f.payload, f.payload_len, "train output",
	    output, err);
	if (ret != PHT_OK) {
		ret = pht_errf(err, PHT_ERR_INTERNAL, "%s", pht_err_msg(err));
		goto out;
	}
	if (job->rowsets != NULL) {
		uint64_t nrows = job->ds != NULL ? pht_dataset_nrows(job->ds) : 0;

		if (f.rowsets_len == 0) {
			*job->rowsets = pht_train_rowsets_new(nrows <= UINT32_MAX ?
			    (uint32_t)nrows : 0);
			if (*job->rowsets == NULL)
				ret = pht_errf(err, PHT_ERR_NOMEM, "out of memory");
		} else if ((ret = pht_train_rowsets_decode(f.rowsets, f.rowsets_len,
		    "train process", job->rowsets, err)) != PHT_OK)
			ret = pht_errf(err, PHT_ERR_INTERNAL, "%s", pht_err_msg(err));
		if (ret == PHT_OK && pht_train_rowsets_nrows(*job->rowsets) != nrows)
			ret = pht_errf(err, PHT_ERR_INTERNAL, "train process: row sets over "
			    "%u rows, the dataset has %llu",
			    pht_train_rowsets_nrows(*job->rowsets), (unsigned long long)nrows);
		if (ret != PHT_OK) {
			pht_train_rowsets_free(*job->rowsets);
			*job->rowsets = NULL;
			json_decref(*output);
			*output = NULL;
		}
	}
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	pht_buf_free(buf);
	return ret;
}

/* The resolution policy, when the limits name one: every field in range. */
static int
check_resolution(const struct pht_resolution *res, struct pht_err *err)
{
	size_t i;

	if (res == NULL)
		return PHT_OK;
	if (!(res->time_days > 0) || !isfinite(res->time_days) || res->km_min_cell < 1 ||
	    res->grid_digits < 1 || res->grid_digits > 15 ||
	    (res->ngrids > 0 && res->grids == NULL))
		return pht_errf(err, PHT_ERR_INVALID, "limits: resolution: a positive time "
		    "resolution, km_min_cell >= 1 and 1 to 15 grid digits are required");
	for (i = 0; i < res->ngrids; i++)
		if (res->grids[i].column == NULL || !(res->grids[i].step > 0) ||
		    !isfinite(res->grids[i].step))
			return pht_errf(err, PHT_ERR_INVALID, "limits: resolution: grid %zu: "
			    "a column name and a positive step are required", i);
	return PHT_OK;
}

static int
check_limits(const struct pht_limits *lim, struct pht_err *err)
{
	if (check_resolution(lim->resolution, err) != PHT_OK)
		return PHT_ERR_INVALID;
	if (lim->instructions == 0 || lim->memory_bytes < 65536 ||
	    !(lim->wall_seconds > 0) || lim->wall_seconds > 86400 ||
	    lim->output_bytes == 0 || lim->output_bytes > ((size_t)1 << 30) ||
	    lim->k < 1)
		return pht_errf(err, PHT_ERR_INVALID,
		    "limits: instructions > 0, memory >= 64 KiB, 0 < wall <= 86400 s, "
		    "0 < output bytes <= 1 GiB and k >= 1 are required");
	return PHT_OK;
}

static void
job_init(struct job *job, enum job_kind kind, const char *code, size_t code_len,
    const char *chunkname, const struct pht_limits *lim)
{
	memset(job, 0, sizeof(*job));
	job->kind = kind;
	job->code = code;
	job->code_len = code_len;
	job->chunkname = chunkname != NULL ? chunkname : "train";
	job->lim = lim;
}

int
pht_train_describe(const char *code, size_t code_len, const char *chunkname,
    const struct pht_limits *lim, json_t **meta, struct pht_err *err)
{
	struct pht_run_stats stats;
	struct job job;
	int r;

	*meta = NULL;
	memset(&stats, 0, sizeof(stats));
	if ((r = check_limits(lim, err)) != PHT_OK)
		return r;
	job_init(&job, JOB_DESCRIBE, code, code_len, chunkname, lim);
	job.seed = 1;
	return run_job(&job, meta, &stats, err);
}

int
pht_train_check_rows(const struct pht_dataset *ds, const struct pht_limits *lim,
    struct pht_err *err)
{
	int64_t k = lim != NULL && lim->k > 0 ? lim->k : 5;

	if ((int64_t)pht_dataset_nrows(ds) >= k)
		return PHT_OK;
	return pht_errf(err, PHT_ERR_POLICY, "%s: dataset %s holds fewer rows than the "
	    "station's k = %lld, the least any run may use", PHT_TRAIN_TOO_FEW_ROWS,
	    pht_dataset_name(ds), (long long)k);
}

int
pht_train_run_station(const char *code, size_t code_len,
    const char *chunkname, const struct pht_dataset *ds, const json_t *params,
    int round, uint64_t seed, const struct pht_limits *lim, json_t **output,
    struct pht_run_stats *stats, struct pht_err *err)
{
	return pht_train_run_station_rows(code, code_len, chunkname, ds, params, round,
	    seed, lim, output, stats, NULL, err);
}

int
pht_train_run_station_rows(const char *code, size_t code_len,
    const char *chunkname, const struct pht_dataset *ds, const json_t *params,
    int round, uint64_t seed, const struct pht_limits *lim, json_t **output,
    struct pht_run_stats *stats, struct pht_train_rowsets **rowsets,
    struct pht_err *err)
{
	struct job job;
	int r;

	*output = NULL;
	if (rowsets != NULL)
		*rowsets = NULL;
	memset(stats, 0, sizeof(*stats));
	if ((r = check_limits(lim, err)) != PHT_OK)
		return r;
	if (ds == NULL)
		return pht_errf(err, PHT_ERR_INVALID, "no dataset to run the train on");
	if (params != NULL && !json_is_object(params))
		return pht_errf(err, PHT_ERR_INVALID, "params must be a JSON object");
	job_init(&job, JOB_STATION, code, code_len, chunkname, lim);
	job.ds = ds;
	job.params = params;
	job.round = round;
	job.rowsets = rowsets;
	job.seed = seed != 0 ? seed : fresh_seed();
	stats->seed = job.seed;
	r = run_job(&job, output, stats, err);
	stats->seed = job.seed;
	return r;
}

int
pht_train_run_combine(const char *code, size_t code_len,
    const char *chunkname, const json_t *results, const json_t *params,
    int round, uint64_t seed, const struct pht_limits *lim, json_t **output,
    struct pht_run_stats *stats, struct pht_err *err)
{
	struct job job;
	json_t *o, *done;
	size_t i;
	int r;

	*output = NULL;
	memset(stats, 0, sizeof(*stats));
	if ((r = check_limits(lim, err)) != PHT_OK)
		return r;
	if (!json_is_array(results))
		return pht_errf(err, PHT_ERR_INVALID, "results must be a JSON array");
	json_array_foreach(results, i, o)
		if (!json_is_object(o) || !json_is_string(json_object_get(o, "station")) ||
		    json_object_get(o, "output") == NULL)
			return pht_errf(err, PHT_ERR_INVALID,
			    "results[%zu]: must be {\"station\": ID, \"output\": VALUE}", i);
	if (params != NULL && !json_is_object(params))
		return pht_errf(err, PHT_ERR_INVALID, "params must be a JSON object");
	job_init(&job, JOB_COMBINE, code, code_len, chunkname, lim);
	job.results = results;
	job.params = params;
	job.round = round;
	job.seed = seed != 0 ? seed : fresh_seed();
	stats->seed = job.seed;
	r = run_job(&job, output, stats, err);
	stats->seed = job.seed;
	if (r != PHT_OK)
		return r;
	done = json_object_get(*output, "done");
	if (!json_is_object(*output) || !json_is_boolean(done) ||
	    (json_is_true(done) && json_object_get(*output, "result") == NULL) ||
	    (json_is_false(done) && !json_is_object(json_object_get(*output, "params")))) {
		json_decref(*output);
		*output = NULL;
		return pht_errf(err, PHT_ERR_TRAIN, "combine must return {done = true, "
		    "result = ...} or {done = false, params = {...}}");
	}
	return PHT_OK;
}
