/* node_server_fixture.h — the running node and the client helpers shared by the node_server test's files. */
#ifndef NODE_SERVER_FIXTURE_H
#define NODE_SERVER_FIXTURE_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "pht_err.h"

struct pht_http;

extern char dir[];              /* the test's directory (mkdtemp) */
extern const char *pht;         /* $PHT */
extern pid_t node_pid;          /* -1 when not running */
extern int node_port;

/* Sleeps ms milliseconds. */
void msleep(int ms);
/* dir/FMT in one of 8 rotating static buffers. */
char *path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs a shell command; its exit status, -1 if it did not exit. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Makes the PKI (pht pki) and node.json in dir; 0 or -1. */
int setup(void);
/* Starts pht node serve on node.json (port 0, read back); 0 or -1. */
int start_node(void);
/* Stops the node with sig, then SIGKILL if it does not stop in ~10 s. */
int stop_node(int sig);
/* Kills a node still running (atexit). */
void cleanup(void);
/* Counts occurrences of needle in the node's log. */
int log_count(const char *needle);
/* Waits (bounded, ~10 s) until needle appears at least count times. */
int wait_log(const char *needle, int count);
/* A client with WHO's certificate; NULL (said) on failure. */
struct pht_http *client(const char *who, long timeout_ms);
/* https://localhost:PORT/P in one of 4 rotating static buffers. */
char *url(const char *p);
/* One request; returns the library code, fills status, body JSON and err. */
int req(struct pht_http *h, const char *method, const char *u,
    const char *body, long *status, json_t **j, struct pht_err *e);
/* Length of the array j[field] (0 if none). */
size_t array_len(json_t *j, const char *field);

/* A long poll run in a thread (a client per thread). */
struct poll {
	pthread_t t;
	const char *who;
	char url[512];
	long timeout_ms;
	int rc;
	long status;
	json_t *j;
	struct pht_err e;
};

/* Runs the poll of arg (a struct poll) with its own client. */
void *poll_thread(void *arg);

/* The tests, by file: test_node_server.c (the API), test_node_server_polls.c, test_node_server_client.c. */
void test_long_polls(struct pht_http *ana, struct pht_http *b);
void test_many_polls(struct pht_http *ana);
void test_restart(void);
void test_http_client_errors(void);
void test_small_response_bound(void);

#endif
