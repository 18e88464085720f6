/* fuzz_audit.c — fuzz target: audit log verification, walking and head reading on arbitrary file contents. */
#include "pht_audit.h"
#include "pht_err.h"
#include "pht_key.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * The input is the whole log file. It is placed in an anonymous memory
 * file (memfd_create) and handed to the audit functions by its
 * /proc/self/fd path, so no disk is written. The station key is the
 * RFC 8032 TEST 1 Ed25519 key, so corpus logs signed with its seed
 * (9d61b19d...7f60) verify in full and mutations reach every check.
 */

static const uint8_t station_pub[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3,
	0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Counts entries; checks that lines arrive in order with a hash. */
static int
count_entry(uint64_t line, const char *hash, const json_t *entry, void *arg)
{
	uint64_t *n = arg;

	if (line != *n + 1 || hash == NULL || strlen(hash) != PHT_AUDIT_HASH_HEX ||
	    !json_is_object(entry))
		abort();
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pht_audit_report rep;
	struct pht_audit_head head, expect;
	struct pht_key *pub = NULL;
	struct pht_err err;
	char path[64];
	uint64_t walked = 0;
	size_t off = 0;
	ssize_t w;
	int fd, rv, rw;

	pht_err_clear(&err);
	if (pht_key_from_raw_public(PHT_KEY_SIGN, station_pub, &pub, &err) != PHT_OK ||
	    (fd = memfd_create("pht-fuzz-audit", MFD_CLOEXEC)) < 0)
		abort();
	while (off < size) {
		if ((w = write(fd, data + off, size - off)) <= 0)
			abort();
		off += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	memset(&rep, 0, sizeof(rep));
	rv = pht_audit_verify(path, pub, NULL, &rep, &err);
	if ((rv == PHT_OK) != (rep.fault == PHT_AUDIT_FAULT_NONE) ||
	    (rv != PHT_OK && rv != PHT_ERR_TAMPERED) ||
	    (rv == PHT_ERR_TAMPERED && (rep.line == 0 || err.msg[0] == '\0')))
		abort(); /* the report agrees with the return code */
	(void)pht_audit_fault_name(rep.fault);

	rw = pht_audit_foreach(path, count_entry, &walked, &err);
	/* a log that verifies also walks, entry for entry */
	if (rv == PHT_OK && (rw != PHT_OK || walked != rep.entries))
		abort();

	if (pht_audit_read_head(path, &head, &err) == PHT_OK && rv == PHT_OK &&
	    (head.seq != rep.head.seq || strcmp(head.hash, rep.head.hash) != 0))
		abort();

	/* against an expected head: the verified head itself must be found */
	if (rv == PHT_OK && rep.head.seq > 0) {
		expect = rep.head;
		if (pht_audit_verify(path, pub, &expect, NULL, &err) != PHT_OK)
			abort();
		expect.seq++;
		if (pht_audit_verify(path, pub, &expect, NULL, &err) != PHT_ERR_TAMPERED)
			abort(); /* a head past the end is refused */
	}

	close(fd);
	pht_key_free(pub);
	return 0;
}
