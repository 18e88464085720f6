/* cmd_pki.c — `pht pki init|issue`: the federation CA on the command line. */
#include "pht_cli.h"
#include "pht_err.h"
#include "pht_pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PKI_CA_DAYS 3650
#define PKI_CERT_DAYS 825

static void
pki_help(FILE *f)
{
	fprintf(f,
	    "usage: pht pki init --out DIR [--days N]\n"
	    "       pht pki issue --ca DIR --role station|analyst|node --name NAME\n"
	    "                     [--dns NAME]... [--ip ADDR]... [--days N] --out DIR\n\n"
	    "init creates a federation CA in DIR: ca.pem (the certificate every\n"
	    "party pins) and ca-key.pem (mode 0600; keep it offline). Default\n"
	    "validity %d days.\n\n"
	    "issue makes a P-256 key and a certificate signed by the CA in --ca and\n"
	    "writes cert.pem, key.pem (0600) and ca.pem into --out. The identity\n"
	    "is pht:station:NAME, pht:analyst:NAME or pht:node; NAME is 1..64 of\n"
	    "[a-z0-9_-]. A node certificate gets the --dns and --ip names given\n"
	    "(default: localhost and 127.0.0.1). Default validity %d days.\n",
	    PKI_CA_DAYS, PKI_CERT_DAYS);
}

static int
parse_days(const char *s, int *out)
{
	uint64_t v;

	if (pht_cli_uint(s, 1, 36600, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int
pki_init(int argc, char **argv)
{
	struct pht_cli_opt o[] = {PHT_CLI_OPT("out"), PHT_CLI_OPT("days")};
	const char *out, *pos[1];
	struct pht_err err;
	size_t npos;
	int days = PKI_CA_DAYS, r;

	if ((r = pht_cli_opt_parse("pki init", argc, argv, 2, o, 2, pos, 0, &npos)) != 0)
		return r;
	out = pht_cli_opt_val(&o[0]);
	if (pht_cli_opt_val(&o[1]) != NULL && parse_days(pht_cli_opt_val(&o[1]), &days) != 0)
		return pht_cli_usage_error("pki", "--days %s: not a number of days "
		    "1..36600", pht_cli_opt_val(&o[1]));
	if (out == NULL)
		return pht_cli_usage_error("pki", "init: --out DIR is required");
	pht_err_clear(&err);
	if ((r = pht_pki_ca_init(out, days, &err)) != PHT_OK) {
		pht_cli_error("pki init", &err);
		return pht_cli_exit_for(r);
	}
	printf("federation CA created in %s (%s, %s)\n", out, PHT_PKI_CA_CERT,
	    PHT_PKI_CA_KEY);
	return PHT_EXIT_OK;
}

static int
pki_issue(int argc, char **argv)
{
	enum { P_CA, P_OUT, P_ROLE, P_NAME, P_DAYS, P_DNS, P_IP, P_N };
	static const struct pht_cli_opt table[P_N] = {
		PHT_CLI_OPT("ca"), PHT_CLI_OPT("out"), PHT_CLI_OPT("role"),
		PHT_CLI_OPT("name"), PHT_CLI_OPT("days"),
		PHT_CLI_OPT_MANY("dns", PHT_PKI_MAX_SANS),
		PHT_CLI_OPT_MANY("ip", PHT_PKI_MAX_SANS),
	};
	struct pht_cli_opt *o;
	const char *ca, *out, *role, *pos[1];
	struct pht_pki_req req;
	struct pht_err err;
	size_t npos, i;
	int r;

	memset(&req, 0, sizeof(req));
	req.days = PKI_CERT_DAYS;
	if ((o = malloc(sizeof(table))) == NULL)
		return PHT_EXIT_FAIL;
	memcpy(o, table, sizeof(table));
	if ((r = pht_cli_opt_parse("pki issue", argc, argv, 2, o, P_N, pos, 0,
	    &npos)) != 0) {
		free(o);
		return r;
	}
	ca = pht_cli_opt_val(&o[P_CA]);
	out = pht_cli_opt_val(&o[P_OUT]);
	role = pht_cli_opt_val(&o[P_ROLE]);
	req.name = pht_cli_opt_val(&o[P_NAME]);
	for (i = 0; i < o[P_DNS].n; i++)
		req.dns[req.ndns++] = o[P_DNS].vals[i];
	for (i = 0; i < o[P_IP].n; i++)
		req.ips[req.nips++] = o[P_IP].vals[i];
	r = pht_cli_opt_val(&o[P_DAYS]) != NULL &&
	    parse_days(pht_cli_opt_val(&o[P_DAYS]), &req.days) != 0;
	if (r)
		r = pht_cli_usage_error("pki", "--days %s: not a number of days 1..36600",
		    pht_cli_opt_val(&o[P_DAYS]));
	free(o); /* the values point into argv */
	if (r != 0)
		return r;
	if (ca == NULL || out == NULL || role == NULL)
		return pht_cli_usage_error("pki", "issue: --ca, --role and --out are required");
	pht_err_clear(&err);
	if ((r = pht_pki_role_parse(role, &req.role, &err)) != PHT_OK)
		return pht_cli_usage_error("pki", "%s", pht_err_msg(&err));
	if (req.role != PHT_PKI_NODE && req.name == NULL)
		return pht_cli_usage_error("pki", "issue: --name is required for a %s",
		    role);
	if ((r = pht_pki_issue(ca, &req, out, &err)) != PHT_OK) {
		pht_cli_error("pki issue", &err);
		return pht_cli_exit_for(r);
	}
	if (req.role == PHT_PKI_NODE)
		printf("issued pht:node in %s\n", out);
	else
		printf("issued pht:%s:%s in %s\n", role, req.name, out);
	return PHT_EXIT_OK;
}

int
pht_cmd_pki(int argc, char **argv)
{
	if (argc < 2 || pht_cli_wants_help(argc, argv)) {
		pki_help(argc < 2 ? stderr : stdout);
		return argc < 2 ? PHT_EXIT_USAGE : PHT_EXIT_OK;
	}
	if (strcmp(argv[1], "init") == 0)
		return pki_init(argc, argv);
	if (strcmp(argv[1], "issue") == 0)
		return pki_issue(argc, argv);
	return pht_cli_usage_error("pki", "unknown subcommand '%s'", argv[1]);
}
