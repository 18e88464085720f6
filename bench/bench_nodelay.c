/*
 * bench_nodelay.c — an LD_PRELOAD shim for benchmark 4 only: sets TCP_NODELAY
 * on every socket the process accepts, to measure what the node gains from
 * it without changing the node (see bench/PROFILE.md). Never used by PHT itself.
 */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int accept(int fd, struct sockaddr *addr, socklen_t *len);

int
accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int (*real)(int, struct sockaddr *, socklen_t *, int);
	int one = 1, s;

	*(void **)&real = dlsym(RTLD_NEXT, "accept4");
	if (real == NULL)
		return -1;
	s = real(fd, addr, len, flags);
	if (s >= 0)
		(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return s;
}

int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}
