/* pht_time.h — UTC timestamps in RFC 3339 and human durations. */
#ifndef PHT_TIME_H
#define PHT_TIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * Seconds since the epoch, UTC (wall clock). The environment variable
 * PHT_CLOCK_OFFSET (a decimal number of seconds, may be negative) is added
 * when set: the one place tests move the clock (a steward's decision a day
 * later, an expired train) without sleeping. It moves only what PHT
 * decides by its own clock; TLS certificates are checked by the system's.
 */
int64_t pht_time_now(void);

/* Monotonic clock in milliseconds, for deadlines. */
int64_t pht_time_mono_ms(void);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into out (size >= 21). */
void pht_time_format(int64_t t, char out[21]);

/*
 * Parses an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" (exactly this form:
 * the one PHT writes). PHT_ERR_MALFORMED on anything else, including
 * out-of-range fields.
 */
int pht_time_parse(const char *s, int64_t *out);

/*
 * Parses a duration: a positive integer followed by s, m, h or d
 * ("90s", "30m", "1h", "7d"). PHT_ERR_MALFORMED otherwise.
 */
int pht_duration_parse(const char *s, int64_t *seconds);

/* Days since 1970-01-01 for a proleptic Gregorian date (any year). */
int64_t pht_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Inverse of pht_days_from_civil. */
void pht_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
