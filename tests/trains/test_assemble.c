/* test_assemble.c — the train assembler (trains/pht_train_assemble.c): includes, markers, every refusal (TAP). */
#include "pht_buf.h"
#include "pht_err.h"
#include "pht_file.h"
#include "pht_train_assemble.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[4096];

/* Writes text to root/rel (its folders made first). */
static void
put(const char *rel, const char *text)
{
	char path[4200], dir[4200], *slash;
	struct pht_err err;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		pht_mkdir_p(dir, 0700, &err);
	}
	if (pht_file_write_atomic(path, text, strlen(text), 0600, &err) != PHT_OK)
		printf("Bail out! cannot write %s: %s\n", path, err.msg);
}

/* Assembles root/rel with library folder lib (NULL: the default). */
static int
assemble(const char *rel, const char *lib, size_t max, char **text, struct pht_err *err)
{
	char path[4200], libpath[4200];
	struct pht_buf *b = NULL;
	int r;

	*text = NULL;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (lib != NULL)
		snprintf(libpath, sizeof(libpath), "%s/%s", root, lib);
	pht_err_clear(err);
	r = pht_train_assemble(path, lib != NULL ? libpath : NULL, max, &b, err);
	if (r == PHT_OK) {
		*text = pht_buf_steal(b, NULL);
		pht_buf_free(b);
	}
	return r;
}

/* The assembly fails with code and a detail containing want. */
static void
refused(const char *rel, const char *lib, size_t max, int code, const char *want,
    const char *what)
{
	struct pht_err err;
	char *text = NULL;
	int r = assemble(rel, lib, max, &text, &err);

	tap_ok(r == code && strstr(err.msg, want) != NULL, "%s: refused (%d) saying \"%s\"",
	    what, r, want);
	if (r != code || strstr(err.msg, want) == NULL)
		printf("#   detail: %s\n", r == PHT_OK ? "(assembled)" : err.msg);
	free(text);
}

int
main(void)
{
	struct pht_err err;
	char *text = NULL, *again = NULL, big[3000];
	char path[4200];
	int r;

	snprintf(root, sizeof(root), "/tmp/pht-assemble-XXXXXX");
	if (mkdtemp(root) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}

	/* a train without directives comes back byte for byte (no final newline) */
	put("trains/std/plain.lua", "-- a train\nreturn {} -- --#include \"x.lua\" is not a directive here");
	r = assemble("trains/std/plain.lua", NULL, 1 << 20, &text, &err);
	tap_str(r == PHT_OK ? text : err.msg,
	    "-- a train\nreturn {} -- --#include \"x.lua\" is not a directive here",
	    "a train without directives is unchanged");
	free(text);

	/* the library beside the train's folder, a nested include, the train's folder */
	put("trains/lib/a.lua", "local A = 1\n--#include \"lib/sub/b.lua\"\n");
	put("trains/lib/sub/b.lua", "local B = 2");
	put("trains/std/local.lua", "local C = 3\n");
	put("trains/std/t.lua", "-- head\n--#include \"lib/a.lua\"\n--#include  \"local.lua\"  \r\nreturn A + B + C\n");
	r = assemble("trains/std/t.lua", NULL, 1 << 20, &text, &err);
	tap_str(r == PHT_OK ? text : err.msg,
	    "-- head\n"
	    "--#begin \"lib/a.lua\"\nlocal A = 1\n"
	    "--#begin \"lib/sub/b.lua\"\nlocal B = 2\n--#end \"lib/sub/b.lua\"\n"
	    "--#end \"lib/a.lua\"\n"
	    "--#begin \"local.lua\"\nlocal C = 3\n--#end \"local.lua\"\n"
	    "return A + B + C\n",
	    "includes from the library (nested) and the train's folder, between markers");

	/* assembling the assembled text again gives the same text */
	if (text != NULL) {
		put("trains/std/assembled.lua", text);
		r = assemble("trains/std/assembled.lua", NULL, 1 << 20, &again, &err);
		tap_str(r == PHT_OK ? again : err.msg, text, "assembly is idempotent (markers pass through)");
		free(again);
	}
	free(text);

	/* an explicit library folder */
	put("elsewhere/lib2/a.lua", "local A = 10\n");
	put("elsewhere/sub/b.lua", "local B = 20\n");
	put("custom/t.lua", "--#include \"lib/a.lua\"\nreturn A\n");
	r = assemble("custom/t.lua", "elsewhere/lib2", 1 << 20, &text, &err);
	tap_str(r == PHT_OK ? text : err.msg,
	    "--#begin \"lib/a.lua\"\nlocal A = 10\n--#end \"lib/a.lua\"\nreturn A\n",
	    "lib/ names resolve in the given library folder");
	free(text);

	/* missing files name the directive's file and line */
	put("trains/std/missing.lua", "local x\n\n--#include \"lib/nosuch.lua\"\n");
	refused("trains/std/missing.lua", NULL, 1 << 20, PHT_ERR_IO,
	    "missing.lua:3: lib/nosuch.lua: not found in the train library", "a missing library file");
	put("trains/std/missing2.lua", "--#include \"nosuch.lua\"\n");
	refused("trains/std/missing2.lua", NULL, 1 << 20, PHT_ERR_IO,
	    "missing2.lua:1: nosuch.lua: not found in the train's folder", "a missing local file");
	put("custom/nolib.lua", "--#include \"lib/a.lua\"\n");
	refused("custom/nolib.lua", "no/such/dir", 1 << 20, PHT_ERR_IO,
	    "nolib.lua:1: lib/a.lua: the train library", "a library folder that does not exist");

	/* escapes: .., absolute, hidden, not .lua, a symbolic link out of the root */
	put("secret.lua", "local s = 'secret'\n");
	put("trains/std/dotdot.lua", "--#include \"../../secret.lua\"\n");
	refused("trains/std/dotdot.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "dotdot.lua:1: bad include name \"../../secret.lua\"", "a .. component");
	put("trains/std/libdotdot.lua", "--#include \"lib/../../secret.lua\"\n");
	refused("trains/std/libdotdot.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "bad include name", "a .. component after lib/");
	put("trains/std/abs.lua", "--#include \"/etc/passwd.lua\"\n");
	refused("trains/std/abs.lua", NULL, 1 << 20, PHT_ERR_INVALID, "bad include name", "an absolute path");
	put("trains/std/hidden.lua", "--#include \"lib/.x.lua\"\n");
	refused("trains/std/hidden.lua", NULL, 1 << 20, PHT_ERR_INVALID, "bad include name", "a hidden file");
	put("trains/std/notlua.lua", "--#include \"lib/a.txt\"\n");
	refused("trains/std/notlua.lua", NULL, 1 << 20, PHT_ERR_INVALID, "bad include name", "a name not ending in .lua");
	snprintf(path, sizeof(path), "%s/trains/std/link.lua", root);
	if (symlink("../../secret.lua", path) != 0)
		printf("Bail out! symlink\n");
	put("trains/std/symlink.lua", "--#include \"link.lua\"\n");
	refused("trains/std/symlink.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "symlink.lua:1: link.lua: resolves outside the train's folder", "a symbolic link out of the folder");

	/* malformed directives */
	put("trains/std/typo.lua", "--#includ \"lib/a.lua\"\n");
	refused("trains/std/typo.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "typo.lua:1: not a directive", "a misspelt directive");
	put("trains/std/trail.lua", "return 1\n--#include \"lib/a.lua\" -- why\n");
	refused("trains/std/trail.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "trail.lua:2: not a directive", "text after the name");
	put("trains/std/noquote.lua", "--#include lib/a.lua\n");
	refused("trains/std/noquote.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "noquote.lua:1: not a directive", "a name without quotes");

	/* each file once: a duplicate, a cycle, the train including itself */
	put("trains/std/dup.lua", "--#include \"lib/sub/b.lua\"\n--#include \"lib/a.lua\"\n");
	refused("trains/std/dup.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "a.lua:2: lib/sub/b.lua is included twice (first at", "a file included twice");
	put("trains/lib/c1.lua", "--#include \"lib/c2.lua\"\n");
	put("trains/lib/c2.lua", "--#include \"lib/c1.lua\"\n");
	put("trains/std/cycle.lua", "--#include \"lib/c1.lua\"\n");
	refused("trains/std/cycle.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "include cycle: ", "a cycle");
	refused("trains/std/cycle.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "lib/c1.lua -> lib/c2.lua -> lib/c1.lua", "the cycle's chain is named");
	put("trains/std/self.lua", "--#include \"self.lua\"\n");
	refused("trains/std/self.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "include cycle", "a train including itself");

	/* bounded depth */
	put("trains/lib/d1.lua", "--#include \"lib/d2.lua\"\n");
	put("trains/lib/d2.lua", "--#include \"lib/d3.lua\"\n");
	put("trains/lib/d3.lua", "--#include \"lib/d4.lua\"\n");
	put("trains/lib/d4.lua", "--#include \"lib/d5.lua\"\n");
	put("trains/lib/d5.lua", "--#include \"lib/d6.lua\"\n");
	put("trains/lib/d6.lua", "--#include \"lib/d7.lua\"\n");
	put("trains/lib/d7.lua", "--#include \"lib/d8.lua\"\n");
	put("trains/lib/d8.lua", "--#include \"lib/d9.lua\"\n");
	put("trains/lib/d9.lua", "local deep = true\n");
	put("trains/std/deep.lua", "--#include \"lib/d1.lua\"\n");
	refused("trains/std/deep.lua", NULL, 1 << 20, PHT_ERR_INVALID,
	    "d8.lua:1: lib/d9.lua: includes nested more than 8 deep", "nine levels of includes");
	put("trains/std/deep8.lua", "--#include \"lib/d2.lua\"\n");
	r = assemble("trains/std/deep8.lua", NULL, 1 << 20, &text, &err);
	tap_ok(r == PHT_OK && strstr(text, "local deep = true") != NULL,
	    "eight levels of includes assemble (%s)", r == PHT_OK ? "ok" : err.msg);
	free(text);

	/* bounded size: the assembled text, not just each file */
	memset(big, 'x', sizeof(big) - 2);
	big[0] = '-';
	big[1] = '-';
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	put("trains/lib/big.lua", big);
	put("trains/std/big.lua", "--#include \"lib/big.lua\"\nreturn 1\n");
	refused("trains/std/big.lua", NULL, 2048, PHT_ERR_TOO_LARGE,
	    "big.lua: the assembled train exceeds 2048 bytes", "an assembly over the size bound");
	put("trains/std/big2.lua", "--#include \"lib/sub/b.lua\"\n--#include \"lib/big.lua\"\n");
	refused("trains/std/big2.lua", NULL, sizeof(big) + 20, PHT_ERR_TOO_LARGE,
	    "exceeds", "files each under the bound but together over it");
	r = assemble("trains/std/big.lua", NULL, 1 << 20, &text, &err);
	tap_ok(r == PHT_OK, "the same train within a larger bound assembles (%s)",
	    r == PHT_OK ? "ok" : err.msg);
	free(text);

	/* a missing train */
	refused("trains/std/none.lua", NULL, 1 << 20, PHT_ERR_IO, "none.lua", "a missing train");

	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	if (system(path) != 0)
		printf("# could not remove %s\n", root);
	return tap_done();
}
