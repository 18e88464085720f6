/* cmd_keygen.c — pht keygen: a party's signing and result-sealing key pairs. */
#include "pht_cli.h"

#include "pht_err.h"
#include "pht_key.h"

#include <stdio.h>

static const char *keygen_help =
    "usage: pht keygen --name NAME --out DIR\n"
    "\n"
    "Generates the key pairs of one party (analyst, station or permit\n"
    "authority) and writes them as PEM files into DIR (created, mode 0700,\n"
    "if missing):\n"
    "  DIR/NAME.sign.key   Ed25519 signing key, private (PKCS#8, mode 0600)\n"
    "  DIR/NAME.sign.pub   Ed25519 signing key, public (give it to those who\n"
    "                      must trust your signature)\n"
    "  DIR/NAME.seal.key   X25519 result key, private (PKCS#8, mode 0600)\n"
    "  DIR/NAME.seal.pub   X25519 result key, public (results are sealed to it)\n"
    "Existing files are never overwritten. Prints the signing key's\n"
    "fingerprint: the lower-case hex SHA-256 of its raw 32-byte public key.\n"
    "\n"
    "NAME: 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'.\n"
    "Exit codes: 0 written, 1 failed, 2 bad usage or existing files.\n";

int
pht_cmd_keygen(int argc, char **argv)
{
	struct pht_cli_opt opts[] = {PHT_CLI_OPT("name"), PHT_CLI_OPT("out")};
	char fp[PHT_KEY_FP_LEN + 1];
	struct pht_err err;
	const char *pos[1], *name, *out;
	size_t npos;
	int r;

	pht_err_clear(&err);
	if (pht_cli_wants_help(argc, argv)) {
		fputs(keygen_help, stdout);
		return PHT_EXIT_OK;
	}
	if ((r = pht_cli_opt_parse("keygen", argc, argv, 1, opts, 2, pos, 0, &npos)) != 0)
		return r;
	name = pht_cli_opt_val(&opts[0]);
	out = pht_cli_opt_val(&opts[1]);
	if (name == NULL || out == NULL)
		return pht_cli_usage_error("keygen", "--name and --out are required");
	if (!pht_key_name_ok(name))
		return pht_cli_usage_error("keygen", "bad name '%s': use 1 to %d letters, "
		    "digits, '.', '_' or '-', not starting with '.' or '-'",
		    name, PHT_KEY_NAME_MAX);
	if ((r = pht_key_generate_files(out, name, fp, NULL, &err)) != PHT_OK) {
		pht_cli_error("keygen", &err);
		return pht_cli_exit_for(r);
	}
	printf("wrote %s/%s.{sign,seal}.{key,pub} (private keys mode 0600)\n", out, name);
	printf("fingerprint: %s\n", fp);
	return PHT_EXIT_OK;
}
