/* pht_station_round.c — rounding the counts of an output to a base. */
#include "pht_station_round.h"

#include <string.h>

static int
is_count_key(const char *k)
{
	static const char *const keys[] = {PHT_STATION_ROUND_KEYS, NULL};
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return 0;
}

static json_int_t
round_to(json_int_t x, json_int_t base)
{
	json_int_t q, r;

	if (x < 0)
		return -round_to(x == INT64_MIN ? INT64_MAX : -x, base);
	q = x / base;
	r = x % base;
	if (r * 2 >= base && q < INT64_MAX / base)
		q++;
	return q * base;
}

/* Walks v; counting is set inside the value of a count key. Depth is bounded by the output checks. */
static size_t
walk(json_t *v, int counting, json_int_t base)
{
	const char *k;
	json_t *c;
	size_t i, n = 0;
	json_int_t x, y;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, k, c) {
			if (json_is_integer(c) && (counting || is_count_key(k))) {
				x = json_integer_value(c);
				if ((y = round_to(x, base)) != x) {
					json_integer_set(c, y);
					n++;
				}
			} else
				n += walk(c, counting || is_count_key(k), base);
		}
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, c) {
			if (json_is_integer(c) && counting) {
				x = json_integer_value(c);
				if ((y = round_to(x, base)) != x) {
					json_integer_set(c, y);
					n++;
				}
			} else
				n += walk(c, counting, base);
		}
		break;
	default:
		break;
	}
	return n;
}

size_t
pht_station_round_counts(json_t *v, int64_t base)
{
	if (v == NULL || base < 2)
		return 0;
	return walk(v, 0, (json_int_t)base);
}
