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
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < 1 || v > 36600)
		return -1;
	*out = (int)v;
	return 0;
}

static int
pki_init(int argc, char **argv)
{
	const char *out = NULL;
	struct pht_err err;
	int i, days = PKI_CA_DAYS, r;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
			if (parse_days(argv[++i], &days) != 0)
				return pht_cli_usage_error("pki",
				    "--days %s: not a number of days 1..36600", argv[i]);
		} else
			return pht_cli_usage_error("pki", "init: unexpected argument '%s'",
			    argv[i]);
	}
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
	const char *ca = NULL, *out = NULL, *role = NULL;
	struct pht_pki_req req;
	struct pht_err err;
	int i, r;

	memset(&req, 0, sizeof(req));
	req.days = PKI_CERT_DAYS;
	for (i = 2; i < argc; i++) {
		const char *o = argv[i];
		if (i + 1 >= argc)
			return pht_cli_usage_error("pki", "issue: '%s' needs a value", o);
		if (strcmp(o, "--ca") == 0)
			ca = argv[++i];
		else if (strcmp(o, "--out") == 0)
			out = argv[++i];
		else if (strcmp(o, "--role") == 0)
			role = argv[++i];
		else if (strcmp(o, "--name") == 0)
			req.name = argv[++i];
		else if (strcmp(o, "--days") == 0) {
			if (parse_days(argv[++i], &req.days) != 0)
				return pht_cli_usage_error("pki",
				    "--days %s: not a number of days 1..36600", argv[i]);
		} else if (strcmp(o, "--dns") == 0) {
			if (req.ndns >= PHT_PKI_MAX_SANS)
				return pht_cli_usage_error("pki", "at most %d --dns",
				    PHT_PKI_MAX_SANS);
			req.dns[req.ndns++] = argv[++i];
		} else if (strcmp(o, "--ip") == 0) {
			if (req.nips >= PHT_PKI_MAX_SANS)
				return pht_cli_usage_error("pki", "at most %d --ip",
				    PHT_PKI_MAX_SANS);
			req.ips[req.nips++] = argv[++i];
		} else
			return pht_cli_usage_error("pki", "issue: unexpected argument '%s'", o);
	}
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
