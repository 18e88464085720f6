/* standalone_main.c — replays fuzz inputs without libFuzzer: runs LLVMFuzzerTestOneInput on every file given. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Link any fuzz target (a file defining LLVMFuzzerTestOneInput, and
 * optionally LLVMFuzzerInitialize) with this file to get a program that
 * replays a corpus as an ordinary test:
 *
 *   fuzz_x DIR_OR_FILE...
 *
 * Every regular file named (or found directly inside a named directory,
 * hidden files skipped, in name order) is read whole (at most REPLAY_MAX_INPUT
 * bytes) into a buffer of exactly its size and passed to the target once. The output is TAP, one line per
 * input. A crash or sanitizer report ends the program, which fails the
 * test; a file that cannot be read, an empty argument list or a directory
 * with no inputs is a failure too.
 */

#define REPLAY_MAX_INPUT (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int n_run, n_failed;

static void
replay_file(const char *path)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t len;
	FILE *f;

	n_run++;
	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) != 0) {
		printf("not ok %d - %s: cannot open\n", n_run, path);
		n_failed++;
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
		printf("not ok %d - %s: larger than %u bytes\n", n_run, path, REPLAY_MAX_INPUT);
		n_failed++;
		goto out;
	}
	len = (size_t)st.st_size;
	/* exactly len bytes (malloc(1) for empty files) so overreads are caught */
	if ((buf = malloc(len > 0 ? len : 1)) == NULL ||
	    fread(buf, 1, len, f) != len) {
		printf("not ok %d - %s: cannot read\n", n_run, path);
		n_failed++;
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, len);
	printf("ok %d - %s (%zu bytes)\n", n_run, path, len);
out:
	fflush(stdout);
	free(buf);
	if (f != NULL)
		fclose(f);
}

static int
visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void
replay_dir(const char *dir)
{
	struct dirent **ents = NULL;
	char path[4096];
	struct stat st;
	int i, n, found = 0;

	if ((n = scandir(dir, &ents, visible, alphasort)) < 0) {
		printf("not ok %d - %s: cannot read directory\n", ++n_run, dir);
		n_failed++;
		return;
	}
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) <
		    (int)sizeof(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			replay_file(path);
			found++;
		}
		free(ents[i]);
	}
	free(ents);
	if (found == 0) {
		printf("not ok %d - %s: no inputs\n", ++n_run, dir);
		n_failed++;
	}
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			replay_dir(argv[i]);
		else
			replay_file(argv[i]);
	}
	printf("1..%d\n", n_run);
	return n_failed ? 1 : 0;
}
