/* pht_time.c — RFC 3339 UTC timestamps, durations, civil dates. */
#include "pht_time.h"
#include "pht_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
pht_time_now(void)
{
	const char *off = getenv("PHT_CLOCK_OFFSET");
	long long v;
	char *end;

	/* the one test hook for the wall clock (pht_time.h) */
	if (off != NULL && *off != '\0') {
		errno = 0;
		v = strtoll(off, &end, 10);
		if (errno == 0 && *end == '\0' && v > -(1LL << 40) && v < (1LL << 40))
			return (int64_t)time(NULL) + (int64_t)v;
	}
	return (int64_t)time(NULL);
}

int64_t
pht_time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Howard Hinnant's days_from_civil. */
int64_t
pht_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void
pht_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

void
pht_time_format(int64_t t, char out[21])
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sec = t - days * 86400, y;
	unsigned m, d;

	char tmp[64];

	pht_civil_from_days(days, &y, &m, &d);
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d,
	    (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
	memcpy(out, tmp, 20);
	out[20] = '\0';
}

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

int
pht_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, se;

	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return PHT_ERR_MALFORMED;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return PHT_ERR_MALFORMED;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || se > 59)
		return PHT_ERR_MALFORMED;
	*out = pht_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + se;
	return PHT_OK;
}

int
pht_duration_parse(const char *s, int64_t *seconds)
{
	int64_t v = 0, mul;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return PHT_ERR_MALFORMED;
	while (*p >= '0' && *p <= '9') {
		if (v > 100000000)
			return PHT_ERR_MALFORMED;
		v = v * 10 + (*p++ - '0');
	}
	switch (*p) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return PHT_ERR_MALFORMED;
	}
	if (p[1] != '\0' || v == 0)
		return PHT_ERR_MALFORMED;
	*seconds = v * mul;
	return PHT_OK;
}
