/* pht_id.c — the identifier rule shared by the node, the station and the message parsers. */
#include "pht_id.h"

#include <string.h>

int
pht_ident_ok(const char *s, size_t n, size_t max)
{
	size_t i;

	if (s == NULL || n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

int
pht_id_ok(const char *s)
{
	return s != NULL && pht_ident_ok(s, strlen(s), PHT_ID_MAX);
}

int
pht_name_ok(const char *s)
{
	return s != NULL && pht_ident_ok(s, strlen(s), PHT_NAME_MAX);
}
