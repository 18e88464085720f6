/* test_journal.c — the journal primitive and the atomic file write (pht_journal.h, pht_file.h). */
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_journal.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/pht-test-journal.XXXXXX";

/* The file's content as a new string ("" if absent); caller frees. */
static char *
slurp(const char *path)
{
	struct pht_buf *b = NULL;
	struct pht_err e;
	char *s;

	if (pht_file_read(path, 1 << 20, &b, &e) != PHT_OK)
		return strdup("");
	s = strdup(pht_buf_str(b));
	pht_buf_free(b);
	return s;
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* Number of entries of dir whose name starts with prefix. */
static int
count_prefix(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	if (d != NULL)
		closedir(d);
	return n;
}

/* Appends one line the way every station writer does: lock, find the end, append. */
static int
append_line(const char *path, const char *line, struct pht_err *e)
{
	struct pht_buf *b = NULL;
	int fd, r;

	if ((r = pht_journal_open(path, 1, &fd, e)) != PHT_OK)
		return r;
	if ((r = pht_journal_lock(fd, path, 1, e)) == PHT_OK &&
	    (r = pht_file_read(path, 1 << 20, &b, e)) == PHT_OK)
		r = pht_journal_append(fd, path,
		    (off_t)pht_journal_whole(pht_buf_str(b), pht_buf_len(b)), line,
		    strlen(line), e);
	pht_buf_free(b);
	close(fd);
	return r;
}

static void
test_open(void)
{
	char path[128];
	struct pht_err e;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/missing", dir);
	tap_ok(pht_journal_open(path, 0, &fd, &e) == PHT_ERR_NOT_FOUND && fd < 0,
	    "a missing journal opened for reading: PHT_ERR_NOT_FOUND");
	snprintf(path, sizeof(path), "%s/new", dir);
	tap_ok(pht_journal_open(path, 1, &fd, &e) == PHT_OK && fd >= 0,
	    "opened for writing, a journal is created");
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "... with mode 0600");
	close(fd);
	tap_ok(pht_journal_open(path, 1, &fd, &e) == PHT_OK, "... and opened again when it exists");
	close(fd);
	snprintf(path, sizeof(path), "%s/no/such/dir/j", dir);
	tap_ok(pht_journal_open(path, 1, &fd, &e) == PHT_ERR_IO && strstr(e.msg, path) != NULL,
	    "an impossible path: PHT_ERR_IO naming the file");
}

static void
test_torn(void)
{
	char path[128], *s;
	struct pht_err e;

	tap_ok(pht_journal_whole("a\nb\nto", 7) == 4, "whole lines end at the last newline");
	tap_ok(pht_journal_whole("torn", 4) == 0 && pht_journal_whole("", 0) == 0,
	    "no newline: no whole line");
	snprintf(path, sizeof(path), "%s/torn", dir);
	put(path, "a\nb\nto");
	tap_ok(append_line(path, "c\n", &e) == PHT_OK, "append after a torn last line");
	s = slurp(path);
	tap_str(s, "a\nb\nc\n", "the torn line is cut off before the append");
	free(s);
	tap_ok(append_line(path, "d\n", &e) == PHT_OK, "append after whole lines");
	s = slurp(path);
	tap_str(s, "a\nb\nc\nd\n", "nothing whole is ever cut");
	free(s);
}

static void
test_concurrent(void)
{
	char path[128], line[64], *s, *p;
	struct pht_err e;
	int i, k, status, ok = 1, lines = 0;
	pid_t pid[4];

	snprintf(path, sizeof(path), "%s/concurrent", dir);
	for (k = 0; k < 4; k++) {
		if ((pid[k] = fork()) == 0) {
			for (i = 0; i < 100; i++) {
				snprintf(line, sizeof(line), "writer-%d-line-%03d\n", k, i);
				if (append_line(path, line, &e) != PHT_OK)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (k = 0; k < 4; k++)
		if (pid[k] < 0 || waitpid(pid[k], &status, 0) != pid[k] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = 0;
	tap_ok(ok, "four processes append 100 lines each under the lock");
	s = slurp(path);
	for (p = s; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (strchr(p, '\n') == NULL || strncmp(p, "writer-", 7) != 0 ||
		    strchr(p, '\n') - p != 17)
			break;
		lines++;
	}
	tap_ok(lines == 400 && strlen(s) == 400 * 18,
	    "all 400 lines are there, whole and unmixed (%d)", lines);
	for (k = 0; k < 4; k++) {
		snprintf(line, sizeof(line), "writer-%d-line-099\n", k);
		if (strstr(s, line) == NULL)
			ok = 0;
	}
	tap_ok(ok, "every writer's last line is there");
	free(s);
}

static void
test_failures(void)
{
	char path[128], *s;
	struct pht_err e;
	int fd, status;
	pid_t pid;

	/* fsync fails on /dev/null: the error is reported, never swallowed */
	fd = open("/dev/null", O_WRONLY);
	tap_ok(pht_journal_append(fd, "/dev/null", 0, "x\n", 2, &e) == PHT_ERR_IO &&
	    strstr(e.msg, "fsync") != NULL, "a failing fsync is PHT_ERR_IO (%s)", e.msg);
	close(fd);

	/* a write cut short by RLIMIT_FSIZE: the partial line is removed again */
	snprintf(path, sizeof(path), "%s/short", dir);
	put(path, "a\n");
	if ((pid = fork()) == 0) {
		struct rlimit rl = {5, 5};
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0 ||
		    append_line(path, "0123456789\n", &e) != PHT_ERR_IO ||
		    strstr(e.msg, "write") == NULL)
			_exit(1);
		_exit(0);
	}
	tap_ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "a short write is PHT_ERR_IO");
	s = slurp(path);
	tap_str(s, "a\n", "... and the journal is cut back to its whole lines");
	free(s);
}

static void
test_atomic(void)
{
	char path[128], *s, big[4096];
	struct pht_err e;
	struct stat st;
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	tap_ok(pht_file_write_atomic(path, "old\n", 4, 0600, &e) == PHT_OK, "atomic write: new file");
	tap_ok(pht_file_write_atomic(path, "new\n", 4, 0640, &e) == PHT_OK, "atomic write: replace");
	s = slurp(path);
	tap_str(s, "new\n", "the new content is in place");
	free(s);
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "with the mode asked for");
	tap_ok(count_prefix("state.json.tmp") == 0, "no temporary file is left");

	/* a write that cannot complete leaves the old content, whole */
	memset(big, 'x', sizeof(big));
	if ((pid = fork()) == 0) {
		struct rlimit rl = {1024, 1024};
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0 ||
		    pht_file_write_atomic(path, big, sizeof(big), 0600, &e) != PHT_ERR_IO)
			_exit(1);
		_exit(0);
	}
	tap_ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "a write cut short is PHT_ERR_IO");
	s = slurp(path);
	tap_str(s, "new\n", "... and the old content is still there, never a part of the new");
	free(s);
	tap_ok(count_prefix("state.json.tmp") == 0, "... and no temporary file is left");

	/* a killed writer: old or new, never partial */
	if ((pid = fork()) == 0) {
		for (;;)
			(void)pht_file_write_atomic(path, big, sizeof(big), 0600, &e);
	}
	usleep(20000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	s = slurp(path);
	tap_ok(strcmp(s, "new\n") == 0 || (strlen(s) == sizeof(big) && s[0] == 'x' &&
	    s[sizeof(big) - 1] == 'x'), "a writer killed mid-way leaves old or new (%zu bytes)",
	    strlen(s));
	free(s);
}

static void
test_write_all(void)
{
	size_t done = 99;
	int p[2];
	char buf[8];

	if (pipe(p) != 0)
		return;
	tap_ok(pht_file_write_all(p[1], "abcdef", 6, &done) == 0 && done == 6,
	    "write_all writes everything and says so");
	tap_ok(read(p[0], buf, sizeof(buf)) == 6 && memcmp(buf, "abcdef", 6) == 0,
	    "... the bytes arrive in order");
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	tap_ok(pht_file_write_all(p[1], "x", 1, &done) == -1 && errno == EPIPE && done == 0,
	    "a failed write returns -1 with errno and 0 done");
	close(p[1]);
	tap_ok(pht_file_fsync_parent("relative-name") == 0, "fsync_parent of a bare name is \".\"");
	tap_ok(pht_file_fsync_parent("/no/such/dir/x") == -1 && errno == ENOENT,
	    "fsync_parent of a missing directory: -1, ENOENT");
}

int
main(void)
{
	char cmd[128];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_open();
	test_torn();
	test_concurrent();
	test_failures();
	test_atomic();
	test_write_all();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_ok(0, "removing %s", dir);
	return tap_done();
}
