/* pht_node_admit.c — the node's connection budget: a cap under the descriptor limit, and the libevent pattern for accept() failing on EMFILE/ENFILE. */
#include "pht_node_admit.h"
#include "pht_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>
#include <event2/listener.h>

#define PAUSE_MIN_MS 100
#define PAUSE_MAX_MS 1600

/*
 * open counts connections from accept to close; paused is 1 while the
 * listener is off after an accept() failure, and failures counts them
 * from the first of an episode to the next connection accepted.
 */
struct pht_node_admit {
	struct evconnlistener *lev;
	struct event *resume;
	struct event *tag;                /* finds a from the listener (below) */
	size_t cap, open, refused;
	unsigned long failures;
	int paused, pause_ms;
	int full;                         /* listener off: cap + half the reserve open */
	unsigned long fulls;              /* times it went full (logged 1st, every 100th) */
	pht_node_admit_log_fn log;
	void *log_arg;
};

static void
say(struct pht_node_admit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct pht_node_admit *a, const char *fmt, ...)
{
	char line[300];
	va_list ap;

	if (a->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->log(a->log_arg, line);
}

/*
 * libevent calls a listener's error callback with the listener's user data,
 * which evhttp has taken for itself; a is found instead through an event it
 * keeps pending on the same base with this callback (no global table).
 */
static void
on_tag(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

struct find {
	struct evconnlistener *lev;
	struct pht_node_admit *a;
};

static int
find_admit(const struct event_base *base, const struct event *ev, void *arg)
{
	struct find *f = arg;
	struct pht_node_admit *a;

	(void)base;
	if (event_get_callback(ev) != on_tag)
		return 0;
	a = event_get_callback_arg(ev);
	if (a->lev != f->lev)
		return 0;
	f->a = a;
	return 1;
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct pht_node_admit *a = arg;

	(void)fd;
	(void)what;
	a->paused = 0;
	if (!a->full)
		evconnlistener_enable(a->lev);
}

/*
 * accept() failed with an error libevent does not retry by itself. For
 * want of descriptors or memory the listening socket stays readable, so
 * accepting again at once would spin: the listener is switched off and
 * back on after a pause instead (libevent's documented pattern).
 */
static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct find f = {lev, NULL};
	struct pht_node_admit *a;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv;

	(void)arg; /* the evhttp */
	event_base_foreach_event(evconnlistener_get_base(lev), find_admit, &f);
	if ((a = f.a) == NULL)
		return;
	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		say(a, "accept: %s", strerror(e));
		return;
	}
	if (a->failures++ == 0) {
		a->pause_ms = PAUSE_MIN_MS;
		say(a, "accept: %s with %zu connections open: not accepting for a "
		    "while (logged once until a connection is accepted again)",
		    strerror(e), a->open);
	} else if (a->pause_ms < PAUSE_MAX_MS) {
		a->pause_ms *= 2;
	}
	a->paused = 1;
	evconnlistener_disable(lev);
	tv.tv_sec = a->pause_ms / 1000;
	tv.tv_usec = (a->pause_ms % 1000) * 1000;
	event_add(a->resume, &tv);
}

int
pht_node_admit_new(struct event_base *base, struct evconnlistener *lev,
    size_t max_conns, pht_node_admit_log_fn log, void *log_arg,
    struct pht_node_admit **out, size_t *cap, struct pht_err *err)
{
	struct pht_node_admit *a;
	struct timeval day = {86400, 0};
	struct rlimit rl;
	size_t room = 1;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->resume = evtimer_new(base, on_resume, a)) == NULL ||
	    (a->tag = event_new(base, -1, EV_PERSIST, on_tag, a)) == NULL ||
	    event_add(a->tag, &day) != 0) {
		pht_node_admit_free(a);
		return pht_errf(err, PHT_ERR_NOMEM, "out of memory");
	}
	a->lev = lev;
	a->log = log;
	a->log_arg = log_arg;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur > PHT_NODE_ADMIT_RESERVE + 1)
		room = (size_t)rl.rlim_cur - PHT_NODE_ADMIT_RESERVE;
	else if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY)
		room = (size_t)-1;
	a->cap = max_conns != 0 && max_conns < room ? max_conns : room;
	evconnlistener_set_error_cb(lev, on_accept_error);
	if (cap != NULL)
		*cap = a->cap;
	*out = a;
	return PHT_OK;
}

void
pht_node_admit_free(struct pht_node_admit *a)
{
	if (a == NULL)
		return;
	if (a->resume != NULL)
		event_free(a->resume);
	if (a->tag != NULL)
		event_free(a->tag);
	free(a);
}

/* The most connections open at once: the cap and half the reserve (analysts). */
static size_t
ceiling(const struct pht_node_admit *a)
{
	return a->cap > (size_t)-1 - PHT_NODE_ADMIT_RESERVE ? a->cap :
	    a->cap + PHT_NODE_ADMIT_RESERVE / 2;
}

int
pht_node_admit_open(struct pht_node_admit *a)
{
	if (a->failures > 0) {
		say(a, "accepting connections again (%lu accept() failures for want "
		    "of descriptors)", a->failures);
		a->failures = 0;
	}
	if (++a->open >= ceiling(a) && !a->full) {
		/* the rest of the descriptors stay with the store */
		a->full = 1;
		evconnlistener_disable(a->lev);
		if (++a->fulls == 1 || a->fulls % 100 == 0)
			say(a, "%zu connections open (limits.max_connections %zu and the "
			    "analysts' reserve): not accepting until one closes (%lu "
			    "times so far)", a->open, a->cap, a->fulls);
	}
	return a->open <= a->cap;
}

void
pht_node_admit_close(struct pht_node_admit *a)
{
	if (a->open > 0)
		a->open--;
	if (a->full && a->open < ceiling(a)) {
		a->full = 0;
		if (a->fulls == 1 || a->fulls % 100 == 0)
			say(a, "%zu connections open: accepting again", a->open);
		if (!a->paused)
			evconnlistener_enable(a->lev);
	}
}

int
pht_node_admit_reserve_ok(const struct pht_node_admit *a)
{
	return a->open <= a->cap + PHT_NODE_ADMIT_RESERVE / 2;
}

size_t
pht_node_admit_count(const struct pht_node_admit *a)
{
	return a->open;
}

size_t
pht_node_admit_refused(struct pht_node_admit *a)
{
	return ++a->refused;
}
