/* pht_dataset_datefmt.c — date and datetime cells by a strict strptime-like format, without the C library's locale. */
#include "pht_dataset_int.h"
#include "pht_err.h"
#include "pht_time.h"

#include <stdio.h>
#include <string.h>

/* The fields a format may hold, each at most once. */
enum { F_Y, F_M, F_D, F_H, F_MIN, F_S, F_N };

/* Directive letter -> field and digits; -1 when not a directive we know. */
static int
directive(char ch, int *digits)
{
	switch (ch) {
	case 'Y': *digits = 4; return F_Y;
	case 'm': *digits = 2; return F_M;
	case 'd': *digits = 2; return F_D;
	case 'H': *digits = 2; return F_H;
	case 'M': *digits = 2; return F_MIN;
	case 'S': *digits = 2; return F_S;
	default: return -1;
	}
}

int
pht_dataset_datefmt_check(const char *fmt, int datetime, char *why, size_t whysz)
{
	int seen[F_N] = { 0 }, f, digits;
	size_t i;

	if (fmt[0] == '\0') {
		snprintf(why, whysz, "empty format");
		return PHT_ERR_INVALID;
	}
	if (strlen(fmt) > DATEFMT_MAX) {
		snprintf(why, whysz, "longer than %d bytes", DATEFMT_MAX);
		return PHT_ERR_INVALID;
	}
	for (i = 0; fmt[i] != '\0'; i++) {
		if (fmt[i] != '%')
			continue;
		i++;
		if (fmt[i] == '%')
			continue;
		if ((f = directive(fmt[i], &digits)) < 0) {
			snprintf(why, whysz, "%%%c is not a directive (%%Y %%m %%d %%H "
			    "%%M %%S %%%%)", fmt[i] ? fmt[i] : ' ');
			return PHT_ERR_INVALID;
		}
		if (seen[f]++) {
			snprintf(why, whysz, "%%%c given twice", fmt[i]);
			return PHT_ERR_INVALID;
		}
		if (!datetime && f >= F_H) {
			snprintf(why, whysz, "%%%c in the format of a date column "
			    "(a time needs type datetime)", fmt[i]);
			return PHT_ERR_INVALID;
		}
	}
	if (!seen[F_Y] || !seen[F_M] || !seen[F_D]) {
		snprintf(why, whysz, "needs %%Y, %%m and %%d");
		return PHT_ERR_INVALID;
	}
	return PHT_OK;
}

/* Seconds since 1970-01-01T00:00:00 of a checked calendar day and time; -1 if invalid. */
static int
to_seconds(const unsigned v[F_N], int64_t *out)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	unsigned y = v[F_Y], m = v[F_M], d = v[F_D], dim;

	if (m < 1 || m > 12)
		return -1;
	dim = mdays[m - 1];
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		dim = 29;
	if (d < 1 || d > dim || v[F_H] > 23 || v[F_MIN] > 59 || v[F_S] > 59)
		return -1;
	*out = pht_days_from_civil(y, m, d) * 86400 + (int64_t)v[F_H] * 3600 +
	    (int64_t)v[F_MIN] * 60 + (int64_t)v[F_S];
	return 0;
}

int
pht_dataset_datefmt_parse(const char *fmt, const char *p, size_t len,
    int64_t *secs)
{
	unsigned v[F_N] = { 0 };
	size_t i = 0, k;
	int f, digits;

	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%' || fmt[1] == '%') {
			if (i >= len || p[i] != *fmt)
				return 1;
			i++;
			fmt += *fmt == '%';
			continue;
		}
		fmt++;
		if ((f = directive(*fmt, &digits)) < 0)
			return 1;
		if (len - i < (size_t)digits)
			return 1;
		for (k = 0; k < (size_t)digits; k++, i++) {
			if (p[i] < '0' || p[i] > '9')
				return 1;
			v[f] = v[f] * 10 + (unsigned)(p[i] - '0');
		}
	}
	if (i != len)
		return 1;
	return to_seconds(v, secs) == 0 ? 0 : 1;
}

int
pht_dataset_datetime_iso(const char *p, size_t len, int64_t *secs)
{
	if (len == 20 && p[19] == 'Z')
		len = 19;
	if (len != 19 || (p[10] != 'T' && p[10] != ' '))
		return 1;
	return pht_dataset_datefmt_parse(p[10] == 'T' ? "%Y-%m-%dT%H:%M:%S" :
	    "%Y-%m-%d %H:%M:%S", p, len, secs);
}
